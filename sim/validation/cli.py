"""``cxsim validate``: run every validation check, print the table, optionally write the report.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli import non_negative_int

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``validate`` to the ``cxsim`` command line."""
    from sim.validation import CHECK_NAMES

    p = subparsers.add_parser(
        "validate",
        help="check the model against the published stylized facts",
        description="Runs each validation check at the defaults and again with the mechanism it "
        "tests switched off (its negative control, which must fail), and prints both. Exit code "
        "1 if any check fails or any negative control passes.",
    )
    p.add_argument(
        "--report",
        type=Path,
        help="also write a Markdown report with figures here (figures go to a folder next to it)",
    )
    p.add_argument("--quick", action="store_true", help="the small versions the tests run")
    p.add_argument(
        "--only",
        nargs="+",
        choices=list(CHECK_NAMES),
        metavar="CHECK",
        help=f"run only these checks: {', '.join(CHECK_NAMES)}",
    )
    p.add_argument("--seed", type=non_negative_int, default=1, help="seed (%(default)s)")
    p.add_argument(
        "--no-controls",
        action="store_true",
        help="skip the negative controls (half the time; the exit code then ignores them)",
    )
    p.set_defaults(func=cmd_validate)


def _check_report(report: Path, figures: Path) -> None:
    """Refuse, before the checks run (minutes), a ``--report`` that could not be written: a
    folder, or a place where no file can be made (``/proc/x/report.md``), or a figures folder
    beside it that is a file."""
    from sim.cli import CliError
    from sim.output import not_a_folder

    if report.is_dir():
        raise CliError(f"--report {report}: is a folder; expected a Markdown file to write")
    for folder, what in ((report.parent, "its folder"), (figures, "the figures' folder")):
        if problem := not_a_folder(folder):
            raise CliError(
                f"--report {report}: {what} {folder}: {problem}; expected a place to write "
                "the report"
            )


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the checks; 0 if all pass, 1 otherwise."""
    from rich.console import Console

    from sim.validation import run_checks
    from sim.validation.report import markdown_report, print_table

    size = "quick" if args.quick else "full"
    figures = None
    if args.report is not None:
        figures = args.report.parent / f"{args.report.stem}_figures"
        _check_report(args.report, figures)
    console = Console(stderr=True)

    def progress(result: Any) -> None:
        mark = "pass" if result.passed else "FAIL"
        line = f"  {result.name}: {mark} ({result.seconds:.0f} s)"
        if result.control is not None:
            cmark = "fails" if not result.control.passed else "PASSES"
            line += f"; mechanism off: {cmark} ({result.control.seconds:.0f} s)"
        console.print(line)

    console.print(f"running {len(args.only) if args.only else 'all'} checks ({size})...")
    controls = not args.no_controls
    results = run_checks(size, args.only, figures, args.seed, on_result=progress, controls=controls)
    print_table(results)
    if args.report is not None:
        path = markdown_report(results, args.report, size, args.seed)
        print(f"wrote {path} and {figures}/")
    ok = all(r.passed and (r.control is None or not r.control.passed) for r in results)
    return 0 if ok else 1
