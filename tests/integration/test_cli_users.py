#!/usr/bin/env python3
"""
test_cli_users: `strait users add|list|delete` (issue 11) against a real
broker, through strait's own Kafka client (kafka_client/). Certificates are
made here with the `openssl` CLI.

One broker, users file admin (super user) and bob, the authorizer on:
  SASL_SSL://127.0.0.1:S        SCRAM-SHA-512 only
  SASL_PLAINTEXT://127.0.0.1:P  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  PLAINTEXT://127.0.0.1:Q       (User:ANONYMOUS)

1. admin over SASL_SSL (SCRAM-SHA-512, the CA checked) adds alice for
   SCRAM-SHA-512; admin over SASL_PLAINTEXT with PLAIN adds her SCRAM-SHA-256
   credential with 8192 iterations. The broker's audit log names the admin.
2. alice logs in: kcat over SASL_SSL with SCRAM-SHA-512, confluent-kafka over
   SASL_PLAINTEXT with SCRAM-SHA-256 and with PLAIN (the same password); each
   is authenticated and then refused TOPIC_AUTHORIZATION_FAILED (no ACL).
3. list: a table of user, mechanism, iterations; --user and --json;
   RESOURCE_NOT_FOUND for an unknown --user (exit 1).
4. delete alice's SCRAM-SHA-512: list no longer shows it, her SCRAM-SHA-512
   login fails, SCRAM-SHA-256 still works; deleting it again is
   RESOURCE_NOT_FOUND (exit 1).
5. refusals by the broker, exit 1 with Kafka's name and message: bob (not an
   admin) and ANONYMOUS get CLUSTER_AUTHORIZATION_FAILED for add and list; a
   wrong admin password is SASL_AUTHENTICATION_FAILED; PLAIN on the
   SCRAM-only listener is UNSUPPORTED_SASL_MECHANISM; no SASL at all on a
   SASL listener is a closed connection with a hint; a CA that did not sign
   the broker's certificate fails verification; a host name the certificate
   does not name fails the host check.
6. bad input, exit 2 with a precise message and no connection made (a
   listening socket stands in for the broker and must see nothing): missing,
   empty and world-readable password files, an unknown mechanism, a missing
   --bootstrap, --iterations out of Kafka's bounds, a bad command config.
"""
# strait-test: asan
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402

from confluent_kafka import KafkaError, Producer  # noqa: E402

PASSWORDS = {"admin": "admin-secret", "bob": "bob-secret"}
ALICE_PASSWORD = "alice's pass, with spaces"
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "openssl %s: %s" % (args[0], r.stderr))


def make_pki(t):
    """(keystore, ca, other_ca): the broker's keystore signed by ca."""
    d = t.path("pki")
    os.makedirs(d)
    p = lambda name: os.path.join(d, name)  # noqa: E731
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *EC, "-keyout", p(ca + ".key"), "-out", p(ca + ".pem"), "-subj",
                "/CN=strait-users-" + ca, "-days", "2")
    openssl("req", *EC, "-keyout", p("broker.key"), "-out", p("broker.csr"), "-subj", "/CN=localhost")
    with open(p("broker.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", p("broker.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-days", "2", "-out", p("broker.pem"), "-extfile", p("broker.ext"))
    with open(p("keystore.pem"), "w") as out:
        for name in ("broker.pem", "broker.key"):
            with open(p(name)) as f:
                out.write(f.read())
    return p("keystore.pem"), p("ca.pem"), p("other-ca.pem")


def private_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def properties(t, name, **props):
    return private_file(t.path(name), "".join("%s=%s\n" % kv for kv in props.items()))


def strait(*args):
    r = subprocess.run([strait_bin()] + list(args), capture_output=True, text=True, timeout=90,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def expect(result, code, needle, what):
    rc, out, err = result
    check_eq(rc, code, "%s: exit status (stdout %r, stderr %r)" % (what, out, err))
    check(needle in out + err, "%s: expected %r in %r" % (what, needle, out + err))
    return out


def confluent_conf(bootstrap, mechanism, user, password, protocol="SASL_PLAINTEXT", **extra):
    conf = {"bootstrap.servers": bootstrap, "security.protocol": protocol,
            "sasl.mechanisms": mechanism, "sasl.username": user, "sasl.password": password}
    conf.update(extra)
    return conf


def produce_error(conf, topic):
    """The delivery error code of one record (0 = delivered)."""
    result = []
    p = Producer(dict(conf, **{"message.timeout.ms": 8000}))
    p.produce(topic, b"v", on_delivery=lambda err, msg: result.append(err))
    p.flush(15)
    check(result, "no delivery report for %s" % conf["sasl.username"])
    return 0 if result[0] is None else result[0].code()


def auth_error(conf):
    """The error a client sees when its authentication fails."""
    errors = []
    p = Producer(dict(conf, **{"error_cb": lambda e: errors.append(e)}))
    deadline = time.monotonic() + 10
    while not errors and time.monotonic() < deadline:
        p.poll(0.2)
    check(errors, "no error for %s" % conf["sasl.username"])
    return errors[0]


def kcat_metadata(bootstrap, ca, user, password):
    r = subprocess.run(["kcat", "-b", bootstrap, "-L", "-X", "security.protocol=SASL_SSL",
                        "-X", "ssl.ca.location=" + ca, "-X", "sasl.mechanisms=SCRAM-SHA-512",
                        "-X", "sasl.username=" + user, "-X", "sasl.password=" + password,
                        "-m", "10"], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def listed(bootstrap, config, *args):
    """strait users list --json as sorted (user, mechanism, iterations)."""
    rc, out, err = strait("users", "list", "--bootstrap", bootstrap, "--command-config", config,
                          "--json", *args)
    check_eq(rc, 0, "users list --json: %s" % err)
    return sorted((u["user"], u["mechanism"], u["iterations"]) for u in json.loads(out)["users"])


class Tripwire:
    """A listening socket standing in for a broker: nothing may connect."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.bootstrap = "127.0.0.1:%d" % self.sock.getsockname()[1]

    def untouched(self, what):
        try:
            conn, _ = self.sock.accept()
            conn.close()
            check(False, "%s: the CLI connected although its input was refused" % what)
        except BlockingIOError:
            pass


class OtherHostServer:
    """A TLS listener on 127.0.0.1 whose certificate, signed by the test CA,
    names only elsewhere.example: every handshake must fail the host check."""

    def __init__(self, t, ca):
        d = os.path.dirname(ca)
        p = lambda name: os.path.join(d, name)  # noqa: E731
        openssl("req", *EC, "-keyout", p("other.key"), "-out", p("other.csr"), "-subj",
                "/CN=elsewhere.example")
        with open(p("other.ext"), "w") as f:
            f.write("subjectAltName=DNS:elsewhere.example\n")
        openssl("x509", "-req", "-in", p("other.csr"), "-CA", ca, "-CAkey", p("ca.key"),
                "-CAcreateserial", "-days", "2", "-out", p("other.pem"), "-extfile", p("other.ext"))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(p("other.pem"), p("other.key"))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.bootstrap = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(30)
        try:
            self.context.wrap_socket(conn, server_side=True).close()
        except (OSError, ssl.SSLError):
            conn.close()

    def close(self):
        self.thread.join(timeout=30)
        self.sock.close()


def main(t):
    keystore, ca, other_ca = make_pki(t)
    users_file = t.path("users.txt")
    with open(users_file, "w") as f:
        f.write("admin SCRAM-SHA-512 %s\n" % PASSWORDS["admin"])
        f.write("bob SCRAM-SHA-512 %s\n" % PASSWORDS["bob"])
    sasl_port, ssl_port = free_port(), free_port()
    b = t.broker("users", start=False, overrides={
        "sasl.users.file": users_file,
        "ssl.keystore.location": keystore,
        "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "authorizer.class.name": "strait",
        "super.users": "User:admin",
        "connection.failed.authentication.delay.ms": "100",
    })
    b.overrides["listeners"] = ("SASL_PLAINTEXT://127.0.0.1:%d,SASL_SSL://127.0.0.1:%d,"
                                "PLAINTEXT://127.0.0.1:%d" % (sasl_port, ssl_port, b.port))
    b.start()
    sasl = "127.0.0.1:%d" % sasl_port
    ssl_bootstrap = "127.0.0.1:%d" % ssl_port
    admin_ssl = properties(t, "admin-ssl.properties", **{
        "security.protocol": "SASL_SSL", "ssl.ca.location": ca, "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "admin", "sasl.password": PASSWORDS["admin"]})
    admin_plain = properties(t, "admin-plain.properties", **{
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
        "sasl.username": "admin", "sasl.password": PASSWORDS["admin"]})
    alice_pw = private_file(t.path("alice.pw"), ALICE_PASSWORD + "\n")

    note("1. add alice: SCRAM-SHA-512 over SASL_SSL, SCRAM-SHA-256 over SASL_PLAINTEXT/PLAIN")
    expect(strait("users", "add", "alice", "--mechanism", "SCRAM-SHA-512", "--password-file",
                  alice_pw, "--bootstrap", ssl_bootstrap, "--command-config", admin_ssl), 0,
           "added: alice SCRAM-SHA-512 iterations=4096", "add alice SCRAM-SHA-512")
    expect(strait("users", "add", "alice", "--mechanism", "scram-sha-256", "--iterations", "8192",
                  "--password-file", alice_pw, "--bootstrap", sasl, "--command-config",
                  admin_plain), 0, "added: alice SCRAM-SHA-256 iterations=8192",
           "add alice SCRAM-SHA-256")
    check(re.search(r"audit: user upserted principal=User:admin peer=\S+ user=alice "
                    r"mechanism=SCRAM-SHA-512 outcome=ok", b.log_text()), "no audit line")
    check(ALICE_PASSWORD not in b.log_text(), "the password reached the broker's log")

    note("2. alice logs in: kcat SCRAM-SHA-512 over SASL_SSL, confluent SCRAM-SHA-256 and PLAIN")
    rc, out = kcat_metadata(ssl_bootstrap, ca, "alice", ALICE_PASSWORD)
    check_eq(rc, 0, "kcat -L as alice: %s" % out[-400:])
    check(re.search(r"authentication succeeded peer=\S+ mechanism=SCRAM-SHA-512 user=alice",
                    b.log_text()), "alice's SCRAM-SHA-512 login not logged")
    for mechanism in ("SCRAM-SHA-256", "PLAIN"):
        conf = confluent_conf(sasl, mechanism, "alice", ALICE_PASSWORD)
        check_eq(produce_error(conf, "orders"), KafkaError.TOPIC_AUTHORIZATION_FAILED,
                 "alice over %s: authenticated, then refused by the ACLs" % mechanism)
    e = auth_error(confluent_conf(sasl, "PLAIN", "alice", "not her password"))
    check_eq(e.code(), KafkaError._AUTHENTICATION, "alice with a wrong password")

    note("3. list: table, --user, --json, an unknown user")
    out = expect(strait("users", "list", "--bootstrap", ssl_bootstrap, "--command-config",
                        admin_ssl), 0, "USER", "list")
    rows = [line.split() for line in out.splitlines()]
    check_eq(rows[0], ["USER", "MECHANISM", "ITERATIONS"], "table header")
    check_eq(sorted(rows[1:]), [["admin", "SCRAM-SHA-512", "4096"],
                                ["alice", "SCRAM-SHA-256", "8192"],
                                ["alice", "SCRAM-SHA-512", "4096"],
                                ["bob", "SCRAM-SHA-512", "4096"]], "table rows")
    check_eq(listed(ssl_bootstrap, admin_ssl, "--user", "alice"),
             [("alice", "SCRAM-SHA-256", 8192), ("alice", "SCRAM-SHA-512", 4096)],
             "list --user alice --json")
    expect(strait("users", "list", "--user", "nobody", "--bootstrap", sasl, "--command-config",
                  admin_plain), 1, "nobody: RESOURCE_NOT_FOUND: Attempt to describe a user "
           "credential that does not exist: nobody", "list --user nobody")

    note("4. delete alice's SCRAM-SHA-512: listed no more, that login fails, the other works")
    expect(strait("users", "delete", "alice", "--mechanism", "SCRAM-SHA-512", "--bootstrap",
                  ssl_bootstrap, "--command-config", admin_ssl), 0,
           "deleted: alice SCRAM-SHA-512", "delete alice SCRAM-SHA-512")
    check_eq(listed(sasl, admin_plain, "--user", "alice"), [("alice", "SCRAM-SHA-256", 8192)],
             "alice after the delete")
    rc, out = kcat_metadata(ssl_bootstrap, ca, "alice", ALICE_PASSWORD)
    check(rc != 0, "kcat SCRAM-SHA-512 as the deleted alice succeeded: %s" % out[-400:])
    e = auth_error(confluent_conf(sasl, "SCRAM-SHA-512", "alice", ALICE_PASSWORD))
    check_eq(e.code(), KafkaError._AUTHENTICATION, "alice's deleted SCRAM-SHA-512")
    conf = confluent_conf(sasl, "SCRAM-SHA-256", "alice", ALICE_PASSWORD)
    check_eq(produce_error(conf, "orders"), KafkaError.TOPIC_AUTHORIZATION_FAILED,
             "alice's SCRAM-SHA-256 still logs in")
    expect(strait("users", "delete", "alice", "--mechanism", "SCRAM-SHA-512", "--bootstrap",
                  sasl, "--command-config", admin_plain), 1,
           "alice SCRAM-SHA-512: RESOURCE_NOT_FOUND: Attempt to delete a user credential that "
           "does not exist", "delete twice")

    note("5. refused by the broker: bob, ANONYMOUS, a wrong password, PLAIN on SCRAM-only, TLS")
    bob = properties(t, "bob.properties", **{
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "bob", "sasl.password": PASSWORDS["bob"]})
    expect(strait("users", "add", "mallory", "--mechanism", "SCRAM-SHA-512", "--password-file",
                  alice_pw, "--bootstrap", sasl, "--command-config", bob), 1,
           "mallory SCRAM-SHA-512: CLUSTER_AUTHORIZATION_FAILED: principal User:bob may not "
           "alter the cluster", "bob adds a user")
    expect(strait("users", "list", "--bootstrap", sasl, "--command-config", bob), 1,
           "CLUSTER_AUTHORIZATION_FAILED: principal User:bob may not describe the cluster",
           "bob lists the users")
    expect(strait("users", "delete", "bob", "--mechanism", "SCRAM-SHA-512", "--bootstrap",
                  b.bootstrap), 1, "CLUSTER_AUTHORIZATION_FAILED: principal User:ANONYMOUS",
           "ANONYMOUS deletes a user")
    check(re.search(r"audit: user change refused principal=User:bob peer=\S+ user=mallory",
                    b.log_text()), "no audit line for bob's refused change")
    check_eq(listed(sasl, admin_plain, "--user", "bob"), [("bob", "SCRAM-SHA-512", 4096)],
             "bob is still there")
    wrong = properties(t, "wrong.properties", **{
        "security.protocol": "SASL_SSL", "ssl.ca.location": ca, "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "admin", "sasl.password": "not-the-password"})
    expect(strait("users", "list", "--bootstrap", ssl_bootstrap, "--command-config", wrong), 1,
           "SCRAM-SHA-512 authentication failed: SASL_AUTHENTICATION_FAILED", "wrong password")
    plain_on_ssl = properties(t, "plain-ssl.properties", **{
        "security.protocol": "SASL_SSL", "ssl.ca.location": ca, "sasl.mechanism": "PLAIN",
        "sasl.username": "admin", "sasl.password": PASSWORDS["admin"]})
    expect(strait("users", "list", "--bootstrap", ssl_bootstrap, "--command-config",
                  plain_on_ssl), 1, "UNSUPPORTED_SASL_MECHANISM (the listener enables: "
           "SCRAM-SHA-512)", "PLAIN on the SCRAM-only listener")
    expect(strait("users", "list", "--bootstrap", sasl), 1,
           "does the command config set security.protocol=sasl_plaintext or sasl_ssl?",
           "no SASL against a SASL listener")
    untrusted = properties(t, "untrusted.properties", **{
        "security.protocol": "SASL_SSL", "ssl.ca.location": other_ca,
        "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "admin",
        "sasl.password": PASSWORDS["admin"]})
    expect(strait("users", "list", "--bootstrap", ssl_bootstrap, "--command-config", untrusted),
           1, "the broker's certificate is not trusted", "a CA that did not sign the broker")
    # a TLS server whose certificate (signed by the same CA) names another host
    other = OtherHostServer(t, ca)
    expect(strait("users", "list", "--bootstrap", other.bootstrap, "--command-config", admin_ssl),
           1, "the broker's certificate is not trusted: IP address mismatch",
           "a certificate for another host")
    other.close()
    expect(strait("users", "list", "--bootstrap", "localhost:%d" % ssl_port, "--command-config",
                  admin_ssl), 0, "alice", "the host name the certificate names")

    note("6. bad input: exit 2, a precise message, no connection")
    wire = Tripwire()
    empty_pw = private_file(t.path("empty.pw"), "\n")
    open_pw = t.path("open.pw")
    with open(open_pw, "w") as f:
        f.write("secret\n")
    os.chmod(open_pw, 0o644)
    base = ["--bootstrap", wire.bootstrap, "--command-config", admin_plain]
    cases = [
        (["add", "carol", "--mechanism", "SCRAM-SHA-512", "--password-file", t.path("none.pw")]
         + base, "--password-file %s: No such file or directory" % t.path("none.pw")),
        (["add", "carol", "--mechanism", "SCRAM-SHA-512", "--password-file", empty_pw] + base,
         "--password-file %s: the first line is empty" % empty_pw),
        (["add", "carol", "--mechanism", "SCRAM-SHA-512", "--password-file", open_pw] + base,
         "may be read by every user of this host (mode 644)"),
        (["add", "carol", "--mechanism", "SCRAM-SHA-1", "--password-file", alice_pw] + base,
         "--mechanism 'SCRAM-SHA-1': expected SCRAM-SHA-256 or SCRAM-SHA-512"),
        (["add", "carol", "--mechanism", "SCRAM-SHA-512", "--password-file", alice_pw],
         "--bootstrap HOST:PORT is required"),
        (["add", "carol", "--mechanism", "SCRAM-SHA-512", "--password-file", alice_pw,
          "--iterations", "100"] + base, "--iterations '100': expected a number from 4096 to 16384"),
        (["add", "carol", "--password-file", alice_pw] + base, "--mechanism SCRAM-SHA-256 or "
         "SCRAM-SHA-512 is required"),
        (["add", "--mechanism", "SCRAM-SHA-512", "--password-file", alice_pw] + base,
         "name the user"),
        (["delete", "carol", "--mechanism", "SCRAM-SHA-512", "--password-file", alice_pw] + base,
         "--password-file is for add"),
        (["list", "--bootstrap", wire.bootstrap, "--command-config", t.path("none.properties")],
         "command config %s: No such file or directory" % t.path("none.properties")),
        (["list", "--bootstrap", wire.bootstrap, "--command-config",
          properties(t, "gss.properties", **{"security.protocol": "SASL_PLAINTEXT",
                                              "sasl.mechanism": "GSSAPI"})],
         "sasl.mechanism GSSAPI: strait users logs in with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
        (["list", "--bootstrap", "127.0.0.1"], "--bootstrap: '127.0.0.1' is not HOST:PORT"),
        (["remove", "carol"] + base, "unknown verb 'remove': expected add, list or delete"),
    ]
    for args, message in cases:
        expect(strait("users", *args), 2, message, "strait users %s" % " ".join(args[:3]))
        wire.untouched("strait users %s" % " ".join(args))
    check("carol" not in b.log_text(), "a refused command reached the broker")
    expect(strait("users", "--help"), 0, "usage: strait users add|list|delete", "help")
    b.stop()


run_test(main)
