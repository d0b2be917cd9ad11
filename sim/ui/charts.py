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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import solara

from sim.ui.echarts_widget import axis_tooltip_hook, chart_element

__all__ = [
    "EXPLORE_CHARTS",
    "FIRM_PALETTE",
    "Chart",
    "FirmSeries",
    "YearAxis",
    "band_option",
    "experience_expectation_option",
    "firm_colours",
    "firm_line_option",
    "nice_range",
    "table_rows",
    "year_axis",
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

MAX_POINTS = 800
"""Longest series sent to the browser; longer ones are thinned to every k-th step."""


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


def _thin(n: int) -> slice:
    step = max(1, int(np.ceil(n / MAX_POINTS)))
    return slice(None, None, step) if step > 1 else slice(None)


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


LEGEND = {
    "top": 24,
    "left": 4,
    "right": 4,
    "itemHeight": 8,
    "itemWidth": 14,
    "itemGap": 8,
    "textStyle": {"fontSize": 11},
}
"""Each chart's own legend: every firm in its colour, under the title (wrapping when long)."""


def legend_lines(names: Sequence[str], per_line: int = 3) -> int:
    """Lines a chart's legend takes (its names wrap, about ``per_line`` to a line)."""
    return max(1, -(-len(names) // per_line))


def _base(title: str, y_name: str, *, legend: int = 0) -> dict[str, Any]:
    """The common option: the title with the unit in brackets (no axis name to collide with
    the legend), ``legend`` lines kept free under it, an axis tooltip, years along x."""
    return {
        "animation": False,
        "title": {
            "text": f"{title} ({y_name})" if y_name else title,
            "left": 4,
            "top": 2,
            "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
        },
        "grid": {
            "left": 8,
            "right": 18,
            "top": 32 + 17 * legend if legend else 34,
            "bottom": 24,
            "containLabel": True,
        },
        "tooltip": {
            "trigger": "axis",
            "confine": True,
            "order": "valueDesc",
            "textStyle": {"fontSize": 11},
        },
        "xAxis": {
            "type": "value",
            "name": "years",
            "nameLocation": "middle",
            "nameGap": 24,
            "min": 0,
            "nameTextStyle": {"color": "#555"},
        },
        "yAxis": {"type": "value", "scale": True},
    }


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
        Fixed y-axis limits (None: automatic).
    scale
        Factor applied to the values (100 for percentages).
    colours
        Firm colours (default :func:`firm_colours`).
    """
    colours = colours or firm_colours(len(series.names))
    rows = _thin(len(series))
    values = series.values(column, scale)[rows]
    option = _base(title, y_name, legend=legend_lines(series.names))
    option["legend"] = dict(LEGEND)
    option["dataset"] = {"source": _json_table([series.years[rows], *values.T], decimals)}
    low, high = ylim
    if low is not None:
        option["yAxis"]["min"] = low
    if high is not None:
        option["yAxis"]["max"] = high
    option["series"] = [
        {
            "type": "line",
            "name": name,
            "encode": {"x": 0, "y": i + 1},
            "showSymbol": len(values) < 3,
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
    hides both lines); the tooltip says which is which."""
    colours = colours or firm_colours(len(series.names))
    rows = _thin(len(series))
    experience = series.values("experience")[rows]
    expectation = series.values("expectation")[rows]
    option = _base("Experience vs expectation (- -)", "", legend=legend_lines(series.names))
    option["legend"] = dict(LEGEND)
    option["dataset"] = {"source": _json_table([series.years[rows], *experience.T, *expectation.T])}
    n = len(series.names)
    option["series"] = [
        {
            "type": "line",
            "name": name,
            "encode": {"x": 0, "y": i + 1},
            "showSymbol": len(experience) < 3,
            "color": colours[i],
            "lineStyle": {"width": 1.8},
        }
        for i, name in enumerate(series.names)
    ] + [
        {
            "type": "line",
            "name": name,
            "encode": {"x": 0, "y": n + i + 1},
            "showSymbol": len(expectation) < 3,
            "color": colours[i],
            "lineStyle": {"width": 1.4, "type": "dashed"},
        }
        for i, name in enumerate(series.names)
    ]
    option["cx_axis_tooltip"] = axis_tooltip_hook(
        [" · experience"] * n + [" · expectation"] * n, decimals=3
    )
    return option


EXPLORE_CHARTS: dict[str, dict[str, Any]] = {
    "share": {
        "column": "share",
        "title": "Market share in its industry",
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
        "y_name": "% kept over a year",
        "scale": 100.0,
        "ylim": (None, 100),
        "decimals": 2,
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
        "title": "Satisfaction of current customers",
        "y_name": "0-10",
        "ylim": (None, 10),
        "decimals": 2,
    },
    "trust": {
        "column": "trust",
        "title": "Trust of current customers",
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
"""The per-firm line charts of the Explore page (experience vs expectation is separate)."""


def band_option(
    title: str,
    y_name: str,
    x: np.ndarray,
    variants: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]],
    limits: tuple[float, float] | None = None,
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
    """
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
    option = _base(title, y_name, legend=1)
    option["legend"] = {
        "data": [v[0] for v in variants],
        "top": 22,
        "left": 4,
        "itemHeight": 8,
        "textStyle": {"fontSize": 11},
    }
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
    bounds = limits if limits is not None else (-np.inf, np.inf)
    option["yAxis"]["min"], option["yAxis"]["max"] = nice_range(values, bounds)
    return option


@dataclass
class YearAxis:
    """The categories of a band chart's x axis, chosen so that its labels are round years.

    Attributes
    ----------
    rows
        Which of the recorded points are kept (every k-th step counted from step 0, k such
        that round years fall on kept points; at most :data:`MAX_POINTS`).
    years
        The categories: year 0 first (a point with no values), then the kept points' years.
    interval
        Categories between two labels (ECharts ``axisLabel.interval``): a label every
        ``interval + 1`` categories from year 0 falls on multiples of a round number of years.
    tick_years
        The years between labels.
    """

    rows: np.ndarray
    years: np.ndarray
    interval: int
    tick_years: float

    def pad(self, values: np.ndarray) -> np.ndarray:
        """``values`` of the kept points, with the empty year-0 point in front."""
        return np.concatenate([[np.nan], np.asarray(values, float)])


TICK_YEARS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
"""Spacings of year labels tried, smallest first (at most about eight labels)."""


def year_axis(x: np.ndarray, max_points: int = MAX_POINTS, max_labels: int = 8) -> YearAxis:
    """A band chart's x categories (:class:`YearAxis`) for points recorded at years ``x``.

    ``x`` are evenly spaced steps (``step / steps_per_year``). Points are thinned to every
    k-th step counted from step 0, k a divisor of a year's steps or a multiple of them, so
    that labels every few categories read 0, 1, 2 (or 0, 0.25, 0.5 ...) years.
    """
    x = np.asarray(x, float)
    if len(x) < 2:
        return YearAxis(np.arange(len(x)), np.concatenate([[0.0], x]), 0, 1.0)
    dt = float(np.median(np.diff(x)))
    per_year = round(1.0 / dt) if dt > 0 else 0
    index = np.rint(x / dt).astype(np.int64) if dt > 0 else np.arange(1, len(x) + 1)
    if per_year < 1 or not np.allclose(index * dt, x, atol=dt / 100):
        rows = np.arange(len(x))[_thin(len(x))]
        return YearAxis(rows, np.concatenate([[0.0], x[rows]]), 0, dt)
    divisors = [d for d in range(1, per_year + 1) if per_year % d == 0]
    choices = divisors + [per_year * m for m in (2, 5, 10, 20, 50, 100, 200, 500, 1000)]
    k = next((c for c in choices if len(x) / c <= max_points), choices[-1])
    rows = np.flatnonzero(index % k == 0)
    span = float(x[-1])
    spacing = next(
        (
            t
            for t in TICK_YEARS
            if span / t <= max_labels
            and abs(t * per_year / k - round(t * per_year / k)) < 1e-9
            and round(t * per_year / k) >= 1
        ),
        TICK_YEARS[-1],
    )
    interval = max(0, round(spacing * per_year / k) - 1)
    return YearAxis(rows, np.concatenate([[0.0], index[rows] * dt]), interval, spacing)


def nice_range(
    values: np.ndarray, limits: tuple[float, float], min_span: float = 0.0
) -> tuple[float, float]:
    """An axis range around ``values`` on round numbers, within ``limits``, at least
    ``min_span`` wide (so that noise does not fill the chart)."""
    ok = values[np.isfinite(values)]
    if not len(ok):
        return limits
    low, high = float(ok.min()), float(ok.max())
    if high - low < min_span:
        middle = (low + high) / 2
        low = max(limits[0], middle - min_span / 2)
        high = min(limits[1], low + min_span)
        low = max(limits[0], high - min_span)
    span = max(high - low, 1e-9 * max(1.0, abs(high)))
    step = 10 ** np.floor(np.log10(span)) / 2
    digits = max(0, int(-np.floor(np.log10(step))) + 1)
    low = round(float(np.floor(low / step) * step), digits)
    high = round(float(np.ceil(high / step) * step), digits)
    return max(limits[0], low), min(limits[1], high)


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
