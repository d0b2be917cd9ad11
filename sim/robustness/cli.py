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

from sim.cli import non_negative_int, positive_int, start_pool_early, whole_number

__all__ = ["cmd_facts", "cmd_robustness", "register"]


def _moves(text: str) -> int | str:
    """``--moves``: a whole number or ``auto`` (argparse names the option on a bad value; the
    fit checks the number's limit, as it does for a resumed fit's)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of at least 1, or auto, got {text!r}"
        ) from None


def register(subparsers: Any) -> None:
    """Add ``robustness`` to the ``cxsim`` parser."""
    from sim.robustness.facts import FACTS
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
    p.add_argument(
        "--worlds",
        type=whole_number(),  # plan_study says the limits, 8 to 100,000
        help="plausible worlds (default: 128; at least 8)",
    )
    p.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="EXPR",
        help="test this claim instead of the scenario's (repeatable), e.g. "
        "'firms.Keeper.share > firms.Hunter.share'",
    )
    p.add_argument("--no-charts", action="store_true", help="no PNG figures")

    f = subparsers.add_parser(
        "facts",
        help="fit the plausible worlds to the published facts (for robustness --posterior)",
        description="Keep the plausible worlds that reproduce the published facts the model "
        "was calibrated against (validation checks measured at quick size in each world): "
        "sequential Monte Carlo with Metropolis moves over the plausible ranges, until every "
        "fitted world reproduces every fact. "
        "Writes posterior.parquet for 'cxsim robustness --posterior', and a report of which "
        "facts the ranges miss, which ranges the fitted worlds narrow and which of those the "
        "facts hold (the knockout: each redrawn in the fitted worlds, kept when that loses "
        "clearly more worlds than a new seed). Resumable: rerun the same command. See "
        "docs/robustness.md.",
    )
    f.add_argument("--out", default="results/facts", help="fit folder (default: %(default)s)")
    f.add_argument(
        "--facts",
        metavar="NAMES",
        type=lambda text: [n.strip() for n in text.split(",") if n.strip()],
        default=list(FACTS),
        help="the validation checks to fit to, comma-separated (default: "
        + ",".join(FACTS)
        + "; may add retention_rises_with_tenure, which is then not out-of-sample)",
    )
    f.add_argument("--ranges", metavar="FILE", help="robustness file: its ranges and holds")
    f.add_argument(
        "--population", type=positive_int, default=128, help="worlds per generation (%(default)s)"
    )
    f.add_argument(
        "--generations",
        type=positive_int,
        default=14,
        help="at most this many generations (%(default)s); stops once every world fits",
    )
    f.add_argument(
        "--max-worlds",
        type=positive_int,
        default=20_000,
        help="at most this many worlds measured (%(default)s)",
    )
    f.add_argument(
        "--seed",
        type=non_negative_int,
        default=2027,
        help="proposals' and redraws' seed (%(default)s)",
    )
    f.add_argument(
        "--moves",
        type=_moves,
        default=1,
        metavar="N|auto",
        help="Metropolis steps a generation (%(default)s); 'auto': as many as leave a world "
        "unmoved with probability 0.01 at the measured acceptance, at most 20 (fitted worlds "
        "less clustered by lineage, several times the worlds measured)",
    )
    f.add_argument("--workers", type=positive_int, help="local processes (default: all cores)")
    f.add_argument("--force", action="store_true", help="discard a different fit in --out")
    f.add_argument(
        "--no-holdout",
        action="store_true",
        help="skip the tests of the fitted worlds: the out-of-sample checks, the facts with "
        "the next seed and the knockout (a few minutes; the knockout, more)",
    )
    f.add_argument(
        "--no-knockout",
        action="store_true",
        help="skip the knockout: each narrowed range redrawn in the fitted worlds, to see "
        "whether the facts hold it (about 0.4 s of a core per world and range: 20 min of a "
        "core for 83 worlds and 39 ranges)",
    )
    f.set_defaults(func=cmd_facts)


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
    from sim.cli import CliError, assignment_sources, parse_assignments
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
        sources = assignment_sources(args.set)
        if args.customers is not None:
            fixed["market.customers"] = args.customers
            sources["market.customers"] = f"--customers {args.customers}"
        study = plan_study(
            args.spec,
            args.ranges,
            posterior=args.posterior,
            claims=args.claim or None,
            worlds=args.worlds,
            replicates=args.replicates,
            steps=args.steps,
            fixed=fixed,
            fixed_sources=sources,
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


def _test_fit(fit: Any, plan: Any, workers: int) -> tuple[Any, Any]:
    """The fitted worlds on the out-of-sample checks (with the prior sample's worlds) and on
    the facts with the next seed; None for a test that does not apply."""
    from sim.robustness.holdout import holdout_table, out_of_sample
    from sim.robustness.reseed import reseed_table

    fitted = fit.posterior.drop_duplicates()
    holdout = None
    checks = out_of_sample(plan.facts)
    if checks:
        sets = {"plausible": fit.prior_worlds, "fitted": fitted}
        print(
            f"  the out-of-sample checks in {len(sets['plausible'])} plausible and "
            f"{len(fitted)} fitted worlds",
            flush=True,
        )
        holdout = holdout_table(sets, plan.out, workers=workers, checks=checks)
    if not fit.reproduces:  # the test asks whether a pass survives another draw
        return holdout, None
    print(f"  the facts again in the {len(fitted)} fitted worlds, with the next seed", flush=True)
    seed = plan.facts_seed + 1
    return holdout, reseed_table(fitted, plan.facts, plan.out, seed=seed, workers=workers)


def _knockout(fit: Any, plan: Any, seed: int, workers: int, reseed: Any) -> Any:
    """Each narrowed range redrawn in the fitted worlds (:mod:`sim.robustness.knockout`)."""
    from sim.robustness.fit_report import constrained_table
    from sim.robustness.knockout import knockout_table

    n = int(constrained_table(fit)["narrowed"].sum())
    worlds = len(fit.posterior.drop_duplicates())
    print(
        f"  the knockout: each of the {n} narrowed ranges redrawn in the {worlds} fitted worlds",
        flush=True,
    )
    return knockout_table(
        fit, plan.out, seed=seed, facts_seed=plan.facts_seed, workers=workers, reseed=reseed
    )


def cmd_facts(args: argparse.Namespace) -> int:
    """Fit (or resume fitting) the plausible worlds to the published facts."""
    import time

    from sim.robustness.fit import FitError, fit_facts, plan_fit
    from sim.robustness.fit_report import facts_table, write_fit
    from sim.robustness.report import lineages_caveat
    from sim.scenario import ScenarioError
    from sim.sweep.cli import print_error
    from sim.sweep.executors import available_cores
    from sim.sweep.store import SweepStoreError

    started = time.perf_counter()
    workers = args.workers or available_cores()
    try:
        plan = plan_fit(
            args.out,
            args.ranges,
            population=args.population,
            seed=args.seed,
            facts=args.facts,
            moves=args.moves,
            force=args.force,
        )
        print(
            f"facts: {', '.join(plan.facts)}; "
            f"{len(plan.ranges)} parameters, {args.population} worlds a generation, "
            f"{workers} workers -> {args.out}",
            flush=True,
        )

        def on_start(t: int, eps: float) -> None:
            what = "prior sample" if t == 0 else f"generation {t}, threshold {eps:.3g}"
            print(f"  {what} ({time.perf_counter() - started:.0f} s)", flush=True)

        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            fit = fit_facts(
                plan.out,
                plan.ranges,
                population=args.population,
                seed=args.seed,
                workers=workers,
                generations=args.generations,
                max_simulations=args.max_worlds,
                facts_seed=plan.facts_seed,
                facts=plan.facts,
                moves=plan.moves,
                on_start=on_start,
            )
            fitted = time.perf_counter()
            holdout, reseed = (None, None) if args.no_holdout else _test_fit(fit, plan, workers)
            knockout = None
            if fit.reproduces and not (args.no_holdout or args.no_knockout):
                knockout = _knockout(fit, plan, args.seed, workers, reseed)
        finally:
            signal.signal(signal.SIGTERM, previous)
    except KeyboardInterrupt:
        print(
            f"cxsim: interrupted: the worlds measured are kept in {args.out}; rerun the same "
            "command to resume",
            file=sys.stderr,
        )
        return 130
    except (FitError, ScenarioError, SweepStoreError) as e:
        return print_error(e)
    tested = time.perf_counter() - fitted if holdout is not None or reseed is not None else None
    report = write_fit(
        fit, plan.out, fitted - started, holdout, reseed, knockout, tests_seconds=tested
    )
    for r in facts_table(fit).itertuples():
        print(
            f"  {r.fact:<36} {100 * r.prior_share:4.0f}% of plausible worlds, "
            f"{100 * r.fitted_share:4.0f}% of fitted"
        )
    if holdout is not None:
        for r in holdout.itertuples():
            print(f"  {r.check:<36} {100 * r.share:4.0f}% of {r.decided} {r.worlds} worlds")
    if reseed is not None:
        r = reseed.iloc[-1]
        print(
            f"  with the next seed, {100 * r.share:.0f}% of {r.decided} fitted worlds still "
            "reproduce every fact"
        )
    if knockout is not None:
        from sim.robustness.knockout import summary

        print(f"  {summary(knockout)}")
    print(
        f"{fit.simulations:,} worlds measured in {fit.generations} "
        f"generation{'' if fit.generations == 1 else 's'}; "
        + (
            "every fitted world reproduces every fact"
            if fit.reproduces
            else "the fitted worlds do not all reproduce every fact yet (rerun with more "
            "--generations)"
        )
    )
    posterior = plan.out / "posterior.parquet"
    lineages = lineages_caveat(posterior)
    if lineages:
        print(f"  {lineages}")
    print(f"report in {report}; use: cxsim robustness SCENARIO --posterior {posterior}")
    return 0 if fit.reproduces else 1
