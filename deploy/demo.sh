#!/usr/bin/env bash
# demo.sh - `make demo`: two regions on this machine, mirroring, a planned
# switchover and an unplanned failover with clients that carry on
# (deploy/demo.py says what it does; it wipes and uses ./data/local).
# `demo.sh --secure` (make demo-secure): the same with TLS, SASL and ACLs
# between and inside the regions, set up from zero in ./data/secure
# (deploy/demo_secure.py).
# For a deployment that stays up without the scripted scenario, use
# deploy/local/run.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/bin/strait
if [ ! -x "$BIN" ]; then
    echo "demo: $BIN is missing; run 'make build' (or 'make demo', which builds first)" >&2
    exit 1
fi
exec /usr/bin/python3 -u deploy/demo.py "$@"
