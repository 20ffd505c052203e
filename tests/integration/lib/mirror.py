"""
mirror.py - helpers for the mirror tests: two single-node "regions" (one
strait broker each), a topology file, the mirror_driver test tool (one flow,
no sidecar; tests/integration/mirror_driver.c) and readers that return every
record of a topic with its key, value, headers, timestamp and partition.
"""

import os
import signal
import subprocess
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from broker import check, note, strait_bin


def driver_bin():
    return os.environ.get("MIRROR_DRIVER_BIN",
                          os.path.join(os.path.dirname(strait_bin()), "mirror_driver"))


def write_topology(path, east, west, flows, failover=None, extra=None):
    """flows: list of dicts with source, target, topics, naming and optional extra keys.
    failover: None (no failover section: both regions accept writes) or a dict of
    failover keys, e.g. {"mode": "manual", "active": "east"}. extra: more YAML lines."""
    lines = ["regions:",
             "  east: {bootstrap: %s, sidecar: 127.0.0.1:47701}" % east.bootstrap,
             "  west: {bootstrap: %s, sidecar: 127.0.0.1:47702}" % west.bootstrap,
             "flows:"]
    for f in flows:
        lines.append("  - source: %s" % f["source"])
        lines.append("    target: %s" % f["target"])
        lines.append("    topics: [%s]" % ", ".join('"%s"' % t for t in f["topics"]))
        lines.append("    naming: %s" % f.get("naming", "identity"))
        lines.append("    refresh_interval: %s" % f.get("refresh_interval", "1s"))
        for key in ("compression", "linger", "batch_bytes"):
            if key in f:
                lines.append("    %s: %s" % (key, f[key]))
    if failover:
        lines.append("failover:")
        lines += ["  %s: %s" % (k, v) for k, v in failover.items()]
    lines += extra or []
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    return path


class Driver:
    """One mirror_driver process running one flow."""

    def __init__(self, ctx, topology, source, target, name=None):
        self.ctx = ctx
        self.topology = topology
        self.source = source
        self.target = target
        self.name = name or "mirror-%s-%s" % (source, target)
        self.state = ctx.path(self.name + ".db")
        self.proc = None
        self.starts = 0
        self.log_paths = []

    def start(self):
        self.starts += 1
        log = self.ctx.path("%s.%d.log" % (self.name, self.starts))
        self.log_paths.append(log)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [driver_bin(), "--topology", self.topology, "--source", self.source,
                 "--target", self.target, "--state", self.state],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        note("%s started pid %d" % (self.name, self.proc.pid))
        return self

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        note("%s killed with SIGKILL" % self.name)

    def stop(self, timeout_s=30):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout_s)
        self.proc = None
        text = self.log_text()
        check(rc == 0, "%s exited with %d after SIGTERM:\n%s" % (self.name, rc, text[-3000:]))
        check("ERROR: AddressSanitizer" not in text and "runtime error:" not in text,
              "%s: sanitizer report:\n%s" % (self.name, text[-3000:]))

    def log_text(self):
        parts = []
        for p in self.log_paths:
            with open(p, errors="replace") as f:
                parts.append(f.read())
        return "".join(parts)

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def create_topic(bootstrap, name, partitions, config=None):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])
    for f in fs.values():
        f.result(30)


def produce(bootstrap, topic, records, partitions):
    """records: list of (key, value, headers, timestamp_ms); partition = i % partitions."""
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "enable.idempotence": True,
                  "compression.type": "lz4"})
    for i, (key, value, headers, ts) in enumerate(records):
        while True:
            try:
                p.produce(topic, value=value, key=key, headers=headers, timestamp=ts,
                          partition=i % partitions)
                break
            except BufferError:
                p.poll(0.1)
        if i % 1000 == 0:
            p.poll(0)
    check(p.flush(60) == 0, "producer to %s did not flush" % bootstrap)


def read_all(bootstrap, topic, timeout_s=60):
    """{partition: [(offset, key, value, headers, timestamp)]} up to the high watermarks."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "mirror-test-reader",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    md = c.list_topics(topic, timeout=30)
    check(topic in md.topics and md.topics[topic].error is None,
          "topic %s missing on %s" % (topic, bootstrap))
    parts = sorted(md.topics[topic].partitions)
    ends = {}
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        ends[p] = hi
    out = {p: [] for p in parts}
    todo = {p for p in parts if ends[p] > 0}
    c.assign([TopicPartition(topic, p, -2) for p in parts])
    deadline = time.monotonic() + timeout_s
    while todo and time.monotonic() < deadline:
        for m in c.consume(1000, 1.0):
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    todo.discard(m.partition())
                continue
            if m.offset() < ends[m.partition()]:
                out[m.partition()].append((m.offset(), m.key(), m.value(),
                                           list(m.headers() or []), m.timestamp()[1]))
            if m.offset() >= ends[m.partition()] - 1:
                todo.discard(m.partition())
    c.close()
    check(not todo, "reading %s on %s: partitions %s not read to their end" % (topic, bootstrap,
                                                                              sorted(todo)))
    return out


def wait_for(what, predicate, timeout_s, interval_s=0.5):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        check(time.monotonic() < deadline, "timed out after %d s waiting for %s" % (timeout_s, what))
        time.sleep(interval_s)


def high_watermarks(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "mirror-test-wm"})
    try:
        md = c.list_topics(timeout=10)
        if topic not in md.topics or md.topics[topic].error is not None:
            return None
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in md.topics[topic].partitions}
    finally:
        c.close()


def split_provenance(headers):
    """(headers without the last strait.src, parsed last strait.src or None)."""
    idx = None
    for i, (k, _) in enumerate(headers):
        if k == "strait.src":
            idx = i
    if idx is None:
        return headers, None
    region, partition, offset = headers[idx][1].decode().split(":")
    return headers[:idx] + headers[idx + 1:], (region, int(partition), int(offset))
