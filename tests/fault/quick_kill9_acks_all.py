#!/usr/bin/env python3
"""
quick_kill9_acks_all: kill -9 during acks=all production with
flush.messages=1 loses no acknowledged record.

A confluent producer (acks=all, one request in flight so order is defined)
sends numbered records; the broker is killed with SIGKILL mid-stream, the
producer keeps going, the broker is restarted on the same data dir, the
producer finishes. Then:
- every record whose delivery report was a success is in the log;
- the first occurrences of acknowledged records are in send order;
- offsets are contiguous from 0 (recovery left no hole or garbage);
- the broker still shuts down cleanly.
Records that were written but whose ack was lost may appear twice (retries
without idempotence); records that failed may or may not be there.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration", "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "acked"


def read_all(bs):
    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "error"})
    c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
    out = []
    deadline = time.monotonic() + 60
    while True:
        check(time.monotonic() < deadline, "reading back did not reach the end in 60 s")
        batch = c.consume(1000, timeout=1.0)
        if any(m.error() and m.error().code() == KafkaError._PARTITION_EOF for m in batch):
            out.extend(m for m in batch if not m.error())
            break
        for m in batch:
            check(not m.error(), "consumer error: %s" % (m.error(),))
            out.append(m)
    c.close()
    return [(m.offset(), int(m.value().split(b":")[0])) for m in out]


def main(t):
    b = t.broker(overrides={"log.flush.interval.messages": "1",
                            "log.segment.bytes": str(256 * 1024)})
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})  # must outlive its futures
    for f in admin.create_topics([NewTopic(TOPIC, 1, 1)]).values():
        f.result(timeout=30)
    del admin

    acked, failed = [], []
    lock = threading.Lock()

    def on_delivery(err, msg):
        seq = int(msg.value().split(b":")[0])
        with lock:
            (failed if err else acked).append(seq)

    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 2,
                  "max.in.flight.requests.per.connection": 1, "message.timeout.ms": 15000,
                  "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200,
                  "retry.backoff.ms": 50})
    seq = 0

    def produce_for(seconds):
        nonlocal seq
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                p.produce(TOPIC, value=b"%d:%s" % (seq, b"p" * 200), partition=0,
                          on_delivery=on_delivery)
                seq += 1
            except BufferError:
                p.poll(0.01)
            # bursts of 100 then a short poll: at most ~20k records/s, so the
            # read-back stays small even when the queue is flushed at once
            p.poll(0.005 if seq % 100 == 0 else 0)

    produce_for(2.0)
    with lock:
        before_kill = len(acked)
    check(before_kill > 100, "only %d records acknowledged in 2 s before the kill" % before_kill)
    b.kill9()
    produce_for(1.0)           # producer keeps sending into the dead broker
    b.start()                  # same data dir, same port (main thread: see broker.py)
    produce_for(2.0)
    remaining = p.flush(30)
    check_eq(remaining, 0, "records still queued 30 s after the restart")
    note("sent %d, acknowledged %d (%d before the kill), failed %d"
         % (seq, len(acked), before_kill, len(failed)))
    check(len(acked) > before_kill, "nothing was acknowledged after the restart")

    log = read_all(bs)
    check_eq([o for o, _ in log], list(range(len(log))), "offsets after recovery")
    first_pos = {}
    for pos, (_offset, s) in enumerate(log):
        first_pos.setdefault(s, pos)
    missing = [s for s in acked if s not in first_pos]
    check(not missing, "%d acknowledged records lost after kill -9 (first: %s)"
          % (len(missing), missing[:10]))
    acked_sorted = sorted(acked)
    positions = [first_pos[s] for s in acked_sorted]
    check(positions == sorted(positions), "acknowledged records are not in send order in the log")
    note("all %d acknowledged records present in order; log holds %d records (%d duplicates)"
         % (len(acked), len(log), len(log) - len(first_pos)))
    b.stop()


run_test(main)
