"""
test_failover_demotion_fence.py - issue 12, the failed demotion push: a
demotion that cannot be pushed fences instead of leaving the old role
renewed.

Manual mode with `failover.broker_lease: 3s`. East is active. West's broker
is paused with SIGSTOP: from east, the cross-region link to west's brokers
is cut (connections are accepted, nothing answers), which is exactly what
pushing `standby` to east's brokers needs (the redirect list is west's
Metadata). Then `strait failover --force --to west`: east's sidecar stores
epoch 2 (west active) but cannot push `standby`. Before the fix its lease
renewals re-sent the last state the brokers accepted (epoch 1, east active)
and east kept acknowledging writes next to the promoted west. Now:

- east's brokers stop acknowledging writes no later than the brokers' lease
  (read from east's /failover/state, as configured) after the failover
  returned, and for as long as the link stays cut, although `standby` never
  reached them: east's sidecar pushed `fenced` instead, and it no longer
  renews a role its state does not hold (broker_lease_renewing is 0);
- east's sidecar says why (push_error: west does not answer Metadata; the
  brokers are fenced meanwhile);
- once west's broker is back (SIGCONT), east's standby role is pushed and
  both regions agree.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402

LEASE = "3s"


def state(sc):
    code, body = sc.get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % sc.region)
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    east = d.sidecars["east"]
    lease_ms = int(state(east)["broker_lease_ms"])
    check_eq(lease_ms, 3000, "east's brokers' lease (failover.broker_lease: %s)" % LEASE)
    check(failover.produce_only_to(d.east.bootstrap, b"before") is None,
          "east takes writes before the failover")

    os.kill(d.west.pid, signal.SIGSTOP)
    note("west's broker paused (SIGSTOP): east's sidecar cannot list west's brokers")
    try:
        rc, out, err = d.cli("failover", "--force", "--to", "west")
        returned = time.monotonic()
        check(rc in (0, 1), "failover --force is carried out, not refused (exit %d)" % rc)
        check_eq(state(east)["epoch"], "2", "east's sidecar stored epoch 2")

        # the bound: lease_ms after the failover returned (east's sidecar
        # stored epoch 2 before that), with a second for the refusal to show
        remaining = returned + lease_ms / 1000.0 + 1.0 - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        base = failover.local_high_watermarks(d.east.bootstrap)
        refusals = []
        for i in range(3):
            error = failover.produce_only_to(d.east.bootstrap, b"after-%d" % i)
            check(error is not None,
                  "east acknowledged a write %.1f s after the failover (broker lease %d ms) "
                  "while west is active at epoch 2" % (time.monotonic() - returned, lease_ms))
            refusals.append(error)
        note("writes to east after the failover: %s" % refusals)
        check_eq(failover.local_high_watermarks(d.east.bootstrap), base,
                 "east's log ends after refused writes")
        kv = state(east)
        check_eq((kv["epoch"], kv["role"]), ("2", "standby"), "east's stored state")
        check("does not answer Metadata" in kv["push_error"] and
              "fenced meanwhile" in kv["push_error"],
              "east's push_error says why standby was not pushed: %r" % kv["push_error"])
        check_eq(kv["broker_lease_renewing"], "0", "east's sidecar renews no lease any more")
    finally:
        os.kill(d.west.pid, signal.SIGCONT)
    note("west's broker resumed (SIGCONT)")
    d.wait_roles({"east": "standby", "west": "active"}, 60)
    check_eq(state(east)["push_error"], "", "east's push error once west answers")
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run, {"broker_lease": LEASE}))
