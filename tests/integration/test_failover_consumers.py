"""
test_failover_consumers.py - issue 12 (nemesis finding N8): after an
unplanned failover a consumer re-reads at most what it consumed since the
group's last checkpoint, reads nothing twice that it read in the new
region, sees no commit of such a batch fail, and skips nothing.

east is active, west standby, both brokers in every client's bootstrap list.
A producer (acks=all, idempotent) writes about 200 records/s. Two groups run
the ordinary loop (consume a batch, commit synchronously, ignore a failed
commit): app-rdkafka with two librdkafka members, app-solo with one. (No
kafka-python member: with east dead, kafka-python 2.0.2 never found west
in this drill, on any build -- it kept to the brokers of east's metadata --
so it cannot follow an unplanned failover whatever the broker does.) Then
east's broker and sidecar are paused (SIGSTOP: unreachable, as behind a
cut link), `strait failover --to west` promotes west, and east resumes: its
sidecar hears west and demotes it, so the clients that waited on east move
to west then (the order of events of nemesis finding N8). test_failover_consumers_automatic.py runs the same
with west promoting itself (failover.mode automatic, a witness);
test_failover_consumers_killed.py kills east's broker and sidecar instead.

Measured while east is silent, before west is promoted: each group's
commits in west (the last checkpoint, what the sidecar synced) and west's
log end per partition (the mirrored tail: a record at or past it was
written in west). Checked, per group, over every record consumed:
- a record written in west is consumed once;
- a record consumed twice lies at or past the group's checkpoint;
- no commit fails whose batch held a record written in west;
- every acknowledged record west has is consumed.
On a build without the rejoin hold (broker/group/coordinator_rejoin.c)
the members may read a batch in west with the old region's member id; its
commit then fails UNKNOWN_MEMBER_ID and the batch is delivered again. Which
comes first, the fetch or the group, is a race: on main's build the
automatic variant lost it (150 records written in west read twice, 3 failed
commits of a batch read in west), this one and the killed one won it.
"""
# strait-test: asan
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

RATE = 200


class TracingConsumer(failover.BatchConsumer):
    """BatchConsumer (librdkafka only) that also keeps, for every record it
    consumed, its partition and offset, and for every failed commit the records of the
    batch it tried to commit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # librdkafka's own session timeout and heartbeat interval (45 s, 3 s),
        # as most applications run it: a member then often reads from the
        # new leader before a heartbeat tells it its coordinator moved
        self.consumer.close()
        self.consumer = Consumer({"bootstrap.servers": args[0], "group.id": self.group,
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                  "topic.metadata.refresh.interval.ms": 1000,
                                  "client.id": "app-%s" % self.group})
        self.positions = {}       # seq -> (partition, offset), shared through the ledger
        self.failed_batches = []  # [(partition, offset, seq)] per failed commit

    def run(self):
        try:
            self.consumer.subscribe([failover.TOPIC])
            while not self.stop_flag.is_set():
                records = self._batch()
                if not records:
                    continue
                batch = []
                with self.lock:
                    ledger = self.ledger
                    for m in records:
                        if self.kind == "librdkafka":
                            value, partition, offset = m.value(), m.partition(), m.offset()
                        else:
                            value, partition, offset = m.value, m.partition, m.offset
                        seq = int(value.split(b"-")[1])
                        if seq in ledger.seen_set:
                            ledger.duplicates.append(seq)
                        ledger.seen_set.add(seq)
                        ledger.seen_count += 1
                        ledger.positions[seq] = (partition, offset)
                        batch.append((partition, offset, seq))
                        self.consumed += 1
                try:
                    self._commit()
                    self.commits += 1
                except Exception as e:  # the application ignores a failed commit
                    with self.lock:
                        self.commit_errors.append("%s: %s" % (type(e).__name__, e))
                        self.failed_batches.append(batch)
            self.consumer.close()
        except Exception as e:
            self.failure = "%s: %s" % (type(e).__name__, e)


def tracing_ledger():
    ledger = failover.Ledger()
    ledger.positions = {}
    return ledger


def local_commits(bootstrap, group):
    """The group's commits in one region, read as the sidecar reads them
    (no redirect): partition -> offset (-1: none)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "client.id": "strait-sidecar-test", "enable.auto.commit": False})
    try:
        parts = c.committed([TopicPartition(failover.TOPIC, p)
                             for p in range(failover.PARTITIONS)], timeout=10)
        return {tp.partition: tp.offset for tp in parts}
    finally:
        c.close()


def make_automatic(t, d, detect_s=3):
    """Turns d's topology to failover.mode automatic with a `strait witness`
    on loopback (before the sidecars start); the witness runs until the test
    ends."""
    port = free_port()
    with open(d.topology) as f:
        text = f.read()
    text = text.replace("  mode: manual\n", "  mode: automatic\n  detect_after: %ds\n"
                        "  witness: 127.0.0.1:%d\n" % (detect_s, port))
    with open(d.topology, "w") as f:
        f.write(text)
    log = open(t.path("witness.log"), "w")
    proc = subprocess.Popen([strait_bin(), "witness", "--listen", "127.0.0.1:%d" % port,
                             "--topology", d.topology, "--state-dir", t.path("witness-state")],
                            stdout=log, stderr=subprocess.STDOUT)
    mirror.wait_for("witness listening", lambda: _accepts(port) or proc.poll() is not None, 20)
    check(proc.poll() is None, "the witness exited with %s" % proc.poll())
    return proc


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def scenario(t, d, automatic, kill_broker):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"}, timeout_s=60)
    producer = failover.LoadProducer(d.bootstrap_both, rate=RATE)
    ledgers = {"app-rdkafka": tracing_ledger(), "app-solo": tracing_ledger()}
    members = {"app-rdkafka": [TracingConsumer(d.bootstrap_both, "app-rdkafka", "librdkafka",
                                               ledger=ledgers["app-rdkafka"])
                               for _ in range(2)],
               "app-solo": [TracingConsumer(d.bootstrap_both, "app-solo", "librdkafka",
                                            ledger=ledgers["app-solo"])]}
    everyone = [m for ms in members.values() for m in ms]
    producer.start()
    for m in everyone:
        m.start()
    for m in everyone:
        mirror.wait_for("%s member consuming" % m.group, lambda: m.consumed > 100, 60)
    time.sleep(1.5)  # at least one checkpoint of the groups' commits into west

    east_processes = [d.sidecars["east"].proc.pid, d.east.pid]
    if kill_broker:
        d.sidecars["east"].proc.kill()
        d.east.kill9()
    else:
        for pid in east_processes:
            os.kill(pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    note("east's broker and sidecar %s (%s failover)"
         % ("killed with SIGKILL" if kill_broker else "paused with SIGSTOP",
            "automatic" if automatic else "manual"))
    # east is silent and west not yet promoted: nothing writes into west,
    # its log end is the mirrored tail, its groups' commits the last checkpoint
    time.sleep(1)
    tail = failover.local_high_watermarks(d.west.bootstrap)
    checkpoints = {g: local_commits(d.west.bootstrap, g) for g in members}
    note("west's mirrored tail %s; checkpoints %s" % (tail, checkpoints))
    if automatic:
        d.wait_roles({"west": "active"}, timeout_s=90)
    else:
        rc, out, err = d.cli("failover", "--to", "west")
        check_eq(rc, 0, "failover --to west exit status (%s)" % err.strip())
        d.wait_roles({"west": "active"})
    note("west active %.2f s after east stopped" % (time.monotonic() - stopped_at))
    if not kill_broker:
        # east comes back: its sidecar hears west and demotes it, and the
        # clients that waited on east move to west (the order of events of
        # nemesis finding N8: fetches move on NOT_LEADER_OR_FOLLOWER at once,
        # the group on the next heartbeat or commit)
        for pid in east_processes:
            os.kill(pid, signal.SIGCONT)
        d.wait_roles({"east": "standby", "west": "active"}, timeout_s=60)
        note("east a standby %.2f s after it stopped" % (time.monotonic() - stopped_at))
    seen = {g: ledgers[g].seen_count for g in members}
    for g in members:
        mirror.wait_for("%s consuming in west" % g,
                        lambda: ledgers[g].seen_count > seen[g] + 600, 90)
    producer.finish()
    check(not producer.failed, "no produce failed: %r" % producer.failed[:5])
    west_values = set(int(v.split(b"-")[1]) for v in failover.local_values(d.west.bootstrap))
    acked = set(producer.acked) & west_values
    note("acked %d, in west %d (lost with east: %d)"
         % (len(producer.acked), len(acked), len(set(producer.acked) - west_values)))
    missing = {g: ms[0].wait_seen(acked, 60) for g, ms in members.items()}
    for m in everyone:
        m.finish()

    failures = []
    for g, ms in members.items():
        ledger = ledgers[g]
        for m in ms:
            check(m.failure is None, "a loop of %s failed: %s" % (g, m.failure))

        def written_in_west(seq):
            partition, offset = ledger.positions[seq]
            return seq in west_values and offset >= tail[partition]

        dups = sorted(set(ledger.duplicates))
        west_dups = [s for s in dups if written_in_west(s)]
        before_checkpoint = [s for s in dups if not written_in_west(s) and
                             ledger.positions[s][1] < checkpoints[g][ledger.positions[s][0]]]
        failed = [b for m in ms for b in m.failed_batches]
        failed_in_west = [b for b in failed if any(written_in_west(seq) for _, _, seq in b)]
        texts = [e for m in ms for e in m.commit_errors]
        note("%s (%d members): %d consumed, %d consumed twice (%d written in west, %d before "
             "the checkpoint), %d failed commits (%d of a batch read in west) %s, "
             "%d acked records never consumed"
             % (g, len(ms), ledger.seen_count, len(dups), len(west_dups),
                len(before_checkpoint), len(failed), len(failed_in_west), texts[:3],
                len(missing[g])))
        if west_dups or before_checkpoint or failed_in_west or missing[g]:
            failures.append("%s: %d records written in west consumed twice, %d re-read from "
                            "before the checkpoint, %d failed commits of a batch read in west, "
                            "%d never consumed" % (g, len(west_dups), len(before_checkpoint),
                                                  len(failed_in_west), len(missing[g])))
    text = d.west.log_text()
    note("west: %d rejoin holds opened, %d lifted as rejoined"
         % (text.count("rejoin hold open"), text.count("reason=rejoined here")))
    check(not failures, "; ".join(failures))
    for sc in d.sidecars.values():
        if sc.proc is not None and sc.proc.poll() is None:
            sc.stop()


def run_manual(t, d):
    scenario(t, d, automatic=False, kill_broker=False)


if __name__ == "__main__":
    run_test(failover.drill(run_manual))
