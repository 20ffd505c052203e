#!/usr/bin/env python3
"""
test_checker.py - the nemesis checker (checker.py) on hand-made histories:
a clean one passes; a split brain (same epoch, and an older epoch writing
after a newer one), a lost ack, a record stored twice, a consumer duplicate
after a planned switchover, a skipped record, an epoch going back and two
histories telling different stories each fail with their own reason; the
re-reads an unplanned failover allows do not. Run by `make test`.
"""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402

T0 = 1_800_000_000.0


def ack(value, region, epoch, sent, offset, partition=0, writer="p0"):
    return {"type": "ack", "writer": writer, "region": region, "topic": "orders",
            "partition": partition, "offset": offset, "value": value, "sent": T0 + sent,
            "acked": T0 + sent + 0.01, "epoch": None if epoch is None else [epoch, epoch]}


def sample(kind, region, t, epoch, role="active"):
    return {"type": "sample", "kind": kind, "region": region, "t": T0 + t, "epoch": epoch,
            "role": role}


def read(value, t, consumer="c0", batch=0, offset=0):
    return {"type": "read", "consumer": consumer, "value": value, "partition": 0,
            "offset": offset, "t": T0 + t, "batch": batch}


def commit(t, batch, ok=True, consumer="c0"):
    return {"type": "commit", "consumer": consumer, "batch": batch, "t": T0 + t, "ok": ok,
            "error": None if ok else "UNKNOWN_MEMBER_ID"}


def clean_history():
    """east active at epoch 1 writes v0..v4; a switchover (epochs 2-4) makes
    west active; west writes v5..v9; every value mirrored; the group reads
    each value once and commits each batch."""
    ev = [{"type": "run", "seed": 1, "topology": "2r-manual", "regions": ["east", "west"],
           "detect_after_s": 0, "checkpoint_interval_ms": 500, "topic": "orders"}]
    for i in range(5):
        ev.append(ack("v%d" % i, "east", 1, 1 + i * 0.1, i))
    ev.append({"type": "op", "n": 1, "op": "switchover", "t": T0 + 3, "end": T0 + 4,
               "args": {"to": "west"}, "result": {"rc": 0, "lag_records": 0, "epoch": 4}})
    for i in range(5, 10):
        ev.append(ack("v%d" % i, "west", 4, 5 + i * 0.1, i))
    for t, e_east, e_west in ((0, 1, 1), (3.5, 3, 3), (4.5, 4, 4), (9, 4, 4)):
        ev.append(sample("broker", "east", t, e_east))
        ev.append(sample("broker", "west", t, e_west))
        ev.append(sample("sidecar", "east", t, e_east))
        ev.append(sample("sidecar", "west", t, e_west))
    for i in range(10):
        ev.append(read("v%d" % i, 2 + i * 0.5, batch=i, offset=i))
        ev.append(commit(2 + i * 0.5 + 0.01, i))
    story = [{"id": 1, "at_ms": 0, "epoch": 1, "operation": "-", "from": "-", "to": "east",
              "lag": 0, "outcome": "initial", "actor": "-"},
             {"id": 2, "at_ms": 0, "epoch": 4, "operation": "switchover", "from": "east",
              "to": "west", "lag": 0, "outcome": "completed", "actor": "cli"}]
    for region in ("east", "west"):
        ev.append({"type": "history", "region": region, "events": copy.deepcopy(story)})
    west = [[0, i, "v%d" % i, "east" if i < 5 else None] for i in range(10)]
    east = [[0, i, "v%d" % i, None if i < 5 else "west"] for i in range(10)]
    ev.append({"type": "final", "active": "west",
               "regions": {"east": {"orders": east, "orders.diverged": []},
                           "west": {"orders": west, "orders.diverged": []}}})
    return ev


def final_of(ev):
    return [e for e in ev if e["type"] == "final"][0]


class CheckerTest(unittest.TestCase):
    def verdict(self, ev):
        return checker.check(ev)

    def assert_fails(self, ev, words):
        result = self.verdict(ev)
        self.assertTrue(result["violations"], "expected a violation mentioning %r" % words)
        self.assertTrue(any(words in v for v in result["violations"]),
                        "no violation mentions %r: %r" % (words, result["violations"]))
        self.assertIn("FAIL", checker.verdict_line(result))
        return result

    def test_clean_history_passes(self):
        result = self.verdict(clean_history())
        self.assertEqual(result["violations"], [])
        self.assertEqual((result["acks"], result["lost"], result["duplicates"],
                          result["split_brain_windows"]), (10, 0, 0, 0))
        self.assertIn("PASS", checker.verdict_line(result))

    def test_two_regions_one_epoch_is_split_brain(self):
        ev = clean_history()
        ev.append(ack("x1", "east", 4, 6.0, 10))   # east writes under west's epoch
        final_of(ev)["regions"]["west"]["orders"].append([0, 10, "x1", "east"])
        final_of(ev)["regions"]["east"]["orders"].append([0, 10, "x1", None])
        ev.append(read("x1", 7.0, batch=20, offset=10))
        ev.append(commit(7.01, 20))
        result = self.assert_fails(ev, "split-brain windows")
        self.assertEqual(result["split_brain_windows"], 1)
        self.assertTrue(any("epoch 4 acknowledged by east" in v for v in result["violations"]))

    def test_older_epoch_writing_after_newer_is_split_brain(self):
        ev = clean_history()
        # east's broker still holds epoch 1 and acknowledges at 7 s, after
        # west acknowledged at epoch 4 from 5.5 s on
        ev.append(ack("late", "east", None, 7.0, 5))
        ev.append(sample("broker", "east", 6.9, 1))
        ev[:] = [e for e in ev if not (e["type"] == "sample" and e["kind"] == "broker"
                                       and e["region"] == "east" and e["t"] > T0 + 3)]
        ev.append(sample("broker", "east", 8, 1))
        final_of(ev)["regions"]["east"]["orders"].append([0, 5, "late", None])
        final_of(ev)["regions"]["west"]["orders"].append([0, 11, "late", "east"])
        ev.append(read("late", 8.5, batch=21, offset=11))
        ev.append(commit(8.51, 21))
        result = self.assert_fails(ev, "at epoch 1")
        self.assertEqual(result["split_brain_windows"], 1)

    def test_lost_ack_is_flagged(self):
        ev = clean_history()
        f = final_of(ev)
        f["regions"]["west"]["orders"] = [r for r in f["regions"]["west"]["orders"]
                                          if r[2] != "v7"]
        result = self.assert_fails(ev, "1 acknowledged records lost, the failovers reported 0")
        self.assertEqual(result["lost"], 1)

    def test_loss_within_the_reported_rpo_passes(self):
        ev = clean_history()
        for e in ev:
            if e["type"] == "op":
                e["op"] = "failover"
                e["result"]["lag_records"] = 1
                e["result"]["last_checkpoint_ms"] = (T0 + 2.9) * 1000
        f = final_of(ev)
        f["regions"]["west"]["orders"] = [r for r in f["regions"]["west"]["orders"]
                                          if r[2] != "v4"]
        result = self.verdict(ev)
        self.assertEqual(result["violations"], [])
        self.assertEqual((result["lost"], result["rpo"]), (1, 1))

    def test_diverged_counts_as_kept(self):
        ev = clean_history()
        f = final_of(ev)
        f["regions"]["west"]["orders"] = [r for r in f["regions"]["west"]["orders"]
                                          if r[2] != "v4"]
        f["regions"]["west"]["orders.diverged"] = [[0, 0, "v4", "east"]]
        self.assertEqual(self.verdict(ev)["violations"], [])

    def test_record_stored_twice_is_flagged(self):
        ev = clean_history()
        final_of(ev)["regions"]["west"]["orders.diverged"] = [[0, 0, "v2", "east"]]
        self.assert_fails(ev, "stored more than once")

    def test_duplicate_after_switchover_is_flagged(self):
        ev = clean_history()
        # v3 first read at 3.5 s in a batch whose commit failed, read again at 4.6 s
        ev = [e for e in ev if not (e["type"] == "commit" and e["batch"] == 3)]
        ev.append(commit(3.51, 3, ok=False))
        ev.append(read("v3", 4.6, consumer="c1", batch=30, offset=3))
        ev.append(commit(4.61, 30, consumer="c1"))
        result = self.assert_fails(ev, "v3 read 2 times")
        self.assertEqual((result["duplicates"], result["duplicates_explained"]), (1, 0))

    def test_duplicate_after_unplanned_failover_is_allowed(self):
        ev = clean_history()
        for e in ev:
            if e["type"] == "op":
                e["op"] = "failover"
                e["result"]["last_checkpoint_ms"] = (T0 + 3.0) * 1000
        ev.append(read("v3", 4.6, consumer="c1", batch=30, offset=3))
        ev.append(commit(4.61, 30, consumer="c1"))
        result = self.verdict(ev)
        self.assertEqual(result["violations"], [])
        self.assertEqual((result["duplicates"], result["duplicates_explained"]), (1, 1))

    def test_a_record_committed_after_the_last_checkpoint_may_come_again(self):
        ev = clean_history()
        for e in ev:
            if e["type"] == "op":
                e["op"] = "failover"
                e["result"]["last_checkpoint_ms"] = (T0 + 4.0) * 1000
        # v0 was read at 2.0 s but its batch committed only at 3.9 s
        ev = [e for e in ev if not (e["type"] == "commit" and e["batch"] == 0)]
        ev.append(commit(3.9, 0))
        ev.append(read("v0", 4.6, consumer="c1", batch=31, offset=0))
        ev.append(commit(4.61, 31, consumer="c1"))
        self.assertEqual(self.verdict(ev)["violations"], [])

    def test_duplicate_read_long_before_the_failover_is_flagged(self):
        ev = clean_history()
        for e in ev:
            if e["type"] == "op":
                e["op"] = "failover"
                e["result"]["last_checkpoint_ms"] = (T0 + 4.0) * 1000
        # v0 was read at 2.0 s and committed, 2 s before the last checkpoint
        ev.append(read("v0", 4.6, consumer="c1", batch=31, offset=0))
        ev.append(commit(4.61, 31, consumer="c1"))
        self.assert_fails(ev, "v0 read 2 times")

    def automatic(self, checkpoint_at, value="v3"):
        ev = clean_history()
        for e in ev:
            if e["type"] == "op":
                e.update(op="promotion", t=T0 + 4, end=T0 + 4,
                         args={"to": "west", "from": "east", "sidecar": "west"})
        ev.append({"type": "sample", "kind": "checkpoint", "region": "west", "t": T0 + 3.9,
                   "flow": "east->west", "last_checkpoint_ms": (T0 + checkpoint_at) * 1000,
                   "epoch": None})
        # v3 was first read at 3.5 s, v0 at 2.0 s
        ev.append(read(value, 4.6, consumer="c1", batch=30, offset=int(value[1:])))
        ev.append(commit(4.61, 30, consumer="c1"))
        return ev

    def test_reread_after_an_automatic_promotion_follows_the_sampled_checkpoint(self):
        result = self.verdict(self.automatic(checkpoint_at=3.2))
        self.assertEqual(result["violations"], [])
        self.assertEqual(result["duplicates_explained"], 1)
        # checkpointed at 3.6 s: a record first read at 2.0 s may not come again
        self.assert_fails(self.automatic(checkpoint_at=3.6, value="v0"), "v0 read 2 times")
        result = self.verdict(self.automatic(checkpoint_at=3.6, value="v3"))
        self.assertEqual(result["violations"], [])

    def test_uncommitted_batch_during_a_crash_is_allowed(self):
        ev = clean_history()
        ev.append({"type": "op", "n": 2, "op": "kill_broker", "t": T0 + 6.4, "end": T0 + 7.5,
                   "args": {"region": "west"}, "result": {}})
        ev = [e for e in ev if not (e["type"] == "commit" and e["batch"] == 8)]
        ev.append(commit(6.2, 8, ok=False))
        ev.append(read("v8", 8.0, consumer="c1", batch=40, offset=8))
        ev.append(commit(8.01, 40, consumer="c1"))
        result = self.verdict(ev)
        self.assertEqual(result["violations"], [])
        self.assertEqual(result["duplicates_explained"], 1)

    def test_skipped_record_is_flagged(self):
        ev = clean_history()
        ev = [e for e in ev if not (e["type"] == "read" and e["value"] == "v6")]
        self.assert_fails(ev, "never read 1 records")

    def test_epoch_going_back_is_flagged(self):
        ev = clean_history()
        ev.append(sample("sidecar", "east", 9.5, 1))
        self.assert_fails(ev, "sidecar east epoch went back from 4 to 1")

    def test_histories_that_disagree_are_flagged(self):
        ev = clean_history()
        for e in ev:
            if e["type"] == "history" and e["region"] == "east":
                e["events"][1]["to"] = "east"
        self.assert_fails(ev, "histories disagree on epoch 4")

    def test_a_process_that_exited_on_its_own_is_flagged(self):
        ev = clean_history()
        ev.append({"type": "crash", "t": T0 + 5, "process": "sidecar", "region": "west",
                   "status": -6})
        self.assert_fails(ev, "the sidecar of west exited on its own (status -6)")

    def test_no_agreed_active_region_is_flagged(self):
        ev = clean_history()
        final_of(ev)["active"] = None
        self.assert_fails(ev, "agree on no active region")

    def test_unlocated_ack_takes_its_region_from_the_final_read(self):
        ev = clean_history()
        for e in ev:
            if e["type"] == "ack":
                e["region"] = None
                e["epoch"] = None
        result = self.verdict(ev)
        self.assertEqual(result["violations"], [])
        self.assertEqual(result["acks_unlocated"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
