"""
test_failover_consumers_automatic.py - issue 12 (nemesis finding N8): the
scenario of test_failover_consumers.py, with west promoting itself
(failover.mode automatic, a `strait witness` on loopback, detect_after 3s)
after east's broker and sidecar are paused (SIGSTOP), instead of
`strait failover`.
"""
# strait-test: asan
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import run_test  # noqa: E402
import failover  # noqa: E402
import test_failover_consumers as consumers  # noqa: E402


def run(t, d):
    witness = consumers.make_automatic(t, d)
    try:
        consumers.scenario(t, d, automatic=True, kill_broker=False)
    finally:
        if witness.poll() is None:
            witness.kill()
        witness.wait()


if __name__ == "__main__":
    run_test(failover.drill(run))
