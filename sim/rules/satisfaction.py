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
``disposition`` is a lasting personal offset, N(0, disposition_sd), drawn once per customer: some
people rate harshly, some generously, which spreads S across customers as survey answers are.
S starts at the first experience with a new supplier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import take_rows
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.params import SatisfactionParams


def value_function(gap: np.ndarray, loss_aversion: float, curvature: float) -> np.ndarray:
    """Prospect-theory value of a gap ``X - E``: gains as they are, losses times lambda."""
    mag = np.abs(gap) if curvature == 1.0 else np.abs(gap) ** curvature
    return np.where(gap >= 0, mag, -loss_aversion * mag)


def step_satisfaction(
    experience: np.ndarray,
    expectation: np.ndarray,
    weights: np.ndarray,
    retention_level: np.ndarray,
    prm: SatisfactionParams,
    disposition: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(s, d)``: this step's satisfaction on 0..10 and the weighted disconfirmation."""
    d = np.einsum("nk,nk->n", weights,
                  value_function(experience - expectation, prm.loss_aversion, prm.curvature))
    perf = np.einsum("nk,nk->n", weights, experience)
    s = (prm.intercept + prm.weight_performance * perf + prm.weight_disconfirmation * d
         + prm.extras_bonus * retention_level + disposition)
    return np.clip(s, 0.0, 10.0), d


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Compute s and update S for every served customer."""
    cs, prm = model.customer_state, model.params.satisfaction
    memory = weekly_rate_to_step(prm.memory, model.steps_per_year)
    for m, served in enumerate(scratch.served):
        f = scratch.firm[m]
        s, d = step_satisfaction(take_rows(cs.experience[m], served), scratch.expectation_used[m],
                                 take_rows(cs.weights, served), model.retention_level[f], prm,
                                 cs.disposition[served])
        old = cs.satisfaction[m][served]
        cs.satisfaction[m][served] = np.where(np.isnan(old), s, old + memory * (s - old))
        cs.last_satisfaction[m][served] = s
        scratch.step_satisfaction.append(s)
        scratch.disconfirmation.append(d)
        scratch.satisfaction_before.append(old)
