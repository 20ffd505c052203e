"""
failover.py - helpers for the failover drills (issue 6): two single-node
regions with sidecars under a topology with a `failover:` section, the
operator CLI, a producer that records every acknowledged record and a
consumer group that commits after every record, both with the brokers of
BOTH regions in bootstrap.servers (they follow the redirect), and a reader
that sees a region's local truth (client.id strait-sidecar-*: no redirect).
"""
import os
import subprocess
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from broker import check, free_port, note, strait_bin
import mirror
from sidecar import Sidecar

TOPIC = "orders"
PARTITIONS = 3
CLUSTER_ID = "strait-drill"


def write_topology(path, east, west, ports, state_dir, extra_failover=None):
    lines = ["regions:",
             "  east: {bootstrap: %s, sidecar: 127.0.0.1:%d}" % (east.bootstrap, ports[0]),
             "  west: {bootstrap: %s, sidecar: 127.0.0.1:%d}" % (west.bootstrap, ports[1]),
             "flows:",
             "  - {source: east, target: west, topics: [%s], refresh_interval: 1s}" % TOPIC,
             "  - {source: west, target: east, topics: [%s], refresh_interval: 1s}" % TOPIC,
             "failover:",
             "  mode: manual",
             "  active: east"]
    lines += ["  %s: %s" % kv for kv in (extra_failover or {}).items()]
    lines += ["checkpoints: {interval: 500ms}",
              "sidecar: {state_dir: %s}" % state_dir]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def drill(run, extra_failover=None):
    """main(t) for run_test: a Deployment handed to run(t, d), the sidecars'
    logs printed when it fails. extra_failover: more failover.* keys."""
    def main(t):
        d = Deployment(t, extra_failover)
        try:
            run(t, d)
        except BaseException:
            d.dump_logs()
            raise
    return main


class Deployment:
    """east (node 1) and west (node 101), one cluster id, sidecars, topology."""

    def __init__(self, t, extra_failover=None):
        self.t = t
        self.east = t.broker(name="east", overrides={"node.id": "1", "cluster.id": CLUSTER_ID})
        self.west = t.broker(name="west", overrides={"node.id": "101", "cluster.id": CLUSTER_ID})
        for b in (self.east, self.west):
            mirror.create_topic(b.bootstrap, TOPIC, PARTITIONS)
        self.ports = (free_port(), free_port())
        self.topology = write_topology(t.path("topology.yaml"), self.east, self.west,
                                       self.ports, t.path("state"), extra_failover)
        self.sidecars = {"east": Sidecar(t, self.topology, "east", self.ports[0]),
                         "west": Sidecar(t, self.topology, "west", self.ports[1])}
        self.brokers = {"east": self.east, "west": self.west}

    @property
    def bootstrap_both(self):
        return "%s,%s" % (self.west.bootstrap, self.east.bootstrap)

    def start_sidecars(self):
        for sc in self.sidecars.values():
            sc.start()

    def dump_logs(self):
        for sc in self.sidecars.values():
            if sc.proc is not None:
                sc.dump_log()

    def cli(self, *args, timeout=120):
        started = time.monotonic()
        r = subprocess.run([strait_bin()] + list(args) + ["--topology", self.topology],
                           capture_output=True, text=True, timeout=timeout)
        note("strait %s -> exit %d in %.2f s\n%s%s" % (" ".join(args), r.returncode,
                                                      time.monotonic() - started, r.stdout,
                                                      r.stderr))
        return r.returncode, r.stdout, r.stderr

    def wait_roles(self, expected, timeout_s=30):
        """expected: {"east": "active", "west": "standby"} as /failover/state says,
        with the brokers having accepted the epoch and told that role (not
        `fenced` by a restart fence or an expired lease: effective_role)."""
        def ok():
            for region, role in expected.items():
                code, body = self.sidecars[region].get("/failover/state")
                kv = dict(l.split("=", 1) for l in body.splitlines() if "=" in l)
                if code != 200 or kv.get("role") != role or kv.get("pushed_epoch") != kv.get("epoch"):
                    return False
                if kv.get("effective_role", role) != role:
                    return False
            return True
        mirror.wait_for("roles %s" % expected, ok, timeout_s)


def produce_only_to(bootstrap, value, timeout_s=3.0):
    """None if an ordinary client that knows only bootstrap got value acked
    within timeout_s, else the error (as text)."""
    result = []
    p = Producer({"bootstrap.servers": bootstrap, "client.id": "drill-check",
                  "message.timeout.ms": int(timeout_s * 1000), "enable.idempotence": False})
    p.produce(TOPIC, value=value, on_delivery=lambda err, msg: result.append(err))
    p.flush(timeout_s + 2)
    if not result:
        return "no delivery report"
    return None if result[0] is None else str(result[0])


def local_high_watermarks(bootstrap, topic=TOPIC, conf=None):
    """conf: more client settings (a secure drill's TLS and SASL), here and below."""
    c = Consumer(dict({"bootstrap.servers": bootstrap, "group.id": "strait-sidecar-test-wm",
                       "client.id": "strait-sidecar-test"}, **(conf or {})))
    try:
        out = {}
        for p in range(PARTITIONS):
            out[p] = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        return out
    finally:
        c.close()


def local_values(bootstrap, topic=TOPIC, timeout_s=60, conf=None):
    """Every record value of topic in this region, read as a sidecar (no redirect)."""
    ends = local_high_watermarks(bootstrap, topic, conf)
    c = Consumer(dict({"bootstrap.servers": bootstrap, "group.id": "strait-sidecar-test-reader",
                       "client.id": "strait-sidecar-test", "enable.auto.commit": False,
                       "enable.partition.eof": True}, **(conf or {})))
    c.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    values = []
    done = {p for p, end in ends.items() if end == 0}
    deadline = time.monotonic() + timeout_s
    try:
        while len(done) < PARTITIONS and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    if m.offset() >= ends[m.partition()]:
                        done.add(m.partition())
                continue
            values.append(m.value())
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    finally:
        c.close()
    check(len(done) == PARTITIONS, "read %s of %s within %d s" % (topic, bootstrap, timeout_s))
    return values


class LoadProducer(threading.Thread):
    """Produces "seq-N" at a steady rate; keeps the set of acknowledged seqs and
    the first ack of a record sent after a given moment (RTO: an ack of a
    record sent before a kill may still be delivered just after it)."""

    def __init__(self, bootstrap, rate=300, first_seq=0, conf=None):
        super().__init__(daemon=True)
        self.producer = Producer(dict({"bootstrap.servers": bootstrap,
                                       "enable.idempotence": True, "acks": "all",
                                       "linger.ms": 5, "message.timeout.ms": 120000,
                                       "topic.metadata.refresh.interval.ms": 1000,
                                       "client.id": "drill-producer"}, **(conf or {})))
        self.rate = rate
        self.acked = set()
        self.failed = []
        self.ack_times = []        # (sent, acked), monotonic
        self.sent_at = {}
        self.stop_flag = threading.Event()
        self.seq = first_seq
        self.lock = threading.Lock()

    def _delivered(self, err, msg):
        with self.lock:
            if err is None:
                seq = int(msg.value().split(b"-")[1])
                self.acked.add(seq)
                self.ack_times.append((self.sent_at.get(seq, 0.0), time.monotonic()))
            else:
                self.failed.append((msg.value(), str(err)))

    def run(self):
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.stop_flag.is_set():
            value = b"seq-%d" % self.seq
            try:
                with self.lock:
                    self.sent_at[self.seq] = time.monotonic()
                self.producer.produce(TOPIC, value=value, key=b"k%d" % (self.seq % 97),
                                      on_delivery=self._delivered)
                self.seq += 1
            except BufferError:
                pass
            self.producer.poll(0)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.producer.flush(150)

    def first_ack_after(self, moment):
        with self.lock:
            later = [acked for sent, acked in self.ack_times if sent >= moment]
        return min(later) if later else None

    def finish(self):
        self.stop_flag.set()
        self.join(180)
        check(not self.is_alive(), "producer flushed within 180 s")


class CommittingConsumer(threading.Thread):
    """Group member that commits synchronously after every record. Every
    record seen more than once is a duplicate (`duplicates`), whether or not
    its commit had succeeded; `duplicates_after_commit` are those seen again
    after their own commit succeeded."""

    def __init__(self, bootstrap, group="drill", conf=None):
        super().__init__(daemon=True)
        self.consumer = Consumer(dict({"bootstrap.servers": bootstrap, "group.id": group,
                                       "enable.auto.commit": False,
                                       "auto.offset.reset": "earliest",
                                       "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                                       "topic.metadata.refresh.interval.ms": 1000,
                                       "client.id": "drill-consumer"}, **(conf or {})))
        self.seen = []
        self.seen_set = set()
        self.committed = set()
        self.duplicates = []
        self.duplicates_after_commit = []
        self.commit_errors = 0
        self.commit_error_texts = []
        self.receive_times = []
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        self.consumer.subscribe([TOPIC])
        while not self.stop_flag.is_set():
            m = self.consumer.poll(0.2)
            if m is None or m.error():
                continue
            seq = int(m.value().split(b"-")[1])
            with self.lock:
                if seq in self.seen_set:
                    self.duplicates.append(seq)
                if seq in self.committed:
                    self.duplicates_after_commit.append(seq)
                self.seen.append(seq)
                self.seen_set.add(seq)
                self.receive_times.append(time.monotonic())
            try:
                self.consumer.commit(message=m, asynchronous=False)
                with self.lock:
                    self.committed.add(seq)
            except KafkaException as e:
                self.commit_errors += 1
                self.commit_error_texts.append(str(e))
        self.consumer.close()

    def first_receive_after(self, moment):
        with self.lock:
            later = [t for t in self.receive_times if t > moment]
        return min(later) if later else None

    def wait_seen(self, seqs, timeout_s):
        def ok():
            with self.lock:
                return not (seqs - self.seen_set)
        mirror.wait_for("consumer saw every acked record", ok, timeout_s)

    def finish(self):
        self.stop_flag.set()
        self.join(30)


class Ledger:
    """What the members of one group consumed, together: a record consumed by
    two members (before and after a rebalance) counts as consumed twice."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen_set = set()
        self.duplicates = []
        self.seen_count = 0


class BatchConsumer(threading.Thread):
    """The ordinary application loop: consume a batch, process it, commit the
    positions synchronously, ignore a failed commit (issue 12). kind is
    "librdkafka" (confluent-kafka) or "kafka-python". Counts every record
    seen more than once, every failed commit (with its error) and, by
    wait_seen/missing, every acknowledged record never consumed."""

    def __init__(self, bootstrap, group, kind="librdkafka", batch=50, ledger=None):
        super().__init__(daemon=True)
        self.kind = kind
        self.batch = batch
        self.group = group
        if kind == "librdkafka":
            self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                      "enable.auto.commit": False,
                                      "auto.offset.reset": "earliest",
                                      "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                                      "topic.metadata.refresh.interval.ms": 1000,
                                      "client.id": "app-%s" % group})
        else:
            from kafka import KafkaConsumer
            self.consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=group,
                                          client_id="app-%s" % group,
                                          enable_auto_commit=False,
                                          auto_offset_reset="earliest",
                                          session_timeout_ms=6000, heartbeat_interval_ms=500,
                                          metadata_max_age_ms=1000)
        self.ledger = ledger or Ledger()
        self.consumed = 0  # by this member
        self.commit_errors = []
        self.commits = 0
        self.stop_flag = threading.Event()
        self.lock = self.ledger.lock
        self.failure = None

    def _batch(self):
        if self.kind == "librdkafka":
            return [m for m in self.consumer.consume(num_messages=self.batch, timeout=0.5)
                    if not m.error()]
        out = []
        for records in self.consumer.poll(timeout_ms=500, max_records=self.batch).values():
            out.extend(records)
        return out

    def _commit(self):
        if self.kind == "librdkafka":
            self.consumer.commit(asynchronous=False)
        else:
            self.consumer.commit()

    def run(self):
        try:
            self.consumer.subscribe([TOPIC])
            while not self.stop_flag.is_set():
                records = self._batch()
                if not records:
                    continue
                with self.lock:
                    ledger = self.ledger
                    for m in records:
                        value = m.value() if self.kind == "librdkafka" else m.value
                        seq = int(value.split(b"-")[1])
                        if seq in ledger.seen_set:
                            ledger.duplicates.append(seq)
                        ledger.seen_set.add(seq)
                        ledger.seen_count += 1
                        self.consumed += 1
                try:
                    self._commit()
                    self.commits += 1
                except Exception as e:  # the application ignores a failed commit
                    with self.lock:
                        self.commit_errors.append("%s: %s" % (type(e).__name__, e))
            self.consumer.close()
        except Exception as e:
            self.failure = "%s: %s" % (type(e).__name__, e)

    def figures(self):
        """(records the group consumed twice, commits this member saw fail,
        records the group consumed)"""
        with self.lock:
            return len(self.ledger.duplicates), len(self.commit_errors), self.ledger.seen_count

    def missing(self, seqs):
        with self.lock:
            return seqs - self.ledger.seen_set

    def wait_seen(self, seqs, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.missing(seqs):
            time.sleep(0.2)
        return self.missing(seqs)

    def finish(self):
        self.stop_flag.set()
        self.join(30)
