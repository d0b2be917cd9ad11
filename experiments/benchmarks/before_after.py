"""The step of this tree against an earlier version of the package, side by side, by phase.

    python experiments/benchmarks/before_after.py --ref 7cd5fe2 [--customers 1000 10000 ...]
        [--steps 20] [--rounds 3] [--before-engines numba numpy]

``--ref`` is a git commit (or ``--before PATH`` a source tree holding the earlier ``sim``
package; ``--after-ref`` another commit instead of this working tree); the earlier package is
unpacked into a temporary folder with ``git archive``, outside this package, and imported from
there. Each size runs in fresh processes, alternating before and
after ``--rounds`` times (so a change in the machine's load hits both), each process stepping the
baseline market once to warm up and then ``--steps`` timed steps; the table gives the median over
rounds of each process's median step, wall and CPU time (CPU: all threads together), and the
ratio after / before. Earlier versions of the package had two engines (``engine="numba"`` and
``"numpy"``); each is measured when the earlier package has them (``--before-engines``).

Per phase (each a step's total; the hooks follow the package's version: ``sim.rules.STEPS``
or, with two engines, ``PHASES`` and ``run_in_blocks``; since issue 16 the market's batch of one,
``sim.batch``, runs the decisions and holds the recorder): the firms' decisions (phase 1, with
their visibility), phases 2 to 5 (one kernel since issue #6 on the numba engine), word of mouth,
teaching (since issue 11), switching, acquisition, economics, the metrics of a recorded step, and
the rest of the step. Prints both tables and writes them to ``--out`` as CSV. ``WORKER`` is also
``phases.py``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]

WORKER = r"""
import inspect, json, sys, time
from collections import defaultdict
import numpy as np
import sim
import sim.rules as rules

n, steps, engine = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
markets = int(sys.argv[4]) if len(sys.argv) > 4 else 1  # > 1: a batch of markets (sim.batch)
scenario = sys.argv[5] if len(sys.argv) > 5 else "baseline"
kwargs = {}
if "engine" in inspect.signature(sim.CustomerMarket.__init__).parameters:
    kwargs["engine"] = engine
wall, cpu = defaultdict(list), defaultdict(list)  # per step: the step's total of each part
step_wall, step_cpu = defaultdict(float), defaultdict(float)


def timed(name, fn):
    def run(*args, **kw):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args, **kw)
        step_wall[name] += time.perf_counter() - w
        step_cpu[name] += time.process_time() - c
        return out
    return run


FUSED = "phases 2-5"
if hasattr(rules, "STEPS"):  # one engine: phases 2-5 are the step "customers"
    rules.STEPS = tuple(
        (name, timed(FUSED if name == "customers" else name, fn)) for name, fn in rules.STEPS
    )
else:  # two engines: phases 2-5 run through run_in_blocks
    rules.run_in_blocks = timed(FUSED, rules.run_in_blocks)
    rules.PHASES = tuple(
        (name, fn if name in rules._BLOCKED_NAMES else timed(name, fn))
        for name, fn in rules.PHASES
    )
model = sim.CustomerMarket(scenario, rng=1, overrides={"market.customers": n}, **kwargs)
if markets > 1:  # B markets of n customers, different seeds, stepped together
    from sim.batch import MarketBatch

    size = {"market.customers": n}
    others = [sim.CustomerMarket(scenario, rng=s, overrides=size) for s in range(2, markets + 1)]
    model = MarketBatch([model, *others])
if hasattr(model, "batch") or markets > 1:  # since issue 16 markets are stepped by a batch
    import sim.batch as stepped

    recorder = model.recorder if markets > 1 else model.batch.recorder
    stepped.update_visibility = timed("decisions", stepped.update_visibility)
    stepped.decide = timed("decisions", stepped.decide)
else:
    recorder = model.recorder
    model._update_visibility = timed("decisions", model._update_visibility)
    model._decide = timed("decisions", model._decide)
recorder.record = timed("metrics", recorder.record)
whole = timed("whole step", model.step)


def step():
    step_wall.clear(), step_cpu.clear()
    whole()
    for name in step_wall:
        wall[name].append(step_wall[name])
        cpu[name].append(step_cpu[name])


step()
wall.clear(), cpu.clear()
for _ in range(steps):
    step()
out = {name: [float(np.median(wall[name])), float(np.median(cpu[name]))] for name in wall}
parts = [v for k, v in out.items() if k != "whole step"]
out["rest"] = [out["whole step"][i] - sum(v[i] for v in parts) for i in (0, 1)]
print(json.dumps(out))
"""

PHASE_ORDER = [
    "whole step",
    "decisions",
    "phases 2-5",
    "word_of_mouth",
    "teaching",
    "switching",
    "acquisition",
    "economics",
    "metrics",
    "rest",
]


def measure(tree: Path, n: int, steps: int, engine: str) -> dict[str, list[float]]:
    """``{phase: [wall s, cpu s]}`` for one process importing ``sim`` from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), str(steps), engine],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,  # its own scenarios/ on the search path
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree} n={n} {engine}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def unpack(ref: str, into: Path) -> Path:
    """The package and its scenarios at git ``ref`` of this repository, unpacked into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "sim", "scenarios"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def has_engines(tree: Path) -> bool:
    return (tree / "sim" / "engine.py").exists()


def main() -> None:
    """Measure, print and write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--ref", help="git commit of the earlier package")
    where.add_argument("--before", type=Path, help="source tree holding the earlier sim/")
    parser.add_argument(
        "--after-ref", help="git commit to measure as 'after' (default: this working tree)"
    )
    parser.add_argument("--customers", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before-engines", nargs="+", default=["numba", "numpy"])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as tmp_after:
        before = args.before or unpack(args.ref, Path(tmp))
        after = unpack(args.after_ref, Path(tmp_after)) if args.after_ref else ROOT
        engines = args.before_engines if has_engines(before) else ["numba"]
        variants = [(f"before {e}", before, e) for e in engines] + [("after", after, "-")]
        rows = []
        for n in args.customers:
            for r in range(args.rounds):
                for label, tree, engine in variants:
                    steps = max(3, args.steps if n < 1_000_000 else args.steps // 2)
                    for phase, (w, c) in measure(tree, n, steps, engine).items():
                        row = {"customers": n, "variant": label, "round": r, "phase": phase}
                        rows.append({**row, "wall_ms": 1000 * w, "cpu_ms": 1000 * c})
                print(f"  {n:,} customers, round {r + 1}/{args.rounds} done", file=sys.stderr)
    df = pd.DataFrame(rows)
    med = df.groupby(["customers", "variant", "phase"])[["wall_ms", "cpu_ms"]].median()
    args.out.mkdir(parents=True, exist_ok=True)
    med.to_csv(args.out / "before_after.csv")
    machine = platform.processor() or platform.machine()
    load = os.getloadavg()[0]
    print(f"machine: {machine}, {os.cpu_count()} cores, load average {load:.2f} at the end; "
          f"medians of {args.rounds} rounds")  # fmt: skip
    labels = [v[0] for v in variants]
    print("\nwhole step, ms (wall / CPU)")
    print(f"{'customers':>10} " + " ".join(f"{lab:>22}" for lab in labels) + "  after/best before")
    for n in args.customers:
        cells, walls = [], {}
        for lab in labels:
            w, c = med.loc[(n, lab, "whole step")]
            walls[lab] = w
            cells.append(f"{w:>10.2f} / {c:>9.2f}")
        best = min(v for k, v in walls.items() if k != "after")
        print(f"{n:>10,} " + " ".join(f"{c:>22}" for c in cells) + f"  {walls['after'] / best:.2f}")
    for n in args.customers:
        print(f"\nby phase, {n:,} customers, wall ms")
        table = med.loc[n]["wall_ms"].unstack("variant").reindex(PHASE_ORDER)[labels]
        print(table.round(2).to_string())


if __name__ == "__main__":
    main()
