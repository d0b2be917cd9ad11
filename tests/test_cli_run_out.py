"""``cxsim run --out``: what it may write over, what ``OUT/scenario.toml`` says, when ``--plot``
and ``--set`` are refused, and how the table writes a value that rounds to zero."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import sim.model
from sim.cli import main
from sim.scenario import load_scenario

QUICK = ["--customers", "200", "--steps", "3", "--quiet"]


def _run(*args: str) -> list[str]:
    return ["run", "overpromise_vs_honest", *QUICK, *args]


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("cxsim: error: ") and "\n" not in err and "Traceback" not in err
    return err


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_folder_of_the_users_own_files_is_refused_even_with_force(
    tmp_path, capsys, force
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("important")
    assert main(_run("--out", str(mine), *force)) == 2
    err = _error(capsys)
    assert f"{mine}: holds files but no manifest.json" in err
    assert "expected an empty folder or the --out of an earlier 'cxsim run'" in err
    assert "results" not in err  # notes are not called results
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "important"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"], "no temporary folders"


@pytest.mark.parametrize("out", [".", "..", "ABOVE"])
def test_the_current_folder_or_one_above_it_is_refused(tmp_path, capsys, monkeypatch, out) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "keep.txt").write_text("mine")
    monkeypatch.chdir(project)
    out = str(tmp_path) if out == "ABOVE" else out
    assert main(_run("--out", out, "--force")) == 2
    err = _error(capsys)
    assert f"cxsim: error: {out}: is " in err and "current" in err
    assert "expected a folder of its own for the run" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
    assert [p.name for p in project.iterdir()] == ["keep.txt"]


def test_force_replaces_only_an_earlier_runs_own_files(tmp_path, capsys) -> None:
    out = tmp_path / "r1"
    assert main(_run("--out", str(out), "--seed", "1", "--plot")) == 0
    capsys.readouterr()

    assert main(_run("--out", str(out), "--seed", "2")) == 2
    assert "holds the results of an earlier 'cxsim run'; use --force" in _error(capsys)

    for extra in (out / "notes.txt", out / "plots" / "notes.txt"):
        extra.write_text("mine")
        before = _digests(out)
        assert main(_run("--out", str(out), "--seed", "2", "--force")) == 2
        err = _error(capsys)
        assert "holds files that 'cxsim run' did not write" in err
        assert str(extra.relative_to(out)) in err
        assert _digests(out) == before
        extra.unlink()

    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["kind"]  # a run written before manifests said what wrote them
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(_run("--out", str(out), "--seed", "2", "--force")) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 2 and manifest["kind"] == "cxsim run"
    assert not (out / "plots").exists()  # the earlier run's charts went with it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r1"], "no temporary folders"


def test_the_folder_of_a_sweep_is_not_a_runs(tmp_path, capsys) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "manifest.json").write_text(json.dumps({"sweep_hash": "ab", "sessions": []}))
    before = _digests(sweep)
    assert main(_run("--out", str(sweep), "--force")) == 2
    assert "manifest.json is not that of a 'cxsim run'" in _error(capsys)
    assert _digests(sweep) == before


def test_a_bad_set_with_force_leaves_the_earlier_results_intact(tmp_path, capsys) -> None:
    out = tmp_path / "r1"
    assert main(_run("--out", str(out))) == 0
    before = _digests(out)
    assert main(_run("--out", str(out), "--force", "--set", "firms[x].price=1")) == 2
    assert "--set firms[x].price=1" in _error(capsys)
    assert _digests(out) == before


def test_saved_scenario_says_the_seed_and_steps_of_the_run(tmp_path) -> None:
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    args = ["--seed", "5", "--steps", "30", "--customers", "300", "--quiet"]
    assert main(["run", "overpromise_vs_honest", *args, "--out", str(d1)]) == 0
    saved = load_scenario(d1 / "scenario.toml")
    assert (saved.seed, saved.steps) == (5, 30)
    # the claims read at year 1 and later do not fit 30 steps: left out, so the file loads
    assert [c.name for c in saved.claims] == ["honest_wins"]
    assert main(["run", str(d1 / "scenario.toml"), "--quiet", "--out", str(d2)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(d1 / "firms.parquet"), pd.read_parquet(d2 / "firms.parquet")
    )


def test_plot_without_out_is_refused_before_the_run(capsys, monkeypatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the market was built or run before --plot was checked")

    monkeypatch.setattr(sim.model.CustomerMarket, "__init__", never)
    assert main(_run("--plot")) == 2
    assert _error(capsys) == "cxsim: error: --plot needs --out DIR to write the charts into"
    assert capsys.readouterr().out == ""


def test_a_value_that_rounds_to_zero_has_no_sign(capsys, monkeypatch) -> None:
    summary = sim.model.CustomerMarket.summary

    def nudged(self: sim.model.CustomerMarket) -> pd.DataFrame:
        df = summary(self)
        df["nps"] = [-0.3, 4.6][: len(df)]
        df["expectation_gap"] = [-0.0004, 0.0123][: len(df)]
        df["profit"] = [-0.3, -1234.6][: len(df)]
        return df

    monkeypatch.setattr(sim.model.CustomerMarket, "summary", nudged)
    assert main(_run()) == 0
    rows = {
        cells[0]: cells
        for cells in (
            [c.strip() for c in line.strip().strip("│").split("│")]
            for line in capsys.readouterr().out.splitlines()
            if line.startswith("│")
        )
    }
    assert rows["Straight Talk"][6] == "0" and rows["Straight Talk"][9] == "0.000"
    assert rows["Big Promises"][6] == "+5" and rows["Big Promises"][9] == "+0.012"
    assert rows["Straight Talk"][10] == "0" and rows["Big Promises"][10] == "-1,235"


def test_an_empty_out_is_refused_before_the_run(capsys, monkeypatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the market was built before --out was checked")

    monkeypatch.setattr(sim.model.CustomerMarket, "__init__", never)
    assert main(_run("--out", "")) == 2
    assert _error(capsys) == "cxsim: error: --out '': expected a folder name, e.g. --out runs/first"
