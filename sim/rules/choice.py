"""How customers regard the firms they can see: the utility used by switching and acquisition.

For customer n and a firm f of the industry, visible from n's region and active::

    U[n, f] = b_att * A[n, f] + b_promise * sum_k w[n, k] P[f, k]
              - b_price * (price(f) - mean price) / mean price
              + b_reviews * (score(f) - prior_score)

This is a helper of the switching and acquisition phases, not a phase of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.arrays import Rows
from sim.rules.word_of_mouth import review_score

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def firm_terms(model: CustomerMarket, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(firms, promise_term, constant)`` of industry m: its firms ``[F_m]``, ``b_promise * P.T``
    ``[K, F_m]`` in the state's float type, and the price and review terms ``[F_m]``."""
    fs, prm = model.firm_state, model.params.switching
    firms = model.industry_firms[m]
    price = fs.price[firms]
    active = model.visible[:, firms].any(axis=0)
    mean_price = price[active].mean() if active.any() else 1.0
    constant = -prm.price * (price - mean_price) / mean_price + prm.reviews * (
        review_score(model)[firms] - model.params.reviews.prior_score
    )
    ft = model.customer_state.weights.dtype
    promise = (prm.promise * np.take(fs.promise, firms, axis=0).T).astype(ft)
    return firms, promise, constant.astype(ft)


def utilities(
    model: CustomerMarket,
    rows: Rows,
    m: int,
    terms: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    firm_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(U, firms)``: utility ``[len(rows), F_m]`` (``[F_m, len(rows)]`` with ``firm_major``)
    of industry m's firms (-inf where not visible or not active) and the firms' indices
    ``[F_m]``. ``rows`` is a slice of customers or an array of their indices; ``terms`` (from
    ``firm_terms``) saves recomputing the firm part."""
    cs, prm = model.customer_state, model.params.switching
    firms, promise, constant = firm_terms(model, m) if terms is None else terms
    if isinstance(rows, slice):
        w, region = cs.weights[rows], cs.region[rows]
        attitude = [cs.attitude[f, rows] for f in firms]
    else:
        w, region = np.take(cs.weights, rows, axis=0), np.take(cs.region, rows)
        attitude = [np.take(cs.attitude[f], rows) for f in firms]
    u = promise.T @ w.T  # [F_m, rows]
    ft = u.dtype.type
    for j in range(len(firms)):
        row = u[j]
        row += ft(prm.attitude) * attitude[j]
        row += constant[j]
    visible_m = model.visible[:, firms]  # [R, F_m]
    if not visible_m.all():
        u[~visible_m[region].T] = -np.inf
    return (u if firm_major else u.T), firms


def gumbel_choice(u: np.ndarray, draws: Any, purpose: str, m: int, rows: np.ndarray) -> np.ndarray:
    """Index of the chosen column in each row by a logit choice (Gumbel-max); ``draws`` gives a
    uniform per row and column (``GeneratorSource.uniform``)."""
    g = -np.log(-np.log(draws.uniform(purpose, m, rows, width=u.shape[1])))
    return np.argmax(u + g, axis=1)
