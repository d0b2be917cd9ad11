"""Analysis of sweeps: confidence intervals, Sobol' and Morris indices on known functions, the
per-point summary and the charts of a real (tiny) sweep."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

import sim.sweep as sw
from sim.sweep.analysis import add_ci, mean_ci, parse_outcomes, point_summary, timeseries
from sim.sweep.design import build_design
from sim.sweep.report import analyze
from sim.sweep.sensitivity import (
    SensitivityError,
    morris_indices,
    sobol_indices,
    sobol_precision_notes,
    sweep_indices,
)
from sim.sweep.spec import load_spec

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")


# -- confidence intervals ---------------------------------------------------------------------


def test_mean_ci_known_answer_and_nan_as_missing():
    con = duckdb.connect()
    rel = con.sql(
        "SELECT * FROM (VALUES (1, 1.0), (1, 2.0), (1, 3.0), (1, 4.0), (1, 5.0), "
        "(2, 10.0), (2, 'nan'::DOUBLE), (2, 14.0), (3, 7.0)) t(g, x)"
    )
    df = mean_ci(rel, ["g"], "x")
    one = df.iloc[0]
    assert (one["n"], one["mean"]) == (5, 3.0)
    assert one["sd"] == pytest.approx(np.sqrt(2.5))
    # t(0.975, 4) = 2.7764451; half width = t * sd / sqrt(n)
    assert one["half_width"] == pytest.approx(2.7764451 * np.sqrt(2.5) / np.sqrt(5), rel=1e-6)
    assert (one["ci_low"], one["ci_high"]) == pytest.approx((3 - 1.963243, 3 + 1.963243), rel=1e-5)
    two = df.iloc[1]
    assert (two["n"], two["mean"]) == (2, 12.0)  # the NaN is missing, not a value
    assert two["half_width"] == pytest.approx(12.706205 * np.sqrt(8) / np.sqrt(2), rel=1e-6)
    assert np.isnan(df.iloc[2]["half_width"])  # one value: no interval


def test_add_ci_level():
    df = add_ci(pd.DataFrame({"n": [10], "mean": [0.0], "sd": [1.0]}), level=0.9)
    assert df["half_width"].iloc[0] == pytest.approx(1.8331129 / np.sqrt(10), rel=1e-6)


def test_an_interval_is_kept_within_what_the_metric_can_take():
    """Two shares of 0.02 and 0.08: the t-interval is 0.05 +- 0.38, drawn as 0 to 0.43."""
    df = add_ci(pd.DataFrame({"n": [2], "mean": [0.05], "sd": [np.std([0.02, 0.08], ddof=1)]}))
    half = df["half_width"].iloc[0]
    assert half == pytest.approx(12.706205 * 0.0424264 / np.sqrt(2), rel=1e-5)
    assert df["ci_low"].iloc[0] == pytest.approx(0.05 - half) and 0.05 - half < 0
    kept = add_ci(df[["n", "mean", "sd"]], within=(0.0, 1.0))
    assert kept["ci_low"].iloc[0] == 0.0 and kept["ci_high"].iloc[0] == pytest.approx(0.05 + half)
    assert kept["half_width"].iloc[0] == half  # the statistic itself is not changed


# -- sensitivity on known functions -----------------------------------------------------------


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(samples: int) -> pd.DataFrame:
    spec = load_spec(
        {
            "name": "ishigami",
            "scenario": "x",
            "design": {"kind": "sobol", "samples": samples},
            "parameters": [{"key": f"x{i}", "low": -np.pi, "high": np.pi} for i in (1, 2, 3)],
        }
    )
    d = build_design(spec)
    idx = sobol_indices(d.problem, ishigami(d.matrix))
    idx.insert(0, "outcome", "y")
    idx.insert(1, "title", "Ishigami")
    idx.insert(2, "method", "sobol")
    return idx


def test_imprecise_sobol_indices_get_a_note_whose_advice_is_enough():
    # 32 samples: half-widths near 0.46; the note names the samples that bring them to 0.1
    notes = sobol_precision_notes(ishigami_indices(32), 32, runs_per_sample=5)
    assert len(notes) == 1
    assert "Ishigami: the Sobol' indices are imprecise" in notes[0]
    assert "design.samples = 1,024 instead of 32 (5,120 runs)" in notes[0]
    # following it: no note (half-widths 0.09); the same table as Morris rows: none either
    assert sobol_precision_notes(ishigami_indices(1024), 1024, runs_per_sample=5) == []
    morris = ishigami_indices(32).assign(method="morris")
    assert sobol_precision_notes(morris, 32, runs_per_sample=5) == []


def test_sobol_reproduces_the_ishigami_indices():
    spec = load_spec(
        {
            "name": "ishigami",
            "scenario": "x",
            "design": {"kind": "sobol", "samples": 1024},
            "parameters": [{"key": f"x{i}", "low": -np.pi, "high": np.pi} for i in (1, 2, 3)],
        }
    )
    d = build_design(spec)
    idx = sobol_indices(d.problem, ishigami(d.matrix)).set_index("parameter")
    # analytic values (Ishigami & Homma 1990; a = 7, b = 0.1)
    s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for name in s1:
        assert idx.loc[name, "S1"] == pytest.approx(s1[name], abs=0.05)
        assert idx.loc[name, "ST"] == pytest.approx(st[name], abs=0.05)
        assert 0 < idx.loc[name, "ST_conf"] < 0.15
    assert list(idx.index) == ["x1", "x2", "x3"]  # sorted by ST


def test_morris_recovers_linear_effects():
    spec = load_spec(
        {
            "name": "linear",
            "scenario": "x",
            "design": {"kind": "morris", "samples": 20, "levels": 4},
            "parameters": [
                {"key": "a", "low": 0, "high": 2},
                {"key": "b", "low": -1, "high": 1},
                {"key": "c", "low": 0, "high": 1},
            ],
        }
    )
    d = build_design(spec)
    y = 3 * d.matrix[:, 0] - 5 * d.matrix[:, 1]
    idx = morris_indices(d.problem, d.matrix, y, levels=4).set_index("parameter")
    # elementary effects over the unit range: coefficient x (high - low)
    assert idx.loc["a", "mu_star"] == pytest.approx(6.0)
    assert idx.loc["b", "mu"] == pytest.approx(-10.0)
    assert idx.loc["c", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert idx["sigma"].max() == pytest.approx(0.0, abs=1e-9)


# -- on a real sweep --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    spec = {
        "name": "grid",
        "scenario": FIXTURE,
        "seed": 3,
        "replicates": 3,
        "steps": 20,
        "parameters": [
            {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.0, 0.3]},
            {
                "key": "expectations.weight_promise",
                "name": "weight_promise",
                "values": [0.1, 0.3, 0.5],
            },
        ],
        "output": {"every": 5},
        "analysis": {"outcomes": ["retention_annual", "firms.share", "firms.Probe.trust"]},
    }
    return sw.run(spec, out, executor="serial")


def test_summary_has_one_row_per_point_with_replicate_statistics(grid):
    outcomes = parse_outcomes(grid, ["retention_annual", "firms.share", "firms.Probe.trust"])
    s = point_summary(grid, outcomes)
    market = s[s["outcome"] == "retention_annual"]
    assert len(market) == 6 and list(market["point"]) == list(range(6))
    assert set(market["n"]) == {3}
    assert len(s[s["outcome"] == "firms.share"]) == 12  # 6 points x 2 firms
    assert set(s.loc[s["outcome"] == "firms.Probe.trust", "firm"]) == {"Probe"}
    # check one point against pandas on the raw rows
    firms = grid.df("firms")
    raw = firms[
        (firms["step"] == 20)
        & (firms["name"] == "Probe")
        & (firms["inflation"] == 0.3)
        & (firms["weight_promise"] == 0.5)
    ]["trust"]
    row = s[
        (s["outcome"] == "firms.Probe.trust")
        & (s["inflation"] == 0.3)
        & (s["weight_promise"] == 0.5)
    ].iloc[0]
    assert row["mean"] == pytest.approx(raw.mean())
    assert row["sd"] == pytest.approx(raw.std(ddof=1))
    shares = s[(s["outcome"] == "firms.share")].groupby("point")["mean"].sum()
    assert np.allclose(shares, 1.0)  # shares within the industry add up
    # every interval within what its metric can take (shares, retention and trust in 0..1)
    assert (s["ci_low"] >= 0).all() and (s["ci_high"] <= 1).all()
    assert ((s["mean"] - s["half_width"] < 0) | (s["mean"] + s["half_width"] > 1)).any()


def test_summary_at_an_earlier_step_and_timeseries(grid):
    o = parse_outcomes(grid, ["retention_annual"])
    at10 = point_summary(grid, o, at=10)
    final = point_summary(grid, o)
    assert not np.allclose(at10["mean"], final["mean"])
    ts = timeseries(grid, o[0])
    assert sorted(ts["step"].unique()) == [5, 10, 15, 20]
    assert len(ts) == 6 * 4


def test_analyze_writes_tables_and_readable_charts(grid, tmp_path):
    report = analyze(grid, out_dir=tmp_path)
    names = sorted(f.name for f in report.files)
    assert "summary.csv" in names
    for stem in ("retention_annual", "firms_share", "firms_probe_trust"):
        assert f"{stem}_by_inflation.png" in names
        assert f"{stem}_inflation_weight_promise.png" in names
        assert f"{stem}_over_time.png" in names
    for f in report.files:
        if f.suffix == ".png":
            img = imread(f)
            assert img.shape[0] > 200 and img.shape[1] > 300
            assert img[..., :3].std() > 0.05, f"{f.name} looks empty"
    assert report.indices is None
    with pytest.raises(ValueError, match="expected a parameter of the sweep"):
        analyze(grid, x="nope", out_dir=tmp_path)


def test_indices_need_a_sensitivity_design(grid):
    with pytest.raises(SensitivityError, match="need a sobol or morris design"):
        sweep_indices(grid, parse_outcomes(grid, ["nps"]))


def test_morris_sweep_end_to_end(tmp_path):
    spec = {
        "name": "m",
        "scenario": FIXTURE,
        "seed": 2,
        "steps": 15,
        "design": {"kind": "morris", "samples": 3, "levels": 4},
        "parameters": [
            {"key": "firms.Probe.levers.inflation", "low": 0.0, "high": 0.6},
            {"key": "expectations.weight_promise", "low": 0.05, "high": 0.5},
            {"key": "trust.loss", "low": 0.5, "high": 4.0},
        ],
        "output": {"every": "final"},
        "analysis": {"outcomes": ["firms.Probe.trust", "firms.share"]},
    }
    res = sw.run(spec, tmp_path / "m", executor="serial")
    assert len(res.design()) == 3 * 4
    assert len(res.runs()) == res.manifest["design"]["points"] <= 12
    report = analyze(res, out_dir=tmp_path / "a")
    idx = report.indices
    assert list(idx["outcome"].unique()) == ["firms.Probe.trust"]
    assert set(idx["parameter"]) == {
        "firms.Probe.levers.inflation",
        "expectations.weight_promise",
        "trust.loss",
    }
    assert np.isfinite(idx["mu_star"]).all()
    assert any("per-firm" in n for n in report.notes)
    assert (tmp_path / "a" / "firms_probe_trust_indices.png").exists()
    assert (tmp_path / "a" / "indices.csv").exists()
