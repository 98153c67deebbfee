#!/usr/bin/env bash
# strait replica drill (TAP): a recovery point served over NBD through a
# copy-on-write overlay. Real clients (qemu-img compare, qemu-io) over Unix
# and TCP see exactly the point; their writes read back and the untouched
# ranges still read the point; the store's files are byte-identical after
# the drill and the point restores as before; SIGTERM/SIGINT stop it with
# exit 0 and leave no overlay, socket or work directory; bad input gets a
# clear error and exit 1 or 2.
set -u
: "${STRAIT:?path to the strait binary}"
tmp=$(mktemp -d)
dpid=""
trap '[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..17"
for t in qemu-img qemu-io sha256sum; do
	command -v $t >/dev/null || { notok "$t is not installed (scripts/deps.sh installs qemu-utils)"; exit 1; }
done
S() { "$STRAIT" replica "$@" --store "$tmp/st"; }
qio() { qemu-io -f raw "$@" >/dev/null; }
hash_store() { (cd "$tmp/st" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
# Starts a drill in the background (output in drill.out, drill.err) and waits
# for its start line (and its TCP line when --tcp is given).
drill_start() {
	: >drill.out
	"$STRAIT" replica drill "$@" >drill.out 2>drill.err &
	dpid=$!
	for _ in $(seq 100); do
		grep -q "served" drill.out && { [[ "$*" != *--tcp* ]] || grep -q "^nbd tcp" drill.out; } && return 0
		kill -0 "$dpid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
drill_stop() { kill "-$1" "$dpid"; wait "$dpid"; dst=$?; dpid=""; }

# two points: a full map and a delta (a chunk made zero, others changed)
qemu-img create -q -f raw disk.img 64M
qio -c "write -P 0xab 0 3M" -c "write -P 0x11 40M 512k" -c "write -P 0x5a 64767k 1k" disk.img
S capture vm1-os disk.img --time 1000 >/dev/null
cp disk.img p1.img
qio -c "write -P 0xcd 1M 4k" -c "write -z 40M 512k" -c "write -P 0x22 20M 1M" disk.img
S capture vm1-os disk.img --time 1300 --app >/dev/null
cp disk.img p2.img
S restore vm1-os r1.img --point 1 >/dev/null
hash_store >before.sha

mkdir work
sock=$tmp/drill.sock uri="nbd+unix:///vm1-os?socket=$tmp/drill.sock"
check "drill of point 1 starts and says which point it serves" 'drill_start vm1-os --store "$tmp/st" --socket "$sock" --point 1 --work "$tmp/work" --tcp 127.0.0.1:0 && grep -q "drill of vm1-os: point 1 (crash, 1970-01-01 00:16:40 UTC)" drill.out'
port=$(sed -n 's/^nbd tcp 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' drill.out)
tcp="nbd://127.0.0.1:$port/vm1-os"
check "an overlay in the work directory while it runs" '[ "$(find work -type f | wc -l)" -eq 1 ] && [ -S "$sock" ]'
check "the export equals point 1 restored raw (qemu-img compare, nbd+unix)" 'qemu-img compare -q -f raw -F raw r1.img "$uri"'
check "the export over TCP (port 0: printed) equals point 1" '[ -n "$port" ] && qemu-img compare -q -f raw -F raw r1.img "$tcp"'
# writes across 4 KiB blocks and 1 MiB chunks, unaligned, zeroes over data, and
# up to the disk's end; the same writes on a copy of point 1 give the expected disk
writes=(-c "write -P 0x99 1000k 8k" -c "write -P 0x77 2047k 3k" -c "write -P 0x33 1048575 2"
	-c "write -z 40M 4k" -c "write -P 0x44 64000k 1536k" -c "write -P 0x66 30M 2M")
cp r1.img want.img
qio "${writes[@]}" want.img
check "qemu-io writes through the drill export" 'qio "${writes[@]}" "$uri"'
check "the written patterns read back (qemu-io read -P, Unix and TCP)" 'qio -c "read -P 0x99 1000k 8k" -c "read -P 0x77 2047k 3k" -c "read -P 0x33 1048575 2" -c "read -P 0 40M 4k" -c "read -P 0x44 64000k 1536k" "$uri" && qio -c "read -P 0x66 30M 2M" -c "read -P 0x11 40964k 508k" "$tcp"'
check "the export equals point 1 with those writes: untouched ranges still read the point" 'qemu-img compare -q -f raw -F raw want.img "$uri" && ! cmp -s want.img r1.img'
check "the store's files are byte-identical during the drill (sha256)" 'hash_store >during.sha && cmp -s before.sha during.sha'
drill_stop TERM
check "SIGTERM: exit 0, the overlay and the socket are gone" '[ "$dst" -eq 0 ] && [ -z "$(ls -A work)" ] && [ ! -e "$sock" ] && grep -q "drill of vm1-os stopped: [1-9][0-9]* blocks* (.*) written" drill.out'
check "the store's files are byte-identical after the drill (sha256)" 'hash_store >after.sha && cmp -s before.sha after.sha'
check "point 1 still restores equal to the original disk" 'S restore vm1-os r1b.img --point 1 >/dev/null && cmp -s r1b.img p1.img'

# no --work: a directory under $TMPDIR, removed at exit; latest-app is point 2
mkdir tmpd
check "default work directory: latest-app serves point 2, equal to it" 'TMPDIR=$tmp/tmpd drill_start vm1-os --store "$tmp/st" --socket "$sock" --point latest-app && grep -q "point 2 (app" drill.out && [ "$(find tmpd -path "*/strait-drill.*/vm1-os.p2.*.overlay" -type f | wc -l)" -eq 1 ] && qemu-img compare -q -f raw -F raw p2.img "$uri"'
drill_stop INT
check "SIGINT: exit 0 and the work directory is removed" '[ "$dst" -eq 0 ] && [ -z "$(find tmpd -name "strait-drill.*")" ] && hash_store >after2.sha && cmp -s before.sha after2.sha'

check "a missing point is exit 1 with a clear message" '"$STRAIT" replica drill vm1-os --store "$tmp/st" --socket "$sock" --point 9 --work "$tmp/work" 2>err; [ $? -eq 1 ] && grep -q "disk .vm1-os. has no point .9." err && [ ! -e "$sock" ] && [ -z "$(ls -A work)" ]'
check "no --socket is a usage error (exit 2)" '"$STRAIT" replica drill vm1-os --store "$tmp/st" 2>err; [ $? -eq 2 ] && grep -q -- "--socket PATH" err && grep -q "usage:" err'
check "a bad --tcp is a usage error (exit 2)" '"$STRAIT" replica drill vm1-os --store "$tmp/st" --socket "$sock" --tcp 10809 2>err; [ $? -eq 2 ] && grep -q "HOST:PORT" err'
check "a missing store is not created (exit 2)" '"$STRAIT" replica drill vm1-os --store "$tmp/nostore" --socket "$sock" 2>err; [ $? -eq 2 ] && grep -q "cannot open the store" err && [ ! -e "$tmp/nostore" ]'
[ "$fails" -eq 0 ]
