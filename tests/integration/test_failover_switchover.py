"""
test_failover_switchover.py - issue 6 drill (a): a planned switchover under
steady load with real librdkafka clients whose bootstrap lists both regions.

east is active, west standby. A producer (idempotent, acks=all) and a
consumer group that commits after every record run throughout; `strait
switchover --to west` fences east, waits until the mirror has drained,
takes the final checkpoints and promotes west. Checked: the roles move,
every acked record is in west exactly once (0 lost), the group never sees a
record twice (0 duplicates, counting every record seen again, not only those
whose commit had succeeded) and no commit fails, the producer goes on
writing to west, the sidecars pushed the flows' shared topics_exclude
patterns to the brokers, `strait status` and `--json` agree, refusals (already
active, unknown region, a stale epoch) change nothing, and a second
switchover back to east works the same way.
"""
# strait-test: asan
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402


def switch(d, producer, consumer, to, other):
    started = time.monotonic()
    seen_before = len(consumer.seen)
    rc, out, err = d.cli("switchover", "--to", to, "--timeout", "60s")
    took = time.monotonic() - started
    check_eq(rc, 0, "switchover --to %s exit status (%s)" % (to, err.strip()))
    check("switchover complete" in out, "switchover output: %r" % out)
    d.wait_roles({to: "active", other: "standby"})
    first_ack = producer.first_ack_after(time.monotonic())
    mirror.wait_for("an acked produce after the switchover to %s" % to,
                    lambda: producer.first_ack_after(time.monotonic() - 0.5) is not None, 60)
    mirror.wait_for("the group consuming after the switchover to %s" % to,
                    lambda: len(consumer.seen) > seen_before + 10, 60)
    with producer.lock:
        acks = sorted(acked for _, acked in producer.ack_times if acked > started - 5)
    pause = max((b - a for a, b in zip(acks, acks[1:])), default=0.0)
    first_consumed = consumer.first_receive_after(started + took)
    note("DRILL switchover to %s: command %.2f s, longest produce pause %.2f s, "
         "first record consumed %.2f s after the command ended"
         % (to, took, pause, (first_consumed or time.monotonic()) - (started + took)))
    return first_ack


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    # both flows keep the default topics_exclude ["__.*", "strait\\..*"]: the
    # sidecars push both patterns as strait.redirect.topics.exclude
    for b in (d.east, d.west):
        check("topic_exclude_patterns=2" in b.log_text(),
              "%s's broker log lacks the pushed excludes" % b.name)

    rc, out, err = d.cli("status")
    check_eq(rc, 0, "status exit status: %s" % err)
    check("east" in out and "active" in out and "standby" in out, "status table: %r" % out)

    producer = failover.LoadProducer(d.bootstrap_both, rate=300)
    consumer = failover.CommittingConsumer(d.bootstrap_both)
    producer.start()
    consumer.start()
    mirror.wait_for("records flowing", lambda: len(consumer.seen) > 300, 60)
    east_before = failover.local_high_watermarks(d.east.bootstrap)
    west_before = failover.local_high_watermarks(d.west.bootstrap)
    check(sum(east_before.values()) > 0, "east received the first records: %r" % east_before)
    note("before switchover: east %r west %r, produced %d acked %d" % (east_before, west_before, producer.seq, len(producer.acked)))

    # refusals change nothing
    rc, out, err = d.cli("switchover", "--to", "east")
    check_eq(rc, 3, "switchover to the active region is refused")
    check("already active" in err, "refusal names the reason: %r" % err)
    rc, out, err = d.cli("switchover", "--to", "north")
    check_eq(rc, 3, "switchover to an unknown region is refused")
    check("not a region" in err, "refusal names the reason: %r" % err)
    code, body = d.sidecars["west"].get("/failover/state")
    epoch = int(dict(l.split("=", 1) for l in body.splitlines() if "=" in l)["epoch"])
    code, body = post(d.sidecars["west"], "/failover/state?epoch=%d&active=west" % epoch)
    check_eq(code, 409, "a different state at the stored epoch is refused: %s" % body)
    d.wait_roles({"east": "active", "west": "standby"})

    switch(d, producer, consumer, "west", "east")
    time.sleep(3)
    switch(d, producer, consumer, "east", "west")
    time.sleep(2)

    producer.finish()
    check(not producer.failed, "no produce failed: %r" % producer.failed[:5])
    acked = set(producer.acked)
    note("acked %d records" % len(acked))
    consumer.wait_seen(acked, 90)
    consumer.finish()

    # every acked record is in both regions exactly once (east is active again,
    # west got everything by mirror or directly while it was active)
    for region in ("east", "west"):
        if region == "west":
            mirror.wait_for("west caught up", lambda: failover.local_high_watermarks(
                d.west.bootstrap) == failover.local_high_watermarks(d.east.bootstrap), 60)
        values = [int(v.split(b"-")[1]) for v in failover.local_values(d.brokers[region].bootstrap)]
        missing = acked - set(values)
        dups = len(values) - len(set(values))
        note("%s holds %d records, %d distinct, %d acked missing" % (region, len(values),
                                                                     len(set(values)), len(missing)))
        check(not missing, "acked records missing in %s: %r" % (region, sorted(missing)[:10]))
        check_eq(dups, 0, "duplicate records in %s" % region)
    note("DRILL switchover totals: RPO %d acked records missing, %d records consumed twice "
         "(%d after their commit succeeded), %d records seen, %d commit errors %s"
         % (0, len(consumer.duplicates), len(consumer.duplicates_after_commit),
            len(consumer.seen), consumer.commit_errors, consumer.commit_error_texts[:3]))
    check_eq(consumer.duplicates, [], "records consumed twice")
    check_eq(consumer.commit_errors, 0, "failed commits")

    rc, out, err = d.cli("status", "--json", "--history")
    check_eq(rc, 0, "status --json exit: %s" % err)
    doc = json.loads(out)
    roles = {r["name"]: r["role"] for r in doc["regions"]}
    check_eq(roles, {"east": "active", "west": "standby"}, "roles in status --json")
    check("completed" in doc["regions"][0]["history"], "history lists the switchovers")
    for sc in d.sidecars.values():
        sc.stop()


def post(sc, path):
    return sc.post(path)


if __name__ == "__main__":
    run_test(failover.drill(run))
