"""``cxsim robustness``: a scenario's claims over its plausible worlds.

``sim.cli`` imports this module and calls :func:`register`; the heavy imports happen inside the
command. Exit codes: 0 done, 1 done with failed runs, 2 user error, 130 interrupted (the finished
runs are kept; rerun the same command to resume).

This module never imports the UI.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from sim.cli import positive_int, start_pool_early

__all__ = ["cmd_robustness", "register"]


def register(subparsers: Any) -> None:
    """Add ``robustness`` to the ``cxsim`` parser."""
    from sim.sweep.cli import _add_run_options

    p = subparsers.add_parser(
        "robustness",
        help="the odds of a scenario's claims over the plausible worlds, and where they flip",
        description="Sample the plausible worlds (the schema's parameter ranges, a robustness "
        "file's, or a calibration posterior), run each with replicates on the sweep executors "
        "(resumable), and report for each claim of the scenario the share of worlds where it "
        "holds with a 95% interval, the parameters that decide it and, with PRIM, the "
        "conditions where it flips. See docs/robustness.md.",
    )
    _add_run_options(p)
    p.set_defaults(func=cmd_robustness)
    for action in p._actions:  # the sweep options, reworded for a study
        if action.dest == "spec":
            action.help = "scenario name or .toml file that states [[claims]]"
            action.metavar = "SCENARIO"
        elif action.dest == "out":
            action.help = "study folder (default: results/robustness/<scenario>); rerun to resume"
        elif action.dest == "replicates":
            action.help = "runs per world (default: the robustness file's, else 2)"
        elif action.dest == "samples":
            action.help = argparse.SUPPRESS
    p.add_argument("--ranges", metavar="FILE", help="robustness file: worlds, ranges, fixed set")
    p.add_argument("--posterior", metavar="FILE", help="calibration posterior (Parquet)")
    p.add_argument("--worlds", type=positive_int, help="plausible worlds (default: 128)")
    p.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="EXPR",
        help="test this claim instead of the scenario's (repeatable), e.g. "
        "'firms.Keeper.share > firms.Hunter.share'",
    )
    p.add_argument("--no-charts", action="store_true", help="no PNG figures")


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _print(analysis: Any) -> None:
    from sim.robustness.report import decided_by

    st = analysis.study
    print(
        f"\n{st.scenario.name}: {len(analysis.worlds)} worlds x {st.config.replicates} "
        f"replicates, {len(st.ranges)} parameters varied"
    )
    for v in analysis.verdicts:
        print(f"\n  {v.claim.name}: {v.claim.text}")
        print(f"    {v.sentence()}")
        print(f"    {decided_by(v)}")


def cmd_robustness(args: argparse.Namespace) -> int:
    """Plan, run (or resume) and report a robustness study."""
    start_pool_early(args)
    from sim.cli import CliError, parse_assignments
    from sim.robustness.report import analyze, write_report
    from sim.robustness.study import plan_study, run_study
    from sim.scenario import ScenarioError
    from sim.sweep.cli import _executor, print_error
    from sim.sweep.executors import ExecutorError
    from sim.sweep.progress import format_seconds, make_progress
    from sim.sweep.runner import SweepInterrupted
    from sim.sweep.store import SweepStoreError

    try:
        fixed = parse_assignments(args.set)
        if args.customers is not None:
            fixed["market.customers"] = args.customers
        study = plan_study(
            args.spec,
            args.ranges,
            posterior=args.posterior,
            claims=args.claim or None,
            worlds=args.worlds,
            replicates=args.replicates,
            steps=args.steps,
            fixed=fixed,
        )
        out = Path(args.out or Path("results") / "robustness" / study.scenario.name)
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            results = run_study(
                study,
                out,
                executor=_executor(args),
                progress=make_progress(args.quiet),
                force=args.force,
                argv=list(sys.argv),
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
    except SweepInterrupted as e:
        r = e.report
        print(
            f"cxsim: interrupted after {format_seconds(r.seconds)}: {r.ran} runs of this "
            f"session are saved in {e.out}; rerun the same command to run the "
            f"{r.total - r.skipped - r.ran} missing",
            file=sys.stderr,
        )
        return 130
    except (CliError, ScenarioError, SweepStoreError, ExecutorError) as e:
        return print_error(e)
    r = results.report
    print(
        f"robustness {study.scenario.name}: {r.total} runs ({r.skipped} already done); this "
        f"session {r.ok} ok, {r.failed} failed in {format_seconds(r.seconds)} on {r.executor}"
    )
    analysis = analyze(study, results, seed=study.config.seed)
    report = write_report(analysis, out, figures=not args.no_charts)
    _print(analysis)
    print(f"\nreport in {report} (figures, claims.csv, worlds.parquet beside it)")
    return 1 if r.failures else 0
