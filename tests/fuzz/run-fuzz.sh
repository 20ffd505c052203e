#!/bin/sh
# run-fuzz.sh BUILD_DIR SECONDS - runs every built libFuzzer target
# (BUILD_DIR/bin/fuzz_*) for SECONDS each, seeded from tests/fuzz/corpus/<name
# without fuzz_>/. The corpus is copied to a temporary directory so the run
# never adds files to the repository. Exits non-zero when any target crashes,
# leaks, times out or breaks an invariant; the failing inputs and the log are
# kept in BUILD_DIR/fuzz-artifacts/<target>/ (turn each into a named
# regression input).
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
    echo "run-fuzz: $name for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
    # -timeout: one input taking 10 s is a hang worth reporting.
    if "$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$work/$name/log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/$name/log" |
            sed "s/^/run-fuzz: $name: /" || true
        echo "run-fuzz: $name: ok"
    else
        status=1
        keep="$build_dir/fuzz-artifacts/$name"
        mkdir -p "$keep"
        cp -R "$artifacts/." "$keep/"
        cp "$work/$name/log" "$keep/log"
        tail -n 60 "$work/$name/log"
        echo "run-fuzz: $name: FAILED; inputs and log kept in $keep" >&2
    fi
done

if [ "$ran" -eq 0 ]; then
    echo "run-fuzz: no fuzz targets in $build_dir/bin (configure with -DSTRAIT_FUZZ=ON)" >&2
    exit 1
fi
exit $status
