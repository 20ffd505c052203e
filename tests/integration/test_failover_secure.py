"""
test_failover_secure.py - the failover drills (issue 6) over the secure setup
of `deploy/demo.sh --secure` (issue 11: "the failover drills run with TLS +
SASL between regions"), made here from zero by deploy/demo_secure.py with
the `openssl` CLI (nothing committed):

  - each region's broker has one SASL_SSL listener (SCRAM-SHA-512), the
    authorizer on, super.users the admin and the region's link user;
  - the sidecars reach every region's brokers over SASL_SSL as that region's
    link user (regions.<r>.security), serve HTTPS and call each other with
    mTLS (control_plane.ca, CN sidecar-east / sidecar-west);
  - the drill's user demo-app is created with `strait users add` in both
    regions, its ACLs (orders, group drill) with `strait acls add` in east
    only; the sidecars' ACL sync copies them to west.

A producer (idempotent, acks=all) and a consumer group that commits after
every record, both on SASL_SSL as demo-app with both regions in
bootstrap.servers (lib/failover.py's drill helpers), run throughout:
1. `strait switchover --to west`: every record acked so far is in west and
   in east exactly once, the group saw no record twice and no commit failed.
2. west's broker and sidecar are killed with SIGKILL, `strait failover --to
   east`: the clients carry on in east; the loss is within the reported lag
   (plus what was produced after the last lag reading), as in
   test_failover_unplanned; east holds no record twice; the group sees every
   acked record east holds. west comes back as a standby at east's epoch.
3. Both brokers' logs show the sidecars (User:link-<region>) and demo-app
   authenticated, and no failed authentication; the sidecars' logs show
   HTTPS with mTLS and no refused control-plane request; every process stops
   cleanly on SIGTERM (no sanitizer report under ASan).
"""
# strait-test: asan
import json
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy"))

from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import demo_secure  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import Sidecar, control_headers  # noqa: E402

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

REGIONS = ("east", "west")
NODES = {"east": 1, "west": 101}
GROUP = "drill"


class HttpsSidecar(Sidecar):
    """A sidecar reached over HTTPS as the operator: the CA, the token."""

    def __init__(self, t, topology, region, port, setup):
        super().__init__(t, topology, region, port)
        self.https = setup.https_context()

    def _request(self, path, post):
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.port, path),
                                     method="POST" if post else "GET",
                                     headers=control_headers(self.topology))
        try:
            with urllib.request.urlopen(req, timeout=30 if post else 10,
                                        context=self.https) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def _get(self, path):
        return self._request(path, False)

    def post(self, path):
        return self._request(path, True)


def write_topology(path, setup, state_dir):
    lines = setup.topology_regions()
    lines += ["flows:",
              "  - {source: east, target: west, topics: [%s], refresh_interval: 1s}"
              % failover.TOPIC,
              "  - {source: west, target: east, topics: [%s], refresh_interval: 1s}"
              % failover.TOPIC,
              "failover: {mode: manual, active: east}",
              "checkpoints: {interval: 500ms}",
              "sidecar: {state_dir: %s}" % state_dir]
    lines += setup.topology_control_plane()
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def deployment(t):
    """The secure two-region deployment as a failover.Deployment."""
    ports = {r: {"port": free_port(), "sidecar": free_port()} for r in REGIONS}
    setup = demo_secure.SecureSetup(t.path("secure"), ports)
    setup.create_files()
    brokers = {}
    for region in REGIONS:
        b = t.broker(name=region, port=ports[region]["port"], start=False, overrides={
            "node.id": str(NODES[region]), "cluster.id": failover.CLUSTER_ID,
            "log.level": "debug"})  # every request and denial, should a drill stall
        b.overrides.update(setup.broker_overrides(region))
        brokers[region] = b.start()
    admin = setup.client_conf(demo_secure.ADMIN_USER)
    for region in REGIONS:
        client = AdminClient(dict({"bootstrap.servers": setup.bootstrap(region)}, **admin))
        client.create_topics([NewTopic(failover.TOPIC, failover.PARTITIONS)])[
            failover.TOPIC].result(30)
    topology = write_topology(t.path("topology.yaml"), setup, t.path("state"))
    note("topology:\n" + open(topology).read())
    d = failover.Deployment.__new__(failover.Deployment)
    d.t, d.east, d.west, d.brokers, d.topology = (t, brokers["east"], brokers["west"], brokers,
                                                  topology)
    d.ports = tuple(ports[r]["sidecar"] for r in REGIONS)
    d.sidecars = {r: HttpsSidecar(t, topology, r, ports[r]["sidecar"], setup) for r in REGIONS}
    d.setup, d.admin = setup, admin
    # the bootstrap of every client: SASL_SSL on both regions
    d.bootstrap_both_secure = "%s,%s" % (setup.bootstrap("west"), setup.bootstrap("east"))
    return d


def values_in(d, region):
    return [int(v.split(b"-")[1])
            for v in failover.local_values(d.brokers[region].bootstrap, conf=d.admin)]


def wait_consumed(consumer, acked, timeout_s=90):
    """Until the group has seen every record of acked; the failure says how
    many are missing and when the group last received a record (a group
    that goes on consuming yet misses a record skipped it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with consumer.lock:
            missing = acked - consumer.seen_set
            last = consumer.receive_times[-1] if consumer.receive_times else None
        if not missing:
            return
        time.sleep(0.2)
    check(False, "the group has not seen %d of %d acked records after %d s (e.g. %r); its "
          "last record came %s s ago; commit errors %d %r"
          % (len(missing), len(acked), timeout_s, sorted(missing)[:5],
             "%.1f" % (time.monotonic() - last) if last else "never",
             consumer.commit_errors, consumer.commit_error_texts[:3]))


def check_every_record_once(d, region, acked):
    deadline = time.monotonic() + 90
    while True:
        values = values_in(d, region)
        missing = acked - set(values)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if missing:
        other = "west" if region == "east" else "east"
        elsewhere = missing & set(values_in(d, other))
        check(False, "%d acked records are not in %s after 90 s (e.g. %r); %d of them are in %s"
              % (len(missing), region, sorted(missing)[:5], len(elsewhere), other))
    check_eq(len(values) - len(set(values)), 0, "records %s holds twice" % region)
    note("%s holds %d records, every one of the %d acked once" % (region, len(values),
                                                                  len(acked)))


def switchover(d, producer, consumer):
    seen_before = len(consumer.seen)
    started = time.monotonic()
    rc, out, err = d.cli("switchover", "--to", "west", "--timeout", "60s")
    check_eq(rc, 0, "switchover --to west exit status (%s)" % err.strip())
    check("switchover complete" in out, "switchover output: %r" % out)
    d.wait_roles({"west": "active", "east": "standby"}, 60)
    mirror.wait_for("an acked produce after the switchover",
                    lambda: producer.first_ack_after(time.monotonic() - 0.5) is not None, 60)
    mirror.wait_for("the group consuming after the switchover",
                    lambda: len(consumer.seen) > seen_before + 300, 60)
    acked = set(producer.acked)
    # the regions first: a record the group misses is then known to be in west
    check_every_record_once(d, "west", acked)
    check_every_record_once(d, "east", acked)
    wait_consumed(consumer, acked)
    note("DRILL secure switchover: %.2f s to a consumed record in west, %d acked, %d records "
         "consumed twice, %d failed commits %s"
         % (time.monotonic() - started, len(acked), len(consumer.duplicates),
            consumer.commit_errors, consumer.commit_error_texts[:3]))
    check_eq(consumer.duplicates, [], "records consumed twice across the switchover")
    check_eq(consumer.commit_errors, 0, "failed commits across the switchover")
    check(not producer.failed, "no produce failed: %r" % producer.failed[:5])


def unplanned(d, producer, consumer):
    d.sidecars["west"].proc.kill()
    d.west.kill9()
    killed_at = time.monotonic()
    note("west (active) broker and sidecar killed with SIGKILL")
    time.sleep(1)
    rc, out, err = d.cli("failover", "--to", "east", "--json")
    check_eq(rc, 0, "failover --to east exit status (%s)" % err.strip())
    result = json.loads(out)
    check_eq(result["outcome"], "completed", "failover outcome")
    d.wait_roles({"east": "active"}, 60)
    mirror.wait_for("an acked produce in east after the kill",
                    lambda: producer.first_ack_after(killed_at) is not None, 90)
    mirror.wait_for("a consumed record after the kill",
                    lambda: consumer.first_receive_after(killed_at + 0.5) is not None, 90)
    time.sleep(3)
    producer.finish()
    acked = set(producer.acked)
    east = values_in(d, "east")
    missing = acked - set(east)
    check_eq(len(east) - len(set(east)), 0, "records east holds twice")
    wait_consumed(consumer, acked - missing)
    note("DRILL secure unplanned failover: RPO %d acked records missing (reported lag %d), "
         "RTO produce %.2f s, RTO consume %.2f s, records consumed twice %d, failed commits "
         "%d, acked %d, failed %d"
         % (len(missing), result["lag_records"], producer.first_ack_after(killed_at) - killed_at,
            consumer.first_receive_after(killed_at + 0.5) - killed_at, len(consumer.duplicates),
            consumer.commit_errors, len(acked), len(producer.failed)))
    check(len(missing) <= max(result["lag_records"], 0) + 300,
          "loss %d is within the reported lag %d plus the records produced after the last "
          "lag reading" % (len(missing), result["lag_records"]))
    consumer.finish()

    d.west.restart()
    d.sidecars["west"].start()
    d.wait_roles({"east": "active", "west": "standby"}, 60)
    rc, out, err = d.cli("status", "--json")
    check_eq(rc, 0, "status after west returned: %s" % err)
    epochs = {r["name"]: r["epoch"] for r in json.loads(out)["regions"]}
    check_eq(epochs["east"], epochs["west"], "both regions at one epoch")


def check_logs(d):
    for region, b in d.brokers.items():
        succeeded, failed = demo_secure.sasl_logins(b.log_text())
        note("%s's broker: SASL logins %r, %d failed" % (region, succeeded, failed))
        for user in (demo_secure.link_user(region), demo_secure.APP_USER):
            check(succeeded.get("User:" + user, 0) > 0,
                  "%s's broker logs no successful login of User:%s: %r" % (region, user,
                                                                           succeeded))
        check_eq(failed, 0, "failed SASL logins on %s's broker" % region)
        check("authentication failed" not in b.log_text(),
              "an authentication failure in %s's broker log" % region)
    for sc in d.sidecars.values():
        with open(sc.log_path, errors="replace") as f:
            log = f.read()
        check("transport=https credentials=token,mtls" in log,
              "%s's sidecar says it serves HTTPS with mTLS" % sc.region)
        check("control-plane request refused" not in log and "unauthorized" not in log,
              "a refused control-plane request in %s's sidecar log" % sc.region)


def main(t):
    d = deployment(t)
    try:
        d.start_sidecars()
        d.wait_roles({"east": "active", "west": "standby"}, 60)
        grants = d.setup.setup_application(strait_bin(), "east", failover.TOPIC, GROUP)
        note("demo-app's ACLs in both regions: %r" % grants)
        app = d.setup.client_conf()
        producer = failover.LoadProducer(d.bootstrap_both_secure, rate=300, conf=app)
        consumer = failover.CommittingConsumer(d.bootstrap_both_secure, GROUP, conf=app)
        producer.start()
        consumer.start()
        mirror.wait_for("records flowing", lambda: len(consumer.seen) > 300, 60)

        note("1. planned switchover to west")
        switchover(d, producer, consumer)
        note("2. west killed, unplanned failover to east")
        unplanned(d, producer, consumer)
        note("3. who authenticated")
        check_logs(d)
        for sc in d.sidecars.values():
            sc.stop()
        for b in d.brokers.values():
            b.stop()
    except BaseException:
        d.dump_logs()
        raise


if __name__ == "__main__":
    run_test(main)
