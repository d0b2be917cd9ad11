"""The firms' decisions at once (the strategies' array forms) give, to the bit, what each firm's
strategy decides alone (``sim.rules.decisions``).

A built-in policy states its rule once, as ``decide_all``; its ``decide`` is that array form on
one row. Every built-in policy's ``decide_all`` over many rows is compared with its ``decide``
row by row over random firms and levers (edges included): each row depends on its own firm and
levers only, and the one-row round trip changes no bit. Every shipped scenario is run as a
batch of markets with different levers deciding at once and firm by firm, and must end in the
same state; a user strategy that writes ``decide_all`` only gets ``decide`` from it; one (or a
built-in subclass) that overrides ``decide`` only is decided firm by firm; and a decision the
model would refuse is refused with the message of the firm-by-firm checks.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.batch import MarketBatch
from sim.decision import DEFAULT_ALLOCATION, Decision, Decisions, FirmRows
from sim.rules.retention import DEFAULT_MIX
from sim.scenario import ScenarioError, load_scenario
from sim.strategies import (
    BUILTIN_STRATEGIES,
    Honest,
    Overpromise,
    Strategy,
    build_strategy,
    has_array_form,
)

SCENARIOS = sorted(p.stem for p in (Path(__file__).parents[1] / "scenarios").glob("*.toml"))
ATTRIBUTES = ["reliability", "speed", "service", "price", "range"]


def random_levers(cls: type[Strategy], rng: np.random.Generator) -> dict[str, Any]:
    """Levers anywhere in their ranges (both ends included now and then)."""
    levers: dict[str, Any] = {}
    for name, info in cls.Levers.model_fields.items():
        if name == "focus":
            levers[name] = list(rng.choice(ATTRIBUTES, size=rng.integers(1, 3), replace=False))
            continue
        lo = next((m.ge for m in info.metadata if hasattr(m, "ge")), 0.0)
        hi = next((m.le for m in info.metadata if hasattr(m, "le")), 1.0)
        levers[name] = float(rng.choice([lo, hi, rng.uniform(lo, hi)], p=[0.15, 0.15, 0.7]))
    return levers


@pytest.mark.parametrize("name", [n for n, c in BUILTIN_STRATEGIES.items() if has_array_form(c)])
def test_each_policy_decides_for_one_firm_what_it_decides_for_it_among_others(name: str) -> None:
    cls, rng, n, k = BUILTIN_STRATEGIES[name], np.random.default_rng(len(name)), 400, 5
    parts = [cls(**random_levers(cls, rng)) for _ in range(n)]
    firms = FirmRows(
        capability=rng.uniform(0, 1, (n, k)),
        customers=rng.integers(0, 600, n),
        capacity=rng.uniform(0, 0.6, n),
        size=rng.choice([300.0, 1000.0], n),
        attributes=ATTRIBUTES,
    )
    start = Decisions(  # decisions as earlier policies of a composition may leave them
        promise=rng.uniform(0, 1.2, (n, k)),
        allocation=rng.dirichlet(np.ones(4), n),
        focus=rng.dirichlet(np.ones(k), n),
        disclose=rng.random(n) < 0.5,
        price=rng.uniform(50, 150, n),
        retention_mix=rng.dirichlet(np.ones(4), n),
        feature_share=rng.uniform(0, 1, n),
        teaching=rng.uniform(0, 1, n),
    )
    at_once = Decisions(**{f.name: getattr(start, f.name).copy() for f in fields(start)})
    cls.decide_all(parts, firms, at_once)
    for i, part in enumerate(parts):
        model = SimpleNamespace(attributes=ATTRIBUTES, n_customers=int(firms.size[i]))
        firm = SimpleNamespace(
            model=model,
            capability=firms.capability[i].copy(),
            customers=int(firms.customers[i]),
            capacity=float(firms.capacity[i]),
        )
        alone = Decision(**{f.name: getattr(start, f.name)[i].copy() for f in fields(start)})
        alone.disclose, alone.price = bool(alone.disclose), float(alone.price)
        part.decide(firm, alone)
        for f in fields(Decision):
            mine, theirs = np.asarray(getattr(alone, f.name)), getattr(at_once, f.name)[i]
            assert np.array_equal(mine, theirs), (name, i, f.name, part, mine, theirs)


def entering_early(scenario: str) -> dict[str, Any]:
    """Firms that enter late enter at step 3, so their policies decide within the test."""
    sc = load_scenario(scenario)
    return {f"firms[{i}].entry_step": 3 for i, f in enumerate(sc.firms) if f.entry_step > 3}


def lever_overrides(scenario: str, rng: np.random.Generator) -> dict[str, Any]:
    """Other lever values for every firm of ``scenario``."""
    sc, out = load_scenario(scenario), {}
    for i, spec in enumerate(sc.firms):
        names = [spec.strategy] if isinstance(spec.strategy, str) else spec.strategy
        for name in names:
            cls = BUILTIN_STRATEGIES.get(name)
            if cls is None:
                continue
            for lever, value in random_levers(cls, rng).items():
                if lever != "focus":
                    out[f"firms[{i}].levers.{lever}"] = value
    return out


def markets(scenario: str) -> list[sim.CustomerMarket]:
    """Three markets of ``scenario`` with other seeds and levers (one on the complete graph,
    which is stepped alone)."""
    rng, early = np.random.default_rng(7), entering_early(scenario)
    out = [
        sim.CustomerMarket(
            scenario,
            rng=seed,
            overrides={"market.customers": 250, **early, **lever_overrides(scenario, rng)},
        )
        for seed in (1, 2, 3)
    ]
    return out[:1] if out[0].adjacency_is_complete else out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_steps_the_same_deciding_at_once_or_firm_by_firm(scenario: str) -> None:
    at_once, by_firm = MarketBatch(markets(scenario)), MarketBatch(markets(scenario))
    by_firm.per_firm_decisions = True
    at_once.run(16)
    by_firm.run(16)
    for a, b in zip(at_once.markets, by_firm.markets, strict=True):
        assert a.steps == b.steps
        for name in ("firm_state", "customer_state"):
            x, y = getattr(a, name), getattr(b, name)
            for f in fields(x):
                same = np.array_equal(getattr(x, f.name), getattr(y, f.name), equal_nan=True)
                assert same, (scenario, name, f.name)
        pd.testing.assert_frame_equal(a.firm_metrics(), b.firm_metrics(), check_exact=True)


def test_a_strategy_without_an_array_form_is_decided_firm_by_firm(monkeypatch) -> None:
    class Louder(Overpromise):  # a user subclass that overrides decide only
        def decide(self, firm, decision):
            super().decide(firm, decision)
            decision.promise = np.minimum(1.0, decision.promise + 0.05)

    assert has_array_form(Overpromise) and not has_array_form(Louder)
    assert not has_array_form(BUILTIN_STRATEGIES["responsive"])  # remembers, reads rivals
    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 200})
    plain = model.firm_state.promise.copy()
    model.firms[1].strategy = Louder(**model.firms[1].strategy.levers.model_dump())
    calls = []
    original = Louder.decide
    monkeypatch.setattr(
        Louder, "decide", lambda s, f, d: calls.append(f.index) or original(s, f, d)
    )
    capability = model.firm_state.capability.copy()  # as the firms decide (economics invests)
    model.step()
    assert calls == [1]
    # the honest rival's promise is still its capability, decided in the same market
    honest = [f.index for f in model.firms if isinstance(f.strategy, Honest)]
    assert honest and np.array_equal(
        model.firm_state.promise[honest], np.clip(capability[honest], 0, 1)
    )
    assert (model.firm_state.promise[1] >= plain[1]).all()


def test_a_strategy_written_as_an_array_form_gets_its_decide_from_it() -> None:
    class Modest(Strategy):  # a user policy written once, as its array form
        @classmethod
        def decide_all(cls, parts, firms, decisions):
            decisions.promise = firms.capability * 0.8

    class Plain(Strategy):  # a user policy written firm by firm (what honest does)
        def decide(self, firm, decision):
            decision.promise = firm.capability.copy()

    assert has_array_form(Modest) and not has_array_form(Plain)
    ends = []
    for rival in (Honest(), Plain()):  # the market decides at once, then firm by firm
        model = sim.CustomerMarket(
            "overpromise_vs_honest", rng=1, overrides={"market.customers": 200}
        )
        model.firms[0].strategy, model.firms[1].strategy = rival, Modest()
        for _ in range(6):
            capability = model.firm_state.capability.copy()  # as the firms decide
            model.step()
            promise = model.firm_state.promise[1]
            assert np.array_equal(promise, np.clip(capability[1] * 0.8, 0.0, 1.0))
        by_firm = model._batch.decision_plan.per_firm
        assert by_firm == ([model] if isinstance(rival, Plain) else [])
        ends.append(model)
    for name in ("firm_state", "customer_state"):
        x, y = (getattr(m, name) for m in ends)
        for f in fields(x):
            assert np.array_equal(getattr(x, f.name), getattr(y, f.name), equal_nan=True), f.name


def test_a_focus_or_price_left_to_the_model_is_read_as_the_model_reads_it() -> None:
    """A policy written firm by firm may leave focus and price as None (an even focus, the
    current price); a built-in after it in a composition sees them so."""
    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 200})
    firm, k = model.firms[0], len(model.attributes)
    decision = Decision(promise=firm.capability.copy(), focus=None, price=None)
    BUILTIN_STRATEGIES["proactive"]().decide(firm, decision)
    assert decision.disclose is True and decision.price == firm.price
    assert np.array_equal(decision.focus, np.full(k, 1.0 / k))
    assert np.array_equal(decision.promise, firm.capability)


def test_a_decision_the_firm_would_refuse_is_refused_with_its_message() -> None:
    class Broken(Honest):  # an array form that breaks the rules (its decide comes from it)
        @classmethod
        def decide_all(cls, parts, firms, decisions):
            decisions.promise = np.full_like(decisions.promise, np.nan)

    assert has_array_form(Broken)
    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 200})
    model.firms[0].strategy = Broken()
    with pytest.raises(ScenarioError, match=r"set promise to .*expected \d+ finite numbers") as e:
        model.step()
    assert e.value.source == __file__ and e.value.key == "Broken.decide_all"


def test_the_firms_start_from_the_defaults_each_step() -> None:
    """A composition's first policy sees the default allocation and retention mix, the firm's
    own price and focus, whatever it decided the step before."""
    model = sim.CustomerMarket(
        "retention_vs_acquisition", rng=1, overrides={"market.customers": 200}
    )
    model.run(3)
    fs = model.firm_state
    lone = build_strategy("honest")
    for firm in model.firms:
        firm.strategy = lone
    model.step()
    assert np.allclose(fs.allocation, np.array(DEFAULT_ALLOCATION) / sum(DEFAULT_ALLOCATION))
    assert np.allclose(fs.retention_mix, np.array(DEFAULT_MIX) / sum(DEFAULT_MIX))
    assert not fs.disclose.any() and np.all(fs.teaching == 0) and np.all(fs.feature_share == 0.5)


@pytest.mark.parametrize("name", ["feature_share", "teaching"])
def test_a_share_outside_0_to_1_is_refused_naming_it(name: str) -> None:
    class Greedy(Strategy):  # no array form: decided firm by firm
        def decide(self, firm, decision):
            setattr(decision, name, 1.5)

    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 200})
    model.firms[1].strategy = Greedy()
    expected = rf"set {name} to 1.5 at step 1; expected a share: a finite number from 0 to 1$"
    with pytest.raises(ScenarioError, match=expected):
        model.step()


REFUSALS = {  # a field set wrong, the message that names it
    "promise": (lambda k: np.ones(k + 1), r"set promise to .*expected \d+ finite numbers"),
    "allocation": (lambda k: np.array([0.5, np.nan, 0.2, 0.3]), r"set allocation to .*finite"),
    "focus": (lambda k: -np.ones(k), r"set focus to \[-1\.0, .*>= 0 with a positive sum"),
    "retention_mix": (lambda k: np.zeros(4), r"\[0\.0, .*>= 0 with a positive sum, one per tactic"),
    "price": (lambda k: 0.0, r"set price to 0\.0 at step 1; expected a finite number > 0 "),
    "teaching": (lambda k: -0.1, r"set teaching to -0\.1 at step 1; expected a share"),
}


@pytest.mark.parametrize("field_name", REFUSALS)
def test_each_wrong_decision_is_refused_naming_it_and_nothing_is_written(field_name) -> None:
    value, message = REFUSALS[field_name]

    class Wrong(Strategy):  # no array form: decided firm by firm
        def decide(self, firm, decision):
            setattr(decision, field_name, value(len(firm.capability)))

    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 200})
    model.firms[1].strategy = Wrong()
    before = {f.name: getattr(model.firm_state, f.name)[1].copy() for f in fields(model.firm_state)}
    with pytest.raises(ScenarioError, match=message) as e:  # a ValueError, as it was
        model.step()
    assert str(e.value).startswith(f"{__file__}: Wrong.decide: firm 'Big Promises' (firms[1]) ")
    for name, row in before.items():
        assert np.array_equal(getattr(model.firm_state, name)[1], row, equal_nan=True), name
