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
        self.series = df["series"].to_numpy()
        self.names = df["firm"].to_numpy()
        self.cohort_of = df["cohort"].to_numpy()
        self.firm_names = sorted({str(n) for n in self.names if n})
        self.read: dict[str, set[str]] = {"market": set(), "firms": set()}  # columns the rows read
        for series, name in zip(self.series, self.names, strict=True):
            table = "firms" if name else "market"
            if (column := _read(series, table)) is not None:
                self.read[table].add(column)
        self.needs_cohorts = bool(
            (
                (self.series == "survival") | ((self.series == "purchases") & (self.cohort_of >= 0))
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
        out = np.full(self.n, np.nan)
        market = _Rows.of(tables["market"], self.read["market"])
        firms = _Rows.by_name(tables["firms"], self.read["firms"], self.firm_names)
        cohorts = tables.get("cohorts")
        snapshots = _Cohorts(cohorts) if cohorts is not None else None
        for i in range(self.n):
            name = self.names[i]
            table = firms.get(name) if name else market
            if table is None:
                continue
            s = self.series[i]
            step = int(self.steps[i])
            if s in _COLUMN:
                out[i] = table.at(_COLUMN[s], step)
            elif s == "churn":
                out[i] = 1.0 - table.product("retention_weekly", int(self.starts[i]), step)
            elif s == "purchases" and self.cohort_of[i] < 0:
                column = "customers" if name else "served"
                first = table.first(column)
                out[i] = table.at(column, step) / first if first > 0 else np.nan
            elif snapshots is not None:
                out[i] = snapshots.value(name, int(self.cohort_of[i]), step, s)
        self._profile_rates(out)
        return out

    def _profile_rates(self, out: np.ndarray) -> None:
        """Turn the ``purchases`` rows' shares of the cohort into purchases (profiled rate)."""
        df = self.observed.frame
        rows = self.series == "purchases"
        if not rows.any():
            return
        fit = rows & ~df["holdout"].to_numpy()
        value = df["value"].to_numpy()
        for name in pd.unique(self.names[rows]):
            mine = rows & (self.names == name)
            use = mine & fit & np.isfinite(out)
            denom = float(np.sum(out[use] ** 2))
            rate = float(np.sum(out[use] * value[use]) / denom) if denom > 0 else np.nan
            out[mine] = out[mine] * rate


def _read(series: str, table: str) -> str | None:
    """The column of a ``market`` or ``firms`` table that a row of ``series`` reads (None: the
    cohorts')."""
    if series in _COLUMN:
        return _COLUMN[series]
    if series == "churn":
        return "retention_weekly"
    if series == "purchases":
        return "customers" if table == "firms" else "served"
    return None


class _Rows:
    """A run's rows of the market, or of one firm, as arrays: their steps and the columns read.

    A run's tables are read as arrays once, not a pandas selection per observed row: the
    summaries of a run of the calibration example (18 rows, 10 of them cohort survival) took
    4.9-7.4 ms in the calibration's own process, about what the run costs a worker, and that
    process's CPU kept the two workers waiting; 0.19 ms so, the same numbers
    (docs/performance_rounds.md, twelfth round)."""

    def __init__(self, steps: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        self.steps, self.columns = steps, columns

    @classmethod
    def of(cls, table: pd.DataFrame, columns: set[str]) -> _Rows:
        """The rows of ``table`` (those of ``columns`` it has, as floats)."""
        read = {c: table[c].to_numpy(dtype=float) for c in columns if c in table}
        return cls(table["step"].to_numpy(), read)

    @classmethod
    def by_name(cls, table: pd.DataFrame, columns: set[str], names: list[str]) -> dict[str, _Rows]:
        """Each firm's rows (of ``names``, those the table has)."""
        every, of = cls.of(table, columns), table["name"].to_numpy()
        out = {}
        for name in names:
            mine = of == name
            if mine.any():
                out[name] = cls(every.steps[mine], {c: v[mine] for c, v in every.columns.items()})
        return out

    def at(self, column: str, step: int) -> float:
        """The value at ``step``, else at the latest step before it (the run ended early or the
        step was not kept); NaN if there is none."""
        before = np.flatnonzero(self.steps <= step)
        if not len(before):
            return np.nan
        return float(self.columns[column][before[np.argmax(self.steps[before])]])

    def product(self, column: str, start: int, end: int) -> float:
        """The product of the values over the steps ``start < step <= end`` (NaN for none)."""
        window = self.columns[column][(self.steps > start) & (self.steps <= end)]
        return float(np.nanprod(window)) if len(window) else np.nan

    def first(self, column: str) -> float:
        """The value of the first row (NaN without rows)."""
        values = self.columns[column]
        return float(values[0]) if len(values) else np.nan


class _Cohorts:
    """A run's cohort snapshots as arrays; each (firm, cohort) read once, at its first row."""

    def __init__(self, cohorts: pd.DataFrame) -> None:
        self.cohort = cohorts["cohort"].to_numpy()
        self.name = cohorts["name"].to_numpy()
        self.step = cohorts["step"].to_numpy()
        self.joined = cohorts["joined"].to_numpy()
        self.remaining = cohorts["remaining"].to_numpy()
        self.read: dict[tuple[str, int], tuple[np.ndarray, ...] | None] = {}

    def _snapshots(self, firm: str, cohort: int) -> tuple[np.ndarray, ...] | None:
        """The cohort's snapshot steps (in the table's order), its members remaining and joined
        at each (the whole market's when ``firm`` is empty); None when it has no row."""
        key = (firm, cohort)
        if key not in self.read:
            mine = self.cohort == cohort
            if firm:
                mine &= self.name == firm
            if not mine.any():
                self.read[key] = None
            else:
                # the snapshots in the order the table first has them (the nearest of two
                # equally near is the first), the members summed over firms (NaN as none)
                snaps, first, which = np.unique(
                    self.step[mine], return_index=True, return_inverse=True
                )
                order = np.argsort(first, kind="stable")
                self.read[key] = (
                    snaps[order],
                    *(
                        np.bincount(which, np.nan_to_num(values[mine].astype(float)))[order]
                        for values in (self.remaining, self.joined)
                    ),
                )
        return self.read[key]

    def value(self, firm: str, cohort: int, step: int, series: str) -> float:
        """``survival``: remaining / joined at the snapshot nearest to ``step``; ``purchases``:
        remaining there over the cohort's largest size."""
        read = self._snapshots(firm, cohort)
        if read is None:
            return np.nan
        snaps, remaining, joined = read
        at = int(np.argmin(np.abs(snaps - step)))
        if series == "survival":
            return min(1.0, remaining[at] / joined[at]) if joined[at] > 0 else np.nan
        size = joined.max()
        return remaining[at] / size if size > 0 else np.nan
