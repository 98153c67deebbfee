#!/usr/bin/env bash
# Reprotect (TAP): after a failover the recovered disk is replicated back to
# the old primary with the old disk as the seed. The receiver names the seed
# (`strait replica receive ... DISK=SEED`), sends its checksums (XXH3-64 per
# 64 KiB), and the protected side's initial copy sends only the blocks that
# differ; the result equals the source, and far fewer bytes cross the link
# than a copy without the seed.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
echo "1..7"
command -v qemu-io >/dev/null || { notok "qemu-io is not installed (scripts/deps.sh installs it)"; exit 1; }

# The old primary's disk (the seed) and the recovered disk: the same 64 MiB of
# data, then 1% of the 4 KiB blocks changed on the recovered one.
/usr/bin/python3 - "$tmp" <<'PY'
import random, sys
t = sys.argv[1]
r = random.Random(5)
data = bytearray(r.randbytes(64 << 20))
open(t + "/seed.img", "wb").write(data)
for b in r.sample(range((64 << 20) // 4096), (64 << 20) // 4096 // 100):
    data[b * 4096:(b + 1) * 4096] = r.randbytes(4096)
open(t + "/disk.img", "wb").write(data)
PY
cp "$tmp/seed.img" "$tmp/seed-orig.img"
run() { # run NAME [DISK=SEED]: receive and serve until the first point; -> $tmp/NAME.out
	local name=$1
	shift
	"$STRAIT" replica receive --store "$tmp/$name-store" --work "$tmp/$name-tgt" --listen 127.0.0.1:0 \
		--interval 1s "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	local rpid=$!
	pids+=("$rpid")
	for _ in $(seq 100); do grep -q "^receiving" "$tmp/$name.out" && break; sleep 0.05; done
	local port
	port=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\),.*/\1/p' "$tmp/$name.out")
	"$STRAIT" replica serve --work "$tmp/$name-cap" --socket "$tmp/$name.sock" --target "127.0.0.1:$port" \
		vm1-os="$tmp/disk.img" >/dev/null 2>"$tmp/$name.serr" &
	local spid=$!
	pids+=("$spid")
	for _ in $(seq 200); do
		"$STRAIT" replica points vm1-os --store "$tmp/$name-store" -o json 2>/dev/null | grep -q '"point": 1' && break
		sleep 0.1
	done
	kill -TERM "$spid"; wait "$spid"
	kill -TERM "$rpid"; wait "$rpid"
}
bytes() { sed -n 's/^stored [0-9]* records, \([0-9]*\) bytes.*/\1/p' "$tmp/$1.out"; }
run seeded vm1-os="$tmp/seed.img"
check "the seeded copy ends in a point" '"$STRAIT" replica points vm1-os --store "$tmp/seeded-store" | grep -q "^1 "'
check "the point equals the recovered disk" '"$STRAIT" replica restore vm1-os "$tmp/r.img" --store "$tmp/seeded-store" >/dev/null && cmp -s "$tmp/r.img" "$tmp/disk.img"'
check "the seed is now the recovered disk (the old primary is up to date)" 'cmp -s "$tmp/seed.img" "$tmp/disk.img"'
run full
check "the same copy without a seed ends in a point too" '"$STRAIT" replica restore vm1-os "$tmp/r2.img" --store "$tmp/full-store" >/dev/null && cmp -s "$tmp/r2.img" "$tmp/disk.img"'
check "without a seed the whole disk crosses the link" '[ "$(bytes full)" -ge $((64 << 20)) ]'
check "with the seed only the differing 64 KiB blocks do (1% of 4 KiB blocks changed: under a quarter of the bytes)" '[ "$(bytes seeded)" -lt $((16 << 20)) ] && [ "$(bytes seeded)" -gt 0 ]'
check "a seed of another size is refused with the reason" 'truncate -s 1M "$tmp/small.img"; "$STRAIT" replica receive --store "$tmp/x-store" --work "$tmp/x-tgt" --listen 127.0.0.1:0 vm1-os="$tmp/small.img" >"$tmp/x.out" 2>&1 & xr=$!; pids+=("$xr"); for _ in $(seq 100); do grep -q "^receiving" "$tmp/x.out" && break; sleep 0.05; done; xp=$(sed -n "s/^receiving on 127.0.0.1:\([0-9]*\),.*/\1/p" "$tmp/x.out"); "$STRAIT" replica serve --work "$tmp/x-cap" --socket "$tmp/x.sock" --target "127.0.0.1:$xp" vm1-os="$tmp/disk.img" 2>"$tmp/x.serr" >/dev/null & xs=$!; pids+=("$xs"); for _ in $(seq 100); do grep -q "Invalid argument" "$tmp/x.serr" && break; sleep 0.05; done; kill -TERM $xs; wait $xs; kill -TERM $xr; wait $xr; grep -q "cannot open disk .vm1-os.: Invalid argument" "$tmp/x.serr"'
echo "# bytes over the link: seeded $(bytes seeded), full $(bytes full)"
exit $((fails > 0))
