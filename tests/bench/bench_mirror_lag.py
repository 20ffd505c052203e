"""
bench_mirror_lag.py - end-to-end mirror lag p50/p99 at a fixed produce rate,
on loopback and with 50 ms RTT between the regions (issue 4 item 10).

For each case: an east and a west broker, the west `strait sidecar` (one flow
east -> west, identity naming, target codec none, linger 5 ms), a consumer on
west and `strait-load produce --rate R` (1 KiB records, acks=all, idempotent,
1 partition) on east. Lag of a record = the wall-clock time the west consumer
receives the mirrored copy minus the record's timestamp (CreateTime, set by
the producer's librdkafka when the record is produced; the mirror keeps it),
in ms. Everything runs on one machine, so both ends read the same clock.
The first BENCH_LAG_WARMUP_S seconds of records are left out.

Cases:
  loopback - both brokers, the sidecar and the clients on 127.0.0.1;
  wan      - tests/integration/lib/wan.py: namespace a holds east and the
             producer, namespace b holds west, the sidecar and the consumer,
             linked with 25 ms of delay each way (netem, or the TUN delay line
             when the kernel has no netem). Needs root.

Usage (after building strait, strait-load in the same bin/ directory):
  STRAIT_BIN=/tmp/build-wan/bin/strait /usr/bin/python3 tests/bench/bench_mirror_lag.py
Environment: BENCH_LAG_RATE records/s (default 49000 = half the mirror's
flat-out ~98k records/s in docs/benchmarks.md), BENCH_LAG_S produce seconds
(default 20), BENCH_LAG_WARMUP_S (default 3), BENCH_LAG_CASES (default
"loopback,wan"), BENCH_LAG_ONE_WAY_MS (delay each way in the wan case,
default 25). Prints one "RESULT ..." line per case. Figures, not pass/fail.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))

RATE = int(os.environ.get("BENCH_LAG_RATE", "49000"))
SECONDS = int(os.environ.get("BENCH_LAG_S", "20"))
WARMUP_S = float(os.environ.get("BENCH_LAG_WARMUP_S", "3"))
CASES = os.environ.get("BENCH_LAG_CASES", "loopback,wan").split(",")
ONE_WAY_MS = int(os.environ.get("BENCH_LAG_ONE_WAY_MS", "25"))
TOPIC = "lag"


def consume(bootstrap, count, timeout_s, warmup_s):
    """Role run in its own process: reads `count` records of TOPIC[0] from the
    current end and prints one JSON line of lag percentiles."""
    from confluent_kafka import OFFSET_END, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-lag",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 50,
                  "fetch.error.backoff.ms": 10})
    c.assign([TopicPartition(TOPIC, 0, OFFSET_END)])
    print("consuming", flush=True)
    lags, got, first_ts = [], 0, None
    deadline = time.monotonic() + timeout_s
    while got < count and time.monotonic() < deadline:
        batch = c.consume(5000, 0.2)
        now_ms = time.time() * 1000.0
        for m in batch:
            if m.error():
                continue
            got += 1
            ts = m.timestamp()[1]
            if first_ts is None:
                first_ts = ts
            if ts - first_ts >= warmup_s * 1000:
                lags.append(now_ms - ts)
    c.close()
    lags.sort()

    def pct(q):
        return round(lags[min(len(lags) - 1, int(q * len(lags)))], 1) if lags else None
    print("LAGS " + json.dumps({"received": got, "measured": len(lags), "p50": pct(0.50),
                                "p90": pct(0.90), "p99": pct(0.99), "p999": pct(0.999),
                                "max": lags[-1] if lags else None}), flush=True)


def run_case(t, case):
    from broker import check, free_port, note, strait_bin
    import mirror
    import wan as wanlib
    from sidecar import Sidecar

    w = None
    sidecar = None
    try:
        if case == "wan":
            reason = wanlib.probe()
            check(reason is None, "wan case needs network namespaces: %s" % reason)
            w = wanlib.Wan(delay_ms=ONE_WAY_MS).setup()
            rtt = w.rtt_ms()
            note("link: %s; RTT (TCP connect) min %.1f ms median %.1f ms" % (w.mode, rtt[0],
                                                                            rtt[1]))
            ns = w.ns
            east = t.broker(name="east-" + case, host=w.addr[0], netns=ns[0], port=free_port())
            west = t.broker(name="west-" + case, host=w.addr[1], netns=ns[1], port=free_port())
        else:
            rtt = (None, None)
            ns = [None, None]
            east = t.broker(name="east-" + case)
            west = t.broker(name="west-" + case)

        def inside(i, fn, *args):
            return wanlib.in_netns(ns[i], fn, *args) if ns[i] else fn(*args)

        def prefix(i):
            return ["ip", "netns", "exec", ns[i]] if ns[i] else []

        inside(0, mirror.create_topic, east.bootstrap, TOPIC, 1)
        http = free_port()
        topo = t.path("topology-%s.yaml" % case)
        with open(topo, "w") as f:
            f.write("regions:\n"
                    "  east: {bootstrap: %s, sidecar: 127.0.0.2:%d}\n"
                    "  west: {bootstrap: %s, sidecar: 127.0.0.1:%d}\n"
                    "flows:\n"
                    "  - {source: east, target: west, topics: [%s], compression: none, "
                    "refresh_interval: 1s}\n"
                    "sidecar: {state_dir: %s}\n"
                    % (east.bootstrap, free_port(), west.bootstrap, http, TOPIC,
                       t.path("state-" + case)))
        sidecar = Sidecar(t, topo, "west", http, netns=ns[1])
        sidecar.start()
        mirror.wait_for("west topic %s" % TOPIC,
                        lambda: inside(1, mirror.high_watermarks, west.bootstrap, TOPIC), 30)

        total = RATE * SECONDS
        cons = subprocess.Popen(prefix(1) + [sys.executable, "-u", os.path.abspath(__file__),
                                             "consume", west.bootstrap, str(total),
                                             str(SECONDS + 120), str(WARMUP_S)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        check(cons.stdout.readline().strip() == "consuming", "consumer did not start")
        time.sleep(1.0)  # the consumer has resolved OFFSET_END
        tool = os.path.join(os.path.dirname(strait_bin()), "strait-load")
        load = subprocess.run(prefix(0) + [tool, "produce", "--brokers", east.bootstrap,
                                           "--topic", TOPIC, "--record-bytes", "1024",
                                           "--partitions", "1", "--acks", "all", "--codec",
                                           "none", "--rate", str(RATE), "--records", str(total),
                                           "--duration-s", str(SECONDS + 60),
                                           "-X", "enable.idempotence=true"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=SECONDS + 120)
        res = [x for x in load.stdout.splitlines() if x.startswith("RESULT ")]
        check(load.returncode == 0 and res, "strait-load failed: %s %s" % (load.stdout,
                                                                           load.stderr))
        produced = dict(kv.split("=", 1) for kv in res[-1].split()[1:])
        out, _ = cons.communicate(timeout=SECONDS + 180)
        lags = json.loads([x for x in out.splitlines() if x.startswith("LAGS ")][-1][5:])
        line = ("RESULT case=%s rtt_ms=%s rate_target=%d produced=%s produce_records_per_s=%s "
                "received=%d measured=%d lag_ms_p50=%s p90=%s p99=%s p999=%s max=%s"
                % (case, "%.1f" % rtt[0] if rtt[0] else "-", RATE, produced.get("records"),
                   produced.get("records_per_s"), lags["received"], lags["measured"],
                   lags["p50"], lags["p90"], lags["p99"], lags["p999"],
                   "%.1f" % lags["max"] if lags["max"] is not None else None))
        print(line, flush=True)
        if w is not None:
            note("link mode: %s" % w.mode)
        sidecar.stop()
        sidecar = None
        west.stop()
        east.stop()
    finally:
        if sidecar is not None and sidecar.proc is not None:
            sidecar.proc.kill()
            sidecar.proc.wait()
        for b in t.brokers:
            b.cleanup()
        if w is not None:
            w.cleanup()


def main(t):
    for case in CASES:
        run_case(t, case)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "consume":
        consume(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        from broker import run_test
        run_test(main)
