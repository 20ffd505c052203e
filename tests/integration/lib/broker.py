"""
broker.py - start, stop, kill and restart a real strait broker for a test.

Used by every Python integration and fault test (run with /usr/bin/python3,
which has kafka-python and confluent-kafka). A Broker owns a temporary
directory holding its data dir (log.dirs) and its stderr log; it listens on a
free loopback port found by binding port 0.

    from broker import Broker, run_test, check

    def main(t):
        b = t.broker(overrides={"num.partitions": "3"})
        ... drive b.bootstrap with real clients ...
        b.stop()               # SIGTERM, asserts exit code 0 and no sanitizer report

    run_test(main)

The binary is $STRAIT_BIN, else build/bin/strait of this checkout.

run_test() turns a failed check() or any exception into exit status 1 with a
clear reason, prints the tail of every broker's stderr, and always kills
brokers and removes temporary directories (also on SIGTERM from `timeout`).

Brokers are started with PR_SET_PDEATHSIG=SIGKILL so they die with the test
process; that signal follows the *thread* that started them, so start and
restart brokers from the main thread only.
"""

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "bin", "strait")

# Lines that mean a sanitizer found something (ASan, LSan, UBSan).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "SUMMARY: AddressSanitizer",
                     "SUMMARY: UndefinedBehaviorSanitizer")


class TestFailure(Exception):
    """A check that did not hold; its message is the reason printed."""


def check(condition, message):
    """Fails the test with message unless condition holds."""
    if not condition:
        raise TestFailure(message)


def _short(value, limit=600):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


def _first_difference(actual, expected):
    """Where two lists / dicts first differ, as text (None if not applicable)."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected), key=repr):
            if actual.get(key) != expected.get(key):
                inner = _first_difference(actual.get(key), expected.get(key))
                return "[%r]%s" % (key, inner or ": expected %s, got %s" % (
                    _short(expected.get(key)), _short(actual.get(key))))
        return None
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        for i, (a, e) in enumerate(zip(actual, expected)):
            if a != e:
                return "[%d]: expected %s, got %s" % (i, _short(e), _short(a))
        if len(actual) != len(expected):
            return ": %d items, expected %d (first extra/missing: %s)" % (
                len(actual), len(expected),
                _short(actual[len(expected)] if len(actual) > len(expected)
                       else expected[len(actual)]))
    return None


def check_eq(actual, expected, what):
    """Fails with both values (or their first difference) unless actual == expected."""
    if actual != expected:
        where = _first_difference(actual, expected)
        if where:
            raise TestFailure("%s differs at %s" % (what, where))
        raise TestFailure("%s: expected %s, got %s" % (what, _short(expected), _short(actual)))


# Ports for listeners come from below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 on Debian): a port taken from
# that range by binding to port 0 can be handed to some client's outgoing
# connection before the broker binds it, or while a killed broker is down,
# and the broker then fails to start with EADDRINUSE.
_PORT_LOW, _PORT_HIGH = 20000, 32700
_ports_given = set()


def free_port():
    """A TCP port on 127.0.0.1, outside the ephemeral range, that was free a
    moment ago and that this process has not handed out before."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(_PORT_LOW, _PORT_HIGH)
        if port in _ports_given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port in %d-%d" % (_PORT_LOW, _PORT_HIGH))


def strait_bin():
    path = os.environ.get("STRAIT_BIN", DEFAULT_BIN)
    if not os.path.isabs(path):
        path = os.path.join(REPO_ROOT, path)
    return path


def _die_with_parent():
    """preexec_fn: the broker gets SIGKILL when the test process goes away."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def note(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class Broker:
    """One strait broker process on a free port with its own data dir."""

    def __init__(self, workdir, name="broker", overrides=None, port=None, start_timeout_s=30,
                 host="127.0.0.1", netns=None):
        self.name = name
        # host: the listener address; netns: a network namespace (ip netns) to
        # run the broker in, which also makes advertised.listeners host:port
        # (see wan.py). The defaults are a loopback broker in this namespace.
        self.host = host
        self.netns = netns
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, name + "-data")
        self.overrides = dict(overrides or {})
        self.port = port or free_port()
        self.start_timeout_s = start_timeout_s
        self.proc = None
        self.starts = 0
        self.log_paths = []
        os.makedirs(self.data_dir, exist_ok=True)

    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def log_path(self):
        return self.log_paths[-1] if self.log_paths else None

    def command(self):
        args = [strait_bin(), "broker",
                "--override", "listeners=PLAINTEXT://%s:%d" % (self.host, self.port),
                "--override", "log.dirs=%s" % self.data_dir]
        if self.netns is not None:
            args = ["ip", "netns", "exec", self.netns] + args
            if "advertised.listeners" not in self.overrides:
                args += ["--override", "advertised.listeners=PLAINTEXT://%s:%d"
                         % (self.host, self.port)]
        for key, value in self.overrides.items():
            args += ["--override", "%s=%s" % (key, value)]
        return args

    def start(self):
        """Starts the broker and waits until its port accepts connections."""
        check(self.proc is None, "%s: start() while already running" % self.name)
        binary = strait_bin()
        check(os.access(binary, os.X_OK), "broker binary %s is missing or not executable "
              "(run `make build`, or set STRAIT_BIN)" % binary)
        self.starts += 1
        log_path = os.path.join(self.workdir, "%s.stderr.%d.log" % (self.name, self.starts))
        self.log_paths.append(log_path)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         env=env, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                raise TestFailure("%s exited with status %d during start-up" % (self.name, rc))
            if self._accepts():
                break
            if time.monotonic() > deadline:
                raise TestFailure("%s did not accept connections on port %d within %d s"
                                  % (self.name, self.port, self.start_timeout_s))
            time.sleep(0.05)
        note("%s started: pid %d on %s, data %s" % (self.name, self.proc.pid,
                                                    self.bootstrap, self.data_dir))
        return self

    def _accepts(self):
        def probe():
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return True
            except OSError:
                return False
        if self.netns is None:
            return probe()
        import wan
        return wan.in_netns(self.netns, probe)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s=20, expect_clean=True):
        """SIGTERM, wait; asserts exit code 0 and no sanitizer report."""
        check(self.proc is not None, "%s: stop() while not running" % self.name)
        proc = self.proc
        rc = proc.poll()
        if rc is not None:
            self.proc = None
            raise TestFailure("%s had already exited with status %d before stop()"
                              % (self.name, rc))
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.proc = None
            raise TestFailure("%s did not exit within %d s of SIGTERM" % (self.name, timeout_s))
        self.proc = None
        note("%s stopped with status %d after %.2f s" % (self.name, rc,
                                                        time.monotonic() - started))
        if expect_clean:
            self.check_no_sanitizer_report()
            check(rc == 0, "%s exited with status %d after SIGTERM (expected 0)" % (self.name, rc))
        return rc

    def kill9(self):
        """SIGKILL: no chance to flush or close anything."""
        check(self.proc is not None, "%s: kill9() while not running" % self.name)
        self.proc.kill()
        self.proc.wait()
        note("%s killed with SIGKILL" % self.name)
        self.proc = None

    def restart(self):
        """Starts again on the same data dir and the same port."""
        if self.proc is not None:
            self.stop()
        return self.start()

    def sanitizer_reports(self):
        found = []
        for path in self.log_paths:
            try:
                with open(path, "r", errors="replace") as f:
                    for line in f:
                        if any(m in line for m in SANITIZER_MARKERS):
                            found.append("%s: %s" % (os.path.basename(path), line.rstrip()))
            except OSError:
                pass
        return found

    def check_no_sanitizer_report(self):
        reports = self.sanitizer_reports()
        check(not reports, "%s: sanitizer report in stderr:\n  %s"
              % (self.name, "\n  ".join(reports[:10])))

    def log_text(self):
        parts = []
        for path in self.log_paths:
            try:
                with open(path, "r", errors="replace") as f:
                    parts.append(f.read())
            except OSError:
                pass
        return "".join(parts)

    def metrics_url(self, path="/metrics", timeout_s=10):
        """http://host:port<path> of this start's metrics.listener, from the
        broker's start-up line `... metrics=http://127.0.0.1:PORT/metrics`."""
        check(self.log_path is not None, "%s: metrics_url() before start()" % self.name)
        deadline = time.monotonic() + timeout_s
        while True:
            with open(self.log_path, "r", errors="replace") as f:
                for line in f:
                    marker = line.find(" metrics=http://")
                    if marker >= 0 and "broker: started" in line:
                        url = line[marker + len(" metrics="):].split()[0]
                        return url[:-len("/metrics")] + path
            check(time.monotonic() < deadline, "%s: no `metrics=http://...` in the start-up "
                  "line within %d s" % (self.name, timeout_s))
            time.sleep(0.05)

    def dump_log(self, lines=80):
        for path in self.log_paths:
            try:
                with open(path, "r", errors="replace") as f:
                    content = f.read().splitlines()
            except OSError:
                continue
            print("----- %s: last %d of %d lines of %s -----"
                  % (self.name, min(lines, len(content)), len(content), os.path.basename(path)))
            for line in content[-lines:]:
                print("  " + line)

    def assert_serving(self, what="after the previous step"):
        """The broker answers a raw ApiVersions and a kcat metadata request."""
        import kwire
        check(self.alive(), "%s is not running %s" % (self.name, what))
        try:
            with kwire.Conn(self.bootstrap, timeout_s=10) as c:
                error, keys = c.api_versions()
        except Exception as e:
            raise TestFailure("%s: ApiVersions round trip failed %s: %r" % (self.name, what, e))
        check(error == 0, "%s: ApiVersions error %d %s" % (self.name, error, what))
        check(any(k[0] == kwire.API_API_VERSIONS for k in keys),
              "%s: ApiVersions does not list key 18 %s" % (self.name, what))
        out = subprocess.run(["kcat", "-L", "-b", self.bootstrap, "-m", "10"],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        text = out.stdout.decode(errors="replace")
        check(out.returncode == 0 and "broker" in text,
              "%s: kcat -L failed %s (rc %d): %s %s" % (self.name, what, out.returncode, text,
                                                        out.stderr.decode(errors="replace")))

    def cleanup(self):
        if self.proc is not None:
            try:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except Exception:
                pass
            self.proc = None

    def cpu_seconds(self):
        """utime + stime of the broker process, in seconds (/proc/PID/stat)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def vm_peak_kib(self):
        """VmPeak of the broker in KiB: grows if the broker maps a large buffer."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1])
        return 0


class TestContext:
    """What a test's main() gets: brokers and temp dirs cleaned up afterwards."""

    def __init__(self, name):
        self.name = name
        self.workdir = tempfile.mkdtemp(prefix="strait-%s-" % name)
        self.brokers = []

    def broker(self, name=None, overrides=None, start=True, **kwargs):
        b = Broker(self.workdir, name=name or "broker%d" % (len(self.brokers) + 1),
                   overrides=overrides, **kwargs)
        self.brokers.append(b)
        if start:
            b.start()
        return b

    def path(self, name):
        return os.path.join(self.workdir, name)

    def cleanup(self):
        for b in self.brokers:
            b.cleanup()
        if os.environ.get("STRAIT_KEEP_TMP"):
            note("keeping %s (STRAIT_KEEP_TMP)" % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


class _Terminated(BaseException):
    pass


def _on_sigterm(signum, frame):
    raise _Terminated("terminated by signal %d (test timeout?)" % signum)


def run_test(main, name=None):
    """Runs main(ctx); exit 0 on success, 1 with the reason and broker logs on failure."""
    name = name or os.path.splitext(os.path.basename(sys.argv[0]))[0]
    signal.signal(signal.SIGTERM, _on_sigterm)
    ctx = TestContext(name)
    started = time.monotonic()
    status = 1
    try:
        main(ctx)
        for b in ctx.brokers:
            b.check_no_sanitizer_report()
        status = 0
    except TestFailure as e:
        print("FAIL: %s: %s" % (name, e), flush=True)
    except _Terminated as e:
        print("FAIL: %s: %s" % (name, e), flush=True)
    except BaseException:
        print("FAIL: %s: unexpected exception" % name, flush=True)
        traceback.print_exc(file=sys.stdout)
    finally:
        if status != 0:
            for b in ctx.brokers:
                rc = b.proc.poll() if b.proc is not None else None
                if rc is not None:
                    print("NOTE: %s (pid %d) had exited on its own with status %d%s"
                          % (b.name, b.proc.pid, rc, " (killed by signal %d)" % -rc
                             if rc < 0 else ""), flush=True)
                for report in b.sanitizer_reports()[:5]:
                    print("NOTE: sanitizer report: " + report, flush=True)
                b.dump_log()
        ctx.cleanup()
    if status == 0:
        print("PASS: %s (%.1f s)" % (name, time.monotonic() - started), flush=True)
    sys.stdout.flush()
    os._exit(status)  # client libraries may hold threads; do not wait for them
