"""Seconds per step of the package against the same rules written agent by agent in Mesa.

Both run the baseline market at each size in one process, interleaved (package steps, reference
step, package steps, ...), several repetitions; the table gives the median seconds per step of
each and their ratio. The reference (``cxsim_reference`` (tests/reference)) is how a Mesa user
would write the model: ``Customer`` agents with Python state, methods looping over their
relationships and neighbours, ``AgentSet.do`` per phase, draws from ``model.random``. It starts
from the package model's initial state. The package runs as users run it (float32, metrics
recorded every step); the reference records nothing, so the comparison flatters the reference.

    python experiments/benchmarks/vs_mesa.py [--sizes 1000 10000] [--repeats 3] [--json out.json]

Target (issue #6): the package at least 100x faster at 10k customers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

import numpy as np
from cxsim_reference import PythonDraws, ReferenceMarket

import sim

TARGET_RATIO = 100.0


def measure(n: int, repeats: int, scenario: str = "baseline") -> dict:
    """Interleaved timings of both implementations at ``n`` customers."""
    overrides = {"market.customers": n}
    package = sim.CustomerMarket(scenario, rng=1, overrides=overrides)
    reference = ReferenceMarket(
        sim.CustomerMarket(
            scenario, rng=1, overrides=overrides, dtype="float64", eager_agents=False
        ),
        PythonDraws(random.Random(1)),
    )
    package.step()  # warm-up: first-touch allocations, caches
    reference.step()
    ref_steps = 1 if n >= 5_000 else 3
    pkg_steps = max(3, min(50, 200_000 // n))
    pkg, ref = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(pkg_steps):
            package.step()
        pkg.append((time.perf_counter() - t) / pkg_steps)
        t = time.perf_counter()
        for _ in range(ref_steps):
            reference.step()
        ref.append((time.perf_counter() - t) / ref_steps)
    p, r = float(np.median(pkg)), float(np.median(ref))
    return {
        "customers": n,
        "package_s": p,
        "reference_s": r,
        "ratio": r / p,
        "package_runs": pkg,
        "reference_runs": ref,
    }


def main() -> None:
    """Measure every size, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(
        f"baseline market, {args.repeats} interleaved repetitions; machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'customers':>10} {'package s/step':>15} {'Mesa agents s/step':>19} {'ratio':>8}")
    rows = []
    for n in args.sizes:
        r = measure(n, args.repeats)
        rows.append(r)
        print(
            f"{n:>10,} {r['package_s']:>15.4f} {r['reference_s']:>19.3f} {r['ratio']:>7.0f}x",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
