"""
test_kafka_tls.py - the broker's named listeners and TLS on its Kafka port,
with certificates generated here by the `openssl` CLI (nothing committed):
a CA, a broker certificate for 127.0.0.1 / localhost, client certificates
(alice, an expired one, one from another CA).

One broker, three listeners:
  PLAINTEXT://127.0.0.1:P   (plain, sendfile)
  SSL://127.0.0.1:S         advertised as localhost:S, ssl.client.auth=requested,
                            principal rules DEFAULT
  MTLS://127.0.0.1:M        mapped to SSL, ssl.client.auth=required, and
                            ssl.principal.mapping.rules RULE:^CN=(.*?),.*$/$1/

1. Metadata over each listener names that listener's own advertised address.
2. kcat and confluent-kafka produce and consume over SSL and over mTLS with
   alice's certificate, whose principal the broker logs as User:alice;
   a consume of several MiB over TLS returns every byte (file ranges read
   and encrypted, no sendfile), as the same consume over PLAINTEXT does.
3. Refused on MTLS, each with a log line naming the peer and the reason: no
   client certificate, a certificate of another CA, an expired certificate.
4. After replacing the broker's certificate and SIGHUP, new connections get
   the new certificate; a broken keystore on SIGHUP keeps the old one.
5. Configurations refused at start: SASL_SSL without a keystore, two
   listeners on one port, an advertised listener with no listener.
"""
# strait-test: asan
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402


def openssl(*args, cwd=None):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    check_eq(r.returncode, 0, "openssl %s: %s" % (args[0], r.stderr))


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


class Pki:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory)
        self.ca = self.self_signed("ca", "strait-test-ca")
        self.other_ca = self.self_signed("other-ca", "strait-other-ca")

    def path(self, name):
        return os.path.join(self.dir, name)

    def self_signed(self, name, cn):
        openssl("req", "-x509", *EC, "-keyout", self.path(name + ".key"),
                "-out", self.path(name + ".pem"), "-subj", "/CN=" + cn, "-days", "2")
        return self.path(name + ".pem")

    def signed(self, name, subject, ca="ca", san=None):
        """(certificate, key) signed by ca."""
        openssl("req", *EC, "-keyout", self.path(name + ".key"), "-out", self.path(name + ".csr"),
                "-subj", subject)
        args = ["x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.path(ca + ".pem"),
                "-CAkey", self.path(ca + ".key"), "-CAcreateserial", "-days", "2",
                "-out", self.path(name + ".pem")]
        if san:
            with open(self.path(name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\n" % san)
            args += ["-extfile", self.path(name + ".ext")]
        openssl(*args)
        return self.path(name + ".pem"), self.path(name + ".key")

    def expired(self, name, subject):
        """A certificate the CA signed, valid in 2020 only (openssl ca sets the dates)."""
        openssl("req", *EC, "-keyout", self.path(name + ".key"), "-out", self.path(name + ".csr"),
                "-subj", subject)
        with open(self.path("index.txt"), "w"):
            pass
        with open(self.path("serial"), "w") as f:
            f.write("1000\n")
        with open(self.path("ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca=test\n[test]\ndatabase=%s\nserial=%s\nnew_certs_dir=%s\n"
                    "default_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n"
                    % (self.path("index.txt"), self.path("serial"), self.dir))
        openssl("ca", "-batch", "-config", self.path("ca.cnf"), "-cert", self.ca, "-keyfile",
                self.path("ca.key"), "-in", self.path(name + ".csr"), "-out",
                self.path(name + ".pem"), "-startdate", "20200101000000Z", "-enddate",
                "20200102000000Z", "-notext")
        return self.path(name + ".pem"), self.path(name + ".key")

    def keystore(self, name, cert_key):
        with open(self.path(name), "w") as out:
            for part in cert_key:
                with open(part) as f:
                    out.write(f.read())
        return self.path(name)


def kcat(args, stdin=None, timeout=30):
    return subprocess.run(["kcat"] + args, input=stdin, capture_output=True, text=True,
                          timeout=timeout)


def wait_log(b, pattern, what, timeout_s=15):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        m = re.search(pattern, b.log_text())
        if m:
            return m
        time.sleep(0.2)
    check(False, "%s: no log line matching %r" % (what, pattern))


def metadata_brokers(conf):
    md = AdminClient(conf).list_topics(timeout=15)
    return sorted("%s:%d" % (bm.host, bm.port) for bm in md.brokers.values())


def served_subject(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]


def consume_all(conf, topic, count, timeout_s=60):
    c = Consumer(dict(conf, **{"group.id": "g-%s-%d" % (topic, time.time_ns()),
                               "enable.auto.commit": False}))
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + timeout_s
    while len(got) < count and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        check(m.error() is None, "consume %s: %s" % (topic, m.error()))
        got.append(m.value())
    c.close()
    return got


def refused_config(t, listeners_overrides, expected):
    args = [strait_bin(), "broker", "--override", "log.dirs=" + t.path("refused-data")]
    for k, v in listeners_overrides.items():
        args += ["--override", "%s=%s" % (k, v)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    check(r.returncode != 0, "broker started with %s" % listeners_overrides)
    check(expected in r.stderr, "expected %r in the refusal, got %r" % (expected, r.stderr[-600:]))


def main(t):
    pki = Pki(t.path("pki"))
    broker_pem = pki.keystore("broker-keystore.pem", pki.signed("broker", "/CN=localhost",
                                                       san="IP:127.0.0.1,DNS:localhost"))
    alice = pki.signed("alice", "/C=US/O=acme/OU=eng/CN=alice")
    impostor = pki.signed("impostor", "/CN=impostor", ca="other-ca")
    expired = pki.expired("expired", "/CN=expired")

    plain_port, ssl_port, mtls_port = free_port(), free_port(), free_port()
    b = t.broker(port=plain_port, overrides={
        "listeners": "PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d,MTLS://127.0.0.1:%d"
                     % (plain_port, ssl_port, mtls_port),
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL",
        "advertised.listeners": "SSL://localhost:%d" % ssl_port,
        "ssl.keystore.location": broker_pem,
        "ssl.truststore.location": pki.ca,
        "ssl.client.auth": "requested",
        "listener.name.mtls.ssl.client.auth": "required",
        "listener.name.mtls.ssl.principal.mapping.rules": "RULE:^CN=(.*?),.*$/$1/,DEFAULT",
        "log.level": "debug",
    })
    ssl_conf = {"bootstrap.servers": "127.0.0.1:%d" % ssl_port, "security.protocol": "ssl",
                "ssl.ca.location": pki.ca}
    mtls_conf = {"bootstrap.servers": "127.0.0.1:%d" % mtls_port, "security.protocol": "ssl",
                 "ssl.ca.location": pki.ca, "ssl.certificate.location": alice[0],
                 "ssl.key.location": alice[1]}
    plain_conf = {"bootstrap.servers": b.bootstrap}

    note("1. Metadata names the address of the listener the client is on")
    check_eq(metadata_brokers(plain_conf), ["127.0.0.1:%d" % plain_port], "over PLAINTEXT")
    check_eq(metadata_brokers(ssl_conf), ["localhost:%d" % ssl_port], "over SSL (advertised)")
    check_eq(metadata_brokers(mtls_conf), ["127.0.0.1:%d" % mtls_port], "over MTLS (own address)")

    note("2. kcat and confluent-kafka over SSL and mTLS")
    ssl_args = ["-b", "127.0.0.1:%d" % ssl_port, "-X", "security.protocol=ssl",
                "-X", "ssl.ca.location=" + pki.ca]
    r = kcat(ssl_args + ["-P", "-t", "over-ssl"], stdin="one\ntwo\nthree\n")
    check_eq(r.returncode, 0, "kcat produce over SSL: %s" % r.stderr)
    r = kcat(ssl_args + ["-C", "-t", "over-ssl", "-o", "beginning", "-e", "-q"])
    check_eq(r.stdout.split(), ["one", "two", "three"], "kcat consume over SSL")

    p = Producer(ssl_conf)
    for v in (b"a", b"b"):
        p.produce("over-ssl-confluent", v, partition=0)
    check_eq(p.flush(30), 0, "confluent-kafka produce over SSL: undelivered")
    check_eq(consume_all(ssl_conf, "over-ssl-confluent", 2), [b"a", b"b"],
             "confluent-kafka consume over SSL")
    alice_args = ["-b", "127.0.0.1:%d" % mtls_port, "-X", "security.protocol=ssl",
                  "-X", "ssl.ca.location=" + pki.ca, "-X", "ssl.certificate.location=" + alice[0],
                  "-X", "ssl.key.location=" + alice[1]]
    r = kcat(alice_args + ["-P", "-t", "over-mtls-kcat"], stdin="x\ny\n")
    check_eq(r.returncode, 0, "kcat produce over mTLS: %s" % r.stderr)
    r = kcat(alice_args + ["-C", "-t", "over-mtls-kcat", "-o", "beginning", "-e", "-q"])
    check_eq(r.stdout.split(), ["x", "y"], "kcat consume over mTLS")

    # requested: a certificate, when sent, gives the DEFAULT principal (RFC 2253)
    r = kcat(ssl_args + ["-X", "ssl.certificate.location=" + alice[0],
                         "-X", "ssl.key.location=" + alice[1], "-L", "-m", "10"])
    check_eq(r.returncode, 0, "kcat over SSL with a certificate: %s" % r.stderr)
    wait_log(b, r"TLS client authenticated peer=\S+ principal=User:CN=alice,OU=eng,O=acme,C=US\n",
             "the DEFAULT principal")

    p = Producer(dict(mtls_conf, **{"linger.ms": 5}))
    payload = [("%06d-" % i).encode() + os.urandom(2000) for i in range(3000)]
    for v in payload:
        p.produce("over-mtls", v, partition=0)
        p.poll(0)
    check_eq(p.flush(60), 0, "confluent-kafka produce over mTLS: undelivered")
    wait_log(b, r"TLS client authenticated peer=\S+ principal=User:alice\b", "alice's principal")
    got = consume_all(mtls_conf, "over-mtls", len(payload))
    check(got == payload, "consume over mTLS: %d of %d records, equal=%s"
          % (len(got), len(payload), got == payload[:len(got)]))
    got = consume_all(plain_conf, "over-mtls", len(payload))
    check(got == payload, "the same records over PLAINTEXT: %d of %d" % (len(got), len(payload)))

    note("3. refused on MTLS: no certificate, another CA, expired")
    mtls_args = ["-b", "127.0.0.1:%d" % mtls_port, "-X", "security.protocol=ssl",
                 "-X", "ssl.ca.location=" + pki.ca, "-m", "5"]
    cases = [
        ("no certificate", [], r"TLS handshake failed peer=127\.0\.0\.1:\d+ reason=\"[^\"]*"
                               r"(peer did not return a certificate|certificate required)"),
        ("another CA", ["-X", "ssl.certificate.location=" + impostor[0],
                        "-X", "ssl.key.location=" + impostor[1]],
         r"refusing client certificate peer=127\.0\.0\.1:\d+ reason=\"unable to get local "
         r"issuer certificate\" subject=\"CN=impostor\""),
        ("expired", ["-X", "ssl.certificate.location=" + expired[0],
                     "-X", "ssl.key.location=" + expired[1]],
         r"refusing client certificate peer=127\.0\.0\.1:\d+ reason=\"certificate has expired\" "
         r"subject=\"CN=expired\""),
    ]
    for what, extra, pattern in cases:
        r = kcat(mtls_args + extra + ["-L"], timeout=30)
        check(r.returncode != 0 and "broker 1 at" not in r.stdout,
              "%s: kcat got metadata over MTLS: %s" % (what, r.stdout))
        wait_log(b, pattern, what)

    note("4. certificates reload on SIGHUP")
    check_eq(served_subject(ssl_port, pki.ca), "localhost", "certificate before the reload")
    pki.keystore("broker-keystore.pem", pki.signed("broker2", "/CN=broker-renewed",
                                          san="IP:127.0.0.1,DNS:localhost"))
    os.kill(b.pid, signal.SIGHUP)
    wait_log(b, r"listener SSL: certificates reloaded", "reload")
    check_eq(served_subject(ssl_port, pki.ca), "broker-renewed", "certificate after SIGHUP")
    r = kcat(ssl_args + ["-C", "-t", "over-ssl", "-o", "beginning", "-e", "-q"])
    check_eq(r.stdout.split(), ["one", "two", "three"], "kcat over SSL after the reload")
    with open(broker_pem, "w") as f:
        f.write("not a certificate\n")
    os.kill(b.pid, signal.SIGHUP)
    wait_log(b, r"listener SSL: certificates not reloaded", "a broken keystore")
    check_eq(served_subject(ssl_port, pki.ca), "broker-renewed", "after a failed reload")
    b.stop()

    note("5. configurations refused at start")
    refused_config(t, {"listeners": "SASL_SSL://127.0.0.1:%d" % free_port()},
                   "listener SASL_SSL is SASL_SSL and needs a keystore")
    port = free_port()
    refused_config(t, {"listeners": "PLAINTEXT://127.0.0.1:%d,SSL://0.0.0.0:%d" % (port, port),
                       "ssl.keystore.location": broker_pem},
                   "listeners PLAINTEXT and SSL both use port %d" % port)
    refused_config(t, {"advertised.listeners": "EXTERNAL://b.example:9093"},
                   "advertised.listeners: listener EXTERNAL is not in listeners")
    refused_config(t, {"listeners": "SSL://127.0.0.1:%d" % free_port(),
                       "ssl.keystore.location": t.path("missing.pem")},
                   "listener SSL: TLS: cannot load the certificate chain of the keystore")


run_test(main)
