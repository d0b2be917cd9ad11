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
import math
import signal
import sys
from pathlib import Path
from typing import Any

from sim.cli import positive_int, reports_errors, start_pool_early
from sim.precision import fixed, interval_places

__all__ = ["cmd_analyze", "cmd_sensitivity", "cmd_sweep", "mean_and_half_width", "register"]


def _errors() -> tuple[type[Exception], ...]:
    """The exceptions of a sweep's commands that are the user's to fix (``reports_errors``)."""
    from sim.cli import CliError
    from sim.scenario import ScenarioError
    from sim.sweep.executors import ExecutorError
    from sim.sweep.store import SweepStoreError

    return CliError, ScenarioError, SweepStoreError, ExecutorError


_user_errors = reports_errors(_errors)


def _step(text: str) -> int | str:
    return "final" if text == "final" else positive_int(text)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="sweep file, e.g. experiments/overpromise_inflation.toml")
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
    p.add_argument(
        "--workers",
        type=positive_int,
        help="worker processes (default: all cores; with --dask only for 'local')",
    )
    p.add_argument("--replicates", type=positive_int, help="override the spec's replicates")
    p.add_argument("--steps", type=positive_int, help="override the spec's steps per run")
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
    analyze.set_defaults(func=cmd_analyze)

    sens = subparsers.add_parser(
        "sensitivity",
        help="run a Sobol' or Morris sweep and report its indices",
        description="Run (or resume) a sweep whose design is sobol or morris, then print and "
        "chart the sensitivity indices of its outcomes with 95% CIs.",
    )
    _add_run_options(sens)
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
        return DaskExecutor(address, args.workers)
    return LocalExecutor(args.workers)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace, *, need_sensitivity: bool = False) -> tuple[Any, int]:
    """Run the sweep of ``args``; returns (results, exit code)."""
    start_pool_early(args)
    from sim.cli import CliError, parse_assignments
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


def mean_and_half_width(mean: float, half: float) -> str:
    """``mean ± half`` to the place of the half-width's second significant digit
    (:func:`sim.precision.interval_places`: ``0.797 ± 0.039``, ``5 ± 656`` rather than
    ``4.84 ± 656``). A half-width of 0 gives ``mean ± 0``; without one (NaN, infinite) the mean
    alone, as :func:`_num` writes it."""
    if mean != mean:
        return "-"
    if not math.isfinite(half):
        return _num(mean)
    places = interval_places(half)
    if places is None:  # no width, or a tiny one: both in significant digits (0 is "0")
        return f"{_num(mean)} ± {abs(half):.2g}"
    return f"{fixed(mean, places)} ± {fixed(abs(half), places)}"


def _cell(row: Any) -> str:
    return mean_and_half_width(row["mean"], row["half_width"])


def _print_summary(report: Any, results: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 220))
    s = report.summary
    if s.empty:
        console.print("no finished runs to summarise yet")
        return
    at = "final step" if report.at == "final" else f"step {report.at}"
    table = Table(
        title=f"{results.name}: mean ± 95% CI half-width across replicates, at the "
        f"{at} (n = replicates with a value)"
    )
    table.add_column("design point", no_wrap=True)
    columns: list[tuple[str, str | None]] = []
    for o in report.outcomes:
        present = set(s.loc[s["outcome"] == o.text, "firm"])
        firms = [f for f in results.firm_names() if f in present] if o.per_firm else [o.firm]
        for firm in firms:
            columns.append((o.text, firm))
            short = SHORT.get(o.metric, o.metric)
            head = short if firm is None else f"{short}\n{firm}"
            table.add_column(escape(head), justify="right")
    table.add_column("n", justify="right")
    for point in dict.fromkeys(s["point"]):
        rows = s[s["point"] == point]
        cells = [escape(str(rows["label"].iloc[0]))]
        for text, firm in columns:
            m = rows[
                (rows["outcome"] == text)
                & ((rows["firm"] == firm) if firm is not None else rows["firm"].isna())
            ]
            cells.append(_cell(m.iloc[0]) if len(m) else "-")
        n = sorted(set(rows["n"]))
        cells.append(str(n[0]) if len(n) == 1 else f"{n[0]}-{n[-1]}")
        table.add_row(*cells)
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

    try:
        report = analyze(
            results,
            outcomes=args.outcome or None,
            at=args.at,
            x=getattr(args, "x", None),
            y=getattr(args, "y", None),
            out_dir=getattr(args, "out", None) if not indices_only else None,
            charts=not args.no_charts,
        )
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
