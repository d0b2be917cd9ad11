"""The Explore page: headline numbers, a chart per measure with a line per firm, the network.

Laid out for a laptop screen (1440x900): the headline across the top, the charts in two
columns on the left (share and retention first) and the network on the right, kept in view
while the charts scroll by; narrower windows stack them.

One component subscribes to Mesa's ``update_counter`` (:func:`sim.ui.frames.use_frame`): the
headline, the charts and the network, redrawn in one pass per frame with as few widgets as
possible (the headline is one HTML widget, the charts one
:class:`~sim.ui.echarts_widget.EChartsBoard`, the network's nodes one chart), so a frame costs
three messages to the browser; nothing else re-renders while the market runs. Reads of the
model hold the session's lock (:meth:`SessionState.read`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import solara

from sim.metrics import served_per_industry
from sim.model import CustomerMarket
from sim.ui.charts import (
    EXPLORE_CHARTS,
    FirmSeries,
    experience_expectation_option,
    firm_colours,
    firm_line_option,
    quarter_steps,
)
from sim.ui.echarts_widget import board_element
from sim.ui.frames import use_frame
from sim.ui.network_view import NetworkView
from sim.ui.state import SessionState

__all__ = [
    "ExplorePage",
    "FirmLegend",
    "LiveExplore",
    "explore_board",
    "firm_series",
    "firms_in_market",
    "headline_html",
    "retention_shown",
]


def firm_series(model: CustomerMarket) -> FirmSeries:
    """The model's per-firm series, pivoted for charting."""
    return FirmSeries.from_frame(
        model.firm_metrics(), model.firm_names, [f.industry for f in model.firms]
    )


def _fmt(value: float | None, spec: str, none: str = "–") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return none
    return spec.format(value)


def _retention_basis(steps: int, steps_per_year: int) -> tuple[str, str]:
    """``(note, tooltip)`` of the annual retention box: what churn the year is projected from.

    Annual retention is the churn per step of the last year carried over a whole year
    (docs/MODEL.md, 4.11); before a year has passed it is the churn of the weeks so far, which
    early in a run is a handful of weeks of new customers: until a quarter of churn exists
    (:func:`~sim.ui.charts.quarter_steps`) the box shows "–" and its note says when it will
    show; until a year, the note says from how many weeks it is projected.
    """
    quarter = quarter_steps(steps_per_year)
    weeks = _weeks(quarter, steps_per_year)
    tooltip = (
        "the share of customers a year keeps at the churn per step of the last year "
        f"(of the weeks so far, before a year has passed; shown after {weeks} weeks)"
    )
    if steps < quarter:
        return f"after {weeks} weeks of churn", tooltip
    if steps >= steps_per_year:
        return "kept over a year", tooltip
    # one line in the box at 1440 px, as the others (the key view must fit a laptop screen)
    return f"from {_weeks(steps, steps_per_year)} weeks of churn", tooltip


def _weeks(steps: int, steps_per_year: int) -> int:
    return max(1, round(steps * 52 / steps_per_year))


def retention_shown(market: dict, steps: int, steps_per_year: int) -> float | None:
    """The market's annual retention as the headline shows it: None (drawn "–") before a
    quarter of churn, when it would be a few weeks of churn carried over a year."""
    if steps < quarter_steps(steps_per_year):
        return None
    return market.get("retention_annual")


def firms_in_market(model: CustomerMarket, market: dict) -> int:
    """The firms in the market as the headline counts them: the last step's count, or at step 0
    (nothing recorded yet) the firms that have entered by then (a late entrant not yet)."""
    if market.get("active_firms") is not None:
        return int(market["active_firms"])
    return int(model.firm_state.active(model.steps).sum())


def headline_html(
    model: CustomerMarket, market: dict, steps: int, timing: tuple[float, float] = (0.0, 0.0)
) -> str:
    """The headline boxes as HTML (one widget: one message per frame).

    ``timing`` is the last frame's ``(step seconds, frame seconds)``, shown under the step
    once the market has run (at step 0 it is the previous market's: a scenario just loaded).
    """
    year = steps / model.steps_per_year
    step_s, frame_s = timing if steps else (0.0, 0.0)  # a new market: no time of its own yet
    speed = (
        f" · frame {1000 * frame_s:.0f} ms"
        if frame_s
        else f" · step {1000 * step_s:.0f} ms"
        if step_s
        else ""
    )
    served = market.get("served")
    n = model.n_customers
    served_note = f"of {n:,}" + (f" ({served / n:.0%})" if served else "")
    served_title = ""
    if served and len(model.industries) > 1:  # a supplier in any one industry is nearly everyone
        each = served_per_industry(market, n)
        served_note = f"of {n:,}; {each:.0%} per industry"
        served_title = (
            f"{served:,.0f} of {n:,} customers have a supplier in at least one of the "
            f"{len(model.industries)} industries; on average {each:.0%} have one in each"
        )
    items = [
        ("step", f"{steps:,}", f"year {year:.1f}{speed}", ""),
        ("customers served", _fmt(served, "{:,.0f}"), served_note, served_title),
        ("market NPS", _fmt(market.get("nps"), "{:+.0f}"), "promoters − detractors", ""),
        (
            "annual retention",
            _fmt(retention_shown(market, steps, model.steps_per_year), "{:.1%}"),
            *_retention_basis(steps, model.steps_per_year),
        ),
        ("trust", _fmt(market.get("trust"), "{:.2f}"), "mean, 0-1", ""),
        ("firms in the market", f"{firms_in_market(model, market)}", f"of {len(model.firms)}", ""),
    ]
    boxes = "".join(
        f'<div class="cx-stat" data-stat="{label}"'
        + (f' title="{title}"' if title else "")
        + f'><span class="cx-stat-label">{label}</span>'
        f'<span class="cx-stat-value">{value}</span><span class="cx-stat-note">{note}</span></div>'
        for label, value, note, title in items
    )
    return f'<div class="cx-headline">{boxes}</div>'


@solara.component
def FirmLegend(state: SessionState, model: CustomerMarket) -> None:
    """One chip per firm, in its chart colour, with its strategy; clicking one inspects it.

    A strategy changed while the market runs changes the model in place (the same model, so
    no new props): the chips read the session's scenario, which every change replaces, to be
    drawn again with the model's labels of today.
    """
    state.scenario.value  # noqa: B018 - subscribes: a live change of strategy redraws the chips
    labels = list(model.strategy_labels)
    colours = firm_colours(len(model.firms))
    with solara.Div(classes=["cx-legend"]):
        for firm in model.firms:
            solara.Button(
                f"{firm.name} · {labels[firm.index]}",
                text=True,
                small=True,
                classes=["cx-chip"],
                style={"border-left": f"10px solid {colours[firm.index]}"},
                attributes={"title": f"{firm.name}, {firm.industry}: click to inspect"},
                on_click=lambda i=firm.index: state.inspect_firm(i),
            )
        solara.Text("click a firm to inspect it", classes=["cx-hint"])


CHART_HEIGHT = 250

EXPLORE_ORDER = ("retention", "nps", "satisfaction", "experience", "trust", "profit")
"""The Explore charts after share (or customers), in display order."""


def explore_board(series: FirmSeries, size: str) -> list[tuple[str, dict, int, bool]]:
    """The Explore page's charts: ``(name, option, height, wide)`` in display order: share (or
    customers) and retention first (beside the network, they fit one screen with the headline),
    then NPS, satisfaction, experience against expectation, trust and profit."""
    colours = firm_colours(len(series.names))
    charts = [(size, firm_line_option(series, colours=colours, **EXPLORE_CHARTS[size]))]
    for name in EXPLORE_ORDER:
        if name == "experience":
            charts.append((name, experience_expectation_option(series, colours)))
        else:
            charts.append((name, firm_line_option(series, colours=colours, **EXPLORE_CHARTS[name])))
    return [
        (name, option, CHART_HEIGHT, i == len(charts) - 1 and len(charts) % 2 == 1)
        for i, (name, option) in enumerate(charts)
    ]


@solara.component
def LiveExplore(state: SessionState, model: CustomerMarket) -> None:
    """Headline, per-firm charts and network, redrawn every frame in one pass."""
    frame = use_frame(state)
    size, set_size = solara.use_state("share")

    def read() -> tuple[dict, int, FirmSeries | None]:
        market = dict(model.recorder.latest_market)
        series = firm_series(model) if model.recorder.latest_firm else None
        return market, model.steps, series

    market, steps, series = state.read(read)
    timing = (state.step_seconds, state.frame_seconds if state.playing.value else 0.0)
    solara.HTML(tag="div", unsafe_innerHTML=headline_html(model, market, steps, timing))
    with solara.Div(classes=["cx-explore"]):
        with solara.Div(classes=["cx-explore-charts"]):
            if series is None or len(series) == 0:
                solara.Info(
                    "Step 0: press Step or ▶ Play in the sidebar to run the market; the "
                    "charts fill as it runs."
                )
            else:
                _charts(state, model, series, size, set_size)
        with solara.Div(classes=["cx-explore-network"]):
            NetworkView(state, model, frame)


def _charts(
    state: SessionState,
    model: CustomerMarket,
    series: FirmSeries,
    size: str,
    set_size: Callable[[str], None],
) -> None:
    """The share/customers switch and the charts board (a click on a line inspects its firm)."""

    def on_line(event: dict) -> None:
        name = (event or {}).get("seriesName", "")
        for firm in model.firms:
            if name == firm.name or name.startswith(f"{firm.name}: "):
                state.inspect_firm(firm.index)

    solara.ToggleButtonsSingle(
        value=size,
        values=["share", "customers"],
        on_value=set_size,
        dense=True,
        classes=["cx-toggle"],
    )
    board_element(explore_board(series, size), on_click=on_line)


@solara.component
def ExplorePage(state: SessionState) -> None:
    """Firm legend, then the live headline, charts and network of the session's model."""
    model = state.model.value
    FirmLegend(state, model)
    LiveExplore(state, model)
