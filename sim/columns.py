"""The names of what is measured: the columns of the per-firm and market tables.

``sim.metrics`` computes them; the sweep, robustness and calibration layers name them in their
files (outcomes, claims, observed series) and must be able to check a name without loading the
model, so the names live here, apart. What each relationship indicator asks is in
``sim.indicators``.

This module must never import anything from the package.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FIRM_COLUMNS",
    "MARKET_COLUMNS",
    "RANGES",
    "RETENTION_WAIT_YEARS",
    "ZERO_OUT_OF_BUSINESS",
    "in_market_for",
    "metric_range",
    "retention_shown",
    "retention_wait_steps",
]

CUSTOMER_VIEW = (
    "nps",
    "satisfaction",
    "expectation",
    "experience",
    "expectation_gap",
    "trust",
    "commitment",
    "control_mutuality",
    "mindset",
    "attitude",
    "intention_to_stay",
    "wom_positive",
    "wom_negative",
    "wom_volume",
)
"""What customers think and say, measured per firm and over the market, in this order."""

FIRM_COLUMNS = (
    "step",
    "year",
    "firm",
    "name",
    "industry",
    "strategy",
    "alive",
    "active",
    "customers",
    "share",
    "penetration",
    "acquired",
    "switched_in",
    "churned",
    "retention_weekly",
    "retention_annual",
    *CUSTOMER_VIEW,
    "wom_reach",
    "review_score",
    "promise",
    "capability",
    "capacity",
    "load",
    "failures",
    "complaints",
    "answered",
    "marketing",
    "retention_spend",
    "revenue",
    "profit",
    "cash",
    "clv",
)

ZERO_OUT_OF_BUSINESS = frozenset(
    {
        "customers",
        "share",
        "penetration",
        "acquired",
        "switched_in",
        "churned",
        "wom_positive",
        "wom_negative",
        "wom_volume",
        "wom_reach",
        "capacity",
        "failures",
        "complaints",
        "answered",
        "marketing",
        "retention_spend",
        "revenue",
        "profit",
    }
)
"""Firm columns that read 0 for a firm out of business, closed or not yet entered (no
customers, no sales, no spending, no capacity to serve anyone; the step a firm closes keeps that
step's flows). The others describe its customers or the firm itself and have no value then
(retention, trust, NPS, ``load``, ``clv``, ...) or keep their last one (cash, promise,
capability). ``load``, the quality the step's customers were served at, keeps the step a firm
closes, which delivered before it closed. Summaries over runs count the first as 0 where a firm
is out of business, the others only where it is in business (``sim.sweep.analysis``, the
Compare page)."""

MARKET_COLUMNS = (
    "step",
    "year",
    "customers",
    "served",
    "unserved",
    *CUSTOMER_VIEW,
    "wom_ratio",
    "retention_weekly",
    "retention_annual",
    "churned",
    "acquired",
    "switched",
    "active_firms",
    "firm_exits",
    "review_score",
    "revenue",
    "profit",
)

_COUNTS = (
    "customers",
    "served",
    "unserved",
    "acquired",
    "switched_in",
    "switched",
    "churned",
    "failures",
    "complaints",
    "answered",
    "active_firms",
    "firm_exits",
)

RANGES: dict[str, tuple[float, float]] = {
    "share": (0.0, 1.0),
    "penetration": (0.0, 1.0),
    "retention_weekly": (0.0, 1.0),
    "retention_annual": (0.0, 1.0),
    "nps": (-100.0, 100.0),
    "satisfaction": (0.0, 10.0),
    "trust": (0.0, 1.0),
    "commitment": (0.0, 1.0),
    "control_mutuality": (0.0, 1.0),
    "mindset": (-1.0, 1.0),
    "attitude": (-1.0, 1.0),
    "intention_to_stay": (0.0, 1.0),
    **{name: (0.0, float("inf")) for name in _COUNTS},
}
"""The values a metric can take (docs/MODEL.md, "What is measured"): an interval of its mean over
replicates is drawn and written within them (a t-interval over a few replicates near a bound
reaches past it: a share difference of +0.90 over five runs, four of them at 1.0, had the
interval +0.61 to +1.18). Metrics not listed (money, word of mouth, review scores, expectations
on the attribute scale weighted by a segment's weights) have none."""


def metric_range(metric: str) -> tuple[float, float]:
    """:data:`RANGES` of a column (``satisfaction[banking]`` is ``satisfaction``'s);
    ``(-inf, inf)`` for a metric without one."""
    return RANGES.get(metric.partition("[")[0], (float("-inf"), float("inf")))


RETENTION_WAIT_YEARS = 0.25
"""How much churn annual retention waits for before it is shown: a quarter of a year. It is the
churn per step of the last year carried over a whole year, so in a run's (or a new firm's) first
weeks it is a handful of weeks of new customers projected over a year (0.4% after one week, or
spikes of 64-100%). Explore's headline, its retention chart, Compare's bands and the exported
charts (:mod:`sim.plots`) all wait for it; the model's column keeps every step."""


def retention_wait_steps(steps_per_year: int) -> int:
    """Steps of churn annual retention waits for (:data:`RETENTION_WAIT_YEARS`): 13 weekly
    steps, 3 monthly ones."""
    return max(1, math.ceil(steps_per_year * RETENTION_WAIT_YEARS))


def in_market_for(steps: np.ndarray, active: np.ndarray, need: float) -> np.ndarray:
    """``(steps, firms)``: True where a firm has been in the market ``need`` steps at least,
    counted from the start of the run or from the step before it entered (its first row with
    ``active``).

    Parameters
    ----------
    steps
        The step of each row (``(steps,)``).
    active
        ``(steps, firms)``: whether the firm was in the market at that step.
    need
        Steps a firm must have been there.
    """
    steps = np.asarray(steps, float)
    active = np.asarray(active, bool)
    if need <= 0 or not len(steps):
        return np.ones(active.shape, bool)
    first = np.where(active.any(axis=0), active.argmax(axis=0), len(steps))
    before = np.concatenate([[0.0], steps])  # the step before each row's
    start = before[np.minimum(first, len(steps))]
    return steps[:, None] - start[None, :] >= need - 1e-9


def retention_shown(steps: np.ndarray, active: np.ndarray, steps_per_year: int) -> np.ndarray:
    """``(steps, firms)``: where a firm's annual retention is shown, once it has had
    :func:`retention_wait_steps` of churn (:func:`in_market_for`)."""
    return in_market_for(steps, active, retention_wait_steps(steps_per_year))
