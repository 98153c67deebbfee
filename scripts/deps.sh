#!/usr/bin/env bash
# Installs every Debian package strait's build, tests and demo need.
# Idempotent: when everything is present it only runs dpkg-query and exits.
# Usage: scripts/deps.sh [build|test|all]   (default: all)
set -euo pipefail

build_pkgs=(build-essential pkg-config meson ninja-build
            libfyaml-dev libjansson-dev libxxhash-dev libsqlite3-dev
            libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libzstd-dev
            libssl-dev)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev valgrind clang-format
           python3 python3-yaml python3-jsonschema curl
           qemu-utils libnbd-bin python3-libnbd fio nbdkit nbd-server rsync
           restic # bench/repl-points.sh: a deduplicating backup store beside strait's points
           openssl # openssl: the NBD TLS tests make their certificates with it
           bird2 frr gobgpd openbgpd exabgp) # the BGP interop peers (tests/interop/); gobgpd ships the gobgp CLI too

want=()
case "${1:-all}" in
  build) want=("${build_pkgs[@]}") ;;
  test|all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "deps.sh: unknown set '$1' (expected build, test or all)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$st" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps.sh: installing ${missing[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The BGP daemons' packages would start system instances (bird, frr, gobgpd,
# openbgpd, exabgp) that bind port 179 on every address: the interop tests run
# their own instances on 127.x addresses. A policy-rc.d that denies every start
# keeps the packages from starting them (Debian's invoke-rc.d and
# deb-systemd-invoke both ask it); it is removed again when we wrote it.
bgp_services=(bird2:bird frr:frr gobgpd:gobgpd openbgpd:openbgpd openbgpd:bgplgd exabgp:exabgp) # package:service
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# written by strait scripts/deps.sh while installing\nexit 101\n' | $SUDO tee $policy >/dev/null
  $SUDO chmod 755 $policy
  trap '$SUDO rm -f $policy' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# ...and none of them may start at boot either: disabled (systemd's units and
# the sysv links), and stopped where one runs anyway. Only for what was just
# installed, so a machine whose owner enabled a daemon on purpose keeps it.
for ps in "${bgp_services[@]}"; do
  s=${ps#*:}
  [[ " ${missing[*]} " == *" ${ps%%:*} "* ]] || continue
  if [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now "$s.service" >/dev/null 2>&1 || true
  else
    $SUDO systemctl disable "$s.service" >/dev/null 2>&1 || true # offline: removes the unit's links
    if [[ -x /etc/init.d/$s ]]; then
      $SUDO update-rc.d "$s" disable >/dev/null 2>&1 || true
      $SUDO /etc/init.d/"$s" stop >/dev/null 2>&1 || true
    fi
  fi
done
