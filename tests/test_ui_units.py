"""The UI's parts without a browser: controls from the schema, session state, charts, network
drawing, replicate statistics, exports, assets, server and command line."""

from __future__ import annotations

import io
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
    assert firm["firms[0].capacity"].hint == "share · 0 to 10"
    assert firm["firms[0].price"].limits == "above 0"
    assert firm["firms[0].strategy"].kind == "choices"
    assert "overpromise" in firm["firms[0].strategy"].choices
    inflation = firm["firms[0].levers.inflation"]
    assert (inflation.ge, inflation.le, inflation.default) == (0, 2, 0.3)
    assert firm["firms[0].region"].optional
    keys = list(firm)
    assert keys[0] == "firms[0].strategy" and keys[1].startswith("firms[0].levers.")
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
    assert message and "less than or equal to 2" in message
    message = session.change("market.customers", -3)
    assert message and "greater than or equal to 2" in message
    assert session.model.value is model and model.steps == 3
    assert session.scenario.value is scenario


def test_a_valid_change_rebuilds_the_model_with_the_same_seed(session) -> None:
    session.step(3)
    old = session.model.value
    assert session.change("firms[0].levers.inflation", 1.0) is None
    new = session.model.value
    assert new is not old and new.steps == 0
    assert new.scenario.firms[0].levers == {"inflation": 1.0}
    np.testing.assert_array_equal(new.adjacency.indices, old.adjacency.indices)
    assert session.change("firms[0].levers.inflation", 1.0) is None  # no-op: same scenario
    assert session.model.value is new


def test_changing_strategy_keeps_only_its_levers(session) -> None:
    assert session.change("firms[0].levers.inflation", 0.8) is None
    assert session.change("firms[0].strategy", ["honest"]) is None
    firm = session.scenario.value.firms[0]
    assert firm.strategy == "honest" and firm.levers == {}
    assert session.change("firms[0].strategy", ["overpromise", "proactive"]) is None
    assert session.scenario.value.firms[0].strategy == ["overpromise", "proactive"]
    assert session.change("firms[0].strategy", []) == "expected at least one strategy"


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


# -- charts -----------------------------------------------------------------------------------


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

    long = CompareSpec(scenario, b, ("A", "B"), replicates=2, steps=100_000, seed=3)
    started = time.perf_counter()
    assert ReplicateRun(long).run(cancelled=lambda: time.perf_counter() - started > 2) is None
    assert time.perf_counter() - started < 15


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
        deadline = time.perf_counter() + 90
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "ui.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("cxsim ui did not answer in 90 s")
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/_solara/cdn/vega@5/build/vega.min.js", timeout=10
        ) as r:
            assert r.status == 200 and len(r.read()) > 100_000
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
    assert "cxsim ui: baseline on http://127.0.0.1:" in (tmp_path / "ui.log").read_text()
