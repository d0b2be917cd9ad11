"""The Inspect page: one customer's story, or one firm's.

A customer (clicked in the network view or typed in) shows, for the industry chosen: its
expectation against its experience per attribute, its satisfaction and trust, what its friends
said, and every change of supplier. A firm shows its promise against its capability, how loaded
it is, its customers against its capacity, its relationship indicators with their early warning
(:mod:`sim.ui.indicators`), and the survival of each yearly cohort of customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import solara

from sim.agents import Firm
from sim.model import CustomerMarket
from sim.ui.chart_layout import LEGEND, legend_layout, nice_axis
from sim.ui.charts import YEARS_X, Chart, FirmSeries, firm_colours, table_rows
from sim.ui.frames import use_frame
from sim.ui.indicators import IndicatorsPanel
from sim.ui.network_view import colour_scale
from sim.ui.state import SessionState

__all__ = [
    "CustomerView",
    "FirmView",
    "InspectPage",
    "attribute_option",
    "capacity_fact",
    "cohort_option",
    "supplier_changes",
]

ATTRIBUTE_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#9c755f",
)
"""Colour of each attribute on the customer charts."""

COHORT_SCALE = ("viridis", 0.88)
"""The cohort chart's sequential colours, oldest to newest cohort: viridis up to its light green
(its last, yellow stretch is too pale on white). Neighbouring years differ and the order reads
(eight repeating colours drew years 1, 9 and 17 the same blue)."""


def _axis_chart(title: str, y_name: str) -> dict[str, Any]:
    """A chart of years with a legend row under the title and, if ``y_name``, the y axis's
    name under the legend (the plot starts below both: they sat on top of each other)."""
    return {
        "animation": False,
        "title": {
            "text": title,
            "left": 4,
            "top": 2,
            "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
        },
        "legend": {"top": 22, "left": 4, "itemHeight": 8, "textStyle": {"fontSize": 11}},
        "grid": {
            "left": 8,
            "right": 18,
            "top": 74 if y_name else 56,
            "bottom": 24,
            "containLabel": True,
        },
        "tooltip": {"trigger": "axis", "confine": True, "textStyle": {"fontSize": 11}},
        "xAxis": dict(YEARS_X),
        "yAxis": {
            "type": "value",
            "name": y_name,
            "scale": True,
            "nameTextStyle": {"align": "left"},
        },
    }


def _rows(*columns: np.ndarray) -> list[list[Any]]:
    arr = np.round(np.column_stack(columns).astype(float), 4)
    obj = arr.astype(object)
    obj[np.isnan(arr)] = None
    return obj.tolist()


def attribute_option(
    history: pd.DataFrame,
    steps_per_year: int,
    attributes: list[str],
    columns: tuple[str, ...],
    title: str,
    y_name: str,
) -> dict[str, Any]:
    """Lines per attribute of one industry's history: one style per column.

    ``columns`` are drawn solid, dashed, dotted in that order (e.g. experience, expectation).
    The legend names the attributes (the title says which style is which); the first column's
    series is named after the attribute, the others ``"<attribute> (<column>)"``.
    """
    styles = ("solid", "dashed", "dotted")
    wide = {
        c: history.pivot(index="step", columns="attribute", values=c)[attributes] for c in columns
    }
    steps = wide[columns[0]].index.to_numpy()
    option = _axis_chart(title, y_name)
    cols = [steps / steps_per_year]
    series = []
    for j, c in enumerate(columns):
        for k, a in enumerate(attributes):
            cols.append(wide[c][a].to_numpy())
            series.append(
                {
                    "type": "line",
                    "name": a if j == 0 else f"{a} ({c})",
                    "encode": {"x": 0, "y": len(cols) - 1},
                    "showSymbol": False,
                    "color": ATTRIBUTE_COLOURS[k % 8],
                    "lineStyle": {"type": styles[j], "width": 1.8 if j == 0 else 1.4},
                }
            )
    option["dataset"] = {"source": _rows(*cols)}
    option["series"] = series
    option["legend"]["data"] = list(attributes)
    return option


def satisfaction_trust_option(history: pd.DataFrame, steps_per_year: int) -> dict[str, Any]:
    """Satisfaction (0-10, left) and trust (0-1, right) of one industry's history."""
    per_step = history.groupby("step", sort=True)[["satisfaction", "trust"]].first()
    served = history.groupby("step", sort=True)["supplier"].first().notna().to_numpy()
    sat = np.where(served, per_step["satisfaction"].to_numpy(dtype=float), np.nan)
    trust = np.where(served, per_step["trust"].to_numpy(dtype=float), np.nan)
    option = _axis_chart("Satisfaction and trust in its supplier", "satisfaction, 0-10")
    option["yAxis"] = [
        {**option["yAxis"], "min": 0, "max": 10, "scale": False},
        {
            "type": "value",
            "name": "trust, 0-1",
            "min": 0,
            "max": 1,
            "position": "right",
            "splitLine": {"show": False},
            "nameTextStyle": {"align": "right"},
        },
    ]
    option["dataset"] = {"source": _rows(per_step.index.to_numpy() / steps_per_year, sat, trust)}
    option["series"] = [
        {
            "type": "line",
            "name": "satisfaction",
            "encode": {"x": 0, "y": 1},
            "showSymbol": False,
            "color": "#2a9d8f",
            "lineStyle": {"width": 2},
        },
        {
            "type": "line",
            "name": "trust",
            "encode": {"x": 0, "y": 2},
            "showSymbol": False,
            "color": "#e76f51",
            "yAxisIndex": 1,
            "lineStyle": {"width": 2},
        },
    ]
    return option


def supplier_changes(history: pd.DataFrame, steps_per_year: int) -> pd.DataFrame:
    """Every change of supplier in one industry's history: step, year, from, to."""
    per_step = history.groupby("step", sort=True)["supplier"].first()
    names = per_step.fillna("(none)")
    previous = names.shift(1)
    changed = names != previous
    changed.iloc[0] = False
    out = pd.DataFrame(
        {
            "step": per_step.index[changed.to_numpy()],
            "from": previous[changed].to_numpy(),
            "to": names[changed].to_numpy(),
        }
    )
    out.insert(1, "year", out["step"] / steps_per_year)
    return out


def cohort_option(cohorts: pd.DataFrame, firm: int) -> dict[str, Any]:
    """Survival curves of a firm's yearly cohorts of new customers, coloured along a sequential
    scale from the oldest cohort to the newest (:data:`COHORT_SCALE`): every cohort in the
    legend (it wraps; the plot starts below it whatever the chart's width), the unit in the
    title."""
    df = cohorts[cohorts["firm"] == firm]
    option = _axis_chart("Cohort survival: % of each year's new customers still customers", "")
    option["xAxis"]["name"] = "years since joining"
    option["yAxis"].update({"min": 0, "max": 100, "interval": 20, "scale": False})
    series = []
    groups = list(df.groupby("cohort", sort=True))
    colours = colour_scale(COHORT_SCALE[0], len(groups), COHORT_SCALE[1])
    for colour, (cohort, g) in zip(colours, groups, strict=True):
        g = g.sort_values("age_years")
        data = _rows(g["age_years"].to_numpy(), 100 * g["survival"].to_numpy())
        series.append(
            {
                "type": "line",
                "name": f"joined in year {int(cohort) + 1}",
                "data": data,
                "showSymbol": len(data) < 3,
                "color": colour,
                "lineStyle": {"width": 1.8},
            }
        )
    option["series"] = series
    option["legend"] = dict(LEGEND)
    top, media = legend_layout([s["name"] for s in series])
    option["grid"]["top"] = top
    if media:
        option["media"] = media
    return option


def _firm_lines(
    title: str, y_name: str, x: np.ndarray, lines: list[tuple[str, np.ndarray, str, str]]
) -> dict[str, Any]:
    option = _axis_chart(title, y_name)
    option["dataset"] = {"source": _rows(x, *[v for _, v, _, _ in lines])}
    option["series"] = [
        {
            "type": "line",
            "name": name,
            "encode": {"x": 0, "y": i + 1},
            "showSymbol": False,
            "color": colour,
            "lineStyle": {"type": style, "width": 1.8},
        }
        for i, (name, _, colour, style) in enumerate(lines)
    ]
    return option


def promise_bars_option(model: CustomerMarket, firm: int) -> dict[str, Any]:
    """Promise against capability per attribute, now (a closed firm's as it closed: promise and
    capability keep their last values, ``sim.columns``)."""
    f = model.firms[firm]
    when = "Now" if f.alive else "When it closed"
    return {
        "animation": False,
        "title": {
            "text": f"{when}: promise vs capability per attribute",
            "left": 4,
            "top": 2,
            "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
        },
        "legend": {"top": 22, "left": 4, "itemHeight": 8, "textStyle": {"fontSize": 11}},
        "grid": {"left": 8, "right": 18, "top": 74, "bottom": 24, "containLabel": True},
        "tooltip": {"trigger": "axis", "confine": True},
        "xAxis": {"type": "category", "data": list(model.attributes)},
        "yAxis": {"type": "value", "min": 0, "max": 1, "name": "0-1"},
        "series": [
            {
                "type": "bar",
                "name": "promise",
                "color": "#f28e2b",
                "data": np.round(f.promise, 3).tolist(),
            },
            {
                "type": "bar",
                "name": "capability",
                "color": "#4e79a7",
                "data": np.round(f.capability, 3).tolist(),
            },
        ],
    }


def _facts(items: list[tuple[str, str]]) -> None:
    with solara.Div(classes=["cx-facts"]):
        for label, value in items:
            with solara.Div(classes=["cx-fact"]):
                solara.Text(label, classes=["cx-stat-label"])
                solara.Text(value, classes=["cx-fact-value"])


def _table(rows: list[dict[str, str]], columns: list[str], name: str) -> None:
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{r[c]}</td>" for c in columns) + "</tr>" for r in rows)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<table class="cx-table" data-table="{name}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        ),
    )


@solara.component
def CustomerView(state: SessionState, model: CustomerMarket, frame: int = 0) -> None:
    """One customer's state now and, if recorded, its history in the chosen industry."""
    customer = state.customer.value
    text, set_text = solara.use_state("" if customer is None else str(customer))
    error, set_error = solara.use_state(None)
    solara.use_effect(lambda: set_text("" if customer is None else str(customer)), [customer])

    def go(raw: str) -> None:
        set_text(raw)
        try:
            index = int(str(raw).strip())
        except ValueError:
            set_error(f"expected a customer id (a whole number), got {raw!r}")
            return
        if not 0 <= index < model.n_customers:
            set_error(f"expected a customer id in 0..{model.n_customers - 1}, got {index}")
            return
        set_error(None)
        state.customer.set(index)

    solara.InputText(
        "customer id",
        value=text,
        on_value=go,
        error=error or False,
        message=None
        if error
        else f"0..{model.n_customers - 1}, or click a node in the network view on Explore",
        dense=True,
        style={"max-width": "420px"},
    )
    if customer is None or customer >= model.n_customers:
        solara.Info(
            "No customer selected: click one in the network view on the Explore page, "
            "or type its id above."
        )
        return
    with state.lock:
        agent = model.customer(customer)
        _customer_facts(model, customer, agent)
        try:
            history = model.customer_history(customer)
        except KeyError:
            history = None
    if history is None:
        solara.Warning(
            f"Customer {customer}'s history is not recorded: in a market of "
            f"{model.n_customers:,} only the customers drawn in the network view "
            "are followed step by step. Its state now is shown above."
        )
        return
    if model.steps == 0 or history.empty:
        solara.Info("Step 0: run the market to build this customer's history.")
        return
    _customer_history(state, model, history)


def _customer_facts(model: CustomerMarket, customer: int, agent: Any) -> None:
    weights = ", ".join(
        f"{a} {w:.2f}" for a, w in zip(model.attributes, agent.weights, strict=True)
    )
    suppliers = []
    for m, industry in enumerate(model.industries):
        f = int(agent.supplier[m])
        suppliers.append(
            f"{industry}: {model.firm_names[f] if f >= 0 else 'none'}"
            + (f" (S {agent.satisfaction[m]:.1f}, T {agent.trust[m]:.2f})" if f >= 0 else "")
        )
    _facts(
        [
            ("customer", f"#{customer}"),
            ("segment", agent.segment),
            ("region", str(agent.region)),
            ("friends", f"{len(agent.neighbours)}"),
            ("weights", weights),
            ("suppliers now", "; ".join(suppliers)),
        ]
    )


def _customer_history(state: SessionState, model: CustomerMarket, history: pd.DataFrame) -> None:
    industry = model.industries[min(state.industry.value, len(model.industries) - 1)]
    solara.ToggleButtonsSingle(
        value=industry,
        values=list(model.industries),
        dense=True,
        on_value=lambda name: state.industry.set(model.industries.index(name)),
        classes=["cx-toggle"],
    )
    h = history[history["industry"] == industry]
    spy = model.steps_per_year
    with solara.Div(classes=["cx-grid"]):
        with solara.Div(classes=["cx-card-chart", "cx-wide"]):
            Chart(
                attribute_option(
                    h,
                    spy,
                    model.attributes,
                    ("experience", "expectation"),
                    f"{industry}: experience (solid) vs expectation (dashed)",
                    "0-1",
                ),
                name="customer-expectation",
                height=340,
            )
        with solara.Div(classes=["cx-card-chart"]):
            Chart(satisfaction_trust_option(h, spy), name="customer-satisfaction", height=320)
        with solara.Div(classes=["cx-card-chart"]):
            Chart(
                attribute_option(
                    h,
                    spy,
                    model.attributes,
                    ("heard", "benchmark"),
                    "What friends said (solid) and the best seen anywhere (dashed)",
                    "0-1",
                ),
                name="customer-heard",
                height=320,
            )
        with solara.Div(classes=["cx-card-chart"]):
            changes = supplier_changes(h, spy)
            solara.Text(
                f"Supplier changes in {industry}: {len(changes)}", classes=["cx-section-title"]
            )
            if len(changes):
                _table(
                    table_rows(changes, {"step": "{:.0f}", "year": "{:.2f}"}),
                    ["step", "year", "from", "to"],
                    "supplier-changes",
                )
            else:
                first = h["supplier"].iloc[0] if len(h) else None
                solara.Text(
                    f"No change: {'with ' + first if first else 'never served'} throughout.",
                    classes=["cx-hint"],
                )


def capacity_fact(firm: Firm, n_customers: int) -> str:
    """A firm's capacity now, as the firm facts give it: none once it has closed (its rows
    have 0, ``sim.metrics``: it serves no one), the capacity it enters with before it has."""
    if not firm.alive:
        return "none (closed)"
    text = f"{firm.capacity * n_customers:,.0f} customers"
    return text if firm.active else f"{text} once it enters"


@solara.component
def FirmView(state: SessionState, model: CustomerMarket, frame: int = 0) -> None:
    """One firm's promise, capability, load, customers and cohort survival."""
    index = min(state.firm.value, len(model.firms) - 1)
    firm = model.firms[index]
    solara.Select(
        label="firm",
        value=firm.name,
        values=list(model.firm_names),
        dense=True,
        on_value=lambda name: state.firm.set(model.firm_names.index(name)),
        style={"max-width": "420px"},
    )
    colour = firm_colours(len(model.firms))[index]
    levers = model.scenario.firms[index].levers
    status = "in the market" if firm.active else ("exited" if not firm.alive else "not entered yet")
    _facts(
        [
            ("firm", firm.name),
            ("industry", firm.industry),
            (
                "strategy",
                model.strategy_labels[index]
                + (f" ({', '.join(f'{k} {v}' for k, v in levers.items())})" if levers else ""),
            ),
            ("status", status),
            ("customers", f"{firm.customers:,}"),
            ("capacity", capacity_fact(firm, model.n_customers)),
            ("price", f"{firm.price:,.0f} a year"),
        ]
    )
    with state.lock:
        started = bool(model.recorder.latest_firm)
        frame = model.firm_metrics() if started else None
        cohorts = model.cohort_survival() if started else None
        bars = promise_bars_option(model, index)
    if frame is None or frame.empty:
        solara.Info("Step 0: run the market to build this firm's history.")
        return
    series = FirmSeries.from_frame(frame, model.firm_names, [f.industry for f in model.firms])
    x = series.years
    col = lambda c: series.values(c)[:, index]  # noqa: E731
    with solara.Div(classes=["cx-grid"]):
        with solara.Div(classes=["cx-card-chart"]):
            promise = _firm_lines(
                "Promise vs capability (mean over attributes)",
                "0-1",
                x,
                [
                    ("capability", col("capability"), "#4e79a7", "solid"),
                    ("promise", col("promise"), "#f28e2b", "dashed"),
                ],
            )
            both = np.concatenate([col("capability"), col("promise")])
            low, high, interval = nice_axis(both, (0.0, 1.0), min_span=0.2)
            promise["yAxis"].update({"min": low, "max": high, "interval": interval, "scale": False})
            Chart(promise, name="firm-promise", height=300)
        with solara.Div(classes=["cx-card-chart"]):
            Chart(bars, name="firm-promise-now", height=300)
        with solara.Div(classes=["cx-card-chart"]):
            Chart(
                _firm_lines(
                    "Customers and capacity",
                    "customers",
                    x,
                    [
                        ("customers", col("customers"), colour, "solid"),
                        ("capacity", col("capacity"), "#555", "dashed"),
                    ],
                ),
                name="firm-customers",
                height=300,
            )
        with solara.Div(classes=["cx-card-chart"]):
            load = _firm_lines(
                "Load: quality factor (1 = within capacity)",
                "0-1",
                x,
                [("load", col("load"), colour, "solid")],
            )
            load["yAxis"].update({"min": 0, "max": 1, "scale": False})
            Chart(load, name="firm-load", height=300)
        IndicatorsPanel(frame, index, firm.name)
        with solara.Div(classes=["cx-card-chart", "cx-wide"]):
            if cohorts.empty or not (cohorts["firm"] == index).any():
                solara.Info(
                    f"No cohort of new customers yet for {firm.name}: cohorts are "
                    "customers who joined during the run, counted monthly."
                )
            else:
                Chart(cohort_option(cohorts, index), name="firm-cohorts", height=320)


@solara.component
def InspectPage(state: SessionState) -> None:
    """Customer or firm, as chosen (clicks on Explore choose for you)."""
    frame = use_frame(state)
    model = state.model.value
    solara.ToggleButtonsSingle(
        value=state.inspect_mode, values=["customer", "firm"], classes=["cx-toggle"]
    )
    if state.inspect_mode.value == "customer":
        CustomerView(state, model, frame)
    else:
        FirmView(state, model, frame)
