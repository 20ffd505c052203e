#!/usr/bin/env python3
"""
test_cli_acls: `strait acls add|list|remove` (issue 11) against real brokers.

1. PLAINTEXT, authorizer.class.name=strait, super.users=User:ANONYMOUS:
   add (allow, deny, prefixed), list as a table and --json (all, by
   --principal, by a MATCH pattern), remove --dry-run and without --force
   (stdin is not a terminal: refused, nothing removed), remove --force;
   a binding the broker refuses is INVALID_REQUEST with its message (exit 1);
   bad flags and bad command configs are exit 2 with a precise message and
   change nothing; the password of a command config is never printed; help.
2. SSL with client certificates (certificates from the `openssl` CLI, a
   mapping rule CN -> User:<cn>): the CLI with a --command-config naming the
   CA and the admin's certificate adds ACLs for alice; the effect is checked
   with confluent-kafka over mTLS as alice (a DENY on one topic gives
   TOPIC_AUTHORIZATION_FAILED, the ALLOW on another lets her produce), the
   DENY removed with the CLI lets her produce; alice herself running the CLI
   gets CLUSTER_AUTHORIZATION_FAILED (exit 1).
3. A broker without an authorizer: SECURITY_DISABLED, exit 1.
"""
# strait-test: asan
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402

from confluent_kafka import KafkaError, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from kafka import KafkaAdminClient  # noqa: E402
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType,  # noqa: E402
                         ResourcePattern, ResourceType)


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


class Pki:
    """A CA and certificates it signs, made with the openssl CLI in directory."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory)
        self.openssl("req", "-x509", *EC, "-keyout", self.path("ca.key"), "-out",
                     self.path("ca.pem"), "-subj", "/CN=strait-acls-test-ca", "-days", "2")
        self.ca = self.path("ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)

    def openssl(self, *args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 0, "openssl %s: %s" % (args[0], r.stderr))

    def signed(self, name, subject, san=None):
        """(certificate, key) signed by the CA."""
        self.openssl("req", *EC, "-keyout", self.path(name + ".key"), "-out",
                     self.path(name + ".csr"), "-subj", subject)
        args = ["x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.ca, "-CAkey",
                self.path("ca.key"), "-CAcreateserial", "-days", "2", "-out",
                self.path(name + ".pem")]
        if san:
            with open(self.path(name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\n" % san)
            args += ["-extfile", self.path(name + ".ext")]
        self.openssl(*args)
        return self.path(name + ".pem"), self.path(name + ".key")

    def keystore(self, name, cert_key):
        with open(self.path(name), "w") as out:
            for part in cert_key:
                with open(part) as f:
                    out.write(f.read())
        return self.path(name)


def strait(*args):
    r = subprocess.run([strait_bin()] + list(args), capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def acls(verb, bootstrap, *args):
    return strait("acls", verb, "--bootstrap", bootstrap, *args)


def listed(bootstrap, *args):
    """The broker's ACLs (strait acls list --json) as a sorted list of tuples."""
    rc, out, err = acls("list", bootstrap, "--json", *args)
    check_eq(rc, 0, "acls list --json: %s" % err)
    doc = json.loads(out)
    check_eq(doc["count"], len(doc["acls"]), "count in --json")
    return sorted((a["resource_type"], a["resource_name"], a["pattern_type"], a["principal"],
                   a["host"], a["operation"], a["permission"]) for a in doc["acls"])


def expect(result, code, needle, what):
    rc, out, err = result
    check_eq(rc, code, "%s: exit status (stdout %r, stderr %r)" % (what, out, err))
    check(needle in out + err, "%s: expected %r in %r" % (what, needle, out + err))


ORDERS_ALICE = [("TOPIC", "orders", "LITERAL", "User:alice", "*", "READ", "ALLOW"),
                ("TOPIC", "orders", "LITERAL", "User:alice", "*", "WRITE", "ALLOW")]
PRE_BOB = ("TOPIC", "pre-", "PREFIXED", "User:bob", "10.0.0.1", "WRITE", "DENY")
GROUP_CAROL = ("GROUP", "g1", "LITERAL", "User:carol", "*", "READ", "ALLOW")
CLUSTER_OPS = ("CLUSTER", "kafka-cluster", "LITERAL", "User:ops", "*", "DESCRIBE", "ALLOW")


def plaintext(t):
    b = t.broker(name="plain", overrides={"authorizer.class.name": "strait",
                                          "super.users": "User:ANONYMOUS"})
    bs = b.bootstrap

    note("1. add: allow, prefixed deny with a host, a group, the cluster")
    expect(acls("add", bs, "--allow-principal", "User:alice", "--operation", "Write",
                "--operation", "read", "--topic", "orders"), 0,
           "added: TOPIC LITERAL orders: User:alice ALLOW WRITE from host *", "add alice")
    expect(acls("add", bs, "--deny-principal", "User:bob", "--deny-host", "10.0.0.1",
                "--operation", "Write", "--topic", "pre-", "--resource-pattern-type", "prefixed"),
           0, "added: TOPIC PREFIXED pre-: User:bob DENY WRITE from host 10.0.0.1", "add bob")
    expect(acls("add", bs, "--allow-principal=User:carol", "--operation=Read", "--group=g1"), 0,
           "added: GROUP LITERAL g1", "add carol")
    expect(acls("add", bs, "--allow-principal", "User:ops", "--operation", "Describe",
                "--cluster"), 0, "added: CLUSTER LITERAL kafka-cluster", "add ops")
    everything = sorted(ORDERS_ALICE + [PRE_BOB, GROUP_CAROL, CLUSTER_OPS])
    check_eq(listed(bs), everything, "list --json: every ACL")

    note("1. list: the table, --principal, a MATCH pattern")
    rc, out, err = acls("list", bs)
    check_eq(rc, 0, "list: %s" % err)
    lines = out.splitlines()
    check_eq(lines[0].split(), ["RESOURCE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION",
                                "PERMISSION"], "table header")
    check_eq(sorted(tuple(line.split()) for line in lines[1:]), everything, "table rows")
    check_eq(listed(bs, "--principal", "User:bob"), [PRE_BOB], "list --principal User:bob")
    check_eq(listed(bs, "--topic", "pre-1", "--resource-pattern-type", "match"), [PRE_BOB],
             "list --topic pre-1 --resource-pattern-type match")
    check_eq(listed(bs, "--topic", "orders"), ORDERS_ALICE, "list --topic orders (literal)")
    expect(acls("list", bs, "--topic", "nothing-here"), 0, "no ACLs match", "empty list")

    note("1. a transactional-id ACL (librdkafka 2.0 has no such type): left out, and said so")
    kp = KafkaAdminClient(bootstrap_servers=bs, api_version_auto_timeout_ms=5000,
                          request_timeout_ms=10000)
    result = kp.create_acls([ACL("User:tx", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                                 ResourcePattern(ResourceType.TRANSACTIONAL_ID, "tx-1",
                                                 ACLResourcePatternType.LITERAL))])
    kp.close()
    check_eq(len(result["succeeded"]), 1, "transactional-id ACL created with kafka-python")
    rc, out, err = acls("list", bs)
    check_eq(rc, 0, "list with a transactional-id ACL: %s" % err)
    check("1 ACL of a resource type, operation or pattern librdkafka" in err, "note: %r" % err)
    check_eq(listed(bs), everything, "the other ACLs are all listed")

    note("1. remove: --dry-run, no terminal without --force, --force")
    expect(acls("remove", bs, "--topic", "orders", "--operation", "Read", "--dry-run"), 0,
           "dry run: nothing removed", "remove --dry-run")
    rc, out, err = acls("remove", bs, "--topic", "orders")
    check_eq(rc, 2, "remove without --force and without a terminal")
    check("standard input is not a terminal (add --force)" in err, "why: %r" % err)
    check("will remove 2 ACLs" in out, "remove lists what it would delete: %r" % out)
    check_eq(listed(bs), everything, "nothing removed without --force")
    expect(acls("remove", bs, "--topic", "orders", "--allow-principal", "User:alice",
                "--operation", "Read", "--force"), 0,
           "removed: TOPIC LITERAL orders: User:alice ALLOW READ from host *", "remove --force")
    everything.remove(ORDERS_ALICE[0])
    check_eq(listed(bs), everything, "after remove --force")
    expect(acls("remove", bs, "--topic", "orders", "--operation", "Read", "--force"), 0,
           "no ACLs match; nothing removed", "remove of nothing")

    note("1. the broker's refusal: INVALID_REQUEST with its message, exit 1")
    expect(acls("add", bs, "--allow-principal", "alice", "--operation", "Write", "--topic", "x"),
           1, "INVALID_REQUEST: principal 'alice' is not of the form <type>:<name>",
           "principal without a type")
    check_eq(listed(bs), everything, "nothing added by a refused binding")

    note("1. bad flags: exit 2, a precise message, nothing changed")
    bad = [
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--operation", "Bogus",
          "--topic", "t"], "--operation 'Bogus': expected Read"),
        (["add", "--allow-principal", "User:x", "--operation", "Read", "--topic", "t"],
         "--bootstrap HOST:PORT is required"),
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--topic", "t"],
         "--operation is required"),
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--operation", "Read"],
         "name a resource"),
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--operation", "Read",
          "--topic", "t", "--resource-pattern-type", "match"], "an ACL is literal or prefixed"),
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--operation", "Read",
          "--cluster", "--resource-pattern-type", "prefixed"], "--cluster is a literal resource"),
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--operation", "Write",
          "--transactional-id", "tx"], "no transactional-id resource type"),
        (["add", "--bootstrap", bs, "--allow-principal", "User:x", "--operation", "Read",
          "--topic", "t", "--frobnicate"], "unknown option '--frobnicate'"),
        (["add", "--bootstrap", bs, "--deny-host", "1.2.3.4", "--allow-principal", "User:x",
          "--operation", "Read", "--topic", "t"], "--deny-host needs --deny-principal"),
        (["remove", "--bootstrap", bs, "--topic", "t", "--force", "--dry-run"],
         "--force and --dry-run together"),
        (["remove", "--bootstrap", bs, "--force"], "name a resource"),
        (["list", "--bootstrap", bs, "--topic", "t", "--resource-pattern-type", "sideways"],
         "--resource-pattern-type 'sideways'"),
        (["list", "--bootstrap", bs, "--allow-principal", "User:x"], "list selects with --principal"),
        (["list", "--bootstrap"], "--bootstrap needs a value"),
        (["rename", "--bootstrap", bs], "unknown verb 'rename'"),
    ]
    for args, needle in bad:
        expect(strait("acls", *args), 2, needle, "strait acls %s" % " ".join(args))
    check_eq(listed(bs), everything, "nothing changed by the bad flags")

    note("1. bad command configs: exit 2 naming file, line and key; the password never printed")
    configs = [
        ("unknown.properties", "# admin\nsecurity.protocol=plaintext\nbootstrap.servers=x\n",
         "unknown.properties line 3: unknown key 'bootstrap.servers'"),
        ("malformed.properties", "security.protocol=sasl_ssl\nsasl.password hunter2\n",
         "malformed.properties line 2: expected key=value"),
        ("contradiction.properties", "sasl.password=hunter2\n",
         "sasl.* keys are set but security.protocol is plaintext"),
        ("protocol.properties", "security.protocol=tls\n",
         "protocol.properties line 1: security.protocol must be"),
    ]
    for name, text, needle in configs:
        with open(t.path(name), "w") as f:
            f.write(text)
        rc, out, err = acls("add", bs, "--allow-principal", "User:x", "--operation", "Read",
                            "--topic", "t", "--command-config", t.path(name))
        check_eq(rc, 2, "%s: exit status (%r)" % (name, err))
        check(needle in err, "%s: expected %r in %r" % (name, needle, err))
        check("hunter2" not in out + err, "%s: the password was printed: %r" % (name, err))
    expect(acls("list", bs, "--command-config", t.path("missing.properties")), 2,
           "command config %s: No such file or directory" % t.path("missing.properties"),
           "missing command config")
    check_eq(listed(bs), everything, "nothing changed by the bad command configs")

    note("1. help")
    expect(strait("help"), 0, "acls add|list|remove", "strait help")
    expect(strait("acls", "--help"), 0, "--resource-pattern-type", "strait acls --help")
    expect(strait("acls", "remove", "--help"), 0, "--dry-run", "strait acls remove --help")
    b.stop()


def produce_code(conf, topic):
    codes = []
    p = Producer(dict(conf, **{"message.timeout.ms": 10000,
                               "topic.metadata.refresh.interval.ms": 1000}))
    p.produce(topic, b"v", callback=lambda err, msg: codes.append(err.code() if err else 0))
    p.flush(20)
    check_eq(len(codes), 1, "delivery report for %s" % topic)
    return codes[0]


def over_ssl(t):
    pki = Pki(t.path("pki"))
    keystore = pki.keystore("broker-keystore.pem", pki.signed("broker", "/CN=localhost",
                                                     san="IP:127.0.0.1,DNS:localhost"))
    admin_cert = pki.signed("admin", "/CN=admin")
    alice_cert = pki.signed("alice", "/CN=alice")
    plain_port, ssl_port = free_port(), free_port()
    b = t.broker(name="tls", port=plain_port, overrides={
        "listeners": "PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" % (plain_port, ssl_port),
        "ssl.keystore.location": keystore,
        "ssl.truststore.location": pki.ca,
        "ssl.client.auth": "required",
        "ssl.principal.mapping.rules": "RULE:^CN=(.*)$/$1/,DEFAULT",
        "authorizer.class.name": "strait",
        "super.users": "User:ANONYMOUS;User:admin",
    })
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    created = admin.create_topics(
        [NewTopic(x, 1, 1) for x in ("orders", "secret-1")])
    for future in created.values():
        future.result(15)
    ssl_bs = "127.0.0.1:%d" % ssl_port

    def command_config(name, cert_key):
        path = t.path(name)
        with open(path, "w") as f:
            f.write("# %s over mTLS\nsecurity.protocol=SSL\nssl.ca.location=%s\n"
                    "ssl.certificate.location=%s\nssl.key.location=%s\n"
                    % (name, pki.ca, cert_key[0], cert_key[1]))
        return path

    admin_config = command_config("admin.properties", admin_cert)
    alice_config = command_config("alice.properties", alice_cert)

    note("2. over SSL with a client certificate: allow orders and secret-*, deny secret-1")
    expect(acls("add", ssl_bs, "--command-config", admin_config, "--allow-principal",
                "User:alice", "--operation", "Write", "--topic", "orders", "--topic", "secret-",
                "--resource-pattern-type", "prefixed"), 0, "added: TOPIC PREFIXED secret-",
           "add over SSL")
    expect(acls("add", ssl_bs, "--command-config", admin_config, "--allow-principal",
                "User:alice", "--operation", "Write", "--topic", "orders"), 0,
           "added: TOPIC LITERAL orders", "add literal over SSL")
    expect(acls("add", ssl_bs, "--command-config", admin_config, "--deny-principal",
                "User:alice", "--operation", "Write", "--topic", "secret-1"), 0,
           "added: TOPIC LITERAL secret-1: User:alice DENY WRITE", "add deny over SSL")
    rc, out, err = acls("list", ssl_bs, "--command-config", admin_config, "--principal",
                        "User:alice")
    check_eq(rc, 0, "list over SSL: %s" % err)
    check_eq(len(out.splitlines()), 1 + 4, "header and four ACLs: %r" % out)

    note("2. the effect, with confluent-kafka as alice over mTLS")
    alice = {"bootstrap.servers": ssl_bs, "security.protocol": "ssl", "ssl.ca.location": pki.ca,
             "ssl.certificate.location": alice_cert[0], "ssl.key.location": alice_cert[1]}
    check_eq(produce_code(alice, "orders"), 0, "alice produces to orders")
    check_eq(produce_code(alice, "secret-1"), KafkaError.TOPIC_AUTHORIZATION_FAILED,
             "alice's produce to secret-1 (DENY beats the prefixed ALLOW)")

    note("2. alice may not manage ACLs: CLUSTER_AUTHORIZATION_FAILED, exit 1")
    expect(acls("add", ssl_bs, "--command-config", alice_config, "--allow-principal",
                "User:alice", "--operation", "All", "--topic", "secret-1"), 1,
           "CLUSTER_AUTHORIZATION_FAILED", "alice adds an ACL")
    expect(acls("list", ssl_bs, "--command-config", alice_config), 1,
           "CLUSTER_AUTHORIZATION_FAILED", "alice lists the ACLs")

    note("2. the DENY removed with the CLI: alice produces to secret-1")
    expect(acls("remove", ssl_bs, "--command-config", admin_config, "--deny-principal",
                "User:alice", "--topic", "secret-1", "--force"), 0,
           "removed: TOPIC LITERAL secret-1: User:alice DENY WRITE from host *", "remove deny")
    check_eq(produce_code(alice, "secret-1"), 0, "alice produces to secret-1 after the remove")
    b.stop()


def without_authorizer(t):
    note("3. a broker without an authorizer: SECURITY_DISABLED, exit 1")
    b = t.broker(name="open")
    expect(acls("list", b.bootstrap), 1, "SECURITY_DISABLED", "list without an authorizer")
    expect(acls("add", b.bootstrap, "--allow-principal", "User:a", "--operation", "Read",
                "--topic", "t"), 1, "SECURITY_DISABLED", "add without an authorizer")
    expect(acls("remove", b.bootstrap, "--topic", "t", "--force"), 1, "SECURITY_DISABLED",
           "remove without an authorizer")
    b.stop()


def main(t):
    plaintext(t)
    over_ssl(t)
    without_authorizer(t)


if __name__ == "__main__":
    run_test(main)
