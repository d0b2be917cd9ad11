"""docs/ablations.md and its figures, from the ablation summaries of :mod:`ablate`.

:func:`chart` draws one scenario's headline with all mechanisms on and with each one off (mean and
95% interval, coloured by verdict); :func:`write_doc` writes the whole page: how it was run and how
long it took, the ablation table (the verdict of every scenario with each switch off), and per
scenario the claim, the chart, the channels that carry the verdict in words, the reading from
``headlines.toml`` and the table of numbers. Of the model it imports only the claims' parser
(``Claim``), never its rules or the UI.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from ablate import ALL_ON, SWITCHES, Headline, carried_by

from sim.robustness.claims import Claim

__all__ = ["ScenarioResult", "chart", "write_doc"]

COLOURS = {"holds": "#1b7837", "undecided": "#8c8c8c", "reversed": "#b2182b"}
MARKS = {"holds": "✓", "undecided": "~", "reversed": "✗"}


@dataclass
class ScenarioResult:
    """What the page says about one scenario.

    Attributes
    ----------
    headline
        Its definition.
    summary
        :func:`ablate.summarise` of its runs.
    skipped
        Switches not ablated and why.
    runs, seconds, customers, replicates, years
        How it was run: runs finished, wall time of the sweep sessions, market size, replicates
        per point, years per run.
    claim
        The headline's claim, parsed (``Headline.parsed``).
    """

    headline: Headline
    claim: Claim
    summary: pd.DataFrame
    skipped: dict[str, str]
    runs: int
    seconds: float
    customers: int
    replicates: int
    years: int


def _fmt(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.{digits}f}"


def _interval(low: float, high: float, digits: int = 3) -> str:
    return f"[{_fmt(low, digits)}, {_fmt(high, digits)}]"


def chart(result: ScenarioResult, path: Path) -> Path:
    """One scenario's headline per condition: dot at the mean, bar over the 95% interval."""
    s = result.summary
    on = s[s["switch"].isna()]
    offs = s[s["switch"].notna()].sort_values("mean", ascending=False)
    rows = pd.concat([on, offs])
    labels = [ALL_ON if pd.isna(sw) else f"{sw} off" for sw in rows["switch"]]
    y = list(range(len(rows)))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.6))
    for yi, r in zip(y, rows.itertuples(), strict=True):
        c = COLOURS[r.verdict]
        low = r.ci_low if math.isfinite(r.ci_low) else r.mean
        high = r.ci_high if math.isfinite(r.ci_high) else r.mean
        ax.plot([low, high], [yi, yi], color=c, lw=2.2, solid_capstyle="butt")
        ax.plot(r.mean, yi, "o", color=c, ms=5 if r.switch is not None else 7)
    ax.axvline(0, color="black", lw=0.8)
    ax.axvline(float(on["mean"].iloc[0]), color=COLOURS[on["verdict"].iloc[0]], lw=0.8, ls="--")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(textwrap.fill(result.headline.headline, 80), fontsize=8)
    ax.set_title(
        f"{result.headline.scenario}: the headline with all mechanisms on and with each one off\n"
        f"mean and 95% interval over {result.replicates} replicates; green: the claim holds, "
        "red: reversed, grey: undecided",
        fontsize=8,
    )
    ax.grid(axis="x", lw=0.3, alpha=0.6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _minutes(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"


def _matrix(results: Sequence[ScenarioResult]) -> list[str]:
    head = "| switch off | " + " | ".join(f"`{r.headline.scenario}`" for r in results) + " |"
    lines = [head, "|---|" + "---|" * len(results)]

    def cell(r: ScenarioResult, switch: str | None) -> str:
        s = r.summary
        row = s[s["switch"].isna()] if switch is None else s[s["switch"] == switch]
        if row.empty:
            return "–"
        x = row.iloc[0]
        mark = MARKS[x["verdict"]]
        bold = "**" if switch is not None and x["verdict"] != _on(r)["verdict"] else ""
        return f"{bold}{_fmt(x['mean'], 2)} {mark}{bold}"

    lines.append("| *all on* | " + " | ".join(cell(r, None) for r in results) + " |")
    for sw in SWITCHES:
        lines.append(f"| `{sw}` | " + " | ".join(cell(r, sw) for r in results) + " |")
    return lines


def _on(r: ScenarioResult) -> pd.Series:
    return r.summary[r.summary["switch"].isna()].iloc[0]


def _section(r: ScenarioResult, figures: str) -> list[str]:
    h, s = r.headline, r.summary
    on = _on(r)
    lines = [
        f"## `{h.scenario}`",
        "",
        f"**Headline**: {h.headline}. **Claim** `{h.claim}`: {r.claim.says} (`{r.claim.text}`).",
        "",
        f"With all mechanisms on: **{_fmt(on['mean'])}** {_interval(on['ci_low'], on['ci_high'])}"
        f", the claim **{on['verdict']}** ({r.replicates} replicates of {r.customers:,} "
        f"customers, {r.years} years).",
        "",
        carried_by(s, "the verdict"),
        "",
    ]
    if h.reading:
        lines += [textwrap.dedent(h.reading).strip(), ""]
    lines += [
        f"![{h.scenario}]({figures}/{h.scenario}.png)",
        "",
        "| condition | headline | 95% interval | verdict | change from all on | 95% interval |",
        "|---|---|---|---|---|---|",
    ]
    offs = s[s["switch"].notna()].sort_values("diff")
    for x in [on, *[row for _, row in offs.iterrows()]]:
        name = ALL_ON if pd.isna(x["switch"]) else f"`{x['switch']}` off"
        change = "" if pd.isna(x["switch"]) else _fmt(x["diff"])
        change_ci = "" if pd.isna(x["switch"]) else _interval(x["diff_low"], x["diff_high"])
        if x.get("changed"):
            change = f"**{change}**"
        lines.append(
            f"| {name} | {_fmt(x['mean'])} | {_interval(x['ci_low'], x['ci_high'])} | "
            f"{x['verdict']} | {change} | {change_ci} |"
        )
    if r.skipped:
        by_reason: dict[str, list[str]] = {}
        for sw, why in r.skipped.items():
            by_reason.setdefault(why, []).append(f"`{sw}`")
        skipped = "; ".join(f"{', '.join(v)} ({k})" for k, v in by_reason.items())
        lines += ["", f"Not ablated, because the scenario cannot use them: {skipped}."]
    lines.append("")
    return lines


def write_doc(
    results: Sequence[ScenarioResult],
    path: Path,
    figures: str,
    *,
    command: str,
    workers: int,
    machine: str,
    missing: Sequence[str] = (),
) -> Path:
    """Write docs/ablations.md for ``results`` (charts are expected in ``figures``); ``missing``
    names the scenarios with a headline but no runs yet, which the page lists as not run."""
    total_runs = sum(r.runs for r in results)
    total_seconds = sum(r.seconds for r in results)
    lines = [
        "# Ablations: which channels carry each verdict",
        "",
        "<!-- Generated by experiments/ablations/run.py from the runs; edit the readings in",
        "     experiments/ablations/headlines.toml or the script, not this file. -->",
        "",
        "A verdict is earned when it comes from the mechanisms the model names (docs/MODEL.md,",
        "section 4.12). For every shipped scenario, its headline comparison (defined once, in",
        "`experiments/ablations/headlines.toml`, as a claim whose margin is the headline:",
        "positive when the claim holds) is run with every switch of `[mechanisms]` on and with",
        "each switch alone off (docs/MODEL.md, sections 4.12 and 7.14). Each condition runs the",
        "same replicates with common random numbers (replicate r of every condition meets the",
        "same customers and network), so the change a switch makes is also measured pair by",
        "pair. Intervals are t-based 95% confidence intervals over replicates.",
        "",
        "A condition's verdict is *holds* (✓) when the interval of the headline lies above 0,",
        "*reversed* (✗) when it lies below, *undecided* (~) when it covers 0. A verdict that",
        "vanishes or reverses with one channel off and survives every other single channel off is",
        "carried by that channel; one that survives the removal of any one channel is carried by",
        "none alone (several channels carry it, or it comes from what no switch removes: the",
        "strategies' budgets, capacity and prices).",
        "",
        "```sh",
        command,
        "```",
        "",
        "regenerates the runs (resuming what is already in `results/ablations/`), this page and",
        f"its figures. The runs behind this page: {total_runs:,} runs of ten years, "
        f"{_minutes(total_seconds)} of wall time on {workers} worker processes ({machine}).",
        "Market sizes differ by scenario (below; each headline's `customers` in headlines.toml);",
        "wall times are of the sweep sessions on a machine that may be shared with other work,",
        "not benchmarks.",
        "",
        "| scenario | runs | customers | wall time |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| `{r.headline.scenario}` | {r.runs} | {r.customers:,} | {_minutes(r.seconds)} |"
        )
    if missing:
        lines += [
            "",
            "Not run or not finished yet (their headlines are defined): "
            + ", ".join(f"`{m}`" for m in missing)
            + ".",
        ]
    lines += [
        "",
        "## The ablation table",
        "",
        "The headline's mean with all mechanisms on and with each switch off (✓ the claim holds,",
        "✗ reversed, ~ undecided, – not ablated because the scenario cannot use the channel; bold:",
        "the verdict differs from all on).",
        "",
        *_matrix(results),
        "",
        "## Which channels carry each verdict",
        "",
        "| scenario | claim | all on | carried by |",
        "|---|---|---|---|",
    ]
    for r in results:
        on = _on(r)
        lines.append(
            f"| `{r.headline.scenario}` | {r.headline.headline} | {_fmt(on['mean'])} "
            f"{_interval(on['ci_low'], on['ci_high'])} {MARKS[on['verdict']]} | "
            f"{carried_by(r.summary, 'the verdict')} |"
        )
    lines.append("")
    for r in results:
        lines += _section(r, figures)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
