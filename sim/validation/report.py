"""The validation table for the terminal and the Markdown report with its figures.

Every check is shown with its negative control beside it: the same check with the mechanism it
tests switched off, which must fail.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sim.validation.result import SHOWS, CheckResult

__all__ = ["markdown_report", "print_table", "summary"]

INTRO = (
    "Each check compares the model at its default parameters with a published stylized fact "
    "(see docs/MODEL.md, section 1.2, whose Source column names each fact's published sources), "
    "then runs again with the "
    "mechanism it tests switched off. That **negative control must fail**: a control that "
    "still passes would mean the check does not test its mechanism. A check is *earned* when "
    "it passes and its control fails: its mechanism carries the pattern. That does not make "
    "the pattern a finding of the model, so each check also says what a pass shows: *docking* "
    "(the code against a closed form), *restated* (a rule states the source's finding and the "
    "check reads it back), *calibrated* (a parameter was set to meet it) or *emerges* (neither "
    "written into a rule nor calibrated to: only such a pass is a finding). Checks marked *in* "
    "are in-sample: the facts of issue #5, against which the defaults were checked and set "
    "where a check failed at them (`cxsim facts` fits the plausible worlds to five of them). "
    "Checks marked *out* are out-of-sample: no default was set to pass them (a rule may still "
    "state one: what a pass shows says so), and a failure is reported as a failure. No term "
    "was added to make any check pass (docs/MODEL.md, section 8, decision 23: the terms that "
    "had been added for a check were removed); defaults were set where a check failed at them "
    "(docs/MODEL.md, decisions 17, 18, 21 and 22), and the checks a default was set for say "
    "*calibrated*."
)


def _verdict(r: CheckResult | None) -> str:
    if r is None:
        return "not run"
    return "pass" if r.passed else "FAIL"


def _control_verdict(r: CheckResult) -> str:
    if r.control is None:
        return "not run"
    if not r.passed:
        said = "passes" if r.control.passed else "fails"
        return f"{said}; it shows nothing, since the check itself fails"
    if r.control.passed:
        return "**passes**: the check does not test this mechanism"
    return "**fails**, as it must"


def summary(results: list[CheckResult]) -> str:
    """One line: checks passed, the passing checks' controls that failed, checks earned.

    A control shows something only for a check that passes (its mechanism is then what makes
    it pass); a failing check's control is run and reported too, but counted apart."""
    n = len(results)
    passed = sum(r.passed for r in results)
    controls = [r for r in results if r.control is not None]
    passing = [r for r in controls if r.passed]
    failed = sum(not r.control.passed for r in passing)
    others = len(controls) - len(passing)
    earned = sum(r.earned for r in results)
    line = (
        f"{passed} of {n} checks pass; {failed} of {len(passing)} passing checks' negative "
        "controls fail as they must"
    )
    if others:
        whose = "check's control is" if others == 1 else "checks' controls are"
        line += f" (the {others} other {whose} run too, but cannot show anything)"
    line += f"; {earned} of {n} checks are earned (pass, and fail without their mechanism)"
    kinds = [
        f"{count} {_KIND_PHRASE[kind][count == 1]}"
        for kind in SHOWS
        if (count := sum(r.earned and r.shows == kind for r in results))
    ]
    if kinds:
        line += ", of which " + _join(kinds)
    return line


_KIND_PHRASE = {
    "docking": ("dock the code with a closed form", "docks the code with a closed form"),
    "restated": (
        "read back a rule that states their source",
        "reads back a rule that states its source",
    ),
    "calibrated": ("are met by a parameter set for them", "is met by a parameter set for it"),
    "emerges": (
        "are findings (neither written into a rule nor calibrated to)",
        "is a finding (neither written into a rule nor calibrated to)",
    ),
}
"""How the summary counts the earned checks of each kind (plural, singular)."""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def print_table(results: list[CheckResult]) -> None:
    """One row per check: check, mechanism, target, measured, result, and the control's."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="Validation against published stylized facts, with negative controls",
        show_lines=True,
    )
    for col in (
        "check",
        "a pass shows",
        "mechanism (off in the control)",
        "target",
        "measured",
        "result",
    ):
        table.add_column(col, overflow="fold")
    table.add_column("control: measured", overflow="fold")
    table.add_column("control", overflow="fold")
    for r in results:
        mark = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
        state = _control_state(r)
        cmark = _TERMINAL_CONTROL.get(state, state)
        table.add_row(
            f"{r.name} ({'out' if r.out_of_sample else 'in'})",
            r.shows,
            r.mechanism,
            r.target,
            r.measured,
            mark,
            r.control.measured if r.control is not None else "",
            cmark,
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 200))
    console.print(table)
    console.print(summary(results))


def markdown_report(results: list[CheckResult], path: Path, size: str, seed: int) -> Path:
    """Write the report: a summary table, then each check with its control, figures, notes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Validation report",
        "",
        f"Generated by `cxsim validate --report {path}` on {time.strftime('%Y-%m-%d')} "
        f"({size} size, seed {seed}). {INTRO}",
        "",
        "| check | sample | a pass shows | mechanism (switched off in the control) | target "
        "| at the defaults | result | control: mechanism off | control |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = (
            f"[{r.name}](#{_anchor(r.title)})",
            "out" if r.out_of_sample else "in",
            r.shows,
            _cell(r.mechanism),
            _cell(r.target),
            _cell(r.measured),
            "pass" if r.passed else "**FAIL**",
            _cell(r.control.measured) if r.control is not None else "",
            _control_cell(r),
        )
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", summary(results) + ".", ""]
    for r in results:
        lines += _section(r, path)
    path.write_text("\n".join(lines))
    return path


def _section(r: CheckResult, path: Path) -> list[str]:
    sample = (
        "out-of-sample (no default was set to pass it)"
        if r.out_of_sample
        else "in-sample (a fact of issue #5)"
    )
    overrides = ", ".join(f"`{k}={_value(v)}`" for k, v in r.control_overrides.items())
    lines = [
        f"## {r.title}",
        "",
        f"*Check:* `{r.name}`, {sample}. *Source:* {r.source}",
        "",
        f"*Mechanism tested:* {r.mechanism}",
        "",
        f"*What a pass shows:* {r.shows}: it {SHOWS[r.shows]}. {r.why}".rstrip(),
        "",
        f"*Target:* {r.target}",
        "",
        f"*At the defaults:* {r.measured} — **{_verdict(r)}** ({r.seconds:.0f} s)",
        "",
    ]
    if r.table:
        lines += [r.table, ""]
    if r.control is not None:
        lines += [
            f"*Negative control* ({overrides}): {r.control.measured} — {_control_verdict(r)} "
            f"({r.control.seconds:.0f} s)",
            "",
        ]
        if r.control.table:
            lines += [r.control.table, ""]
    ablations = r.details.get("ablations") or {}
    if ablations:
        lines += [
            "*Ablations and variations* (reported, not judged):",
            "",
            "| changed | measured | check |",
            "|---|---|---|",
        ]
        for label, a in ablations.items():
            lines.append(f"| {_cell(label)} | {_cell(a.measured)} | {_verdict(a)} |")
        lines.append("")
        for label, a in ablations.items():
            if a.table:
                lines += [f"*{label}:*", "", a.table, ""]
    if r.notes:
        lines += [r.notes, ""]
    figures = [(r.name, r.figure)]
    if r.control is not None:
        figures.append((f"{r.name}, mechanism off", r.control.figure))
    shown = [
        f"![{label}]({os.path.relpath(fig, path.parent)})"
        for label, fig in figures
        if fig is not None
    ]
    if shown:
        lines += [" ".join(shown), ""]
        if len(shown) == 2:
            lines += ["*Left: at the defaults. Right: the negative control.*", ""]
    return lines


_TERMINAL_CONTROL = {"": "not run", "fails": "[green]fails[/green]", "PASSES": "[red]PASSES[/red]"}
"""The control's state (:func:`_control_state`) as the terminal table shows it."""


def _control_state(r: CheckResult) -> str:
    """What the negative control says: "" (not run), "n/a: the check fails", "fails" (as it
    must) or "PASSES" (the check does not test its mechanism)."""
    if r.control is None:
        return ""
    if not r.passed:
        return "n/a: the check fails"
    return "fails" if not r.control.passed else "PASSES"


def _control_cell(r: CheckResult) -> str:
    state = _control_state(r)
    return "**PASSES**" if state == "PASSES" else state


def _anchor(title: str) -> str:
    """The GitHub anchor of a heading."""
    keep = "".join(c for c in title.lower() if c.isalnum() or c in " -")
    return keep.replace(" ", "-")


def _value(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (a '|' would end the cell)."""
    return text.replace("|", "\\|")
