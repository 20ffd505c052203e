#!/usr/bin/env python3
"""
test_idempotent_producer: the idempotent producer end to end.

1. Raw wire (our own bytes, so nothing hides what the broker answers):
   - InitProducerId v0 and v4 (flexible) give distinct producer ids with this
     broker's node.id in the high 32 bits and epoch 0; a transactional id is
     answered COORDINATOR_NOT_AVAILABLE (15), an empty one INVALID_REQUEST (42).
   - Produce v3 of an idempotent batch, then the very same bytes again: the
     second answer is success with the same base offset and the log holds one
     copy (ListOffsets latest). A sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER
     (45), an older epoch INVALID_PRODUCER_EPOCH (47) after a bump, and nothing
     is written for either.
   - After kill -9 and after a clean restart, replaying the bytes of the last
     batch is still answered as a duplicate with its original offset.
   - Producer ids after a restart never repeat ones handed out before.
2. librdkafka (confluent_kafka, enable.idempotence=true, acks=all) sends
   numbered records to two partitions through a proxy while the broker is
   killed with SIGKILL and restarted, twice; before each kill the proxy
   swallows the broker's responses for a while, so batches are in the log but
   unacknowledged and librdkafka retries them after the restart. A consumer
   then reads every acknowledged record exactly once, in order, with no gap,
   and the broker's log shows that retries were answered as duplicates.
"""
# strait-test: asan

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import kwire  # noqa: E402
from broker import free_port, check, check_eq, note, run_test  # noqa: E402

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,  # noqa: E402
                             Producer, TopicPartition)

API_INIT_PRODUCER_ID = 22
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
COORDINATOR_NOT_AVAILABLE = 15
NODE_ID = 3


# ---------------------------------------------------------------- wire helpers

def idempotent_batch(producer_id, epoch, sequence, values, timestamp_ms=None):
    """A magic v2 batch, uncompressed, with producer id, epoch and base sequence."""
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    body = b""
    for delta, value in enumerate(values):
        rec = kwire.i8(0) + kwire.varint(0) + kwire.varint(delta) + kwire.varint(-1)
        rec += kwire.varint(len(value)) + value + kwire.varint(0)
        body += kwire.varint(len(rec)) + rec
    after_crc = (kwire.i16(0) + kwire.i32(len(values) - 1) + kwire.i64(ts) + kwire.i64(ts)
                 + kwire.i64(producer_id) + kwire.i16(epoch) + kwire.i32(sequence)
                 + kwire.i32(len(values)) + body)
    after_length = kwire.i32(0) + kwire.i8(2) + kwire.u32(kwire.crc32c(after_crc)) + after_crc
    return kwire.i64(0) + kwire.i32(len(after_length)) + after_length


def init_producer_id(conn, version, transactional_id=None):
    """-> (error, producer_id, epoch)"""
    if version >= 2:  # flexible: compact nullable string, tagged fields
        if transactional_id is None:
            txn = kwire.uvarint(0)
        else:
            txn = kwire.uvarint(len(transactional_id) + 1) + transactional_id.encode()
        body = txn + kwire.i32(60000)
        if version >= 3:
            body += kwire.i64(-1) + kwire.i16(-1)
        body += kwire.uvarint(0)
        resp = conn.call(API_INIT_PRODUCER_ID, version, body, header_version=2,
                         response_header_version=1)
    else:
        body = kwire.string(transactional_id) + kwire.i32(60000)
        resp = conn.call(API_INIT_PRODUCER_ID, version, body)
    _, error, producer_id, epoch = struct.unpack(">ihqh", resp[:16])
    if version >= 2:
        check_eq(resp[16:], b"\x00", "InitProducerId v%d trailing tagged fields" % version)
    else:
        check_eq(len(resp), 16, "InitProducerId v%d response length" % version)
    return error, producer_id, epoch


def produce_raw(conn, topic, batch):
    """Produce v3 acks=-1 of one partition (0) -> (error, base_offset)."""
    body = kwire.produce_v3_body(topic, 0, batch, acks=-1)
    return kwire.parse_produce_v3(conn.call(kwire.API_PRODUCE, 3, body))[(topic, 0)]


def log_end(conn, topic):
    body = kwire.list_offsets_v1_body(topic, 0, -1)
    error, _, offset = kwire.parse_list_offsets_v1(conn.call(kwire.API_LIST_OFFSETS, 1, body))[(topic, 0)]
    check_eq(error, 0, "ListOffsets error")
    return offset


# ---------------------------------------------------------------- part 1

def raw_wire(t, b):
    topic = "idem-raw"
    with kwire.Conn(b.bootstrap) as c:
        error, pid_v0, epoch = init_producer_id(c, 0)
        check_eq((error, epoch), (0, 0), "InitProducerId v0 error, epoch")
        error, pid_v4, epoch = init_producer_id(c, 4)
        check_eq((error, epoch), (0, 0), "InitProducerId v4 error, epoch")
        check(pid_v0 != pid_v4, "two InitProducerId calls gave the same id %d" % pid_v0)
        check_eq((pid_v0 >> 32, pid_v4 >> 32), (NODE_ID, NODE_ID), "node.id in the producer id")
        check_eq(init_producer_id(c, 1, "txn-1")[0], COORDINATOR_NOT_AVAILABLE,
                 "InitProducerId with a transactional id")
        check_eq(init_producer_id(c, 3, "")[0], kwire.INVALID_REQUEST,
                 "InitProducerId with an empty transactional id")
        pid = pid_v4

        first = idempotent_batch(pid, 0, 0, [b"a0", b"a1", b"a2"])
        error, base = produce_raw(c, topic, first)
        check_eq(error, 0, "first idempotent produce")
        error, again = produce_raw(c, topic, first)
        check_eq((error, again), (0, base), "replayed bytes: error and base offset")
        check_eq(log_end(c, topic), base + 3, "log end after a duplicate (one copy)")

        error, _ = produce_raw(c, topic, idempotent_batch(pid, 0, 5, [b"gap"]))
        check_eq(error, OUT_OF_ORDER_SEQUENCE_NUMBER, "sequence gap")
        check_eq(log_end(c, topic), base + 3, "log end after a refused gap")

        second = idempotent_batch(pid, 0, 3, [b"b3", b"b4"])
        check_eq(produce_raw(c, topic, second), (0, base + 3), "next in sequence")
        # an epoch bump (sequence 0), then the old epoch is fenced
        bumped = idempotent_batch(pid, 1, 0, [b"c0"])
        check_eq(produce_raw(c, topic, bumped), (0, base + 5), "new epoch at sequence 0")
        error, _ = produce_raw(c, topic, idempotent_batch(pid, 0, 5, [b"old"]))
        check_eq(error, INVALID_PRODUCER_EPOCH, "older epoch")
        # KIP-360 / DESIGN.md §8: an unknown producer at a high sequence is accepted
        stranger = idempotent_batch((NODE_ID + 1) << 32 | 77, 4, 9000, [b"x"])
        check_eq(produce_raw(c, topic, stranger), (0, base + 6), "unknown producer id")
        end = log_end(c, topic)

    for how in ("kill -9", "clean restart"):
        if how == "kill -9":
            b.kill9()
            b.start()
        else:
            b.restart()
        with kwire.Conn(b.bootstrap) as c:
            check_eq(produce_raw(c, topic, bumped), (0, base + 5),
                     "retry of the epoch-1 batch after %s" % how)
            check_eq(produce_raw(c, topic, stranger), (0, base + 6),
                     "retry of the unknown producer's batch after %s" % how)
            check_eq(log_end(c, topic), end, "log end after retries following %s" % how)
            error, pid_after, _ = init_producer_id(c, 4)
            check(error == 0 and pid_after > pid_v4,
                  "producer id after %s: %d, before: %d" % (how, pid_after, pid_v4))
    note("raw wire checks passed: base offset %d, log end %d" % (base, end))


# ---------------------------------------------------------------- part 2

class ResponseDroppingProxy:
    """A TCP proxy in front of the broker (clients reach it through
    advertised.listeners) that can swallow the broker's responses: the broker
    then appends batches whose acknowledgements never reach the producer,
    exactly what a crash between append and response looks like. Threads
    only pump bytes; brokers are started from the main thread."""

    def __init__(self, listen_port, broker_port):
        self.broker_port = broker_port
        self.drop_responses = threading.Event()
        self.lock = threading.Lock()
        self.sockets = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", listen_port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.broker_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source, destination, responses):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if responses and self.drop_responses.is_set():
                    continue
                destination.sendall(data)
        except OSError:
            pass
        for s in (source, destination):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut_all(self):
        """Closes every proxied connection (as a broker death does)."""
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()



def produce_through_kills(b, proxy, topic, partitions, count, rate_per_s, kill_at, blind_records):
    """Sends count numbered records at rate_per_s. At each record number in
    kill_at the proxy starts swallowing responses; blind_records later the
    broker is SIGKILLed and restarted, so the batches it appended in between
    were never acknowledged and librdkafka retries them.
    -> {partition: [(n, offset)]}"""
    acked = {p: [] for p in range(partitions)}
    failed = []

    def on_delivery(err, msg):
        if err:
            failed.append((msg.value()[:20], err))
        else:
            acked[msg.partition()].append((int(msg.value().split(b"-")[1]), msg.offset()))

    p = Producer({"bootstrap.servers": "127.0.0.1:%d" % proxy.listener.getsockname()[1],
                  "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 120000, "retry.backoff.ms": 50,
                  "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200,
                  "socket.timeout.ms": 10000})
    kill_after = {i + blind_records for i in kill_at}
    started = time.monotonic()
    for i in range(count):
        delay = started + i / rate_per_s - time.monotonic()
        if delay > 0:
            p.poll(delay)
        p.produce(topic, value=b"n-%d-%s" % (i, b"x" * 100), partition=i % partitions,
                  on_delivery=on_delivery)
        p.poll(0)
        if i in kill_at:
            proxy.drop_responses.set()
        if i in kill_after:
            note("killing the broker after %d records sent, %d acknowledged"
                 % (i + 1, sum(len(v) for v in acked.values())))
            b.kill9()
            proxy.cut_all()
            proxy.drop_responses.clear()
            time.sleep(0.2)
            b.start()
    remaining = p.flush(120)
    check_eq(remaining, 0, "records still undelivered after flush")
    check(not failed, "delivery failures: %s" % failed[:3])
    return acked


def read_partitions(b, topic, partitions):
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "strait-test-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "error"})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = {p: [] for p in range(partitions)}
    eof = set()
    deadline = time.monotonic() + 60
    while len(eof) < partitions:
        check(time.monotonic() < deadline, "reading %s did not reach its end in 60 s" % topic)
        for m in c.consume(500, timeout=1.0):
            if m.error():
                check(m.error().code() == KafkaError._PARTITION_EOF, "consume error %s" % m.error())
                eof.add(m.partition())
                continue
            eof.discard(m.partition())
            out[m.partition()].append((int(m.value().split(b"-")[1]), m.offset()))
    c.close()
    return out


def librdkafka_through_kills(t, b, proxy):
    topic, partitions, count = "idem-kill", 2, 6000
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        f.result(30)
    acked = produce_through_kills(b, proxy, topic, partitions, count, rate_per_s=1500,
                                  kill_at={2000, 4000}, blind_records=200)
    read = read_partitions(b, topic, partitions)
    total = 0
    for p in range(partitions):
        numbers = [n for n, _ in read[p]]
        expected = list(range(p, count, partitions))
        check_eq(numbers, expected, "partition %d: numbers read (exactly once, in order)" % p)
        check_eq(sorted(acked[p]), sorted(read[p]), "partition %d: acked (number, offset) pairs" % p)
        total += len(numbers)
    duplicates = sum(1 for line in b.log_text().splitlines()
                     if "topic=idem-kill" in line and "duplicate=1" in line)
    note("librdkafka: %d records acknowledged and read exactly once across 2 kill -9; "
         "%d retried batches were answered as duplicates" % (total, duplicates))
    check(duplicates > 0, "no retried batch reached the broker twice: the test did not "
          "exercise duplicate detection across a kill")


def main(t):
    broker_port = free_port()
    proxy_port = free_port()
    while proxy_port == broker_port:
        proxy_port = free_port()
    proxy = ResponseDroppingProxy(proxy_port, broker_port)
    b = t.broker(overrides={"node.id": str(NODE_ID), "num.partitions": "1", "log.level": "debug",
                            "advertised.listeners": "PLAINTEXT://127.0.0.1:%d" % proxy_port},
                 port=broker_port)
    raw_wire(t, b)
    librdkafka_through_kills(t, b, proxy)
    b.stop()


run_test(main)
