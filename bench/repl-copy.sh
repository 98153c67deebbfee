#!/usr/bin/env bash
# Copy benchmark for `strait replica` against rsync and cp on one disk image of SIZE:
#   initial copy  strait replica capture into an empty store (reads, hashes 1 MiB chunks
#                 with XXH3-128, compresses them with zstd, writes the store) against
#                 rsync --whole-file (with and without --sparse), cp and cp --sparse=always
#   resync        after 1% of the image changed, capture again (only changed chunks are
#                 stored) against rsync's delta transfer (--no-whole-file --inplace onto the
#                 pre-change copy) and rsync's local default (whole file, temp + rename);
#                 goal: strait at most 0.2 of rsync's delta time
#   restore       strait replica restore (raw, latest point) against cp; the restored image
#                 must equal the changed one (cmp), else the run fails
# The image (bench/mkimage.py, deterministic, seeds 1 and 2): runs of 4 KiB to 8 MiB (4 KiB-aligned), each
# one kind, kept at 70% random bytes (Python's random.randbytes), 10% text (log-like lines
# from a 3,000-word vocabulary, about 3:1 for zstd), 5% written zeros and 15% holes (never
# written). The change: 1% of the 4 KiB blocks, distinct and at random, rewritten in place
# with random bytes (they land in about 92% of the 1 MiB chunks).
# Fairness: strait fsyncs what it writes, so with SYNC=1 (default) every peer's timed
# command ends with `sync DEST` (fsync of its output). Nothing is dropped from the page
# cache: the images stay cached (they fit in memory) and every tool reads them from there;
# an untimed `sync` before each run writes back the previous run's dirty pages. Tools
# alternate within each round; each run starts from a clean destination; minimum of RUNS.
# MB/s is SIZE over wall time; strait/x is strait's time over the peer's (below 1: faster).
# Usage: bench/repl-copy.sh STRAIT   Env: SIZE (default 4G), RUNS (default 3), SYNC (1)
set -euo pipefail
strait=${1:?usage: bench/repl-copy.sh STRAIT}
size=${SIZE:-4G} runs=${RUNS:-3} dosync=${SYNC:-1}
for t in rsync cmp numfmt /usr/bin/python3; do
	command -v $t >/dev/null || { echo "repl-copy.sh: $t missing (scripts/deps.sh installs it)" >&2; exit 2; }
done
bytes=$(numfmt --from=iec "$size")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
orig=$tmp/orig.img new=$tmp/new.img dst=$tmp/dst store=$tmp/store

/usr/bin/python3 "$(dirname "$0")/mkimage.py" make "$orig" "$bytes" >"$tmp/mix"
cp "$orig" "$new"
/usr/bin/python3 "$(dirname "$0")/mkimage.py" change "$new" "$bytes" >"$tmp/chg"
! cmp -s "$orig" "$new" || { echo "repl-copy.sh: the change changed nothing" >&2; exit 1; }

durable() { [ "$dosync" = 0 ] || sync "$1"; }
# The commands timed; $1 the destination. strait fsyncs on its own.
s_capture() { "$strait" replica capture vm1-os "$src" --store "$1"; }
s_restore() { "$strait" replica restore vm1-os "$1" --point latest --format raw --store "$store"; }
r_whole() { rsync --whole-file "$src" "$1" && durable "$1"; }
r_whole_sp() { rsync --whole-file --sparse "$src" "$1" && durable "$1"; }
r_delta() { rsync --no-whole-file --inplace "$src" "$1" && durable "$1"; }
r_default() { rsync "$src" "$1" && durable "$1"; }
c_cp() { cp "$src" "$1" && durable "$1"; }
c_sparse() { cp --sparse=always "$src" "$1" && durable "$1"; }

declare -A best label
label=([s_capture]="strait capture" [s_restore]="strait restore" [r_whole]="rsync --whole-file"
	[r_whole_sp]="rsync --whole-file --sparse" [r_delta]="rsync --no-whole-file --inplace"
	[r_default]="rsync (default: whole, tmp)" [c_cp]="cp" [c_sparse]="cp --sparse=always"
	[s_reprotect]="strait reprotect (seed, link)")

timed() { # timed PHASE FN DEST: untimed sync, then FN DEST timed; FN's stdout in $tmp/out
	sync
	local t0 t1
	t0=$(date +%s%N)
	"$2" "$3" >"$tmp/out" || { echo "repl-copy.sh: $1: ${label[$2]} failed" >&2; exit 1; }
	t1=$(date +%s%N)
	t1=$(((t1 - t0) / 1000000))
	if [ -z "${best[$1,$2]:-}" ] || [ "$t1" -lt "${best[$1,$2]}" ]; then best[$1,$2]=$t1; fi
}
same() { cmp -s "$1" "$2" || { echo "repl-copy.sh: $3: $1 differs from $2" >&2; exit 1; }; }

# 1. initial copy of the original image into an empty store / a missing destination
src=$orig
for r in $(seq "$runs"); do
	rm -rf "$store"
	timed init s_capture "$store"
	cp "$tmp/out" "$tmp/init.out"
	for f in r_whole r_whole_sp c_cp c_sparse; do
		rm -f "$dst"
		timed init $f "$dst"
		[ "$r" != "$runs" ] || same "$dst" "$src" "initial copy, ${label[$f]}"
	done
done
rm -f "$dst"
mv "$store" "$tmp/store0" # holds the first point: the base of every resync

# 2. resync: the changed image onto the first point / the pre-change copy
src=$new
for r in $(seq "$runs"); do
	rm -rf "$store"
	cp -a "$tmp/store0" "$store"
	timed resync s_capture "$store"
	cp "$tmp/out" "$tmp/resync.out"
	for f in r_delta r_default; do
		rm -f "$dst"
		cp "$orig" "$dst" # its mtime differs from $new's, so rsync's quick check copies
		timed resync $f "$dst"
		[ "$r" != "$runs" ] || same "$dst" "$src" "resync, ${label[$f]}"
	done
	# Reprotect: the old disk as the seed of a receiver, the changed disk shipped to it
	# over the transport (loopback); timed from the start of both sides to the first
	# point (the seed's checksums, only differing 64 KiB blocks sent, applied, a point).
	rm -rf "$tmp/rp"
	mkdir -p "$tmp/rp"
	cp "$orig" "$tmp/rp/seed.img"
	sync
	t0=$(date +%s%N)
	"$strait" replica receive --store "$tmp/rp/store" --work "$tmp/rp/tgt" --listen 127.0.0.1:0 \
		vm1-os="$tmp/rp/seed.img" >"$tmp/rp/recv.out" &
	rpid=$!
	until grep -q '^receiving' "$tmp/rp/recv.out"; do sleep 0.01; done
	port=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\),.*/\1/p' "$tmp/rp/recv.out")
	"$strait" replica serve --work "$tmp/rp/cap" --socket "$tmp/rp/nbd.sock" \
		--target "127.0.0.1:$port" vm1-os="$src" >/dev/null &
	spid=$!
	until [ -d "$tmp/rp/store/disks/vm1-os" ] && "$strait" replica points vm1-os --store "$tmp/rp/store" 2>/dev/null | grep -q '^1 '; do
		sleep 0.05
	done
	t1=$(date +%s%N)
	kill -TERM "$spid"; wait "$spid"
	kill -TERM "$rpid"; wait "$rpid"
	t1=$(((t1 - t0) / 1000000))
	if [ -z "${best[resync,s_reprotect]:-}" ] || [ "$t1" -lt "${best[resync,s_reprotect]}" ]; then
		best[resync,s_reprotect]=$t1
	fi
	same "$tmp/rp/seed.img" "$src" "resync, strait reprotect (the seed brought up to date)"
	sed -n 's/^stored [0-9]* records, \([0-9]*\) bytes.*/\1/p' "$tmp/rp/recv.out" >"$tmp/rp.bytes"
done
rm -rf "$dst" "$tmp/store0" "$orig" "$tmp/rp"

# 3. restore: the latest point (the changed image) as a raw image
for r in $(seq "$runs"); do
	rm -f "$dst"
	timed restore s_restore "$dst"
	same "$dst" "$new" "restore, strait"
	rm -f "$dst"
	timed restore c_cp "$dst"
	[ "$r" != "$runs" ] || same "$dst" "$src" "restore, cp"
done

printf '%s, %s image (%s), %s 4 KiB blocks changed, min of %s runs, peers %s\n' \
	"$(date -u +%F)" "$size" "$(cat "$tmp/mix")" "$(cat "$tmp/chg")" "$runs" \
	"$([ "$dosync" = 0 ] && echo "not fsynced" || echo "fsync their output")"
row() { # row PHASE FN
	awk -v n="${label[$2]}" -v t="${best[$1,$2]}" -v s="${best[$1,${3:-$2}]}" -v b="$bytes" \
		-v own="$([ "${2%%_*}" = s ] && echo 1)" 'BEGIN {
		printf "  %-31s %7d ms %8.1f MB/s", n, t, b / 1e6 / (t / 1e3)
		if (own) printf "\n"; else printf "   strait/x %.2f\n", s / t }'
}
echo "initial copy"
for f in s_capture r_whole r_whole_sp c_cp c_sparse; do row init $f s_capture; done
printf '  (%s)\nresync\n' "$(cat "$tmp/init.out")"
for f in s_capture r_delta r_default; do row resync $f s_capture; done
row resync s_reprotect
for f in r_delta r_default; do row resync $f s_reprotect; done
printf '  (%s; reprotect sent %s bytes over the link)\nrestore\n' "$(cat "$tmp/resync.out")" "$(cat "$tmp/rp.bytes")"
for f in s_restore c_cp; do row restore $f s_restore; done
awk -v a="${best[resync,s_reprotect]}" -v b="${best[resync,r_delta]}" 'BEGIN {
	r = a / b
	printf "strait resync (reprotect) / rsync delta: %.2f of its time (goal <= 0.2): %s\n", r, r <= 0.2 ? "goal met" : "goal MISSED" }'
