"""Where a chart's parts go: its legend's rows and the plot below them, its title's width, the
ends and ticks of its axes, and how many points a series sends.

The browser knows a chart's width, the server does not: a legend's rows and a title's width
are estimated from the text (:func:`text_width`) and set for every width by ECharts ``media``
rules (:func:`chart_media`). Axis ends fall on round ticks (:func:`nice_axis`), so that ECharts
does not print an end label over its neighbour's. The options themselves are
:mod:`sim.ui.charts`'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "LEGEND",
    "LEGEND_ROW",
    "MAX_POINTS",
    "NARROWEST",
    "YearAxis",
    "chart_media",
    "legend_layout",
    "legend_rows",
    "nice_axis",
    "nice_range",
    "text_width",
    "thin",
    "year_axis",
]

MAX_POINTS = 800
"""Longest series sent to the browser; longer ones are thinned to every k-th step."""


def thin(n: int) -> slice:
    """Every k-th point of ``n``, so that at most :data:`MAX_POINTS` are sent."""
    step = max(1, int(np.ceil(n / MAX_POINTS)))
    return slice(None, None, step) if step > 1 else slice(None)


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

LEGEND_ROW = 18
"""Height of one row of a legend (11 px text, 8 px between rows), in pixels."""

_NARROW = frozenset("iljtf.,;:!|'()[] ")
_WIDE = frozenset("mwMW@")


def text_width(text: str, size: float = 11.0) -> float:
    """A generous estimate of ``text``'s width in pixels in the browser's sans-serif at
    ``size`` px (Arial/Helvetica widths plus 12% for wider fonts such as DejaVu Sans)."""
    em = 0.0
    for c in text:
        if c in _NARROW:
            em += 0.3
        elif c in _WIDE:
            em += 0.86
        elif c.isupper():
            em += 0.68
        elif c.isdigit():
            em += 0.56
        else:
            em += 0.53
    return 1.12 * size * em


def legend_rows(names: Sequence[str], width: float) -> int:
    """Rows a chart's legend of ``names`` takes in a chart ``width`` pixels wide (ECharts
    wraps a horizontal legend's items to the next row when the next does not fit)."""
    room = width - LEGEND["left"] - LEGEND["right"]
    rows, x = 1, 0.0
    for name in names:
        item = LEGEND["itemWidth"] + 5 + text_width(name)
        if x and x + LEGEND["itemGap"] + item > room:
            rows, x = rows + 1, item
        else:
            x += (LEGEND["itemGap"] if x else 0) + item
    return rows


NARROWEST = 180
"""Narrowest chart (pixels) whose legend the plot area is kept clear of by default; wider
charts move the plot up as their legend needs fewer rows (ECharts ``media`` queries)."""

_WIDTHS = range(NARROWEST, 1601, 10)


def _grid_top(rows: int, subtitle: bool) -> int:
    """Top of the plot area under the title (and subtitle) and ``rows`` legend rows, leaving
    room for the y axis's top label (half of it is above the plot)."""
    return LEGEND["top"] + (14 if subtitle else 0) + rows * LEGEND_ROW + 8


def legend_layout(names: Sequence[str], subtitle: bool = False) -> tuple[int, list[dict]]:
    """``(grid top, media)``: the plot area's top for the narrowest chart, and an ECharts
    ``media`` rule for each width from which the legend takes fewer rows, so that the plot
    starts below the legend whatever the chart's width (the legend wraps to as many rows as
    the width needs: 3 for 6 firms at 1280x720, 2 at 1440x900)."""
    if not names:
        return 34, []
    rows = legend_rows(names, NARROWEST)
    top = _grid_top(rows, subtitle)
    media = []
    for width in _WIDTHS:
        now = legend_rows(names, width)
        if now != rows:
            rows = now
            grid = {"top": _grid_top(rows, subtitle)}
            media.append({"query": {"minWidth": width}, "option": {"grid": grid}})
    return top, media


TITLE_ROOM = 11
"""Pixels of a chart's width that its title cannot use (its left offset and padding)."""


def chart_media(
    names: Sequence[str], title: str = "", subtitle: str = ""
) -> tuple[int, dict[str, Any], list[dict]]:
    """``(grid top, title styles, media)`` of a chart whose width the server does not know.

    The option itself fits the narrowest chart (:data:`NARROWEST`): the plot below the legend
    of ``names`` however many rows it takes there (:func:`legend_layout`), the title (and
    subtitle) cut with "..." at that width. ECharts ``media`` rules, by the chart's width, move
    the plot up as the legend needs fewer rows and widen the title until it fits (titles are
    sized to fit at 1280x720; narrower windows cut them rather than run them off the chart).
    """
    top, legend_media = legend_layout(names, bool(subtitle))
    rules: dict[int, dict[str, Any]] = {r["query"]["minWidth"]: r["option"] for r in legend_media}
    title_style: dict[str, Any] = {}
    for key, text, size in (("textStyle", title, 13.0), ("subtextStyle", subtitle, 11.0)):
        need = text_width(text, size)
        if need <= NARROWEST - TITLE_ROOM:
            continue
        title_style[key] = {"width": NARROWEST - TITLE_ROOM, "overflow": "truncate"}
        for width in range(NARROWEST + 5, 1601, 5):
            fits = need <= width - TITLE_ROOM
            room = 4000 if fits else width - TITLE_ROOM
            rules.setdefault(width, {}).setdefault("title", {})[key] = {"width": room}
            if fits:
                break
    media = [{"query": {"minWidth": w}, "option": rules[w]} for w in sorted(rules)]
    return top, title_style, media


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
        rows = np.arange(len(x))[thin(len(x))]
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


NICE_STEPS = (1.0, 2.0, 2.5, 5.0)
"""Tick intervals tried in each power of ten."""


def nice_axis(
    values: np.ndarray,
    limits: tuple[float, float] = (-np.inf, np.inf),
    min_span: float = 0.0,
    max_ticks: int = 5,
) -> tuple[float, float, float]:
    """``(low, high, interval)``: an axis range around ``values`` within ``limits``, at least
    ``min_span`` wide, whose ends are ticks of ``interval`` (a round number: 1, 2, 2.5 or 5
    times a power of ten, the smallest with at most ``max_ticks`` intervals). Setting all three
    on an ECharts axis keeps its end labels off the neighbouring ticks'."""
    ok = np.asarray(values, float)
    ok = ok[np.isfinite(ok)]
    lo_lim, hi_lim = (float(v) for v in limits)
    if not len(ok):
        if np.isfinite(lo_lim) and np.isfinite(hi_lim):
            ok = np.array([lo_lim, hi_lim])
        else:
            return 0.0, 1.0, 0.2
    low, high = float(ok.min()), float(ok.max())
    if high - low < min_span:
        middle = (low + high) / 2
        low = max(lo_lim, middle - min_span / 2)
        high = min(hi_lim, low + min_span)
        low = max(lo_lim, high - min_span)
    if high - low <= 1e-9 * max(1.0, abs(high)):  # one value: a range around it
        pad = max(abs(high), 1.0) * 0.05
        low, high = max(lo_lim, low - pad), min(hi_lim, high + pad)
        if high - low <= 0:
            low, high = low - pad, high + pad
    span = high - low
    power = 10.0 ** math.floor(math.log10(span / max_ticks))
    for interval in [f * power for f in NICE_STEPS] + [10 * power, 20 * power]:
        first, last = math.floor(low / interval + 1e-9), math.ceil(high / interval - 1e-9)
        if last - first <= max_ticks:
            break
    digits = max(0, math.ceil(-math.log10(interval)) + 2)
    interval = round(interval, digits)
    bottom = round(max(lo_lim, first * interval), digits)
    top = round(min(hi_lim, last * interval), digits)
    return bottom, top, interval


def nice_range(
    values: np.ndarray, limits: tuple[float, float], min_span: float = 0.0
) -> tuple[float, float]:
    """An axis range around ``values`` on round numbers, within ``limits``, at least
    ``min_span`` wide (so that noise does not fill the chart): :func:`nice_axis`'s ends."""
    low, high, _ = nice_axis(values, limits, min_span)
    return low, high
