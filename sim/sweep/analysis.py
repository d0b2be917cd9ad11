"""Summaries of a sweep: mean and t-based 95% confidence interval across replicates.

The aggregation runs in DuckDB over the Parquet chunks (count, mean and sample standard deviation
per group); the Student-t quantile is applied to the small aggregated table. NaN values (e.g. the
retention of a firm with no customers) count as missing. Groups are design points (one row per
point, in design order), or any parameter columns (marginal means pooled over the others), and
for per-firm outcomes also the firm.

Which replicates a firm outcome is averaged over (its *population*): a firm that has exited (or
not yet entered) has no customers, so its customers, share, capacity, sales and money flows
(:data:`OVER_ALL_REPLICATES`) read 0, and those outcomes are averaged over all replicates, an
exited firm counting as 0; every other firm outcome (retention, trust, satisfaction, NPS, ...)
describes the firm's customers or the firm itself and is averaged over the replicates in which
the firm is in business at that step (the ``active`` column). ``survivors=True`` averages every
firm outcome over the replicates in which the firm is in business. :func:`point_summary` says
which (``over``) and counts the replicates in business (``in_business`` of ``replicates``).

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.columns import ZERO_OUT_OF_BUSINESS, metric_range
from sim.sweep.outcomes import Outcome, parse_outcome

if TYPE_CHECKING:
    import duckdb

    from sim.sweep.results import SweepResults

__all__ = [
    "ALL_REPLICATES",
    "AT_FINAL",
    "IN_BUSINESS",
    "OVER_ALL_REPLICATES",
    "add_ci",
    "mean_ci",
    "outcome_ci",
    "outcome_values",
    "parse_outcomes",
    "point_summary",
    "population",
    "quote",
    "timeseries",
]

AT_FINAL = "final"

OVER_ALL_REPLICATES = ZERO_OUT_OF_BUSINESS
"""Firm metrics that read 0 for a firm out of business (``sim.columns``): averaged over all
replicates, an exited firm counting as 0, unless ``survivors``."""

ALL_REPLICATES = "all replicates"
IN_BUSINESS = "in business"
"""The populations of :func:`population` (the ``over`` column of :func:`point_summary`)."""


def population(outcome: Outcome, survivors: bool = False) -> str:
    """Which replicates an outcome's mean is over: :data:`ALL_REPLICATES` (market outcomes, and
    firm metrics of :data:`OVER_ALL_REPLICATES` unless ``survivors``) or :data:`IN_BUSINESS`
    (the replicates in which the firm is in business at the step summarised)."""
    if outcome.table != "firms":
        return ALL_REPLICATES
    if survivors or outcome.metric not in OVER_ALL_REPLICATES:
        return IN_BUSINESS
    return ALL_REPLICATES


def _in_business(results: SweepResults) -> str:
    """SQL for "the firm is in business" on a firms row: its ``active`` column, or NULL (not
    known) in results written before it was kept."""
    columns = results.sql("SELECT * FROM firms LIMIT 0").columns
    return "active" if "active" in columns else "NULL::BOOLEAN"


def quote(name: str) -> str:
    """A DuckDB identifier in double quotes (parameter names may hold dots and brackets)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def add_ci(
    df: pd.DataFrame,
    level: float = 0.95,
    within: tuple[float, float] = (-np.inf, np.inf),
) -> pd.DataFrame:
    """Add ``half_width``, ``ci_low`` and ``ci_high`` from columns ``n``, ``mean`` and ``sd``.

    The interval is ``mean +- t_{(1+level)/2, n-1} * sd / sqrt(n)``, its ends kept ``within``
    the values the metric can take (``sim.columns.metric_range``: a share's interval over two
    replicates reached below 0); ``half_width`` is the t half-width itself. NaN where ``n < 2``.
    """
    out = df.copy()
    n = out["n"].to_numpy(float)
    sd = out["sd"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n >= 2, stats.t.ppf((1 + level) / 2, np.maximum(n - 1, 1)), np.nan)
        half = t * sd / np.sqrt(n)
    out["half_width"] = half
    out["ci_low"] = np.clip(out["mean"] - half, *within)
    out["ci_high"] = np.clip(out["mean"] + half, *within)
    return out


def mean_ci(
    relation: duckdb.DuckDBPyRelation,
    by: Sequence[str],
    value: str,
    level: float = 0.95,
    within: tuple[float, float] = (-np.inf, np.inf),
) -> pd.DataFrame:
    """Mean and t-based confidence interval of ``value`` per group of ``by``, in DuckDB.

    Parameters
    ----------
    relation
        Any DuckDB relation (a table, a view, a query).
    by
        Grouping columns (may be empty: one row for everything).
    value
        The numeric column; NaN and NULL count as missing.
    level
        Confidence level.
    within
        The values ``value`` can take: the interval's ends are kept within them.

    Returns
    -------
    DataFrame
        ``by`` columns, then ``n``, ``mean``, ``sd``, ``half_width``, ``ci_low``, ``ci_high``,
        sorted by ``by``.
    """
    v = f"CAST({quote(value)} AS DOUBLE)"
    clean = f"CASE WHEN isnan({v}) THEN NULL ELSE {v} END"
    keys = ", ".join(quote(b) for b in by)
    aggs = f"count({clean}) AS n, avg({clean}) AS mean, stddev_samp({clean}) AS sd"
    rel = relation.aggregate(f"{keys}, {aggs}" if keys else aggs, keys)
    if keys:
        rel = rel.order(keys)
    df = rel.df()
    df["n"] = df["n"].astype(int)
    return add_ci(df, level, within)


def parse_outcomes(results: SweepResults, texts: Sequence[str]) -> list[Outcome]:
    """Outcome names checked against the sweep's scenario (firms and industries)."""
    firms, industries = results.firm_names(), results.industries()
    return [parse_outcome(t, firms, industries) for t in texts]


def _value(results: SweepResults, outcome: Outcome, survivors: bool) -> str:
    """SQL of an outcome's value, NULL outside its :func:`population`, then ``in_business``
    (firm outcomes)."""
    metric = quote(outcome.metric)
    if outcome.table != "firms":
        return f"{metric} AS value"
    business = _in_business(results)
    if population(outcome, survivors) == IN_BUSINESS:
        metric = f"CASE WHEN {business} IS FALSE THEN NULL ELSE {metric} END"
    return f"{metric} AS value, {business} AS in_business"


def outcome_values(
    results: SweepResults,
    outcome: Outcome,
    at: int | str = AT_FINAL,
    survivors: bool = False,
) -> duckdb.DuckDBPyRelation:
    """One value of ``outcome`` per run (and firm): a relation with the id and parameter columns,
    ``firm`` (firm outcomes), ``step``, ``value`` and, for firm outcomes, ``in_business``.

    Parameters
    ----------
    results
        The sweep.
    outcome
        What to read.
    at
        ``"final"`` (each run's last kept step) or a step number.
    survivors
        Every firm outcome only where the firm is in business (else as :func:`population`
        says); ``value`` is NULL outside the population.
    """
    ids = ["run_id", "point_id", "point", "replicate", *results.parameters]
    cols = ", ".join(quote(c) for c in ids)
    firm_col = ", name AS firm" if outcome.table == "firms" else ""
    where = [f"name = {_literal(outcome.firm)}"] if outcome.firm else []
    if at != AT_FINAL:
        where.append(f"step = {int(at)}")
    value = _value(results, outcome, survivors)
    sql = f"SELECT {cols}{firm_col}, step, {value} FROM {outcome.table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if at == AT_FINAL:
        sql += " QUALIFY step = max(step) OVER (PARTITION BY run_id)"
    return results.sql(sql)


def outcome_ci(
    results: SweepResults,
    outcome: Outcome,
    by: Sequence[str],
    at: int | str = AT_FINAL,
    level: float = 0.95,
    survivors: bool = False,
) -> pd.DataFrame:
    """Mean and CI of an outcome per group of ``by`` (plus ``firm`` for per-firm outcomes), over
    its :func:`population`."""
    rel = outcome_values(results, outcome, at, survivors)
    keys = [*by, "firm"] if outcome.per_firm else list(by)
    return mean_ci(rel, keys, "value", level, metric_range(outcome.metric))


def _replicates(
    results: SweepResults, outcome: Outcome, by: Sequence[str], at: int | str
) -> pd.DataFrame:
    """Per group of ``by`` (and firm): ``replicates`` (runs with a row at the step) and, for
    firm outcomes, ``in_business`` (those where the firm is in business; NaN when not known)."""
    rel = outcome_values(results, outcome, at)
    keys = [*by, "firm"] if outcome.per_firm else list(by)
    aggs = "count(*) AS replicates"
    if outcome.table == "firms":
        aggs += ", count_if(in_business) AS in_business, count(in_business) AS known"
    group = ", ".join(quote(k) for k in keys)
    df = rel.aggregate(f"{group}, {aggs}" if group else aggs, group).df()
    df["replicates"] = df["replicates"].astype(int)
    if outcome.table == "firms":
        known = df.pop("known").to_numpy() == df["replicates"].to_numpy()
        df["in_business"] = df["in_business"].astype(float).where(known)
    else:
        df["in_business"] = np.nan
    return df


def point_summary(
    results: SweepResults,
    outcomes: Sequence[Outcome],
    at: int | str = AT_FINAL,
    level: float = 0.95,
    survivors: bool = False,
) -> pd.DataFrame:
    """Mean and CI across replicates per design point, for each outcome (long format).

    Parameters
    ----------
    results
        The sweep.
    outcomes
        What to summarise.
    at
        ``"final"`` or a kept step.
    level
        Confidence level.
    survivors
        Every firm outcome over the replicates in which the firm is in business (else each
        over its :func:`population`).

    Returns
    -------
    DataFrame
        ``outcome``, ``title``, ``firm``, ``point``, ``label``, the parameter columns, ``n``
        (replicates averaged: with a value, in the population), ``mean``, ``sd``,
        ``half_width``, ``ci_low``, ``ci_high``, ``over`` (the population: "all replicates"
        or "in business"), ``replicates`` (runs of the point with a row at the step) and
        ``in_business`` (of them, those where the firm is in business; NaN for market
        outcomes, and where not recorded); rows in design order.
    """
    labels = results.sql("SELECT point, any_value(label) AS label FROM design GROUP BY point").df()
    frames = []
    by = ["point", *results.parameters]
    for o in outcomes:
        df = outcome_ci(results, o, by, at, level, survivors)
        counts = _replicates(results, o, ["point"], at)  # the point decides the parameters
        df = df.merge(counts, on=["point", "firm"] if o.per_firm else ["point"], how="left")
        df["over"] = population(o, survivors)
        df = df.merge(labels, on="point", how="left")
        df.insert(0, "outcome", o.text)
        df.insert(1, "title", o.title)
        if "firm" not in df:
            df.insert(2, "firm", o.firm)
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    front = ["outcome", "title", "firm", "point", "label", *results.parameters]
    rest = [c for c in out.columns if c not in front]
    return (
        out[front + rest]
        .sort_values(["outcome", "point", "firm"], kind="stable", key=_outcome_order(outcomes))
        .reset_index(drop=True)
    )


def _outcome_order(outcomes: Sequence[Outcome]) -> Any:
    order = {o.text: i for i, o in enumerate(outcomes)}

    def key(col: pd.Series) -> pd.Series:
        return col.map(order) if col.name == "outcome" else col

    return key


def timeseries(
    results: SweepResults,
    outcome: Outcome,
    by: Sequence[str] = ("point",),
    level: float = 0.95,
    survivors: bool = False,
) -> pd.DataFrame:
    """Mean and CI of an outcome at every kept step, per group of ``by`` (and firm), over its
    :func:`population` (``survivors``: as :func:`point_summary`).

    Returns
    -------
    DataFrame
        ``by``, ``firm`` (per-firm outcomes), ``step``, ``year``, ``n``, ``mean``, ``sd``,
        ``half_width``, ``ci_low``, ``ci_high``.
    """
    ids = ", ".join(quote(c) for c in ["run_id", "point", *results.parameters])
    firm_col = ", name AS firm" if outcome.table == "firms" else ""
    value = _value(results, outcome, survivors)
    sql = f"SELECT {ids}{firm_col}, step, year, {value} FROM {outcome.table}"
    if outcome.firm:
        sql += f" WHERE name = {_literal(outcome.firm)}"
    keys = [*by, *(["firm"] if outcome.per_firm else []), "step", "year"]
    return mean_ci(results.sql(sql), keys, "value", level, metric_range(outcome.metric))
