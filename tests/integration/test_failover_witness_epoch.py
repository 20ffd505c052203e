"""
test_failover_witness_epoch.py - issue 12, nemesis finding N2: in automatic
mode an operator's `strait failover` creates an epoch the witness must know,
or the witness keeps giving the old active's heartbeats a majority.

Two regions and a witness on loopback, `failover.mode: automatic`,
detect_after 3s (the brokers' lease 500 ms).

1. East active. East's sidecar paused (SIGSTOP), its broker alive (so west
   does not promote itself). `strait failover --to west`: the CLI tells the
   witness epoch 2 first (its /witness/state shows epoch_seen=2), fences
   east's broker, then promotes west.
2. West's sidecar paused right away (the only holder of epoch 2, before it
   could announce it), east's sidecar resumed: east's heartbeats at epoch 1
   reach the witness, which knows epoch 2, so it does not count towards
   east's majority: east's lease stays expired (before the fix the witness,
   unaware of epoch 2, gave east 2 of 3 votes; east confirmed `active` and
   took writes next to west: 15.6 s in nemesis 2r-auto seed 1, where the
   CLI did not fence east's broker either), and east's broker refuses
   writes.
3. West's sidecar resumed: east adopts epoch 2 and becomes a standby.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import _die_with_parent, check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import http_call  # noqa: E402


def state(sc):
    code, body = sc.get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % sc.region)
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def witness_state(d, address):
    code, text = http_call("http://%s/witness/state" % address, d.topology)
    check_eq(code, 200, "GET /witness/state")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def automatic(d, witness_address):
    """Turns the drill's topology into automatic mode with a witness."""
    with open(d.topology) as f:
        text = f.read()
    text = text.replace("  mode: manual\n", "  mode: automatic\n  detect_after: 3s\n"
                        "  witness: %s\n" % witness_address)
    with open(d.topology, "w") as f:
        f.write(text)


def run(t, d):
    address = "127.0.0.1:%d" % free_port()
    automatic(d, address)
    log = open(t.path("witness.log"), "ab")
    witness = subprocess.Popen([strait_bin(), "witness", "--listen", address, "--topology",
                                d.topology, "--state-dir", t.path("witness-state")],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               preexec_fn=_die_with_parent)
    try:
        scenario(t, d, address)
    finally:
        witness.terminate()
        witness.wait(10)
        log.close()


def healthy(address):
    try:
        return http_call("http://%s/healthz" % address, timeout=2)[0] == 200
    except OSError:
        return False


def scenario(t, d, address):
    mirror.wait_for("witness /healthz", lambda: healthy(address), 20, 0.1)
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"}, 60)
    east, west = d.sidecars["east"], d.sidecars["west"]
    mirror.wait_for("east takes writes",
                    lambda: failover.produce_only_to(d.east.bootstrap, b"before") is None, 30)
    check_eq(witness_state(d, address)["epoch_seen"], "1", "the witness's epoch before")

    os.kill(east.proc.pid, signal.SIGSTOP)
    note("east's sidecar paused (SIGSTOP); its broker answers, so west does not promote "
         "itself")
    west_paused = False
    try:
        rc, out, err = d.cli("failover", "--to", "west")
        check_eq(rc, 0, "failover --to west with east's sidecar silent")
        os.kill(west.proc.pid, signal.SIGSTOP)
        west_paused = True
        note("west's sidecar paused")
        check_eq(witness_state(d, address)["epoch_seen"], "2",
                 "the witness knows the operator's epoch 2")
        check("the witness knows epoch 2" in out, "the CLI told the witness: %r" % out)
        os.kill(east.proc.pid, signal.SIGCONT)
        note("east's sidecar resumed")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            kv = state(east)
            check_eq((kv["epoch"], kv["lease"]), ("1", "expired"),
                     "east's sidecar at epoch 1 while west (epoch 2) is paused: its lease (the "
                     "witness must not count towards its majority)")
            error = failover.produce_only_to(d.east.bootstrap, b"resumed", timeout_s=1.0)
            check(error is not None, "east acknowledged a write at epoch 1 while west is "
                  "active at epoch 2")
    finally:
        os.kill(east.proc.pid, signal.SIGCONT)
        if west_paused:
            os.kill(west.proc.pid, signal.SIGCONT)
    note("west's sidecar resumed")
    d.wait_roles({"east": "standby", "west": "active"}, 60)
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run))
