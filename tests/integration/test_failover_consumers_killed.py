"""
test_failover_consumers_killed.py - issue 12: the scenario of
test_failover_consumers.py with east's broker killed together with its
sidecar (SIGKILL) before `strait failover --to west`: the members find the
new coordinator and the new leader at about the same time, so a build
without the rejoin hold passes too; this one checks that the hold costs
nothing there (every group rejoins, nothing read twice from west).
"""
# strait-test: asan
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import run_test  # noqa: E402
import failover  # noqa: E402
import test_failover_consumers as consumers  # noqa: E402


def run(t, d):
    consumers.scenario(t, d, automatic=False, kill_broker=True)


if __name__ == "__main__":
    run_test(failover.drill(run))
