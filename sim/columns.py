"""The names of what is measured: the columns of the per-firm and market tables.

``sim.metrics`` computes them; the sweep, robustness and calibration layers name them in their
files (outcomes, claims, observed series) and must be able to check a name without loading the
model, so the names live here, apart. What each relationship indicator asks is in
``sim.indicators``.

This module must never import anything from the package.
"""

from __future__ import annotations

__all__ = ["FIRM_COLUMNS", "MARKET_COLUMNS", "RANGES", "ZERO_OUT_OF_BUSINESS", "metric_range"]

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
customers, no sales, no spending; the step a firm closes keeps that step's flows). The others
describe its customers or the firm itself and have no value then (retention, trust, NPS, ...)
or keep their last one (cash, capacity). Summaries over runs count the first as 0 where a firm
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
