#!/usr/bin/env python3
"""
test_delete_records_mirrored.py - DeleteRecords on mirrored topics (issue 11
scope 5; docs/security.md, "DeleteRecords on mirrored topics").

A region that is not active (standby, fenced, promoting) keeps the records
of its mirrored topics (those matching strait.redirect.topics): only the
sidecar may delete them. Neither kafka-python 2.0.2 nor confluent-kafka
1.7 has delete_records, so the requests are raw DeleteRecords v0 frames
(lib/kwire.py), sent on a connection that logged in with SASL PLAIN
(SaslHandshake v1 + SaslAuthenticate v0), as any Kafka client does.

1. Broker with the authorizer, users admin (super user), alice (ALL on
   orders and local), bob (nothing), sidecar (CLUSTER_ACTION and
   ALTER_CONFIGS on the cluster, DELETE on orders). The sidecar sets the
   region state: standby for "orders".
   - alice on orders: POLICY_VIOLATION, also with the sidecar's client.id;
     the broker logs an audit line with her principal and peer address;
   - alice on local (not mirrored): done;
   - bob on orders: TOPIC_AUTHORIZATION_FAILED (no DELETE);
   - the sidecar on orders: done (CLUSTER_ACTION).
2. fenced (a switchover drains the region): alice on orders refused.
3. active: alice on orders done.
4. A broker without an authorizer, standby for orders: an ordinary client.id
   is refused POLICY_VIOLATION; the sidecar's client.id prefix is let
   through (without an authorizer that is the only identity there is).
"""
# strait-test: asan
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import kwire  # noqa: E402
from broker import check, check_eq, free_port, note, run_test  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from kafka import KafkaAdminClient  # noqa: E402
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, NewTopic,  # noqa: E402
                         ResourcePattern, ResourceType)

POLICY_VIOLATION = 44
TOPIC_AUTHORIZATION_FAILED = 29
RESOURCE_BROKER = 4
USERS = ("admin", "alice", "bob", "sidecar")
SIDECAR_CLIENT_ID = "strait-sidecar-test"


def password(user):
    return user + "-secret"


def sasl_conn(b, user):
    """A kwire connection logged in as user with SASL PLAIN."""
    c = kwire.Conn(b.sasl)
    body = c.call(17, 1, kwire.string("PLAIN"))
    check_eq(struct.unpack(">h", body[:2])[0], 0, "SaslHandshake error")
    token = b"\0" + user.encode() + b"\0" + password(user).encode()
    body = c.call(36, 0, kwire.nbytes(token))
    check_eq(struct.unpack(">h", body[:2])[0], 0, "SaslAuthenticate error of %s" % user)
    return c


def delete_records(c, topic, offset, client_id="strait-test"):
    """-> (error_code, low_watermark) of partition 0."""
    c.correlation_id += 1
    c.send(kwire.request(kwire.API_DELETE_RECORDS, 0, c.correlation_id,
                         kwire.delete_records_v0_body(topic, 0, offset), client_id=client_id))
    _, body = c.recv_response(0)
    return kwire.parse_delete_records_v0(body)[(topic, 0)]


def set_region(c, configs, client_id):
    """IncrementalAlterConfigs v0 (SET) of the region keys on the BROKER resource."""
    entries = b"".join(kwire.string(k) + kwire.i8(0) + kwire.string(v)
                       for k, v in configs.items())
    body = (kwire.i32(1) + kwire.i8(RESOURCE_BROKER) + kwire.string("")
            + kwire.i32(len(configs)) + entries + kwire.i8(0))
    c.correlation_id += 1
    c.send(kwire.request(kwire.API_INCREMENTAL_ALTER_CONFIGS, 0, c.correlation_id, body,
                         client_id=client_id))
    _, resp = c.recv_response(0)
    results = kwire.parse_incremental_alter_configs_v0(resp)
    check_eq(results[0][0], 0, "region state change: %s" % (results[0][1],))


def region(role, epoch):
    return {"strait.region.role": role, "strait.region.epoch": str(epoch),
            "strait.region.active": "east", "strait.redirect.brokers": "7@127.0.0.1:1",
            "strait.redirect.topics": "orders"}


def produce(bootstrap, topics, count, **security):
    p = Producer(dict({"bootstrap.servers": bootstrap}, **security))
    for topic in topics:
        for i in range(count):
            p.produce(topic, b"r%d" % i, partition=0)
    check_eq(p.flush(15), 0, "records left unflushed")


def with_authorizer(t):
    users = t.path("users.txt")
    with open(users, "w") as f:
        for user in USERS:
            f.write("%s SCRAM-SHA-512 %s\n" % (user, password(user)))
    sasl_port = free_port()
    b = t.broker("authz", start=False, overrides={
        "sasl.users.file": users, "authorizer.class.name": "strait",
        "super.users": "User:admin", "num.partitions": "1"})
    b.overrides["listeners"] = ("SASL_PLAINTEXT://127.0.0.1:%d,PLAINTEXT://127.0.0.1:%d"
                                % (sasl_port, b.port))
    b.sasl = "127.0.0.1:%d" % sasl_port
    b.start()
    a = KafkaAdminClient(bootstrap_servers=b.sasl, security_protocol="SASL_PLAINTEXT",
                         sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="admin",
                         sasl_plain_password=password("admin"), request_timeout_ms=15000)
    a.create_topics([NewTopic("orders", 1, 1), NewTopic("local", 1, 1)])

    def grant(principal, rtype, name, op):
        return ACL(principal, "*", op, ACLPermissionType.ALLOW, ResourcePattern(rtype, name))
    result = a.create_acls([
        grant("User:alice", ResourceType.TOPIC, "orders", ACLOperation.ALL),
        grant("User:alice", ResourceType.TOPIC, "local", ACLOperation.ALL),
        grant("User:sidecar", ResourceType.CLUSTER, "kafka-cluster", ACLOperation.CLUSTER_ACTION),
        grant("User:sidecar", ResourceType.CLUSTER, "kafka-cluster", ACLOperation.ALTER_CONFIGS),
        grant("User:sidecar", ResourceType.TOPIC, "orders", ACLOperation.DELETE),
    ])
    check_eq(len(result["failed"]), 0, "create_acls failures")
    a.close()
    produce(b.sasl, ("orders", "local"), 10, **{
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "admin", "sasl.password": password("admin")})

    note("1. standby: only the sidecar deletes records of the mirrored topic")
    alice, bob, sidecar = (sasl_conn(b, u) for u in ("alice", "bob", "sidecar"))
    set_region(sidecar, region("standby", 1), "strait-sidecar-east")
    check_eq(delete_records(alice, "orders", 3), (POLICY_VIOLATION, -1),
             "alice's DeleteRecords on mirrored orders (standby)")
    check_eq(delete_records(alice, "orders", 3, client_id=SIDECAR_CLIENT_ID),
             (POLICY_VIOLATION, -1), "alice with the sidecar's client.id")
    log = b.log_text()
    check("audit: delete records refused principal=User:alice peer=127.0.0.1:" in log
          and "topic=orders partition=0 region_role=standby outcome=POLICY_VIOLATION" in log,
          "no audit line for alice's refused DeleteRecords")
    check_eq(delete_records(alice, "local", 3), (0, 3), "alice on local (not mirrored)")
    check_eq(delete_records(bob, "orders", 3)[0], TOPIC_AUTHORIZATION_FAILED,
             "bob without DELETE")
    check_eq(delete_records(sidecar, "orders", 2), (0, 2), "the sidecar on orders")

    note("2. fenced: still refused")
    set_region(sidecar, region("fenced", 2), "strait-sidecar-east")
    check_eq(delete_records(alice, "orders", 4), (POLICY_VIOLATION, -1), "alice, fenced")

    note("3. active: the topic is the region's own, DELETE is enough")
    set_region(sidecar, region("active", 3), "strait-sidecar-east")
    check_eq(delete_records(alice, "orders", 5), (0, 5), "alice, active")
    for c in (alice, bob, sidecar):
        c.close()


def without_authorizer(t):
    note("4. no authorizer: the sidecar's client.id prefix, nothing else")
    b = t.broker("plain", overrides={"num.partitions": "1"})
    b.sasl = b.bootstrap  # plain connections: kwire.Conn dials b.sasl
    produce(b.bootstrap, ("orders",), 10)
    with kwire.Conn(b.bootstrap) as c:
        set_region(c, region("standby", 1), SIDECAR_CLIENT_ID)
        check_eq(delete_records(c, "orders", 3, client_id="tool"), (POLICY_VIOLATION, -1),
                 "an ordinary client on a standby")
        check_eq(delete_records(c, "orders", 3, client_id=SIDECAR_CLIENT_ID), (0, 3),
                 "the sidecar's client.id")


def main(t):
    with_authorizer(t)
    without_authorizer(t)


if __name__ == "__main__":
    run_test(main)
