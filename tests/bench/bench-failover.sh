#!/usr/bin/env bash
# bench-failover.sh - RTO and RPO of the failover drills (issue 6 item 8),
# five runs each (BENCH_ROUNDS), medians and maxima: drill (a) switchover
# under load (tests/integration/test_failover_switchover.py) and drill (b)
# kill -9 of the active region + strait failover
# (tests/integration/test_failover_unplanned.py), and drill (d)'s automatic
# failover with detect_after 5s (tests/integration/test_failover_automatic.py,
# network namespaces). Each run prints "DRILL" lines; this script collects
# them into a table for docs/benchmarks.md.
#
# Usage: tests/bench/bench-failover.sh      (after make build)
# Environment: BENCH_ROUNDS (default 5), STRAIT_BIN (default build/bin/strait)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${BENCH_ROUNDS:-5}
OUT=$(mktemp -d /tmp/strait-bench-failover-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
for i in $(seq 1 "$ROUNDS"); do
    for t in test_failover_switchover test_failover_unplanned test_failover_automatic; do
        if ! STRAIT_DETECT_AFTER_S=5 /usr/bin/python3 "tests/integration/$t.py" >"$OUT/$t.$i.log" 2>&1; then
            echo "bench-failover: $t run $i failed; log:" >&2
            tail -40 "$OUT/$t.$i.log" >&2
            exit 1
        fi
        grep -h "DRILL" "$OUT/$t.$i.log" | sed "s/^/run $i: /"
    done
done | tee "$OUT/drill-lines"
/usr/bin/python3 - "$OUT/drill-lines" <<'PY'
import re, statistics, sys
lines = open(sys.argv[1]).read().splitlines()
series = {}
def add(name, value):
    series.setdefault(name, []).append(float(value))
for l in lines:
    m = re.search(r"switchover to \w+: command ([\d.]+) s, longest produce pause ([\d.]+) s, "
                  r"first record consumed ([\d.]+) s", l)
    if m:
        add("switchover: command duration (s)", m.group(1))
        add("switchover: longest produce pause (s)", m.group(2))
        add("switchover: first record consumed after the command (s)", m.group(3))
    m = re.search(r"switchover totals: RPO (\d+) acked records missing, (\d+) duplicates", l)
    if m:
        add("switchover: RPO (acked records missing)", m.group(1))
        add("switchover: duplicates after commit", m.group(2))
    m = re.search(r"unplanned failover: RPO (\d+) acked records missing \(reported lag (\d+)\), "
                  r"RTO produce ([\d.]+) s, RTO consume ([\d.]+) s, duplicates after commit (\d+)", l)
    if m:
        add("failover: RPO (acked records missing)", m.group(1))
        add("failover: reported expected loss (records)", m.group(2))
        add("failover: RTO kill -> first acked produce (s)", m.group(3))
        add("failover: RTO kill -> first consumed record (s)", m.group(4))
        add("failover: duplicates after commit (records)", m.group(5))
    m = re.search(r"automatic failover \(detect_after (\d+)s\): RTO kill -> west active ([\d.]+) s, "
                  r"kill -> first acked produce ([\d.]+) s", l)
    if m:
        add("automatic (detect_after %ss): kill -> standby promoted (s)" % m.group(1), m.group(2))
        add("automatic (detect_after %ss): kill -> first acked produce (s)" % m.group(1), m.group(3))
print("\n| figure | runs | median | max |\n| --- | --- | --- | --- |")
for name, values in series.items():
    print("| %s | %d | %g | %g |" % (name, len(values), statistics.median(values), max(values)))
PY
