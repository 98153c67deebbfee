#!/usr/bin/env bash
# A failover killed after each of its steps resumes from the state database
# without repeating finished steps, and ends with the estate an uninterrupted
# run writes (TAP). The seed's plan ends with a manual step: the job pauses
# there until --confirm. Also: resuming against a changed estate is refused,
# and --restart starts over.
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

# finish DB OUT: run until the job completes, confirming the manual step
finish() {
  "$STRAIT" "${args[@]}" --state "$1" --out "$2" >"$2.out" 2>&1
  if grep -q 'paused at step' "$2.out"; then
    "$STRAIT" "${args[@]}" --state "$1" --out "$2" --confirm >"$2.out2" 2>&1
    return $?
  fi
  return 1 # the seed's manual step must pause the job
}
finish "$tmp/full.db" "$tmp/full.yaml"
steps=$(grep -cE '^[0-9]+:[0-9]{2} +[0-9]+:[0-9]{2} ' "$tmp/full.yaml.out2")
echo "1..$((steps + 3))"
for ((k = 1; k < steps; k++)); do
  db="$tmp/k$k.db"
  { (STRAIT_TEST_KILL_AFTER_STEP=$k exec "$STRAIT" "${args[@]}" --state "$db" \
      --out "$tmp/k$k.yaml" >/dev/null 2>&1); } 2>/dev/null
  killed=$?
  "$STRAIT" "${args[@]}" --state "$db" --out "$tmp/k$k.yaml" >"$tmp/k$k.out" 2>&1
  rc=$?
  again=$(grep -c '(before restart)' "$tmp/k$k.out")
  if grep -q 'paused at step' "$tmp/k$k.out"; then
    "$STRAIT" "${args[@]}" --state "$db" --out "$tmp/k$k.yaml" --confirm >/dev/null 2>&1
    rc=$?
  fi
  if [ $killed -eq 137 ] && [ $rc -eq 0 ] && cmp -s "$tmp/full.yaml" "$tmp/k$k.yaml" &&
     [ "$again" -eq "$k" ]; then
    ok "killed after step $k of $steps: resumed, $k steps not repeated, same estate"
  else
    notok "killed after step $k: exit $killed, resume exit $rc, $again resumed steps"
    diff "$tmp/full.yaml" "$tmp/k$k.yaml" | head -10 | sed 's/^/# /'
  fi
done
# the last step is the manual one: pause, confirm and die right after it, resume
db="$tmp/last.db"
"$STRAIT" "${args[@]}" --state "$db" --out "$tmp/last.yaml" >/dev/null 2>&1
p=$?
{ (STRAIT_TEST_KILL_AFTER_STEP=$steps exec "$STRAIT" "${args[@]}" --state "$db" \
    --out "$tmp/last.yaml" --confirm >/dev/null 2>&1); } 2>/dev/null
killed=$?
"$STRAIT" "${args[@]}" --state "$db" --out "$tmp/last.yaml" >"$tmp/last.out" 2>&1
rc=$?
again=$(grep -c '(before restart)' "$tmp/last.out")
if [ $p -eq 1 ] && [ $killed -eq 137 ] && [ $rc -eq 0 ] && [ "$again" -eq "$steps" ] &&
   cmp -s "$tmp/full.yaml" "$tmp/last.yaml"; then
  ok "paused at the manual step $steps, confirmed, killed after it: resumed, same estate"
else
  notok "manual step $steps: pause $p, killed $killed, resume $rc, $again resumed"
fi
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
if [ $rc -eq 1 ] && grep -q 'paused at step 16' "$tmp/r.out" && ! grep -q 'before restart' "$tmp/r.out"; then ok "--restart starts over"
else notok "--restart: exit $rc"; fi
"$STRAIT" "${args[@]}" --no-state --out "$tmp/ns.yaml" >/dev/null 2>&1
if cmp -s "$tmp/full.yaml" "$tmp/ns.yaml"; then ok "--no-state gives the same estate"
else notok "--no-state differs"; fi
exit $((fails > 0))
