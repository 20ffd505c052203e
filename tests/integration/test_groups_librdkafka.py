#!/usr/bin/env python3
"""
test_groups_librdkafka: three confluent_kafka (librdkafka) consumers in one
group on a 6-partition topic, each in its own process, while a producer
writes to every partition all along.

1. The three members split the six partitions (no partition twice).
2. One member closes (LeaveGroup): the two others take over its partitions;
   the time until every partition is consumed again is printed as the
   rebalance time (the figure docs/benchmarks.md quotes).
3. A new member joins, then one member is killed with SIGKILL (no
   LeaveGroup): its partitions move to the others within the session timeout
   (6 s) plus the rebalance; that time is printed too.
4. Every produced record was consumed by some member (the union is
   complete; duplicates after the kill are allowed: at-least-once).

Usage of this file as a consumer process (the test starts it that way):
    test_groups_librdkafka.py consume BOOTSTRAP GROUP TOPIC LOGFILE
"""
# strait-test: asan

import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

TOPIC = "orders"
PARTITIONS = 6
GROUP = "strait-group-test"
SESSION_TIMEOUT_MS = 6000
PRODUCE_INTERVAL_S = 0.01  # ~100 records/s, round robin over the partitions


def consume_main(bootstrap, group, topic, log_path):
    """A group member: logs assignments and records as JSON lines."""
    from confluent_kafka import Consumer
    out = open(log_path, "a", buffering=1)

    def log(kind, **fields):
        fields.update(kind=kind, t=time.time())
        out.write(json.dumps(fields) + "\n")

    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(1))
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "session.timeout.ms": SESSION_TIMEOUT_MS,
                  "heartbeat.interval.ms": 500, "enable.auto.commit": True,
                  "auto.commit.interval.ms": 500, "client.id": os.path.basename(log_path)})
    c.subscribe([topic],
                on_assign=lambda c, ps: log("assign", partitions=sorted(p.partition for p in ps)),
                on_revoke=lambda c, ps: log("revoke", partitions=sorted(p.partition for p in ps)))
    log("started")
    while not stop:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            log("error", error=str(m.error()))
            continue
        log("msg", p=m.partition(), o=m.offset(), v=m.value().decode())
    c.close()  # commits and sends LeaveGroup
    log("closed")
    out.close()


if len(sys.argv) > 1 and sys.argv[1] == "consume":
    consume_main(*sys.argv[2:6])
    sys.exit(0)

from broker import check, check_eq, note, run_test  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


class Member:
    def __init__(self, t, bootstrap, name):
        self.name = name
        self.log_path = t.path(name + ".jsonl")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "consume", bootstrap, GROUP, TOPIC,
             self.log_path], stdin=subprocess.DEVNULL)

    def events(self):
        try:
            with open(self.log_path) as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except OSError:
            return []

    def assignment(self):
        """Partitions held now (after the last assign / revoke)."""
        held = []
        for e in self.events():
            if e["kind"] == "assign":
                held = e["partitions"]
            elif e["kind"] in ("revoke", "closed"):
                held = []
        return held

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)

    def kill(self):
        self.proc.kill()
        self.proc.wait()


class Writer(threading.Thread):
    """Produces value i to partition i % 6 until stopped; remembers what was acked."""

    def __init__(self, bootstrap):
        super().__init__(daemon=True)
        self.p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": "all"})
        self.acked = {}
        self.errors = []
        self.halt = threading.Event()

    def run(self):
        i = 0
        while not self.halt.is_set():
            def done(err, msg, i=i):
                if err:
                    self.errors.append(str(err))
                else:
                    self.acked[i] = (msg.partition(), msg.offset())
            self.p.produce(TOPIC, value=b"%d" % i, partition=i % PARTITIONS, on_delivery=done)
            self.p.poll(0)
            i += 1
            time.sleep(PRODUCE_INTERVAL_S)
        self.p.flush(30)


def wait_for(what, predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %d s waiting for %s" % (timeout_s, what))


def split_ok(members):
    held = [m.assignment() for m in members]
    flat = sorted(p for h in held for p in h)
    return flat == list(range(PARTITIONS)) and all(held)


def resume_time(members, since):
    """Seconds from since until every partition had a record consumed again, or None."""
    first = {}
    for m in members:
        for e in m.events():
            if e["kind"] == "msg" and e["t"] > since:
                first[e["p"]] = min(first.get(e["p"], e["t"]), e["t"])
    if len(first) < PARTITIONS:
        return None
    return max(first.values()) - since


def main(t):
    b = t.broker(overrides={"group.initial.rebalance.delay.ms": "1000"})
    bs = b.bootstrap
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                           replication_factor=1)]).values():
        f.result(timeout=30)
    writer = Writer(bs)
    writer.start()
    members = [Member(t, bs, "m%d" % i) for i in range(3)]
    wait_for("three members sharing six partitions", lambda: split_ok(members), 60)
    note("split: %s" % {m.name: m.assignment() for m in members})
    check_eq(sorted(len(m.assignment()) for m in members), [2, 2, 2], "partitions per member")

    # 2. A clean leave.
    leaving = members.pop()
    t0 = time.time()
    leaving.stop()
    wait_for("two members holding all partitions after a leave", lambda: split_ok(members), 60)
    leave_s = wait_for("every partition consumed again after the leave",
                       lambda: resume_time(members, t0), 60)
    note("REBALANCE (3 members, one leaves, LeaveGroup): consuming every partition again "
         "after %.2f s" % leave_s)

    # 3. A newcomer, then a member dies without a word.
    members.append(Member(t, bs, "m3"))
    wait_for("three members again", lambda: split_ok(members), 60)
    victim = next(m for m in members if m.assignment())
    lost = victim.assignment()
    members.remove(victim)
    t0 = time.time()
    victim.kill()
    wait_for("the killed member's partitions %s taken over" % lost,
             lambda: split_ok(members), 60)
    kill_s = wait_for("every partition consumed again after the kill",
                      lambda: resume_time(members, t0), 60)
    note("TAKEOVER (3 members, one SIGKILLed, session.timeout.ms=%d): consuming every "
         "partition again after %.2f s" % (SESSION_TIMEOUT_MS, kill_s))
    check(kill_s < SESSION_TIMEOUT_MS / 1000.0 + 10,
          "takeover took %.1f s, more than the session timeout + 10 s" % kill_s)

    # 4. Union complete.
    time.sleep(1)
    writer.halt.set()
    writer.join(60)
    check(not writer.errors, "produce errors: %s" % writer.errors[:3])
    produced = set(writer.acked)

    def consumed():
        seen = set()
        for m in members + [leaving, victim]:
            seen.update(int(e["v"]) for e in m.events() if e["kind"] == "msg")
        return seen

    wait_for("every produced record consumed", lambda: produced <= consumed(), 60)
    seen = consumed()
    check(produced <= seen, "records never consumed: %s" % sorted(produced - seen)[:10])
    note("%d records produced, all consumed (%d deliveries incl. redeliveries)"
         % (len(produced), sum(1 for m in members + [leaving, victim]
                                for e in m.events() if e["kind"] == "msg")))
    for m in members:
        m.stop()
    b.stop()


run_test(main)
