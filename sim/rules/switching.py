"""Phase 7, switching and churn.

A served customer leaves its supplier within a year with probability ``sigmoid(z)``::

    z = intercept + satisfaction * (satisfaction_ref - S) + trust * (trust_ref - T[f])
        - commitment * (C - 0.5) + rival * max(0, max_{rivals} U - U[own]) - switching_cost

converted to a per-step hazard: satisfaction, trust in the supplier's word and commitment each
enter once (``T[f]`` is the trust in the current supplier ``f``; ``mechanisms.commitment`` off
removes the commitment term). The utility U (``sim.rules.choice``) weighs the quality the
customer expects of each firm (promises weighted by their credibility, reviews, its own
expectation), what it has heard (attitude) and price. A leaver chooses among the visible rivals
and going unserved (utility ``outside_option``) by a logit choice (Gumbel-max: the largest
``U_j - log(-log(u_j))``, one uniform per option). Joining starts a relationship: commitment at
its initial value, satisfaction at the first experience, the expectation moved ``join_anchor``
of the way to the quality expected of the new firm; trust in the firm is what the customer
already believes of it (it is kept when a customer leaves).

:func:`churn_chance` is the rule for one customer, :func:`leave` and
``sim.rules.choice.join`` end and start its relationship; the kernel :func:`switch` applies them
to every served customer of every market of a batch, drawing its uniform (``sim.draws``:
``"churn"``, and ``"leave_to"`` with the option as the column). Most customers cannot leave in a
given step: the kernel compares a customer's uniform first with a bound on everyone's chance in
its market and industry (:func:`churn_bounds`), then with its own chance at the largest possible
rival gap, and computes utilities only for the few left. The bounds only save work: the
decision is always the customer's uniform against its own chance.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.draws import CHURN, LEAVE_TO, uniform, uniform_column
from sim.jit import kernel, rule
from sim.params.stacked import StackedParams
from sim.rules import choice
from sim.state import NO_FIRM, BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch

MARGIN = 1e-6
"""Relative margin of the bounds over the chances they bound (float rounding)."""


@rule
def churn_chance(satisfaction: float, trust: float, commitment: float, gap: float, p: Any) -> float:
    """The chance a customer leaves this step: ``sigmoid(z)`` within a year, per step
    ``1 - (1 - sigmoid(z)) ** (1 / steps_per_year)``, computed as
    ``-expm1(-softplus(z) / steps_per_year)`` (the same function, without cancellation for
    small chances). A customer without a satisfaction yet counts at ``satisfaction_ref``."""
    s = np.float64(satisfaction)
    if s != s:
        s = p.satisfaction_ref
    z = p.churn_intercept
    z += p.churn_satisfaction * (p.satisfaction_ref - s)
    z += p.churn_trust * (p.trust_ref - np.float64(trust))
    if p.commitment_on:
        z -= p.churn_commitment * (np.float64(commitment) - 0.5)
    z += p.rival * gap
    softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))  # -log(1 - sigmoid(z))
    return -math.expm1(-softplus * p.years_per_step_64)


@rule
def gumbel(u: float) -> float:
    """A standard Gumbel draw from a uniform: ``-log(-log(u))``."""
    return -math.log(-math.log(u))


@rule
def leave(
    i: int,
    m: int,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    commitment: np.ndarray,
    tenure: np.ndarray,
    failed: np.ndarray,
) -> None:
    """Customer ``i`` has no supplier in industry ``m`` any more."""
    supplier[m, i] = NO_FIRM
    satisfaction[m, i] = np.nan
    commitment[m, i] = 0.0
    tenure[m, i] = 0
    failed[m, i] = False


@rule
def rival_gap(
    i: int,
    m: int,
    own: int,
    firms: np.ndarray,
    visible: np.ndarray,
    weights: np.ndarray,
    sensitivity: np.ndarray,
    expectation: np.ndarray,
    trust: np.ndarray,
    attitude: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    p: Any,
    u_firm: np.ndarray,
) -> float:
    """The rival gap ``max(0, max_rivals U - U[own])`` of customer ``i`` in industry ``m`` (0
    when no rival is visible); leaves in ``u_firm[j]`` its utility of ``firms[j]`` (``visible``:
    the firms seen from its region; the firm arrays its market's, ``sim.rules.choice.terms``)."""
    u_own = choice.NO_UTILITY
    best = choice.NO_UTILITY
    for j in range(len(firms)):
        f = firms[j]
        u_firm[j] = choice.firm_utility(
            i,
            f,
            m,
            weights,
            expectation,
            trust,
            attitude,
            sensitivity,
            visible[f],
            promise,
            review_part,
            review_weight,
            public,
            price_term,
            p,
        )
        if f == own:
            u_own = u_firm[j]
        else:
            best = max(best, u_firm[j])
    if math.isfinite(best) and math.isfinite(u_own):
        return max(0.0, best - u_own)
    return 0.0


@kernel
def stay_chances(
    m: int,
    firms: np.ndarray,
    rows: np.ndarray,
    market: np.ndarray,
    consts: Any,
    steps: int,
    region: np.ndarray,
    visible: np.ndarray,
    weights: np.ndarray,
    sensitivity: np.ndarray,
    supplier: np.ndarray,
    expectation: np.ndarray,
    satisfaction: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    attitude: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[j]``: the chance that served customer ``rows[j]`` (of market ``market[j]``) is
    still with its supplier in industry ``m`` after ``steps`` steps at this step's chance to
    leave (:func:`churn_chance` with its :func:`rival_gap`), ``(1 - p) ** steps``; 1 with
    switching off. Draws nothing."""
    u_firm = np.empty(len(firms))
    for j in range(len(rows)):
        i = rows[j]
        b = market[j]
        p = consts[b]
        if not p.switching_on:
            out[j] = 1.0
            continue
        own = supplier[m, i]
        gap = rival_gap(
            i,
            m,
            own,
            firms,
            visible[b, region[i]],
            weights,
            sensitivity,
            expectation,
            trust,
            attitude,
            promise[b],
            review_part[b],
            review_weight[b],
            public[b],
            price_term[b],
            p,
            u_firm,
        )
        chance = churn_chance(satisfaction[m, i], trust[own, i], commitment[m, i], gap, p)
        out[j] = math.exp(steps * math.log1p(-min(chance, 1.0)))


@kernel
def switch(
    m: int,
    firms: np.ndarray,
    step: int,
    offsets: np.ndarray,
    live: np.ndarray,
    keys: np.ndarray,
    consts: Any,
    bound: np.ndarray,
    gap_bound: np.ndarray,
    region: np.ndarray,
    visible: np.ndarray,
    weights: np.ndarray,
    sensitivity: np.ndarray,
    supplier: np.ndarray,
    expectation: np.ndarray,
    satisfaction: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    attitude: np.ndarray,
    tenure: np.ndarray,
    joined: np.ndarray,
    complaints: np.ndarray,
    answered: np.ndarray,
    steps_since_recovery: np.ndarray,
    failed: np.ndarray,
    switches: np.ndarray,
    left: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    churned: np.ndarray,
    switched_in: np.ndarray,
) -> None:
    """Who leaves in industry ``m`` (of firms ``firms``) in every live market, and where each
    leaver goes.

    ``bound[b]`` bounds every customer's chance in market ``b``, ``gap_bound[b]`` its rival gap;
    the firm arrays are ``[B, F, ...]`` (``sim.rules.choice.terms``), ``visible`` ``[B, R, F]``.
    Adds the leavers to ``churned`` and the rivals' gains to ``switched_in`` (``[B, F]``);
    marks in ``left`` who went unserved.
    """
    n_local = len(firms)
    u_firm = np.empty(n_local)
    for b in range(len(offsets) - 1):
        p = consts[b]
        if not live[b] or not p.switching_on:
            continue
        churn_key = keys[b, CHURN, m]
        choice_key = keys[b, LEAVE_TO, m]
        first = offsets[b]
        for i in range(first, offsets[b + 1]):
            own = supplier[m, i]
            if own < 0:
                continue
            u = uniform(churn_key, i - first)
            if u >= bound[b]:
                continue
            t_own, c_own = trust[own, i], commitment[m, i]
            if u >= churn_chance(satisfaction[m, i], t_own, c_own, gap_bound[b], p) * (1.0 + 1e-6):
                continue
            gap = rival_gap(
                i,
                m,
                own,
                firms,
                visible[b, region[i]],
                weights,
                sensitivity,
                expectation,
                trust,
                attitude,
                promise[b],
                review_part[b],
                review_weight[b],
                public[b],
                price_term[b],
                p,
                u_firm,
            )
            if u >= churn_chance(satisfaction[m, i], t_own, c_own, gap, p):
                continue
            # a logit choice among the rivals and going unserved (the last option): the
            # largest score wins, the first of equal ones
            pick = -1
            top = -math.inf
            for j in range(n_local):
                if firms[j] == own or not math.isfinite(u_firm[j]):
                    continue
                score = u_firm[j] + choice_gumbel(choice_key, i - first, j)
                if score > top:
                    top, pick = score, j
            if p.outside_option + choice_gumbel(choice_key, i - first, n_local) > top:
                pick = n_local
            churned[b, own] += 1.0
            leave(i, m, supplier, satisfaction, commitment, tenure, failed)
            if pick == n_local:
                left[m, i] = True
                continue
            new = firms[pick]
            choice.join(
                i,
                new,
                m,
                step,
                expectation,
                trust,
                supplier,
                joined,
                tenure,
                commitment,
                satisfaction,
                complaints,
                answered,
                steps_since_recovery,
                failed,
                promise[b],
                review_part[b],
                review_weight[b],
                public[b],
                p,
            )
            switches[m, i] += 1
            switched_in[b, new] += 1.0


@rule
def choice_gumbel(key: Any, customer: int, option: int) -> float:
    """The Gumbel noise of one option of a leaver's choice (its uniform: column ``option``)."""
    return gumbel(uniform_column(key, customer, option))


@kernel
def attitude_ranges(offsets, live, attitude, low, high) -> None:
    """``low[b, f]``, ``high[b, f]``: the lowest and highest attitude toward firm ``f`` among
    the customers of each live market ``b``."""
    for b in range(len(offsets) - 1):
        if not live[b]:
            continue
        for f in range(attitude.shape[0]):
            lo, hi = np.inf, -np.inf
            for i in range(offsets[b], offsets[b + 1]):
                a = attitude[f, i]
                lo = min(lo, a)
                hi = max(hi, a)
            low[b, f] = lo
            high[b, f] = hi


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm = P.switching
    return {
        "switching_on": (prm.enabled, "b"),
        "commitment_on": (P.mechanisms.commitment, "b"),
        "churn_intercept": (prm.intercept - prm.switching_cost, "w"),
        "churn_satisfaction": (prm.satisfaction, "w"),
        "satisfaction_ref": (prm.satisfaction_ref, "w"),
        "churn_trust": (prm.trust, "w"),
        "trust_ref": (prm.trust_ref, "w"),
        "churn_commitment": (prm.commitment, "w"),
        "rival": (prm.rival, "w"),
        "outside_option": (prm.outside_option, "w"),
        "years_per_step_64": (np.full_like(prm.rival, 1.0 / steps_per_year), "w"),
    }


def churn_bounds(batch: MarketBatch, t: Any, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``(bound, gap_bound)`` ``[B]``: an upper bound on every served customer's chance to leave
    in industry ``m`` this step, and the rival gap ``max(0, max_rivals U - U[own])`` at which a
    customer's own chance is largest (a bound on the gap, or 0 when ``rival`` < 0).

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


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Decide who leaves, and where each leaver goes, in every market of the batch."""
    cs, ws = batch.customer_state, batch.workspace
    ws.left[...] = False
    if not batch.params.switching.enabled.any():
        return
    t = choice.terms(batch)
    low, high = np.zeros((batch.B, batch.F)), np.zeros((batch.B, batch.F))
    attitude_ranges(batch.offsets, batch.live, cs.attitude, low, high)
    batch.attitude_range = (low, high)
    for m in range(batch.M):
        firms = np.asarray(batch.industry_firms[m], np.int64)
        if len(firms) == 0:
            continue
        bound, gap_bound = churn_bounds(batch, t, m)
        switch(
            m,
            firms,
            batch.steps,
            batch.offsets,
            batch.live,
            batch.keys,
            batch.consts,
            bound,
            gap_bound,
            cs.region,
            batch.visible,
            cs.weights,
            cs.price_sensitivity,
            cs.supplier,
            cs.expectation,
            cs.satisfaction,
            cs.trust,
            cs.commitment,
            cs.attitude,
            cs.tenure,
            cs.joined,
            cs.complaints,
            cs.answered,
            cs.steps_since_recovery,
            cs.failed,
            cs.switches,
            ws.left,
            t.promise,
            t.review_part,
            t.review_weight,
            t.public,
            t.price_term,
            scratch.churned,
            scratch.switched_in,
        )
