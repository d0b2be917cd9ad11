"""The ``cxsim`` command line.

Subcommands here: ``run``, ``list``, ``show``, ``check``. Other layers add theirs by exposing
``register(subparsers)`` in a module listed in :data:`COMMAND_MODULES` (imported only if installed
and importable, so the core commands never pay for the UI or the sweep stack).

Every user error (a bad scenario, a bad argument, an ``--out`` that exists) is one line on stderr
starting ``cxsim: error:`` and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "COMMAND_MODULES",
    "CliError",
    "assignment_sources",
    "load_flagged",
    "main",
    "non_negative_int",
    "parse_assignments",
    "positive_int",
    "reports_errors",
    "start_pool_early",
    "step_count",
    "whole_number",
]

COMMAND_MODULES = (
    "sim.ui.cli",
    "sim.sweep.cli",
    "sim.validation.cli",
    "sim.workshop.cli",
    "sim.robustness.cli",
    "sim.calibration.cli",
)
"""Modules that may add subcommands with ``register(subparsers)``."""


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    """``["market.customers=500", "firms[0].strategy=overpromise"]`` to an overrides dict.

    Values are read as TOML literals (numbers, booleans, ``[lists]``, ``"strings"``); anything
    else is taken as a plain string.
    """
    from sim.tomlfile import TomlError, TomlTooDeep, parse_toml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--set {item!r}: expected KEY=VALUE, e.g. market.customers=500")
        try:
            value = parse_toml(f"v = {raw.strip()}")["v"]
        except TomlTooDeep as e:
            raise CliError(f"--set {key.strip()}=...: {e}") from None
        except TomlError:
            value = raw.strip()
        out[key.strip()] = value
    return out


def assignment_sources(items: Sequence[str]) -> dict[str, str]:
    """How each ``--set`` key is named in messages: ``{"market.customers": "--set
    market.customers=0"}``."""
    return {item.partition("=")[0].strip(): f"--set {item.strip()}" for item in items}


def _allow(folders: Sequence[str]) -> None:
    """Add ``--allow-extends`` folders to ``$CXSIM_ALLOW_EXTENDS`` (read by every load, here
    and in worker processes)."""
    import os

    from sim.scenario import ALLOW_ENV

    for folder in folders:
        if not Path(folder).is_dir():
            raise CliError(f"--allow-extends {folder}: expected an existing folder")
    if folders:
        current = [p for p in os.environ.get(ALLOW_ENV, "").split(os.pathsep) if p]
        os.environ[ALLOW_ENV] = os.pathsep.join([*current, *folders])


def _add_allow_extends(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-extends",
        action="append",
        default=[],
        metavar="DIR",
        help="also let scenarios 'extends' files (and read edge lists) in DIR; by default only "
        "scenarios by name and files in the scenario's own folder (or $CXSIM_ALLOW_EXTENDS)",
    )


def _progress(total: int, quiet: bool) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    if quiet:
        return (lambda done, total: None), (lambda: None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]steps"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        transient=False,
    )
    task = bar.add_task("run", total=total)
    bar.start()
    return (lambda done, _total: bar.update(task, completed=done)), bar.stop


def _signed(digits: int) -> Callable[[float], str]:
    """A formatter of numbers with a sign (``+12``, ``-3``) and ``digits`` decimals that writes
    a number rounding to zero as ``0`` (``0.000``), never ``-0`` or ``+0``.

    Parameters
    ----------
    digits
        Decimals to show.

    Returns
    -------
    Callable[[float], str]
        The formatter, e.g. ``_signed(0)(-0.3) == "0"``, ``_signed(0)(4.6) == "+5"``.
    """

    def fmt(value: float) -> str:
        text = f"{value:+.{digits}f}"
        return text[1:] if float(text) == 0 else text

    return fmt


def print_summary(model: Any) -> None:
    """The per-firm table ``cxsim run`` prints at the end."""
    from rich.console import Console
    from rich.table import Table

    df = model.summary()
    table = Table(
        title=f"{model.scenario.name}: after {model.steps} steps "
        f"({model.steps / model.steps_per_year:.1f} years), "
        f"{model.n_customers:,} customers"
    )
    columns = [
        ("firm", "name", "{}".format),
        ("industry", "industry", "{}".format),
        ("strategy", "strategy", "{}".format),
        ("customers", "customers", "{:,.0f}".format),
        ("share", "share", "{:.1%}".format),
        ("retention/yr", "retention_annual", "{:.1%}".format),
        ("NPS", "nps", _signed(0)),
        ("satisfaction", "satisfaction", "{:.2f}".format),
        ("trust", "trust", "{:.2f}".format),
        ("exp. gap", "expectation_gap", _signed(3)),
        (
            "profit/yr",
            "profit",
            lambda v: "0" if abs(v) < 0.5 else f"{v:,.0f}",  # never -0
        ),
    ]
    for header, _, _ in columns:
        table.add_column(
            header, justify="left" if header in ("firm", "industry", "strategy") else "right"
        )
    alive = {f.name: f.alive for f in model.firms}
    served = df.groupby("industry", sort=False)["customers"].sum()
    last_of_industry = set(df.groupby("industry", sort=False).tail(1).index)
    for i, row in df.iterrows():
        cells = []
        for _, col, fmt in columns:
            value = row[col]
            cells.append(
                "-"
                if value is None or (isinstance(value, float) and value != value)
                else fmt(value)
            )
        if not alive.get(row["name"], True):
            cells[0] += " (exited)"
        table.add_row(*cells)
        if i in last_of_industry:  # who in this industry has no supplier at all
            unserved = model.n_customers - served[row["industry"]]
            blank = [""] * (len(columns) - 4)
            table.add_row(
                "(unserved)", row["industry"], "", f"{unserved:,.0f}", *blank, style="dim"
            )
    table.caption = (
        "share: of the customers served in the firm's industry; "
        "(unserved): customers with no supplier in that industry"
    )
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    console.print(table)


def load_flagged(name: str, overrides: dict[str, Any], sources: dict[str, str]) -> Any:
    """The scenario ``name`` with the command line's overrides (``--set``, ``--customers``),
    each problem blamed on its flag, a ``--set network.KEY`` that the network's kind does not
    use included (it would be ignored: ``sim.scenario_network.unused_network_keys``)."""
    from sim.scenario import ScenarioError, load_scenario, unused_network_keys

    scenario = load_scenario(name, overrides or None, override_sources=sources)
    if unused := unused_network_keys(overrides, {scenario.network.kind}):
        raise ScenarioError.of([(sources.get(k) or k, k, message) for k, message in unused])
    return scenario


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario, print the per-firm table, write results."""
    from sim.model import CustomerMarket
    from sim.output import prepare_out, write_run

    _allow(args.allow_extends)
    if args.out is not None and not args.out.strip():
        raise CliError("--out '': expected a folder name, e.g. --out runs/first")
    if args.plot and not args.out:
        raise CliError("--plot needs --out DIR to write the charts into")
    if args.out:
        prepare_out(args.out, args.force)
    overrides = parse_assignments(args.set)
    sources = assignment_sources(args.set)
    if args.customers is not None:
        overrides["market.customers"] = args.customers
        sources["market.customers"] = f"--customers {args.customers}"
    scenario = load_flagged(args.scenario, overrides, sources)
    model = CustomerMarket(scenario, rng=args.seed)
    model._cxsim_seed = args.seed if args.seed is not None else model.scenario.seed
    steps = args.steps if args.steps is not None else model.scenario.steps
    update, stop = _progress(steps, args.quiet)
    try:
        model.run(steps, progress=update)
    finally:
        stop()
    print_summary(model)
    if args.out:
        out = write_run(model, args.out, force=args.force)
        written = [
            "model.parquet",
            "firms.parquet",
            "cohorts.parquet",
            "scenario.toml",
            "manifest.json",
        ]
        written += list(json.loads((out / "manifest.json").read_text())["inputs"])
        if args.plot:
            from sim.plots import plot_early_warning, plot_firm_series

            firms = model.firm_metrics()
            pngs = plot_firm_series(firms, out / "plots") + plot_early_warning(firms, out / "plots")
            written += [f"plots/{p.name}" for p in pngs]
        print(f"wrote {out}/: {', '.join(written)}")
    print(
        f"{steps} steps in {model.wall_seconds:.1f} s "
        f"({1000 * model.wall_seconds / max(1, model.steps):.1f} ms a step)"
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """One line per scenario on the search path."""
    from sim.scenario import ScenarioError, list_scenarios, load_scenario

    rows = list_scenarios()
    if not rows:
        print("no scenarios found (looked in ./scenarios and $CXSIM_SCENARIOS)")
        return 0
    width = max(len(n) for n, _, _ in rows)
    for name, path, desc in rows:
        try:
            sc = load_scenario(path)
            n = len(sc.firms)
            size = f"{sc.market.customers:>9,} customers {n:>2} {'firm ' if n == 1 else 'firms'}"
        except ScenarioError as e:
            size = f"INVALID: {e}"
        print(f"{name:<{width}}  {size}  {desc}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print the resolved scenario as TOML."""
    _allow(args.allow_extends)
    scenario = load_flagged(
        args.scenario, parse_assignments(args.set), assignment_sources(args.set)
    )
    print(scenario.to_toml(), end="")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate scenario files as ``run`` does before its first step; a line per problem."""
    from sim.scenario import ScenarioError, load_scenario
    from sim.scenario_check import check_scenario

    _allow(args.allow_extends)
    failed = 0
    for name in args.scenarios:
        try:
            sc = load_scenario(name)
            check_scenario(sc)
            n = len(sc.firms)
            firms = "1 firm" if n == 1 else f"{n} firms"
            print(f"ok  {name}: {sc.market.customers:,} customers, {firms}")
        except ScenarioError as e:
            for line in e.lines:
                print(f"BAD {line}")
            failed += 1
    return 2 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    from sim import __version__

    parser = argparse.ArgumentParser(
        prog="cxsim",
        description="Customer expectation dynamics: simulate markets of customers and firms.",
    )
    parser.add_argument("--version", action="version", version=f"cxsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run a scenario and print a table per firm")
    run.add_argument("scenario", help="scenario name (see 'cxsim list') or path to a .toml")
    run.add_argument("--steps", type=step_count, help="steps to run (default: the scenario's)")
    run.add_argument("--seed", type=non_negative_int, help="seed (default: the scenario's)")
    run.add_argument("--customers", type=positive_int, help="override market.customers")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. --set firms[0].levers.inflation=0.5",
    )
    run.add_argument("--out", help="folder for Parquet series, scenario and manifest")
    run.add_argument("--force", action="store_true", help="replace an existing --out")
    run.add_argument("--plot", action="store_true", help="also write PNG charts to OUT/plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_allow_extends(run)
    run.set_defaults(func=cmd_run)

    ls = sub.add_parser("list", help="list the scenarios, one line each")
    ls.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="print a scenario fully resolved, as TOML")
    show.add_argument("scenario")
    show.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    _add_allow_extends(show)
    show.set_defaults(func=cmd_show)

    check = sub.add_parser(
        "check", help="validate scenario files (everything 'run' checks before its first step)"
    )
    check.add_argument("scenarios", nargs="+")
    _add_allow_extends(check)
    check.set_defaults(func=cmd_check)

    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and module_name.startswith(e.name):
                continue  # that layer is not part of this installation
            raise
        module.register(sub)
    return parser


def whole_number(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """argparse type: a whole number from ``low`` (to ``high``), with a message naming the
    real limits (``--steps 0``: ``expected a whole number from 1 to 10,000,000, got 0``).

    Parameters
    ----------
    low, high
        The smallest and largest value accepted (None: no limit on that side; a command that
        checks the value itself, as ``robustness --worlds`` does, takes any whole number here).

    Returns
    -------
    Callable[[str], int]
        The type function; argparse names the option in its message.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                limits = f"from {low:,} to {high:,}"
                raise argparse.ArgumentTypeError(f"expected a whole number {limits}, got {value}")
            limits = f">= {low:,}" if low is not None else f"<= {high:,}"
            raise argparse.ArgumentTypeError(f"expected a number {limits}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


positive_int = whole_number(1)
"""argparse type: a whole number >= 1 (``expected a number >= 1, got 0``)."""

non_negative_int = whole_number(0)
"""argparse type: a whole number >= 0 (``expected a number >= 0, got -1``)."""


def step_count(text: str) -> int:
    """argparse type of ``--steps``: a whole number from 1 to the schema's limit of a scenario's
    ``steps`` (:data:`sim.scenario_schema.MAX_STEPS`, imported only when ``--steps`` is given)."""
    from sim.scenario_schema import MAX_STEPS

    return whole_number(1, MAX_STEPS)(text)


def start_pool_early(args: argparse.Namespace) -> None:
    """Start the local pool's fork server now, unless the command runs serially or on Dask
    (``--serial``, ``--dask``): its warm-up (the package's imports and kernels, 1.3-1.5 s) then
    runs while this process imports and plans (``sim.sweep.context.prestart``). A pooled command
    calls it before its own imports (docs/performance_rounds.md, twelfth round)."""
    if not (args.serial or args.dask):
        from sim.sweep.context import prestart

        prestart()


def reports_errors(
    errors: Callable[[], tuple[type[Exception], ...]],
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """A command's handler that prints a user error, one of ``errors()``, as one ``cxsim:
    error:`` line and returns 2.

    :func:`main` does the same, but when it runs as ``python -m sim.cli`` its module is
    ``__main__`` and its ``CliError`` is not the one the other layers raise; a command module
    handling its own keeps the promise either way. ``errors`` is called only when an exception
    is being handled: importing the exceptions' modules first (the executors import pandas and
    the model) would hold back a pool's fork server that the command starts before its own
    imports (docs/performance_rounds.md, twelfth round)."""

    def wrap(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(func)
        def wrapper(args: argparse.Namespace) -> int:
            try:
                return func(args)
            except errors() as e:
                print(f"cxsim: error: {e}", file=sys.stderr)
                return 2

        return wrapper

    return wrap


def _user_errors() -> tuple[type[Exception], ...]:
    """The exceptions that are the user's to fix: one line, exit code 2.

    Imported only when an exception is being handled, so that a light command (``--help``,
    ``list``) does not import the modules that define them.
    """
    from sim.output import OutputExistsError
    from sim.scenario import ScenarioError

    return ScenarioError, CliError, OutputExistsError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cxsim``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code = 1
    try:
        code = _run(args)
        return code
    finally:
        if code not in (0, 1) and "multiprocessing.forkserver" in sys.modules:
            from sim.sweep.context import stop_server

            stop_server()  # a pooled command's fork server may still be warming up


def _run(args: argparse.Namespace) -> int:
    """The command's exit code: 0 done, 1 done with failures or a reader gone, 2 a user error,
    130 interrupted."""
    started = time.perf_counter()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that went away (`cxsim list | head`) shows here
        return code
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # nothing more to write, not even at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except _user_errors() as e:
        for line in str(e).splitlines() or [""]:
            print(f"cxsim: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"cxsim: interrupted after {time.perf_counter() - started:.1f} s; nothing written",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    # `python -m sim.cli` runs this file as __main__: use the one sim.cli module, so that the
    # CliError other layers raise is the class main() catches.
    from sim.cli import main as _main

    sys.exit(_main())
