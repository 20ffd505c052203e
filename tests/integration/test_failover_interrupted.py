"""
test_failover_interrupted.py - issue 6 "bad input and faults": operations
interrupted half-way and refusals that change nothing.

  - a switchover whose CLI died after fencing (the state is set by hand with
    POST /failover/state, as the CLI would have left it): `strait status`
    shows `switchover:fenced`; `strait switchover --to east` (the old active)
    rolls it back; the same interruption again and `strait switchover --to
    west` completes it;
  - a switchover interrupted while promoting: another target is refused
    (operation in progress), the same command completes it;
  - a switchover whose mirror lag does not drain within --timeout: it
    fails, un-fences the old active (a new epoch) and records `aborted`;
  - a sidecar that does not answer: switchover refused, nothing changed;
  - a sidecar started on a topology that disagrees with its stored state
    refuses to start and says why; a POSTed state naming an unknown region or
    an older epoch is refused with 409.
"""
# strait-test: asan
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402


def post(sc, query):
    return sc.post("/failover/state?%s" % query)


def state(d, region):
    code, body = d.sidecars[region].get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % region)
    return dict(l.split("=", 1) for l in body.splitlines() if "=" in l)


def interrupt(d, epoch, step, active, fenced="", promoting=""):
    """What the CLI leaves behind when it dies after one step."""
    q = ("epoch=%d&active=%s&fenced=%s&promoting=%s&operation=switchover&target=west"
         "&previous=east&step=%s&actor=test" % (epoch, active, fenced, promoting, step))
    for region in ("east", "west"):
        code, body = post(d.sidecars[region], q)
        check_eq(code, 200, "interrupted state on %s: %s" % (region, body))
    d.wait_roles({"east": "fenced" if fenced else "standby",
                  "west": "promoting" if promoting else "standby"})


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})

    # bad POSTs change nothing
    code, body = post(d.sidecars["east"], "epoch=2&active=north")
    check_eq(code, 409, "unknown region refused: %s" % body)
    check("not a region" in body, "the refusal names the region: %r" % body)
    code, body = post(d.sidecars["east"], "epoch=0&active=east")
    check(code in (400, 409), "epoch 0 refused (%d): %s" % (code, body))
    check_eq(state(d, "east")["epoch"], "1", "east's epoch after the refusals")

    # interrupted after fencing: status explains, the old active rolls back
    interrupt(d, 2, "fenced", "east", fenced="east")
    rc, out, err = d.cli("status")
    check("switchover:fenced" in out, "status shows the operation in progress: %r" % out)
    rc, out, err = d.cli("switchover", "--to", "east")
    check_eq(rc, 0, "rollback of the interrupted switchover (%s)" % err.strip())
    check("rolled back" in out, "rollback message: %r" % out)
    d.wait_roles({"east": "active", "west": "standby"})
    check_eq(state(d, "west")["operation"], "", "no operation after the rollback")

    # interrupted after fencing again: the same command completes it
    interrupt(d, 4, "fenced", "east", fenced="east")
    rc, out, err = d.cli("switchover", "--to", "west")
    check_eq(rc, 0, "the interrupted switchover completes (%s)" % err.strip())
    d.wait_roles({"east": "standby", "west": "active"})

    # interrupted while promoting east: another target refused, completion works
    epoch = int(state(d, "west")["epoch"])
    q = ("epoch=%d&active=east&promoting=east&operation=switchover&target=east&previous=west"
         "&step=promoting&actor=test" % (epoch + 1))
    for region in ("east", "west"):
        code, body = post(d.sidecars[region], q)
        check_eq(code, 200, "promoting state on %s: %s" % (region, body))
    rc, out, err = d.cli("switchover", "--to", "west")
    check_eq(rc, 3, "another switchover while one is in progress is refused")
    check("in progress" in err, "the refusal says why: %r" % err)
    check_eq(int(state(d, "east")["epoch"]), epoch + 1, "nothing changed by the refusal")
    rc, out, err = d.cli("switchover", "--to", "east")
    check_eq(rc, 0, "the promoting switchover completes (%s)" % err.strip())
    d.wait_roles({"east": "active", "west": "standby"})

    # lag that does not drain within --timeout: abort and un-fence
    # a backlog the mirror cannot copy in 100 ms: 200,000 records written
    # while west's sidecar is stopped (~0.5 s of copying at the best rate
    # measured, docs/benchmarks.md)
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": d.east.bootstrap, "linger.ms": 20, "acks": 1,
                  "compression.type": "none", "queue.buffering.max.messages": 400000})
    payload = b"x" * 512
    d.sidecars["west"].proc.send_signal(signal.SIGSTOP)
    try:
        for i in range(200000):
            p.produce("orders", value=payload, key=b"%d" % i)
            if i % 1000 == 0:
                p.poll(0)
        check_eq(p.flush(60), 0, "burst written to east")
    finally:
        d.sidecars["west"].proc.send_signal(signal.SIGCONT)
    epoch = int(state(d, "east")["epoch"])
    rc, out, err = d.cli("switchover", "--to", "west", "--timeout", "100ms")
    check_eq(rc, 1, "switchover whose lag does not drain in 100 ms fails")
    check("did not drain" in err and "un-fencing" in out, "it says so: %r %r" % (out, err))
    d.wait_roles({"east": "active", "west": "standby"})
    check_eq(int(state(d, "east")["epoch"]), epoch + 2, "fenced, then un-fenced: two epochs")
    code, history = d.sidecars["east"].get("/failover/history")
    check("outcome=aborted" in history, "the history records the abort: %r" % history[-400:])

    # numbers in the routes are parsed strictly: trailing garbage is refused
    # by name and changes nothing (atoi/sscanf took "5x" as 5 and "12abc" as 12)
    for bad_limit in ("5x", "0", "-1", "99999999999"):
        code, body = d.sidecars["east"].get("/failover/history?limit=" + bad_limit)
        check_eq(code, 400, "history limit=%s is refused" % bad_limit)
        check("limit" in body, "the refusal names the limit: %r" % body)
    epoch = int(state(d, "east")["epoch"])
    code, body = d.sidecars["east"].post("/failover/state?epoch=%d&active=west&lag=12abc"
                                         % (epoch + 1))
    check_eq(code, 400, "a state whose lag is not a number is refused")
    check("lag" in body, "the refusal names lag: %r" % body)
    check_eq(int(state(d, "east")["epoch"]), epoch, "the refused state changed nothing")

    # a sidecar that does not answer: refused, nothing changed
    epoch = int(state(d, "east")["epoch"])
    d.sidecars["west"].stop()
    rc, out, err = d.cli("switchover", "--to", "west")
    check_eq(rc, 3, "switchover with west's sidecar down is refused")
    check("unreachable" in err, "the refusal names the sidecar: %r" % err)
    check_eq(int(state(d, "east")["epoch"]), epoch, "east's epoch unchanged")

    # a topology that disagrees with the stored state: the sidecar refuses to start
    bad = t.path("renamed.yaml")
    with open(d.topology) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace("east", "north"))
    r = subprocess.run([strait_bin(), "sidecar", "--topology", bad, "--region", "west"],
                       capture_output=True, text=True, timeout=60)
    note("sidecar on a renamed topology: exit %d: %s" % (r.returncode, r.stderr.strip()))
    check(r.returncode != 0, "a sidecar whose stored state names an unknown region does not start")
    check("disagrees" in r.stderr and "east" in r.stderr, "it says why: %r" % r.stderr)
    d.sidecars["east"].stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
