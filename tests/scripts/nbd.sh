#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup and nbdsh_ run through trap and check
# The NBD capture server against real clients (TAP): nbdinfo, qemu-img
# (info/compare/convert/map), qemu-io, nbdsh, nbdcopy and fio's nbd engine
# with crc32c verification, on a Unix socket and on TCP (127.0.0.1), served
# by `$NBD_TEST_SERVER --serve` (tests/unit/test_nbd.c). libnbd and qemu
# negotiate structured replies and base:allocation, so a sparse export's
# map and hole chunks are checked against the layout the file was made
# with. Every client tool is required: a missing one fails its case, never
# skips. The server must exit 0 on SIGTERM (clean under ASan). TLS:
# nbd-tls.sh.
set -u
: "${NBD_TEST_SERVER:?path to test_nbd (its --serve mode)}"
tmp=$(mktemp -d)
srv=
cleanup() {
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
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
# nbdsh runs `python3 -m nbd`: use the system python, which has python3-libnbd
nbdsh_() { PATH="/usr/bin:$PATH" nbdsh "$@"; }

echo "1..27"

missing=
for t in qemu-img qemu-io nbdinfo nbdsh nbdcopy fio; do
  command -v "$t" >/dev/null || missing="$missing $t"
done
PATH="/usr/bin:$PATH" python3 -c 'import nbd' 2>/dev/null || missing="$missing python3-libnbd"
fio --enghelp=nbd 2>/dev/null | grep -q uri || missing="$missing fio-nbd-engine"
if [ -z "$missing" ]; then ok "client tools present"; else notok "client tools missing:$missing"; fi

size=$((16 * 1024 * 1024))
head -c "$size" /dev/urandom >"$tmp/disk.img"
cp "$tmp/disk.img" "$tmp/orig.img"
head -c "$size" /dev/urandom >"$tmp/ro.img"
cp "$tmp/ro.img" "$tmp/ro.orig"
# sparse: data in [4M, 5M) and [10M, 10M + 64K), holes around
truncate -s "$size" "$tmp/sp.img"
head -c $((1 << 20)) /dev/urandom | dd of="$tmp/sp.img" bs=64k seek=64 conv=notrunc status=none
head -c 65536 /dev/urandom | dd of="$tmp/sp.img" bs=64k seek=160 conv=notrunc status=none
printf '%s\n' "0 4194304 3" "4194304 1048576 0" "5242880 5242880 3" "10485760 65536 0" \
  "10551296 6225920 3" >"$tmp/sp.map"
sock="$tmp/nbd.sock"
"$NBD_TEST_SERVER" --serve "$sock" --tcp "$tmp/port" disk="$tmp/disk.img" ro="$tmp/ro.img:ro" \
  sp="$tmp/sp.img:ro" 2>"$tmp/srv.err" &
srv=$!
for _ in $(seq 100); do [ -S "$sock" ] && [ -s "$tmp/port" ] && break; sleep 0.05; done
uri="nbd+unix:///disk?socket=$sock"
ro_uri="nbd+unix:///ro?socket=$sock"
sp_uri="nbd+unix:///sp?socket=$sock"
check "server listening on a Unix socket" test -S "$sock"
tcp_uri="nbd://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)/disk"

# nbdinfo: the list, the size, read-only
check "nbdinfo --list shows both exports" \
  sh -c "nbdinfo --list '$uri' | grep -q 'export=\"disk\"' && nbdinfo --list '$uri' | grep -q 'export=\"ro\"'"
check "nbdinfo --size is the file's size" test "$(nbdinfo --size "$uri" 2>&1)" = "$size"
check "nbdinfo: ro export is read-only, disk is not" \
  sh -c "nbdinfo --is readonly '$ro_uri' && ! nbdinfo --is readonly '$uri'"

# qemu-img
check "qemu-img info reports the virtual size" \
  sh -c "qemu-img info --output=json '$uri' | grep -q '\"virtual-size\": $size'"
check "qemu-img compare: export equals its file" qemu-img compare -f raw -F raw "$tmp/orig.img" "$uri"
check "qemu-img convert from the export is byte-identical" \
  sh -c "qemu-img convert -f raw -O raw '$uri' '$tmp/conv.img' && cmp '$tmp/conv.img' '$tmp/orig.img'"
head -c "$size" /dev/urandom >"$tmp/new.img"
check "qemu-img convert into the export, then compare" \
  sh -c "qemu-img convert -n -f raw -O raw '$tmp/new.img' '$uri' && cmp '$tmp/new.img' '$tmp/disk.img' &&
    qemu-img compare -f raw -F raw '$tmp/new.img' '$uri'"

# TCP on 127.0.0.1
check "nbdinfo --size over TCP" test "$(nbdinfo --size "$tcp_uri" 2>&1)" = "$size"
check "qemu-img compare over TCP" qemu-img compare -f raw -F raw "$tmp/new.img" "$tcp_uri"

# qemu-io: write a pattern, read it back through NBD and from the file
check "qemu-io write -P 0xab 0 1M, read -P 0xab back" \
  sh -c "qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'flush' '$uri' &&
    qemu-io -f raw -c 'read -P 0xab 0 1M' '$uri' | grep -q 'read 1048576/1048576'"
check "the backing file holds the 0xab pattern" \
  bash -c "head -c 1048576 '$tmp/disk.img' | cmp - <(head -c 1048576 /dev/zero | tr '\\0' '\\253')"
check "qemu-io write to the read-only export fails" \
  sh -c "! qemu-io -f raw -c 'write -P 0x11 0 4k' '$ro_uri' 2>&1 | grep -q '^wrote'"
check "read-only backing file unchanged" cmp "$tmp/ro.img" "$tmp/ro.orig"

# nbdsh: pread/pwrite/flush/trim/zero through libnbd's Python API
cat >"$tmp/t.py" <<'PY'
assert h.get_size() == 16 * 1024 * 1024
assert h.can_flush() and h.can_fua() and h.can_trim() and h.can_zero()
assert not h.is_read_only() and not h.can_multi_conn()
h.pwrite(b"strait" * 1000, 4096)
assert h.pread(6000, 4096) == b"strait" * 1000
h.pwrite(b"\x01" * 512, 2 << 20, nbd.CMD_FLAG_FUA)
h.flush()
h.zero(65536, 8192)
assert h.pread(65536, 8192) == bytes(65536)
h.zero(4096, 3 << 20, nbd.CMD_FLAG_NO_HOLE)  # count, offset
assert h.pread(4096, 3 << 20) == bytes(4096)
h.trim(65536, 1 << 20)
try:
    h.pread(4096, 16 * 1024 * 1024 - 100)
    raise SystemExit("read past the end succeeded")
except nbd.Error as e:
    assert e.errnum == errno.EINVAL, e
assert h.pread(512, 2 << 20) == b"\x01" * 512
PY
check "nbdsh: pwrite/pread/flush/zero/trim and EINVAL past the end" \
  nbdsh_ -u "$uri" -c 'import errno' -c "exec(open('$tmp/t.py').read())"

# nbdcopy both ways
check "nbdcopy from the export equals the file" \
  sh -c "nbdcopy '$uri' '$tmp/copy.img' && cmp '$tmp/copy.img' '$tmp/disk.img'"
head -c "$size" /dev/urandom >"$tmp/in.img"
check "nbdcopy into the export lands in the file" \
  sh -c "nbdcopy '$tmp/in.img' '$uri' && cmp '$tmp/in.img' '$tmp/disk.img'"

# fio's nbd engine: random 4k writes verified with crc32c
check "fio --ioengine=nbd randwrite 8M verify=crc32c" \
  fio --name=nbd --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --size=8M \
  --iodepth=8 --verify=crc32c --verify_fatal=1 --do_verify=1
check "fio --ioengine=nbd verify_only pass over what it wrote" \
  fio --name=nbd --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --size=8M \
  --iodepth=8 --verify=crc32c --verify_only=1 --verify_fatal=1

# structured replies and base:allocation on the sparse export
check "nbdinfo --map shows the sparse export's holes and data" \
  sh -c "nbdinfo --map '$sp_uri' | awk '{print \$1, \$2, \$3}' | cmp - '$tmp/sp.map'"
check "nbdinfo --map=base:allocation over TCP, the same map" \
  sh -c "nbdinfo --map=base:allocation 'nbd://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)/sp' |
    awk '{print \$1, \$2, \$3}' | cmp - '$tmp/sp.map'"
cat >"$tmp/sp.py" <<'PY'
M = 1 << 20
f = open(path, "rb").read()
assert h.get_structured_replies_negotiated() and h.can_df()
assert h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
got = []
def chunk(buf, off, status, err):
    got.append((off, len(buf), status))
    return 0
assert h.pread_structured(3 * M, 3 * M, chunk) == f[3 * M:6 * M]
assert got == [(3 * M, M, nbd.READ_HOLE), (4 * M, M, nbd.READ_DATA), (5 * M, M, nbd.READ_HOLE)], got
got.clear()
assert h.pread_structured(65536, 4 * M - 32768, chunk, nbd.CMD_FLAG_DF) == f[4 * M - 32768:4 * M + 32768]
assert got == [(4 * M - 32768, 65536, nbd.READ_DATA)], got
ext = []
def extent(meta, off, entries, err):
    ext.append((meta, off, list(entries)))
    return 0
h.block_status(16 * M, 0, extent)
assert ext == [("base:allocation", 0, [4 * M, 3, M, 0, 5 * M, 3, 65536, 0, 6225920, 3])], ext
ext.clear()
h.block_status(8 * M, 2 * M, extent, nbd.CMD_FLAG_REQ_ONE)
assert ext == [("base:allocation", 2 * M, [2 * M, 3])], ext
try:
    h.block_status(2, 16 * M - 1, extent)
    raise SystemExit("block status past the end succeeded")
except nbd.Error as e:
    assert e.errnum == errno.EINVAL, e
PY
check "nbdsh: hole and data chunks, DF, block status (REQ_ONE, EINVAL past the end)" \
  nbdsh_ --base-allocation -u "$sp_uri" -c 'import errno' -c "path = '$tmp/sp.img'" \
  -c "exec(open('$tmp/sp.py').read())"
check "nbdcopy of the sparse export equals the file" \
  sh -c "nbdcopy '$sp_uri' '$tmp/spcopy.img' && cmp '$tmp/spcopy.img' '$tmp/sp.img'"
check "qemu-img convert of the sparse export equals the file" \
  sh -c "qemu-img convert -f raw -O raw '$sp_uri' '$tmp/spq.img' && cmp '$tmp/spq.img' '$tmp/sp.img'"
check "qemu-img map sees the same holes and data" \
  sh -c "qemu-img map -f raw --output=json '$sp_uri' | python3 -c '
import json, sys
m = [(e[\"start\"], e[\"length\"], 3 if e[\"zero\"] and not e[\"data\"] else 0) for e in json.load(sys.stdin)]
print(\"\\n\".join(\"%d %d %d\" % x for x in m))' | cmp - '$tmp/sp.map'"

# the server survives all that and exits cleanly
kill -TERM "$srv"
wait "$srv"
rc=$?
srv=
if [ "$rc" = 0 ] && [ ! -e "$sock" ]; then ok "server exits 0 on SIGTERM, socket removed"
else notok "server exit status $rc"; sed 's/^/# /' "$tmp/srv.err"; fi
exit $((fails > 0))
