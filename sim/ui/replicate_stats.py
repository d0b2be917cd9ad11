"""The statistics of the Compare page's replicate runs: which runs each mean is over, the mean
lines' 95% bands and the table's paired differences.

A firm that closes in some runs is not dropped from them: it has no share and, after it closed,
no profit (the model records 0 for both), so those count as 0 in every mean
(:data:`ZERO_WHEN_CLOSED`). The metrics of its customers (retention, NPS, satisfaction, trust:
:data:`OPEN_ONLY`) do not exist without customers and are means over the runs where it is open.
A row of the table gives A, B and B - A over the same pairs of runs (replicate r of A with
replicate r of B, both with a value), so B - A = B - A of its columns; with fewer than
:data:`MIN_PAIRS` pairs it has no interval and is not decided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.columns import ZERO_OUT_OF_BUSINESS, metric_range

__all__ = [
    "FIRM_METRICS",
    "LIMITS",
    "MARKET_METRICS",
    "MIN_PAIRS",
    "OPEN_ONLY",
    "ZERO_WHEN_CLOSED",
    "CompareResult",
    "firm_values",
    "mean_band",
    "paired_difference",
]

MARKET_METRICS: dict[str, tuple[str, float]] = {
    "retention_annual": ("Annual retention, %", 100.0),
    "nps": ("Net Promoter Score", 1.0),
    "satisfaction": ("Mean satisfaction, 0-10", 1.0),
    "trust": ("Mean trust, 0-1", 1.0),
    "served_share": ("Customers served, mean % over industries", 100.0),
    "profit": ("Profit per year, all firms", 1.0),
}
"""Market metrics compared: column -> (title with unit, display scale)."""

FIRM_METRICS: dict[str, tuple[str, float]] = {
    "share": ("Market share in its industry, %", 100.0),
    "retention_annual": ("Annual retention, %", 100.0),
    "nps": ("Net Promoter Score", 1.0),
    "satisfaction": ("Mean satisfaction, 0-10", 1.0),
    "trust": ("Mean trust, 0-1", 1.0),
    "profit": ("Profit per year", 1.0),
}
"""Per-firm metrics compared: column -> (title with unit, display scale)."""

ZERO_WHEN_CLOSED: tuple[str, ...] = tuple(m for m in FIRM_METRICS if m in ZERO_OUT_OF_BUSINESS)
"""Per-firm metrics compared that a closed firm has as 0 (``sim.columns.ZERO_OUT_OF_BUSINESS``):
no share, and no profit after the step it closed
(the model books no revenue and no cost for a firm that is not active, ``sim.rules.economics``;
the step it closes keeps that step's loss). They count in every mean, so a firm that closed in
6 runs of 8 does not show the share of the 2 it survived in."""

OPEN_ONLY: tuple[str, ...] = tuple(m for m in FIRM_METRICS if m not in ZERO_WHEN_CLOSED)
"""Per-firm metrics of a firm's customers (retention, NPS, satisfaction, trust): none without
customers, so NaN where the firm is not open and means over the runs where it is."""

MIN_PAIRS = 3
"""Fewest pairs of runs for a confidence interval of a difference, and so for a decision: with
2 the Student t interval has one degree of freedom (t = 12.7) and, for a firm's customers'
metrics, the pairs are the few runs it survived in both variants."""

SERVED_SHARE_RANGE = (0.0, 1.0)
"""``served_share``, computed here (:func:`served_per_industry`), is a share of customers."""


def _display_ranges() -> dict[str, tuple[float, float]]:
    out = {}
    for metric, (_, scale) in {**MARKET_METRICS, **FIRM_METRICS}.items():
        low, high = SERVED_SHARE_RANGE if metric == "served_share" else metric_range(metric)
        if math.isfinite(low) and math.isfinite(high):
            out[metric] = (low * scale, high * scale)
    return out


LIMITS: dict[str, tuple[float, float]] = _display_ranges()
"""Range of each bounded metric on the display scale (bands are drawn within it): the range
``sim.columns.metric_range`` gives it, times its display scale."""


def firm_values(firms: pd.DataFrame) -> pd.DataFrame:
    """A run's firm rows as the page compares them: :data:`OPEN_ONLY` metrics NaN where the
    firm is not active (closed, or not yet entered), :data:`ZERO_WHEN_CLOSED` ones 0 where they
    are missing there, and ``closed`` (1.0 once the firm has exited, else 0.0) in place of the
    ``alive`` and ``active`` columns."""
    firms = firms.copy()
    inactive = ~firms["active"].astype(bool).to_numpy()
    closed = ~firms["alive"].astype(bool).to_numpy()
    firms.loc[inactive, list(OPEN_ONLY)] = np.nan
    for metric in ZERO_WHEN_CLOSED:
        firms[metric] = firms[metric].astype(float)
        firms.loc[inactive, metric] = firms.loc[inactive, metric].fillna(0.0)
    firms.loc[closed, "share"] = 0.0  # no customers left
    firms["closed"] = closed.astype(float)
    return firms.drop(columns=["alive", "active"])


def mean_band(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, ...]:
    """Mean across replicates (rows) and its confidence band (Student t), per column.

    Columns with fewer than two values have no band (NaN).
    """
    values = np.asarray(values, dtype=float)
    n = (~np.isnan(values)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(values, axis=0) if values.size else np.zeros(values.shape[1:])
        sd = np.nanstd(values, axis=0, ddof=1)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half


def paired_difference(
    a: np.ndarray, b: np.ndarray, level: float = 0.95, min_pairs: int = MIN_PAIRS
) -> dict[str, float]:
    """B - A over the pairs of runs where both have a value.

    ``a`` and ``b`` are the means over those same pairs, so ``difference == b - a`` (up to
    rounding): columns averaged over different runs did not add up. The confidence interval
    (Student t) needs ``min_pairs`` pairs; with fewer ``low`` and ``high`` are NaN.

    Returns
    -------
    dict
        ``a``, ``b``, ``difference``, ``low``, ``high`` and ``pairs`` (the pair count).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = ~np.isnan(a) & ~np.isnan(b)
    d = b[ok] - a[ok]
    n = len(d)
    out = {
        "a": float(a[ok].mean()) if n else np.nan,
        "b": float(b[ok].mean()) if n else np.nan,
        "difference": float(d.mean()) if n else np.nan,
        "low": np.nan,
        "high": np.nan,
        "pairs": n,
    }
    if n >= max(2, min_pairs):
        half = stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
        out["low"], out["high"] = out["difference"] - half, out["difference"] + half
    return out


@dataclass
class CompareResult:
    """Replicate series of both variants, aligned on the steps both recorded.

    Attributes
    ----------
    labels
        Names of variants A and B.
    steps, years
        The common recorded steps.
    market
        ``market[v][metric]``: ``(replicates, steps)`` array for variant ``v`` (0 or 1).
    firms
        ``firms[v][name][metric]``: the same per firm (:func:`firm_values`: share and profit
        0 where it has closed, its customers' metrics NaN where it is not open), and
        ``firms[v][name]["closed"]``: 1.0 from the step it closed, else 0.0 (NaN: no run).
    errors
        One line per failed run.
    seconds
        Wall time of the comparison.
    warm
        Whether every run's worker was forked from the warm fork server.
    ran
        ``ran[v]``: which replicates of variant ``v`` finished (bool per replicate; empty:
        all of them).
    """

    labels: tuple[str, str]
    steps: np.ndarray
    years: np.ndarray
    market: list[dict[str, np.ndarray]]
    firms: list[dict[str, dict[str, np.ndarray]]]
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    warm: bool = False
    ran: list[np.ndarray] = field(default_factory=list)

    @property
    def replicates(self) -> int:
        """Replicates per variant asked for."""
        return int(self.market[0]["nps"].shape[0])

    @property
    def common_firms(self) -> list[str]:
        """Firms (by name) present in both variants."""
        return [n for n in self.firms[0] if n in self.firms[1]]

    def series(self, variant: int, scope: str, metric: str) -> np.ndarray:
        """``(replicates, steps)`` values of ``metric`` for ``scope`` ("market" or a firm)."""
        if scope == "market":
            return self.market[variant][metric]
        return self.firms[variant][scope][metric]

    def finished(self, variant: int) -> np.ndarray:
        """Which replicates of ``variant`` finished (bool per replicate)."""
        if self.ran:
            return np.asarray(self.ran[variant], bool)
        return np.ones(self.replicates, bool)

    def closures(self, firm: str) -> list[tuple[int, int]]:
        """Per variant, ``(runs in which firm had closed by the end, runs finished)``."""
        out = []
        for v in (0, 1):
            runs = self.finished(v)
            closed = self.firms[v][firm].get("closed") if firm in self.firms[v] else None
            count = 0 if closed is None else int((np.nan_to_num(closed[runs, -1]) > 0).sum())
            out.append((count, int(runs.sum())))
        return out

    def differences(self) -> pd.DataFrame:
        """End-of-run paired differences B - A with 95% CIs, for the market and every firm:
        A, B and B - A over the same pairs (:func:`paired_difference`); ``replicates`` is the
        number asked for, ``clear`` marks an interval (of :data:`MIN_PAIRS` pairs or more)
        that excludes 0."""
        rows = []
        scopes = [("market", MARKET_METRICS)] + [(n, FIRM_METRICS) for n in self.common_firms]
        for scope, metrics in scopes:
            for metric, (title, scale) in metrics.items():
                a = self.series(0, scope, metric)[:, -1] * scale
                b = self.series(1, scope, metric)[:, -1] * scale
                d = paired_difference(a, b)
                clear = not np.isnan(d["low"]) and (d["low"] > 0 or d["high"] < 0)
                rows.append(
                    {
                        "scope": scope,
                        "metric": title,
                        "key": metric,
                        **d,
                        "replicates": self.replicates,
                        "clear": clear,
                    }
                )
        return pd.DataFrame(rows)
