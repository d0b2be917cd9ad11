"""The leaderboard's annual retention and lifetime value: a firm's churn with a prior.

The model's ``retention_annual`` projects a firm's churn over the last year. In a room of a
dozen firms of 20-80 customers each, a firm that lost nobody in its first weeks (early in
``overpromise_vs_honest`` nobody leaves anyone) reads 100%, and its lifetime value ``margin x r
/ (1 + i - r)`` is then about ten times its margin, against 2.7 times at 80%: a leaderboard
ranked by customers x lifetime value put such a firm first, an over-promiser included (a
facilitator's review of 5 December 2026: after round 1 of docs/workshop.md's own room the
over-promiser led with a value of 12,999 against 1,390). The leaderboard estimates instead

    rate(f) = (left(f) + k * prior(f)) / (exposed(f) + k)
    prior(f) = 1 - stay(f) ** (1 / (5 * steps_per_year))
    r(f)    = (1 - rate(f)) ** steps_per_year

over the last year's weeks, as the model does: ``left`` the customers of the start of each week
who left during it, ``exposed`` the customers at the start of each week, summed; ``prior`` the
weekly churn chance that, held for five years, gives the firm's customers' mean intention to
stay (``intention_to_stay``, their answers from the churn hazard of docs/MODEL.md 7.8; by
Jensen's inequality a little below their mean chance); ``k`` :data:`PRIOR_WEEKS` weeks of the
mean customer base of an active firm. What customers say weighs as much as a quarter of an
average firm's own weeks: after round 1 (13 weeks) an average firm's estimate is half each,
after a year four fifths its own churn. A firm whose customers gave no answer takes the
market's churn as its prior. Before :data:`PRIOR_WEEKS` weeks have been played, as on the
Explore page, there is no estimate (``None``: "–").

A firm out of business keeps the model's reading (0 until a year after it closed, then
undefined) and has no lifetime value.

This module must never import the UI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.metrics import clv, lost_from_start

__all__ = ["PRIOR_WEEKS", "lifetime_values", "retention_estimates"]

PRIOR_WEEKS = 13
"""Weeks of an average firm's customer base that the prior (what its customers say) weighs as,
and the weeks played before there is any estimate."""

COLUMNS = (
    "customers",
    "acquired",
    "switched_in",
    "churned",
    "active",
    "intention_to_stay",
    "retention_annual",
)
"""The ``firm_metrics()`` columns the estimate reads."""


def retention_estimates(df: pd.DataFrame, steps_per_year: int) -> np.ndarray:
    """``[T, F]`` annual retention of every firm at steps 1..T.

    ``df`` is a market's ``firm_metrics()`` with every step recorded from step 1; NaN where
    there is no estimate (fewer than :data:`PRIOR_WEEKS` steps played, or a firm closed a
    year ago or more).
    """
    wide = df.pivot(index="step", columns="firm", values=list(COLUMNS)).sort_index()
    col = {name: wide[name].to_numpy(float) for name in COLUMNS}  # [steps, firms] each
    churned, active = col["churned"], col["active"].astype(bool)
    # the customers at the start of each step: at its end, less those won, plus those lost
    exposed = col["customers"] - col["acquired"] - col["switched_in"] + churned
    left = lost_from_start(churned, exposed)
    window = max(1, int(steps_per_year))
    left_sum, exposed_sum = _trailing(left, window), _trailing(exposed, window)
    weeks = np.minimum(np.arange(1, len(exposed) + 1), window)[:, None]
    market_exposed = (exposed_sum * active).sum(axis=1, keepdims=True)
    firms = np.maximum(active.sum(axis=1, keepdims=True), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        market_rate = (left_sum * active).sum(axis=1, keepdims=True) / market_exposed
        said = 1.0 - col["intention_to_stay"] ** (1.0 / (5 * steps_per_year))
        prior = np.where(np.isnan(said), market_rate, said)
        k = PRIOR_WEEKS * market_exposed / weeks / firms
        rate = (left_sum + k * prior) / (exposed_sum + k)
    out = np.where(active, (1.0 - rate) ** steps_per_year, col["retention_annual"])
    out[: PRIOR_WEEKS - 1] = np.nan
    return out


def lifetime_values(
    retention: np.ndarray, margin: np.ndarray, active: np.ndarray, discount: float
) -> np.ndarray:
    """``[F]`` lifetime value of a customer of each firm at ``retention`` (NaN: none)."""
    ok = active & ~np.isnan(retention)
    return np.where(ok, clv(margin, np.nan_to_num(retention), discount), np.nan)


def _trailing(values: np.ndarray, window: int) -> np.ndarray:
    """Sums over the last ``window`` rows at each row (fewer at the start)."""
    total = np.cumsum(values, axis=0)
    out = total.copy()
    out[window:] -= total[:-window]
    return out
