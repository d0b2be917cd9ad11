"""Figures of a robustness study (matplotlib figures; the caller saves or shows them).

- :func:`margin_map`: a claim's margin over the two parameters that decide it most: the mean
  margin in a grid of cells behind one dot per world (filled where the claim holds, a cross where
  it fails), and the first PRIM box when it restricts either parameter.
- :func:`odds_chart`: every claim's odds with its interval.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle

from sim.robustness.margins import holds
from sim.robustness.verdicts import Verdict, parameter_label

__all__ = ["map_axes", "margin_map", "odds_chart"]


def map_axes(verdict: Verdict, worlds: pd.DataFrame) -> tuple[str, str]:
    """The two parameters of the map: those PRIM's first box restricts (where the claim flips),
    then the largest indices, then the first varied."""
    varied = [c for c in worlds.columns if worlds[c].nunique() > 1]
    boxed = [r.key for r in verdict.boxes[0].restrictions] if verdict.boxes else []
    order = [p for p in [*boxed, *verdict.deciders] if p in varied] + varied
    seen: list[str] = []
    for p in order:
        if p not in seen:
            seen.append(p)
    if len(seen) < 2:
        raise ValueError("a margin map needs two varied parameters")
    return seen[0], seen[1]


def _wrap(text: str, width: int = 60) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _legend(ax: plt.Axes, norm: TwoSlopeNorm, undecided: int) -> tuple[list, list[str]]:
    """The map's legend: a world where the claim holds is filled by its margin, so one that holds
    by a hair is white (it looked hollow, like a world with no margin); undecided worlds have no
    margin and are not drawn, which the legend says."""
    from matplotlib.lines import Line2D

    handles, names = ax.get_legend_handles_labels()
    cmap = plt.get_cmap("RdBu")
    dot = {"marker": "o", "ls": "", "mec": "black", "mew": 0.5, "ms": 6}
    out: list = []
    labels: list[str] = []
    for handle, name in zip(handles, names, strict=True):
        if name == "holds":
            out += [
                Line2D([], [], mfc=cmap(norm(norm.vmax)), **dot),
                Line2D([], [], mfc="white", **dot),
            ]
            labels += ["holds (colour: its margin)", "holds by a hair (margin near 0)"]
        else:
            out.append(handle)
            labels.append(name)
    if undecided:
        out.append(Line2D([], [], ls="", marker=""))
        labels.append(f"{undecided} undecided (no margin): not drawn")
    return out, labels


def margin_map(
    verdict: Verdict,
    worlds: pd.DataFrame,
    margin: pd.Series,
    x: str | None = None,
    y: str | None = None,
    bins: int = 6,
) -> plt.Figure:
    """The claim's margin over two parameters (default: the two that decide it most)."""
    if x is None or y is None:
        x, y = map_axes(verdict, worlds)
    ok = margin.notna()
    w, m = worlds.loc[ok[ok].index], margin[ok]
    xs, ys, ms = w[x].to_numpy(float), w[y].to_numpy(float), m.to_numpy(float)
    lim = float(np.nanmax(np.abs(ms))) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    fig, ax = plt.subplots(figsize=(6.4, 5.0), dpi=110)
    xe = np.linspace(xs.min(), xs.max(), bins + 1)
    ye = np.linspace(ys.min(), ys.max(), bins + 1)
    ix = np.clip(np.digitize(xs, xe) - 1, 0, bins - 1)
    iy = np.clip(np.digitize(ys, ye) - 1, 0, bins - 1)
    grid = np.full((bins, bins), np.nan)
    for i in range(bins):
        for j in range(bins):
            sel = (ix == i) & (iy == j)
            if sel.any():
                grid[j, i] = ms[sel].mean()
    mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(grid), cmap="RdBu", norm=norm, alpha=0.55)
    ok_pts = holds(verdict.claim, ms)
    ax.scatter(
        xs[ok_pts],
        ys[ok_pts],
        c=ms[ok_pts],
        cmap="RdBu",
        norm=norm,
        s=26,
        edgecolors="black",
        linewidths=0.5,
        label="holds",
        clip_on=False,  # the worlds at the ends of a range lie on the map's edges
    )
    ax.scatter(
        xs[~ok_pts],
        ys[~ok_pts],
        c="black",
        marker="x",
        s=30,
        linewidths=1.2,
        label="fails",
        clip_on=False,
    )
    if verdict.boxes:
        b = verdict.boxes[0]
        lims = {r.key: r for r in b.restrictions}
        if x in lims or y in lims:
            rx, ry = lims.get(x), lims.get(y)
            x0 = rx.low if rx and rx.low is not None else xs.min()
            x1 = rx.high if rx and rx.high is not None else xs.max()
            y0 = ry.low if ry and ry.low is not None else ys.min()
            y1 = ry.high if ry and ry.high is not None else ys.max()
            ax.add_patch(
                Rectangle(
                    (x0, y0),
                    x1 - x0,
                    y1 - y0,
                    fill=False,
                    lw=2,
                    ls="--",
                    ec="darkorange",
                    label=f"PRIM: where it {verdict.looks_for}",
                )
            )
    fig.colorbar(mesh, ax=ax, label="margin, in the claim's units (> 0: the claim holds)")
    ax.set_xlabel(_wrap(f"{parameter_label(x)} ({x})", 55))
    ax.set_ylabel(_wrap(f"{parameter_label(y)} ({y})", 45))
    ax.set_title(_wrap(f"{verdict.claim.label}: {verdict.odds.text}", 62), fontsize=9.5)
    # below the map, not on it: a study of a few hundred worlds leaves no empty corner
    handles, names = _legend(ax, norm, int((~ok).sum()))
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.03 * ((len(names) - 1) // 3), 1, 1))
    return fig


def odds_chart(
    verdicts: list[Verdict], title: str = "", labels: list[str] | None = None
) -> plt.Figure:
    """Each claim's share of worlds where it holds, with its Wilson interval; ``labels``
    replaces the claims' own (claims of several scenarios may read alike)."""
    n = len(verdicts)
    names = [
        textwrap.fill(textwrap.shorten(name, 135), 46)  # up to three lines, not cut at one
        for name in (labels or [v.claim.label for v in verdicts])
    ]
    lines = max((name.count("\n") + 1 for name in names), default=1)
    fig, ax = plt.subplots(figsize=(7.5, (0.3 + 0.17 * lines) * n + 1.2), dpi=110)
    ys = np.arange(n)[::-1]
    share = np.array([v.odds.share for v in verdicts])
    lo = np.clip(share - np.array([v.odds.low for v in verdicts]), 0, None)
    hi = np.clip(np.array([v.odds.high for v in verdicts]) - share, 0, None)
    colors = ["#2b7bba" if s >= 0.95 else "#e08a1e" if s >= 0.5 else "#c0392b" for s in share]
    ax.barh(ys, share, color=colors, alpha=0.85)
    ax.errorbar(share, ys, xerr=[lo, hi], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.set_yticks(ys, names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel("share of plausible worlds where the claim holds (95% Wilson interval)")
    ax.axvline(0.95, color="grey", ls=":", lw=1)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
