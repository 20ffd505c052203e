#!/usr/bin/env python3
"""
test_groups_kafka_python: kafka-python 2.0.2 group consumers, unchanged.

1. A KafkaConsumer with a group_id (its own JoinGroup/SyncGroup/Heartbeat/
   OffsetCommit/OffsetFetch versions) reads part of a 4-partition topic,
   commits synchronously and closes (LeaveGroup).
2. Two consumers of the same group then run side by side: the group splits
   the partitions between them (2 + 2), together they read exactly the rest
   (nothing committed by the first is read again, nothing is skipped) and
   commit it.
3. KafkaAdminClient sees the group: ListGroups, DescribeGroups while the two
   members are active (Stable, two members with their assignments), and the
   committed offsets (OffsetFetch with all partitions) at the log ends.
"""
# strait-test: asan

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

TOPIC = "kp-orders"
PARTITIONS = 4
RECORDS = 400
GROUP = "kp-group"


def consumer(bs, name):
    return KafkaConsumer(TOPIC, bootstrap_servers=bs, group_id=GROUP, client_id=name,
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         session_timeout_ms=6000, heartbeat_interval_ms=500,
                         max_poll_records=50, consumer_timeout_ms=200)


def main(t):
    b = t.broker(overrides={"group.initial.rebalance.delay.ms": "500"})
    bs = b.bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bs)
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    p = KafkaProducer(bootstrap_servers=bs)
    for i in range(RECORDS):
        p.send(TOPIC, value=b"%d" % i, partition=i % PARTITIONS)
    p.flush(30)
    p.close()

    # 1. One member reads about half and commits.
    c = consumer(bs, "first")
    first = []
    deadline = time.monotonic() + 60
    while len(first) < RECORDS // 2:
        check(time.monotonic() < deadline, "first consumer stalled at %d" % len(first))
        for records in c.poll(timeout_ms=500, max_records=50).values():
            first.extend(int(r.value) for r in records)
        c.commit()
    c.close()
    note("first member read and committed %d records" % len(first))

    # 2. Two members side by side.
    got = {"a": [], "b": []}
    assigned = {"a": set(), "b": set()}
    done = threading.Event()
    errors = []

    def member(name):
        try:
            m = consumer(bs, name)
            while not done.is_set():
                for tp, records in m.poll(timeout_ms=200).items():
                    got[name].extend(int(r.value) for r in records)
                assigned[name] = {tp.partition for tp in m.assignment()}
                m.commit()
            m.close()
        except Exception as e:  # reported by the main thread
            errors.append("%s: %r" % (name, e))

    threads = [threading.Thread(target=member, args=(n,), daemon=True) for n in ("a", "b")]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 60
    while len(got["a"]) + len(got["b"]) < RECORDS - len(first) or \
            len(assigned["a"]) != 2 or len(assigned["b"]) != 2:
        check(not errors, "member failed: %s" % errors)
        check(time.monotonic() < deadline, "two members: read %d+%d, assigned %s"
              % (len(got["a"]), len(got["b"]), assigned))
        time.sleep(0.1)
    check_eq(sorted(assigned["a"] | assigned["b"]), list(range(PARTITIONS)), "split")
    note("split: a=%s b=%s" % (sorted(assigned["a"]), sorted(assigned["b"])))

    # 3. Admin views while both members are in the group.
    groups = dict(admin.list_consumer_groups())
    check_eq(groups.get(GROUP), "consumer", "ListGroups protocol type of %s" % GROUP)
    deadline = time.monotonic() + 20
    while True:
        d = admin.describe_consumer_groups([GROUP])[0]
        if d.state == "Stable" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check_eq((d.state, d.protocol_type, len(d.members)), ("Stable", "consumer", 2),
             "DescribeGroups (state, protocol type, members)")
    check(all(m.member_assignment is not None for m in d.members), "members without assignment")

    done.set()
    for th in threads:
        th.join(30)
    check(not errors, "member failed: %s" % errors)
    second = got["a"] + got["b"]
    check(not set(first) & set(second),
          "records committed by the first member were read again: %s"
          % sorted(set(first) & set(second))[:10])
    check_eq(sorted(set(first) | set(second)), list(range(RECORDS)), "records read in all")
    offsets = admin.list_consumer_group_offsets(GROUP)
    check_eq({tp.partition: om.offset for tp, om in offsets.items() if tp.topic == TOPIC},
             {p: RECORDS // PARTITIONS for p in range(PARTITIONS)}, "committed offsets")
    note("%d + %d records, committed at the log ends" % (len(first), len(second)))
    admin.close()
    b.stop()


run_test(main)
