#!/usr/bin/env bash
# strait replica (TAP): real disk images (qemu-img, qemu-io) captured into the
# store as recovery points, restored as raw and qcow2 and compared byte for
# byte; deltas carry only changed chunks (and a chunk changed in a few blocks, only
# those); damage is found by the checksums;
# bad input gets a clear error and exit 1 or 2; prune and gc keep what the
# points need.
set -u
: "${STRAIT:?path to the strait binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..23"
for t in qemu-img qemu-io; do
	command -v $t >/dev/null || { notok "$t is not installed (scripts/deps.sh installs qemu-utils)"; exit 1; }
done
S() { "$STRAIT" replica "$@" --store "$tmp/st"; }
qio() { qemu-io -f raw "$@" disk.img >/dev/null; }

qemu-img create -q -f raw disk.img 64M
qio -c "write -P 0xab 0 3M" -c "write -P 0x11 40M 512k" -c "write -P 0x5a 64767k 1k"
check "initial copy: only the chunks that are not zero" 'S capture vm1-os disk.img --time 1000 >out && grep -q "point 1 of vm1-os: 5 of 64 chunks changed" out'
cp disk.img p1.img
qio -c "write -P 0xcd 1M 4k" -c "write -z 40M 512k" -c "write -P 0x22 20M 1M"
check "delta: the three changed chunks, one of them now zero" 'S capture vm1-os disk.img --time 1300 --app >out && grep -q "point 2 of vm1-os: 3 of 64 chunks changed" out'
cp disk.img p2.img
check "no change: an empty delta" 'S capture vm1-os disk.img --time 1600 >out && grep -q "point 3 of vm1-os: 0 of 64" out'
qio -c "write -P 0x77 33M 8k" -c "write -P 0x78 1M 4k" -c "write -P 0x79 20M 4k" # point 2's chunks all change
S capture vm1-os disk.img --time 1900 >/dev/null
cp disk.img p4.img
check "points lists kind and map" 'S points vm1-os >out && grep -Eq "^2 .* app +delta +3" out && grep -Eq "^1 .* crash +full +5" out'
check "restore point 1 as raw equals the disk then" 'S restore vm1-os r1.img --point 1 >/dev/null && cmp -s r1.img p1.img'
check "restore keeps zero chunks as holes" '[ "$(du -k r1.img | cut -f1)" -lt 16384 ]'
check "restore latest-app as qcow2 equals point 2 (qemu-img compare)" 'S restore vm1-os r2.qcow2 --point latest-app --format qcow2 >/dev/null && [ "$(qemu-img info --output=json r2.qcow2 | grep -c "\"format\": \"qcow2\"")" -ge 1 ] && qemu-img compare -q -f raw -F qcow2 p2.img r2.qcow2'
check "restore latest equals the disk now" 'S restore vm1-os r4.img >/dev/null && cmp -s r4.img p4.img'
check "a missing point is exit 1 and names the disk" 'S restore vm1-os x.img --point 9 2>err; [ $? -eq 1 ] && grep -q "no point .9." err && [ ! -e x.img ]'
qemu-img create -q -f raw small.img 32M
check "an image of another size is refused" 'S capture vm1-os small.img 2>err; [ $? -eq 1 ] && grep -q "size" err'
check "a bad disk name is a usage error (exit 2)" 'S capture "../x" disk.img 2>/dev/null; [ $? -eq 2 ]'
check "no store is a usage error (exit 2)" '"$STRAIT" replica points vm1-os 2>err; [ $? -eq 2 ] && grep -q -- "--store" err'
# damage every stored chunk: restore fails with the checksum error and leaves no output
cp -a st st.saved
find st/packs -name "*.pack" | while read -r f; do
	printf 'garbage' | dd of="$f" bs=1 seek=4 conv=notrunc status=none
done
check "a damaged chunk is found by its checksum, no half image left" 'S restore vm1-os bad.img --point 1 2>err; [ $? -eq 1 ] && grep -q "checksum" err && [ ! -e bad.img ] && ! ls bad.img* >/dev/null 2>&1'
rm -rf st && mv st.saved st
check "prune with retention 0 keeps only the newest point" 'S prune vm1-os --retention 0 >out && grep -q "3 points of vm1-os pruned" out && [ "$(S points vm1-os -o json | grep -c "\"point\"")" -eq 1 ]'
# Point 4's 4 KiB writes into chunks 1 and 20 are stored as deltas on point 2's versions
# (chunk 1's on point 1's in turn): those stay, and point 1's pack is two thirds live.
check "gc keeps the bases of the newest point's deltas" 'S gc >out && grep -q "^0 unreferenced" out'
check "after prune and gc the newest point still restores" 'S restore vm1-os r5.img >/dev/null && cmp -s r5.img p4.img'
qio -c "write -P 0x81 1M 1M" -c "write -P 0x82 20M 1M" # chunks 1 and 20 rewritten whole
S capture vm1-os disk.img --time 2200 >/dev/null && S prune vm1-os --retention 0 >/dev/null
check "once chunks 1 and 20 are whole again gc deletes their deltas and bases (4)" 'S gc >out && grep -q "^4 unreferenced" out && S restore vm1-os r6.img >/dev/null && cmp -s r6.img disk.img'
# serve over TCP on loopback (port 0: a free one, printed)
truncate -s 16M tcp.img
"$STRAIT" replica serve --store "$tmp/st2" --work "$tmp/w2" --socket "$tmp/s2" --tcp 127.0.0.1:0 \
	--interval 1s vm2-os=tcp.img >serve.out 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q "TCP port" serve.out && break; sleep 0.1; done
port=$(sed -n 's/.*TCP port \([0-9]*\).*/\1/p' serve.out)
qemu-io -f raw -c "write -P 0x7e 1M 64k" "nbd://127.0.0.1:$port/vm2-os" >/dev/null 2>&1
# The running serve is its store's only writer: a gc, capture or prune elsewhere is turned
# away (exit 1, nothing written); reading it goes on.
S2() { "$STRAIT" replica "$@" --store "$tmp/st2"; }
for _ in $(seq 50); do S2 points vm2-os 2>/dev/null | grep -q full && break; sleep 0.1; done
check "while serve writes its store, gc, capture and prune are turned away; points and restore read it" 'S2 gc 2>e1; r1=$?; S2 capture vm9-os tcp.img 2>e2; r2=$?; S2 prune vm2-os --retention 0 2>e3; r3=$?; [ $r1 -eq 1 ] && [ $r2 -eq 1 ] && [ $r3 -eq 1 ] && grep -q "in use by another strait process" e1 && grep -q "in use" e2 && grep -q "in use" e3 && [ ! -e "$tmp/st2/disks/vm9-os" ] && S2 points vm2-os >/dev/null && S2 restore vm2-os r8.img >/dev/null'
check "serve --retention takes a duration or none, a usage error otherwise" '"$STRAIT" replica serve --store "$tmp/st3" --work "$tmp/w3" --socket "$tmp/s3" --retention 0 vm2-os=tcp.img 2>err; [ $? -eq 2 ] && grep -q "or none to keep every point" err && [ ! -e "$tmp/w3" ]'
kill -TERM "$spid"; wait "$spid"; src=$?
check "serve over TCP: a qemu-io write reaches the newest point" '[ "$src" -eq 0 ] && "$STRAIT" replica restore vm2-os r6.img --store "$tmp/st2" >/dev/null && cmp -s r6.img tcp.img && [ "$(od -An -tx1 -j 1048576 -N1 r6.img | tr -d " ")" = 7e ]'
# NBD over IPv6: --tcp [::1]:0
"$STRAIT" replica serve --store "$tmp/st5" --work "$tmp/w5" --socket "$tmp/s5" --tcp "[::1]:0" \
	--interval 1s vm5-os=tcp.img >serve5.out 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q "TCP port" serve5.out && break; sleep 0.1; done
port=$(sed -n 's/.*TCP port \([0-9]*\).*/\1/p' serve5.out)
qemu-io -f raw -c "write -P 0x6b 2M 64k" "nbd://[::1]:$port/vm5-os" >/dev/null 2>&1
qrc=$?
kill -TERM "$spid"; wait "$spid"; src=$?
check "serve over IPv6 ([::1]): a qemu-io write reaches the newest point" '[ "$qrc" -eq 0 ] && [ "$src" -eq 0 ] && "$STRAIT" replica restore vm5-os r7.img --store "$tmp/st5" >/dev/null && cmp -s r7.img tcp.img && [ "$(od -An -tx1 -j 2097152 -N1 r7.img | tr -d " ")" = 6b ]'
# a replica's chunk size follows its disk: 64 KiB, doubled while over 4M chunks
truncate -s 2T big.img
"$STRAIT" replica serve --store "$tmp/st4" --work "$tmp/w4" --socket "$tmp/s4" --interval 1s \
	big=big.img >/dev/null 2>&1 &
bpid=$!
for _ in $(seq 150); do [ -d "$tmp/st4/disks/big" ] && break; sleep 0.1; done
kill -TERM "$bpid"; wait "$bpid"
csize() { "$STRAIT" replica points "$1" --store "$2" -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["chunk_size"])'; }
check "a replica's chunks: 64 KiB for a 16 MiB disk, 512 KiB for a 2 TiB one" '[ "$(csize vm2-os "$tmp/st2")" = 65536 ] && [ "$(csize big "$tmp/st4")" = 524288 ]'
check "serve with a bad --tcp is a usage error before any work" '"$STRAIT" replica serve --store "$tmp/st3" --work "$tmp/w3" --socket "$tmp/s3" --tcp nope vm2-os=tcp.img 2>err; [ $? -eq 2 ] && grep -q "HOST:PORT" err && [ ! -e "$tmp/w3" ]'
[ "$fails" -eq 0 ]
