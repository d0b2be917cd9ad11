"""Teaching customers what to expect (issue #13): a firm's communication shifts what its customers
and the prospects it reaches value, slowly and within limits; off, weights stay the customers'
own."""

from __future__ import annotations

import numpy as np

import sim


def niche_market(**overrides: object) -> sim.CustomerMarket:
    return sim.CustomerMarket(
        "niche_vs_generalist",
        rng=2,
        overrides={"market.customers": 1500, "firms[0].levers": {"teaching": 0.6}, **overrides},
    )


def service_shift(model: sim.CustomerMarket) -> tuple[float, float]:
    """Mean change of the service weight among the teacher's customers and among the rest."""
    cs = model.customer_state
    k = model.attributes.index("service")
    shift = cs.weights[:, k] - cs.base_weights[:, k]
    mine = cs.supplier[0] == 0
    return float(shift[mine].mean()), float(shift[~mine].mean())


def test_a_teaching_niche_firm_makes_customers_value_its_focus() -> None:
    model = niche_market().run(104)
    customers, others = service_shift(model)
    assert customers > 0.04 and 0 < others < customers  # prospects reached, less
    cs = model.customer_state
    assert np.allclose(cs.weights.sum(axis=1), 1.0, atol=1e-5)
    limit = model.params.teaching.max_shift
    assert np.abs(cs.weights - cs.base_weights).max() <= limit + 0.05  # renormalised
    assert model.taught


def test_without_teaching_weights_stay_the_customers_own() -> None:
    for model in (
        niche_market(**{"mechanisms.teaching": False}).run(52),
        niche_market(**{"firms[0].levers": {"teaching": 0.0}}).run(52),
    ):
        cs = model.customer_state
        assert np.array_equal(cs.weights, cs.base_weights) and not model.taught


def test_weights_drift_back_when_teaching_stops() -> None:
    model = niche_market().run(104)
    taught, _ = service_shift(model)
    model.firm_state.teaching[:] = 0.0
    model.firms[0].strategy.levers.teaching = 0.0
    model.params.teaching.forget = 0.05
    model.run(52)
    after, _ = service_shift(model)
    assert 0 <= after < 0.5 * taught
