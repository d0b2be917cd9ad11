"""How customers regard the firms they can see: the quality they expect of each, and the utility
used by switching and acquisition.

For customer n and a firm f of industry m, visible from n's region and active, the quality n
expects of f on attribute k is formed like an expectation (sim.rules.expectations), from what the
firm promises, weighted by its credibility to n, what its reviews report, and what n is used to
in the industry (its own expectation there, the prior)::

    c[n, f]       = (1 - rho) * T[f, n] + rho * Tpub[f]                    (credibility)
    Ehat[n, f, k] = (a_p c P[f, k] + a_r o[f] R[f, k] + a_x E[m, n, k])
                    / (a_p c + a_r o[f] + a_x)
    U[n, f]       = b_quality * sum_k w[n, k] Ehat[n, f, k] + b_att * A[f, n]
                    - b_price * s[n] * (price(f) - mean price) / mean price

So a promise wins customers in proportion to how far customers rely on promises (``a_p`` against
``a_x``: Kopalle & Lehmann 2006) and believe this firm's (``c``: Erdem & Keane 1996; Erdem &
Swait 1998): an over-promiser's gain erodes as its customers, their friends and its reviews learn
that it does not deliver. Reviews count through what they report (``R``); the mean price is over
the industry's active firms; ``s[n]`` is the price sensitivity of the customer's segment
(``segments[i].price_sensitivity``: price seekers weigh a price difference more, service seekers
less; Zeithaml, Berry & Parasuraman 1996 on service quality and willingness to pay). A joining
customer's expectation moves ``join_anchor`` of the way to
``Ehat`` of its new firm, the quality it chose it on.

Switches (``[mechanisms]``): ``promise_choice`` off removes the promise from ``Ehat``,
``credibility`` off takes promises at face value (``c = 1``), ``reviews`` off removes the reviews,
``price_choice`` off the price term.

This is a helper of the switching and acquisition phases, not a phase of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.arrays import Rows
from sim.rules.expectations import (
    credibility_weight_of_reviews,
    public_credibility,
    review_means,
    reviewed,
)

if TYPE_CHECKING:
    from sim.model import CustomerMarket

Terms = tuple[np.ndarray, ...]


def firm_terms(model: CustomerMarket, m: int) -> Terms:
    """``(firms, promise, review_part, review_weight, public, price_term)`` of industry m: its
    firms ``[F_m]``, their promises ``[F_m, K]``, ``a_r o R`` ``[F_m, K]`` and ``a_r o``
    ``[F_m]``, public credibility ``[F_m]`` and the price term of the utility ``[F_m]``."""
    fs, prm, on = model.firm_state, model.params.switching, model.params.mechanisms
    eprm = model.params.expectations
    firms = model.industry_firms[m]
    price = fs.price[firms]
    active = model.visible[:, firms].any(axis=0)
    mean_price = price[active].mean() if active.any() else 1.0
    price_term = -prm.price * (price - mean_price) / mean_price if on.price_choice else 0 * price
    a_r = eprm.weight_reviews * reviewed(model)[firms]
    return (
        firms,
        fs.promise[firms],
        a_r[:, None] * review_means(model)[firms],
        a_r,
        public_credibility(model)[firms],
        price_term,
    )


def expected_quality(
    model: CustomerMarket, rows: np.ndarray, m: int, terms: Terms | None = None
) -> np.ndarray:
    """``Ehat`` ``[F_m, len(rows), K]``: the quality each customer of ``rows`` expects of each
    firm of industry m (see the module docstring)."""
    cs, eprm, on = model.customer_state, model.params.expectations, model.params.mechanisms
    firms, promise, review_part, review_weight, public, _ = (
        firm_terms(model, m) if terms is None else terms
    )
    a_p = eprm.weight_promise if on.promise_choice else 0.0
    a_x = eprm.weight_experience
    if on.credibility:
        rho = credibility_weight_of_reviews(model)
        trust = cs.trust[np.ix_(firms, rows)].astype(float)  # [F_m, rows], only those rows
        credible = trust + (public[:, None] - trust) * rho
    else:
        credible = np.ones((len(firms), len(rows)))
    own = np.take(cs.expectation[m], rows, axis=0).astype(float)  # [rows, K]
    w_promise = (a_p * credible)[:, :, None]  # [F_m, rows, 1]
    total = w_promise * promise[:, None, :] + review_part[:, None, :] + a_x * own[None, :, :]
    weight = w_promise + review_weight[:, None, None] + a_x
    return total / np.maximum(weight, 1e-12)


def utilities(
    model: CustomerMarket,
    rows: Rows,
    m: int,
    terms: Terms | None = None,
    firm_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(U, firms)``: utility ``[len(rows), F_m]`` (``[F_m, len(rows)]`` with ``firm_major``)
    of industry m's firms (-inf where not visible or not active) and the firms' indices
    ``[F_m]``. ``rows`` is a slice of customers or an array of their indices; ``terms`` (from
    ``firm_terms``) saves recomputing the firm part."""
    cs, prm = model.customer_state, model.params.switching
    terms = firm_terms(model, m) if terms is None else terms
    firms, price_term = terms[0], terms[5]
    if isinstance(rows, slice):
        rows = np.arange(rows.start, rows.stop)
    quality = expected_quality(model, rows, m, terms)  # [F_m, rows, K]
    w = np.take(cs.weights, rows, axis=0).astype(float)  # [rows, K]
    u = prm.quality * np.einsum("frk,rk->fr", quality, w)
    u += prm.attitude * cs.attitude[np.ix_(firms, rows)]  # only those rows
    sensitivity = np.take(cs.price_sensitivity, rows).astype(float)  # the segment's
    u += np.asarray(price_term, float)[:, None] * sensitivity[None, :]
    visible_m = model.visible[:, firms]  # [R, F_m]
    if not visible_m.all():
        u[~visible_m[np.take(cs.region, rows)].T] = -np.inf
    return (u if firm_major else u.T), firms


def utility_bounds(model: CustomerMarket, m: int, terms: Terms) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` ``[F_m]``: bounds on every customer's utility of each firm of industry m
    (``Ehat`` is a weighted mean of the promise, the reviews and the customer's expectation,
    so ``w.Ehat`` lies between their smallest and largest attribute values)."""
    cs, prm = model.customer_state, model.params.switching
    firms, promise, _, review_weight, _, price_term = terms
    expectation = cs.expectation[m]
    e_low, e_high = float(np.min(expectation)), float(np.max(expectation))
    reviews = review_means(model)[firms]
    has = review_weight > 0
    low = np.minimum(promise.min(axis=1), np.where(has, reviews.min(axis=1), np.inf))
    high = np.maximum(promise.max(axis=1), np.where(has, reviews.max(axis=1), -np.inf))
    low, high = np.minimum(low, e_low), np.maximum(high, e_high)
    att_low = np.array([cs.attitude[f].min() for f in firms], float)
    att_high = np.array([cs.attitude[f].max() for f in firms], float)
    price = np.asarray(price_term, float)
    s_low, s_high = float(cs.price_sensitivity.min()), float(cs.price_sensitivity.max())
    price_low, price_high = (
        np.minimum(price * s_low, price * s_high),
        np.maximum(price * s_low, price * s_high),
    )
    return (
        prm.quality * low + prm.attitude * att_low + price_low,
        prm.quality * high + prm.attitude * att_high + price_high,
    )


def gumbel_choice(u: np.ndarray, draws: Any, purpose: str, m: int, rows: np.ndarray) -> np.ndarray:
    """Index of the chosen column in each row by a logit choice (Gumbel-max); ``draws`` gives a
    uniform per row and column (``GeneratorSource.uniform``)."""
    g = -np.log(-np.log(draws.uniform(purpose, m, rows, width=u.shape[1])))
    return np.argmax(u + g, axis=1)
