"""The five numbers the rules used to fix in code, now declared (7 December 2026): each moves
what it names, and its default reproduces the model as it was.

``reviews.prior_weight`` (was ``PRIOR_REVIEWS = 2``), ``economics.capability_floor`` (was
``CAPABILITY_FLOOR = 0.2``), ``trust.initial_tenure_years`` (was a uniform draw over 0-5
years) and ``economics.scale_floor`` (was the unit cost's economies of scale stopping at a
sixteenth of ``scale_reference``) have a plausible range and are marked free;
``benchmark_leader``'s budget shares on capacity (0.25, and 0.5 while short of its headroom) are
levers of the strategy.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.params import parameter_range


@pytest.mark.parametrize(
    ("key", "default", "low", "high"),
    [
        ("reviews.prior_weight", 2.0, 0.5, 10.0),
        ("economics.capability_floor", 0.2, 0.0, 0.4),
        ("trust.initial_tenure_years", 5.0, 2.0, 36.0),
        ("economics.scale_floor", 0.0625, 0.02, 0.25),
    ],
)
def test_declared_with_a_range_and_marked_free(key, default, low, high) -> None:
    r = parameter_range(key)
    assert r is not None
    assert (r.default, r.low, r.high) == (default, low, high)
    assert r.free


def _run(scenario: str, overrides: dict, steps: int, seed: int = 1) -> sim.CustomerMarket:
    model = sim.CustomerMarket(scenario, rng=seed, overrides=overrides)
    model.run(steps)
    return model


def test_review_prior_weight_holds_scores_near_the_prior_while_reviews_are_few() -> None:
    # week 2: each firm has a review or two; a heavier prior keeps its score nearer prior_score
    # (measured: 0.74, 0.57 and 0.25 points from it at weights 0.5, 2 and 10)
    far = {}
    for weight in (0.5, 2.0, 10.0):
        df = _run("baseline", {"market.customers": 1000, "reviews.prior_weight": weight}, 2)
        scores = df.firm_metrics().query("step == 2")["review_score"]
        far[weight] = float(np.abs(scores - 7.0).mean())
    assert far[0.5] > far[2.0] > 2 * far[10.0]


def test_capability_floor_is_where_unattended_capability_stops_falling() -> None:
    capability = {}
    for floor in (0.0, 0.4):
        overrides = {
            "market.customers": 500,
            "economics.capability_decay": 1.0,
            "economics.capability_floor": floor,
        }
        df = _run("baseline", overrides, 104).firm_metrics()
        capability[floor] = float(df.query("step == 104")["capability"].mean())
    assert capability[0.4] > capability[0.0] + 0.05


def test_scale_floor_caps_what_a_small_firm_pays_above_its_stated_unit_cost() -> None:
    from sim.rules.economics import unit_costs

    paid = {}
    for floor in (0.02, 0.0625, 0.25):
        overrides = {
            "market.customers": 500,
            "economics.scale_elasticity": 0.4,
            "economics.scale_floor": floor,
        }
        model = sim.CustomerMarket("baseline", rng=1, overrides=overrides)
        batch = model._batch
        batch.firm_state.customers[0, 0] = 1  # a firm of one customer in 500: below every floor
        batch.firm_state.customers[0, 1] = 300  # at twice the reference share: above them all
        cost = unit_costs(batch)[0] / batch.firm_state.unit_cost[0]
        paid[floor] = (float(cost[0]), float(cost[1]))
    for floor, (small, large) in paid.items():
        assert small == pytest.approx(floor**-0.4)  # 4.77, 3.03 and 1.74 times its stated cost
        assert large == pytest.approx(2**-0.4)  # a large firm's cost does not depend on it


@pytest.mark.parametrize("years", [2.0, 10.0, 36.0])
def test_initial_tenure_is_uniform_up_to_its_longest(years) -> None:
    overrides = {"market.customers": 4000, "trust.initial_tenure_years": years}
    model = sim.CustomerMarket("baseline", rng=1, overrides=overrides)
    cs = model.customer_state
    served = cs.supplier >= 0
    tenure = cs.tenure[served]
    longest = round(years * model.steps_per_year)
    assert tenure.max() < longest and tenure.max() >= 0.95 * longest
    assert tenure.mean() == pytest.approx(longest / 2, rel=0.05)


def test_default_tenure_draw_is_the_former_five_years() -> None:
    # the same generator calls as the code before the parameter: same seed, same tenures
    model = sim.CustomerMarket("baseline", rng=3, overrides={"market.customers": 800})
    tenure = model.customer_state.tenure[model.customer_state.supplier >= 0]
    assert tenure.max() < 5 * model.steps_per_year


def test_a_firm_of_its_own_tenure_draws_up_to_it_and_the_others_keep_the_markets() -> None:
    """A bank's customers have been with it 16-18 years on average, a phone company's 8: a
    firm's ``initial_tenure_years`` sets its own longest tenure; the market's is the others'
    (and a robustness range over the market's moves only theirs)."""

    def tenures(**overrides: float) -> dict[int, np.ndarray]:
        model = sim.CustomerMarket(
            "baseline", rng=1, overrides={"market.customers": 4000, **overrides}
        )
        cs = model.customer_state
        return {f: cs.tenure[cs.supplier == f] for f in range(len(model.scenario.firms))}

    base = tenures()
    own = tenures(**{"firms[0].initial_tenure_years": 30.0})
    both = tenures(**{"firms[0].initial_tenure_years": 30.0, "trust.initial_tenure_years": 2.0})
    weeks = 52
    assert own[0].max() < 30 * weeks and own[0].mean() == pytest.approx(15 * weeks, rel=0.05)
    assert base[0].max() < 5 * weeks
    for f in range(1, 6):  # the others draw what they drew: the same generator calls
        np.testing.assert_array_equal(own[f], base[f])
        assert both[f].max() < 2 * weeks
    np.testing.assert_array_equal(both[0], own[0])  # its own is its own


@pytest.mark.slow
def test_benchmark_leaders_capacity_shares_set_how_far_it_staffs_ahead() -> None:
    # MegaMart enters at week 104; a year later its capacity follows its budget share on it
    capacity = {}
    for share in (0.05, 0.5):
        overrides = {
            "market.customers": 800,
            "firms[4].levers": {"capacity_share": share, "capacity_share_short": share},
        }
        df = _run("national_leader_enters", overrides, 156).firm_metrics()
        leader = df[(df["name"] == "MegaMart") & (df["step"] == 156)]
        capacity[share] = float(leader["capacity"].iloc[0])
    assert capacity[0.5] > 1.5 * capacity[0.05]
