#!/usr/bin/env python3
"""
quick_nemesis.py - the short nemesis `make test` runs (tests/run-tests.sh):
two fixed seeds, one per topology shape (two regions with a witness in
automatic mode; three regions in manual mode), a few steps each of the
"quick" fault mix (schedule.py: the faults today's code survives; the
others are in `make test-long` and tests/nemesis/FINDINGS.md). Each run is
nemesis.py in its own process; this passes only if every verdict is PASS.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = (("2r-auto", 15, 6), ("3r-manual", 14, 6))   # topology, seed, steps


def main():
    failed = 0
    for topology, seed, ops in RUNS:
        r = subprocess.run([sys.executable, "-u", os.path.join(HERE, "nemesis.py"),
                            "--topology", topology, "--seed", str(seed), "--ops", str(ops),
                            "--mix", "quick"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=280)
        if r.returncode != 0:
            failed += 1
            print(r.stdout[-20000:], r.stderr[-5000:], flush=True)
        for line in r.stdout.splitlines():
            if line.startswith(("nemesis seed=", "  violation:", "SKIP", "history:")):
                print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
