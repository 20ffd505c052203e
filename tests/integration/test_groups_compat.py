#!/usr/bin/env python3
"""
test_groups_compat: consumer-group behaviours that librdkafka's own
integration tests check, each found broken there once (issue 10).

1. Commit metadata is bytes (librdkafka 0099): an OffsetCommit whose
   metadata is "Hello\\0world!" (12 bytes, a NUL inside) is fetched back with
   all 12 bytes, before and after a broker restart (so also through
   __consumer_offsets).
"""
# strait-test: asan

import os
import struct
import sys

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


def main(t):
    b = t.broker(overrides={"num.partitions": "4"})
    commit_metadata_is_bytes(t, b)
    b.stop()


run_test(main)
