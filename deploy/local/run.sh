#!/usr/bin/env bash
# run.sh - two single-node regions and their sidecars on this machine:
#
#   east: broker node.id 1   on 127.0.0.1:9092, sidecar http://127.0.0.1:8701
#   west: broker node.id 101 on 127.0.0.1:9192, sidecar http://127.0.0.1:8702
#
# One cluster.id for the deployment and broker ids unique across regions
# (DESIGN.md §8). Data and logs under ./data/local/ (brokers' logs in
# ./data/local/{east,west}/, sidecars' state in ./data/local/state/, every
# process's stderr in ./data/local/*.log). Ctrl-C stops everything.
#
# Usage: deploy/local/run.sh            (from the repository root, after make build)
# Environment: STRAIT_BIN (default build/bin/strait)
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=${STRAIT_BIN:-build/bin/strait}
TOPOLOGY=deploy/local/topology.yaml
DATA=./data/local
CLUSTER_ID=strait-local-demo

[ -x "$BIN" ] || { echo "run.sh: $BIN is missing; run 'make build' first" >&2; exit 2; }
mkdir -p "$DATA/east" "$DATA/west" "$DATA/state"

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo "run.sh: stopping" >&2
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# wait_port PORT: until something accepts on 127.0.0.1:PORT (30 s at most).
wait_port() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "run.sh: nothing listens on 127.0.0.1:$1 after 30 s (see $DATA/*.log)" >&2
    exit 1
}

start_broker() { # NAME NODE_ID PORT
    "$BIN" broker --override node.id="$2" --override cluster.id="$CLUSTER_ID" \
        --override listeners="PLAINTEXT://127.0.0.1:$3" --override log.dirs="$DATA/$1" \
        2>"$DATA/broker-$1.log" &
    pids+=($!)
}

start_broker east 1 9092
start_broker west 101 9192
wait_port 9092
wait_port 9192

for region in east west; do
    "$BIN" sidecar --topology "$TOPOLOGY" --region "$region" 2>"$DATA/sidecar-$region.log" &
    pids+=($!)
done
wait_port 8701
wait_port 8702

cat <<MSG
run.sh: two regions are up (Ctrl-C stops them)
  east  broker 127.0.0.1:9092  sidecar http://127.0.0.1:8701/status
  west  broker 127.0.0.1:9192  sidecar http://127.0.0.1:8702/status
  logs  $DATA/*.log
try:
  kcat -P -b 127.0.0.1:9092 -t orders <<< 'hello from east'
  kcat -C -b 127.0.0.1:9192 -t orders -e -f '%s %h\n'
  curl -s 127.0.0.1:8702/status
MSG

# Any process exiting ends the demo (and stops the others).
wait -n "${pids[@]}"
echo "run.sh: a process exited; see $DATA/*.log" >&2
exit 1
