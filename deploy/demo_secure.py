"""
demo_secure.py - the security setup of `deploy/demo.sh --secure` (demo.py
runs the same scenario as `make demo` on top of it), and of the secure
failover drill (tests/integration/test_failover_secure.py), as an operator
would do it from zero (docs/security.md, docs/operator-guide.md):

  - a CA and, signed by it, one certificate per broker (SAN 127.0.0.1, for
    the clients' host name check) and one per sidecar (CN sidecar-east,
    sidecar-west: the control plane's mTLS identities), made with the
    `openssl` CLI at run time into the data directory (nothing committed);
  - random passwords in files of mode 0600: the admin's, one per region link
    (every client of the sidecars reaching region R logs in as link-R,
    regions.R.security), the demo application's;
  - each broker: one SASL_SSL listener (SCRAM-SHA-512) for the other
    region's mirror and for the clients, the authorizer on, super.users the
    admin and the region's link user, both from sasl.users.file at the first
    start;
  - the topology: regions.<r>.security SASL_SSL for the links,
    control_plane.ca and a certificate per sidecar (HTTPS, mTLS between
    sidecars, the token for the CLI);
  - once the brokers run: `strait users add` creates the application's user
    in each region (users are per region), `strait acls add` grants it
    orders and the group billing in the active region, and the sidecars'
    ACL sync copies the grants to the other region.

SecureSetup holds all of it; prepare_demo and summary are the demo's
narrated start and end.
"""
import json
import os
import secrets
import ssl
import subprocess
import time
import urllib.request

MECHANISM = "SCRAM-SHA-512"
APP_USER = "demo-app"
ADMIN_USER = "admin"
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
CERTIFICATE_DAYS = "30"


def link_user(region):
    """The user every sidecar logs in as on region's brokers (regions.<r>.security)."""
    return "link-" + region


def write_private(path, text):
    """A new file of mode 0600 (keys, passwords: refused by the CLI when
    others may read them)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


class SecureSetup:
    """Certificates, passwords, broker settings, topology keys and client
    settings for regions {name: {"port": kafka port, "sidecar": http port}}
    under directory. shown(path) is how a path is written into the
    topology and the narration: relative to base when it lies below it (the
    demo's processes run in the repository root)."""

    def __init__(self, directory, regions, base=None):
        self.dir = directory
        self.regions = regions
        self.base = base
        self.pki = os.path.join(directory, "pki")
        self.secrets = os.path.join(directory, "secrets")
        self.ca = os.path.join(self.pki, "ca.pem")

    def shown(self, path):
        if self.base and os.path.commonpath([self.base, path]) == self.base:
            return os.path.join(".", os.path.relpath(path, self.base))
        return path

    def bootstrap(self, region):
        return "127.0.0.1:%d" % self.regions[region]["port"]

    # -- files -------------------------------------------------------------

    def _openssl(self, *args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.strip()))

    def _signed(self, name, cn, san=None):
        """<name>.pem and <name>.key (0600) signed by the CA, CN=cn."""
        key, csr = os.path.join(self.pki, name + ".key"), os.path.join(self.pki, name + ".csr")
        pem = os.path.join(self.pki, name + ".pem")
        self._openssl("req", *EC_KEY, "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
        args = ["x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                os.path.join(self.pki, "ca.key"), "-CAcreateserial", "-days", CERTIFICATE_DAYS,
                "-out", pem]
        if san:
            ext = os.path.join(self.pki, name + ".ext")
            with open(ext, "w") as f:
                f.write("subjectAltName=%s\n" % san)
            args += ["-extfile", ext]
        self._openssl(*args)
        os.chmod(key, 0o600)
        os.remove(csr)
        if san:
            os.remove(ext)
        return pem, key

    def create_files(self):
        """The CA, the certificates, the passwords, the brokers' users files
        and the admin's command config. The directories must not exist."""
        os.makedirs(self.pki, mode=0o700)
        os.makedirs(self.secrets, mode=0o700)
        self._openssl("req", "-x509", *EC_KEY, "-keyout", os.path.join(self.pki, "ca.key"),
                      "-out", self.ca, "-subj", "/CN=strait demo CA", "-days", CERTIFICATE_DAYS)
        os.chmod(os.path.join(self.pki, "ca.key"), 0o600)
        for region in self.regions:
            # the broker's keystore: its chain and its key in one file
            pem, key = self._signed("broker-" + region, "broker-" + region,
                                    san="IP:127.0.0.1,DNS:localhost")
            with open(pem) as a, open(key) as b:
                write_private(self.keystore(region), a.read() + b.read())
            self._signed("sidecar-" + region, "sidecar-" + region)
        for user in [ADMIN_USER, APP_USER] + [link_user(r) for r in self.regions]:
            write_private(self.password_file(user), secrets.token_urlsafe(24) + "\n")
        for region in self.regions:
            lines = ["# user mechanism password: read at the broker's first start only"]
            lines += ["%s %s %s" % (user, MECHANISM, self.password(user))
                      for user in (ADMIN_USER, link_user(region))]
            write_private(self.users_file(region), "\n".join(lines) + "\n")
        write_private(self.admin_config(), "\n".join([
            "# the admin's client properties for `strait users` and `strait acls`",
            "security.protocol=sasl_ssl",
            "ssl.ca.location=" + self.ca,
            "sasl.mechanism=" + MECHANISM,
            "sasl.username=" + ADMIN_USER,
            "sasl.password=" + self.password(ADMIN_USER)]) + "\n")

    def keystore(self, region):
        return os.path.join(self.pki, "broker-%s-keystore.pem" % region)

    def password_file(self, user):
        return os.path.join(self.secrets, user + ".pw")

    def password(self, user):
        with open(self.password_file(user)) as f:
            return f.readline().rstrip("\n")

    def users_file(self, region):
        return os.path.join(self.secrets, "users-%s.txt" % region)

    def admin_config(self):
        return os.path.join(self.secrets, "admin.properties")

    # -- settings ----------------------------------------------------------

    def broker_overrides(self, region):
        """The broker's security settings ({key: value}, as --override)."""
        return {
            "listeners": "SASL_SSL://%s" % self.bootstrap(region),
            "ssl.keystore.location": self.shown(self.keystore(region)),
            "sasl.enabled.mechanisms": MECHANISM,
            "sasl.users.file": self.shown(self.users_file(region)),
            "authorizer.class.name": "strait",
            "super.users": "User:%s;User:%s" % (ADMIN_USER, link_user(region)),
        }

    def topology_regions(self):
        """The topology's `regions:` section: SASL_SSL links, HTTPS sidecars."""
        lines = ["regions:"]
        for region, r in self.regions.items():
            lines += ["  %s:" % region,
                      "    bootstrap: %s" % self.bootstrap(region),
                      "    sidecar: 127.0.0.1:%d" % r["sidecar"],
                      "    sidecar_certificate: %s"
                      % self.shown(os.path.join(self.pki, "sidecar-%s.pem" % region)),
                      "    sidecar_key: %s"
                      % self.shown(os.path.join(self.pki, "sidecar-%s.key" % region)),
                      "    security:",
                      "      protocol: SASL_SSL",
                      "      ca: %s" % self.shown(self.ca),
                      "      sasl_mechanism: %s" % MECHANISM,
                      "      username: %s" % link_user(region),
                      "      password_file: %s" % self.shown(self.password_file(link_user(region)))]
        return lines

    def topology_control_plane(self):
        return ["control_plane:", "  ca: %s" % self.shown(self.ca)]

    def client_conf(self, user=APP_USER):
        """librdkafka settings of a client logging in as user."""
        return {"security.protocol": "SASL_SSL", "ssl.ca.location": self.ca,
                "sasl.mechanisms": MECHANISM, "sasl.username": user,
                "sasl.password": self.password(user)}

    def https_context(self):
        """Trusts the CA for the sidecars' HTTPS. Their certificates name
        sidecar-<region>, not 127.0.0.1, so the name is not checked here
        (the CLI checks it)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False
        return ctx

    # -- once the brokers run ------------------------------------------------

    def strait(self, binary, args, say=None, cwd=None):
        """Runs `strait args...`; with say, narrates the command and its output."""
        if say:
            say("$ strait %s" % " ".join(self.shown(a) if os.path.isabs(a) else a for a in args))
        r = subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=60,
                           cwd=cwd)
        if say:
            for line in (r.stdout + r.stderr).splitlines():
                print("    " + line, flush=True)
        if r.returncode != 0:
            raise RuntimeError("strait %s: exit %d: %s" % (args[0], r.returncode,
                                                           (r.stdout + r.stderr).strip()))
        return r.stdout

    def grants(self, topic, group):
        """The application's ACLs: `strait acls add` arguments, one call each."""
        app = "User:" + APP_USER
        return [["--allow-principal", app, "--operation", "Write", "--operation", "Read",
                 "--topic", topic],
                ["--allow-principal", app, "--operation", "Read", "--group", group]]

    def app_acls(self, binary, region, cwd=None):
        """The application's bindings in region, as `strait acls list --json` lists them."""
        out = self.strait(binary, ["acls", "list", "--bootstrap", self.bootstrap(region),
                                   "--command-config", self.admin_config(),
                                   "--principal", "User:" + APP_USER, "--json"], cwd=cwd)
        return sorted((a["resource_type"], a["resource_name"], a["operation"], a["permission"])
                      for a in json.loads(out)["acls"])

    def setup_application(self, binary, active, topic, group, say=None, cwd=None,
                          sync_timeout_s=60):
        """The application's user in every region and its ACLs in the active
        one; returns once the ACL sync has copied them to every other region
        (RuntimeError after sync_timeout_s)."""
        admin = ["--command-config", self.admin_config()]
        for region in self.regions:
            self.strait(binary, ["users", "add", APP_USER, "--mechanism", MECHANISM,
                                 "--password-file", self.password_file(APP_USER),
                                 "--bootstrap", self.bootstrap(region)] + admin, say, cwd)
        for grant in self.grants(topic, group):
            self.strait(binary, ["acls", "add", "--bootstrap", self.bootstrap(active)] + admin
                        + grant, say, cwd)
        expected = self.app_acls(binary, active, cwd)
        started = time.monotonic()
        for region in self.regions:
            while self.app_acls(binary, region, cwd) != expected:
                if time.monotonic() > started + sync_timeout_s:
                    raise RuntimeError("the ACL sync did not copy %s's ACLs of User:%s to %s "
                                       "within %d s" % (active, APP_USER, region, sync_timeout_s))
                time.sleep(0.5)
        if say:
            say("the ACL sync copied them within %.1f s:" % (time.monotonic() - started))
            for region in self.regions:
                if region != active:
                    self.strait(binary, ["acls", "list", "--bootstrap", self.bootstrap(region),
                                         "--principal", "User:" + APP_USER] + admin, say, cwd)
        return expected


def prepare_demo(setup, topology, plain_topology, say):
    """deploy/demo.sh --secure, before anything starts: the files, and the
    topology: plain_topology's flows, failover and checkpoints (the demo's
    scenario), the regions' links and sidecars secured."""
    say("secure mode: a CA, the brokers' and sidecars' certificates and the passwords "
        "(openssl, 0600 files) in %s" % setup.shown(setup.dir))
    setup.create_files()
    with open(plain_topology) as f:
        plain = f.read()
    rest = plain[plain.index("\nflows:") + 1:].replace("./data/local/",
                                                       setup.shown(setup.dir) + "/")
    with open(topology, "w") as f:
        f.write("# generated by deploy/demo_secure.py for `deploy/demo.sh --secure`\n" +
                "\n".join(setup.topology_regions()) + "\n" + rest +
                "\n".join(setup.topology_control_plane()) + "\n")
    say("brokers: one SASL_SSL listener each (SCRAM-SHA-512), authorizer.class.name=strait, "
        "super.users User:%s and the region's link user; sidecars: HTTPS, mTLS as %s; "
        "region links: SASL_SSL as %s (topology %s)"
        % (ADMIN_USER, " / ".join("sidecar-" + r for r in setup.regions),
           " / ".join(link_user(r) for r in setup.regions), setup.shown(topology)))
    install_https_opener(setup)


def summary(directory, regions, say):
    """Who logged in to each broker of the demo (its SASL audit lines)."""
    for region in regions:
        with open(os.path.join(directory, "broker-%s.log" % region), errors="replace") as f:
            succeeded, failed = sasl_logins(f.read())
        say("%s's broker: SASL logins %s, %d failed" % (
            region, ", ".join("%s %d" % kv for kv in sorted(succeeded.items())), failed))


def sasl_logins(log_text):
    """({principal: successful SASL logins}, failed logins) in a broker's log
    (its `sasl: authentication ...` audit lines)."""
    succeeded, failed = {}, 0
    for line in log_text.splitlines():
        if "sasl: authentication succeeded" in line:
            principal = line.rsplit("principal=", 1)[-1].split()[0]
            succeeded[principal] = succeeded.get(principal, 0) + 1
        elif "sasl: authentication failed" in line:
            failed += 1
    return succeeded, failed


def install_https_opener(setup):
    """urllib.request.urlopen trusts the demo's CA from now on."""
    urllib.request.install_opener(urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=setup.https_context())))
