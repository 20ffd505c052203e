#!/bin/sh
# make-seeds.sh [BUILD_DIR] - (re)writes the seed-* inputs of the on-disk and
# config fuzz targets in tests/fuzz/corpus/ from files strait's own code
# writes: BUILD_DIR/bin/strait-fuzz-seeds (tests/fuzz/seeds.c: partition
# logs, checkpoints, region state, topic files, meta.properties, vote files,
# broker config YAML) and, for the topology YAML, the integration tests'
# write_topology helpers (tests/integration/lib/) plus deploy/local/.
# regress-* inputs are never touched. BUILD_DIR defaults to build/ (`make
# build` makes strait-fuzz-seeds). Commit what changed.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:-$repo/build}
corpus=$repo/tests/fuzz/corpus
seeds=$build_dir/bin/strait-fuzz-seeds
if [ ! -x "$seeds" ]; then
    echo "make-seeds: $seeds is missing (run make build)" >&2
    exit 2
fi
"$seeds" "$corpus"

# The topology files the integration tests write, and the demo's.
mkdir -p "$corpus/topology" "$corpus/yaml_map"
/usr/bin/python3 - "$repo" "$corpus" <<'PY'
import os, sys, tempfile
repo, corpus = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(repo, "tests/integration/lib"))
import failover
import mirror

class Broker:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap

east, west = Broker("127.0.0.1:9092"), Broker("127.0.0.1:9192")
work = tempfile.mkdtemp(prefix="strait-topology-seeds-")
files = {
    "failover-drill": lambda p: failover.write_topology(p, east, west, (8701, 8702),
                                                        "/tmp/state"),
    "failover-automatic": lambda p: failover.write_topology(
        p, east, west, (8701, 8702), "/tmp/state",
        {"mode": "automatic", "detect_after": "3s", "witness": "127.0.0.1:8703"}),
    "mirror-prefix": lambda p: mirror.write_topology(
        p, east, west,
        [{"source": "east", "target": "west", "topics": ["orders", "payments\\\\..*"],
          "naming": "prefix", "compression": "zstd", "linger": "20ms"},
         {"source": "west", "target": "east", "topics": ["orders"]}],
        extra=["checkpoints: {interval: 250ms}"]),
    "mirror-no-failover": lambda p: mirror.write_topology(
        p, east, west, [{"source": "east", "target": "west", "topics": [".*"]}]),
}
for name, write in files.items():
    path = os.path.join(work, name + ".yaml")
    write(path)
    data = open(path, "rb").read()
    for target, prefix in (("topology", b""), ("yaml_map", b"\x01")):
        with open(os.path.join(corpus, target, "seed-" + name), "wb") as out:
            out.write(prefix + data)
    os.unlink(path)
    print("topology/seed-%s (%d bytes)" % (name, len(data)))
os.rmdir(work)
PY
cp "$repo/deploy/local/topology.yaml" "$corpus/topology/seed-deploy-local"
{ printf '\001'; cat "$repo/deploy/local/topology.yaml"; } >"$corpus/yaml_map/seed-deploy-local"
echo "make-seeds: corpus in $corpus"
