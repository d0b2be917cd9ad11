"""Seconds per step, build time and peak memory of the baseline market at 1k to 1M customers.

Each size runs in its own process so that its peak resident memory is its own. Prints a table,
writes ``step_scaling.csv`` and a log-log ``step_scaling.png`` into the output folder given
(default ``results/benchmarks``), and with ``--json`` the figures for ``run_all.py``.

    python experiments/benchmarks/step_scaling.py [--sizes 1000 10000 100000 1000000]
        [--steps 20] [--scenario baseline] [--out results/benchmarks] [--json FILE]

Seconds per step are the median wall-clock time of the timed steps (metrics recorded every step,
as by default), after a warm-up step that also loads or compiles the kernels; ``cpu ms`` is the
median CPU time of the process over the same steps: all threads' time, so above the wall clock
when the kernels run on several cores (``threads``: numba's threads, ``NUMBA_NUM_THREADS``).
The targets (issues #2 and #6): 100k customers x 520 steps in <= 30 s; 1M customers <= 0.5 s a
step within 4 GB; the 1M-customer network built in <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, resource, sys, time
import numba
import numpy as np
import sim
n, steps, scenario = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
model = sim.CustomerMarket(scenario, rng=1, overrides={"market.customers": n})
build = time.perf_counter() - t0
model.step()  # warm-up: first-touch allocations, loading (or compiling) the kernels
times, cpu = [], []
for _ in range(steps):
    t, c = time.perf_counter(), time.process_time()
    model.step()
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"customers": n, "threads": numba.get_num_threads(),
                  "build_s": build, "network_s": model.network_seconds,
                  "step_s_median": float(np.median(times)), "step_s_mean": float(np.mean(times)),
                  "step_s_min": float(np.min(times)), "cpu_s_median": float(np.median(cpu)),
                  "steps": steps, "peak_rss_mb": rss,
                  "state_mb": model.customer_state.nbytes() / 2**20}))
"""


def measure(n: int, steps: int, scenario: str) -> dict:
    """Run one size in a fresh process and return its figures."""
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), str(steps), scenario],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure every size, print the table, write CSV and PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    rows = []
    print(
        f"{args.scenario}: {args.steps} timed steps per size; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'customers':>10} {'build s':>8} {'network s':>9} {'ms/step':>9} "
        f"{'cpu ms':>8} {'520 steps s':>11} {'peak MB':>8} {'state MB':>8}"
    )
    for n in args.sizes:
        steps = args.steps if n < 1_000_000 else max(5, args.steps // 2)
        r = measure(n, steps, args.scenario)
        rows.append(r)
        print(
            f"{n:>10,} {r['build_s']:>8.2f} {r['network_s']:>9.2f} "
            f"{1000 * r['step_s_median']:>9.1f} {1000 * r['cpu_s_median']:>8.1f} "
            f"{520 * r['step_s_median']:>11.1f} "
            f"{r['peak_rss_mb']:>8.0f} {r['state_mb']:>8.0f}",
            flush=True,
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    df = pd.DataFrame(rows)
    df.to_csv(out / "step_scaling.csv", index=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=120)
    threads = int(df["threads"].max())
    label = "seconds per step" + (f" ({threads} threads)" if threads > 1 else "")
    ax.loglog(df["customers"], df["step_s_median"], "o-", label=label)
    ax.loglog(
        df["customers"],
        df["build_s"],
        "s--",
        label="build seconds (network included; Mesa agents are made on first use)",
    )
    ax.loglog(df["customers"], df["network_s"], "x:", label="network build seconds")
    ref = df["step_s_median"].iloc[0] * df["customers"] / df["customers"].iloc[0]
    ax.loglog(df["customers"], ref, ":", color="gray", label="linear in N")
    ax.axhline(0.5, color="C3", lw=0.8, ls="--", label="1M target: 0.5 s a step")
    ax.set_xlabel("customers")
    ax.set_ylabel("seconds")
    ax.set_title(f"{args.scenario}: cost of a step and of building the market")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "step_scaling.png")
    print(f"wrote {out / 'step_scaling.csv'} and {out / 'step_scaling.png'}")


if __name__ == "__main__":
    main()
