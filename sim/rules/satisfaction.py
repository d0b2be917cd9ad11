"""Phase 4, satisfaction: experience against expectation, losses weighing more than gains.

For a served customer with attribute weights ``w`` (Oliver 1980; Anderson & Sullivan 1993;
Tversky & Kahneman 1992 for ``lambda`` = 2.25)::

    g(x) = |x| ** curvature            if x >= 0
    g(x) = -lambda * |x| ** curvature  if x < 0
    d    = sum_k w[k] * g(X[k] - E[k])                 (disconfirmation)
    s    = clip(intercept + b_perf * sum_k w[k] X[k] + b_disc * d + extras * retention(f)
                + disposition, 0, 10)
    S   += memory * (s - S)                            (S is the running satisfaction, 0..10)

``E`` is the expectation the experience was judged against (see the expectations phase) and
``retention(f)`` the firm's retention programme level, 0..1 (extras and reinforcing promotions).
A broken promise is punished beyond the expectation it raised (Gneezy & Epley 2014): ``s`` loses
``weight_broken_promise * h * sum_k w[k] max(0, h (P[k] - X[k]) - tolerance) / h`` points, with
the promise as held by the trust phase (``h = min(1, 2 * reliance)``); exceeding a promise earns
nothing extra on this count.
``disposition`` is a lasting personal offset, N(0, disposition_sd), drawn once per customer: some
people rate harshly, some generously, which spreads S across customers as survey answers are.
S starts at the first experience with a new supplier.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import Blocks, firm_table, put_where, wsum
from sim.rules.expectations import promise_hold
from sim.rules.fused import Block, run_in_blocks
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.params import SatisfactionParams


def value_function(
    gap: np.ndarray,
    loss_aversion: float,
    curvature: float,
    out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Prospect-theory value of a gap ``X - E``: gains as they are, losses times lambda.

    Computed as ``max(gap, 0) + lambda * min(gap, 0)`` (with ``|gap| ** curvature`` in place of
    ``|gap|`` when curvature is not 1), which is exact and avoids a slow ``np.where``. ``out`` and
    ``scratch`` are optional buffers shaped like ``gap``.
    """
    ft = gap.dtype.type
    out = np.empty_like(gap) if out is None else out
    low = np.empty_like(gap) if scratch is None else scratch
    if curvature == 1.0:
        np.maximum(gap, ft(0.0), out=out)
        np.minimum(gap, ft(0.0), out=low)
        low *= ft(loss_aversion)
        out += low
        return out
    np.abs(gap, out=low)
    low **= ft(curvature)  # |gap| ** curvature
    out[...] = np.where(gap >= 0, low, ft(-loss_aversion) * low)
    return out


def judge(
    experience: np.ndarray,
    expectation: np.ndarray,
    weights: np.ndarray,
    retention_level: np.ndarray,
    prm: SatisfactionParams,
    disposition: np.ndarray | float = 0.0,
    blocks: Blocks | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(s, d, perf)``: this step's satisfaction on 0..10, the weighted disconfirmation and the
    weighted performance ``sum_k w[k] X[k]`` (computed in ``blocks``' buffers when given)."""
    ft = experience.dtype.type
    c, k = experience.shape
    get = (
        (lambda name, width: blocks(name, width, ft)[:c])
        if blocks is not None
        else (lambda name, width: np.empty((c, width) if width else c, ft))
    )
    gap = np.subtract(experience, expectation, out=get("gap", k))
    value = value_function(gap, prm.loss_aversion, prm.curvature, get("value", k), get("low", k))
    d = wsum(weights, value, out=get("d", 0), product=gap)
    perf = wsum(weights, experience, out=get("perf", 0), product=gap)
    s = np.multiply(perf, ft(prm.weight_performance), out=get("s", 0))
    s += ft(prm.weight_disconfirmation) * d
    s += ft(prm.intercept)
    s += ft(prm.extras_bonus) * retention_level
    s += disposition
    np.clip(s, 0.0, 10.0, out=s)
    return s, d, perf


def step_satisfaction(
    experience: np.ndarray,
    expectation: np.ndarray,
    weights: np.ndarray,
    retention_level: np.ndarray,
    prm: SatisfactionParams,
    disposition: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(s, d)``: this step's satisfaction on 0..10 and the weighted disconfirmation."""
    s, d, _ = judge(experience, expectation, weights, retention_level, prm, disposition)
    return s, d


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values of the phase and the per-firm tallies for the metrics."""
    cs, prm, n_firms = model.customer_state, model.params.satisfaction, model.firm_state.n
    ft = cs.satisfaction.dtype.type
    hold = max(promise_hold(model.params), 1e-9)
    return SimpleNamespace(
        memory=ft(weekly_rate_to_step(prm.memory, model.steps_per_year)),
        retention=firm_table(model.retention_level, 0.0, ft),
        # breach: the shortfall below the promise as held (same test as the trust phase)
        breach_floor=firm_table(
            model.firm_state.promise - model.params.trust.tolerance / hold, 0.0, ft
        ),
        breach_weight=ft(prm.weight_broken_promise * hold),
        sums=np.zeros((n_firms, 3)),  # per firm: served, sum of w.X, sum of w.E_used
    )


def block(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace, blk: Block) -> None:
    """s and S for the customers of a block, in every industry."""
    cs, ws, prm = model.customer_state, model.workspace, model.params.satisfaction
    blocks, c, rows = ws.blocks, blk.size, blk.rows
    k = len(model.attributes)
    ft = cs.satisfaction.dtype.type
    w = cs.weights[rows]
    for m in range(len(model.industries)):
        key, served = blk.key[m], blk.served[m]
        judged = ws.expectation_used[m, rows]
        x = cs.experience[m, rows]
        short = np.take(ctx.breach_floor, key, axis=0, out=blocks("short", k, ft)[:c], mode="wrap")
        short -= x
        np.maximum(short, ft(0.0), out=short)
        offset = wsum(w, short, out=blocks("offset", 0, ft)[:c], product=blocks("gap", k, ft)[:c])
        offset *= -ctx.breach_weight
        offset += cs.disposition[rows]  # disposition - breach, added before the clip
        s, _, perf = judge(
            x, judged, w, np.take(ctx.retention, key, mode="wrap"), prm, offset, blocks
        )
        old = cs.satisfaction[m, rows]
        ws.satisfaction_before[m, rows] = old
        new = np.subtract(s, old, out=blocks("new", 0, ft)[:c])
        new *= ctx.memory
        new += old
        np.putmask(new, np.isnan(old), s)  # S starts at the first experience
        put_where(old, new, served)
        put_where(cs.last_satisfaction[m, rows], s, served)
        if scratch.recording:  # per-firm sums for the metrics: firm indicator x values
            firms = model.industry_firms[m]
            v = blocks("sums", dtype=np.float64, leading=3)[:, :c]
            v[0] = 1.0
            np.copyto(v[1], perf)
            wsum(w, judged, out=blocks("ew", 0, ft)[:c], product=blocks("gap", k, ft)[:c])
            np.copyto(v[2], blocks("ew", 0, ft)[:c])
            v[1:, ~served] = 0.0  # customers without a supplier hold stale or missing values
            ctx.sums[firms] += (blk.supplier[m] == firms[:, None]).astype(np.float64) @ v.T


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Hand the phase's tallies to the scratch."""
    scratch.served_count = ctx.sums[:, 0]
    scratch.experience_sum, scratch.expectation_sum = ctx.sums[:, 1], ctx.sums[:, 2]


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Compute s and update S for every served customer."""
    run_in_blocks(model, scratch, [sys.modules[__name__]])
