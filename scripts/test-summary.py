#!/usr/bin/python3
"""Count test cases in meson's testlog.json: every TAP line of a TAP test is
a case, any other test counts once. A skipped case counts as failed: a test
that cannot run must say so loudly. Prints the failures, then the closing
line "N passed, N failed" that CI reads. Exit 1 when anything failed."""
import json, re, sys

passed = failed = 0
failures = []
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        name, result, out = t["name"], t["result"], t.get("stdout") or ""
        if t.get("protocol") == "tap" or re.search(r"^1\.\.\d+", out, re.M):
            cases = re.findall(r"^(not ok|ok)\b(.*)$", out, re.M)
            for status, rest in cases:
                if "# SKIP" in rest:
                    failed += 1
                    failures.append(f"{name}: skipped:{rest}")
                elif status == "ok":
                    passed += 1
                else:
                    failed += 1
                    failures.append(f"{name}:{rest}")
            if result not in ("OK", "EXPECTEDFAIL", "SKIP") and not any(s == "not ok" for s, _ in cases):
                failed += 1
                failures.append(f"{name}: {result}")
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            failed += 1
            failures.append(f"{name}: skipped")
        else:
            failed += 1
            failures.append(f"{name}: {result}")
for x in failures:
    print("FAILED", x)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
