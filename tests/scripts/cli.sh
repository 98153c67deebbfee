#!/usr/bin/env bash
# The strait command line (TAP): exit statuses 0/1/2, output formats, fmt modes.
set -u
: "${STRAIT:?path to the strait binary}" "${SRCROOT:?source root}"
cd "$SRCROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export STRAIT_STATE="$tmp/state.db" # recovery jobs: this test's own state
n=0 fails=0
PY=/usr/bin/python3

# t NAME EXPECTED_STATUS CMD... : runs CMD, output in $tmp/out and $tmp/err
t() {
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  n=$((n + 1))
  if [ "$rc" = "$want" ]; then
    echo "ok $n - $name"
  else
    fails=$((fails + 1))
    echo "not ok $n - $name (exit $rc, expected $want)"
    sed 's/^/# /' "$tmp/err" | head -20
  fi
}
# has NAME FILE PATTERN
has() {
  n=$((n + 1))
  if grep -qE -- "$3" "$2"; then echo "ok $n - $1"; else
    fails=$((fails + 1)); echo "not ok $n - $1: no /$3/ in:"; sed 's/^/# /' "$2" | head -20; fi
}

cat >"$tmp/bad.yaml" <<'Y'
estate: overlap
regions: [{name: r, geo: g}]
locations: [{name: l, geo: g, local_regions: [r]}]
sites: [{name: hq, asn: 65010}]
circuits: [{name: c, site: hq, location: l, bandwidth: 1Gbps,
            private_peering: {peer_asn: 65010, subnet: 192.168.0.0/29, vlan: 1}}]
vnets:
  - {name: a, region: r, address_space: [10.0.0.0/16], subnets: [{name: GatewaySubnet, prefix: 10.0.255.0/27}],
     gateways: [{name: ga, sku: ErGw1AZ}]}
  - {name: b, region: r, address_space: [10.0.128.0/17], subnets: [{name: GatewaySubnet, prefix: 10.0.255.224/27}],
     gateways: [{name: gb, sku: ErGw1AZ}]}
connections: [{gateway: ga, circuit: c}, {gateway: gb, circuit: c}]
Y
seed=examples/seed-two-circuits.yaml

echo "1..60"
t "no arguments is a usage error" 2 "$STRAIT"
t "help" 0 "$STRAIT" help
has "help lists check" "$tmp/out" "strait check ESTATE"
t "unknown command" 2 "$STRAIT" chek
has "did you mean check" "$tmp/err" "did you mean 'check'"
t "check without a file" 2 "$STRAIT" check
t "check of a missing file" 2 "$STRAIT" check "$tmp/nope.yaml"
has "missing file named" "$tmp/err" "nope.yaml: error: cannot read: No such file"
t "check of the seed estate is good" 0 "$STRAIT" check "$seed"
t "check finds overlapping vnets" 1 "$STRAIT" check "$tmp/bad.yaml"
has "ER001 with position" "$tmp/out" "bad.yaml:[0-9]+:[0-9]+: error ER001: vnet 'a' address space 10.0.0.0/16 overlaps vnet 'b'"
t "check -o json" 1 "$STRAIT" check -o json "$tmp/bad.yaml"
cp "$tmp/out" "$tmp/check.json"
t "json parses and counts errors" 0 $PY -c "import json,sys; d=json.load(open('$tmp/check.json')); sys.exit(0 if d['summary']['errors']>=1 and any(f['rule']=='ER001' for f in d['findings']) else 1)"
t "check -o sarif" 1 "$STRAIT" check -o sarif "$tmp/bad.yaml"
cp "$tmp/out" "$tmp/check.sarif"
t "sarif 2.1.0 with a located result" 0 $PY -c "import json,sys; d=json.load(open('$tmp/check.sarif')); r=d['runs'][0]; res=[x for x in r['results'] if x['ruleId']=='ER001']; sys.exit(0 if d['version']=='2.1.0' and res and res[0]['locations'][0]['physicalLocation']['region']['startLine']>0 else 1)"
t "unknown output format" 2 "$STRAIT" check -o xml "$seed"
t "--rule restricts to one rule" 1 "$STRAIT" check --rule ER001 "$tmp/bad.yaml"
t "unknown rule" 2 "$STRAIT" check --rule XX999 "$seed"
"$STRAIT" fmt "$seed" >"$tmp/canon.yaml"
t "fmt --check on canonical form" 0 "$STRAIT" fmt --check "$tmp/canon.yaml"
t "fmt --check on a non-canonical file" 1 "$STRAIT" fmt --check "$seed"
cp "$seed" "$tmp/w.yaml"
t "fmt -w rewrites in place" 0 "$STRAIT" fmt -w "$tmp/w.yaml"
t "fmt -w result is canonical" 0 cmp "$tmp/w.yaml" "$tmp/canon.yaml"
t "fmt -o json is JSON" 0 sh -c "'$STRAIT' fmt -o json '$seed' | $PY -c 'import json,sys; json.load(sys.stdin)'"
t "schema is JSON" 0 sh -c "'$STRAIT' schema | $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if \"vnet\" in d[\"\$defs\"] else 1)'"
t "summary" 0 "$STRAIT" summary "$seed"
has "summary names the circuits" "$tmp/out" "circuit er-hk: hq at hong-kong"
t "rules" 0 "$STRAIT" rules
t "routes of a subnet" 0 "$STRAIT" routes "$seed" --subnet spoke1/app
has "UDR beats the gateway route" "$tmp/out" "Virtual network gateway +Invalid +172.16.0.0/16"
t "routes of a site" 0 "$STRAIT" routes "$seed" --site hq
has "edge router table" "$tmp/out" "10.1.0.0/24 +er-hk +primary +200 +12076 65515 +best"
t "routes of an unknown subnet" 2 "$STRAIT" routes "$seed" --subnet spoke1/nope
t "routes -o json" 0 "$STRAIT" routes -o json "$seed" --gateway gw-ea
t "trace both ways" 0 "$STRAIT" trace "$seed" hq app1
has "trace crosses the NVA" "$tmp/out" "appliance +nva1"
t "trace under a location failure" 1 "$STRAIT" trace "$seed" hq app1 --fail location:hong-kong
t "trace of an unknown endpoint" 2 "$STRAIT" trace "$seed" hq nobody
t "reach: everything reachable" 0 "$STRAIT" reach "$seed"
t "whatif: a link keeps reachability" 0 "$STRAIT" whatif "$seed" --fail link:er-hk/primary
has "whatif reports lost redundancy" "$tmp/out" "lost redundancy +hq +app1"
t "whatif: a location loses the site" 1 "$STRAIT" whatif "$seed" --fail location:hong-kong
t "plan: readiness and RTO" 0 "$STRAIT" plan "$seed"
has "plan lists the gateway step" "$tmp/out" "create gateway gw-sea in hub-sea"
t "plan --generate" 0 "$STRAIT" plan "$seed" --generate
cp "$tmp/out" "$tmp/gen.yaml"
t "generated plan is YAML" 0 $PY -c "import yaml,sys; d=yaml.safe_load(open('$tmp/gen.yaml')); sys.exit(0 if d['recovery_plans'][0]['name']=='contoso-failover' else 1)"
t "plan --emit az" 0 "$STRAIT" plan "$seed" --emit az
cp "$tmp/out" "$tmp/runbook.sh"
has "runbook creates the gateway" "$tmp/runbook.sh" "az network vnet-gateway create"
t "az runbook parses" 0 bash -n "$tmp/runbook.sh"
t "failover pauses at the manual step" 1 "$STRAIT" failover "$seed" --down region:eastasia --out "$tmp/after.yaml"
has "pause names the step" "$tmp/out" "paused at step 16, a manual step"
t "failover --confirm finishes" 0 "$STRAIT" failover "$seed" --down region:eastasia --out "$tmp/after.yaml" --confirm
has "failover verdict" "$tmp/out" "verdict: good"
t "estate after failover checks" 0 "$STRAIT" check "$tmp/after.yaml"
t "planned failover stops with the source down" 1 "$STRAIT" failover "$seed" --planned --down region:eastasia --out "$tmp/x.yaml" --no-state
t "commit" 0 "$STRAIT" commit "$tmp/after.yaml" --out "$tmp/committed.yaml"
t "reprotect" 0 "$STRAIT" reprotect "$tmp/committed.yaml" --out "$tmp/reprotected.yaml"
t "failback" 0 "$STRAIT" failback "$tmp/reprotected.yaml" --planned --out "$tmp/back.yaml" --no-state
t "drill leaves production untouched" 0 "$STRAIT" drill "$seed" --out "$tmp/drill.yaml"
t "drill cleanup" 0 "$STRAIT" drill "$tmp/drill.yaml" --cleanup --out "$tmp/clean.yaml"
t "refuses to replace a device" 2 "$STRAIT" failover "$seed" --out /dev/null --no-state
exit $((fails > 0))
