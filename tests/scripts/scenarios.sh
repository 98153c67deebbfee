#!/usr/bin/env bash
# Scenario tests (TAP), one per topology of the seeds: generate the plan for
# the example's topology, put it in place of the example's plans, fail over
# with the source region up (planned) and down (unplanned) and check:
#   - the estate after equals tests/golden/scenarios/NAME.after.yaml;
#   - the verdict (every site reaches every recovered VM, both ways);
#   - the RTO against the generator's estimate (test_rec_gen checks --preprovision).
# UPDATE=1 rewrites the golden estates.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# name | example | expected verdict up (planned) | expected verdict down (unplanned)
cases=(
  "two-locations|seed-two-circuits|0|0"
  "one-location|two-circuits-one-location|0|0"
  "single-same-ip|single-circuit-same-ip|0|1"
  "single-different-ip|single-circuit-different-ip|0|0"
)
echo "1..$((${#cases[@]} * 4))"
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -f "${2:-/dev/null}" ] && head -20 "$2" | sed 's/^/# /'; }
for c in "${cases[@]}"; do
  IFS='|' read -r name ex up down <<<"$c"
  src=examples/$ex.yaml
  "$STRAIT" plan "$src" --generate >"$tmp/$name.plan" 2>"$tmp/$name.err"
  # the example without its recovery_plans section, then the generated one
  awk '/^recovery_plans:/ { skip = 1; next } skip && /^[a-z_]+:/ { skip = 0 } !skip' "$src" \
    | grep -v '^#' >"$tmp/$name.yaml"
  grep -v '^#' "$tmp/$name.plan" >>"$tmp/$name.yaml"
  if "$STRAIT" check "$tmp/$name.yaml" >"$tmp/$name.check" 2>&1; then
    ok "$name: the generated plan checks without errors"
  else
    notok "$name: the generated plan does not check" "$tmp/$name.check"
  fi
  region=$(sed -n 's/^  source: //p' "$tmp/$name.yaml" | head -n 1)
  "$STRAIT" failover "$tmp/$name.yaml" --planned --no-state --out "$tmp/$name.after.yaml" \
    >"$tmp/$name.up" 2>&1
  rc=$?
  golden=tests/golden/scenarios/$name.after.yaml
  [ "${UPDATE:-0}" = 1 ] && cp "$tmp/$name.after.yaml" "$golden"
  if [ "$rc" = "$up" ] && cmp -s "$golden" "$tmp/$name.after.yaml"; then
    ok "$name: planned failover, verdict exit $rc, estate after as the golden"
  else
    notok "$name: planned failover exit $rc (want $up) or estate differs" "$tmp/$name.up"
    diff "$golden" "$tmp/$name.after.yaml" | head -10 | sed 's/^/# /'
  fi
  "$STRAIT" failover "$tmp/$name.yaml" --down "region:$region" --no-state \
    --out "$tmp/$name.down.yaml" >"$tmp/$name.down" 2>&1
  rc=$?
  if [ "$rc" = "$down" ]; then ok "$name: unplanned failover with $region down, verdict exit $rc"
  else notok "$name: unplanned failover with $region down: exit $rc, want $down" "$tmp/$name.down"; fi
  est=$(sed -n 's/^# Estimated RTO: \([0-9]*\) minutes.*/\1/p' "$tmp/$name.plan")
  rto=$(sed -n 's/^RTO \([0-9]*\):\([0-9]*\) .*/\1 \2/p' "$tmp/$name.up" | awk '{ print $1 * 60 + $2 }')
  # the run adds the shutdown (5m) and the pending data (5m) to the plan's steps
  if [ -n "$est" ] && [ -n "$rto" ] && [ "$rto" -eq $((est + 10)) ]; then
    ok "$name: RTO $rto min = the generator's $est min + shutdown + pending data"
  else
    notok "$name: RTO '$rto' against the estimate '$est'" "$tmp/$name.plan"
  fi
done
exit $((fails > 0))
