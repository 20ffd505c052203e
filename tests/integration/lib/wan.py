"""
wan.py - two network namespaces joined by a link with added one-way delay,
for the WAN-latency fault test and the mirror lag benchmark (DESIGN.md §10).

    w = Wan(delay_ms=25)          # 25 ms each way = 50 ms RTT
    w.setup()                     # ip netns add, link, addresses, delay
    try:
        ... Broker(..., host=w.addr[0], netns=w.ns[0]) ...
        wan.in_netns(w.ns[1], fn, args...)   # run client code inside a namespace
    finally:
        w.cleanup()               # kills the relay, deletes the namespaces

The link is a veth pair with `tc qdisc ... root netem delay D limit 100000`
on both ends. When the kernel has no netem (CONFIG_NET_SCH_NETEM unset, as on
some VM kernels: "Specified qdisc kind is unknown"), it falls back to two TUN
devices and a user-space delay line (`python3 wan.py relay A B MS`, a child
process holding every packet for D ms before passing it to the other side,
in order); `mode` says which one is in use.

Triangle: three namespaces joined pairwise (a link that can be cut and
restored), for the automatic-failover drill.

Namespaces are named strait-wan-<pid>-a/-b(/-c); setup() first deletes those
left behind by dead processes (a test killed by SIGKILL cannot clean up).
"""
import collections
import ctypes
import fcntl
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def in_netns(ns, fn, *args, **kwargs):
    """fn(*args, **kwargs) in a new thread that has joined network namespace ns.

    Sockets belong to the namespace of the thread that created them, and the
    threads librdkafka starts inherit it, so a client created and used inside
    fn talks from ns."""
    result = {}

    def body():
        try:
            fd = os.open("/run/netns/%s" % ns, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, "setns(%s): %s" % (ns, os.strerror(err)))
            finally:
                os.close(fd)
            result["value"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller
            result["error"] = e

    th = threading.Thread(target=body, name="netns-" + ns, daemon=True)
    th.start()
    th.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def start_in_netns(ns, fn, *args, **kwargs):
    """Like in_netns but in the background: returns (thread, result dict)."""
    result = {}

    def body():
        try:
            result["value"] = in_netns(ns, fn, *args, **kwargs)
        except BaseException as e:
            result["error"] = e

    th = threading.Thread(target=body, daemon=True)
    th.start()
    return th, result


def _ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r


def probe():
    """None if this process can create network namespaces and configure links
    in them (CAP_SYS_ADMIN + CAP_NET_ADMIN), else the reason."""
    name = "strait-probe-%d" % os.getpid()
    try:
        r = subprocess.run(["ip", "netns", "add", name], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
    except OSError as e:
        return "cannot run `ip` (%s)" % e
    if r.returncode != 0:
        return "`ip netns add` failed (no CAP_SYS_ADMIN?): %s" % (r.stderr.strip() or r.returncode)
    try:
        for args in (["link", "set", "lo", "up"],
                     ["link", "add", "sprobe0", "type", "veth", "peer", "name", "sprobe1"]):
            r = subprocess.run(["ip", "-n", name] + args, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                return "`ip -n NS %s` failed (no CAP_NET_ADMIN?): %s" % (
                    " ".join(args), r.stderr.strip() or r.returncode)
    finally:
        subprocess.run(["ip", "netns", "del", name], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    return None


def delete_stale():
    """Deletes strait-wan-PID-* namespaces whose PID is gone."""
    r = _ip("netns", "list", check=False)
    for line in r.stdout.splitlines():
        m = re.match(r"^(strait-(?:wan|probe)-(\d+)(?:-[abc])?)\b", line)
        if m and not os.path.exists("/proc/%s" % m.group(2)):
            _ip("netns", "del", m.group(1), check=False)


class Wan:
    def __init__(self, delay_ms=25, subnet="10.213.77", tag=None):
        tag = tag or str(os.getpid())
        self.ns = ["strait-wan-%s-a" % tag, "strait-wan-%s-b" % tag]
        self.addr = ["%s.1" % subnet, "%s.2" % subnet]
        self.dev = ["swa%s" % tag[-8:], "swb%s" % tag[-8:]]
        self.delay_ms = delay_ms
        self.mode = None
        self.relay = None

    def setup(self):
        delete_stale()
        for ns in self.ns:
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        if self.delay_ms <= 0:
            self._veth()
            self.mode = "veth, no added delay"
        elif self._veth_netem():
            self.mode = "veth + tc netem delay %dms on both ends" % self.delay_ms
        else:
            self._tun_relay()
            self.mode = ("TUN + user-space delay line %d ms each way (this kernel has no "
                         "netem qdisc)" % self.delay_ms)
        return self

    def _veth(self):
        _ip("link", "add", self.dev[0], "type", "veth", "peer", "name", self.dev[1])
        for i in (0, 1):
            _ip("link", "set", self.dev[i], "netns", self.ns[i])
            _ip("-n", self.ns[i], "addr", "add", self.addr[i] + "/24", "dev", self.dev[i])
            _ip("-n", self.ns[i], "link", "set", self.dev[i], "up")

    def _veth_netem(self):
        self._veth()
        for i in (0, 1):
            r = subprocess.run(["ip", "netns", "exec", self.ns[i], "tc", "qdisc", "add", "dev",
                                self.dev[i], "root", "netem", "delay", "%dms" % self.delay_ms,
                                "limit", "100000"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=30)
            if r.returncode != 0:
                print("wan: netem unavailable (%s); using the user-space delay line"
                      % r.stderr.strip(), flush=True)
                _ip("-n", self.ns[0], "link", "del", self.dev[0], check=False)
                return False
        return True

    def _tun_relay(self):
        from broker import _die_with_parent
        self.relay = subprocess.Popen(
            [sys.executable, "-u", os.path.abspath(__file__), "relay", self.dev[0], self.dev[1],
             str(self.delay_ms)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            preexec_fn=_die_with_parent)
        line = self.relay.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("delay relay did not start: %r (status %s)"
                               % (line, self.relay.poll()))
        for i in (0, 1):
            _ip("link", "set", self.dev[i], "netns", self.ns[i])
            _ip("-n", self.ns[i], "addr", "add", self.addr[i] + "/24", "dev", self.dev[i])
            _ip("-n", self.ns[i], "link", "set", self.dev[i], "mtu", "65000", "up")

    def rtt_ms(self, samples=5):
        """Round trip a->b measured as TCP connect times (SYN -> SYN/ACK), in ms:
        (min, median). `ping` is not needed."""
        listener = in_netns(self.ns[1], self._listen)
        port = listener.getsockname()[1]

        def connect_times():
            out = []
            for _ in range(samples):
                t0 = time.monotonic()
                with socket.create_connection((self.addr[1], port), timeout=10):
                    out.append((time.monotonic() - t0) * 1000.0)
            return out
        try:
            times = sorted(in_netns(self.ns[0], connect_times))
        finally:
            listener.close()
        return times[0], times[len(times) // 2]

    def _listen(self):
        s = socket.socket()
        s.bind((self.addr[1], 0))
        s.listen(16)
        return s

    def cleanup(self):
        if self.relay is not None:
            self.relay.kill()
            self.relay.wait()
            self.relay = None
        for ns in self.ns:
            _ip("netns", "del", ns, check=False)


class Triangle:
    """Three sites (namespaces a, b, c) joined pairwise by plain veth links,
    for the automatic-failover drill: any one link can be cut and restored.

    Each site has a service address on its loopback (addr[i], 10.213.80.i+1)
    that the others reach over the direct link only (no forwarding: a cut
    link is not bypassed through the third site). Processes listen on their
    site's service address.

        tri = Triangle().setup()
        tri.cut(0, 1)        # a <-> b down; both still reach c
        tri.restore(0, 1)
        tri.cleanup()
    """

    def __init__(self, tag=None):
        tag = tag or str(os.getpid())
        self.ns = ["strait-wan-%s-%s" % (tag, n) for n in "abc"]
        self.addr = ["10.213.80.%d" % (i + 1) for i in range(3)]
        self.links = {}  # (i, j) -> (dev_i, dev_j, subnet)
        for k, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
            self.links[(i, j)] = ("st%d%d%s" % (i, j, tag[-8:]), "st%d%d%s" % (j, i, tag[-8:]),
                                  "10.213.%d" % (81 + k))

    def _link(self, i, j):
        return self.links[(min(i, j), max(i, j))]

    def setup(self):
        delete_stale()
        for i, ns in enumerate(self.ns):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", self.addr[i] + "/32", "dev", "lo")
        for (i, j), (dev_i, dev_j, subnet) in self.links.items():
            _ip("link", "add", dev_i, "type", "veth", "peer", "name", dev_j)
            for k, dev in ((i, dev_i), (j, dev_j)):
                _ip("link", "set", dev, "netns", self.ns[k])
                _ip("-n", self.ns[k], "addr", "add", "%s.%d/24" % (subnet, k + 1), "dev", dev)
            self.restore(i, j)
        return self

    def cut(self, i, j):
        """Takes the i <-> j link down on both ends (routes over it vanish,
        connects fail at once with 'network unreachable')."""
        dev_i, dev_j, _ = self._link(i, j)
        _ip("-n", self.ns[i], "link", "set", dev_i, "down")
        _ip("-n", self.ns[j], "link", "set", dev_j, "down")

    def restore(self, i, j):
        dev_i, dev_j, subnet = self._link(i, j)
        _ip("-n", self.ns[i], "link", "set", dev_i, "up")
        _ip("-n", self.ns[j], "link", "set", dev_j, "up")
        for a, b, dev in ((i, j, dev_i), (j, i, dev_j)):
            _ip("-n", self.ns[a], "route", "replace", self.addr[b] + "/32", "via",
                "%s.%d" % (subnet, b + 1), "dev", dev)

    def cleanup(self):
        for ns in self.ns:
            _ip("netns", "del", ns, check=False)


def _open_tun(name):
    TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def relay(dev_a, dev_b, delay_ms):
    """Creates TUN devices dev_a and dev_b, prints "ready", then passes every
    packet read from one to the other delay_ms later, in order, until killed.
    The devices vanish with this process."""
    delay = delay_ms / 1000.0
    fds = [_open_tun(dev_a), _open_tun(dev_b)]
    print("ready", flush=True)
    queues = [collections.deque(), collections.deque()]  # read from fds[i], for fds[1 - i]
    while True:
        now = time.monotonic()
        for i in (0, 1):
            q = queues[i]
            while q and q[0][0] <= now:
                try:
                    os.write(fds[1 - i], q.popleft()[1])
                except OSError:
                    pass  # device down or full: a lost packet, TCP resends
        due = [q[0][0] for q in queues if q]
        timeout = max(0.0, min(due) - time.monotonic()) if due else None
        readable, _, _ = select.select(fds, [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            i = fds.index(fd)
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                queues[i].append((now + delay, pkt))


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "relay":
    relay(sys.argv[2], sys.argv[3], int(sys.argv[4]))
