"""float32 state follows float64 state: the same market at both precisions.

The per-customer state is float32 by default (``sim.state.FLOAT``; ``CustomerMarket(dtype=...)``
chooses per model). Both precisions draw the same random numbers when they share a random source,
so their trajectories can be compared directly: with ``KeyedSource`` (each number fixed by what
it is for), a decision can only differ where a uniform falls within float32 rounding (about 1e-7)
of its probability, and such a flip changes one customer's path, not the others' draws.

Documented tolerance (docs/performance.md): over 104 weeks of three scenarios, every firm's
customer count, churn and acquisitions agree to within 2 customers and every per-firm mean
(satisfaction, trust, commitment, attitude, mind-set, intention to stay, expectation, experience,
NPS, review score) to within 1e-3 relative (1e-4 absolute near zero). Measured: no decision
differed, and the means agreed to 1.4e-5 relative or better (the expectation gap, a difference
of two close means), 2.1e-6 for the mind-set (a mean of attitudes near zero) and 4e-7 for the
rest.
"""

from __future__ import annotations

import numpy as np
import pytest
from cxsim_reference import KeyedSource

import sim
import sim.state

COUNTS = ("customers", "churned", "acquired", "switched_in")
MEANS = (
    "satisfaction",
    "trust",
    "commitment",
    "attitude",
    "mindset",
    "intention_to_stay",
    "expectation",
    "experience",
    "nps",
    "review_score",
    "expectation_gap",
)
COUNT_TOLERANCE = 2
RELATIVE, ABSOLUTE = 1e-3, 1e-4


def run(scenario: str, dtype: str, steps: int = 104):
    model = sim.CustomerMarket(scenario, rng=2, dtype=dtype, overrides={"market.customers": 400})
    model.draws = KeyedSource(2)
    model.run(steps)
    return model


@pytest.mark.parametrize("scenario", ["baseline", "overpromise_vs_honest", "growth_vs_support"])
def test_float32_follows_float64(scenario: str) -> None:
    low, high = run(scenario, "float32"), run(scenario, "float64")
    assert low.customer_state.trust.dtype == np.float32
    assert high.customer_state.trust.dtype == np.float64
    a, b = low.firm_metrics(), high.firm_metrics()
    for column in COUNTS:
        assert np.abs(a[column].to_numpy() - b[column].to_numpy()).max() <= COUNT_TOLERANCE, column
    last_a, last_b = a[a["step"] == a["step"].max()], b[b["step"] == b["step"].max()]
    for column in MEANS:
        np.testing.assert_allclose(
            last_a[column].to_numpy(),
            last_b[column].to_numpy(),
            rtol=RELATIVE,
            atol=ABSOLUTE,
            equal_nan=True,
            err_msg=column,
        )


def test_float_type_is_a_model_option_and_a_module_default(monkeypatch) -> None:
    small = {"market.customers": 200}
    assert sim.CustomerMarket(
        "baseline", overrides=small
    ).customer_state.satisfaction.dtype == np.dtype(sim.state.FLOAT)
    monkeypatch.setattr(sim.state, "FLOAT", np.float64)
    model = sim.CustomerMarket("baseline", overrides=small)
    assert model.customer_state.expectation.dtype == np.float64
    assert model.firm_state.capability.dtype == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        sim.CustomerMarket("baseline", overrides=small, dtype="int32")
