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
           openssl) # openssl: the NBD TLS tests make their certificates with it

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
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
