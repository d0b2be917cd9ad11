"""The performance machinery changes no result: block size, thinned draws, fast normals.

Speed is measured by experiments/benchmarks, never here; these tests check that the ways the
step is made fast are invisible in its results.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
import sim.arrays
import sim.rules
from sim.arrays import GeneratorSource, box_muller

SMALL = {"market.customers": 700}


def state_digest(model: sim.CustomerMarket) -> list[np.ndarray]:
    cs, fs = model.customer_state, model.firm_state
    names = (
        "supplier",
        "expectation",
        "experience",
        "satisfaction",
        "trust",
        "commitment",
        "heard",
        "benchmark",
        "attitude",
        "complaints",
        "tenure",
    )
    return [getattr(cs, n).copy() for n in names] + [fs.cash.copy(), fs.review_sum.copy()]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("scenario", ["national_leader_enters", "bass_docking"])
def test_step_is_deterministic_with_small_blocks(monkeypatch, scenario: str) -> None:
    monkeypatch.setattr(sim.arrays, "CHUNK", 300)
    a = sim.CustomerMarket(scenario, rng=9, overrides={"market.customers": 1000}).run(20)
    b = sim.CustomerMarket(scenario, rng=9, overrides={"market.customers": 1000}).run(20)
    assert same(state_digest(a), state_digest(b))


def test_thinned_draws_are_bernoulli_with_the_right_chance() -> None:
    """``below`` + acceptance is a Bernoulli trial of chance p for every p <= p_max."""
    src = GeneratorSource(np.random.default_rng(0))
    n, p_max = 400_000, 0.05
    p = np.linspace(0.0, p_max, n)
    pos, u = src.below("test", 0, slice(0, n), p_max)
    success = np.zeros(n, bool)
    success[pos[u < p[pos]]] = True
    for lo in range(0, n, n // 4):
        block = slice(lo, lo + n // 4)
        expected = p[block].mean() * (n // 4)
        assert abs(success[block].sum() - expected) < 5 * np.sqrt(expected)
    dense_pos, _ = src.below("test", 0, slice(0, 1000), 0.9)  # the dense branch
    assert 850 < len(dense_pos) < 950


def test_box_muller_is_standard_normal() -> None:
    z = box_muller(np.random.default_rng(1), 1_000_001)
    assert z.dtype == np.float32 and z.shape == (1_000_001,)
    assert abs(z.mean()) < 0.005 and abs(z.std() - 1) < 0.005
    assert abs(np.mean(z**4) - 3) < 0.05 and abs(np.mean(np.abs(z) > 1.96) - 0.05) < 0.002
