#!/usr/bin/env bash
# The replication link over TLS (TAP): a CA, the receiver's certificate (for the name
# strait-recovery and 127.0.0.1) and a client certificate made with openssl; `strait replica
# receive` demands client certificates signed by the CA; `serve --target` and straitd
# --target ship over TLS and every restore equals the source. Refused: a sender without
# TLS, a client certificate from another CA, a receiver whose name is not the one asked
# for; bad TLS options are usage errors and unreadable files are named.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$SRCROOT/tests/scripts/tap.sh"
tap_plan 15
need openssl qemu-io qemu-img

# ---- certificates -----------------------------------------------------------------
pki=$tmp/pki
mkdir -p "$pki"
ca() { # ca NAME: a self-signed CA
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$pki/$1.key" -out "$pki/$1.pem" 2>/dev/null
}
leaf() { # leaf NAME CA SAN: a certificate signed by CA
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$pki/$1.key" \
		-out "$pki/$1.csr" 2>/dev/null &&
		printf 'subjectAltName=%s\n' "$3" >"$pki/$1.ext" &&
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.pem" -CAkey "$pki/$2.key" \
			-CAcreateserial -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.pem" 2>/dev/null
}
ca ca && ca rogue && leaf server ca "DNS:strait-recovery,IP:127.0.0.1" &&
	leaf client ca "DNS:strait-protected" && leaf intruder rogue "DNS:strait-protected"
check "openssl made the CA, the receiver's and the clients' certificates" \
	'[ -s "$pki/server.pem" ] && [ -s "$pki/client.pem" ] && [ -s "$pki/intruder.pem" ]'

receive() { # receive PORT: a TLS receiver demanding client certificates -> $rpid, $rport
	: >"$tmp/recv.out"
	"$STRAIT" replica receive --store "$tmp/store" --work "$tmp/tgt" --listen "127.0.0.1:$1" \
		--interval 1s --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
		--tls-ca "$pki/ca.pem" >"$tmp/recv.out" 2>"$tmp/recv.err" &
	rpid=$!
	pids+=("$rpid")
	for _ in $(seq 100); do grep -q "^receiving on" "$tmp/recv.out" && break; sleep 0.05; done
	rport=$(sed -n 's/^receiving on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/recv.out")
}
serve() { # serve WORK DISK=IMAGE [tls options...] -> $spid
	local work=$1 disk=$2
	shift 2
	"$STRAIT" replica serve --work "$work" --socket "$work.sock" --target "127.0.0.1:$rport" \
		"$@" "$disk" >"$work.out" 2>&1 &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 100); do [ -S "$work.sock" ] && break; sleep 0.05; done
}
points() { "$STRAIT" replica points "$1" --store "$tmp/store" -o json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0; }
wait_points() { for _ in $(seq 200); do [ "$(points "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
restore_eq() { "$STRAIT" replica restore "$1" "$tmp/r.img" --store "$tmp/store" >/dev/null && cmp -s "$tmp/r.img" "$2"; }
tls_client=(--tls-ca "$pki/ca.pem" --tls-cert "$pki/client.pem" --tls-key "$pki/client.key")

# ---- shipping over TLS ------------------------------------------------------------
receive 0
check "a TLS receiver says it demands client certificates" 'grep -q "(TLS, client certificates required)" "$tmp/recv.out" && [ -n "$rport" ]'
qemu-img create -q -f raw "$tmp/a.img" 64M
serve "$tmp/a" a="$tmp/a.img" "${tls_client[@]}" --tls-name strait-recovery --zstd 1
check "serve --target over TLS (mutual, name checked): the first point" 'wait_points a 1'
qemu-io -f raw -c "write -P 0x5c 1M 8M" -c "write -P 0x3d 40M 64k" "nbd+unix:///a?socket=$tmp/a.sock" >/dev/null
kill -TERM "$spid"; wait "$spid"; src=$?
check "the sender sends what was left and stops cleanly" '[ $src -eq 0 ]'
# the receiver cuts the point of the last records at its next 1 s interval
eventually_eq() { for _ in $(seq 50); do restore_eq "$1" "$2" && return 0; sleep 0.1; done; return 1; }
check "the newest point equals the source, byte for byte" 'eventually_eq a "$tmp/a.img"'

# ---- refusals ---------------------------------------------------------------------
qemu-img create -q -f raw "$tmp/b.img" 16M
serve "$tmp/b" b="$tmp/b.img"
sleep 2
# refused: the sender runs, says its link failed and retries, and no point is cut
refused() { kill -0 "$spid" && grep -q "(retrying)" "$1.out" && [ "$(points "$2")" -eq 0 ]; }
check "a sender without TLS makes no point" 'refused "$tmp/b" b'
kill -9 "$spid"; wait "$spid" 2>/dev/null
serve "$tmp/c" c="$tmp/b.img" --tls-ca "$pki/ca.pem" --tls-cert "$pki/intruder.pem" --tls-key "$pki/intruder.key"
sleep 2
check "a client certificate from another CA makes no point" 'refused "$tmp/c" c'
kill -9 "$spid"; wait "$spid" 2>/dev/null
serve "$tmp/d" d="$tmp/b.img" "${tls_client[@]}" --tls-name strait-elsewhere
sleep 2
check "a receiver without the name asked for is refused: no point" 'refused "$tmp/d" d'
kill -9 "$spid"; wait "$spid" 2>/dev/null

# ---- straitd over TLS -------------------------------------------------------------
qemu-img create -q -f raw "$tmp/e.img" 32M
cat >"$tmp/est.yaml" <<YAML
$(sed -n '1,/^replication:/p' examples/seed-two-circuits.yaml | sed '$d' |
	sed "s|disks: \[{name: os, size: 32GiB}, {name: data, size: 128GiB}\]|disks: [{name: os, size: 32MiB, path: $tmp/e.img}]|")
replication:
  source: eastasia
  target: southeastasia
  policy: {crash_consistent_every: 1s, app_consistent_every: 4h, retention: 24h}
  protect: [app1]
YAML
# straitd's NBD exports over TLS too (required): qemu's client reads DIR/ca-cert.pem,
# client-cert.pem and client-key.pem
"$STRAITD" --estate "$tmp/est.yaml" --socket "$tmp/d.sock" --work "$tmp/dcap" --target "127.0.0.1:$rport" \
	"${tls_client[@]}" --tls-name 127.0.0.1 --nbd-tls-cert "$pki/server.pem" \
	--nbd-tls-key "$pki/server.key" --nbd-tls-ca "$pki/ca.pem" --nbd-tls-required 2>"$tmp/d.log" &
dpid=$!
pids+=("$dpid")
for _ in $(seq 100); do [ -S "$tmp/dcap/nbd.sock" ] && break; sleep 0.05; done
mkdir -p "$tmp/qcli"
cp "$pki/ca.pem" "$tmp/qcli/ca-cert.pem"
cp "$pki/client.pem" "$tmp/qcli/client-cert.pem"
cp "$pki/client.key" "$tmp/qcli/client-key.pem"
qemu-io -f raw -c "write -P 0x70 0 4M" "nbd+unix:///app1-os?socket=$tmp/dcap/nbd.sock" >/dev/null 2>"$tmp/plain.err"
check "straitd's exports refuse a client without TLS" '[ $? -ne 0 ] && grep -qi "tls" "$tmp/plain.err"'
qemu-io --object "tls-creds-x509,id=tls0,dir=$tmp/qcli,endpoint=client" --image-opts \
	"driver=nbd,path=$tmp/dcap/nbd.sock,export=app1-os,tls-creds=tls0,tls-hostname=strait-recovery" \
	-c "write -P 0x71 0 4M" >/dev/null
check "a client writes over NBD with TLS (qemu-io, tls-creds-x509)" '[ $? -eq 0 ]'
st() { "$STRAIT" replica status --socket "$tmp/d.sock" -o json; }
for _ in $(seq 200); do st | grep -q "\"state\": \"protected\"" && st | grep -q '"backlog_bytes": 0,' && break; sleep 0.1; done
kill -TERM "$dpid"; wait "$dpid"
check "straitd --target over TLS: the point equals the source" 'restore_eq app1-os "$tmp/e.img"'
kill -TERM "$rpid"; wait "$rpid"
check "the receiver stored every record once (0 duplicates, 0 checksum errors)" 'grep -q "(0 duplicates, 0 checksum errors" "$tmp/recv.out"'

# ---- bad options ------------------------------------------------------------------
"$STRAIT" replica receive --store "$tmp/store" --work "$tmp/x" --listen 127.0.0.1:0 --tls-cert "$pki/server.pem" 2>"$tmp/err"
check "a TLS receiver without its key is a usage error (exit 2)" '[ $? -eq 2 ] && grep -q -- "--tls-key" "$tmp/err"'
"$STRAIT" replica serve --work "$tmp/y" --socket "$tmp/y.sock" --target 127.0.0.1:9 --tls-ca "$tmp/nope.pem" y="$tmp/b.img" 2>"$tmp/err"
check "an unreadable CA file is named" '[ $? -eq 1 ] && grep -q "cannot read $tmp/nope.pem" "$tmp/err"'
"$STRAIT" replica serve --work "$tmp/y" --socket "$tmp/y.sock" --tls-ca "$pki/ca.pem" --store "$tmp/s2" y="$tmp/b.img" 2>"$tmp/err"
check "TLS without --target is a usage error (exit 2)" '[ $? -eq 2 ] && grep -q -- "--target" "$tmp/err"'
tap_exit
