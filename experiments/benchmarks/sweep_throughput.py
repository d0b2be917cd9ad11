"""Sweep throughput: runs per second for each executor and worker count.

Runs the same small sweep (a grid over the over-promiser's inflation in overpromise_vs_honest)
in this process, on the local process pool with 1 and 2 workers, and on Dask (a LocalCluster
with 1 and 2 worker processes, or a scheduler you started, ``--dask tcp://host:8786``), each into
a fresh temporary folder, and prints:

- ``wall``: the whole ``sim.sweep.run`` call, including starting the workers;
- ``runs/s``: runs / wall;
- ``steady runs/s``: runs finished per second between the first and the last result (what a
  long sweep approaches once the workers are up);
- ``run s``: mean seconds of one run on its worker;
- ``efficiency``: steady runs/s / (workers / run s), how much of the workers' time goes to runs.

It also checks that every executor produced the same numbers. Usage::

    .venv/bin/python experiments/benchmarks/sweep_throughput.py            # 640 runs, ~45 s
    .venv/bin/python experiments/benchmarks/sweep_throughput.py --runs 20 --steps 52
    .venv/bin/python experiments/benchmarks/sweep_throughput.py --dask tcp://10.0.0.5:8786

The ``if __name__ == "__main__":`` guard matters: worker processes are started with "spawn".
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
from batched_sweep import spec as batched_spec  # this folder: the benchmarks' one sweep

import sim.sweep as sw
from sim.sweep.executors import DaskExecutor, LocalExecutor, SerialExecutor, available_cores
from sim.sweep.worker import RunResult


class Clock:
    """A progress receiver that only notes when each run finished."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def start(self, total: int, done: int, failed: int, executor: str) -> None:
        self.times = []

    def update(self, result: RunResult) -> None:
        self.times.append(time.perf_counter())

    def stop(self) -> None:
        pass


def spec(runs: int, customers: int, steps: int) -> dict:
    return batched_spec(runs, customers, steps, "throughput", 13 if steps >= 13 else 1)


def measure(name: str, executor: sw.Executor, data: dict, workers: int) -> dict:
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        res = sw.run(data, Path(tmp) / "out", executor=executor, progress=clock)  # default chunks
        wall = time.perf_counter() - started
        runs = res.runs()
        frame = res.df("firms")
    n = len(runs)
    t = clock.times
    steady = (len(t) - 1) / (t[-1] - t[0]) if len(t) > 2 and t[-1] > t[0] else float("nan")
    run_s = float(runs["seconds"].mean())
    return {
        "executor": name,
        "workers": workers,
        "runs": n,
        "wall s": wall,
        "runs/s": n / wall,
        "steady runs/s": steady,
        "run s": run_s,
        "efficiency": steady / (workers / run_s),
        "_frame": frame,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=640, help="runs per measurement")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=104, help="steps per run (104: 2 years)")
    parser.add_argument(
        "--dask", default="local", help="'local' (LocalCluster) or a scheduler address"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    data = spec(args.runs, args.customers, args.steps)
    print(
        f"{platform.node()}: {available_cores()} cores, Python {platform.python_version()}; "
        f"{args.runs} runs of {args.steps} steps, {args.customers} customers "
        f"(overpromise_vs_honest)"
    )
    rows = [measure("serial", SerialExecutor(), data, 1)]
    for w in args.workers:
        rows.append(measure("local pool", LocalExecutor(w), data, w))
    if not args.no_dask:
        if args.dask == "local":
            for w in args.workers:
                rows.append(measure("dask LocalCluster", DaskExecutor("local", w), data, w))
        else:
            ex = DaskExecutor(args.dask)
            rows.append(measure(f"dask {args.dask}", ex, data, ex.workers))
    reference = rows[0]["_frame"]
    for r in rows[1:]:
        pd.testing.assert_frame_equal(reference, r["_frame"])
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "_frame"} for r in rows])
    with pd.option_context("display.float_format", "{:.2f}".format, "display.width", 120):
        print(table.to_string(index=False))
    print("every executor produced identical numbers")


if __name__ == "__main__":
    main()
