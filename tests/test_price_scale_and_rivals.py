"""Price against service by segment, economies of scale, and rivals that react (issue #13).

Each mechanism shows its effect, and the effect disappears when it is off.
"""

from __future__ import annotations

import numpy as np

import sim
from sim.rules.economics import unit_costs


def two_firms(**overrides: object) -> dict:
    """A one-industry market: a cheaper firm and a better-serving one, two segments."""
    data = sim.load_scenario("overpromise_vs_honest").to_dict()
    data["segments"] = [
        dict(name="price seekers", share=0.5, price_sensitivity=3.0, concentration=0,
             weights={"reliability": 0.25, "speed": 0.25, "service": 0.25, "value": 0.25}),
        dict(name="service seekers", share=0.5, price_sensitivity=0.2, concentration=0,
             weights={"reliability": 0.25, "speed": 0.25, "service": 0.25, "value": 0.25}),
    ]  # fmt: skip
    data["firms"][0].update(name="Service", strategy="honest", price=100.0, initial_share=0.0,
                            capability={"reliability": 0.7, "speed": 0.7, "service": 0.8,
                                        "value": 0.6})  # fmt: skip
    data["firms"][1].update(name="Discount", strategy="honest", price=85.0, initial_share=0.0,
                            capability=0.65, levers={})  # fmt: skip
    data["market"]["customers"] = 1500
    for key, value in overrides.items():
        section, name = key.split(".")
        data[section][name] = value
    return data


def cheap_share_by_segment(data: dict, seed: int = 3) -> np.ndarray:
    model = sim.CustomerMarket(data, rng=seed).run(104)
    cs = model.customer_state
    served = cs.supplier[0] >= 0
    cheap = cs.supplier[0] == 1
    return np.array([cheap[served & (cs.segment == s)].mean() for s in (0, 1)])


def test_price_seekers_choose_the_cheaper_firm_more_than_service_seekers() -> None:
    price_seekers, service_seekers = cheap_share_by_segment(two_firms())
    assert price_seekers > service_seekers + 0.15
    # with price out of the choice, the segments choose alike (up to noise)
    off = cheap_share_by_segment(two_firms(**{"mechanisms.price_choice": False}))
    assert abs(off[0] - off[1]) < 0.1


def test_unit_cost_falls_with_scale_and_not_without_economies() -> None:
    model = sim.CustomerMarket(
        "national_leader_enters", rng=1, overrides={"market.customers": 2000}
    )
    fs = model.firm_state
    fs.customers[:] = [100, 100, 100, 100, 800]  # a national firm four times each local's base
    fs.unit_cost[:] = 45.0
    costs = unit_costs(model.batch)[0]
    assert costs[4] < costs[0] and np.allclose(costs[:4], costs[0])
    e = model.params.economics.scale_elasticity
    assert np.isclose(costs[0] / costs[4], 8.0**e)
    model.params.economics.scale_elasticity = 0.0
    assert np.allclose(unit_costs(model.batch)[0], 45.0)


def test_a_responsive_rival_answers_a_cheaper_rival_on_price() -> None:
    data = two_firms()
    data["firms"][0].update(strategy="responsive", capability=0.65, levers={"review_weeks": 8.0})
    data["firms"][0]["initial_share"] = 0.3
    data["firms"][1]["initial_share"] = 0.3
    model = sim.CustomerMarket(data, rng=2).run(104)
    price = model.firm_state.price[0]
    assert 85.0 <= price < 100.0  # it cut toward the rival's 85, never below its floor
    assert price >= 1.2 * model.firm_state.unit_cost[0]
    # an honest firm in the same place keeps its price
    data["firms"][0].update(strategy="honest", levers={})
    assert sim.CustomerMarket(data, rng=2).run(104).firm_state.price[0] == 100.0


def test_a_responsive_rival_refocuses_on_the_attribute_it_is_losing_on() -> None:
    data = two_firms()
    data["firms"][1].update(price=100.0, capability={"reliability": 0.65, "speed": 0.65,
                                                     "service": 0.95, "value": 0.65})  # fmt: skip
    data["firms"][0].update(strategy="responsive", capability=0.65, initial_share=0.3,
                            levers={"review_weeks": 8.0})  # fmt: skip
    data["firms"][1]["initial_share"] = 0.3
    data["reviews"]["rate"] = 0.05  # reviews to read
    model = sim.CustomerMarket(data, rng=4).run(156)
    focus = model.firm_state.focus[0]
    service = model.attributes.index("service")
    assert focus.argmax() == service and focus[service] > 0.5
    assert model.firm_state.price[0] == 100.0  # no cheaper rival: it did not touch its price
