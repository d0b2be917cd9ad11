"""Outcomes: the metrics an analysis summarises, named the way sweep files name them.

- ``retention_annual`` (or ``market.retention_annual``): a market metric, one value per run.
- ``firms.profit``: a firm metric for every firm, one value per run and firm.
- ``firms.Big Promises.profit``: that firm's metric, one value per run.

The metric is the text after the last dot; the firm name is what lies between ``firms.`` and it.
This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.columns import FIRM_COLUMNS, MARKET_COLUMNS

__all__ = ["LABELS", "Outcome", "firm_metric_names", "market_metric_names", "parse_outcome"]

LABELS = {
    "retention_annual": "annual retention",
    "retention_weekly": "weekly retention",
    "nps": "NPS",
    "satisfaction": "mean satisfaction (0-10)",
    "trust": "mean trust (0-1)",
    "profit": "profit per year",
    "revenue": "revenue per year",
    "share": "market share",
    "customers": "customers",
    "served": "customers served",
    "expectation_gap": "expectation gap (E - X)",
    "commitment": "commitment (0-1)",
    "control_mutuality": "control mutuality (0-1)",
    "mindset": "mind-set of own customers (-1..1)",
    "intention_to_stay": "intention to stay five years (0-1)",
    "clv": "customer lifetime value",
    "penetration": "penetration",
    "wom_ratio": "word of mouth positive:negative",
    "firm_exits": "firm exits",
    "cash": "cash",
}
"""Readable names of common metrics for tables and charts."""

NON_NUMERIC = {"name", "industry", "strategy"}


def market_metric_names(industries: Iterable[str]) -> list[str]:
    """Market metrics a run records, with the per-industry columns of a scenario."""
    names = [c for c in MARKET_COLUMNS if c not in ("step", "year")]
    for industry in industries:
        names += [f"satisfaction[{industry}]", f"served[{industry}]"]
    return names


def firm_metric_names() -> list[str]:
    """Numeric firm metrics a run records."""
    return [c for c in FIRM_COLUMNS if c not in ("step", "year", "firm", *NON_NUMERIC)]


@dataclass(frozen=True)
class Outcome:
    """A metric to summarise.

    Attributes
    ----------
    text
        As written in the sweep file.
    table
        ``market`` or ``firms``.
    metric
        The column.
    firm
        One firm's name, or None (market metric, or every firm).
    """

    text: str
    table: str
    metric: str
    firm: str | None = None

    @property
    def per_firm(self) -> bool:
        """True for a firm metric over every firm (one value per firm per run)."""
        return self.table == "firms" and self.firm is None

    @property
    def title(self) -> str:
        """A readable name: "annual retention of Big Promises"."""
        metric, _, industry = self.metric.partition("[")
        base = LABELS.get(metric, metric.replace("_", " "))
        if industry:
            base = f"{base} in {industry.rstrip(']')}"
        if self.table == "market":
            return f"market {base}" if self.metric in ("profit", "revenue", "nps") else base
        return f"{base} of {self.firm}" if self.firm else f"{base} (per firm)"


def parse_outcome(text: str, firms: list[str], industries: list[str]) -> Outcome:
    """Read an outcome name and check it against a scenario's firms and industries.

    Raises
    ------
    ValueError
        With a message saying what was expected.
    """
    t = text.strip()
    if t.startswith("firms."):
        rest = t[len("firms.") :]
        firm, _, metric = rest.rpartition(".")
        allowed = firm_metric_names()
        if metric not in allowed:
            raise ValueError(
                f"expected a firm metric after the last dot, one of "
                f"{', '.join(allowed)}; got {metric!r}"
            )
        if firm and firm not in firms:
            raise ValueError(f"expected a firm of the scenario ({', '.join(firms)}), got {firm!r}")
        return Outcome(text=t, table="firms", metric=metric, firm=firm or None)
    metric = t.removeprefix("market.")
    allowed = market_metric_names(industries)
    if metric not in allowed:
        raise ValueError(
            f"expected a market metric ({', '.join(allowed)}), firms.<metric> or "
            f"firms.<firm>.<metric>; got {t!r}"
        )
    return Outcome(text=t, table="market", metric=metric)
