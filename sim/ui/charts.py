"""Charts of the UI: ECharts options built from the model's series, and the component showing one.

ECharts (shipped offline by ``solara-assets``) draws on a canvas and replaces a chart's option
in place, so a frame costs one JSON message per chart (:mod:`sim.ui.echarts_widget`). Options
are plain dicts built here from numpy arrays, with no per-point Python objects: a firm's series
is a column of a ``dataset``. Every firm has the same colour on every chart and in the shared
legend.

Every chart has its own legend (the firms, in their colours). Satisfaction (0-10) and
experience against expectation (both 0-1) are separate charts, so lines that cross mean
something. Mesa's own plot components chart model-level reporters only; the per-firm lines and
the confidence bands here need options of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import solara

from sim.columns import (
    RETENTION_WAIT_YEARS,
    in_market_for,
    retention_shown,
    retention_wait_steps,
)
from sim.ui.chart_layout import (
    LEGEND,
    chart_media,
    nice_axis,
    thin,
    year_axis,
)
from sim.ui.echarts_widget import axis_tooltip_hook, chart_element

__all__ = [
    "EXPLORE_CHARTS",
    "FIRM_PALETTE",
    "QUARTER",
    "YEARS_X",
    "Chart",
    "FirmSeries",
    "band_option",
    "experience_expectation_option",
    "firm_colours",
    "firm_line_option",
    "quarter_steps",
    "table_rows",
    "word_of_mouth_option",
]

FIRM_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
    "#637939",
    "#843c39",
)
"""Firm colours in firm order (tab10, then darker tones)."""


def firm_colours(n: int) -> list[str]:
    """The colour of each of ``n`` firms."""
    return [FIRM_PALETTE[i % len(FIRM_PALETTE)] for i in range(n)]


def _json_table(columns: Sequence[np.ndarray], decimals: int = 4) -> list[list[Any]]:
    """Rows of a dataset: the first column (x, years) to 5 decimals, the others to
    ``decimals``; NaN becomes None (a gap in the line)."""
    arr = np.column_stack(columns).astype(float)
    arr[:, 0] = np.round(arr[:, 0], 5)
    arr[:, 1:] = np.round(arr[:, 1:], decimals)
    if not np.isnan(arr).any():
        return arr.tolist()
    obj = arr.astype(object)
    obj[np.isnan(arr)] = None
    return obj.tolist()


@dataclass
class FirmSeries:
    """``model.firm_metrics()`` as one ``(steps, firms)`` array per column.

    Rows of firms not in the market (before entry, after exit) are NaN, so their lines break.
    """

    years: np.ndarray
    steps: np.ndarray
    names: list[str]
    industries: list[str]
    frame: pd.DataFrame

    @classmethod
    def from_frame(cls, df: pd.DataFrame, names: list[str], industries: list[str]) -> FirmSeries:
        """Build from ``model.firm_metrics()`` (rows ordered by step, then firm)."""
        return cls(
            years=df["year"].to_numpy()[:: len(names)] if len(df) else np.zeros(0),
            steps=df["step"].to_numpy()[:: len(names)] if len(df) else np.zeros(0),
            names=list(names),
            industries=list(industries),
            frame=df,
        )

    def __len__(self) -> int:
        return len(self.years)

    def values(self, column: str, scale: float = 1.0) -> np.ndarray:
        """``(steps, firms)`` values of ``column`` (NaN where the firm is not in the market)."""
        n = len(self.names)
        if not len(self.frame):
            return np.zeros((0, n))
        arr = self.frame[column].to_numpy(dtype=float).reshape(-1, n) * scale
        active = self.frame["active"].to_numpy(dtype=bool).reshape(-1, n)
        return np.where(active, arr, np.nan)


YEARS_X = {
    "type": "value",
    "name": "years",
    "nameLocation": "middle",
    "nameGap": 24,
    "min": 0,
    "minInterval": 0.25,
    "nameTextStyle": {"color": "#555"},
}
"""The x axis of years: labels a quarter apart at least (in the first weeks ECharts labelled
every 0.003 years, and the labels ran together)."""


def _base(
    title: str, y_name: str, *, names: Sequence[str] = (), subtitle: str = ""
) -> dict[str, Any]:
    """The common option: the title with the unit in brackets (no axis name to collide with
    the legend), an optional subtitle, a legend of ``names`` under them with the plot area
    below however many rows it takes (:func:`legend_layout`), an axis tooltip, years along x."""
    text = f"{title} ({y_name})" if y_name else title
    top, title_style, media = chart_media(names, text, subtitle)
    option: dict[str, Any] = {
        "animation": False,
        "title": {
            "text": text,
            "left": 4,
            "top": 2,
            "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
        },
        "grid": {"left": 8, "right": 18, "top": top, "bottom": 24, "containLabel": True},
        "tooltip": {
            "trigger": "axis",
            "confine": True,
            "order": "valueDesc",
            "textStyle": {"fontSize": 11},
        },
        "xAxis": dict(YEARS_X),
        "yAxis": {"type": "value", "scale": True},
    }
    if subtitle:
        option["title"]["subtext"] = subtitle
        option["title"]["itemGap"] = 6
        option["title"]["subtextStyle"] = {"fontSize": 11, "color": "#5f6368"}
    for key, style in title_style.items():
        option["title"][key] = {**option["title"].get(key, {}), **style}
    if names:
        option["legend"] = {**LEGEND, "top": LEGEND["top"] + (14 if subtitle else 0)}
    if media:
        option["media"] = media
    return option


QUARTER = RETENTION_WAIT_YEARS
"""A quarter of a year: annual retention is drawn once this much churn has been seen
(:data:`sim.columns.RETENTION_WAIT_YEARS`, the rule the exported charts follow too)."""

quarter_steps = retention_wait_steps
"""Steps in a quarter of a year (:func:`sim.columns.retention_wait_steps`)."""


def _y_axis(
    option: dict[str, Any],
    values: np.ndarray,
    ylim: tuple[float | None, float | None] = (None, None),
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> None:
    """Set the y axis's ends and tick interval (:func:`nice_axis`): the fixed ends ``ylim``
    (None: round numbers around ``values``, within ``bounds``), and a tick interval they fall
    on (left to ECharts, an end off its own interval printed its label over the next tick's)."""
    low, high = ylim
    limits = (bounds[0] if low is None else low, bounds[1] if high is None else high)
    ok = np.asarray(values, float).ravel()
    ok = np.concatenate([ok[np.isfinite(ok)], [v for v in ylim if v is not None]])
    if not len(ok):
        return
    bottom, top, interval = nice_axis(ok, limits)
    option["yAxis"].update({"min": bottom, "max": top, "interval": interval, "scale": False})


def _start_mask(series: FirmSeries, years: float) -> np.ndarray:
    """``(steps, firms)``: True where a firm has been in the market ``years`` at least (counted
    from the start of the run, or from the step before it entered)."""
    n = len(series.names)
    if not len(series) or years <= 0:
        return np.ones((len(series), n), bool)
    active = series.frame["active"].to_numpy(dtype=bool).reshape(-1, n)
    steps = np.asarray(series.steps, float)
    per_year = steps[-1] / series.years[-1] if series.years[-1] > 0 else 52.0
    if years == QUARTER:
        return retention_shown(steps, active, round(per_year))
    return in_market_for(steps, active, math.ceil(years * per_year))


def firm_line_option(
    series: FirmSeries,
    column: str,
    title: str,
    y_name: str,
    *,
    ylim: tuple[float | None, float | None] = (None, None),
    scale: float = 1.0,
    colours: list[str] | None = None,
    decimals: int = 4,
    start_years: float = 0.0,
) -> dict[str, Any]:
    """One line per firm of ``column`` against years.

    Parameters
    ----------
    series
        The firms' series.
    column
        A ``firm_metrics`` column.
    title, y_name
        Chart title and y-axis name (with its unit).
    ylim
        Fixed y-axis limits (None: automatic, on a tick).
    scale
        Factor applied to the values (100 for percentages).
    colours
        Firm colours (default :func:`firm_colours`).
    start_years
        Years of the run (or since a firm entered) before its line starts: annual retention
        is drawn from a quarter of churn on (:data:`QUARTER`), not projected from a few weeks.
    """
    colours = colours or firm_colours(len(series.names))
    rows = thin(len(series))
    values = series.values(column, scale)
    if start_years:
        values = np.where(_start_mask(series, start_years), values, np.nan)
    values = values[rows]
    option = _base(title, y_name, names=series.names)
    if start_years and not np.isfinite(values).any():  # say why the chart is empty
        weeks = round(52 * start_years)
        option["graphic"] = [
            {
                "type": "text",
                "left": "center",
                "top": "middle",
                "style": {"text": f"drawn after {weeks} weeks", "fill": "#80868b", "fontSize": 12},
            }
        ]
    option["dataset"] = {"source": _json_table([series.years[rows], *values.T], decimals)}
    _y_axis(option, values, ylim)
    points = np.isfinite(values).sum(axis=0)
    option["series"] = [
        {
            "type": "line",
            "name": name,
            "encode": {"x": 0, "y": i + 1},
            "showSymbol": bool(points[i] < 3),  # a lone point shows
            "color": colours[i],
            "lineStyle": {"width": 1.8},
            "connectNulls": False,
        }
        for i, name in enumerate(series.names)
    ]
    return option


def experience_expectation_option(
    series: FirmSeries, colours: list[str] | None = None
) -> dict[str, Any]:
    """What each firm's customers experience (solid) against what they expect (dashed), both
    0-1 and weighted by what each customer cares about, on one axis: where a firm's dashed line
    is above its solid one, expectations are not met. One legend item per firm (it shows or
    hides both lines); the subtitle says which line is which, and so does the tooltip."""
    rows = thin(len(series))
    return _solid_dashed_option(
        series,
        "Experience vs expectation",
        "0-1",
        (series.values("experience")[rows], series.values("expectation")[rows]),
        ("experience", "expectation", "experienced", "expected"),
        series.years[rows],
        colours,
        bounds=(0.0, 1.0),
        decimals=3,
    )


WOM_WEEKS = 13
"""Weeks over which the word-of-mouth chart averages each firm's messages."""


def word_of_mouth_option(series: FirmSeries, colours: list[str] | None = None) -> dict[str, Any]:
    """Messages about each firm a week, positive (solid) and negative (dashed), averaged over
    the last :data:`WOM_WEEKS` weeks (a week's count of a small market jumps): the ratio of the
    two is the positive:negative ratio of East, Hammond & Wright (docs/MODEL.md 7.6)."""

    def smoothed(column: str) -> np.ndarray:
        values = pd.DataFrame(series.values(column))
        return values.rolling(WOM_WEEKS, min_periods=1).mean().to_numpy()

    rows = thin(len(series))
    return _solid_dashed_option(
        series,
        "Word of mouth a week",
        "messages",
        (smoothed("wom_positive")[rows], smoothed("wom_negative")[rows]),
        ("positive", "negative", "positive", "negative"),
        series.years[rows],
        colours,
        bounds=(0.0, np.inf),
        decimals=1,
    )


def _solid_dashed_option(
    series: FirmSeries,
    title: str,
    y_name: str,
    lines: tuple[np.ndarray, np.ndarray],
    words: tuple[str, str, str, str],
    years: np.ndarray,
    colours: list[str] | None,
    bounds: tuple[float, float],
    decimals: int,
) -> dict[str, Any]:
    """Two measures per firm on one axis, ``lines[0]`` solid and ``lines[1]`` dashed, one legend
    item per firm; ``words``: the two measures' tooltip and subtitle words."""
    colours = colours or firm_colours(len(series.names))
    solid, dashed = lines
    option = _base(
        title, y_name, names=series.names, subtitle=f"solid: {words[2]} · dashed: {words[3]}"
    )
    option["dataset"] = {"source": _json_table([years, *solid.T, *dashed.T])}
    _y_axis(option, np.concatenate([solid.ravel(), dashed.ravel()]), bounds=bounds)
    n = len(series.names)
    option["series"] = [
        {
            "type": "line",
            "name": name,
            "encode": {"x": 0, "y": offset + i + 1},
            "showSymbol": len(values) < 3,
            "color": colours[i],
            "lineStyle": {"width": width, "type": style},
        }
        for offset, values, width, style in ((0, solid, 1.8, "solid"), (n, dashed, 1.4, "dashed"))
        for i, name in enumerate(series.names)
    ]
    option["cx_axis_tooltip"] = axis_tooltip_hook(
        [f" · {words[0]}"] * n + [f" · {words[1]}"] * n, decimals=decimals
    )
    return option


EXPLORE_CHARTS: dict[str, dict[str, Any]] = {
    "share": {
        "column": "share",
        "title": "Market share in industry",
        "y_name": "%",
        "scale": 100.0,
        "ylim": (0, 100),
        "decimals": 2,
    },
    "customers": {
        "column": "customers",
        "title": "Customers",
        "y_name": "",
        "ylim": (0, None),
        "decimals": 0,
    },
    "retention": {
        "column": "retention_annual",
        "title": "Annual retention",
        "y_name": "%",
        "scale": 100.0,
        "ylim": (None, 100),
        "decimals": 2,
        "start_years": QUARTER,
    },
    "nps": {
        "column": "nps",
        "title": "Net Promoter Score",
        "y_name": "-100 to 100",
        "ylim": (-100, 100),
        "decimals": 1,
    },
    "satisfaction": {
        "column": "satisfaction",
        "title": "Satisfaction of customers",
        "y_name": "0-10",
        "ylim": (None, 10),
        "decimals": 2,
    },
    "trust": {
        "column": "trust",
        "title": "Trust of customers",
        "y_name": "0-1",
        "decimals": 3,
    },
    "profit": {
        "column": "profit",
        "title": "Profit per year",
        "y_name": "money",
        "decimals": 0,
    },
}
"""The per-firm line charts of the Explore page (experience vs expectation is separate).

Titles fit a chart about 215 pixels wide (Explore's two columns at 1280x720); the retention
line starts after a quarter of churn (:data:`QUARTER`)."""


def band_option(
    title: str,
    y_name: str,
    x: np.ndarray,
    variants: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]],
    limits: tuple[float, float] | None = None,
    start_year: float = 0.0,
) -> dict[str, Any]:
    """Mean lines with shaded 95% bands, one per variant.

    Parameters
    ----------
    title, y_name
        Chart title and y-axis name.
    x
        Years.
    variants
        ``(name, colour, mean, low, high)`` per variant, each array as long as ``x``.
    limits
        Range of the metric (bands are clipped to it and the axis stays within it).
    start_year
        The first year drawn (earlier points are blank): :data:`QUARTER` for annual retention,
        so that it is not projected from a few weeks of churn.
    """
    if start_year > 0:
        early = np.asarray(x, float) < start_year - 1e-9
        variants = [
            (n, c, *(np.where(early, np.nan, np.asarray(a, float)) for a in (m, lo, hi)))
            for n, c, m, lo, hi in variants
        ]
    if limits is not None:
        variants = [
            (n, c, m, np.clip(lo, *limits), np.clip(hi, *limits)) for n, c, m, lo, hi in variants
        ]
    axis = year_axis(np.asarray(x, float))
    rows = axis.rows
    cols: list[np.ndarray] = [axis.years]
    series: list[dict[str, Any]] = []
    for i, (name, colour, mean, low, high) in enumerate(variants):
        base = 1 + 3 * i
        cols += [
            axis.pad(np.asarray(low)[rows]),
            axis.pad((np.asarray(high) - np.asarray(low))[rows]),
            axis.pad(np.asarray(mean)[rows]),
        ]
        stack = f"band{i}"
        series += [
            {
                "type": "line",
                "name": f"{name} 95% low",
                "encode": {"x": 0, "y": base},
                "stack": stack,
                "stackStrategy": "all",
                "showSymbol": False,
                "silent": True,
                "lineStyle": {"opacity": 0},
                "tooltip": {"show": False},
                "color": colour,
            },
            {
                "type": "line",
                "name": f"{name} 95% band",
                "encode": {"x": 0, "y": base + 1},
                "stack": stack,
                "stackStrategy": "all",
                "showSymbol": False,
                "silent": True,
                "lineStyle": {"opacity": 0},
                "areaStyle": {"color": colour, "opacity": 0.22},
                "tooltip": {"show": False},
                "color": colour,
            },
            {
                "type": "line",
                "name": name,
                "encode": {"x": 0, "y": base + 2},
                "showSymbol": False,
                "color": colour,
                "lineStyle": {"width": 2},
            },
        ]
    option = _base(title, y_name, names=[v[0] for v in variants])
    option["legend"]["data"] = [v[0] for v in variants]
    # Stacking (low + band width) needs a category x axis: on two value axes ECharts stacks x.
    # Its labels sit on round years: every `interval + 1`-th category from year 0.
    table = _json_table(cols)
    for row in table:
        row[0] = f"{round(row[0], 3):g}"
    option["xAxis"] = {
        "type": "category",
        "name": "years",
        "nameLocation": "middle",
        "nameGap": 24,
        "boundaryGap": False,
        "axisLabel": {"interval": axis.interval, "hideOverlap": True},
        "axisTick": {"interval": axis.interval, "alignWithLabel": True},
        "nameTextStyle": {"color": "#555"},
    }
    option["dataset"] = {"source": table, "sourceHeader": False}  # row 0 is year 0, no header
    option["series"] = series
    # always round the axis ends: left to ECharts, a stacked band's minimum shows as a raw float
    # label (0.6000000000000001)
    values = np.concatenate([np.asarray(a, float) for v in variants for a in v[2:]])
    _y_axis(option, values, bounds=limits if limits is not None else (-np.inf, np.inf))
    return option


def table_rows(df: pd.DataFrame, formats: dict[str, str]) -> list[dict[str, str]]:
    """A frame as rows of formatted strings (for small HTML tables)."""
    out = []
    for _, row in df.iterrows():
        out.append(
            {
                c: ("-" if pd.isna(row[c]) else formats.get(c, "{}").format(row[c]))
                for c in df.columns
            }
        )
    return out


def Chart(
    option: dict[str, Any] | str,
    name: str,
    height: int = 280,
    on_click: Callable[[Any], None] | None = None,
    style: str = "",
) -> solara.Element:
    """One ECharts chart, tagged ``data-chart=<name>`` in the page.

    A plain function, not a component: the option becomes JSON text here, so reacton never
    walks the chart's data (see :mod:`sim.ui.echarts_widget`).

    Parameters
    ----------
    option
        The ECharts option, or its JSON text (e.g. memoized for a static chart).
    name
        A stable name (used by the browser tests to find the chart).
    height
        Height in pixels; the width follows the container.
    on_click
        Called with the clicked item (``data``, ``seriesName``, ...).
    style
        Extra CSS for the chart's element.
    """
    return chart_element(
        option,
        on_click=on_click,
        attributes={
            "style": f"height: {height}px; width: 100%; {style}",
            "data-chart": name,
            "class": "cx-chart",
        },
    )
