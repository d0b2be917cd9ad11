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

:func:`taught` is the rule for one customer, applied to every customer by :func:`teach` when any
firm teaches or anyone has been taught (otherwise the phase costs nothing). Switch:
``mechanisms.teaching`` off: no firm teaches, weights stay the customer's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import ONE, ZERO, kernel, rule
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


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
    weights: np.ndarray,
    base: np.ndarray,
    supplier: np.ndarray,
    region: np.ndarray,
    visible: np.ndarray,
    focus: np.ndarray,
    level: np.ndarray,
    params: Any,
) -> None:
    """Move every customer's weights toward the focus of the firms that teach it, back toward its
    own, within the limits (in place). ``level`` is ``[F]`` (0 for firms that do not teach);
    ``visible`` ``[R, F]``; ``params[0]`` holds ``rate``, ``prospect_share``, ``forget``,
    ``max_shift``."""
    p = params[0]
    n, k_attr = weights.shape
    n_firms = level.shape[0]
    n_ind = supplier.shape[0]
    for i in range(n):
        w = weights[i]
        for f in range(n_firms):
            if level[f] <= 0 or not visible[region[i], f]:
                continue
            reach = p.prospect_share
            for m in range(n_ind):
                if supplier[m, i] == f:
                    reach = ONE
            step = p.rate * reach * level[f]
            for k in range(k_attr):
                w[k] += step * (focus[f, k] - w[k])
        for k in range(k_attr):
            w[k] += p.forget * (base[i, k] - w[k])
        within_limits(w, base[i], p.max_shift)


def levels(model: CustomerMarket) -> np.ndarray:
    """``[F]`` each firm's teaching level this step, 0..1 (0 with ``mechanisms.teaching`` off)."""
    fs = model.firm_state
    if not model.params.mechanisms.teaching:
        return np.zeros(fs.n)
    return np.clip(fs.teaching_spend / model.params.teaching.reference, 0.0, 1.0)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Shift every customer's weights toward what the firms that reach it teach."""
    cs, prm = model.customer_state, model.params.teaching
    level = levels(model)
    if not level.any() and not model.taught:
        return  # nobody teaches and nobody was ever taught: the weights are the customers' own
    model.taught = True
    ft = cs.weights.dtype.type
    spy = model.steps_per_year
    record = np.zeros(
        1,
        [("rate", ft), ("prospect_share", ft), ("forget", ft), ("max_shift", ft)],
    )
    record["rate"] = weekly_rate_to_step(prm.rate, spy)
    record["prospect_share"] = prm.prospect_share
    record["forget"] = weekly_rate_to_step(prm.forget, spy)
    record["max_shift"] = prm.max_shift
    taught(
        cs.weights,
        cs.base_weights,
        cs.supplier,
        cs.region,
        model.visible,
        model.firm_state.focus.astype(ft),
        level.astype(ft),
        record.view(np.recarray),
    )
