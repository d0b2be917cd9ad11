"""Phase 3, expectations: what customers expect from their supplier, and the benchmark.

The expectation the customer judges this step's experience against (Oliver 1980: the adaptation
level) is kept for the satisfaction phase. A disclosed failure lowers it on the attributes the
failure hits by ``disclosure_adjustment`` of the coming shortfall: the customer was warned, so
this experience is judged against a lowered bar; the lasting expectation is not lowered by the
warning itself. Then E moves toward a target, faster up than down::

    B[k]     = max((1 - benchmark_decay) * B[k], max over industries of this step's X[k])
    judged[k] = E[k] - disclosure_adjustment * (E[k] - X[k])   if warned, k a failure attribute
                                                               and X[k] < E[k];  E[k] otherwise
    target   = (a_p P[f] + a_r reviews[f] + a_x X + a_b B * cross + a_w heard)
               / (a_p + a_r + a_x + a_b * cross + a_w * has_heard)  +  standard
    E       += (rate_up if target > E else rate_down) * (target - E)

``cross`` is 1 on the cross-industry attributes (by default speed and service: the overnight
delivery sets the bar for the bank) and 0 on the others; ``heard`` is what friends said about the
industry's firms (word of mouth phase; ``has_heard`` is 0 until something was heard, and the term
then drops out), ``reviews[f]`` the mean experience in the firm's public reviews, ``standard`` the
customer's lasting personal standard. Rates are per week. Customers without a supplier keep their
expectation until they join one, when it moves ``join_anchor * h`` of the way to the new firm's
promise (``h``: :func:`promise_hold`).

:func:`prepare` computes the firm-level part of the target (``a_p P[f] + a_r reviews[f]``) and
the constants; :func:`decayed_benchmark`, :func:`judged` and :func:`moved` are the rules for one
customer, applied by the kernel of ``sim.rules.fused``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import firm_table
from sim.jit import ZERO, rule
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.params import Params


@rule
def judged(
    expectation: float, experience: float, warned: bool, failure_attribute: bool, adjust: float
) -> float:
    """The bar one attribute of this experience is judged against: E, lowered by ``adjust``
    (``disclosure_adjustment``) of the shortfall on a failure attribute the customer was warned
    about."""
    if warned and failure_attribute and experience < expectation:
        return expectation - adjust * (expectation - experience)
    return expectation


@rule
def target(
    firm_part: float,
    experience: float,
    a_x: float,
    benchmark_part: float,
    heard: float,
    a_w: float,
    weights_known: float,
    tiny: float,
) -> float:
    """The weighted mean the expectation of one attribute moves toward (before the personal
    standard): ``firm_part = a_p P[f] + a_r reviews[f]``, ``benchmark_part = a_b B * cross``,
    ``weights_known = a_p + a_r + a_x + a_b * cross``; what was heard counts (``a_w``) once
    something was heard (``heard`` is NaN before)."""
    total = firm_part + experience * a_x
    total += benchmark_part
    has_heard = heard == heard
    total += (heard if heard > ZERO else ZERO) * a_w
    weight = a_w if has_heard else ZERO
    weight += weights_known
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


def promise_reliance(params: Params) -> float:
    """How far customers go by promises rather than their own experience, 0..1.

    ``weight_promise / (weight_promise + weight_experience)``: Kopalle & Lehmann's (2006)
    reliance on advertising.
    """
    prm = params.expectations
    total = prm.weight_promise + prm.weight_experience
    return prm.weight_promise / total if total > 0 else 0.0


def promise_hold(params: Params) -> float:
    """How strongly customers hold a firm to its promise: ``min(1, 2 * reliance)``.

    A customer who relies on promises as much as on experience (reliance 0.5) holds the firm to
    the full gap ``P - X``; one who barely listens to promises, to a fraction of it. It scales the
    shortfall that costs trust and satisfaction and how far a joining customer anchors on the
    promise (see docs/MODEL.md, design decisions).
    """
    return min(1.0, 2.0 * promise_reliance(params))


def review_means(model: CustomerMarket) -> np.ndarray:
    """``[F, K]`` mean experience reported in each firm's reviews (its promise if none yet)."""
    fs = model.firm_state
    w = fs.review_weight[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 1e-9, fs.review_attr / np.maximum(w, 1e-12), fs.promise)


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values and constants of the phase."""
    cs, fs, prm = model.customer_state, model.firm_state, model.params.expectations
    ft = cs.expectation.dtype.type
    spy = model.steps_per_year
    benchmark_weight = (prm.weight_benchmark * model.cross_mask).astype(ft)  # a_b * cross
    return SimpleNamespace(
        firm_part=firm_table(
            prm.weight_promise * fs.promise + prm.weight_reviews * review_means(model), 0.0, ft
        ),
        benchmark_weight=benchmark_weight,
        weights_known=(prm.weight_promise + prm.weight_experience + prm.weight_reviews)
        + benchmark_weight,
        constants={
            "benchmark_keep": 1.0 - weekly_rate_to_step(prm.benchmark_decay, spy),
            "adjust": prm.disclosure_adjustment,
            "a_x": prm.weight_experience,
            "a_w": prm.weight_word_of_mouth,
            "tiny": 1e-12,
            "rate_up": weekly_rate_to_step(prm.rate_up, spy),
            "rate_down": weekly_rate_to_step(prm.rate_down, spy),
        },
    )
