"""
bench_mirror.py - mirror throughput for 1 KiB records next to the broker's
own single-producer throughput, measured in the same run on the same machine
(issue 4 item 10, first part).

  1. two brokers ("east", "west") on loopback;
  2. baseline: strait-load produce into east, 1 partition, 1 KiB, acks=all,
     idempotent, codec none, BENCH_PRODUCE_S seconds -> records/s;
  3. pre-fill east "orders" (1 partition) with BENCH_MIRROR_RECORDS 1 KiB
     records, start mirror_driver east->west (identity, codec none) and time
     until west's high watermark equals east's -> records/s, both over the
     whole run (start-up included) and from the first copied record.

Usage: STRAIT_BIN=build/bin/strait /usr/bin/python3 tests/bench/bench_mirror.py
(strait-load and mirror_driver are taken from the same bin/ directory).
Environment: BENCH_PRODUCE_S (default 10), BENCH_MIRROR_RECORDS (default 200000).
Prints one "RESULT ..." line. Figures, never pass/fail.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration", "lib"))

from broker import check, note, run_test, strait_bin  # noqa: E402
import mirror  # noqa: E402

PRODUCE_S = int(os.environ.get("BENCH_PRODUCE_S", "10"))
RECORDS = int(os.environ.get("BENCH_MIRROR_RECORDS", "200000"))


def load(*args):
    tool = os.path.join(os.path.dirname(strait_bin()), "strait-load")
    out = subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=600)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    check(out.returncode == 0 and line, "strait-load failed: %s %s" % (out.stdout, out.stderr))
    return dict(kv.split("=", 1) for kv in line[-1].split()[1:])


def main(t):
    east = t.broker(name="east")
    west = t.broker(name="west")
    base = load("produce", "--brokers", east.bootstrap, "--topic", "baseline", "--record-bytes",
                "1024", "--partitions", "1", "--acks", "all", "--codec", "none", "--duration-s",
                str(PRODUCE_S), "-X", "enable.idempotence=true")
    note("baseline single producer: %s records/s" % base["records_per_s"])
    load("produce", "--brokers", east.bootstrap, "--topic", "orders", "--record-bytes", "1024",
         "--partitions", "1", "--acks", "all", "--codec", "none", "--records", str(RECORDS),
         "--duration-s", "600", "-X", "enable.idempotence=true")
    ends = mirror.high_watermarks(east.bootstrap, "orders")
    topo = mirror.write_topology(t.path("topology.yaml"), east, west,
                                 [{"source": "east", "target": "west", "topics": ["orders"],
                                   "compression": "none", "refresh_interval": "10s"}])
    d = mirror.Driver(t, topo, "east", "west")
    started = time.monotonic()
    d.start()
    first = None
    try:
        while True:
            now = mirror.high_watermarks(west.bootstrap, "orders") or {}
            if first is None and sum(now.values()) > 0:
                first = (time.monotonic(), sum(now.values()))
            if now == ends:
                break
            check(time.monotonic() - started < 600, "mirror did not finish in 600 s")
            time.sleep(0.05)
        done = time.monotonic()
        d.stop()
    finally:
        d.cleanup()
    total = sum(ends.values())
    whole = total / (done - started)
    steady = (total - first[1]) / max(done - first[0], 1e-3)
    print("RESULT baseline_records_per_s=%s mirror_records=%d mirror_seconds=%.2f "
          "mirror_records_per_s=%.0f mirror_steady_records_per_s=%.0f ratio=%.2f steady_ratio=%.2f"
          % (base["records_per_s"], total, done - started, whole, steady,
             whole / float(base["records_per_s"]), steady / float(base["records_per_s"])),
          flush=True)


run_test(main)
