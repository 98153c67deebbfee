#!/usr/bin/env bash
# A failover killed after each of its steps resumes from the state database
# without repeating finished steps, and ends with the estate an uninterrupted
# run writes (TAP). Also: resuming against a changed estate is refused, and
# --restart starts over.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seed=examples/seed-two-circuits.yaml
args=(failover "$seed" --down region:eastasia)
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

"$STRAIT" "${args[@]}" --state "$tmp/full.db" --out "$tmp/full.yaml" >"$tmp/full.out" 2>&1
steps=$(grep -cE '^[0-9]+:[0-9]{2} +[0-9]+:[0-9]{2} ' "$tmp/full.out")
echo "1..$((steps + 3))"
for ((k = 1; k <= steps; k++)); do
  db="$tmp/k$k.db"
  { (STRAIT_TEST_KILL_AFTER_STEP=$k exec "$STRAIT" "${args[@]}" --state "$db" \
      --out "$tmp/k$k.yaml" >/dev/null 2>&1); } 2>/dev/null
  killed=$?
  "$STRAIT" "${args[@]}" --state "$db" --out "$tmp/k$k.yaml" >"$tmp/k$k.out" 2>&1
  rc=$?
  again=$(grep -c '(before restart)' "$tmp/k$k.out")
  if [ $killed -eq 137 ] && [ $rc -eq 0 ] && cmp -s "$tmp/full.yaml" "$tmp/k$k.yaml" &&
     [ "$again" -eq "$k" ]; then
    ok "killed after step $k of $steps: resumed, $k steps not repeated, same estate"
  else
    notok "killed after step $k: exit $killed, resume exit $rc, $again resumed steps"
    diff "$tmp/full.yaml" "$tmp/k$k.yaml" | head -10 | sed 's/^/# /'
  fi
done
# a changed estate: the open job is refused, --restart starts over
{ (STRAIT_TEST_KILL_AFTER_STEP=2 exec "$STRAIT" "${args[@]}" --state "$tmp/c.db" \
    --out "$tmp/c.yaml" >/dev/null 2>&1); } 2>/dev/null
sed 's/bandwidth: 500Mbps/bandwidth: 1Gbps/' "$seed" >"$tmp/changed.yaml"
"$STRAIT" failover "$tmp/changed.yaml" --down region:eastasia --state "$tmp/c.db" \
  --out "$tmp/c.yaml" >/dev/null 2>"$tmp/c.err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'another version' "$tmp/c.err"; then ok "a changed estate is refused"
else notok "a changed estate: exit $rc"; sed 's/^/# /' "$tmp/c.err"; fi
"$STRAIT" failover "$tmp/changed.yaml" --down region:eastasia --state "$tmp/c.db" \
  --out "$tmp/c.yaml" --restart >"$tmp/r.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q 'before restart' "$tmp/r.out"; then ok "--restart starts over"
else notok "--restart: exit $rc"; fi
"$STRAIT" "${args[@]}" --no-state --out "$tmp/ns.yaml" >/dev/null 2>&1
if cmp -s "$tmp/full.yaml" "$tmp/ns.yaml"; then ok "--no-state gives the same estate"
else notok "--no-state differs"; fi
exit $((fails > 0))
