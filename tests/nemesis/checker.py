"""
checker.py - judges one region-nemesis run from its history (JSON lines
written by nemesis.py; docs/nemesis.md has the rules and the format).

    python3 tests/nemesis/checker.py HISTORY.jsonl     # the verdict line, exit 0 / 1

Events it reads (every time is wall-clock seconds, time.time()):

  run      {seed, topology, regions, detect_after_s, checkpoint_interval_ms}
  ack      {writer, region|null, topic, partition, offset, value, sent, acked,
            epoch: [lo, hi]|null}    one acknowledged record
  read     {consumer, value, partition, offset, t, batch}
  commit   {consumer, batch, t, ok, error}
  sample   {kind: sidecar|broker, region, t, epoch, role}, or {kind:
           checkpoint, region, t, flow, last_checkpoint_ms} (/failover/flows)
  op       {n, op, t, end, args, result}    one nemesis step; op is a fault
           (cut, drop, delay, kill_broker, ...; end = when it was healed) or
           switchover / failover / failback (result: rc, lag_records,
           last_checkpoint_ms, epoch) or promotion (an automatic failover,
           from the sidecars' history: result lag_records)
  history  {region, events: [{id, at_ms, epoch, operation, from, to, lag,
            outcome, actor}]}    a sidecar's /failover/history at the end
  final    {active|null, regions: {R: {TOPIC: [[partition, offset, value,
            origin|null]], TOPIC.diverged: [...]}}}   every region's topics
           read at the end (origin: the region named by the record's
           provenance header, null for a record a client wrote there)

The rules (each broken one is a line in result["violations"]):

  (a) split brain, from the acks alone: an ack's region is the one that
      holds the record as a client write (no provenance) at the acked
      offset; its epoch is bounded by the region's broker samples just
      before the send and just after the ack. Two regions acknowledging
      under one epoch, or a region acknowledging under an older epoch
      after (sent later than another region's ack of a newer epoch was
      received) another region acknowledged under a newer one, is a
      split-brain window. Windows that overlap are merged and counted.
  (b) every acknowledged value is, at the end, in the active region's
      topic or in some region's TOPIC.diverged exactly once; a value found
      nowhere is lost, and the lost count may not exceed the records the
      unplanned failovers reported as their expected loss (RPO).
  (c) a value the group read twice is a duplicate; it is explained only by
      an unplanned failover (read no later than a second after it, and
      committed - or, without a successful commit, first read - after its last group
      checkpoint, less one checkpoint interval and a second; for an
      automatic promotion, the newest checkpoint of the flow from the old
      active that the promoted region's sidecar showed before it) or, when the
      commit of the batch that first held it failed or never ran, by a
      fault active at that moment (a crash is at-least-once). Every other
      duplicate, any after a planned switchover, is a violation. A record of
      the active region's final topic the group never read is skipped.
  (d) the epoch never decreases on any sidecar or broker sample, each
      sidecar's history has non-decreasing epochs, and no two sidecars'
      histories name different regions for one epoch.
  (e) no broker, sidecar or witness exits unless the nemesis killed it
      (event crash {t, process, region, status}).
"""
import collections
import json
import sys

PLANNED = ("switchover", "failback")
UNPLANNED = ("failover", "promotion")
OPERATIONS = PLANNED + UNPLANNED


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _by_type(events):
    out = collections.defaultdict(list)
    for e in events:
        out[e["type"]].append(e)
    return out


def _merge(windows):
    """Overlapping [start, end] windows merged, sorted."""
    merged = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


class _Samples:
    """A source's (t, epoch) samples: the epoch just before / just after t."""

    def __init__(self, samples):
        self.points = sorted((s["t"], s["epoch"]) for s in samples if s.get("epoch") is not None)

    def before(self, t):
        best = None
        for at, epoch in self.points:
            if at > t:
                break
            best = epoch
        return best

    def after(self, t):
        for at, epoch in self.points:
            if at >= t:
                return epoch
        return None


def _locate_acks(acks, final, broker_samples):
    """Fills each ack's region (from the final read) and epoch (from the
    broker samples) where the writer could not see them."""
    where = {}
    for region, topics in (final or {}).get("regions", {}).items():
        for topic, records in topics.items():
            if topic.endswith(".diverged"):
                continue
            for partition, offset, value, origin in records:
                if origin is None:
                    where[(topic, partition, offset, value)] = region
    for a in acks:
        if a.get("region") is None:
            a["region"] = where.get((a["topic"], a["partition"], a["offset"], a["value"]))
        if a.get("epoch") is None and a["region"] is not None:
            s = broker_samples.get(a["region"])
            if s is not None:
                lo, hi = s.before(a["sent"]), s.after(a["acked"])
                if lo is not None and hi is not None:
                    a["epoch"] = [lo, hi]


def split_brain(acks):
    """(merged windows, a few example pairs) of rule (a)."""
    known = [a for a in acks if a.get("region") and a.get("epoch")]
    regions = sorted({a["region"] for a in known})
    windows, examples = [], []
    # one epoch, two regions
    by_epoch = collections.defaultdict(lambda: collections.defaultdict(list))
    for a in known:
        lo, hi = a["epoch"]
        if lo == hi:
            by_epoch[lo][a["region"]].append(a)
    for epoch, per_region in sorted(by_epoch.items()):
        if len(per_region) > 1:
            group = [a for r in per_region.values() for a in r]
            windows.append((min(a["sent"] for a in group), max(a["acked"] for a in group)))
            examples.append("epoch %d acknowledged by %s" % (epoch, ", ".join(
                "%s (%d acks, %s..%s)" % (r, len(v), _clock(min(a["sent"] for a in v)),
                                          _clock(max(a["acked"] for a in v)))
                for r, v in sorted(per_region.items()))))
    # an older epoch acknowledging after a newer one elsewhere
    latest_send = {}   # region -> sorted [(hi epoch, the ack sent last with that hi)]
    for r in regions:
        best = {}
        for a in known:
            if a["region"] == r:
                hi = a["epoch"][1]
                if hi not in best or a["sent"] > best[hi]["sent"]:
                    best[hi] = a
        latest_send[r] = sorted(best.items())
    pairs = []
    for y in known:
        ly = y["epoch"][0]
        for r in regions:
            if r == y["region"]:
                continue
            older = [a for hi, a in latest_send[r] if hi < ly]
            if not older:
                continue
            x = max(older, key=lambda a: a["sent"])
            if x["sent"] > y["acked"]:
                windows.append((y["acked"], x["sent"]))
                pairs.append((y["acked"], x, y))
    # one example a window: the newer epoch's first ack and the older one's last
    for window in _merge([(y["acked"], x["sent"]) for _, x, y in pairs]):
        inside = [(x, y) for t, x, y in pairs if window[0] <= t <= window[1]]
        y = min((y for _, y in inside), key=lambda a: a["acked"])
        x = max((x for x, _ in inside), key=lambda a: a["sent"])
        examples.append("%s acknowledged %s at epoch %d (sent %s), after %s acknowledged %s "
                        "at epoch %d (received %s)" % (
                            x["region"], x["value"], x["epoch"][1], _clock(x["sent"]),
                            y["region"], y["value"], y["epoch"][0], _clock(y["acked"])))
    return _merge(windows), examples


def _clock(t):
    import time
    return time.strftime("%H:%M:%S", time.gmtime(t)) + ".%03d" % int((t % 1) * 1000)


def _reported_rpo(ops):
    total = 0
    for o in ops:
        r = o.get("result") or {}
        if o["op"] in UNPLANNED and r.get("rc") == 0:
            total += max(0, int(r.get("lag_records") or 0))
    return total


def _last_checkpoint_ms(checkpoints, region, flow, before):
    """The newest checkpoint of flow into region sampled before a moment, 0
    if none."""
    best = 0
    for s in checkpoints:
        if s["region"] == region and s["flow"] == flow and s["t"] <= before:
            best = max(best, s["last_checkpoint_ms"])
    return best


def _unplanned_windows(ops, run, checkpoints=()):
    """[(start, end, op)] in which a re-read is allowed (rule c)."""
    interval_s = run.get("checkpoint_interval_ms", 500) / 1000.0
    out = []
    for o in ops:
        r = o.get("result") or {}
        if o["op"] not in UNPLANNED or r.get("rc") != 0:
            continue
        if o["op"] == "promotion":
            # an automatic promotion reports no checkpoint: the newest one
            # the promoted region's sidecar showed for the flow from the old
            # active before it (the sampler's /failover/flows)
            to, old = o["args"].get("to"), o["args"].get("from")
            r = dict(r, last_checkpoint_ms=_last_checkpoint_ms(
                checkpoints, to, "%s->%s" % (old, to), o["t"]))
        if (r.get("last_checkpoint_ms") or 0) > 0:
            start = r["last_checkpoint_ms"] / 1000.0 - interval_s - 1.0
        else:
            start = float("-inf")   # no checkpoint ever: everything may come again
        out.append((start, o.get("end") or o["t"], o))
    return out


def consumers(reads, commits, ops, run, final_values, checkpoints=()):
    """(duplicates, explained, violations, skipped) of rule (c)."""
    committed = {(c["consumer"], c["batch"]): c["ok"] for c in commits}
    committed_at = {(c["consumer"], c["batch"]): c["t"] for c in commits if c["ok"]}
    by_value = collections.defaultdict(list)
    for r in sorted(reads, key=lambda r: r["t"]):
        by_value[r["value"]].append(r)
    unplanned = _unplanned_windows(ops, run, checkpoints)
    faults = [o for o in ops if o["op"] not in OPERATIONS]
    duplicates, explained, violations = 0, 0, []
    for value, seen in by_value.items():
        if len(seen) < 2:
            continue
        extra = len(seen) - 1
        duplicates += extra
        first = seen[0]
        why = None
        # consumed = committed: a record whose commit came after the last
        # checkpoint may come again, whenever it was read
        consumed = committed_at.get((first["consumer"], first["batch"]), first["t"])
        for start, end, o in unplanned:
            if start <= consumed and first["t"] <= end + 1.0:
                why = "unplanned %s #%d" % (o["op"], o["n"])
                break
        commit_ok = committed.get((first["consumer"], first["batch"]))
        if why is None and not commit_ok:
            for o in faults:
                if o["t"] - 2.0 <= first["t"] <= (o.get("end") or o["t"]) + 2.0:
                    why = "uncommitted batch during %s #%d" % (o["op"], o["n"])
                    break
        if why is not None:
            explained += extra
            continue
        near = [o for o in ops if o["t"] - 1.0 <= seen[1]["t"] and o["t"] >= first["t"] - 10.0]
        violations.append("%s read %d times (first %s by %s, commit %s; again %s by %s)%s" % (
            value, len(seen), _clock(first["t"]), first["consumer"],
            {True: "ok", False: "failed", None: "never made"}[commit_ok],
            _clock(seen[1]["t"]), seen[1]["consumer"],
            "; near " + ", ".join("%s #%d at %s" % (o["op"], o["n"], _clock(o["t"]))
                                  for o in near[-3:]) if near else ""))
    skipped = sorted(set(final_values) - set(by_value))
    return duplicates, explained, violations, skipped


def epochs(samples, histories):
    """Violations of rule (d)."""
    out = []
    series = collections.defaultdict(list)
    for s in samples:
        if s.get("epoch") is not None:
            series[(s["kind"], s["region"])].append((s["t"], s["epoch"]))
    for (kind, region), points in sorted(series.items()):
        points.sort()
        for (t0, e0), (t1, e1) in zip(points, points[1:]):
            if e1 < e0:
                out.append("%s %s epoch went back from %d to %d at %s" % (
                    kind, region, e0, e1, _clock(t1)))
                break
    story = collections.defaultdict(set)   # epoch -> {(region named active, sidecar)}
    for h in histories:
        events = sorted(h["events"], key=lambda e: e["id"])
        for a, b in zip(events, events[1:]):
            if b["epoch"] < a["epoch"]:
                out.append("history of %s goes back from epoch %d to %d (id %d)" % (
                    h["region"], a["epoch"], b["epoch"], b["id"]))
                break
        for e in events:
            if e.get("to") not in (None, "-", "") and e.get("outcome") != "aborted":
                story[e["epoch"]].add((e["to"], h["region"]))
    for epoch, told in sorted(story.items()):
        named = {to for to, _ in told}
        if len(named) > 1:
            out.append("histories disagree on epoch %d: %s" % (epoch, ", ".join(
                "%s says %s" % (sc, to) for to, sc in sorted(told))))
    return out


def check(events):
    """The result of every rule: a dict with the figures and 'violations'."""
    t = _by_type(events)
    run = t["run"][0] if t["run"] else {}
    final = t["final"][-1] if t["final"] else None
    acks = [dict(a) for a in t["ack"]]
    ops = sorted(t["op"], key=lambda o: o["t"])
    broker_samples = {}
    for s in t["sample"]:
        if s["kind"] == "broker":
            broker_samples.setdefault(s["region"], []).append(s)
    broker_samples = {r: _Samples(v) for r, v in broker_samples.items()}
    _locate_acks(acks, final, broker_samples)
    violations = []

    windows, examples = split_brain(acks)
    if windows:
        violations.append("%d split-brain windows: %s" % (len(windows), ", ".join(
            "%s..%s (%.2f s)" % (_clock(a), _clock(b), b - a) for a, b in windows[:5])))
        violations += ["split brain: " + ex for ex in examples]

    topic = run.get("topic", "orders")
    acked = {a["value"] for a in acks}
    lost, stored_twice, final_values = [], [], []
    active = final.get("active") if final else None
    if final is None:
        violations.append("no final read of the regions")
    elif active is None:
        violations.append("the regions agree on no active region at the end: %s"
                          % final.get("why", ""))
    else:
        counts = collections.Counter()
        final_values = [rec[2] for rec in final["regions"].get(active, {}).get(topic, [])]
        counts.update(final_values)
        for region, topics in final["regions"].items():
            counts.update(rec[2] for rec in topics.get(topic + ".diverged", []))
        lost = sorted(v for v in acked if counts[v] == 0)
        stored_twice = sorted(v for v in acked if counts[v] > 1)
    rpo = _reported_rpo(ops)
    if len(lost) > rpo:
        violations.append("%d acknowledged records lost, the failovers reported %d (first: %s)"
                          % (len(lost), rpo, ", ".join(lost[:5])))
    if stored_twice:
        violations.append("%d acknowledged records stored more than once (first: %s)"
                          % (len(stored_twice), ", ".join(stored_twice[:5])))

    checkpoints = [s for s in t["sample"] if s["kind"] == "checkpoint"]
    dups, explained, dup_violations, skipped = consumers(
        t["read"], t["commit"], ops, run, final_values if final else [], checkpoints)
    violations += dup_violations[:10]
    if len(dup_violations) > 10:
        violations.append("... %d more unexplained duplicates" % (len(dup_violations) - 10))
    if skipped:
        violations.append("the group never read %d records of %s's final %s (first: %s)"
                          % (len(skipped), active, topic, ", ".join(skipped[:5])))
    violations += epochs(t["sample"], t["history"])
    for e in t["crash"]:
        violations.append("the %s of %s exited on its own (status %s) at %s" % (
            e["process"], e["region"], e["status"], _clock(e["t"])))
    unknown = sum(1 for a in acks if a.get("region") is None)
    return {"seed": run.get("seed"), "topology": run.get("topology"),
            "ops": len(ops), "acks": len(acks), "acks_unlocated": unknown,
            "lost": len(lost), "rpo": rpo, "duplicates": dups,
            "duplicates_explained": explained, "skipped": len(skipped),
            "split_brain_windows": len(windows), "active": active,
            "violations": violations}


def verdict_line(result):
    return ("nemesis seed=%s topology=%s ops=%d acks=%d lost=%d rpo=%d duplicates=%d "
            "(explained %d) skipped=%d split-brain-windows=%d %s" % (
                result["seed"], result["topology"], result["ops"], result["acks"],
                result["lost"], result["rpo"], result["duplicates"],
                result["duplicates_explained"], result["skipped"],
                result["split_brain_windows"], "FAIL" if result["violations"] else "PASS"))


def main(argv):
    if len(argv) != 2:
        print("usage: checker.py HISTORY.jsonl", file=sys.stderr)
        return 2
    result = check(load(argv[1]))
    print(verdict_line(result))
    for v in result["violations"]:
        print("  violation: " + v)
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
