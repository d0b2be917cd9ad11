"""The published facts a plausible world must reproduce, and the fit that keeps those worlds."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.robustness.facts as facts_module
import sim.robustness.fit as fit_module
from sim.cli import main
from sim.robustness.facts import FACTS, FITTABLE, not_fitted, world_facts
from sim.robustness.fit import FitError, _systematic, fit_facts, plan_fit
from sim.robustness.fit_report import constrained_table, facts_table, lineages, write_fit
from sim.robustness.ranges import Range
from sim.robustness.study import plan_study
from sim.validation.result import outside
from tests.parallel import in_two_processes

HERE = Path(__file__).parent / "fixtures" / "robustness"


def test_outside_is_the_shortfall_from_a_band() -> None:
    assert outside(2.0, 1.5, 3.0) == 0.0
    assert outside(1.0, 1.5, 3.0) == pytest.approx(0.5)
    assert outside(3.5, 1.5, 3.0) == pytest.approx(0.5)
    assert outside(0.2, low=0.5) == pytest.approx(0.3) and outside(9.0, low=0.5) == 0.0
    assert math.isinf(outside(float("nan"), 0.0, 1.0))


WORLDS = [
    {},  # the defaults: every fact holds
    # a world of the shipped ranges that misses several facts (satisfaction far above 7-8,
    # NPS too high, corr(s, E) negative)
    {
        "satisfaction.intercept": 3.2,
        "satisfaction.weight_performance": 11.0,
        "expectations.personal_sd": 0.0,
        "satisfaction.recommend_offset": 2.0,
    },
    # no loss aversion, and a broken promise that barely costs trust
    {"satisfaction.loss_aversion": 1.0, "trust.loss": 0.05},
    # churn that no longer falls with tenure (the tenure check's negative control)
    {
        "mechanisms.commitment": False,
        "mechanisms.trust_promises": False,
        "satisfaction.disposition_sd": 0.0,
        "expectations.personal_sd": 0.0,
    },
]
"""Worlds that meet every fact or miss some, for the facts' tests."""


MORE = [{"satisfaction.loss_aversion": -5.0}, {"market.regions": 2}]
"""A world that cannot be built, and one of another shape (two regions)."""


def _alone(worlds: list[dict]) -> list[list | None]:
    out: list[list | None] = []
    for world in worlds:
        try:
            out.append(world_facts(world, seed=1, facts=FITTABLE))
        except Exception:
            out.append(None)
    return out


@pytest.fixture(scope="module")
def alone() -> list[list | None]:
    """Every fittable fact of each world of :data:`WORLDS` and :data:`MORE`, measured alone
    (None for a world that cannot be built); every other world in each of two processes, side
    by side (tests/parallel.py)."""
    worlds = [*WORLDS, *MORE]
    evens, odds = in_two_processes([(_alone, (worlds[0::2],)), (_alone, (worlds[1::2],))])
    out = [None] * len(worlds)
    out[0::2], out[1::2] = evens, odds
    return out


@pytest.mark.parametrize("i", range(len(WORLDS)))
def test_a_facts_distance_is_zero_exactly_when_its_check_passes(i: int, alone: list) -> None:
    world, results = WORLDS[i], alone[i]
    assert [r.name for r in results] == list(FITTABLE)
    for r in results:
        assert r.distance >= 0 and not math.isnan(r.distance), r.name
        assert (r.distance == 0) == r.passed, (r.name, r.measured, r.distance)
    if not world:
        assert all(r.passed for r in results)
    else:
        assert not all(r.passed for r in results)


def _raise_or(results: list | None) -> list:
    if results is None:
        raise ValueError("this world cannot be built")
    return results


def test_many_worlds_measured_together_have_their_distances_alone(
    monkeypatch: pytest.MonkeyPatch, alone: list
) -> None:
    """``cxsim facts`` steps the markets of many worlds together: each world's distances are
    those it has alone, a world that cannot be built included (all infinite), and a world of
    another shape (two regions) goes in a batch of its own; every fact a fit may take, so every
    data set. No world falls back to being measured alone (the data sets' one-world builders are
    not called)."""
    import sim.validation.levels as levels
    import sim.validation.promises as promises
    import sim.validation.relationships as relationships
    import sim.validation.survey as survey
    from sim.robustness.facts import world_distances, world_distances_many

    worlds = [*WORLDS, *MORE]
    # the distances alone, from the facts alone (world_distances' own arithmetic)
    with monkeypatch.context() as m:
        m.setattr(facts_module, "world_facts", lambda w, s, f: _raise_or(alone[worlds.index(w)]))
        expected = [world_distances(world, seed=1, facts=FITTABLE) for world in worlds]

    def not_alone(*args: object) -> None:
        raise AssertionError("a world was measured alone")

    builders = [(survey, "survey"), (levels, "baseline_run"), (promises, "promise_runs")]
    for module, name in [*builders, (relationships, "relationships")]:
        monkeypatch.setattr(module, name, not_alone)
    together = world_distances_many(worlds, seed=1, facts=FITTABLE)
    for world, got, want in zip(worlds, together, expected, strict=True):
        np.testing.assert_array_equal(got, want, err_msg=str(world))
    assert np.isinf(together[-2]).all() and np.isfinite(together[0]).all()
    assert len({tuple(d) for d in together}) >= 4  # the worlds differ


def test_worlds_go_to_the_workers_in_equal_chunks() -> None:
    from sim.robustness.measured import chunks

    assert [len(c) for c in chunks(128, 2)] == [64, 64]
    assert [len(c) for c in chunks(130, 2)] == [32, 33, 32, 33]
    assert [len(c) for c in chunks(5, 2)] == [2, 3] and [len(c) for c in chunks(1, 2)] == [1]
    assert [len(c) for c in chunks(65, 1)] == [32, 33] and chunks(0, 2) == []
    assert [i for c in chunks(200, 3) for i in c] == list(range(200))


def test_resampling_keeps_the_weights() -> None:
    rows = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    w = np.array([0.5, 0.25, 0.25])
    out = rows.iloc[_systematic(w, 400, np.random.default_rng(3))]
    assert len(out) == 400
    assert (out["x"] == 0).mean() == pytest.approx(0.5, abs=0.01)
    assert out.equals(rows.iloc[_systematic(w, 400, np.random.default_rng(3))])


def _toy_distances(values: dict, seed: int = 1, facts: tuple = FACTS) -> np.ndarray:
    """A cheap stand-in for the facts: 'a' must lie in 0.2-0.4 and 'b' below 0.5."""
    a, b = values["toy.a"], values["toy.b"]
    d = np.zeros(len(facts))
    d[0] = outside(a, 0.2, 0.4) / 0.2
    d[1] = outside(b, high=0.5) / 0.5
    return d


TOY = {"toy.a": Range("toy.a", 0.0, 1.0), "toy.b": Range("toy.b", 0.0, 1.0)}


def _toy_many(worlds: list, seed: int = 1, facts: tuple = FACTS) -> list[np.ndarray]:
    return [_toy_distances(w, seed, facts) for w in worlds]


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(fit_module, "world_distances_many", _toy_many)


def test_the_fit_keeps_only_worlds_that_reproduce_the_facts(tmp_path: Path, toy) -> None:
    fit = fit_facts(tmp_path / "a", TOY, population=40, seed=5, generations=12)
    assert fit.reproduces
    assert fit.epsilons[-1] == 0
    p = fit.posterior
    assert len(p) == 40
    assert p["toy.a"].between(0.2, 0.4).all() and (p["toy.b"] <= 0.5).all()
    # the prior sample: about a tenth of the square meets both
    assert fit.prior_worlds.shape == (40, 2) and len(fit.prior_facts) == 40
    shares = facts_table(fit).set_index("fact")
    assert 0.0 < shares.loc["all of them", "prior_share"] < 0.35
    assert shares.loc["all of them", "fitted_share"] == 1.0
    narrow = constrained_table(fit).set_index("parameter")
    assert narrow.loc["toy.a", "ratio"] < 0.3 < narrow.loc["toy.b", "ratio"]
    assert narrow.loc["toy.a", "narrowed"] and fit.decoys.shape == (40, 5)
    # every step is a Metropolis step within the threshold: no world outside the ranges
    assert p.min().min() >= 0 and p.max().max() <= 1 and len(p.drop_duplicates()) > 20
    # same seed, same worlds; a fit stopped after two generations and resumed ends the same
    again = fit_facts(tmp_path / "b", TOY, population=40, seed=5, generations=12)
    assert again.posterior.equals(fit.posterior)
    fit_facts(tmp_path / "c", TOY, population=40, seed=5, generations=2)
    resumed = fit_facts(tmp_path / "c", TOY, population=40, seed=5, generations=12)
    assert resumed.posterior.equals(fit.posterior)
    report = write_fit(fit, tmp_path / "a")
    text = report.read_text()
    assert "every fitted world reproduces every fact" in text and "`toy.a`" in text
    # lineages: which prior world each fitted world descends from
    ancestors, largest, between = lineages(fit)
    assert fit.ancestors.shape == (40,) and set(fit.ancestors) <= set(range(40))
    assert 1 <= ancestors < 40 and 1 / ancestors <= largest <= 1 and 0 <= between <= 1
    assert f"descend from {ancestors} of the prior sample's 40 worlds" in text
    assert json.loads((tmp_path / "a" / "fit.json").read_text())["ancestors"] == ancestors
    assert lineages(dataclasses.replace(fit, ancestors=np.zeros(40, int)))[:2] == (1, 1.0)
    # two lineages, each a tight cluster: nearly all the variance lies between them
    split = (fit.posterior["toy.a"] > fit.posterior["toy.a"].median()).to_numpy().astype(int)
    clusters = dataclasses.replace(
        fit,
        ancestors=split,
        particles=fit.particles.assign(**{"toy.a": 0.2 + 0.1 * split, "toy.b": 0.3 * split}),
    )
    assert lineages(clusters)[2] == pytest.approx(1.0)
    assert json.loads((tmp_path / "a" / "fit.json").read_text())["reproduces"] is True
    # the posterior is what robustness reads
    assert pd.read_parquet(tmp_path / "a" / "posterior.parquet").shape == (40, 2)


def test_a_folder_with_another_fit_is_refused(tmp_path: Path) -> None:
    plan_fit(tmp_path, population=64, seed=1)
    with pytest.raises(FitError) as e:
        plan_fit(tmp_path, population=32, seed=1)
    assert "fit_spec.json" in str(e.value) and "population" in str(e.value)
    plan_fit(tmp_path, population=32, seed=1, force=True)  # --force starts again
    assert json.loads((tmp_path / "fit_spec.json").read_text())["population"] == 32
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(FitError, match="not a folder"):
        plan_fit(afile)


def test_the_cli_names_the_bad_folder_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    plan_fit(tmp_path, population=64, seed=1)
    assert main(["facts", "--out", str(tmp_path), "--population", "32", "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "fit_spec.json" in err and "population" in err and "--force" in err
    assert main(["facts", "--ranges", str(tmp_path / "none.toml")]) == 2
    assert "none.toml" in capsys.readouterr().err


def test_a_fit_takes_the_facts_it_is_asked_for(tmp_path: Path, toy) -> None:
    from sim.robustness.holdout import out_of_sample

    tenure = "retention_rises_with_tenure"
    plan = plan_fit(tmp_path / "t", facts=[tenure, "loss_asymmetry"])
    assert plan.facts == ("loss_asymmetry", tenure)  # in FITTABLE's order, whatever was asked
    spec = json.loads((tmp_path / "t" / "fit_spec.json").read_text())
    assert spec["facts"] == ["loss_asymmetry", tenure]
    # a fact fitted to is no longer out-of-sample, and the report says what was left out
    assert out_of_sample(plan.facts) == ("bolton_anchoring",)
    assert out_of_sample(FACTS) == ("retention_rises_with_tenure", "bolton_anchoring")
    left = not_fitted(plan.facts)
    assert tenure not in left and "levels" in left and "bass_docking" in left
    assert "out-of-sample" in not_fitted()[tenure]
    fit = fit_facts(tmp_path / "t", TOY, population=40, seed=5, generations=12, facts=plan.facts)
    assert fit.reproduces and fit.facts == plan.facts
    assert [c for c in fit.particles if c.startswith("d:")] == ["d:loss_asymmetry", f"d:{tenure}"]
    assert list(facts_table(fit)["fact"]) == ["loss_asymmetry", tenure, "all of them"]
    text = write_fit(fit, tmp_path / "t").read_text()
    assert "`levels` (left out of this fit (--facts))" in text and f"`{tenure}`" not in text
    assert json.loads((tmp_path / "t" / "fit.json").read_text())["facts"] == list(plan.facts)
    # the same folder with other facts is another fit: refused
    with pytest.raises(FitError, match="facts"):
        plan_fit(tmp_path / "t", facts=FACTS)


def test_an_unknown_fact_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(FitError) as e:
        plan_fit(tmp_path / "u", facts=["levels", "bolton_anchoring"])
    assert "bolton_anchoring" in str(e.value) and "retention_rises_with_tenure" in str(e.value)
    assert not (tmp_path / "u").exists()  # nothing written
    assert main(["facts", "--out", str(tmp_path / "u"), "--facts", "levels,nps"]) == 2
    err = capsys.readouterr().err
    assert "--facts" in err and "nps" in err and "loss_asymmetry" in err
    assert main(["facts", "--out", str(tmp_path / "u"), "--facts", ","]) == 2


def test_a_resumed_fit_says_what_it_read_back(tmp_path: Path, toy) -> None:
    fit_facts(tmp_path / "r", TOY, population=40, seed=5, generations=2)
    again = fit_facts(tmp_path / "r", TOY, population=40, seed=5, generations=12)
    assert 0 < again.fresh < again.simulations
    text = write_fit(again, tmp_path / "r", seconds=30.0).read_text()
    assert f"{again.simulations - again.fresh:,} read back from runs.jsonl" in text
    assert f"{again.fresh:,} in 0.5 min)" in text and "tests of the fitted" not in text
    # the tests of the fitted worlds are timed apart: "in X min" is the fit's own time
    text = write_fit(again, tmp_path / "r", seconds=30.0, tests_seconds=90.0).read_text()
    assert f"{again.fresh:,} in 0.5 min)" in text
    assert "The tests of the fitted worlds below took 1.5 min more." in text
    assert f"a prior sample and {again.generations} generations of 40 worlds" in text
    one = fit_facts(tmp_path / "one", TOY, population=40, seed=5, generations=1)
    assert (
        "a prior sample and 1 generation of 40 worlds"
        in write_fit(one, tmp_path / "one").read_text()
    )
    replay = fit_facts(tmp_path / "r", TOY, population=40, seed=5, generations=12)
    assert replay.fresh == 0
    assert "(all read back from runs.jsonl)" in write_fit(replay, tmp_path / "r", 1.0).read_text()


def test_a_posterior_leaves_what_a_scenario_holds_at_its_value(tmp_path: Path) -> None:
    # overpromise_vs_honest holds acquisition.p (its set-up); a posterior naming it must not move it
    post = pd.DataFrame(
        {"acquisition.p": np.linspace(0.01, 0.02, 16), "trust.loss": np.linspace(0.3, 0.4, 16)}
    )
    path = tmp_path / "posterior.parquet"
    post.to_parquet(path)
    study = plan_study("overpromise_vs_honest", posterior=path, worlds=16)
    assert "acquisition.p" not in study.worlds and "acquisition.p" in study.held
    assert study.worlds["trust.loss"].between(0.3, 0.4).all()


def test_the_out_of_sample_facts_at_the_defaults() -> None:
    from sim.robustness.holdout import HOLDOUT, world_holdout, world_holdout_many

    # docs/validation.md: retention rises with tenure, Bolton's anchoring does not show
    assert dict(zip(HOLDOUT, world_holdout({}, seed=1), strict=True)) == {
        "retention_rises_with_tenure": 1.0,
        "bolton_anchoring": 0.0,
    }
    # many worlds at once: each world's answers alone; a world that cannot be built, NaN
    broken = {"satisfaction.loss_aversion": -5.0}
    assert world_holdout(broken, seed=1) == [pytest.approx(math.nan, nan_ok=True)] * 2
    together = world_holdout_many([{}, broken, {}], seed=1)
    assert together[0] == together[2] == [1.0, 0.0]
    assert all(math.isnan(x) for x in together[1])


def test_the_holdout_table_runs_each_world_once_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.robustness.holdout as holdout

    calls: list[float] = []

    def fake(values: dict, seed: int = 1, checks: tuple = ()) -> list[float]:
        assert checks == holdout.HOLDOUT
        calls.append(values["x"])
        return [float(values["x"] > 0.5), math.nan if values["x"] > 0.9 else 0.0]

    monkeypatch.setattr(
        holdout,
        "world_holdout_many",
        lambda worlds, seed, checks: [fake(w, seed, checks) for w in worlds],
    )
    plausible = pd.DataFrame({"x": [0.1, 0.6, 0.95, 0.3]})
    fitted = pd.DataFrame({"x": [0.6, 0.7]})  # 0.6 is also a plausible world: run once
    table = holdout.holdout_table({"plausible": plausible, "fitted": fitted}, tmp_path)
    assert sorted(calls) == [0.1, 0.3, 0.6, 0.7, 0.95]
    t = table.set_index(["worlds", "check"])
    assert t.loc[("plausible", "retention_rises_with_tenure"), "holds"] == 2
    assert t.loc[("plausible", "retention_rises_with_tenure"), "share"] == 0.5
    assert t.loc[("plausible", "bolton_anchoring"), "decided"] == 3  # the NaN is undecided
    assert t.loc[("fitted", "retention_rises_with_tenure"), "share"] == 1.0
    calls.clear()
    again = holdout.holdout_table({"plausible": plausible, "fitted": fitted}, tmp_path)
    assert calls == [] and again.equals(table)  # read back from holdout.jsonl


def test_verdicts_say_what_their_worlds_are(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from sim.robustness.claims import parse_claim
    from sim.robustness.report import worlds_are
    from sim.robustness.verdicts import judge

    (tmp_path / "fit").mkdir()
    (tmp_path / "fit" / "fit.json").write_text('{"reproduces": true}')
    assert worlds_are(SimpleNamespace(posterior=None)) == "plausible worlds"
    fitted = SimpleNamespace(posterior=tmp_path / "fit" / "posterior.parquet")
    assert worlds_are(fitted) == "worlds that reproduce the published facts"
    assert (
        worlds_are(SimpleNamespace(posterior=tmp_path / "p.parquet")) == "worlds of the posterior"
    )
    worlds = pd.DataFrame({"trust.gain": np.linspace(0.1, 1.0, 20)})
    claim = parse_claim("c", "market.nps @ final > 0", "", ["A"], ["banking"])
    v = judge(claim, worlds, pd.Series(worlds["trust.gain"] - 0.5, index=worlds.index))
    v.worlds_are = worlds_are(fitted)
    assert "of 20 worlds that reproduce the published facts" in v.sentence()


def test_the_facts_again_with_the_next_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.robustness.reseed as reseed
    from sim.robustness.fit_report import reseed_lines

    calls: list[tuple[float, int]] = []

    def toy(values: dict, seed: int = 1, facts: tuple = ()) -> np.ndarray:
        # passes 'near' whatever the seed; 'edge' only below 0.3 with seed 2 (a pass by the draw)
        calls.append((values["toy.a"], seed))
        a = values["toy.a"]
        edge = 0.0 if seed == 1 or a < 0.3 else 0.2
        return np.array([0.0, edge]) if a < 0.9 else np.array([math.inf, math.inf])

    monkeypatch.setattr(
        reseed,
        "world_distances_many",
        lambda worlds, seed, facts: [toy(w, seed, facts) for w in worlds],
    )
    worlds = pd.DataFrame({"toy.a": [0.1, 0.2, 0.5, 0.6, 0.95]})
    table = reseed.reseed_table(worlds, ("near", "edge"), tmp_path, seed=2)
    assert {s for _, s in calls} == {2} and len(calls) == 5
    t = table.set_index("fact")
    assert t.loc["near", "holds"] == 4 and t.loc["near", "decided"] == 4  # inf: did not run
    assert t.loc["edge", "share"] == 0.5 and t.loc["all of them", "holds"] == 2
    assert 0 < t.loc["all of them", "low"] < 0.5 < t.loc["all of them", "high"] < 1
    calls.clear()
    assert reseed.reseed_table(worlds, ("near", "edge"), tmp_path, seed=2).equals(table)
    assert calls == []  # read back from reseed.jsonl
    lines = reseed_lines(table)
    assert lines[-1].startswith("| all of them | 100% | 50% (") and lines[-1].endswith("of 4 |")


def test_auto_moves_take_as_many_steps_as_the_acceptance_needs(tmp_path: Path, toy) -> None:
    from sim.robustness.fit import moves_needed

    # Drovandi & Pettitt: steps that leave a world unmoved with probability 0.01
    assert moves_needed(0.25) == 17 and moves_needed(0.5) == 7 and moves_needed(1.0) == 1
    assert moves_needed(0.01) == 20 and moves_needed(0.0) == 20  # capped
    one = fit_facts(tmp_path / "one", TOY, population=40, seed=5, generations=12)
    auto = fit_facts(tmp_path / "auto", TOY, population=40, seed=5, generations=12, moves="auto")
    assert auto.reproduces and auto.simulations > 2 * one.simulations
    # each generation's first step's acceptance sets how many steps it takes (five at least at
    # the threshold 0, the last generation); with one move a generation, one step each
    i = 0
    for t, eps in enumerate(auto.epsilons):
        i += max(5 if eps == 0 else 1, moves_needed(auto.acceptance[i]))
        assert (t == len(auto.epsilons) - 1) == (i == len(auto.acceptance))
    assert auto.simulations == 40 * (1 + len(auto.acceptance))
    assert len(one.acceptance) == len(one.epsilons) - 1 + 5
    # the reports say how far the steps moved the copies: one step, or the steps taken
    auto_text = write_fit(auto, tmp_path / "auto").read_text()
    assert f"{len(auto.acceptance)} Metropolis steps (`--moves auto`" in auto_text
    assert "one Metropolis step" not in auto_text
    assert "one Metropolis step moves each copy" in write_fit(one, tmp_path / "one").read_text()
    assert json.loads((tmp_path / "auto" / "fit.json").read_text())["moves"] == "auto"
    # moves=1 is the sampler as it was: the first test's worlds, to the digit
    assert one.posterior.equals(
        fit_facts(tmp_path / "again", TOY, population=40, seed=5, generations=12, moves=1).posterior
    )
    # a folder made before --moves existed was made with one step: it resumes as such
    spec = tmp_path / "one" / "fit_spec.json"
    plan_fit(tmp_path / "one", population=40)
    old = json.loads(spec.read_text())
    del old["moves"]
    spec.write_text(json.dumps(old))
    assert plan_fit(tmp_path / "one", population=40).moves == 1
    with pytest.raises(FitError, match="moves"):
        plan_fit(tmp_path / "one", population=40, moves="auto")
    with pytest.raises(FitError, match="at least 1"):
        plan_fit(tmp_path / "other", moves=0)
