# drv.sh - what the interop scripts that run strait's speaker through
# bgp_speaker_drv against one kind of router share (bird.sh, frr.sh, gobgp.sh,
# openbgpd.sh, exabgp.sh): the checks before anything starts, the work
# directory and its cleanup, and the helpers that read the driver's output
# ($out) and the router's state. Source it, then:
#
#   drv_setup KIND NAME NET PLAN   root, the router and BGP_DRV there (else not ok and
#                                  exit); the TAP plan; PEER_DIR, $out, the EXIT trap;
#                                  ip N prints NET.N
#   wait_for SECS CMD...           CMD succeeds within SECS seconds
#   drv_saw RE, drv_state IP, drv_is IP STATE     the driver's lines
#   peer_is NAME STATE, has_route NAME FAM PREFIX, routes_are NAME FAM LINES,
#   no_route NAME FAM PREFIX, peer_got NAME C/S, never_established NAME SECS
#   ups IP, ups_over IP N, up_again NAME IP N     sessions that came up again
#   before_cease IP                routes strait reported from IP before its Cease 6/1
#   many_prefixes                  4,001 IPv4 /24s (one over the private-peering limit)
_drv_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/peer.sh
. "$_drv_here/peer.sh"
# shellcheck source=tests/scripts/tap.sh
. "$_drv_here/../scripts/tap.sh"

drv_setup() {
	PEER_NO_TRAP=1
	tap_plan "$4"
	[ "$(id -u)" -eq 0 ] || { notok "run as root: every speaker binds port 179"; exit 1; }
	peer_require "$1" || { notok "$2 is not installed (scripts/deps.sh test installs it)"; exit 1; }
	DRV=${BGP_DRV:-}
	[ -x "$DRV" ] || { notok "BGP_DRV is not the bgp_speaker_drv program"; exit 1; }
	echo "# $(peer_version "$1")"
	net=$3
	PEER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/strait-$1.XXXXXX")
	out=$PEER_DIR/drv.out
	drv_pid=
	trap drv_cleanup EXIT
	echo "# addresses: $net.0/24, port 179; files in $PEER_DIR (PEER_KEEP=1 keeps them)"
	t0=$(date +%s)
}
ip() { echo "$net.$1"; }
drv_cleanup() {
	[ -z "$drv_pid" ] || kill "$drv_pid" 2>/dev/null
	exec 3>&- 2>/dev/null
	peer_cleanup
	[ "${PEER_KEEP:-0}" = 1 ] || rm -rf "$PEER_DIR"
}

wait_for() {
	local secs=$1 i
	shift
	for i in $(seq $((secs * 5))); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
drv_saw() { grep -q -- "$1" "$out"; }
# The strait side's state of a peer, from its last "state" line.
drv_state() { grep "^state $1 " "$out" | tail -1 | awk '{print $4}'; }
drv_is() { [ "$(drv_state "$1")" = "$2" ]; }
peer_is() { [ "$(peer_state "$1")" = "$2" ]; }
has_route() { peer_routes "$1" "$2" | grep -q -- "^$3 "; }
routes_are() { [ "$(peer_routes "$1" "$2")" = "$3" ]; }
no_route() { ! has_route "$@"; }
peer_got() { [ "$(peer_last_notification "$1" received)" = "$2" ]; }
ups() { grep -c "^state $1 [A-Za-z]* Established$" "$out"; }
ups_over() { [ "$(ups "$1")" -gt "$2" ]; }
up_again() { wait_for 30 ups_over "$2" "$3" && peer_wait_established "$1" 10; }
before_cease() {
	awk -v ip="$1" '$1 == "route" && $2 == ip && $3 == "+" && $4 !~ /:/ { n++ }
		$1 == "state" && $2 == ip && / sent 6\/1 / { print n + 0; exit }' "$out"
}
never_established() { # NAME SECS
	local i
	for i in $(seq $(($2 * 5))); do
		peer_is "$1" Established && return 1
		sleep 0.2
	done
	return 0
}
many_prefixes() {
	local i s=""
	for i in $(seq 0 4000); do s+="10.$((100 + i / 256)).$((i % 256)).0/24 "; done
	echo "$s"
}
