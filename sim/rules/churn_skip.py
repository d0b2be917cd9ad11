"""Bounds that let the switching phase skip most customers (``sim.rules.switching``).

Most served customers cannot leave in a given step. The switching kernel compares a customer's
uniform first with a bound on everyone's chance in its market and industry (:func:`churn_bounds`),
then with a bound on its own chance at the largest possible rival gap, read from a table of
chances over ``z`` below the industry's largest ``z`` (:func:`chance_above`: no exp or log), and
computes utilities only for the few left, and their exact chance only below the table's value at
their exact ``z``. The bounds only save work: the decision is always the customer's uniform
against its own chance, so a looser bound changes no number, only the time.

A first bound per firm instead of per industry (the lowest satisfaction, trust and commitment
among the firm's customers) was measured and not kept: at 1M customers it let 11.4% of the
served through instead of 14.4% (the lowest satisfaction, 0 at every firm, dominates the
bound), and the kernel took 14.8 against 14.4 ms on one thread, before the pass taking the
minima (docs/performance_rounds.md).

The tables are read at each step from one grid of chances over ``z`` (:func:`chance_grid`),
which depends only on the step length and is computed once per ``steps_per_year``: computed at
every step, they cost 0.41 ms of numpy a step of 32 markets of 1,000 customers (about 5% of the
step; cProfile of a sweep of 64 runs x 520 steps). A table is copied whole from a window of the
grid read backwards (:func:`_windows`), not gathered point by point through an index array:
the switching phase of a batch of 40 markets of 1,000 customers took 0.39-0.44 ms a step
against 0.47-0.52 (one thread, two alternated pairs, 4 December 2026). The kernel still reads
a table of 1,024 points per market and industry: handed the whole 8,193-point grid instead,
the switching kernel took 22-26 ms a step of a 300,000-customer market on one thread against
14-22 ms with the 1,024-point tables, with the same customers skipped (counted).

The bounds read each market's range of attitudes toward each firm (:func:`attitude_ranges`:
taken by word of mouth as it fades and moves the attitudes, a bound on the range).

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import ONE, kernel, nan_skipping_range, rule
from sim.params.stacked import StackedParams
from sim.rules.expectations import review_means

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
"""``z`` of the grid's last point: a table reaching above it is computed at that step."""

POINTS = 1024
"""Points of a table (:func:`chance_table`), down from two points above the industry's largest
``z`` (16 units of ``z``: below, the chance at the lowest point bounds it)."""


@rule
def chance_above(z: float, table: np.ndarray, top: float, per_unit: float) -> float:
    """An upper bound on the chance to leave at ``z`` (``sim.rules.switching.leave_chance``),
    without a transcendental function: the table's value at the first of its points ``top - j
    / per_unit`` at least one point above ``z`` (``table[j]``: the chance there, with a margin;
    1 within a point of ``top`` or above it)."""
    x = (top - z) * per_unit
    if not x >= 1.0:  # NaN too
        return 1.0
    return table[int(min(x, len(table))) - 1]


@functools.cache
def chance_grid(steps_per_year: int) -> np.ndarray:
    """The grid :func:`chance_above` reads: the chance to leave within a step at ``Z_LOW + k /
    PER_UNIT`` (``k = 0 .. (Z_HIGH - Z_LOW) * PER_UNIT``), with a margin; kept per step
    length (read-only)."""
    grid = _chances(
        Z_LOW + np.arange(int((Z_HIGH - Z_LOW) * PER_UNIT) + 1) / PER_UNIT, steps_per_year
    )
    grid.flags.writeable = False
    return grid


def chance_table(z: np.ndarray, steps_per_year: int) -> tuple[np.ndarray, np.ndarray]:
    """``(table, top)`` for :func:`chance_above`: ``[..., POINTS]`` the chance to leave at
    ``top - j / PER_UNIT``, with a margin, and ``top`` (``[...]``), on the grid's points, at
    least two points above ``z`` (the largest of each market and industry). Read from
    :func:`chance_grid` (points below it: its first value, which bounds them); computed for
    a ``z`` beyond the grid (or not finite)."""
    grid = chance_grid(steps_per_year)
    with np.errstate(invalid="ignore"):
        x = np.ceil((z - Z_LOW) * PER_UNIT) + 2.0
        on_grid = np.isfinite(x) & (x <= len(grid) - 1)
    top_k = np.where(on_grid, x, 0.0).astype(np.int64)
    # table[..., j] = grid[max(top_k - j, 0)]: rows of windows of the grid read backwards
    # (a top below the grid's first point reads grid[0] throughout, as the first point's)
    table = _windows(steps_per_year)[len(grid) - 1 - np.maximum(top_k, 0)]
    top = Z_LOW + top_k / PER_UNIT
    if not on_grid.all():  # the chances themselves, as on the grid
        far = ~on_grid
        top[far] = z[far] + 2.0 / PER_UNIT
        at = top[far][..., None] - np.arange(POINTS) / PER_UNIT
        table[far] = _chances(at, steps_per_year)
    return table, top


@functools.cache
def _windows(steps_per_year: int) -> np.ndarray:
    """``[len(grid), POINTS]`` read-only windows of :func:`chance_grid` read backwards:
    row ``i`` holds ``grid[len(grid) - 1 - i - j]`` (``grid[0]`` below the grid's first
    point), i.e. the table of ``top_k = len(grid) - 1 - i``. Taking a market's and industry's
    row copies it: 0.1 ms a step of 40 markets less than gathering it point by point."""
    grid = chance_grid(steps_per_year)
    backwards = np.concatenate([grid[::-1], np.full(POINTS - 1, grid[0])])
    return np.lib.stride_tricks.sliding_window_view(backwards, POINTS)  # read-only, a view


def _chances(at: np.ndarray, steps_per_year: int) -> np.ndarray:
    """The chance to leave within a step at ``z`` = ``at``, with the bounds' margin."""
    softplus = np.maximum(at, 0.0) + np.log1p(np.exp(-np.abs(at)))
    step = -np.expm1(-softplus / steps_per_year)
    return np.minimum(1.0, step * (1.0 + MARGIN) + 1e-12)


@rule
def _max(a: float, b: float) -> float:
    """``np.maximum``: NaN if either is NaN."""
    return a if (a >= b or a != a) else b


@rule
def _min(a: float, b: float) -> float:
    """``np.minimum``: NaN if either is NaN."""
    return a if (a <= b or a != a) else b


@rule
def _fmin(a: float, b: float) -> float:
    """``np.fmin``: the other where one is NaN."""
    return b if a != a else (a if (a <= b or b != b) else b)


@rule
def _fmax(a: float, b: float) -> float:
    """``np.fmax``: the other where one is NaN."""
    return b if a != a else (a if (a >= b or b != b) else b)


@kernel
def limits(live, industries, sizes, promise, reviews, review_weight, bounds, att_low, att_high,
           s_low, s_high, price_term, prm, steps_per_year, bound, gap_bound, z_max):  # fmt: skip
    """``bound[b, m]``, ``gap_bound[b, f]`` and ``z_max[b, m]`` of :func:`churn_bounds` for
    every live market ``b`` and industry ``m`` (``industries[m, :sizes[m]]`` its firms): the
    same arithmetic as the numpy statement it replaced, one market and firm at a time (that
    statement, 20-odd numpy calls on ``[B, F]`` arrays, cost 0.14 ms a step of 32 markets x
    1,000 customers and 2 firms; this kernel a few microseconds). ``promise``, ``reviews``
    ``[B, F, K]``; ``review_weight``, ``price_term``, ``att_low``, ``att_high`` ``[B, F]``;
    ``s_low``, ``s_high`` ``[B]``; ``bounds`` the batch's ``[B, M, 3]``; ``prm`` ``[B, 11]``
    (:func:`bound_parameters`)."""
    n_firms = industries.shape[1]
    u_low = np.empty(n_firms)
    u_high = np.empty(n_firms)
    for b in range(len(live)):
        if not live[b]:
            continue
        intercept, ref, c_s, c_t, t_ref, c_c, commitment_on, rival, q, a, _ = prm[b]
        for m in range(len(sizes)):
            n = sizes[m]
            if n == 0:
                continue
            e_low, e_high = np.float64(bounds[b, m, 1]), np.float64(bounds[b, m, 2])
            for j in range(n):
                f = industries[m, j]
                low, high = np.inf, -np.inf
                for k in range(promise.shape[2]):
                    low = _min(low, promise[b, f, k])
                    high = _max(high, promise[b, f, k])
                if review_weight[b, f] > 0:
                    r_low, r_high = np.inf, -np.inf
                    for k in range(reviews.shape[2]):
                        r_low = _min(r_low, reviews[b, f, k])
                        r_high = _max(r_high, reviews[b, f, k])
                    low, high = _min(low, r_low), _max(high, r_high)
                low, high = _fmin(low, e_low), _fmax(high, e_high)
                p_low = price_term[b, f] * s_low[b]
                p_high = price_term[b, f] * s_high[b]
                a_low, a_high = a * att_low[b, f], a * att_high[b, f]
                u_low[j] = _min(q * low, q * high) + _min(a_low, a_high) + _min(p_low, p_high)
                u_high[j] = _max(q * low, q * high) + _max(a_low, a_high) + _max(p_low, p_high)
            gap = 0.0  # the largest over the industry's firms
            for j in range(n):  # the customers of firm j: the rivals' best less j's worst
                own_gap = 0.0
                if n > 1:
                    best = -np.inf
                    for i in range(n):
                        if i != j:
                            best = _max(best, u_high[i] - u_low[j])
                    own_gap = _max(best, 0.0)
                gap = _max(gap, own_gap)
                f = industries[m, j]
                gap_bound[b, f] = own_gap * (1.0 + MARGIN) + 1e-12 if rival >= 0.0 else 0.0
            low_s = _fmin(np.float64(bounds[b, m, 0]), ref)
            z = (
                intercept
                + _max(c_s * (ref - low_s), c_s * (ref - 10.0))
                + _max(c_t * t_ref, c_t * (t_ref - 1.0))
                + (abs(c_c) * 0.5 if commitment_on else 0.0)
                + _max(rival * gap, 0.0)
            )
            z_max[b, m] = z
            softplus = _max(z, 0.0) + math.log1p(math.exp(-abs(z)))
            step = -math.expm1(-softplus / steps_per_year)
            bound[b, m] = _min(1.0, step * (1.0 + MARGIN) + 1e-12)


def bound_parameters(P: StackedParams) -> np.ndarray:
    """``[B, 11]`` what :func:`limits` reads of each market's parameters: the intercept less
    the switching cost, ``satisfaction_ref``, the satisfaction, trust, ``trust_ref`` and
    commitment weights, commitment on, ``rival``, the utility's ``quality`` and ``attitude``
    weights (and a spare 0); kept on ``P`` (parameters only change with a new ``P``)."""
    kept = getattr(P, "_churn_bound_parameters", None)
    if kept is None:
        prm = P.switching
        columns = [
            prm.intercept - prm.switching_cost,
            prm.satisfaction_ref,
            prm.satisfaction,
            prm.trust,
            prm.trust_ref,
            prm.commitment,
            P.mechanisms.commitment,
            prm.rival,
            prm.quality,
            prm.attitude,
            np.zeros_like(prm.rival),
        ]
        kept = np.concatenate([np.asarray(c, np.float64) for c in columns], axis=1)
        P._churn_bound_parameters = kept
    return kept


def churn_bounds(batch: MarketBatch, t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(bound, gap_bound, z)``: ``[B, M]`` an upper bound on every served customer's chance
    to leave in each industry this step; ``[B, F]`` for the customers of each firm, the rival
    gap ``max(0, max_rivals U - U[own])`` at which a customer's own chance is largest (a bound
    on the gap: the rivals' largest utility bound less the firm's smallest, or 0 when ``rival``
    < 0); ``[B, M]`` the largest ``z``; ``t`` the step's firm terms
    (``sim.rules.choice.terms``).

    The chance rises with ``z``; ``z`` is largest at the lowest satisfaction among the
    industry's served customers (this step's customer phases keep it, ``batch.bounds``), trust
    and commitment 0 and the largest rival gap: the largest utility bound of one firm less the
    smallest of another. A utility is bounded by bounding ``w.Ehat``, a weighted mean of the
    promise, the reviews and the customer's own expectation, between their smallest and largest
    attribute values (the expectations' range over the industry's served customers:
    ``batch.bounds``), and the attitudes and price sensitivities between their ranges
    (``batch.attitude_range``, ``batch.sensitivity_range``). Computed by :func:`limits`."""
    bound, z = np.zeros((batch.B, batch.M)), np.zeros((batch.B, batch.M))
    gap_bound = np.zeros((batch.B, batch.F))
    att_low, att_high = batch.attitude_range
    s_low, s_high = batch.sensitivity_range  # [B, 1]
    limits(
        batch.live,
        batch.industry_members,
        batch.industry_sizes,
        t.promise,
        review_means(batch),
        t.review_weight,
        batch.bounds,
        att_low,
        att_high,
        s_low[:, 0],
        s_high[:, 0],
        t.price_term,
        bound_parameters(batch.params),
        float(batch.steps_per_year),
        bound,
        gap_bound,
        z,
    )
    return bound, gap_bound, z


@rule
def row_range(row: np.ndarray, lo: int, hi: int, keep: Any, fade: bool) -> tuple[Any, Any]:
    """The lowest and highest of ``row[lo:hi]`` (NaN skipped; ``inf``, ``-inf`` when there is
    none), each first multiplied by ``keep`` and written back when ``fade`` (word of mouth's
    fading attitudes, ``sim.rules.word_of_mouth.decide_rows``, which takes the ranges as it
    fades them: the pass over the attitudes that switching made for them is saved).

    The range is sliced first, so that the loops index from 0: an index that starts at a
    value known only at run time might be negative, and the compiler then wraps every one
    (a select per element, which kept the loops from being vectorised). The fading is one
    vectorised pass and the range another (``sim.jit.nan_skipping_range``): at 1M customers
    and 6 firms, one thread, 10.0-10.4 -> 2.3-2.5 ms (7 December 2026)."""
    part = row[lo:hi]
    if fade:
        for i in range(len(part)):
            part[i] = part[i] * keep
    return nan_skipping_range(part)


@kernel
def task_attitude_range(t, tasks, live, attitude, out) -> None:
    """``out[t, f]``: the lowest and highest attitude toward firm ``f`` among the customers of
    task ``t`` (``tasks``: its market, first and last customer), when its market is live."""
    b, lo, hi = tasks[0][t], tasks[1][t], tasks[2][t]
    if not live[b]:
        return
    for f in range(attitude.shape[0]):
        out[t, f, 0], out[t, f, 1] = row_range(attitude[f], lo, hi, ONE, False)


@kernel
def task_ranges(n_tasks, tasks, live, attitude, out) -> None:
    """:func:`task_attitude_range` of every task, one after another."""
    for t in range(n_tasks):
        task_attitude_range(t, tasks, live, attitude, out)


@kernel
def combined_ranges(task_market, live, per_task, low, high) -> None:
    """``low[b, f]``, ``high[b, f]`` of every live market ``b`` from its tasks' ranges, in task
    order (``min`` and ``max`` skip NaN and keep the first of equal values, so this is the
    range taken customer by customer)."""
    for b in range(len(live)):
        if live[b]:
            low[b, :] = np.inf
            high[b, :] = -np.inf
    for t in range(len(task_market)):
        b = task_market[t]
        if not live[b]:
            continue
        for f in range(per_task.shape[1]):
            low[b, f] = min(low[b, f], per_task[t, f, 0])
            high[b, f] = max(high[b, f], per_task[t, f, 1])


def attitude_ranges(batch: MarketBatch) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` ``[B, F]``: bounds on the attitudes toward each firm among the customers
    of each live market (0 in the others; NaN skipped, +-inf when there is no other value).

    Within a step, word of mouth took them as it went (``batch.attitude_spans``): the lowest
    and highest attitude of each task's customers as the attitudes faded
    (``sim.rules.word_of_mouth.decide_rows``, :func:`row_range`), widened by every attitude its
    listeners moved to (``sim.rules.listening.hear``). That is the range after the step's word of
    mouth, or wider where a listener moved away from the extreme it held: a bound, which is all
    the switching bounds need (a looser one changes no number, the module docstring). Taken so,
    the pass over every customer's attitudes that switching made for them is saved (at 1M
    customers and 6 firms 3.6 ms of a step on two threads, numpy's reductions over the market;
    6 December 2026, Intel Xeon). Without them (switching called on its own) the ranges
    themselves, task by task (:func:`task_attitude_range`)."""
    task_market, task_lo, task_hi = batch.tasks
    live = batch.live
    low, high = np.zeros((batch.B, batch.F)), np.zeros((batch.B, batch.F))
    spans = batch.attitude_spans
    if spans is None:
        attitude = batch.customer_state.attitude
        per_task = np.empty((len(task_market), attitude.shape[0], 2), attitude.dtype)
        task_ranges(len(task_market), (task_market, task_lo, task_hi), live, attitude, per_task)
        combined_ranges(task_market, live, per_task, low, high)
        return low, high
    faded, heard = spans
    combined_ranges(task_market, live, faded, low, high)
    low = np.where(live[:, None], np.minimum(low, heard[:, :, 0]), low)
    high = np.where(live[:, None], np.maximum(high, heard[:, :, 1]), high)
    return low, high
