"""Phase 3, expectations: what customers expect from their supplier, and the benchmark.

The expectation the customer judges this step's experience against (Oliver 1980: the adaptation
level) is kept for the satisfaction phase. A warned failure is judged against a bar lowered by
``disclosure.adjustment`` of the coming shortfall, on the attributes the failure hits, times the
warning's effect ``v`` (warnings wear out when frequent, ``sim.rules.trust.warning_effect``);
the lasting expectation is not lowered by the warning itself. Then E moves toward a target,
faster up than down::

    B[k]      = max((1 - benchmark_decay) * B[k], max over industries of this step's X[k])
    judged[k] = E[k] - adjustment * v * (E[k] - X[k])     if warned, k a failure attribute and
                                                          X[k] < E[k];  E[k] otherwise
    c         = (1 - rho) * T[f] + rho * Tpub[f]                           (credibility)
    target    = (a_p c P[f] + a_r o[f] R[f] + a_x X + a_b B * cross + a_w heard)
                / (a_p c + a_r o[f] + a_x + a_b * cross + a_w * has_heard)  +  standard
    E        += (rate_up if target > E else rate_down) * (target - E)

``P[f]`` is the promise as the customer holds the firm to it (:func:`held_promise`): what the
firm promised, with the value attribute read at the firm's announced price, the price term of
the value the customer perceives (sim.rules.delivery, ``price_value``)::

    P[f, value] = clip(promise[f, value]
                       + price_sensitivity * (ref_price - price(f)) / ref_price, 0, 1)

A firm that charges more than its rivals promises, and delivers, less value for the money; its
customers neither expect the value of a cheaper firm from it nor count its price as a broken
promise (sim.rules.trust judges kept promises against the same ``P``). A promise is weighted by
the firm's credibility ``c``: the customer's trust in the firm's word
``T[f]`` (sim.rules.trust: learned from its own experience and word of mouth), blended with the
firm's public credibility ``Tpub[f]`` (the mean trust in its reviews, :func:`public_credibility`)
by ``rho = reviews.weight_credibility`` (Erdem & Keane 1996; Erdem & Swait 1998: claims count as
far as the brand is credible). ``R[f]`` is the mean experience in the firm's public reviews and
``o[f] = reviews / (reviews + reviews.prior_weight)`` how much there is of it (0 for a firm nobody
has reviewed). ``cross`` is 1 on the cross-industry attributes (by default speed and service: the
overnight delivery sets the bar for the bank) and 0 on the others; ``heard`` is what friends said
about the industry's firms (word of mouth phase; ``has_heard`` is 0 until something was heard, and
the term then drops out), ``standard`` the customer's lasting personal standard. Rates are per
week.
Customers without a supplier keep their expectation until they join one (sim.rules.choice).

:func:`prepare` computes the firm-level parts of every market of a batch; :func:`decayed_benchmark`,
:func:`raised_benchmark`, :func:`judged`, :func:`credibility`, :func:`target` and :func:`moved`
are the rules for one customer, applied by the kernel of ``sim.rules.fused``. The mechanism
switches (``[mechanisms]``) remove a term: ``promise_expectations`` the promise,
``credibility`` the weighting by credibility (promises at face value), ``benchmark`` the
benchmark, ``word_of_mouth`` what was heard, ``reviews`` the reviews, ``personal_standard`` the
standard, ``disclosure_expectations`` the lowered bar.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.jit import ZERO, rule
from sim.params.stacked import StackedParams
from sim.rules import delivery
from sim.rules.reviews import with_prior
from sim.state import BatchScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch


@rule
def judged(
    expectation: float, experience: float, warned: bool, failure_attribute: bool, lowered: float
) -> float:
    """The bar one attribute of this experience is judged against: E, lowered by ``lowered``
    (``disclosure.adjustment`` times the warning's effect) of the shortfall on a failure
    attribute the customer was warned about."""
    if warned and failure_attribute and experience < expectation:
        return expectation - lowered * (expectation - experience)
    return expectation


@rule
def credibility(trust: float, public: float, weight_reviews: float) -> float:
    """How far a customer believes a firm's promises: its own trust in the firm's word, blended
    with the firm's public credibility (``weight_reviews``: ``reviews.weight_credibility``)."""
    return trust + (public - trust) * weight_reviews


@rule
def target(
    promise_weight: float,
    promise: float,
    review_part: float,
    review_weight: float,
    experience: float,
    a_x: float,
    benchmark_part: float,
    benchmark_weight: float,
    heard: float,
    a_w: float,
    tiny: float,
) -> float:
    """The weighted mean the expectation of one attribute moves toward (before the personal
    standard): ``promise_weight = a_p c``, ``review_part = a_r o R`` with ``review_weight =
    a_r o``, ``benchmark_part = a_b B * cross`` with ``benchmark_weight = a_b * cross``; what was
    heard counts (``a_w``) once something was heard (``heard`` is NaN before)."""
    total = promise_weight * promise + review_part
    total += experience * a_x
    total += benchmark_part
    weight = promise_weight + review_weight
    weight += a_x
    weight += benchmark_weight
    if heard == heard:
        total += heard * a_w
        weight += a_w
    if weight < tiny:
        weight = tiny
    return total / weight


@rule
def moved(expectation: float, toward: float, rate_up: float, rate_down: float) -> float:
    """``E + rate * (toward - E)``, with ``rate_up`` when the target is above E, ``rate_down``
    otherwise: expectations rise faster than they fall."""
    gap = toward - expectation
    rate = rate_up if gap > ZERO else rate_down
    return gap * rate + expectation


@rule
def decayed_benchmark(benchmark: float, keep: float) -> float:
    """The benchmark before this step's experiences: ``(1 - benchmark_decay) * B``."""
    return benchmark * keep


@rule
def raised_benchmark(benchmark: float, experience: float) -> float:
    """``max(B, X)``: an experience at least as good as the benchmark becomes it (NaN wins, as
    ``np.maximum``)."""
    if benchmark == benchmark and (experience > benchmark or experience != experience):
        return experience
    return benchmark


def review_means(batch: MarketBatch) -> np.ndarray:
    """``[B, F, K]`` mean experience reported in each firm's reviews (0 where none yet)."""
    fs = batch.firm_state
    w = fs.review_weight[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 1e-9, fs.review_attr / np.maximum(w, 1e-12), 0.0)


def held_promise(batch: MarketBatch) -> np.ndarray:
    """``[B, M, R * (F + 1), K]``: the promise each firm's customers in region r of industry m
    hold it to, row ``f + r * (F + 1)`` (the rows of sim.rules.delivery's experience tables;
    the last firm row of a region, for no supplier, 0): the firm's promise, with the value
    attribute read at its price, ``promise + price_sensitivity * (ref_price - price) /
    ref_price`` clipped to 0..1, with ``price_value`` on (the promise as made otherwise)."""
    fs, P = batch.firm_state, batch.params
    B, M, R, F, K = batch.B, batch.M, batch.R, batch.F, batch.K
    held = np.zeros((B, M, R, F + 1, K))
    held[:, :, :, :F] = fs.promise[:, None, None]
    kv = batch.price_index
    if kv >= 0:
        part = np.nan_to_num(delivery.value_from_price(batch))  # [B, M, R, F]
        on = P.mechanisms.price_value[:, :, None, None]
        value = np.clip(fs.promise[:, None, None, :, kv] + part, 0.0, 1.0)
        held[:, :, :, :F, kv] = np.where(on, value, held[:, :, :, :F, kv])
    return held.reshape(B, M, R * (F + 1), K).astype(batch.dtype)


def reviewed(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` how much public review evidence each firm has, ``o = reviews / (reviews +
    prior_weight)``: 0 for a firm nobody has reviewed (or with reviews switched off), toward 1
    with many."""
    fs = batch.firm_state
    o = fs.review_weight / (fs.review_weight + batch.params.reviews.prior_weight)
    return np.where(batch.params.mechanisms.reviews, o, 0.0)


def public_credibility(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` each firm's public credibility: the mean trust in its word of those who
    reviewed it, with ``trust.initial`` counting as ``reviews.prior_weight`` reviews
    (:func:`sim.rules.reviews.with_prior`)."""
    fs, prm = batch.firm_state, batch.params
    prior, n = prm.trust.initial, prm.reviews.prior_weight
    return with_prior(prior, fs.review_trust, fs.review_trust_weight, n)


def credibility_weight_of_reviews(P: StackedParams) -> np.ndarray:
    """``[B, 1]`` ``rho``: the share of credibility taken from reviews (0 with reviews switched
    off)."""
    return np.where(P.mechanisms.reviews, P.reviews.weight_credibility, 0.0)


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm, on, spy = P.expectations, P.mechanisms, steps_per_year
    return {
        "benchmark_keep": (1.0 - weekly_rate_to_step(prm.benchmark_decay, spy), "f"),
        "a_p": (np.where(on.promise_expectations, prm.weight_promise, 0.0), "f"),
        "a_x": (prm.weight_experience, "f"),
        "a_w": (np.where(on.word_of_mouth, prm.weight_word_of_mouth, 0.0), "f"),
        "tiny": (np.full_like(prm.weight_experience, 1e-12), "f"),
        "rate_up": (weekly_rate_to_step(prm.rate_up, spy), "f"),
        "rate_down": (weekly_rate_to_step(prm.rate_down, spy), "f"),
        "rho": (credibility_weight_of_reviews(P), "f"),
        "adjustment": (
            np.where(on.disclosure_expectations, P.disclosure.adjustment, 0.0),
            "f",
        ),
        "credibility_on": (on.credibility, "b"),
        "standard_on": (on.personal_standard, "b"),
    }


def prepare(batch: MarketBatch, scratch: BatchScratch) -> SimpleNamespace:
    """Firm-level values of the phase, ``[B, F + 1, ...]`` tables (the last row: no firm);
    the held promises by industry and region (:func:`held_promise`)."""
    P = batch.params
    ft = batch.dtype
    a_b = np.where(P.mechanisms.benchmark, P.expectations.weight_benchmark, 0.0)  # [B, 1]
    a_r = P.expectations.weight_reviews * reviewed(batch)  # [B, F]
    return SimpleNamespace(
        promise=held_promise(batch),
        review_part=batch.firm_table(a_r[..., None] * review_means(batch), 0.0, ft),
        review_weight=batch.firm_table(a_r, 0.0, ft),
        public=batch.firm_table(public_credibility(batch), 0.0, ft),
        benchmark_weight=(a_b * batch.cross_mask).astype(ft),  # [B, K]: a_b * cross
    )
