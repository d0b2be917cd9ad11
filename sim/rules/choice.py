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

This is a helper of the switching and acquisition phases, not a phase of its own:
:func:`expected_quality` and :func:`utility` are the rules for one customer and firm (in float64,
whatever the state's type), applied in their kernels; :func:`terms` computes the firm-level parts
for every market of a batch (switching bounds every customer's utility of each firm from them to
skip customers who cannot leave: ``sim.rules.churn_skip``), :func:`join` starts a
relationship.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import as_type_of, kernel, rule
from sim.params.stacked import StackedParams
from sim.rules.expectations import (
    credibility_weight_of_reviews,
    public_credibility,
    review_means,
    reviewed,
)

if TYPE_CHECKING:
    from sim.batch import MarketBatch

NO_UTILITY = -math.inf
"""The utility of a firm the customer cannot see."""


@rule
def expected_quality(
    trust: float,
    public: float,
    promise: float,
    review_part: float,
    review_weight: float,
    own: float,
    a_p: float,
    p: Any,
) -> float:
    """``Ehat``: the quality a customer expects of a firm on one attribute: the firm's promise
    weighted by ``a_p`` and by its credibility to the customer (its ``trust`` in the firm's
    word blended with the firm's ``public`` credibility), the reviews (``review_part = a_r o
    R``, ``review_weight = a_r o``) and its ``own`` expectation (``p``: the constants
    ``choice_a_x``, ``rho_choice``, ``credibility_on``). ``a_p`` is ``choice_a_p`` where the
    quality decides a choice (switch ``promise_choice``) and ``join_a_p`` where it moves a
    joining customer's bar (switch ``promise_expectations``: a promise raises the bar only
    through that channel)."""
    credible = 1.0
    if p.credibility_on:
        t = np.float64(trust)
        credible = t + (np.float64(public) - t) * p.rho_choice
    w_promise = np.float64(a_p) * credible
    a_x = np.float64(p.choice_a_x)
    total = w_promise * promise + review_part + a_x * np.float64(own)
    weight = w_promise + review_weight + a_x
    return total / max(weight, 1e-12)


@rule
def utility(
    quality: float, attitude: float, price_term: float, sensitivity: float, p: Any
) -> float:
    """``U``: ``b_quality * quality + b_att * A + price_term * s`` (``quality`` the weighted sum
    of ``Ehat``, ``price_term`` the firm's ``-b_price (price - mean) / mean``, ``s`` the
    customer's price sensitivity)."""
    return (
        p.quality * quality
        + p.attitude * np.float64(attitude)
        + price_term * np.float64(sensitivity)
    )


@rule
def firm_utility(
    i: int,
    f: int,
    m: int,
    weights: np.ndarray,
    expectation: np.ndarray,
    trust: np.ndarray,
    attitude: np.ndarray,
    sensitivity: np.ndarray,
    visible: bool,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    p: Any,
) -> float:
    """Customer ``i``'s utility of firm ``f`` of industry ``m`` (:data:`NO_UTILITY` when it
    cannot see the firm); the firm arrays are its market's (:func:`terms`)."""
    if not visible:
        return NO_UTILITY
    quality = 0.0
    for k in range(weights.shape[1]):
        e_hat = expected_quality(
            trust[f, i],
            public[f],
            promise[f, k],
            review_part[f, k],
            review_weight[f],
            expectation[m, i, k],
            p.choice_a_p,
            p,
        )
        quality += np.float64(weights[i, k]) * e_hat
    return utility(quality, attitude[f, i], price_term[f], sensitivity[i], p)


@rule
def join(
    i: int,
    f: int,
    m: int,
    step: int,
    expectation: np.ndarray,
    trust: np.ndarray,
    supplier: np.ndarray,
    joined: np.ndarray,
    tenure: np.ndarray,
    commitment: np.ndarray,
    satisfaction: np.ndarray,
    complaints: np.ndarray,
    answered: np.ndarray,
    steps_since_recovery: np.ndarray,
    failed: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    p: Any,
) -> None:
    """Customer ``i`` joins firm ``f`` in industry ``m``: a new relationship (tenure 0,
    ``commitment_initial``, no satisfaction, no complaints yet) and its expectation moves
    ``join_anchor`` of the way to the quality it expected of the firm (it chose it on that);
    its trust in the firm is what it has learned so far."""
    for k in range(expectation.shape[2]):
        e = expectation[m, i, k]
        e_hat = expected_quality(
            trust[f, i],
            public[f],
            promise[f, k],
            review_part[f, k],
            review_weight[f],
            e,
            p.join_a_p,
            p,
        )
        expectation[m, i, k] = as_type_of(np.float64(e) + p.join_anchor * (e_hat - e), e)
    supplier[m, i] = f
    joined[m, i] = step
    tenure[m, i] = 0
    commitment[m, i] = p.commitment_initial
    satisfaction[m, i] = np.nan
    complaints[m, i] = 0
    answered[m, i] = 0
    steps_since_recovery[m, i] = 1 << 30
    failed[m, i] = False


@kernel
def qualities(
    rows: np.ndarray,
    f: int,
    expectation: np.ndarray,
    trust: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    p: Any,
    out: np.ndarray,
) -> None:
    """``out[j, k]``: :func:`expected_quality` of firm ``f`` for customer ``rows[j]`` as it
    moves a joining customer's bar (``join_a_p``: the customers a firm starts with), whose
    expectations in the firm's industry are ``expectation[rows[j]]`` (``[N, K]``) and whose
    trust in the firm is ``trust[rows[j]]`` (``[N]``).

    Given the industry's and the firm's rows, a market's arrays are contiguous whatever its
    batch and its number of industries and firms (the whole ``[M, N, K]`` and ``[F, N]`` views
    are not when a batch holds other markets), so one compiled version serves every sweep: a
    worker no longer loads another from the cache at its first batch (5 ms)."""
    for j in range(len(rows)):
        i = rows[j]
        for k in range(expectation.shape[1]):
            out[j, k] = expected_quality(
                trust[i],
                public[f],
                promise[f, k],
                review_part[f, k],
                review_weight[f],
                expectation[i, k],
                p.join_a_p,
                p,
            )


def terms(batch: MarketBatch) -> SimpleNamespace:
    """The firm-level parts of ``Ehat`` and ``U`` for every market, float64: ``promise`` and
    ``review_part`` (``a_r o R``) ``[B, F, K]``, ``review_weight`` (``a_r o``), ``public``
    credibility and ``price_term`` ``[B, F]`` (``-b_price (price - mean) / mean`` against the
    mean price of the firm's industry, 0 with ``price_choice`` off)."""
    fs, P = batch.firm_state, batch.params
    a_r = P.expectations.weight_reviews * reviewed(batch)  # [B, F]
    shown = batch.visible.any(axis=1)  # [B, F]: active somewhere
    price_term = np.zeros((batch.B, batch.F))
    for firms in batch.industry_firms:
        if len(firms) == 0:
            continue
        price = fs.price[:, firms]
        active = shown[:, firms]
        count = active.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, (price * active).sum(axis=1, keepdims=True) / count, 1.0)
        price_term[:, firms] = -P.switching.price * (price - mean) / mean
    price_term = np.where(P.mechanisms.price_choice, price_term, 0.0)
    return SimpleNamespace(
        promise=np.ascontiguousarray(fs.promise, dtype=np.float64),
        review_part=a_r[..., None] * review_means(batch),
        review_weight=a_r,
        public=public_credibility(batch),
        price_term=price_term,
    )


def step_terms(batch: MarketBatch) -> SimpleNamespace:
    """:func:`terms`, computed once a step and kept on the batch (``kept_terms``, cleared at
    the start of each step): the switching and acquisition phases read the same firm arrays,
    and neither changes them (0.13 ms of numpy a step of 32 markets x 1,000 customers)."""
    kept = getattr(batch, "kept_terms", None)
    if kept is None or kept[0] != batch.steps:
        kept = (batch.steps, terms(batch))
        batch.kept_terms = kept
    return kept[1]


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The constants of the choice rules for the kernels (name: ``[B]`` values, kind)."""
    prm, on = P.expectations, P.mechanisms
    return {
        "choice_a_p": (np.where(on.promise_choice, prm.weight_promise, 0.0), "w"),
        "join_a_p": (np.where(on.promise_expectations, prm.weight_promise, 0.0), "w"),
        "choice_a_x": (prm.weight_experience, "w"),
        "quality": (P.switching.quality, "w"),
        "attitude": (P.switching.attitude, "w"),
        "join_anchor": (prm.join_anchor, "w"),
        "commitment_initial": (P.trust.commitment_initial, "f"),
        "rho_choice": (credibility_weight_of_reviews(P), "w"),
    }
