#!/usr/bin/env python3
"""
test_long_poll: Fetch long-polls without busy waiting.

- A librdkafka consumer waiting at the log end with fetch.wait.max.ms=5000
  gets a newly produced record promptly: the delay is printed (figures belong
  in docs/benchmarks.md) and only a generous 3 s sanity bound is asserted (a
  broker that never wakes parked fetches answers after the full 5 s).
- While that consumer long-polls an idle broker, the broker uses under 5% of
  one core (utime+stime from /proc/PID/stat over 3 s): no busy waiting.
- A raw Fetch v4 with max_wait_ms=1000 on an empty partition is answered
  (empty) after the wait, not never; its duration is printed.
"""
# strait-test: asan

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402
from kwire import i8, i32, i64, string  # noqa: E402

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "waiting"


def fetch_v4_body(topic, partition, offset, max_wait_ms, min_bytes=1):
    return (i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(1 << 20) + i8(0)
            + i32(1) + string(topic) + i32(1) + i32(partition) + i64(offset) + i32(1 << 20))


def main(t):
    b = t.broker()
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([NewTopic(TOPIC, 1, 1)]).values():
        f.result(timeout=30)
    p = Producer({"bootstrap.servers": bs, "linger.ms": 0})
    p.produce(TOPIC, value=b"first", partition=0)
    check_eq(p.flush(10), 0, "undelivered warm-up record")

    c = Consumer({"bootstrap.servers": bs, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 5000,
                  "fetch.min.bytes": 1, "auto.offset.reset": "latest"})
    c.assign([TopicPartition(TOPIC, 0, OFFSET_END)])

    received = []

    def consume_loop():
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not received:
            for m in c.consume(10, timeout=0.2):
                if not m.error():
                    received.append((time.monotonic(), m.value()))

    # Idle CPU with a long-polling consumer connected.
    th = threading.Thread(target=consume_loop, daemon=True)
    th.start()
    time.sleep(2.5)  # connect, reset to the end, start long-polling
    cpu0, wall0 = b.cpu_seconds(), time.monotonic()
    time.sleep(3.0)
    cpu1, wall1 = b.cpu_seconds(), time.monotonic()
    share = (cpu1 - cpu0) / (wall1 - wall0)
    note("idle broker CPU with a long-polling consumer: %.2f%% of one core" % (share * 100))
    check(share < 0.05, "idle broker used %.1f%% of one core over %.1f s (busy waiting?)"
          % (share * 100, wall1 - wall0))
    check(not received, "consumer received %r before anything was produced" % received)

    # Wake-up delay: the consumer is parked in a 5 s Fetch right now.
    time.sleep(1.0)
    sent_at = time.monotonic()
    p.produce(TOPIC, value=b"wake up", partition=0)
    p.flush(10)
    th.join(30)
    check(received, "long-polling consumer never received the new record")
    delay = received[0][0] - sent_at
    check_eq(received[0][1], b"wake up", "record received")
    note("produce -> long-polling consumer delay: %.1f ms (fetch.wait.max.ms=5000)" % (delay * 1000))
    check(delay < 3.0, "long-polling consumer got the record after %.2f s; a parked Fetch "
          "must be answered when data arrives, not at max_wait_ms" % delay)
    c.close()

    # Raw Fetch v4 on an empty partition: answered after ~max_wait_ms.
    with kwire.Conn(bs) as conn:
        started = time.monotonic()
        body = conn.call(kwire.API_FETCH, 4, fetch_v4_body(TOPIC, 0, 2, 1000))
        took = time.monotonic() - started
    r = kwire.Reader(body)
    r.i32()  # throttle
    check_eq(r.i32(), 1, "topics in the Fetch response")
    check_eq(r.string(), TOPIC, "topic in the Fetch response")
    check_eq(r.i32(), 1, "partitions in the Fetch response")
    check_eq(r.i32(), 0, "partition index")
    check_eq(r.i16(), 0, "Fetch partition error")
    check_eq(r.i64(), 2, "high watermark")
    r.i64()  # last stable offset
    aborted = r.i32()
    check(aborted in (-1, 0), "aborted transactions count %d" % aborted)
    records = r.i32()
    check(records in (-1, 0), "an empty partition returned %d record bytes" % records)
    note("raw Fetch v4 max_wait_ms=1000 on the log end answered in %.0f ms" % (took * 1000))
    check(took < 3.0, "Fetch with max_wait_ms=1000 took %.2f s" % took)
    b.stop()


run_test(main)
