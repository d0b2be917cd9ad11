"""What a run says about each observed row: the simulated counterpart of every observation.

:class:`Summaries` reads a run's ``market``, ``firms`` and ``cohorts`` tables and returns one
number per row of the observed data, in the data's order (held-out rows included):

- ``nps``, ``satisfaction``, ``retention`` (annual), ``share``: the firm's (or the market's)
  value at the step ``round(year * steps_per_year)``.
- ``churn``: ``1 - prod(weekly retention)`` over the period that ends at ``year`` and starts at
  the curve's previous row (the first row's period is as long as the next one's; a lone row's
  is a year).
- ``survival``: remaining / joined of the firm's cohort (all firms' for the market) at the
  cohort snapshot nearest to the step.
- ``purchases``: ``rate * remaining / cohort size``, the share of the cohort still a customer
  times a purchase rate; without a cohort, the firm's customers at the step over its customers
  after the first step (for a firm whose customers at the start are the cohort). The model says
  who is still a customer, not how often they buy, so the rate is profiled out: for each firm
  it is the least-squares rate over that firm's fitted (not held-out) rows, and the held-out
  rows use the same rate.

A value the run cannot give (a firm with no customers has no NPS) is NaN; the distance treats
such a run as far from the data.

This module never imports the model, an executor or the UI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calibration.data import ObservedData

__all__ = ["FIRM_METRICS", "MARKET_METRICS", "Summaries"]

FIRM_METRICS = ("customers", "share", "retention_weekly", "retention_annual", "nps", "satisfaction")
"""Firm columns the summaries read."""

MARKET_METRICS = ("served", "retention_weekly", "retention_annual", "nps", "satisfaction")
"""Market columns the summaries read."""

_COLUMN = {
    "nps": "nps",
    "satisfaction": "satisfaction",
    "retention": "retention_annual",
    "share": "share",
}


class Summaries:
    """Maps a run's tables to the observed rows.

    Parameters
    ----------
    observed
        The checked data.
    steps_per_year
        Of the scenario.
    """

    def __init__(self, observed: ObservedData, steps_per_year: int) -> None:
        self.observed = observed
        self.spy = int(steps_per_year)
        df = observed.frame
        self.n = len(df)
        self.steps = np.rint(df["year"].to_numpy() * self.spy).astype(np.int64)
        self.starts = self._period_starts(df)
        self.needs_cohorts = bool(
            (
                (df["series"] == "survival") | ((df["series"] == "purchases") & (df["cohort"] >= 0))
            ).any()
        )

    @property
    def horizon_steps(self) -> int:
        """Steps a run must last to reach the latest row."""
        return max(1, int(self.steps.max()))

    def _period_starts(self, df: pd.DataFrame) -> np.ndarray:
        starts = np.zeros(len(df), np.int64)
        for _, idx in df.groupby(["series", "firm", "cohort"], sort=False).groups.items():
            rows = np.asarray(idx)
            rows = rows[np.argsort(self.steps[rows], kind="stable")]
            steps = self.steps[rows]
            gaps = np.diff(steps)
            first = int(gaps[0]) if len(gaps) else self.spy
            starts[rows[0]] = steps[0] - first
            starts[rows[1:]] = steps[:-1]
        return starts

    def tables(self) -> tuple[str, ...]:
        """The run tables needed."""
        return ("market", "firms", "cohorts") if self.needs_cohorts else ("market", "firms")

    def simulate(self, tables: dict[str, pd.DataFrame]) -> np.ndarray:
        """One simulated value per observed row (NaN where the run has none).

        Parameters
        ----------
        tables
            A finished run's ``market``, ``firms`` (every step) and, when needed, ``cohorts``.
        """
        df = self.observed.frame
        out = np.full(self.n, np.nan)
        market = tables["market"].set_index("step")
        firms = {name: g.set_index("step") for name, g in tables["firms"].groupby("name")}
        cohorts = tables.get("cohorts")
        series = df["series"].to_numpy()
        names = df["firm"].to_numpy()
        cohort_of = df["cohort"].to_numpy()
        for i in range(self.n):
            table = firms.get(names[i]) if names[i] else market
            if table is None:
                continue
            s = series[i]
            step = int(self.steps[i])
            if s in _COLUMN:
                out[i] = _at(table, _COLUMN[s], step)
            elif s == "churn":
                window = table["retention_weekly"].loc[
                    (table.index > self.starts[i]) & (table.index <= step)
                ]
                kept = np.nanprod(window.to_numpy(dtype=float)) if len(window) else np.nan
                out[i] = 1.0 - kept
            elif s == "purchases" and cohort_of[i] < 0:
                column = "customers" if names[i] else "served"
                first = table[column].iloc[0] if len(table) else np.nan
                out[i] = _at(table, column, step) / first if first > 0 else np.nan
            elif cohorts is not None:
                out[i] = _cohort_value(cohorts, names[i], int(cohort_of[i]), step, s)
        self._profile_rates(out)
        return out

    def _profile_rates(self, out: np.ndarray) -> None:
        """Turn the ``purchases`` rows' shares of the cohort into purchases (profiled rate)."""
        df = self.observed.frame
        rows = df["series"].to_numpy() == "purchases"
        if not rows.any():
            return
        fit = rows & ~df["holdout"].to_numpy()
        value = df["value"].to_numpy()
        for name in pd.unique(df.loc[rows, "firm"]):
            mine = rows & (df["firm"].to_numpy() == name)
            use = mine & fit & np.isfinite(out)
            denom = float(np.sum(out[use] ** 2))
            rate = float(np.sum(out[use] * value[use]) / denom) if denom > 0 else np.nan
            out[mine] = out[mine] * rate


def _at(table: pd.DataFrame, column: str, step: int) -> float:
    if step in table.index:
        v = table.at[step, column]
    else:  # the run ended early (every firm gone) or the step was not kept: nearest earlier
        earlier = table.index[table.index <= step]
        if not len(earlier):
            return np.nan
        v = table.at[earlier.max(), column]
    return float(v) if v is not None else np.nan


def _cohort_value(cohorts: pd.DataFrame, firm: str, cohort: int, step: int, series: str) -> float:
    mine = cohorts[cohorts["cohort"] == cohort]
    if firm:
        mine = mine[mine["name"] == firm]
    if mine.empty:
        return np.nan
    snaps = mine["step"].unique()
    nearest = snaps[np.argmin(np.abs(snaps - step))]
    at = mine[mine["step"] == nearest]
    remaining = float(at["remaining"].sum())
    if series == "survival":
        joined = float(at["joined"].sum())
        return min(1.0, remaining / joined) if joined > 0 else np.nan
    size = float(mine.groupby("step")["joined"].sum().max())
    return remaining / size if size > 0 else np.nan
