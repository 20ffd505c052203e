#!/usr/bin/env python3
"""
quick_wan_latency: mirroring east -> west across a link with 50 ms RTT
(issue 4 item 9), with one kill -9 of the sidecar mid-stream.

Two network namespaces joined by a link with 25 ms of delay each way
(tests/integration/lib/wan.py: veth + `tc qdisc ... netem delay 25ms` on both
ends, or a TUN user-space delay line when the kernel has no netem):
  - namespace a: the east broker on 10.213.77.1 (advertised there);
  - namespace b: the west broker on 10.213.77.2 and the west sidecar, which
    consumes far from east across the delayed link and produces near into west.
A producer in namespace a sends N keyed records with headers and timestamps
(paced over a few seconds); the sidecar is killed with SIGKILL once while the
copy is under way and restarted. Then, within a bounded wait, west must hold
every east record exactly once: per partition the same count, byte-identical
key, value, headers (plus the strait.src provenance header naming east, the
partition and the source offset) and timestamp, in source order.
Prints the measured RTT (TCP connect), the copy time and the lag observed.

Needs CAP_NET_ADMIN (CI runs as root): if `ip netns add` is refused, prints
SKIP with the reason and exits 0. Namespaces, the delay relay and every
process are removed in all cases (also on SIGTERM from `timeout`).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "lib"))
from broker import check, check_eq, free_port, note, run_test  # noqa: E402
import mirror  # noqa: E402
import wan  # noqa: E402
from sidecar import Sidecar  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

PARTITIONS = 3
RECORDS = 6000
PRODUCE_S = 4.0          # the producer spreads RECORDS over about this long
COPY_TIMEOUT_S = 90


def write_topology(path, east, west, west_http, state_dir):
    with open(path, "w") as f:
        f.write("regions:\n"
                "  east: {bootstrap: %s, sidecar: %s:%d}\n"
                "  west: {bootstrap: %s, sidecar: 127.0.0.1:%d}\n"
                "flows:\n"
                "  - {source: east, target: west, topics: [orders], refresh_interval: 1s}\n"
                "checkpoints: {interval: 500ms}\n"
                "sidecar: {state_dir: %s}\n"
                % (east.bootstrap, east.host, free_port(), west.bootstrap, west_http, state_dir))
    return path


def record(i):
    key = b"k%05d" % i
    value = b"%d:%.6f:" % (i, time.time()) + bytes((i * 7 + j) % 256 for j in range(64 + i % 200))
    headers = [("h", b"%d" % i), ("bin", bytes([i % 256, 0, 255]))]
    return key, value, headers, 1700000000000 + i


def produce_paced(bootstrap):
    """Runs in namespace a: RECORDS records, partition i % PARTITIONS, paced."""
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True,
                  "acks": "all"})
    started = time.monotonic()
    for i in range(RECORDS):
        key, value, headers, ts = record(i)
        p.produce("orders", value=value, key=key, headers=headers, timestamp=ts,
                  partition=i % PARTITIONS)
        if i % 100 == 99:
            p.poll(0)
            ahead = started + PRODUCE_S * (i + 1) / RECORDS - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    left = p.flush(60)
    check(left == 0, "producer to east: %d records not delivered" % left)
    return time.monotonic()


def total(ends):
    return sum((ends or {}).values())


def main(t):
    reason = wan.probe()
    if reason:
        print("SKIP: quick_wan_latency needs network namespaces: %s" % reason, flush=True)
        return
    w = wan.Wan(delay_ms=25)
    sidecar = None
    try:
        w.setup()
        note("link: %s" % w.mode)
        rtt_min, rtt_med = w.rtt_ms()
        note("measured RTT %s <-> %s (TCP connect, 5 samples): min %.1f ms, median %.1f ms"
             % (w.addr[0], w.addr[1], rtt_min, rtt_med))
        check(rtt_min >= 45, "the link adds no delay: RTT %.1f ms, expected ~50" % rtt_min)

        east = t.broker(name="east", host=w.addr[0], netns=w.ns[0], port=free_port(),
                        overrides={"node.id": "1", "cluster.id": "wan-east"})
        west = t.broker(name="west", host=w.addr[1], netns=w.ns[1], port=free_port(),
                        overrides={"node.id": "101", "cluster.id": "wan-west"})
        wan.in_netns(w.ns[0], mirror.create_topic, east.bootstrap, "orders", PARTITIONS)
        http = free_port()
        topology = write_topology(t.path("topology.yaml"), east, west, http, t.path("state"))
        sidecar = Sidecar(t, topology, "west", http, netns=w.ns[1])
        sidecar.start()
        try:
            run(t, w, east, west, sidecar)
        except BaseException:
            if sidecar.proc is not None:
                sidecar.dump_log()
            raise
    finally:
        if sidecar is not None and sidecar.proc is not None:
            sidecar.proc.kill()
            sidecar.proc.wait()
        for b in t.brokers:
            b.cleanup()
        w.cleanup()


def run(t, w, east, west, sidecar):
    west_ends = lambda: wan.in_netns(w.ns[1], mirror.high_watermarks, west.bootstrap, "orders")
    started = time.monotonic()
    producer, result = wan.start_in_netns(w.ns[0], produce_paced, east.bootstrap)

    # the first copy across the link, then kill -9 once a quarter is in west
    mirror.wait_for("the first record in west", lambda: total(west_ends()) > 0, 30, 0.02)
    first_s = time.monotonic() - started
    note("first record in west %.2f s after the producer started" % first_s)
    mirror.wait_for("a quarter of the records in west",
                    lambda: total(west_ends()) >= RECORDS // 4, 30, 0.02)
    producing = producer.is_alive()
    sidecar.proc.kill()
    sidecar.proc.wait()
    sidecar.proc = None
    at_kill = total(west_ends())
    note("sidecar killed with SIGKILL with %d of %d records in west (producer %s)"
         % (at_kill, RECORDS, "still producing" if producing else "already done"))
    check(at_kill < RECORDS, "the copy was complete before the kill (not mid-stream)")
    time.sleep(0.5)
    sidecar.start()

    producer.join(60)
    check(not producer.is_alive(), "producer did not finish within 60 s")
    if "error" in result:
        raise result["error"]
    produced_at = result["value"]
    east_ends = wan.in_netns(w.ns[0], mirror.high_watermarks, east.bootstrap, "orders")
    check_eq(total(east_ends), RECORDS, "records in east")
    mirror.wait_for("west to hold all %d records" % RECORDS,
                    lambda: west_ends() == east_ends, COPY_TIMEOUT_S, 0.02)
    done = time.monotonic()
    st = sidecar.status()
    flow = st["flows"][0]
    note("copy: %d records in %.2f s from the producer's start (producer ran %.2f s); "
         "west complete %.2f s after the last record was acknowledged by east; "
         "/status lag_ms=%s lag_records=%s records_copied (since restart)=%s"
         % (RECORDS, done - started, produced_at - started, done - produced_at,
            flow.get("lag_ms"), flow.get("lag_records"), flow.get("records_copied")))

    src = wan.in_netns(w.ns[0], mirror.read_all, east.bootstrap, "orders")
    dst = wan.in_netns(w.ns[1], mirror.read_all, west.bootstrap, "orders")
    for p in range(PARTITIONS):
        check_eq(len(dst[p]), len(src[p]), "records in west orders[%d] (exactly once)" % p)
        for (s_off, key, value, headers, ts), (d_off, dkey, dvalue, dheaders, dts) in \
                zip(src[p], dst[p]):
            rest, prov = mirror.split_provenance(dheaders)
            what = "west orders[%d]@%d (east @%d)" % (p, d_off, s_off)
            check_eq(prov, ("east", p, s_off), what + " provenance")
            check_eq((dkey, dvalue, rest, dts), (key, value, headers, ts), what + " content")
        i_seq = [int(v.split(b":")[0]) for _, _, v, _, _ in dst[p]]
        check_eq(i_seq, sorted(i_seq), "order of west orders[%d]" % p)
    note("verified: %d records, per partition %s, byte-identical with provenance, in order, "
         "exactly once across one kill -9" % (RECORDS, [len(dst[p]) for p in range(PARTITIONS)]))
    print("RESULT rtt_ms=%.1f first_copy_s=%.2f copy_s=%.2f tail_after_produce_s=%.2f"
          % (w.rtt_ms()[0], first_s, done - started, done - produced_at), flush=True)
    sidecar.stop()
    west.stop()
    east.stop()


run_test(main)
