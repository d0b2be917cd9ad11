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

:func:`hazard` is the rule for one customer and firm; the kernel :func:`adopt` applies it to
every unserved customer of a block of one market (a customer who left for no firm in this
step's switching waits a step), drawing its uniforms (``sim.draws``: ``"adopt"``,
``"adopt_firm"``). The blocks are the batch's tasks (``MarketBatch.tasks``), run in parallel,
each counting its adopters in its own row. Neighbour counts are read as they stand after
switching: a customer who adopts in this phase has no satisfaction yet, so it counts for no one,
before or after. A bound on everyone's chance (:func:`adoption_bounds`) lets the kernel skip the
customers whose uniform is above it without computing their hazards.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.draws import ADOPT, ADOPT_FIRM, draw_uniforms, uniform
from sim.jit import (
    add_task_rows,
    by_value,
    kernel,
    parallel_kernel,
    prange,
    prefetch,
    rule,
    run_tasks,
)
from sim.params.stacked import StackedParams
from sim.rules import choice
from sim.state import BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch

MARGIN = 1e-6
"""Relative margin of the bound over the chances it bounds (float rounding)."""


AHEAD = 16
"""Candidates ahead whose neighbours :func:`adopt` prefetches (twice as far, where those
neighbours are listed; half as far, the neighbours' own state)."""


@rule
def hazard(
    targeted: float, marketing: float, satisfied: int, degree: int, targeting: float, p: Any
) -> float:
    """``h``: ``p * marketing * targeted ** targeting + q * satisfied / max(degree, 1)`` for one
    customer and firm (``targeted = K * sum_k w[k] * focus[k]``, ``marketing`` the firm's
    ``(marketing / marketing_reference) ** elasticity``)."""
    reach = targeted if targeting == 1.0 else targeted**targeting
    return p.bass_p * marketing * reach + p.bass_q * satisfied / max(degree, 1)


@kernel
def adopt(
    lo: int,
    hi: int,
    b: int,
    m: int,
    firms: np.ndarray,
    step: int,
    offsets: np.ndarray,
    live: np.ndarray,
    keys: np.ndarray,
    consts: Any,
    bound: np.ndarray,
    marketing: np.ndarray,
    focus: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    satisfied_total: np.ndarray,
    region: np.ndarray,
    visible: np.ndarray,
    weights: np.ndarray,
    sensitivity: np.ndarray,
    supplier: np.ndarray,
    expectation: np.ndarray,
    satisfaction: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    attitude: np.ndarray,
    tenure: np.ndarray,
    joined: np.ndarray,
    complaints: np.ndarray,
    answered: np.ndarray,
    steps_since_recovery: np.ndarray,
    failed: np.ndarray,
    left: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    acquired: np.ndarray,
) -> None:
    """Unserved customers ``lo..hi`` of market ``b`` adopt in industry ``m`` (firms ``firms``),
    if the market is live.

    ``bound[b]`` bounds every customer's chance in market ``b``; ``marketing`` ``[B, F]`` and
    ``focus`` ``[B, F, K]`` are the firms'; ``indptr``, ``indices`` the batch's network. On a
    complete graph (``indptr`` empty) every other customer is a neighbour: the counts are the
    market's satisfied customers of each firm, ``satisfied_total`` ``[B, F]`` (an unserved
    customer is not among them). Adds the adopters to ``acquired`` ``[F]``.

    The candidates (unserved, their uniform below the bound) are scattered, and so are their
    neighbours: a candidate's neighbours are prefetched :data:`AHEAD` candidates ahead, and
    their supplier and satisfaction half as far (at 1M customers, two threads, three alternated
    pairs: the phase 8.2-8.6 -> 7.5-7.9 ms; 6 December 2026, Intel Xeon).
    """
    n_local = len(firms)
    k_attr = weights.shape[1]
    h = np.empty(n_local)
    u_firm = np.empty(n_local)
    counts = np.zeros(n_local, np.int64)
    p = by_value(consts[b])
    if not live[b] or not p.acquisition_on or bound[b] <= 0.0:
        return
    adopt_key = keys[b, ADOPT, m]
    firm_key = keys[b, ADOPT_FIRM, m]
    first = offsets[b]
    # every customer's uniform, then the unserved ones below the bound, kept in order (a loop
    # without branches)
    draws = np.empty(max(hi - lo, 0))
    rows = np.empty(max(hi - lo, 0), np.int64)
    draw_uniforms(adopt_key, lo, hi, first, draws)
    n_rows = 0
    below_bound = bound[b]
    for j in range(hi - lo):
        i = lo + j
        u = draws[j]
        rows[n_rows] = i
        draws[n_rows] = u
        # `&`, not `and`: the short-circuit `and` compiled to branches, mispredicted (3x slower)
        n_rows += (supplier[m, i] < 0) & (not left[m, i]) & (u < below_bound)
    network = len(indptr) > 0
    flat_supplier = supplier.reshape(-1)
    flat_satisfaction = satisfaction.reshape(-1)
    n_all = supplier.shape[1]
    for r in range(n_rows):
        if network:  # the candidates' neighbours, then the neighbours' state, asked for ahead
            prefetch(indptr, rows[min(r + 2 * AHEAD, n_rows - 1)])
            further = rows[min(r + AHEAD, n_rows - 1)]
            prefetch(indices, indptr[further])
            prefetch(indices, indptr[further + 1] - 1)
            near = rows[min(r + AHEAD // 2, n_rows - 1)]
            for e in range(indptr[near], indptr[near + 1]):
                prefetch(flat_supplier, m * n_all + indices[e])
                prefetch(flat_satisfaction, m * n_all + indices[e])
        i = rows[r]
        u = draws[r]
        # satisfied neighbours served by each firm of the industry
        if not network:  # the complete graph
            degree = offsets[b + 1] - first - 1
            for j in range(n_local):
                counts[j] = satisfied_total[b, firms[j]]
        else:
            for j in range(n_local):
                counts[j] = 0
            lo, hi = indptr[i], indptr[i + 1]
            degree = hi - lo
            for e in range(lo, hi):
                other = indices[e]
                g = supplier[m, other]
                if g >= 0 and satisfaction[m, other] >= p.satisfied_threshold:
                    for j in range(n_local):
                        if firms[j] == g:
                            counts[j] += 1
        total = 0.0
        for j in range(n_local):
            f = firms[j]
            h[j] = 0.0
            if visible[b, region[i], f]:
                targeted = 0.0
                for k in range(k_attr):
                    targeted += np.float64(weights[i, k]) * focus[b, f, k]
                targeted *= k_attr
                h[j] = hazard(targeted, marketing[b, f], counts[j], degree, p.targeting, p)
            total += h[j]
        if not u < min(1.0, total * p.dt):
            continue
        # which firm: the hazards weighted by exp(U), against one uniform
        if n_local > 1:
            top = choice.NO_UTILITY
            for j in range(n_local):
                u_firm[j] = choice.NO_UTILITY
                if h[j] > 0:
                    f = firms[j]
                    u_firm[j] = choice.firm_utility(
                        i,
                        f,
                        m,
                        weights,
                        expectation,
                        trust,
                        attitude,
                        sensitivity,
                        visible[b, region[i], f],
                        promise[b],
                        review_part[b],
                        review_weight[b],
                        public[b],
                        price_term[b],
                        p,
                    )
                    top = max(top, u_firm[j])
            for j in range(n_local):
                h[j] = h[j] * math.exp(u_firm[j] - top) if h[j] > 0 else 0.0
        cum = 0.0
        for j in range(n_local):
            cum += h[j]
        draw = uniform(firm_key, i - first) * cum
        pick = 0
        acc = 0.0
        for j in range(n_local):
            acc += h[j]
            if acc < draw:
                pick += 1
        pick = min(pick, n_local - 1)
        new = firms[pick]
        choice.join(
            i,
            new,
            m,
            step,
            expectation,
            trust,
            supplier,
            joined,
            tenure,
            commitment,
            satisfaction,
            complaints,
            answered,
            steps_since_recovery,
            failed,
            promise[b],
            review_part[b],
            review_weight[b],
            public[b],
            p,
        )
        acquired[new] += 1.0


@kernel
def one_task(t, tasks, industries, sizes, per_industry, before, after, acquired):
    """Task ``t`` of :func:`adopt` in every industry ``m`` with ``sizes[m]`` firms
    (``industries[m]``; ``tasks``: market, first and last customer; ``per_industry`` the
    industries' ``bound`` and ``satisfied_total``, ``before`` and ``after`` the arguments of
    :func:`adopt` before and after ``bound``); its adopters in ``acquired[t]``."""
    lo, hi, b = tasks[1][t], tasks[2][t], tasks[0][t]
    bounds, totals = per_industry
    step, offsets, live, keys, consts = before
    marketing, focus, indptr, indices = after[:4]
    for m in range(len(sizes)):
        if sizes[m] > 0:
            firms = industries[m, : sizes[m]]
            adopt(lo, hi, b, m, firms, step, offsets, live, keys, consts, bounds[m], marketing,
                  focus, indptr, indices, totals[m], *after[4:], acquired[t])  # fmt: skip


@kernel
def serial_tasks(n_tasks, tasks, industries, sizes, per_industry, before, after, acquired):
    """Every task, one after another, on the calling thread."""
    for t in range(n_tasks):
        one_task(t, tasks, industries, sizes, per_industry, before, after, acquired)


@parallel_kernel
def parallel_tasks(n_tasks, tasks, industries, sizes, per_industry, before, after, acquired):
    """Every task, as parallel tasks on numba's threads. An adopter changes only its own
    state; its neighbours read its supplier and satisfaction, but a customer adopting in this
    phase counts for no one before or after (no supplier, then no satisfaction yet: NaN), so
    the counts do not depend on which task runs first."""
    for t in prange(n_tasks):
        one_task(t, tasks, industries, sizes, per_industry, before, after, acquired)


def targeting_exponent(P: StackedParams) -> np.ndarray:
    """``[B, 1]`` ``acquisition.targeting``, or 0 (marketing reaches everyone alike) with
    ``mechanisms.targeting`` off."""
    return np.where(P.mechanisms.targeting, P.acquisition.targeting, 0.0)


def imitation(P: StackedParams) -> np.ndarray:
    """``[B, 1]`` ``acquisition.q``, or 0 with ``mechanisms.imitation`` off."""
    return np.where(P.mechanisms.imitation, P.acquisition.q, 0.0)


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm = P.acquisition
    return {
        "acquisition_on": (prm.enabled, "b"),
        "bass_p": (prm.p, "w"),
        "bass_q": (imitation(P), "w"),
        "targeting": (targeting_exponent(P), "w"),
        "satisfied_threshold": (prm.satisfied_threshold, "f"),
        "dt": (np.full_like(prm.p, 1.0 / steps_per_year), "w"),
    }


def marketing_factor(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` each firm's ``(marketing / marketing_reference) ** elasticity``."""
    P = batch.params
    reference = P.economics.marketing_reference
    return (batch.firm_state.marketing / reference) ** P.acquisition.marketing_elasticity


def adoption_bounds(batch: MarketBatch, m: int, marketing: np.ndarray) -> np.ndarray:
    """``[B]`` an upper bound on every unserved customer's chance to adopt in industry ``m``.

    ``sum_f h[n, f]`` is at most ``sum_f p * marketing(f) * (K * max_k focus[f, k]) **
    targeting + q``: weights sum to 1, and each satisfied neighbour counts for one firm only."""
    P = batch.params
    firms = batch.industry_firms[m]
    shown = batch.visible[:, :, firms].any(axis=1)  # [B, F_m]
    peak = batch.K * batch.firm_state.focus[:, firms].max(axis=2)
    reach = np.maximum(peak, 1.0) ** np.maximum(targeting_exponent(P), 0.0)
    h = P.acquisition.p * marketing[:, firms] * reach * shown
    total = h.sum(axis=1) + imitation(P)[:, 0]
    return np.minimum(1.0, total / batch.steps_per_year * (1.0 + MARGIN) + 1e-12)


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Let the unserved customers of every market adopt a firm."""
    cs, ws = batch.customer_state, batch.workspace
    if not batch.params.acquisition.enabled.any():
        return
    t = choice.step_terms(batch)
    marketing = marketing_factor(batch)
    focus = np.ascontiguousarray(batch.firm_state.focus, dtype=np.float64)
    indptr, indices = batch.indptr, batch.indices
    n_tasks = len(batch.tasks[0])
    sizes = np.zeros(batch.M, np.int64)  # 0: the industry is skipped
    bounds = np.zeros((batch.M, batch.B))
    totals = np.zeros((batch.M, batch.B, batch.F), np.int64)
    for m in range(batch.M):
        firms = np.asarray(batch.industry_firms[m], np.int64)
        if len(firms) == 0 or not batch.visible[:, :, firms].any():
            continue
        sizes[m] = len(firms)
        bounds[m] = adoption_bounds(batch, m, marketing)
        if batch.complete:  # a batch of one market on the complete graph
            sup = cs.supplier[m]
            happy = sup[cs.satisfaction[m] >= batch.params.acquisition.satisfied_threshold[0, 0]]
            totals[m, 0] = np.bincount(happy[happy >= 0], minlength=batch.F)
    if not sizes.any():
        return
    before = (batch.steps, batch.offsets, batch.live, batch.keys, batch.consts)
    after = (
        marketing,
        focus,
        indptr,
        indices,
        cs.region,
        batch.visible,
        cs.weights,
        cs.price_sensitivity,
        cs.supplier,
        cs.expectation,
        cs.satisfaction,
        cs.trust,
        cs.commitment,
        cs.attitude,
        cs.tenure,
        cs.joined,
        cs.complaints,
        cs.answered,
        cs.steps_since_recovery,
        cs.failed,
        ws.left,
        t.promise,
        t.review_part,
        t.review_weight,
        t.public,
        t.price_term,
    )
    acquired = np.zeros((n_tasks, batch.F))
    industries = batch.industry_members  # the firms of industry m: row m's first sizes[m]
    args = (n_tasks, batch.tasks, industries, sizes, (bounds, totals), before, after, acquired)
    run_tasks(serial_tasks, parallel_tasks, n_tasks, *args)
    add_task_rows(batch.tasks[0], acquired, scratch.acquired)  # whole counts: exact in any order
