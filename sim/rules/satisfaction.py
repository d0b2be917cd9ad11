"""Phase 4, satisfaction: experience against expectation, losses weighing more than gains.

For a served customer with attribute weights ``w`` (Oliver 1980; Anderson & Sullivan 1993;
Tversky & Kahneman 1992 for ``lambda`` = 2.25)::

    g(x)   = |x| ** curvature            if x >= 0
    g(x)   = -lambda * |x| ** curvature  if x < 0
    d      = sum_k w[k] * g(X[k] - E[k])                  (disconfirmation)
    perf   = sum_k w[k] * X[k]                            (performance)
    s      = clip(intercept + b_perf * perf + b_disc * d + extras_bonus * L_extras(f) + disposition,
                  0, 10)
    S      = s                        at the first experience with this supplier
    S     += memory * (s - S)         afterwards (S is the running satisfaction, 0..10)

``E`` is the expectation the experience was judged against (see the expectations phase) and
``L_extras(f)`` the level of the firm's product extras, 0..1 (sim.rules.retention).
A broken promise lowers satisfaction only through the expectation it raised (the promise is in
the expectation target, weighted by the firm's credibility); what it does to trust is the trust
phase's. ``disposition`` is a lasting personal offset, N(0, disposition_sd), drawn once per
customer: some people rate harshly, some generously, which spreads S across customers as survey
answers are.

:func:`value` is the value function, :func:`rating` this step's ``s`` and :func:`running` the
update of ``S``, for one customer; the kernel of ``sim.rules.fused`` applies them and records
each served customer's ``d`` for the metrics and validation (``StepScratch.disconfirmation``).
Switches (``[mechanisms]``): ``loss_aversion`` off makes ``lambda`` 1, ``disconfirmation`` off
removes the ``b_disc`` term, ``retention_extras`` off the extras (sim.rules.retention).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.arrays import firm_table
from sim.jit import ONE, ZERO, clip, rule
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


@rule
def value(gap: float, loss_aversion: float, curvature: float) -> float:
    """Prospect-theory value of a gap ``X - E``: ``|gap| ** curvature`` for a gain, ``lambda``
    times as much, negative, for a loss; with ``curvature`` 1, ``gap`` or ``lambda * gap``.

    The linear case is a branch of its own that takes no power: written as one expression
    (``abs(gap) if curvature == 1 else abs(gap) ** curvature``), the compiler calls ``powf``
    for every attribute of every customer and then discards the result (it speculates the
    call), which made phases 2 to 5 30-40% slower (docs/performance.md)."""
    if curvature == ONE:
        return gap if gap >= ZERO else loss_aversion * gap
    size = abs(gap) ** curvature
    return size if gap >= ZERO else -loss_aversion * size


@rule
def rating(
    performance: float, disconfirmation: float, extras: float, disposition: float, p: Any
) -> float:
    """This step's satisfaction ``s`` on 0..10 from the weighted performance and
    disconfirmation, the firm's product extras (points, ``extras_bonus * L[extras]``) and the
    customer's disposition (``p``: the phase's parameter record)."""
    s = performance * p.weight_performance
    s += p.weight_disconfirmation * disconfirmation
    s += p.intercept
    s += extras
    s += disposition
    return clip(s, ZERO, p.ten)


@rule
def running(satisfaction: float, s: float, memory: float) -> float:
    """``S += memory * (s - S)``; ``S = s`` at the first experience (S is NaN before)."""
    if satisfaction != satisfaction:
        return s
    return (s - satisfaction) * memory + satisfaction


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values and constants of the phase."""
    prm, on = model.params.satisfaction, model.params.mechanisms
    ft = model.customer_state.satisfaction.dtype.type
    return SimpleNamespace(
        extras=firm_table(model.params.retention.extras_bonus * model.tactics[:, 0], 0.0, ft),
        constants={
            "memory": weekly_rate_to_step(prm.memory, model.steps_per_year),
            "loss_aversion": prm.loss_aversion if on.loss_aversion else 1.0,
            "curvature": prm.curvature,
            "weight_performance": prm.weight_performance,
            "weight_disconfirmation": prm.weight_disconfirmation if on.disconfirmation else 0.0,
            "intercept": prm.intercept,
            "ten": 10.0,
        },
        sums=np.zeros((model.firm_state.n, 3)),  # per firm: served, sum of w.X, sum of w.E_used
    )


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Hand the phase's tallies to the scratch."""
    scratch.served_count = ctx.sums[:, 0]
    scratch.experience_sum, scratch.expectation_sum = ctx.sums[:, 1], ctx.sums[:, 2]
