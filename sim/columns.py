"""The names of what is measured: the columns of the per-firm and market tables.

``sim.metrics`` computes them; the sweep, robustness and calibration layers name them in their
files (outcomes, claims, observed series) and must be able to check a name without loading the
model, so the names live here, apart. What each relationship indicator asks is in
``sim.indicators``.

This module must never import anything from the package.
"""

from __future__ import annotations

__all__ = ["FIRM_COLUMNS", "MARKET_COLUMNS"]

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
