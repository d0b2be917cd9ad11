"""``cxsim calibrate``: fit a scenario's unknown parameters to observed series.

``sim.cli`` imports this module and calls :func:`register`; the model, pyabc and Dask are
imported inside the command, so ``cxsim --help`` stays fast. Exit codes: 0 done, 2 user error
(bad scenario, data, calibration file or output folder: one ``cxsim: error:`` line), 130
interrupted (finished runs are kept; rerun the same command to resume).

This module never imports the UI.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from sim.cli import non_negative_int, positive_int, reports_errors, start_pool_early

__all__ = ["cmd_calibrate", "register"]


def _errors() -> tuple[type[Exception], ...]:
    """The exceptions of ``cxsim calibrate`` that are the user's to fix (``reports_errors``)."""
    from sim.calibration.errors import CalibrationError
    from sim.cli import CliError
    from sim.scenario import ScenarioError
    from sim.sweep.executors import ExecutorError

    return CliError, ScenarioError, CalibrationError, ExecutorError


_user_errors = reports_errors(_errors)


def register(subparsers: Any) -> None:
    """Add ``calibrate`` to the ``cxsim`` parser."""
    from sim.sweep.cli import add_dask_timeout

    p = subparsers.add_parser(
        "calibrate",
        help="fit unknown parameters to observed retention, churn, NPS or share (ABC-SMC)",
        description="Fit the unknown parameters of a scenario to observed series by "
        "approximate Bayesian computation (ABC-SMC, pyabc). Writes the posterior, credible "
        "intervals, an identifiability table, predictive bands over the data and a fitted "
        "scenario. Rerun with the same --out to resume. See docs/calibration.md.",
    )
    p.add_argument("scenario", help="scenario name (see 'cxsim list') or path to a .toml")
    p.add_argument("data", help="observed series: .csv or .parquet (docs/calibration.md)")
    p.add_argument("calibration", help="calibration file: unknown parameters, priors, budget")
    p.add_argument("--out", required=True, help="output folder; rerun with it to resume")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address (tcp://10.0.0.5:8786) or 'local'",
    )
    where.add_argument(
        "--serial", action="store_true", help="run in this process, one run at a time"
    )
    add_dask_timeout(p)
    p.add_argument(
        "--workers",
        type=positive_int,
        help="worker processes (default: all cores; with --dask only for 'local')",
    )
    p.add_argument("--population", type=positive_int, help="override calibration.population")
    p.add_argument("--generations", type=positive_int, help="override calibration.generations")
    p.add_argument(
        "--max-simulations",
        type=positive_int,
        help="override calibration.max_simulations (no generation starts past it)",
    )
    p.add_argument("--seed", type=non_negative_int, help="override calibration.seed")
    p.add_argument("--force", action="store_true", help="replace another calibration in --out")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_calibrate)


@_user_errors
def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run (or resume) a calibration and print the posterior's intervals."""
    start_pool_early(args)
    from sim.calibration.spec import load_calibration
    from sim.cli import CliError
    from sim.scenario import load_scenario

    # the scenario, the calibration file, the options and the data are checked before the
    # calibration's own imports (pyabc, SciPy: 1.8 s), so that a typo in any is told at once
    scenario = load_scenario(args.scenario)
    spec = load_calibration(args.calibration, scenario)
    if args.population is not None and args.population < 10:
        raise CliError(f"--population: expected at least 10, got {args.population}")
    spec = spec.with_changes(
        population=args.population,
        generations=args.generations,
        max_simulations=args.max_simulations,
        seed=args.seed,
    )
    from sim.calibration.run import CalibrationInterrupted, calibrate, prepare

    prepare(scenario, args.data, spec, data_name=args.data)
    from rich.console import Console
    from rich.table import Table

    from sim.calibration.progress import generations, make_progress
    from sim.sweep.cli import _executor, _raise_interrupt
    from sim.sweep.progress import format_seconds

    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise CliError(
            "cxsim calibrate needs pyabc, which the 'calibrate' extra installs: "
            "pip install -e '.[calibrate]' (make install does)"
        ) from None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        result = calibrate(
            scenario,
            args.data,
            spec,
            args.out,
            executor=_executor(args),
            workers=args.workers,
            progress=make_progress(args.quiet),
            force=args.force,
            argv=sys.argv,
            data_name=args.data,
        )
    except CalibrationInterrupted as e:
        print(
            f"cxsim: interrupted; {e.runs} runs of this session kept in {e.out}/. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    table = Table(title=f"posterior of {len(spec.priors)} parameters ({result.runs_used} runs)")
    for header in ("parameter", "prior", "median", "90% interval", "width/prior", "verdict"):
        table.add_column(header, justify="left" if header in ("parameter", "prior") else "right")
    ident = result.identifiability.set_index("parameter")
    for _, r in result.intervals.iterrows():
        i = ident.loc[r["parameter"]]
        table.add_row(
            r["parameter"],
            r["prior"],
            f"{r['median']:.4g}",
            f"[{r['q05']:.4g}, {r['q95']:.4g}]",
            f"{i['ratio']:.2f}",
            i["verdict"],
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 140))
    console.print(table)
    fitted = result.bands[~result.bands["holdout"]]
    held = result.bands[result.bands["holdout"]]
    line = f"{fitted['inside90'].mean():.0%} of the fitted points inside their 90% band"
    if len(held):
        line += f", {held['inside90'].mean():.0%} of the held-out points"
    print(line)
    done = generations(result.generations)
    if result.stopped_by == "max_simulations":
        done += (
            f" of {spec.generations}: max_simulations {spec.max_simulations} reached, by "
            f"{result.runs_used} runs (the generation that crossed it ran to its end)"
        )
    elif result.stopped_by == "min_epsilon":
        done += f" of {spec.generations}: min_epsilon {spec.min_epsilon:g} reached"
    print(
        f"{done}, threshold {result.epsilon:.3g}; this session "
        f"{result.runs_this_session} runs in {format_seconds(result.seconds)} (with the "
        "predictive bands' and those of a generation's last batch it did not need)"
    )
    print(
        f"wrote {result.out}/: {', '.join(result.files)} (next: cxsim run {result.out}/fitted.toml)"
    )
    return 0
