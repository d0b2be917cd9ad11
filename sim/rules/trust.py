"""Phase 5, trust, complaints and service recovery, commitment.

Trust (kept and broken promises; Gneezy & Epley 2014: breaking is punished, exceeding earns
little)::

    kept      = sum_k w[k] * [X[k] >= P[k] - tolerance]
    shortfall = sum_k w[k] * max(0, P[k] - tolerance - X[k])
    T += gain * kept * (1 - T)  -  min(1, loss * shortfall * (disclosure_factor if warned
                                                                else 1)) * T

Both ``gain`` and the loss are per week and converted to the step length, so a persistent
shortfall costs the same trust per year at any ``steps_per_year``.

Complaints and recovery: a customer whose experience this step scored below ``threshold``
complains with probability ``probability``. The firm answers a share
``answer_base + answer_from_retention * retention(f) + answer_from_spare_capacity * spare(f)``
(clipped to 0..1). An answered complaint gives back ``recovery`` of the satisfaction this step took
away, or only ``repeat_recovery`` within ``recovery_memory_weeks`` of the last recovery (Maxham &
Netemeyer 2002: forgiven once, not twice); an ignored one costs ``unanswered_trust_cost`` of
trust. The share of a customer's complaints that were answered is its control mutuality.

Commitment moves slowly toward ``0.5 * S / 10 + 0.5 * T + commitment_from_retention *
retention(f)`` (Palmatier et al. 2006: relationship investment pays through relationship quality).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import take_rows
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def answer_share(model: CustomerMarket, utilisation: np.ndarray) -> np.ndarray:
    """``[F]`` share of complaints each firm answers."""
    prm = model.params.complaints
    spare = np.clip(1.0 - utilisation, 0.0, 1.0)
    share = (prm.answer_base + prm.answer_from_retention * model.retention_level
             + prm.answer_from_spare_capacity * spare)
    return np.clip(share, 0.0, 1.0)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Update trust, handle complaints and recoveries, update commitment and tenure."""
    cs, fs, prm = model.customer_state, model.firm_state, model.params.trust
    cprm = model.params.complaints
    spy = model.steps_per_year
    gain = weekly_rate_to_step(prm.gain, spy)
    commit_rate = weekly_rate_to_step(prm.commitment_rate, spy)
    complain_p = weekly_rate_to_step(cprm.probability, spy)
    memory_steps = cprm.recovery_memory_weeks * spy / 52.0
    answer = answer_share(model, scratch.utilisation)
    n_firms = fs.n
    complaints = np.zeros(n_firms)
    answered_total = np.zeros(n_firms)
    rng = model.rng
    for m, served in enumerate(scratch.served):
        f = scratch.firm[m]
        x = take_rows(cs.experience[m], served)
        w = take_rows(cs.weights, served)
        promise = np.take(fs.promise, f, axis=0)
        floor = promise - prm.tolerance
        kept = np.einsum("nk,nk->n", w, (x >= floor).astype(float))
        shortfall = np.einsum("nk,nk->n", w, np.maximum(0.0, floor - x))
        t = cs.trust[m][served]
        cut = np.clip(prm.loss * shortfall
                      * np.where(scratch.warned[m], prm.disclosure_factor, 1.0), 0.0, 1.0)
        t = t + gain * kept * (1.0 - t) - weekly_rate_to_step(cut, spy) * t

        s = scratch.step_satisfaction[m]
        complains = (s < cprm.threshold) & (rng.random(len(served)) < complain_p)
        answered = complains & (rng.random(len(served)) < answer[f])
        ignored = complains & ~answered
        t = np.where(ignored, t * (1.0 - cprm.unanswered_trust_cost), t)
        cs.trust[m][served] = np.clip(t, 0.0, 1.0)

        since = cs.steps_since_recovery[m][served]
        if answered.any():
            rows = np.flatnonzero(answered)
            before = scratch.satisfaction_before[m][rows]
            now = cs.satisfaction[m][served[rows]]
            lost = np.where(np.isnan(before), 0.0, np.maximum(0.0, before - now))
            share = np.where(since[rows] < memory_steps, cprm.repeat_recovery, cprm.recovery)
            cs.satisfaction[m][served[rows]] = now + share * lost
        cs.steps_since_recovery[m][served] = np.where(answered, 0, np.minimum(since + 1, 1 << 30))
        cs.complaints[m][served] += complains
        cs.answered[m][served] += answered
        complaints += np.bincount(f, weights=complains, minlength=n_firms)
        answered_total += np.bincount(f, weights=answered, minlength=n_firms)

        sat = cs.satisfaction[m][served]
        target = np.clip(0.5 * sat / 10.0 + 0.5 * cs.trust[m][served]
                         + prm.commitment_from_retention * model.retention_level[f], 0.0, 1.0)
        c = cs.commitment[m][served]
        cs.commitment[m][served] = c + commit_rate * (target - c)
        cs.tenure[m][served] += 1
    scratch.complaints, scratch.answered = complaints, answered_total
