#!/usr/bin/env bash
# strait without sanitizers under valgrind memcheck (TAP): every example and
# golden error case loads, checks and prints with no invalid access and no leak;
# straitd serves, reloads and runs BGP sessions; `strait replica serve` replicates
# pipelined and flushed NBD writes to its in-process receiver, twice on one work
# directory (journal and receiver log reopened), and the newest point restores
# equal to the disk.
set -u
: "${SRCROOT:?source root}" "${STRAIT_PLAIN:?path to a strait built without sanitizers}"
cd "$SRCROOT"
command -v valgrind >/dev/null || { echo "1..1"; echo "not ok 1 - valgrind is not installed (scripts/deps.sh installs it)"; exit 1; }
[ -x "$STRAIT_PLAIN" ] || { echo "1..1"; echo "not ok 1 - $STRAIT_PLAIN missing"; exit 1; }
cases=()
for f in examples/*.yaml; do cases+=("check $f" "fmt -o json $f"); done
for f in tests/golden/errors/*.yaml; do cases+=("check $f"); done
cases+=("schema" "schema --markdown" "rules")
seed=examples/seed-two-circuits.yaml
cases+=("routes $seed --subnet spoke1/app" "routes $seed --site hq" "routes $seed --gateway gw-ea"
        "routes $seed --replication" "trace $seed hq app1" "reach $seed"
        "whatif $seed --fail location:hong-kong --fail link:er-sg/primary"
        "diff $seed examples/seed-after-failover.yaml --fail region:eastasia")
log=$(mktemp)
# the replica store: a sparse 8 MiB image with data in two chunks
img=$log.img st=$log.store
truncate -s 8M "$img"
head -c 300000 /dev/urandom | dd of="$img" bs=4096 seek=512 conv=notrunc status=none
cases+=("replica capture vm1-os $img --store $st" "replica capture vm1-os $img --app --store $st"
        "replica points vm1-os -o json --store $st" "replica restore vm1-os $log.out --store $st"
        "replica prune vm1-os --retention 0 --store $st" "replica gc --store $st")
echo "1..$((${#cases[@]} + 5))"
n=0 fails=0
export STRAIT_STATE="$log.state.db"
trap 'rm -rf "$log" "$log".state.db* "$log".sock "$img" "$st" "$log".out' EXIT
for c in "${cases[@]}"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$STRAIT_PLAIN" $c >/dev/null 2>"$log"
  if [ $? -eq 99 ]; then
    fails=$((fails + 1)); echo "not ok $n - valgrind strait $c"; head -30 "$log" | sed 's/^/# /'
  else
    echo "ok $n - valgrind strait $c"
  fi
done
# straitd under valgrind: serve a few requests, stop on SIGTERM
STRAITD_PLAIN=$(dirname "$STRAIT_PLAIN")/straitd
sock=$log.sock
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  "$STRAITD_PLAIN" --estate examples/seed-two-circuits.yaml --socket "$sock" 2>"$log" &
vpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
for q in /v1/check "/v1/trace?from=hq&to=app1" "/v1/routes?subnet=spoke1/app" /metrics; do
  curl -s --unix-socket "$sock" "http://x$q" >/dev/null
done
curl -s -X POST --unix-socket "$sock" http://x/v1/reload >/dev/null
kill -TERM "$vpid"
wait "$vpid"
vrc=$?
n=$((n + 1))
if [ $vrc -eq 0 ]; then echo "ok $n - valgrind straitd: requests, reload, SIGTERM"; else
  fails=$((fails + 1)); echo "not ok $n - valgrind straitd (exit $vrc)"; head -30 "$log" | sed 's/^/# /'; fi
# straitd running the provider edge (no router peers with it: the sessions try and
# wait): the BGP commands, a failover test, a reload that changes a connection
oct=$((130 + $$ % 100))
sed "s|      vlan: 100|      vlan: 100\n      listen: 127.$oct.0.0/16|" \
  examples/single-circuit-same-ip.yaml >"$log.bgp.yaml"
trap 'rm -rf "$log" "$log".state.db* "$log".sock "$img" "$st" "$log".out "$log".bgp.yaml' EXIT
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  "$STRAITD_PLAIN" --estate "$log.bgp.yaml" --socket "$sock" --bgp-port 11179 2>"$log" &
vpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
for q in /v1/bgp "/v1/bgp-routes?circuit=er-hk&link=primary&direction=advertised" \
  "/v1/bgp-routes?circuit=er-hk&link=tertiary"; do
  curl -s --unix-socket "$sock" "http://x$q" >/dev/null
done
curl -s -X POST --unix-socket "$sock" "http://x/v1/bgp-test?circuit=er-hk&link=secondary&test=disconnect" >/dev/null
sed -i 's|  - {gateway: gw-ea, circuit: er-hk}|  - {gateway: gw-sea, circuit: er-hk}|' "$log.bgp.yaml"
curl -s -X POST --unix-socket "$sock" http://x/v1/reload >/dev/null
kill -TERM "$vpid"
wait "$vpid"
vrc=$?
n=$((n + 1))
if [ $vrc -eq 0 ]; then echo "ok $n - valgrind straitd with BGP sessions: commands, a test, reload, SIGTERM"; else
  fails=$((fails + 1)); echo "not ok $n - valgrind straitd with BGP sessions (exit $vrc)"; head -30 "$log" | sed 's/^/# /'; fi
# replication under valgrind: writes over NBD, some in flight at once (one batch for
# the journal) and a flush, then SIGTERM; a second run on the same work directory
rimg=$log.rimg rwork=$log.rwork rst=$log.rst rsock=$log.rsock
trap 'rm -rf "$log" "$log".state.db* "$log".sock "$img" "$st" "$log".out "$log".bgp.yaml "$rimg" "$rwork" "$rst" "$rsock" "$log".rout' EXIT
truncate -s 8M "$rimg"
for pass in 1 2; do
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$STRAIT_PLAIN" replica serve --store "$rst" --work "$rwork" --socket "$rsock" --interval 1s \
    vm1="$rimg" >/dev/null 2>"$log" &
  vpid=$!
  for _ in $(seq 300); do [ -S "$rsock" ] && break; sleep 0.1; done
  qemu-io -f raw -c "aio_write -P 0x1$pass 0 64k" -c "aio_write -P 0x2$pass 1M 4k" \
    -c "aio_write -P 0x3$pass 3M 8k" -c aio_flush -c "write -P 0x4$pass 5M 4k" -c flush \
    "nbd+unix:///vm1?socket=$rsock" >/dev/null 2>>"$log"
  qrc=$?
  kill -TERM "$vpid"
  wait "$vpid"
  vrc=$?
  n=$((n + 1))
  if [ $vrc -eq 0 ] && [ $qrc -eq 0 ]; then echo "ok $n - valgrind replica serve, run $pass: NBD writes replicated, SIGTERM"; else
    fails=$((fails + 1)); echo "not ok $n - valgrind replica serve, run $pass (exit $vrc, qemu-io $qrc)"; head -30 "$log" | sed 's/^/# /'; fi
done
n=$((n + 1))
"$STRAIT_PLAIN" replica restore vm1 "$log.rout" --store "$rst" >/dev/null 2>&1
if cmp -s "$rimg" "$log.rout"; then echo "ok $n - the newest point equals the replicated disk"; else
  fails=$((fails + 1)); echo "not ok $n - the newest point differs from the replicated disk"; fi
exit $((fails > 0))
