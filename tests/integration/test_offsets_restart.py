#!/usr/bin/env python3
"""
test_offsets_restart: committed offsets live in __consumer_offsets and
survive broker restarts, so a resumed group consumer starts exactly at its
last commit: it neither skips a record nor reads one it had committed.

1. A group consumer (librdkafka, manual synchronous commits) reads part of a
   3-partition topic and commits; the broker is stopped with SIGTERM and
   restarted; a new consumer of the same group resumes at the committed
   offsets and reads the rest: together they read every record exactly once.
2. The same after kill -9 of the broker (no flush policy: the commits are in
   the page cache, which a process kill keeps).
3. A simple (groupless) commit of an assign() user (generation -1) and an
   OffsetFetch of every committed partition survive the restart too.
4. The group shows in ListGroups / DescribeGroups after the restart, and
   DeleteGroups (kafka-python admin) of the empty group removes its offsets
   for good.
"""
# strait-test: asan

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, Producer,  # noqa: E402
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "ledger"
PARTITIONS = 3
GROUP = "resume-group"


def produce(bs, start, count):
    p = Producer({"bootstrap.servers": bs, "acks": "all"})
    errors = []
    for i in range(start, start + count):
        p.produce(TOPIC, value=b"%d" % i, partition=i % PARTITIONS,
                  on_delivery=lambda err, msg: err and errors.append(err))
    check(p.flush(30) == 0 and not errors, "produce failed: %s" % errors[:1])


def consumer(bs, group=GROUP):
    return Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "enable.partition.eof": True,
                     "session.timeout.ms": 6000})


def read(bs, limit, first_offsets=None):
    """Reads up to limit records (or to the end) with a synchronous commit
    after each; returns [(partition, offset, value)]. first_offsets gets the
    first offset read per partition."""
    c = consumer(bs)
    c.subscribe([TOPIC])
    got, eof = [], set()
    deadline = time.monotonic() + 60
    while len(got) < limit and len(eof) < PARTITIONS:
        check(time.monotonic() < deadline, "consumer stalled after %d records" % len(got))
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            check(m.error().code() == KafkaError._PARTITION_EOF, "consumer error %s" % m.error())
            eof.add(m.partition())
            continue
        eof.discard(m.partition())
        if first_offsets is not None:
            first_offsets.setdefault(m.partition(), m.offset())
        got.append((m.partition(), m.offset(), int(m.value())))
        c.commit(message=m, asynchronous=False)
    c.close()
    return got


def committed(bs, group=GROUP):
    c = consumer(bs, group)
    out = {tp.partition: tp.offset for tp in
           c.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=20)}
    c.close()
    return out


def expect_positions(got):
    """Committed offset per partition after reading got in order."""
    pos = {}
    for p, o, _ in got:
        pos[p] = o + 1
    return pos


def round_trip(t, b, total, restart, what):
    bs = b.bootstrap
    first = read(bs, total // 3 - 17)  # stops inside a partition
    before = committed(bs)
    want = {p: -1001 for p in range(PARTITIONS)}
    want.update(expect_positions(first))
    check_eq(before, want, "committed offsets before the %s" % what)
    restart()
    check_eq(committed(bs), want, "committed offsets after the %s" % what)
    starts = {}
    rest = read(bs, total, starts)
    end = total // PARTITIONS
    for p, o in want.items():
        expected = (o if o >= 0 else 0) if o < end else None  # None: nothing left to read
        check_eq(starts.get(p), expected, "first offset read on partition %d after the %s "
                 "(committed %d)" % (p, what, o))
    values = sorted(v for _, _, v in first + rest)
    check_eq(values, list(range(total)), "records read across the %s" % what)
    note("%s: %d + %d records, resumed exactly at %s" % (what, len(first), len(rest), want))


def main(t):
    b = t.broker(overrides={"group.initial.rebalance.delay.ms": "0",
                            "offsets.topic.num.partitions": "5"})
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                           replication_factor=1)]).values():
        f.result(timeout=30)
    produce(bs, 0, 300)

    def clean():
        b.stop()
        b.start()

    round_trip(t, b, 300, clean, "SIGTERM restart")

    # 2. kill -9: a fresh range of records, the group continues from its commits.
    produce(bs, 300, 300)
    first = read(bs, 100)
    before = committed(bs)
    b.kill9()
    b.start()
    check_eq(committed(bs), before, "committed offsets after kill -9")
    starts = {}
    rest = read(bs, 1000, starts)
    for p, o in before.items():
        check_eq(starts.get(p), o if o < 200 else None,
                 "first offset on partition %d after kill -9" % p)
    check_eq(sorted(v for _, _, v in first + rest), list(range(300, 600)),
             "records read across kill -9")
    note("kill -9: resumed exactly at %s" % before)

    # 3. Simple commit (assign(), generation -1) and OffsetFetch of everything.
    c = Consumer({"bootstrap.servers": bs, "group.id": "assign-user",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 1, OFFSET_BEGINNING)])
    c.commit(offsets=[TopicPartition(TOPIC, 1, 42)], asynchronous=False)
    c.close()
    b.kill9()
    b.start()
    check_eq(committed(bs, "assign-user"), {0: -1001, 1: 42, 2: -1001},
             "simple commit after kill -9")

    # 4. Admin view, then deletion.
    admin = AdminClient({"bootstrap.servers": bs})
    groups = {g.id: g for g in admin.list_groups(timeout=20)}
    check(GROUP in groups and "assign-user" in groups, "ListGroups: %s" % sorted(groups))
    check_eq(groups[GROUP].state, "Empty", "state of %s" % GROUP)
    from kafka import KafkaAdminClient
    kadmin = KafkaAdminClient(bootstrap_servers=bs)
    results = kadmin.delete_consumer_groups([GROUP, "no-such-group"])
    kadmin.close()
    check_eq(sorted((g, getattr(e, "__name__", type(e).__name__)) for g, e in results),
             [("no-such-group", "GroupIdNotFoundError"), (GROUP, "NoError")],
             "DeleteGroups results")
    check_eq(committed(bs), {p: -1001 for p in range(PARTITIONS)}, "offsets after DeleteGroups")
    b.stop()
    b.start()
    check_eq(committed(bs), {p: -1001 for p in range(PARTITIONS)},
             "offsets after DeleteGroups and a restart")
    groups = {g.id for g in AdminClient({"bootstrap.servers": bs}).list_groups(timeout=20)}
    check(GROUP not in groups, "deleted group listed after restart: %s" % sorted(groups))
    b.stop()


run_test(main)
