"""Charts of a calibration (matplotlib, Agg): predictive bands over the data, marginals.

- :func:`plot_predictive`: one panel per curve (series, firm, cohort); the 90% and 50%
  posterior predictive bands, their median, the observed points (with their standard errors),
  held-out points hollow.
- :func:`plot_marginals`: each parameter's posterior histogram over its prior range, with
  the truth when known.

This module never imports the model, an executor or the UI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.data import SERIES
from sim.calibration.priors import Prior

__all__ = ["curve_title", "plot_marginals", "plot_predictive"]


def curve_title(series: str, firm: str, cohort: int) -> str:
    """``survival of Acme, cohort 0`` / ``NPS of the market``."""
    name = "NPS" if series == "nps" else series
    who = firm or "the market"
    return f"{name} of {who}" + (f", cohort {cohort}" if cohort >= 0 else "")


def plot_predictive(bands: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Write the predictive bands over the data as a PNG; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(zip(bands["series"], bands["firm"], bands["cohort"], strict=True)))
    cols = min(3, len(groups))
    rows = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    for ax, (series, firm, cohort) in zip(axes.flat, groups, strict=False):
        g = bands[
            (bands["series"] == series) & (bands["firm"] == firm) & (bands["cohort"] == cohort)
        ].sort_values("year")
        x = g["year"].to_numpy()
        ax.fill_between(
            x, g["q05"], g["q95"], color="tab:blue", alpha=0.18, lw=0, label="90% predictive"
        )
        ax.fill_between(
            x, g["q25"], g["q75"], color="tab:blue", alpha=0.3, lw=0, label="50% predictive"
        )
        ax.plot(x, g["q50"], color="tab:blue", lw=1.5, label="median")
        fit, held = g[~g["holdout"]], g[g["holdout"]]
        se = fit["se"].to_numpy(float)
        ax.errorbar(
            fit["year"],
            fit["value"],
            yerr=np.where(np.isnan(se), 0, 1.96 * se),
            fmt="o",
            color="black",
            ms=4,
            lw=1,
            capsize=2,
            label="observed (fitted)",
        )
        if len(held):
            ax.plot(
                held["year"],
                held["value"],
                "o",
                mfc="white",
                mec="black",
                ms=5,
                label="observed (held out)",
            )
            ax.axvline(
                fit["year"].max() if len(fit) else held["year"].min(), color="grey", ls=":", lw=1
            )
        ax.set_title(curve_title(series, firm, int(cohort)), fontsize=10)
        ax.set_xlabel("years since the start")
        kind = SERIES[series]
        ax.set_ylabel(kind.name)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_marginals(
    posterior: pd.DataFrame,
    priors: Sequence[Prior],
    path: str | Path,
    truth: dict[str, float] | None = None,
) -> Path:
    """Posterior histograms over each prior's 99% range; the truth as a red line if given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(priors)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 2.8), squeeze=False)
    w = posterior["weight"].to_numpy()
    for ax, p in zip(axes.flat, priors, strict=True):
        lo, hi = p.interval(0.99)
        lo = p.low if math.isfinite(p.low) else lo
        hi = p.high if math.isfinite(p.high) else hi
        ax.hist(
            posterior[p.key],
            bins=30,
            range=(lo, hi),
            weights=w,
            density=True,
            color="tab:blue",
            alpha=0.7,
            label="posterior",
        )
        xs = np.linspace(lo, hi, 200)
        ax.plot(xs, p.scipy().pdf(xs), color="grey", lw=1, label="prior")
        if truth and p.key in truth:
            ax.axvline(truth[p.key], color="tab:red", lw=1.5, label="truth")
        ax.set_title(p.key, fontsize=9)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
