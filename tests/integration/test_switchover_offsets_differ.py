"""
test_switchover_offsets_differ.py - issue 12, the other side of member
adoption: when the target's offsets are not the old region's, a switchover
must not carry the consumers' positions across.

west holds five records of its own before mirroring starts (written as the
sidecar, which a standby accepts), so every east offset N is west offset
N + 5 and the group sync translates the group's commits to other numbers.
A group running the ordinary consume / process / commit loop goes through a
switchover to west: west must not adopt its member (it logs "not adopted
... translated to other offsets"); the member rejoins and starts at the
translated commits, as before adoption existed (a failed commit and a
re-read are expected there). The flow west->east then copies west's five
records into east too, so the tails line up again and the switchover back
to east adopts the member. Every acknowledged record is consumed.
"""
# strait-test: asan
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from confluent_kafka import Producer  # noqa: E402

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402

SHIFT = 5


def run(t, d):
    p = Producer({"bootstrap.servers": d.west.bootstrap, "client.id": "strait-sidecar-test",
                  "enable.idempotence": False})
    for partition in range(failover.PARTITIONS):
        for i in range(SHIFT):
            p.produce(failover.TOPIC, value=b"west-%d" % (10 ** 9 + partition * 100 + i),
                      partition=partition)
    check_eq(p.flush(30), 0, "west's own records written")
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    producer = failover.LoadProducer(d.bootstrap_both, rate=200)
    group = failover.BatchConsumer(d.bootstrap_both, "app-shifted", "librdkafka")
    producer.start()
    group.start()
    mirror.wait_for("consuming", lambda: group.figures()[2] > 200, 60)
    for to, other in (("west", "east"), ("east", "west")):
        seen = group.figures()[2]
        rc, out, err = d.cli("switchover", "--to", to, "--timeout", "60s")
        check_eq(rc, 0, "switchover --to %s exit status (%s)" % (to, err.strip()))
        d.wait_roles({to: "active", other: "standby"})
        mirror.wait_for("consuming after the switchover to %s" % to,
                        lambda: group.figures()[2] > seen + 200, 90)
    producer.finish()
    check(not producer.failed, "no produce failed: %r" % producer.failed[:5])
    acked = set(producer.acked)
    missing = group.wait_seen(acked, 90)
    group.finish()
    dups, errors, seen = group.figures()
    note("offsets differ: %d acked, %d consumed, %d consumed twice, %d failed commits %s, "
         "%d never consumed" % (len(acked), seen, dups, errors, group.commit_errors[:2],
                                len(missing)))
    check(group.failure is None, "the loop failed: %s" % group.failure)
    check_eq(sorted(missing)[:10], [], "acked records never consumed")
    west, east = d.west.log_text(), d.east.log_text()
    check("member adopted" not in west, "west adopted a member across different offsets")
    check("not adopted group=app-shifted" in west and "translated to other offsets" in west,
          "west says why it did not adopt")
    check("member adopted group=app-shifted" in east,
          "east adopted the member once the offsets lined up again")
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
