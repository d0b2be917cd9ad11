"""The two-limit Tobit the survey checks fit (sim.validation.fit): its likelihood against the
answers one by one, its gradient, and the estimates it recovers where least squares cannot."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.validation.fit import censored_likelihood, tobit

LOW, HIGH = 0.0, 10.0


def answers(n: int, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(design, y, b)``: answers on 0..10 of a linear model, many of them at the bounds."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 3))
    design = np.column_stack([np.ones(n), x])
    b = np.array([-2.0, 13.0, 4.0, -3.0])
    return design, np.clip(design @ b + rng.normal(0, sigma, n), LOW, HIGH), b


def one_by_one(z: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    """The negative log-likelihood summed answer by answer: the density inside the scale, the
    probability of the bound at it."""
    b, sigma = theta[:-1], np.exp(theta[-1])
    mean = z @ b
    ll = np.where(
        y <= LOW,
        stats.norm.logcdf((LOW - mean) / sigma),
        np.where(
            y >= HIGH,
            stats.norm.logsf((HIGH - mean) / sigma),
            stats.norm.logpdf(y, mean, sigma),
        ),
    )
    return -float(ll.sum())


def test_the_likelihood_is_the_answers_one_by_one_and_its_gradient_its_slope() -> None:
    design, y, b = answers(3_000, 1.5, 1)
    assert 0.1 < np.mean(y <= LOW) < 0.5 and 0.1 < np.mean(y >= HIGH) < 0.5
    around = np.linalg.lstsq(design, y, rcond=None)[0]
    f = censored_likelihood(design, y, LOW, HIGH, around)
    rng = np.random.default_rng(2)
    for theta in (np.append(around, 0.3), np.append(b, np.log(1.5)), rng.normal(0, 2, 5)):
        value, grad = f(theta)
        assert value == pytest.approx(one_by_one(design, y, theta), rel=1e-11)
        h = 1e-6
        numeric = [
            (one_by_one(design, y, theta + h * e) - one_by_one(design, y, theta - h * e)) / (2 * h)
            for e in np.eye(len(theta))
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_the_point_the_sums_are_taken_around_changes_nothing() -> None:
    design, y, _ = answers(2_000, 1.0, 3)
    theta = np.array([0.5, 7.0, 3.0, -1.0, 0.1])
    near = censored_likelihood(design, y, LOW, HIGH, np.linalg.lstsq(design, y, rcond=None)[0])
    far = censored_likelihood(design, y, LOW, HIGH, np.array([3.0, -2.0, 0.0, 5.0]))
    assert near(theta)[0] == pytest.approx(far(theta)[0], rel=1e-10)
    np.testing.assert_allclose(near(theta)[1], far(theta)[1], rtol=1e-8)


def test_tobit_recovers_slopes_that_the_bounds_flatten_for_least_squares() -> None:
    design, y, b = answers(40_000, 1.5, 4)
    fitted, sigma = tobit(design, y)
    np.testing.assert_allclose(fitted, b, atol=0.1)
    assert sigma == pytest.approx(1.5, abs=0.03)
    ols = np.linalg.lstsq(design, y, rcond=None)[0]
    assert ols[1] < 0.9 * b[1]  # a quarter of the answers at a bound: the slope flattened


def test_tobit_with_no_answer_at_a_bound_is_least_squares() -> None:
    design, _, b = answers(5_000, 0.5, 5)
    y = 5.0 + 0.2 * (design @ b) / 10 + np.random.default_rng(6).normal(0, 0.5, 5_000)
    assert ((y > LOW) & (y < HIGH)).all()
    fitted, sigma = tobit(design, y)
    ols = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(fitted, ols, rtol=1e-5, atol=1e-6)
    assert sigma == pytest.approx(np.std(y - design @ ols), rel=1e-4)
