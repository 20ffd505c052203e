"""
bench_mirror.py - mirror throughput for 1 KiB records next to the broker's
own single-producer throughput, measured in the same run on the same machine
(issue 4 item 10, first part).

Each of BENCH_RUNS rounds:
  1. two fresh brokers ("east", "west") on loopback;
  2. baseline: strait-load produce into east, 1 partition, 1 KiB, acks=all,
     idempotent, codec none, BENCH_PRODUCE_S seconds -> records/s;
  3. pre-fill east "orders" (BENCH_MIRROR_PARTITIONS partitions, default 1)
     with BENCH_MIRROR_RECORDS 1 KiB records, start mirror_driver east->west
     (identity naming) and time until west's high watermarks equal east's ->
     records/s, over the whole run (start-up, topic creation and resume
     included) and from the first copied record ("steady");
  4. CPU seconds used during the copy by the mirror, east and west, and by the
     baseline's producer and broker (utime + stime from /proc); the mirror's
     peak resident memory (VmHWM).
Every phase starts with a sync(): no dirty pages of the phase before it.

The copy is watched through ONE long-lived client asking for west's high
watermarks every 100 ms (a new client per probe cost more CPU than the
mirror's own consumer on a 2-core box).

Usage: STRAIT_BIN=build/bin/strait /usr/bin/python3 tests/bench/bench_mirror.py
(strait-load and mirror_driver are taken from the same bin/ directory).
Environment: BENCH_RUNS (default 3), BENCH_PRODUCE_S (default 10),
BENCH_MIRROR_RECORDS (default 1000000), BENCH_MIRROR_PARTITIONS (default 1),
BENCH_MIRROR_COMPRESSION (flow `compression`, default none: like the baseline),
BENCH_MIRROR_LINGER, BENCH_MIRROR_BATCH_BYTES (flow keys; unset = topology default),
BENCH_MIRROR_VARIANTS (A/B in one round, below), BENCH_BASELINE_LZ4=1 (also measure the
baseline producer with lz4, and the mirror's steady rate against it).
Prints one "RESULT ..." line per round and variant, and a "MEDIAN ..." line per variant
(medians of the per-round figures). Figures, never pass/fail.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration", "lib"))

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

from broker import TestContext, check, note, run_test, strait_bin  # noqa: E402
import mirror  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PRODUCE_S = int(os.environ.get("BENCH_PRODUCE_S", "10"))
RECORDS = int(os.environ.get("BENCH_MIRROR_RECORDS", "1000000"))
PARTITIONS = int(os.environ.get("BENCH_MIRROR_PARTITIONS", "1"))
COMPRESSION = os.environ.get("BENCH_MIRROR_COMPRESSION", "none")
LINGER = os.environ.get("BENCH_MIRROR_LINGER")
BATCH_BYTES = os.environ.get("BENCH_MIRROR_BATCH_BYTES")
BASELINE_LZ4 = os.environ.get("BENCH_BASELINE_LZ4") == "1"
# A/B in one round: "label:driver:compression,label:driver:compression" (driver empty =
# bin/mirror_driver next to STRAIT_BIN). Each variant copies the same pre-filled east
# into its own fresh west, one after the other.
VARIANTS = [tuple(v.split(":")) for v in
            os.environ.get("BENCH_MIRROR_VARIANTS", "mirror::" + COMPRESSION).split(",")]


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def pid_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def load(*args):
    tool = os.path.join(os.path.dirname(strait_bin()), "strait-load")
    out = subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=600)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    check(out.returncode == 0 and line, "strait-load failed: %s %s" % (out.stdout, out.stderr))
    return dict(kv.split("=", 1) for kv in line[-1].split()[1:])


class Watermarks:
    """One client that asks a broker for a topic's high watermarks."""

    def __init__(self, bootstrap, topic, partitions):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-wm"})
        self.parts = [TopicPartition(topic, p) for p in range(partitions)]

    def total(self):
        try:
            return sum(self.consumer.get_watermark_offsets(tp, timeout=10)[1]
                       for tp in self.parts)
        except Exception:  # topic not created yet on the target
            return 0

    def close(self):
        self.consumer.close()


def one_round(t, index):
    load_avg = open("/proc/loadavg").read().split()[0]
    east = t.broker(name="east")
    os.sync()
    cpu_load, cpu_east = children_cpu_s(), east.cpu_seconds()
    base = load("produce", "--brokers", east.bootstrap, "--topic", "baseline", "--record-bytes",
                "1024", "--partitions", "1", "--acks", "all", "--codec", "none", "--duration-s",
                str(PRODUCE_S), "-X", "enable.idempotence=true")
    base_rate = float(base["records_per_s"])
    base_s = float(base["seconds"])
    base_cpu = ((children_cpu_s() - cpu_load) / base_s, (east.cpu_seconds() - cpu_east) / base_s)
    note("baseline single producer: %.0f records/s" % base_rate)
    base_lz4 = 0.0
    if BASELINE_LZ4:
        os.sync()
        base_lz4 = float(load("produce", "--brokers", east.bootstrap, "--topic", "baseline-lz4",
                              "--record-bytes", "1024", "--partitions", "1", "--acks", "all",
                              "--codec", "lz4", "--duration-s", str(PRODUCE_S), "-X",
                              "enable.idempotence=true")["records_per_s"])
        note("baseline single producer, lz4: %.0f records/s" % base_lz4)
    load("produce", "--brokers", east.bootstrap, "--topic", "orders", "--record-bytes", "1024",
         "--partitions", str(PARTITIONS), "--acks", "all", "--codec", "none", "--records",
         str(RECORDS), "--duration-s", "600", "-X", "enable.idempotence=true")
    ends = mirror.high_watermarks(east.bootstrap, "orders")
    total = sum(ends.values())
    results = {}
    # Variants alternate who goes first from one round to the next.
    for label, driver, compression in (VARIANTS if index % 2 == 0 else VARIANTS[::-1]):
        west = t.broker(name="west-" + label)
        results[label] = copy_once(t, label, driver, compression, east, west, ends, total)
        r = results[label]
        r.update({"load": float(load_avg), "baseline": base_rate, "baseline_lz4": base_lz4,
                  "steady_ratio_lz4": r["steady"] / base_lz4 if base_lz4 else 0.0,
                  "ratio": r["whole"] / base_rate,
                  "steady_ratio": r["steady"] / base_rate, "base_load_cores": base_cpu[0],
                  "base_broker_cores": base_cpu[1]})
        print("RESULT variant=%s compression=%s load=%s baseline_records_per_s=%.0f "
              "mirror_records=%d mirror_seconds=%.2f mirror_records_per_s=%.0f "
              "mirror_steady_records_per_s=%.0f ratio=%.2f steady_ratio=%.2f "
              "mirror_cpu_us_per_record=%.2f east_cpu_us_per_record=%.2f "
              "west_cpu_us_per_record=%.2f baseline_load_cores=%.2f baseline_broker_cores=%.2f "
              "baseline_lz4_records_per_s=%.0f steady_ratio_lz4=%.2f mirror_peak_rss_mib=%.0f"
              % (label, compression, load_avg, base_rate, total, r["seconds"], r["whole"],
                 r["steady"], r["ratio"], r["steady_ratio"], r["mirror_cpu_us"],
                 r["east_cpu_us"], r["west_cpu_us"], base_cpu[0], base_cpu[1], base_lz4,
                 r["steady_ratio_lz4"], r["peak_rss_mib"]), flush=True)
        west.stop()
    east.stop()
    return results


def copy_once(t, label, driver, compression, east, west, ends, total):
    """Mirrors east's pre-filled "orders" into west with one driver; figures of the copy."""
    flow = {"source": "east", "target": "west", "topics": ["orders"],
            "compression": compression, "refresh_interval": "10s"}
    if LINGER is not None:
        flow["linger"] = LINGER
    if BATCH_BYTES is not None:
        flow["batch_bytes"] = BATCH_BYTES
    topo = mirror.write_topology(t.path("topology-%s.yaml" % label), east, west, [flow])
    wm = Watermarks(west.bootstrap, "orders", PARTITIONS)
    if driver:
        os.environ["MIRROR_DRIVER_BIN"] = driver
    else:
        os.environ.pop("MIRROR_DRIVER_BIN", None)
    d = mirror.Driver(t, topo, "east", "west", name="mirror-" + label)
    # No dirty pages left by the phase before: the baseline alone writes ~3 GB,
    # and its writeback throttled west's appends during the copy (copies run
    # after it were up to 2x slower, more so the later in the round).
    os.sync()
    cpu_east, cpu_west = east.cpu_seconds(), west.cpu_seconds()
    started = time.monotonic()
    d.start()
    first = None
    try:
        while True:
            now = wm.total()
            if first is None and now > 0:
                first = (time.monotonic(), now)
            if now >= total:
                break
            check(time.monotonic() - started < 600, "mirror did not finish in 600 s")
            time.sleep(0.1)
        done = time.monotonic()
        cpu_mirror = pid_cpu_s(d.proc.pid)
        peak_rss_mib = peak_rss_kib(d.proc.pid) / 1024.0
        cpu_east, cpu_west = east.cpu_seconds() - cpu_east, west.cpu_seconds() - cpu_west
        d.stop()
    finally:
        wm.close()
        d.cleanup()
    check(mirror.high_watermarks(west.bootstrap, "orders") == ends, "west != east after the copy")
    return {"whole": total / (done - started),
            "steady": (total - first[1]) / max(done - first[0], 1e-3),
            "mirror_cpu_us": cpu_mirror * 1e6 / total, "east_cpu_us": cpu_east * 1e6 / total,
            "west_cpu_us": cpu_west * 1e6 / total, "seconds": done - started,
            "peak_rss_mib": peak_rss_mib}


def main(t):
    rounds = []
    for i in range(RUNS):
        ctx = TestContext("bench_mirror_%d" % i)
        try:
            rounds.append(one_round(ctx, i))
        finally:
            ctx.cleanup()
    for label, _, compression in VARIANTS:
        rs = [r[label] for r in rounds]
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        print("MEDIAN variant=%s runs=%d compression=%s partitions=%d load=%.2f "
              "baseline_records_per_s=%.0f mirror_records_per_s=%.0f "
              "mirror_steady_records_per_s=%.0f ratio=%.2f steady_ratio=%.2f "
              "mirror_cpu_us_per_record=%.2f west_cpu_us_per_record=%.2f "
              "baseline_lz4_records_per_s=%.0f steady_ratio_lz4=%.2f"
              % (label, len(rs), compression, PARTITIONS, med["load"], med["baseline"],
                 med["whole"], med["steady"], med["ratio"], med["steady_ratio"],
                 med["mirror_cpu_us"], med["west_cpu_us"], med["baseline_lz4"],
                 med["steady_ratio_lz4"]), flush=True)


run_test(main)
