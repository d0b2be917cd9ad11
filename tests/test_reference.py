"""The package's compiled step equals the agent-by-agent reference, rule by rule.

``cxsim_reference`` (tests/reference, installed with the dev tools) writes every rule of
docs/MODEL.md the way a Mesa user would: one ``Customer.step``-style method per phase, loops over
relationships and neighbours, every agent computing from the same state and then applying (the
package's synchronous step). Both start from the same state (the reference copies the package model
at step 0) and draw the same random numbers: the package's numbers are keyed by what they are for
(``sim.draws``: seed, step, purpose, industry, customer, column), and the reference asks the same
functions for them one agent at a time (``KeyedSource.of(model)``), so the block-by-block order of
the package and the agent order of the reference see the same numbers. Every draw is thereby
fixed: failures, complaints, answers, talking, a message reaching a neighbour, reviews, churn, the
leaver's and the adopter's choice, and the perception noise. Nothing is injected into the package.

The markets are small but busy: high churn and adoption, frequent complaints, failures and reviews,
an overloaded firm, a disclosing firm, an over-promiser, two regions with a local firm, a firm that
enters late and one that runs out of cash, and a step length that is not a week. The test also
checks that each of these events happened, so the comparison is not vacuous.
"""

from __future__ import annotations

import numpy as np
import pytest
from cxsim_reference import KeyedSource, ReferenceMarket

import sim

TOLERANCE = 1e-9

BUSY = {
    "word_of_mouth.reach": 1.0,  # every neighbour hears (a case below draws it)
    "word_of_mouth.base_rate": 0.1,
    "delivery.base_failure_rate": 0.1,
    "complaints.probability": 0.6,
    "complaints.threshold": 6.5,
    "reviews.rate": 0.05,
    "switching.intercept": 1.5,
    "acquisition.p": 2.0,
    "acquisition.q": 2.0,
}


def two_industries(**extra: object) -> dict:
    """A small market of two industries, two regions, five firms, with every kind of firm."""
    data = sim.load_scenario("baseline").to_dict()
    data["market"].update(industries=["banking", "retail"], regions=2)
    firms = [
        dict(
            name="Steady",
            industry="banking",
            capacity=0.5,
            initial_share=0.35,
            strategy="responsive",  # reacts on price or focus every two weeks
            levers={"review_weeks": 2.0, "trigger": 0.0},
        ),
        dict(
            name="Loud",
            industry="banking",
            capacity=0.12,
            initial_share=0.3,
            price=90.0,
            strategy=["overpromise", "proactive"],
            levers={"inflation": 0.4},
        ),
        dict(
            name="Local",
            industry="banking",
            region=1,
            capacity=0.2,
            initial_share=0.0,
            entry_step=4,
            strategy="niche",  # teaches customers to value service
            levers={"focus": ["service"], "teaching": 0.8},
        ),
        dict(
            name="Keeper",
            industry="retail",
            capacity=0.6,
            initial_share=0.4,
            strategy="retention_focus",
        ),
        dict(
            name="Broke",
            industry="retail",
            capacity=0.4,
            initial_share=0.3,
            cash=-1.0,
            base_budget=40.0,
            strategy="feature_chaser",
        ),
    ]
    data["firms"] = firms
    data["segments"][2]["price_sensitivity"] = 2.5  # price seekers
    data["segments"][0]["price_sensitivity"] = 0.4
    data["economics"]["exit_after_weeks"] = 6
    for key, value in {**BUSY, **extra}.items():
        section, name = key.split(".")
        data[section][name] = value
    data["market"]["customers"] = 150
    return data


SWITCHED_OFF = {
    f"mechanisms.{name}": False
    for name in (
        "loss_aversion",
        "personal_standard",
        "credibility",
        "benchmark",
        "commitment",
        "overload",
        "imitation",
        "targeting",
        "focus_investment",
        "teaching",
        "retention_extras",
        "retention_promotions",
        "price_value",
        "disclosure_habituation",
        "disclosure_visibility",
        "disclosure_cost",
        "word_of_mouth_tone",
    )
}
OTHERS_OFF = {
    f"mechanisms.{name}": False
    for name in (
        "disconfirmation",
        "promise_expectations",
        "promise_choice",
        "trust_promises",
        "reviews",
        "word_of_mouth",
        "complaints",
        "retention_personal",
        "retention_aftercare",
        "price_choice",
        "backlog",
        "disclosure_expectations",
        "disclosure_trust",
    )
}

CASES = {
    "weekly": (two_industries(), 14),
    "mechanisms switched off": (two_industries(**SWITCHED_OFF), 10),
    "other mechanisms switched off": (two_industries(**OTHERS_OFF), 10),
    "monthly, concave value": (
        two_industries(**{"satisfaction.curvature": 0.88}) | {"steps_per_year": 12},
        10,
    ),
    "baseline three industries": ("baseline", 10),
    "partial reach": (two_industries(**{"word_of_mouth.reach": 0.6}), 8),
    "symmetric trust, monthly": (
        two_industries(**{"mechanisms.trust_asymmetry": False}) | {"steps_per_year": 12},
        10,
    ),
}


def compare(model: sim.CustomerMarket, ref: ReferenceMarket) -> list[str]:
    """Names of the arrays where the two implementations differ."""
    bad = []
    cs, fs = model.customer_state, model.firm_state
    for name, theirs in ref.customer_arrays().items():
        ours = getattr(cs, name)
        if ours.dtype.kind == "f":
            same = np.allclose(ours, theirs, rtol=0.0, atol=TOLERANCE, equal_nan=True)
        else:
            same = np.array_equal(ours, theirs)
        if not same:
            bad.append(name)
    for name, theirs in ref.firm_arrays().items():
        ours = np.asarray(getattr(fs, name), float)
        if not np.allclose(ours, np.asarray(theirs, float), rtol=TOLERANCE, atol=TOLERANCE):
            bad.append(f"firm.{name}")
    return bad


@pytest.mark.parametrize("case", list(CASES))
def test_package_equals_agent_by_agent_reference(case: str) -> None:
    """The compiled rules follow the reference rule by rule."""
    scenario, steps = CASES[case]
    overrides = {"market.customers": 150, **BUSY} if scenario == "baseline" else None
    model = sim.CustomerMarket(scenario, rng=5, dtype="float64", overrides=overrides)
    ref = ReferenceMarket(model, KeyedSource.of(model))
    assert compare(model, ref) == []
    for t in range(1, steps + 1):
        model.step()
        ref.step()
        assert compare(model, ref) == [], f"step {t}"

    if "switched off" in case:
        return  # the other cases check that the rules were exercised
    if case.startswith("symmetric trust"):  # surpluses moved trust: not the default rule
        default = sim.CustomerMarket(
            two_industries() | {"steps_per_year": 12}, rng=5, dtype="float64"
        )
        for _ in range(steps):
            default.step()
        assert model.customer_state.trust.mean() > default.customer_state.trust.mean() + 1e-3
    # the rules were exercised, not just carried along
    df = model.firm_metrics()
    for column in (
        "churned",
        "switched_in",
        "acquired",
        "complaints",
        "answered",
        "failures",
        "wom_positive",
        "wom_negative",
    ):
        assert df[column].sum() > 0, column
    assert model.firm_state.review_weight.sum() > 0
    assert model.customer_state.switches.sum() > 0
    if isinstance(scenario, dict):
        warned = sum(
            int((model.workspace.failure[m] & (model.workspace.supplier[m] == 1)).sum())
            for m in range(2)
        )
        assert warned > 0 or df.query("name == 'Loud'")["failures"].sum() > 0
        assert not model.firm_state.alive[4] and model.firm_state.exit_step[4] > 0  # Broke
        assert df.query("name == 'Local'")["customers"].iloc[-1] > 0  # entered late, local
        assert (model.customer_state.supplier[0][model.customer_state.region == 0] != 2).all()


def test_keyed_draws_do_not_depend_on_blocks() -> None:
    """The keyed source gives a customer the same number whichever block asks for it."""
    src = KeyedSource(3)
    whole = src.uniform("churn", 1, slice(0, 100))
    parts = np.concatenate(
        [src.uniform("churn", 1, slice(0, 37)), src.uniform("churn", 1, np.arange(37, 100))]
    )
    assert np.array_equal(whole, parts)
    assert src.u("churn", 1, 42) == whole[42]
    z = src.normal("noise", 0, slice(0, 10), 4)
    assert src.z("noise", 0, 7, 2) == float(z[7, 2])
    pos, u = src.below("talk", 0, slice(0, 100), 0.3)
    assert np.array_equal(pos, np.flatnonzero(src.uniform("talk", 0, slice(0, 100)) < 0.3))
    assert np.all(u < 0.3)
