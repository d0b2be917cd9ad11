"""Contrasts (``versus``): a claim read against the same world, same seed, in a counterfactual
market: parsing and errors, pairing of runs, margins, studies with and without contrasts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.robustness.claims import ClaimError, parse_claim, scenario_claims
from sim.robustness.margins import claim_margins, margin_range
from sim.robustness.report import analyze, write_report
from sim.robustness.study import plan_study, run_study, study_margins
from sim.robustness.versus import against, paired_runs
from sim.scenario import ScenarioError, load_scenario
from sim.sweep.plan import build_plan

HERE = Path(__file__).parent / "fixtures" / "robustness"
TINY = str(HERE / "tiny.toml")
VERSUS = str(HERE / "tiny_versus.toml")
RANGES = str(HERE / "ranges.toml")
FIRMS = ["Bank", "Overnight"]
INDUSTRIES = ["banking"]
GONE = {"firms.Overnight.entry_step": 100_000}
CONTRAST = "satisfaction[banking] @ year 10 < versus(satisfaction[banking] @ year 10)"


def _parse(text: str, versus=None):
    return parse_claim(
        "c", text, "", FIRMS, INDUSTRIES, steps_per_year=52, steps=520, versus=versus
    )


def test_a_contrast_reads_its_counterfactual_and_says_it_in_words() -> None:
    c = _parse(CONTRAST, GONE)
    assert c.versus == (("firms.Overnight.entry_step", 100_000),)
    assert c.against == "without Overnight (it never enters)"
    assert [r.window.first for r in c.refs] == [520, 520]
    assert margin_range(c) == margin_range(_parse("satisfaction[banking] < satisfaction[banking]"))
    # a firm by index is read as its name; other keys as they are written
    table = {"firms[1].entry_step": 600, "firms.Bank.levers.inflation": 0.0, "trust.loss": 0.5}
    assert against(table, FIRMS, 520) == (
        "without Overnight (it never enters) and with Bank's levers.inflation at 0.0, "
        "trust.loss at 0.5"
    )
    assert against({"firms.Overnight.entry_step": 100}, FIRMS, 520) == (
        "with Overnight's entry_step at 100"
    )
    # a claim within one run is as before
    plain = _parse("satisfaction[banking] < satisfaction[banking] @ year 1")
    assert plain.versus == () and plain.against == ""


@pytest.mark.parametrize(
    ("text", "versus", "key", "expected"),
    [
        (CONTRAST, None, "holds", "reads versus(...) but the claim states no versus table"),
        (
            "satisfaction[banking] < versus(versus(satisfaction[banking]))",
            GONE,
            "holds",
            "versus(...) inside versus(...)",
        ),
        ("satisfaction[banking] < versus(0.5)", GONE, "holds", "expected an outcome inside"),
        (
            "satisfaction[banking] < versus(satisfaction[banking], 1)",
            GONE,
            "holds",
            "versus takes one argument, got 2",
        ),
        ("satisfaction[banking] < 0.5", GONE, "versus", "holds reads no versus(...)"),
        (CONTRAST, {}, "versus", "expected a table of overrides"),
    ],
)
def test_contrast_errors_name_the_key_and_what_was_expected(text, versus, key, expected) -> None:
    with pytest.raises(ClaimError) as e:
        _parse(text, versus)
    assert e.value.key == key
    assert expected in str(e.value)


SCENARIO = """extends = "liquid_expectations"
name = "bad_versus"

[[claims]]
name = "fine"
says = "a claim within one run"
holds = "satisfaction[banking] < satisfaction[banking] @ year 1"

[[claims]]
name = "bad"
says = "a contrast"
{versus}
holds = "{holds}"
"""


@pytest.mark.parametrize(
    ("versus", "holds", "key", "expected"),
    [
        (
            'versus = { "firms.Overnite.entry_step" = 100000 }',
            CONTRAST,
            "claims[1].versus",
            "claim 'bad': firms.Overnite.entry_step: no entry named 'Overnite'; expected "
            "firms[INDEX] (0..5) or firms.<name> (First Bank, City Bank, High Street, Overnight, "
            "Telco One, Mobile Two)",
        ),
        (
            'versus = { "firms.Overnight.entry_stp" = 100000 }',
            CONTRAST,
            "claims[1].versus",
            "claim 'bad': firms[3].entry_stp: unknown key; expected one of:",
        ),
        (
            'versus = { "firms.Overnight.entry_step" = -1 }',
            CONTRAST,
            "claims[1].versus",
            "claim 'bad': firms[3].entry_step: expected a whole number from 0 to 10,000,000, "
            "got -1",
        ),
        (
            'versus = { "firms.Overnight.entry_step" = 52 }',
            CONTRAST,
            "claims[1].versus",
            "claim 'bad': changes nothing (firms.Overnight.entry_step = 52 is the scenario's own "
            "value); expected overrides that make a different market",
        ),
        ("", CONTRAST, "claims[1].holds", "claim 'bad': reads versus(...) but the claim states"),
        (
            'versus = { "firms.Overnight.entry_step" = 100000 }',
            "satisfaction[banking] < versus(versus(satisfaction[banking]))",
            "claims[1].holds",
            "claim 'bad': versus(...) inside versus(...)",
        ),
        (
            'versus = { "firms.Overnight.entry_step" = 100000 }',
            "satisfaction[banking] < 0.5",
            "claims[1].versus",
            "claim 'bad': the claim states a versus table but holds reads no versus(...)",
        ),
        ("versus = 5", CONTRAST, "claims[1].versus", "expected a table, got 5"),
    ],
)
def test_a_bad_contrast_is_refused_when_the_scenario_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture, versus: str, holds: str, key: str, expected: str
) -> None:
    path = tmp_path / "bad_versus.toml"
    path.write_text(SCENARIO.format(versus=versus, holds=holds))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert str(e.value).startswith(f"{path}: {key}: ")
    assert expected in str(e.value)
    assert main(["check", str(path)]) == 2
    said = capsys.readouterr()
    assert f"{key}: " in said.out + said.err


def test_a_claim_given_on_the_command_line_cannot_read_versus(capsys) -> None:
    args = ["robustness", "liquid_expectations", "--worlds", "8", "--claim", CONTRAST]
    assert main(args) == 2
    said = capsys.readouterr()
    assert f"--claim: {CONTRAST!r}: " in said.err + said.out
    assert "reads versus(...) but the claim states no versus table" in said.err + said.out
    assert "a --claim has none: state a contrast in the scenario's [[claims]]" in said.err


def test_liquid_expectations_states_contrasts_against_the_market_without_overnight() -> None:
    claims = scenario_claims(load_scenario("liquid_expectations"))
    assert [c.name for c in claims] == [
        "banks_judged_against_retailer",
        "telecoms_judged_against_retailer",
    ]
    for c in claims:
        assert c.versus == (("firms.Overnight.entry_step", 100_000),)
        assert c.against == "without Overnight (it never enters)"
        assert "versus(" in c.text and "in the same market without Overnight" in c.says
    # a variant where the table would change nothing drops the claims (it does not fit), and
    # the checks remembered for it do not leak into the scenario itself
    assert load_scenario("liquid_expectations", {"firms[3].entry_step": 100_000}).claims == []
    assert len(load_scenario("liquid_expectations", {"seed": 3}).claims) == 2
    assert load_scenario("liquid_expectations", {"firms.Overnight.entry_step": 60}).claims


def _tables() -> tuple[pd.DataFrame, None]:
    """Four runs of one kept step (520): w1, w2 in the market, c1, c2 their counterfactuals."""
    sat = {"w1": 0.60, "w2": 0.70, "c1": 0.65, "c2": 0.66}
    market = pd.DataFrame(
        {"run_id": list(sat), "step": 520, "satisfaction[banking]": list(sat.values())}
    )
    return market, None


def test_a_contrast_margin_is_the_difference_of_a_run_and_its_paired_run() -> None:
    market, firms = _tables()
    c = _parse(CONTRAST, GONE)
    plain = dataclasses.replace(_parse("satisfaction[banking] @ year 10 < 0.68"), name="p")
    runs = pd.Index(["w1", "w2"], name="run_id")
    paired = {"c": pd.Series(["c1", "c2"], index=runs, dtype=object)}
    df = claim_margins([c], market, firms, runs, final_step=520, paired=paired)
    assert df.loc["w1", "c"] == pytest.approx(0.65 - 0.60)
    assert df.loc["w2", "c"] == pytest.approx(0.66 - 0.70)
    # swapped pairs give the other differences: the pairing decides which run is read
    swapped = {"c": pd.Series(["c2", "c1"], index=runs, dtype=object)}
    df = claim_margins([c], market, firms, runs, paired=swapped)
    assert df.loc["w1", "c"] == pytest.approx(0.66 - 0.60)
    # a counterfactual run that did not finish gives that run no margin
    missing = {"c": pd.Series(["c1", np.nan], index=runs, dtype=object)}
    df = claim_margins([c, plain], market, firms, runs, paired=missing)
    assert df.loc["w1", "c"] == pytest.approx(0.05) and math.isnan(df.loc["w2", "c"])
    assert df["p"].to_list() == pytest.approx([0.68 - 0.60, 0.68 - 0.70])  # needs no pairing
    with pytest.raises(ValueError, match="reads versus"):
        claim_margins([c], market, firms, runs)


def test_runs_are_paired_with_the_same_replicate_of_their_world_counterfactual() -> None:
    # 2 worlds x 2 replicates; table 0 runs them as points 2-3, table 1 as points 4-5
    runs = pd.DataFrame(
        [(f"p{p}r{r}", p, r) for p in range(6) for r in range(2) if (p, r) != (5, 1)],
        columns=["run_id", "point", "replicate"],
    )
    one = _parse("satisfaction[banking] < versus(satisfaction[banking])", GONE)
    other = _parse("satisfaction[banking] < versus(satisfaction[banking])", {"trust.loss": 0.1})
    other = dataclasses.replace(other, name="d")
    tables = [one.versus, other.versus]
    pairs = paired_runs(runs, 2, tables, [one, other, _parse("satisfaction[banking] < 1")])
    assert set(pairs) == {"c", "d"}
    assert pairs["c"].to_dict() == {"p0r0": "p2r0", "p0r1": "p2r1", "p1r0": "p3r0", "p1r1": "p3r1"}
    assert pairs["d"]["p0r1"] == "p4r1" and pd.isna(pairs["d"]["p1r1"])  # p5r1 did not finish


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def test_a_study_without_contrasts_plans_the_same_sweep_as_before_them() -> None:
    """The digests were taken at 59cd6c2, before contrasts: the same spec, runs and seeds."""
    study = plan_study(TINY, RANGES, worlds=8)
    spec = study.sweep_spec()
    spec.pop("scenario")  # the fixture's absolute path
    assert _digest(spec) == "c60602493a83d69864f00d5f4f746ffa81ae0ba535526e965681551fcce03ffc"
    plan = build_plan(study.sweep_spec())
    tasks = [(t.run_id, t.point, t.replicate, t.seed_key) for t in plan.tasks]
    assert _digest(tasks) == "7a974cac28b77ec9a4c8f97f3f487d2f75ea14f9ab805787b4a0438793e4b99e"
    assert study.versus_tables == []
    assert all(set(c) == {"name", "says", "holds"} for c in study.to_dict()["claims"])


def test_a_study_runs_every_world_once_more_per_distinct_versus_table() -> None:
    plain = plan_study(TINY, RANGES, worlds=8, replicates=2)
    study = plan_study(VERSUS, RANGES, worlds=8, replicates=2)
    pd.testing.assert_frame_equal(study.worlds, plain.worlds)
    assert study.versus_tables == [
        (("firms.Probe.levers.inflation", 0.0),),
        (("firms.Probe.entry_step", 1000),),
    ]
    assert (study.runs, plain.runs) == (48, 16)  # what the page's progress counts
    points = study.sweep_spec()["design"]["points"]
    worlds = plain.sweep_spec()["design"]["points"]
    assert len(points) == 24 and points[:8] == worlds
    assert points[8]["label"] == "world 0 versus 1" and points[23]["label"] == "world 7 versus 2"
    assert points[9]["set"] == {**worlds[1]["set"], "firms.Probe.levers.inflation": 0.0}
    assert points[17]["set"] == {**worlds[1]["set"], "firms.Probe.entry_step": 1000}
    plan = build_plan(study.sweep_spec())
    key = {(t.point, t.replicate): t.seed_key for t in plan.tasks}
    # common random numbers: replicate r of a world and of its counterfactuals share the seed
    assert all(key[p, r] == key[p + 8, r] == key[p + 16, r] for p in range(8) for r in range(2))
    assert key[0, 0] != key[0, 1]
    said = study.to_dict()["claims"]
    assert said[0]["versus"] == {"firms.Probe.levers.inflation": 0.0}
    assert "versus" not in said[3]


@pytest.fixture(scope="module")
def versus_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("versus")
    study = plan_study(VERSUS, RANGES, worlds=8, replicates=2)
    return study, run_study(study, out, executor="serial"), out


def test_a_study_margin_reads_versus_from_the_same_world_and_replicate(versus_run) -> None:
    study, results, _ = versus_run
    runs = results.runs().set_index(["point", "replicate"])["run_id"]
    firms = results.df("firms")
    promise = firms[(firms["step"] == 10) & (firms["name"] == "Probe")]
    promise = promise.set_index("run_id")["promise"]
    customers = firms[(firms["step"] == 20) & (firms["name"] == "Steady")]
    customers = customers.set_index("run_id")["customers"]
    worlds, margins = study_margins(study, results)
    assert list(margins.index) == list(range(8))  # counterfactual runs are not worlds
    for w in range(8):
        by_hand = [promise[runs[w, r]] - promise[runs[w + 8, r]] for r in range(2)]
        assert margins.loc[w, "inflation_raises_the_promise"] == pytest.approx(np.mean(by_hand))
        by_hand = [customers[runs[w, r]] - customers[runs[w + 16, r]] for r in range(2)]
        assert margins.loc[w, "probe_sends_customers_away"] == pytest.approx(np.mean(by_hand))
    pd.testing.assert_frame_equal(worlds, study.worlds)


def test_a_contrasts_verdict_says_what_it_is_compared_against(versus_run) -> None:
    study, results, out = versus_run
    analysis = analyze(study, results)
    assert (analysis.runs_ok, analysis.runs_total, analysis.complete) == (48, 48, True)
    verdicts = {v.claim.name: v for v in analysis.verdicts}
    assert all(v.odds.worlds + v.odds.undecided == 8 for v in verdicts.values())
    gone = verdicts["probe_sends_customers_away"].sentence()
    assert "of 8 plausible worlds, each against the same world without Probe (it never enters)" in (
        gone
    )
    raised = verdicts["inflation_raises_the_promise"].sentence()
    assert "each against the same world with Probe's levers.inflation at 0.0" in raised
    assert "against" not in verdicts["within_one_run"].sentence()
    md = write_report(analysis, out, figures=False).read_text()
    assert "Against the same world without Probe (it never enters)" in md
    assert "`firms.Probe.entry_step = 1000`" in md
    data = json.loads((out / "report.json").read_text())
    said = {c["name"]: c for c in data["claims"]}
    assert said["probe_sends_customers_away"]["versus"] == {"firms.Probe.entry_step": 1000}
    assert "versus" not in said["within_one_run"]


def test_the_when_does_it_pay_page_plans_and_shows_a_contrast(tmp_path: Path, monkeypatch) -> None:
    from sim.ui.robustness_page import DIR_ENV, StudySettings, versus_line

    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    own = StudySettings(
        "liquid_expectations", None, "banks_judged_against_retailer", 8, 1, 300, None
    )
    pit = StudySettings(
        "liquid_expectations",
        (("firms.First Bank.share > firms.City Bank.share", "First Bank beats City Bank"),),
        "claim 1",
        8,
        1,
        300,
        None,
    )
    # the scenario's contrasts run more points than two firms pitted: other folders
    assert own.folder != pit.folder and "-vs" in own.folder.name and "-vs" not in pit.folder.name
    assert len(own.plan().sweep_spec()["design"]["points"]) == 16
    assert len(pit.plan().sweep_spec()["design"]["points"]) == 8
    scenario = load_scenario("liquid_expectations")
    line = versus_line(scenario.claims[0].versus, scenario)
    assert line == "versus: the same world without Overnight (it never enters), same replicate"
