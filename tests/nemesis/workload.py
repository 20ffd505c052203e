"""
workload.py - what runs against the regions while the nemesis breaks
things, every observation written to the History (JSON lines, the format is
in checker.py):

  Producers   ordinary clients (confluent-kafka, acks=all, idempotent) with
              every region's brokers in bootstrap.servers (each list in
              another order); they follow the redirects. Each ack is recorded;
              its region is found later from the final read.
  Probes      one raw-protocol writer per region (kwire, Produce v3,
              acks=-1) that only ever talks to that region's broker, as a
              client that knows one region would: an ack says exactly which
              region took the write, and the broker's persisted epoch read
              just before the send and just after the answer bounds the
              epoch it took it under.
  Consumers   members of one group that consume a batch, record every
              record they see, commit synchronously and ignore a failed
              commit (an ordinary application); every commit is recorded.
  Sampler     every region's broker state (its strait-region-state file)
              and sidecar /failover/state, a few times a second.

Every client runs in the clients' namespace.
"""
import json
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer

import cluster as cl
import kwire
import wan


class History:
    """Appends events (dicts) to a JSON-lines file, thread-safe, and keeps them."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, "w")
        self.lock = threading.Lock()
        self.events = []

    def add(self, event_type, **fields):
        fields["type"] = event_type
        line = json.dumps(fields, sort_keys=True)
        with self.lock:
            if self.file.closed:   # a thread still running after the end
                return
            self.events.append(fields)
            self.file.write(line + "\n")

    def flush(self):
        with self.lock:
            self.file.flush()

    def close(self):
        with self.lock:
            self.file.close()


class ProducerLoad(threading.Thread):
    def __init__(self, c, history, name, bootstrap, rate):
        super().__init__(daemon=True, name=name)
        self.c, self.history, self.name_, self.rate = c, history, name, rate
        self.bootstrap = bootstrap
        self.stop_flag = threading.Event()
        self.seq = 0
        self.sent_at = {}
        self.acks = 0
        self.failures = 0
        self.producer = self._new()

    def _new(self):
        return wan.in_netns(self.c.clients_ns, Producer, {
            "bootstrap.servers": self.bootstrap, "acks": "all", "enable.idempotence": True,
            "linger.ms": 5, "message.timeout.ms": 30000, "client.id": "nemesis-" + self.name_,
            "topic.metadata.refresh.interval.ms": 1000, "reconnect.backoff.max.ms": 1000,
            "log_level": 2})

    def _delivered(self, err, msg):
        value = msg.value().decode()
        sent = self.sent_at.pop(value, None)
        if err is None:
            self.acks += 1
            self.history.add("ack", writer=self.name_, region=None, topic=msg.topic(),
                             partition=msg.partition(), offset=msg.offset(), value=value,
                             sent=sent, acked=time.time(), epoch=None)
        else:
            self.failures += 1
            self.history.add("produce_error", writer=self.name_, value=value, sent=sent,
                             t=time.time(), error=str(err))
            if err.fatal():
                self.fatal = True

    def run(self):
        self.fatal = False
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.stop_flag.is_set():
            if self.fatal:   # an idempotent producer's fatal error: a new one
                self.producer.flush(5)
                self.history.add("note", t=time.time(), text="%s: fatal error, new producer"
                                 % self.name_)
                self.producer, self.fatal = self._new(), False
            value = "%s-%07d" % (self.name_, self.seq)
            self.sent_at[value] = time.time()
            try:
                self.producer.produce(cl.TOPIC, value=value.encode(),
                                      key=b"k%d" % (self.seq % 31), on_delivery=self._delivered)
                self.seq += 1
            except BufferError:
                self.sent_at.pop(value, None)
            self.producer.poll(0)
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        self.producer.flush(40)

    def finish(self):
        self.stop_flag.set()
        self.join(60)


class Probe(threading.Thread):
    """Writes straight to one region's broker (no redirect is followed)."""

    def __init__(self, c, history, region, interval_s=0.1):
        super().__init__(daemon=True, name="probe-" + region)
        self.c, self.history, self.region, self.interval_s = c, history, region, interval_s
        self.stop_flag = threading.Event()
        self.acks = 0

    def run(self):
        wan.in_netns(self.c.clients_ns, self._loop)

    def _epoch(self):
        try:
            return int(self.c.broker_state(self.region).get("strait.region.epoch", "0"))
        except ValueError:
            return None

    def _loop(self):
        conn, seq = None, 0
        broker = self.c.brokers[self.region]
        while not self.stop_flag.wait(self.interval_s):
            value = "probe-%s-%07d" % (self.region, seq)
            seq += 1
            partition = seq % cl.PARTITIONS
            try:
                if conn is None:
                    conn = kwire.Conn(broker.bootstrap, timeout_s=3)
                lo, sent = self._epoch(), time.time()
                body = kwire.produce_v3_body(cl.TOPIC, partition, kwire.record_batch(
                    [(None, value.encode(), [])]), acks=-1, timeout_ms=3000)
                answer = kwire.parse_produce_v3(conn.call(kwire.API_PRODUCE, 3, body))
                acked, hi = time.time(), self._epoch()
            except Exception:   # refused connection, timeout, closed socket
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                conn = None
                continue
            error, offset = answer.get((cl.TOPIC, partition), (-1, -1))
            if error == 0:
                self.acks += 1
                self.history.add("ack", writer=self.name, region=self.region, topic=cl.TOPIC,
                                 partition=partition, offset=offset, value=value, sent=sent,
                                 acked=acked, epoch=[lo, hi] if None not in (lo, hi) else None)
        if conn is not None:
            conn.close()

    def finish(self):
        self.stop_flag.set()
        self.join(15)


class GroupMember(threading.Thread):
    def __init__(self, c, history, name):
        super().__init__(daemon=True, name=name)
        self.c, self.history = c, history
        self.stop_flag = threading.Event()
        self.values = set()
        self.consumer = wan.in_netns(c.clients_ns, Consumer, {
            "bootstrap.servers": c.bootstrap_all, "group.id": cl.GROUP,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
            "topic.metadata.refresh.interval.ms": 1000, "client.id": "nemesis-" + name,
            "reconnect.backoff.max.ms": 1000, "log_level": 2})

    def run(self):
        self.consumer.subscribe([cl.TOPIC])
        batch = 0
        while not self.stop_flag.is_set():
            try:
                msgs = self.consumer.consume(num_messages=100, timeout=0.5)
            except KafkaException:
                continue
            msgs = [m for m in msgs if m.error() is None]
            if not msgs:
                continue
            batch += 1
            now = time.time()
            for m in msgs:
                value = m.value().decode(errors="replace")
                self.values.add(value)
                self.history.add("read", consumer=self.name, value=value,
                                 partition=m.partition(), offset=m.offset(), t=now, batch=batch)
            try:
                self.consumer.commit(asynchronous=False)
                self.history.add("commit", consumer=self.name, batch=batch, t=time.time(),
                                 ok=True, error=None)
            except KafkaException as e:
                self.history.add("commit", consumer=self.name, batch=batch, t=time.time(),
                                 ok=False, error=str(e.args[0]))
        self.consumer.close()

    def finish(self):
        self.stop_flag.set()
        self.join(30)


class Sampler(threading.Thread):
    """Broker states every 0.1 s; one thread per sidecar every 0.3 s (a paused
    sidecar holds up only its own)."""

    def __init__(self, c, history):
        super().__init__(daemon=True, name="sampler")
        self.c, self.history = c, history
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self._sidecar, args=(r,), daemon=True)
                        for r in c.regions]

    def run(self):
        for th in self.threads:
            th.start()
        last = {}
        while not self.stop_flag.wait(0.1):
            for r in self.c.regions:
                st = self.c.broker_state(r)
                if "strait.region.epoch" not in st:
                    continue
                key = (st.get("strait.region.epoch"), st.get("strait.region.role"),
                       st.get("strait.region.active"))
                now = time.time()
                # every change, and once a second without one (the checker
                # bounds an ack's epoch by the samples around it)
                if last.get(r, (None, 0))[0] != key or now - last[r][1] >= 1.0:
                    last[r] = (key, now)
                    self.history.add("sample", kind="broker", region=r, t=now,
                                     epoch=int(key[0]), role=key[1], active=key[2])

    def _sidecar(self, region):
        rounds = 0
        while not self.stop_flag.wait(0.3):
            rounds += 1
            if rounds % 3 == 0:
                self._checkpoints(region)
            st = self.c.sidecar_state(region)
            if st and "epoch" in st:
                self.history.add("sample", kind="sidecar", region=region, t=time.time(),
                                 epoch=int(st["epoch"]), role=st.get("role"),
                                 active=st.get("active"), lease=st.get("lease"))

    def _checkpoints(self, region):
        """The newest group checkpoint of each flow into region (GET
        /failover/flows): what an automatic promotion of region re-reads from."""
        code, body = self.c.sidecar_get(region, "/failover/flows")
        if code != 200:
            return
        for line in body.splitlines():
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            if "flow" in kv and "last_checkpoint_ms" in kv and not kv["flow"].endswith(
                    ".diverged"):
                self.history.add("sample", kind="checkpoint", region=region, t=time.time(),
                                 flow=kv["flow"], last_checkpoint_ms=int(kv["last_checkpoint_ms"]),
                                 epoch=None)

    def finish(self):
        self.stop_flag.set()
        self.join(10)
        for th in self.threads:
            th.join(10)
