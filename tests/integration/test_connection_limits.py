#!/usr/bin/env python3
"""
test_connection_limits: the limits an unauthenticated Kafka client cannot
exceed (issue 11, item 7), each driven with raw sockets against a real
broker:

- reading pauses while a request is in flight: a Fetch parked on an empty
  topic, then tens of MiB of pipelined requests that are never read back;
  the broker stops reading the socket (the client's own buffers fill, the
  send would block), /metrics shows the paused connection, other clients
  are served meanwhile, and once the Fetch is answered every pipelined
  request is answered, in order; likewise a client that pipelines 400 MB of
  Fetches and reads nothing is paused once 256 MiB of answers wait unsent;
- connections.max.idle.ms: an idle connection is closed (log line, metric);
  a long-poll Fetch longer than the idle time is answered, not closed;
- fetch.wait.limit.ms: a Fetch with max_wait_ms = 2^31-1 is answered;
- max.connections.per.ip refuses the N+1th connection from one address,
  max.connections.per.ip.overrides raises it for another, and
  listener.name.PLAINTEXT.max.connections caps the listener (refusal log
  line and strait_broker_connections_refused_total{reason=...});
- a Produce of gzip batches that each inflate to 60 MiB: the partitions past
  the per-request budget (256 MiB) get MESSAGE_TOO_LARGE, the ones before
  are written.
"""
# strait-test: asan

import gzip
import os
import re
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402
from kwire import i8, i16, i32, i64, nbytes, string, u32, varint  # noqa: E402

MESSAGE_TOO_LARGE = 10
BATCH_INFLATED = 60 * 1024 * 1024
REQUEST_BUDGET = 256 * 1024 * 1024


def metric(b, name, labels=""):
    """The value of one sample of the broker's /metrics, or None."""
    text = urllib.request.urlopen(b.metrics_url(), timeout=20).read().decode()
    pattern = r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels))
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else None


def wait_for(what, condition, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        check(time.monotonic() < deadline, "not within %d s: %s" % (timeout_s, what))
        time.sleep(0.1)


def fetch_v4_body(topic, partition, offset, max_wait_ms, min_bytes=1):
    return (i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(1 << 20) + i8(0)
            + i32(1) + string(topic) + i32(1) + i32(partition) + i64(offset) + i32(1 << 20))


def create_topic(bs, name, partitions):
    """CreateTopics v2 over a raw connection."""
    body = (i32(1) + string(name) + i32(partitions) + i16(1) + i32(0) + i32(0)
            + i32(10000) + i8(0))
    with kwire.Conn(bs) as c:
        resp = c.call(19, 2, body)
    r = kwire.Reader(resp)
    r.i32()  # throttle_time_ms
    check_eq(r.i32(), 1, "CreateTopics topics in the answer")
    r.string()
    check_eq(r.i16(), 0, "CreateTopics error for %s" % name)


def connect_from(bs, source_ip):
    host, port = bs.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((source_ip, 0))
    s.connect((host, int(port)))
    return s


def serves(sock):
    """True if an ApiVersions v0 round trip works on sock, False if the
    broker closed it."""
    try:
        sock.sendall(kwire.request(kwire.API_API_VERSIONS, 0, 7, b""))
        head = b""
        while len(head) < 4:
            chunk = sock.recv(4 - len(head))
            if not chunk:
                return False
            head += chunk
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False


# ---------------------------------------------------------------- pause


def check_pause(t):
    b = t.broker(name="pause", overrides={"metrics.listener": "127.0.0.1:0",
                                          "fetch.wait.limit.ms": "300000"})
    bs = b.bootstrap
    create_topic(bs, "quiet", 1)
    c = kwire.Conn(bs, timeout_s=60)
    c.send(kwire.request(kwire.API_FETCH, 4, 1, fetch_v4_body("quiet", 0, 0, 120000)))
    wait_for("the Fetch parked (reading_paused request_in_flight = 1)",
             lambda: metric(b, "strait_broker_connections_reading_paused",
                            '{reason="request_in_flight"}') == 1)
    # Pipelined ApiVersions with a 30 KB client id, never read back.
    frame = kwire.request(kwire.API_API_VERSIONS, 0, 2, b"", client_id="p" * 30000)
    c.sock.setblocking(False)
    sent = 0
    limit = 64 * 1024 * 1024
    stalled_since = None
    while sent < limit:
        try:
            n = c.sock.send(frame[sent % len(frame):])
            sent += n
            stalled_since = None
        except BlockingIOError:
            if stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > 3:
                break  # nobody reads the socket any more
            time.sleep(0.05)
    note("pipelined %d bytes (%d frames) before the socket stopped taking more"
         % (sent, sent // len(frame)))
    check(sent < 40 * 1024 * 1024,
          "the broker kept reading a connection with a request in flight: %d bytes "
          "pipelined" % sent)
    check_eq(metric(b, "strait_broker_connections_reading_paused", '{reason="request_in_flight"}'),
             1.0, "connections paused while the Fetch is parked")
    b.assert_serving("while one connection is paused")
    # An append wakes the Fetch; the broker then reads and answers the rest.
    batch = kwire.record_batch([(b"k", b"wake", [])])
    with kwire.Conn(bs) as p:
        res = kwire.parse_produce_v3(p.call(kwire.API_PRODUCE, 3,
                                            kwire.produce_v3_body("quiet", 0, batch)))
    check_eq(res[("quiet", 0)][0], 0, "produce error on quiet")
    c.sock.setblocking(True)
    c.sock.settimeout(120)
    if sent % len(frame):
        c.sock.sendall(frame[sent % len(frame):])
    frames = (sent + len(frame) - 1) // len(frame)
    cid, _ = c.recv_response()
    check_eq(cid, 1, "the Fetch is answered first")
    for i in range(frames):
        cid, _ = c.recv_response()
        check_eq(cid, 2, "correlation id of pipelined request %d" % i)
    c.close()
    note("all %d pipelined requests answered after the Fetch" % frames)
    b.stop()


def check_output_pause(t):
    """A client that pipelines Fetches and reads nothing: once 256 MiB of
    answers wait unsent the broker stops reading it, and resumes as the
    client reads."""
    b = t.broker(name="output", overrides={"metrics.listener": "127.0.0.1:0"})
    bs = b.bootstrap
    create_topic(bs, "big", 1)
    with kwire.Conn(bs) as p:
        for i in range(8):
            batch = kwire.record_batch([(b"k", bytes([65 + i]) * 200000, [])])
            res = kwire.parse_produce_v3(p.call(kwire.API_PRODUCE, 3,
                                                kwire.produce_v3_body("big", 0, batch)))
            check_eq(res[("big", 0)][0], 0, "produce error on big")
    fetches = 400  # about 1 MB each: 400 MB of answers, over the 256 MiB limit
    c = kwire.Conn(bs, timeout_s=120)
    for i in range(fetches):
        c.send(kwire.request(kwire.API_FETCH, 4, 1000 + i, fetch_v4_body("big", 0, 0, 0)))
    wait_for("the broker paused reading for unsent output",
             lambda: (metric(b, "strait_broker_connection_output_pauses_total") or 0) >= 1,
             timeout_s=120)
    check_eq(metric(b, "strait_broker_connections_reading_paused", '{reason="output_limit"}'),
             1.0, "connections paused for output")
    b.assert_serving("while a connection is paused for its output")
    total = 0
    for i in range(fetches):
        cid, body = c.recv_response()
        check_eq(cid, 1000 + i, "correlation id of pipelined Fetch %d" % i)
        total += len(body)
    c.close()
    note("output pause: %d Fetch answers, %d MB, read after the pause" % (fetches, total // 10**6))
    check(total > 256 * 1024 * 1024, "the answers were smaller than the output limit")
    b.stop()


# ---------------------------------------------------------------- idle + clamp


def check_idle_and_clamp(t):
    b = t.broker(name="idle", overrides={"metrics.listener": "127.0.0.1:0",
                                         "connections.max.idle.ms": "1500",
                                         "fetch.wait.limit.ms": "2500"})
    bs = b.bootstrap
    create_topic(bs, "empty", 1)
    idle = kwire.Conn(bs)
    check_eq(idle.api_versions()[0], 0, "ApiVersions before going idle")
    check(idle.wait_closed(timeout_s=60), "an idle connection was not closed")
    check(metric(b, "strait_broker_connections_idle_closed_total") >= 1,
          "idle closes counted in /metrics")
    check("closing idle connection" in b.log_text(), "no log line for the idle close")
    note("idle connection closed, logged and counted")
    # A long poll longer than connections.max.idle.ms is not idle; its
    # max_wait_ms of 2^31-1 is clamped to fetch.wait.limit.ms.
    with kwire.Conn(bs, timeout_s=120) as c:
        c.send(kwire.request(kwire.API_FETCH, 4, 9, fetch_v4_body("empty", 0, 0, 2**31 - 1)))
        cid, body = c.recv_response()
        check_eq(cid, 9, "correlation id of the clamped Fetch")
        r = kwire.Reader(body)
        r.i32()  # throttle
        check_eq(r.i32(), 1, "topics in the clamped Fetch answer")
    note("Fetch with max_wait_ms 2^31-1 answered (clamped), connection kept")
    b.stop()


# ---------------------------------------------------------------- counts


def check_connection_counts(t):
    b = t.broker(name="counts", overrides={
        "metrics.listener": "127.0.0.1:0",
        "max.connections.per.ip": "3",
        "max.connections.per.ip.overrides": "127.0.0.2:5",
        "listener.name.PLAINTEXT.max.connections": "9"})
    bs = b.bootstrap
    # the harness's start-up probe (from 127.0.0.1) must be gone first
    wait_for("no connection open", lambda: metric(b, "strait_broker_connections_open") == 0)
    held = [connect_from(bs, "127.0.0.4") for _ in range(3)]
    for s in held:
        check(serves(s), "one of the first 3 connections from 127.0.0.4 refused")
    extra = connect_from(bs, "127.0.0.4")
    check(not serves(extra), "a 4th connection from 127.0.0.4 was served "
          "(max.connections.per.ip=3)")
    extra.close()
    check_eq(metric(b, "strait_broker_connections_refused_total",
                    '{reason="max_connections_per_ip"}'), 1.0, "per-ip refusals")
    two = [connect_from(bs, "127.0.0.2") for _ in range(5)]
    for s in two:
        check(serves(s), "one of 5 connections from 127.0.0.2 refused (override 5)")
    sixth = connect_from(bs, "127.0.0.2")
    check(not serves(sixth), "a 6th connection from 127.0.0.2 was served (override 5)")
    sixth.close()
    note("per-ip limit 3, override 5 for 127.0.0.2")
    # 8 open: one more from a third address fills the listener's 9.
    ninth = connect_from(bs, "127.0.0.3")
    check(serves(ninth), "the 9th connection was refused")
    tenth = connect_from(bs, "127.0.0.3")
    check(not serves(tenth), "a 10th connection was served (listener max.connections=9)")
    tenth.close()
    check_eq(metric(b, "strait_broker_connections_refused_total",
                    '{reason="listener_max_connections"}'), 1.0, "listener refusals")
    # A connection that closes frees its slot.
    held.pop().close()
    wait_for("a slot freed after a close", lambda: serves(connect_from(bs, "127.0.0.4")))
    text = b.log_text()
    check("refusing connection: max.connections.per.ip=3 for 127.0.0.4 reached" in text,
          "no refusal log line for the per-ip limit")
    check("refusing connection: listener.name.PLAINTEXT.max.connections=9 reached" in text,
          "no refusal log line for the listener limit")
    for s in held + two + [ninth]:
        s.close()
    b.stop()


# ---------------------------------------------------------------- decompression


def gzip_batch(value_bytes):
    """A magic v2 batch of one record whose value is value_bytes zeros, gzip."""
    rec = i8(0) + varint(0) + varint(0) + varint(-1) + varint(value_bytes)
    rec += b"\0" * value_bytes + varint(0)
    records = varint(len(rec)) + rec
    compressed = gzip.compress(records, compresslevel=6)
    ts = int(time.time() * 1000)
    after_crc = (i16(1) + i32(0) + i64(ts) + i64(ts) + i64(-1) + i16(-1) + i32(-1)
                 + i32(1) + compressed)
    after_length = i32(0) + i8(2) + u32(kwire.crc32c(after_crc)) + after_crc
    return i64(0) + i32(len(after_length)) + after_length


def check_decompression_budget(t):
    b = t.broker(name="bomb")
    bs = b.bootstrap
    create_topic(bs, "bomb", 6)
    batch = gzip_batch(BATCH_INFLATED)
    note("one gzip batch: %d bytes inflating to %d" % (len(batch), BATCH_INFLATED))
    body = string(None) + i16(1) + i32(30000) + i32(1) + string("bomb") + i32(6)
    for p in range(6):
        body += i32(p) + nbytes(batch)
    with kwire.Conn(bs, timeout_s=120) as c:
        res = kwire.parse_produce_v3(c.call(kwire.API_PRODUCE, 3, body))
    fit = REQUEST_BUDGET // BATCH_INFLATED  # 4 partitions within the budget
    for p in range(6):
        expected = 0 if p < fit else MESSAGE_TOO_LARGE
        check_eq(res[("bomb", p)][0], expected, "produce error of partition %d" % p)
    note("partitions 0-%d written, %d-5 MESSAGE_TOO_LARGE" % (fit - 1, fit))
    b.assert_serving("after the decompression budget ran out")
    b.stop()


def main(t):
    check_connection_counts(t)
    check_idle_and_clamp(t)
    check_decompression_budget(t)
    check_pause(t)
    check_output_pause(t)


if __name__ == "__main__":
    run_test(main)
