"""Phase 5, trust in a firm's word, complaints and service recovery, commitment.

Trust ``T[f, n]`` is customer n's belief that firm f keeps its promises (its credibility to the
customer: Morgan & Hunt 1994; Erdem & Swait 1998), held for every firm, not only the current
supplier: it is what the customer learned from its own experience with the firm (here), from
word of mouth (sim.rules.word_of_mouth) and, through the firm's public credibility, from reviews
(sim.rules.expectations). It weighs the firm's promises in expectations and in choice, and the
current supplier's enters the churn hazard. It starts at ``trust.initial`` and is kept when a
customer leaves (a firm that broke its word is remembered). A served customer's experience::

    kept      = sum_k w[k] * [X[k] >= P[k] - tolerance]
    shortfall = sum_k w[k] * max(0, P[k] - tolerance - X[k])
    cut       = min(1, loss * shortfall * (1 - (1 - trust_factor) * v  if warned  else 1))
    T        += gain * kept * (1 - T)  -  cut * T                         (per week)

and, only with ``mechanisms.trust_asymmetry`` off (a counterfactual, the negative control of the
``promise_asymmetry`` check; no shipped scenario sets it)::

    surplus   = sum_k w[k] * max(0, X[k] - P[k] - tolerance)
    raised    = min(1, loss * surplus)
    T        += gain * kept * (1 - T)  +  raised * (1 - T)  -  cut * T    (per week)

``P`` is the promise as the customer holds the firm to it (sim.rules.expectations.held_promise): on
the value attribute, read at the firm's announced price, so a dearer firm that delivers the
capability it promised keeps its word (the price already lowers the value it is perceived to give,
sim.rules.delivery; it is not a broken promise as well). Breaking a promise is punished, exceeding
it earns little (Gneezy & Epley 2014): trust rises only toward 1 with kept promises and falls with
the shortfall. A failure the firm announced costs less trust (``disclosure.trust_factor``; "stealing
thunder": Williams, Bourgeois & Croyle 1993; Arpan & Roskos-Ewoldsen 2005), by the warning's effect
``v``: warnings wear out when frequent, ``v = 1 / (1 + recent / habituation)`` with ``recent`` the
warnings the customer received over the last ``disclosure.memory_weeks`` (:func:`warning_effect`).
Both ``gain`` and the cut are per week and converted to the step length.

The symmetric rule is the default's mirror image: swap trust for distrust (``T`` for ``1 - T``)
and the shortfall below the promise for the surplus above it, and a shortfall's update becomes a
surplus's. A shortfall beyond the tolerance takes the share ``loss * shortfall`` of the trust
held; a surplus beyond the tolerance gives the same share ``loss * surplus`` of the trust still
missing: the same rate ``loss``, the same tolerance band (from ``P - tolerance`` to
``P + tolerance`` an experience moves trust only through ``kept``) and the same conversion to the
step. ``kept`` stays as it is (a promise met or exceeded is kept in both rules): mirroring it too
would add a cut for every promise not exceeded, so that a promise kept exactly would pull trust
toward 1/2; the asymmetry in question is that of the deviations, not of keeping one's word. A
warning discounts only failures, so nothing mirrors the disclosure discount. The mirror is taken
on shares, not on amounts of trust, because the cut is a share: an amount ``loss * surplus * T``
would make exceeding earn most where trust is already highest and push trust past 1, where only
the clip would stop it. Shares keep trust's ceiling in the symmetric rule: trust near 0.8 has a
quarter of the room to rise that it has to fall, so even the symmetric rule gains less trust from
a surplus than it loses from an equal shortfall. What that leaves of the asymmetry is measured
and reported by the validation check (sim.validation.promises): the symmetric rule passes it too.

Complaints and recovery: a customer whose experience this step scored below ``threshold``
complains with probability ``probability * (1 + capture_from_personal * L_personal(f))``; if it
does not, the firm's post-purchase follow-up hears its problem with probability
``aftercare_reach * L_aftercare(f)`` (sim.rules.retention). The firm answers a share
``answer_base + answer_from_personal * L_personal(f) + answer_from_spare_capacity * spare(f)``
(clipped to 0..1) of what it hears. An answered complaint gives back ``recovery`` of the
satisfaction this step took away, or only ``repeat_recovery`` within ``recovery_memory_weeks``
of the last recovery (Maxham & Netemeyer 2002: forgiven once, not twice); an ignored one costs
``unanswered_trust_cost`` of trust. The share of a customer's complaints that were answered is
its control mutuality.

Commitment is the customer's attachment to the relationship itself, not a second reading of its
satisfaction and trust (those enter the churn hazard on their own). It moves slowly toward what
the firm invests in the relationship and what a long relationship builds (Palmatier et al. 2006;
Verhoef 2003; Bolton 1998 on duration)::

    target = clip(commitment_base + commitment_from_promotions * L_promotions(f)
                  + commitment_from_personal * L_personal(f)
                  + commitment_from_tenure * t / (t + tenure_halfway_years), 0, 1)

with ``t`` the tenure in years and ``L`` the levels of the retention tactics.

:func:`prepare` computes the firm-level values of every market of a batch; :func:`promise_kept`,
:func:`promise_shortfall`, :func:`promise_surplus`, :func:`trust_cut`, :func:`trust_raise`,
:func:`trusted`, :func:`warning_effect`, :func:`recovered` and :func:`committed` are the rules for
one customer,
applied by the kernel of ``sim.rules.fused``, which draws who complains, whose problem the
follow-up hears and who is answered customer by customer (``sim.draws``: purposes
``"complain"``, ``"aftercare"`` and ``"answer"``). Switches (``[mechanisms]``):
``trust_promises`` off leaves trust where it is, ``trust_asymmetry`` off makes a surplus over
the promise earn trust as a shortfall costs it (above), ``disclosure_trust`` off gives announced
failures no discount, ``disclosure_habituation`` off keeps ``v`` at 1, ``complaints`` off
silences complaints; the retention tactics' switches are described in sim.rules.retention.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import ONE, ZERO, as_type_of, clip, rule
from sim.params.stacked import StackedParams
from sim.state import BatchScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch

NO_COMPLAINT, ANSWERED, IGNORED = 0, 1, 2
"""Outcome of a customer's complaint this step."""


@rule
def promise_kept(experience: float, promise: float, tolerance: float) -> bool:
    """One attribute of a promise is kept when the experience is within ``tolerance`` of it."""
    return experience >= promise - tolerance


@rule
def promise_shortfall(experience: float, promise: float, tolerance: float) -> float:
    """How far one attribute of the experience fell short of the promise, beyond the
    tolerance."""
    return max(promise - tolerance - experience, ZERO)


@rule
def promise_surplus(experience: float, promise: float, tolerance: float) -> float:
    """How far one attribute of the experience exceeded the promise, beyond the tolerance (it
    moves trust only with ``mechanisms.trust_asymmetry`` off)."""
    return max(experience - promise - tolerance, ZERO)


@rule
def warning_effect(recent: float, habituation: float) -> float:
    """The effect of a warning, 1 at the first: ``1 / (1 + recent / habituation)``."""
    return ONE / (ONE + recent / habituation)


@rule
def trust_cut(shortfall: float, warned: bool, effect: float, p: Any, power: float) -> float:
    """The share of trust a broken promise takes this step: ``min(1, loss * shortfall)``, with
    the discount of an announced failure (``disclosure.trust_factor``, by the warning's
    ``effect``), converted from a week to the step (``power``: ``p.step_power = 52 /
    steps_per_year``; weekly steps, 1, take no power)."""
    cut = shortfall * p.loss
    if warned and p.disclosure_trust_on:
        cut *= ONE - (ONE - p.trust_factor) * effect
    cut = clip(cut, ZERO, ONE)
    if power == 1.0:
        return cut
    return as_type_of(1.0 - (1.0 - np.float64(cut)) ** power, cut)


@rule
def trust_raise(surplus: float, p: Any, power: float) -> float:
    """The share of the trust still missing that an exceeded promise gives this step: 0 with
    ``mechanisms.trust_asymmetry`` on (the model's rule: exceeding earns only what keeping
    does); off, ``min(1, loss * surplus)``, the mirror of :func:`trust_cut` (no disclosure
    discount: a warning concerns failures), converted from a week to the step alike
    (``power``, as for :func:`trust_cut`)."""
    if p.trust_asymmetry_on:
        return surplus * ZERO
    raised = clip(surplus * p.loss, ZERO, ONE)
    if power == 1.0:
        return raised
    return as_type_of(1.0 - (1.0 - np.float64(raised)) ** power, raised)


@rule
def trusted(trust: float, kept: float, cut: float, raised: float, gain: float) -> float:
    """``T + gain * kept * (1 - T) + raised * (1 - T) - cut * T``: kept promises build trust
    toward 1, broken ones take the share ``cut`` of it (``raised``, the share of the missing
    trust an exceeded promise gives, is 0 unless ``mechanisms.trust_asymmetry`` is off)."""
    t = (ONE - trust) * kept * gain
    t += (ONE - trust) * raised
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
def committed(commitment: float, tenure: int, bonus: float, p: Any) -> float:
    """Commitment moves ``commitment_rate`` of the way toward ``commitment_base + bonus +
    commitment_from_tenure * t / (t + tenure_halfway_years)`` (``bonus``:
    the promotions and personal contact of sim.rules.retention; ``t``: the tenure in years)."""
    years = tenure * p.years_per_step
    toward = p.commitment_base + bonus
    toward += p.from_tenure * (years / (years + p.tenure_halfway))
    toward = clip(toward, ZERO, ONE)
    return (toward - commitment) * p.commit_rate + commitment


def answer_share(batch: MarketBatch, utilisation: np.ndarray) -> np.ndarray:
    """``[B, F]`` share of complaints each firm answers: a base, personal contact, spare
    capacity."""
    P, personal = batch.params, batch.tactics[:, :, 2]
    spare = np.clip(1.0 - utilisation, 0.0, 1.0)
    share = (
        P.complaints.answer_base
        + P.retention.answer_from_personal * personal
        + P.complaints.answer_from_spare_capacity * spare
    )
    return np.clip(share, 0.0, 1.0)


def complaint_chance(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` chance per step that a dissatisfied customer voices a complaint to the firm:
    ``probability``, raised by personal contact (``capture_from_personal``)."""
    P = batch.params
    week = P.complaints.probability * (
        1.0 + P.retention.capture_from_personal * batch.tactics[:, :, 2]
    )
    step = weekly_rate_to_step(np.clip(week, 0.0, 1.0), batch.steps_per_year)
    return np.where(P.mechanisms.complaints, step, 0.0)


def aftercare_chance(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` chance per step that the firm's post-purchase follow-up hears the problem of
    a dissatisfied customer who did not complain (``aftercare_reach * L[aftercare]``)."""
    P = batch.params
    week = np.clip(P.retention.aftercare_reach * batch.tactics[:, :, 3], 0.0, 1.0)
    step = weekly_rate_to_step(week, batch.steps_per_year)
    return np.where(P.mechanisms.complaints, step, 0.0)


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm, cprm, dprm, on, spy = P.trust, P.complaints, P.disclosure, P.mechanisms, steps_per_year
    return {
        "tolerance": (prm.tolerance, "f"),
        "gain": (weekly_rate_to_step(prm.gain, spy), "f"),
        "loss": (prm.loss, "f"),
        "trust_factor": (dprm.trust_factor, "f"),
        "habituation": (dprm.habituation, "f"),
        "warnings_keep": (1.0 - 1.0 / (dprm.memory_weeks * spy / 52.0), "f"),
        "threshold": (cprm.threshold, "f"),
        "kept_share": (1.0 - cprm.unanswered_trust_cost, "f"),
        "commitment_base": (prm.commitment_base, "f"),
        "from_tenure": (prm.commitment_from_tenure, "f"),
        "tenure_halfway": (prm.tenure_halfway_years, "f"),
        "years_per_step": (np.full_like(prm.gain, 1.0 / spy), "f"),
        "commit_rate": (weekly_rate_to_step(prm.commitment_rate, spy), "f"),
        "trust_promises_on": (on.trust_promises, "b"),
        "trust_asymmetry_on": (on.trust_asymmetry, "b"),
        "disclosure_trust_on": (on.disclosure_trust, "b"),
        "habituation_on": (on.disclosure_habituation, "b"),
        # used in float64, as the state's type would round them
        "step_power": (np.full_like(prm.gain, 52.0 / spy), "w"),
        "memory_steps": (cprm.recovery_memory_weeks * spy / 52.0, "w"),
        "repeat_recovery": (cprm.repeat_recovery, "w"),
        "recovery": (cprm.recovery, "w"),
    }


def prepare(batch: MarketBatch, scratch: BatchScratch) -> SimpleNamespace:
    """Firm-level values of the phase, ``[B, F + 1]`` tables (the last row: no firm)."""
    P, levels = batch.params, batch.tactics
    bonus = P.retention.commitment_from_promotions * levels[:, :, 1]  # promotions (worn)
    bonus = bonus + P.retention.commitment_from_personal * levels[:, :, 2]  # a personal tie
    return SimpleNamespace(
        complain_p=batch.firm_table(complaint_chance(batch), 0.0),
        aftercare_p=batch.firm_table(aftercare_chance(batch), 0.0),
        answer=batch.firm_table(answer_share(batch, scratch.utilisation), 0.0),
        commit_bonus=batch.firm_table(bonus, 0.0, batch.dtype),
    )
