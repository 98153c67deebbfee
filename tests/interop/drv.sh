# drv.sh - what the interop scripts that run strait's speaker through
# bgp_speaker_drv against one kind of router share (bird.sh, frr.sh, gobgp.sh,
# openbgpd.sh, exabgp.sh): the checks before anything starts, the work
# directory and its cleanup, and the helpers that read the driver's output
# ($out) and the router's state. Source it, then:
#
#   drv_setup KIND NAME NET PLAN   root, the router and BGP_DRV there (else not ok and
#                                  exit); the TAP plan; PEER_DIR, $out, the EXIT trap;
#                                  ip N prints NET.N
#   wait_for SECS CMD...           CMD succeeds within SECS seconds (tap.sh)
#   drv_saw RE, drv_state IP, drv_is IP STATE     the driver's lines
#   peer_is NAME STATE, has_route NAME FAM PREFIX, routes_are NAME FAM LINES,
#   no_route NAME FAM PREFIX, peer_got NAME C/S, never_established NAME SECS
#   ups IP, ups_over IP N, up_again NAME IP N     sessions that came up again
#   before_cease IP                routes strait reported from IP before its Cease 6/1
#   many_prefixes                  4,001 IPv4 /24s (one over the private-peering limit)
#   drv_routers KIND NAME [MAX_OPTS]  the five routers: cpe (.2) and cpe2 (.6, the
#                                  secondary link to .5), cpe_md5 (.3, the right key),
#                                  cpe_bad (.4, a wrong key), cpe_max (.7, 4,001
#                                  prefixes unless MAX_OPTS says how they come); a check
#   drv_check_changes NAME [NH6]   the secondary link's routes at strait (IPv6 next hop NH6,
#                                  else IPv4-mapped), strait's withdrawal and announcement
#                                  at both links, the router's withdrawals at strait, the
#                                  secondary link's routes kept: five checks
#   drv_start                      the driver with a peer for each, announcing two IPv4
#                                  and one IPv6 prefix; a check; commands go to fd 3
#   drv_restarted                  after strait's "stop": its "start", and the primary link
#                                  Established again; a check
#   drv_finish                     SIGTERM to the driver, which must exit 0 (a check); its log
#                                  when anything failed; the time taken; the TAP exit
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

drv_routers() {
	local k=$1 name=$2
	shift 2
	local max=("$@")
	[ ${#max[@]} -gt 0 ] || max=(announce="$(many_prefixes)")
	peer_start "$k" cpe "$(ip 2)" 65010 "$(ip 1)" 12076 \
		announce="172.16.0.0/16 2001:db8:10::/48" communities="65010:100" &&
		peer_start "$k" cpe2 "$(ip 6)" 65010 "$(ip 5)" 12076 \
			announce="172.16.0.0/16 2001:db8:10::/48" communities="65010:200" &&
		peer_start "$k" cpe_md5 "$(ip 3)" 65010 "$(ip 1)" 12076 announce="172.17.0.0/16" \
			md5=s3cretKey &&
		peer_start "$k" cpe_bad "$(ip 4)" 65010 "$(ip 1)" 12076 announce="172.18.0.0/16" \
			md5=wrongKey &&
		peer_start "$k" cpe_max "$(ip 7)" 65010 "$(ip 1)" 12076 "${max[@]}"
	check "five $name instances start on $(ip 2), $(ip 3), $(ip 4), $(ip 6), $(ip 7)" '[ $? -eq 0 ]'
}

drv_start() {
	mkfifo "$PEER_DIR/drv.cmd"
	"$DRV" --id "$(ip 1)" --as 12076 \
		--peer "local=$(ip 1),remote=$(ip 2),as=65010,restart=500" \
		--peer "local=$(ip 5),remote=$(ip 6),as=65010,restart=500" \
		--peer "local=$(ip 1),remote=$(ip 3),as=65010,md5=s3cretKey,restart=500" \
		--peer "local=$(ip 1),remote=$(ip 4),as=65010,md5=s3cretKey,restart=500" \
		--peer "local=$(ip 1),remote=$(ip 7),as=65010,max4=4000,idle=60000,restart=500" \
		--announce 10.0.0.0/24,10.0.1.0/24,2001:db8:100::/48 --nh4 192.168.100.130 \
		--nh6 2001:db8:ffff::130 --path "12076 65515" --comm "12076:50010" --log \
		<"$PEER_DIR/drv.cmd" >"$out" 2>"$PEER_DIR/drv.err" &
	drv_pid=$!
	exec 3>"$PEER_DIR/drv.cmd"
	check "the strait speaker starts (two PE addresses, five peers, TCP MD5 keys set)" \
		'wait_for 5 drv_saw "^ready"'
}

drv_check_changes() {
	local nh6=${2:-::ffff:$(ip 6)} # seen by the checks (eval runs in this scope)
	check "strait received the same prefixes on the secondary link" \
		'wait_for 10 drv_saw "^route $(ip 6) + 172.16.0.0/16 nh $(ip 6) path 65010 origin i .*comm 65010:200$" &&
		wait_for 10 drv_saw "^route $(ip 6) + 2001:db8:10::/48 nh $nh6 path 65010 "'

	echo "withdraw 10.0.1.0/24" >&3
	echo "announce 10.0.2.0/24" >&3
	check "a withdrawal and an announcement by strait reach $1 on both links" \
		'wait_for 10 no_route cpe ipv4 10.0.1.0/24 && wait_for 10 has_route cpe ipv4 10.0.2.0/24 &&
		wait_for 10 no_route cpe2 ipv4 10.0.1.0/24 && wait_for 10 has_route cpe2 ipv4 10.0.2.0/24'
	peer_withdraw cpe 172.16.0.0/16 2001:db8:10::/48
	check "$1's withdrawals (IPv4 and IPv6) reach strait" \
		'wait_for 10 drv_saw "^route $(ip 2) - 172.16.0.0/16" && wait_for 10 drv_saw "^route $(ip 2) - 2001:db8:10::/48"'
	check "the secondary link keeps $1's routes" \
		'! drv_saw "^route $(ip 6) - 172.16.0.0/16" && ! drv_saw "^route $(ip 6) - 2001:db8:10::/48"'
}

drv_restarted() {
	local n_up
	n_up=$(ups "$(ip 2)")
	echo "start" >&3
	check "after strait's start, the primary link is Established again" 'up_again cpe "$(ip 2)" $n_up'
}

drv_finish() {
	local drc
	kill "$drv_pid"
	wait "$drv_pid"
	drc=$?
	drv_pid=
	check "the strait speaker exits 0 on SIGTERM (Cease to every peer)" '[ $drc -eq 0 ]'
	[ $fails -eq 0 ] || { echo "# strait speaker's log:"; tail -n 40 "$PEER_DIR/drv.err" | sed 's/^/#   /'; }
	echo "# $(($(date +%s) - t0)) s"
	tap_exit
}
