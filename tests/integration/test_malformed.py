#!/usr/bin/env python3
"""
test_malformed: hostile frames on raw sockets, each with its exact outcome.

Before every case a bystander connection is opened; after the case the
bystander must still get answers (other connections unaffected), a fresh
ApiVersions round trip must work and kcat must list metadata.

Outcomes asserted (Kafka's own behaviour):
- frames larger than socket.request.max.bytes (garbage whose first 4 bytes
  read as a huge size, 2^31-1, 200 MiB, a negative size) : connection closed,
  and the broker's VmPeak does not grow by the announced size (refused before
  allocating);
- truncated frames (header cut short, body cut short, a sender that goes
  away mid-frame): connection closed / nothing answered, no crash;
- a client_id length below -1 (-2, -32768): connection closed, as for any
  other string length below -1;
- the malformed-request log line names the field and the byte offset (in
  the frame after its size prefix) where decoding stopped;
- unknown API key: connection closed;
- ApiVersions at an unsupported version (v99): error 35 with a v0 body
  holding exactly {18, 0, max}, and the connection keeps working;
- negative array count, array count 2^31-1 with a few bytes: closed;
- Produce with a corrupt CRC: partition error CORRUPT_MESSAGE (2), nothing
  appended;
- Produce (v3) of a magic 1 message set: refused per partition (2, 35, 43
  or 87 accepted), nothing appended;
- a valid Produce of a v2 batch built here succeeds (control case: the
  builder is right, so the refusals above are about the corruption).
"""
# strait-test: asan

import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import TestFailure, check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402
from kwire import i16, i32, string  # noqa: E402

TOPIC = "hostile"


class Case:
    def __init__(self, broker):
        self.b = broker

    def __enter__(self):
        check(self.b.alive(), "%s is not running at the start of the case" % self.b.name)
        self.bystander = kwire.Conn(self.b.bootstrap)
        err, _ = self.bystander.api_versions()
        check_eq(err, 0, "bystander ApiVersions before the case")
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.b.alive():
            self.bystander.close()
            raise TestFailure("%s died during the case (exit status %s); see its log below"
                              % (self.b.name, self.b.proc.poll() if self.b.proc else "?"))
        if exc_type is None:
            try:
                err, _ = self.bystander.api_versions()
            except Exception as e:
                raise TestFailure("bystander connection broken by the case: %r" % e)
            check_eq(err, 0, "bystander ApiVersions after the case")
        self.bystander.close()
        if exc_type is None:
            self.b.assert_serving()
        return False


def expect_closed(conn, what, timeout_s=10):
    check(conn.wait_closed(timeout_s), "%s: broker did not close the connection within %d s"
          % (what, timeout_s))


def oversized(b, size_bytes, what, send_body=b""):
    before = b.vm_peak_kib()
    with Case(b):
        with kwire.Conn(b.bootstrap) as c:
            c.send(struct.pack(">I", size_bytes & 0xFFFFFFFF) + send_body)
            expect_closed(c, what)
    grew_mib = (b.vm_peak_kib() - before) / 1024
    check(grew_mib < 64, "%s: broker VmPeak grew by %.0f MiB (allocated by the size field?)"
          % (what, grew_mib))
    note("%s: closed, VmPeak +%.1f MiB" % (what, grew_mib))


def produce_call(b, body, version=3):
    with kwire.Conn(b.bootstrap) as c:
        return kwire.parse_produce_v3(c.call(kwire.API_PRODUCE, version, body))


def log_end(b):
    with kwire.Conn(b.bootstrap) as c:
        res = kwire.parse_list_offsets_v1(c.call(kwire.API_LIST_OFFSETS, 1,
                                                 kwire.list_offsets_v1_body(TOPIC, 0, -1)))
    err, _ts, offset = res[(TOPIC, 0)]
    check_eq(err, 0, "ListOffsets latest error")
    return offset


def main(t):
    b = t.broker(overrides={"num.partitions": "1"})

    # Control: a well-formed Produce of a batch built by kwire is accepted.
    batch = kwire.record_batch([(b"k1", b"v1", [(b"h", b"x")]), (None, b"v2", [])])
    res = produce_call(b, kwire.produce_v3_body(TOPIC, 0, batch))
    check_eq(res.get((TOPIC, 0)), (0, 0), "valid Produce v3 -> (error, base offset)")
    check_eq(log_end(b), 2, "log end after the valid produce")
    note("control Produce accepted")

    # 1. Garbage: "GET / HTTP/1.1" reads as a 1.2 GB size.
    with Case(b):
        with kwire.Conn(b.bootstrap) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            expect_closed(c, "HTTP garbage")
    note("HTTP garbage: closed")

    # 2. Oversized / negative size prefixes.
    oversized(b, 2**31 - 1, "size 2^31-1", send_body=b"\x00" * 64)
    oversized(b, 200 * 1024 * 1024, "size 200 MiB", send_body=b"\x00\x12\x00\x00" + b"\x00" * 60)
    oversized(b, 0xFFFFFFF0, "negative size -16")

    # 3. Truncated frames.
    with Case(b):
        with kwire.Conn(b.bootstrap) as c:  # header shorter than its fixed fields
            c.send(i32(6) + i16(18) + i16(0) + b"\x00\x00")
            expect_closed(c, "frame of 6 bytes (header cut inside correlation id)")
        with kwire.Conn(b.bootstrap) as c:  # client_id length past the frame end
            c.send(i32(12) + i16(18) + i16(0) + i32(7) + i16(200) + b"ab")
            expect_closed(c, "client_id longer than the frame")
        with kwire.Conn(b.bootstrap) as c:  # Metadata v1 whose topic string is cut
            body = i32(1) + i16(50) + b"short"
            c.send(kwire.request(kwire.API_METADATA, 1, 1, body))
            expect_closed(c, "Metadata with a truncated topic name")
        for length in (-2, -32768):  # client_id length below -1: not a length
            with kwire.Conn(b.bootstrap) as c:
                c.send(i32(10) + i16(kwire.API_API_VERSIONS) + i16(0) + i32(9) + i16(length))
                expect_closed(c, "client_id length %d" % length)
        c = kwire.Conn(b.bootstrap)  # sender goes away mid-frame
        c.send(i32(1000) + i16(18) + i16(0) + i32(1) + b"partial")
        time.sleep(0.2)
        c.close()
        with kwire.Conn(b.bootstrap) as c:  # announced 100 bytes, sent 10, then waits
            c.send(i32(100) + b"0123456789")
            c.sock.settimeout(1.0)
            try:
                data = c.sock.recv(100)
                check(data == b"", "broker answered an incomplete frame with %r" % data[:40])
            except socket.timeout:
                pass  # still waiting for the rest of the frame: correct
    log = b.log_text()
    # offsets count from the first header byte: Metadata's topic name bytes
    # start at 27 (header 10 + client_id "strait-test" 11, count 4, length
    # 2); the client_id length ends at 10
    for expected in (r"malformed request peer=\S+ api=Metadata version=1 error=input ended early "
                     r"field=\S+ offset=27\b",
                     r"malformed request peer=\S+ api=ApiVersions version=0 error=corrupt data "
                     r"field=client_id offset=10\b"):
        check(re.search(expected, log), "no malformed-request log line matching %r" % expected)
    note("truncated frames and client_id lengths below -1: handled, logged with offsets")

    # 4. Unknown API key.
    with Case(b):
        with kwire.Conn(b.bootstrap) as c:
            c.send(kwire.request(9999, 0, 1, b""))
            expect_closed(c, "unknown api key 9999")
        with kwire.Conn(b.bootstrap) as c:
            c.send(kwire.request(-1, 0, 1, b""))
            expect_closed(c, "api key -1")
    note("unknown api keys: closed")

    # 5. ApiVersions at an unsupported version: error 35 + v0 body {18, 0, max}.
    with Case(b):
        with kwire.Conn(b.bootstrap) as c:
            _err, keys = c.api_versions()
            advertised = {k: (lo, hi) for k, lo, hi in keys}
            c.send(kwire.request(kwire.API_API_VERSIONS, 99, 77, b"\x07garbage\x00",
                                 header_version=2))
            cid, body = c.recv_response(0)
            check_eq(cid, 77, "correlation id of the ApiVersions v99 answer")
            error, entries, rest = kwire.parse_api_versions_v0(body)
            check_eq(error, kwire.UNSUPPORTED_VERSION, "ApiVersions v99 error code")
            check_eq(entries, [(18, 0, advertised[18][1])], "ApiVersions v99 api keys array")
            check_eq(rest, 0, "bytes after the v0 body of the ApiVersions v99 answer")
            err, _ = c.api_versions()  # the connection goes on
            check_eq(err, 0, "ApiVersions v0 on the same connection after v99")
    note("ApiVersions v99: error 35 with a v0 body, connection kept")

    # 6. Array counts.
    topic_part = string(TOPIC) + i32(1) + i32(0) + i32(0)
    cases = [
        ("Produce with topics count -7",
         kwire.request(kwire.API_PRODUCE, 3, 1, string(None) + i16(1) + i32(1000) + i32(-7))),
        ("Produce with topics count 2^31-1 and 20 bytes",
         kwire.request(kwire.API_PRODUCE, 3, 1,
                       string(None) + i16(1) + i32(1000) + i32(2**31 - 1) + topic_part)),
        ("Produce with partitions count 2^31-1",
         kwire.request(kwire.API_PRODUCE, 3, 1, string(None) + i16(1) + i32(1000) + i32(1)
                       + string(TOPIC) + i32(2**31 - 1) + i32(0) + i32(0))),
        ("Metadata v1 with topics count 2^31-1",
         kwire.request(kwire.API_METADATA, 1, 1, i32(2**31 - 1) + string("a"))),
        ("ListOffsets v1 with topics count -5",
         kwire.request(kwire.API_LIST_OFFSETS, 1, 1, i32(-1) + i32(-5))),
    ]
    for what, frame in cases:
        before = b.vm_peak_kib()
        with Case(b):
            with kwire.Conn(b.bootstrap) as c:
                c.send(frame)
                expect_closed(c, what)
        grew_mib = (b.vm_peak_kib() - before) / 1024
        check(grew_mib < 64, "%s: VmPeak grew by %.0f MiB" % (what, grew_mib))
        note("%s: closed" % what)

    # 7. Produce with a corrupt CRC: CORRUPT_MESSAGE per partition, nothing stored.
    with Case(b):
        bad = kwire.record_batch([(b"k", b"corrupt", [])], corrupt_crc=True)
        res = produce_call(b, kwire.produce_v3_body(TOPIC, 0, bad))
        check_eq(res.get((TOPIC, 0), (None,))[0], kwire.CORRUPT_MESSAGE,
                 "Produce with a corrupt CRC: partition error")
        # a batch whose length field claims more bytes than the record set holds
        cut = bytearray(kwire.record_batch([(b"k", b"cut", [])]))
        cut[8:12] = struct.pack(">i", len(cut) + 100)
        res = produce_call(b, kwire.produce_v3_body(TOPIC, 0, bytes(cut)))
        check_eq(res.get((TOPIC, 0), (None,))[0], kwire.CORRUPT_MESSAGE,
                 "Produce with a batch length past the record set: partition error")
        check_eq(log_end(b), 2, "log end after refused batches")
    note("corrupt CRC / length: CORRUPT_MESSAGE, nothing appended")

    # 8. Magic 1 message set in Produce v3.
    with Case(b):
        res = produce_call(b, kwire.produce_v3_body(TOPIC, 0, kwire.message_set_v1(b"k", b"v1")))
        code = res.get((TOPIC, 0), (None,))[0]
        check(code in (kwire.CORRUPT_MESSAGE, kwire.UNSUPPORTED_VERSION,
                       kwire.UNSUPPORTED_FOR_MESSAGE_FORMAT, kwire.INVALID_RECORD),
              "Produce v3 of a magic 1 message set: partition error %r, expected 2, 35, 43 or 87"
              % code)
        check_eq(log_end(b), 2, "log end after the magic 1 message set")
    note("magic 1 message set: refused with %d" % code)

    # 9. Many hostile connections at once, then the clean shutdown check.
    with Case(b):
        conns = [kwire.Conn(b.bootstrap) for _ in range(50)]
        for i, c in enumerate(conns):
            c.send(os.urandom(4 + i * 37))
        for c in conns:
            c.close()
    b.stop()


run_test(main)
