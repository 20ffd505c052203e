#!/usr/bin/env bash
# run-tests.sh - everything `make test` runs once `make build asan` is done.
#
#   0. the source checks: no include cycle between modules (check-includes.py)
#   1. unit tests (cmocka, via ctest) of build/ and of build-asan/; ctest in
#      build-asan/ also replays every fuzz target's committed corpus
#      (fuzz_replay_*, tests/fuzz/CMakeLists.txt: a few seconds, no fuzzing)
#   2. every tests/integration/test_*.{sh,py} against build/bin/strait, then
#      the ones marked "# strait-test: asan" again against build-asan/bin/strait
#   3. every tests/fault/quick_*.{sh,py} against build/bin/strait, then the
#      nemesis checker's unit tests and the short seeded nemesis (tests/nemesis/)
#
# Each test runs in its own process group under `timeout`, with no standard
# input, its output captured to build/test-logs/NAME.log (shown on failure).
# A summary table (name, result, seconds) ends the run; the exit status is
# non-zero if anything failed.
#
# Usage: tests/run-tests.sh [SUBSTRING...]   run only tests whose name contains
#                                             one of the substrings
# Environment: STRAIT_TEST_TIMEOUT (s, default 300), STRAIT_SKIP_ASAN=1,
#              STRAIT_KEEP_TMP=1 (keep the brokers' temp dirs),
#              STRAIT_TEST_JOBS (integration tests run at once, default 3:
#              most of their time is spent waiting on leases, timeouts and
#              clients, not on the CPU; every test takes its own ports and
#              namespaces, so two never share one).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
PY=/usr/bin/python3
TIMEOUT_S=${STRAIT_TEST_TIMEOUT:-300}
LOG_DIR=$ROOT/build/test-logs
FILTERS=("$@")

RUN_START=$(date +%s)
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
exec </dev/null

names=()
results=()
seconds=()
failed=0

selected() {
    local name=$1 f
    [ "${#FILTERS[@]}" -eq 0 ] && return 0
    for f in "${FILTERS[@]}"; do
        [[ "$name" == *"$f"* ]] && return 0
    done
    return 1
}

# record NAME RC START END : the result of one test (and its log on failure).
record() {
    local name=$1 rc=$2 start=$3 end=$4 log="$LOG_DIR/$1.log"
    local secs
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    local result=PASS
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        result="TIMEOUT"
    elif [ "$rc" -ne 0 ]; then
        result="FAIL($rc)"
    fi
    names+=("$name"); results+=("$result"); seconds+=("$secs")
    printf '%-44s %s\n' "$name" "$result ${secs}s"
    if [ "$result" != PASS ]; then
        failed=$((failed + 1))
        echo "------------------------------------------------ $name: last 150 lines of $log"
        tail -n 150 "$log" | sed 's/^/  | /'
        echo "------------------------------------------------ end of $name"
    fi
}

# timed NAME COMMAND... : runs one test in its own process group under a
# timeout with its output in its log; writes "RC START END" to NAME.status.
timed() {
    local name=$1; shift
    local start end rc pid
    start=$(date +%s.%N)
    # timeout makes itself a process group leader; everything the test starts
    # (brokers, clients) is in that group and is killed with it afterwards.
    timeout --kill-after=10 "$TIMEOUT_S" "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null &
    pid=$!
    wait "$pid"
    rc=$?
    kill -KILL -- "-$pid" 2>/dev/null || true
    end=$(date +%s.%N)
    echo "$rc $start $end" >"$LOG_DIR/$name.status"
}

# run NAME COMMAND... : one test, now.
run() {
    local name=$1
    selected "$name" || return 0
    timed "$@"
    read -r rc start end <"$LOG_DIR/$name.status"
    record "$name" "$rc" "$start" "$end"
}

# pool_run NAME COMMAND... : one test in the background, at most JOBS at
# once; pool_wait reports them in the order they were started.
JOBS=${STRAIT_TEST_JOBS:-3}
pool_names=()
pool_pids=()
pool_run() {
    local name=$1
    selected "$name" || return 0
    # `jobs` in a command substitution runs in a subshell, which has no jobs:
    # count this shell's running jobs through a file
    while :; do
        jobs -rp >"$LOG_DIR/.running"
        [ "$(wc -l <"$LOG_DIR/.running")" -lt "$JOBS" ] && break
        wait -n 2>/dev/null || true
    done
    timed "$@" &
    pool_names+=("$name"); pool_pids+=("$!")
}
pool_wait() {
    local i name
    for i in "${!pool_names[@]}"; do
        name=${pool_names[$i]}
        wait "${pool_pids[$i]}" 2>/dev/null || true
        read -r rc start end <"$LOG_DIR/$name.status"
        record "$name" "$rc" "$start" "$end"
    done
    pool_names=(); pool_pids=()
}

# runner FILE: the interpreter for a test file.
runner() {
    case "$1" in
        *.py) echo "$PY -u" ;;
        *.sh) echo "bash" ;;
    esac
}

has_unit_tests() {
    [ -f "$1/CTestTestfile.cmake" ] && grep -q add_test "$1/CTestTestfile.cmake"
}

echo "== source checks"
run "check_includes" "$PY" "$ROOT/tests/check-includes.py" "$ROOT"

echo "== unit tests"
for build in build build-asan; do
    if [ "$build" = build-asan ] && [ -n "${STRAIT_SKIP_ASAN:-}" ]; then continue; fi
    if has_unit_tests "$ROOT/$build"; then
        run "unit[$build]" ctest --test-dir "$ROOT/$build" --output-on-failure \
            --timeout 120 -j 2
    else
        echo "unit[$build]: no unit tests registered in $build/ (cmocka missing?)"
        selected "unit[$build]" && { names+=("unit[$build]"); results+=("FAIL(none)");
                                     seconds+=("0"); failed=$((failed + 1)); }
    fi
done

echo "== integration tests (build/bin/strait)"
shopt -s nullglob
integration=(tests/integration/test_*.py tests/integration/test_*.sh)
for f in "${integration[@]}"; do
    name=$(basename "${f%.*}")
    # shellcheck disable=SC2046
    STRAIT_BIN=$ROOT/build/bin/strait pool_run "$name" $(runner "$f") "$f"
done
pool_wait

if [ -z "${STRAIT_SKIP_ASAN:-}" ]; then
    echo "== integration tests marked for ASan (build-asan/bin/strait)"
    for f in "${integration[@]}"; do
        grep -q '^# strait-test: asan' "$f" || continue
        name=$(basename "${f%.*}")
        # shellcheck disable=SC2046
        STRAIT_BIN=$ROOT/build-asan/bin/strait pool_run "${name}[asan]" $(runner "$f") "$f"
    done
    pool_wait
fi

echo "== quick fault tests (build/bin/strait)"
for f in tests/fault/quick_*.py tests/fault/quick_*.sh tests/nemesis/test_checker.py tests/nemesis/quick_*.py; do
    name=$(basename "${f%.*}")
    # shellcheck disable=SC2046
    STRAIT_BIN=$ROOT/build/bin/strait run "$name" $(runner "$f") "$f"
done

echo
echo "== summary"
printf '%-44s %-12s %8s\n' TEST RESULT SECONDS
total=0
for i in "${!names[@]}"; do
    printf '%-44s %-12s %8s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
    total=$(awk -v a="$total" -v b="${seconds[$i]}" 'BEGIN { printf "%.1f", a + b }')
done
printf '%-44s %-12s %8s\n' "${#names[@]} tests, $failed failed" "" "$total"
echo "wall clock: $(( $(date +%s) - RUN_START )) s (integration tests $JOBS at a time)"
echo "logs: $LOG_DIR/"
[ "$failed" -eq 0 ]
