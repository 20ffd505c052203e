#!/usr/bin/env bash
# bench-idempotence.sh - idempotent producer throughput next to the plain one.
#
# One broker (default config, data under STRAIT_BENCH_DIR), then strait-load
# produce with 1 KiB records, 1 partition, one producer, flat out, alternating
#   plain       --acks all
#   inflight5   --acks all -X max.in.flight.requests.per.connection=5
#   idempotent  --acks all -X enable.idempotence=true
# ROUNDS times each (alternating, each on a fresh topic, so that a busy
# machine slows all alike), and the median of each. acks=all for all: an
# idempotent producer always uses acks=all. inflight5 is a plain producer
# held to the 5 requests in flight that librdkafka allows an idempotent one,
# which separates the client's pipelining limit from the broker's checks.
#
# Usage: tests/bench/bench-idempotence.sh     (after `make build`)
# Environment: BENCH_PRODUCE_S (default 15), BENCH_ROUNDS (default 3),
#              STRAIT_BIN / STRAIT_LOAD (default build/bin/...),
#              STRAIT_BENCH_DIR (default build/), BENCH_PORT (default: free port)
# Raw outputs in build/bench-logs/idempotence-*.log. Figures, never pass/fail.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${STRAIT_BIN:-$ROOT/build/bin/strait}
LOAD=${STRAIT_LOAD:-$ROOT/build/bin/strait-load}
PY=/usr/bin/python3
LOGS=$ROOT/build/bench-logs
PRODUCE_S=${BENCH_PRODUCE_S:-15}
ROUNDS=${BENCH_ROUNDS:-3}

for tool in "$BIN" "$LOAD"; do
    [ -x "$tool" ] || { echo "bench-idempotence: $tool missing: run 'make build' first" >&2; exit 2; }
done
mkdir -p "$LOGS" "${STRAIT_BENCH_DIR:-$ROOT/build}"
WORK=$(mktemp -d "${STRAIT_BENCH_DIR:-$ROOT/build}/bench-idem.XXXXXX")
BROKER_PID=""
cleanup() {
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
exec </dev/null

result_field() {  # result_field FILE KEY : value of KEY= on the RESULT line
    sed -n 's/^RESULT .*[[:space:]]'"$2"'=\([^[:space:]]*\).*/\1/p' "$1" | tail -n 1
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
LOAD_AVG=$(cut -d' ' -f1 /proc/loadavg)
echo "== machine: $(nproc) x $CPU, load average before: $LOAD_AVG"

BPORT=${BENCH_PORT:-$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
"$BIN" broker --override "listeners=PLAINTEXT://127.0.0.1:$BPORT" \
    --override "log.dirs=$WORK/data" >"$LOGS/idempotence-broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 100); do
    if "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$BPORT" 2>/dev/null; then
        break
    fi
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "broker exited; see $LOGS/idempotence-broker.log" >&2; exit 1; }
    sleep 0.1
done

declare -A RPS MBS P99
for round in $(seq 1 "$ROUNDS"); do
    for kind in plain inflight5 idempotent; do
        extra=()
        [ "$kind" = inflight5 ] && extra=(-X max.in.flight.requests.per.connection=5)
        [ "$kind" = idempotent ] && extra=(-X enable.idempotence=true)
        cmd=("$LOAD" produce --brokers "127.0.0.1:$BPORT" --topic "bench-$kind-$round"
             --record-bytes 1024 --partitions 1 --acks all --codec none
             --duration-s "$PRODUCE_S" "${extra[@]}")
        echo "== round $round $kind: ${cmd[*]}"
        log="$LOGS/idempotence-$kind-$round.log"
        "${cmd[@]}" >"$log" 2>&1
        grep '^RESULT' "$log"
        RPS[$kind]+="$(result_field "$log" records_per_s) "
        MBS[$kind]+="$(result_field "$log" mb_per_s) "
        P99[$kind]+="$(result_field "$log" p99_ms) "
    done
done
grep -q "duplicate\|OUT_OF_ORDER" "$LOGS/idempotence-broker.log" && echo "note: the broker logged idempotence refusals"

echo
echo "== medians of $ROUNDS rounds of $PRODUCE_S s (1 KiB, 1 partition, acks=all, one producer)"
printf '| %-12s | %-14s | %-8s | %-12s |\n' producer records/s MB/s "p99 ms"
printf '| %-12s | %-14s | %-8s | %-12s |\n' --- --- --- ---
for kind in plain inflight5 idempotent; do
    printf '| %-12s | %-14s | %-8s | %-12s |\n' "$kind" \
        "$(echo "${RPS[$kind]}" | tr ' ' '\n' | grep . | median)" \
        "$(echo "${MBS[$kind]}" | tr ' ' '\n' | grep . | median)" \
        "$(echo "${P99[$kind]}" | tr ' ' '\n' | grep . | median)"
done
echo "per round (records/s): plain ${RPS[plain]}/ inflight5 ${RPS[inflight5]}/ idempotent ${RPS[idempotent]}"
