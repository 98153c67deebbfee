# Sourced by the many-disk replication benchmarks (repl-idle.sh, repl-many.sh,
# repl-spread.sh): `strait replica serve` over sparse disks in a temporary
# directory, the recovery region in the same process.
# Needs: strait, me (the script's name for errors). Sets tmp, pid.
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# serve_disks SIZE N [EXTRA=IMAGE...]: protects v1..vN of SIZE each (and the extra
# disks), a point every 5 minutes; returns once every disk has its first point.
serve_disks() {
	local size=$1 n=$2 i args=()
	shift 2
	rm -rf "$tmp/d" "$tmp/store" "$tmp/work" "$tmp/s.sock"
	mkdir -p "$tmp/d"
	for i in $(seq 1 "$n"); do
		truncate -s "$size" "$tmp/d/v$i.img"
		args+=("v$i=$tmp/d/v$i.img")
	done
	args+=("$@")
	"$strait" replica serve --store "$tmp/store" --work "$tmp/work" --socket "$tmp/s.sock" \
		--interval 5m "${args[@]}" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 600); do
		[ "$(ls "$tmp/store/disks" 2>/dev/null | wc -l)" -ge "${#args[@]}" ] && return 0
		kill -0 "$pid" 2>/dev/null || { echo "$me: strait exited:" >&2; cat "$tmp/err" >&2; exit 1; }
		sleep 0.1
	done
	echo "$me: not every disk got a point in 60 s" >&2
	exit 1
}

# stop_strait: SIGTERM, and wait for it
stop_strait() {
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}
