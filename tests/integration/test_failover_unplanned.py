"""
test_failover_unplanned.py - issue 6 drill (b): every process of the active
region (east's broker and sidecar) is killed with SIGKILL under load, then
`strait failover --to west`. Real librdkafka clients with both regions in
bootstrap.servers carry on against west.

Measured and printed (docs/benchmarks.md takes them from here): RPO = acked
records missing in west, RTO = kill -> first acked produce in west and
kill -> first record consumed after the kill; the duplicate count of the
committing group (bounded by one checkpoint interval of consumption).
Checked: a failover is refused while east's sidecar still answers (unless
--force) and for an unknown region; the CLI reports the expected loss; when
east comes back it adopts the newer epoch from west's sidecar and is a
standby (its brokers redirect and refuse client writes); `strait status`
shows both regions at the same epoch. Runs with `failover.broker_lease: 2s`
(manual mode has none by default): east's broker, restarted before its
sidecar, comes back from its stored `active` role with its lease run out and
refuses client writes until its sidecar has made it a standby.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    producer = failover.LoadProducer(d.bootstrap_both, rate=300)
    consumer = failover.CommittingConsumer(d.bootstrap_both)
    producer.start()
    consumer.start()
    mirror.wait_for("records flowing", lambda: len(consumer.seen) > 600, 60)

    rc, out, err = d.cli("failover", "--to", "west")
    check_eq(rc, 3, "failover while east's sidecar answers is refused")
    check("still answers" in err and "switchover" in err, "refusal says why: %r" % err)
    rc, out, err = d.cli("failover", "--to", "south")
    check_eq(rc, 3, "failover to an unknown region is refused")

    # the disaster: every process of east
    d.sidecars["east"].proc.kill()
    d.east.kill9()  # returns once the process is gone: later acks come from west
    killed_at = time.monotonic()
    note("east broker and sidecar killed with SIGKILL")
    time.sleep(1)

    rc, out, err = d.cli("failover", "--to", "west", "--json")
    check_eq(rc, 0, "failover --to west exit status (%s)" % err.strip())
    result = json.loads(out)
    check_eq(result["outcome"], "completed", "failover outcome")
    check(result["lag_records"] >= 0, "failover reports the expected loss: %r" % result)
    d.wait_roles({"west": "active"})

    mirror.wait_for("an acked produce in west after the kill",
                    lambda: producer.first_ack_after(killed_at) is not None, 90)
    mirror.wait_for("a consumed record after the kill",
                    lambda: consumer.first_receive_after(killed_at + 0.5) is not None, 90)
    time.sleep(3)
    producer.finish()
    rto_produce = producer.first_ack_after(killed_at) - killed_at
    rto_consume = consumer.first_receive_after(killed_at + 0.5) - killed_at

    acked = set(producer.acked)
    west_values = [int(v.split(b"-")[1]) for v in failover.local_values(d.west.bootstrap)]
    missing = acked - set(west_values)
    check_eq(len(west_values) - len(set(west_values)), 0, "duplicate records in west")
    # what consumers can still get is what west has
    consumer.wait_seen(acked - missing, 90)
    consumer.finish()
    note("DRILL unplanned failover: RPO %d acked records missing (reported lag %d), "
         "RTO produce %.2f s, RTO consume %.2f s, records consumed twice %d (%d after their "
         "commit succeeded), failed commits %d, acked %d, failed %d"
         % (len(missing), result["lag_records"], rto_produce, rto_consume,
            len(consumer.duplicates), len(consumer.duplicates_after_commit),
            consumer.commit_errors, len(acked), len(producer.failed)))
    check(len(missing) <= max(result["lag_records"], 0) + 300,
          "loss %d is within the reported lag %d plus the records produced after the last "
          "lag reading" % (len(missing), result["lag_records"]))

    # east comes back: it must not take writes as an active region
    d.east.restart()
    err = failover.produce_only_to(d.east.bootstrap, b"east-returned")
    check(err is not None, "east's broker, back before its sidecar, refuses client writes")
    note("a client write to the returned east before its sidecar is back: %s" % err)
    # while east's sidecar starts (and before it has asked west), a client
    # that knows only east keeps writing: east itself must take none of it
    # (once east is a standby the client is sent to west, and west's records
    # come back into east through the mirror, with their provenance header)
    base = failover.local_high_watermarks(d.east.bootstrap)
    stop = threading.Event()
    acked = []

    def east_writer():
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": d.east.bootstrap, "client.id": "drill-east-only",
                      "message.timeout.ms": 2000, "enable.idempotence": False,
                      "linger.ms": 0})
        i = 0
        while not stop.is_set():
            p.produce(failover.TOPIC, value=b"east-only-%d" % i,
                      on_delivery=lambda err, msg: err is None and acked.append(msg.value()))
            p.poll(0.02)
            i += 1
        p.flush(5)
    writer = threading.Thread(target=east_writer)
    writer.start()
    try:
        d.sidecars["east"].start()
        d.wait_roles({"east": "standby", "west": "active"}, 30)
        time.sleep(1)
    finally:
        stop.set()
        writer.join()
    direct = east_records_without_provenance(d, base)
    note("east-only client while east's sidecar started: %d acked (by west, after the "
         "redirect); records east took directly: %d" % (len(acked), len(direct)))
    check_eq(direct, [], "records written into east by a client while its sidecar started")
    rc, out, err = d.cli("status", "--json", "--history")
    check_eq(rc, 0, "status after east returned: %s" % out)
    doc = json.loads(out)
    epochs = {r["name"]: r["epoch"] for r in doc["regions"]}
    check_eq(epochs["east"], epochs["west"], "both regions at one epoch")
    east_doc = [r for r in doc["regions"] if r["name"] == "east"][0]
    west_doc = [r for r in doc["regions"] if r["name"] == "west"][0]
    check_eq((west_doc["broker_lease_ms"], west_doc["broker_lease_renewing"],
              east_doc["broker_lease_renewing"]), (2000, True, False),
             "status: west's brokers' lease is renewed, east's (a standby) is not")
    check("adopted" in east_doc["history"], "east's history records the adoption")
    for sc in d.sidecars.values():
        sc.stop()


def east_records_without_provenance(d, base):
    """Values of the records in east past base ({partition: offset}) that
    carry no strait.src header (written by a client, not by the mirror)."""
    from confluent_kafka import Consumer, TopicPartition
    ends = failover.local_high_watermarks(d.east.bootstrap)
    c = Consumer({"bootstrap.servers": d.east.bootstrap, "group.id": "strait-sidecar-check",
                  "client.id": "strait-sidecar-check", "enable.auto.commit": False})
    found = []
    try:
        want = {p: e for p, e in ends.items() if e > base.get(p, 0)}
        c.assign([TopicPartition(failover.TOPIC, p, base.get(p, 0)) for p in want])
        deadline = time.monotonic() + 30
        pos = dict(base)
        while any(pos.get(p, 0) < e for p, e in want.items()) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            if not any(k == "strait.src" for k, _ in (m.headers() or [])):
                found.append(m.value())
        check(all(pos.get(p, 0) >= e for p, e in want.items()), "read east up to its end")
    finally:
        c.close()
    return found


if __name__ == "__main__":
    run_test(failover.drill(run, {"broker_lease": "2s"}))
