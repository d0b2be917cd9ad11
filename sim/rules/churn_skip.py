"""Bounds that let the switching phase skip most customers (``sim.rules.switching``).

Most served customers cannot leave in a given step. The switching kernel compares a customer's
uniform first with a bound on everyone's chance in its market and industry (:func:`churn_bounds`),
then with a bound on its own chance at the largest possible rival gap, read from a grid of
chances over ``z`` (:func:`chance_above`: no exp or log), and computes utilities and its exact
chance only for the few left. The bounds only save work: the decision is always the customer's
uniform against its own chance, so a looser bound changes no number, only the time.

The grid (:func:`chance_grid`) depends only on the step length: it is computed once per
``steps_per_year`` and kept. (It replaced a table of 1,024 points below each market's and
industry's largest ``z`` built at every step: 0.41 ms of numpy a step of 32 markets of 1,000
customers, about 5% of the step, measured with cProfile on a sweep of 64 runs x 520 steps.)

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import rule
from sim.rules import choice

if TYPE_CHECKING:
    from sim.batch import MarketBatch

MARGIN = 1e-6
"""Relative margin of the bounds over the chances they bound (float rounding)."""

PER_UNIT = 64.0
"""Points per unit of ``z`` of the grid of chances that :func:`chance_above` reads."""

Z_LOW = -64.0
"""``z`` of the grid's first point: below it, the chance there bounds every chance (it is
about 1e-28 a year)."""

Z_HIGH = 64.0
"""``z`` of the grid's last point: above it, :func:`chance_above` is 1 (no skip)."""


@rule
def chance_above(z: float, grid: np.ndarray, z_low: float, per_unit: float) -> float:
    """An upper bound on the chance to leave at ``z`` (``sim.rules.switching.leave_chance``),
    without a transcendental function: ``grid[k]``, the chance at ``z_low + k / per_unit``
    (with a margin), at the second point above ``z`` (at least one point above it even after
    rounding); ``grid[0]`` below the grid, 1 above it or for NaN."""
    x = (z - z_low) * per_unit
    if not x < len(grid) - 2.0:  # NaN too
        return 1.0
    if x < 0.0:
        return grid[0]
    return grid[int(x) + 2]


@functools.cache
def chance_grid(steps_per_year: int) -> np.ndarray:
    """The grid :func:`chance_above` reads: the chance to leave within a step at ``Z_LOW + k /
    PER_UNIT`` (``k = 0 .. (Z_HIGH - Z_LOW) * PER_UNIT``), with a margin; kept per step
    length (read-only)."""
    at = Z_LOW + np.arange(int((Z_HIGH - Z_LOW) * PER_UNIT) + 1) / PER_UNIT
    softplus = np.maximum(at, 0.0) + np.log1p(np.exp(-np.abs(at)))
    step = -np.expm1(-softplus / steps_per_year)
    grid = np.minimum(1.0, step * (1.0 + MARGIN) + 1e-12)
    grid.flags.writeable = False
    return grid


def churn_bounds(batch: MarketBatch, t: Any, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``(bound, gap_bound)`` ``[B]``: an upper bound on every served customer's chance to
    leave in industry ``m`` this step, and the rival gap ``max(0, max_rivals U - U[own])`` at
    which a customer's own chance is largest (a bound on the gap, or 0 when ``rival`` < 0).

    The chance rises with ``z``; ``z`` is largest at the lowest satisfaction among the
    industry's served customers (this step's customer phases keep it, ``batch.bounds``), trust
    and commitment 0 and the largest rival gap: the largest utility bound of one firm less the
    smallest of another (``sim.rules.choice.utility_bounds``)."""
    P = batch.params
    prm = P.switching
    firms = batch.industry_firms[m]
    gap = np.zeros(batch.B)
    if len(firms) > 1:
        low, high = choice.utility_bounds(batch, t)
        low, high = low[:, firms], high[:, firms]
        diff = high[:, :, None] - low[:, None, :]  # [B, i, j]
        diff[:, np.arange(len(firms)), np.arange(len(firms))] = -np.inf
        gap = np.maximum(diff.max(axis=(1, 2)), 0.0)
    flat = {name: value[:, 0] for name, value in vars(prm).items()}
    low_s = np.fmin(batch.bounds[:, m, 0].astype(np.float64), flat["satisfaction_ref"])
    ref, c_s = flat["satisfaction_ref"], flat["satisfaction"]
    c_t, t_ref, c_c = flat["trust"], flat["trust_ref"], flat["commitment"]
    z = (
        flat["intercept"]
        - flat["switching_cost"]
        + np.maximum(c_s * (ref - low_s), c_s * (ref - 10.0))  # S in low_s..10
        + np.maximum(c_t * t_ref, c_t * (t_ref - 1.0))  # T in 0..1
        + np.where(P.mechanisms.commitment[:, 0], np.abs(c_c) * 0.5, 0.0)  # C in 0..1
        + np.maximum(flat["rival"] * gap, 0.0)  # the gap in 0..gap
    )
    softplus = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    step = -np.expm1(-softplus / batch.steps_per_year)
    # the chance rises with the gap when ``rival`` > 0: the second check takes the largest gap
    worst_gap = np.where(flat["rival"] >= 0.0, gap * (1.0 + MARGIN) + 1e-12, 0.0)
    return np.minimum(1.0, step * (1.0 + MARGIN) + 1e-12), worst_gap
