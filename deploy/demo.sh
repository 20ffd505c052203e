#!/usr/bin/env bash
# demo.sh - `make demo`: one strait broker on 127.0.0.1:9092, data in ./data,
# in the foreground (Ctrl-C or SIGTERM stops it cleanly).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/bin/strait
if [ ! -x "$BIN" ]; then
    echo "demo: $BIN is missing; run 'make build' (or 'make demo', which builds first)" >&2
    exit 1
fi

cat <<'USAGE'
strait demo: one broker on 127.0.0.1:9092, data in ./data. Try, in another shell:

  printf 'hello\nworld\n' | kcat -P -b 127.0.0.1:9092 -t demo        # produce two records
  kcat -C -b 127.0.0.1:9092 -t demo -o beginning -e                   # read them back
  kcat -L -b 127.0.0.1:9092                                            # list brokers and topics

  /usr/bin/python3 -c "from kafka import KafkaProducer as P; p = P(bootstrap_servers='127.0.0.1:9092'); p.send('demo', b'from kafka-python'); p.flush()"

Stop with Ctrl-C. Starting the broker now (logs below, one line per event).
USAGE

mkdir -p data
exec "$BIN" broker --override listeners=PLAINTEXT://127.0.0.1:9092 --override log.dirs=./data "$@"
