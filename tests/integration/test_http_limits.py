#!/usr/bin/env python3
"""
test_http_limits: the limits of strait's HTTP servers (common/http_listen.c),
on the broker's /metrics listener:

- a slowloris client (request line, then one header byte a second) is cut
  off by the whole-request deadline (15 s), although its per-read timeout
  (10 s) never passes; a log line says so;
- 128 connections are held open; the 129th is closed at once or answered
  503 (log line);
  once they close, /metrics answers again, also with Connection: close.
"""
# strait-test: asan

import os
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

REQUEST_DEADLINE_S = 15
CONNECTIONS = 128


def host_port(url):
    rest = url.split("://", 1)[1].split("/", 1)[0]
    host, port = rest.rsplit(":", 1)
    return host, int(port)


def slowloris(address, give_up_s):
    """Sends a request line then a header byte a second until the server
    closes. -> seconds until the close, or None if it stayed open."""
    s = socket.create_connection(address, timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
    started = time.monotonic()
    s.settimeout(1)
    try:
        while time.monotonic() - started < give_up_s:
            try:
                if s.recv(4096) == b"":
                    return time.monotonic() - started
            except socket.timeout:
                s.sendall(b"a")
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - started
    finally:
        s.close()
    return None


def main(t):
    b = t.broker(overrides={"metrics.listener": "127.0.0.1:0"})
    url = b.metrics_url()
    address = host_port(url)

    # Far above the deadline: what is asserted is that the server cut it.
    seconds = slowloris(address, give_up_s=REQUEST_DEADLINE_S * 4)
    check(seconds is not None, "a slowloris client was kept for %d s" % (REQUEST_DEADLINE_S * 4))
    note("slowloris cut after %.1f s" % seconds)
    check("closing connection: no whole request within %d s" % REQUEST_DEADLINE_S in b.log_text(),
          "no log line for the whole-request deadline")

    held = [socket.create_connection(address, timeout=10) for _ in range(CONNECTIONS)]
    extra = socket.create_connection(address, timeout=10)
    extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    # Refused: closed at once, or (when its request came in the same turn of
    # the server's loop as its accept) answered 503 and closed.
    reply = b""
    try:
        while True:
            chunk = extra.recv(4096)
            if not chunk:
                break
            reply += chunk
    except ConnectionResetError:
        pass
    check(reply == b"" or reply.startswith(b"HTTP/1.1 503"),
          "connection %d was served while %d were open: %r"
          % (CONNECTIONS + 1, CONNECTIONS, reply[:80]))
    extra.close()
    check("refusing connection: %d connections open" % CONNECTIONS in b.log_text(),
          "no log line for the refused HTTP connection")
    note("connection %d refused" % (CONNECTIONS + 1))
    for s in held:
        s.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            request = urllib.request.Request(url, headers={"Connection": "close"})
            page = urllib.request.urlopen(request, timeout=10).read().decode()
            break
        except OSError as e:
            check(time.monotonic() < deadline, "/metrics not served after the held "
                  "connections closed: %r" % e)
            time.sleep(0.2)
    check("strait_broker_connections_open" in page, "/metrics page incomplete")
    # several requests in a row on one kept-alive connection
    s = socket.create_connection(address, timeout=10)
    for i in range(3):
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while not reply.endswith(b"ok\n"):
            chunk = s.recv(4096)
            check(chunk != b"", "keep-alive connection closed at request %d" % i)
            reply += chunk
        check_eq(reply.split(b"\r\n", 1)[0], b"HTTP/1.1 200 OK", "status of request %d" % i)
    s.close()
    b.stop()


if __name__ == "__main__":
    run_test(main)
