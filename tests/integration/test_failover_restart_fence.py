"""
test_failover_restart_fence.py - issue 12, the returning region (manual
mode): a region never takes writes on its stored role alone.

1. The scenario issue 12 confirmed: east active; east's broker and sidecar
   killed; `strait failover --to west`; west's broker killed and its sidecar
   paused with SIGSTOP (west unreachable: its port accepts, nothing answers);
   east's broker and sidecar restarted. East has asked every peer and heard
   from none, so it stays fenced: a client that knows only east's broker gets
   none of its writes acknowledged and east's logs do not grow; /status and
   `strait status` say east is fenced and why. (Before the fix east pushed
   `active` two seconds after its start and took every write, next to west
   at epoch 2.)
2. SIGCONT of west's sidecar: east hears epoch 2 and adopts it (standby).
   While west's brokers are still down its standby role cannot be pushed
   (it needs west's broker list): east's brokers are fenced meanwhile, and
   are made standby once west's broker is back.
3. The operator's way out, `strait unfence`: west's sidecar killed, east's
   (the active region again after `switchover --to east`)
   restarted: fenced; `strait unfence` without its long flag is a usage
   error, refused while a peer answers, and with the flag east takes writes
   and its history records who unfenced it.
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

UNFENCE_FLAG = "--i-know-the-other-regions-are-down"


def state(sc):
    code, body = sc.get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % sc.region)
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def writes_acked(bootstrap, count, tag):
    """How many of count records an ordinary client that knows only
    bootstrap got acknowledged (each given 3 s)."""
    from confluent_kafka import Producer
    acked = []
    p = Producer({"bootstrap.servers": bootstrap, "client.id": "fence-check",
                  "message.timeout.ms": 3000, "enable.idempotence": False, "linger.ms": 0})
    for i in range(count):
        p.produce(failover.TOPIC, value=b"%s-%d" % (tag, i),
                  on_delivery=lambda err, msg: err is None and acked.append(msg.value()))
        p.poll(0)
    p.flush(15)
    return len(acked)


def returning_region(d):
    east, west = d.sidecars["east"], d.sidecars["west"]
    east.proc.kill()
    east.proc.wait()
    d.east.kill9()
    note("east's broker and sidecar killed")
    rc, out, err = d.cli("failover", "--to", "west")
    check_eq(rc, 0, "failover --to west (%s)" % err.strip())
    d.wait_roles({"west": "active"})

    d.west.kill9()
    os.kill(west.proc.pid, signal.SIGSTOP)
    note("west's broker killed, its sidecar paused (SIGSTOP)")
    try:
        d.east.restart()
        east.start()
        # east has asked west (each request times out after 1 s) and pushed
        # what it holds to its brokers; give the old code's 2 s confirmation
        # of the stored role time to happen too
        mirror.wait_for("east pushed its role after asking every peer",
                        lambda: state(east).get("pushed_epoch") == "1", 30)
        time.sleep(3)
        base = failover.local_high_watermarks(d.east.bootstrap)
        acked = writes_acked(d.east.bootstrap, 20, b"east-returned")
        note("writes to the returned east while west is unreachable: %d of 20 acked" % acked)
        check_eq(acked, 0, "writes east acknowledged while it could not know west's epoch 2")
        check_eq(failover.local_high_watermarks(d.east.bootstrap), base,
                 "east's log ends after refused writes")
        kv = state(east)
        check_eq((kv.get("epoch"), kv.get("role"), kv.get("effective_role")),
                 ("1", "active", "fenced"), "east's stored and effective role")
        check("has not heard from 1 peer" in kv.get("fenced_reason", ""),
              "east's fenced_reason says why: %r" % kv.get("fenced_reason"))
        doc = east.status()
        check_eq(doc["failover"]["effective_role"], "fenced", "/status failover.effective_role")
        check("another region may have been promoted" in doc["failover"]["fenced_reason"],
              "/status says why east is fenced: %r" % doc["failover"]["fenced_reason"])
        rc, out, err = d.cli("status", timeout=60)
        check("FENCED (its brokers refuse writes): restarted as active" in out,
              "strait status shows east fenced and why:\n%s" % out)
    finally:
        os.kill(west.proc.pid, signal.SIGCONT)
    note("west's sidecar resumed (SIGCONT)")

    def east_learnt():
        kv = state(east)
        return kv.get("epoch") == "2" and kv.get("role") == "standby"
    mirror.wait_for("east adopts west's epoch 2 and is a standby", east_learnt, 30)
    kv = state(east)
    check_eq(kv.get("fenced_reason"), "", "no restart fence once east adopted epoch 2")
    # west's brokers are down: east cannot learn where to redirect to, so
    # its brokers are fenced at epoch 2 meanwhile (never active)
    mirror.wait_for("east's brokers fenced meanwhile",
                    lambda: "fenced meanwhile" in state(east).get("push_error", ""), 30)
    check_eq(writes_acked(d.east.bootstrap, 5, b"east-standby"), 0,
             "writes east acknowledged as a standby without a redirect target")
    d.west.restart()
    d.wait_roles({"east": "standby", "west": "active"}, 60)


def operator_unfence(d):
    east, west = d.sidecars["east"], d.sidecars["west"]
    rc, out, err = d.cli("switchover", "--to", "east", "--timeout", "60s")
    check_eq(rc, 0, "switchover back to east (%s)" % err.strip())
    d.wait_roles({"east": "active", "west": "standby"}, 60)
    west.proc.kill()
    west.proc.wait()
    east.stop()
    east.start()
    # east's broker kept running: it holds `active` until the restarted
    # sidecar's first push, which waits until every peer was asked once
    mirror.wait_for("east's brokers fenced after its sidecar restarted without west's",
                    lambda: (lambda kv: kv.get("effective_role") == "fenced" and
                             kv.get("pushed_epoch") == kv.get("epoch"))(state(east)), 30)
    epoch = state(east)["epoch"]
    check_eq(writes_acked(d.east.bootstrap, 5, b"east-unconfirmed"), 0,
             "writes to east before anyone confirmed its role")

    rc, out, err = d.cli("unfence", "east")
    check_eq(rc, 2, "unfence without %s is a usage error" % UNFENCE_FLAG)
    check(UNFENCE_FLAG in err and "split brain" in err, "the usage says what it risks: %r" % err)
    rc, out, err = d.cli("unfence", "west", UNFENCE_FLAG)
    check_eq(rc, 3, "unfence of west while east's sidecar answers is refused")
    code, body = east.post("/failover/unfence?region=east")
    check_eq(code, 400, "POST /failover/unfence without risk=")
    code, body = east.post("/failover/unfence?region=west&risk=other-regions-down")
    check_eq(code, 400, "POST /failover/unfence naming another region")

    rc, out, err = d.cli("unfence", "east", UNFENCE_FLAG, "--json")
    check_eq(rc, 0, "unfence east (%s %s)" % (out.strip(), err.strip()))
    check_eq(json.loads(out)["outcome"], "unfenced", "unfence outcome")
    kv = state(east)
    check_eq((kv["epoch"], kv["effective_role"], kv["fenced_reason"]), (epoch, "active", ""),
             "east after unfence")
    check_eq(writes_acked(d.east.bootstrap, 5, b"east-unfenced"), 5,
             "writes east acknowledged once unfenced")
    code, history = east.get("/failover/history")
    check("operation=unfence" in history and "outcome=unfenced" in history,
          "east's history records the unfence:\n%s" % history)
    rc, out, err = d.cli("unfence", "east", UNFENCE_FLAG)
    check_eq(rc, 3, "a second unfence finds nothing to lift")

    west.start()
    d.wait_roles({"east": "active", "west": "standby"}, 60)


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    check_eq(state(d.sidecars["east"]).get("effective_role", "active"), "active",
             "east is not fenced when west answers at its start")
    returning_region(d)
    operator_unfence(d)
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
