"""Observed series from a purchase log: repeat purchases of a cohort by age.

Many firms have no record of who is still a customer, only of who bought when (a
"non-contractual" setting: the CDNOW data, most retail). :func:`purchases_by_age` turns such a
log into rows of the observed-data format: for each period of ``period_days`` after each
customer's first purchase, the repeat purchases (distinct purchase days after the first) per
member of the cohort, series ``purchases``. The model matches them with a purchase rate times
the share of the cohort still a customer (see :mod:`sim.calibration.summaries`).

This module never imports the model, an executor or the UI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["purchases_by_age", "repeat_purchase_days"]

DAYS_PER_YEAR = 364
"""A model year is 52 weeks."""


def repeat_purchase_days(log: pd.DataFrame, customer: str, date: str) -> pd.DataFrame:
    """One row per customer and distinct purchase day: ``customer``, ``age_days`` (days since
    the customer's first purchase; 0 for that purchase), ``first``."""
    days = pd.to_datetime(log[date]).dt.normalize()
    df = pd.DataFrame({"customer": log[customer].to_numpy(), "day": days}).drop_duplicates()
    first = df.groupby("customer")["day"].transform("min")
    df["first"] = first
    df["age_days"] = (df["day"] - first).dt.days
    return df.sort_values(["customer", "age_days"]).reset_index(drop=True)


def purchases_by_age(
    log: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    period_days: int = 28,
    periods: int | None = None,
    holdout_after: int | None = None,
    firm: str = "",
    observed_until: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Repeat purchases per cohort member in each period of age, as observed-data rows.

    Parameters
    ----------
    log
        One row per purchase (several on one day count once).
    customer, date
        Column names.
    period_days
        Length of a period (28: four weeks).
    periods
        Periods to report (default: as many as every customer was observed for).
    holdout_after
        Periods after this one are marked ``holdout`` (kept for checking a forecast).
    firm
        The ``firm`` column of the rows ('' for the market).
    observed_until
        Last day of the log (default: its last purchase).

    Returns
    -------
    DataFrame
        ``series`` ('purchases'), ``firm``, ``cohort`` (empty), ``year`` (end of the period, in
        52-week years), ``value`` (purchases per member), ``n`` (the cohort's size),
        ``holdout``.

    Raises
    ------
    ValueError
        ``periods`` reaches past what the last customer to join was observed for.
    """
    df = repeat_purchase_days(log, customer, date)
    end = pd.Timestamp(observed_until) if observed_until is not None else df["day"].max()
    n = int(df["customer"].nunique())
    observable = int((end - df["first"].max()).days // period_days)
    if periods is None:
        periods = observable
    if periods > observable:
        raise ValueError(
            f"periods: the last customer to join was observed for {observable} periods of "
            f"{period_days} days; expected periods <= {observable}, got {periods}"
        )
    repeat = df[df["age_days"] > 0]
    k = np.ceil(repeat["age_days"].to_numpy() / period_days).astype(int)
    counts = np.bincount(k[k <= periods], minlength=periods + 1)[1:]
    rows = pd.DataFrame(
        {
            "series": "purchases",
            "firm": firm,
            "cohort": "",
            "year": np.arange(1, periods + 1) * period_days / DAYS_PER_YEAR,
            "value": counts / n,
            "n": n,
            "holdout": np.arange(1, periods + 1) > (holdout_after or periods),
        }
    )
    return rows
