"""
cluster.py - the nemesis's deployment: two or three single-node regions,
each a broker and a sidecar in its own network namespace, an optional
`strait witness` in another, and a clients' namespace (producers, consumers,
the operator's CLI), joined by a wan.Mesh whose links the nemesis breaks.
The clients' links are never broken: the application and the operator
always reach every region.

    c = Cluster(t, TOPOLOGIES["2r-auto"]).start()
    c.kill_broker("east"); c.start_broker("east")
    c.cli("switchover", "--to", "west")   -> (rc, parsed --json answer or None, text)
    c.close()
"""
import json
import os
import signal
import subprocess

from broker import _die_with_parent, check, free_port, note, strait_bin
import mirror
import wan
from sidecar import Sidecar, http_call

TOPIC = "orders"
PARTITIONS = 3
GROUP = "nemesis"
CLUSTER_ID = "strait-nemesis"
CHECKPOINT_INTERVAL_MS = 500
DETECT_AFTER_S = 3

TOPOLOGIES = {
    "2r-manual": {"regions": ["east", "west"], "mode": "manual", "witness": False},
    "2r-auto": {"regions": ["east", "west"], "mode": "automatic", "witness": True},
    "3r-manual": {"regions": ["east", "west", "north"], "mode": "manual", "witness": False},
    "3r-auto": {"regions": ["east", "west", "north"], "mode": "automatic", "witness": False},
    "3r-auto-witness": {"regions": ["east", "west", "north"], "mode": "automatic",
                        "witness": True},
}


class SiteSidecar(Sidecar):
    """A sidecar listening on its site's service address."""

    def __init__(self, ctx, topology, region, host, port, netns):
        super().__init__(ctx, topology, region, port, netns=netns)
        self.address = "%s:%d" % (host, port)

    def _get(self, path):
        return http_call("http://%s%s" % (self.address, path), self.topology, timeout=2)


class Witness:
    def __init__(self, ctx, address, ns, topology):
        self.address, self.ns, self.topology = address, ns, topology
        self.log_path = ctx.path("witness.log")
        self.state_dir = ctx.path("witness-state")
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, strait_bin(), "witness", "--listen",
                 self.address, "--topology", self.topology, "--state-dir", self.state_dir],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)

        def healthy():
            check(self.proc.poll() is None, "witness exited with %s" % self.proc.poll())
            try:
                return wan.in_netns(self.ns, http_call, "http://%s/healthz" % self.address,
                                    self.topology, timeout=2)[0] == 200
            except OSError:
                return False
        mirror.wait_for("witness /healthz", healthy, 20, 0.1)


class Cluster:
    def __init__(self, ctx, shape):
        self.ctx = ctx
        self.regions = list(shape["regions"])
        self.mode = shape["mode"]
        self.has_witness = shape["witness"]
        names = self.regions + (["witness"] if self.has_witness else []) + ["clients"]
        links = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))
                 if not (names[i] == "witness" and names[j] == "clients")]
        self.mesh = wan.Mesh(names, links)
        self.brokers, self.sidecars, self.witness = {}, {}, None
        self.topology = ctx.path("topology.yaml")
        self.state_dir = ctx.path("state")

    def site(self, name):
        return self.mesh.index(name)

    def ns(self, name):
        return self.mesh.ns[self.site(name)]

    @property
    def clients_ns(self):
        return self.ns("clients")

    @property
    def bootstrap_all(self):
        return ",".join(self.brokers[r].bootstrap for r in self.regions)

    def start(self):
        self.mesh.setup()
        for k, region in enumerate(self.regions):
            self.brokers[region] = self.ctx.broker(
                name=region, host=self.mesh.addr[self.site(region)], netns=self.ns(region),
                port=free_port(), overrides={"node.id": str(1 + 100 * k),
                                             "cluster.id": CLUSTER_ID})
            wan.in_netns(self.ns(region), mirror.create_topic, self.brokers[region].bootstrap,
                         TOPIC, PARTITIONS)
        ports = {r: free_port() for r in self.regions}
        witness_address = None
        if self.has_witness:
            witness_address = "%s:%d" % (self.mesh.addr[self.site("witness")], free_port())
        self._write_topology(ports, witness_address)
        if self.has_witness:
            self.witness = Witness(self.ctx, witness_address, self.ns("witness"), self.topology)
            self.witness.start()
        for region in self.regions:
            self.sidecars[region] = SiteSidecar(self.ctx, self.topology, region,
                                                self.mesh.addr[self.site(region)],
                                                ports[region], self.ns(region))
            self.sidecars[region].start()
        return self

    def _write_topology(self, ports, witness_address):
        lines = ["regions:"]
        for r in self.regions:
            lines.append("  %s: {bootstrap: %s, sidecar: %s:%d}" % (
                r, self.brokers[r].bootstrap, self.mesh.addr[self.site(r)], ports[r]))
        lines.append("flows:")
        for a in self.regions:
            for b in self.regions:
                if a != b:
                    lines.append("  - {source: %s, target: %s, topics: [%s], "
                                 "refresh_interval: 1s}" % (a, b, TOPIC))
        lines += ["failover:", "  mode: %s" % self.mode, "  active: %s" % self.regions[0]]
        if self.mode == "automatic":
            lines.append("  detect_after: %ds" % DETECT_AFTER_S)
        if witness_address:
            lines.append("  witness: %s" % witness_address)
        lines += ["checkpoints: {interval: %dms}" % CHECKPOINT_INTERVAL_MS,
                  "sidecar: {state_dir: %s}" % self.state_dir]
        with open(self.topology, "w") as f:
            f.write("\n".join(lines) + "\n")

    # ---- what the nemesis does to processes

    def kill_broker(self, region):
        self.brokers[region].kill9()

    def start_broker(self, region):
        self.brokers[region].start()

    def kill_sidecar(self, region):
        sc = self.sidecars[region]
        sc.proc.kill()
        sc.proc.wait()

    def start_sidecar(self, region):
        self.sidecars[region].start()

    def pause_sidecar(self, region, paused):
        # `ip netns exec` execs the sidecar: the pid is the sidecar's own
        os.kill(self.sidecars[region].proc.pid, signal.SIGSTOP if paused else signal.SIGCONT)

    def kill_witness(self):
        self.witness.proc.kill()
        self.witness.proc.wait()

    def start_witness(self):
        self.witness.start()

    def cli(self, *args, timeout_s=90):
        """`strait ARGS --json` run from the clients' site: (rc, answer dict or
        None, output text)."""
        cmd = ["ip", "netns", "exec", self.clients_ns, strait_bin()] + list(args) + [
            "--topology", self.topology, "--json"]
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout_s)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, (e.stdout or b"").decode(errors="replace") if isinstance(
                e.stdout, bytes) else (e.stdout or ""), "timed out after %d s" % timeout_s
        answer = None
        for line in out.splitlines():
            if line.startswith("{"):
                try:
                    answer = json.loads(line)
                except ValueError:
                    pass
        return rc, answer, (out + err).strip()

    # ---- what it reads

    def sidecar_state(self, region):
        """/failover/state of a region's sidecar as a dict, or None."""
        sc = self.sidecars[region]
        if sc.proc is None or sc.proc.poll() is not None:
            return None
        try:
            code, body = wan.in_netns(self.clients_ns, sc._get, "/failover/state")
        except OSError:
            return None
        if code != 200:
            return None
        return dict(l.split("=", 1) for l in body.splitlines() if "=" in l)

    def sidecar_get(self, region, path):
        try:
            return wan.in_netns(self.clients_ns, self.sidecars[region]._get, path)
        except OSError as e:
            return None, str(e)

    def broker_state(self, region):
        """The broker's persisted region state (strait-region-state) as a dict."""
        path = os.path.join(self.brokers[region].data_dir, "strait-region-state")
        try:
            with open(path) as f:
                return dict(l.strip().split("=", 1) for l in f
                            if "=" in l and not l.startswith("#"))
        except OSError:
            return {}

    def close(self):
        for sc in self.sidecars.values():
            if sc.proc is not None:
                try:
                    os.kill(sc.proc.pid, signal.SIGCONT)
                except OSError:
                    pass
                sc.proc.kill()
                sc.proc.wait()
        if self.witness is not None and self.witness.proc is not None:
            self.witness.proc.kill()
            self.witness.proc.wait()
        for b in self.brokers.values():
            b.cleanup()
        self.mesh.cleanup()
        note("cluster closed: processes killed, namespaces %s deleted" % " ".join(self.mesh.ns))

    def dump_logs(self):
        for sc in self.sidecars.values():
            if os.path.exists(sc.log_path):
                sc.dump_log(40)
        if self.witness is not None and os.path.exists(self.witness.log_path):
            with open(self.witness.log_path, errors="replace") as f:
                print("----- witness log -----\n" + "".join(f.readlines()[-30:]), flush=True)
