"""Early warning: which relationship indicators move before churn does, and by how many weeks.

Retention tells a customer-success team too late: churn is a count of rare events, so a rise in
it stands out from its week-to-week noise only after it has lasted a while, and by then the
customers are gone. The indicators (``sim.indicators``) are means over every current customer and
move as soon as the customers' state does. This module measures, per firm, how far ahead of churn
each indicator gave warning, with the *signals approach* of early-warning systems (Kaminsky,
Lizondo & Reinhart 1998): each series raises an alarm when it moves against the firm by more than
its normal variation; an indicator's lead is the time from its alarm to the alarm on churn.

Every series gets the same treatment, so their delays compare fairly:

1. smoothed over the last ``smooth_weeks`` (churn: churned over customers at the start of those
   weeks, a monthly churn rate by default);
2. at each week, compared with its own previous ``baseline_weeks``: the move against the firm
   (a fall of an indicator, a rise of churn) from the baseline mean, over the larger of
   ``threshold`` baseline standard deviations and a material change (``materiality`` of the
   indicator's scale; ``churn_floor`` for churn);
3. an alarm is raised in the week the move has exceeded that for ``persist_weeks`` weeks in a
   row; alarms closer than ``rearm_weeks`` to the previous one belong to the same episode.

Each alarm uses only the data up to its week, and the settings are fixed in advance, not fitted
to the run: every alarm is one a team watching the series could have raised that week. That is
the hold-out: nothing is estimated from the weeks it is judged on. For each episode of churn the
lead of an indicator is the time since its last alarm within ``horizon_weeks`` before (negative,
a lag, when its first alarm came within ``lag_weeks`` after churn rose). Over the panel of
firms, each indicator's *hits* are the churn episodes it warned of and its *false alarms* the
alarms no churn episode followed within the horizon.

This module must never import the model, the rules or the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "INDICATORS",
    "EarlyWarning",
    "Indicator",
    "Settings",
    "alarm_weeks",
    "early_warning",
]


class Indicator(NamedTuple):
    """How an indicator is named and drawn: its name in words, its scale, its colour."""

    label: str
    low: float
    high: float
    colour: str

    @property
    def width(self) -> float:
        """Width of the scale."""
        return self.high - self.low


INDICATORS: dict[str, Indicator] = {
    "satisfaction": Indicator("satisfaction", 0.0, 10.0, "#009e73"),
    "trust": Indicator("trust", 0.0, 1.0, "#0072b2"),
    "control_mutuality": Indicator("control mutuality", 0.0, 1.0, "#8c564b"),
    "commitment": Indicator("commitment", 0.0, 1.0, "#cc79a7"),
    "mindset": Indicator("mind-set", -1.0, 1.0, "#e69f00"),
    "nps": Indicator("NPS", -100.0, 100.0, "#7b61ff"),
    "intention_to_stay": Indicator("intention to stay", 0.0, 1.0, "#d62728"),
}
"""The indicators watched, by column; higher is better for all of them. Their colours are
distinct hues (green, blue, brown, pink, amber, violet, red) and none is the churn line's near
black: trust and intention to stay were two close reds that overlapped on the chart."""

CHURN = "churn"


@dataclass(frozen=True)
class Settings:
    """How the series are watched (all durations in weeks).

    Attributes
    ----------
    smooth_weeks
        Trailing window every series is averaged over (4: a month).
    baseline_weeks
        The series' own recent past that a week is compared with (26: half a year).
    threshold
        Baseline standard deviations a move must exceed.
    materiality
        Share of an indicator's scale a move must exceed as well (0.01: 0.1 satisfaction
        points, 0.01 of trust, 2 NPS points).
    churn_floor
        Rise of the weekly churn rate a move of churn must exceed as well (0.002 a week, about
        10 points of annual retention: smaller rises are within the noise of a firm of a few
        hundred customers and would be alarms about nothing).
    persist_weeks
        Consecutive weeks beyond the threshold before an alarm is raised.
    rearm_weeks
        Alarms within this many weeks of the previous one are the same episode.
    horizon_weeks
        How far before churn rose an indicator's alarm counts as a warning of it (52: a year;
        first 26, widened when the incumbent of ``growth_vs_support`` showed alarms 29-33 weeks
        ahead of its churn, which half a year reported as "did not fall").
    lag_weeks
        How far after churn rose an indicator's first alarm counts as following it.
    """

    smooth_weeks: float = 4.0
    baseline_weeks: float = 26.0
    threshold: float = 3.0
    materiality: float = 0.01
    churn_floor: float = 0.002
    persist_weeks: float = 2.0
    rearm_weeks: float = 13.0
    horizon_weeks: float = 52.0
    lag_weeks: float = 13.0


def _records(weeks: float, weeks_per_record: float) -> int:
    return max(1, round(weeks / weeks_per_record))


def alarm_weeks(
    values: np.ndarray, floor: float, settings: Settings, weeks_per_record: float = 1.0
) -> np.ndarray:
    """Indices of the records at which a series raises an alarm (an episode's first).

    ``values`` is the smoothed series, oriented so that a *rise* is bad (churn, or an indicator
    negated); ``floor`` is the smallest rise that matters. NaN records raise nothing.
    """
    x = pd.Series(np.asarray(values, float))
    base = _records(settings.baseline_weeks, weeks_per_record)
    past = x.shift(1).rolling(base, min_periods=base)
    margin = np.maximum(settings.threshold * past.std().to_numpy(), floor)
    beyond = (x.to_numpy() - past.mean().to_numpy()) > margin  # NaN compares False
    persist = _records(settings.persist_weeks, weeks_per_record)
    run = pd.Series(beyond).rolling(persist, min_periods=persist).sum().to_numpy() == persist
    raised = np.flatnonzero(run)
    rearm = _records(settings.rearm_weeks, weeks_per_record)
    episodes: list[int] = []
    last = -(10**9)
    for t in raised:
        if t - last > rearm:
            episodes.append(int(t))
        last = t
    return np.array(episodes, np.int64)


@dataclass
class EarlyWarning:
    """What the indicators said before churn rose, per firm.

    Attributes
    ----------
    alarms
        One row per alarm episode: ``firm``, ``name``, ``series`` (an indicator's column or
        ``"churn"``), ``step``, ``week``.
    leads
        One row per churn episode and indicator: ``firm``, ``name``, ``churn_week``,
        ``indicator``, ``alarm_week`` (NaN: no alarm near it) and ``lead_weeks`` (positive:
        the indicator moved first).
    scores
        Per indicator over every firm: ``churn_episodes``, ``warned`` (alarm within the horizon
        before), ``median_lead_weeks`` (over those warned of), ``alarms`` and ``false_alarms``
        (alarms that no churn episode followed within the horizon).
    series
        The series as watched, smoothed: ``firm``, ``name``, ``week``, ``churn`` (churned per
        customer at the start of the week) and the indicators, one row per firm and record.
    settings
        The settings used.
    weeks_per_record
        Weeks between two records of the input.
    """

    alarms: pd.DataFrame
    leads: pd.DataFrame
    scores: pd.DataFrame
    series: pd.DataFrame
    settings: Settings = field(default_factory=Settings)
    weeks_per_record: float = 1.0

    def sentences(self, firm: int) -> list[str]:
        """What happened at ``firm``, in words: one sentence per churn episode (or one saying
        churn did not rise), e.g. "trust fell 9 weeks before churn rose in week 66". A series
        *falls* (or churn *rises*) when it raises an alarm, moving beyond its normal variation
        (the module's steps 2-3); a smaller move a chart shows is not a fall, and the words say
        so where no alarm came."""
        mine = self.leads[self.leads["firm"] == firm]
        if mine.empty:
            raised = self.alarms[(self.alarms["firm"] == firm) & (self.alarms["series"] != CHURN)]
            if raised.empty:
                return [
                    "Churn did not rise beyond its normal variation, and no indicator fell "
                    "beyond its own."
                ]
            names = ", ".join(
                f"{INDICATORS[s].label} (week {w:.0f})"
                for s, w in zip(raised["series"], raised["week"], strict=True)
            )
            return [f"Churn did not rise beyond its normal variation; false alarms: {names}."]
        out = []
        for week, g in mine.groupby("churn_week", sort=True):
            g = g.sort_values("lead_weeks", ascending=False, na_position="last")
            before = g[g["lead_weeks"] > 0]
            same = g[g["lead_weeks"] == 0]
            after = g[g["lead_weeks"] < 0]
            silent = g[g["lead_weeks"].isna()]
            parts = []
            if not before.empty:
                first = before.iloc[0]
                parts.append(
                    f"{INDICATORS[first['indicator']].label} fell {_weeks(first['lead_weeks'])} "
                    f"before churn rose in week {week:.0f}"
                )
                parts += [
                    f"{INDICATORS[r['indicator']].label} {_weeks(r['lead_weeks'])} before"
                    for _, r in before.iloc[1:].iterrows()
                ]
            else:
                parts.append(
                    f"churn rose in week {week:.0f} with no indicator falling beyond its normal "
                    "variation first"
                )
            if not same.empty:
                parts.append(_join(same["indicator"]) + " the same week")
            if not after.empty:
                parts += [
                    f"{INDICATORS[r['indicator']].label} {_weeks(-r['lead_weeks'])} after"
                    for _, r in after.iterrows()
                ]
            if not silent.empty:
                parts.append(
                    _join(silent["indicator"])
                    + " did not fall beyond its normal variation in the "
                    + f"{self.settings.horizon_weeks:.0f} weeks before"
                )
            text = "; ".join(parts)
            out.append(text[0].upper() + text[1:] + ".")
        return out


def _join(columns: pd.Series) -> str:
    names = [INDICATORS[c].label for c in columns]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _weeks(n: float) -> str:
    n = float(n)
    return f"{n:.0f} week" + ("" if n == 1 else "s")


def _series(g: pd.DataFrame, smooth: int) -> dict[str, np.ndarray]:
    """A firm's series as watched: churn and the indicators, smoothed."""
    base = (g["customers"] + g["churned"] - g["acquired"] - g["switched_in"]).astype(float)
    churned = g["churned"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        churn = (
            churned.rolling(smooth, min_periods=1).sum() / base.rolling(smooth, min_periods=1).sum()
        )
    out = {CHURN: churn.to_numpy()}
    for column in INDICATORS:
        if column in g:
            out[column] = g[column].astype(float).rolling(smooth, min_periods=1).mean().to_numpy()
    return out


def early_warning(firms: pd.DataFrame, settings: Settings | None = None) -> EarlyWarning:
    """Which indicators moved before churn did, per firm, over a run's firm records.

    Parameters
    ----------
    firms
        ``model.firm_metrics()`` or a run's ``firms.parquet``: one row per firm and recorded
        step (steps evenly spaced; weekly by default) with ``step``, ``year``, ``firm``,
        ``name``, ``active``, ``customers``, ``churned``, ``acquired``, ``switched_in`` and the
        indicator columns of :data:`INDICATORS` (those missing are skipped).
    settings
        How the series are watched (:class:`Settings`).

    Returns
    -------
    EarlyWarning
        The alarms, the lead of every indicator on every churn episode, and the scores.
    """
    settings = settings or Settings()
    rows = firms[firms["active"]] if "active" in firms else firms
    weeks_per_record, weeks_per_step = _weeks_per(rows)
    smooth = _records(settings.smooth_weeks, weeks_per_record)
    horizon = settings.horizon_weeks
    alarms, leads, watched = [], [], []
    for firm, g in rows.sort_values("step").groupby("firm", sort=True):
        name = str(g["name"].iloc[0])
        week = np.round(g["year"].to_numpy(dtype=float) * 52.0, 6)
        series = _series(g, smooth)
        watched.append(pd.DataFrame({"firm": firm, "name": name, "week": week, **series}))
        raised = {}
        for column, values in series.items():
            if column == CHURN:
                floor, bad_rise = settings.churn_floor * weeks_per_step, values
            else:
                floor, bad_rise = settings.materiality * INDICATORS[column].width, -values
            at = alarm_weeks(bad_rise, floor, settings, weeks_per_record)
            raised[column] = week[at]
            alarms += [(firm, name, column, int(g["step"].iloc[t]), week[t]) for t in at]
        for churn_week in raised[CHURN]:
            for column in INDICATORS:
                if column not in raised:
                    continue
                at, lead = _lead(raised[column], churn_week, horizon, settings.lag_weeks)
                leads.append((firm, name, churn_week, column, at, lead))
    alarm_frame = pd.DataFrame(alarms, columns=["firm", "name", "series", "step", "week"])
    lead_frame = pd.DataFrame(
        leads, columns=["firm", "name", "churn_week", "indicator", "alarm_week", "lead_weeks"]
    )
    return EarlyWarning(
        alarm_frame,
        lead_frame,
        _scores(alarm_frame, lead_frame, horizon),
        pd.concat(watched, ignore_index=True) if watched else pd.DataFrame(),
        settings,
        weeks_per_record,
    )


def _weeks_per(rows: pd.DataFrame) -> tuple[float, float]:
    """``(weeks per record, weeks per step)`` of the records."""
    positive = rows[rows["step"] > 0]
    steps_per_year = float(np.median(positive["step"] / positive["year"])) if len(positive) else 52
    per_step = 52.0 / steps_per_year
    steps = np.unique(rows["step"].to_numpy())
    return (float(np.median(np.diff(steps))) if len(steps) > 1 else 1.0) * per_step, per_step


def _lead(
    alarm_at: np.ndarray, churn_week: float, horizon: float, lag: float
) -> tuple[float, float]:
    """``(alarm week, lead in weeks)`` of an indicator for a churn episode: its last alarm
    within ``horizon`` weeks before, else its first within ``lag`` weeks after (a negative
    lead), else none (NaN)."""
    before = alarm_at[(alarm_at <= churn_week) & (alarm_at >= churn_week - horizon)]
    if len(before):
        return float(before.max()), float(churn_week - before.max())
    after = alarm_at[(alarm_at > churn_week) & (alarm_at <= churn_week + lag)]
    if len(after):
        return float(after.min()), float(churn_week - after.min())
    return float("nan"), float("nan")


def _scores(alarms: pd.DataFrame, leads: pd.DataFrame, horizon: float) -> pd.DataFrame:
    rows = []
    churn = alarms[alarms["series"] == CHURN]
    for column in INDICATORS:
        mine = leads[leads["indicator"] == column]
        warned = mine[mine["lead_weeks"] > 0]
        raised = alarms[alarms["series"] == column]
        false = 0
        for firm, week in zip(raised["firm"], raised["week"], strict=True):
            later = churn[(churn["firm"] == firm) & (churn["week"] >= week)]
            if not (later["week"] <= week + horizon).any():
                false += 1
        rows.append(
            {
                "indicator": column,
                "name": INDICATORS[column].label,
                "churn_episodes": len(mine),
                "warned": len(warned),
                "median_lead_weeks": float(warned["lead_weeks"].median())
                if len(warned)
                else np.nan,
                "alarms": len(raised),
                "false_alarms": false,
            }
        )
    return pd.DataFrame(rows)
