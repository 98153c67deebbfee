#!/usr/bin/env bash
# RFC 7606 (revised UPDATE error handling) at strait's BGP speaker
# (tests/unit/bgp_speaker_drv.c as the provider edge, AS 12076), TAP. Malformed
# UPDATEs are injected by two senders on 127.0.25.0/24:
#   .2  ExaBGP (AS 65010), its raw attributes (`attribute [ code flags value ]`,
#       peer_exabgp_raw) where ExaBGP can express the case;
#   .3  rawbgp.py (AS 65010), hand-built UPDATEs on one session: a NEXT_HOP of
#       the wrong length or flags, duplicated and missing attributes;
#   .4  rawbgp.py (AS 65010), one session per case, for the cases that reset;
#   .6  rawbgp.py (AS 12076, iBGP): LOCAL_PREF.
# Each case is checked against the action RFC 7606 sections 3 and 7 name, as
# strait's driver shows it (its route lines, its state lines with the
# NOTIFICATION, its log):
#   treat-as-withdraw  the prefix, first announced well-formed, is removed;
#                      strait logs why; the session stays Established;
#   attribute discard  the route is installed without the attribute (its
#                      line is compared whole); strait logs why; session up;
#   session reset      strait sends UPDATE Message Error with the subcode
#                      named, and the sender receives it.
# Needs root (port 179), ExaBGP (scripts/deps.sh test), python3 and BGP_DRV.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/interop/peer.sh
. "$here/peer.sh"
# shellcheck source=tests/scripts/tap.sh
. "$here/../scripts/tap.sh"
PEER_NO_TRAP=1
tap_plan 48
[ "$(id -u)" -eq 0 ] || { notok "run as root: every speaker binds port 179"; exit 1; }
peer_require exabgp || { notok "ExaBGP is not installed (scripts/deps.sh test installs it)"; exit 1; }
DRV=${BGP_DRV:-}
[ -x "$DRV" ] || { notok "BGP_DRV is not the bgp_speaker_drv program"; exit 1; }
RAW=$here/rawbgp.py
echo "# $(peer_version exabgp); $("$PEER_PY" --version 2>&1)"

net=127.0.25
ip() { echo "$net.$1"; }
PEER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/strait-rfc7606.XXXXXX")
out=$PEER_DIR/drv.out
err=$PEER_DIR/drv.err
drv_pid="" raw_pid="" ibgp_pid=""
cleanup() {
	local p
	for p in $drv_pid $raw_pid $ibgp_pid; do kill "$p" 2>/dev/null; done
	exec 3>&- 4>&- 5>&- 2>/dev/null
	peer_cleanup
	[ "${PEER_KEEP:-0}" = 1 ] || rm -rf "$PEER_DIR"
}
trap cleanup EXIT
echo "# addresses: $net.0/24, port 179; files in $PEER_DIR (PEER_KEEP=1 keeps them)"
t0=$(date +%s)

saw() { grep -q -- "$1" "$out"; }
# Each case marks where the driver's output and log stand, then looks only at
# what came after.
mark() { m_out=$(wc -l <"$out"); m_err=$(wc -l <"$err"); }
new_out() { tail -n "+$((m_out + 1))" "$out"; }
saw_new() { new_out | grep -q -- "$1"; }
logged_new() { tail -n "+$((m_err + 1))" "$err" | grep -qF -- "$1"; }
# up_since_mark IP: no state change of IP's session since the mark (a reset
# comes in the same turn of strait's loop as the UPDATE: 0.3 s is plenty).
up_since_mark() { sleep 0.3; ! new_out | grep -q "^state $1 "; }
# checked DESC CMD: check, and after a failure what strait did since the mark.
checked() {
	local f=$fails
	check "$@"
	[ "$fails" -eq "$f" ] || {
		new_out | tail -n 5 | sed 's/^/#   strait: /'
		tail -n "+$((m_err + 1))" "$err" | grep -E "7606|NOTIFICATION" | tail -n 3 | sed 's/^/#   strait: /'
	}
}

# a FLAGS TYPE VALUE: one path attribute in hex, its length from VALUE (two
# octets when FLAGS has Extended Length).
a() {
	local n=$((${#3} / 2))
	if (($((16#$1)) & 16)); then printf '%s%s%04x%s' "$1" "$2" "$n" "$3"; else printf '%s%s%02x%s' "$1" "$2" "$n" "$3"; fi
}
AS65010=0000fdf2
ORIGIN=$(a 40 01 00)
ASPATH=$(a 40 02 0201$AS65010)
NH=$(a 40 03 c0000203)      # 192.0.2.3: the raw senders' next hop
BASE=$ORIGIN$ASPATH$NH
IBASE=$ORIGIN$(a 40 02 "")$NH$(a 40 05 00000064)
# MP_REACH_NLRI for 2001:db8:77::/48, next hop 2001:db8:ffff::3
MP6=0002011020010db8ffff00000000000000000003003020010db80077

# ---- start ----------------------------------------------------------------------------------
peer_start exabgp exa "$(ip 2)" 65010 "$(ip 1)" 12076 announce="172.16.0.0/16"
check "ExaBGP starts on $(ip 2)" '[ $? -eq 0 ]'
mkfifo "$PEER_DIR/drv.cmd" "$PEER_DIR/raw.cmd" "$PEER_DIR/ibgp.cmd"
"$DRV" --id "$(ip 1)" --as 12076 \
	--peer "local=$(ip 1),remote=$(ip 2),as=65010,restart=200" \
	--peer "local=$(ip 1),remote=$(ip 3),as=65010,passive,restart=200" \
	--peer "local=$(ip 1),remote=$(ip 4),as=65010,passive,restart=200" \
	--peer "local=$(ip 1),remote=$(ip 6),as=12076,passive,restart=200" \
	--announce 10.0.0.0/24 --nh4 192.168.100.130 --path "12076 65515" --log \
	<"$PEER_DIR/drv.cmd" >"$out" 2>"$err" &
drv_pid=$!
exec 3>"$PEER_DIR/drv.cmd"
check "the strait speaker starts; ExaBGP's session comes up and its route arrives" \
	'wait_for 5 saw "^ready" && peer_wait_established exa 30 &&
	wait_for 10 saw "^route $(ip 2) + 172.16.0.0/16 nh $(ip 2) path 65010 origin i$"'

# ---- ExaBGP's raw attributes ------------------------------------------------------------------
E=$(ip 2)
mark
m_all_out=$m_out
# exa_withdraw DESC PREFIX WHY ATTR...: ExaBGP announces PREFIX well-formed,
# then again with the raw ATTRs (peer_exabgp_raw): treat-as-withdraw.
exa_withdraw() {
	local desc=$1 pfx=$2 why=$3
	shift 3
	peer_exabgp_api exa "announce route $pfx next-hop $E"
	if ! wait_for 5 saw "^route $E + $pfx nh $E path 65010 origin i$"; then
		notok "$desc: (the well-formed announcement of $pfx never arrived)"
		return
	fi
	mark
	peer_exabgp_raw exa "$pfx" "$@"
	checked "$desc: treat-as-withdraw ($pfx removed, \"$why\" logged, session up)" \
		'wait_for 5 saw_new "^route $E - $pfx$" && logged_new "treated as withdraw (RFC 7606): $why" &&
		up_since_mark "$E"'
}
# exa_discard DESC PREFIX WANT WHY ATTR...: ExaBGP announces a new PREFIX with
# the raw ATTRs: attribute discard, the route installed exactly as WANT.
exa_discard() {
	local desc=$1 pfx=$2 want=$3 why=$4
	shift 4
	mark
	peer_exabgp_raw exa "$pfx" "$@"
	checked "$desc: attribute discard ($pfx installed as \"$want\", \"$why\" logged, session up)" \
		'wait_for 5 saw_new "^route $E + $pfx $want$" && logged_new "attribute discarded (RFC 7606): $why" &&
		up_since_mark "$E"'
}

peer_exabgp_raw exa 10.77.0.0/24 "0x06 0x40 0x" "0x07 0xc0 0x${AS65010}c0000202"
check "well-formed ATOMIC_AGGREGATE and AGGREGATOR are kept (what the discard cases remove)" \
	'wait_for 5 saw "^route $E + 10.77.0.0/24 nh $E path 65010 origin i atomic aggregator 65010$"'

# RFC 7606 7.1: ORIGIN of length other than 1 or an undefined value.
exa_withdraw "ORIGIN value 5 (7.1)" 10.77.1.0/24 "unknown ORIGIN value" "0x01 0x40 0x05"
exa_withdraw "ORIGIN length 2 (7.1)" 10.77.2.0/24 "wrong length" "0x01 0x40 0x0000"
# 7.2: an unrecognised segment type, a segment overrunning the attribute, a
# segment of length 0, a single octet after the last segment; RFC 5065 5:
# AS_CONFED_SEQUENCE from an eBGP peer is a malformed AS_PATH.
exa_withdraw "AS_PATH segment type 5 (7.2)" 10.77.3.0/24 "unknown segment type" "0x02 0x40 0x0501$AS65010"
exa_withdraw "AS_PATH segment of 2 ASes holding 1 (7.2)" 10.77.4.0/24 "a segment runs past the attribute" \
	"0x02 0x40 0x0202$AS65010"
exa_withdraw "AS_PATH with a segment of length 0 (7.2)" 10.77.15.0/24 "empty segment" "0x02 0x40 0x0201${AS65010}0200"
exa_withdraw "AS_PATH with one octet after its last segment (7.2)" 10.77.16.0/24 "a segment header is cut short" \
	"0x02 0x40 0x0201${AS65010}02"
exa_withdraw "AS_PATH with AS_CONFED_SEQUENCE from eBGP (7.2, RFC 5065 5)" 10.77.5.0/24 \
	"confederation segment from an eBGP peer" "0x02 0x40 0x0201${AS65010}03010000fc00"
# 7.4: MULTI_EXIT_DISC of length other than 4.
exa_withdraw "MED length 3 (7.4)" 10.77.6.0/24 "wrong length" "0x04 0x80 0x000064"
# 7.8: COMMUNITIES of length 0 or not a multiple of 4.
exa_withdraw "COMMUNITIES length 3 (7.8)" 10.77.7.0/24 "length not a non-zero multiple" "0x08 0xc0 0x000001"
exa_withdraw "COMMUNITIES length 6 (7.8)" 10.77.8.0/24 "length not a non-zero multiple" "0x08 0xc0 0xfdf20001ffff"
# 3.c: Optional or Transitive bits in conflict with the attribute's: malformed,
# treat-as-withdraw, "unless the specification for the attribute mandates
# different handling for incorrect Attribute Flags" (none of these does).
exa_withdraw "ORIGIN flagged optional transitive (3.c)" 10.77.9.0/24 "attribute flags conflict" "0x01 0xc0 0x00"
exa_withdraw "MED flagged transitive (3.c)" 10.77.10.0/24 "attribute flags conflict" "0x04 0xc0 0x00000064"
exa_withdraw "COMMUNITIES flagged non-transitive (3.c)" 10.77.11.0/24 "attribute flags conflict" \
	"0x08 0x80 0xfdf20001"
exa_withdraw "ATOMIC_AGGREGATE flagged optional (3.c; 7.6 speaks only of its length)" 10.77.12.0/24 \
	"attribute flags conflict" "0x06 0xc0 0x"
exa_withdraw "AGGREGATOR flagged well-known (3.c; 7.7 speaks only of its length)" 10.77.13.0/24 \
	"attribute flags conflict" "0x07 0x40 0x${AS65010}c0000202"
# An unrecognised attribute marked well-known (Optional bit clear): RFC 4271
# 6.3 would reset (Unrecognized Well-known Attribute) and RFC 7606 does not
# name it; strait reads it as an optional attribute with a broken flag and
# withdraws (3.c), as BIRD does (src/bgp/bgp_attr.c). Checked as strait does it.
exa_withdraw "unrecognised attribute 99 marked well-known (strait: 3.c)" 10.77.14.0/24 \
	"unrecognized attribute marked well-known" "0x63 0x40 0x0102"

# RFC 4271 6.3: a semantically wrong NEXT_HOP: the route is ignored, no NOTIFICATION.
mark
peer_exabgp_api exa "announce route 10.77.20.0/24 next-hop 0.0.0.0"
check "NEXT_HOP 0.0.0.0 (RFC 4271 6.3): the route is ignored, session up" \
	'wait_for 5 logged_new "NEXT_HOP is not a unicast address; routes ignored" &&
	up_since_mark "$E" && ! saw_new "^route $E + 10.77.20.0/24 "'

# 7.6, 7.7: attribute discard. (7.5, LOCAL_PREF from an eBGP peer, is with
# rawbgp.py below: ExaBGP 4.2 never sends LOCAL_PREF to an eBGP peer.)
exa_discard "ATOMIC_AGGREGATE length 1 (7.6)" 10.77.21.0/24 "nh $E path 65010 origin i" "wrong length" \
	"0x06 0x40 0x00"
exa_discard "AGGREGATOR length 7 (7.7)" 10.77.22.0/24 "nh $E path 65010 origin i" \
	"wrong length for the session's AS size" "0x07 0xc0 0x${AS65010}c00002"
exa_discard "AGGREGATOR length 6 on a 4-octet-AS session (7.7)" 10.77.23.0/24 "nh $E path 65010 origin i" \
	"wrong length for the session's AS size" "0x07 0xc0 0xfdf2c0000202"

# RFC 4760: an MP_REACH_NLRI of an AFI never negotiated (99) beside the IPv4
# NLRI is ignored; the UPDATE's IPv4 route stands.
mark
peer_exabgp_raw exa 10.77.26.0/24 "0x0e 0x80 0x00630104c000020100180a4d1a"
check "MP_REACH_NLRI of AFI 99 (not negotiated): ignored, the IPv4 route in the UPDATE installed, session up" \
	'wait_for 5 saw_new "^route $E + 10.77.26.0/24 nh $E path 65010 origin i$" && up_since_mark "$E"'

m_out=$m_all_out
check "ExaBGP's session stayed up through all of it (strait and ExaBGP both Established)" \
	'! new_out | grep -q "^state $E " && [ "$(peer_state exa)" = Established ]'

# ---- rawbgp.py: one session, hand-built UPDATEs --------------------------------------------------
R=$(ip 3)
"$PEER_PY" "$RAW" --local "$R" --remote "$(ip 1)" --as 65010 --stdin <"$PEER_DIR/raw.cmd" \
	>"$PEER_DIR/raw.out" 2>&1 &
raw_pid=$!
exec 4>"$PEER_DIR/raw.cmd"
check "rawbgp.py ($R) brings its session up" \
	'wait_for 10 grep -q "^established" "$PEER_DIR/raw.out" && wait_for 5 saw "^state $R [A-Za-z]* Established$"'
mark
m_all_out=$m_out
# raw_withdraw DESC PREFIX WHY ATTRS: PREFIX announced with BASE, then with ATTRS.
raw_withdraw() {
	local desc=$1 pfx=$2 why=$3 attrs=$4
	echo "announce $BASE $pfx" >&4
	if ! wait_for 5 saw "^route $R + $pfx nh 192.0.2.3 path 65010 origin i$"; then
		notok "$desc: (the well-formed announcement of $pfx never arrived)"
		return
	fi
	mark
	echo "announce $attrs $pfx" >&4
	checked "$desc: treat-as-withdraw ($pfx removed, \"$why\" logged, session up)" \
		'wait_for 5 saw_new "^route $R - $pfx$" && logged_new "treated as withdraw (RFC 7606): $why" &&
		up_since_mark "$R"'
}
# raw_install DESC PREFIX WANT WHY ATTRS: a new PREFIX with ATTRS is installed as WANT.
raw_install() {
	local desc=$1 pfx=$2 want=$3 why=$4 attrs=$5
	mark
	echo "announce $attrs $pfx" >&4
	checked "$desc: $pfx installed as \"$want\", \"$why\" logged, session up" \
		'wait_for 5 saw_new "^route $R + $pfx $want$" && logged_new "$why" && up_since_mark "$R"'
}
# 7.3: NEXT_HOP of length other than 4 (ExaBGP cannot send one).
raw_withdraw "NEXT_HOP length 5 (7.3)" 10.78.1.0/24 "wrong length" "$ORIGIN$ASPATH$(a 40 03 c000020301)"
raw_withdraw "NEXT_HOP length 3 (7.3)" 10.78.2.0/24 "wrong length" "$ORIGIN$ASPATH$(a 40 03 c00002)"
raw_withdraw "NEXT_HOP flagged optional transitive (3.c)" 10.78.3.0/24 "attribute flags conflict" \
	"$ORIGIN$ASPATH$(a c0 03 c0000203)"
# 3.d: a well-known mandatory attribute missing.
raw_withdraw "ORIGIN missing (3.d)" 10.78.4.0/24 "missing well-known attribute" "$ASPATH$NH"
raw_withdraw "AS_PATH missing (3.d)" 10.78.5.0/24 "missing well-known attribute" "$ORIGIN$NH"
raw_withdraw "NEXT_HOP missing with IPv4 NLRI (3.d)" 10.78.6.0/24 "missing well-known attribute" "$ORIGIN$ASPATH"
# 3.g: an attribute other than MP_REACH/MP_UNREACH twice: the first kept, the rest discarded.
raw_install "ORIGIN twice, IGP then EGP (3.g)" 10.78.7.0/24 "nh 192.0.2.3 path 65010 origin i" \
	"attribute discarded (RFC 7606): duplicate discarded" "$BASE$(a 40 01 01)"
raw_install "COMMUNITIES twice (3.g)" 10.78.8.0/24 "nh 192.0.2.3 path 65010 origin i comm 65010:1" \
	"attribute discarded (RFC 7606): duplicate discarded" "$BASE$(a c0 08 fdf20001)$(a c0 08 fdf20002)"
raw_install "MED twice, 10 then 20 (3.g)" 10.78.9.0/24 "nh 192.0.2.3 path 65010 origin i med 10" \
	"attribute discarded (RFC 7606): duplicate discarded" "$BASE$(a 80 04 0000000a)$(a 80 04 00000014)"
# 7.5: LOCAL_PREF from an eBGP peer is discarded, whatever its length.
raw_install "LOCAL_PREF from an eBGP peer (7.5)" 10.78.11.0/24 "nh 192.0.2.3 path 65010 origin i" \
	"attribute discarded (RFC 7606): from an eBGP peer; discarded" "$BASE$(a 40 05 00000064)"
raw_install "LOCAL_PREF of length 3 from an eBGP peer (7.5: discarded, not malformed)" 10.78.12.0/24 \
	"nh 192.0.2.3 path 65010 origin i" "attribute discarded (RFC 7606): from an eBGP peer; discarded" \
	"$BASE$(a 40 05 000064)"
m_out=$m_all_out
check "rawbgp.py's session stayed up through all of it" \
	'! new_out | grep -q "^state $R " && kill -0 "$raw_pid" && ! grep -q "^closed" "$PEER_DIR/raw.out"'

# ---- rawbgp.py: iBGP ----------------------------------------------------------------------------
I=$(ip 6)
"$PEER_PY" "$RAW" --local "$I" --remote "$(ip 1)" --as 12076 --stdin <"$PEER_DIR/ibgp.cmd" \
	>"$PEER_DIR/ibgp.out" 2>&1 &
ibgp_pid=$!
exec 5>"$PEER_DIR/ibgp.cmd"
check "rawbgp.py as an iBGP peer ($I, AS 12076) brings its session up" \
	'wait_for 10 grep -q "^established" "$PEER_DIR/ibgp.out" && wait_for 5 saw "^state $I [A-Za-z]* Established$"'
echo "announce $IBASE 10.79.1.0/24" >&5
check "iBGP: LOCAL_PREF 100 is kept" 'wait_for 5 saw "^route $I + 10.79.1.0/24 nh 192.0.2.3 path origin i localpref 100$"'
mark
echo "announce $ORIGIN$(a 40 02 "")$NH$(a 40 05 000064) 10.79.1.0/24" >&5
check "iBGP: LOCAL_PREF length 3 (7.5): treat-as-withdraw, session up" \
	'wait_for 5 saw_new "^route $I - 10.79.1.0/24$" && logged_new "treated as withdraw (RFC 7606): wrong length" &&
	up_since_mark "$I"'
echo "announce $IBASE 10.79.2.0/24" >&5
wait_for 5 saw "^route $I + 10.79.2.0/24 " || true
mark
echo "announce $ORIGIN$(a 40 02 "")$NH 10.79.2.0/24" >&5
check "iBGP: LOCAL_PREF missing (3.d, RFC 4271 5.1.5): treat-as-withdraw, session up" \
	'wait_for 5 saw_new "^route $I - 10.79.2.0/24$" && logged_new "treated as withdraw (RFC 7606): missing well-known attribute" &&
	up_since_mark "$I"'

# ---- rawbgp.py: the cases that reset the session --------------------------------------------------
S=$(ip 4)
nreset=0
# raw_reset DESC CODE/SUBCODE DATA COMMAND: a new session from .4 sends one
# UPDATE (a rawbgp.py command); strait must reset it with NOTIFICATION
# CODE/SUBCODE carrying DATA (hex; RFC 4271 6.3: the erroneous attribute for
# Attribute Flags Error and Optional Attribute Error, nothing for Malformed
# Attribute List and Invalid Network Field).
raw_reset() {
	local desc=$1 want=$2 data=$3 cmd=$4 o
	nreset=$((nreset + 1))
	o=$PEER_DIR/reset$nreset.out
	mark
	"$PEER_PY" "$RAW" --local "$S" --remote "$(ip 1)" --as 65010 "$cmd" "wait 5" >"$o" 2>&1
	checked "$desc: session reset, strait sends UPDATE Message Error $want${data:+ with the attribute} and rawbgp.py receives it" \
		'grep -q "^established" "$o" && grep -qx "notification $want $data" "$o" &&
		saw_new "^state $S Established Idle sent $want " && ! saw_new "^route $S + "'
}
# 3.g: MP_REACH_NLRI twice: Malformed Attribute List (subcode 1).
raw_reset "MP_REACH_NLRI twice (3.g)" 3/1 "" "announce $(a 80 0e "$MP6")$(a 80 0e "$MP6")$ORIGIN$ASPATH"
# 7.11 and 5.3: an MP_REACH_NLRI next hop whose length does not fit the AFI
# (4 octets for IPv6): the NLRI cannot be found, "session reset" (or AFI/SAFI
# disable); RFC 4760 7 names Optional Attribute Error (subcode 9).
MPNH4=$(a 80 0e 00020104c0000203003020010db80077)
raw_reset "MP_REACH_NLRI for IPv6 with a 4-octet next hop (7.11)" 3/9 "$MPNH4" "announce $MPNH4$ORIGIN$ASPATH"
# 5.3: MP_REACH_NLRI flags inconsistent with RFC 4760 (optional non-transitive):
# session reset; strait names it Attribute Flags Error (RFC 4271 6.3's subcode
# for flags; RFC 4760 7's Optional Attribute Error would do as well).
MPT=$(a c0 0e "$MP6")
raw_reset "MP_REACH_NLRI flagged transitive (5.3)" 3/4 "$MPT" "announce $MPT$ORIGIN$ASPATH"
# 5.3: its NLRI cannot be parsed (an IPv6 prefix length of 129, 17 octets).
P129=20010db80077$(printf '0%.0s' $(seq 22))
MP129=$(a 80 0e "0002011020010db8ffff000000000000000000030081$P129")
raw_reset "MP_REACH_NLRI with an IPv6 prefix of length 129 (5.3)" 3/9 "$MP129" "announce $MP129$ORIGIN$ASPATH"
# 5.3: IPv4 NLRI that cannot be parsed (prefix length 33): Invalid Network Field (10).
raw_reset "IPv4 NLRI with a prefix length of 33 (5.3)" 3/10 "" \
	"update 0000$(printf %04x $((${#BASE} / 2)))${BASE}210a4e0a0000"

kill "$drv_pid"
wait "$drv_pid"
drc=$?
drv_pid=
check "the strait speaker exits 0 on SIGTERM" '[ $drc -eq 0 ]'
[ $fails -eq 0 ] || { echo "# strait speaker's log (RFC 7606 lines):"; grep -E "7606|NOTIFICATION" "$err" | tail -n 40 | sed 's/^/#   /'; }
echo "# $(($(date +%s) - t0)) s"
tap_exit
