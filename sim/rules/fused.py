"""Phases 2 to 5 in one pass over each customer: delivery, expectations, satisfaction, trust.

These phases change each customer's state from that customer's own state and from firm-level
values fixed at the start of the step, so the kernel below applies the four phases' rules
(``sim.rules.delivery``, ``expectations``, ``satisfaction``, ``trust``: each rule is stated there,
once) to a block of customers (:data:`BLOCK`) while its state is in the caches, and the state is
read from memory once. For each industry in turn, every customer's experience (delivery, with its
failure and its noise); then each customer's benchmark over the industries; then, industry by
industry, for every served relationship the judged expectation and the move of E
(expectations), ``s`` and ``S`` (satisfaction), trust, the complaint and the firm's answer,
recovery, commitment and tenure (trust).

Random numbers are drawn where they are used, customer by customer (``sim.draws``: noise,
failure, complain, aftercare, answer). Customers go to the kernel in tasks, blocks of at most
``sim.arrays.CHUNK`` customers of one market (``MarketBatch.tasks``), run as parallel tasks when
there are several and more than one thread; each task adds its per-firm tallies to its own row,
and the rows are added market by market in task order, so results depend neither on the number
of threads nor on the other markets of a batch.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.draws import AFTERCARE, ANSWER, COMPLAIN, FAILURE, NOISE, normal, uniform
from sim.jit import ONE, ZERO, by_value, clip, kernel, parallel_kernel, prange, threads
from sim.rules import delivery, expectations, satisfaction, trust
from sim.rules.trust import ANSWERED, IGNORED, NO_COMPLAINT
from sim.state import BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch

__all__ = ["PHASES", "TALLIES", "run"]

PHASES = (delivery, expectations, satisfaction, trust)
"""The phases this module runs together, in order."""

TALLIES = (
    "served_count",
    "experience_sum",
    "expectation_sum",
    "failures",
    "warnings",
    "complaints",
    "answered",
)
"""The per-firm tallies the kernel adds (``sim.state.TALLY_NAMES``), in its column order."""
SERVED, EXPERIENCE, EXPECTATION, FAILURES, WARNINGS, COMPLAINTS, ANSWERS = range(len(TALLIES))

BLOCK = 1024
"""Customers the kernel takes together: for a block, delivery industry by industry, the
benchmarks, then the rest of phases 3 to 5 industry by industry. The loops over one industry's
customers have independent iterations, which the processor overlaps; one customer's three
industries one after another, as before, made a single long chain of dependent work per
customer: phases 2 to 5 took 30% more time (docs/performance.md, "One large market"). The order
in which per-firm sums are added is the same (each firm is in one industry, its customers in
order), so are the results."""


@kernel
def customer_rows(lo, hi, first, keys, p, sums, bounds, recording, state, firm):
    """Phases 2 to 5 for the customers ``lo..hi`` of one market (its first customer is
    ``first``: a customer's own index in its market, which keys its draws, is ``i - first``).

    ``keys`` are the market's stream bases ``[purpose, industry]`` of the step, ``p`` its
    constants (a record), ``state`` the batch's customer arrays (see :func:`run`) and ``firm``
    the market's firm tables (``[F + 1, ...]``, the last row for no supplier; the experience
    tables ``[M, R * (F + 1), K]``). Adds to ``sums[f]`` the columns of
    :data:`TALLIES` (the first three only when ``recording``) and keeps in ``bounds[m]`` the
    lowest running satisfaction and the lowest and highest expectation of the served customers
    (switching bounds its hazards with them).
    """
    (
        supplier,
        region,
        weights,
        disposition,
        standard,
        experience,
        expectation,
        benchmark,
        heard,
        satisfaction_state,
        last_satisfaction,
        trust_state,
        commitment,
        tenure,
        steps_since_recovery,
        complaints,
        answered,
        warnings,
        failed,
        ws_failure,
        expectation_used,
        satisfaction_before,
        disconfirmation_out,
    ) = state
    (
        tables,
        p_fail,
        disclose,
        failure_attribute,
        promise,
        review_part,
        review_weight,
        public,
        benchmark_weight,
        extras,
        complain_p,
        aftercare_p,
        answer,
        commit_bonus,
    ) = firm
    p = by_value(p)  # the market's constants as values, read once (sim.jit.by_value)
    n_ind, _, n_attr = experience.shape
    width = disclose.shape[0]  # F + 1: a firm table's rows, the last for no supplier
    noisy = p.noise > ZERO
    for start in range(lo, hi, BLOCK):
        stop = min(hi, start + BLOCK)
        # -- delivery, industry by industry
        for m in range(n_ind):
            for i in range(start, stop):
                me = i - first
                f = supplier[m, i]
                if f < 0:
                    failed[m, i] = False
                    ws_failure[m, i] = False
                    continue
                hit = uniform(keys[FAILURE, m], me) < p_fail[f]
                failed[m, i] = hit
                ws_failure[m, i] = hit
                if hit:
                    sums[f, FAILURES] += 1.0
                    if disclose[f]:
                        sums[f, WARNINGS] += 1.0
                row = f + region[i] * width
                for k in range(n_attr):
                    z = normal(keys[NOISE, m], me, k) if noisy else ZERO * p.noise
                    experience[m, i, k] = delivery.perceived(
                        tables[m, row, k], z, p.noise, hit, failure_attribute[k], p.severity
                    )
        for i in range(start, stop):
            # -- expectations: the benchmark, decayed, then raised by this step's experiences
            for k in range(n_attr):
                best = expectations.decayed_benchmark(benchmark[i, k], p.benchmark_keep)
                for m in range(n_ind):
                    if supplier[m, i] >= 0:
                        best = expectations.raised_benchmark(best, experience[m, i, k])
                benchmark[i, k] = best
        # -- the rest of phases 3 to 5, industry by industry
        for m in range(n_ind):
            for i in range(start, stop):
                me = i - first
                f = supplier[m, i]
                recent = warnings[m, i]
                if f < 0:  # no supplier: nothing to judge; the step's records say so
                    for k in range(n_attr):
                        expectation_used[m, i, k] = expectation[m, i, k]
                    satisfaction_before[m, i] = satisfaction_state[m, i]
                    warnings[m, i] = recent * p.warnings_keep
                    continue
                hit = failed[m, i]
                warned = hit and disclose[f]
                effect = trust.warning_effect(recent, p.habituation) if p.habituation_on else ONE
                warnings[m, i] = recent * p.warnings_keep + (ONE if warned else ZERO)
                # -- expectations: the bar of this experience, then E moves toward its target
                credible = ONE
                if p.credibility_on:
                    credible = expectations.credibility(trust_state[f, i], public[f], p.rho)
                promise_weight = p.a_p * credible
                personal = standard[i] if p.standard_on else ZERO
                judged_sum = ZERO
                low = high = ZERO
                for k in range(n_attr):
                    e = expectation[m, i, k]
                    x = experience[m, i, k]
                    bar = expectations.judged(
                        e, x, warned, failure_attribute[k], p.adjustment * effect
                    )
                    expectation_used[m, i, k] = bar
                    judged_sum += weights[i, k] * bar
                    toward = expectations.target(
                        promise_weight,
                        promise[f, k],
                        review_part[f, k],
                        review_weight[f],
                        x,
                        p.a_x,
                        benchmark_weight[k] * benchmark[i, k],
                        benchmark_weight[k],
                        heard[m, i, k],
                        p.a_w,
                        p.tiny,
                    )
                    moved = expectations.moved(e, toward + personal, p.rate_up, p.rate_down)
                    expectation[m, i, k] = moved
                    low = moved if k == 0 else min(low, moved)
                    high = moved if k == 0 else max(high, moved)
                bounds[m, 1] = min(bounds[m, 1], low)
                bounds[m, 2] = max(bounds[m, 2], high)
                # -- satisfaction and the promise kept or broken (trust), over the attributes
                performance = disconfirmation = shortfall = kept = ZERO
                for k in range(n_attr):
                    w = weights[i, k]
                    x = experience[m, i, k]
                    if trust.promise_kept(x, promise[f, k], p.tolerance):
                        kept += w
                    shortfall += w * trust.promise_shortfall(x, promise[f, k], p.tolerance)
                    gap = x - expectation_used[m, i, k]
                    disconfirmation += w * satisfaction.value(gap, p.loss_aversion, p.curvature)
                    performance += w * x
                s = satisfaction.rating(performance, disconfirmation, extras[f], disposition[i], p)
                before = satisfaction_state[m, i]
                satisfaction_before[m, i] = before
                running = satisfaction.running(before, s, p.memory)
                last_satisfaction[m, i] = s
                disconfirmation_out[m, i] = disconfirmation
                if recording:
                    sums[f, SERVED] += 1.0
                    sums[f, EXPERIENCE] += performance
                    sums[f, EXPECTATION] += judged_sum
                # -- trust: promises kept and broken
                t = trust_state[f, i]
                if p.trust_promises_on:
                    cut = trust.trust_cut(shortfall, warned, effect, p)
                    t = trust.trusted(t, kept, cut, p.gain)
                # -- complaints: voiced, or heard by the firm's follow-up; answered or ignored
                code = NO_COMPLAINT
                if s < p.threshold:
                    heard_by_firm = uniform(keys[COMPLAIN, m], me) < complain_p[f]
                    if not heard_by_firm:
                        heard_by_firm = uniform(keys[AFTERCARE, m], me) < aftercare_p[f]
                    if heard_by_firm:
                        code = ANSWERED if uniform(keys[ANSWER, m], me) < answer[f] else IGNORED
                if code == IGNORED:
                    t *= p.kept_share
                trust_state[f, i] = clip(t, ZERO, ONE)
                since = steps_since_recovery[m, i]
                if code == ANSWERED:
                    running = trust.recovered(running, before, since, p)
                satisfaction_state[m, i] = running
                bounds[m, 0] = min(bounds[m, 0], running)
                since = min(since + 1, 1 << 30)
                if code == ANSWERED:
                    since = 0
                    answered[m, i] += 1
                    sums[f, ANSWERS] += 1.0
                if code != NO_COMPLAINT:
                    complaints[m, i] += 1
                    sums[f, COMPLAINTS] += 1.0
                steps_since_recovery[m, i] = since
                # -- commitment and tenure
                commitment[m, i] = trust.committed(
                    commitment[m, i], tenure[m, i], commit_bonus[f], p
                )
                tenure[m, i] += 1


@kernel
def one_task(
    t, task_market, task_lo, task_hi, offsets, keys, consts, sums, bounds, recording, state, tables
):
    """:func:`customer_rows` for task ``t``, with its market's firm tables."""
    b = task_market[t]
    (
        experience,
        p_fail,
        disclose,
        failure_attribute,
        promise,
        review_part,
        review_weight,
        public,
        benchmark_weight,
        extras,
        complain_p,
        aftercare_p,
        answer,
        commit_bonus,
    ) = tables
    firm = (
        experience[b],
        p_fail[b],
        disclose[b],
        failure_attribute,
        promise[b],
        review_part[b],
        review_weight[b],
        public[b],
        benchmark_weight[b],
        extras[b],
        complain_p[b],
        aftercare_p[b],
        answer[b],
        commit_bonus[b],
    )
    customer_rows(
        task_lo[t],
        task_hi[t],
        offsets[b],
        keys[b],
        consts[b],
        sums[t],
        bounds[t],
        recording[b],
        state,
        firm,
    )


@kernel
def serial_tasks(
    n_tasks,
    task_market,
    task_lo,
    task_hi,
    offsets,
    keys,
    consts,
    sums,
    bounds,
    recording,
    state,
    tables,
):
    """Every task, one after another, on the calling thread."""
    for t in range(n_tasks):
        one_task(
            t,
            task_market,
            task_lo,
            task_hi,
            offsets,
            keys,
            consts,
            sums,
            bounds,
            recording,
            state,
            tables,
        )


@parallel_kernel
def parallel_tasks(
    n_tasks,
    task_market,
    task_lo,
    task_hi,
    offsets,
    keys,
    consts,
    sums,
    bounds,
    recording,
    state,
    tables,
):
    """Every task, as parallel tasks on numba's threads."""
    for t in prange(n_tasks):
        one_task(
            t,
            task_market,
            task_lo,
            task_hi,
            offsets,
            keys,
            consts,
            sums,
            bounds,
            recording,
            state,
            tables,
        )


@kernel
def add_tasks(task_market, sums, bounds, tallies, columns, market_bounds):
    """Add each task's per-firm sums to its market's tallies (columns ``columns``), in task
    order, and combine the tasks' bounds."""
    for t in range(len(task_market)):
        b = task_market[t]
        for f in range(sums.shape[1]):
            for c in range(sums.shape[2]):
                tallies[b, f, columns[c]] += sums[t, f, c]
        for m in range(bounds.shape[1]):
            market_bounds[b, m, 0] = min(market_bounds[b, m, 0], bounds[t, m, 0])
            market_bounds[b, m, 1] = min(market_bounds[b, m, 1], bounds[t, m, 1])
            market_bounds[b, m, 2] = max(market_bounds[b, m, 2], bounds[t, m, 2])


def run(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Phases 2 to 5 for every customer of every market of the batch (see the module
    docstring)."""
    cs, ws = batch.customer_state, batch.workspace
    deliver, expect, satisfy, trusting = (phase.prepare(batch, scratch) for phase in PHASES)
    task_market, task_lo, task_hi = batch.tasks
    n_tasks = len(task_market)
    keep = ws.blocks.array
    sums = keep("fused_sums", (n_tasks, batch.F, len(TALLIES)), np.float64)
    sums[...] = 0.0
    bounds = keep("fused_bounds", (n_tasks, batch.M, 3), cs.satisfaction.dtype)
    bounds[...] = (np.inf, np.inf, -np.inf)
    state = (
        cs.supplier,
        cs.region,
        cs.weights,
        cs.disposition,
        cs.standard,
        cs.experience,
        cs.expectation,
        cs.benchmark,
        cs.heard,
        cs.satisfaction,
        cs.last_satisfaction,
        cs.trust,
        cs.commitment,
        cs.tenure,
        cs.steps_since_recovery,
        cs.complaints,
        cs.answered,
        cs.warnings,
        cs.failed,
        ws.failure,
        ws.expectation_used,
        ws.satisfaction_before,
        ws.disconfirmation,
    )
    tables = (
        deliver.tables,
        deliver.p_fail,
        deliver.disclose,
        deliver.failure_attribute,
        expect.promise,
        expect.review_part,
        expect.review_weight,
        expect.public,
        expect.benchmark_weight,
        satisfy.extras,
        trusting.complain_p,
        trusting.aftercare_p,
        trusting.answer,
        trusting.commit_bonus,
    )
    args: tuple[Any, ...] = (
        task_market,
        task_lo,
        task_hi,
        batch.offsets,
        batch.keys,
        batch.consts,
        sums,
        bounds,
        scratch.recording,
        state,
        tables,
    )
    if n_tasks > 1 and threads() > 1:
        parallel_tasks(n_tasks, *args)
    else:  # one task, or one thread: a parallel launch costs a thread wake-up
        serial_tasks(n_tasks, *args)
    columns = np.array([TALLY_INDEX[name] for name in TALLIES], np.int64)
    batch.bounds = np.empty((batch.B, batch.M, 3), bounds.dtype)
    batch.bounds[...] = (np.inf, np.inf, -np.inf)
    add_tasks(task_market, sums, bounds, scratch.tallies, columns, batch.bounds)


def _tally_index() -> dict[str, int]:
    from sim.state import TALLY_NAMES

    return {name: i for i, name in enumerate(TALLY_NAMES)}


TALLY_INDEX = _tally_index()
_ = SimpleNamespace  # the phases' prepare() return namespaces
