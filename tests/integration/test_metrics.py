#!/usr/bin/env python3
"""
test_metrics: the broker's HTTP endpoint (metrics.listener) with real clients.

- default metrics.listener (127.0.0.1:0): the start-up line names the URL;
- produce and consume with confluent-kafka, then GET /metrics: every line is
  a HELP / TYPE comment or a `name{labels} value` sample of a family typed
  before it; Produce and Fetch request counters grew; the partition's log
  end offset gauge and the topic's produce record counter equal what was
  produced; fetch bytes, connections, topics and partitions are counted;
- a frame with a bad size prefix counts in request_errors_total{frame_size};
- GET /healthz is "ok"; an unknown path is 404; POST is refused; request
  headers past the limit are refused and the endpoint keeps serving;
- a fixed metrics.listener port is served; an empty value turns it off; a
  bad value stops the broker at start with a message naming the key;
- the log end offset gauge survives a restart.
"""
# strait-test: asan

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402

TOPIC = "metrics-test"
RECORDS = 500

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\\\|\\"|\\n|[^"\\\n])*"'
VALUE = r"(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)"
SAMPLE_RE = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (%s)$" % (NAME, LABEL, LABEL, VALUE))
HELP_RE = re.compile(r"^# HELP (%s) .*$" % NAME)
TYPE_RE = re.compile(r"^# TYPE (%s) (counter|gauge|untyped)$" % NAME)


def http_get(url, timeout=10):
    """(status, body text) of GET url; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), e.headers.get("Content-Type")


def parse_metrics(text):
    """{(name, ((label, value), ...)): float}; fails on any malformed line."""
    check(text.endswith("\n"), "metrics page does not end with a newline")
    samples = {}
    typed = set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            check(HELP_RE.match(line), "line %d: bad HELP line %r" % (n, line))
            continue
        if line.startswith("# TYPE "):
            m = TYPE_RE.match(line)
            check(m, "line %d: bad TYPE line %r" % (n, line))
            check(m.group(1) not in typed, "line %d: family %s typed twice" % (n, m.group(1)))
            typed.add(m.group(1))
            continue
        m = SAMPLE_RE.match(line)
        check(m, "line %d: not `name{labels} value`: %r" % (n, line))
        name = m.group(1)
        check(name in typed, "line %d: sample of %s before its TYPE line" % (n, name))
        labels = tuple(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"',
                                  m.group(2) or ""))
        key = (name, labels)
        check(key not in samples, "line %d: duplicate series %r" % (n, line))
        samples[key] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    key = (name, tuple(labels.items()))
    check(key in samples, "no sample %s%r in /metrics" % (name, labels))
    return samples[key]


def produce(bootstrap):
    errors = []
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                  "enable.idempotence": False})
    for i in range(RECORDS):
        p.produce(TOPIC, key=b"k%d" % i, value=b"value %d " % i * 4,
                  on_delivery=lambda err, msg: err and errors.append(err))
        if i % 100 == 0:
            p.poll(0)
    check(p.flush(30) == 0, "producer did not deliver everything within 30 s")
    check(not errors, "delivery errors: %r" % errors[:5])


def consume(bootstrap):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "metrics-test-group",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
    got = 0
    deadline = time.monotonic() + 30
    while got < RECORDS and time.monotonic() < deadline:
        msg = c.poll(1.0)
        if msg is None:
            continue
        check(msg.error() is None, "consumer error %r" % (msg.error(),))
        got += 1
    c.close()
    check_eq(got, RECORDS, "records consumed")


def send_bad_frame(bootstrap):
    host, port = bootstrap.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"\xff\xff\xff\xff")
        s.settimeout(10)
        check(s.recv(16) == b"", "broker answered a frame of size -1 instead of closing")


def raw_http(port, request):
    """Sends request bytes to the metrics port; returns whatever comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    return data


def wait_for(url, predicate, what, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while True:
        status, body, _ = http_get(url)
        check_eq(status, 200, "GET %s status" % url)
        samples = parse_metrics(body)
        if predicate(samples):
            return samples
        check(time.monotonic() < deadline, "%s not seen in /metrics within %d s" % (what, timeout_s))
        time.sleep(0.2)


def main(t):
    b = t.broker()
    url = b.metrics_url()
    note("metrics at %s" % url)
    check(url.startswith("http://127.0.0.1:"), "default metrics.listener is not loopback: %s" % url)

    produce(b.bootstrap)
    consume(b.bootstrap)
    send_bad_frame(b.bootstrap)

    status, body, content_type = http_get(url)
    check_eq(status, 200, "GET /metrics status")
    check(content_type and content_type.startswith("text/plain; version=0.0.4"),
          "Content-Type %r" % content_type)
    samples = parse_metrics(body)
    note("/metrics: %d bytes, %d samples" % (len(body), len(samples)))
    check(value(samples, "strait_broker_requests_total", api="Produce") >= 1, "Produce not counted")
    check(value(samples, "strait_broker_requests_total", api="Fetch") >= 1, "Fetch not counted")
    check(value(samples, "strait_broker_requests_total", api="Metadata") >= 1, "Metadata not counted")
    check_eq(value(samples, "strait_broker_partition_log_end_offset", topic=TOPIC, partition="0"),
             RECORDS, "log end offset gauge")
    check_eq(value(samples, "strait_broker_partition_log_start_offset", topic=TOPIC, partition="0"),
             0, "log start offset gauge")
    check(value(samples, "strait_broker_partition_size_bytes", topic=TOPIC, partition="0") > 0,
          "partition size gauge is 0")
    check_eq(value(samples, "strait_broker_produce_records_total", topic=TOPIC), RECORDS,
             "produce records counter")
    check(value(samples, "strait_broker_produce_bytes_total", topic=TOPIC) > RECORDS * 10,
          "produce bytes counter too small")
    check(value(samples, "strait_broker_fetch_bytes_total") > RECORDS * 10,
          "fetch bytes counter too small")
    check(value(samples, "strait_broker_connections_accepted_total") >= 2, "connections not counted")
    check(value(samples, "strait_broker_connections_open") >= 0, "open connections gauge")
    check(value(samples, "strait_broker_topics") >= 1, "topics gauge")
    check(value(samples, "strait_broker_partitions") >= 1, "partitions gauge")
    check(value(samples, "strait_broker_uptime_seconds") > 0, "uptime")
    check(value(samples, "strait_broker_groups", state="Empty") >= 0, "groups gauge")
    value(samples, "strait_broker_log_flushes_total")
    value(samples, "strait_broker_log_flush_seconds_total")
    wait_for(url, lambda s: value(s, "strait_broker_request_errors_total", reason="frame_size") >= 1,
             "request_errors_total{reason=frame_size} >= 1")

    # /healthz, 404, refused method, oversized headers
    status, body, _ = http_get(b.metrics_url("/healthz"))
    check_eq((status, body), (200, "ok\n"), "GET /healthz")
    status, _, _ = http_get(b.metrics_url("/no/such/path"))
    check_eq(status, 404, "GET of an unknown path")
    status, _, _ = http_get(b.metrics_url("/metricsx"))
    check_eq(status, 404, "GET /metricsx")
    try:
        urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="POST"), timeout=10)
        check(False, "POST /metrics was answered 2xx")
    except urllib.error.HTTPError as e:
        check(e.code in (405, 501), "POST /metrics: status %d (expected 405 or 501)" % e.code)
    port = int(url.split(":")[2].split("/")[0])
    reply = raw_http(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    check(not reply.startswith(b"HTTP/1.1 200"), "20 kB of headers were accepted: %r" % reply[:80])
    status, body, _ = http_get(b.metrics_url("/healthz"))
    check_eq((status, body), (200, "ok\n"), "GET /healthz after oversized headers")

    # the gauge survives a restart (the data is read back from disk)
    b.restart()
    samples = parse_metrics(http_get(b.metrics_url())[1])
    check_eq(value(samples, "strait_broker_partition_log_end_offset", topic=TOPIC, partition="0"),
             RECORDS, "log end offset gauge after restart")
    b.stop()

    # a fixed port, and off
    fixed = free_port()
    b2 = t.broker(name="fixed", overrides={"metrics.listener": "127.0.0.1:%d" % fixed})
    check_eq(b2.metrics_url(), "http://127.0.0.1:%d/metrics" % fixed, "fixed metrics URL")
    check_eq(http_get("http://127.0.0.1:%d/healthz" % fixed)[:2], (200, "ok\n"), "fixed /healthz")
    b2.stop()
    b3 = t.broker(name="off", overrides={"metrics.listener": ""})
    deadline = time.monotonic() + 10
    while "metrics=off" not in b3.log_text():
        check(time.monotonic() < deadline, "no `metrics=off` in the start-up line")
        time.sleep(0.05)
    b3.stop()

    # a bad value: refused before anything starts, with the key named
    out = subprocess.run([strait_bin(), "broker", "--override", "log.dirs=%s" % t.path("bad"),
                          "--override", "listeners=PLAINTEXT://127.0.0.1:%d" % free_port(),
                          "--override", "metrics.listener=localhost"],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    text = (out.stdout + out.stderr).decode(errors="replace")
    check(out.returncode != 0, "broker started with metrics.listener=localhost (no port)")
    check("metrics.listener" in text, "error does not name metrics.listener: %s" % text[-500:])


run_test(main)
