"""
test_region_links_tls.py - encrypted, authenticated region links (issue 11
item 6): every librdkafka client of the sidecars (the mirror's consumers and
producer, the group sync, role pushes and lease renewals, the drain check)
reaches a region's brokers with that region's `regions.<name>.security.*`
keys. Certificates are made here with the `openssl` CLI (nothing committed).

Two single-node regions, each broker with two listeners:
  PLAINTEXT://127.0.0.1:P   this test's own producer and readers
  SSL://127.0.0.1:S         ssl.client.auth=required (mTLS); the topology's
                            bootstrap for the region
1. A sidecar whose region-link client certificate comes from another CA
   copies nothing, and says why in /status (the flow's last_error) and in
   its log.
2. With certificates of the brokers' CA both sidecars push the roles over
   mTLS (the brokers accept the epoch), the east->west flow copies every
   record exactly once, and a switchover to west (fence, drain, promote:
   each a TLS client) completes; the brokers log the sidecars' principals.
"""
# strait-test: asan
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import Sidecar  # noqa: E402

RECORDS = 500
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "openssl %s: %s" % (args[0], r.stderr))


class Pki:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory)
        for ca, cn in (("ca", "strait-test-ca"), ("other-ca", "strait-other-ca")):
            openssl("req", "-x509", *EC, "-keyout", self.path(ca + ".key"),
                    "-out", self.path(ca + ".pem"), "-subj", "/CN=" + cn, "-days", "2")
        self.ca = self.path("ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)

    def signed(self, name, cn, ca="ca", san=None):
        """(certificate, key) signed by ca."""
        openssl("req", *EC, "-keyout", self.path(name + ".key"), "-out", self.path(name + ".csr"),
                "-subj", "/CN=" + cn)
        args = ["x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.path(ca + ".pem"),
                "-CAkey", self.path(ca + ".key"), "-CAcreateserial", "-days", "2",
                "-out", self.path(name + ".pem")]
        if san:
            with open(self.path(name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\n" % san)
            args += ["-extfile", self.path(name + ".ext")]
        openssl(*args)
        return self.path(name + ".pem"), self.path(name + ".key")

    def keystore(self, name, pair):
        with open(self.path(name), "w") as out:
            for p in pair:
                with open(p) as f:
                    out.write(f.read())
        return self.path(name)


def tls_broker(t, name, node, pki, keystore):
    plain, tls = free_port(), free_port()
    b = t.broker(name=name, port=plain, overrides={
        "node.id": str(node), "cluster.id": failover.CLUSTER_ID,
        "listeners": "PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:%d" % (plain, tls),
        "ssl.keystore.location": keystore,
        "ssl.truststore.location": pki.ca,
        "ssl.client.auth": "required",
        "log.level": "debug",
    })
    b.tls_bootstrap = "127.0.0.1:%d" % tls
    return b


def write_topology(path, brokers, ports, state_dir, ca, certificates):
    lines = ["regions:"]
    for i, region in enumerate(("east", "west")):
        cert, key = certificates[region]
        lines += ["  %s:" % region,
                  "    bootstrap: %s" % brokers[region].tls_bootstrap,
                  "    sidecar: 127.0.0.1:%d" % ports[i],
                  "    security:",
                  "      protocol: SSL",
                  "      ca: %s" % ca,
                  "      certificate: %s" % cert,
                  "      key: %s" % key]
    lines += ["flows:",
              "  - {source: east, target: west, topics: [%s], refresh_interval: 1s}"
              % failover.TOPIC,
              "  - {source: west, target: east, topics: [%s], refresh_interval: 1s}"
              % failover.TOPIC,
              "failover: {mode: manual, active: east}",
              "checkpoints: {interval: 500ms}",
              "sidecar: {state_dir: %s}" % state_dir]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def produce(bootstrap, first, count):
    p = mirror.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(first, first + count):
        p.produce(failover.TOPIC, value=b"rec-%d" % i, key=b"%d" % i)
    check_eq(p.flush(30), 0, "records left unflushed")


def main(t):
    pki = Pki(t.path("pki"))
    keystore = pki.keystore("broker-keystore.pem", pki.signed("broker", "localhost",
                                                     san="IP:127.0.0.1,DNS:localhost"))
    good = {r: pki.signed("sidecar-link-" + r, "sidecar-link-" + r) for r in ("east", "west")}
    # west's sidecar reaches its own brokers, but its link to east presents a
    # certificate of another CA
    untrusted = {"east": pki.signed("impostor-east", "impostor-east", ca="other-ca"),
                 "west": good["west"]}
    brokers = {"east": tls_broker(t, "east", 1, pki, keystore),
               "west": tls_broker(t, "west", 101, pki, keystore)}
    for b in brokers.values():
        mirror.create_topic(b.bootstrap, failover.TOPIC, failover.PARTITIONS)
    produce(brokers["east"].bootstrap, 0, RECORDS)
    ports = (free_port(), free_port())

    note("1. an untrusted region-link certificate: nothing copied, the reason in /status and the log")
    bad = write_topology(t.path("untrusted.yaml"), brokers, ports, t.path("state-untrusted"),
                         pki.ca, untrusted)
    west = Sidecar(t, bad, "west", ports[1]).start()

    def flow_error():
        flows = west.status()["flows"]
        error = flows and flows[0].get("last_error") or ""
        return error if "SSL" in error else None
    mirror.wait_for("the flow's TLS error in /status", flow_error, 60, 0.1)
    error = flow_error()
    note("/status last_error: %s" % error)
    check("SSL" in error and "check regions." in error and ".security" in error,
          "the error names the TLS failure and the keys to check: %r" % error)
    with open(west.log_path, errors="replace") as f:
        log = f.read()
    check("region link security refused" in log and "unknown ca" in log,
          "the sidecar's log names the TLS failure:\n%s" % log[-3000:])
    try:
        west.stop()
    except BaseException:
        west.dump_log(120)
        raise
    check_eq(sum(failover.local_high_watermarks(brokers["west"].bootstrap).values()), 0,
             "records copied to west over an untrusted link")

    note("2. trusted certificates: role pushes, the mirror and a switchover over mTLS")
    topology = write_topology(t.path("topology.yaml"), brokers, ports, t.path("state"), pki.ca,
                              good)
    d = failover.Deployment.__new__(failover.Deployment)
    d.t, d.east, d.west, d.brokers, d.ports, d.topology = (
        t, brokers["east"], brokers["west"], brokers, ports, topology)
    d.sidecars = {"east": Sidecar(t, topology, "east", ports[0]),
                  "west": Sidecar(t, topology, "west", ports[1])}
    try:
        d.start_sidecars()
        d.wait_roles({"east": "active", "west": "standby"}, 60)
        mirror.wait_for("every record in west", lambda: sum(failover.local_high_watermarks(
            brokers["west"].bootstrap).values()) >= RECORDS, 90)
        values = failover.local_values(brokers["west"].bootstrap)
        numbers = sorted(int(v.split(b"-")[1]) for v in values)
        check_eq(numbers, list(range(RECORDS)), "west holds every record exactly once")
        for region in ("east", "west"):
            check("CN=sidecar-link-" in brokers[region].log_text(),
                  "%s's broker logs the sidecars' certificate principals" % region)

        rc, out, err = d.cli("switchover", "--to", "west", "--timeout", "60s")
        check_eq(rc, 0, "switchover --to west over TLS links (%s)" % err.strip())
        d.wait_roles({"west": "active", "east": "standby"}, 60)
        produce(brokers["west"].bootstrap, RECORDS, 50)
        mirror.wait_for("west's new records in east", lambda: sum(failover.local_high_watermarks(
            brokers["east"].bootstrap).values()) >= RECORDS + 50, 90)
        numbers = sorted(int(v.split(b"-")[1])
                         for v in failover.local_values(brokers["east"].bootstrap))
        check_eq(numbers, list(range(RECORDS + 50)), "east holds every record exactly once")
        for sc in d.sidecars.values():
            sc.stop()
    except BaseException:
        d.dump_logs()
        raise


if __name__ == "__main__":
    run_test(main)
