"""
test_failover_lease_wait.py - issue 12, nemesis finding N1 (the way back):
when nothing of the old active region answers, `strait failover` waits out
the brokers' lease before the new region takes writes, and a sidecar that
was stopped meanwhile does not renew its old role when it resumes.

Manual mode, `failover.broker_lease: 6s` (the manual-mode default, given
explicitly so that the build before the fix, which had a lease only when
given one, shows the behaviour rather than the missing default).

1. East active. East's sidecar AND east's broker paused (SIGSTOP): the CLI
   can neither demote east through its sidecar nor fence its brokers.
2. `strait failover --to west` succeeds, and says it waited for east's
   brokers' lease to run out and what that added to the RTO (before the
   fix it promoted west at once: east's brokers had no lease in manual
   mode and took writes again as soon as they resumed).
3. West's sidecar paused (east cannot learn epoch 2 from it), then east's
   broker and east's sidecar resumed (the issue's returning region, with a
   stopped process instead of a restart, as in nemesis 2r-manual seed 1):
   east's brokers refuse writes from a client that knows only them, and
   keep refusing: east's sidecar does not renew `active` at epoch 1, it is
   fenced until a peer answers (its /failover/state says why).
4. West's sidecar resumed: east adopts epoch 2 and becomes a standby.
"""
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


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    east, west = d.sidecars["east"], d.sidecars["west"]
    check_eq(int(state(east)["broker_lease_ms"]), 6000, "east's brokers' lease")
    check(failover.produce_only_to(d.east.bootstrap, b"before") is None,
          "east takes writes before the failover")

    os.kill(east.proc.pid, signal.SIGSTOP)
    os.kill(d.east.pid, signal.SIGSTOP)
    note("east's sidecar and broker paused (SIGSTOP)")
    west_paused = False
    try:
        rc, out, err = d.cli("failover", "--to", "west")
        check_eq(rc, 0, "failover --to west with nothing of east answering")
        check_eq((state(west)["epoch"], state(west)["role"]), ("2", "active"), "west")

        os.kill(west.proc.pid, signal.SIGSTOP)
        west_paused = True
        note("west's sidecar paused: east cannot hear of epoch 2")
        os.kill(d.east.pid, signal.SIGCONT)
        os.kill(east.proc.pid, signal.SIGCONT)
        note("east's broker and sidecar resumed")
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            error = failover.produce_only_to(d.east.bootstrap, b"resumed", timeout_s=1.0)
            check(error is not None, "east acknowledged a write at epoch 1 after it resumed "
                  "while west is active at epoch 2")
        kv = state(east)
        check_eq((kv["epoch"], kv["role"], kv.get("effective_role")), ("1", "active", "fenced"),
                 "east's sidecar: stored role, and what its brokers are told")
        check("lease" in kv.get("fenced_reason", ""),
              "east says why it is fenced: %r" % kv.get("fenced_reason"))
        check("waiting" in out and "for its brokers' lease" in out and "to the RTO" in out,
              "the CLI waited out east's brokers' lease and said what it cost: %r" % out)
        check("waited out the brokers' lease" in out, "the result says how east was "
              "demoted: %r" % out)
    finally:
        os.kill(d.east.pid, signal.SIGCONT)
        os.kill(east.proc.pid, signal.SIGCONT)
        if west_paused:
            os.kill(west.proc.pid, signal.SIGCONT)
    note("west's sidecar resumed")
    d.wait_roles({"east": "standby", "west": "active"}, 60)
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run, {"broker_lease": "6s"}))
