"""Phase 8, acquisition: unserved customers adopt by a network Bass hazard.

For an unserved customer n and a visible active firm f of the industry (Bass 1969, on a network
as in Rand & Rust 2011; p and q per year)::

    h[n, f] = p * (marketing(f) / marketing_reference) ** elasticity * target(n, f)
              + q * (neighbours of n served by f with S >= satisfied_threshold) / degree(n)
    target(n, f) = (K * sum_k w[n, k] * focus[f, k]) ** targeting
    P(adopt this step) = min(1, dt * sum_f h[n, f])
    P(firm f | adopt)  = h[n, f] * exp(U[n, f]) / sum_g h[n, g] * exp(U[n, g])

``min(1, dt * h)`` makes one tick a period reproduce the discrete Bass recursion
``F_t = F_{t-1} + (p + q F_{t-1})(1 - F_{t-1})`` and small steps the continuous closed form.
``target`` is 1 for a firm that spreads its focus evenly; a niche firm's marketing reaches those
who weight its focus attributes. Switches (``[mechanisms]``): ``targeting`` off makes ``target``
1 for every firm, ``imitation`` off removes the ``q`` term. Whether to adopt follows Bass; *which*
firm also weighs the choice utility U of ``sim.rules.choice`` (the quality expected of it, with
its promise weighted by its credibility; hearsay; price): a credible bold promise wins trials.
With one firm the choice is trivial and the model is exactly Bass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.rules.choice import utilities
from sim.rules.switching import begin_relationship
from sim.rules.word_of_mouth import below_all
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def adoption_bound(model: CustomerMarket, m: int, marketing: np.ndarray) -> float:
    """An upper bound on every unserved customer's chance to adopt in industry m this step.

    ``sum_f h[n, f]`` is at most ``sum_f p * marketing(f) * (K * max_k focus[f, k]) ** targeting
    + q``: weights sum to 1, and each satisfied neighbour counts for one firm only. ``apply``
    draws a uniform only for the customers whose uniform falls below this bound."""
    prm, fs = model.params.acquisition, model.firm_state
    firms = model.industry_firms[m]
    firms = firms[model.visible[:, firms].any(axis=0)]
    k = len(model.attributes)
    reach = (k * fs.focus[firms].max(axis=1)) ** targeting_exponent(model)
    total = float(np.sum(prm.p * marketing[firms] * reach)) + imitation(model)
    return below_all(min(1.0, total / model.steps_per_year), 1e-4)


def targeting_exponent(model: CustomerMarket) -> float:
    """``acquisition.targeting``, or 0 (marketing reaches everyone alike) with
    ``mechanisms.targeting`` off."""
    return model.params.acquisition.targeting if model.params.mechanisms.targeting else 0.0


def imitation(model: CustomerMarket) -> float:
    """``acquisition.q``, or 0 with ``mechanisms.imitation`` off."""
    return model.params.acquisition.q if model.params.mechanisms.imitation else 0.0


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Let unserved customers adopt a firm."""
    cs, fs = model.customer_state, model.firm_state
    prm, eco = model.params.acquisition, model.params.economics
    n_firms = fs.n
    acquired = np.zeros(n_firms)
    scratch.acquired = acquired
    if not prm.enabled:
        return
    draws, dt, k = model.draws, 1.0 / model.steps_per_year, len(model.attributes)
    marketing = (fs.marketing / eco.marketing_reference) ** prm.marketing_elasticity
    degree = model.adjacency.degree
    for m in range(len(model.industries)):
        firms = model.industry_firms[m]
        visible_m = model.visible[:, firms]
        if not visible_m.any():
            continue
        sup = cs.supplier[m]
        # thinned Bernoulli trials: only customers whose uniform is below the bound can adopt
        rows, u = draws.below(
            "adopt", m, slice(0, model.n_customers), adoption_bound(model, m, marketing)
        )
        unserved = sup[rows] < 0
        if m < len(scratch.just_left) and len(scratch.just_left[m]):
            unserved &= ~np.isin(rows, scratch.just_left[m])  # who left this step waits
        rows, u = rows[unserved], u[unserved]
        if len(rows) == 0:
            continue
        # firm-major [F_m, rows]: one row of hazards per firm
        w = np.take(cs.weights, rows, axis=0)
        reach = (k * np.take(fs.focus, firms, axis=0)).astype(w.dtype) @ w.T
        targeting = targeting_exponent(model)
        if targeting != 1.0:
            reach **= targeting
        h = reach.astype(float)
        h *= (prm.p * marketing[firms])[:, None]
        q = imitation(model)
        if q > 0:
            # neighbours served by each firm of the industry and satisfied with it
            code = np.full(n_firms + 1, -1, np.int8)
            code[firms] = np.arange(len(firms))
            code = np.take(code, sup)
            np.putmask(code, ~(cs.satisfaction[m] >= prm.satisfied_threshold), -1)
            counts = model.adjacency.neighbour_counts(code, len(firms), rows)
            counts *= q / np.maximum(degree[rows], 1)
            h += counts
        if not visible_m.all():
            h *= visible_m[cs.region[rows]].T
        total = h.sum(axis=0)
        adopt = u < np.minimum(1.0, total * dt)
        if not adopt.any():
            continue
        idx = np.flatnonzero(adopt)
        weight = h[:, idx].T
        if len(firms) > 1:
            util, _ = utilities(model, rows[idx], m)
            util = np.where(weight > 0, util, -np.inf)
            weight = weight * np.exp(util - util.max(axis=1, keepdims=True))
        cum = np.cumsum(weight, axis=1)
        draw = draws.uniform("adopt_firm", m, rows[idx]) * cum[:, -1]
        pick = np.minimum((cum < draw[:, None]).sum(axis=1), len(firms) - 1)
        new = firms[pick]
        begin_relationship(model, rows[idx], m, new)
        acquired += np.bincount(new, minlength=n_firms)
