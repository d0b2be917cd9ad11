"""The Inspect page's indicators panel: a firm's six relationship indicators and its early warning.

A table of the indicators as its customers answer them now, with their change over the last
quarter (each name carries the survey item in a tooltip), a chart of their course against churn
with the weeks each raised an alarm, and the early warning in words ("intention to stay fell 23
weeks before churn rose in week 188"), from :mod:`sim.indicators` and :mod:`sim.early_warning`.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd
import solara

from sim.early_warning import INDICATORS, EarlyWarning, early_warning
from sim.indicators import SURVEY_ITEMS
from sim.ui.charts import Chart

__all__ = ["IndicatorsPanel", "indicators_html", "indicators_option", "warning_html"]

QUARTER_WEEKS = 13
"""The change column compares with this many weeks ago."""

FORMATS = {
    "satisfaction": "{:.2f}",
    "trust": "{:.2f}",
    "control_mutuality": "{:.2f}",
    "commitment": "{:.2f}",
    "mindset": "{:+.2f}",
    "nps": "{:+.0f}",
    "intention_to_stay": "{:.0%}",
}


def _fmt(value: float, spec: str) -> str:
    return "–" if value is None or math.isnan(value) else spec.format(value)


def _change(delta: float, spec: str) -> str:
    """A change with its sign; one that rounds to nothing has none ("0.00", not "-0.00")."""
    text = _fmt(abs(delta), spec.replace("+", ""))
    if text == "–" or not any(ch in "123456789" for ch in text):
        return text
    return ("+" if delta > 0 else "-") + text


def indicators_html(frame: pd.DataFrame, firm: int, name: str) -> str:
    """The firm's indicators now and their change over the last quarter, as an HTML table whose
    indicator names carry the survey item as a tooltip (``title``)."""
    rows = frame[frame["firm"] == firm].sort_values("step")
    now = rows.iloc[-1]
    weeks = rows["year"].to_numpy(dtype=float) * 52.0
    earlier = rows[weeks <= weeks[-1] - QUARTER_WEEKS]
    then = earlier.iloc[-1] if len(earlier) else None
    body = []
    for item in SURVEY_ITEMS:
        spec = FORMATS[item.column]
        value = float(now[item.column])
        change = "–" if then is None else _change(value - float(then[item.column]), spec)
        tip = html.escape(item.tooltip(name), quote=True)
        label = (
            f'<span title="{tip}" data-survey="{item.column}" '
            f'style="border-bottom: 1px dotted #888; cursor: help">'
            f"{html.escape(INDICATORS[item.column].label)}</span>"
        )
        body.append(
            f"<tr><td>{label}</td><td>{html.escape(item.indicator)}</td>"
            f"<td>{_fmt(value, spec)}</td><td>{change}</td></tr>"
        )
    head = "".join(
        f"<th>{c}</th>"
        for c in ("survey item", "indicator", "now", f"change in {QUARTER_WEEKS} weeks")
    )
    return (
        f'<table class="cx-table" data-table="indicators"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def warning_html(warning: EarlyWarning, firm: int) -> str:
    """The early warning of one firm in words, one paragraph per rise of churn."""
    text = "".join(
        f'<p data-warning="{firm}" style="margin: 4px 0; font-size: 13px">{html.escape(s)}</p>'
        for s in warning.sentences(firm)
    )
    settings = warning.settings
    note = (
        f"An alarm: a series smoothed over {settings.smooth_weeks:.0f} weeks moved against the "
        f"firm by more than {settings.threshold:.0f} standard deviations of its previous "
        f"{settings.baseline_weeks:.0f} weeks for {settings.persist_weeks:.0f} weeks in a row "
        "(docs/MODEL.md, section 4.11)."
    )
    return f'<div data-panel="early-warning">{text}<p class="cx-hint">{note}</p></div>'


def indicators_option(warning: EarlyWarning, firm: int) -> dict[str, Any]:
    """The indicators (each as a share of its scale) and churn (right axis) of one firm over
    time, with a dot at every alarm and a dashed line where churn rose."""
    g = warning.series[warning.series["firm"] == firm]
    alarms = warning.alarms[warning.alarms["firm"] == firm]
    weeks = g["week"].to_numpy(dtype=float)
    series: list[dict[str, Any]] = []

    def line(name: str, values: np.ndarray, colour: str, axis: int, dots: pd.Series) -> None:
        data = [
            [float(w), None if math.isnan(v) else round(float(v), 4)]
            for w, v in zip(weeks, values, strict=True)
        ]
        at = (
            np.interp(dots.to_numpy(dtype=float), weeks, np.nan_to_num(values)) if len(dots) else []
        )
        series.append(
            {
                "type": "line",
                "name": name,
                "data": data,
                "showSymbol": False,
                "color": colour,
                "yAxisIndex": axis,
                "lineStyle": {"width": 1.6, "type": "dotted" if axis else "solid"},
                "markPoint": {
                    "symbol": "circle",
                    "symbolSize": 9,
                    "label": {"show": False},
                    "data": [
                        {"coord": [float(w), round(float(v), 4)], "name": "alarm"}
                        for w, v in zip(dots, at, strict=True)
                    ],
                },
            }
        )

    for column, indicator in INDICATORS.items():
        share = (g[column].to_numpy(dtype=float) - indicator.low) / indicator.width
        line(
            indicator.label, share, indicator.colour, 0, alarms[alarms["series"] == column]["week"]
        )
    risen = alarms[alarms["series"] == "churn"]["week"]
    line("churn, % a week", 100 * g["churn"].to_numpy(dtype=float), "#222", 1, risen)
    series[-1]["markLine"] = {
        "symbol": "none",
        "label": {"formatter": "churn rose", "fontSize": 10},
        "lineStyle": {"type": "dashed", "color": "#222"},
        "data": [{"xAxis": float(w)} for w in risen],
    }
    return {
        "animation": False,
        "title": {
            "text": "Indicators (share of their scale) and churn: dots mark alarms",
            "left": 4,
            "top": 2,
            "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
        },
        "legend": {"top": 22, "left": 4, "itemHeight": 8, "textStyle": {"fontSize": 11}},
        "grid": {"left": 8, "right": 18, "top": 76, "bottom": 24, "containLabel": True},
        "tooltip": {"trigger": "axis", "confine": True, "textStyle": {"fontSize": 11}},
        "xAxis": {"type": "value", "name": "week", "nameLocation": "middle", "nameGap": 24},
        "yAxis": [
            # axis names aligned inward: centred on the axis line they ran past the chart's edge
            {
                "type": "value",
                "min": 0,
                "max": 1,
                "name": "share of scale",
                "nameTextStyle": {"align": "left"},
            },
            {
                "type": "value",
                "min": 0,
                "name": "churn, % a week",
                "nameTextStyle": {"align": "right"},
                "position": "right",
                "splitLine": {"show": False},
            },
        ],
        "series": series,
    }


def IndicatorsPanel(frame: pd.DataFrame, firm: int, name: str) -> None:
    """The indicators table, the chart and the early warning of ``firm`` (cards of the Inspect
    page's firm grid). A plain function: it adds its elements to the calling component."""
    mine = frame[frame["firm"] == firm]
    if mine.empty or not mine["active"].any():
        return
    warning = early_warning(mine)
    with solara.Div(classes=["cx-card-chart"]):
        solara.Text(
            "Relationship indicators, as its customers answer", classes=["cx-section-title"]
        )
        solara.HTML(tag="div", unsafe_innerHTML=indicators_html(mine, firm, name))
        solara.Text("Hover a survey item for its question and scale.", classes=["cx-hint"])
    with solara.Div(classes=["cx-card-chart"]):
        solara.Text("Early warning", classes=["cx-section-title"])
        solara.HTML(tag="div", unsafe_innerHTML=warning_html(warning, firm))
    with solara.Div(classes=["cx-card-chart", "cx-wide"]):
        Chart(indicators_option(warning, firm), name="firm-indicators", height=340)
