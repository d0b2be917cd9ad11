"""The UI's parts without a browser: controls from the schema, session state, charts, network
drawing, replicate statistics, exports, assets, server and command line."""

from __future__ import annotations

import io
import itertools
import json
import math
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import sim
import sim.ui.state  # Mesa's visualization imported at collection: its known warning silenced

SMALL = {"market.customers": 300}


@pytest.fixture
def scenario() -> sim.Scenario:
    return sim.load_scenario("baseline", {**SMALL, "firms[0].strategy": "overpromise"})


@pytest.fixture
def session(scenario: sim.Scenario, tmp_path: Path):
    from sim.ui.state import SessionState

    path = tmp_path / "small.toml"
    path.write_text(scenario.to_toml())
    return SessionState(str(path))


# -- controls come from the schema -----------------------------------------------------------


def test_field_specs_carry_the_schemas_units_and_limits(scenario: sim.Scenario) -> None:
    from sim.params import unit_of
    from sim.scenario import FirmSpec, MarketSpec
    from sim.ui.fields import behaviour_groups, firm_group, market_group, network_group

    market = {f.key: f for f in market_group(scenario).fields}
    customers = market["market.customers"]
    info = MarketSpec.model_fields["customers"]
    assert customers.kind == "int"
    assert customers.unit == unit_of(MarketSpec, "customers") == "customers"
    assert customers.ge == 2 and customers.le == 50_000_000
    assert customers.hint == "customers · 2 to 50,000,000"
    assert customers.description == info.description

    firm = {f.key: f for f in firm_group(scenario, 0).fields}
    assert firm["firms[0].capacity"].hint == "share of the market's customers · 0 to 10"
    assert firm["firms[0].price"].limits == "above 0"
    assert firm["firms[0].strategy"].kind == "choice"
    assert "overpromise" in firm["firms[0].strategy"].choices
    inflation = firm["firms[0].levers.inflation"]
    assert (inflation.ge, inflation.le, inflation.default) == (0, 2, 0.3)
    assert firm["firms[0].region"].optional
    keys = list(firm)
    assert keys[:2] == ["firms[0].strategy", "firms[0].strategy_also"]
    assert keys[2].startswith("firms[0].levers.")
    assert FirmSpec.model_fields["capacity"].metadata  # the limits really are in the schema

    kinds = {f.key: f.kind for f in network_group(scenario).fields}
    assert kinds == {"network.kind": "choice", "network.k": "int", "network.p": "float"}
    sections = {g.title: g for g in behaviour_groups()}
    switching = {f.key: f for f in sections["Switching and churn"].fields}
    assert switching["switching.enabled"].kind == "bool"
    assert len(sections) == 10


def test_parse_value_types_and_messages(scenario: sim.Scenario) -> None:
    from sim.ui.fields import firm_group, market_group, parse_value

    customers = market_group(scenario).fields[2]
    assert parse_value(customers, " 1,500 ") == 1500
    with pytest.raises(ValueError, match="whole number"):
        parse_value(customers, "1.5")
    with pytest.raises(ValueError, match="whole number"):
        parse_value(customers, "many")
    region = next(f for f in firm_group(scenario, 0).fields if f.key.endswith("region"))
    assert parse_value(region, "") is None
    price = next(f for f in firm_group(scenario, 0).fields if f.key.endswith("price"))
    with pytest.raises(ValueError, match="finite"):
        parse_value(price, "inf")


def test_current_value_reads_defaults_of_unset_levers(scenario: sim.Scenario) -> None:
    from sim.ui.fields import current_value, firm_group

    data = scenario.to_dict()
    firm = {f.key: f for f in firm_group(scenario, 0).fields}
    assert current_value(data, firm["firms[0].levers.inflation"]) == 0.3
    assert current_value(data, firm["firms[0].price"]) == 100
    assert current_value(data, firm["firms[0].capability.speed"]) == 0.55


# -- session state ------------------------------------------------------------------------------


def test_a_rejected_value_changes_nothing(session) -> None:
    session.step(3)
    model, scenario = session.model.value, session.scenario.value
    message = session.change("firms[0].levers.inflation", 5.0)
    assert message and "expected a number from 0 to 2, got 5.0" in message
    message = session.change("market.customers", -3)
    assert message and "expected a whole number from 2 to 50,000,000, got -3" in message
    assert session.model.value is model and model.steps == 3
    assert session.scenario.value is scenario


def test_a_rebuilding_change_asks_first_then_rebuilds_with_the_same_seed(session) -> None:
    """Issue 17, item 3: a change that needs a rebuild says so and asks; nothing happens until
    the user says yes."""
    session.step(3)
    old = session.model.value
    assert session.change("trust.gain", 0.2) is None
    pending = session.pending.value
    assert pending is not None and "step 0" in pending.text and "3 steps" in pending.text
    assert session.model.value is old and old.steps == 3  # nothing yet
    assert session.scenario.value.trust.gain != 0.2
    revision = session.revision.value
    session.cancel()
    assert session.pending.value is None and session.revision.value == revision + 1
    assert session.model.value is old and session.scenario.value.trust.gain != 0.2
    session.change("trust.gain", 0.2)
    session.confirm()
    new = session.model.value
    assert new is not old and new.steps == 0 and new.scenario.trust.gain == 0.2
    np.testing.assert_array_equal(new.adjacency.indices, old.adjacency.indices)
    assert session.change("trust.gain", 0.2) is None  # no-op: same scenario
    assert session.model.value is new and session.pending.value is None
    assert session.change("market.customers", 250) is None  # at step 0: nothing to lose
    assert session.pending.value is None and session.model.value.n_customers == 250


def test_a_live_lever_acts_on_the_running_market(session) -> None:
    """Issue 17, item 3: promise, spending, disclosure and the strategy change the running
    market from its next step, as a NetLogo slider does, and its history stays."""
    from sim.strategies import build_strategy

    session.step(6)
    model = session.model.value
    before = model.firm_metrics().copy()
    assert session.change("firms[0].levers.inflation", 1.5) is None
    assert session.pending.value is None and session.model.value is model and model.steps == 6
    assert session.scenario.value.firms[0].levers == {"inflation": 1.5}
    assert session.change("firms[1].strategy", "proactive") is None
    assert session.change("firms[2].price", 130.0) is None
    assert session.change("firms[2].budget_share", 0.3) is None
    assert [key for _, key in session.live_changes.value] == [
        "firms[0].levers.inflation",
        "firms[1].strategy",
        "firms[2].price",
        "firms[2].budget_share",
    ]
    session.step(6)
    assert model.steps == 12
    after = model.firm_metrics()
    pd.testing.assert_frame_equal(
        after[after["step"] <= 6].drop(columns="strategy"), before.drop(columns="strategy")
    )
    assert model.strategy_labels[1] == "proactive"

    # the same market built from scratch with the same decisions made by hand at step 6
    twin = sim.CustomerMarket(**sim.ui.state.model_parameters(session.loaded))
    twin.run(6)
    attributes = twin.attributes
    twin.firms[0].strategy = build_strategy("overpromise", {"inflation": 1.5}, attributes)
    twin.firms[1].strategy = build_strategy("proactive", {}, attributes)
    twin.firm_state.price[2] = 130.0
    twin.firm_state.budget_share[2] = 0.3
    twin.run(6)
    numeric = [c for c in after.columns if after[c].dtype.kind in "fib"]
    np.testing.assert_allclose(
        after[numeric].to_numpy(float),
        twin.firm_metrics()[numeric].to_numpy(float),
        equal_nan=True,
    )
    promise = after[after["firm"] == 0].set_index("step")["promise"]
    assert promise[12] > promise[6]  # promising 150% more from step 7 on

    session.reset()  # Reset starts over from today's values
    assert session.model.value.steps == 0 and session.live_changes.value == ()
    assert session.model.value.scenario.firms[2].price == 130.0


def test_the_firm_series_keeps_the_strategy_each_step_had(session) -> None:
    """Audit: a strategy changed while the market runs relabels the rows from the next step
    on only; the rows already recorded keep the strategy the firm had then (firms.csv, the
    Parquet and the zips all read ``firm_metrics``)."""
    from sim.ui.export import series_bytes

    session.step(6)
    model = session.model.value
    assert model.strategy_history == {}
    assert session.change("firms[0].strategy", "honest") is None
    assert session.change("firms[1].strategy", "proactive") is None  # two at one step:
    assert session.change("firms[1].strategy", "niche") is None  # step 6 was the first's
    session.step(4)
    assert session.change("firms[1].strategy", "overpromise") is None
    session.step(3)
    frame = model.firm_metrics()
    labels = frame.set_index(["firm", "step"])["strategy"]
    assert set(labels[0].loc[:6]) == {"overpromise"} and set(labels[0].loc[7:]) == {"honest"}
    assert set(labels[1].loc[:6]) == {"honest"}
    assert set(labels[1].loc[7:10]) == {"niche"} and set(labels[1].loc[11:]) == {"overpromise"}
    assert set(labels[2]) == {model.strategy_labels[2]}  # untouched firms: as before
    assert model.strategy_labels[:2] == ["honest", "overpromise"]  # today's labels
    csv = pd.read_csv(io.BytesIO(series_bytes(model, "firms", "csv")))
    pd.testing.assert_series_equal(
        csv["strategy"], frame["strategy"].reset_index(drop=True), check_dtype=False
    )
    assert model.summary()["strategy"].tolist()[:2] == ["honest", "overpromise"]


def test_the_firm_chips_follow_a_live_change_of_strategy(session) -> None:
    """Audit: after a strategy changed while the market ran, Explore's chip still read
    "First Bank · overpromise" (the model is changed in place: the page had no new props)."""
    import ipyvuetify as v
    import solara

    from sim.ui.explore import ExplorePage

    def chips() -> list[str]:
        found = rc.find(v.Btn).widgets
        return [w.children[0] for w in found if "cx-chip" in (w.class_ or "").split()]

    _, rc = solara.render(ExplorePage(session), handle_error=False)
    try:
        assert chips()[:2] == ["First Bank · overpromise", "City Bank · honest"]
        session.step(3)
        assert session.change("firms[0].strategy", "honest") is None
        assert session.change("firms[1].strategy", "proactive") is None
        assert chips()[:2] == ["First Bank · honest", "City Bank · proactive"]
        assert session.change("firms[1].strategy_also", ["niche"]) is None
        assert chips()[1] == "City Bank · proactive+niche"
    finally:
        rc.close()


def test_a_market_nobody_changed_labels_every_row_with_its_strategy() -> None:
    """Audit: the label history costs a market stepped alone or in a batch nothing, and its
    frames are those it always had: every row labelled with the firm's one strategy."""
    from sim.batch import MarketBatch

    def market(strategy: str) -> sim.CustomerMarket:
        return sim.CustomerMarket(
            "baseline", rng=3, overrides={**SMALL, "firms[0].strategy": strategy}
        )

    alone = market("overpromise").run(5)
    batch = [market("overpromise"), market("niche")]
    MarketBatch(batch).run(5)
    for m in (alone, *batch):
        frame = m.firm_metrics()
        assert m.strategy_history == {} and len(frame) == 5 * len(m.firms)
        expected = np.array(m.strategy_labels, dtype=object)[frame["firm"]]
        assert frame["strategy"].tolist() == expected.tolist()
    assert batch[1].firm_metrics()["strategy"][0] == "niche"
    pd.testing.assert_frame_equal(alone.firm_metrics(), batch[0].firm_metrics())


def test_strategy_is_one_choice_and_combining_is_another(session) -> None:
    """Issue 17, item 2: picking a strategy switches to it; combining is a separate choice."""
    from sim.ui.fields import current_value, firm_group

    def controls() -> tuple[object, object]:
        specs = {f.key: f for f in firm_group(session.scenario.value, 0).fields}
        data = session.scenario.value.to_dict()
        return (
            current_value(data, specs["firms[0].strategy"]),
            current_value(data, specs["firms[0].strategy_also"]),
        )

    specs = {f.key: f for f in firm_group(session.scenario.value, 0).fields}
    assert specs["firms[0].strategy"].kind == "choice"
    assert specs["firms[0].strategy_also"].kind == "choices"
    assert "overpromise" not in specs["firms[0].strategy_also"].choices  # not with itself
    assert controls() == ("overpromise", [])
    assert session.change("firms[0].levers.inflation", 0.8) is None
    assert session.change("firms[0].strategy", "honest") is None  # switches, does not add
    firm = session.scenario.value.firms[0]
    assert firm.strategy == "honest" and firm.levers == {}
    assert session.change("firms[0].strategy_also", ["proactive"]) is None
    assert session.scenario.value.firms[0].strategy == ["honest", "proactive"]
    assert controls() == ("honest", ["proactive"])
    assert session.change("firms[0].strategy", "overpromise") is None  # the combination stays
    assert session.scenario.value.firms[0].strategy == ["overpromise", "proactive"]
    assert session.change("firms[0].strategy_also", []) is None
    assert session.scenario.value.firms[0].strategy == "overpromise"
    assert session.change("firms[0].strategy", "") == "expected a strategy"


def test_a_lesson_or_scenario_asks_before_replacing_an_edited_market(session) -> None:
    """Issue 17, item 3: picking a lesson silently replaced an edited market."""
    from sim.ui.lessons_page import LessonsState

    lessons = LessonsState(session)
    slug = lessons.lessons[0].slug
    assert lessons.open(slug) and session.pending.value is None  # nothing edited: at once
    assert session.source.value == lessons.lesson.scenario
    session.change("market.customers", 280)
    edited = session.scenario.value
    label = lessons.lesson.tries[0].label
    assert lessons.apply(label)
    assert session.pending.value is not None and "edited" in session.pending.value.text
    assert session.scenario.value is edited  # not yet
    session.cancel()
    assert session.scenario.value is edited and lessons.tried.value is None
    lessons.apply(label)
    session.confirm()
    assert session.scenario.value is not edited and not session.edited
    assert lessons.tried.value == label
    session.change("market.customers", 260)
    session.replace("the scenario 'baseline'", lambda: session.load("baseline"))
    assert session.pending.value is not None and session.scenario.value.market.customers == 260
    session.confirm()
    assert session.scenario.value.name == "baseline"


def test_sessions_are_independent(scenario: sim.Scenario, tmp_path: Path) -> None:
    from sim.ui.state import SessionState

    path = tmp_path / "s.toml"
    path.write_text(scenario.to_toml())
    a, b = SessionState(str(path)), SessionState(str(path))
    assert a.model.value is not b.model.value
    a.change("market.customers", 200)
    a.step(2)
    assert b.model.value.n_customers == 300 and b.model.value.steps == 0


def test_the_ui_refuses_huge_markets_but_keeps_the_current_one(session) -> None:
    from sim.ui.fields import UI_MAX_CUSTOMERS

    message = session.change("market.customers", UI_MAX_CUSTOMERS + 1)
    assert message and "cxsim run" in message
    assert session.model.value.n_customers == 300


def test_loading_a_bad_scenario_keeps_the_current_one(session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[market]\ncustomers = 'many'\n")
    model = session.model.value
    assert not session.load(str(bad))
    assert "bad.toml" in session.source_error.value
    assert session.model.value is model
    # issue 17, item 8: an upload's problems name the user's file, every one of them
    two = Path(session.source.value).read_text().replace("customers = 300", "customers = -5")
    two = two.replace("price = 100.0", "price = -1.0", 1)
    assert not session.upload("my market.toml", two.encode())
    lines = session.source_error.value.splitlines()
    assert len(lines) == 2, lines
    assert all(line.startswith("my market.toml: ") for line in lines), lines
    assert "market.customers" in lines[0] and "firms[0].price" in lines[1]
    assert "cxsim-ui-" not in session.source_error.value and "more problem" not in lines[1]
    assert not session.upload("notes.txt", b"x")
    assert session.upload("mine.toml", Path(session.source.value).read_bytes())
    assert session.source.value == "upload: mine.toml"
    session.close()


def test_tracked_customers_are_the_drawn_ones(session) -> None:
    from sim.ui.network_view import DRAW_MAX, drawn_customers

    model = session.model.value
    session.step(2)
    assert len(model.customer_history(5)) == 2 * 3 * 4  # steps x industries x attributes
    ids = drawn_customers(5000, 7)
    assert len(ids) == DRAW_MAX and np.all(np.diff(ids) > 0)
    np.testing.assert_array_equal(ids, drawn_customers(5000, 7))
    assert not np.array_equal(ids, drawn_customers(5000, 8))


# -- network drawing ----------------------------------------------------------------------------


def test_induced_edges_match_networkx() -> None:
    from sim.network import Adjacency
    from sim.ui.network_view import induced_edges

    g = nx.watts_strogatz_graph(200, 6, 0.2, seed=3)
    u, v = np.array(g.edges()).T
    adj = Adjacency.from_edges(u, v, 200)
    ids = np.sort(np.random.default_rng(1).choice(200, 80, replace=False))
    a, b, total = induced_edges(adj.indptr, adj.indices, ids, 200)
    got = {tuple(sorted((ids[i], ids[j]))) for i, j in zip(a, b, strict=True)}
    want = {tuple(sorted(e)) for e in g.subgraph(ids.tolist()).edges()}
    assert got == want and total == len(want)
    a, b, total = induced_edges(adj.indptr, adj.indices, ids, 200, max_edges=10)
    assert len(a) == 10 and total == len(want)


def test_layout_is_in_the_unit_square_and_cached() -> None:
    from sim.ui.network_view import layout

    g = nx.barabasi_albert_graph(300, 3, seed=2)
    u, v = np.array(g.edges()).T
    pos = layout(300, u, v)
    assert pos.shape == (300, 2) and pos.dtype == np.float32
    assert pos.min() >= -0.03 and pos.max() <= 1.03
    assert layout(300, u, v) is pos
    # linked nodes end up closer than random pairs
    linked = np.linalg.norm(pos[u] - pos[v], axis=1).mean()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 300, 2000), rng.integers(0, 300, 2000)
    assert linked < 0.6 * np.linalg.norm(pos[a] - pos[b], axis=1).mean()


def test_network_picture_and_options(session) -> None:
    from sim.ui.network_view import (
        clicked_customer,
        network_picture,
        node_values,
        nodes_option,
        ties_option,
    )

    model = session.model.value
    session.step(2)
    picture = network_picture(model)
    assert len(picture.ids) == 300 and "All 300 customers" in picture.caption
    colours = ["#000000"] * len(model.firms)
    values, legend = node_values(model, picture.ids, "satisfaction", 0, colours)
    served = model.customer_state.supplier[0, picture.ids] >= 0
    assert np.isnan(values[~served]).all()
    rated = values[served][~np.isnan(values[served])]
    assert len(rated) > 0.8 * served.sum() and np.all((rated >= 0) & (rated <= 10))
    values, legend = node_values(model, picture.ids, "supplier", 1, colours)
    assert [p["label"] for p in legend["pieces"]] == [
        f.name for f in model.firms if f.industry == model.industries[1]
    ]
    values, legend = node_values(model, picture.ids, "expectation", 2, colours)
    assert legend["min"] <= np.nanmin(values) and np.nanmax(values) <= legend["max"]
    option = nodes_option(picture, values, legend, selected=int(picture.ids[7]))
    points = option["series"][0]["data"] + option["series"][1]["data"]
    assert len(points) == 300 and len(option["series"]) == 3
    assert clicked_customer({"componentType": "series", "data": points[0]}) == int(points[0][3])
    assert clicked_customer({"componentType": "series", "data": None}) is None
    ties = ties_option(picture)["series"][0]
    assert len(ties["links"]) == len(picture.u) > 0
    with pytest.raises(ValueError, match="colour mode"):
        node_values(model, picture.ids, "mood", 0, colours)


def test_hovering_a_node_shows_that_customers_values(session) -> None:
    """Issue 17, item 1: one string template served three colour modes and showed raw
    placeholders; each node now carries its supplier and each mode says what it shows."""
    from sim.ui.network_view import network_picture, node_values, nodes_option, tooltip_for

    model = session.model.value
    session.step(2)
    picture = network_picture(model)
    suppliers = model.customer_state.supplier[0, picture.ids]
    colours = ["#000000"] * len(model.firms)
    for mode, label in (("satisfaction", "satisfaction"), ("expectation", "expectation")):
        values, legend = node_values(model, picture.ids, mode, 0, colours)
        option = nodes_option(picture, values, legend, None, tooltip_for(model, mode, 0), suppliers)
        hook = option["cx_node_tooltip"]
        assert hook["firms"] == model.firm_names and hook["industry"] == model.industries[0]
        assert hook["label"].startswith(label)
        assert "formatter" not in option["tooltip"]  # no template with placeholders
        points = {int(p[3]): p for s in option["series"][:2] for p in s["data"]}
        for i, customer in enumerate(picture.ids[:50]):
            assert points[int(customer)][4] == suppliers[i]
    assert tooltip_for(model, "supplier", 1)["label"] == ""  # the supplier line says it all


# -- charts -----------------------------------------------------------------------------------


def test_every_chart_has_its_own_legend_and_no_two_scales_share_a_chart(session) -> None:
    """Issue 17, item 5: legends only in the firm chips; satisfaction (0-10) and expectation
    (0-1) on two axes of one chart."""
    from sim.ui.explore import explore_board, firm_series

    model = session.model.value
    session.step(3)
    board = explore_board(firm_series(model), "share")
    names = [name for name, *_ in board]
    assert names == ["share", "retention", "nps", "satisfaction", "experience", "trust", "profit"]
    for name, option, _, _ in board:
        assert option["legend"]["top"] < option["grid"]["top"], name
        assert isinstance(option["yAxis"], dict), f"{name}: one y axis"
        assert {s["name"] for s in option["series"]} == set(model.firm_names), name
    experience = dict((n, o) for n, o, *_ in board)["experience"]
    columns = np.array(experience["dataset"]["source"], float)[:, 1:]
    assert np.nanmax(columns) <= 1 and np.nanmin(columns) >= 0  # both on the 0-1 scale
    n = len(model.firms)
    assert experience["cx_axis_tooltip"]["suffix"] == [" · experience"] * n + [" · expectation"] * n


def _grid_top_at(option: dict, width: int) -> int:
    """The plot area's top in a chart ``width`` pixels wide: the option's own, then each of its
    ECharts ``media`` rules that the width matches, in order (as ECharts merges them)."""
    top = option["grid"]["top"]
    for rule in option.get("media", []):
        if width >= rule["query"].get("minWidth", 0):
            top = rule["option"].get("grid", {}).get("top", top)
    return top


def test_the_plot_starts_below_the_legend_however_many_rows_it_takes(session) -> None:
    """Finding 3 of the UI review: at 1280x720 the six firms' legend took 3 rows in a chart
    about 215 px wide and its third row sat on the y axis's top label ("100" under "Telco
    One"); the plot area kept room for 2. Each width's rows are counted from the names' widths
    and the plot starts below them; titles fit the chart at 1280x720."""
    from sim.ui.chart_layout import LEGEND, LEGEND_ROW, legend_rows, text_width
    from sim.ui.explore import explore_board, firm_series

    model = session.model.value
    session.step(3)
    names = model.firm_names
    assert len(names) == 6
    assert legend_rows(names, 215) == 3 and legend_rows(names, 290) == 2  # 1280 and 1440
    assert legend_rows(names, 2000) == 1
    for name, option, _, _ in explore_board(firm_series(model), "share"):
        top = option["legend"]["top"]
        for width in (180, 215, 232, 290, 400, 700):
            bottom = top + legend_rows(names, width) * LEGEND_ROW
            assert _grid_top_at(option, width) >= bottom + 6, (name, width)  # + half a label
        assert _grid_top_at(option, 215) > _grid_top_at(option, 290) > _grid_top_at(option, 700)
        title = option["title"]["text"]
        # the estimate runs about 10% wide of Chromium's bold sans-serif: about 205 px, in a
        # chart about 215 px wide at 1280x720 ("Annual retention (% kept over a year)": 230)
        assert text_width(title, 13) <= 230, (name, title)
    assert LEGEND["top"] > 13  # under the title


def test_legend_rows_follow_the_browser(session) -> None:
    """The estimate of a legend name's width errs on the wide side of Chromium's sans-serif
    (measured: "First Bank" 49.5 px, "Mobile Two" 55.6, "Big Promises" 64.8 at 11 px)."""
    from sim.ui.chart_layout import text_width

    for name, measured in (("First Bank", 49.5), ("Mobile Two", 55.6), ("Big Promises", 64.8)):
        assert measured <= text_width(name) <= 1.3 * measured, name


def test_y_axis_ends_fall_on_its_ticks(session) -> None:
    """Finding 5: an axis from nice_range (-30 to 65) with ECharts' own interval (20) printed
    "65" over "60". Every line chart's axis now sets its ends and an interval they fall on,
    with at most 5 intervals."""
    from sim.ui.chart_layout import nice_axis
    from sim.ui.charts import band_option
    from sim.ui.explore import explore_board, firm_series

    def on_ticks(low: float, high: float, interval: float) -> bool:
        k = (high - low) / interval
        return abs(k - round(k)) < 1e-6 and 1 <= round(k) <= 5

    cases = [
        ([-30, 65], (-100, 100)),
        ([-45_000, 35_000], (-np.inf, np.inf)),
        ([0.612, 0.615], (0, 1)),
        ([61, 98, 100], (-np.inf, 100)),
        ([7.0, 7.0], (0, 10)),
        ([0.5, 0.95], (0, 1)),
    ]
    for values, limits in cases:
        low, high, interval = nice_axis(np.array(values, float), limits)
        assert low <= min(values) and high >= max(values), values
        assert limits[0] <= low and high <= limits[1], values
        assert on_ticks(low, high, interval), (values, low, high, interval)
        assert abs(low / interval - round(low / interval)) < 1e-6, (values, low, interval)
    model = session.model.value
    session.step(20)
    for name, option, _, _ in explore_board(firm_series(model), "share"):
        y = option["yAxis"]
        assert on_ticks(y["min"], y["max"], y["interval"]), (name, y)
    x = np.arange(1, 53) / 52
    mean = np.linspace(-30, 65, 52)
    y = band_option("NPS", "", x, [("A", "#000", mean, mean - 5, mean + 5)], (-100, 100))["yAxis"]
    assert on_ticks(y["min"], y["max"], y["interval"]), y


def test_the_year_axis_is_readable_in_the_first_weeks(session) -> None:
    """Finding 6: after one step the x axis read "0 0.003 0.006 ... 0.0180.021"; its labels
    are now a quarter of a year apart at least."""
    from sim.ui.explore import explore_board, firm_series

    model = session.model.value
    session.step(1)
    for name, option, _, _ in explore_board(firm_series(model), "share"):
        assert option["xAxis"]["minInterval"] == 0.25, name
        assert option["xAxis"]["name"] == "years", name


def test_the_experience_chart_says_which_line_is_which(session) -> None:
    """Finding 7: its title read "Experience vs expectation (- -)"."""
    from sim.ui.explore import explore_board, firm_series

    model = session.model.value
    session.step(2)
    option = dict((n, o) for n, o, *_ in explore_board(firm_series(model), "share"))["experience"]
    assert option["title"]["text"] == "Experience vs expectation (0-1)"
    assert "solid" in option["title"]["subtext"] and "dashed" in option["title"]["subtext"]
    assert option["legend"]["top"] >= 24 + 14  # under the subtitle


def test_the_expectation_colouring_greys_customers_without_a_supplier(session) -> None:
    """Finding 4: in the expectation mode every customer was coloured, while the caption and
    legend said grey = no supplier; early in a market nearly everyone read as a customer. Now
    a customer with no supplier in the industry shown is in the grey series, as in the other
    modes, and its tooltip gives no expectation."""
    from sim.ui.network_view import network_picture, node_values, nodes_option, tooltip_for

    model = session.model.value
    session.step(2)
    picture = network_picture(model)
    colours = ["#000000"] * len(model.firms)
    for industry in range(len(model.industries)):
        suppliers = model.customer_state.supplier[industry, picture.ids]
        served = suppliers >= 0
        assert 0 < served.sum() < len(served)
        values, legend = node_values(model, picture.ids, "expectation", industry, colours)
        assert np.isnan(values[~served]).all() and np.isfinite(values[served]).all()
        option = nodes_option(
            picture, values, legend, None, tooltip_for(model, "expectation", industry), suppliers
        )
        coloured, grey = option["series"][0]["data"], option["series"][1]["data"]
        assert all(p[4] >= 0 for p in coloured) and all(p[4] < 0 for p in grey)
        assert len(grey) == (~served).sum()
        assert option["cx_node_tooltip"]["always"] is False


def test_inspect_cohort_legend_wraps_above_the_plot(session) -> None:
    """Finding 14: the cohort chart's legend was cut with a pager and its y-axis name sat on
    it; the legend wraps and the plot starts below it, the unit is in the title; the firm
    charts with an axis name keep it clear of the legend."""
    from sim.ui.chart_layout import LEGEND_ROW, legend_rows
    from sim.ui.inspect import _axis_chart, cohort_option

    cohorts = pd.DataFrame(
        {
            "firm": 0,
            "cohort": np.repeat(np.arange(14), 5),
            "age_years": np.tile(np.arange(5) / 4, 14),
            "survival": np.tile(np.linspace(1, 0.6, 5), 14),
        }
    )
    option = cohort_option(cohorts, 0)
    assert option["legend"].get("type", "plain") == "plain"
    assert option["yAxis"]["name"] == "" and "%" in option["title"]["text"]
    names = [s["name"] for s in option["series"]]
    for width in (600, 850, 1000, 1300):
        bottom = option["legend"]["top"] + legend_rows(names, width) * LEGEND_ROW
        assert _grid_top_at(option, width) >= bottom + 6, width
    named = _axis_chart("Customers and capacity", "customers")
    assert named["grid"]["top"] >= named["legend"]["top"] + LEGEND_ROW + 30  # the name's room


def test_cohorts_are_coloured_from_the_oldest_to_the_newest() -> None:
    """Audit: 8 colours repeated over 17 yearly cohorts (years 1, 9 and 17 the same blue). A
    sequential scale: every cohort its own colour, neighbours apart, lighter with each year."""
    from sim.ui.inspect import cohort_option
    from tests.ui_helpers import colour_distance, lab

    def cohorts(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "firm": 0,
                "cohort": np.repeat(np.arange(n), 3),
                "age_years": np.tile(np.arange(3) / 4, n),
                "survival": np.tile(np.linspace(1, 0.6, 3), n),
            }
        )

    series = cohort_option(cohorts(17), 0)["series"]
    assert [s["name"] for s in series] == [f"joined in year {i + 1}" for i in range(17)]
    colours = [s["color"] for s in series]
    assert len(set(colours)) == 17
    assert all(colour_distance(a, b) > 3 for a, b in itertools.pairwise(colours))
    lightness = [lab(c)[0] for c in colours]
    assert all(a < b for a, b in itertools.pairwise(lightness)), lightness
    assert colour_distance(colours[0], colours[-1]) > 60  # the ends far apart
    assert lab(colours[-1])[0] < 85  # the newest still shows on white
    (one,) = cohort_option(cohorts(1), 0)["series"]  # a single cohort: the scale's start
    assert one["color"] == colours[0]


def test_band_chart_years_are_round(session) -> None:
    """Issue 17, item 6: Compare's x axis read 0.02, 0.17, 0.33."""
    from sim.ui.chart_layout import year_axis
    from sim.ui.charts import band_option

    for steps, spacing in ((26, 0.25), (104, 0.25), (520, 2.0), (5000, 20.0)):
        x = np.arange(1, steps + 1) / 52
        mean = np.linspace(0, 1, steps)
        option = band_option("t", "", x, [("A", "#000", mean, mean - 0.1, mean + 0.1)])
        assert option["dataset"]["sourceHeader"] is False  # year 0's empty row is data
        categories = [row[0] for row in option["dataset"]["source"]]
        interval = option["xAxis"]["axisLabel"]["interval"]
        labels = categories[:: interval + 1]
        assert labels[0] == "0" and len(labels) >= 3, (steps, labels)
        assert all(float(label) % spacing == 0 for label in labels), (steps, labels)
        assert len(categories) <= 801
        assert year_axis(x).tick_years == spacing


def test_comparison_workers_start_warm_and_report_every_few_steps(scenario) -> None:
    """Issue 17, item 6: 'starting 2 worker processes' for 25 s, then whole runs only. Workers
    now fork from a fork server that loaded the kernels, and the page counts steps."""
    from sim.ui.replicates import CompareSpec, ReplicateRun, prestart

    prestart()
    b = sim.load_scenario(scenario, {"firms[0].levers": {"inflation": 1.5}})
    spec = CompareSpec(scenario, b, ("A", "B"), replicates=2, steps=200, seed=3)
    run = ReplicateRun(spec)
    assert run.progress_text(0.0).startswith("starting 2 worker processes")
    seen: list[tuple[int, int, str]] = []
    result = run.run(
        on_progress=lambda r: seen.append((r.steps_done, r.finished, r.progress_text(1)))
    )
    assert result is not None and result.warm
    partial = [(done, text) for done, finished, text in seen if finished == 0 and done > 0]
    assert partial, seen[:3]
    assert " of 800 steps (0 of 4 runs done)" in partial[0][1]
    # a market where every firm exits stops early: its remaining steps are not counted
    assert 600 <= seen[-1][0] <= 800 and "(4 of 4 runs done)" in seen[-1][2]


def test_zips_report_progress_chart_by_chart(session) -> None:
    """Issue 17, item 7: zip exports took 12-23 s with no feedback."""
    from sim.ui.export import charts_zip, everything_zip

    session.step(3)
    model = session.model.value
    seen: list[tuple[int, int, str]] = []
    charts_zip(model, lambda done, total, what: seen.append((done, total, what)))
    assert [done for done, _, _ in seen] == list(range(1, 9)) and seen[-1][1] == 8
    seen.clear()
    reads: list[str] = []

    def read(fn):
        reads.append("read")
        return fn()

    data = everything_zip(model, lambda *p: seen.append(p), ((2, "firms[0].price"),), read)
    assert (
        reads == ["read"] and seen[0][2] == "series written" and seen[-1] == (8, 8, "charts drawn")
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(
            zf.read(next(n for n in zf.namelist() if n.endswith("manifest.json")))
        )
    assert manifest["changed_mid_run"] == [{"step": 2, "key": "firms[0].price"}]


def test_firm_line_option_holds_one_column_per_firm(session) -> None:
    from sim.ui.charts import EXPLORE_CHARTS, FirmSeries, firm_line_option
    from sim.ui.echarts_widget import dumps

    model = session.model.value
    session.step(4)
    series = FirmSeries.from_frame(
        model.firm_metrics(), model.firm_names, [f.industry for f in model.firms]
    )
    option = firm_line_option(series, **EXPLORE_CHARTS["share"])
    rows = option["dataset"]["source"]
    assert len(rows) == 4 and len(rows[0]) == 1 + len(model.firms)
    assert [r[0] for r in rows] == pytest.approx([s / 52 for s in (1, 2, 3, 4)], abs=1e-5)
    assert [s["name"] for s in option["series"]] == model.firm_names
    shares = np.array([r[1:] for r in rows], float)
    assert np.all((shares >= 0) & (shares <= 100))
    json.loads(dumps(option))  # valid JSON, no NaN


def test_nan_becomes_null_and_bands_clip() -> None:
    from sim.ui.charts import band_option
    from sim.ui.echarts_widget import dumps

    assert json.loads(dumps({"a": [1.0, float("nan"), np.float64("inf")]})) == {
        "a": [1.0, None, None]
    }
    x = np.linspace(0, 1, 5)
    mean = np.array([0.5, 0.6, 0.7, 0.8, 0.95])
    option = band_option("t", "", x, [("A", "#000", mean, mean - 0.1, mean + 0.1)], (0, 1))
    row = option["dataset"]["source"][-1]
    assert row[1] + row[2] <= 1.0 + 1e-9  # low + width = clipped high
    assert option["yAxis"]["max"] <= 1


# -- replicate statistics ---------------------------------------------------------------------


def test_mean_band_and_paired_difference() -> None:
    from scipy import stats

    from sim.ui.replicates import mean_band, paired_difference

    values = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 4.0]])
    mean, low, high = mean_band(values)
    half = stats.t.ppf(0.975, 2) * 2.0 / math.sqrt(3)
    assert mean[0] == 3 and low[0] == pytest.approx(3 - half) and high[0] == pytest.approx(3 + half)
    assert mean[1] == 3 and high[1] - low[1] == pytest.approx(
        2 * stats.t.ppf(0.975, 1) * math.sqrt(2) / math.sqrt(2)
    )
    d = paired_difference(np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 4.0, 3.0, 9.0]))
    assert d["pairs"] == 3 and d["difference"] == pytest.approx(1.0)
    assert d["low"] < 1 < d["high"]


def test_a_variants_replicates_stepped_together_are_each_run_alone(scenario, monkeypatch) -> None:
    """The Compare page steps a variant's replicates as one batch (``run_replicates``): each
    replicate's tables are those of the run alone, markets whose firms all exit included; a
    batch that fails is run again run by run."""
    from sim.batch import MarketBatch
    from sim.ui.replicates import CompareSpec, ReplicateRun, run_replicate, run_replicates

    broke = {"economics.exit_after_weeks": 2}
    for f in range(len(scenario.firms)):
        broke |= {f"firms[{f}].unit_cost": 400.0, f"firms[{f}].cash": 6.0}
    broke = sim.load_scenario(scenario, broke)
    alone = {
        (v, r): run_replicate("A", r, variant, 7, 30)
        for v, variant in enumerate((scenario, broke))
        for r in (0, 1, 2)
    }
    assert all(len(alone[1, r]["market"]) < 30 for r in (0, 1, 2))  # they stop early

    def check(v: int, variant: sim.Scenario) -> None:
        together = run_replicates("A", (0, 1, 2), variant, 7, 30)
        for r, run in zip((0, 1, 2), together, strict=True):
            assert run["replicate"] == r and "error" not in run
            for table in ("market", "firms"):
                pd.testing.assert_frame_equal(run[table], alone[v, r][table], check_exact=True)

    for v, variant in enumerate((scenario, broke)):
        check(v, variant)

    run = MarketBatch.run

    def fails(self, *args, **kwargs):  # a batch of several fails, each alone runs
        if self.B > 1:
            raise RuntimeError("a batch that fails")
        return run(self, *args, **kwargs)

    monkeypatch.setattr(MarketBatch, "run", fails)
    check(0, scenario)

    spec = CompareSpec(scenario, broke, ("A", "B"), replicates=10)
    assert ReplicateRun(spec, workers=2).groups(scenario) == [tuple(range(10))]
    assert ReplicateRun(spec, workers=4).groups(scenario) == [(0, 1, 2, 3, 4), (5, 6, 7, 8, 9)]
    big = sim.load_scenario(scenario, {"market.customers": 30_000})
    # 4 markets of 30,000 fit in a batch (BATCH_CUSTOMERS 131,072): three batches
    assert ReplicateRun(spec, workers=2).groups(big) == [(0, 1, 2, 3), (4, 5, 6), (7, 8, 9)]


@pytest.mark.slow
def test_replicates_run_in_worker_processes_and_cancel(scenario: sim.Scenario) -> None:
    from sim.ui.replicates import CompareSpec, ReplicateRun

    b = sim.load_scenario(scenario, {"firms[0].levers": {"inflation": 1.5}})
    spec = CompareSpec(scenario, b, ("A", "B"), replicates=2, steps=6, seed=3)
    seen = []
    result = ReplicateRun(spec).run(on_progress=lambda r: seen.append(r.fraction))
    assert result is not None and result.errors == []
    assert list(result.steps) == [1, 2, 3, 4, 5, 6] and seen[-1] == 1.0
    assert result.market[0]["nps"].shape == (2, 6)
    # common random numbers: replicate 0 of A equals a run with the same seed stream
    model = sim.CustomerMarket(scenario, rng=np.random.SeedSequence(3, spawn_key=(0,)))
    model.run(6)
    np.testing.assert_allclose(result.market[0]["nps"][0], model.model_metrics()["nps"])
    table = result.differences()
    assert set(table["scope"]) == {"market", *[f.name for f in scenario.firms]}

    # long enough to be stopped under way: a worker first reports after a 40th of its steps
    # (250, about a second here), and finishing would take some 40 times that, while the
    # cancel is seen at the next poll, 0.2 s (100,000 steps made the wait for that first report
    # 12 s)
    long = CompareSpec(scenario, b, ("A", "B"), replicates=2, steps=10_000, seed=3)
    run = ReplicateRun(long)
    assert run.run(cancelled=lambda: run.steps_done > 0) is None  # cancelled once under way
    assert run.steps_done < long.runs * long.steps


# -- export -----------------------------------------------------------------------------------


def test_exports_parse_and_the_scenario_reproduces_the_run(session, tmp_path: Path) -> None:
    from sim.ui.export import charts_zip, everything_zip, file_stem, scenario_toml, series_bytes

    session.change("firms[0].levers.inflation", 0.9)
    model = session.model.value
    session.step(5)
    assert file_stem(model).endswith("-step5")
    firms = pd.read_csv(io.BytesIO(series_bytes(model, "firms", "csv")))
    assert len(firms) == 5 * len(model.firms)
    assert pd.read_parquet(io.BytesIO(series_bytes(model, "market", "parquet")))["step"].max() == 5
    with pytest.raises(ValueError):
        series_bytes(model, "firms", "xlsx")
    with zipfile.ZipFile(io.BytesIO(charts_zip(model))) as zf:
        assert all(zf.read(n)[:4] == b"\x89PNG" for n in zf.namelist())
        assert len(zf.namelist()) >= 7
    with zipfile.ZipFile(io.BytesIO(everything_zip(model))) as zf:
        assert any(n.endswith("manifest.json") for n in zf.namelist())
    path = tmp_path / "exported.toml"
    path.write_bytes(scenario_toml(session.scenario.value))
    assert tomllib.loads(path.read_text())["firms"][0]["levers"] == {"inflation": 0.9}
    rerun = sim.CustomerMarket(sim.load_scenario(path)).run(5).firm_metrics()
    pd.testing.assert_frame_equal(
        rerun.reset_index(drop=True), model.firm_metrics().reset_index(drop=True)
    )


def test_export_names_the_changes_made_while_running_as_the_sidebar_does(session) -> None:
    """Audit: Export listed "step 3: firms[0].price; step 3: firms[0].strategy" where the
    sidebar's dialog says "First Bank: price"."""
    import solara
    import solara.widgets

    from sim.ui.export import ExportPage
    from sim.ui.fields import key_name

    scenario = session.scenario.value
    assert key_name(scenario, "firms[0].price") == "First Bank: price"
    assert key_name(scenario, "firms[0].strategy") == "First Bank: strategy"
    assert key_name(scenario, "firms[0].levers.inflation") == "First Bank: overpromise: inflation"
    assert key_name(scenario, "trust.gain") == "Trust and commitment: gain"
    assert key_name(scenario, "no.such.key") == "no.such.key"
    session.step(3)
    assert session.change("firms[0].levers.inflation", 0.9) is None
    session.step(2)
    assert session.change("firms[0].price", 120.0) is None
    assert session.change("firms[0].strategy", "honest") is None  # the lever's strategy goes
    assert key_name(session.scenario.value, "firms[0].levers.inflation") == "First Bank: inflation"
    assert [key for _, key in session.live_changes.value] == [
        "firms[0].levers.inflation",
        "firms[0].price",
        "firms[0].strategy",
        "firms[0].levers.inflation",  # dropped with overpromise: named as it was
    ]
    _, rc = solara.render(ExportPage(session), handle_error=False)
    try:
        texts = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]
        note = next(t for t in texts if "Changed while the market ran" in t)
    finally:
        rc.close()
    assert (
        "Changed while the market ran: step 3: First Bank: overpromise: inflation; "
        "step 5: First Bank: price; step 5: First Bank: strategy; "
        "step 5: First Bank: overpromise: inflation." in note
    )
    assert "firms[" not in note


# -- assets, server, command line ---------------------------------------------------------------


def test_offline_assets_have_the_vega_aliases(tmp_path: Path) -> None:
    from sim.ui.assets import prepare_assets, solara_environment

    folder = prepare_assets(tmp_path / "cdn")
    again = prepare_assets(tmp_path / "cdn")
    assert folder == again
    for alias, file in (
        ("vega@5", "build/vega.min.js"),
        ("vega-lite@5", "build/vega-lite.min.js"),
        ("vega-embed@6", "build/vega-embed.min.js"),
        ("echarts@5.4.0", "dist/echarts.js"),
        ("requirejs@2.3.6", "require.js"),
    ):
        assert (folder / alias / file).is_file(), alias
    env = solara_environment(folder)
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(folder)


def test_server_command_is_production_on_loopback(tmp_path: Path) -> None:
    from sim.ui.server import SCENARIO_ENV, server_command, server_environment

    cmd = server_command()
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "--production" in cmd and cmd[cmd.index("--port") + 1] == "8765"
    path = tmp_path / "x.toml"
    path.write_text(sim.load_scenario("baseline").to_toml())
    env = server_environment(str(path), base={})
    assert env[SCENARIO_ENV] == str(path.resolve())
    assert server_environment("baseline", base={})[SCENARIO_ENV] == "baseline"


def test_check_port_reports_a_port_in_use() -> None:
    from sim.ui.server import PortInUseError, check_port

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortInUseError, match="already in use"):
            check_port("127.0.0.1", port)


def test_cxsim_ui_user_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["ui", "no_such_scenario"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cxsim: error:") and "no_such_scenario" in err and "\n" not in err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["ui", "--port", str(s.getsockname()[1])]) == 2
    assert "already in use" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ui", "--port", "70000"])


@pytest.mark.slow
def test_cxsim_ui_serves_the_page(tmp_path: Path) -> None:
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "ui", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "ui.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("cxsim ui did not answer in 300 s")
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/_solara/cdn/vega@5/build/vega.min.js", timeout=120
        ) as r:
            assert r.status == 200 and len(r.read()) > 100_000
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
    assert "cxsim ui: baseline on http://127.0.0.1:" in (tmp_path / "ui.log").read_text()
