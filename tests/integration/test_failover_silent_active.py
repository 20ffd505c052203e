"""
test_failover_silent_active.py - issue 12, nemesis findings N1 and N3:
`strait failover` never lets two regions take writes at once.

Manual mode, the default broker lease (failover.broker_lease not set).

A. N1: east active; east's sidecar paused (SIGSTOP), east's broker alive.
   `strait failover --to west`: the CLI cannot demote east through its
   sidecar, so it fences east's brokers at epoch 2 itself before west is
   pushed active. Right after the command returns an ordinary client that
   knows only east's broker gets no write acknowledged (before the fix east
   took writes until its sidecar came back), and the CLI said what it did.
   East's sidecar resumed: it adopts epoch 2 (standby), and its brokers never
   accepted its epoch-1 `active` again (its renewals are refused).
B. N3: west active, east standby, both reachable; `strait failover --force
   --to east`: east's sidecar logs west's demotion (west's brokers accepted
   standby at epoch 3) before east's brokers are pushed active (before the
   fix east was pushed first, and both took writes for ~100 ms).
"""
import datetime
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402


def state(sc):
    code, body = sc.get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % sc.region)
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def pushed_at(sc, role, epoch):
    """Wall time of the sidecar's log line saying it pushed role at epoch."""
    needle = "roles pushed region=%s role=%s epoch=%d " % (sc.region, role, epoch)
    with open(sc.log_path, errors="replace") as f:
        for line in f:
            if needle in line:
                stamp = line.split(" ", 1)[0].rstrip("Z")
                return datetime.datetime.fromisoformat(stamp)
    return None


def pushes(sc, role, epoch):
    needle = "roles pushed region=%s role=%s epoch=%d " % (sc.region, role, epoch)
    with open(sc.log_path, errors="replace") as f:
        return sum(1 for line in f if needle in line)


def silent_active(d):
    east, west = d.sidecars["east"], d.sidecars["west"]
    lease_ms = int(state(east)["broker_lease_ms"])
    check(lease_ms > 0, "manual mode has a broker lease by default (%d ms)" % lease_ms)
    check(failover.produce_only_to(d.east.bootstrap, b"before") is None,
          "east takes writes before the failover")
    os.kill(east.proc.pid, signal.SIGSTOP)
    note("east's sidecar paused (SIGSTOP); east's broker runs")
    try:
        rc, out, err = d.cli("failover", "--to", "west")
        check_eq(rc, 0, "failover --to west with east's sidecar silent")
        check("fenced by this CLI at epoch 2" in out,
              "the CLI says it fenced east's brokers itself: %r" % out)
        base = failover.local_high_watermarks(d.east.bootstrap)
        for i in range(3):
            error = failover.produce_only_to(d.east.bootstrap, b"after-%d" % i)
            check(error is not None, "east acknowledged a write after west was promoted at "
                  "epoch 2 while east's sidecar was paused")
        check_eq(failover.local_high_watermarks(d.east.bootstrap), base,
                 "east's log after refused writes")
        check_eq((state(west)["epoch"], state(west)["role"]), ("2", "active"), "west")
    finally:
        os.kill(east.proc.pid, signal.SIGCONT)
    note("east's sidecar resumed")
    d.wait_roles({"east": "standby", "west": "active"}, 60)
    # east's sidecar never got its epoch-1 `active` accepted again (a
    # standby redirects clients to west, so an ack no longer tells regions
    # apart: its log does)
    check_eq(pushes(east, "active", 1), 1, "east's pushes of active at epoch 1 (the first only)")


def forced_order(d):
    east, west = d.sidecars["east"], d.sidecars["west"]
    rc, out, err = d.cli("failover", "--force", "--to", "east")
    check_eq(rc, 0, "failover --force --to east with west reachable")
    check("west demoted first" in out, "the CLI demotes west first: %r" % out)
    d.wait_roles({"east": "active", "west": "standby"}, 30)
    demoted = pushed_at(west, "standby", 3)
    promoted = pushed_at(east, "active", 3)
    note("west pushed standby at %s, east pushed active at %s" % (demoted, promoted))
    check(demoted is not None and promoted is not None, "both pushes logged")
    check(demoted <= promoted, "west's brokers accepted standby (%s) before east's were pushed "
          "active (%s)" % (demoted, promoted))


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    silent_active(d)
    forced_order(d)
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
