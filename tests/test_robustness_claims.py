"""Claims: the expression form, its errors, scenarios that state claims, and margins on runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.robustness.claims import ClaimError, parse_claim, scenario_claims
from sim.robustness.margins import claim_margins, holds, margin_range, world_margins
from sim.scenario import ScenarioError, list_scenarios, load_scenario

FIRMS = ["Heads Up", "Silent"]
INDUSTRIES = ["broadband"]


def _parse(text: str, **kw):
    return parse_claim("c", text, "", FIRMS, INDUSTRIES, steps_per_year=52, steps=520, **kw)


def test_claims_read_firm_names_with_spaces_windows_and_functions() -> None:
    c = _parse(
        "firms.Heads Up.retention_annual @ years 3-10 >= "
        "firms.Silent.retention_annual @ years 3-10 + 0.01"
    )
    assert c.op == ">=" and not c.strict
    first, _second = c.refs
    assert (first.outcome.firm, first.outcome.metric) == ("Heads Up", "retention_annual")
    assert (first.window.kind, first.window.first, first.window.last) == ("span", 105, 520)
    c = _parse("abs(firms.Heads Up.share - firms.Silent.share) < 0.1")
    assert c.strict and len(c.refs) == 2
    c = _parse("satisfaction[broadband] < market.satisfaction[broadband] @ year 1")
    assert c.refs[1].window.first == 52 and c.refs[0].window.kind == "final"
    c = _parse("max(firms.Silent.trust @ step 13, 0.2) * 2 > -1 + firms.Heads Up.trust / 4")
    assert c.steps == {13}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("firms.Heads Up.shar > 0", "expected a firm metric after the last dot"),
        ("firms.Loud.share > 0", "with a firm of the scenario (Heads Up, Silent)"),
        ("firms.share > 0", "a claim compares single numbers"),
        ("retention > 0", "expected a market metric"),
        ("satisfaction[banking] > 0", "expected a market metric"),
        ("1 > 0", "numbers alone are not a claim"),
        ("firms.Silent.share = 0.5", "equality is not a claim"),
        ("firms.Silent.share", "expected a comparison"),
        ("firms.Silent.share > 0 > 1", "expected one comparison"),
        ("firms.Silent.share @ year 11 > 0", "year 11 ends at step 572"),
        ("firms.Silent.share @ years 5-3 > 0", "1 <= A <= B"),
        ("firms.Silent.share @ month 3 > 0", "expected a window"),
        ("(firms.Silent.share > 0", "expected ')'"),
        ("abs(firms.Silent.share, 1) > 0", "abs takes one argument"),
        ("min(firms.Silent.share) > 0", "min takes at least 2 arguments"),
        ("firms.Silent.share > ", "expected a number, an outcome or '('"),
        ("firms.Silent.share > 0 ;", "unexpected ';'"),
        ("", "expected an expression"),
    ],
)
def test_claim_errors_say_where_and_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(ClaimError) as e:
        _parse(text)
    assert e.value.key == "holds"
    assert expected in str(e.value)


BAD = """extends = "overpromise_vs_honest"
name = "bad_claims"

[[claims]]
name = "fine"
holds = "firms.Straight Talk.share > firms.Big Promises.share"

[[claims]]
name = "typo"
says = "a claim naming a firm the scenario does not have"
holds = "firms.Straight Talk.share > firms.Big Promise.share"
"""


def test_a_scenario_with_a_bad_claim_is_refused_naming_file_claim_and_expectation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad_claims.toml"
    path.write_text(BAD)
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    msg = str(e.value)
    assert str(path) in msg and "claims[1].holds" in msg and "'typo'" in msg
    # the message docs/robustness.md shows, word for word
    assert msg.endswith(
        "claims[1].holds: claim 'typo': at 29 ('firms.Big Promise.share'): expected "
        "firms.<firm>.<metric> with a firm of the scenario (Straight Talk, Big Promises)"
    )


@pytest.mark.parametrize("text", ["firms.Head Up.share > 0", "firms.Loud.share > 0"])
def test_a_misspelt_firm_is_not_blamed_on_comparing_single_numbers(text: str) -> None:
    with pytest.raises(ClaimError) as e:
        _parse(text)
    assert "single numbers" not in str(e.value)
    assert str(e.value).endswith(
        "expected firms.<firm>.<metric> with a firm of the scenario (Heads Up, Silent)"
    )


def test_claims_of_a_parent_scenario_must_fit_the_child(tmp_path: Path) -> None:
    path = tmp_path / "child.toml"
    path.write_text(
        'extends = "overpromise_vs_honest"\n[[firms]]\nname = "A"\nindustry = "broadband"\n'
    )
    with pytest.raises(ScenarioError, match=r"claims\[0\]\.holds: claim 'honest_wins'"):
        load_scenario(path)
    path.write_text(
        'extends = "overpromise_vs_honest"\nclaims = []\n' + path.read_text().split("\n", 1)[1]
    )
    assert load_scenario(path).claims == []  # a child states its own claims, or none


def test_claim_keys_are_validated_like_every_scenario_table(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(BAD.replace('name = "fine"', 'name = "fine"\nodds = 3'))
    with pytest.raises(ScenarioError, match=r"claims\[0\]\.odds: unknown key"):
        load_scenario(path)
    path.write_text(BAD.replace('name = "typo"', 'name = "fine"'))
    with pytest.raises(ScenarioError, match="unique claim name"):
        load_scenario(path)


STRATEGY_SCENARIOS = {
    "overpromise_vs_honest",
    "proactive_disclosure",
    "retention_vs_acquisition",
    "growth_vs_support",
    "niche_vs_generalist",
    "national_leader_enters",
    "liquid_expectations",
}


def test_every_shipped_strategy_scenario_states_claims() -> None:
    names = {name for name, _, _ in list_scenarios()}
    assert STRATEGY_SCENARIOS <= names
    for name in STRATEGY_SCENARIOS:
        claims = scenario_claims(load_scenario(name))
        assert len(claims) >= 2, name
        assert all(c.says for c in claims), name


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two runs of a two-firm market with 4 kept steps (steps_per_year = 2)."""
    rows = []
    for run, bump in (("r1", 0.0), ("r2", 0.3)):
        for step in (1, 2, 3, 4):
            rows.append((run, step, "Heads Up", 0.5 + bump + 0.01 * step, 0.9))
            rows.append((run, step, "Silent", 0.5 - 0.01 * step, np.nan if run == "r2" else 0.8))
    firms = pd.DataFrame(rows, columns=["run_id", "step", "name", "share", "trust"])
    market = (
        firms.groupby(["run_id", "step"], as_index=False)["share"]
        .sum()
        .rename(columns={"share": "satisfaction"})
    )
    return market, firms


def _claim(text: str):
    return parse_claim("c", text, "", FIRMS, INDUSTRIES, steps_per_year=2, steps=4)


def test_margins_read_each_window_of_each_run() -> None:
    market, firms = _tables()
    final = _claim("firms.Heads Up.share > firms.Silent.share")
    span = _claim("firms.Heads Up.share @ years 1-1 < firms.Silent.share @ years 2-2 + 1")
    step = _claim("firms.Heads Up.share @ step 2 >= 0.5")
    trust = _claim("firms.Heads Up.trust > firms.Silent.trust")
    funcs = _claim("abs(firms.Silent.share - 1) > max(satisfaction @ year 1, 0.9)")
    df = claim_margins([final], market, firms)
    assert df.loc["r1", "c"] == pytest.approx(0.54 - 0.46)
    assert df.loc["r2", "c"] == pytest.approx(0.84 - 0.46)
    df = claim_margins([span], market, firms)
    # years 1-1 = steps 1-2 (mean 0.515 in r1); years 2-2 = steps 3-4 (mean 0.465)
    assert df.loc["r1", "c"] == pytest.approx(0.465 + 1 - 0.515)
    df = claim_margins([step], market, firms)
    assert df.loc["r2", "c"] == pytest.approx(0.82 - 0.5)
    df = claim_margins([trust], market, firms)
    assert df.loc["r1", "c"] == pytest.approx(0.1) and math.isnan(df.loc["r2", "c"])
    df = claim_margins([funcs], market, firms)
    assert df.loc["r1", "c"] == pytest.approx((1 - 0.46) - 1.0)  # satisfaction at step 2: 1.0


def test_world_margins_average_replicates_and_keep_undecided_worlds_apart() -> None:
    margins = pd.DataFrame({"c": [0.2, -0.1, np.nan, np.nan]}, index=["a", "b", "c", "d"])
    worlds = pd.Series([0, 0, 1, 1], index=["a", "b", "c", "d"])
    per = world_margins(margins, worlds)
    assert per.loc[0, "c"] == pytest.approx(0.05) and math.isnan(per.loc[1, "c"])
    strict = _claim("firms.Silent.share > 0")
    loose = _claim("firms.Silent.share >= 0")
    assert holds(strict, [0.0, 0.1, np.nan]).tolist() == [False, True, False]
    assert holds(loose, [0.0, -0.1]).tolist() == [True, False]


def test_a_variant_whose_firms_differ_drops_the_claims_but_a_bad_file_still_fails(
    tmp_path: Path,
) -> None:
    two = [
        {"name": n, "industry": "broadband", "capability": 0.6, "initial_share": 0.1}
        for n in ("Incumbent", "Challenger")
    ]
    variant = load_scenario("overpromise_vs_honest", {"firms": two})
    assert [f.name for f in variant.firms] == ["Incumbent", "Challenger"]
    assert variant.claims == []  # the claims are about Straight Talk and Big Promises
    assert len(load_scenario("overpromise_vs_honest", {"seed": 3}).claims) == 3
    data = load_scenario("overpromise_vs_honest").to_dict()
    data["firms"] = two  # a market built in code from a scenario's data (the workshop does)
    assert load_scenario(data).claims == []
    path = tmp_path / "bad_claims.toml"
    path.write_text(BAD)
    with pytest.raises(ScenarioError, match=r"claims\[1\]\.holds"):
        load_scenario(path, {"firms": two})


def test_a_sweep_plan_parses_the_scenarios_claims_once_and_bad_claims_say_the_same(
    tmp_path: Path, monkeypatch
) -> None:
    """A plan checks every design point's scenario; its claims, firms and time base are the
    base's, so the claims are parsed once for all points (``check_claims``), not once a point.
    A claim that does not fit is refused with the same message every time."""
    from sim.robustness import claims
    from sim.sweep.plan import build_plan

    parsed = []

    def counted(scenario, steps=None):
        parsed.append(scenario.name)
        return scenario_claims(scenario, steps)

    monkeypatch.setattr(claims, "scenario_claims", counted)
    monkeypatch.setattr(claims, "_CHECKED", {})
    points = [{"set": {"expectations.rate_up": 0.1 + 0.01 * i}} for i in range(30)]
    spec = {"name": "once", "scenario": "overpromise_vs_honest", "steps": 52}
    plan = build_plan({**spec, "design": {"kind": "list", "points": points}})
    assert len(plan.tasks) == 30 and len(plan.scenario.claims) == 3
    assert parsed == ["overpromise_vs_honest"]
    load_scenario("overpromise_vs_honest", {"steps": 30})  # a shorter run: checked again
    assert len(parsed) == 2
    path = tmp_path / "bad_claims.toml"
    path.write_text(BAD)
    said = []
    for _ in range(2):
        with pytest.raises(ScenarioError) as e:
            load_scenario(path)
        said.append(str(e.value))
    assert said[0] == said[1] and "claims[1].holds" in said[0] and "'typo'" in said[0]
    assert len(parsed) == 3


def test_a_run_whose_market_stopped_early_has_no_final_value() -> None:
    _, firms = _tables()
    # r3's firms both closed after step 2: its market stopped and kept no later rows
    stopped = firms[firms["run_id"] == "r1"].assign(run_id="r3")
    stopped = stopped[stopped["step"] <= 2].assign(share=[0.7, 0.3, 1.0, 0.0])
    firms = pd.concat([firms, stopped], ignore_index=True)
    final = _claim("firms.Heads Up.share > firms.Silent.share")
    early = _claim("firms.Heads Up.share @ year 1 > firms.Silent.share @ year 1")
    df = claim_margins([final], None, firms, final_step=4)
    assert math.isnan(df.loc["r3", "c"])  # not the 1.0 of the step its last firm closed
    assert df.loc["r1", "c"] == pytest.approx(0.54 - 0.46)
    # what it reached is still read: year 1 = steps 1-2, the last one (1.0 - 0.0)
    assert claim_margins([early], None, firms, final_step=4).loc["r3", "c"] == pytest.approx(1.0)
    assert claim_margins([final], None, firms).loc["r3", "c"] == pytest.approx(1.0)  # as stored


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("firms.Heads Up.share > firms.Silent.share", (-1.0, 1.0)),
        ("firms.Heads Up.share > 0.3", (-0.3, 0.7)),
        ("firms.Heads Up.share < 0.3", (-0.7, 0.3)),
        ("nps >= 20 + firms.Silent.nps / 2", (-170.0, 130.0)),
        ("abs(firms.Heads Up.mindset - firms.Silent.mindset) < 0.1", (-1.9, 0.1)),
        ("min(firms.Heads Up.trust, firms.Silent.commitment) > 0.5", (-0.5, 0.5)),
        ("firms.Heads Up.customers > firms.Silent.customers", (-math.inf, math.inf)),
        ("firms.Heads Up.profit > 0", (-math.inf, math.inf)),
        ("firms.Heads Up.share * firms.Heads Up.profit > 1", (-math.inf, math.inf)),
        ("firms.Heads Up.share / firms.Silent.share > 1", (-math.inf, math.inf)),
        ("firms.Heads Up.share / 2 > 0", (0.0, 0.5)),
    ],
)
def test_a_margin_lies_within_what_its_metrics_can_take(text, expected) -> None:
    """Interval arithmetic over the claim's expression, from ``sim.columns.RANGES``."""
    low, high = margin_range(_parse(text))
    assert (low, high) == pytest.approx(expected)


def test_a_claim_built_in_by_construction_says_so_beside_its_odds() -> None:
    """A verdict that holds whatever the parameters because the rules or the set-up make it so
    (the over-promiser's lost trust) is said to be built in wherever its odds are shown."""
    import dataclasses

    import pandas as pd

    from sim.robustness.claims import scenario_claims
    from sim.robustness.odds import wilson
    from sim.robustness.verdicts import Verdict
    from sim.scenario import load_scenario

    claims = {c.name: c for c in scenario_claims(load_scenario("overpromise_vs_honest"))}
    built_in = claims["trust_breaks"]
    assert "trust rule cuts trust at every broken promise" in built_in.by_construction
    assert claims["honest_wins"].by_construction == ""  # a finding
    v = Verdict(built_in, wilson(64, 64), pd.DataFrame(columns=["parameter", "S1", "S1_conf"]))
    assert "By construction (the over-promiser breaks its promise" in v.sentence()
    assert v.to_dict()["by_construction"] == built_in.by_construction
    plain = Verdict(dataclasses.replace(built_in, by_construction=""), wilson(64, 64), v.importance)
    assert "By construction" not in plain.sentence()
