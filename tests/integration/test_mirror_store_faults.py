"""
test_mirror_store_faults.py - issue 4 item 8, "SQLite busy/corrupt -> clear
error and stop rather than translate wrongly", through the real sidecar:

  (b) busy: while the west sidecar mirrors east->west, another process holds
      an EXCLUSIVE lock on the sidecar's SQLite file for longer than the busy
      timeout (5 s). The flow stops copying and /status shows it failed with
      a checkpoint-store error; /offsets/translate answers an error, not an
      offset. When the lock goes away the flow re-resumes from the target
      tail on its own: running again, error cleared, translations answered,
      every east record in west exactly once.
  (a) corrupt: with the sidecar stopped, pages in the middle of its SQLite
      file are overwritten; the sidecar refuses to start, exits non-zero and
      names the file.
"""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import mirror  # noqa: E402
from mirror_faults import (BackgroundProducer, check_exactly_once, wait_mirrored,  # noqa: E402
                           wait_records, wait_status)
from sidecar import PARTITIONS, Sidecar, commit_group, write_topology  # noqa: E402

BUSY_TIMEOUT_S = 5  # CHECKPOINT_BUSY_TIMEOUT_MS in checkpoints/checkpoint_store.c


def translate(sc):
    return sc.get("/offsets/translate?group=billing&from=east")


def main(t):
    east = t.broker(name="east", overrides={"node.id": "1"})
    west = t.broker(name="west", overrides={"node.id": "101"})
    mirror.create_topic(east.bootstrap, "orders", PARTITIONS)
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    store = t.path("state/west.sqlite")
    sc = Sidecar(t, topology, "west", ports[1])
    try:
        sc.start()
        busy(east, west, sc, store)
        sc.stop()
        check_map_has_no_hole(store)
        corrupt(t, topology, store)
    except BaseException:
        if sc.proc is not None:
            sc.dump_log(100)
        raise


def busy(east, west, sc, store):
    producer = BackgroundProducer(east.bootstrap, "orders", PARTITIONS, 24000, 2000, "s")
    producer.start()
    wait_records(west, "orders", 2000)
    commit_group(east.bootstrap, "billing", {0: 100, 1: 100, 2: 100})
    wait_status(sc, "group billing checkpointed", lambda f: translate(sc)[0] == 200 and
                len(json.loads(translate(sc)[1])["offsets"]) == PARTITIONS, 20)

    locker = sqlite3.connect(store, timeout=10, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    locked_ms = int(time.time() * 1000)
    note("another connection holds an EXCLUSIVE lock on %s" % store)
    f = wait_status(sc, "flow failed on the store while the lock is held",
                    lambda f: f["state"] == "failed" and "checkpoint store" in f["last_error"] and
                    f["last_error_ms"] >= locked_ms, 3 * BUSY_TIMEOUT_S + 5)
    note("store busy: state=%s error=%r" % (f["state"], f["last_error"]))
    code, body = translate(sc)
    note("translate while the map is behind: %d %s" % (code, body.strip()))
    check(code >= 400 and "error" in json.loads(body), "translate answered %d %s" % (code, body))
    held = sum(mirror.high_watermarks(west.bootstrap, "orders").values())
    time.sleep(2)
    after = sum(mirror.high_watermarks(west.bootstrap, "orders").values())
    check(after - held < 200 * PARTITIONS,
          "the flow kept copying with the store locked (%d -> %d)" % (held, after))
    locker.execute("ROLLBACK")
    locker.close()
    note("lock released")
    f = wait_status(sc, "flow running again", lambda f: f["state"] == "running" and
                    f["last_error"] == "", 3 * BUSY_TIMEOUT_S + 10)
    producer.finish()
    wait_mirrored(east, west, "orders", 60)
    total, dst = check_exactly_once(east, west, "orders")
    wait_status(sc, "translate answered again", lambda f: translate(sc)[0] == 200, 20)
    code, body = translate(sc)
    offsets = {o["partition"]: o for o in json.loads(body)["offsets"]}
    for p in range(PARTITIONS):
        expected = [r[0] for r in dst[p] if mirror.split_provenance(r[3])[1][2] == 100]
        check_eq([offsets[p]["source_offset"], offsets[p]["target_offset"]], [100] + expected,
                 "translation of billing orders[%d] after the recovery" % p)
    note("store busy: recovered; %d records exactly once, translations exact" % total)


def check_map_has_no_hole(store):
    """Source and target offsets are contiguous here, so a map without a hole
    is one range per partition starting at 0 (pairs delivered while the store
    was locked were re-read from the target, not skipped)."""
    db = sqlite3.connect("file:%s?mode=ro" % store, uri=True)
    rows = db.execute("SELECT p.partition, r.source_start, r.target_start, r.length FROM map_ranges r "
                      "JOIN map_partitions p USING (partition_id) WHERE p.flow = 'east->west' "
                      "ORDER BY p.partition, r.source_start").fetchall()
    db.close()
    check_eq([(p, s, t) for p, s, t, _ in rows], [(p, 0, 0) for p in range(PARTITIONS)],
             "offset map ranges (partition, source start, target start)")


def corrupt(t, topology, store):
    size = os.path.getsize(store)
    page = 4096
    pages = size // page
    check(pages >= 4, "store has only %d pages" % pages)
    with open(store, "r+b") as f:
        for n in range(1, pages - 1):  # everything but the header page and the last one
            f.seek(n * page)
            f.write(bytes((i * 37 + n) & 0xFF for i in range(page)))
    note("overwrote pages 1..%d of %d of %s" % (pages - 2, pages, store))
    started = time.monotonic()
    r = subprocess.run([strait_bin(), "sidecar", "--topology", topology, "--region", "west"],
                       capture_output=True, text=True, timeout=30)
    note("sidecar on a damaged store: exit %d after %.2f s, stderr %r" % (
        r.returncode, time.monotonic() - started, r.stderr.strip().splitlines()[-1:]))
    check(r.returncode != 0, "the sidecar started on a damaged store")
    last = r.stderr.strip().splitlines()[-1]
    check(store in last and "corrupt" in last,
          "the sidecar's last words do not name the damaged file: %r" % last)


run_test(main)
