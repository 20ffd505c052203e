"""
test_failover_lease_delay.py - issue 12, lease timing: a renewal delayed in
the network must not stretch the brokers' lease past its bound.

Manual mode with `failover.broker_lease: 3s` (renewed every second). East's
broker advertises a delay line (HoldLine below) in front of its listener,
so every client of it after the bootstrap, the sidecar's renewals included,
goes through the line. The line passes every Kafka request at once except
AlterConfigs, which it holds HOLD_MS (2.5 s) when told to: the renewal's
reads (Metadata, DescribeConfigs) are answered at once, and the renewal
itself reaches the broker 2.5 s after the sidecar decided to send it.

Right after a renewal entered the line, east's sidecar is paused with SIGSTOP, so no renewal is decided after
that moment (t_stop). The bound: the brokers' lease ends at the latest one
lease after the last decision, t_stop + 3 s (plus clock drift, nothing
here). Before the fix a broker started its lease when the renewal ARRIVED,
t_stop + 2.5 s, and took writes until t_stop + 5.5 s. A write sent at
t_stop + 3.5 s must be refused; once the line lets renewals through again
and the sidecar resumes, writes are taken again.
"""
import heapq
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, note, run_test  # noqa: E402
import failover  # noqa: E402
import mirror  # noqa: E402

LEASE = "3s"
HOLD_MS = 2500
API_ALTER_CONFIGS = 33
API_INCREMENTAL_ALTER_CONFIGS = 44


class HoldLine:
    """A TCP relay listening on port in front of target_port. Client-to-broker
    Kafka requests pass at once unless hold_ms > 0 and the request is an
    (Incremental)AlterConfigs, which is then delivered hold_ms after it was
    read (later requests of the connection may overtake it: Kafka clients
    match answers by correlation id). Broker-to-client bytes pass at once."""

    def __init__(self, port, target_port):
        self.port, self.target_port = port, target_port
        self.hold_ms = 0
        self.held = threading.Event()   # set when a request is being held
        self.stopping = False
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.stopping = True
        self.listener.close()

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
            threading.Thread(target=self._requests, args=(client, upstream),
                             daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _requests(self, client, upstream):
        pending, lock, wake = [], threading.Lock(), threading.Condition()
        state = {"eof": False, "seq": 0}

        def sender():
            while True:
                with wake:
                    while not pending and not state["eof"]:
                        wake.wait(0.05)
                    if not pending and state["eof"]:
                        break
                    due = pending[0][0]
                    now = time.monotonic()
                    if due > now:
                        wake.wait(due - now)
                        continue
                    _, _, frame = heapq.heappop(pending)
                try:
                    upstream.sendall(frame)
                except OSError:
                    return
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=sender, daemon=True).start()
        buffer = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
                while len(buffer) >= 6:
                    size = struct.unpack(">i", buffer[:4])[0]
                    if len(buffer) < 4 + size:
                        break
                    frame, buffer = buffer[:4 + size], buffer[4 + size:]
                    api_key = struct.unpack(">h", frame[4:6])[0]
                    hold = self.hold_ms if api_key in (API_ALTER_CONFIGS,
                                                        API_INCREMENTAL_ALTER_CONFIGS) else 0
                    with wake:
                        state["seq"] += 1
                        heapq.heappush(pending, (time.monotonic() + hold / 1000.0, state["seq"],
                                                 frame))
                        wake.notify()
                    if hold:
                        self.held.set()
        except OSError:
            pass
        with wake:  # held requests still reach the broker after the client left
            state["eof"] = True
            wake.notify()


def state(sc):
    code, body = sc.get("/failover/state")
    check_eq(code, 200, "/failover/state of %s" % sc.region)
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def run(t, d):
    line = HoldLine(free_port(), d.east.port)
    try:
        d.east.stop()
        d.east.overrides["advertised.listeners"] = "PLAINTEXT://127.0.0.1:%d" % line.port
        d.east.start()
        delayed_renewal(d, line)
    finally:
        line.close()


def delayed_renewal(d, line):
    d.start_sidecars()
    d.wait_roles({"east": "active", "west": "standby"})
    east = d.sidecars["east"]
    lease_ms = int(state(east)["broker_lease_ms"])
    check_eq(lease_ms, 3000, "east's brokers' lease (failover.broker_lease: %s)" % LEASE)
    mirror.wait_for("east's lease renewed", lambda: state(east)["broker_lease_renewing"] == "1",
                    30)
    check(failover.produce_only_to(d.east.bootstrap, b"before") is None,
          "east takes writes while its lease is renewed")

    line.held.clear()
    line.hold_ms = HOLD_MS
    check(line.held.wait(15), "a renewal entered the delay line")
    os.kill(east.proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    note("a renewal held %d ms in the line; east's sidecar paused right after it entered"
         % HOLD_MS)
    try:
        # the last renewal was decided before `stopped`: the lease ends by
        # stopped + lease_ms; the held renewal arrives at stopped + HOLD_MS
        time.sleep(max(0.0, stopped + lease_ms / 1000.0 + 0.5 - time.monotonic()))
        sent = time.monotonic() - stopped
        error = failover.produce_only_to(d.east.bootstrap, b"after-bound", timeout_s=1.5)
        note("a write %.2f s after the last renewal decision (lease %d ms, renewal held %d ms): "
             "%s" % (sent, lease_ms, HOLD_MS, error or "ACKED"))
        check(error is not None, "east acknowledged a write %.2f s after its sidecar stopped "
              "deciding renewals (lease %d ms): the delayed renewal stretched the lease"
              % (sent, lease_ms))
    finally:
        line.hold_ms = 0
        os.kill(east.proc.pid, signal.SIGCONT)
    note("east's sidecar resumed (SIGCONT), the line passes renewals at once again")
    mirror.wait_for("east takes writes again once renewed",
                    lambda: failover.produce_only_to(d.east.bootstrap, b"renewed") is None, 60)
    d.wait_roles({"east": "active", "west": "standby"}, 30)
    for sc in d.sidecars.values():
        sc.stop()


if __name__ == "__main__":
    run_test(failover.drill(run, {"broker_lease": LEASE}))
