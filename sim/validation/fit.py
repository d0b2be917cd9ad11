"""Regressions the validation checks fit to simulated survey and panel data.

- :func:`tobit`: linear regression of an answer on a bounded scale (0..10), with the answers at
  the bounds treated as censored (Tobin 1958; two-limit form, Rosett & Nelson 1975). Ordinary
  least squares on such answers flattens every slope that pushes answers into a bound: at the
  default parameters a tenth of the experiences of the best firms score 10.
- :func:`logit`: logistic regression (Newton-Raphson), for who leaves in a step.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

__all__ = ["logit", "tobit"]


def tobit(
    design: np.ndarray, y: np.ndarray, low: float = 0.0, high: float = 10.0
) -> tuple[np.ndarray, float]:
    """Maximum-likelihood ``(coefficients, sigma)`` of ``y = clip(design @ b + e, low, high)``
    with ``e ~ N(0, sigma)``.

    Parameters
    ----------
    design
        ``[n, k]`` regressors, a column of ones included for an intercept.
    y
        ``[n]`` answers; those at ``low`` or ``high`` count as censored there.
    low, high
        The bounds of the scale.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 1, 20_000)
    >>> y = np.clip(2 + 9 * x + rng.normal(0, 1, x.size), 0, 10)
    >>> b, sigma = tobit(np.column_stack([np.ones_like(x), x]), y)
    >>> bool(abs(b[1] - 9) < 0.1 and abs(sigma - 1) < 0.05)
    True
    """
    x = np.asarray(design, np.float64)
    y = np.asarray(y, np.float64)
    # standardised regressors keep the problem well conditioned; the constant column stays 1
    centre = x.mean(axis=0)
    scale = x.std(axis=0)
    constant = scale == 0
    centre[constant], scale[constant] = 0.0, 1.0
    if not constant.any():  # no intercept: scale only, centring would add one
        centre[:] = 0.0
    z = (x - centre) / scale
    at_low, at_high = y <= low, y >= high
    inside = ~(at_low | at_high)

    def negative_log_likelihood(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, log_sigma = theta[:-1], theta[-1]
        sigma = np.exp(log_sigma)
        mean = z @ b
        grad_mean = np.empty_like(y)  # d loglik / d mean, per answer
        grad_log_sigma = np.empty_like(y)
        r = (y[inside] - mean[inside]) / sigma
        ll = np.sum(-0.5 * r * r - log_sigma - 0.5 * np.log(2 * np.pi))
        grad_mean[inside] = r / sigma
        grad_log_sigma[inside] = r * r - 1.0
        a = (low - mean[at_low]) / sigma
        ll += np.sum(special.log_ndtr(a))
        mills = np.exp(-0.5 * a * a - 0.5 * np.log(2 * np.pi) - special.log_ndtr(a))
        grad_mean[at_low] = -mills / sigma
        grad_log_sigma[at_low] = -mills * a
        c = (high - mean[at_high]) / sigma
        ll += np.sum(special.log_ndtr(-c))
        mills = np.exp(-0.5 * c * c - 0.5 * np.log(2 * np.pi) - special.log_ndtr(-c))
        grad_mean[at_high] = mills / sigma
        grad_log_sigma[at_high] = mills * c
        grad = np.append(z.T @ grad_mean, grad_log_sigma.sum())
        return -ll, -grad

    start_b = np.linalg.lstsq(z, y, rcond=None)[0]
    start = np.append(start_b, np.log(max(np.std(y - z @ start_b), 1e-3)))
    fit = optimize.minimize(negative_log_likelihood, start, jac=True, method="L-BFGS-B")
    b = fit.x[:-1] / scale
    b[constant] = fit.x[:-1][constant] - np.sum((fit.x[:-1] / scale * centre)[~constant])
    return b, float(np.exp(fit.x[-1]))


def logit(design: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood ``(coefficients, covariance)`` of ``P(y = 1) = sigmoid(design @ b)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=50_000)
    >>> y = rng.uniform(size=x.size) < 1 / (1 + np.exp(-(-1 + 0.5 * x)))
    >>> b, cov = logit(np.column_stack([np.ones_like(x), x]), y)
    >>> bool(abs(b[1] - 0.5) < 3 * np.sqrt(cov[1, 1]))
    True
    """
    x = np.asarray(design, np.float64)
    y = np.asarray(y, np.float64)
    b = np.zeros(x.shape[1])
    hessian = np.eye(x.shape[1])
    for _ in range(iterations):
        p = special.expit(x @ b)
        hessian = x.T @ (x * (p * (1 - p))[:, None])
        step = np.linalg.solve(hessian, x.T @ (y - p))
        b += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return b, np.linalg.inv(hessian)
