"""Every shipped scenario loads, validates and runs; extends, overrides and TOML round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def test_segments_shape_attribute_weights() -> None:
    m = sim.CustomerMarket("niche_vs_generalist", rng=1, overrides={"market.customers": 2000})
    cs = m.customer_state
    assert np.allclose(cs.weights.sum(axis=1), 1.0)
    service = m.attributes.index("service")
    seekers = cs.segment == 0
    assert cs.weights[seekers, service].mean() > 0.45 > 0.2 > cs.weights[~seekers, service].mean()
    assert 0.3 < seekers.mean() < 0.4
