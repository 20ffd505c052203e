"""
test_control_plane.py - issue 11's attacks on the control plane, each a
failing attempt against real processes (two single-node regions, their
sidecars in manual failover mode, and a `strait witness`), with nothing
configured: authentication is on by default.

1. An unauthenticated `POST /failover/state?epoch=2147483647&active=west` to
   either sidecar: 401, a log line naming the peer, the route and the reason,
   and nothing changes on any sidecar (epoch, active region, history) or
   broker (the roles they accepted; east still takes writes), also after the
   peers have polled each other.
2. The same with a wrong token, a token of the right length, and another
   auth scheme: 401 "wrong token" / "not a Bearer token".
3. A huge epoch even with the right token (2^63-1, 2^31): 400 naming the
   epoch; nothing changes.
4. Heartbeats and votes without credentials: 401; with the token and a
   huge epoch: 400.
5. Every other route (history, flows, drain, checkpoint, translate) needs
   credentials; /status, /metrics and /healthz stay open.
6. The witness: /witness/state (a heartbeat) and /witness/vote without
   credentials: 401; with the token and a huge epoch: 400; /healthz open.
7. The CLI (the token generated in the sidecars' state directory, mode 0600)
   works with no configuration; with the token file removed it says why.
8. `control_plane.open_reads: false` closes /healthz, /status, /metrics too;
   only an explicit `control_plane.insecure: true` opens the routes, with a
   warning at start (and no token generated).
"""
# strait-test: asan
import os
import re
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import _die_with_parent, check, check_eq, free_port, note, run_test, strait_bin  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402
from sidecar import Sidecar, control_token, http_call  # noqa: E402

HUGE = "9223372036854775807"


def kv(text):
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


def snapshot(d):
    """(epoch, active, history length) of every sidecar, read with the token."""
    out = {}
    for region, sc in d.sidecars.items():
        code, body = sc.get("/failover/state")
        check_eq(code, 200, "/failover/state of %s with the token" % region)
        code, history = sc.get("/failover/history")
        check_eq(code, 200, "/failover/history of %s with the token" % region)
        state = kv(body)
        out[region] = (state["epoch"], state["active"], len(history.splitlines()))
    return out


def url(sc, path):
    return "http://127.0.0.1:%d%s" % (sc.port, path)


def refused(sc, path, post, headers, reason, what):
    code, body = http_call(url(sc, path), post=post, headers=headers)
    check_eq(code, 401, "%s: status" % what)
    check_eq(body, "error=unauthorized: %s\n" % reason, "%s: answer" % what)


def attacks_on_sidecars(d, token):
    before = snapshot(d)
    note("before the attacks: %s" % before)
    bogus = "x" * len(token)
    for region, sc in d.sidecars.items():
        what = "unauthenticated POST /failover/state to %s" % region
        refused(sc, "/failover/state?epoch=2147483647&active=west&actor=mallory", True, {},
                "no credentials", what)
        for header, reason in (("Bearer wrong", "wrong token"), ("Bearer " + bogus, "wrong token"),
                               ("Bearer " + token[:-1], "wrong token"),
                               ("Basic " + token, "not a Bearer token")):
            refused(sc, "/failover/state?epoch=2147483647&active=west", True,
                    {"Authorization": header}, reason, "POST /failover/state to %s with %r"
                    % (region, header[:12]))
        # a huge epoch even with the right token: refused by name
        for epoch in (HUGE, "2147483648", "0", "12abc"):
            code, body = sc.post("/failover/state?epoch=%s&active=west" % epoch)
            check_eq(code, 400, "POST /failover/state epoch=%s to %s with the token" % (epoch, region))
            check(body.startswith("error=bad parameter epoch: expected an integer between 1 and "
                                  "2147483647"), "the refusal names the epoch: %r" % body)
        # heartbeats and votes
        refused(sc, "/failover/heartbeat?from=west&epoch=2147483647", False, {},
                "no credentials", "unauthenticated heartbeat to %s" % region)
        refused(sc, "/failover/vote?candidate=west&epoch=2147483647&suspect=east", True, {},
                "no credentials", "unauthenticated vote request to %s" % region)
        code, body = sc.get("/failover/heartbeat?from=west&epoch=" + HUGE)
        check_eq(code, 400, "heartbeat with a huge epoch and the token")
        check("epoch: expected an integer between 1 and 2147483647" in body, "heartbeat refusal %r" % body)
        code, body = sc.post("/failover/vote?candidate=west&epoch=%s&suspect=east" % HUGE)
        check_eq(code, 400, "vote with a huge epoch and the token")
        check("epoch: expected an integer between 1 and 2147483647" in body, "vote refusal %r" % body)
        # every other route needs credentials; the reads stay open
        for path, post in (("/failover/state", False), ("/failover/history", False),
                           ("/failover/flows", False), ("/failover/drain?from=east", False),
                           ("/failover/checkpoint?from=east", True),
                           ("/offsets/translate?group=g&from=east", False), ("/nothing", False)):
            refused(sc, path, post, {}, "no credentials", "%s %s on %s" % (
                "POST" if post else "GET", path, region))
        for path in ("/status", "/metrics", "/healthz"):
            check_eq(http_call(url(sc, path))[0], 200, "GET %s on %s without credentials" % (path, region))
    time.sleep(3)  # three rounds of peer polling: a stored state would have spread
    check_eq(snapshot(d), before, "every sidecar's state and history after the attacks")
    check(failover.produce_only_to(d.east.bootstrap, b"after-attacks") is None,
          "east (active) still takes writes")
    d.wait_roles({"east": "active", "west": "standby"}, 5)  # and the brokers hold epoch 1
    for region, sc in d.sidecars.items():
        with open(sc.log_path, errors="replace") as f:
            log = f.read()
        check(re.search(r"WARN audit: control-plane request refused principal=- "
                        r"peer=127\.0\.0\.1:\d+ service=sidecar method=POST "
                        r"route=/failover/state outcome=401 reason=no credentials", log),
              "%s logs the refusal with the peer, the route and the reason" % region)
        check("wrong token" in log and "method=GET route=/failover/heartbeat outcome=401" in log,
              "%s logs the wrong token and the heartbeat" % region)
        # refused by the route, with the token: the caller's credential and the reason
        check(re.search(r"WARN audit: control-plane request principal=token "
                        r"peer=127\.0\.0\.1:\d+ service=sidecar method=POST "
                        r"route=/failover/state outcome=400 result=error=bad parameter epoch", log),
              "%s logs the refused epoch with the caller's credential" % region)
        check(token not in log, "%s never logs the token" % region)


def witness_attacks(t, d, token):
    """A witness on the same working directory's state: it reads the token
    the sidecars generated."""
    topology = t.path("witness-topology.yaml")
    with open(d.topology) as f:
        text = f.read().replace("mode: manual", "mode: automatic\n  detect_after: 3s")
    port = free_port()
    with open(topology, "w") as f:
        f.write(text.replace("  active: east", "  active: east\n  witness: 127.0.0.1:%d" % port))
    log_path = t.path("witness.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([strait_bin(), "witness", "--listen", "127.0.0.1:%d" % port,
                                 "--topology", topology, "--state-dir", t.path("witness-state")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)
    base = "http://127.0.0.1:%d" % port
    try:
        def healthy():
            check(proc.poll() is None, "the witness exited with %s" % proc.poll())
            try:
                return http_call(base + "/healthz")[0] == 200
            except OSError:
                return False
        mirror.wait_for("witness /healthz", healthy, 20, 0.1)
        auth = {"Authorization": "Bearer " + token}
        for path, post in (("/witness/state?from=east&epoch=2147483647", False),
                           ("/witness/state", False),
                           ("/witness/vote?candidate=west&epoch=2147483647&suspect=east", True)):
            code, body = http_call(base + path, post=post)
            check_eq((code, body), (401, "error=unauthorized: no credentials\n"),
                     "witness %s without credentials" % path)
            code, body = http_call(base + path, post=post,
                                   headers={"Authorization": "Bearer " + "y" * len(token)})
            check_eq(code, 401, "witness %s with a wrong token" % path)
        for path, post in (("/witness/state?from=east&epoch=" + HUGE, False),
                           ("/witness/vote?candidate=west&epoch=%s&suspect=east" % HUGE, True)):
            code, body = http_call(base + path, post=post, headers=auth)
            check_eq(code, 400, "witness %s with the token" % path)
            check("epoch: expected an integer between 1 and 2147483647" in body,
                  "witness refusal names the epoch: %r" % body)
        code, body = http_call(base + "/witness/state?from=east&epoch=3", headers=auth)
        check_eq(code, 200, "a heartbeat with the token")
        check_eq(kv(body)["epoch_seen"], "3", "the witness saw epoch 3, not a huge one")
    except BaseException:
        proc.kill()
        proc.wait()
        with open(log_path, errors="replace") as f:
            print("----- witness log -----\n" + f.read()[-3000:], flush=True)
        raise
    proc.terminate()
    check_eq(proc.wait(15), 0, "witness exit status after SIGTERM")
    with open(log_path, errors="replace") as f:
        log = f.read()
    check(re.search(r"WARN audit: control-plane request refused principal=- "
                    r"peer=127\.0\.0\.1:\d+ service=witness method=POST route=/witness/vote "
                    r"outcome=401 reason=no credentials", log),
          "the witness logs refusals:\n" + log[-2000:])
    check(re.search(r"WARN audit: control-plane request principal=token peer=127\.0\.0\.1:\d+ "
                    r"service=witness method=POST route=/witness/vote outcome=400 result=granted=0",
                    log), "the witness logs the refused vote with the caller's credential")


def cli_finds_the_token(d):
    rc, out, err = d.cli("status")
    check_eq(rc, 0, "strait status with the generated token (%s)" % err.strip())
    token_file = os.path.join(d.t.path("state"), "control-plane.token")
    mode = stat.S_IMODE(os.stat(token_file).st_mode)
    check_eq(mode, 0o600, "the generated token's mode")
    moved = token_file + ".moved"
    os.rename(token_file, moved)
    try:
        rc, out, err = d.cli("switchover", "--to", "west")
        check(rc != 0, "switchover without a token fails")
        check("refused this CLI's credentials (HTTP 401: unauthorized: no credentials)" in err
              and "control-plane token" in err and "No such file" in err,
              "the CLI says why: %r" % err)
    finally:
        os.rename(moved, token_file)


def lone_sidecar(t, d, name, control_plane):
    """west's sidecar alone (no failover section) under control_plane."""
    port = free_port()
    topology = t.path("%s-topology.yaml" % name)
    with open(topology, "w") as f:
        f.write("regions:\n"
                "  east: {bootstrap: %s, sidecar: 127.0.0.1:%d}\n"
                "  west: {bootstrap: %s, sidecar: 127.0.0.1:%d}\n"
                "flows:\n  - {source: east, target: west, topics: [orders]}\n"
                "sidecar: {state_dir: %s}\n"
                "control_plane: %s\n"
                % (d.east.bootstrap, free_port(), d.west.bootstrap, port,
                   t.path("%s-state" % name), control_plane))
    return topology, Sidecar(t, topology, "west", port).start()


def reads_can_be_closed(t, d):
    """control_plane.open_reads: false puts /healthz, /status, /metrics behind the token."""
    topology, sc = lone_sidecar(t, d, "closed", "{open_reads: false}")
    for path in ("/healthz", "/status", "/metrics"):
        check_eq(http_call(url(sc, path))[0], 401, "GET %s without credentials, reads closed" % path)
        check_eq(http_call(url(sc, path), topology)[0], 200, "GET %s with the token" % path)
    sc.stop()


def insecure_is_explicit(t, d):
    """control_plane.insecure: true opens the routes, and says so at start."""
    topology, sc = lone_sidecar(t, d, "insecure", "{insecure: true}")
    code, body = http_call(url(sc, "/offsets/translate?group=g&from=east"))
    check_eq(code, 200, "an insecure sidecar answers without credentials: %r" % body)
    sc.stop()
    with open(sc.log_path, errors="replace") as f:
        log = f.read()
    check("WARN sidecar: control_plane.insecure is true in %s: the HTTP routes take requests "
          "WITHOUT credentials" % topology in log, "the insecure start is a warning:\n" + log[-1500:])
    check(not os.path.exists(os.path.join(t.path("insecure-state"), "control-plane.token")),
          "an insecure sidecar generates no token")


def audited_state_change(d):
    """A state change with the token: one audit line on the sidecar (caller,
    peer, route, outcome) and one on each broker that took the new state
    (principal, peer, roles and epochs)."""
    code, body = d.sidecars["east"].post("/failover/state?epoch=2&active=east&actor=operator")
    check_eq((code, kv(body).get("changed")), (200, "1"), "a state change with the token: %r" % body)
    with open(d.sidecars["east"].log_path, errors="replace") as f:
        log = f.read()
    check(re.search(r"INFO audit: control-plane request principal=token peer=127\.0\.0\.1:\d+ "
                    r"service=sidecar method=POST route=/failover/state outcome=200 "
                    r"result=changed=1", log), "east's sidecar logs the change it accepted")
    for region, b in (("east", d.east), ("west", d.west)):
        role = "active" if region == "east" else "standby"
        line = re.compile(r"INFO audit: region state change principal=User:ANONYMOUS "
                          r"peer=127\.0\.0\.1:\d+ api=\w+ role=%s->%s epoch=1->2 active=east "
                          r"outcome=ok" % (role, role))
        mirror.wait_for("%s's broker audits the epoch 2 state" % region,
                        lambda: line.search(b.log_text()), 20)


def run(t, d):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    token = control_token(d.topology)
    check(token is not None and len(token) == 64, "a 64-digit token was generated")
    attacks_on_sidecars(d, token)
    witness_attacks(t, d, token)
    cli_finds_the_token(d)
    check_eq(snapshot(d)["east"][:2], ("1", "east"), "east's state after everything")
    audited_state_change(d)
    for sc in d.sidecars.values():
        sc.stop()
    reads_can_be_closed(t, d)
    insecure_is_explicit(t, d)


if __name__ == "__main__":
    run_test(failover.drill(run))
