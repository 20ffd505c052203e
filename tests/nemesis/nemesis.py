#!/usr/bin/env python3
"""
nemesis.py - a Jepsen-style nemesis for regions (issue 12): a topology of
two or three regions (cluster.py) under load (workload.py), a seeded plan of
faults and operator commands (schedule.py) carried out against it, then
everything healed, a final read of every region, and the checker's verdict
(checker.py; rules and history format there, docs/nemesis.md).

    nemesis.py --topology 2r-auto --seed 7 [--ops 20] [--mix full]
               [--history FILE] [--print-plan]

Prints one verdict line (`nemesis seed=7 topology=2r-auto ops=.. acks=..
lost=.. ... PASS|FAIL`) and the violations; exit 0 on PASS. The history
(JSON lines: the run, every ack, read, commit, sample, nemesis step, the
sidecars' audit histories and the final read) is kept at --history (default
build/nemesis/<topology>-<seed>.jsonl) so a failing seed can be judged again
(checker.py FILE) and replayed (tests/nemesis/replay FILE: the same topology,
mix, op count and seed give the same plan).

Runs only in its own network namespaces (strait-mesh-<pid>-*) and on their
addresses; every process and namespace is removed on exit, on a failure,
on SIGTERM and on Ctrl-C. Needs CAP_NET_ADMIN; without it prints SKIP.
"""
import argparse
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))

from broker import REPO_ROOT, TestFailure, note, run_test  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402

import checker  # noqa: E402
import cluster as cl  # noqa: E402
import mirror  # noqa: E402
import schedule  # noqa: E402
import wan  # noqa: E402
import workload  # noqa: E402

PRODUCERS = 2
PRODUCER_RATE = 40      # records/s each
CONVERGE_TIMEOUT_S = 90


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--topology", default="2r-auto", choices=sorted(cl.TOPOLOGIES))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ops", type=int, default=20, help="nemesis steps (faults and commands)")
    p.add_argument("--mix", default="full",
                   help="a mix (%s) or kind=weight,..." % ", ".join(sorted(schedule.MIXES)))
    p.add_argument("--max-seconds", type=float, default=600,
                   help="no fault is injected after this long (heals still run)")
    p.add_argument("--history", help="history file (JSON lines)")
    p.add_argument("--print-plan", action="store_true", help="print the plan and exit")
    return p.parse_args(argv)


class Run:
    def __init__(self, t, args):
        self.t, self.args = t, args
        self.shape = cl.TOPOLOGIES[args.topology]
        self.plan = schedule.plan(args.seed, self.shape["regions"], self.shape["witness"],
                                  schedule.parse_mix(args.mix), args.ops)
        path = args.history or os.path.join(REPO_ROOT, "build", "nemesis",
                                            "%s-%d.jsonl" % (args.topology, args.seed))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.history = workload.History(path)
        self.c = cl.Cluster(t, self.shape)
        self.injected = {}   # step n -> (t, kind, args, what happened)
        self.paused = set()

    # ---- the plan, step by step

    def inject(self, step):
        kind, a = step.kind, step.args
        now = time.time()
        result = {}
        m = self.c.mesh
        if kind in ("cut", "drop", "delay"):
            i, j = self.c.site(a["a"]), self.c.site(a["b"])
            if kind == "cut":
                m.link_down(i, j)
            elif kind == "drop":
                m.set_direction(i, j, "drop")
            else:
                m.set_direction(i, j, "delay", a["ms"])
                m.set_direction(j, i, "delay", a["ms"])
        elif kind == "kill_broker":
            self.c.kill_broker(a["region"])
        elif kind == "kill_sidecar":
            self.c.kill_sidecar(a["region"])
        elif kind == "pause_sidecar":
            self.c.pause_sidecar(a["region"], True)
            self.paused.add(a["region"])
        elif kind == "kill_witness":
            self.c.kill_witness()
        else:
            cmd = [kind, "--to", a["to"]]
            if kind == "failover" and a.get("force"):
                cmd.append("--force")
            if kind != "failover":
                cmd += ["--timeout", "20s"]
            rc, answer, text = self.c.cli(*cmd)
            result = {"rc": rc, "text": text[-600:]}
            if answer:
                for key in ("lag_records", "last_checkpoint_ms", "epoch", "outcome", "from"):
                    result[key] = answer.get(key)
            self.history.add("op", n=step.n, op=kind, t=now, end=time.time(), args=a,
                             result=result)
            note("#%d %s %s -> rc %s %s" % (step.n, kind, " ".join(cmd[1:]), rc,
                                            text.splitlines()[-1] if text else ""))
            return
        self.injected[step.n] = (now, kind, a)
        note("#%d %s %s" % (step.n, kind, a))

    def heal(self, step):
        kind, a = step.kind, step.args
        m = self.c.mesh
        if kind in ("cut", "drop", "delay"):
            m.heal(self.c.site(a["a"]), self.c.site(a["b"]))
        elif kind == "kill_broker":
            self.c.start_broker(a["region"])
        elif kind == "kill_sidecar":
            self.c.start_sidecar(a["region"])
        elif kind == "pause_sidecar":
            self.c.pause_sidecar(a["region"], False)
            self.paused.discard(a["region"])
        elif kind == "kill_witness":
            self.c.start_witness()
        started, _, _ = self.injected.pop(step.n)
        self.history.add("op", n=step.n, op=kind, t=started, end=time.time(), args=a,
                         result={})
        note("#%d healed %s %s" % (step.n, kind, a))

    # ---- the run

    def execute(self):
        a = self.args
        self.history.add("run", seed=a.seed, topology=a.topology, ops=a.ops, mix=a.mix,
                         regions=self.shape["regions"], mode=self.shape["mode"],
                         witness=self.shape["witness"], topic=cl.TOPIC,
                         detect_after_s=cl.DETECT_AFTER_S if self.shape["mode"] == "automatic"
                         else 0, checkpoint_interval_ms=cl.CHECKPOINT_INTERVAL_MS,
                         plan=[list(s) for s in self.plan], t=time.time())
        note("plan (seed %d, %s, mix %s):\n%s" % (a.seed, a.topology, a.mix,
                                                 schedule.describe(self.plan)))
        self.c.start()
        mirror.wait_for("every sidecar agrees on the first state", self.agreed, 60, 0.3)
        sampler = workload.Sampler(self.c, self.history)
        sampler.start()
        regions = self.c.regions
        producers = []
        for k in range(PRODUCERS):
            order = regions[k % len(regions):] + regions[:k % len(regions)]
            producers.append(workload.ProducerLoad(
                self.c, self.history, "p%d" % k,
                ",".join(self.c.brokers[r].bootstrap for r in order), PRODUCER_RATE))
        probes = [workload.Probe(self.c, self.history, r) for r in regions]
        members = [workload.GroupMember(self.c, self.history, "c%d" % k) for k in range(2)]
        for th in producers + probes + members:
            th.start()
        self.workers = [sampler] + producers + probes + members
        started = time.monotonic()
        for step in self.plan:
            time.sleep(max(0.0, started + step.at_s - time.monotonic()))
            if step.action == "inject" and time.monotonic() - started > self.args.max_seconds:
                note("#%d %s skipped: past --max-seconds" % (step.n, step.kind))
                continue
            if step.action == "heal" and step.n not in self.injected:
                continue
            self.check_processes()
            (self.inject if step.action == "inject" else self.heal)(step)
            self.history.flush()
        self.check_processes()
        time.sleep(2)
        note("plan done in %.1f s; every fault healed" % (time.monotonic() - started))
        active = self.converge()
        for th in producers + probes:
            th.finish()
        note("producers stopped: %s; probes: %s" % (
            ", ".join("%s %d acks %d failed" % (p.name_, p.acks, p.failures) for p in producers),
            ", ".join("%s %d" % (p.region, p.acks) for p in probes)))
        if active:
            self.settle(active)
            self.wait_group(active, members)
        for th in members:
            th.finish()
        sampler.finish()
        self.final(active)

    def check_processes(self):
        """A broker, sidecar or witness that exited without the nemesis
        killing it is a crash: recorded (the checker fails the run) and
        started again so the run goes on."""
        down = {(inject_kind, a.get("region")) for _, inject_kind, a in self.injected.values()}
        procs = [("kill_broker", r, self.c.brokers[r].proc, lambda r=r: self.c.start_broker(r))
                 for r in self.c.regions]
        procs += [("kill_sidecar", r, self.c.sidecars[r].proc,
                   lambda r=r: self.c.start_sidecar(r)) for r in self.c.regions]
        if self.c.witness is not None:
            procs.append(("kill_witness", "witness", self.c.witness.proc, self.c.start_witness))
        for kind, region, proc, restart in procs:
            if (kind, region) in down or proc is None or proc.poll() is None:
                continue
            what = kind.split("_", 1)[1]
            log = {"broker": lambda: self.c.brokers[region].log_path,
                   "sidecar": lambda: self.c.sidecars[region].log_path,
                   "witness": lambda: self.c.witness.log_path}[what]()
            try:
                with open(log, errors="replace") as f:
                    tail = f.readlines()[-15:]
            except (OSError, TypeError):
                tail = []
            self.history.add("crash", t=time.time(), process=what, region=region,
                             status=proc.poll(), log_tail=[l.rstrip() for l in tail])
            note("CRASH: the %s of %s exited with %s on its own" % (what, region, proc.poll()))
            if kind == "kill_broker":
                self.c.brokers[region].proc = None
            restart()

    def stop_workers(self):
        for th in getattr(self, "workers", []):
            th.stop_flag.set()

    def agreed(self):
        """The active region if every sidecar answers with the same epoch and
        active region, no operation in progress, pushed to its brokers."""
        states = [self.c.sidecar_state(r) for r in self.c.regions]
        if any(s is None for s in states):
            return None
        if len({(s["epoch"], s["active"]) for s in states}) != 1:
            return None
        if any(s.get("pushed_epoch") != s["epoch"] or s.get("promoting") or s.get("fenced")
               for s in states):
            return None
        return states[0]["active"]

    def converge(self):
        """Waits for the regions to agree; finishes an operation a fault left
        half done, as an operator would (the runbook: run it again)."""
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        completed = False
        while time.monotonic() < deadline:
            self.check_processes()
            active = self.agreed()
            if active:
                note("regions agree: %s active" % active)
                return active
            states = {r: self.c.sidecar_state(r) for r in self.c.regions}
            target = next((s.get("promoting") or s.get("target") for s in states.values()
                           if s and (s.get("promoting") or s.get("fenced"))), None)
            if target and not completed and time.monotonic() > deadline - CONVERGE_TIMEOUT_S + 10:
                rc, _, text = self.c.cli("switchover", "--to", target, "--timeout", "30s")
                self.history.add("note", t=time.time(),
                                 text="final: completed the half-done operation: switchover "
                                 "--to %s -> %s %s" % (target, rc, text[-300:]))
                completed = True
            time.sleep(0.5)
        states = {r: self.c.sidecar_state(r) for r in self.c.regions}
        self.why = "no agreement within %d s: %s" % (CONVERGE_TIMEOUT_S, {
            r: s and {k: s.get(k) for k in ("epoch", "active", "role", "pushed_epoch",
                                             "promoting", "operation", "push_error")}
            for r, s in states.items()})
        note(self.why)
        self.c.dump_logs()
        return None

    def counts(self, active):
        ends = {}
        for r in self.c.regions:
            for topic in (cl.TOPIC, cl.TOPIC + ".diverged"):
                if topic == cl.TOPIC and r != active:
                    continue
                ends[(r, topic)] = sum(self.high_watermarks(r, topic).values())
        return ends

    def settle(self, active):
        """Until the active topic and the diverged copies stop growing."""
        last, stable_since = None, time.monotonic()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = self.counts(active)
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since > 6:
                return
            time.sleep(1)

    def wait_group(self, active, members):
        values = {rec[2] for rec in self.read_topic(active, cl.TOPIC)}

        def caught_up():
            seen = set()
            for m in members:
                seen |= m.values
            return not (values - seen)
        try:
            mirror.wait_for("the group read %s's topic" % active, caught_up, 60, 1)
        except TestFailure as e:
            note(str(e))

    def high_watermarks(self, region, topic):
        def run():
            c = Consumer({"bootstrap.servers": self.c.brokers[region].bootstrap,
                          "group.id": "strait-sidecar-nemesis-wm",
                          "client.id": "strait-sidecar-nemesis"})
            try:
                md = c.list_topics(topic, timeout=10)
                if topic not in md.topics or md.topics[topic].error is not None:
                    return {}
                return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                        for p in md.topics[topic].partitions}
            finally:
                c.close()
        return wan.in_netns(self.c.ns(region), run)

    def read_topic(self, region, topic):
        """[[partition, offset, value, origin]] of every record, read as a
        sidecar would (no redirect), origin from the provenance header."""
        ends = self.high_watermarks(region, topic)

        def run():
            c = Consumer({"bootstrap.servers": self.c.brokers[region].bootstrap,
                          "group.id": "strait-sidecar-nemesis-reader",
                          "client.id": "strait-sidecar-nemesis", "enable.auto.commit": False})
            out = []
            todo = {p for p, end in ends.items() if end > 0}
            c.assign([TopicPartition(topic, p, 0) for p in todo])
            deadline = time.monotonic() + 60
            try:
                while todo and time.monotonic() < deadline:
                    m = c.poll(0.5)
                    if m is None or m.error():
                        continue
                    _, prov = mirror.split_provenance(m.headers() or [])
                    out.append([m.partition(), m.offset(), m.value().decode(errors="replace"),
                                prov[0] if prov else None])
                    if m.offset() + 1 >= ends[m.partition()]:
                        todo.discard(m.partition())
            finally:
                c.close()
            if todo:
                raise TestFailure("could not read %s of %s to its end" % (topic, region))
            return out
        return wan.in_netns(self.c.ns(region), run)

    def final(self, active):
        regions = {}
        for r in self.c.regions:
            regions[r] = {topic: self.read_topic(r, topic)
                          for topic in (cl.TOPIC, cl.TOPIC + ".diverged")}
        for r in self.c.regions:
            code, body = self.c.sidecar_get(r, "/failover/history")
            events = []
            for line in (body or "").splitlines() if code == 200 else []:
                kv = dict(p.split("=", 1) for p in line.split(" detail=")[0].split() if "=" in p)
                for key in ("id", "at_ms", "epoch", "lag"):
                    kv[key] = int(kv.get(key, 0))
                kv["detail"] = line.split(" detail=", 1)[1] if " detail=" in line else ""
                events.append(kv)
            self.history.add("history", region=r, events=events)
            for e in events:
                if e.get("outcome") == "automatic":
                    self.history.add("op", n=0, op="promotion", t=e["at_ms"] / 1000.0,
                                     end=e["at_ms"] / 1000.0, args={"to": e.get("to"),
                                                                    "from": e.get("from"),
                                                                    "sidecar": r},
                                     result={"rc": 0, "lag_records": e["lag"],
                                             "epoch": e["epoch"]})
        self.history.add("final", active=active, regions=regions,
                         why=getattr(self, "why", ""), t=time.time())
        self.history.flush()


def dedupe_promotions(events):
    """An automatic promotion is in every sidecar's history: keep one per epoch."""
    seen, out = set(), []
    for e in events:
        if e["type"] == "op" and e["op"] == "promotion":
            if e["result"]["epoch"] in seen:
                continue
            seen.add(e["result"]["epoch"])
        out.append(e)
    return out


def main_with(args):
    def main(t):
        reason = wan.probe()
        if reason:
            print("SKIP: the nemesis needs network namespaces: %s" % reason, flush=True)
            return
        run = Run(t, args)
        try:
            run.execute()
        except BaseException:
            run.stop_workers()
            run.c.dump_logs()
            raise
        finally:
            run.stop_workers()
            run.c.close()
            run.history.close()
        events = dedupe_promotions(checker.load(run.history.path))
        with open(run.history.path, "w") as f:
            for e in events:
                f.write(json.dumps(e, sort_keys=True) + "\n")
        result = checker.check(events)
        line = checker.verdict_line(result)
        with open(run.history.path, "a") as f:
            f.write(json.dumps({"type": "verdict", "line": line,
                                "violations": result["violations"]}) + "\n")
        print(line, flush=True)
        for v in result["violations"]:
            print("  violation: " + v, flush=True)
        print("history: %s" % run.history.path, flush=True)
        if result["violations"]:
            raise TestFailure("the checker found %d violations (seed %d, %s)" % (
                len(result["violations"]), args.seed, args.topology))
    return main


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    if arguments.print_plan:
        shape = cl.TOPOLOGIES[arguments.topology]
        print(schedule.describe(schedule.plan(arguments.seed, shape["regions"], shape["witness"],
                                              schedule.parse_mix(arguments.mix),
                                              arguments.ops)))
        sys.exit(0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run_test(main_with(arguments), name="nemesis-%s-%d" % (arguments.topology, arguments.seed))
