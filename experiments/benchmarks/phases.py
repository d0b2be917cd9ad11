"""Milliseconds per step phase of the baseline market, on each engine.

    python experiments/benchmarks/phases.py [--customers 100000 1000000] [--steps 10]
        [--engines numba numpy]

Each size and engine runs in its own process: a warm-up step, then ``--steps`` timed steps.
Every phase of ``sim.rules.PHASES`` (phases 2-5 as one, since they run fused), the metrics of a
recorded step and the rest of the step (the firms' decisions, counting customers, bookkeeping)
are timed with the wall clock and the process's CPU clock; the table shows medians. Use it to
see where a step's time goes before optimizing, and to compare engines phase by phase.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

WORKER = r"""
import json, sys, time
from collections import defaultdict
import numpy as np
import sim
import sim.rules as rules
import sim.metrics as metrics

n, steps = int(sys.argv[1]), int(sys.argv[2])
model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": n})
model.step()
wall, cpu = defaultdict(list), defaultdict(list)


def timed(name, fn):
    def run(*args, **kwargs):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        wall[name].append(time.perf_counter() - w)
        cpu[name].append(time.process_time() - c)
        return out
    return run


rules.STEPS = tuple(
    (name, timed("phases 2-5" if name == "customers" else name, fn)) for name, fn in rules.STEPS
)
model.recorder.record = timed("metrics (recorded step)", model.recorder.record)
step = timed("whole step", model.step)
for _ in range(steps):
    step()
out = {}
for name in wall:
    out[name] = [1000 * float(np.median(wall[name])), 1000 * float(np.median(cpu[name]))]
parts = sum(v[0] for k, v in out.items() if k != "whole step")
out["rest of the step"] = [out["whole step"][0] - parts, float("nan")]
print(json.dumps(out))
"""


def measure(n: int, steps: int, engine: str) -> dict[str, list[float]]:
    """``{phase: [wall ms, cpu ms]}`` for one size and engine, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), str(steps), engine],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure and print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--engines", nargs="+", default=["numba", "numpy"])
    args = parser.parse_args()
    for n in args.customers:
        results = {engine: measure(n, args.steps, engine) for engine in args.engines}
        names = list(next(iter(results.values())))
        names.sort(key=lambda k: (k == "whole step", k == "rest of the step"))
        print(f"\n{n:,} customers, median of {args.steps} steps: wall ms (CPU ms)")
        print(f"{'phase':<26}" + "".join(f"{e:>20}" for e in args.engines))
        for name in names:
            cells = []
            for engine in args.engines:
                wall, cpu = results[engine].get(name, [float("nan")] * 2)
                cells.append(f"{wall:8.1f}" + (f" ({cpu:7.1f})" if cpu == cpu else " " * 10))
            print(f"{name:<26}" + "".join(f"{c:>20}" for c in cells))


if __name__ == "__main__":
    main()
