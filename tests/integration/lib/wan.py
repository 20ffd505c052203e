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


class Mesh:
    """N sites (network namespaces) joined pairwise by links that run through
    one user-space relay process, for the region nemesis (tests/nemesis/):
    each direction of each link can be passed, dropped silently or delayed at
    run time, and a link can also be taken down (connects then fail at once).

    Each site has a service address on its loopback (addr[i], 10.214.0.i+1)
    that a linked site reaches over the direct link only (no forwarding).

        m = Mesh(["east", "west", "clients"], [(0, 1), (0, 2), (1, 2)]).setup()
        m.set_direction(0, 1, "drop")     # east -> west packets vanish
        m.set_direction(0, 1, "delay", 200)
        m.link_down(0, 1); m.heal(0, 1)
        m.cleanup()

    Namespaces are strait-mesh-<pid>-<i>; setup() deletes those of dead
    processes first. The relay gets SIGKILL when this process dies.
    """

    def __init__(self, names, links, tag=None):
        tag = tag or str(os.getpid())
        self.names = list(names)
        self.ns = ["strait-mesh-%s-%d" % (tag, i) for i in range(len(names))]
        self.addr = ["10.214.0.%d" % (i + 1) for i in range(len(names))]
        self.links = {}   # (i, j), i < j -> (link index, dev_i, dev_j)
        for k, (i, j) in enumerate(sorted((min(a, b), max(a, b)) for a, b in links)):
            self.links[(i, j)] = (k, "sm%d_%d_%s" % (i, j, tag[-6:]),
                                  "sm%d_%d_%sb" % (i, j, tag[-6:]))
        self.relay = None
        self.relay_lock = threading.Lock()

    def index(self, name):
        return self.names.index(name)

    def setup(self):
        delete_stale()
        r = _ip("netns", "list", check=False)
        for line in r.stdout.splitlines():
            m = re.match(r"^(strait-mesh-(\d+)-\d+)\b", line)
            if m and not os.path.exists("/proc/%s" % m.group(2)):
                _ip("netns", "del", m.group(1), check=False)
        for i, ns in enumerate(self.ns):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", self.addr[i] + "/32", "dev", "lo")
        from broker import _die_with_parent
        devs = []
        for (i, j), (k, dev_i, dev_j) in sorted(self.links.items(), key=lambda kv: kv[1][0]):
            devs += [dev_i, dev_j]
        self.relay = subprocess.Popen(
            [sys.executable, "-u", os.path.abspath(__file__), "mesh-relay"] + devs,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=_die_with_parent)
        line = self.relay.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("mesh relay did not start: %r (status %s)"
                               % (line, self.relay.poll()))
        for (i, j), (k, dev_i, dev_j) in self.links.items():
            for site, dev in ((i, dev_i), (j, dev_j)):
                _ip("link", "set", dev, "netns", self.ns[site])
                _ip("-n", self.ns[site], "link", "set", dev, "mtu", "65000", "up")
            self._routes(i, j)
        return self

    def _routes(self, i, j):
        k, dev_i, dev_j = self.links[(min(i, j), max(i, j))]
        if i > j:
            i, j = j, i
        for a, b, dev in ((i, j, dev_i), (j, i, dev_j)):
            _ip("-n", self.ns[a], "route", "replace", self.addr[b] + "/32", "dev", dev,
                "src", self.addr[a])

    def _control(self, line):
        with self.relay_lock:
            self.relay.stdin.write((line + "\n").encode())
            self.relay.stdin.flush()
            answer = self.relay.stdout.readline().strip()
        if answer != b"ok":
            raise RuntimeError("mesh relay refused %r: %r" % (line, answer))

    def set_direction(self, i, j, mode, delay_ms=0):
        """Packets from site i to site j: "pass", "drop" or "delay" (delay_ms)."""
        k, _, _ = self.links[(min(i, j), max(i, j))]
        direction = 0 if i < j else 1
        self._control("%d %d %s %d" % (k, direction, mode, int(delay_ms)))

    def link_down(self, i, j):
        """Takes the link down on both ends: connects fail at once."""
        k, dev_i, dev_j = self.links[(min(i, j), max(i, j))]
        lo, hi = min(i, j), max(i, j)
        _ip("-n", self.ns[lo], "link", "set", dev_i, "down")
        _ip("-n", self.ns[hi], "link", "set", dev_j, "down")

    def heal(self, i, j):
        """Link up, both directions passed without delay."""
        k, dev_i, dev_j = self.links[(min(i, j), max(i, j))]
        lo, hi = min(i, j), max(i, j)
        _ip("-n", self.ns[lo], "link", "set", dev_i, "up")
        _ip("-n", self.ns[hi], "link", "set", dev_j, "up")
        self._routes(lo, hi)
        self.set_direction(lo, hi, "pass")
        self.set_direction(hi, lo, "pass")

    def cleanup(self):
        if self.relay is not None:
            self.relay.kill()
            self.relay.wait()
            self.relay = None
        for ns in self.ns:
            _ip("netns", "del", ns, check=False)


def mesh_relay(devs):
    """Creates TUN devices devs (pairs: link k is devs[2k] <-> devs[2k+1]),
    prints "ready", then passes packets across each link, in order, with a
    per-direction mode read from standard input: lines "LINK DIR MODE MS"
    (DIR 0: devs[2k] -> devs[2k+1], 1: back; MODE pass, drop or delay),
    each answered "ok". Runs until killed or its input closes."""
    fds = [_open_tun(d) for d in devs]
    links = len(fds) // 2
    delay = [[0.0, 0.0] for _ in range(links)]
    drop = [[False, False] for _ in range(links)]
    queues = {}   # (link, dir) -> deque of (due, packet)
    print("ready", flush=True)
    control = sys.stdin.buffer
    while True:
        now = time.monotonic()
        for (k, d), q in queues.items():
            out = fds[2 * k + 1 - d]
            while q and q[0][0] <= now:
                try:
                    os.write(out, q.popleft()[1])
                except OSError:
                    pass  # device down or full: a lost packet, TCP resends
        due = [q[0][0] for q in queues.values() if q]
        timeout = max(0.0, min(due) - time.monotonic()) if due else None
        readable, _, _ = select.select(fds + [control], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            if fd is control:
                line = control.readline()
                if not line:
                    return
                try:
                    k, d, mode, ms = line.split()
                    k, d, ms = int(k), int(d), int(ms)
                    if mode not in (b"pass", b"drop", b"delay") or not 0 <= k < links \
                            or d not in (0, 1):
                        raise ValueError(line)
                except ValueError:
                    sys.stdout.write("bad %r\n" % line)
                    sys.stdout.flush()
                    continue
                drop[k][d] = mode == b"drop"
                delay[k][d] = ms / 1000.0 if mode == b"delay" else 0.0
                sys.stdout.write("ok\n")
                sys.stdout.flush()
                continue
            index = fds.index(fd)
            k, d = index // 2, index % 2
            q = queues.setdefault((k, d), collections.deque())
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                if drop[k][d]:
                    continue
                at = now + delay[k][d]
                if q and q[-1][0] > at:
                    at = q[-1][0]  # a shorter delay never reorders
                q.append((at, pkt))


if __name__ == "__main__" and len(sys.argv) >= 3 and sys.argv[1] == "mesh-relay":
    mesh_relay(sys.argv[2:])
