"""Phase 3, expectations: what customers expect from their supplier, and the benchmark.

The expectation the customer judges this step's experience against (Oliver 1980: the adaptation
level) is kept for the satisfaction phase. A disclosed failure lowers it on the attributes the
failure hits by ``disclosure_adjustment`` of the coming shortfall: the customer was warned, so
this experience is judged against a lowered bar; the lasting expectation is not lowered by the
warning itself. Then E moves toward a target, faster up than down::

    B[k]   = max((1 - benchmark_decay) * B[k], max over industries of this step's X[k])
    target = (a_p P[f] + a_x X + a_b B * cross + a_w heard + a_r np.take(reviews, f, axis=0))
             / (a_p + a_x + a_b * cross + a_w * has_heard + a_r)
    E     += (rate_up if target > E else rate_down) * (target - E)

``cross`` is 1 on the cross-industry attributes (by default speed and service: the overnight
delivery sets the bar for the bank) and 0 on the others; ``heard`` is what friends said about the
industry's firms (word of mouth phase), ``reviews[f]`` the mean experience in the firm's public
reviews. Rates are per week. Customers without a supplier keep their expectation until they join
one, when it moves ``join_anchor`` of the way to the new firm's promise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import put_rows, take_rows
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def review_means(model: CustomerMarket) -> np.ndarray:
    """``[F, K]`` mean experience reported in each firm's reviews (its promise if none yet)."""
    fs = model.firm_state
    w = fs.review_weight[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 1e-9, fs.review_attr / np.maximum(w, 1e-12), fs.promise)


def update_benchmark(model: CustomerMarket, scratch: StepScratch) -> None:
    """Decay the benchmark, then raise it to the best experience of this step anywhere."""
    cs, prm = model.customer_state, model.params.expectations
    decay = weekly_rate_to_step(prm.benchmark_decay, model.steps_per_year)
    cs.benchmark *= 1.0 - decay
    for m, served in enumerate(scratch.served):
        best = np.maximum(take_rows(cs.benchmark, served), take_rows(cs.experience[m], served))
        put_rows(cs.benchmark, served, best)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Disclosure adjustment, benchmark update and the move of E toward its target."""
    cs, fs, prm = model.customer_state, model.firm_state, model.params.expectations
    up = weekly_rate_to_step(prm.rate_up, model.steps_per_year)
    down = weekly_rate_to_step(prm.rate_down, model.steps_per_year)
    cross = model.cross_mask.astype(float)
    update_benchmark(model, scratch)
    reviews = review_means(model)
    for m, served in enumerate(scratch.served):
        f = scratch.firm[m]
        e = take_rows(cs.expectation[m], served)
        x = take_rows(cs.experience[m], served)
        judged = e.copy()
        warned = scratch.warned[m]
        if warned.any() and prm.disclosure_adjustment > 0:
            rows = np.flatnonzero(warned)
            ew, xw = e[rows], x[rows]
            hit = model.failure_mask & (xw < ew)
            judged[rows] = np.where(hit, ew - prm.disclosure_adjustment * (ew - xw), ew)
        scratch.expectation_used.append(judged)
        heard = take_rows(cs.heard[m], served)
        has_heard = ~np.isnan(heard)
        wb = prm.weight_benchmark * cross
        num = (prm.weight_promise * np.take(fs.promise, f, axis=0) + prm.weight_experience * x
               + wb * take_rows(cs.benchmark, served)
               + prm.weight_reviews * np.take(reviews, f, axis=0)
               + prm.weight_word_of_mouth * np.where(has_heard, heard, 0.0))
        den = (prm.weight_promise + prm.weight_experience + wb + prm.weight_reviews
               + prm.weight_word_of_mouth * has_heard)
        target = num / np.maximum(den, 1e-12)
        gap = target - e
        e += np.where(gap > 0, up, down) * gap
        put_rows(cs.expectation[m], served, e)
