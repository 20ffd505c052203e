#!/bin/sh
# run-fuzz.sh BUILD_DIR SECONDS - runs every built libFuzzer target
# (BUILD_DIR/bin/fuzz_*) for SECONDS each, seeded from tests/fuzz/corpus/<name
# without fuzz_>/. Each target first replays that corpus's regress-* inputs
# one by one (a known crash reported as such, by name). SECONDS 0: replay the
# whole corpus of every target once, no fuzzing. The corpus is copied to a
# temporary directory so the run never adds files to the repository. Exits
# non-zero when any target crashes, leaks, times out or breaks an invariant;
# the failing inputs and the log are kept in BUILD_DIR/fuzz-artifacts/<target>/
# (turn each into a named regression input, regress-<what>).
# -close_fd_mask=2: the decoders log every corrupt file they refuse; the
# targets keep their own copy of stderr for a broken invariant (support.c),
# and libFuzzer and the sanitizers report on theirs.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build_dir=$1
seconds=$2
case $seconds in
    '' | *[!0-9]*) echo "run-fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/../.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/strait-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

status=0
ran=0
for target in "$build_dir"/bin/fuzz_*; do
    [ -f "$target" ] && [ -x "$target" ] || continue
    name=$(basename "$target")
    short=${name#fuzz_}
    corpus="$work/$name/corpus"
    artifacts="$work/$name/artifacts"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$repo/tests/fuzz/corpus/$short" ]; then
        cp -R "$repo/tests/fuzz/corpus/$short/." "$corpus/"
    else
        echo "run-fuzz: $name: no seed corpus in tests/fuzz/corpus/$short (starting empty)"
    fi
    ran=$((ran + 1))
    log="$work/$name/log"
    set -- "$corpus"/regress-*
    if [ -e "$1" ] && ! "$target" -close_fd_mask=2 "$@" >"$log.regress" 2>&1; then
        status=1
        tail -n 60 "$log.regress"
        echo "run-fuzz: $name: a regression input fails again (log above)" >&2
        continue
    fi
    if [ "$seconds" -eq 0 ]; then
        echo "run-fuzz: $name: replaying $(ls "$corpus" | wc -l) inputs"
        set -- -runs=0
    else
        echo "run-fuzz: $name for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
        set -- -max_total_time="$seconds"
    fi
    # -timeout: one input taking 10 s is a hang worth reporting.
    if "$target" "$@" -timeout=10 -close_fd_mask=2 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" |
            sed "s/^/run-fuzz: $name: /" || true
        echo "run-fuzz: $name: ok"
    else
        status=1
        keep="$build_dir/fuzz-artifacts/$name"
        mkdir -p "$keep"
        cp -R "$artifacts/." "$keep/"
        cp "$log" "$keep/log"
        tail -n 60 "$log"
        echo "run-fuzz: $name: FAILED; inputs and log kept in $keep" >&2
    fi
done

if [ "$ran" -eq 0 ]; then
    echo "run-fuzz: no fuzz targets in $build_dir/bin (configure with -DSTRAIT_FUZZ=ON)" >&2
    exit 1
fi
exit $status
