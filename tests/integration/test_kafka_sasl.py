#!/usr/bin/env python3
"""
test_kafka_sasl.py - SASL on the broker's Kafka listeners (issue 11, scope 2
and 3) with real clients. Certificates are made here with the `openssl` CLI.

One broker, three listeners, users from sasl.users.file (admin, alice, bob):
  SASL_PLAINTEXT://127.0.0.1:P   PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  SASL_SSL://127.0.0.1:S         listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
  PLAINTEXT://127.0.0.1:Q        (User:ANONYMOUS)
and the authorizer on, super.users=User:admin.

1. admin (kafka-python, SCRAM-SHA-512) creates the topic and grants alice
   WRITE/READ/DESCRIBE on it and READ on her group; bob gets nothing.
2. kcat over SASL_SSL with SCRAM-SHA-512 produces and consumes as alice;
   confluent-kafka over SASL_PLAINTEXT with SCRAM-SHA-256 and PLAIN (one user
   store: alice's SCRAM credential checks her PLAIN password); kafka-python
   with PLAIN and SCRAM-SHA-256. The broker logs User:alice.
3. The ACL matrix with two real principals: bob (authenticated) is refused
   with TOPIC_AUTHORIZATION_FAILED where alice writes.
4. Refused, each with SASL_AUTHENTICATION_FAILED and a log line naming the
   peer, mechanism, user and reason: a wrong password (SCRAM and PLAIN), an
   unknown user; a mechanism the listener does not enable gives
   UNSUPPORTED_SASL_MECHANISM. The failure is answered after
   connection.failed.authentication.delay.ms. /metrics counts outcomes.
5. Before authentication: a Metadata request closes the connection; a
   request over 512 KiB closes it; ApiVersions is answered.
6. Users through the Kafka APIs: admin creates carol with
   AlterUserScramCredentials (salt and salted password computed here), carol
   logs in with SCRAM-SHA-256 and PLAIN; DescribeUserScramCredentials lists
   her; an ANONYMOUS client is refused CLUSTER_AUTHORIZATION_FAILED; a
   deleted credential no longer logs in.
7. After a restart the users are back from the data dir (carol included),
   and the users file is not read again.
"""
# strait-test: asan
import os
import re
import socket
import hashlib
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import kwire  # noqa: E402
from broker import check, check_eq, free_port, note, run_test  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer  # noqa: E402
from kafka import KafkaAdminClient, KafkaProducer  # noqa: E402
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, NewTopic,  # noqa: E402
                         ResourcePattern, ResourceType)
from kafka.errors import KafkaError as KafkaPythonError  # noqa: E402

PASSWORDS = {"admin": "admin-secret", "alice": "alice secret", "bob": "bob-secret"}
TOPIC = "orders"


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "openssl %s: %s" % (args[0], r.stderr))


def make_pki(t):
    d = t.path("pki")
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    p = lambda name: os.path.join(d, name)  # noqa: E731
    openssl("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-subj",
            "/CN=strait-sasl-ca", "-days", "2")
    openssl("req", *ec, "-keyout", p("broker.key"), "-out", p("broker.csr"), "-subj", "/CN=localhost")
    with open(p("broker.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", p("broker.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-days", "2", "-out", p("broker.pem"), "-extfile", p("broker.ext"))
    with open(p("keystore.pem"), "w") as out:
        for name in ("broker.pem", "broker.key"):
            with open(p(name)) as f:
                out.write(f.read())
    return p("keystore.pem"), p("ca.pem")


def confluent_conf(bootstrap, mechanism, user, password, protocol="SASL_PLAINTEXT", **extra):
    conf = {"bootstrap.servers": bootstrap, "security.protocol": protocol,
            "sasl.mechanisms": mechanism, "sasl.username": user, "sasl.password": password}
    conf.update(extra)
    return conf


def confluent_produce(conf, topic, value):
    """The delivery error code (0 = delivered)."""
    result = []
    p = Producer(dict(conf, **{"message.timeout.ms": 8000}))
    p.produce(topic, value, on_delivery=lambda err, msg: result.append(err))
    p.flush(15)
    check(result, "no delivery report for %s" % conf["sasl.username"])
    return 0 if result[0] is None else result[0].code()


def auth_error(conf):
    """The error a client sees when authentication fails (an error callback)."""
    errors = []
    c = dict(conf, **{"error_cb": lambda e: errors.append(e)})
    p = Producer(c)
    deadline = time.monotonic() + 10
    while not errors and time.monotonic() < deadline:
        p.poll(0.2)
    check(errors, "no error for %s" % conf["sasl.username"])
    return errors[0]


def kcat(*args, input_data=None):
    r = subprocess.run(["kcat"] + list(args), input=input_data, capture_output=True, text=True,
                       timeout=60)
    return r


def recv_frame(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    n = struct.unpack(">i", head)[0]
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def closed_after(port, frame):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(frame)
    try:
        return recv_frame(s) is None
    except ConnectionResetError:
        return True
    finally:
        s.close()


def metric(broker, name, label):
    text = urllib.request.urlopen(broker.metrics_url(), timeout=10).read().decode()
    m = re.search(r'^%s\{%s\} (\d+)' % (re.escape(name), re.escape(label)), text, re.M)
    check(m, "%s{%s} missing from /metrics" % (name, label))
    return int(m.group(1))


def compact_string(text):
    data = text.encode()
    return kwire.uvarint(len(data) + 1) + data


def compact_bytes(data):
    return kwire.uvarint(len(data) + 1) + data


def flexible_request(api_key, correlation_id, body):
    return kwire.request(api_key, 0, correlation_id, body, header_version=2)


def read_uvarint(data, at):
    value, shift = 0, 0
    while True:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, at
        shift += 7


def read_compact_string(data, at):
    n, at = read_uvarint(data, at)
    if n == 0:
        return None, at
    return data[at:at + n - 1].decode(), at + n - 1


def alter_users(s, deletions, upsertions, correlation_id=11):
    """[(user, error_code)] of an AlterUserScramCredentials v0 on socket s."""
    body = kwire.uvarint(len(deletions) + 1)
    for name, mechanism in deletions:
        body += compact_string(name) + kwire.i8(mechanism) + kwire.uvarint(0)
    body += kwire.uvarint(len(upsertions) + 1)
    for name, mechanism, password in upsertions:
        digest = "sha256" if mechanism == 1 else "sha512"
        salt = os.urandom(16)
        salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, 4096)
        body += (compact_string(name) + kwire.i8(mechanism) + kwire.i32(4096) +
                 compact_bytes(salt) + compact_bytes(salted) + kwire.uvarint(0))
    body += kwire.uvarint(0)
    s.sendall(flexible_request(51, correlation_id, body))
    data = recv_frame(s)
    at = 4
    _, at = read_uvarint(data, at)  # response header tags
    at += 4  # throttle
    count, at = read_uvarint(data, at)
    results = []
    for _ in range(count - 1):
        user, at = read_compact_string(data, at)
        code = struct.unpack(">h", data[at:at + 2])[0]
        at += 2
        _, at = read_compact_string(data, at)
        _, at = read_uvarint(data, at)
        results.append((user, code))
    return results


def describe_users(s, correlation_id=12):
    """{user: [(mechanism, iterations)]} of DescribeUserScramCredentials v0 (every user)."""
    s.sendall(flexible_request(50, correlation_id, kwire.uvarint(0) + kwire.uvarint(0)))
    data = recv_frame(s)
    at = 4
    _, at = read_uvarint(data, at)
    at += 4
    check_eq(struct.unpack(">h", data[at:at + 2])[0], 0, "DescribeUserScramCredentials error")
    at += 2
    _, at = read_compact_string(data, at)
    count, at = read_uvarint(data, at)
    users = {}
    for _ in range(count - 1):
        user, at = read_compact_string(data, at)
        at += 2
        _, at = read_compact_string(data, at)
        n, at = read_uvarint(data, at)
        infos = []
        for _ in range(n - 1):
            infos.append((data[at], struct.unpack(">i", data[at + 1:at + 5])[0]))
            at += 5
            _, at = read_uvarint(data, at)
        _, at = read_uvarint(data, at)
        users[user] = infos
    return users


def plain_login_raw(port, user, password):
    """A socket logged in with SaslHandshake v0 and a raw PLAIN token."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(kwire.request(17, 0, 1, kwire.string("PLAIN")))
    check_eq(struct.unpack(">h", recv_frame(s)[4:6])[0], 0, "SaslHandshake v0")
    token = b"\0" + user.encode() + b"\0" + password.encode()
    s.sendall(struct.pack(">i", len(token)) + token)
    check_eq(recv_frame(s), b"", "raw PLAIN login of %s" % user)
    return s


def main(t):
    keystore, ca = make_pki(t)
    users = t.path("users.txt")
    with open(users, "w") as f:
        f.write("# user mechanism password\n")
        f.write("admin SCRAM-SHA-512 %s\n" % PASSWORDS["admin"])
        f.write("alice SCRAM-SHA-256 %s\nalice SCRAM-SHA-512 %s\n"
                % (PASSWORDS["alice"], PASSWORDS["alice"]))
        f.write("bob SCRAM-SHA-512 %s\n" % PASSWORDS["bob"])
    sasl_port, ssl_port = free_port(), free_port()
    b = t.broker("sasl", start=False, overrides={
        "sasl.users.file": users,
        "ssl.keystore.location": keystore,
        "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "authorizer.class.name": "strait",
        "super.users": "User:admin",
        "connection.failed.authentication.delay.ms": "300",
        "num.partitions": "1",
    })
    plain_port = b.port
    b.overrides["listeners"] = ("SASL_PLAINTEXT://127.0.0.1:%d,SASL_SSL://127.0.0.1:%d,"
                                "PLAINTEXT://127.0.0.1:%d" % (sasl_port, ssl_port, plain_port))
    b.start()
    sasl = "127.0.0.1:%d" % sasl_port
    ssl_bootstrap = "127.0.0.1:%d" % ssl_port

    note("1. admin creates the topic and alice's ACLs over SASL (kafka-python, SCRAM-SHA-512)")
    admin = KafkaAdminClient(bootstrap_servers=sasl, security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="admin",
                             sasl_plain_password=PASSWORDS["admin"], request_timeout_ms=15000)
    admin.create_topics([NewTopic(TOPIC, 1, 1)])
    grants = [ACL("User:alice", "*", op, ACLPermissionType.ALLOW,
                  ResourcePattern(ResourceType.TOPIC, TOPIC))
              for op in (ACLOperation.WRITE, ACLOperation.READ, ACLOperation.DESCRIBE)]
    grants.append(ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                      ResourcePattern(ResourceType.GROUP, "alice-group")))
    result = admin.create_acls(grants)
    check_eq(len(result["failed"]), 0, "create_acls failures")
    admin.close()
    check("principal=User:admin" in b.log_text(), "the admin's login is not logged")

    note("2. kcat SASL_SSL SCRAM-SHA-512 as alice: produce and consume")
    common = ["-b", ssl_bootstrap, "-X", "security.protocol=SASL_SSL", "-X",
              "ssl.ca.location=" + ca, "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X",
              "sasl.username=alice", "-X", "sasl.password=" + PASSWORDS["alice"]]
    r = kcat(*common, "-P", "-t", TOPIC, input_data="k1\nk2\n")
    check_eq(r.returncode, 0, "kcat produce over SASL_SSL: %s" % r.stderr[-400:])
    r = kcat(*common, "-C", "-t", TOPIC, "-o", "beginning", "-e", "-q")
    check_eq(r.returncode, 0, "kcat consume over SASL_SSL: %s" % r.stderr[-400:])
    check_eq(r.stdout.split(), ["k1", "k2"], "kcat consumed")
    check(re.search(r"authentication succeeded peer=127\.0\.0\.1:\d+ mechanism=SCRAM-SHA-512 "
                    r"user=alice principal=User:alice", b.log_text()), "alice's login not logged")

    note("   confluent-kafka over SASL_PLAINTEXT: SCRAM-SHA-256 and PLAIN")
    for mechanism in ("SCRAM-SHA-256", "PLAIN"):
        conf = confluent_conf(sasl, mechanism, "alice", PASSWORDS["alice"])
        check_eq(confluent_produce(conf, TOPIC, mechanism.encode()), 0,
                 "confluent-kafka %s produce" % mechanism)
    c = Consumer(confluent_conf(sasl, "SCRAM-SHA-256", "alice", PASSWORDS["alice"],
                                **{"group.id": "alice-group", "auto.offset.reset": "earliest"}))
    c.subscribe([TOPIC])
    values = []
    deadline = time.monotonic() + 30
    while len(values) < 4 and time.monotonic() < deadline:
        m = c.poll(1)
        if m is not None and not m.error():
            values.append(m.value())
    c.close()
    check_eq(sorted(values), [b"PLAIN", b"SCRAM-SHA-256", b"k1", b"k2"], "confluent consumed")

    note("   kafka-python: PLAIN and SCRAM-SHA-256")
    for mechanism in ("PLAIN", "SCRAM-SHA-256"):
        p = KafkaProducer(bootstrap_servers=sasl, security_protocol="SASL_PLAINTEXT",
                          sasl_mechanism=mechanism, sasl_plain_username="alice",
                          sasl_plain_password=PASSWORDS["alice"], request_timeout_ms=15000)
        p.send(TOPIC, b"kp-" + mechanism.encode()).get(timeout=15)
        p.close()

    note("3. two real principals: bob is refused where alice writes")
    conf = confluent_conf(sasl, "SCRAM-SHA-512", "bob", PASSWORDS["bob"])
    check_eq(confluent_produce(conf, TOPIC, b"bob"), KafkaError.TOPIC_AUTHORIZATION_FAILED,
             "bob's produce")
    check("principal=User:bob" in b.log_text(), "bob's login not logged")

    note("4. wrong password, unknown user, disabled mechanism")
    failed_before = metric(b, "strait_broker_sasl_authentications_total", 'outcome="failed"')
    cases = [("SCRAM-SHA-256", "alice", "wrong", "invalid credentials"),
             ("PLAIN", "alice", "wrong", "invalid credentials"),
             ("SCRAM-SHA-512", "mallory", "x", "unknown user"),
             ("PLAIN", "mallory", "x", "unknown user")]
    for mechanism, user, password, reason in cases:
        started = time.monotonic()
        e = auth_error(confluent_conf(sasl, mechanism, user, password))
        check_eq(e.code(), KafkaError._AUTHENTICATION, "%s %s error" % (mechanism, user))
        check("SASL_AUTHENTICATION_FAILED" in e.str() or "Authentication failed" in e.str(),
              "error text %r" % e.str())
        check(time.monotonic() - started >= 0.3, "failure answered before the delay")
        check(re.search(r"authentication failed peer=127\.0\.0\.1:\d+ mechanism=%s user=%s "
                        r"reason=%s" % (mechanism, user, reason), b.log_text()),
              "no log line for %s %s (%s)" % (mechanism, user, reason))
    check(metric(b, "strait_broker_sasl_authentications_total", 'outcome="failed"')
          >= failed_before + len(cases), "failures not counted in /metrics")
    # SaslHandshake for PLAIN on the SCRAM-SHA-512-only listener (raw, over TLS)
    import ssl as ssl_module
    context = ssl_module.create_default_context(cafile=ca)
    raw = context.wrap_socket(socket.create_connection(("127.0.0.1", ssl_port), timeout=10),
                              server_hostname="localhost")
    raw.sendall(kwire.request(17, 1, 1, kwire.string("PLAIN")))
    answer = recv_frame(raw)
    raw.close()
    check_eq(struct.unpack(">h", answer[4:6])[0], 33, "SaslHandshake PLAIN on SASL_SSL")
    check(b"SCRAM-SHA-512" in answer and b"PLAIN" not in answer[6:], "listed mechanisms")

    note("5. before authentication: only ApiVersions and SASL, up to 512 KiB")
    check(closed_after(sasl_port, kwire.request(3, 1, 1, kwire.metadata_v1_body())),
          "Metadata before authentication was answered")
    check("request before SASL authentication" in b.log_text(), "no log line for it")
    check(closed_after(sasl_port, struct.pack(">i", 600 * 1024) + b"\0" * 16),
          "a 600 KiB frame before authentication was read")
    s = socket.create_connection(("127.0.0.1", sasl_port), timeout=10)
    s.sendall(kwire.request(18, 0, 7, b""))
    answer = recv_frame(s)
    s.close()
    check(answer is not None and struct.unpack(">i", answer[:4])[0] == 7, "ApiVersions answered")
    # the raw v0 path: SaslHandshake v0 then a raw PLAIN token
    s = socket.create_connection(("127.0.0.1", sasl_port), timeout=10)
    s.sendall(kwire.request(17, 0, 1, kwire.string("PLAIN")))
    check_eq(struct.unpack(">h", recv_frame(s)[4:6])[0], 0, "SaslHandshake v0")
    token = b"\0alice\0" + PASSWORDS["alice"].encode()
    s.sendall(struct.pack(">i", len(token)) + token)
    check_eq(recv_frame(s), b"", "raw PLAIN answer")
    s.sendall(kwire.request(3, 1, 2, kwire.metadata_v1_body([TOPIC])))
    check(recv_frame(s) is not None, "Metadata after a raw-token login")
    s.close()

    note("6. users through AlterUserScramCredentials / DescribeUserScramCredentials")
    s = plain_login_raw(sasl_port, "admin", PASSWORDS["admin"])
    check_eq(alter_users(s, [], [("carol", 1, "carol-pw"), ("dave", 2, "dave-pw")]),
             [("carol", 0), ("dave", 0)], "upsert carol and dave")
    users = describe_users(s)
    check_eq(users.get("carol"), [(1, 4096)], "carol described")
    check_eq(sorted(users), ["admin", "alice", "bob", "carol", "dave"], "every user described")
    check_eq(alter_users(s, [("dave", 2), ("nobody", 1)], [("erin", 3, "x")]),
             [("dave", 0), ("nobody", 91), ("erin", 33)], "delete dave; unknown; bad mechanism")
    s.close()
    anonymous = socket.create_connection(("127.0.0.1", plain_port), timeout=10)
    check_eq(alter_users(anonymous, [], [("mallory", 1, "pw")]), [("mallory", 31)],
             "ANONYMOUS creating a user")
    anonymous.close()
    check(re.search(r"audit: user upserted principal=User:admin peer=\S+ user=carol "
                    r"mechanism=SCRAM-SHA-256 outcome=ok", b.log_text()), "no audit line for carol")
    for mechanism in ("SCRAM-SHA-256", "PLAIN"):
        conf = confluent_conf(sasl, mechanism, "carol", "carol-pw")
        check_eq(confluent_produce(conf, "carol-topic", b"c"), KafkaError.TOPIC_AUTHORIZATION_FAILED,
                 "carol (authenticated, no ACL) over %s" % mechanism)
    e = auth_error(confluent_conf(sasl, "SCRAM-SHA-512", "dave", "dave-pw"))
    check_eq(e.code(), KafkaError._AUTHENTICATION, "deleted dave")

    note("7. restart: the users come back from the data dir")
    b.stop()
    with open(users_path_of(t), "w") as f:
        f.write("alice SCRAM-SHA-256 changed-in-the-file\n")
    b.start()
    check("sasl.users.file ignored" in b.log_text(), "the users file was read again")
    conf = confluent_conf(sasl, "SCRAM-SHA-512", "alice", PASSWORDS["alice"])
    check_eq(confluent_produce(conf, TOPIC, b"after-restart"), 0, "alice after restart")
    e = auth_error(confluent_conf(sasl, "SCRAM-SHA-256", "carol", "wrong"))
    check_eq(e.code(), KafkaError._AUTHENTICATION, "carol, wrong password, after restart")
    conf = confluent_conf(sasl, "SCRAM-SHA-256", "carol", "carol-pw")
    check_eq(confluent_produce(conf, "carol-topic", b"c"), KafkaError.TOPIC_AUTHORIZATION_FAILED,
             "carol logs in after restart")
    b.stop()


def users_path_of(t):
    return t.path("users.txt")


run_test(main)
