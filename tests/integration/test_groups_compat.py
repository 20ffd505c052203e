#!/usr/bin/env python3
"""
test_groups_compat: consumer-group behaviours that librdkafka's own
integration tests check, each found broken there once (issue 10).

1. Commit metadata is bytes (librdkafka 0099): an OffsetCommit whose
   metadata is "Hello\\0world!" (12 bytes, a NUL inside) is fetched back with
   all 12 bytes, before and after a broker restart (so also through
   __consumer_offsets).
2. Static membership (KIP-345, librdkafka 0102): two members with
   group.instance.id split a topic; one closes (a static member sends no
   LeaveGroup) and a new consumer with the same group.instance.id comes back
   within the session timeout: it gets the same partitions without a
   rebalance (the other member sees no revoke, the generation stays).
3. Cooperative rebalancing (librdkafka 0113 b_subscribe_with_cb_test): a
   member with the cooperative-sticky assignor holds all four partitions; a
   second joins. The first gives up exactly two partitions (one revoke of
   two, never all four), and after the follow-up rebalance each member
   holds two; the first member's assign callback ran three times, the
   second's twice, as against Apache Kafka.
"""
# strait-test: asan

import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import kwire  # noqa: E402
from broker import check_eq, note, run_test  # noqa: E402

API_OFFSET_COMMIT = 8
API_OFFSET_FETCH = 9
API_FIND_COORDINATOR = 10

METADATA = b"Hello\0world!"


def offset_commit_v2(group, topic, partition, offset, metadata):
    """A simple commit (generation -1, no member): v2 body."""
    part = kwire.i32(partition) + kwire.i64(offset) + kwire.string(metadata)
    return (kwire.string(group) + kwire.i32(-1) + kwire.string("") + kwire.i64(-1)
            + kwire.array([topic], lambda t: kwire.string(t) + kwire.array([part], lambda p: p)))


def parse_offset_commit_v2(body):
    r = kwire.Reader(body)
    return r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))


def offset_fetch_v1(group, topic, partition):
    return (kwire.string(group)
            + kwire.array([topic], lambda t: kwire.string(t)
                          + kwire.array([partition], kwire.i32)))


def parse_offset_fetch_v1(body):
    """-> [(topic, [(partition, offset, metadata bytes, error)])]"""
    r = kwire.Reader(body)

    def partition(r):
        index, offset = r.i32(), r.i64()
        n = r.i16()
        metadata = None if n < 0 else r.take(n)
        return index, offset, metadata, r.i16()
    return r.array(lambda r: (r.string(), r.array(partition)))


def fetch_metadata(bootstrap, group, topic):
    with kwire.Conn(bootstrap) as c:
        got = parse_offset_fetch_v1(c.call(API_OFFSET_FETCH, 1, offset_fetch_v1(group, topic, 0)))
    check_eq(len(got), 1, "topics in the OffsetFetch response")
    (partition, offset, metadata, error), = got[0][1]
    check_eq((partition, offset, error), (0, 42, kwire.NONE), "fetched partition, offset, error")
    return metadata


def commit_metadata_is_bytes(t, b):
    group, topic = "compat-metadata", "compat-metadata-topic"
    with kwire.Conn(b.bootstrap) as c:
        c.call(kwire.API_METADATA, 1, kwire.metadata_v1_body([topic]))  # auto-creates the topic
        body = c.call(API_FIND_COORDINATOR, 0, kwire.string(group))
        check_eq(struct.unpack(">h", body[:2])[0], kwire.NONE, "FindCoordinator error")
        got = parse_offset_commit_v2(c.call(API_OFFSET_COMMIT, 2,
                                            offset_commit_v2(group, topic, 0, 42, METADATA)))
    check_eq(got, [(topic, [(0, kwire.NONE)])], "OffsetCommit response")
    check_eq(fetch_metadata(b.bootstrap, group, topic), METADATA, "metadata fetched back")
    b.restart()
    check_eq(fetch_metadata(b.bootstrap, group, topic), METADATA,
             "metadata fetched back after a restart (read from __consumer_offsets)")
    note("commit metadata: 12 bytes with a NUL inside came back whole, also after a restart")


class Member:
    """One confluent_kafka consumer polled from the test's thread; records its
    rebalance callbacks as (kind, partitions) in order."""

    def __init__(self, bootstrap, group, name, extra=None):
        from confluent_kafka import Consumer
        conf = {"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
                "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                "auto.offset.reset": "earliest", "enable.auto.commit": False}
        conf.update(extra or {})
        self.name = name
        self.events = []
        self.c = Consumer(conf)

    def subscribe(self, topic):
        self.c.subscribe(
            [topic],
            on_assign=lambda c, ps: self._on("assign", c, ps),
            on_revoke=lambda c, ps: self._on("revoke", c, ps),
            on_lost=lambda c, ps: self._on("lost", c, ps))

    def _on(self, kind, consumer, partitions):
        # the binding then (un)assigns, incrementally for cooperative-sticky
        self.events.append((kind, sorted(p.partition for p in partitions)))

    def held(self):
        return sorted(p.partition for p in self.c.assignment())

    def count(self, kind):
        return sum(1 for k, _ in self.events if k == kind)


def poll_until(what, members, predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for m in members:
            m.c.poll(0.05)
        if predicate():
            return
    raise AssertionError("timed out after %d s waiting for %s; events: %s" % (
        timeout_s, what, {m.name: m.events for m in members}))


def create_topic(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(30)


def static_member_comes_back_without_rebalance(t, b):
    group, topic = "compat-static", "compat-static-topic"
    create_topic(b.bootstrap, topic, 4)
    a = Member(b.bootstrap, group, "static-a", {"group.instance.id": "instance-a"})
    c = Member(b.bootstrap, group, "static-b", {"group.instance.id": "instance-b"})
    a.subscribe(topic)
    c.subscribe(topic)
    poll_until("both static members hold two partitions", [a, c],
               lambda: len(a.held()) == 2 and len(c.held()) == 2, 40)
    partitions_b = c.held()
    c.c.close()  # a static member leaves without LeaveGroup
    a_events = len(a.events)
    back = Member(b.bootstrap, group, "static-b2", {"group.instance.id": "instance-b"})
    started = time.monotonic()
    back.subscribe(topic)
    poll_until("the returning static member's assignment", [a, back],
               lambda: back.held() == partitions_b, 9)
    took_s = time.monotonic() - started
    for _ in range(20):  # one more second: a rebalance would reach the other member by now
        a.c.poll(0.05)
        back.c.poll(0.05)
    check_eq(a.events[a_events:], [], "rebalance events of the member that stayed")
    check_eq(back.events, [("assign", partitions_b)], "events of the returning static member")
    note("static member came back with partitions %s in %.2f s, no rebalance" % (partitions_b, took_s))
    a.c.close()
    back.c.close()


def cooperative_sticky_moves_only_what_it_must(t, b):
    group, topic = "compat-cooperative", "compat-cooperative-topic"
    create_topic(b.bootstrap, topic, 4)
    extra = {"partition.assignment.strategy": "cooperative-sticky"}
    first = Member(b.bootstrap, group, "coop-1", extra)
    second = Member(b.bootstrap, group, "coop-2", extra)
    first.subscribe(topic)
    poll_until("the first member holds every partition", [first],
               lambda: first.held() == [0, 1, 2, 3], 30)
    second.subscribe(topic)
    poll_until("two partitions each", [first, second],
               lambda: len(first.held()) == 2 and len(second.held()) == 2
               and first.count("assign") == 3 and second.count("assign") == 2, 60)
    check_eq(sorted(first.held() + second.held()), [0, 1, 2, 3], "partitions held by the two")
    revokes = [p for k, p in first.events if k == "revoke"]
    check_eq(len(revokes), 1, "revoke callbacks of the first member")
    check_eq(sorted(revokes[0]), second.held(), "partitions the first member gave up")
    check_eq([k for k, _ in second.events], ["assign", "assign"], "events of the second member")
    check_eq(first.count("lost"), 0, "lost partitions")
    note("cooperative-sticky: first %s, second %s, events first=%s second=%s"
         % (first.held(), second.held(), first.events, second.events))
    first.c.close()
    second.c.close()


def main(t):
    b = t.broker(overrides={"num.partitions": "4"})
    commit_metadata_is_bytes(t, b)
    static_member_comes_back_without_rebalance(t, b)
    cooperative_sticky_moves_only_what_it_must(t, b)
    b.stop()


run_test(main)
