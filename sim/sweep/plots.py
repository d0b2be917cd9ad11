"""Charts of sweep results as PNG files (matplotlib, Agg backend: no display needed).

- :func:`line_chart`: an outcome's mean along one parameter with its 95% CI as a band, one line
  per value of a second parameter or per firm.
- :func:`heatmap`: an outcome's mean over two parameters, cells annotated when few.
- :func:`bar_chart`: means with CI whiskers for categorical design points (e.g. strategies).
- :func:`timeseries_chart`: mean and band over the years, one line per design point.
- :func:`scatter_chart`: one dot per run against each parameter (Latin hypercube, Sobol').
- :func:`indices_chart`: tornado of Sobol' (S1, ST) or Morris (mu*, sigma) indices with CIs.

Every chart has a title, axis labels and a legend where needed, and is saved with a tight
bounding box so no label is cut off. This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "bar_chart",
    "heatmap",
    "indices_chart",
    "line_chart",
    "save",
    "scatter_chart",
    "timeseries_chart",
]

MAX_LINES = 12
"""More groups than this are not drawn as separate lines (the chart would be unreadable);
callers check and choose another chart."""

MAX_BANDS = 6
"""Confidence bands are drawn only for at most this many lines (more would hide each other)."""


def _color(i: int, n: int = 10) -> tuple[float, float, float, float]:
    """Colour of line ``i`` of ``n``: tab10, or for more than 10 lines tab20's dark shades
    then its light ones (never the same colour twice)."""
    if n <= 10:
        return plt.get_cmap("tab10")(i % 10)
    return plt.get_cmap("tab20")((2 * i if i < 10 else 2 * (i - 10) + 1) % 20)


def _check_lines(n: int) -> None:
    if n > MAX_LINES:
        raise ValueError(f"{n} lines in one chart; expected at most {MAX_LINES}")


def save(fig: plt.Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG (tight bounding box) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _wrap(text: str, width: int = 70) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _panels(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.2 * cols + 1.5, 3.9 * rows), squeeze=False, layout="constrained"
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def line_chart(
    df: pd.DataFrame,
    x: str,
    title: str,
    ylabel: str,
    *,
    group: str | None = None,
    panel: str | None = None,
    note: str = "",
) -> plt.Figure:
    """Mean of an outcome along ``x`` with a 95% CI band.

    Parameters
    ----------
    df
        Rows from :func:`sim.sweep.analysis.mean_ci`: ``x``, optional ``group`` and ``panel``
        columns, ``mean``, ``ci_low``, ``ci_high``.
    x
        Numeric column along the axis.
    title, ylabel
        Texts.
    group
        One line per value of this column (at most :data:`MAX_LINES`).
    panel
        One subplot per value of this column (e.g. ``firm``).
    note
        A line under the title (e.g. what was averaged over).
    """
    panels = list(dict.fromkeys(df[panel])) if panel else [None]
    fig, axes = _panels(len(panels))
    for ax, pv in zip(axes, panels, strict=True):
        sub = df[df[panel] == pv] if panel else df
        groups = list(dict.fromkeys(sub[group])) if group else [None]
        _check_lines(len(groups))
        for i, gv in enumerate(groups):
            g = (sub[sub[group] == gv] if group else sub).sort_values(x)
            color = _color(i, len(groups))
            label = f"{group} = {_fmt(gv)}" if group else "mean"
            ax.plot(g[x], g["mean"], marker="o", ms=3.5, lw=1.6, color=color, label=label)
            ax.fill_between(g[x], g["ci_low"], g["ci_high"], color=color, alpha=0.18, lw=0)
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if panel:
            ax.set_title(str(pv), fontsize=10)
        if group:
            ax.legend(fontsize=8, loc="best")
    fig.suptitle(
        _wrap(title + (f"\n{note}" if note else "") + "\n(mean, band: 95% CI)", 90), fontsize=11
    )
    return fig


def heatmap(
    df: pd.DataFrame, x: str, y: str, title: str, *, panel: str | None = None, note: str = ""
) -> plt.Figure:
    """Mean of an outcome over two parameters; cells show the value when there are few.

    Every value of ``x`` and ``y`` in ``df`` keeps its row or column; a cell without a value
    (e.g. a firm that exited has no retention) is grey and marked "n/a".
    """
    panels = list(dict.fromkeys(df[panel])) if panel else [None]
    xs, ys = sorted(df[x].unique()), sorted(df[y].unique(), reverse=True)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#d9d9d9")
    fig, axes = _panels(len(panels))
    missing = False
    for ax, pv in zip(axes, panels, strict=True):
        sub = df[df[panel] == pv] if panel else df
        grid = sub.groupby([y, x])["mean"].mean().unstack(x).reindex(index=ys, columns=xs)
        values = grid.to_numpy(float)
        missing |= bool(np.isnan(values).any())
        im = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap)
        ax.set_xticks(
            range(len(xs)),
            [_fmt(v) for v in xs],
            rotation=45 if len(xs) > 6 else 0,
            ha="right" if len(xs) > 6 else "center",
        )
        ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if panel:
            ax.set_title(str(pv), fontsize=10)
        if values.size <= 80:
            finite = values[np.isfinite(values)]
            lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
            for (i, j), v in np.ndenumerate(values):
                dark = np.isfinite(v) and hi > lo and (v - lo) / (hi - lo) > 0.6
                ax.text(
                    j,
                    i,
                    _fmt(v) if np.isfinite(v) else "n/a",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if dark or not np.isfinite(v) else "white",
                )
        fig.colorbar(im, ax=ax, shrink=0.85)
    extra = "; grey: no value" if missing else ""
    fig.suptitle(
        _wrap(title + (f"\n{note}" if note else "") + f" (mean over replicates{extra})", 90),
        fontsize=11,
    )
    return fig


def bar_chart(
    df: pd.DataFrame, category: str, title: str, xlabel: str, *, group: str | None = None
) -> plt.Figure:
    """Horizontal bars of the mean per category with 95% CI whiskers, grouped by ``group``."""
    cats = list(dict.fromkeys(df[category]))
    groups = list(dict.fromkeys(df[group])) if group else [None]
    height = 0.8 / len(groups)
    fig, ax = plt.subplots(
        figsize=(8.5, 1.2 + 0.42 * len(cats) * max(1, len(groups) * 0.7)), layout="constrained"
    )
    for i, gv in enumerate(groups):
        sub = df[df[group] == gv] if group else df
        sub = sub.set_index(category).reindex(cats)
        pos = np.arange(len(cats)) + (i - (len(groups) - 1) / 2) * height
        err = np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]])
        ax.barh(
            pos,
            sub["mean"],
            height=height * 0.92,
            xerr=np.nan_to_num(err),
            color=_color(i, len(groups)),
            alpha=0.85,
            error_kw={"lw": 1, "capsize": 2},
            label=str(gv) if group else None,
        )
    ax.set_yticks(np.arange(len(cats)), [_wrap(str(c), 34) for c in cats], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if group:
        ax.legend(fontsize=8, loc="best")
    ax.set_title(_wrap(title + " (mean, whiskers: 95% CI)", 80), fontsize=11)
    return fig


def timeseries_chart(
    df: pd.DataFrame, group: str, title: str, ylabel: str, *, panel: str | None = None
) -> plt.Figure:
    """Mean over the years, one line per value of ``group`` (at most :data:`MAX_LINES`), with
    a 95% CI band when there are at most :data:`MAX_BANDS` lines."""
    panels = list(dict.fromkeys(df[panel])) if panel else [None]
    groups = list(dict.fromkeys(df[group]))
    _check_lines(len(groups))
    bands = len(groups) <= MAX_BANDS
    fig, axes = _panels(len(panels))
    for ax, pv in zip(axes, panels, strict=True):
        sub = df[df[panel] == pv] if panel else df
        for i, gv in enumerate(groups):
            g = sub[sub[group] == gv].sort_values("year")
            color = _color(i, len(groups))
            ax.plot(g["year"], g["mean"], lw=1.5, color=color, label=_wrap(str(gv), 30))
            if bands:
                ax.fill_between(g["year"], g["ci_low"], g["ci_high"], color=color, alpha=0.15, lw=0)
        ax.set_xlabel("years")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if panel:
            ax.set_title(str(pv), fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="outside right upper")
    what = "mean, band: 95% CI" if bands else "mean over replicates"
    fig.suptitle(_wrap(f"{title} over time ({what})", 90), fontsize=11)
    return fig


def scatter_chart(
    df: pd.DataFrame, parameters: Sequence[str], title: str, ylabel: str
) -> plt.Figure:
    """One dot per run (column ``value``) against each parameter."""
    fig, axes = _panels(len(parameters))
    for ax, p in zip(axes, parameters, strict=True):
        ax.scatter(df[p], df["value"], s=9, alpha=0.55, color="C0", lw=0)
        ax.set_xlabel(p)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.suptitle(_wrap(title + " (one dot per run)", 90), fontsize=11)
    return fig


def indices_chart(df: pd.DataFrame, title: str) -> plt.Figure:
    """Tornado chart of sensitivity indices with their 95% CIs.

    ``df`` holds one outcome's rows from :func:`sim.sweep.sensitivity.sobol_indices` (bars S1
    and ST) or :func:`~sim.sweep.sensitivity.morris_indices` (bars mu* and sigma).
    """
    sobol = "ST" in df
    key = "ST" if sobol else "mu_star"
    d = df.sort_values(key, ascending=True, kind="stable")
    pos = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(8, 1.3 + 0.45 * len(d)), layout="constrained")
    if sobol:
        ax.barh(
            pos + 0.2,
            d["ST"],
            height=0.38,
            xerr=d["ST_conf"],
            color="C0",
            label="total order ST",
            error_kw={"lw": 1, "capsize": 2},
        )
        ax.barh(
            pos - 0.2,
            d["S1"],
            height=0.38,
            xerr=d["S1_conf"],
            color="C1",
            label="first order S1",
            error_kw={"lw": 1, "capsize": 2},
        )
        ax.set_xlabel("Sobol' index (share of output variance)")
    else:
        ax.barh(
            pos + 0.2,
            d["mu_star"],
            height=0.38,
            xerr=d["mu_star_conf"],
            color="C0",
            label="mu* (mean |elementary effect|)",
            error_kw={"lw": 1, "capsize": 2},
        )
        ax.barh(
            pos - 0.2,
            d["sigma"],
            height=0.38,
            color="C2",
            label="sigma (interactions, non-linearity)",
        )
        ax.set_xlabel("Morris statistic (outcome units per parameter range)")
    ax.set_yticks(pos, [_wrap(str(p), 40) for p in d["parameter"]], fontsize=8)
    ax.axvline(0, color="black", lw=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(_wrap(f"{title}: sensitivity (whiskers: 95% CI)", 80), fontsize=11)
    return fig


def _fmt(v: object) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):.3g}"
    return str(v)
