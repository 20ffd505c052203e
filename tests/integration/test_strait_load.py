#!/usr/bin/env python3
"""
test_strait_load: the librdkafka C harness (build/bin/strait-load, also the
benchmark tool) produces and consumes against the broker: every record is
delivered (acks=all, lz4, 3 partitions) and read back, and its RESULT lines
parse. Keeps the benchmark tool from rotting; the figures it prints here are
not checked (a debug/ASan broker on a shared CI machine).
"""
# strait-test: asan

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import REPO_ROOT, check, check_eq, note, run_test  # noqa: E402

LOAD = os.path.join(REPO_ROOT, "build", "bin", "strait-load")
RECORDS = 20000


def load(*args):
    cmd = [LOAD] + list(args)
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    text = out.stdout.decode(errors="replace")
    check(out.returncode == 0, "`%s` exited with %d:\n%s%s" % (
        " ".join(cmd), out.returncode, text, out.stderr.decode(errors="replace")[-2000:]))
    lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
    check(len(lines) == 1, "expected one RESULT line from strait-load, got:\n" + text)
    note(text.strip().replace("\n", "\n    "))
    return dict(kv.split("=", 1) for kv in lines[0].split()[1:])


def main(t):
    check(os.access(LOAD, os.X_OK), "%s missing (built by `make build` when librdkafka-dev "
          "is installed)" % LOAD)
    b = t.broker()
    res = load("produce", "--brokers", b.bootstrap, "--topic", "load", "--records", str(RECORDS),
               "--record-bytes", "512", "--partitions", "3", "--acks", "all", "--codec", "lz4",
               "--duration-s", "60")
    check_eq((res["mode"], res["records"], res["failed"]), ("produce", str(RECORDS), "0"),
             "strait-load produce (mode, records, failed)")
    check(float(res["p50_ms"]) <= float(res["p99_ms"]) <= float(res["p999_ms"])
          <= float(res["max_ms"]), "latency percentiles out of order: %r" % res)
    res = load("consume", "--brokers", b.bootstrap, "--topic", "load", "--duration-s", "60")
    check_eq((res["mode"], res["records"], res["bytes"]), ("consume", str(RECORDS),
                                                           str(RECORDS * 512)),
             "strait-load consume (mode, records, bytes)")
    b.stop()


run_test(main)
