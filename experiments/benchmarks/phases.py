"""Milliseconds per step phase of the baseline market.

    python experiments/benchmarks/phases.py [--customers 100000 1000000] [--steps 10]

Each size runs in its own process: a warm-up step, then ``--steps`` timed steps. The firms'
decisions (phase 1), phases 2-5 (one kernel, ``"customers"`` of ``sim.rules.STEPS``), every other
phase of ``sim.rules.STEPS``, the metrics of a recorded step and the rest of the step (counting
customers, the flows' bookkeeping, cohorts) are timed with the wall clock and the process's CPU
clock (all threads); the table shows medians (the rest: the whole step's less the parts'). Use it to
see where a step's time goes before optimizing. The timing hooks are ``before_after.py``'s (its
``WORKER``), which compares two versions of the package phase by phase.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from before_after import PHASE_ORDER, WORKER


def measure(n: int, steps: int) -> dict[str, list[float]]:
    """``{phase: [wall ms, cpu ms]}`` for one size, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), str(steps), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: [1000 * wall, 1000 * cpu] for name, (wall, cpu) in seconds.items()}


def main() -> None:
    """Measure and print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    for n in args.customers:
        result = measure(n, args.steps)
        names = [k for k in PHASE_ORDER if k in result] + sorted(set(result) - set(PHASE_ORDER))
        print(f"\n{n:,} customers, median of {args.steps} steps")
        print(f"{'phase':<16}{'wall ms':>10}{'CPU ms':>10}")
        for name in names:
            wall, cpu = result[name]
            print(f"{name:<16}{wall:>10.2f}{cpu:>10.2f}")


if __name__ == "__main__":
    main()
