#!/usr/bin/env bash
# straitd (TAP): the API on a Unix socket, strait remote, reloads that keep
# the old estate on bad input, signals, and a clean stop.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
STRAITD=${STRAITD:-$(dirname "$STRAIT")/straitd}
cd "$SRCROOT"
tmp=$(mktemp -d)
sock=$tmp/strait.sock
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
http() { curl -s -o "$tmp/body" -w '%{http_code}' --unix-socket "$sock" "$@"; }
echo "1..16"
command -v curl >/dev/null || { notok "curl is not installed (scripts/deps.sh installs it)"; exit 1; }
cp examples/seed-two-circuits.yaml "$tmp/estate.yaml"
"$STRAITD" --estate "$tmp/estate.yaml" --socket "$sock" 2>"$tmp/log" &
pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
check "straitd listens on its socket" '[ -S "$sock" ]'
check "GET /v1/status" '[ "$(http http://x/v1/status)" = 200 ] && grep -q "\"estate\": \"contoso\"" "$tmp/body"'
check "GET /v1 lists the commands" '[ "$(http http://x/v1)" = 200 ] && grep -q "/v1/routes" "$tmp/body"'
check "GET /v1/check" '[ "$(http http://x/v1/check)" = 200 ] && grep -q "\"warnings\": 9" "$tmp/body"'
check "unknown path is 404" '[ "$(http http://x/v1/nope)" = 404 ]'
check "wrong method is 405" '[ "$(http -X POST http://x/v1/status)" = 405 ]'
check "missing argument is 400" '[ "$(http http://x/v1/routes)" = 400 ]'
check "strait remote routes" '"$STRAIT" remote --socket "$sock" routes subnet=spoke1/app >"$tmp/r" && grep -q "VirtualAppliance" "$tmp/r"'
check "strait remote trace" '"$STRAIT" remote --socket "$sock" trace from=hq to=app1 >"$tmp/t" && grep -q "\"result\": \"delivered\"" "$tmp/t"'
check "strait remote: error answer exits 1" '"$STRAIT" remote --socket "$sock" routes subnet=x/y 2>/dev/null; [ $? -eq 1 ]'
check "metrics" '[ "$(http http://x/metrics)" = 200 ] && grep -q "strait_estate_objects{kind=\"vnet\"} 7" "$tmp/body"'
echo "estate: [broken" >"$tmp/estate.yaml"
check "a bad estate on reload is 422, the old one stays" '[ "$(http -X POST http://x/v1/reload)" = 422 ] && [ "$(http http://x/v1/status)" = 200 ] && grep -q "\"estate\": \"contoso\"" "$tmp/body"'
sed 's/^estate: contoso/estate: contoso-two/' examples/seed-two-circuits.yaml >"$tmp/estate.yaml"
kill -HUP "$pid"; sleep 0.3
check "SIGHUP reloads" '[ "$(http http://x/v1/status)" = 200 ] && grep -q "contoso-two" "$tmp/body"'
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
check "SIGTERM stops cleanly" '[ $rc -eq 0 ] && [ ! -e "$sock" ]'
check "strait remote without a daemon exits 2" '"$STRAIT" remote --socket "$sock" status 2>/dev/null; [ $? -eq 2 ]'
touch "$tmp/file"
check "refuses a socket path that is a file" '! "$STRAITD" --estate "$tmp/estate.yaml" --socket "$tmp/file" 2>/dev/null && [ -f "$tmp/file" ]'
exit $((fails > 0))
