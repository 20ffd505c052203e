"""
test_control_plane_tls.py - the control plane over HTTPS with mTLS
(control_plane.ca, regions.<r>.sidecar_certificate/sidecar_key,
control_plane.witness_certificate/witness_key), certificates generated here
with the `openssl` CLI (nothing committed):

1. The sidecars serve HTTPS only; the operator's CLI (`strait status`)
   verifies them against the CA and sends the token; a client that trusts
   another CA fails the handshake, and the CLI says so.
2. Peer polling runs over mTLS: a state POSTed to east alone (with the
   token) reaches west through west's polling, each sidecar showing its
   certificate; no refusal is logged on either side.
3. A peer route accepts a verified certificate of a known identity as its
   credential (sidecar-west's certificate, no token: a heartbeat is served).
4. Refused: a client without a certificate and without a token (401), with a
   certificate the CA did not sign (the handshake fails, nothing changes),
   with a certificate the CA signed for an unknown identity (401), and plain
   HTTP on the HTTPS port (no answer).
5. The witness over mTLS both ways: it probes the sidecars with its
   certificate (they answer it), and answers a sidecar's certificate but
   refuses a client without credentials.
"""
# strait-test: asan
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import _die_with_parent, check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import Sidecar, control_headers  # noqa: E402


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "openssl %s: %s" % (args[0], r.stderr))


class Pki:
    """A CA, certificates it signs, and a self-signed impostor (EC P-256)."""

    def __init__(self, t):
        self.dir = t.path("pki")
        os.makedirs(self.dir)
        self.ca = self.self_signed("ca", "strait-test-ca")
        self.other_ca = self.self_signed("other-ca", "strait-other-ca")

    def path(self, name):
        return os.path.join(self.dir, name)

    def self_signed(self, name, cn):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.path(name + ".key"), "-out", self.path(name + ".pem"),
                "-subj", "/CN=" + cn, "-days", "2")
        return self.path(name + ".pem")

    def signed(self, name, cn):
        """(certificate, key) signed by the CA, CN=cn."""
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.path(name + ".key"), "-out", self.path(name + ".csr"),
                "-subj", "/CN=" + cn)
        openssl("x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.ca, "-CAkey",
                self.path("ca.key"), "-CAcreateserial", "-days", "2", "-out",
                self.path(name + ".pem"))
        return self.path(name + ".pem"), self.path(name + ".key")


def client_context(ca, certificate=None):
    """Verifies the server against ca (its certificate names sidecar-<region>,
    not 127.0.0.1: the name is not checked here); presents certificate."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    if certificate:
        ctx.load_cert_chain(*certificate)
    return ctx


def https(address, path, ctx, post=False, headers=None, timeout=10):
    req = urllib.request.Request("https://%s%s" % (address, path),
                                 method="POST" if post else "GET", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class TlsSidecar(Sidecar):
    """A sidecar reached over HTTPS, as the operator (CA + token)."""

    def __init__(self, ctx, topology, region, port, ca):
        super().__init__(ctx, topology, region, port)
        self.tls = client_context(ca)

    def _get(self, path):
        return https("127.0.0.1:%d" % self.port, path, self.tls,
                     headers=control_headers(self.topology))

    def post(self, path):
        return https("127.0.0.1:%d" % self.port, path, self.tls, post=True,
                     headers=control_headers(self.topology), timeout=30)


def kv(text):
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


def tls_topology(d, pki):
    """The drill's topology with the control plane's CA and certificates."""
    with open(d.topology) as f:
        text = f.read()
    for region in ("east", "west"):
        certificate, key = pki.signed(region, "sidecar-" + region)
        text = re.sub(r"(  %s: \{[^}]*)\}" % region,
                      r"\1, sidecar_certificate: %s, sidecar_key: %s}" % (certificate, key), text)
    witness = pki.signed("witness", "witness")
    text += "control_plane:\n  ca: %s\n  witness_certificate: %s\n  witness_key: %s\n" % (
        pki.ca, witness[0], witness[1])
    with open(d.topology, "w") as f:
        f.write(text)
    note("topology:\n" + text)


def refused_clients(d, pki, east):
    before = kv(d.sidecars["east"].get("/failover/state")[1])["epoch"]
    attack = "/failover/state?epoch=2147483647&active=west"
    # no certificate, no token
    code, body = https(east, attack, client_context(pki.ca), post=True)
    check_eq((code, body), (401, "error=unauthorized: no credentials\n"),
             "POST without a certificate or token")
    # a certificate of another CA, naming a sidecar: the handshake fails
    impostor = (pki.self_signed("impostor", "sidecar-west"), pki.path("impostor.key"))
    try:
        code, body = https(east, attack, client_context(pki.ca, impostor), post=True)
        check(False, "a self-signed certificate was answered %d: %r" % (code, body))
    except (ssl.SSLError, ConnectionError, urllib.error.URLError) as e:
        note("self-signed client certificate refused: %r" % e)
    # signed by the CA for an unknown identity
    mallory = pki.signed("mallory", "mallory")
    code, body = https(east, attack, client_context(pki.ca, mallory), post=True)
    check_eq((code, body), (401, "error=unauthorized: the client certificate names no "
                                 "control-plane identity\n"), "POST with CN=mallory")
    # plain HTTP on the HTTPS port gets no HTTP answer
    try:
        with urllib.request.urlopen("http://%s/status" % east, timeout=5) as r:
            check(False, "plain HTTP was answered %d" % r.status)
    except (urllib.error.URLError, ConnectionError, OSError) as e:
        note("plain HTTP on the HTTPS port: %r" % e)
    time.sleep(2)
    for region, sc in d.sidecars.items():
        check_eq(kv(sc.get("/failover/state")[1])["epoch"], before,
                 "%s's epoch after the refused clients" % region)
    with open(d.sidecars["east"].log_path, errors="replace") as f:
        log = f.read()
    check("reason=the client certificate names no control-plane identity "
          "certificate=/CN=mallory" in log, "east logs the unknown certificate")


def refusals(sc):
    with open(sc.log_path, errors="replace") as f:
        return f.read().count("control-plane request refused")


def witness_over_mtls(t, d, pki):
    refused_before = {region: refusals(sc) for region, sc in d.sidecars.items()}
    topology = t.path("witness-topology.yaml")
    port = free_port()
    with open(d.topology) as f:
        text = f.read().replace("mode: manual", "mode: automatic\n  detect_after: 3s")
    with open(topology, "w") as f:
        f.write(text.replace("  active: east", "  active: east\n  witness: 127.0.0.1:%d" % port))
    log_path = t.path("witness.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([strait_bin(), "witness", "--listen", "127.0.0.1:%d" % port,
                                 "--topology", topology, "--state-dir", t.path("witness-state")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)
    address = "127.0.0.1:%d" % port
    as_east = client_context(pki.ca, (pki.path("east.pem"), pki.path("east.key")))
    try:
        def contact():
            check(proc.poll() is None, "the witness exited with %s" % proc.poll())
            try:
                code, body = https(address, "/witness/state", as_east)
            except OSError:
                return False
            check_eq(code, 200, "the witness answers sidecar-east's certificate")
            state = kv(body)
            return state["contact.east.at_ms"] != "-1" and state["contact.west.at_ms"] != "-1"
        mirror.wait_for("the witness probing both sidecars over mTLS", contact, 20, 0.2)
        code, body = https(address, "/witness/state?from=east&epoch=1", client_context(pki.ca))
        check_eq((code, body), (401, "error=unauthorized: no credentials\n"),
                 "witness heartbeat without credentials")
        check_eq(https(address, "/healthz", client_context(pki.ca))[0], 200, "witness /healthz")
    except BaseException:
        with open(log_path, errors="replace") as f:
            print("----- witness log -----\n" + f.read()[-3000:], flush=True)
        raise
    finally:
        proc.terminate()
        proc.wait(15)
    for region, sc in d.sidecars.items():
        check_eq(refusals(sc), refused_before[region], "refusals in %s's log while the witness "
                 "probed it" % region)


def run(t, d):
    pki = Pki(t)
    tls_topology(d, pki)
    d.sidecars = {region: TlsSidecar(t, d.topology, region, d.ports[i], pki.ca)
                  for i, region in enumerate(("east", "west"))}
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    east = "127.0.0.1:%d" % d.ports[0]

    # 1. the CLI over HTTPS; one that trusts another CA fails the handshake
    rc, out, err = d.cli("status")
    check_eq(rc, 0, "strait status over HTTPS (%s)" % err.strip())
    check("2 of 2 sidecars answer" in out, "status: %r" % out)
    other = t.path("other-ca-topology.yaml")
    with open(d.topology) as f:
        text = f.read().replace("ca: %s" % pki.ca, "ca: %s" % pki.other_ca)
    with open(other, "w") as f:
        f.write(text)
    r = subprocess.run([strait_bin(), "status", "--topology", other], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0, "status with another CA fails")
    check("TLS handshake with 127.0.0.1:%d failed: certificate of sidecar-east refused"
          % d.ports[0] in r.stdout + r.stderr, "the CLI says why: %r" % (r.stdout + r.stderr))

    # 2. peer polling over mTLS: west copies a state only east was given
    code, body = d.sidecars["east"].post("/failover/state?epoch=2&active=east&actor=tls-test")
    check_eq(code, 200, "POST /failover/state to east with the token: %r" % body)
    mirror.wait_for("west adopting epoch 2 by polling east",
                    lambda: kv(d.sidecars["west"].get("/failover/state")[1])["epoch"] == "2", 20)
    d.wait_roles({"east": "active", "west": "standby"})
    for sc in d.sidecars.values():
        with open(sc.log_path, errors="replace") as f:
            log = f.read()
        check("unauthorized" not in log, "no refused peer in %s's log" % sc.region)
        check("transport=https credentials=token,mtls" in log, "%s says it serves HTTPS" % sc.region)

    # 3. a peer's certificate is a credential on a peer route
    as_west = client_context(pki.ca, (pki.path("west.pem"), pki.path("west.key")))
    code, body = https(east, "/failover/heartbeat?from=west&epoch=2", as_west)
    check_eq(code, 200, "a heartbeat with sidecar-west's certificate and no token: %r" % body)

    # 4. refused clients
    refused_clients(d, pki, east)

    # 5. the witness
    witness_over_mtls(t, d, pki)
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
