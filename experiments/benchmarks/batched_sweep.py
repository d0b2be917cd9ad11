"""Many small markets: the batched sweep against a copy of main's sweep code, in one run.

Issue 16's targets for sweeps of small markets, measured side by side on this machine:

- runs per second at 1,000 customers x 104 steps, at least 5x main's, on one worker and on all
  local cores (``sim.sweep.run(..., executor="local")``);
- 2 local workers at least 90% of linear scaling, from the wall time of the same total work
  (``wall(1 worker) / (2 * wall(2 workers))``);
- 10,000 runs of 1,000 customers x 520 steps in at most 10 minutes on all local cores
  (measured on ``--long-runs`` runs of 520 steps and scaled to 10,000, or all of them with
  ``--long-runs 10000``);
- memory bounded whatever the number of runs: the largest resident size of the sweep's worker
  processes for two sweep lengths.

"main" is the sweep code of a git revision (``--baseline``, default ``main``), extracted with
``git archive`` into ``~/.cache/cxsim-bench/<commit>`` and run in a subprocess with that folder
first on ``PYTHONPATH`` (its workers inherit it), with this checkout's virtualenv. Every
measurement runs in its own process, after a warm-up sweep that loads (or first compiles) the
kernels; the figures are wall times of ``sim.sweep.run`` including starting the workers. The
sweep is overpromise_vs_honest at 1,000 customers over a grid of the over-promiser's inflation,
two replicates, keeping every 13th step, as ``sweep_throughput.py``. The batched sweep's numbers
are the same as this checkout's unbatched sweep (checked here on the firm tables); main's
numbers differ (other random numbers: issue 16, step 1).

Usage::

    .venv/bin/python experiments/benchmarks/batched_sweep.py              # ~15 min
    .venv/bin/python experiments/benchmarks/batched_sweep.py --runs 100 --long-runs 100
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cxsim-bench"


def spec(runs: int, customers: int, steps: int) -> dict:
    replicates = 2
    points = max(1, math.ceil(runs / replicates))
    values = [round(0.5 * i / max(1, points - 1), 6) for i in range(points)]
    return {
        "name": "batched",
        "scenario": "overpromise_vs_honest",
        "seed": 1,
        "replicates": replicates,
        "steps": steps,
        "set": {"market.customers": customers},
        "parameters": [
            {"key": "firms.Big Promises.levers.inflation", "name": "inflation", "values": values}
        ],
        "output": {"every": min(13, steps)},
    }


# -- one measurement, in its own process (the code under test is first on sys.path) ---------


def measure(args: argparse.Namespace) -> None:
    import sim.sweep as sw

    extra = {} if args.batch == "main" else {"batch": args.batch == "yes"}
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: load (or compile) the kernels
        sw.run(spec(2, 200, 3), Path(tmp) / "w", executor="serial", **extra)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        res = sw.run(
            spec(args.runs, args.customers, args.steps),
            Path(tmp) / "out",
            executor="local",
            workers=args.workers,
            **extra,
        )
        wall = time.perf_counter() - started
        ok = int(res.report.ok)
        digest = ""
        if args.digest:
            firms = res.df("firms").sort_values(["run_id", "step", "firm"])
            cols = ["run_id", "step", "firm", "customers", "nps", "trust", "cash"]
            digest = str(pd_hash(firms[cols]))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "ok": ok, "worker_rss_mb": children, "digest": digest}))


def pd_hash(frame) -> int:
    import pandas as pd

    return int(pd.util.hash_pandas_object(frame, index=False).sum())


# -- the comparison ------------------------------------------------------------------------


def baseline_copy(rev: str) -> Path:
    """Main's code at ``rev``, extracted once into the cache."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", rev], check=True, capture_output=True, text=True
    ).stdout.strip()
    where = CACHE / sha
    if not (where / "sim" / "__init__.py").exists():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "sim", "scenarios"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def run(code: Path, batch: str, runs: int, workers: int, steps: int, digest: bool = False) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--measure",
        "--batch",
        batch,
        "--runs",
        str(runs),
        "--workers",
        str(workers),
        "--steps",
        str(steps),
    ]
    if digest:
        cmd.append("--digest")
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["runs/s"] = out["ok"] / out["wall"]
    return out


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=160, help="runs of 104 steps per sweep")
    parser.add_argument("--long-runs", type=int, default=200, help="runs of 520 steps")
    parser.add_argument("--baseline", default="main", help="git revision of 'main's code")
    parser.add_argument("--customers", type=int, default=1000)
    # one measurement (internal)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", default="yes", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=104, help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return

    cores = os.cpu_count()
    print(
        f"{platform.node()}: {cores} cores, Python {platform.python_version()}, "
        f"load {load()} at the start; {args.customers} customers, overpromise_vs_honest"
    )
    main_code = baseline_copy(args.baseline)
    rows = []

    def row(label: str, code: Path, batch: str, runs: int, workers: int, steps: int) -> dict:
        r = run(code, batch, runs, workers, steps, digest=batch != "main" and steps == 104)
        r.update(label=label, runs=runs, workers=workers, steps=steps, load=load())
        rows.append(r)
        print(
            f"  {label:<28} {workers} worker(s) {runs:>5} runs x {steps} steps: "
            f"{r['wall']:7.1f} s, {r['runs/s']:6.2f} runs/s, workers' peak RSS "
            f"{r['worker_rss_mb']:.0f} MB (load {r['load']})",
            flush=True,
        )
        return r

    n = args.runs
    main1 = row(f"main ({args.baseline})", main_code, "main", n, 1, 104)
    main2 = row(f"main ({args.baseline})", main_code, "main", n, 2, 104)
    single1 = row("this, one market per run", ROOT, "no", n, 1, 104)
    batch1 = row("this, batched", ROOT, "yes", n, 1, 104)
    batch2 = row("this, batched", ROOT, "yes", n, 2, 104)
    double = row("this, batched", ROOT, "yes", 2 * n, 2, 104)
    long2 = row("this, batched", ROOT, "yes", args.long_runs, 2, 520)

    same = single1["digest"] == batch1["digest"] == batch2["digest"]
    print()
    print("| target | measured | met |")
    print("|---|---|---|")
    speed1 = batch1["runs/s"] / main1["runs/s"]
    speed2 = batch2["runs/s"] / main2["runs/s"]
    print(
        f"| runs/s at 1k x 104, >= 5x main | 1 worker {batch1['runs/s']:.1f} vs "
        f"{main1['runs/s']:.1f} ({speed1:.1f}x); 2 workers {batch2['runs/s']:.1f} vs "
        f"{main2['runs/s']:.1f} ({speed2:.1f}x) | {'yes' if min(speed1, speed2) >= 5 else 'no'} |"
    )
    eff = batch1["wall"] / (2 * batch2["wall"])
    eff_main = main1["wall"] / (2 * main2["wall"])
    print(
        f"| 2 workers >= 90% of linear (same work) | batched {eff:.0%} (main {eff_main:.0%}) | "
        f"{'yes' if eff >= 0.9 else 'no'} |"
    )
    per_run = long2["wall"] / long2["ok"]
    projected = per_run * 10_000
    print(
        f"| 10,000 x 1k x 520 in <= 10 min | {long2['ok']} runs in {long2['wall']:.0f} s: "
        f"{projected / 60:.1f} min for 10,000 | {'yes' if projected <= 600 else 'no'} |"
    )
    print(
        f"| memory bounded | workers' peak RSS {batch2['worker_rss_mb']:.0f} MB at {n} runs, "
        f"{double['worker_rss_mb']:.0f} MB at {2 * n} | "
        f"{'yes' if double['worker_rss_mb'] < 1.25 * batch2['worker_rss_mb'] else 'no'} |"
    )
    print(
        f"| batched = one by one (firm tables) | {'identical' if same else 'DIFFER'} | "
        f"{'yes' if same else 'no'} |"
    )
    print(f"\nload at the end: {load()}")


if __name__ == "__main__":
    main()
