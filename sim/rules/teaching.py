"""Phase 6b, teaching customers what to expect: firms shift what customers value.

Attribute importance is not fixed: a firm that talks about what it is best at teaches customers
to care about it (Carpenter & Nakamoto 1989: pioneers shape preferences; Hoeffler & Ariely 1999:
preferences are constructed). A firm spends a share of its marketing (``teaching`` in its
decision) on this communication; its level is that spending against ``teaching.reference``,
0..1. Each week a customer's attribute weights move toward the focus of the firms that teach
it, slowly and within limits, and drift back toward its own::

    a(n, f)  = 1 for the firms serving n;  prospect_share for the other firms visible to n
    w[n]    += rate * sum_f a(n, f) * L(f) * (focus[f] - w[n])              (teaching)
    w[n]    += forget * (w0[n] - w[n])                                      (its own weights)
    w[n, k]  = clip(w[n, k], w0[n, k] - max_shift, w0[n, k] + max_shift), then normalised

``w0`` are the weights the customer started with (its segment's, ``base_weights``); ``L(f)`` the
firm's teaching level. Word of mouth carries some of it: a listener who hears ``c`` messages about
firm ``f`` moves ``1 - (1 - word_of_mouth_share * L(f)) ** c`` of the way toward ``f``'s focus
(sim.rules.word_of_mouth). Rates are per week. A niche firm is best at one or two attributes and
teaches them (``niche``'s ``teaching`` lever).

:func:`within_limits` is the rule that keeps one customer's weights in bounds, applied with the
moves above by :func:`taught` to every customer of the markets where some firm teaches or
someone has been taught (elsewhere the phase costs nothing). Switch:
``mechanisms.teaching`` off: no firm teaches, weights stay the customer's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import ONE, ZERO, kernel, rule
from sim.params.stacked import StackedParams
from sim.state import BatchScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch


@rule
def within_limits(weights: np.ndarray, base: np.ndarray, max_shift: float) -> None:
    """Keep each weight within ``max_shift`` of the customer's own (and in 0..1), then make the
    weights sum to 1 again (in place)."""
    total = ZERO * weights[0]
    for k in range(len(weights)):
        low = max(base[k] - max_shift, ZERO * weights[0])
        high = min(base[k] + max_shift, ONE + ZERO * weights[0])
        w = weights[k]
        if w < low:
            w = low
        elif w > high:
            w = high
        weights[k] = w
        total += w
    if total > ZERO:
        for k in range(len(weights)):
            weights[k] /= total


@kernel
def taught(
    offsets: np.ndarray,
    teach: np.ndarray,
    weights: np.ndarray,
    base: np.ndarray,
    supplier: np.ndarray,
    region: np.ndarray,
    visible: np.ndarray,
    focus: np.ndarray,
    level: np.ndarray,
    consts: Any,
) -> None:
    """Move every customer's weights toward the focus of the firms that teach it, back toward its
    own, within the limits (in place), in the markets with ``teach[b]``. ``level`` is ``[B, F]``
    (0 for firms that do not teach); ``visible`` ``[B, R, F]``; ``focus`` ``[B, F, K]``; the
    markets' constants hold ``teach_rate``, ``prospect_share``, ``forget``, ``max_shift``."""
    n_firms = level.shape[1]
    n_ind = supplier.shape[0]
    k_attr = weights.shape[1]
    for b in range(len(offsets) - 1):
        if not teach[b]:
            continue
        p = consts[b]
        for i in range(offsets[b], offsets[b + 1]):
            w = weights[i]
            for f in range(n_firms):
                if level[b, f] <= 0 or not visible[b, region[i], f]:
                    continue
                reach = p.prospect_share
                for m in range(n_ind):
                    if supplier[m, i] == f:
                        reach = ONE
                step = p.teach_rate * reach * level[b, f]
                for k in range(k_attr):
                    w[k] += step * (focus[b, f, k] - w[k])
            for k in range(k_attr):
                w[k] += p.forget * (base[i, k] - w[k])
            within_limits(w, base[i], p.max_shift)


def levels(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` each firm's teaching level this step, 0..1 (0 with ``mechanisms.teaching``
    off)."""
    P = batch.params
    level = np.clip(batch.firm_state.teaching_spend / P.teaching.reference, 0.0, 1.0)
    return np.where(P.mechanisms.teaching, level, 0.0)


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm = P.teaching
    return {
        "teach_rate": (weekly_rate_to_step(prm.rate, steps_per_year), "f"),
        "prospect_share": (prm.prospect_share, "f"),
        "forget": (weekly_rate_to_step(prm.forget, steps_per_year), "f"),
        "max_shift": (prm.max_shift, "f"),
    }


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Shift every customer's weights toward what the firms that reach it teach, in the markets
    where some firm teaches or someone has been taught (elsewhere the weights are the
    customers' own and the phase costs nothing)."""
    cs = batch.customer_state
    level = levels(batch)
    teach = (level.any(axis=1) | batch.taught) & batch.live
    if not teach.any():
        return
    batch.taught |= teach
    ft = cs.weights.dtype.type
    taught(
        batch.offsets,
        teach,
        cs.weights,
        cs.base_weights,
        cs.supplier,
        cs.region,
        batch.visible,
        batch.firm_state.focus.astype(ft),
        level.astype(ft),
        batch.consts,
    )
