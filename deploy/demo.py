#!/usr/bin/env python3
"""
demo.py - `make demo`: two regions on this machine, mirroring, a planned
switchover and an unplanned failover you can watch, with clients that carry on.

  east: broker node.id 1 on 127.0.0.1:9092, sidecar http://127.0.0.1:8701
  west: broker node.id 101 on 127.0.0.1:9192, sidecar http://127.0.0.1:8702
  topology deploy/local/topology.yaml (orders mirrored both ways, failover
  manual, east active); data, state and logs in ./data/local (wiped at start).

A producer (idempotent, acks=all) and a consumer group "billing" that commits
after every record list the brokers of BOTH regions and never change their
configuration. Every 2 s one line shows the roles, the epoch, what each
region holds, the mirror lag and what the clients did. The script then
  1. runs `strait switchover --to west` (planned: nothing lost or read twice),
  2. kills west's broker and sidecar with SIGKILL and runs
     `strait failover --to east` (unplanned),
  3. restarts west, which comes back as a standby and catches up,
and ends with a summary: records acknowledged, missing, consumed, seen twice.
DEMO_KEEP=1 keeps everything running after the scenario until Ctrl-C.

`deploy/demo.sh --secure` (make demo-secure) runs the same scenario with TLS
and SASL everywhere, set up from zero by demo_secure.py: a CA and the
brokers' and sidecars' certificates made with openssl, brokers on SASL_SSL
(SCRAM-SHA-512) with the authorizer on, region links as SASL_SSL users,
sidecars on HTTPS with mTLS, the clients' user and ACLs created with `strait
users add` and `strait acls add`. Brokers on 127.0.0.1:9093 and :9193,
everything in ./data/secure (wiped at start), the topology generated there.

Run with Debian's /usr/bin/python3 (python3-confluent-kafka).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import demo_secure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("STRAIT_BIN", os.path.join(ROOT, "build", "bin", "strait"))
PLAIN_TOPOLOGY = os.path.join(ROOT, "deploy", "local", "topology.yaml")
CLUSTER_ID = "strait-local-demo"
TOPIC = "orders"
if sys.argv[1:] not in ([], ["--secure"]):
    sys.exit("usage: deploy/demo.sh [--secure]")
if sys.argv[1:] == ["--secure"]:
    DATA = os.path.join(ROOT, "data", "secure")
    TOPOLOGY = os.path.join(DATA, "topology.yaml")  # generated: state_dir ./data/secure/state
    REGIONS = {"east": {"node": 1, "port": 9093, "sidecar": 8701},
               "west": {"node": 101, "port": 9193, "sidecar": 8702}}
    SECURITY = demo_secure.SecureSetup(DATA, REGIONS, base=ROOT)
else:
    DATA = os.path.join(ROOT, "data", "local")  # the topology's state_dir is ./data/local/state
    TOPOLOGY = PLAIN_TOPOLOGY
    REGIONS = {"east": {"node": 1, "port": 9092, "sidecar": 8701},
               "west": {"node": 101, "port": 9192, "sidecar": 8702}}
    SECURITY = None
SCHEME = "https" if SECURITY else "http"
BOOTSTRAP = ",".join("127.0.0.1:%d" % r["port"] for r in REGIONS.values())
stop = threading.Event()
procs = {}


def say(text):
    print("%s  %s" % (time.strftime("%H:%M:%S"), text), flush=True)


def secured(conf, user=demo_secure.APP_USER):
    """conf logging in as user over SASL_SSL in the secure mode (as it is
    in the plain one): the application as demo_secure.APP_USER, the demo's
    own views of each region as the admin. The views live a moment each, and
    librdkafka logs a close during a SASL handshake as an error: their log
    is kept to critical messages (the application's clients log as usual)."""
    if not SECURITY:
        return conf
    conf = dict(conf, **SECURITY.client_conf(user))
    if user == demo_secure.ADMIN_USER:
        conf["log_level"] = 2
    return conf


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_port(port, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("demo: %s does not listen on 127.0.0.1:%d after %d s (see %s)" % (what, port, timeout, DATA))


def start(region, what):
    r = REGIONS[region]
    log = open(os.path.join(DATA, "%s-%s.log" % (what, region)), "ab")
    if what == "broker":
        overrides = {"node.id": r["node"], "cluster.id": CLUSTER_ID,
                     "listeners": "PLAINTEXT://127.0.0.1:%d" % r["port"],
                     "log.dirs": os.path.join(DATA, region)}
        overrides.update(SECURITY.broker_overrides(region) if SECURITY else {})
        cmd = [BIN, "broker"] + [word for key, value in overrides.items()
                                 for word in ("--override", "%s=%s" % (key, value))]
    else:
        cmd = [BIN, "sidecar", "--topology", TOPOLOGY, "--region", region]
    procs[(region, what)] = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                             cwd=ROOT)
    wait_port(r["port"] if what == "broker" else r["sidecar"], "%s %s" % (region, what))


def kill9(region):
    for what in ("sidecar", "broker"):
        p = procs.pop((region, what))
        p.kill()
        p.wait()


def cli(*args):
    say("$ strait %s" % " ".join(args))
    r = subprocess.run([BIN] + list(args) + ["--topology", TOPOLOGY], capture_output=True,
                       text=True, cwd=ROOT)
    for line in (r.stdout + r.stderr).splitlines():
        print("    " + line, flush=True)
    return r.returncode


def sidecar_request(region, path):
    """A GET of an authenticated sidecar route with the control-plane token
    the sidecars generated in their state directory (docs/security.md)."""
    headers = {}
    try:
        with open(os.path.join(DATA, "state", "control-plane.token")) as f:
            headers["Authorization"] = "Bearer " + f.read().strip()
    except OSError:
        pass
    return urllib.request.Request("%s://127.0.0.1:%d%s"
                                  % (SCHEME, REGIONS[region]["sidecar"], path), headers=headers)


def sidecar_state(region):
    try:
        with urllib.request.urlopen(sidecar_request(region, "/failover/state"), timeout=1) as r:
            return dict(l.split("=", 1) for l in r.read().decode().splitlines() if "=" in l)
    except Exception:
        return None


def wait_roles(expected, timeout=60):
    """Until every region's brokers were told its expected role: a sidecar
    of an active region tells them `fenced` until it has heard from a peer
    (docs/dr-runbook.md), and a broker takes writes before its sidecar's
    first push (no role yet), so clients start once the roles are in place."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = {r: sidecar_state(r) for r in expected}
        if all(st and st.get("effective_role", st.get("role")) == role and
               st.get("pushed_epoch") == st.get("epoch") for r, st in states.items()
               for role in [expected[r]]):
            return
        time.sleep(0.2)
    sys.exit("demo: the regions did not reach the roles %s within %d s (see %s)"
             % (expected, timeout, DATA))


def sidecar_flows(region):
    try:
        with urllib.request.urlopen(sidecar_request(region, "/failover/flows"), timeout=1) as r:
            return r.read().decode()
    except Exception:
        return ""


def end_offsets(consumer):
    md = consumer.list_topics(TOPIC, timeout=2).topics.get(TOPIC)
    if md is None or md.error is not None:
        return {}
    return {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=2)[1]
            for p in md.partitions}


def held(region):
    """Records in region's copy of orders, read as the sidecar does (no redirect)."""
    c = Consumer(secured({"bootstrap.servers": "127.0.0.1:%d" % REGIONS[region]["port"],
                          "group.id": "strait-sidecar-demo-view",
                          "client.id": "strait-sidecar-demo-view"}, demo_secure.ADMIN_USER))
    try:
        return sum(end_offsets(c).values())
    except Exception:
        return "-"
    finally:
        c.close()


class Clients:
    def __init__(self):
        self.acked, self.failed, self.seen, self.committed, self.twice = set(), 0, 0, set(), 0
        self.lock = threading.Lock()

    def produce_loop(self):
        p = Producer(secured({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True,
                              "acks": "all", "linger.ms": 5, "message.timeout.ms": 120000,
                              "client.id": "demo-producer",
                              "topic.metadata.refresh.interval.ms": 1000}))

        def delivered(err, msg):
            with self.lock:
                if err is None:
                    self.acked.add(int(msg.value().split()[1]))
                else:
                    self.failed += 1
        n = 0
        while not stop.is_set():
            p.produce(TOPIC, key=b"customer-%d" % (n % 7), value=b"order %d" % n,
                      on_delivery=delivered)
            p.poll(0)
            n += 1
            time.sleep(0.02)
        p.flush(120)

    def consume_loop(self):
        c = Consumer(secured({"bootstrap.servers": BOOTSTRAP, "group.id": "billing",
                              "auto.offset.reset": "earliest", "enable.auto.commit": False,
                              "client.id": "demo-billing",
                              "topic.metadata.refresh.interval.ms": 1000}))
        c.subscribe([TOPIC])
        while not stop.is_set():
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            n = int(m.value().split()[1])
            with self.lock:
                self.seen += 1
                if n in self.committed:
                    self.twice += 1
            try:
                c.commit(message=m, asynchronous=False)
                with self.lock:
                    self.committed.add(n)
            except KafkaException:
                pass
        c.close()


def view(clients):
    parts = []
    for region in REGIONS:
        st = sidecar_state(region)
        parts.append("%s %s" % (region, ("%s@%s" % (st["role"], st["epoch"])) if st else "DOWN"))
    lag = []
    for region in REGIONS:
        for line in sidecar_flows(region).splitlines():
            kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if kv.get("state") == "running":
                lag.append("%s lag %s" % (kv.get("flow"), kv.get("lag_records")))
    with clients.lock:
        acked, seen = len(clients.acked), clients.seen
    say("%-36s | east holds %5s, west holds %5s | %-22s | acked %5d, consumed %5d"
        % (", ".join(parts), held("east"), held("west"), ", ".join(lag) or "no flow running",
           acked, seen))


def watch(clients, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop.is_set():
        view(clients)
        time.sleep(2)


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("demo: %s is missing; run 'make build' (make demo builds first)" % BIN)
    busy = [p for r in REGIONS.values() for p in (r["port"], r["sidecar"]) if not port_free(p)]
    if busy:
        sys.exit("demo: ports %s are in use (another demo or deploy/local/run.sh?)" % busy)
    shutil.rmtree(DATA, ignore_errors=True)
    os.makedirs(DATA)
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        if SECURITY:
            demo_secure.prepare_demo(SECURITY, TOPOLOGY, PLAIN_TOPOLOGY, say)
        for region in REGIONS:
            start(region, "broker")
        for region in REGIONS:
            start(region, "sidecar")
        wait_roles({"east": "active", "west": "standby"})
        # the topic exists in the active region before clients arrive (the
        # mirror creates it in west): a standby never auto-creates a mirrored
        # topic, so a producer that asks west first would otherwise wait
        admin = AdminClient(secured({"bootstrap.servers": "127.0.0.1:%d" % REGIONS["east"]["port"]},
                                    demo_secure.ADMIN_USER))
        admin.create_topics([NewTopic(TOPIC, num_partitions=1)])[TOPIC].result(30)
        say("two regions up: east 127.0.0.1:%d (active), west 127.0.0.1:%d (standby); "
            "logs in %s" % (REGIONS["east"]["port"], REGIONS["west"]["port"], DATA))
        if SECURITY:
            say("the application's user %s in both regions (users are per region), its ACLs "
                "in east; the sidecars' ACL sync copies them to west" % demo_secure.APP_USER)
            SECURITY.setup_application(BIN, "east", TOPIC, "billing", say, cwd=ROOT)
        clients = Clients()
        threads = [threading.Thread(target=clients.produce_loop, daemon=True),
                   threading.Thread(target=clients.consume_loop, daemon=True)]
        for t in threads:
            t.start()
        say("clients: a producer and group 'billing' with bootstrap.servers=%s" % BOOTSTRAP)
        watch(clients, 12)
        cli("status")
        say("== planned switchover: west takes over, nothing lost or read twice ==")
        cli("switchover", "--to", "west")
        watch(clients, 12)
        say("== disaster: west's broker and sidecar are killed with SIGKILL ==")
        kill9("west")
        watch(clients, 4)
        cli("failover", "--to", "east")
        watch(clients, 10)
        say("== west comes back: it adopts the newer epoch and is a standby ==")
        start("west", "broker")
        start("west", "sidecar")
        watch(clients, 10)
        cli("status", "--history")
        if os.environ.get("DEMO_KEEP") == "1":
            say("DEMO_KEEP=1: still running; Ctrl-C stops")
            while not stop.is_set():
                watch(clients, 10)
        stop.set()
        for t in threads:
            t.join(130)
        time.sleep(2)
        values = set()
        c = Consumer(secured({"bootstrap.servers": "127.0.0.1:%d" % REGIONS["east"]["port"],
                              "group.id": "strait-sidecar-demo-check",
                              "client.id": "strait-sidecar-demo-check",
                              "enable.partition.eof": True}, demo_secure.ADMIN_USER))
        ends = end_offsets(c)
        c.assign([TopicPartition(TOPIC, p, 0) for p in ends])
        done, deadline = {p for p, e in ends.items() if e == 0}, time.monotonic() + 30
        while len(done) < len(ends) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or (m.error() and m.error().code() != -191):
                continue
            if m.error():
                done.add(m.partition())
                continue
            values.add(int(m.value().split()[1]))
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
        c.close()
        missing = clients.acked - values
        say("summary: %d records acknowledged, %d missing in east after switchover + failover "
            "(the unplanned failover may lose what was not mirrored yet), %d consumed, "
            "%d seen again after their commit"
            % (len(clients.acked), len(missing), clients.seen, clients.twice))
        if SECURITY:
            demo_secure.summary(DATA, REGIONS, say)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
