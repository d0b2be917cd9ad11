"""The performance machinery changes no result: block size, keyed draws, fast normals.

Speed is measured by experiments/benchmarks, never here; these tests check that the ways the
step is made fast are invisible in its results.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
import sim.arrays
import sim.rules
from sim.draws import KeyedDraws

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


def test_keyed_uniforms_are_uniform_and_independent_of_the_rows_asked_for() -> None:
    """A customer's number depends on what it is for, not on which other customers were drawn
    with it; the numbers are uniform on (0, 1) and a purpose's do not follow another's."""
    draws = KeyedDraws(2**63 + 17)
    draws.step = 4
    n = 400_000
    u = draws.uniform("churn", 1, slice(0, n))
    assert 0.0 < u.min() and u.max() < 1.0
    counts = np.bincount((u * 20).astype(int), minlength=20)
    assert np.all(np.abs(counts - n / 20) < 5 * np.sqrt(n / 20))
    parts = np.concatenate(
        [draws.uniform("churn", 1, np.arange(1000, n)), draws.uniform("churn", 1, slice(0, 1000))]
    )
    assert np.array_equal(parts, np.roll(u, -1000))
    other = draws.uniform("talk", 1, slice(0, n))
    assert abs(np.corrcoef(u, other)[0, 1]) < 0.01
    draws.step = 5
    assert abs(np.corrcoef(u, draws.uniform("churn", 1, slice(0, n)))[0, 1]) < 0.01


def test_keyed_normals_are_standard_normal() -> None:
    """The ziggurat on keyed numbers: the moments and the tails of a standard normal."""
    z = KeyedDraws(1).normal("noise", 0, slice(0, 250_000), 4).astype(float)
    assert z.dtype == np.float64 and z.shape == (250_000, 4)
    assert abs(z.mean()) < 0.005 and abs(z.std() - 1) < 0.005
    assert abs(np.mean(z**4) - 3) < 0.05 and abs(np.mean(np.abs(z) > 1.96) - 0.05) < 0.002
    assert abs(np.mean(np.abs(z) > 3.5) - 4.65e-4) < 1.5e-4  # the tail beyond the base strip
