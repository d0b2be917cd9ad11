"""``cxsim analyze`` says which replicates each number is over (a firm that exited counts as 0 in
its share and profit, and is left out of its retention and trust), refuses a step that was not
kept or an --out that is a file without touching what it wrote before, and writes a column's
zero-width intervals to the column's places."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.sweep as sw
from sim.cli import main
from sim.precision import fixed, interval_places
from sim.sweep.analysis import ALL_REPLICATES, IN_BUSINESS, parse_outcomes, point_summary

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")

EXITS = f"""name = "exits"
scenario = "{FIXTURE}"
seed = 3
replicates = 4
steps = 20

[set]
"economics.exit_after_weeks" = 2
"firms.Probe.levers.inflation" = 0.4

[[parameters]]
key = "firms.Probe.cash"
name = "probe_cash"
values = [1.0, 3.0]

[output]
every = 5

[analysis]
outcomes = ["firms.share", "firms.trust", "firms.profit"]
"""
"""Probe starts with little cash and exits in some replicates, not in others."""


@pytest.fixture(scope="module")
def exits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exits")
    spec = root / "exits.toml"
    spec.write_text(EXITS)
    out = root / "res"
    assert main(["sweep", str(spec), "--out", str(out), "--serial", "--quiet"]) == 0
    return out


def _final_probe(out: Path):
    firms = sw.open(out).df("firms")
    last = firms[(firms["step"] == firms["step"].max()) & (firms["name"] == "Probe")]
    return last


def test_each_outcome_is_over_the_replicates_it_says(exits: Path) -> None:
    res = sw.open(exits)
    last = _final_probe(exits)
    assert last["active"].dtype == bool  # kept by every sweep: whether the firm is in business
    s = point_summary(res, parse_outcomes(res, ["firms.share", "firms.trust"]))
    s = s[s["firm"] == "Probe"]
    mixed = 0
    for point, runs in last.groupby("point"):
        alive = runs[runs["active"]]
        share = s[(s["outcome"] == "firms.share") & (s["point"] == point)].iloc[0]
        trust = s[(s["outcome"] == "firms.trust") & (s["point"] == point)].iloc[0]
        assert share["replicates"] == trust["replicates"] == 4
        assert share["in_business"] == trust["in_business"] == len(alive)
        # share: every replicate, an exited Probe counting as 0
        assert share["over"] == ALL_REPLICATES and share["n"] == 4
        assert share["mean"] == pytest.approx(runs["share"].mean())
        # trust: only the replicates in which Probe is still in business
        assert trust["over"] == IN_BUSINESS and trust["n"] == len(alive)
        if len(alive):
            assert trust["mean"] == pytest.approx(alive["trust"].mean())
        mixed += 0 < len(alive) < 4
    assert mixed, "expected a point where Probe exits in some replicates only"

    surv = point_summary(res, parse_outcomes(res, ["firms.share"]), survivors=True)
    surv = surv[surv["firm"] == "Probe"]
    for point, runs in last.groupby("point"):
        row = surv[surv["point"] == point].iloc[0]
        alive = runs[runs["active"]]
        assert row["over"] == IN_BUSINESS and row["n"] == len(alive)
        if len(alive):
            assert row["mean"] == pytest.approx(alive["share"].mean())
        else:
            assert np.isnan(row["mean"])


def test_the_table_and_csv_say_the_population(exits: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "a"
    assert main(["analyze", str(exits), "--no-charts", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    last = _final_probe(exits)
    for _, runs in last.groupby("point"):
        assert f"{int(runs['active'].sum())} of 4" in text
    assert "in business" in text and "at the final step" in text
    caption = " ".join(text.split())
    assert "share, profit: over all replicates (a firm out of business counts as 0)" in caption
    assert "trust: over the replicates in which the firm is in business" in caption
    head = (out / "summary.csv").read_text().splitlines()[0].split(",")
    assert {"replicates", "in_business", "over"} <= set(head)
    # Probe's share where it closed in some replicates (and its trust over the two in which it
    # is left): the t-interval passes 0, so the cell gives the interval's ends, and the caption
    # says what they are
    summary = pd.read_csv(out / "summary.csv")
    cut = summary[summary["ci_low"] > summary["mean"] - summary["half_width"]]
    assert "firms.share" in set(cut["outcome"])
    for _, row in cut.iterrows():
        places = interval_places(row["half_width"])
        ends = f"[{fixed(row['ci_low'], places)}, {fixed(row['ci_high'], places)}]"
        assert f"{fixed(row['mean'], places)} {ends}" in caption
    assert "mean [low, high]: the interval's ends, where mean ± half-width would pass" in caption

    assert main(["analyze", str(exits), "--no-charts", "--out", str(out), "--survivors"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--survivors: every firm outcome is over the replicates in which the firm is in" in text


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_step_not_kept_is_refused_and_the_earlier_analysis_kept(exits: Path, capsys) -> None:
    assert main(["analyze", str(exits), "--no-charts"]) == 0
    before = _digest(exits / "analysis")
    capsys.readouterr()
    for at in ("7", "9999"):
        code = main(["analyze", str(exits), "--at", at])
        captured = capsys.readouterr()
        assert code == 2 and captured.out == ""
        assert captured.err == (
            f"cxsim: error: {exits}: --at {at}: step {at} was not kept; expected final or one "
            "of 5, 10, 15, 20\n"
        )
        assert _digest(exits / "analysis") == before
    code = main(["analyze", str(exits), "--at", "10", "--no-charts", "--out", str(exits / "a10")])
    assert code == 0
    assert "at step 10 " in capsys.readouterr().out


def test_an_out_that_is_a_file_is_one_line(exits: Path, tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    for out in (afile, afile / "sub"):
        code = main(["analyze", str(exits), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(f"cxsim: error: {out}: ")
        assert err.endswith("expected a folder for the analysis' tables and charts\n")
    assert afile.read_text() == "mine\n"


def test_nothing_to_summarise_writes_nothing(tmp_path: Path, capsys) -> None:
    f = tmp_path / "fails.toml"
    f.write_text(
        f'name = "fails"\nscenario = "{FIXTURE}"\nsteps = 10\n[design]\nkind = "list"\n'
        '[[design.points]]\nlabel = "boom"\nset = { "firms.Probe.levers.fail" = true }\n'
    )
    out = tmp_path / "o"
    assert main(["sweep", str(f), "--out", str(out), "--serial", "--quiet"]) == 1
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"cxsim: error: {out}: no finished run to summarise; expected at least one run that "
        "finished (nothing written)\n"
    )
    assert not (out / "analysis").exists()


def test_a_zero_width_interval_is_written_to_its_columns_places() -> None:
    from sim.sweep.cli import column_places, mean_and_half_width

    places = column_places([0.039, 0.0, float("nan"), 0.41])
    assert places == 3
    assert mean_and_half_width(1.0, 0.0, places) == "1.000 ± 0.000"
    assert mean_and_half_width(0.501, 0.039, places) == "0.501 ± 0.039"
    assert mean_and_half_width(0.0, 0.0, column_places([1655.0])) == "0 ± 0"
    assert column_places([0.0, float("nan")]) is None
    assert mean_and_half_width(1.0, 0.0, None) == "1 ± 0"


def test_sensitivity_help_names_a_sensitivity_design(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sensitivity", "--help"])
    text = capsys.readouterr().out
    assert "experiments/sobol_core.toml" in text
    assert "overpromise_inflation" not in text


def test_an_interval_cut_at_the_metrics_bound_is_written_as_its_ends() -> None:
    from sim.sweep.cli import mean_and_half_width

    # a share over three replicates, the firm closed in one: 0.17 ± 0.37 would reach -0.20
    assert mean_and_half_width(0.17, 0.37, 2, (0.0, 0.54)) == "0.17 [0.00, 0.54]"
    assert mean_and_half_width(0.9, 0.3, 2, (0.6, 1.0)) == "0.90 [0.60, 1.00]"
    # an interval within the bounds keeps its ±
    assert mean_and_half_width(0.501, 0.039, 3, (0.462, 0.540)) == "0.501 ± 0.039"
