"""Calibration runs stepped together against one by one: runs per second, side by side.

A calibration hands batches of parameter sets to ``sim.calibration.simulate.Simulator``; it
either maps ``run_one`` over them (each market stepped alone, as before) or cuts them into
``RunBatch`` es that each worker steps as one state (``run_batch``, issue 16). This script times
``Simulator.run`` on the same batches of the recovery benchmark's market (300 customers, 78
weekly steps, the recovery priors) both ways, alternating, on one entered executor (its workers
started and the kernels compiled by a warm-up before any timing), and checks that both ways give
the same numbers to the bit. Run keys carry the round and the mode, so nothing is reused.

Usage (from the repository root; report ``uptime`` with the figures)::

    .venv/bin/python experiments/benchmarks/calibration_batching.py --runs 200 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "experiments" / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="parameter sets per timing")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two modes")
    parser.add_argument("--workers", type=int, default=None, help="local processes (all cores)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from calibration_recovery import MARKET, _priors, template

    from sim.calibration.data import read_observed
    from sim.calibration.simulate import Simulator, run_key
    from sim.calibration.summaries import Summaries
    from sim.scenario import load_scenario
    from sim.sweep.executors import make_executor

    base = load_scenario(MARKET)
    priors = _priors()
    rows = template()
    rows["value"] = [0.0 if s == "nps" else 0.5 for s in rows["series"]]
    summaries = Summaries(read_observed(rows, [f.name for f in base.firms]), base.steps_per_year)
    rng = np.random.default_rng(args.seed)
    thetas = [
        {p.key: float(v) for p, v in zip(priors, p_row, strict=True)}
        for p_row in np.column_stack([p.sample(rng, args.runs) for p in priors])
    ]
    timings: dict[str, list[float]] = {"one by one": [], "together": []}
    with make_executor(None, args.workers) as ex:
        print(f"{ex.describe()}; load {os.getloadavg()}", flush=True)
        for together in (False, True):  # warm-up: workers started, kernels loaded
            Simulator(base, priors, summaries, args.seed, ex, batch=together).run(
                [(f"warm/{together}/{i}", thetas[i]) for i in range(min(8, args.runs))]
            )
        for r in range(args.rounds):
            got = {}
            for mode, together in (("one by one", False), ("together", True)):
                sim = Simulator(base, priors, summaries, args.seed, ex, batch=together)
                batch = [(f"bench/{r}/{i}", theta) for i, theta in enumerate(thetas)]
                t0 = time.perf_counter()
                stats = sim.run(batch)
                seconds = time.perf_counter() - t0
                timings[mode].append(args.runs / seconds)
                got[mode] = np.array([stats[run_key(label, v)] for label, v in batch])
                print(
                    f"round {r} {mode:>10}: {args.runs} runs in {seconds:6.1f} s, "
                    f"{args.runs / seconds:5.2f} runs/s, load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
            np.testing.assert_array_equal(got["one by one"], got["together"])
        workers = ex.workers
    summary = {
        "runs": args.runs,
        "rounds": args.rounds,
        "workers": workers,
        "runs_per_second": {k: [round(v, 3) for v in vs] for k, vs in timings.items()},
        "speedup_median": round(
            float(np.median(np.array(timings["together"]) / np.array(timings["one by one"]))), 2
        ),
        "same_numbers": True,
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
