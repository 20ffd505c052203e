"""
test_switchover_consumers.py - issue 12: a planned switchover costs an
ordinary consumer nothing.

east is active, west standby, both brokers in every client's bootstrap list.
A producer (acks=all, idempotent) writes about 200 records/s and records
every acknowledgement. Two consumer groups run the loop most applications
run: consume a batch, process it, commit the positions synchronously, ignore
a failed commit -- one of two librdkafka (confluent-kafka) members, one of a
single kafka-python member. `strait switchover` then moves the active role back and forth
(STRAIT_SWITCHOVERS times, default 10: the count issue 12 asks for) in the middle of the load.

Counted, for each group: every record consumed more than once (whatever
became of its commit), every failed commit, and every acknowledged record
the group never consumed. Each must be 0.
"""
# strait-test: asan
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402

RATE = 200
SWITCHOVERS = int(os.environ.get("STRAIT_SWITCHOVERS", "10"))


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    producer = failover.LoadProducer(d.bootstrap_both, rate=RATE)
    ledger = failover.Ledger()
    second = failover.BatchConsumer(d.bootstrap_both, "app-rdkafka", "librdkafka", ledger=ledger)
    groups = [failover.BatchConsumer(d.bootstrap_both, "app-rdkafka", "librdkafka", ledger=ledger),
              failover.BatchConsumer(d.bootstrap_both, "app-kafka-python", "kafka-python")]
    producer.start()
    for g in groups + [second]:
        g.start()
    for g in groups:
        mirror.wait_for("%s consuming" % g.group, lambda: g.figures()[2] > 200, 60)
    # both librdkafka members hold partitions before the first switchover
    mirror.wait_for("both members of app-rdkafka consuming",
                    lambda: groups[0].consumed > 50 and second.consumed > 50, 60)

    active, standby = "east", "west"
    for i in range(SWITCHOVERS):
        time.sleep(random.uniform(0.0, 2.0))  # a different moment of the consume-commit loop
        before = [g.figures() for g in groups]
        before[0] = (before[0][0], before[0][1] + len(second.commit_errors), before[0][2])
        rc, out, err = d.cli("switchover", "--to", standby, "--timeout", "60s")
        check_eq(rc, 0, "switchover %d --to %s exit status (%s)" % (i + 1, standby, err.strip()))
        active, standby = standby, active
        d.wait_roles({active: "active", standby: "standby"})
        seen = [g.figures()[2] for g in groups]
        for g, n in zip(groups, seen):
            mirror.wait_for("%s consuming after switchover %d" % (g.group, i + 1),
                            lambda: g.figures()[2] > n + 200, 60)
        for g, b in zip(groups, before):
            dups, errors, _ = g.figures()
            if g is groups[0]:
                errors += len(second.commit_errors)
            note("SWITCHOVER %d to %s, %s: %d records consumed twice, %d failed commits"
                 % (i + 1, active, g.group, dups - b[0], errors - b[1]))

    producer.finish()
    check(not producer.failed, "no produce failed: %r" % producer.failed[:5])
    acked = set(producer.acked)
    missing = {g.group: g.wait_seen(acked, 60) for g in groups}
    for g in groups + [second]:
        g.finish()
    failures = []
    members = {"app-rdkafka": [groups[0], second], "app-kafka-python": [groups[1]]}
    for g in groups:
        dups, _, seen = g.figures()
        texts = [e for m in members[g.group] for e in m.commit_errors]
        errors = len(texts)
        note("TOTAL %s (%d members) over %d switchovers: %d acked, %d consumed, "
             "%d consumed twice, %d failed commits %s, %d acked records never consumed %s"
             % (g.group, len(members[g.group]), SWITCHOVERS, len(acked), seen, dups, errors,
                texts[:3], len(missing[g.group]), sorted(missing[g.group])[:10]))
        for m in members[g.group]:
            check(m.failure is None, "a loop of %s failed: %s" % (g.group, m.failure))
        if dups or errors or missing[g.group]:
            failures.append("%s: %d consumed twice, %d failed commits, %d never consumed"
                            % (g.group, dups, errors, len(missing[g.group])))
    for b in (d.east, d.west):  # how the members got across (broker/group/coordinator_adopt.c)
        text = b.log_text()
        note("%s: %d members adopted, %d not adopted" % (b.name, text.count("member adopted"),
                                                          text.count("not adopted")))
    check(not failures, "; ".join(failures))
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
