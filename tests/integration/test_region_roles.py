#!/usr/bin/env python3
"""
test_region_roles: the broker side of failover (issue 6, DESIGN.md §8) with
real clients. Two single-node "regions" share one cluster id: east (node 1)
and west (node 101). The sidecar's part is played by raw
IncrementalAlterConfigs requests on the BROKER resource with client.id
strait-sidecar-test.

1. east active / west standby at region epoch 5, redirect to east:
   - east's partitions of the mirrored topic report leader epoch 5; west
     answers plain clients with east as leader at epoch 5, and the sidecar
     with the local truth;
   - an idempotent librdkafka producer bootstrapped with west FIRST ends up
     on east: every acked record is in east's log, none was appended on west;
   - a plain raw Produce (and ListOffsets) to west gets NOT_LEADER_OR_FOLLOWER
     (6); a producer with client.id strait-sidecar-x still writes to west;
   - DescribeConfigs and /metrics show the role and epoch.
2. Bad input changes nothing: an older epoch, role=bogus, a bad regex, a bad
   broker list, another node's id each get a precise per-resource error.
3. West restarted comes back as standby, still redirecting.
4. Switchover: east fenced (epoch 6: produce refused, no redirect), west
   active (leader epochs of the mirrored topic grow to 6), east standby
   redirecting to west. The same idempotent producer keeps going and its
   new records land on west (west accepts its unknown producer id at a
   non-zero sequence: KIP-360); a librdkafka consumer group bootstrapped with
   east first finds its coordinator on west (FindCoordinator redirect), reads
   west's log and commits there.
5. A lease on the active role (strait.region.lease.ms=1500), on a third
   single-node region, north: while a thread re-applies the same state every
   200 ms (the sidecar renewing), a librdkafka producer writes; the renewals
   log no change. Renewals stopped: plain Produce is refused with
   NOT_LEADER_OR_FOLLOWER and a librdkafka producer's records are not acked,
   while a producer with client.id strait-sidecar-... still writes and plain
   reads and metadata stay local; /metrics shows role fenced and the lease
   lapsed, DescribeConfigs still the stored role active. Renewed: writes are
   accepted again. Restarted on the same data dir: refused until the next
   apply, then accepted.
6. strait.redirect.topics.exclude, on a fourth single-node region, south,
   standby with strait.redirect.topics=".*" and
   strait.redirect.topics.exclude="local\\..*": a librdkafka producer's
   writes to the never-mirrored local.metrics are acked and land in south's
   log, Metadata and ListOffsets for it answer locally, while a plain
   Produce to orders is refused (NOT_LEADER_OR_FOLLOWER) and orders is
   redirected; once the exclude is removed, local.metrics is refused too.
"""
# strait-test: asan

import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import kwire  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

TOPIC = "orders"
PARTITIONS = 2
SIDECAR = "strait-sidecar-test"
NOT_LEADER_OR_FOLLOWER = 6
INVALID_CONFIG = 40
INVALID_REQUEST = 42
RESOURCE_BROKER = 4
API_FIND_COORDINATOR = 10
API_DESCRIBE_CONFIGS = 32


# ---------------------------------------------------------------- raw wire

def call_as(bootstrap, client_id, api_key, version, body):
    with kwire.Conn(bootstrap, timeout_s=10) as c:
        c.send(kwire.request(api_key, version, 1, body, client_id=client_id))
        _, resp = c.recv_response(0)
        return resp


def alter_broker(b, configs, name="", validate_only=False):
    """IncrementalAlterConfigs v0 on the broker resource as the sidecar;
    configs = {key: value or None (DELETE)}. -> (error_code, error_message)"""
    entries = b"".join(kwire.string(k) + kwire.i8(1 if v is None else 0) + kwire.string(v)
                       for k, v in configs.items())
    body = (kwire.i32(1) + kwire.i8(RESOURCE_BROKER) + kwire.string(name)
            + kwire.i32(len(configs)) + entries + kwire.i8(1 if validate_only else 0))
    resp = call_as(b.bootstrap, SIDECAR, kwire.API_INCREMENTAL_ALTER_CONFIGS, 0, body)
    results = kwire.parse_incremental_alter_configs_v0(resp)
    check_eq(len(results), 1, "IncrementalAlterConfigs results")
    return results[0][0], results[0][1]


def describe_broker(b, name=""):
    """DescribeConfigs v1 of the broker resource -> {key: (value, read_only, source)}"""
    body = (kwire.i32(1) + kwire.i8(RESOURCE_BROKER) + kwire.string(name) + kwire.i32(-1)
            + kwire.i8(0))
    r = kwire.Reader(call_as(b.bootstrap, "strait-test", API_DESCRIBE_CONFIGS, 1, body))
    r.i32()
    out = {}
    for _ in range(r.i32()):
        error, message, _, _ = r.i16(), r.string(), r.i8(), r.string()
        check(error == 0, "DescribeConfigs error %d %s" % (error, message))
        for _ in range(r.i32()):
            key, value, read_only, source, _ = r.string(), r.string(), r.i8(), r.i8(), r.i8()
            r.array(lambda r: (r.string(), r.string(), r.i8()))
            out[key] = (value, bool(read_only), source)
    return out


def metadata(b, client_id="strait-test", topics=(TOPIC,)):
    """Metadata v8 -> (brokers {id: port}, {partition: (error, leader, leader_epoch)}) of
    topics[0]"""
    body = kwire.array(list(topics), kwire.string) + kwire.i8(1) + kwire.i8(0) + kwire.i8(0)
    r = kwire.Reader(call_as(b.bootstrap, client_id, kwire.API_METADATA, 8, body))
    r.i32()
    brokers = {}
    for _ in range(r.i32()):
        node, _, port, _ = r.i32(), r.string(), r.i32(), r.string()
        brokers[node] = port
    r.string()
    r.i32()
    parts = {}
    for _ in range(r.i32()):
        terr, name, _ = r.i16(), r.string(), r.i8()
        for _ in range(r.i32()):
            perr, index, leader, epoch = r.i16(), r.i32(), r.i32(), r.i32()
            r.array(lambda r: r.i32())
            r.array(lambda r: r.i32())
            r.array(lambda r: r.i32())
            if name == topics[0]:
                parts[index] = (perr if terr == 0 else terr, leader, epoch)
        r.i32()
    return brokers, parts


def produce_raw(b, client_id, value, topic=TOPIC):
    batch = kwire.record_batch([(None, value, [])])
    resp = call_as(b.bootstrap, client_id, kwire.API_PRODUCE, 3,
                   kwire.produce_v3_body(topic, 0, batch, acks=1))
    return kwire.parse_produce_v3(resp)[(topic, 0)]


def find_coordinator(b, group):
    r = kwire.Reader(call_as(b.bootstrap, "strait-test", API_FIND_COORDINATOR, 2,
                             kwire.string(group) + kwire.i8(0)))
    r.i32()
    error, _, node, _, port = r.i16(), r.string(), r.i32(), r.string(), r.i32()
    return error, node, port


def log_ends(b):
    """{partition: high watermark} of TOPIC (ListOffsets latest, raw)."""
    out = {}
    for p in range(PARTITIONS):
        resp = call_as(b.bootstrap, SIDECAR, kwire.API_LIST_OFFSETS, 1,
                       kwire.list_offsets_v1_body(TOPIC, p, -1))
        error, _, offset = kwire.parse_list_offsets_v1(resp)[(TOPIC, p)]
        check_eq(error, 0, "ListOffsets error")
        out[p] = offset
    return out


def metrics_text(b):
    with urllib.request.urlopen(b.metrics_url(), timeout=10) as r:
        return r.read().decode()


# ---------------------------------------------------------------- clients

def produce_all(producer, values, topic=TOPIC):
    """Produces values to topic, flushes; every one must be acked;
    -> {value: (partition, offset)}."""
    acked, errors = {}, []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked[msg.value()] = (msg.partition(), msg.offset())

    for v in values:
        producer.produce(topic, value=v, on_delivery=on_delivery)
        producer.poll(0)
    left = producer.flush(30)
    check(left == 0, "%d records not delivered within 30 s" % left)
    check(not errors, "delivery errors: %s" % errors[:5])
    check_eq(len(acked), len(values), "acked records")
    return acked


def read_log(bootstrap):
    """Every record value of TOPIC on one broker, {value: (partition, offset)}."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "verify-reader",
                  "enable.auto.commit": False, "client.id": SIDECAR + "-reader"})
    ends = None
    try:
        c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
        got = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if ends is None:
                ends = {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=5)[1]
                        for p in range(PARTITIONS)}
            if len(got) >= sum(ends.values()):
                break
            m = c.poll(0.5)
            if m is not None and not m.error():
                got[m.value()] = (m.partition(), m.offset())
        return got
    finally:
        c.close()


# ---------------------------------------------------------------- the lease

LEASE_MS = 1500


class Renewer:
    """Re-applies one state every interval_s, as the sidecar renews its lease."""

    def __init__(self, b, state, interval_s=0.2):
        self.b, self.state, self.interval_s = b, state, interval_s
        self.stopping = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopping.is_set():
            try:
                answer = alter_broker(self.b, self.state)
                if answer != (0, None):
                    self.errors.append(answer)
            except Exception as e:  # noqa: BLE001 - reported by stop()
                self.errors.append(repr(e))
            self.stopping.wait(self.interval_s)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(30)
        check(not self.thread.is_alive(), "renewer thread did not stop")
        check(not self.errors, "renewals failed: %s" % self.errors[:3])


def wait_for(what, predicate, timeout_s=30, interval_s=0.1):
    """Polls predicate until it is true; a generous deadline, never an upper
    bound that the test asserts."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return
        check(time.monotonic() <= deadline,
              "timed out after %d s waiting for %s" % (timeout_s, what))
        time.sleep(interval_s)


def metrics_lines(b):
    return set(metrics_text(b).splitlines())


def current_log(b):
    with open(b.log_path, "r", errors="replace") as f:
        return f.read()


def produce_unacked(bootstrap, value):
    """A librdkafka producer's record that must not be acked: -> the delivery
    error (None if it was acked)."""
    result = []
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "client.id": "lease-app",
                  "message.timeout.ms": 3000})
    p.produce(TOPIC, value=value, on_delivery=lambda err, msg: result.append(err))
    p.flush(30)
    check_eq(len(result), 1, "delivery reports of one record")
    return result[0]


def lease_scenario(t, common):
    note("5. a lease on the active role: north active with lease.ms=%d" % LEASE_MS)
    north = t.broker(name="north", overrides=dict(common, **{"node.id": "201"}))
    metadata(north)  # creates the mirrored topic
    state = {"strait.region.role": "active", "strait.region.epoch": "3",
             "strait.region.active": "north", "strait.redirect.topics": TOPIC,
             "strait.region.lease.ms": str(LEASE_MS)}
    check_eq(alter_broker(north, state), (0, None), "north: become active with a lease")
    producer = Producer({"bootstrap.servers": north.bootstrap, "acks": "all",
                         "client.id": "lease-app", "linger.ms": 5})
    sidecar_producer = Producer({"bootstrap.servers": north.bootstrap, "acks": "all",
                                 "client.id": "strait-sidecar-lease"})
    with Renewer(north, state):
        produce_all(producer, [b"leased-%d" % i for i in range(50)])
        check_eq(produce_raw(north, "strait-test", b"leased-raw")[0], 0,
                 "plain Produce while the lease is renewed")
        check('strait_region_lease_lapsed 0' in metrics_lines(north), "/metrics: lease not lapsed")
    changes = current_log(north).count("region state changed")
    check_eq(changes, 1, "'region state changed' log lines after many identical renewals")

    note("5a. renewals stopped: the lease lapses")
    wait_for("plain Produce refused after the lease lapsed",
             lambda: produce_raw(north, "strait-test", b"lapsed-raw")[0] == NOT_LEADER_OR_FOLLOWER)
    ends = log_ends(north)
    error = produce_unacked(north.bootstrap, b"lapsed-client")
    check(error is not None, "a librdkafka record was acked by a region whose lease lapsed")
    note("librdkafka delivery error with a lapsed lease: %s" % error)
    check_eq(log_ends(north), ends, "north's log ends after refused writes")
    mirrored = [b"lapsed-mirror-%d" % i for i in range(10)]
    produce_all(sidecar_producer, mirrored)
    check_eq(sum(log_ends(north).values()) - sum(ends.values()), len(mirrored),
             "records the sidecar produced with a lapsed lease")
    resp = call_as(north.bootstrap, "strait-test", kwire.API_LIST_OFFSETS, 1,
                   kwire.list_offsets_v1_body(TOPIC, 0, -1))
    check_eq(kwire.parse_list_offsets_v1(resp)[(TOPIC, 0)][0], 0,
             "plain ListOffsets with a lapsed lease (reads stay local)")
    brokers, parts = metadata(north)
    check_eq((brokers, {p: v[:2] for p, v in parts.items()}),
             ({201: north.port}, {0: (0, 201), 1: (0, 201)}), "north's metadata with a lapsed lease")
    lines = metrics_lines(north)
    for line in ('strait_region_role{role="fenced"} 1', 'strait_region_role{role="active"} 0',
                 "strait_region_lease_lapsed 1"):
        check(line in lines, "north /metrics lacks %r with a lapsed lease" % line)
    check_eq(describe_broker(north)["strait.region.role"][0], "active",
             "north's stored role with a lapsed lease")
    wait_for("the lapse in north's log", lambda: "region lease lapsed" in current_log(north))

    note("5b. renewed: writes accepted again")
    with Renewer(north, state):
        wait_for("plain Produce accepted once renewed",
                 lambda: produce_raw(north, "strait-test", b"renewed-raw")[0] == 0)
        produce_all(producer, [b"renewed-%d" % i for i in range(50)])
        check('strait_region_role{role="active"} 1' in metrics_lines(north),
              "north /metrics: role active once renewed")
    check("region lease renewed" in current_log(north), "north's log lacks the renewal")
    check_eq(current_log(north).count("region state changed"), 1,
             "'region state changed' log lines after the renewals")
    producer.flush(5)

    note("5c. restarted: refused until the sidecar applies again")
    north.restart()
    check_eq(produce_raw(north, "strait-test", b"restarted-raw")[0], NOT_LEADER_OR_FOLLOWER,
             "plain Produce after a restart, before any apply")
    check_eq(produce_raw(north, SIDECAR, b"restarted-sidecar")[0], 0,
             "the sidecar's Produce after a restart")
    check("strait_region_lease_lapsed 1" in metrics_lines(north), "/metrics after a restart")
    check_eq(describe_broker(north)["strait.region.lease.ms"][0], str(LEASE_MS),
             "north's described lease after a restart")
    with Renewer(north, state):
        wait_for("plain Produce accepted after the first apply",
                 lambda: produce_raw(north, "strait-test", b"reapplied-raw")[0] == 0)
    text = current_log(north)
    check("region lease lapsed" in text and "since_renewal_ms=never" in text,
          "north's log lacks the lapse of a loaded state")
    check_eq(text.count("region state changed"), 0,
             "'region state changed' log lines after re-applying the loaded state")
    north.stop()


# ---------------------------------------------------------------- excludes

LOCAL_TOPIC = "local.metrics"


def exclude_scenario(t, common, active_port):
    note("6. south standby for '.*' but '%s' excluded" % LOCAL_TOPIC)
    south = t.broker(name="south", overrides=dict(common, **{"node.id": "301"}))
    for topic in (TOPIC, LOCAL_TOPIC):  # created before the standby role stops auto-creation
        _, parts = metadata(south, topics=(topic,))
        check_eq(sorted(parts), list(range(PARTITIONS)), "south: partitions of %s" % topic)
    check_eq(alter_broker(south, {"strait.region.role": "standby", "strait.region.epoch": "4",
                                  "strait.region.active": "east",
                                  "strait.redirect.brokers": "1@127.0.0.1:%d" % active_port,
                                  "strait.redirect.topics": ".*",
                                  "strait.redirect.topics.exclude": "local\\..*"}),
             (0, None), "south: become standby with an exclude")
    check_eq(describe_broker(south)["strait.redirect.topics.exclude"][0], "local\\..*",
             "south: described exclude")

    _, parts = metadata(south, topics=(LOCAL_TOPIC,))
    check_eq(parts, {p: (0, 301, 0) for p in range(PARTITIONS)},
             "south: %s answered locally (plain client)" % LOCAL_TOPIC)
    brokers, parts = metadata(south)
    check_eq(brokers, {301: south.port, 1: active_port}, "south: brokers for a plain client")
    check_eq(parts, {p: (0, 1, 4) for p in range(PARTITIONS)}, "south: %s redirected" % TOPIC)

    producer = Producer({"bootstrap.servers": south.bootstrap, "acks": "all",
                         "client.id": "metrics-app", "linger.ms": 5})
    values = [b"metric-%d" % i for i in range(40)]
    produce_all(producer, values, LOCAL_TOPIC)  # a standby takes them: excluded
    ends = 0
    for p in range(PARTITIONS):  # a plain client's ListOffsets: local too
        resp = call_as(south.bootstrap, "strait-test", kwire.API_LIST_OFFSETS, 1,
                       kwire.list_offsets_v1_body(LOCAL_TOPIC, p, -1))
        error, _, offset = kwire.parse_list_offsets_v1(resp)[(LOCAL_TOPIC, p)]
        check_eq(error, 0, "plain ListOffsets of %s on south" % LOCAL_TOPIC)
        ends += offset
    check_eq(ends, len(values), "records of %s in south's log" % LOCAL_TOPIC)

    check_eq(produce_raw(south, "strait-test", b"refused")[0], NOT_LEADER_OR_FOLLOWER,
             "plain Produce of %s to south (standby)" % TOPIC)
    check_eq(produce_raw(south, "strait-test", b"raw-metric", topic=LOCAL_TOPIC)[0], 0,
             "plain Produce of %s to south (standby)" % LOCAL_TOPIC)

    note("6a. the exclude removed: %s is protected too" % LOCAL_TOPIC)
    check_eq(alter_broker(south, {"strait.redirect.topics.exclude": ""}), (0, None),
             "south: exclude cleared")
    check_eq(produce_raw(south, "strait-test", b"refused", topic=LOCAL_TOPIC)[0],
             NOT_LEADER_OR_FOLLOWER, "plain Produce of %s once not excluded" % LOCAL_TOPIC)
    _, parts = metadata(south, topics=(LOCAL_TOPIC,))
    check_eq({p: v[1] for p, v in parts.items()}, {p: 1 for p in range(PARTITIONS)},
             "south: %s redirected once not excluded" % LOCAL_TOPIC)
    producer.flush(5)
    south.stop()


# ---------------------------------------------------------------- the test

def main(t):
    common = {"cluster.id": "region-roles-test", "num.partitions": str(PARTITIONS),
              "group.initial.rebalance.delay.ms": "0"}
    east = t.broker(name="east", overrides=dict(common, **{"node.id": "1"}))
    west = t.broker(name="west", overrides=dict(common, **{"node.id": "101"}))
    for b in (east, west):  # the mirrored topic exists in both regions
        _, parts = metadata(b)
        check_eq(sorted(parts), list(range(PARTITIONS)), "%s: partitions of %s" % (b.name, TOPIC))

    note("1. east active, west standby at epoch 5")
    check_eq(alter_broker(east, {"strait.region.role": "active", "strait.region.epoch": "5",
                                 "strait.region.active": "east",
                                 "strait.redirect.topics": TOPIC,
                                 "strait.redirect.groups": "app-.*"}, name="1"),
             (0, None), "east: become active")
    west_standby = {"strait.region.role": "standby", "strait.region.epoch": "5",
                    "strait.region.active": "east",
                    "strait.redirect.brokers": "1@127.0.0.1:%d" % east.port,
                    "strait.redirect.topics": TOPIC, "strait.redirect.groups": "app-.*"}
    check_eq(alter_broker(west, west_standby), (0, None), "west: become standby")

    _, parts = metadata(east)
    check_eq({p: v[1:] for p, v in parts.items()}, {0: (1, 5), 1: (1, 5)},
             "east: leader and leader epoch of %s once active at epoch 5" % TOPIC)
    brokers, parts = metadata(west)
    check_eq(brokers, {101: west.port, 1: east.port}, "west: brokers for a plain client")
    check_eq(parts, {0: (0, 1, 5), 1: (0, 1, 5)}, "west: redirected partitions")
    brokers, parts = metadata(west, client_id=SIDECAR)
    check_eq(brokers, {101: west.port}, "west: brokers for the sidecar")
    check_eq({p: v[1] for p, v in parts.items()}, {0: 101, 1: 101}, "west: sidecar leaders")

    producer = Producer({"bootstrap.servers": "%s,%s" % (west.bootstrap, east.bootstrap),
                         "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    west_before = log_ends(west)
    first = [b"before-%d" % i for i in range(200)]
    acked = produce_all(producer, first)
    on_east = read_log(east.bootstrap)
    missing = [v for v in first if on_east.get(v) != acked[v]]
    check(not missing, "acked records not at their acked offset on east: %s" % missing[:5])
    check_eq(log_ends(west), west_before, "west's log ends after producing through it")

    check_eq(produce_raw(west, "strait-test", b"plain")[0], NOT_LEADER_OR_FOLLOWER,
             "plain Produce to west (standby)")
    check_eq(log_ends(west), west_before, "west's log after a refused Produce")
    resp = call_as(west.bootstrap, "strait-test", kwire.API_LIST_OFFSETS, 1,
                   kwire.list_offsets_v1_body(TOPIC, 0, -1))
    check_eq(kwire.parse_list_offsets_v1(resp)[(TOPIC, 0)][0], NOT_LEADER_OR_FOLLOWER,
             "plain ListOffsets on west (standby)")
    sidecar_producer = Producer({"bootstrap.servers": west.bootstrap, "acks": "all",
                                 "client.id": "strait-sidecar-x"})
    mirrored = [b"mirrored-%d" % i for i in range(20)]
    produce_all(sidecar_producer, mirrored)
    check_eq(sum(log_ends(west).values()) - sum(west_before.values()), len(mirrored),
             "records the sidecar produced to west")

    described = describe_broker(west, name="101")
    check_eq(described.get("strait.region.role"), ("standby", False, 2), "west: described role")
    check_eq(described.get("strait.region.epoch"), ("5", False, 2), "west: described epoch")
    check_eq(describe_broker(west).get("strait.region.active"), ("east", False, 3),
             "west: described active region (cluster default)")
    text = metrics_text(west)
    for line in ('strait_region_role{role="standby"} 1', 'strait_region_role{role="active"} 0',
                 "strait_region_epoch 5", 'strait_region_active_info{region="east"} 1'):
        check(line in text.splitlines(), "west /metrics lacks %r" % line)

    note("2. bad input changes nothing")
    bad = [
        ({"strait.region.epoch": "4"}, "", INVALID_CONFIG,
         "strait.region.epoch 4 is older than the stored epoch 5"),
        ({"strait.region.role": "bogus"}, "", INVALID_CONFIG,
         "strait.region.role: expected active, standby, fenced or promoting, got 'bogus'"),
        ({"strait.redirect.topics": "orders,(", "strait.region.epoch": "9"}, "", INVALID_CONFIG,
         "strait.redirect.topics: bad regex '('"),
        ({"strait.redirect.topics.exclude": "local\\..*,("}, "", INVALID_CONFIG,
         "strait.redirect.topics.exclude: bad regex '('"),
        ({"strait.redirect.brokers": "east:9092"}, "", INVALID_CONFIG,
         "strait.redirect.brokers: expected id@host:port, got 'east:9092'"),
        ({"strait.redirect.brokers": None}, "", INVALID_CONFIG,
         "strait.redirect.brokers must name the active region's brokers"),
        ({"strait.region.epoch": "9"}, "1", INVALID_REQUEST, "unexpected broker id '1'"),
        ({"log.retention.ms": "1"}, "", INVALID_REQUEST,
         "'log.retention.ms' cannot be changed dynamically"),
    ]
    for configs, name, code, message in bad:
        error, text = alter_broker(west, configs, name=name)
        check(error == code and text and message in text,
              "%s on %r: expected %d %r, got %d %r" % (configs, name, code, message, error, text))
    check_eq(alter_broker(west, {"strait.region.role": "fenced", "strait.region.epoch": "9"},
                          validate_only=True), (0, None), "validate_only")
    described = describe_broker(west)
    check_eq((described["strait.region.role"][0], described["strait.region.epoch"][0]),
             ("standby", "5"), "west's role and epoch after refused changes")

    note("3. west restarted keeps its role")
    west.restart()
    described = describe_broker(west)
    check_eq((described["strait.region.role"][0], described["strait.region.epoch"][0],
              described["strait.redirect.brokers"][0]),
             ("standby", "5", "1@127.0.0.1:%d" % east.port), "west's state after a restart")
    _, parts = metadata(west)
    check_eq(parts, {0: (0, 1, 5), 1: (0, 1, 5)}, "west: redirected partitions after a restart")
    check_eq(alter_broker(west, west_standby), (0, None), "west: same epoch re-applied")

    note("4. switchover to west at epoch 6")
    check_eq(alter_broker(east, {"strait.region.role": "fenced", "strait.region.epoch": "6"}),
             (0, None), "east: fenced")
    check_eq(produce_raw(east, "strait-test", b"late")[0], NOT_LEADER_OR_FOLLOWER,
             "plain Produce to east (fenced)")
    brokers, parts = metadata(east)
    check_eq((brokers, {p: v[1] for p, v in parts.items()}), ({1: east.port}, {0: 1, 1: 1}),
             "east (fenced): no redirect")
    west_epochs_before = {p: v[2] for p, v in metadata(west, client_id=SIDECAR)[1].items()}
    check(all(e < 6 for e in west_epochs_before.values()),
          "west's own leader epochs before promotion: %s" % west_epochs_before)
    check_eq(alter_broker(west, {"strait.region.role": "active", "strait.region.epoch": "6",
                                 "strait.region.active": "west",
                                 "strait.redirect.brokers": None}), (0, None), "west: active")
    _, parts = metadata(west)
    check_eq({p: v[1:] for p, v in parts.items()}, {0: (101, 6), 1: (101, 6)},
             "west: leader and leader epoch once active at epoch 6")
    check_eq(alter_broker(east, {"strait.region.role": "standby", "strait.region.active": "west",
                                 "strait.redirect.brokers": "101@127.0.0.1:%d" % west.port},
                          name="1"), (0, None), "east: standby")
    brokers, parts = metadata(east)
    check_eq(parts, {0: (0, 101, 6), 1: (0, 101, 6)}, "east: redirected partitions")
    check_eq(find_coordinator(east, "app-orders"), (0, 101, west.port),
             "east: FindCoordinator for app-orders")

    west_before = log_ends(west)
    second = [b"after-%d" % i for i in range(200)]
    acked = produce_all(producer, second)  # the same idempotent producer
    producer.flush(5)
    on_west = read_log(west.bootstrap)
    missing = [v for v in second if on_west.get(v) != acked[v]]
    check(not missing, "acked records not at their acked offset on west: %s" % missing[:5])
    check_eq(sum(log_ends(west).values()) - sum(west_before.values()), len(second),
             "records appended on west after the switchover")

    note("4b. a consumer group follows to west")
    expected = set(on_west)
    consumer = Consumer({"bootstrap.servers": "%s,%s" % (east.bootstrap, west.bootstrap),
                         "group.id": "app-orders", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 10000})
    seen = set()
    try:
        consumer.subscribe([TOPIC])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not expected <= seen:
            m = consumer.poll(0.5)
            if m is not None and not m.error():
                seen.add(m.value())
        check(expected <= seen, "group consumer read %d of west's %d records"
              % (len(seen & expected), len(expected)))
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    ends = log_ends(west)
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=west.bootstrap, client_id="strait-sidecar-admin")
    try:
        committed = {tp.partition: om.offset
                     for tp, om in admin.list_consumer_group_offsets("app-orders").items()}
    finally:
        admin.close()
    # an empty partition has no position until the consumer's first fetch
    # of it returns, so commit() may leave it out: only partitions that hold
    # records must be committed, at their end
    check_eq({p: o for p, o in committed.items() if ends.get(p, 0) > 0 or o not in (0, None)},
             {p: o for p, o in ends.items() if o > 0}, "app-orders offsets committed on west")
    producer.flush(5)
    east.stop()
    west.stop()

    lease_scenario(t, common)
    exclude_scenario(t, common, east.port)


if __name__ == "__main__":
    run_test(main)
