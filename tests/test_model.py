"""The Mesa face over the numpy body: agents as views, space, DataCollector, networks, metrics."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
import pytest

import sim
from sim.agents import Customer, Firm
from sim.metrics import FIRM_COLUMNS, MARKET_COLUMNS, nps

SMALL = {"market.customers": 300}


def digest(model: sim.CustomerMarket) -> str:
    h = hashlib.sha256()
    h.update(model.firm_metrics().to_csv(index=False).encode())
    h.update(model.model_metrics().to_csv(index=False).encode())
    for name in ("supplier", "expectation", "satisfaction", "trust", "attitude", "benchmark"):
        h.update(np.ascontiguousarray(getattr(model.customer_state, name)).tobytes())
    return h.hexdigest()


def test_is_a_mesa_model_with_agents_views_and_space() -> None:
    model = sim.CustomerMarket("baseline", rng=1, overrides=SMALL)
    assert isinstance(model, mesa.Model)
    assert len(model.agents_by_type[Customer]) == 300
    assert len(model.agents_by_type[Firm]) == len(model.firms) == 6
    assert isinstance(model.space, mesa.discrete_space.Network)
    c = model.customer(5)
    assert c.cell.coordinate == 5 and c in c.cell.agents
    neighbours = {cell.coordinate for cell in c.cell.neighborhood}
    assert neighbours == set(c.neighbours.tolist())
    model.step()
    assert model.steps == 1 and model.running


def test_agent_attributes_are_live_views_of_the_arrays() -> None:
    model = sim.CustomerMarket("baseline", rng=1, overrides=SMALL)
    model.run(2)
    c = model.customer(7)
    cs = model.customer_state
    assert np.array_equal(c.supplier, cs.supplier[:, 7])
    assert np.array_equal(c.expectation, cs.expectation[:, 7])
    c.trust_in = np.linspace(0.1, 0.6, 6)
    assert np.allclose(cs.trust[:, 7], np.linspace(0.1, 0.6, 6))
    served = cs.supplier[:, 7]
    expected = np.where(served >= 0, np.linspace(0.1, 0.6, 6)[np.maximum(served, 0)], np.nan)
    assert np.allclose(c.trust, expected, equal_nan=True)  # in its suppliers, per industry
    firm = model.firms[2]
    firm.price = 80.0
    assert model.firm_state.price[2] == 80.0 and firm.industry == "retail"
    assert set(firm.metrics) >= {"customers", "nps", "trust"}


@pytest.mark.parametrize("n", [300, 30_000])
def test_agents_mean_every_agent_at_every_size_created_on_demand(n: int) -> None:
    """``model.agents`` holds the firms and every customer whatever the size; no customer view
    exists until asked for (a million Python objects are not built at start)."""
    model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": n})
    assert model._customer_views == {}
    model.step()
    c = model.customer(n - 1)
    assert c.index == n - 1 and len(model._customer_views) == 1
    assert model.customer(n - 1) is c
    with pytest.raises(IndexError):
        model.customer(n)
    assert len(model.agents_by_type[Firm]) == 6 and len(model._customer_views) == 1
    assert len(model.agents) == n + 6
    assert len(model.agents_by_type[Customer]) == n
    assert set(model.agent_types) == {Customer, Firm}
    assert c in model.agents_by_type[Customer]
    mean_trust = model.agents_by_type[Customer].agg("trust_in", lambda v: float(np.mean(v)))
    assert np.isclose(mean_trust, model.customer_state.trust.mean(), rtol=1e-5)


def test_datacollector_gives_mesa_frames() -> None:
    model = sim.CustomerMarket("baseline", rng=2, overrides=SMALL)
    model.run(5)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5 and "nps" in frame and "retention_annual" in frame
    firms = model.datacollector.get_agenttype_vars_dataframe(Firm)
    assert len(firms) == 5 * 6 and "customers" in firms.columns
    last = model.firm_metrics().query("step == 5")
    assert firms.xs(5, level="Step")["customers"].tolist() == last["customers"].tolist()


def test_collect_every_records_fewer_steps() -> None:
    model = sim.CustomerMarket("baseline", rng=2, overrides={**SMALL, "collect_every": 4})
    model.run(12)
    assert model.model_metrics()["step"].tolist() == [4, 8, 12]


def test_metric_columns_and_ranges_make_sense_for_a_market() -> None:
    model = sim.CustomerMarket("baseline", rng=4, overrides={"market.customers": 1000})
    model.run(104)
    firms, market = model.firm_metrics(), model.model_metrics()
    assert list(firms.columns) == list(FIRM_COLUMNS)
    assert set(MARKET_COLUMNS) <= set(market.columns)
    last = firms[firms["step"] == 104]
    assert last["share"].groupby(last["industry"]).sum().round(6).eq(1).all()
    assert last["nps"].between(-100, 100).all() and last["nps"].nunique() > 1
    assert not (last["nps"].abs() == 100).any(), "a real market has promoters and detractors"
    assert last["retention_annual"].between(0.3, 0.999).all()
    assert last["trust"].between(0.05, 0.99).all()
    assert market["served"].iloc[-1] <= 1000 and market["unserved"].iloc[-1] >= 0
    spread = market.filter(like="satisfaction[").iloc[-1]
    assert spread.max() - spread.min() > 0.5, "industries differ in satisfaction"
    cohorts = model.cohort_survival()
    assert set(cohorts.columns) >= {"firm", "cohort", "age_years", "survival"}
    assert cohorts["survival"].between(0, 1).all()
    first = cohorts[(cohorts["cohort"] == 0)]
    by_age = first.groupby("age_years")["remaining"].sum()
    assert by_age.iloc[-1] <= by_age.max(), "cohorts only shrink once complete"
    indicators = model.relationship_indicators()
    assert list(indicators.columns)[3:] == [
        "satisfaction",
        "trust",
        "control_mutuality",
        "commitment",
        "mindset",
        "nps",
        "intention_to_stay",
    ]


def test_nps_definition() -> None:
    assert nps(np.array([10, 9, 8.6, 7, 6, 0.0])) == pytest.approx(100 * (3 / 6 - 2 / 6))
    assert np.isnan(nps(np.array([np.nan])))


def test_customer_history_is_recorded_for_tracked_customers() -> None:
    model = sim.CustomerMarket("baseline", rng=1, overrides=SMALL, track=[3, 9])
    model.run(6)
    history = model.customer_history(9)
    assert len(history) == 6 * 3 * 4
    assert set(history["industry"]) == {"banking", "retail", "telecom"}
    assert history["satisfaction"].notna().any()
    with pytest.raises(KeyError, match="not tracked"):
        model.customer_history(4)


@pytest.mark.parametrize(
    "kind", ["watts_strogatz", "barabasi_albert", "erdos_renyi", "stochastic_block", "complete"]
)
def test_every_network_kind_runs(kind) -> None:
    overrides = {**SMALL, "network.kind": kind, "market.regions": 3}
    model = sim.CustomerMarket("baseline", rng=1, overrides=overrides)
    model.run(5)
    assert model.adjacency.n == 300
    assert model.model_metrics()["wom_volume"].sum() > 0


def test_a_networkx_graph_can_be_passed_in() -> None:
    graph = nx.karate_club_graph()
    model = sim.CustomerMarket("baseline", rng=1, graph=graph)
    assert model.n_customers == 34
    assert model.adjacency.degree.tolist() == [d for _, d in sorted(graph.degree())]
    model.run(3)


def test_edge_list_scenario(tmp_path) -> None:
    (tmp_path / "edges.csv").write_text(
        "# a ring\n" + "".join(f"{i},{(i + 1) % 40}\n" for i in range(40))
    )
    data = sim.load_scenario("overpromise_vs_honest").to_dict()
    data["market"]["customers"] = 40
    data["network"] = {"kind": "edge_list", "path": "edges.csv"}
    import tomli_w

    (tmp_path / "ring.toml").write_text(tomli_w.dumps(data))
    model = sim.CustomerMarket(tmp_path / "ring.toml", rng=1)
    assert (model.adjacency.degree == 2).all()
    model.run(3)


def test_same_seed_same_numbers_different_seed_different() -> None:
    a = sim.CustomerMarket("baseline", rng=11, overrides=SMALL).run(30)
    b = sim.CustomerMarket("baseline", rng=11, overrides=SMALL).run(30)
    c = sim.CustomerMarket("baseline", rng=12, overrides=SMALL).run(30)
    assert digest(a) == digest(b) != digest(c)


def test_seed_sequence_and_scenario_seed_are_reproducible() -> None:
    seq = np.random.SeedSequence(5).spawn(2)[1]
    a = sim.CustomerMarket("baseline", rng=seq, overrides=SMALL).run(10)
    b = sim.CustomerMarket(
        "baseline", rng=np.random.SeedSequence(5).spawn(2)[1], overrides=SMALL
    ).run(10)
    assert digest(a) == digest(b)
    default = sim.CustomerMarket("baseline", overrides=SMALL).run(10)
    explicit = sim.CustomerMarket("baseline", rng=42, overrides=SMALL).run(10)
    assert digest(default) == digest(explicit)


def test_bit_identical_in_a_fresh_process() -> None:
    code = (
        "import hashlib, numpy as np, sim\n"
        "from tests.test_model import digest\n"
        "m = sim.CustomerMarket('overpromise_vs_honest', rng=7, "
        "overrides={'market.customers': 300}).run(40)\n"
        "print(digest(m))\n"
    )
    here = digest(
        sim.CustomerMarket("overpromise_vs_honest", rng=7, overrides={"market.customers": 300}).run(
            40
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=900,  # generous: a loaded machine, not a speed check
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == here


def closing_market(exit_after_weeks: int) -> sim.CustomerMarket:
    """A small overpromise_vs_honest whose first firm (Straight Talk) starts in debt on a small
    budget and closes after ``exit_after_weeks`` weeks of negative cash."""
    return sim.CustomerMarket(
        "overpromise_vs_honest",
        rng=2,
        overrides={
            **SMALL,
            "firms[0].cash": -1.0,
            "firms[0].base_budget": 50.0,
            "economics.exit_after_weeks": exit_after_weeks,
        },
    )


def test_retention_at_a_firms_exit_counts_only_the_customers_it_had() -> None:
    """At its exit a firm loses the customers it won that step too, who were never in the base
    retention divides by: its weekly retention that step is 0, not below it."""
    model = closing_market(exit_after_weeks=2)
    model.run(10)
    firm = model.firm_metrics()
    exit_row = firm[(firm["firm"] == 0) & ~firm["alive"]].iloc[0]
    # the case: more customers left than it had at the start, the ones won that step
    base = exit_row["customers"] + exit_row["churned"] - exit_row["acquired"]
    base -= exit_row["switched_in"]
    assert exit_row["churned"] > base > 0
    assert exit_row["retention_weekly"] == 0.0
    assert firm["retention_weekly"].dropna().between(0.0, 1.0).all()
    assert firm["retention_annual"].dropna().between(0.0, 1.0).all()
    market = model.model_metrics()
    assert market["retention_weekly"].dropna().between(0.0, 1.0).all()


def test_a_closed_firm_kept_none_of_its_customers_over_the_year() -> None:
    """Annual retention projects the last year's churn rate; a firm that closed kept none of
    the customers it had in that year: 0 until a year after it closed, NaN after (none left),
    not the 17-23% its earlier weeks' churn would project."""
    model = closing_market(exit_after_weeks=8)
    spy = model.steps_per_year
    model.run(spy + 20)
    firm = model.firm_metrics()
    mine = firm[firm["firm"] == 0].set_index("step")
    closed = mine.index[~mine["alive"]]
    exit_step = closed[0]
    assert exit_step + spy < mine.index[-1]  # the run goes on for more than a year after
    assert (mine.loc[: exit_step - 1, "retention_annual"] > 0.5).all()  # open: its own churn
    assert (mine.loc[exit_step : exit_step + spy - 1, "retention_annual"] == 0.0).all()
    assert mine.loc[exit_step + spy :, "retention_annual"].isna().all()
    rival = firm[firm["firm"] == 1]
    assert rival["retention_annual"].between(0.0, 1.0).all()


@pytest.fixture(scope="module")
def leader_enters_and_closes() -> tuple[sim.CustomerMarket, np.ndarray, np.ndarray]:
    """national_leader_equal at 1,000 customers, seed 1, run 12 steps past MegaMart's close
    (it enters in week 104 and runs out of cash in week 163), with each step's capacity as the
    firms' state had it and the load its delivery served at (``last_scratch``), ``(steps, F)``:
    what the rows report for a firm in the market."""
    model = sim.CustomerMarket("national_leader_equal", rng=1, overrides={"market.customers": 1000})
    capacity, load = [], []
    for _ in range(175):
        model.step()
        capacity.append(model.firm_state.capacity * model.n_customers)
        load.append(model.last_scratch.load.copy())
    return model, np.array(capacity), np.array(load)


def test_a_firm_out_of_business_has_no_capacity_and_no_load(leader_enters_and_closes) -> None:
    """A firm out of business serves no one: its capacity reads 0 (as its customers and its
    capacity costs do) and its load, the quality it served at, NaN, where they read its last
    capacity, or the one it was to enter with, and a load of 1.0. The step it closes delivered
    before it closed and keeps that load; the rows of its weeks in the market are the model's."""
    model, capacity, load = leader_enters_and_closes
    firms = model.firm_metrics()
    leader = model.firm_names.index("MegaMart")
    mine = firms[firms["firm"] == leader].set_index("step")
    entry = mine.index[mine["active"]][0]
    close = mine.index[~mine["alive"]][0]
    assert entry == 104 and 104 < close < 175  # the case: it enters, trades and closes
    before, open_, after = mine.loc[: entry - 1], mine.loc[entry : close - 1], mine.loc[close + 1 :]
    assert (before["capacity"] == 0.0).all() and before["load"].isna().all()
    np.testing.assert_array_equal(open_["capacity"], capacity[entry - 1 : close - 1, leader])
    np.testing.assert_array_equal(open_["load"], load[entry - 1 : close - 1, leader])
    assert open_["capacity"].min() > 150
    closing = mine.loc[close]
    assert closing["capacity"] == 0.0 and closing["customers"] == 0
    assert closing["load"] == load[close - 1, leader]  # the load its last customers got
    assert len(after) and (after["capacity"] == 0.0).all() and after["load"].isna().all()
    assert (capacity[close:, leader] > 150).all()  # the state keeps it; the rows do not


def test_the_rows_of_firms_in_the_market_report_their_capacity_and_load(
    leader_enters_and_closes,
) -> None:
    """Every row of a firm in the market has its capacity and load as the model had them, bit
    for bit; every row of a firm out of business reads 0 in each column of
    ``ZERO_OUT_OF_BUSINESS`` (capacity among them) but for the flows of the step it closes."""
    from sim.columns import ZERO_OUT_OF_BUSINESS

    model, capacity, load = leader_enters_and_closes
    firms = model.firm_metrics()
    n = len(model.firms)
    active = firms["active"].to_numpy(bool).reshape(-1, n)
    for column, raw in (("capacity", capacity), ("load", load)):
        rows = firms[column].to_numpy(float).reshape(-1, n)
        np.testing.assert_array_equal(rows[active], raw[active])
    closing = (~firms["alive"] & (firms.groupby("firm")["alive"].shift(fill_value=True))).to_numpy()
    out = ~active.ravel() & ~closing
    assert out.sum() > 100  # MegaMart before its entry and after its close
    for column in ZERO_OUT_OF_BUSINESS:
        assert (firms.loc[out, column] == 0).all(), column
    assert (firms.loc[closing, "capacity"] == 0).all() and closing.sum() == 1


def test_running_stops_when_every_firm_has_exited() -> None:
    model = sim.CustomerMarket(
        "overpromise_vs_honest",
        rng=1,
        overrides={
            **SMALL,
            "firms[0].cash": -1.0,
            "firms[1].cash": -1.0,
            "firms[0].base_budget": 50.0,
            "firms[1].base_budget": 50.0,
            "economics.exit_after_weeks": 2,
        },
    )
    model.run(50)
    assert not model.running and model.steps < 50
    assert (model.customer_state.supplier < 0).all()
    assert model.model_metrics()["firm_exits"].iloc[-1] == 2
