"""Phase 5, trust, complaints and service recovery, commitment.

Trust (kept and broken promises; Gneezy & Epley 2014: breaking is punished, exceeding earns
little)::

    gap[k]    = h * (P[k] - X[k]),   h = min(1, 2 * reliance)      (the promise as held)
    kept      = sum_k w[k] * [gap[k] <= tolerance]
    shortfall = sum_k w[k] * max(0, gap[k] - tolerance) / h
    cut       = min(1, loss * h * shortfall * (disclosure_factor if warned else 1))   (per week)
    T        += gain * kept * (1 - T)  -  cut * T

``reliance = weight_promise / (weight_promise + weight_experience)`` (Kopalle & Lehmann 2006):
customers who barely go by promises barely hold a firm to them. ``h (P - X) > tolerance`` is
``X < P - tolerance / h``: the floor of :func:`prepare`. Both ``gain`` and the cut are per week
and converted to the step length, so a persistent shortfall costs the same trust per year at any
``steps_per_year``.

Complaints and recovery: a customer whose experience this step scored below ``threshold``
complains with probability ``probability``. The firm answers a share
``answer_base + answer_from_retention * retention(f) + answer_from_spare_capacity * spare(f)``
(clipped to 0..1). An answered complaint gives back ``recovery`` of the satisfaction this step took
away, or only ``repeat_recovery`` within ``recovery_memory_weeks`` of the last recovery (Maxham &
Netemeyer 2002: forgiven once, not twice); an ignored one costs ``unanswered_trust_cost`` of
trust. The share of a customer's complaints that were answered is its control mutuality.

Commitment moves slowly toward ``0.5 * S / 10 + 0.5 * T + commitment_from_retention *
retention(f)`` (Palmatier et al. 2006: relationship investment pays through relationship quality).

:func:`prepare` computes the firm-level values; :func:`trusted`, :func:`trust_cut`,
:func:`recovered` and :func:`committed` are the rules for one customer, applied by the kernels of
``sim.rules.fused``; :func:`draw_complaints` draws who complains and who is answered.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.arrays import chunks, firm_table
from sim.jit import ONE, ZERO, as_type_of, clip, rule
from sim.rules.expectations import promise_hold
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket

NO_COMPLAINT, ANSWERED, IGNORED = 0, 1, 2
"""Outcome of a customer's complaint this step."""


@rule
def trust_cut(shortfall: float, warned: bool, p: Any) -> float:
    """The share of trust a broken promise takes this step: ``min(1, loss * h * shortfall)``,
    times ``disclosure_factor`` when the failure was announced, converted from a week to the
    step (``p.step_power = 52 / steps_per_year``)."""
    cut = shortfall * p.loss
    if warned:
        cut *= p.disclosure_factor
    cut = clip(cut, ZERO, ONE)
    if p.step_power != 1.0:
        cut = as_type_of(1.0 - (1.0 - np.float64(cut)) ** p.step_power, cut)
    return cut


@rule
def trusted(trust: float, kept: float, cut: float, gain: float) -> float:
    """``T + gain * kept * (1 - T) - cut * T``: kept promises build trust toward 1, broken ones
    take the share ``cut`` of it."""
    t = (ONE - trust) * kept * gain
    t -= cut * trust
    return t + trust


@rule
def recovered(satisfaction: float, before: float, steps_since_recovery: int, p: Any) -> float:
    """Running satisfaction after an answered complaint: ``recovery`` (``repeat_recovery``
    within the recovery memory) of what this step took away from it is given back."""
    lost = ZERO
    if before == before:
        lost = max(before - satisfaction, ZERO)
    share = p.repeat_recovery if steps_since_recovery < p.memory_steps else p.recovery
    return satisfaction + share * lost


@rule
def committed(commitment: float, satisfaction: float, trust: float, bonus: float, p: Any) -> float:
    """Commitment moves ``commitment_rate`` of the way toward ``0.5 S / 10 + 0.5 T + bonus``
    (``bonus``: ``commitment_from_retention * retention(f)``)."""
    toward = satisfaction * p.satisfaction_share
    toward += trust * p.trust_share
    toward += bonus
    toward = clip(toward, ZERO, ONE)
    return (toward - commitment) * p.commit_rate + commitment


def answer_share(model: CustomerMarket, utilisation: np.ndarray) -> np.ndarray:
    """``[F]`` share of complaints each firm answers."""
    prm = model.params.complaints
    spare = np.clip(1.0 - utilisation, 0.0, 1.0)
    share = (
        prm.answer_base
        + prm.answer_from_retention * model.retention_level
        + prm.answer_from_spare_capacity * spare
    )
    return np.clip(share, 0.0, 1.0)


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values and constants of the phase."""
    cs, fs, prm, cprm = (
        model.customer_state,
        model.firm_state,
        model.params.trust,
        model.params.complaints,
    )
    spy = model.steps_per_year
    ft = cs.trust.dtype.type
    hold = max(promise_hold(model.params), 1e-9)
    return SimpleNamespace(
        complain_p=weekly_rate_to_step(cprm.probability, spy),
        answer=firm_table(answer_share(model, scratch.utilisation), 0.0),
        # the promise as held: h (P - X) > tolerance  <=>  X < P - tolerance / h
        floor=firm_table(fs.promise - prm.tolerance / hold, 0.0, ft),
        commit_bonus=firm_table(prm.commitment_from_retention * model.retention_level, 0.0, ft),
        constants={
            "gain": weekly_rate_to_step(prm.gain, spy),
            "loss": prm.loss * hold,
            "disclosure_factor": prm.disclosure_factor,
            "threshold": cprm.threshold,
            "kept_share": 1.0 - cprm.unanswered_trust_cost,
            "satisfaction_share": 0.05,  # 0.5 of S / 10
            "trust_share": 0.5,
            "commit_rate": weekly_rate_to_step(prm.commitment_rate, spy),
        },
        wide_constants={  # used in float64, as the state's type would round them
            "step_power": 52.0 / spy,
            "memory_steps": cprm.recovery_memory_weeks * spy / 52.0,
            "repeat_recovery": cprm.repeat_recovery,
            "recovery": cprm.recovery,
        },
        complaints=np.zeros(fs.n),
        answered=np.zeros(fs.n),
    )


def draw_complaints(
    model: CustomerMarket,
    ctx: SimpleNamespace,
    lo: int,
    hi: int,
    block: int,
    unhappy: np.ndarray,
    outcome: np.ndarray,
) -> None:
    """Who of the unhappy customers ``lo..hi`` complains and whether the firm answers:
    ``outcome[m, i - lo]`` is ``NO_COMPLAINT``, ``ANSWERED`` or ``IGNORED`` (drawn in blocks of
    ``block`` customers from the "complain" and "answer" streams)."""
    cs, draws, n_firms = model.customer_state, model.draws, model.firm_state.n
    outcome[:, : hi - lo] = NO_COMPLAINT
    for rows in chunks(hi - lo, block):
        for m in range(len(model.industries)):
            sup = cs.supplier[m, lo + rows.start : lo + rows.stop]
            who = np.flatnonzero(unhappy[m, rows])
            complains = who[draws.uniform("complain", m, lo + rows.start + who) < ctx.complain_p]
            f = sup[complains]
            yes = draws.uniform("answer", m, lo + rows.start + complains) < ctx.answer[f]
            outcome[m, rows.start + complains] = np.where(yes, ANSWERED, IGNORED)
            ctx.complaints += np.bincount(f, minlength=n_firms)
            ctx.answered += np.bincount(f[yes], minlength=n_firms)


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Hand the phase's tallies to the scratch."""
    scratch.complaints, scratch.answered = ctx.complaints, ctx.answered
