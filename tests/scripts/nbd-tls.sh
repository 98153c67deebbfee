#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup and nbdsh_ run through trap and check
# The NBD capture server's TLS (NBD_OPT_STARTTLS) against real clients
# (TAP): libnbd (nbdinfo, nbdcopy, nbdsh with nbds:// and nbds+unix:// URIs
# and tls-certificates=DIR) and qemu-img (--object tls-creds-x509). The PKI
# comes from `$NBD_TEST_SERVER --make-certs` (openssl req/x509): a CA, a
# server certificate for localhost and 127.0.0.1, a client certificate, and
# a client certificate of another CA. Two servers: one requiring TLS and a
# client certificate the CA signed, one offering TLS without asking for
# client certificates. Every tool is required: a missing one fails its
# case, never skips. Servers listen on a Unix socket in a temporary
# directory and on 127.0.0.1 only, and must exit 0 on SIGTERM.
set -u
: "${NBD_TEST_SERVER:?path to test_nbd (its --serve and --make-certs modes)}"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # check DESC CMD...: ok when CMD succeeds; its output goes to the log
  local d=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then ok "$d"; else notok "$d"; sed 's/^/# /' "$tmp/out"; fi
}
# fails DESC PATTERN CMD...: ok when CMD fails and its output matches PATTERN
fails() {
  local d=$1 pat=$2
  shift 2
  if ! "$@" >"$tmp/out" 2>&1 && grep -Eq "$pat" "$tmp/out"; then ok "$d"
  else notok "$d"; sed 's/^/# /' "$tmp/out"; fi
}
nbdsh_() { PATH="/usr/bin:$PATH" nbdsh "$@"; }

echo "1..19"

missing=
for t in openssl nbdinfo nbdsh nbdcopy qemu-img; do
  command -v "$t" >/dev/null || missing="$missing $t"
done
PATH="/usr/bin:$PATH" python3 -c 'import nbd' 2>/dev/null || missing="$missing python3-libnbd"
if [ -z "$missing" ]; then ok "client tools present"; else notok "client tools missing:$missing"; fi

# the PKI, and one tls-certificates directory per client identity
pki=$tmp/pki
mkdir -p "$pki" "$tmp/cli" "$tmp/rogue" "$tmp/nocert" "$tmp/wrongca"
check "openssl makes the test PKI" "$NBD_TEST_SERVER" --make-certs "$pki"
cp "$pki/ca-cert.pem" "$pki/client-cert.pem" "$pki/client-key.pem" "$tmp/cli/"
cp "$pki/ca-cert.pem" "$tmp/nocert/"
cp "$pki/ca-cert.pem" "$tmp/rogue/"
cp "$pki/rogue-cert.pem" "$tmp/rogue/client-cert.pem"
cp "$pki/rogue-key.pem" "$tmp/rogue/client-key.pem"
cp "$pki/rogue-ca-cert.pem" "$tmp/wrongca/ca-cert.pem" # does not trust the server
cp "$pki/client-cert.pem" "$pki/client-key.pem" "$tmp/wrongca/"

size=$((8 * 1024 * 1024))
truncate -s "$size" "$tmp/sp.img"
head -c $((1 << 20)) /dev/urandom | dd of="$tmp/sp.img" bs=64k seek=32 conv=notrunc status=none
printf '%s\n' "0 2097152 3" "2097152 1048576 0" "3145728 5242880 3" >"$tmp/sp.map"
head -c "$size" /dev/urandom >"$tmp/disk.img"

# serve NAME ARGS...: starts a server on $tmp/NAME.sock and 127.0.0.1
serve() {
  local name=$1
  shift
  "$NBD_TEST_SERVER" --serve "$tmp/$name.sock" --tcp "$tmp/$name.port" \
    --tls-cert "$pki/server-cert.pem" --tls-key "$pki/server-key.pem" "$@" \
    sp="$tmp/sp.img:ro" disk="$tmp/disk.img" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$tmp/$name.sock" ] && [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
}
serve req --tls-ca "$pki/ca-cert.pem" --tls-required
serve opt
check "both servers listen" test -S "$tmp/req.sock" -a -S "$tmp/opt.sock"
port=$(cat "$tmp/req.port" 2>/dev/null)
q="tls-certificates=$tmp/cli"
sp_unix="nbds+unix:///sp?socket=$tmp/req.sock&$q"
sp_tcp="nbds://127.0.0.1:$port/sp?$q"
disk_unix="nbds+unix:///disk?socket=$tmp/req.sock&$q"

# libnbd over TLS, client certificate signed by the CA
check "nbdinfo --size over nbds+unix://" test "$(nbdinfo --size "$sp_unix" 2>&1)" = "$size"
check "nbdinfo --map over nbds://127.0.0.1 shows holes and data" \
  sh -c "nbdinfo --map '$sp_tcp' | awk '{print \$1, \$2, \$3}' | cmp - '$tmp/sp.map'"
check "nbdcopy over nbds+unix:// equals the file" \
  sh -c "nbdcopy '$sp_unix' '$tmp/c1.img' && cmp '$tmp/c1.img' '$tmp/sp.img'"
check "nbdcopy over nbds://127.0.0.1 equals the file" \
  sh -c "nbdcopy '$sp_tcp' '$tmp/c2.img' && cmp '$tmp/c2.img' '$tmp/sp.img'"
head -c "$size" /dev/urandom >"$tmp/in.img"
check "nbdcopy into the export over TLS lands in the file" \
  sh -c "nbdcopy '$tmp/in.img' '$disk_unix' && cmp '$tmp/in.img' '$tmp/disk.img'"
cat >"$tmp/t.py" <<'PY'
assert h.get_tls_negotiated() and h.get_structured_replies_negotiated()
assert h.pread(1 << 20, 2 << 20) == open(path, "rb").read()[2 << 20:3 << 20]
PY
check "nbdsh: TLS and structured replies negotiated, pread equals the file" \
  nbdsh_ -c 'h.set_uri_allow_local_file(True)' -c "h.connect_uri('$sp_unix')" \
  -c "path = '$tmp/sp.img'" -c "exec(open('$tmp/t.py').read())"

# qemu over TLS (tls-creds-x509 reads ca-cert.pem, client-cert.pem, client-key.pem)
obj="tls-creds-x509,id=tls0,dir=$tmp/cli,endpoint=client"
check "qemu-img convert over TLS (TCP) equals the file" \
  sh -c "qemu-img convert --object '$obj' --image-opts \
    'driver=nbd,host=127.0.0.1,port=$port,export=sp,tls-creds=tls0' -O raw '$tmp/q.img' &&
    cmp '$tmp/q.img' '$tmp/sp.img'"
check "qemu-img compare over TLS (Unix socket)" \
  qemu-img compare --object "$obj" --image-opts \
  "driver=nbd,path=$tmp/req.sock,export=disk,tls-creds=tls0,tls-hostname=localhost" \
  "driver=file,filename=$tmp/disk.img"

# refusals by the server that requires TLS and a client certificate
fails "qemu-img without TLS: the server requires it" "TLS negotiation required" \
  qemu-img info "nbd://127.0.0.1:$port/sp"
fails "nbdinfo without TLS: the server requires it" "requires TLS" \
  nbdinfo --size "nbd+unix:///sp?socket=$tmp/req.sock"
fails "a client certificate of another CA is refused" "alert|push|pull|TLS" \
  nbdinfo --size "nbds+unix:///sp?socket=$tmp/req.sock&tls-certificates=$tmp/rogue"
fails "a client without a certificate is refused" "alert|push|pull|TLS" \
  nbdinfo --size "nbds+unix:///sp?socket=$tmp/req.sock&tls-certificates=$tmp/nocert"
# (libnbd checks the server only when it has a host name to check: TCP)
fails "a client that does not trust the server's CA gives up" "verif|certificate|TLS" \
  nbdinfo --size "nbds://127.0.0.1:$port/sp?tls-certificates=$tmp/wrongca"

# the server that offers TLS: the client chooses
check "optional TLS: a plain client reads the export" \
  nbdsh_ -u "nbd+unix:///sp?socket=$tmp/opt.sock" -c 'assert not h.get_tls_negotiated()' \
  -c "assert h.pread(4096, 2 << 20) == open('$tmp/sp.img', 'rb').read()[2 << 20:(2 << 20) + 4096]"
check "optional TLS: a TLS client without a certificate reads the export" \
  sh -c "nbdcopy 'nbds+unix:///sp?socket=$tmp/opt.sock&tls-certificates=$tmp/nocert' \
    '$tmp/c3.img' && cmp '$tmp/c3.img' '$tmp/sp.img'"

# both servers survive all that and exit cleanly
rcs=
for p in "${pids[@]}"; do
  kill -TERM "$p"
  wait "$p"
  rcs="$rcs$?"
done
pids=()
if [ "$rcs" = 00 ] && [ ! -e "$tmp/req.sock" ] && [ ! -e "$tmp/opt.sock" ]; then
  ok "servers exit 0 on SIGTERM, sockets removed"
else
  notok "server exit statuses $rcs"
  sed 's/^/# /' "$tmp/req.err" "$tmp/opt.err"
fi
exit $((fails > 0))
