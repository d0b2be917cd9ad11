"""Robustness studies end to end on a tiny market: worlds, runs, resume, odds, PRIM, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.robustness.ranges import RobustnessError, load_config
from sim.robustness.report import analyze, write_report
from sim.robustness.study import plan_study, run_study
from sim.robustness.worlds import sample_worlds

HERE = Path(__file__).parent / "fixtures" / "robustness"
TINY = str(HERE / "tiny.toml")
RANGES = str(HERE / "ranges.toml")
INFLATION = "firms.Probe.levers.inflation"


@pytest.fixture(scope="module")
def study_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("study")
    study = plan_study(TINY, RANGES)
    results = run_study(study, out, executor="serial")
    return study, results, out


def test_worlds_vary_the_schema_and_file_ranges_and_hold_the_rest() -> None:
    study = plan_study(TINY, RANGES)
    assert study.keys == ["expectations.weight_benchmark", INFLATION, "trust.loss"]
    w = study.worlds
    assert len(w) == 48
    assert w[INFLATION].between(0, 0.8).all() and w["trust.loss"].between(0.2, 1.0).all()
    # a Latin hypercube: one world in each of the 48 slices of every range
    slices = np.floor((w["trust.loss"] - 0.2) / 0.8 * 48).astype(int)
    assert sorted(slices) == list(range(48))
    again = plan_study(TINY, RANGES)
    pd.testing.assert_frame_equal(w, again.worlds)  # the same file gives the same worlds


def test_schema_ranges_are_varied_unless_held(tmp_path: Path) -> None:
    from sim.params import plausible_ranges

    schema = list(plausible_ranges())
    path = tmp_path / "r.toml"
    path.write_text(f'worlds = 8\nhold = ["{schema[0]}"]\n[ranges]\n"trust.loss" = [0.2, 1.0]\n')
    study = plan_study(TINY, load_config(path))
    assert set(study.keys) == {*schema[1:], "trust.loss"} and schema[0] not in study.keys
    assert study.ranges[schema[1]].origin == "schema"
    assert study.ranges["trust.loss"].origin == str(path)


def test_a_scenario_holds_its_own_set_up_unless_a_file_ranges_it(tmp_path: Path) -> None:
    from sim.scenario import load_scenario

    young = load_scenario(TINY, {"held": ["acquisition.p"]})
    schema = tmp_path / "schema.toml"
    schema.write_text("worlds = 8\n")
    study = plan_study(young, load_config(schema))
    assert "acquisition.p" not in study.keys and study.held == ("acquisition.p",)
    assert (study.worlds.columns != "acquisition.p").all()
    assert study.to_dict()["held"] == ["acquisition.p"]
    # without `held` the same study draws p; a file's own range for p draws it again
    assert "acquisition.p" in plan_study(TINY, load_config(schema)).keys
    drawn = tmp_path / "drawn.toml"
    drawn.write_text('worlds = 8\n[ranges]\n"acquisition.p" = [0.01, 0.06]\n')
    again = plan_study(young, load_config(drawn))
    assert "acquisition.p" in again.keys and again.held == ()
    assert again.worlds["acquisition.p"].between(0.01, 0.06).all()


def test_the_shipped_young_markets_hold_p() -> None:
    """The over-promising family's p = 0.15 is its set-up (docs/robustness.md)."""
    shipped = Path(__file__).parents[1] / "experiments" / "robustness" / "ranges.toml"
    for name in ("overpromise_vs_honest", "proactive_disclosure", "growth_vs_support"):
        study = plan_study(name, shipped)
        assert study.held == ("acquisition.p",) and "acquisition.p" not in study.keys
        assert study.scenario.acquisition.p == pytest.approx(0.15)
    assert "acquisition.p" in plan_study("baseline", shipped).keys


def test_a_held_key_without_a_range_is_refused_naming_it() -> None:
    from sim.scenario import ScenarioError, load_scenario

    with pytest.raises(ScenarioError) as e:
        load_scenario(TINY, {"held": ["acquisition.p", "market.customers"]})
    assert "held" in str(e.value) and "'market.customers' has no plausible range" in str(e.value)


def test_a_claim_true_by_construction_holds_in_every_world(study_run) -> None:
    study, results, _ = study_run
    analysis = analyze(study, results)
    v = {x.claim.name: x for x in analysis.verdicts}["shares_add_up"]
    assert v.odds.worlds == 48 and v.odds.share == 1.0 and v.odds.low > 0.92
    assert v.boxes == []


def test_prim_finds_the_lever_that_decides_a_claim_through_the_model(study_run) -> None:
    study, results, _ = study_run
    analysis = analyze(study, results)
    v = {x.claim.name: x for x in analysis.verdicts}["probe_promises_more"]
    # Probe's promise is 0.65 (1 + inflation) against 0.65: the claim fails below ~0.15
    expected = (analysis.worlds[INFLATION] > 0.154).mean()
    assert v.odds.share == pytest.approx(expected, abs=0.05)
    assert v.looks_for == "fails"
    (only,) = v.boxes[0].restrictions
    assert only.key == INFLATION and only.low is None
    assert only.high == pytest.approx(0.15, abs=0.03)
    assert v.boxes[0].density == 1.0 and v.boxes[0].coverage == 1.0
    assert v.deciders[0] == INFLATION


def test_a_rerun_resumes_and_new_claims_reuse_the_runs(study_run, tmp_path: Path) -> None:
    _study, _results, out = study_run
    again = run_study(plan_study(TINY, RANGES), out, executor="serial")
    assert again.report.skipped == again.report.total == 48 and again.report.ran == 0
    other = plan_study(TINY, RANGES, claims=["firms.Steady.share > firms.Probe.share"])
    reused = run_study(other, out, executor="serial")
    assert reused.report.ran == 0
    assert len(analyze(other, reused).verdicts) == 1


def test_batched_worlds_give_the_odds_of_worlds_run_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.sweep.runner as runner

    sizes: list[int] = []
    run_batch = runner.run_batch

    def counted(batch):
        sizes.append(len(getattr(batch, "tasks", [batch])))
        return run_batch(batch)

    monkeypatch.setattr(runner, "run_batch", counted)
    study = plan_study(TINY, RANGES, worlds=16)
    batched = analyze(study, run_study(study, tmp_path / "b", executor="serial"))
    assert max(sizes) > 1  # the worlds' markets were stepped together, several to a batch
    alone = analyze(study, run_study(study, tmp_path / "a", executor="serial", batch=False))
    pd.testing.assert_frame_equal(batched.margins, alone.margins)
    for b, a in zip(batched.verdicts, alone.verdicts, strict=True):
        assert (b.odds.holds, b.odds.worlds) == (a.odds.holds, a.odds.worlds)


def test_the_report_files_say_the_verdicts(study_run) -> None:
    study, results, out = study_run
    md = write_report(analyze(study, results), out)
    text = md.read_text()
    assert "## probe_promises_more" in text and "It fails only when" in text
    data = json.loads((out / "report.json").read_text())
    assert [c["name"] for c in data["claims"]] == ["shares_add_up", "probe_promises_more"]
    assert (out / "figures" / "probe_promises_more_map.png").stat().st_size > 10_000
    table = pd.read_parquet(out / "worlds.parquet")
    assert {"margin:shares_add_up", INFLATION} <= set(table.columns) and len(table) == 48
    assert json.loads((out / "study.json").read_text())["worlds"] == 48


def test_a_posterior_gives_the_worlds(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    post = pd.DataFrame(
        {"trust.loss": rng.uniform(0.3, 0.4, 100), "distance": rng.uniform(size=100)}
    )
    path = tmp_path / "posterior.parquet"
    post.to_parquet(path)
    study = plan_study(TINY, RANGES, posterior=path, worlds=32)
    w = study.worlds
    assert len(w) == 32 and w["trust.loss"].between(0.3, 0.4).all()
    assert set(w["trust.loss"].round(6)) <= set(post["trust.loss"].round(6))
    assert "distance" not in w  # columns without a dot are not parameters
    assert study.ranges["trust.loss"].origin == "posterior"
    assert w[INFLATION].between(0, 0.8).all()  # the rest from their ranges


def _skewed_posterior(path: Path, weight: str = "skewed") -> pd.DataFrame:
    """100 samples of trust.loss in 0.3-0.4: below 0.33 weight 0, above 0.37 weight 9, else 1
    (``skewed``); all 1.0 (``equal``); no weight column (``none``)."""
    loss = np.linspace(0.3, 0.4, 100)
    post = pd.DataFrame({"trust.loss": loss, "distance": np.linspace(0, 1, 100)})
    if weight == "skewed":
        post["weight"] = np.where(loss < 0.33, 0.0, np.where(loss > 0.37, 9.0, 1.0))
    elif weight == "equal":
        post["weight"] = 1.0
    post.to_parquet(path)
    return post


def test_a_weighted_posterior_is_drawn_by_its_weights(tmp_path: Path) -> None:
    """cxsim calibrate's posterior.parquet carries importance weights: the worlds follow them
    (systematic resampling, seeded), not the rows uniformly."""
    path = tmp_path / "posterior.parquet"
    post = _skewed_posterior(path)
    study = plan_study(TINY, RANGES, posterior=path, worlds=32)
    loss = study.worlds["trust.loss"]
    assert len(study.worlds) == 32
    assert (loss >= 0.33).all()  # a sample of weight 0 is never a world
    w = post["weight"] / post["weight"].sum()
    heavy = float(w[post["trust.loss"] > 0.37].sum())  # 0.88 of the weight, 0.29 of the rows
    assert abs((loss > 0.37).mean() - heavy) <= 1 / 32  # systematic: within one draw
    r = study.resampling
    assert (r.samples, r.drawn) == (100, 32) and r.distinct == len(set(loss))
    assert r.ess == pytest.approx(1 / float((w**2).sum()))
    assert study.to_dict()["resampled"]["effective_sample_size"] == round(r.ess, 1)
    # each copy of a heavy sample is its own world: the other parameters are drawn for each
    assert study.worlds.drop(columns="trust.loss").drop_duplicates().shape[0] == 32
    again = plan_study(TINY, RANGES, posterior=path, worlds=32)
    pd.testing.assert_frame_equal(study.worlds, again.worlds)  # the seed decides the draw
    other = plan_study(TINY, load_config(RANGES), posterior=path, worlds=32)
    assert other.worlds.equals(study.worlds)
    _skewed_posterior(path, "none")  # the same samples equally weighted: no resampling
    plain = plan_study(TINY, RANGES, posterior=path, worlds=32)
    assert plain.resampling is None and "resampled" not in plain.to_dict()


def test_an_equally_weighted_posterior_keeps_its_seeded_subset(tmp_path: Path) -> None:
    """No weight column (cxsim facts), or equal weights: the worlds are the seeded subset of
    rows they always were, so stored studies and documented figures do not move."""
    from sim.robustness.worlds import read_posterior

    none, equal = tmp_path / "none.parquet", tmp_path / "equal.parquet"
    _skewed_posterior(none, "none")
    _skewed_posterior(equal, "equal")
    study = plan_study(TINY, RANGES, posterior=none, worlds=32)
    pd.testing.assert_frame_equal(
        plan_study(TINY, RANGES, posterior=equal, worlds=32).worlds, study.worlds
    )
    # equal weights normalised, differing in their last bits, are equal weights too
    noisy = pd.read_parquet(equal).assign(weight=(1.0 + np.arange(100) * 1e-15) / 100)
    noisy.to_parquet(equal)
    pd.testing.assert_frame_equal(
        plan_study(TINY, RANGES, posterior=equal, worlds=32).worlds, study.worlds
    )
    # the documented subset: 32 rows chosen without replacement by the study's seed, in order
    rows = read_posterior(none)
    rng = np.random.default_rng(load_config(RANGES).seed)
    chosen = rows.iloc[np.sort(rng.choice(len(rows), size=32, replace=False))]
    assert list(study.worlds["trust.loss"]) == list(chosen["trust.loss"].round(6))


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([1.0, -0.5, 1.0], "expected finite weights of 0 or more, 1 negative or infinite"),
        ([1.0, float("nan"), 1.0], "expected a weight in every row (0 or more), 1 missing"),
        ([0.0, 0.0, 0.0], "expected at least one weight above 0, all are 0"),
        ([1.0, float("inf"), 1.0], "expected finite weights of 0 or more, 1 negative or"),
        (["a", "b", "c"], "expected importance weights (numbers), got object values"),
    ],
)
def test_bad_weights_are_refused_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture, weights: list, expected: str
) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame({"trust.loss": [0.3, 0.35, 0.4], "weight": weights}).to_parquet(path)
    with pytest.raises(RobustnessError) as e:
        plan_study(TINY, RANGES, posterior=path)
    assert f"{path}: weight: {expected}" in str(e.value)
    out = tmp_path / "x"
    code = main(["robustness", TINY, "--posterior", str(path), "--out", str(out), "--serial"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"{path}: weight: " in err
    assert not (out / "runs").exists()


def _facts_fit(folder: Path, reproduces: bool) -> Path:
    """A cxsim facts folder of 4 worlds, 2 of which reproduce both facts."""
    folder.mkdir()
    loss = [0.3, 0.4, 0.5, 0.6]
    pd.DataFrame({"trust.loss": loss}).to_parquet(folder / "posterior.parquet")
    pd.DataFrame(
        {"trust.loss": loss, "weight": 0.25, "d:a": [0, 0, 0.2, 0], "d:b": [0, 0, 0, 1.5]}
    ).to_parquet(folder / "particles.parquet")
    (folder / "fit.json").write_text(json.dumps({"reproduces": reproduces, "worlds": 4}))
    return folder / "posterior.parquet"


def test_an_unfinished_facts_fit_is_not_called_worlds_that_reproduce_the_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """cxsim facts exited 1 ("reproduces": false in its fit.json): the verdicts and report.md
    say the fit did not finish and how many of its worlds reproduce every fact."""
    post = _facts_fit(tmp_path / "facts", reproduces=False)
    out = tmp_path / "study"
    args = ["robustness", TINY, "--ranges", RANGES, "--posterior", str(post), "--worlds", "8"]
    assert main([*args, "--out", str(out), "--serial", "--quiet", "--no-charts"]) == 0
    printed = capsys.readouterr().out
    said = "The fit did not finish: 50% of its 4 worlds reproduce every fact."
    report = (out / "report.md").read_text()
    sentences = [c["sentence"] for c in json.loads((out / "report.json").read_text())["claims"]]
    for text in (printed, report, *sentences):
        assert "worlds that reproduce the published facts" not in text
        assert said in text
    assert "4 worlds of an unfinished fit to the published facts x 1 replicates" in report
    assert all("of 4 worlds of an unfinished fit to the published facts" in s for s in sentences)
    # the same folder once the fit finished: its worlds reproduce the published facts
    from sim.robustness.report import worlds_are, worlds_caveat

    finished = _facts_fit(tmp_path / "done", reproduces=True)
    study = plan_study(TINY, RANGES, posterior=finished)
    assert worlds_are(study) == "worlds that reproduce the published facts"
    assert worlds_caveat(study) == ""


@pytest.mark.parametrize(
    ("ancestors", "largest", "said"),
    [
        (7, 0.671875, "from 7 of the fit's first sample (the largest lineage 67% of them): the "),
        (20, 0.11, "from 20 of the fit's first sample (the largest lineage 11% of them); another"),
    ],
)
def test_a_finished_facts_fit_says_how_few_lineages_its_worlds_come_from(
    tmp_path: Path, ancestors: int, largest: float, said: str
) -> None:
    """A one-step fit's odds are a few prior worlds' neighbourhoods (docs/robustness.md): every
    verdict over its worlds says how many lineages they come from, and warns when they are few."""
    post = _facts_fit(tmp_path / "facts", reproduces=True)
    info = json.loads((post.parent / "fit.json").read_text())
    info.update(ancestors=ancestors, largest_lineage=largest)
    (post.parent / "fit.json").write_text(json.dumps(info))
    out = tmp_path / "study"
    args = ["robustness", TINY, "--ranges", RANGES, "--posterior", str(post), "--worlds", "8"]
    assert main([*args, "--out", str(out), "--serial", "--quiet", "--no-charts"]) == 0
    sentences = [c["sentence"] for c in json.loads((out / "report.json").read_text())["claims"]]
    assert sentences and all(said in s for s in sentences)
    assert all(("very different odds" in s) == (ancestors < 10) for s in sentences)
    assert all("worlds that reproduce the published facts" in s for s in sentences)
    assert said in (out / "report.md").read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("worlds = 2", "worlds: expected a whole number from 8"),
        ("colour = 1", "colour: unknown key"),
        ('[ranges]\n"trust.loss" = [1, 0.5]', "expected low < high"),
        ('[ranges]\n"trust.loss" = { low = 0.1 }', "expected both low and high"),
        ('[ranges]\n"trust.los" = [0.1, 0.5]', "does not apply to scenario"),
        ('[ranges]\n"trust.loss" = [0.1, 50]', "trust.loss = 50.0 does not apply"),
        ('hold = ["nothing.here"]', "has no range to hold"),
        ("schema_ranges = 1", "schema_ranges: expected true or false"),
        ("worlds = [", "invalid TOML"),
    ],
)
def test_bad_robustness_files_are_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "r.toml"
    path.write_text(text + "\n")
    with pytest.raises(RobustnessError) as e:
        plan_study(TINY, load_config(path))
    assert str(path) in str(e.value) and expected in str(e.value)


def test_bad_posteriors_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame({"weight": [1.0]}).to_parquet(path)
    with pytest.raises(RobustnessError, match="no parameter columns"):
        plan_study(TINY, RANGES, posterior=path)
    pd.DataFrame({"trust.los": [1.0]}).to_parquet(path)
    with pytest.raises(RobustnessError, match=r"p\.parquet: trust\.los"):
        plan_study(TINY, RANGES, posterior=path)
    path.write_text("not parquet")
    with pytest.raises(RobustnessError, match="cannot read as Parquet"):
        plan_study(TINY, RANGES, posterior=path)


def test_integer_ranges_sample_whole_numbers() -> None:
    from sim.robustness.ranges import Range

    w = sample_worlds({"k": Range("k", 2, 5, integer=True)}, 40, 1)
    assert set(w["k"]) == {2.0, 3.0, 4.0, 5.0}


def test_cli_runs_reports_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    args = ["robustness", TINY, "--ranges", RANGES, "--worlds", "16", "--out", str(out)]
    assert main([*args, "--serial", "--quiet", "--no-charts"]) == 0
    text = capsys.readouterr().out
    assert "16 runs (0 already done)" in text and "shares_add_up" in text
    assert "holds in 100%" in text
    assert main([*args, "--serial", "--quiet", "--no-charts"]) == 0
    assert "16 runs (16 already done)" in capsys.readouterr().out
    assert (out / "report.md").exists() and not (out / "figures").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--claim", "firms.Nobody.share > 0"], "--claim: 'firms.Nobody.share > 0': expected"),
        (["--claim", "nps > 0", "--claim", "nosuch"], "--claim: [1]: 'nosuch': expected a market"),
        (["--ranges", "missing.toml"], "missing.toml: file not found"),
        (["--worlds", "4"], "--worlds: expected a whole number from 8"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], expected: str
) -> None:
    code = main(["robustness", TINY, "--out", str(tmp_path / "x"), "--serial", *extra])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "x" / "runs").exists()


def test_cli_refuses_a_scenario_without_claims(tmp_path: Path, capsys) -> None:
    # every shipped scenario states claims now: baseline's file without them
    text = (Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml").read_text()
    bare = tmp_path / "no_claims.toml"
    bare.write_text(text.split("[[claims]]")[0])
    assert main(["robustness", str(bare), "--out", str(tmp_path / "b")]) == 2
    assert "states no claims" in capsys.readouterr().err


class _StopAfter:
    """A progress display that presses Ctrl-C after ``n`` finished runs."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def start(self, total: int, done: int, failed: int, executor: str) -> None:
        pass

    def update(self, result) -> None:
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt

    def stop(self) -> None:
        pass


def test_an_interrupted_study_resumes_with_only_the_missing_runs(tmp_path: Path) -> None:
    from sim.sweep.runner import SweepInterrupted

    study = plan_study(TINY, RANGES, worlds=16)
    with pytest.raises(SweepInterrupted):
        run_study(study, tmp_path, executor="serial", progress=_StopAfter(5))
    again = run_study(plan_study(TINY, RANGES, worlds=16), tmp_path, executor="serial")
    assert again.report.skipped == 5 and again.report.ran == 11
    assert len(analyze(study, again).worlds) == 16


def test_a_background_job_can_be_cancelled_and_found_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.robustness.background import job_for, start_job

    study = plan_study(TINY, RANGES, worlds=16)
    job = start_job(study, tmp_path, executor="serial")
    assert start_job(study, tmp_path, executor="serial") is job  # one job per folder
    job.cancel()
    job.wait(120)
    assert job.state == "cancelled" and 1 <= job.done < 16
    assert job_for(tmp_path) is job
    second = start_job(study, tmp_path, executor="serial")
    second.wait(120)
    assert second.state == "complete" and second.skipped == job.done
    assert second.skipped + second.done == second.total == 16
    # the server's output says what ran in the background and how it ended
    said = capsys.readouterr().err.splitlines()
    name = f"cxsim study {tmp_path.name}: "
    assert said[0] == name + "started, 16 of 16 runs to go, on serial (1 worker)"
    assert said[1].startswith(name + f"cancelled: {job.done} runs in ")
    assert said[2] == name + f"started, {16 - job.done} of 16 runs to go, on serial (1 worker)"
    assert said[3].startswith(name + f"complete: {16 - job.done} runs in ")
    assert said[3].endswith(f"({job.done} found on disk, 0 failed)")


def test_a_background_job_that_fails_says_why_on_the_page_and_in_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.robustness.background import start_job

    (tmp_path / "runs").write_text("a file where the study's folder of runs goes")
    job = start_job(plan_study(TINY, RANGES, worlds=16), tmp_path, executor="serial")
    job.wait(120)
    assert job.state == "failed" and job.error
    err = capsys.readouterr().err
    assert "failed\nTraceback (most recent call last):" in err
    assert "failed: 0 runs in " in err


def test_the_figures_show_each_claim_whole_and_the_worlds_on_the_edges(study_run) -> None:
    """The odds chart wraps a long claim on up to three lines instead of cutting it (it used
    to end at 80 characters with "[...]"); the margin map draws the worlds at the ends of a
    range whole, not clipped by half at its edges."""
    from sim.robustness.figures import margin_map, odds_chart

    study, results, _ = study_run
    analysis = analyze(study, results)
    long = "the probe's customers, after a year of broken promises, trust it less than the "
    labels = [long + "steady firm's trust theirs", "short"]
    fig = odds_chart(analysis.verdicts, "tiny", labels)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert [t.replace("\n", " ") for t in ticks] == labels
    assert ticks[0].count("\n") == 2 and "[...]" not in ticks[0]
    v = next(v for v in analysis.verdicts if v.claim.name == "probe_promises_more")
    ax = margin_map(v, analysis.worlds, analysis.margins[v.claim.name]).axes[0]
    assert len(ax.collections) >= 2 and not any(c.get_clip_on() for c in ax.collections[1:3])
