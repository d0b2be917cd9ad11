"""Run every shipped scenario's ablation and regenerate docs/ablations.md and its figures.

    nice -n 10 .venv/bin/python experiments/ablations/run.py               # everything
    .venv/bin/python experiments/ablations/run.py --only proactive_disclosure --replicates 4
    .venv/bin/python experiments/ablations/run.py --report-only            # page from the runs

Each scenario's sweep goes to ``results/ablations/<scenario>/`` through ``sim.sweep`` (a local
process pool on every core by default, ``--dask ADDRESS`` for a cluster); an interrupted run
resumes where it stopped. Wall time per scenario is kept in ``results/ablations/timings.json``
(summed over sessions) and reported on the page. Needs an ``if __name__ == "__main__"`` guard:
the pool's workers re-import this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ablate  # noqa: E402
import report  # noqa: E402

import sim.sweep  # noqa: E402
from sim.robustness.margins import margin_range  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

ROOT = HERE.parent.parent
DOC = ROOT / "docs" / "ablations.md"
REPLICATES = 10
"""Runs per condition unless ``--replicates`` says otherwise."""


def _command(replicates: set[int]) -> str:
    """The command that makes the page again: with ``--replicates`` unless the runs used the
    default (the page of 3 December was made with 5 and showed the command without it, which
    runs 10)."""
    command = "nice -n 10 .venv/bin/python experiments/ablations/run.py"
    if replicates != {REPLICATES}:
        command += f" --replicates {max(replicates)}"
    return command


def _timings(out: Path) -> dict[str, float]:
    path = out / "timings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    """Run the ablations asked for, then write the page from every scenario's results."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", metavar="SCENARIO", help="run only these scenarios")
    p.add_argument(
        "--replicates",
        type=int,
        default=REPLICATES,
        help=f"runs per condition (default {REPLICATES})",
    )
    p.add_argument("--workers", type=int, default=None, help="local processes (default: cores)")
    p.add_argument("--dask", metavar="ADDRESS", help="a Dask scheduler address, or 'local'")
    p.add_argument("--customers", type=int, help="market size (default: headlines.toml's)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "ablations")
    p.add_argument("--doc", type=Path, default=DOC, help="the page (figures in a folder beside it)")
    p.add_argument("--report-only", action="store_true", help="write the page, run nothing")
    args = p.parse_args(argv)

    headlines = ablate.load_headlines()
    unknown = set(args.only or []) - set(headlines)
    if unknown:
        print(f"--only: unknown scenarios {sorted(unknown)}; expected from {sorted(headlines)}")
        return 2
    todo = args.only or list(headlines)
    timings = _timings(args.out)
    executor = "dask" if args.dask == "local" else args.dask
    workers = args.workers or os.cpu_count() or 1
    if not args.report_only:
        # one pool (or one Dask cluster) for every scenario's sweep, started once, not per sweep
        with sim.sweep.make_executor(executor, workers) as shared:
            for name in todo:
                h = headlines[name]
                started = time.perf_counter()
                print(f"{name}: {h.headline}", flush=True)
                res = ablate.run_ablation(
                    h,
                    args.out / name,
                    replicates=args.replicates,
                    customers=args.customers,
                    executor=shared,
                    workers=workers,
                )
                rep = res.report
                timings[name] = timings.get(name, 0.0) + (time.perf_counter() - started)
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / "timings.json").write_text(json.dumps(timings, indent=2))
                print(
                    f"  {rep.ok} runs ({rep.skipped} already there, {rep.failed} failed) in "
                    f"{rep.seconds:.0f} s",
                    flush=True,
                )
                if rep.failed:
                    for run_id, label, replicate, error in rep.failures[:5]:
                        print(f"  failed: {label} replicate {replicate} ({run_id}): {error}")
                    return 1

    figures = args.doc.parent / "ablations_figures"
    results = []
    missing = []
    for name, h in headlines.items():
        folder = args.out / name
        if not (folder / "manifest.json").exists():
            print(f"{name}: no results in {folder}; run it first")
            missing.append(name)
            continue
        res = sim.sweep.open(folder)
        if not res.sql("SELECT count(*) FROM runs").fetchall()[0][0]:
            print(f"{name}: no finished runs in {folder}; run it first")
            missing.append(name)
            continue
        values = ablate.headline_values(res, h)
        spec = res.spec
        planned = len(res.design()) * spec.replicates  # a contrast's twin runs included
        done = res.sql("SELECT count(*) FROM runs WHERE status = 'ok'").fetchall()[0][0]
        if done < planned:
            print(f"{name}: {done} of {planned} runs finished; resume it first")
            missing.append(name)
            continue
        scenario = load_scenario(h.scenario)
        claim = h.parsed(scenario)
        summary = ablate.summarise(values, within=margin_range(claim))
        reasons = ablate.applicable(scenario)
        result = report.ScenarioResult(
            headline=h,
            claim=claim,
            summary=summary,
            skipped={s: why for s, why in reasons.items() if why},
            runs=done,  # a contrast's twin runs in the counterfactual market included
            seconds=timings.get(name, 0.0),
            customers=int(spec.fixed["market.customers"]),
            replicates=spec.replicates,
            years=int(spec.steps // scenario.steps_per_year),
        )
        report.chart(result, figures / f"{name}.png")
        results.append(result)
        on = summary[summary["switch"].isna()].iloc[0]
        print(f"{name}: all on {on['mean']:+.3f} [{on['ci_low']:+.3f}, {on['ci_high']:+.3f}]")
        print(f"  {ablate.carried_by(summary)}")
    if results:
        machine = (
            f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
        )
        report.write_doc(
            results,
            args.doc,
            figures.name,
            command=_command({r.replicates for r in results}),
            workers=workers,
            machine=machine,
            missing=missing,
        )
        print(f"wrote {args.doc} and {len(results)} figures in {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
