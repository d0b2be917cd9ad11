"""Charts of a run's per-firm series, as PNG files a strategist can paste into a slide.

Uses matplotlib's Agg backend (no display needed). Each chart has one line per firm, coloured by
firm and grouped by industry in the legend, with the time axis in years.

This module must never import the rules, the UI or the sweep layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.columns import RETENTION_WAIT_YEARS, retention_shown

if TYPE_CHECKING:
    from sim.early_warning import EarlyWarning

__all__ = [
    "CHARTS",
    "PERCENT",
    "WAIT",
    "early_warning_chart",
    "early_warning_leads_chart",
    "firm_chart",
    "hide_early",
    "pad_ylim",
    "plot_early_warning",
    "plot_firm_series",
]

CHARTS = {
    "share": ("share", "Market share in its industry", "%", (0, 100)),
    "retention": ("retention_annual", "Annual retention", "% kept over a year", (None, 100)),
    "nps": ("nps", "Net Promoter Score", "NPS", (-100, 100)),
    "satisfaction": ("satisfaction", "Mean satisfaction of current customers", "0-10", (0, 10)),
    "trust": ("trust", "Mean trust of current customers", "0-1", (0, 1)),
    "customers": ("customers", "Customers", "customers", (0, None)),
    "profit": ("profit", "Profit per year", "money per year", (None, None)),
}
"""Per chart: column, title, y label and y bounds (in the axis's units, after :data:`PERCENT`)."""

PERCENT = frozenset({"share", "retention_annual"})
"""Columns held as fractions and drawn in % (0-100), as the UI's charts draw them."""

WAIT = {"retention_annual": retention_shown}
"""Columns drawn only where a rule says they mean something, as the UI draws them: annual
retention once a firm has had a quarter of churn (:func:`sim.columns.retention_shown`)."""


def steps_per_year(firms: pd.DataFrame) -> int:
    """The steps a year of a ``firm_metrics`` table (its step over its year; 52 before any)."""
    later = firms[firms["year"] > 0]
    if later.empty:
        return 52
    row = later.iloc[-1]
    return round(float(row["step"]) / float(row["year"]))


def hide_early(firms: pd.DataFrame, column: str) -> pd.DataFrame:
    """``firms`` with ``column`` blank (NaN) where the UI does not draw it yet (:data:`WAIT`:
    annual retention before a firm has had a quarter of churn, counted from the run's start or
    from its entry); other columns and tables without the ``active`` column as they are."""
    rule = WAIT.get(column)
    if rule is None or firms.empty or not {"active", "firm"} <= set(firms):
        return firms
    table = firms.pivot(index="step", columns="firm", values="active")
    shown = rule(table.index.to_numpy(), table.to_numpy(dtype=bool), steps_per_year(firms))
    rows = table.index.get_indexer(firms["step"])
    cols = table.columns.get_indexer(firms["firm"])
    out = firms.copy()
    out[column] = out[column].where(shown[rows, cols])
    return out


def firm_chart(
    df: pd.DataFrame,
    column: str,
    title: str,
    ylabel: str,
    ylim: tuple[float | None, float | None] = (None, None),
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """A line per firm of ``column`` against years (in % for a column of :data:`PERCENT`, with
    ``ylim`` in %); returns the figure."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(8, 4.5), dpi=120)
    scale = 100.0 if column in PERCENT else 1.0
    for (industry, name), g in df.groupby(["industry", "name"], sort=False):
        ax.plot(g["year"], scale * g[column], label=f"{name} ({industry})", lw=1.6)
    ax.set_title(title)
    ax.set_xlabel("years")
    ax.set_ylabel(ylabel)
    pad_ylim(ax, ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", ncols=2 if df["name"].nunique() > 4 else 1)
    fig.tight_layout()
    return fig


def pad_ylim(ax: plt.Axes, ylim: tuple[float | None, float | None], pad: float = 0.04) -> None:
    """Set the y axis to the fixed bounds of ``ylim`` (``None``: matplotlib's own), each fixed
    bound moved out by ``pad`` of the axis height, so that a series lying exactly on a bound
    (a share of 1.0, no customers) is drawn inside the frame rather than hidden by it."""
    auto_lo, auto_hi = ax.get_ylim()
    lo = auto_lo if ylim[0] is None else ylim[0]
    hi = auto_hi if ylim[1] is None else ylim[1]
    margin = pad * (hi - lo)
    ax.set_ylim(
        lo if ylim[0] is None else lo - margin,
        hi if ylim[1] is None else hi + margin,
    )


def expectation_chart(df: pd.DataFrame) -> plt.Figure:
    """Mean expectation (dashed) against mean experience (solid) per firm."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for i, ((industry, name), g) in enumerate(df.groupby(["industry", "name"], sort=False)):
        color = f"C{i % 10}"
        ax.plot(g["year"], g["experience"], color=color, lw=1.6, label=f"{name} ({industry})")
        ax.plot(g["year"], g["expectation"], color=color, lw=1.2, ls="--")
    ax.plot([], [], color="gray", ls="--", label="expectation (dashed)")
    ax.set_title("Expectation vs experience (weighted by what customers care about)")
    ax.set_xlabel("years")
    ax.set_ylabel("0-1")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", ncols=2 if df["name"].nunique() > 4 else 1)
    fig.tight_layout()
    return fig


def plot_firm_series(
    firms: pd.DataFrame,
    out_dir: str | Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write one PNG per chart of :data:`CHARTS` plus expectation vs experience.

    Parameters
    ----------
    firms
        ``model.firm_metrics()`` (or ``firms.parquet``).
    out_dir
        Folder to write into (created).
    progress
        Called with ``(charts written, charts in all)`` after each chart.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = firms[firms["active"]] if "active" in firms else firms
    written = []
    total = len(CHARTS) + 1
    for stem, (column, title, ylabel, ylim) in CHARTS.items():
        shown = hide_early(firms, column)
        shown = shown[shown["active"]] if "active" in shown else shown
        fig = firm_chart(shown, column, title, ylabel, ylim)
        if column in WAIT and not shown[column].notna().any():  # say why it is empty
            weeks = round(52 * RETENTION_WAIT_YEARS)
            last = float(firms["year"].max()) if len(firms) else 0.0
            fig.axes[0].set_xlim(0.0, max(last, RETENTION_WAIT_YEARS))
            fig.axes[0].text(
                0.5,
                0.5,
                f"drawn after {weeks} weeks",
                transform=fig.axes[0].transAxes,
                ha="center",
                va="center",
                color="#80868b",
            )
        written.append(out / f"{stem}.png")
        fig.savefig(written[-1])
        plt.close(fig)
        if progress is not None:
            progress(len(written), total)
    fig = expectation_chart(df)
    written.append(out / "expectation_vs_experience.png")
    fig.savefig(written[-1])
    plt.close(fig)
    if progress is not None:
        progress(len(written), total)
    return written


def early_warning_chart(warning: EarlyWarning, firms: list[int] | None = None) -> plt.Figure:
    """Per firm: its indicators and its churn as watched, with every alarm; returns the figure.

    Each indicator is drawn on its own scale as a share of it (0 = the bottom, 1 = the top),
    churn on the right axis; a dot marks the week an alarm was raised on a series, a dashed line
    the weeks churn rose, and each panel's title says what moved first.
    """
    from sim.early_warning import INDICATORS

    series = warning.series
    firms = sorted(series["firm"].unique()) if firms is None else firms
    cols = 2 if len(firms) > 1 else 1
    rows = max(1, -(-len(firms) // cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(7.0 * cols, 3.3 * rows + 0.8), dpi=110, squeeze=False
    )
    for ax in axes.flat[len(firms) :]:
        ax.set_visible(False)
    for ax, firm in zip(axes.flat, firms, strict=False):
        g = series[series["firm"] == firm]
        alarms = warning.alarms[warning.alarms["firm"] == firm]
        for column, indicator in INDICATORS.items():
            if column not in g:
                continue
            share = (g[column] - indicator.low) / indicator.width
            colour = indicator.colour
            ax.plot(g["week"], share, color=colour, lw=1.4, label=indicator.label)
            at = alarms[alarms["series"] == column]["week"]
            ax.plot(at, np.interp(at, g["week"], share), "o", color=colour, ms=6, mec="white")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of the scale")
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
        churn = ax.twinx()
        churn.plot(g["week"], 100 * g["churn"], color="black", lw=1.2, ls=":", label="churn")
        risen = alarms[alarms["series"] == "churn"]["week"]
        churn.plot(risen, np.interp(risen, g["week"], 100 * g["churn"]), "ko", ms=6, mec="white")
        for week in risen:
            ax.axvline(week, color="black", ls="--", lw=1.0, alpha=0.7)
        churn.set_ylabel("churn, % a week (dotted)")
        churn.set_ylim(0, max(0.5, 1.15 * 100 * float(np.nanmax(g["churn"]))))
        headline = warning.sentences(firm)[0].split(";")[0]
        ax.set_title(f"{g['name'].iloc[0]}: {headline}", fontsize=9, loc="left", wrap=True)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="black", ls=":"), plt.Line2D([], [], color="black")]
    labels += ["churn (right axis)", "dots: alarms; dashed: churn rose"]
    fig.legend(handles, labels, loc="lower center", ncols=5, fontsize=8, frameon=False)
    fig.suptitle(
        "Early warning: which indicators fell before churn rose "
        f"(smoothed over {warning.settings.smooth_weeks:.0f} weeks)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.09, 1, 0.97))
    return fig


def early_warning_leads_chart(warning: EarlyWarning) -> plt.Figure:
    """Per indicator, over every firm: the median weeks it fell before churn rose, how many
    churn episodes it warned of and its false alarms; returns the figure."""
    from sim.early_warning import INDICATORS

    scores = warning.scores.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    lead = scores["median_lead_weeks"].fillna(0.0)
    colours = [INDICATORS[c].colour for c in scores["indicator"]]
    ax.barh(scores["name"], lead, color=colours)
    for y, (_, row) in enumerate(scores.iterrows()):
        text = (
            f"warned of {row['warned']} of {row['churn_episodes']} churn rises, "
            f"{row['false_alarms']} false alarm" + ("" if row["false_alarms"] == 1 else "s")
        )
        ax.text(float(lead.iloc[y]) + 0.2, y, text, va="center", fontsize=8)
    ax.set_xlabel("median weeks before churn rose (over the churn rises it warned of)")
    ax.set_xlim(0, max(10.0, 2.2 * float(lead.max())))
    ax.set_title("Early warning: lead of each indicator over churn, all firms")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_early_warning(firms: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write ``early_warning.png`` (per firm) and ``early_warning_leads.png`` (per indicator).

    Parameters
    ----------
    firms
        ``model.firm_metrics()`` (or ``firms.parquet``).
    out_dir
        Folder to write into (created).

    Returns
    -------
    list of Path
        The files written.
    """
    from sim.early_warning import early_warning

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    warning = early_warning(firms)
    written = []
    for stem, fig in (
        ("early_warning", early_warning_chart(warning)),
        ("early_warning_leads", early_warning_leads_chart(warning)),
    ):
        written.append(out / f"{stem}.png")
        fig.savefig(written[-1])
        plt.close(fig)
    return written
