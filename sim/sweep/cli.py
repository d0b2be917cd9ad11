"""``cxsim sweep``, ``cxsim analyze`` and ``cxsim sensitivity``: the sweep layer's commands.

``sim.cli`` imports this module and calls :func:`register`; heavy imports (the model, pandas,
DuckDB, Dask, SALib, matplotlib) happen inside the commands, so ``cxsim --help`` stays fast.
User errors are raised as ``sim.cli.CliError`` or ``SpecError`` and printed by ``sim.cli.main``
as one ``cxsim: error:`` line. Exit codes: 0 done, 1 done with failed runs, 2 user error,
130 interrupted (finished runs are kept; rerun the same command to resume).

This module never imports the UI.
"""

from __future__ import annotations

import argparse
import functools
import math
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.cli import positive_int, start_pool_early, step_count
from sim.precision import fixed, interval_places

__all__ = [
    "add_dask_timeout",
    "cmd_analyze",
    "cmd_sensitivity",
    "cmd_sweep",
    "column_places",
    "mean_and_half_width",
    "print_error",
    "register",
]


def _errors() -> tuple[type[Exception], ...]:
    """The exceptions of a sweep's commands that are the user's to fix (``reports_errors``)."""
    from sim.cli import CliError
    from sim.scenario import ScenarioError
    from sim.sweep.executors import ExecutorError
    from sim.sweep.store import SweepStoreError

    return CliError, ScenarioError, SweepStoreError, ExecutorError


def print_error(error: Exception) -> int:
    """Print a user error as ``cxsim: error:`` lines, one per problem (a sweep or robustness
    file with several problems names each on its own line); returns the exit code, 2."""
    for line in str(error).splitlines() or [""]:
        print(f"cxsim: error: {line}", file=sys.stderr)
    return 2


def _user_errors(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command's handler that prints a user error, one of :func:`_errors`, with
    :func:`print_error` and returns 2 (as ``sim.cli.reports_errors``, a line per problem)."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except _errors() as e:
            return print_error(e)

    return wrapper


def _step(text: str) -> int | str:
    return "final" if text == "final" else positive_int(text)


def add_dask_timeout(p: argparse.ArgumentParser) -> None:
    """``--dask-timeout``: how long ``--dask ADDRESS`` waits for its scheduler to answer
    (``sim.sweep.executors.DaskExecutor``'s ``timeout``, 20 s unless given)."""
    p.add_argument(
        "--dask-timeout",
        type=positive_int,
        metavar="SECONDS",
        help="with --dask: seconds to wait for the scheduler to answer before giving up "
        "(default: 20)",
    )


def _add_run_options(
    p: argparse.ArgumentParser, example: str = "experiments/overpromise_inflation.toml"
) -> None:
    p.add_argument("spec", help=f"sweep file, e.g. {example}")
    p.add_argument(
        "--out",
        help="results folder (default: results/<sweep name>); rerun with the same folder to resume",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler "
        "address (tcp://10.0.0.5:8786) or 'local' for a LocalCluster",
    )
    where.add_argument(
        "--serial", action="store_true", help="run in this process, one run at a time (debugging)"
    )
    add_dask_timeout(p)
    p.add_argument(
        "--workers",
        type=positive_int,
        help="worker processes (default: all cores; with --dask only for 'local')",
    )
    p.add_argument("--replicates", type=positive_int, help="override the spec's replicates")
    p.add_argument("--steps", type=step_count, help="override the spec's steps per run")
    p.add_argument("--customers", type=positive_int, help="override market.customers")
    p.add_argument(
        "--samples", type=positive_int, help="override design.samples (lhs, sobol, morris)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fixed scenario override for every run, e.g. --set network.k=6",
    )
    p.add_argument(
        "--chunk-runs",
        type=positive_int,
        help="runs per Parquet chunk (default: about 4 chunks per worker)",
    )
    p.add_argument(
        "--retry-failed", action="store_true", help="run again the runs recorded as failed"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="delete the results of a different sweep in --out instead of refusing",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--outcome",
        action="append",
        default=[],
        metavar="NAME",
        help="outcome to summarise (repeatable; default: the spec's), e.g. "
        "retention_annual, firms.profit, 'firms.Big Promises.share'",
    )
    p.add_argument("--at", type=_step, help="step to summarise (default: the spec's, 'final')")
    p.add_argument("--no-charts", action="store_true", help="tables only, no PNG charts")


def register(subparsers: Any) -> None:
    """Add ``sweep``, ``analyze`` and ``sensitivity`` to the ``cxsim`` parser."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep (experiments/*.toml) to Parquet; resumable",
        description="Run every design point and replicate of a sweep file, streaming results "
        "to Parquet chunks in --out. Rerun the same command after a crash or Ctrl-C: only "
        "missing runs run.",
    )
    _add_run_options(sweep)
    sweep.add_argument("--analyze", action="store_true", help="run 'cxsim analyze' at the end")
    sweep.set_defaults(func=cmd_sweep)

    analyze = subparsers.add_parser(
        "analyze",
        help="means with 95%% CIs per design point, indices, charts",
        description="Summarise a sweep's results folder: mean and t-based 95% CI across "
        "replicates per design point; Sobol'/Morris indices for sensitivity designs; PNG charts "
        "and CSV tables in RESULTS/analysis.",
    )
    analyze.add_argument("results", help="the --out folder of 'cxsim sweep'")
    _add_analysis_options(analyze)
    analyze.add_argument("--x", help="parameter along the charts' x axis")
    analyze.add_argument("--y", help="second parameter (lines, heatmap)")
    analyze.add_argument("--out", help="folder for tables and charts (default: RESULTS/analysis)")
    analyze.add_argument(
        "--survivors",
        action="store_true",
        help="every firm outcome over the replicates in which the firm is in business (by "
        "default share, profit and other counts and money flows are over all replicates, an "
        "exited firm counting as 0)",
    )
    analyze.set_defaults(func=cmd_analyze)

    sens = subparsers.add_parser(
        "sensitivity",
        help="run a Sobol' or Morris sweep and report its indices",
        description="Run (or resume) a sweep whose design is sobol or morris, then print and "
        "chart the sensitivity indices of its outcomes with 95% CIs.",
    )
    _add_run_options(sens, example="experiments/sobol_core.toml")
    _add_analysis_options(sens)
    sens.set_defaults(func=cmd_sensitivity)


# -- running -----------------------------------------------------------------------------------


def _executor(args: argparse.Namespace) -> Any:
    from sim.cli import CliError
    from sim.sweep.executors import DaskExecutor, LocalExecutor, SerialExecutor

    if args.serial:
        return SerialExecutor()
    if args.dask:
        address = args.dask.strip()
        if address != "local" and "://" not in address:
            if ":" not in address:
                raise CliError(
                    f"--dask {args.dask!r}: expected 'local' or a scheduler address "
                    "like tcp://10.0.0.5:8786"
                )
            address = f"tcp://{address}"
        timeout = getattr(args, "dask_timeout", None)
        if timeout is None:
            return DaskExecutor(address, args.workers)
        return DaskExecutor(address, args.workers, timeout=timeout)
    return LocalExecutor(args.workers)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace, *, need_sensitivity: bool = False) -> tuple[Any, int]:
    """Run the sweep of ``args``; returns (results, exit code)."""
    start_pool_early(args)
    from sim.cli import CliError, assignment_sources, parse_assignments
    from sim.sweep.plan import build_plan
    from sim.sweep.progress import format_seconds, make_progress
    from sim.sweep.runner import SweepInterrupted, run
    from sim.sweep.spec import load_spec

    spec = load_spec(args.spec)
    fixed = parse_assignments(args.set)
    changes = (args.replicates, args.steps, args.customers, args.samples)
    if any(v is not None for v in changes) or fixed:
        spec = spec.with_changes(
            replicates=args.replicates,
            steps=args.steps,
            customers=args.customers,
            samples=args.samples,
            fixed=fixed,
            sources=assignment_sources(args.set),
        )
    if need_sensitivity and spec.design.kind not in ("sobol", "morris"):
        raise CliError(
            f"{args.spec}: design.kind: expected sobol or morris for "
            f"'cxsim sensitivity', got {spec.design.kind!r} (use 'cxsim sweep')"
        )
    plan = build_plan(spec)
    out = Path(args.out or Path("results") / plan.spec.name)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        results = run(
            plan,
            out,
            executor=_executor(args),
            progress=make_progress(args.quiet),
            chunk_runs=args.chunk_runs,
            retry_failed=args.retry_failed,
            force=args.force,
            argv=list(sys.argv),
        )
    except SweepInterrupted as e:
        r = e.report
        print(
            f"cxsim: interrupted after {format_seconds(r.seconds)}: {r.ran} runs of this "
            f"session are saved in {e.out}; rerun the same command to run the "
            f"{r.total - r.skipped - r.ran} missing",
            file=sys.stderr,
        )
        return None, 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    r = results.report
    print(
        f"sweep {plan.spec.name}: {r.total} runs ({r.skipped} already done); this session "
        f"{r.ok} ok, {r.failed} failed in {format_seconds(r.seconds)} ({r.rate:.2f} runs/s) on "
        f"{r.executor}"
    )
    print(f"results in {out}/ (next: cxsim analyze {out})")
    if r.failures:
        print(f"failed runs ({len(r.failures)}), recorded in the errors table:")
        for run_id, label, rep, error in r.failures[:20]:
            print(f"  {run_id}  {label}  replicate {rep}: {error}")
        if len(r.failures) > 20:
            print(f"  ... and {len(r.failures) - 20} more (sim.sweep.open('{out}').errors())")
    return results, 1 if r.failures else 0


@_user_errors
def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) a sweep; optionally analyse it."""
    results, code = _run(args)
    if results is not None and args.analyze:
        ns = argparse.Namespace(
            results=str(results.root),
            outcome=[],
            at=None,
            x=None,
            y=None,
            out=None,
            no_charts=False,
            survivors=False,
        )
        cmd_analyze(ns)
    return code


# -- analysis ----------------------------------------------------------------------------------


SHORT = {
    "retention_annual": "retention/yr",
    "retention_weekly": "retention/wk",
    "expectation_gap": "exp. gap",
    "control_mutuality": "ctrl. mutuality",
}
"""Column headers of long metric names in the summary table."""


def _num(v: float) -> str:
    if v != v:
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    return f"{v:.3g}"


def _cut(mean: float, half: float, ends: tuple[float, float] | None) -> bool:
    """Whether the interval's kept ``ends`` are narrower than ``mean ± half``: it passed what
    the metric can take."""
    return ends is not None and (ends[0] > mean - abs(half) or ends[1] < mean + abs(half))


def mean_and_half_width(
    mean: float,
    half: float,
    places: int | None = None,
    ends: tuple[float, float] | None = None,
) -> str:
    """``mean ± half`` to the place of the half-width's second significant digit
    (:func:`sim.precision.interval_places`: ``0.797 ± 0.039``, ``5 ± 656`` rather than
    ``4.84 ± 656``). A half-width of 0 gives ``mean ± 0``, or, given the ``places`` of the
    column it stands in (:func:`column_places`), both to those places (``1.000 ± 0.000`` under
    ``0.501 ± 0.039``); without a half-width (NaN, infinite) the mean alone, as :func:`_num`
    writes it.

    Parameters
    ----------
    mean, half
        The mean and the half-width of its interval.
    places
        Decimals of the other cells of the column, for a half-width of 0.
    ends
        The interval's ends kept within the values the metric can take
        (:func:`sim.sweep.analysis.add_ci`'s ``ci_low`` and ``ci_high``). Where one was cut (a
        share's ``0.22 ± 0.47`` over three replicates, one of them 0), the cell gives the mean
        and those ends, ``0.22 [0.00, 0.69]``: a ``±`` would claim values below 0.

    Returns
    -------
    str
        The cell's text.
    """
    if mean != mean:
        return "-"
    if not math.isfinite(half):
        return _num(mean)
    if half == 0 and places is not None:
        return f"{fixed(mean, places)} ± {fixed(0.0, places)}"
    own = interval_places(half)
    if _cut(mean, half, ends):
        low, high = (_num(e) if own is None else fixed(e, own) for e in ends)
        return f"{_num(mean) if own is None else fixed(mean, own)} [{low}, {high}]"
    if own is None:  # no width, or a tiny one: both in significant digits (0 is "0")
        return f"{_num(mean)} ± {abs(half):.2g}"
    return f"{fixed(mean, own)} ± {fixed(abs(half), own)}"


def column_places(half_widths: Any) -> int | None:
    """The decimals a column of ``mean ± half`` cells writes: the most any of its half-widths
    asks for (:func:`sim.precision.interval_places`); None when none has a usable width."""
    found = [interval_places(h) for h in half_widths if h == h and math.isfinite(h) and h != 0]
    found = [p for p in found if p is not None]
    return max(found) if found else None


def _in_business(rows: Any, firm: str) -> str:
    """``k of n`` replicates in which ``firm`` is in business (rows of one design point)."""
    m = rows[(rows["firm"] == firm) & rows["in_business"].notna()]
    if not len(m):
        return "?"
    return f"{int(m['in_business'].iloc[0])} of {int(m['replicates'].iloc[0])}"


def population_caption(report: Any) -> str:
    """Which replicates each column's mean is over, for the summary table's caption."""
    from sim.sweep.analysis import ALL_REPLICATES

    s = report.summary
    if report.survivors:
        firm_outcomes = [o for o in report.outcomes if o.table == "firms"]
        if firm_outcomes:
            return (
                "--survivors: every firm outcome is over the replicates in which the firm is "
                "in business ('in business'); market outcomes over all replicates"
            )
        return "every outcome over all replicates"
    groups: dict[str, list[str]] = {}
    firm_zero = False
    for o in report.outcomes:
        over = s.loc[s["outcome"] == o.text, "over"]
        pop = str(over.iloc[0]) if len(over) else ALL_REPLICATES
        name = SHORT.get(o.metric, o.metric)
        groups.setdefault(pop, [])
        if name not in groups[pop]:
            groups[pop].append(name)
        firm_zero |= pop == ALL_REPLICATES and o.table == "firms"
    parts = []
    if ALL_REPLICATES in groups:
        zero = " (a firm out of business counts as 0)" if firm_zero else ""
        parts.append(f"{', '.join(groups[ALL_REPLICATES])}: over all replicates{zero}")
    rest = [name for pop, names in groups.items() if pop != ALL_REPLICATES for name in names]
    if rest:
        parts.append(
            f"{', '.join(rest)}: over the replicates in which the firm is in business "
            "('in business'; --survivors puts every firm outcome over them)"
        )
    return "; ".join(parts)


def _print_summary(report: Any, results: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 220))
    s = report.summary
    at = "the final step" if report.at == "final" else f"step {report.at}"
    table = Table(
        title=f"{results.name}: mean ± 95% CI half-width across replicates, at {at} "
        "(n = replicates averaged)",
        caption=escape(population_caption(report)),
    )
    table.add_column("design point", no_wrap=True)
    columns: list[tuple[str, str | None]] = []
    business: list[str] = []
    for o in report.outcomes:
        present = set(s.loc[s["outcome"] == o.text, "firm"])
        firms = [f for f in results.firm_names() if f in present] if o.per_firm else [o.firm]
        for firm in firms:
            columns.append((o.text, firm))
            short = SHORT.get(o.metric, o.metric)
            head = short if firm is None else f"{short}\n{firm}"
            table.add_column(escape(head), justify="right")
            if firm is not None and firm not in business:
                business.append(firm)
    for firm in business:
        table.add_column(escape(f"in business\n{firm}"), justify="right")
    table.add_column("n", justify="right")
    places = {}
    for text, firm in columns:
        m = s[(s["outcome"] == text) & ((s["firm"] == firm) if firm else s["firm"].isna())]
        places[text, firm] = column_places(m["half_width"])
    cut = False
    for point in dict.fromkeys(s["point"]):
        rows = s[s["point"] == point]
        cells = [escape(str(rows["label"].iloc[0]))]
        for text, firm in columns:
            m = rows[
                (rows["outcome"] == text)
                & ((rows["firm"] == firm) if firm is not None else rows["firm"].isna())
            ]
            if not len(m):
                cells.append("-")
                continue
            mean, half = m["mean"].iloc[0], m["half_width"].iloc[0]
            ends = (m["ci_low"].iloc[0], m["ci_high"].iloc[0])
            cells.append(mean_and_half_width(mean, half, places[text, firm], ends))
            cut |= _cut(mean, half, ends)
        cells += [_in_business(rows, firm) for firm in business]
        n = sorted(set(rows["n"]))
        cells.append(str(n[0]) if len(n) == 1 else f"{n[0]}-{n[-1]}")
        table.add_row(*cells)
    if cut:
        table.caption += escape(
            "; mean [low, high]: the interval's ends, where mean ± half-width would pass what "
            "the metric can take (a share below 0)"
        )
    console.print(table)


def _print_indices(indices: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for outcome in dict.fromkeys(indices["outcome"]):
        rows = indices[indices["outcome"] == outcome]
        sobol = rows["method"].iloc[0] == "sobol"
        table = Table(
            title=f"{escape(rows['title'].iloc[0])}: {'Sobol' if sobol else 'Morris'} indices "
            "(± 95% CI half-width)"
        )
        table.add_column("parameter")
        heads = ("S1 (first order)", "ST (total)") if sobol else ("mu*", "sigma")
        for h in heads:
            table.add_column(h, justify="right")
        for _, r in rows.iterrows():
            if sobol:
                table.add_row(
                    escape(str(r["parameter"])),
                    f"{r['S1']:.3f} ± {r['S1_conf']:.3f}",
                    f"{r['ST']:.3f} ± {r['ST_conf']:.3f}",
                )
            else:
                table.add_row(
                    escape(str(r["parameter"])),
                    mean_and_half_width(r["mu_star"], r["mu_star_conf"]),
                    _num(r["sigma"]),
                )
        console.print(table)


def _analyze(results: Any, args: argparse.Namespace, *, indices_only: bool = False) -> Any:
    from sim.cli import CliError
    from sim.sweep.report import analyze
    from sim.sweep.store import SweepStoreError

    try:
        report = analyze(
            results,
            outcomes=args.outcome or None,
            at=args.at,
            x=getattr(args, "x", None),
            y=getattr(args, "y", None),
            out_dir=getattr(args, "out", None) if not indices_only else None,
            charts=not args.no_charts,
            survivors=getattr(args, "survivors", False),
        )
    except SweepStoreError:  # names the --out folder itself
        raise
    except ValueError as e:
        raise CliError(f"{results.root}: {e}") from None
    if not indices_only:
        _print_summary(report, results)
    if report.indices is not None and len(report.indices):
        _print_indices(report.indices)
    for note in report.notes:
        print(f"note: {note}")
    pngs = [f for f in report.files if f.suffix == ".png"]
    csvs = [f for f in report.files if f.suffix == ".csv"]
    where = csvs[0].parent if csvs else results.root / "analysis"
    print(f"wrote {where}/: {', '.join(f.name for f in csvs + pngs)}")
    return report


@_user_errors
def cmd_analyze(args: argparse.Namespace) -> int:
    """Summarise a results folder: table of means with CIs, indices, charts."""
    from sim.cli import CliError
    from sim.sweep.results import SweepResults

    results = SweepResults(args.results)
    if not results.files("runs"):
        raise CliError(
            f"{args.results}: no finished runs yet; expected 'cxsim sweep' to have "
            "written at least one chunk"
        )
    _analyze(results, args)
    return 0


@_user_errors
def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Run (or resume) a Sobol' or Morris sweep, then report its indices."""
    results, code = _run(args, need_sensitivity=True)
    if results is None:
        return code
    report = _analyze(results, args, indices_only=True)
    if report.indices is None or not len(report.indices):
        return max(code, 1)
    return code
