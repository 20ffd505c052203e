"""
test_failover_failback.py - issue 6 drill (c): failback after an unplanned
failover recovers the diverged records into <topic>.diverged.

east is active. West's sidecar is stopped (SIGSTOP) for a moment while the
producer writes to east, so east acknowledges records that are never
mirrored; then east's broker and sidecar are killed with SIGKILL and `strait
failover --to west` promotes west. When east comes back it is a standby, and
west's sidecar copies what east accepted but never mirrored into
orders.diverged in west (counted in `strait status`). `strait failback --to
east` waits for that copy, then switches over to east.

Checked: every acknowledged record is in west's orders or orders.diverged,
never in both and never twice; east's broker, restarted before its sidecar
from its stored `active` role, refuses client writes until the sidecar has
made it a standby (no broker lease here: the confirmation rule alone); the diverged copy holds at least the acked
records the failover lost; after the failback east is active, the normal
flow east->west runs again without copying the diverged records into orders,
and new records reach west.
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402


def seqs(values):
    return [int(v.split(b"-")[1]) for v in values]


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    producer = failover.LoadProducer(d.bootstrap_both, rate=300)
    producer.start()
    mirror.wait_for("records mirrored", lambda: sum(failover.local_high_watermarks(
        d.west.bootstrap).values()) > 300, 60)

    west_sidecar = d.sidecars["west"].proc
    west_sidecar.send_signal(signal.SIGSTOP)
    time.sleep(2)  # east acknowledges ~600 records that are not mirrored
    d.sidecars["east"].proc.kill()
    d.east.kill9()
    west_sidecar.send_signal(signal.SIGCONT)
    note("east killed while west's mirror was stopped")

    rc, out, err = d.cli("failover", "--to", "west", "--json")
    check_eq(rc, 0, "failover --to west (%s)" % err.strip())
    d.wait_roles({"west": "active"})
    mirror.wait_for("acks from west", lambda: producer.first_ack_after(time.monotonic() - 0.5)
                    is not None, 60)
    time.sleep(2)
    producer.finish()
    acked = set(producer.acked)
    west_orders = set(seqs(failover.local_values(d.west.bootstrap)))
    lost = acked - west_orders
    note("acked %d, west holds %d, lost by the failover %d" % (len(acked), len(west_orders),
                                                               len(lost)))
    check(len(lost) > 0, "the drill produced diverged records (mirror was stopped)")

    d.east.restart()
    err = failover.produce_only_to(d.east.bootstrap, b"east-returned")
    check(err is not None, "east's broker, back from its stored `active` role before its "
          "sidecar, refuses client writes (no broker lease in this drill)")
    note("a client write to the returned east before its sidecar is back: %s" % err)
    d.sidecars["east"].start()
    d.wait_roles({"east": "standby", "west": "active"}, 30)

    def diverged_complete():
        try:
            got = failover.local_values(d.west.bootstrap, "orders.diverged", timeout_s=5)
        except Exception:  # noqa: BLE001 - the topic may not exist yet
            return False
        return lost <= set(seqs(got))
    mirror.wait_for("the lost records in west's orders.diverged", diverged_complete, 60)
    diverged = seqs(failover.local_values(d.west.bootstrap, "orders.diverged"))
    check_eq(len(diverged), len(set(diverged)), "no record twice in orders.diverged")
    check_eq(set(diverged) & west_orders, set(), "no record both in orders and orders.diverged")
    note("orders.diverged holds %d records (%d of them acked and lost by the failover)"
         % (len(diverged), len(lost)))

    rc, out, err = d.cli("status", "--json")
    doc = json.loads(out)
    west_doc = [r for r in doc["regions"] if r["name"] == "west"][0]
    div = [f for f in west_doc["flows"] if f["diverged"]]
    check(div and div[0]["records_copied"] >= len(lost), "status counts the diverged records: %r"
          % west_doc["flows"])

    rc, out, err = d.cli("failback", "--to", "east", "--timeout", "60s")
    check_eq(rc, 0, "failback --to east (%s)" % err.strip())
    d.wait_roles({"east": "active", "west": "standby"}, 30)

    producer2 = failover.LoadProducer(d.bootstrap_both, rate=200, first_seq=10 ** 6)
    producer2.start()
    time.sleep(3)
    producer2.finish()
    check(not producer2.failed, "producing after the failback: %r" % producer2.failed[:3])
    new = set(producer2.acked)

    def west_has_new():
        return new <= set(v for v in seqs(failover.local_values(d.west.bootstrap)))
    mirror.wait_for("records produced after the failback reach west", west_has_new, 60)
    west_final = seqs(failover.local_values(d.west.bootstrap))
    check_eq(len(west_final), len(set(west_final)), "no duplicates in west's orders")
    check_eq(set(diverged) & (set(west_final) - new), set(),
             "the diverged records were not merged into west's orders by the failback")
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
