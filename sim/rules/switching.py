"""Phase 7, switching and churn.

A served customer leaves its supplier within a year with probability ``sigmoid(z)``::

    z = intercept + satisfaction * (satisfaction_ref - S) + trust * (trust_ref - T[f])
        - commitment * (C - 0.5) + rival * max(0, max_{rivals} U - U[own]) - switching_cost

converted to a per-step hazard: satisfaction, trust in the supplier's word and commitment each
enter once (``T[f]`` is the trust in the current supplier ``f``; ``mechanisms.commitment`` off
removes the commitment term). The utility U (``sim.rules.choice``) weighs the quality the
customer expects of each firm (promises weighted by their credibility, reviews, its own
expectation), what it has heard (attitude) and price. A leaver chooses among the visible rivals
and going unserved (utility ``outside_option``) by a logit choice (Gumbel-max: the largest
``U_j - log(-log(u_j))``, one uniform per option). Joining starts a relationship: commitment at
its initial value, satisfaction at the first experience, the expectation moved ``join_anchor``
of the way to the quality expected of the new firm; trust in the firm is what the customer
already believes of it (it is kept when a customer leaves).

:func:`churn_chance` is the rule for one customer (:func:`churn_z`, then :func:`leave_chance`),
:func:`leave` and ``sim.rules.choice.join`` end and start its relationship; the kernel
:func:`switch_rows` applies them to every served customer of a block of one market, drawing its
uniform (``sim.draws``: ``"churn"``, and ``"leave_to"`` with the option as the column). The
blocks are the batch's tasks (``MarketBatch.tasks``), run in parallel: a customer's switching
reads and changes only its own state, and each task counts its leavers and joiners in its own
row. Most customers cannot leave in a given step: the kernel compares a customer's uniform
first with a bound on everyone's chance in its market and industry, then with a bound on its own
chance at the largest possible rival gap, read from a grid of chances over ``z`` (both in
``sim.rules.churn_skip``: no exp or log), and computes utilities and its chance only for
the few left. The bounds only save work: the decision is always the customer's uniform against
its own chance, and every customer's uniform is its own (keyed by customer), so skipping shifts
no other number.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.draws import CHURN, LEAVE_TO, draw_uniforms, uniform_column
from sim.jit import (
    add_task_rows,
    by_value,
    inlined_rule,
    kernel,
    parallel_kernel,
    prange,
    prefetch,
    rule,
    run_tasks,
)
from sim.params.stacked import StackedParams
from sim.rules import choice
from sim.rules.churn_skip import (
    PER_UNIT,
    attitude_ranges,
    chance_above,
    chance_table,
    churn_bounds,
)
from sim.state import NO_FIRM, BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch

AHEAD = 8
"""Candidates ahead whose state the exact stage of :func:`switch_rows` prefetches (twice as
many in the second check): 4, 8 and 16 measured the same."""


@rule
def churn_z(satisfaction: float, trust: float, commitment: float, gap: float, p: Any) -> float:
    """``z`` of one customer: ``intercept + satisfaction * (satisfaction_ref - S) + trust *
    (trust_ref - T) - commitment * (C - 0.5) + rival * gap - switching_cost`` (the intercept
    constant includes the cost). A customer without a satisfaction yet counts at
    ``satisfaction_ref``."""
    s = np.float64(satisfaction)
    if s != s:
        s = p.satisfaction_ref
    z = p.churn_intercept
    z += p.churn_satisfaction * (p.satisfaction_ref - s)
    z += p.churn_trust * (p.trust_ref - np.float64(trust))
    if p.commitment_on:
        z -= p.churn_commitment * (np.float64(commitment) - 0.5)
    z += p.rival * gap
    return z


@rule
def leave_chance(z: float, years_per_step: float) -> float:
    """``sigmoid(z)`` within a year as a chance per step, ``1 - (1 - sigmoid(z)) **
    years_per_step``, computed as ``-expm1(-softplus(z) * years_per_step)`` (the same
    function, without cancellation for small chances)."""
    softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))  # -log(1 - sigmoid(z))
    return -math.expm1(-softplus * years_per_step)


@rule
def churn_chance(satisfaction: float, trust: float, commitment: float, gap: float, p: Any) -> float:
    """The chance a customer leaves this step: :func:`leave_chance` of its :func:`churn_z`."""
    return leave_chance(churn_z(satisfaction, trust, commitment, gap, p), p.years_per_step_64)


@rule
def gumbel(u: float) -> float:
    """A standard Gumbel draw from a uniform: ``-log(-log(u))``."""
    return -math.log(-math.log(u))


@rule
def leave(
    i: int,
    m: int,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    commitment: np.ndarray,
    tenure: np.ndarray,
    failed: np.ndarray,
) -> None:
    """Customer ``i`` has no supplier in industry ``m`` any more."""
    supplier[m, i] = NO_FIRM
    satisfaction[m, i] = np.nan
    commitment[m, i] = 0.0
    tenure[m, i] = 0
    failed[m, i] = False


@inlined_rule  # see the docstring
def rival_gap(
    i: int,
    m: int,
    own: int,
    firms: np.ndarray,
    visible: np.ndarray,
    weights: np.ndarray,
    sensitivity: np.ndarray,
    expectation: np.ndarray,
    trust: np.ndarray,
    attitude: np.ndarray,
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    p: Any,
    u_firm: np.ndarray,
) -> float:
    """The rival gap ``max(0, max_rivals U - U[own])`` of customer ``i`` in industry ``m`` (0
    when no rival is visible); leaves in ``u_firm[j]`` its utility of ``firms[j]`` (``visible``:
    the firms seen from its region; the firm arrays its market's, ``sim.rules.choice.terms``).

    Inlined by numba (``inline="always"``) into the switching kernel: called, it took its ~15
    arrays as arguments for every customer it was computed for, and the switching phase of a
    1M-customer step cost 54 against 48 ms on one thread (docs/performance.md)."""
    u_own = choice.NO_UTILITY
    best = choice.NO_UTILITY
    for j in range(len(firms)):
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
            visible[f],
            promise,
            review_part,
            review_weight,
            public,
            price_term,
            p,
        )
        if f == own:
            u_own = u_firm[j]
        else:
            best = max(best, u_firm[j])
    if math.isfinite(best) and math.isfinite(u_own):
        return max(0.0, best - u_own)
    return 0.0


@inlined_rule
def prefetch_gap_state(ahead, m, firms, n_local, weights, flat_expectation, region, sensitivity,
                       flat_attitude, flat_trust):  # type: ignore[no-untyped-def]  # fmt: skip
    """Prefetch what :func:`rival_gap` reads of customer ``ahead`` in industry ``m`` (firms
    ``firms[:n_local]``): its weights, expectation, region and price sensitivity, and its
    attitude toward and trust in each firm (``flat_*``: the arrays flattened)."""
    n_all, k_attr = weights.shape
    prefetch(weights, ahead)
    prefetch(flat_expectation, (m * n_all + ahead) * k_attr)
    prefetch(region, ahead)
    prefetch(sensitivity, ahead)
    for j in range(n_local):
        prefetch(flat_attitude, firms[j] * n_all + ahead)
        prefetch(flat_trust, firms[j] * n_all + ahead)


@kernel
def stay_chances(
    m: int,
    firms: np.ndarray,
    rows: np.ndarray,
    market: np.ndarray,
    consts: Any,
    steps: int,
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
    promise: np.ndarray,
    review_part: np.ndarray,
    review_weight: np.ndarray,
    public: np.ndarray,
    price_term: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[j]``: the chance that served customer ``rows[j]`` (of market ``market[j]``) is
    still with its supplier in industry ``m`` after ``steps`` steps at this step's chance to
    leave (:func:`churn_chance` with its :func:`rival_gap`), ``(1 - p) ** steps``; 1 with
    switching off. Draws nothing.

    The respondents are scattered (a panel of every few hundredth customer at a million), so
    their state is prefetched :data:`AHEAD` respondents ahead."""
    u_firm = np.empty(len(firms))
    n_all = weights.shape[0]
    flat_expectation = expectation.reshape(-1)
    flat_attitude = attitude.reshape(-1)
    flat_trust = trust.reshape(-1)
    flat_satisfaction = satisfaction.reshape(-1)
    flat_commitment = commitment.reshape(-1)
    for j in range(len(rows)):
        ahead = rows[min(j + AHEAD, len(rows) - 1)]
        prefetch_gap_state(ahead, m, firms, len(firms), weights, flat_expectation, region,
                           sensitivity, flat_attitude, flat_trust)  # fmt: skip
        prefetch(flat_satisfaction, m * n_all + ahead)
        prefetch(flat_commitment, m * n_all + ahead)
        i = rows[j]
        b = market[j]
        p = consts[b]
        if not p.switching_on:
            out[j] = 1.0
            continue
        own = supplier[m, i]
        gap = rival_gap(
            i,
            m,
            own,
            firms,
            visible[b, region[i]],
            weights,
            sensitivity,
            expectation,
            trust,
            attitude,
            promise[b],
            review_part[b],
            review_weight[b],
            public[b],
            price_term[b],
            p,
            u_firm,
        )
        chance = churn_chance(satisfaction[m, i], trust[own, i], commitment[m, i], gap, p)
        out[j] = math.exp(steps * math.log1p(-min(chance, 1.0)))


@kernel
def switch_rows(
    lo: int,
    hi: int,
    first: int,
    step: int,
    keys: np.ndarray,
    p: Any,
    visible: np.ndarray,
    industries: np.ndarray,
    sizes: np.ndarray,
    bound: np.ndarray,
    gap_bound: np.ndarray,
    table: np.ndarray,
    top: np.ndarray,
    per_unit: float,
    state: Any,
    terms: Any,
    churned: np.ndarray,
    switched_in: np.ndarray,
) -> None:
    """Who leaves among the customers ``lo..hi`` of one market (its first customer ``first``)
    in every industry, and where each leaver goes.

    Per industry ``m`` (its firms ``industries[m, :sizes[m]]``): ``bound[m]`` bounds every
    customer's chance, ``gap_bound[f]`` the rival gap of a customer of firm ``f``; ``table[m]``
    and ``top[m]`` give ``chance_above`` (``sim.rules.churn_skip``). ``keys`` are the market's
    stream bases ``[purpose, industry]``, ``p`` its constants, ``visible`` ``[R, F]``, ``terms``
    its firm arrays (``sim.rules.choice.terms``). Adds the leavers to ``churned`` and the
    rivals' gains to ``switched_in`` (``[F]``); marks in ``left`` who went unserved.

    The customers are screened in loops without branches, each over the few the one before
    kept: the uniforms of all, the served ones below ``bound[m]``, those below their own
    chance at ``gap_bound[own]``; for what is left, their utilities, then ``chance_above`` at
    their exact ``z`` and only below it their exact chance (the decisions are those of one
    customer at a time: a customer's switching reads and changes only its own state).

    The two last loops gather the candidates' state from scattered places (about one customer
    in 7, then one in 40) and prefetch it a few candidates ahead. At 1M customers after two
    steps, one thread (CPU, medians of 9; docs/performance_rounds.md): the second check 4.5 ->
    2.9 ms, the exact stage 12.0 -> 6.6 ms with the prefetches; before them, ``&`` instead of
    ``and`` in the first pass (a branch per customer, mispredicted) took it from 11 to 3 ms and
    the table before the exact chance (its exp, log1p and expm1 for 3% of the served, of whom 1
    in 23 leaves) the exact stage from 17 to 12 ms.
    """
    (
        region,
        weights,
        sensitivity,
        supplier,
        expectation,
        satisfaction,
        trust,
        commitment,
        attitude,
        tenure,
        joined,
        complaints,
        answered,
        steps_since_recovery,
        failed,
        switches,
        left,
    ) = state
    promise, review_part, review_weight, public, price_term = terms
    u_firm = np.empty(industries.shape[1])
    n_all = weights.shape[0]
    flat_expectation = expectation.reshape(-1)
    flat_attitude = attitude.reshape(-1)
    flat_trust = trust.reshape(-1)
    flat_satisfaction = satisfaction.reshape(-1)
    flat_commitment = commitment.reshape(-1)
    draws = np.empty(max(hi - lo, 0))
    rows = np.empty(max(hi - lo, 0), np.int64)
    for m in range(len(sizes)):
        n_local = sizes[m]
        if n_local == 0:
            continue
        firms = industries[m, :n_local]
        churn_key = keys[CHURN, m]
        choice_key = keys[LEAVE_TO, m]
        # every customer's uniform, then the served ones below the bound on everyone's
        # chance, kept in order
        draw_uniforms(churn_key, lo, hi, first, draws)
        n_rows = 0
        below_bound = bound[m]
        for j in range(hi - lo):
            u = draws[j]
            rows[n_rows] = lo + j
            draws[n_rows] = u
            n_rows += (supplier[m, lo + j] >= 0) & (u < below_bound)  # `&`: no branch
        # of those, the ones below their own chance at the largest rival gap (a loop without
        # branches over the few left: their state's reads overlap)
        n_left = 0
        for r in range(n_rows):
            ahead = rows[min(r + 2 * AHEAD, n_rows - 1)]
            prefetch(flat_satisfaction, m * n_all + ahead)
            prefetch(flat_commitment, m * n_all + ahead)
            for j in range(n_local):
                prefetch(flat_trust, firms[j] * n_all + ahead)
            i = rows[r]
            own = supplier[m, i]
            z = churn_z(satisfaction[m, i], trust[own, i], commitment[m, i], gap_bound[own], p)
            below = draws[r] < chance_above(z, table[m], top[m], per_unit)
            rows[n_left] = i
            draws[n_left] = draws[r]
            n_left += 1 if below else 0
        for r in range(n_left):
            ahead = rows[min(r + AHEAD, n_left - 1)]
            prefetch_gap_state(ahead, m, firms, n_local, weights, flat_expectation, region,
                               sensitivity, flat_attitude, flat_trust)  # fmt: skip
            i = rows[r]
            u = draws[r]
            own = supplier[m, i]
            t_own, c_own, s_own = trust[own, i], commitment[m, i], satisfaction[m, i]
            gap = rival_gap(
                i,
                m,
                own,
                firms,
                visible[region[i]],
                weights,
                sensitivity,
                expectation,
                trust,
                attitude,
                promise,
                review_part,
                review_weight,
                public,
                price_term,
                p,
                u_firm,
            )
            z = churn_z(s_own, t_own, c_own, gap, p)
            if u >= chance_above(z, table[m], top[m], per_unit):  # stays: no exp or log
                continue
            if u >= leave_chance(z, p.years_per_step_64):  # churn_chance's own arithmetic
                continue
            # a logit choice among the rivals and going unserved (the last option): the
            # largest score wins, the first of equal ones
            pick = -1
            best = -math.inf
            for j in range(n_local):
                if firms[j] == own or not math.isfinite(u_firm[j]):
                    continue
                score = u_firm[j] + choice_gumbel(choice_key, i - first, j)
                if score > best:
                    best, pick = score, j
            if p.outside_option + choice_gumbel(choice_key, i - first, n_local) > best:
                pick = n_local
            churned[own] += 1.0
            leave(i, m, supplier, satisfaction, commitment, tenure, failed)
            if pick == n_local:
                left[m, i] = True
                continue
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
                promise,
                review_part,
                review_weight,
                public,
                p,
            )
            switches[m, i] += 1
            switched_in[new] += 1.0


@kernel
def one_task(t, tasks, run, step, keys, consts, visible, industries, sizes, limits, state,
             terms, churned, switched_in):  # fmt: skip
    """Task ``t`` (``tasks``: its market, first and last customer, the market's first), when
    its market switches (``run``); ``limits`` the markets' ``bound``, ``gap_bound``, ``table``,
    ``top`` and ``per_unit``."""
    b, lo, hi, first = tasks[0][t], tasks[1][t], tasks[2][t], tasks[3][t]
    if not run[b]:
        return
    bound, gap_bound, table, top, per_unit = limits
    promise, review_part, review_weight, public, price_term = terms
    switch_rows(
        lo,
        hi,
        first,
        step,
        keys[b],
        by_value(consts[b]),
        visible[b],
        industries,
        sizes,
        bound[b],
        gap_bound[b],
        table[b],
        top[b],
        per_unit,
        state,
        (promise[b], review_part[b], review_weight[b], public[b], price_term[b]),
        churned[t],
        switched_in[t],
    )


@kernel
def serial_tasks(n_tasks, tasks, run, step, keys, consts, visible, industries, sizes, limits,
                 state, terms, churned, switched_in):  # fmt: skip
    """Every task, one after another, on the calling thread."""
    for t in range(n_tasks):
        one_task(t, tasks, run, step, keys, consts, visible, industries, sizes, limits, state,
                 terms, churned, switched_in)  # fmt: skip


@parallel_kernel
def parallel_tasks(n_tasks, tasks, run, step, keys, consts, visible, industries, sizes, limits,
                   state, terms, churned, switched_in):  # fmt: skip
    """Every task, as parallel tasks on numba's threads (each customer's switching reads and
    changes only its own state)."""
    for t in prange(n_tasks):
        one_task(t, tasks, run, step, keys, consts, visible, industries, sizes, limits, state,
                 terms, churned, switched_in)  # fmt: skip


@rule
def choice_gumbel(key: Any, customer: int, option: int) -> float:
    """The Gumbel noise of one option of a leaver's choice (its uniform: column ``option``)."""
    return gumbel(uniform_column(key, customer, option))


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm = P.switching
    return {
        "switching_on": (prm.enabled, "b"),
        "commitment_on": (P.mechanisms.commitment, "b"),
        "churn_intercept": (prm.intercept - prm.switching_cost, "w"),
        "churn_satisfaction": (prm.satisfaction, "w"),
        "satisfaction_ref": (prm.satisfaction_ref, "w"),
        "churn_trust": (prm.trust, "w"),
        "trust_ref": (prm.trust_ref, "w"),
        "churn_commitment": (prm.commitment, "w"),
        "rival": (prm.rival, "w"),
        "outside_option": (prm.outside_option, "w"),
        "years_per_step_64": (np.full_like(prm.rival, 1.0 / steps_per_year), "w"),
    }


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Decide who leaves, and where each leaver goes, in every market of the batch."""
    cs, ws = batch.customer_state, batch.workspace
    ws.left[...] = False
    if not batch.params.switching.enabled.any():
        return
    t = choice.step_terms(batch)
    batch.attitude_range = attitude_ranges(batch)
    bound, gap_bound, z = churn_bounds(batch, t)
    table, top = chance_table(z, batch.steps_per_year)
    task_market, task_lo, task_hi = batch.tasks
    n_tasks = len(task_market)
    churned, switched_in = np.zeros((n_tasks, batch.F)), np.zeros((n_tasks, batch.F))
    state = (
        cs.region,
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
        cs.switches,
        ws.left,
    )
    run = (batch.live & batch.params.switching.enabled[:, 0]).astype(np.bool_)
    args = (
        n_tasks,
        (task_market, task_lo, task_hi, batch.offsets[task_market]),
        run,
        batch.steps,
        batch.keys,
        batch.consts,
        batch.visible,
        batch.industry_members,
        batch.industry_sizes,
        (bound, gap_bound, table, top, PER_UNIT),
        state,
        (t.promise, t.review_part, t.review_weight, t.public, t.price_term),
        churned,
        switched_in,
    )
    run_tasks(serial_tasks, parallel_tasks, n_tasks, *args)
    add_task_rows(task_market, churned, scratch.churned)  # whole counts: exact in any order
    add_task_rows(task_market, switched_in, scratch.switched_in)
