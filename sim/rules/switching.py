"""Phase 7, switching and churn.

A served customer leaves its supplier within a year with probability ``sigmoid(z)``::

    z = intercept + satisfaction * (satisfaction_ref - S) + trust * (trust_ref - T)
        - commitment * (C - 0.5) + rival * max(0, max_{rivals} U - U[own]) - switching_cost

converted to a per-step hazard. The rivals' utility U (``sim.rules.choice``) weighs what the
customer has heard (attitude), what the firm promises on what the customer cares about, price and
reviews. A leaver chooses among the visible rivals and going unserved (utility
``outside_option``) by a logit choice. Joining resets the relationship: trust and commitment start
at their initial values, satisfaction at the first experience, and the expectation moves
``join_anchor`` of the way to the new firm's promise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import put_rows, take_rows
from sim.rules.choice import gumbel_choice, utilities
from sim.state import NO_FIRM, StepScratch
from sim.timebase import annual_hazard_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def churn_probability(model: CustomerMarket, rows: np.ndarray, m: int,
                      rival_gap: np.ndarray) -> np.ndarray:
    """Per-step chance that each customer in ``rows`` leaves its supplier in industry m."""
    cs, prm = model.customer_state, model.params.switching
    sat = np.nan_to_num(cs.satisfaction[m][rows], nan=prm.satisfaction_ref)
    z = (prm.intercept + prm.satisfaction * (prm.satisfaction_ref - sat)
         + prm.trust * (prm.trust_ref - cs.trust[m][rows])
         - prm.commitment * (cs.commitment[m][rows] - 0.5)
         + prm.rival * rival_gap - prm.switching_cost)
    annual = 1.0 / (1.0 + np.exp(-z))
    return annual_hazard_to_step(annual, model.steps_per_year)


def end_relationship(model: CustomerMarket, rows: np.ndarray, m: int) -> None:
    """Customers in ``rows`` have no supplier in industry m any more."""
    cs = model.customer_state
    cs.supplier[m][rows] = NO_FIRM
    cs.satisfaction[m][rows] = np.nan
    cs.trust[m][rows] = 0.0
    cs.commitment[m][rows] = 0.0
    cs.tenure[m][rows] = 0
    cs.failed[m][rows] = False


def begin_relationship(model: CustomerMarket, rows: np.ndarray, m: int, firms: np.ndarray) -> None:
    """Customers in ``rows`` join ``firms`` (one per row) in industry m."""
    cs, fs, tp = model.customer_state, model.firm_state, model.params.trust
    anchor = model.params.expectations.join_anchor
    cs.supplier[m][rows] = firms
    cs.joined[m][rows] = model.steps
    cs.tenure[m][rows] = 0
    cs.trust[m][rows] = tp.initial
    cs.commitment[m][rows] = tp.commitment_initial
    cs.satisfaction[m][rows] = np.nan
    cs.complaints[m][rows] = 0
    cs.answered[m][rows] = 0
    cs.steps_since_recovery[m][rows] = 1 << 30
    cs.failed[m][rows] = False
    e = take_rows(cs.expectation[m], rows)
    put_rows(cs.expectation[m], rows, e + anchor * (np.take(fs.promise, firms, axis=0) - e))


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Decide who leaves, and where each leaver goes."""
    cs, prm, n_firms = model.customer_state, model.params.switching, model.firm_state.n
    churned = np.zeros(n_firms)
    switched_in = np.zeros(n_firms)
    scratch.churned, scratch.switched_in = churned, switched_in
    if not prm.enabled:
        return
    rng = model.rng
    scratch.just_left = [np.zeros(0, np.int64) for _ in model.industries]
    for m in range(len(model.industries)):
        rows = np.flatnonzero(cs.supplier[m] >= 0)
        if len(rows) == 0:
            continue
        own = cs.supplier[m][rows]
        u, firms = utilities(model, rows, m)
        pos = np.searchsorted(firms, own)
        u_own = u[np.arange(len(rows)), pos]
        rivals = u.copy()
        rivals[np.arange(len(rows)), pos] = -np.inf
        best = rivals.max(axis=1)
        gap = np.where(np.isfinite(best) & np.isfinite(u_own), np.maximum(0.0, best - u_own), 0.0)
        leave = rng.random(len(rows)) < churn_probability(model, rows, m, gap)
        if not leave.any():
            continue
        idx = np.flatnonzero(leave)
        who = rows[idx]
        options = np.concatenate([rivals[idx], np.full((len(idx), 1), prm.outside_option)], axis=1)
        pick = gumbel_choice(options, rng)
        churned += np.bincount(own[idx], minlength=n_firms)
        to_rival = pick < len(firms)
        end_relationship(model, who, m)
        scratch.just_left[m] = who[~to_rival]
        if to_rival.any():
            new = firms[pick[to_rival]]
            begin_relationship(model, who[to_rival], m, new)
            cs.switches[m][who[to_rival]] += 1
            switched_in += np.bincount(new, minlength=n_firms)
