"""
sidecar.py - a `strait sidecar` process for a test (started on a generated
topology, checked for /healthz, SIGTERM with exit 0 in seconds, sanitizer
reports), the two-region topology writer and the CLI runner used by
test_sidecar*.py.
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

from broker import SANITIZER_MARKERS, _die_with_parent, check, check_eq, note, strait_bin
from confluent_kafka import Consumer, TopicPartition
import mirror

PARTITIONS = 3
METRIC_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
                         r'-?[0-9]+(\.[0-9]+)?$')

def control_token(topology_path):
    """The control-plane token the sidecars of topology_path generated in
    their state directory (the operator's credential), or None before the
    first one started. Tests use it as an operator's script would."""
    with open(topology_path) as f:
        m = re.search(r"state_dir:\s*([^\s,}]+)", f.read())
    path = os.path.join(m.group(1) if m else "./strait-state", "control-plane.token")
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def control_headers(topology_path):
    """{"Authorization": "Bearer <token>"}, or {} without a token."""
    token = control_token(topology_path)
    return {"Authorization": "Bearer " + token} if token else {}


def http_call(url, topology_path=None, post=False, timeout=10, headers=None):
    """(status, text) of one request; with topology_path it carries the
    sidecars' token. HTTP errors are returned, not raised."""
    all_headers = dict(control_headers(topology_path)) if topology_path else {}
    all_headers.update(headers or {})
    req = urllib.request.Request(url, method="POST" if post else "GET", headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Sidecar:
    def __init__(self, ctx, topology, region, port, netns=None):
        """netns: run the sidecar in that network namespace (ip netns, see
        wan.py); its HTTP port is then reached from inside that namespace."""
        self.ctx, self.topology, self.region, self.port = ctx, topology, region, port
        self.netns = netns
        self.log_path = ctx.path("sidecar-%s.log" % region)
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        with open(self.log_path, "ab") as log:
            prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
            self.proc = subprocess.Popen(prefix + [strait_bin(), "sidecar", "--topology",
                                                   self.topology, "--region", self.region],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env,
                                         preexec_fn=_die_with_parent)
        mirror.wait_for("sidecar %s /healthz" % self.region, self.healthy, 30, 0.1)
        note("sidecar %s started: pid %d, http %d" % (self.region, self.proc.pid, self.port))
        return self

    def healthy(self):
        check(self.proc.poll() is None, "sidecar %s exited with %s:\n%s"
              % (self.region, self.proc.poll(), self.log_tail()))
        try:
            return self.get("/healthz") == (200, "ok\n")
        except OSError:
            return False

    def get(self, path):
        if self.netns is not None:
            import wan
            return wan.in_netns(self.netns, self._get, path)
        return self._get(path)

    def _get(self, path):
        return http_call("http://127.0.0.1:%d%s" % (self.port, path), self.topology)

    def post(self, path):
        """POST path with the sidecars' token, as the CLI sends it."""
        return http_call("http://127.0.0.1:%d%s" % (self.port, path), self.topology, post=True,
                         timeout=30)

    def status(self):
        code, body = self.get("/status")
        check_eq(code, 200, "/status code")
        return json.loads(body)

    def stop(self):
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("sidecar %s did not exit within 15 s of SIGTERM" % self.region)
        took = time.monotonic() - started
        note("sidecar %s stopped with %d after %.2f s" % (self.region, rc, took))
        check_eq(rc, 0, "sidecar %s exit status after SIGTERM" % self.region)
        check(took < 10, "sidecar %s took %.1f s to stop" % (self.region, took))
        self.check_clean()

    def dump_log(self, lines=60):
        print("----- sidecar %s: last lines of %s -----\n%s" % (self.region, self.log_path,
                                                              self.log_tail(lines)), flush=True)

    def log_tail(self, lines=40):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def check_clean(self):
        with open(self.log_path, errors="replace") as f:
            bad = [l for l in f if any(m in l for m in SANITIZER_MARKERS)]
        check(not bad, "sanitizer report in sidecar %s:\n%s" % (self.region, "".join(bad[:10])))


def write_topology(path, east, west, ports, state_dir):
    with open(path, "w") as f:
        f.write("regions:\n"
                "  east: {bootstrap: %s, sidecar: 127.0.0.1:%d}\n"
                "  west: {bootstrap: %s, sidecar: 127.0.0.1:%d}\n"
                "flows:\n"
                "  - {source: east, target: west, topics: [orders], refresh_interval: 1s}\n"
                "  - {source: west, target: east, topics: [orders], refresh_interval: 1s}\n"
                "checkpoints: {interval: 500ms}\n"
                "sidecar: {state_dir: %s}\n" % (east.bootstrap, ports[0], west.bootstrap,
                                                 ports[1], state_dir))
    return path


def cli(*args):
    r = subprocess.run([strait_bin()] + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def check_bad_topology(t):
    path = t.path("bad.yaml")
    with open(path, "w") as f:
        f.write("regions:\n  east: {bootstrap: 127.0.0.1:1, sidecar: 127.0.0.1:2}\n"
                "flows:\n  - {source: east, target: wset, topics: [a]}\n")
    rc, out, err = cli("sidecar", "--topology", path, "--region", "east")
    check_eq(rc, 2, "exit status of sidecar with a bad topology")
    check_eq(err, "strait sidecar: %s:4: flows[0].target: 'wset' is not a region "
             "(regions: east)\n" % path, "message for a bad topology")
    rc, out, err = cli("offsets", "translate", "--topology", path, "--group", "g",
                       "--from", "east", "--to", "west")
    check_eq(rc, 2, "exit status of offsets translate with a bad topology")


def check_metrics(sc, require_partitions=True):
    code, body = sc.get("/metrics")
    check_eq(code, 200, "/metrics code")
    for line in body.splitlines():
        if line.startswith("#"):
            check(re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line),
                  "bad comment line: %r" % line)
        else:
            check(METRIC_LINE.match(line), "bad sample line: %r" % line)
    check('strait_mirror_records_copied_total{flow="east->west"} ' in body,
          "no records_copied for east->west in:\n" + body[:2000])
    check(not require_partitions or re.search(r'strait_mirror_partition_lag_records\{flow="east->west",topic="orders",'
                    r'target_topic="orders",partition="0"\} \d+', body),
          "no per-partition lag in:\n" + body[:3000])


def check_status(sc, records):
    st = sc.status()
    check_eq(st["region"], "west", "/status region")
    check_eq([f["name"] for f in st["flows"]], ["east->west"], "/status flows")
    f = st["flows"][0]
    for key in ("state", "last_error", "records_copied", "lag_records", "lag_ms", "last_poll_ms",
                "last_produce_ms", "last_checkpoint_ms", "group_sync", "partitions"):
        check(key in f, "/status flow has no %r: %r" % (key, f))
    check_eq(f["state"], "running", "/status flow state")
    check(f["records_copied"] >= records, "/status records_copied %r < %d" % (f["records_copied"], records))
    parts = sorted((p["source_topic"], p["partition"]) for p in f["partitions"])
    check_eq(parts, [("orders", p) for p in range(PARTITIONS)], "/status partitions")
    for p in f["partitions"]:
        for key in ("target_topic", "source_end_offset", "next_source_offset", "lag_records",
                    "lag_ms", "last_poll_ms", "last_produce_ms", "records_copied"):
            check(key in p, "/status partition has no %r: %r" % (key, p))


def commit_group(bootstrap, group, offsets):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("orders", p, o) for p, o in offsets.items()], asynchronous=False)
    c.close()


def check_translate(t, topology, west_records):
    # committed offset 40 on east partition 0 -> the west offset of the record
    # whose provenance is east:0:40
    commit_group(t.brokers[0].bootstrap, "billing", {0: 40, 1: 7})
    expected = {}
    for p, recs in west_records.items():
        for off, _k, _v, headers, _ts in recs:
            _, prov = mirror.split_provenance(headers)
            if prov and prov[0] == "east" and (prov[1], prov[2]) in ((0, 40), (1, 7)):
                expected[prov[1]] = off
    check_eq(sorted(expected), [0, 1], "mirrored records east:0:40 and east:1:7 found in west")

    def translated():
        rc, out, err = cli("offsets", "translate", "--topology", topology, "--group", "billing",
                           "--from", "east", "--to", "west", "--json")
        check_eq(rc, 0, "offsets translate --json exit status (stderr %r)" % err)
        doc = json.loads(out)
        got = {o["partition"]: (o["source_offset"], o["target_offset"]) for o in doc["offsets"]}
        return got if got.get(0, (0,))[0] == 40 and got.get(1, (0,))[0] == 7 else None
    got = mirror.wait_for("group billing checkpointed", translated, 60)
    check_eq(got[0], (40, expected[0]), "translation of billing orders[0]")
    check_eq(got[1], (7, expected[1]), "translation of billing orders[1]")
    rc, out, err = cli("offsets", "translate", "--topology", topology, "--group", "billing",
                       "--from", "east", "--to", "west")
    check_eq(rc, 0, "offsets translate exit status")
    check(out.startswith("TOPIC") and re.search(r"\norders +orders +0 +40 +%d " % expected[0], out),
          "offsets translate table:\n" + out)


