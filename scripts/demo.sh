#!/usr/bin/env bash
# make demo: the seeds' scenario end to end, as far as strait goes today:
# checked, routed, replicated (real disk images over NBD into the store),
# drilled, failed over (the disks restored for real), proven, routed for real (BIRD
# as the site's edge router peering with straitd's provider edge, before and after
# the failover), reprotected (the disks shipped back with the old ones as seeds);
# then straitd over its API.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
strait="$build/strait"
seed=examples/seed-two-circuits.yaml

say() { printf '\n== %s\n' "$*"; }

say "The estate (the seeds' scenario: East Asia hub and spokes, recovery to Southeast Asia)"
"$strait" summary "$seed"

say "Checked: every rule of the seeds and azure-facts.md ($("$strait" rules | grep -cE '^[A-Z]{2}[0-9]') rules)"
rc=0
"$strait" check "$seed" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "demo: the seed scenario should have no errors (strait check exited $rc)" >&2
  exit 1
fi

say "Routed: the effective routes of spoke1/app, as Azure shows them"
"$strait" routes "$seed" --subnet spoke1/app

say "Routed: on-premises to app1 and back, hop by hop"
"$strait" trace "$seed" hq app1

say "Routed: every site and VM, both ways"
"$strait" reach "$seed"

say "What if the primary link of er-hk fails? And the Hong Kong peering location?"
"$strait" whatif "$seed" --fail link:er-hk/primary || true
"$strait" whatif "$seed" --fail location:hong-kong || true

out=${TMPDIR:-/tmp}/strait-demo.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

say "Replicated: the recovery region's receiver, and straitd protecting the estate's disks"
# The seed estate with app1's and db1's disks backed by image files, a point every second.
qemu-img create -q -f raw "$out/app1-os.img" 64M
qemu-img create -q -f raw "$out/db1-os.img" 32M
qemu-io -f raw -c "write -P 0x11 0 8M" "$out/db1-os.img" >/dev/null # data before protection
sed -e "s|disks: \[{name: os, size: 32GiB}, {name: data, size: 128GiB}\]|disks: [{name: os, size: 64MiB, path: $out/app1-os.img}]|" \
  -e "s|disks: \[{name: os, size: 32GiB}, {name: data, size: 256GiB}\]|disks: [{name: os, size: 32MiB, path: $out/db1-os.img}]|" \
  -e "s|crash_consistent_every: 5m|crash_consistent_every: 1s|" "$seed" >"$out/live.yaml"
"$strait" replica receive --store "$out/store" --work "$out/recovery" --listen 127.0.0.1:0 \
  --interval 1s >"$out/recv.out" &
recv_pid=$!
for _ in $(seq 50); do grep -q '^receiving' "$out/recv.out" && break; sleep 0.1; done
cat "$out/recv.out"
port=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\),.*/\1/p' "$out/recv.out")
"$build/straitd" --estate "$out/live.yaml" --socket "$out/strait.sock" --work "$out/protected" \
  --target "127.0.0.1:$port" 2>"$out/straitd.log" &
straitd_pid=$!
for _ in $(seq 50); do [ -S "$out/protected/nbd.sock" ] && break; sleep 0.1; done
status() { "$strait" replica status --socket "$out/strait.sock"; }
for _ in $(seq 50); do status | grep -q "^db1-os .*#" && break; sleep 0.1; done
status
say "Replicated: a guest writes to app1's disk over NBD; every write is journaled and shipped"
qemu-io -f raw -c "write -P 0xa1 0 4M" -c flush -c "write -P 0xb2 32M 1M" \
  "nbd+unix:///app1-os?socket=$out/protected/nbd.sock" | sed '/^[0-9]/d'
sleep 2.5
status
say "Replicated: 4 KiB writes cost the store their blocks, not their 64 KiB chunks"
head -c 4M /dev/urandom >"$out/rnd" # random: no compression to hide behind
qemu-io -f raw -c "write -s $out/rnd 8M 4M" "nbd+unix:///app1-os?socket=$out/protected/nbd.sock" >/dev/null
sleep 2.5
before=$(du -sb "$out/store/packs" | cut -f1)
head -c 4096 /dev/urandom >"$out/rnd4k"
small=()
for i in 0 1 2 3 4 5 6 7; do small+=(-c "write -s $out/rnd4k $((8388608 + i * 462848)) 4k"); done
qemu-io -f raw "${small[@]}" "nbd+unix:///app1-os?socket=$out/protected/nbd.sock" >/dev/null
sleep 2.5
after=$(du -sb "$out/store/packs" | cut -f1)
echo "8 writes of 4 KiB into 8 chunks of random data: the next point added $((after - before)) bytes to the store (the chunks whole: 524288)"
"$strait" replica mark app1-os --socket "$out/strait.sock"
kill -TERM "$straitd_pid"; wait "$straitd_pid"
kill -TERM "$recv_pid"; wait "$recv_pid"
"$strait" replica points app1-os --store "$out/store"
"$strait" replica restore app1-os "$out/app1-os.qcow2" --format qcow2 --store "$out/store"
qemu-img compare -f raw -F qcow2 "$out/app1-os.img" "$out/app1-os.qcow2"

say "Drilled: the newest point of app1's disk served over NBD through a copy-on-write overlay"
"$strait" replica drill app1-os --store "$out/store" --socket "$out/drill.sock" >"$out/drill.out" &
drill_pid=$!
for _ in $(seq 50); do [ -S "$out/drill.sock" ] && break; sleep 0.1; done
head -n 1 "$out/drill.out"
qemu-io -f raw -c "write -P 0xdd 0 1M" -c "read -P 0xdd 0 1M" -c "read -P 0xb2 32M 1M" \
  "nbd+unix:///app1-os?socket=$out/drill.sock" | sed '/^[0-9]/d'
kill -TERM "$drill_pid"; wait "$drill_pid"
"$strait" replica restore app1-os "$out/after-drill.img" --store "$out/store"
qemu-img compare -f raw -F raw "$out/app1-os.img" "$out/after-drill.img" # the drill left the point as it was

say "Drilled: a test failover into the isolated drill network, production untouched"
"$strait" drill "$seed" --out "$out/drill.yaml"

say "Failed over: the recovery plan with East Asia down (unplanned), on a simulated clock"
export STRAIT_STATE="$out/state.db" # the job's progress, so it can pause and resume
# --store/--restore-dir: the failed-over disks for real, each restored from its newest point
fo() { "$strait" failover "$out/live.yaml" --down region:eastasia --out "$out/after.yaml" \
  --store "$out/store" --restore-dir "$out/sea" "$@"; }
fo || true

say "The plan waits at its manual step; confirmed, the job resumes where it stopped"
fo --confirm
cmp "$out/app1-os.img" "$out/sea/app1-os.img" && echo "app1's failed-over disk equals its disk in East Asia"

say "Proven: the estate after the failover against the one before, East Asia down"
"$strait" check "$out/after.yaml"
"$strait" diff "$seed" "$out/after.yaml" --fail region:eastasia
"$strait" trace "$out/after.yaml" hq app1 --fail region:eastasia

say "Routed, for real: BIRD as hq's edge router peers with straitd, the provider edge (AS 12076)"
# listen: straitd runs the MSEE's side of each link's eBGP session on the link's /30
# addresses mapped into 127.66.0.0/16 (port 10179 here: no root needed)
bgp_estate() { /usr/bin/python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for c in d["circuits"]:
    c["private_peering"]["listen"] = "127.66.0.0/16"
yaml.safe_dump(d, open(sys.argv[2], "w"), sort_keys=False)' "$1" "$out/bgp.yaml"; }
bgp_estate "$seed"
"$build/straitd" --estate "$out/bgp.yaml" --socket "$out/bgp.sock" --bgp-port 10179 \
  2>"$out/bgp.log" &
straitd_pid=$!
PEER_DIR="$out/peers" PEER_NO_TRAP=1
. tests/interop/peer.sh
# hq's routers on each circuit's primary link (one BIRD per session) announce
# 172.16.0.0/16 and 172.20.0.0/16 (the estate declares only the first)
for l in hk:100 sg:101; do
  IFS=: read -r c o <<<"$l"
  peer_start bird "edge1-$c" "127.66.$o.129" 65010 "127.66.$o.130" 12076 port=10179 \
    remote_port=10179 announce="172.16.0.0/16 172.20.0.0/16" >/dev/null
  peer_wait_established "edge1-$c" 30 >/dev/null
done
tables() {
  for c in hk sg; do
    echo "hq-edge1's BGP table (birdc) from er-$c:"
    peer_routes "edge1-$c" ipv4 | sed 's/^/  /'
  done
}
bgp() { "$strait" bgp "$@" --socket "$out/bgp.sock"; }
sleep 0.5
bgp summary || true # no router on the secondary links here: those sessions stay down
tables
bgp routes --circuit er-hk --link primary --received
echo "the gateway's effective routes now carry what hq announced (172.20.0.0/16 included):"
"$strait" remote --socket "$out/bgp.sock" routes subnet=hub-ea/GatewaySubnet |
  /usr/bin/python3 -c 'import json,sys; [print("  %s -> %s" % (r["prefix"], r["nextHopType"])) for r in json.load(sys.stdin)["routes"] if r["source"] != "Default"]'
say "Routed, for real: the failed-over estate loaded into straitd; hq's routers follow within a second"
echo "(er-sg now carries the recovery hub's VNets, Southeast Asia's community 12076:50011; the"
echo " East Asia gateway's connection stays in the estate: its region is down only in the what-if)"
bgp_estate "$out/after.yaml"
"$strait" remote --socket "$out/bgp.sock" reload >/dev/null
sleep 0.5
tables
kill -TERM "$straitd_pid"; wait "$straitd_pid"
echo "straitd stopped; hq-edge1 got Cease $(peer_last_notification edge1-hk received) (peer de-configured)"
peer_cleanup

say "Reprotected: replication reversed, the failed-over disks shipped back, the old disks as seeds"
"$strait" reprotect "$out/after.yaml" --out "$out/reprotect.yaml" | tail -n 3
grep -A2 '^replication:' "$out/reprotect.yaml"
grep -E '^ +(path|seed):' "$out/reprotect.yaml"
# app1 ran in Southeast Asia meanwhile: a few writes to its failed-over disk
qemu-io -f raw -c "write -P 0x5e 2M 256k" -c "write -P 0x5f 40M 64k" "$out/sea/app1-os.img" | sed '/^[0-9]/d'
"$build/straitd" --estate "$out/reprotect.yaml" --socket "$out/back.sock" --work "$out/back" \
  2>"$out/back.log" &
straitd_pid=$!
back() { "$strait" replica status --socket "$out/back.sock" "$@"; }
caught_up() { # every disk protected, with a point holding every write
  back -o json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["disks"]
sys.exit(0 if all(x["state"] == "protected" and x["backlog_bytes"] == 0 and x["rpo_ms"] == 0
                  and "last_point" in x for x in d) else 1)' 2>/dev/null
}
for _ in $(seq 300); do caught_up && break; sleep 0.1; done
back
back -o json | /usr/bin/python3 -c '
import json, sys
for d in json.load(sys.stdin)["disks"]:
    print("%s: %.1f MB of %.0f MB crossed the link (only the blocks that differ from the seed)"
          % (d["disk"], d["wire_bytes"] / 1e6, d["size"] / 1e6))'
kill -TERM "$straitd_pid"; wait "$straitd_pid"
cmp "$out/app1-os.img" "$out/sea/app1-os.img" && echo "app1's disk in East Asia (the seed) is level with Southeast Asia again"

say "Live: straitd serves the estate on a Unix socket; strait asks it over the API"
"$build/straitd" --estate "$seed" --socket "$out/strait.sock" 2>/dev/null &
straitd_pid=$!
for _ in $(seq 50); do [ -S "$out/strait.sock" ] && break; sleep 0.1; done
"$strait" remote --socket "$out/strait.sock" status
"$strait" remote --socket "$out/strait.sock" trace from=hq to=db1 | head -n 12
kill "$straitd_pid"; wait "$straitd_pid" 2>/dev/null || true

say "The same check on a single circuit with the same IP space (the seeds warn about it)"
"$strait" check examples/single-circuit-same-ip.yaml || true

say "A typo is an error with its position and a suggestion"
sed 's/circuit: er-hk}/circuit: er-hkk}/' "$seed" >"${TMPDIR:-/tmp}/strait-demo-typo.yaml"
"$strait" check "${TMPDIR:-/tmp}/strait-demo-typo.yaml" || true
rm -f "${TMPDIR:-/tmp}/strait-demo-typo.yaml"

say "Done: checked, routed (the model and real BGP sessions), replicated, drilled, failed over, proven, reprotected"
