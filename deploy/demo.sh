#!/usr/bin/env bash
# demo.sh - `make demo`: two regions on this machine, mirrored both ways.
#
# Starts deploy/local/run.sh (brokers east 127.0.0.1:9092 and west
# 127.0.0.1:9192, one sidecar each, topology deploy/local/topology.yaml, data
# in ./data/local), then deploy/demo_workload.py: orders produced to east, a
# consumer group "billing" on east, and a line every 2 s with what west holds,
# the east->west lag and where "billing" would resume on west. Ctrl-C stops
# everything. Failover (strait failover/switchover) arrives with its issue; the
# CLI says so until then.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/bin/strait
if [ ! -x "$BIN" ]; then
    echo "demo: $BIN is missing; run 'make build' (or 'make demo', which builds first)" >&2
    exit 1
fi

deploy/local/run.sh &
regions=$!
cleanup() {
    trap - INT TERM EXIT
    kill -TERM "${workload:-}" 2>/dev/null || true
    kill -TERM "$regions" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# run.sh prints its banner once both sidecars answer
for _ in $(seq 1 300); do
    if curl -sf http://127.0.0.1:8702/healthz >/dev/null 2>&1 &&
       curl -sf http://127.0.0.1:8701/healthz >/dev/null 2>&1; then
        break
    fi
    kill -0 "$regions" 2>/dev/null || { echo "demo: the regions did not start (see data/local/*.log)" >&2; exit 1; }
    sleep 0.1
done

cat <<'USAGE'

demo: in another shell, try
  kcat -C -b 127.0.0.1:9192 -t orders -o beginning -e -f '%p@%o %k %s %h\n'   # the copy on west
  curl -s 127.0.0.1:8702/status                                               # flows, lag, checkpoints
  curl -s 127.0.0.1:8702/metrics | grep strait_mirror                         # Prometheus
  build/bin/strait offsets translate --topology deploy/local/topology.yaml --group billing --from east --to west

USAGE
/usr/bin/python3 -u deploy/demo_workload.py &
workload=$!
wait -n "$regions" "$workload"
