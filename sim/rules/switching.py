"""Phase 7, switching and churn.

A served customer leaves its supplier within a year with probability ``sigmoid(z)``::

    z = intercept + satisfaction * (satisfaction_ref - S) + trust * (trust_ref - T[f])
        - commitment * (C - 0.5) + rival * max(0, max_{rivals} U - U[own]) - switching_cost

converted to a per-step hazard: satisfaction, trust in the supplier's word and commitment each
enter once (``T[f]`` is the trust in the current supplier ``f``; ``mechanisms.commitment`` off
removes the commitment term). The utility U (``sim.rules.choice``) weighs the quality the
customer expects of each firm (promises weighted by their credibility, reviews, its own
expectation), what it has heard (attitude) and price. A leaver chooses among the visible rivals
and going unserved (utility ``outside_option``) by a logit choice. Joining starts a relationship:
commitment at its initial value, satisfaction at the first experience, the expectation moved
``join_anchor`` of the way to the quality expected of the new firm; trust in the firm is what the
customer already believes of it (it is kept when a customer leaves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import put_rows, take_rows
from sim.rules.choice import (
    Terms,
    expected_quality,
    firm_terms,
    gumbel_choice,
    utilities,
    utility_bounds,
)
from sim.rules.word_of_mouth import below_all
from sim.state import NO_FIRM, StepScratch
from sim.timebase import annual_hazard_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def churn_probability(
    model: CustomerMarket, rows: np.ndarray, m: int, rival_gap: np.ndarray
) -> np.ndarray:
    """Per-step chance that each customer in ``rows`` leaves its supplier in industry m.

    ``annual_hazard_to_step(sigmoid(z))`` = ``1 - (1 - sigmoid(z)) ** (1 / steps_per_year)``,
    computed as ``-expm1(-softplus(z) / steps_per_year)``, which is the same function without
    the cancellation of ``1 - (...)`` for small chances.
    """
    cs, prm = model.customer_state, model.params.switching
    ft = cs.satisfaction.dtype.type
    sat = cs.satisfaction[m][rows]
    sat = np.where(np.isnan(sat), ft(prm.satisfaction_ref), sat)
    z = ft(prm.satisfaction) * (ft(prm.satisfaction_ref) - sat)
    z += ft(prm.trust) * (ft(prm.trust_ref) - cs.trust[cs.supplier[m][rows], rows])
    if model.params.mechanisms.commitment:
        z -= ft(prm.commitment) * (cs.commitment[m][rows] - ft(0.5))
    z += ft(prm.rival) * rival_gap.astype(ft, copy=False)
    z += ft(prm.intercept - prm.switching_cost)
    z = np.logaddexp(ft(0.0), z)  # -log(1 - sigmoid(z))
    z *= ft(-1.0 / model.steps_per_year)
    p = np.expm1(z)
    p *= ft(-1.0)
    return p


def end_relationship(model: CustomerMarket, rows: np.ndarray, m: int) -> None:
    """Customers in ``rows`` have no supplier in industry m any more."""
    cs = model.customer_state
    cs.supplier[m][rows] = NO_FIRM
    cs.satisfaction[m][rows] = np.nan
    cs.commitment[m][rows] = 0.0
    cs.tenure[m][rows] = 0
    cs.failed[m][rows] = False


def begin_relationship(model: CustomerMarket, rows: np.ndarray, m: int, firms: np.ndarray) -> None:
    """Customers in ``rows`` join ``firms`` (one per row) in industry m: their expectation moves
    ``join_anchor`` of the way to the quality they expected of the firm (sim.rules.choice); their
    trust in it is what they have learned so far."""
    cs, tp = model.customer_state, model.params.trust
    anchor = model.params.expectations.join_anchor
    terms = firm_terms(model, m)
    quality = expected_quality(model, rows, m, terms)  # [F_m, rows, K]
    position = np.searchsorted(terms[0], firms)
    chosen = quality[position, np.arange(len(rows))]  # [rows, K]
    cs.supplier[m][rows] = firms
    cs.joined[m][rows] = model.steps
    cs.tenure[m][rows] = 0
    cs.commitment[m][rows] = tp.commitment_initial
    cs.satisfaction[m][rows] = np.nan
    cs.complaints[m][rows] = 0
    cs.answered[m][rows] = 0
    cs.steps_since_recovery[m][rows] = 1 << 30
    cs.failed[m][rows] = False
    e = take_rows(cs.expectation[m], rows)
    put_rows(cs.expectation[m], rows, e + anchor * (chosen - e))


def rival_gap_bound(model: CustomerMarket, m: int, terms: Terms) -> float:
    """An upper bound on every customer's rival gap ``max(0, max_rivals U - U[own])`` in
    industry m, rounded up to 1/64: the largest utility of one firm less the smallest of
    another (``sim.rules.choice.utility_bounds``)."""
    firms = terms[0]
    gap = 0.0
    if len(firms) > 1:
        low, high = utility_bounds(model, m, terms)
        for i in range(len(firms)):
            for j in range(len(firms)):
                if i != j:
                    gap = max(gap, float(high[i] - low[j]))
    # coarsened outward to 1/64, so that float32 and float64 states give the same bound (and so
    # the same draws) unless a state value sits on the grid
    return float(np.ceil(max(gap, 0.0) * 64.0) / 64.0)


def churn_bound(model: CustomerMarket, m: int, terms: Terms) -> float:
    """An upper bound on every customer's churn chance in industry m this step.

    The churn hazard rises with ``z``; ``z`` is largest at the lowest satisfaction in the
    industry, trust and commitment 0 and the largest possible rival gap
    (:func:`rival_gap_bound`). ``switching`` draws a uniform only for the customers whose
    uniform falls below this bound (``GeneratorSource.below``)."""
    cs, prm = model.customer_state, model.params.switching
    low = float(np.fmin.reduce(cs.satisfaction[m])) if model.n_customers else np.nan
    low = prm.satisfaction_ref if np.isnan(low) else min(low, prm.satisfaction_ref)
    low, gap = np.floor(low * 64.0) / 64.0, rival_gap_bound(model, m, terms)  # see there
    z = (
        prm.intercept
        - prm.switching_cost
        + prm.satisfaction * (prm.satisfaction_ref - low)
        + prm.trust * prm.trust_ref
        + (prm.commitment * 0.5 if model.params.mechanisms.commitment else 0.0)
        + prm.rival * gap
    )
    annual = 1.0 / (1.0 + np.exp(-min(z, 700.0)))
    step = float(annual_hazard_to_step(annual, model.steps_per_year))
    return below_all(step, 1e-4)


def rival_utilities(
    model: CustomerMarket,
    rows: np.ndarray,
    m: int,
    terms: Terms,
    supplier: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(util, gap)`` for the customers ``rows`` of industry m with suppliers ``supplier``:
    the utility ``[F_m, rows]`` of each of the industry's firms, ``-inf`` for the customer's own
    (so only rivals remain), and the rival gap ``max(0, max_rivals U - U[own])`` ``[rows]`` (0
    when no rival is visible), which enters the churn hazard."""
    util, firms = utilities(model, rows, m, terms, firm_major=True)  # [F_m, rows]
    flat = util.reshape(-1)
    own = np.searchsorted(firms, supplier) * len(rows) + np.arange(len(rows))  # in ``flat``
    u_own = flat[own]
    flat[own] = -np.inf  # the rivals' utilities
    best = util.max(axis=0)
    gap = np.where(np.isfinite(best) & np.isfinite(u_own), np.maximum(0.0, best - u_own), 0.0)
    return util, gap


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Decide who leaves, and where each leaver goes."""
    cs, prm, n_firms = model.customer_state, model.params.switching, model.firm_state.n
    churned = np.zeros(n_firms)
    switched_in = np.zeros(n_firms)
    scratch.churned, scratch.switched_in = churned, switched_in
    if not prm.enabled:
        return
    draws = model.draws
    scratch.just_left = [np.zeros(0, np.int64) for _ in model.industries]
    for m in range(len(model.industries)):
        terms = firm_terms(model, m)
        firms = terms[0]
        # thinned Bernoulli trials: only customers whose uniform is below the bound can leave
        rows, u = draws.below("churn", m, slice(0, model.n_customers), churn_bound(model, m, terms))
        sup = cs.supplier[m][rows]
        served = sup >= 0
        rows, u, sup = rows[served], u[served], sup[served]
        # thinned again: the chance with the largest rival gap bounds each customer's own, and
        # costs no utilities (the margin covers float rounding; no leaver is dropped)
        gap_max = np.full(len(rows), rival_gap_bound(model, m, terms), cs.trust.dtype)
        maybe = u < churn_probability(model, rows, m, gap_max) * (1.0 + 1e-5)
        rows, u, sup = rows[maybe], u[maybe], sup[maybe]
        if len(rows) == 0:
            continue
        util, gap = rival_utilities(model, rows, m, terms, sup)
        leave = np.flatnonzero(u < churn_probability(model, rows, m, gap))
        if len(leave) == 0:
            continue
        who = rows[leave]
        options = np.concatenate(
            [util[:, leave].T.astype(float), np.full((len(who), 1), prm.outside_option)], axis=1
        )
        pick = gumbel_choice(options, draws, "leave_to", m, who)
        churned += np.bincount(sup[leave], minlength=n_firms)
        to_rival = pick < len(firms)
        end_relationship(model, who, m)
        scratch.just_left[m] = who[~to_rival]
        if to_rival.any():
            new = firms[pick[to_rival]]
            begin_relationship(model, who[to_rival], m, new)
            cs.switches[m][who[to_rival]] += 1
            switched_in += np.bincount(new, minlength=n_firms)
