#!/usr/bin/env bash
# bench-tls.sh - what TLS costs: produce and consume throughput over a
# PLAINTEXT and an SSL listener of the same broker, in the same run.
#
# One broker with PLAINTEXT://127.0.0.1:P and SSL://127.0.0.1:S (a CA and a
# broker certificate made here with the openssl CLI, EC P-256, TLS 1.3 as the
# clients negotiate it; no client certificate). Each round, alternating so a
# busy machine slows both alike:
#   produce  strait-load produce, 1 KiB records, 1 partition, acks=1, flat
#            out for BENCH_PRODUCE_S seconds, to a fresh topic per listener
#   consume  strait-load consume of the topic produced over PLAINTEXT, once
#            over each listener (same bytes: sendfile on PLAINTEXT, file
#            ranges read and encrypted on SSL)
# and the median of each over BENCH_ROUNDS rounds.
#
# Usage: tests/bench/bench-tls.sh     (after `make build`)
# Environment: BENCH_PRODUCE_S (default 10), BENCH_ROUNDS (default 3),
#              STRAIT_BIN / STRAIT_LOAD (default build/bin/...),
#              STRAIT_BENCH_DIR (default build/)
# Raw outputs in build/bench-logs/tls-*.log. Figures, never pass/fail.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${STRAIT_BIN:-$ROOT/build/bin/strait}
LOAD=${STRAIT_LOAD:-$ROOT/build/bin/strait-load}
PY=/usr/bin/python3
LOGS=$ROOT/build/bench-logs
PRODUCE_S=${BENCH_PRODUCE_S:-10}
ROUNDS=${BENCH_ROUNDS:-3}

for tool in "$BIN" "$LOAD"; do
    [ -x "$tool" ] || { echo "bench-tls: $tool missing: run 'make build' first" >&2; exit 2; }
done
mkdir -p "$LOGS" "${STRAIT_BENCH_DIR:-$ROOT/build}"
WORK=$(mktemp -d "${STRAIT_BENCH_DIR:-$ROOT/build}/bench-tls.XXXXXX")
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
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "== machine: $(nproc) x $CPU, load average before: $(cut -d' ' -f1 /proc/loadavg)"
echo "== $(openssl version)"

# certificates: a CA and a broker certificate for 127.0.0.1
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${EC[@]}" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -subj /CN=bench-ca -days 2 2>/dev/null
openssl req "${EC[@]}" -keyout "$WORK/broker.key" -out "$WORK/broker.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$WORK/san.ext"
openssl x509 -req -in "$WORK/broker.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -days 2 -extfile "$WORK/san.ext" -out "$WORK/broker.crt" 2>/dev/null
cat "$WORK/broker.crt" "$WORK/broker.key" >"$WORK/keystore.pem"

PPORT=$(free_port)
SPORT=$(free_port)
"$BIN" broker --override "listeners=PLAINTEXT://127.0.0.1:$PPORT,SSL://127.0.0.1:$SPORT" \
    --override "ssl.keystore.location=$WORK/keystore.pem" \
    --override "log.dirs=$WORK/data" >"$LOGS/tls-broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 100); do
    if "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$SPORT" 2>/dev/null; then
        break
    fi
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "broker exited; see $LOGS/tls-broker.log" >&2; exit 1; }
    sleep 0.1
done

declare -A BROKERS EXTRA PRODUCE CONSUME
BROKERS[plaintext]="127.0.0.1:$PPORT"
BROKERS[ssl]="127.0.0.1:$SPORT"
EXTRA[plaintext]=""
EXTRA[ssl]="-X security.protocol=ssl -X ssl.ca.location=$WORK/ca.pem"

for round in $(seq 1 "$ROUNDS"); do
    for kind in plaintext ssl; do
        # shellcheck disable=SC2206
        cmd=("$LOAD" produce --brokers "${BROKERS[$kind]}" --topic "bench-$kind-$round"
             --record-bytes 1024 --partitions 1 --acks 1 --codec none
             --duration-s "$PRODUCE_S" ${EXTRA[$kind]})
        echo "== round $round produce $kind: ${cmd[*]}"
        log="$LOGS/tls-produce-$kind-$round.log"
        "${cmd[@]}" >"$log" 2>&1
        grep '^RESULT' "$log"
        PRODUCE[$kind]+="$(result_field "$log" mb_per_s) "
    done
    for kind in plaintext ssl; do
        # shellcheck disable=SC2206
        cmd=("$LOAD" consume --brokers "${BROKERS[$kind]}" --topic "bench-plaintext-$round"
             ${EXTRA[$kind]})
        echo "== round $round consume $kind: ${cmd[*]}"
        log="$LOGS/tls-consume-$kind-$round.log"
        "${cmd[@]}" >"$log" 2>&1
        grep '^RESULT' "$log"
        CONSUME[$kind]+="$(result_field "$log" mb_per_s) "
    done
done

echo
echo "== medians of $ROUNDS rounds (MB/s of 1 KiB records, 1 partition; produce acks=1 for $PRODUCE_S s)"
printf '| %-10s | %-12s | %-12s |\n' listener "produce MB/s" "consume MB/s"
printf '| %-10s | %-12s | %-12s |\n' --- --- ---
for kind in plaintext ssl; do
    printf '| %-10s | %-12s | %-12s |\n' "$kind" \
        "$(echo "${PRODUCE[$kind]}" | tr ' ' '\n' | grep . | median)" \
        "$(echo "${CONSUME[$kind]}" | tr ' ' '\n' | grep . | median)"
done
echo "per round (MB/s): produce plaintext ${PRODUCE[plaintext]}/ ssl ${PRODUCE[ssl]}; consume plaintext ${CONSUME[plaintext]}/ ssl ${CONSUME[ssl]}"
