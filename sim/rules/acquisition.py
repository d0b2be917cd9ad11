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
who weight its focus attributes. Whether to adopt follows Bass; *which* firm also weighs the
choice utility U of ``sim.rules.choice`` (promise, hearsay, price, reviews): a bold promise wins
trials. With one firm the choice is trivial and the model is exactly Bass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import take_rows
from sim.rules.choice import utilities
from sim.rules.switching import begin_relationship
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Let unserved customers adopt a firm."""
    cs, fs = model.customer_state, model.firm_state
    prm, eco = model.params.acquisition, model.params.economics
    n_firms = fs.n
    acquired = np.zeros(n_firms)
    scratch.acquired = acquired
    if not prm.enabled:
        return
    rng, dt, k = model.rng, 1.0 / model.steps_per_year, len(model.attributes)
    marketing = (fs.marketing / eco.marketing_reference) ** prm.marketing_elasticity
    degree = model.adjacency.degree
    for m in range(len(model.industries)):
        firms = model.industry_firms[m]
        unserved = cs.supplier[m] < 0
        if m < len(scratch.just_left) and len(scratch.just_left[m]):
            unserved[scratch.just_left[m]] = False  # who left this step does not re-adopt at once
        rows = np.flatnonzero(unserved)
        if len(rows) == 0:
            continue
        visible = model.visible[:, firms][cs.region[rows]]
        if not visible.any():
            continue
        reach = take_rows(cs.weights, rows) @ np.take(fs.focus, firms, axis=0).T * k
        if prm.targeting != 1.0:
            reach = reach**prm.targeting
        h = prm.p * marketing[firms] * reach
        if prm.q > 0:
            sup = cs.supplier[m]
            satisfied = (sup >= 0) & (cs.satisfaction[m] >= prm.satisfied_threshold)
            indicator = np.zeros((model.n_customers, len(firms)))
            local = np.searchsorted(firms, sup[satisfied])
            indicator[np.flatnonzero(satisfied), local] = 1.0
            counts = model.adjacency.neighbour_sum(indicator, rows=rows)
            deg = np.maximum(degree[rows], 1)[:, None]
            h = h + prm.q * counts / deg
        h = np.where(visible, h, 0.0)
        total = h.sum(axis=1)
        adopt = rng.random(len(rows)) < np.minimum(1.0, total * dt)
        if not adopt.any():
            continue
        idx = np.flatnonzero(adopt)
        weight = h[idx]
        if len(firms) > 1:
            u, _ = utilities(model, rows[idx], m)
            u = np.where(weight > 0, u, -np.inf)
            weight = weight * np.exp(u - u.max(axis=1, keepdims=True))
        cum = np.cumsum(weight, axis=1)
        draw = rng.random(len(idx)) * cum[:, -1]
        pick = np.minimum((cum < draw[:, None]).sum(axis=1), len(firms) - 1)
        new = firms[pick]
        begin_relationship(model, rows[idx], m, new)
        acquired += np.bincount(new, minlength=n_firms)
