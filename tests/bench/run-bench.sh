#!/usr/bin/env bash
# run-bench.sh - the machine's own limits and the broker, measured in one run.
#
#   1. loopback TCP bandwidth: iperf3 server + client on 127.0.0.1, 10 s
#   2. sequential write bandwidth of the data disk with fio:
#        buffered, 1 MiB writes, 2 GiB, one fsync at the end (--end_fsync=1)
#        synchronous, 4 KiB writes, fsync after every write (--fsync=1), 15 s
#   3. strait: one broker (default config) with its data on the same disk;
#      strait-load produce (1 KiB records, 1 partition, acks=1, one producer,
#      30 s) then strait-load consume of the same data, then 15 s of
#      produce at half the flat-out rate for latency (flat out, latency is
#      queueing in the client)
#   4. a table with the figures and the ratios produce / fio buffered and
#      consume / produce (targets in issue 2: >= 0.6 and >= 2)
#
# Usage: tests/bench/run-bench.sh            (after `make build`)
# Environment: STRAIT_BENCH_DIR   where temp data goes (default build/, i.e. the repo's disk)
#              BENCH_PRODUCE_S    producer duration (default 30)
#              BENCH_FIO_SIZE     buffered fio size (default 2G)
# Raw outputs are kept in build/bench-logs/. Figures, never pass/fail.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=$ROOT/build/bin/strait
LOAD=$ROOT/build/bin/strait-load
PY=/usr/bin/python3
LOGS=$ROOT/build/bench-logs
PRODUCE_S=${BENCH_PRODUCE_S:-30}
FIO_SIZE=${BENCH_FIO_SIZE:-2G}

for tool in "$BIN" "$LOAD"; do
    [ -x "$tool" ] || { echo "run-bench: $tool missing: run 'make build' first" >&2; exit 2; }
done
for tool in iperf3 fio; do
    command -v "$tool" >/dev/null || { echo "run-bench: $tool missing: run deploy/install-deps.sh" >&2; exit 2; }
done

mkdir -p "$LOGS" "${STRAIT_BENCH_DIR:-$ROOT/build}"
WORK=$(mktemp -d "${STRAIT_BENCH_DIR:-$ROOT/build}/bench.XXXXXX")
IPERF_PID=""
BROKER_PID=""
cleanup() {
    if [ -n "$IPERF_PID" ]; then kill "$IPERF_PID" 2>/dev/null || true; fi
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
exec </dev/null

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

json() {  # json FILE EXPR : evaluates EXPR on the parsed JSON as `d`
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

result_field() {  # result_field FILE KEY : value of KEY= on the RESULT line
    sed -n 's/^RESULT .*[[:space:]]'"$2"'=\([^[:space:]]*\).*/\1/p' "$1" | tail -n 1
}

echo "== machine"
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
FS=$(df -T "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')
echo "cpu: $(nproc) x $CPU"
echo "kernel: $(uname -r)   data dir: $WORK ($FS)"
echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
LOAD_AVG=$(cut -d' ' -f1 /proc/loadavg)
echo "load average (1 min) before the run: $LOAD_AVG"
if awk -v l="$LOAD_AVG" 'BEGIN { exit !(l > 0.5) }'; then
    echo "WARNING: the machine is busy (load $LOAD_AVG): figures will be low and noisy" >&2
fi

echo "== iperf3 loopback, 10 s"
IPORT=$(free_port)
iperf3 -s -B 127.0.0.1 -p "$IPORT" -1 >"$LOGS/iperf3-server.log" 2>&1 &
IPERF_PID=$!
sleep 0.5
iperf3 -c 127.0.0.1 -p "$IPORT" -t 10 -J >"$LOGS/iperf3.json"
wait "$IPERF_PID" 2>/dev/null || true
IPERF_PID=""
LOOPBACK_GBPS=$(json "$LOGS/iperf3.json" '"%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9)')
echo "loopback: $LOOPBACK_GBPS Gbit/s"

echo "== fio sequential buffered write: bs=1M size=$FIO_SIZE end_fsync=1"
fio --name=seq-buffered --directory="$WORK" --rw=write --bs=1M --size="$FIO_SIZE" \
    --end_fsync=1 --ioengine=psync --output-format=json >"$LOGS/fio-buffered.json"
FIO_BUF_MBS=$(json "$LOGS/fio-buffered.json" '"%.1f" % (d["jobs"][0]["write"]["bw_bytes"] / 1e6)')
rm -f "$WORK"/seq-buffered*
echo "fio buffered: $FIO_BUF_MBS MB/s"

echo "== fio sequential write with fsync after every write: bs=4k, 15 s"
fio --name=seq-fsync --directory="$WORK" --rw=write --bs=4k --size=256M --fsync=1 \
    --runtime=15 --ioengine=psync --output-format=json >"$LOGS/fio-fsync.json"
FIO_SYNC_MBS=$(json "$LOGS/fio-fsync.json" '"%.2f" % (d["jobs"][0]["write"]["bw_bytes"] / 1e6)')
FIO_SYNC_IOPS=$(json "$LOGS/fio-fsync.json" '"%.0f" % d["jobs"][0]["write"]["iops"]')
FIO_SYNC_P99=$(json "$LOGS/fio-fsync.json" \
    '"%.2f" % (d["jobs"][0]["sync"]["lat_ns"]["percentile"]["99.000000"] / 1e6) if d["jobs"][0]["sync"]["lat_ns"].get("percentile") else "n/a"')
rm -f "$WORK"/seq-fsync*
echo "fio fsync: $FIO_SYNC_MBS MB/s, $FIO_SYNC_IOPS writes+fsyncs/s, fsync p99 $FIO_SYNC_P99 ms"

echo "== strait broker"
BPORT=$(free_port)
"$BIN" broker --override "listeners=PLAINTEXT://127.0.0.1:$BPORT" \
    --override "log.dirs=$WORK/data" >"$LOGS/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 100); do
    if "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$BPORT" 2>/dev/null; then
        break
    fi
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "broker exited; see $LOGS/broker.log" >&2; exit 1; }
    sleep 0.1
done
echo "broker pid $BROKER_PID on 127.0.0.1:$BPORT"

# Each phase starts with no dirty pages left by the one before (writeback of
# fio's or the previous phase's data would otherwise throttle this one).
sync
echo "== produce: 1 KiB records, 1 partition, acks=1, one producer, $PRODUCE_S s"
PRODUCE_CMD=("$LOAD" produce --brokers "127.0.0.1:$BPORT" --topic bench --record-bytes 1024
             --partitions 1 --acks 1 --codec none --duration-s "$PRODUCE_S")
echo "${PRODUCE_CMD[*]}"
"${PRODUCE_CMD[@]}" | tee "$LOGS/produce.log"

echo "== consume the same data"
CONSUME_CMD=("$LOAD" consume --brokers "127.0.0.1:$BPORT" --topic bench --duration-s 300)
echo "${CONSUME_CMD[*]}"
"${CONSUME_CMD[@]}" | tee "$LOGS/consume.log"

LATENCY_RATE=$(result_field "$LOGS/produce.log" records_per_s | awk '{ printf "%d", $1 / 2 }')
sync
echo "== produce latency at half the flat-out rate: $LATENCY_RATE records/s, 15 s"
LATENCY_CMD=("$LOAD" produce --brokers "127.0.0.1:$BPORT" --topic bench-latency --record-bytes 1024
             --partitions 1 --acks 1 --codec none --duration-s 15 --rate "$LATENCY_RATE")
echo "${LATENCY_CMD[*]}"
"${LATENCY_CMD[@]}" | tee "$LOGS/produce-latency.log"

kill -TERM "$BROKER_PID"
BROKER_RC=0
wait "$BROKER_PID" || BROKER_RC=$?
BROKER_PID=""
echo "broker stopped with status $BROKER_RC"

P_MBS=$(result_field "$LOGS/produce.log" mb_per_s)
P_RPS=$(result_field "$LOGS/produce.log" records_per_s)
P50=$(result_field "$LOGS/produce.log" p50_ms)
P99=$(result_field "$LOGS/produce.log" p99_ms)
P999=$(result_field "$LOGS/produce.log" p999_ms)
L50=$(result_field "$LOGS/produce-latency.log" p50_ms)
L99=$(result_field "$LOGS/produce-latency.log" p99_ms)
L999=$(result_field "$LOGS/produce-latency.log" p999_ms)
C_MBS=$(result_field "$LOGS/consume.log" mb_per_s)
C_RPS=$(result_field "$LOGS/consume.log" records_per_s)
RATIO_P=$(awk -v a="$P_MBS" -v b="$FIO_BUF_MBS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
RATIO_C=$(awk -v a="$C_MBS" -v b="$P_MBS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

echo
echo "== results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) x $CPU, $FS, load before: $LOAD_AVG)"
printf '| %-52s | %-34s |\n' "measure" "figure"
printf '| %-52s | %-34s |\n' "---" "---"
printf '| %-52s | %-34s |\n' "loopback TCP (iperf3, 1 stream, 10 s)" "$LOOPBACK_GBPS Gbit/s"
printf '| %-52s | %-34s |\n' "disk seq. write, buffered (fio 1M, end_fsync)" "$FIO_BUF_MBS MB/s"
printf '| %-52s | %-34s |\n' "disk seq. write, fsync each (fio 4k, fsync=1)" "$FIO_SYNC_MBS MB/s, $FIO_SYNC_IOPS/s, p99 $FIO_SYNC_P99 ms"
printf '| %-52s | %-34s |\n' "strait produce (1 KiB, 1 partition, acks=1)" "$P_RPS records/s, $P_MBS MB/s"
printf '| %-52s | %-34s |\n' "  its latency p50 / p99 / p99.9 (flat out)" "$P50 / $P99 / $P999 ms"
printf '| %-52s | %-34s |\n' "produce latency at $LATENCY_RATE records/s (half)" "$L50 / $L99 / $L999 ms"
printf '| %-52s | %-34s |\n' "strait consume (same data)" "$C_RPS records/s, $C_MBS MB/s"
printf '| %-52s | %-34s |\n' "produce / fio buffered (target >= 0.60)" "$RATIO_P"
printf '| %-52s | %-34s |\n' "consume / produce (target >= 2)" "$RATIO_C"
echo "raw outputs: $LOGS/"
