"""Every shipped scenario loads, validates and runs; extends, overrides and TOML round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.scenario import apply_overrides, list_scenarios, load_scenario, scenario_hash

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))

EXPECTED = {
    "baseline",
    "overpromise_vs_honest",
    "niche_vs_generalist",
    "national_leader_enters",
    "liquid_expectations",
    "growth_vs_support",
    "retention_vs_acquisition",
    "proactive_disclosure",
    "bass_docking",
}


def test_all_design_scenarios_are_shipped() -> None:
    assert EXPECTED <= {p.stem for p in SCENARIOS}
    assert EXPECTED <= {name for name, _, _ in list_scenarios()}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_runs(path) -> None:
    sc = load_scenario(path)
    assert sc.description, "every scenario explains itself in one line or more"
    model = sim.CustomerMarket(path, rng=3, overrides={"market.customers": 300})
    model.run(10)
    firms = model.firm_metrics()
    assert len(firms) == 10 * len(sc.firms)
    assert model.model_metrics()["step"].tolist() == list(range(1, 11))
    active = firms[firms["active"] & firms["satisfaction"].notna()]
    assert active["satisfaction"].between(0, 10).all()
    assert active["nps"].between(-100, 100).all()
    assert active["trust"].between(0, 1).all()


def test_extends_merges_tables_and_replaces_firms() -> None:
    base = load_scenario("overpromise_vs_honest")
    child = load_scenario("proactive_disclosure")
    assert child.delivery.base_failure_rate == 0.06
    assert base.delivery.base_failure_rate != 0.06
    assert child.market == base.market
    assert [f.name for f in child.firms] == ["Heads Up", "Silent"]
    assert child.name == "proactive_disclosure"


def test_overrides_by_index_by_name_and_batch_run_style() -> None:
    sc = load_scenario(
        "baseline",
        {
            "market.customers": 500,
            "firms[0].levers.inflation": 0.4,
            "firms[0].strategy": "overpromise",
            "firms.Overnight.price": 80.0,
            "expectations__rate_up": 0.2,
        },
    )
    assert sc.market.customers == 500
    assert sc.firms[0].strategy == "overpromise"
    assert sc.firms[0].levers == {"inflation": 0.4}
    assert sc.firms[2].price == 80.0
    assert sc.expectations.rate_up == 0.2


def test_to_toml_round_trips_exactly(tmp_path) -> None:
    sc = load_scenario("liquid_expectations", {"market.customers": 400})
    path = tmp_path / "copy.toml"
    path.write_text(sc.to_toml())
    again = load_scenario(path)
    assert scenario_hash(again) == scenario_hash(sc.model_copy(update={"name": sc.name}))


def test_hash_ignores_formatting_but_not_content() -> None:
    a = load_scenario("baseline")
    b = load_scenario(a.to_dict())
    c = load_scenario("baseline", {"trust.gain": 0.05})
    assert scenario_hash(a) == scenario_hash(b) != scenario_hash(c)


def test_apply_overrides_does_not_mutate_its_input() -> None:
    data = {"market": {"customers": 10}}
    out = apply_overrides(data, {"market.customers": 20})
    assert data == {"market": {"customers": 10}} and out["market"]["customers"] == 20


def test_load_scenario_with_overrides_leaves_its_sources_alone() -> None:
    """load_scenario sets overrides on its own data (no second copy): a Scenario, plain data
    and a file extending another come out of a load with overrides as they went in."""
    base = load_scenario("overpromise_vs_honest")
    before = base.to_dict()
    changed = load_scenario(
        base, {"firms.Big Promises.levers.inflation": 0.37, "market.customers": 123}
    )
    assert changed.firms[1].levers["inflation"] == 0.37 and changed.market.customers == 123
    assert base.to_dict() == before and base.market.customers != 123
    data = base.to_dict()
    load_scenario(data, {"firms[0].name": "Renamed"})
    assert data == before
    again = load_scenario("overpromise_vs_honest")
    assert again.to_dict() == before


def test_segments_shape_attribute_weights() -> None:
    m = sim.CustomerMarket("niche_vs_generalist", rng=1, overrides={"market.customers": 2000})
    cs = m.customer_state
    assert np.allclose(cs.weights.sum(axis=1), 1.0)
    service = m.attributes.index("service")
    seekers = cs.segment == 0
    assert cs.weights[seekers, service].mean() > 0.45 > 0.2 > cs.weights[~seekers, service].mean()
    assert 0.3 < seekers.mean() < 0.4


# "Which strategy" scenarios: their firms start on equal footing, so the verdict comes from the
# strategy (docs/MODEL.md, section 8). Every shipped scenario is in one of these two tables.
STRATEGY_SCENARIOS = (
    "overpromise_vs_honest",
    "niche_vs_generalist",
    "growth_vs_support",
    "retention_vs_acquisition",
    "proactive_disclosure",
    "service_vs_price",
)
COMPARED = {"service_vs_price": {"price"}}
"""Resources that are the strategy compared (service against a lower price)."""
OTHER_SCENARIOS = {
    "baseline": "a market as it is, not a comparison of strategies",
    "liquid_expectations": "the benchmark an entrant sets for other industries",
    "bass_docking": "one firm",
    "national_leader_enters": "the question is resources; its description says what differs",
    "national_leader_equal": "the entrant on a grocer's resources (tested below)",
}
RESOURCES = (
    "capacity",
    "initial_share",
    "price",
    "unit_cost",
    "capacity_cost",
    "cash",
    "base_budget",
    "budget_share",
    "entry_step",
    "region",
)


def test_every_shipped_scenario_says_whether_it_compares_strategies() -> None:
    assert {p.stem for p in SCENARIOS} == set(STRATEGY_SCENARIOS) | set(OTHER_SCENARIOS)


@pytest.mark.parametrize("name", STRATEGY_SCENARIOS)
def test_strategy_scenarios_start_their_firms_on_equal_footing(name: str) -> None:
    sc = load_scenario(name)
    firms = sc.firms
    assert len(firms) >= 2 and len({f.industry for f in firms}) == 1
    assert len({str(f.strategy) + str(f.levers) for f in firms}) == len(firms)
    for key in set(RESOURCES) - COMPARED.get(name, set()):
        assert len({getattr(f, key) for f in firms}) == 1, f"{name}: firms differ in {key}"
    # capability: the same total over the attributes (a niche firm redistributes, it does not add)
    model = sim.CustomerMarket(name, rng=0, overrides={"market.customers": 200})
    totals = model.firm_state.capability.sum(axis=1)
    assert np.ptp(totals) < 1e-6, f"{name}: capability totals {totals}"


def test_the_national_leaders_resources_are_a_grocers_in_the_equal_variant() -> None:
    rich, equal = load_scenario("national_leader_enters"), load_scenario("national_leader_equal")
    grocer, leader = equal.firms[0], equal.firms[-1]
    assert leader.name == "MegaMart" and leader.strategy == "benchmark_leader"
    for key in (*RESOURCES[2:-2], "capacity", "capability"):
        assert getattr(leader, key) == getattr(grocer, key), key
    assert [f.model_dump() for f in equal.firms[:-1]] == [f.model_dump() for f in rich.firms[:-1]]
    # an entrant starts with no customers; everything else that differs is named in the text
    differs = [
        k
        for k in ("capacity", *RESOURCES[2:-2], "capability")
        if getattr(rich.firms[-1], k) != getattr(rich.firms[0], k)
    ]
    assert set(differs) == {"capability", "capacity", "price", "cash", "base_budget"}
    for word in ("capability", "price", "capacity", "cash", "budget"):
        assert word in rich.description


def _grocers_after_entry(name: str) -> tuple[pd.DataFrame, list[int], int]:
    # 2,000 customers: at 1,000 a regional grocer serves ~170 and may close years after the
    # entrant has gone, below the scale its fixed costs need (a separate effect from the entry)
    model = sim.CustomerMarket(name, rng=1, overrides={"market.customers": 2000})
    model.run(8 * model.steps_per_year)
    df = model.firm_metrics()
    return df, model.firm_state.exit_step.tolist(), load_scenario(name).firms[-1].entry_step


def test_a_substandard_grocer_goes_out_of_business_through_cash_and_customers() -> None:
    """When the better-resourced chain arrives, grocers lose customers, then money, and close
    once their cash has stayed negative (the economics rule); on equal resources none closes."""
    df, exits, entry = _grocers_after_entry("national_leader_enters")
    closed = [f for f in range(4) if exits[f] >= 0]
    assert closed, "no grocer closed after the national chain entered"
    for f in closed:
        mine = df[df["firm"] == f].set_index("step")
        assert exits[f] > entry
        before = mine.loc[entry, "customers"]
        assert mine.loc[: exits[f] - 1, "customers"].iloc[-1] < 0.8 * before  # it lost customers
        assert (mine.loc[exits[f] - 13 : exits[f] - 1, "cash"] < 0).all()  # and its cash was gone
    _, exits, _ = _grocers_after_entry("national_leader_equal")
    assert all(step < 0 for step in exits[:4]), "a grocer closed against an entrant on its footing"


def test_the_equal_entrant_survives_on_a_runway_as_the_largest_firm_not_the_majority() -> None:
    """The condition national_leader_equal's claims state (docs/ablations.md): on a grocer's
    cash the entrant, which has no customers at entry, closes through the exit rule; with two
    years of its staff and budget it survives, larger than any grocer but not the majority. Its
    claims are its own, not the parent's, whose flag names resources this variant takes away."""
    claims = load_scenario("national_leader_equal").claims
    assert [c.name for c in claims] == ["leader_takes_most", "leader_keeps_best"]
    flags = [c.by_construction for c in claims]
    assert all("fails" in flag and "100 times" not in flag for flag in flags)
    shares = {}
    for cash in (2.0, 6.0):
        model = sim.CustomerMarket(
            "national_leader_equal",
            rng=1,
            overrides={"market.customers": 1000, "firms[4].cash": cash},
        )
        model.run(10 * model.steps_per_year)
        exit_step = int(model.firm_state.exit_step[4])
        df = model.firm_metrics()
        last = df[df["step"] == df["step"].max()].set_index("name")["share"]
        shares[cash] = (exit_step, last["MegaMart"], last.drop("MegaMart"))
    exit_step, mega, grocers = shares[2.0]
    assert exit_step > 104 and mega == 0.0  # it entered at week 104, then ran out of cash
    exit_step, mega, grocers = shares[6.0]
    assert exit_step < 0 and (mega > grocers).all() and mega < grocers.sum()


def test_network_keys_are_those_each_kind_describes() -> None:
    """NETWORK_KEYS (what a --set may set for a kind, the UI's network fields) agrees with the
    fields' descriptions (``watts_strogatz: ...``), which the parameter reference shows."""
    from sim.scenario import NETWORK_KEYS, NETWORK_KINDS, NetworkSpec

    assert set(NETWORK_KEYS) == set(NETWORK_KINDS)
    described: dict[str, list[str]] = {kind: [] for kind in NETWORK_KINDS}
    for name, info in NetworkSpec.model_fields.items():
        if name != "kind":
            described[(info.description or "").partition(":")[0]].append(name)
    assert {kind: tuple(names) for kind, names in described.items()} == NETWORK_KEYS
