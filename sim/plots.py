"""Charts of a run's per-firm series, as PNG files a strategist can paste into a slide.

Uses matplotlib's Agg backend (no display needed). Each chart has one line per firm, coloured by
firm and grouped by industry in the legend, with the time axis in years.

This module must never import the rules, the UI or the sweep layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

__all__ = ["CHARTS", "firm_chart", "pad_ylim", "plot_firm_series"]

CHARTS = {
    "share": ("share", "Market share in its industry", "share", (0, 1)),
    "retention": ("retention_annual", "Annual retention", "retained within a year", (None, 1)),
    "nps": ("nps", "Net Promoter Score", "NPS", (-100, 100)),
    "satisfaction": ("satisfaction", "Mean satisfaction of current customers", "0-10", (0, 10)),
    "trust": ("trust", "Mean trust of current customers", "0-1", (0, 1)),
    "customers": ("customers", "Customers", "customers", (0, None)),
    "profit": ("profit", "Profit per year", "money per year", (None, None)),
}


def firm_chart(
    df: pd.DataFrame,
    column: str,
    title: str,
    ylabel: str,
    ylim: tuple[float | None, float | None] = (None, None),
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """A line per firm of ``column`` against years; returns the figure."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(8, 4.5), dpi=120)
    for (industry, name), g in df.groupby(["industry", "name"], sort=False):
        ax.plot(g["year"], g[column], label=f"{name} ({industry})", lw=1.6)
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
        fig = firm_chart(df, column, title, ylabel, ylim)
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
