"""
mirror_faults.py - helpers for the mirror fault tests (issue 4 item 8):
a producer that keeps writing to the source in the background, the
exactly-once check of a target partition against its source partition (by
the strait.src provenance headers), and readers of the sidecar's /status.
"""
import threading
import time

from confluent_kafka import Producer

from broker import check, check_eq, note
import mirror


class BackgroundProducer(threading.Thread):
    """Produces `total` records to topic at about rate_per_s, round-robin over
    the partitions, and keeps trying while the broker is down. What the
    source holds afterwards is the reference; records acked are counted."""

    def __init__(self, bootstrap, topic, partitions, total, rate_per_s=2000, prefix="r"):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self.total, self.rate_per_s, self.prefix = total, rate_per_s, prefix
        self.acked = 0
        self.failed = 0
        self.produced = 0
        self.stop_event = threading.Event()
        self.error = None

    def _delivered(self, err, msg):
        if err is None:
            self.acked += 1
        else:
            self.failed += 1

    def run(self):
        try:
            p = Producer({"bootstrap.servers": self.bootstrap, "acks": "all", "linger.ms": 5,
                          "message.timeout.ms": 120000, "reconnect.backoff.max.ms": 500})
            started = time.monotonic()
            i = 0
            while i < self.total and not self.stop_event.is_set():
                due = min(self.total, int((time.monotonic() - started) * self.rate_per_s) + 1)
                for _ in range(max(0, due - i)):
                    while True:
                        try:
                            p.produce(self.topic, key=b"%s%d" % (self.prefix.encode(), i),
                                      value=b"value-%d-" % i + b"x" * 100,
                                      headers=[("n", b"%d" % i)], partition=i % self.partitions,
                                      on_delivery=self._delivered)
                            break
                        except BufferError:
                            p.poll(0.1)
                    i += 1
                self.produced = i
                p.poll(0.05)
            p.flush(120)
        except BaseException as e:  # reported by finish()
            self.error = e

    def finish(self, timeout_s=150):
        self.join(timeout_s)
        check(not self.is_alive(), "background producer did not finish")
        check(self.error is None, "background producer failed: %r" % (self.error,))
        note("background producer: %d produced, %d acked, %d failed" % (self.produced, self.acked,
                                                                       self.failed))


def wait_mirrored(source, target, topic, timeout_s=60):
    """Waits until the target's high watermarks equal the source's."""
    src_ends = mirror.high_watermarks(source.bootstrap, topic)

    def same():
        try:
            return mirror.high_watermarks(target.bootstrap, topic) == src_ends
        except Exception:  # a broker coming back
            return False
    mirror.wait_for("%s mirrored %s" % (topic, src_ends), same, timeout_s)
    return src_ends


def check_exactly_once(source, target, topic, source_region="east"):
    """Every source record is in the target exactly once and in order
    (provenance offsets equal the source offsets, same key and value)."""
    src = mirror.read_all(source.bootstrap, topic)
    dst = mirror.read_all(target.bootstrap, topic)
    total = 0
    for p in sorted(src):
        provenance = [mirror.split_provenance(r[3])[1] for r in dst.get(p, [])]
        check(all(x is not None and x[0] == source_region and x[1] == p for x in provenance),
              "%s[%d] on the target holds a record without provenance %s:%d" % (
                  topic, p, source_region, p))
        check_eq([x[2] for x in provenance], [r[0] for r in src[p]],
                 "provenance offsets of target %s[%d]" % (topic, p))
        check_eq([(r[1], r[2]) for r in dst[p]], [(r[1], r[2]) for r in src[p]],
                 "records of target %s[%d]" % (topic, p))
        total += len(src[p])
    return total, dst


def flow_status(sc, name="east->west"):
    for f in sc.status()["flows"]:
        if f["name"] == name:
            return f
    raise AssertionError("no flow %s in /status" % name)


def wait_status(sc, what, predicate, timeout_s=30, name="east->west"):
    """Polls /status until predicate(flow) holds; returns that flow status."""
    seen = {}

    def probe():
        seen["flow"] = flow_status(sc, name)
        return seen["flow"] if predicate(seen["flow"]) else None
    try:
        return mirror.wait_for(what, probe, timeout_s, 0.3)
    except Exception:
        note("last /status flow: %r" % ({k: v for k, v in seen.get("flow", {}).items()
                                          if k != "partitions"},))
        raise


def wait_records(target, topic, at_least, timeout_s=30):
    def enough():
        try:
            return sum((mirror.high_watermarks(target.bootstrap, topic) or {}).values()) >= at_least
        except Exception:
            return False
    mirror.wait_for("%d records in %s" % (at_least, topic), enough, timeout_s, 0.2)


def now_ms():
    return int(time.time() * 1000)
