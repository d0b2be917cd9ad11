"""Milliseconds per step phase of a market (the baseline by default), or of a batch of markets.

    python experiments/benchmarks/phases.py [--customers 100000 1000000] [--steps 10]
    python experiments/benchmarks/phases.py --customers 1000 --markets 64   # a batched step

Each size runs in its own process: a warm-up step, then ``--steps`` timed steps. The firms'
decisions (phase 1), phases 2-5 (one kernel, ``"customers"`` of ``sim.rules.STEPS``), every other
phase of ``sim.rules.STEPS``, the metrics of a recorded step and the rest of the step (counting
customers, the flows' bookkeeping, cohorts) are timed with the wall clock and the process's CPU
clock (all threads); the table shows medians (the rest: the whole step's less the parts'). Use
it to see where a step's time goes before optimizing. With ``--markets B`` each size is B markets
of that many customers (seeds 1..B, ``--scenario``) stepped together as one batch
(``sim.batch``), as a sweep steps them; they record every step (a sweep records only the steps
it keeps). The timing hooks are ``before_after.py``'s (its ``WORKER``), which compares two
versions of the package phase by phase.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from before_after import PHASE_ORDER, WORKER


def measure(
    n: int, steps: int, markets: int = 1, scenario: str = "baseline"
) -> dict[str, list[float]]:
    """``{phase: [wall ms, cpu ms]}`` for one size (``markets`` of it batched), in a fresh
    process."""
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), str(steps), "-", str(markets), scenario],
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
    parser.add_argument("--markets", type=int, default=1, help="markets of each size, batched")
    parser.add_argument("--scenario", default="baseline")
    args = parser.parse_args()
    for n in args.customers:
        result = measure(n, args.steps, args.markets, args.scenario)
        names = [k for k in PHASE_ORDER if k in result] + sorted(set(result) - set(PHASE_ORDER))
        what = f"{args.markets} markets x {n:,}" if args.markets > 1 else f"{n:,}"
        print(f"\n{args.scenario}, {what} customers, median of {args.steps} steps")
        print(f"{'phase':<16}{'wall ms':>10}{'CPU ms':>10}")
        for name in names:
            wall, cpu = result[name]
            print(f"{name:<16}{wall:>10.2f}{cpu:>10.2f}")


if __name__ == "__main__":
    main()
