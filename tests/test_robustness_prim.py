"""PRIM, odds and sensitivity on small analytic models whose answer is known."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from sim.robustness.claims import parse_claim
from sim.robustness.importance import margin_importance
from sim.robustness.odds import wilson
from sim.robustness.prim import Restriction, find_boxes, peel
from sim.robustness.verdicts import Verdict, judge


def _worlds(n: int, d: int, seed: int) -> pd.DataFrame:
    unit = qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(n)
    return pd.DataFrame(unit, columns=[f"x{i}" for i in range(d)])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_prim_finds_a_box_set_in_advance(seed: int) -> None:
    X = _worlds(300, 6, seed)
    interest = ((X.x0 > 0.6) & (X.x2 < 0.3)).to_numpy()
    boxes = find_boxes(X, interest)
    assert boxes, "PRIM found no box"
    box = boxes[0]
    limits = {r.key: r for r in box.restrictions}
    assert set(limits) == {"x0", "x2"}  # the four other parameters are left free
    assert limits["x0"].low == pytest.approx(0.6, abs=0.05) and limits["x0"].high is None
    assert limits["x2"].high == pytest.approx(0.3, abs=0.05) and limits["x2"].low is None
    assert box.coverage >= 0.9 and box.density >= 0.9
    assert box.mass == pytest.approx(interest.mean(), abs=0.04)


@pytest.mark.parametrize("seed", [0, 1])
def test_prim_finds_the_box_among_as_many_parameters_as_the_shipped_studies(seed: int) -> None:
    # the shipped studies vary the schema's 114 ranges over 192 worlds: the box still stands out
    X = _worlds(192, 114, seed)
    interest = ((X.x0 > 0.6) & (X.x2 < 0.3)).to_numpy()
    (box, *_) = find_boxes(X, interest)
    limits = {r.key: r for r in box.restrictions}
    assert set(limits) == {"x0", "x2"}
    assert limits["x0"].low == pytest.approx(0.6, abs=0.05)
    assert limits["x2"].high == pytest.approx(0.3, abs=0.05)
    assert box.coverage >= 0.9 and box.density >= 0.9


def test_prim_covers_two_separate_boxes() -> None:
    X = _worlds(400, 5, 7)
    a = (X.x0 < 0.3) & (X.x1 < 0.4)
    b = (X.x2 > 0.7) & (X.x3 > 0.6)
    boxes = find_boxes(X, (a | b).to_numpy(), max_boxes=2)
    assert len(boxes) == 2
    found = [{r.key for r in bx.restrictions} for bx in boxes]
    assert {"x0", "x1"} in found and {"x2", "x3"} in found
    assert sum(bx.coverage for bx in boxes) >= 0.9
    assert min(bx.density for bx in boxes) >= 0.9


def test_prim_reports_nothing_without_a_pattern() -> None:
    X = _worlds(200, 3, 3)
    assert find_boxes(X, np.zeros(200, dtype=bool)) == []
    rng = np.random.default_rng(0)
    noise = rng.uniform(size=200) < 0.2  # scattered at random
    assert find_boxes(X, noise) == []


def test_peeling_raises_density_monotonically_on_a_clean_problem() -> None:
    X = _worlds(200, 3, 4)
    y = (X.x1 > 0.5).to_numpy(dtype=float)
    traj = peel(X.to_numpy(), y)
    dens = [
        y[np.all((X.to_numpy() >= lo) & (X.to_numpy() <= hi), axis=1)].mean() for lo, hi in traj
    ]
    assert dens[0] == pytest.approx(y.mean())
    assert dens[-1] == 1.0
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(dens))


def test_restriction_bounds_are_inclusive() -> None:
    r = Restriction("x", low=0.2, high=0.5)
    assert r.inside(np.array([0.1, 0.2, 0.5, 0.6])).tolist() == [False, True, True, False]


def test_wilson_interval_matches_known_values() -> None:
    o = wilson(0, 10)
    assert (o.low, round(o.high, 3)) == (0.0, 0.278)
    o = wilson(128, 128)
    assert o.high == 1.0 and o.low == pytest.approx(0.971, abs=0.001)
    o = wilson(64, 128)
    assert o.low == pytest.approx(0.414, abs=0.002) and o.high == pytest.approx(0.586, abs=0.002)
    with pytest.raises(ValueError):
        wilson(3, 2)


CLAIM = parse_claim("c", "retention_annual > 0.5", "", ["A"], ["x"])


def test_a_claim_true_by_construction_gets_odds_near_one() -> None:
    X = _worlds(128, 4, 5)
    margin = pd.Series(0.1 + X.x0.to_numpy(), index=X.index)  # positive in every world
    v = judge(CLAIM, X, margin)
    assert v.odds.share == 1.0 and v.odds.low > 0.97
    assert v.boxes == [] and "never fails" in v.note
    assert "nearly everywhere" in v.sentence()


def test_judge_says_where_a_claim_fails_in_words() -> None:
    X = _worlds(200, 4, 6)
    margin = pd.Series(
        np.where((X.x1 > 0.7) & (X.x3 < 0.5), -1.0, 1.0) + 0.01 * X.x0, index=X.index
    )
    v = judge(CLAIM, X, margin)
    assert v.looks_for == "fails"
    assert 0.8 < v.odds.share < 0.9
    keys = {r.key for r in v.boxes[0].restrictions}
    assert keys == {"x1", "x3"}
    s = v.sentence()
    assert "It fails only when" in s or "It fails mainly when" in s
    m1 = re.search(r"x1 is above ([0-9.]+)", s)
    m3 = re.search(r"x3 is below ([0-9.]+)", s)
    assert m1 and float(m1.group(1)) == pytest.approx(0.7, abs=0.03)
    assert m3 and float(m3.group(1)) == pytest.approx(0.5, abs=0.03)
    from sim.robustness.figures import map_axes

    assert set(map_axes(v, X)) == {"x1", "x3"}  # the map shows where it flips


def test_importance_ranks_the_parameters_that_drive_the_margin() -> None:
    X = _worlds(128, 8, 8)
    rng = np.random.default_rng(1)
    margin = pd.Series(3 * X.x0 - 2 * X.x5**2 + 0.3 * rng.normal(size=128), index=X.index)
    imp = margin_importance(X, margin)
    assert list(imp.parameter[:2]) == ["x0", "x5"]
    assert imp.S1.iloc[0] == pytest.approx(0.63, abs=0.15)
    assert imp.S1.iloc[2:].max() < 0.15


def test_only_indices_above_the_noise_pick_out_deciding_parameters() -> None:
    X = _worlds(192, 110, 9)
    rng = np.random.default_rng(2)

    def verdict(margin: np.ndarray) -> Verdict:
        m = pd.Series(margin, index=X.index)
        return Verdict(CLAIM, wilson(int((m > 0).sum()), 192), margin_importance(X, m))

    assert list(verdict(X.x3.to_numpy() + 0.2 * rng.normal(size=192)).standouts.parameter) == ["x3"]
    noise = verdict(rng.normal(size=192))
    assert noise.standouts.empty and len(noise.importance) == 110  # the largest of 110 is noise


def test_importance_gives_salibs_indices_and_intervals() -> None:
    import warnings

    from SALib.analyze import rbd_fast

    from sim.robustness.importance import HARMONICS

    X = _worlds(90, 5, 11)
    y = (3 * X.x0 - 2 * X.x3**2).to_numpy() + 0.3 * np.random.default_rng(3).normal(size=90)
    ours = margin_importance(X, pd.Series(y, index=X.index), seed=4, resamples=50)
    problem = {"num_vars": 5, "names": list(X.columns), "bounds": [[0.0, 1.0]] * 5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rbd_fast.analyze(problem, X.to_numpy(), y, M=HARMONICS, num_resamples=50, seed=4)
    ours = ours.set_index("parameter").loc[list(X.columns)]
    assert np.allclose(ours.S1, np.clip(ref["S1"], 0, None), atol=1e-12)
    assert np.allclose(ours.S1_conf, ref["S1_conf"], atol=1e-12)
