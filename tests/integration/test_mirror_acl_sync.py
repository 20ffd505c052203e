#!/usr/bin/env python3
"""
test_mirror_acl_sync.py - the ACL sync between regions (docs/security.md,
"ACL sync between regions"; issue 11 scope 6) with real clients.

Three single-node regions, east, west and north, each broker with the
authorizer on and two listeners: SASL_PLAINTEXT (SCRAM-SHA-512; users admin,
alice, bob, carol, dave and the region-link users link-east, link-west,
link-north) and PLAINTEXT (User:ANONYMOUS, not a super user: nothing but the
harness's port probe uses it). super.users is User:admin and the region's own
link user, which is the principal every sidecar uses on that region's
brokers (regions.<name>.security: SASL_PLAINTEXT, SCRAM-SHA-512,
password_file). No failover section: every region accepts writes, and the
two flows (east->west identity, east->north prefix) have no reverse flow, so
east is the authority for both.

0. north starts WITHOUT an authorizer: the east->north flow copies records
   but its ACL sync reports SECURITY_DISABLED in /status and logs it once
   over several cycles. north is restarted with the authorizer; the sync
   runs.
1. ACLs created in east (kafka-python, as admin) reach west as they are,
   WRITE and DENY included, and north with the topic prefixed ("east.") and
   WRITE dropped. Not copied: a binding of a sidecar principal
   (User:link-west), a CLUSTER binding, a binding on a topic no flow mirrors.
2. Real clients in west and north: alice produces to orders in west
   (WRITE kept), is refused TOPIC_AUTHORIZATION_FAILED producing to
   east.orders in north (WRITE dropped), reads in both; bob, allowed by a
   prefixed grant and denied by a literal DENY, is refused
   TOPIC_AUTHORIZATION_FAILED reading in both.
3. Removals: dave's grant removed in east disappears from west and north;
   carol's binding created locally in west survives, and so does alice's
   DESCRIBE grant that west had locally before the sync (the same binding as
   east's, so the sync never recorded it as its own) after east removes it.
4. /metrics counts the bindings created and deleted.
"""
# strait-test: asan
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from kafka import KafkaAdminClient  # noqa: E402
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,  # noqa: E402
                         ACLResourcePatternType, NewTopic, ResourcePattern,
                         ResourcePatternFilter, ResourceType)
from sidecar import Sidecar  # noqa: E402
import mirror  # noqa: E402

REGIONS = ("east", "west", "north")
USERS = ("admin", "alice", "bob", "carol", "dave", "link-east", "link-west", "link-north")
TOPIC = "orders"


def password(user):
    return "%s-secret" % user


def start_broker(t, region, authorizer):
    users = t.path("users-%s.txt" % region)
    with open(users, "w") as f:
        for user in USERS:
            f.write("%s SCRAM-SHA-512 %s\n" % (user, password(user)))
    sasl_port = free_port()
    overrides = {"sasl.users.file": users, "num.partitions": "1",
                 "super.users": "User:admin;User:link-%s" % region}
    if authorizer:
        overrides["authorizer.class.name"] = "strait"
    b = t.broker(region, start=False, overrides=overrides)
    b.overrides["listeners"] = ("SASL_PLAINTEXT://127.0.0.1:%d,PLAINTEXT://127.0.0.1:%d"
                                % (sasl_port, b.port))
    b.sasl = "127.0.0.1:%d" % sasl_port
    b.start()
    return b


def write_topology(t, brokers, ports):
    lines = ["regions:"]
    for i, region in enumerate(REGIONS):
        pw = t.path("link-%s.pw" % region)
        with open(pw, "w") as f:
            f.write(password("link-" + region) + "\n")
        os.chmod(pw, 0o600)
        lines += ["  %s:" % region,
                  "    bootstrap: %s" % brokers[region].sasl,
                  "    sidecar: 127.0.0.1:%d" % ports[region],
                  "    security: {protocol: SASL_PLAINTEXT, sasl_mechanism: SCRAM-SHA-512, "
                  "username: link-%s, password_file: %s}" % (region, pw)]
    lines += ["flows:",
              "  - {source: east, target: west, topics: [\"orders\"], refresh_interval: 1s}",
              "  - {source: east, target: north, topics: [\"orders\"], naming: prefix, "
              "refresh_interval: 1s}",
              "checkpoints: {interval: 500ms}",
              "sidecar: {state_dir: %s}" % t.path("state")]
    path = t.path("topology.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def admin(b):
    return KafkaAdminClient(bootstrap_servers=b.sasl, security_protocol="SASL_PLAINTEXT",
                            sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="admin",
                            sasl_plain_password=password("admin"), request_timeout_ms=15000)


def acl(principal, resource_type, name, operation, permission=ACLPermissionType.ALLOW,
        pattern=ACLResourcePatternType.LITERAL):
    return ACL(principal, "*", operation, permission, ResourcePattern(resource_type, name, pattern))


def key(a):
    """A comparable form of a kafka-python ACL."""
    rp = a.resource_pattern
    return (ResourceType(rp.resource_type).name, rp.resource_name,
            ACLResourcePatternType(rp.pattern_type).name, a.principal, a.host,
            ACLOperation(a.operation).name, ACLPermissionType(a.permission_type).name)


def acls_of(b):
    a = admin(b)
    try:
        found, error = a.describe_acls(ACLFilter(
            None, None, ACLOperation.ANY, ACLPermissionType.ANY,
            ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        check(error.errno == 0, "describe_acls on %s: %s" % (b.name, error))
        return {key(x) for x in found}
    finally:
        a.close()


def create_acls(b, acls):
    a = admin(b)
    try:
        result = a.create_acls(acls)
        check_eq(len(result["failed"]), 0, "create_acls failures on %s" % b.name)
    finally:
        a.close()


def delete_acl(b, binding):
    a = admin(b)
    try:
        rp = binding.resource_pattern
        result = a.delete_acls([ACLFilter(
            binding.principal, binding.host, binding.operation, binding.permission_type,
            ResourcePatternFilter(rp.resource_type, rp.resource_name, rp.pattern_type))])
        deleted = [m for _, matches, _ in result for m in matches]
        check_eq(len(deleted), 1, "bindings deleted on %s" % b.name)
    finally:
        a.close()


def client_conf(b, user, **extra):
    conf = {"bootstrap.servers": b.sasl, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": user,
            "sasl.password": password(user)}
    conf.update(extra)
    return conf


def produce_error(b, user, topic):
    """0 when delivered, else the Kafka error code of the delivery report."""
    result = []
    p = Producer(client_conf(b, user, **{"message.timeout.ms": 8000}))
    p.produce(topic, b"from-" + user.encode(), on_delivery=lambda err, msg: result.append(err))
    p.flush(15)
    check(result, "no delivery report for %s on %s" % (user, b.name))
    return 0 if result[0] is None else result[0].code()


def read_error(b, user, topic):
    """0 when a record is read from partition 0, else the Kafka error code."""
    c = Consumer(client_conf(b, user, **{"group.id": "%s-group" % user,
                                         "enable.auto.commit": False}))
    try:
        c.assign([TopicPartition(topic, 0, -2)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                return m.error().code()
            return 0
        raise AssertionError("%s read nothing from %s on %s" % (user, topic, b.name))
    finally:
        c.close()


def high_watermark(b, topic):
    """Partition 0's high watermark, read as admin (-1 while the topic is missing)."""
    c = Consumer(client_conf(b, "admin", **{"group.id": "hwm"}))
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    except Exception:  # the topic does not exist yet
        return -1
    finally:
        c.close()


def acl_sync_of(sc, flow):
    for f in sc.status()["flows"]:
        if f["name"] == flow:
            return f["acl_sync"] or {}
    return {}


def metric(sc, flow, action):
    code, body = sc.get("/metrics")
    check_eq(code, 200, "/metrics")
    prefix = 'strait_mirror_acl_bindings_synced_total{flow="%s",action="%s"} ' % (flow, action)
    for line in body.splitlines():
        if line.startswith(prefix):
            return int(line[len(prefix):])
    raise AssertionError("no %s in /metrics" % prefix)


T, G, L, P = "TOPIC", "GROUP", "LITERAL", "PREFIXED"


def main(t):
    brokers = {"east": start_broker(t, "east", True), "west": start_broker(t, "west", True),
               "north": start_broker(t, "north", False)}
    for region in ("east", "west"):
        a = admin(brokers[region])
        a.create_topics([NewTopic(TOPIC, 1, 1)])
        a.close()
    a = admin(brokers["east"])
    a.create_topics([NewTopic("private", 1, 1)])
    a.close()
    p = Producer(client_conf(brokers["east"], "admin"))
    for i in range(5):
        p.produce(TOPIC, b"east-%d" % i)
    check_eq(p.flush(15), 0, "records left unflushed in east")

    R, W, D = ACLOperation.READ, ACLOperation.WRITE, ACLOperation.DESCRIBE
    DENY = ACLPermissionType.DENY
    alice_describe = acl("User:alice", ResourceType.TOPIC, TOPIC, D)
    dave_read = acl("User:dave", ResourceType.TOPIC, TOPIC, R)
    create_acls(brokers["east"], [
        acl("User:alice", ResourceType.TOPIC, TOPIC, W),
        acl("User:alice", ResourceType.TOPIC, TOPIC, R),
        alice_describe,
        acl("User:alice", ResourceType.GROUP, "alice-group", R),
        acl("User:bob", ResourceType.TOPIC, "ord", R, pattern=ACLResourcePatternType.PREFIXED),
        acl("User:bob", ResourceType.TOPIC, TOPIC, R, permission=DENY),
        acl("User:bob", ResourceType.GROUP, "bob-group", R),
        dave_read,
        # never copied: a sidecar's principal, the cluster, a topic no flow mirrors
        acl("User:link-west", ResourceType.TOPIC, TOPIC, R),
        acl("User:alice", ResourceType.CLUSTER, "kafka-cluster", D),
        acl("User:alice", ResourceType.TOPIC, "private", R),
    ])
    # west's own bindings: carol's, and the same DESCRIBE grant east has
    local_carol = (T, TOPIC, L, "User:carol", "*", "READ", "ALLOW")
    create_acls(brokers["west"], [acl("User:carol", ResourceType.TOPIC, TOPIC, R),
                                  alice_describe])
    west_local = acls_of(brokers["west"])

    ports = {r: free_port() for r in REGIONS}
    topology = write_topology(t, brokers, ports)

    note("0. north has no authorizer: its ACL sync is refused, reported once, the flow copies")
    north_sc = Sidecar(t, topology, "north", ports["north"]).start()
    flow_north = "east->north"
    state = mirror.wait_for("north's acl sync refused",
                            lambda: acl_sync_of(north_sc, flow_north).get("state") == "refused"
                            and acl_sync_of(north_sc, flow_north), 60)
    check("SECURITY_DISABLED" in state["reason"] and "north" in state["reason"],
          "refusal reason: %r" % state["reason"])
    mirror.wait_for("records copied into north",
                    lambda: high_watermark(brokers["north"], "east." + TOPIC) >= 5, 60)
    # several 1 s cycles later the refusal is still logged only once
    time.sleep(4)
    check_eq(acl_sync_of(north_sc, flow_north)["state"], "refused", "north's acl sync state")
    log = north_sc.log_tail(100000)
    check_eq(log.count("acl sync refused"), 1, "refusal lines in north's sidecar log")
    north_sc.stop()
    brokers["north"].stop()
    brokers["north"].overrides["authorizer.class.name"] = "strait"
    brokers["north"].start()
    north_sc = Sidecar(t, topology, "north", ports["north"]).start()

    note("1. east's ACLs reach west as they are and north prefixed without WRITE")
    west_sc = Sidecar(t, topology, "west", ports["west"]).start()
    expected_west = west_local | {
        (T, TOPIC, L, "User:alice", "*", "WRITE", "ALLOW"),
        (T, TOPIC, L, "User:alice", "*", "READ", "ALLOW"),
        (G, "alice-group", L, "User:alice", "*", "READ", "ALLOW"),
        (T, "ord", P, "User:bob", "*", "READ", "ALLOW"),
        (T, TOPIC, L, "User:bob", "*", "READ", "DENY"),
        (G, "bob-group", L, "User:bob", "*", "READ", "ALLOW"),
        (T, TOPIC, L, "User:dave", "*", "READ", "ALLOW"),
    }
    expected_north = {
        (T, "east." + TOPIC, L, "User:alice", "*", "READ", "ALLOW"),
        (T, "east." + TOPIC, L, "User:alice", "*", "DESCRIBE", "ALLOW"),
        (G, "alice-group", L, "User:alice", "*", "READ", "ALLOW"),
        (T, "east.ord", P, "User:bob", "*", "READ", "ALLOW"),
        (T, "east." + TOPIC, L, "User:bob", "*", "READ", "DENY"),
        (G, "bob-group", L, "User:bob", "*", "READ", "ALLOW"),
        (T, "east." + TOPIC, L, "User:dave", "*", "READ", "ALLOW"),
    }
    for region, expected in (("west", expected_west), ("north", expected_north)):
        mirror.wait_for("%s's ACLs synced" % region,
                        lambda: acls_of(brokers[region]) == expected, 60)
    check_eq(acl_sync_of(west_sc, "east->west")["state"], "ok", "west's acl sync state")
    st = mirror.wait_for("north's acl sync ok",
                         lambda: acl_sync_of(north_sc, flow_north).get("state") == "ok"
                         and acl_sync_of(north_sc, flow_north), 30)
    check_eq(st["reason"], "", "north's acl sync reason once it runs")
    check("acl sync running" in north_sc.log_tail(100000), "recovery not logged")

    note("2. real clients in west and north, allowed and denied by the synced ACLs")
    mirror.wait_for("records copied into west",
                    lambda: high_watermark(brokers["west"], TOPIC) >= 5, 60)
    check_eq(produce_error(brokers["west"], "alice", TOPIC), 0, "alice produces in west")
    check_eq(read_error(brokers["west"], "alice", TOPIC), 0, "alice reads in west")
    check_eq(read_error(brokers["west"], "bob", TOPIC), KafkaError.TOPIC_AUTHORIZATION_FAILED,
             "bob reads in west (DENY synced)")
    check_eq(produce_error(brokers["north"], "alice", "east." + TOPIC),
             KafkaError.TOPIC_AUTHORIZATION_FAILED, "alice produces to east.orders in north")
    check_eq(read_error(brokers["north"], "alice", "east." + TOPIC), 0, "alice reads in north")
    check_eq(read_error(brokers["north"], "bob", "east." + TOPIC),
             KafkaError.TOPIC_AUTHORIZATION_FAILED, "bob reads in north (DENY synced)")
    check_eq(produce_error(brokers["west"], "carol", TOPIC),
             KafkaError.TOPIC_AUTHORIZATION_FAILED, "carol (READ only, local) produces in west")

    note("3. removals in east are synced; west's own bindings survive")
    delete_acl(brokers["east"], dave_read)
    delete_acl(brokers["east"], alice_describe)
    expected_west -= {(T, TOPIC, L, "User:dave", "*", "READ", "ALLOW")}
    expected_north -= {(T, "east." + TOPIC, L, "User:dave", "*", "READ", "ALLOW"),
                       (T, "east." + TOPIC, L, "User:alice", "*", "DESCRIBE", "ALLOW")}
    for region, expected in (("west", expected_west), ("north", expected_north)):
        mirror.wait_for("%s's removals synced" % region,
                        lambda: acls_of(brokers[region]) == expected, 60)
    now_west = acls_of(brokers["west"])
    check(local_carol in now_west, "carol's local binding was removed from west")
    check((T, TOPIC, L, "User:alice", "*", "DESCRIBE", "ALLOW") in now_west,
          "west's own DESCRIBE grant for alice was removed")
    # a few more cycles change nothing
    time.sleep(3)
    check_eq(acls_of(brokers["west"]), expected_west, "west's ACLs after more cycles")

    note("4. /metrics and /status count what the sync did")
    check_eq(metric(west_sc, "east->west", "created"), 7, "bindings created in west")
    check_eq(metric(west_sc, "east->west", "deleted"), 1, "bindings deleted from west")
    check_eq(metric(north_sc, flow_north, "created"), 7, "bindings created in north")
    check_eq(metric(north_sc, flow_north, "deleted"), 2, "bindings deleted from north")
    st = acl_sync_of(west_sc, "east->west")
    check_eq((st["enabled"], st["bindings"]), (True, 6), "west's acl_sync in /status")
    check(st["last_sync_ms"] > 0, "last_sync_ms: %s" % json.dumps(st))
    west_sc.stop()
    north_sc.stop()


if __name__ == "__main__":
    run_test(main)
