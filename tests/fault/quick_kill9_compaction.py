#!/usr/bin/env python3
"""
quick_kill9_compaction: kill -9 during log compaction loses no latest value
and leaves a log that reads cleanly.

A topic (segment.bytes=64 KiB, segment.ms=1 s) gets 1000 keys x 15 rounds
of 300-byte incompressible values (about 4.5 MB, some 70 segments) under
cleanup.policy=delete with unlimited retention; then AlterConfigs switches it
to compact (min.cleanable.dirty.ratio=0.01), so the first cleaning has the
whole log to do. Several times: the test waits until the broker logs the
start of a cleaning, sleeps a random 0-600 ms and kills the broker with
SIGKILL in the middle of the scan, the rewrite or the swap, restarts it on
the same data dir, and produces two more rounds of updates (so the log is
dirty again). Finally the cleaner is left to finish, and:
- a consumer from offset 0 reads to the end without an error, offsets
  strictly increasing, and the log end is what the producer was told;
- every key is there exactly once with its latest value, at the offset its
  last write got;
- no .cleaned or .swap leftovers remain; the broker stops cleanly.
"""

import glob
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

TOPIC = "compacted"
KEYS = 1000
INITIAL_ROUNDS = 15
KILLS = 5


def produce_rounds(bs, first_round, rounds, latest):
    """Produces rounds of updates for every key; latest[key] = (offset, value)."""
    errors = []

    def on_delivery(err, msg):
        if err:
            errors.append(err)
        elif msg.key() not in latest or latest[msg.key()][0] < msg.offset():
            latest[msg.key()] = (msg.offset(), msg.value())

    p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "acks": "all",
                  "compression.type": random.choice(["none", "lz4", "zstd"]),
                  "max.in.flight.requests.per.connection": 1, "message.timeout.ms": 60000})
    for r in range(first_round, first_round + rounds):
        for k in range(KEYS):
            value = b"round-%04d-key-%04d-" % (r, k) + os.urandom(280)
            while True:
                try:
                    p.produce(TOPIC, key=b"key-%04d" % k, value=value, partition=0,
                              on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
    check(p.flush(120) == 0, "undelivered records")
    check(not errors, "delivery errors: %s" % errors[:1])


def read_all(bs):
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "error"})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    out = []
    deadline = time.monotonic() + 120
    while True:
        check(time.monotonic() < deadline, "reading back did not reach the end in 120 s")
        batch = c.consume(1000, timeout=1.0)
        done = False
        for m in batch:
            if m.error():
                check(m.error().code() == KafkaError._PARTITION_EOF, "consumer error: %s" % m.error())
                done = True
            else:
                out.append((m.offset(), m.key(), m.value()))
        if done:
            break
    _, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
    c.close()
    return out, high


def cleanings_started(b):
    return len(re.findall(r"cleaner: cleaning dir=\S*%s-0" % TOPIC, b.log_text()))


def main(t):
    b = t.broker()
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    config = {"cleanup.policy": "delete", "retention.ms": "-1", "segment.bytes": str(64 * 1024),
              "segment.ms": "1000", "min.cleanable.dirty.ratio": "0.01",
              "delete.retention.ms": "1000"}
    for f in admin.create_topics([NewTopic(TOPIC, 1, 1, config=config)]).values():
        f.result(timeout=30)

    latest = {}
    produce_rounds(bs, 0, INITIAL_ROUNDS, latest)
    next_round = INITIAL_ROUNDS
    config["cleanup.policy"] = "compact"
    for f in admin.alter_configs([ConfigResource("topic", TOPIC, set_config=config)]).values():
        f.result(timeout=30)
    del admin
    for kill in range(KILLS):
        before = cleanings_started(b)
        if kill > 0:
            produce_rounds(bs, next_round, 2, latest)
            next_round += 2
        deadline = time.monotonic() + 60
        while cleanings_started(b) == before:
            check(time.monotonic() < deadline, "no cleaning started within 60 s (kill %d)" % kill)
            time.sleep(0.02)
        time.sleep(random.uniform(0, 0.6))
        b.kill9()
        part = os.path.join(b.data_dir, "%s-0" % TOPIC)
        leftovers = glob.glob(os.path.join(part, "*.cleaned")) + glob.glob(os.path.join(part, "*.swap"))
        note("kill %d: leftovers %s" % (kill, [os.path.basename(p) for p in leftovers]))
        b.start()

    end = max(offset for offset, _ in latest.values()) + 1
    deadline = time.monotonic() + 120
    while True:
        records, high = read_all(bs)
        keys = [r[1] for r in records]
        if len(keys) == len(set(keys)) == KEYS:
            break
        check(time.monotonic() < deadline, "not compacted within 120 s: %d records" % len(records))
        time.sleep(1)
    check_eq(high, end, "log end offset")
    offsets = [r[0] for r in records]
    check(offsets == sorted(offsets) and len(set(offsets)) == len(offsets),
          "offsets not strictly increasing")
    check_eq({k: (o, v) for o, k, v in records}, latest, "latest value per key")
    part = os.path.join(b.data_dir, "%s-0" % TOPIC)
    check(not glob.glob(os.path.join(part, "*.cleaned")) and not glob.glob(os.path.join(part, "*.swap")),
          "cleaner leftovers: %s" % sorted(os.listdir(part)))
    b.stop()


if __name__ == "__main__":
    run_test(main)
