"""How customers regard the firms they can see: the utility used by switching and acquisition.

For customer n and a firm f of the industry, visible from n's region and active::

    U[n, f] = b_att * A[n, f] + b_promise * sum_k w[n, k] P[f, k]
              - b_price * (price(f) - mean price) / mean price + b_reviews * (score(f) - prior_score)

This is a helper of the switching and acquisition phases, not a phase of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import take_rows
from sim.rules.word_of_mouth import review_score

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def utilities(model: CustomerMarket, rows: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``(U, firms)``: utility ``[len(rows), F_m]`` of industry m's firms (-inf where not
    visible or not active) and the firms' indices ``[F_m]``."""
    cs, fs, prm = model.customer_state, model.firm_state, model.params.switching
    firms = model.industry_firms[m]
    visible_m = model.visible[:, firms]  # [R, F_m]
    price = fs.price[firms]
    active = visible_m.any(axis=0)
    mean_price = price[active].mean() if active.any() else 1.0
    firm_terms = (-prm.price * (price - mean_price) / mean_price
                  + prm.reviews * (review_score(model)[firms] - model.params.reviews.prior_score))
    u = take_rows(cs.weights, rows) @ (prm.promise * np.take(fs.promise, firms, axis=0).T)
    u += prm.attitude * cs.attitude[firms[:, None], rows[None, :]].T
    u += firm_terms
    if visible_m.all():
        return u, firms
    return np.where(visible_m[cs.region[rows]], u, -np.inf), firms


def gumbel_choice(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index of the chosen column in each row by a logit choice (Gumbel-max)."""
    g = -np.log(-np.log(rng.random(u.shape)))
    return np.argmax(u + g, axis=1)
