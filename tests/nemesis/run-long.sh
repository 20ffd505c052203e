#!/usr/bin/env bash
# run-long.sh - the long nemesis (`make test-long`): every topology variant
# over many seeds with the full fault mix, a few minutes a run. One verdict
# line a run (also in build/nemesis/verdicts.txt), the histories in
# build/nemesis/, a summary at the end; exit 1 if any run failed.
#
# Environment: NEMESIS_TOPOLOGIES (default: 2r-manual 2r-auto 3r-manual
# 3r-auto 3r-auto-witness), NEMESIS_SEEDS (default 1..10), NEMESIS_OPS
# (steps a run, default 20), NEMESIS_MIX (default full; see schedule.py),
# NEMESIS_OUT (default build/nemesis).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
PY=/usr/bin/python3
TOPOLOGIES=${NEMESIS_TOPOLOGIES:-"2r-manual 2r-auto 3r-manual 3r-auto 3r-auto-witness"}
SEEDS=${NEMESIS_SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
OPS=${NEMESIS_OPS:-20}
MIX=${NEMESIS_MIX:-full}
OUT=${NEMESIS_OUT:-$ROOT/build/nemesis}
mkdir -p "$OUT"
: >"$OUT/verdicts.txt"
exec </dev/null
failed=0
runs=0
for topology in $TOPOLOGIES; do
    for seed in $SEEDS; do
        log="$OUT/$topology-$seed.log"
        runs=$((runs + 1))
        # its own process group under timeout: everything it started dies with it
        timeout --kill-after=10 900 "$PY" -u tests/nemesis/nemesis.py --topology "$topology" \
            --seed "$seed" --ops "$OPS" --mix "$MIX" \
            --history "$OUT/$topology-$seed.jsonl" >"$log" 2>&1
        rc=$?
        line=$(grep -a '^nemesis seed=' "$log" | tail -n 1)
        [ -n "$line" ] || line="nemesis seed=$seed topology=$topology NO VERDICT (exit $rc, see $log)"
        echo "$line" | tee -a "$OUT/verdicts.txt"
        grep -a '^  violation: ' "$log" | head -n 5
        if [ "$rc" -ne 0 ]; then failed=$((failed + 1)); fi
    done
done
echo "== $runs nemesis runs, $failed failed (histories and logs: $OUT/; replay: tests/nemesis/replay FILE)"
[ "$failed" -eq 0 ]
