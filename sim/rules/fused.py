"""Phases 2 to 5 in one pass over each customer: delivery, expectations, satisfaction, trust.

These phases change each customer's state from that customer's own state and from firm-level
values fixed at the start of the step, so the kernel below takes one customer at a time and
applies the four phases' rules to it (``sim.rules.delivery``, ``expectations``, ``satisfaction``,
``trust``: each rule is stated there, once); the customer's state is read from memory once.

The step's random numbers are drawn here, span by span, from the model's streams
(``model.draws``: noise and failures, then complaints and answers), and handed to the kernels:

1. :func:`customer_rows`: for every industry, the experience (delivery); the benchmark; then,
   for every served relationship, the judged expectation and the move of E (expectations),
   ``s`` and ``S`` (satisfaction), and trust before complaints (trust);
2. the complaint draws (``sim.rules.trust.draw_complaints``), which need this step's ``s``;
3. :func:`commitment_rows`: complaint outcomes, recovery, commitment and tenure.

Spans of ``TASKS_PER_SPAN`` blocks of ``sim.arrays.CHUNK`` customers run as parallel tasks
(:func:`customer_phases`, :func:`commitment_phase`); every task writes only its own customers and
its own row of per-firm sums, so results do not depend on the number of threads.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import arrays
from sim.jit import ONE, ZERO, by_value, clip, kernel, parallel_kernel, prange, threads
from sim.rules import delivery, expectations, satisfaction, trust
from sim.rules.trust import ANSWERED, IGNORED, NO_COMPLAINT
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = ["PHASES", "TASKS_PER_SPAN", "run"]

PHASES = (delivery, expectations, satisfaction, trust)
"""The phases this module runs together, in order."""

TASKS_PER_SPAN = 8
"""Blocks of ``sim.arrays.CHUNK`` customers the kernels take at once, as parallel tasks."""


@kernel
def customer_rows(
    lo,
    hi,
    base,
    sums,
    recording,
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
    warnings,
    failed,
    ws_failure,
    expectation_used,
    satisfaction_before,
    disconfirmation_out,
    z,
    hit,
    tables,
    disclose,
    failure_attribute,
    promise,
    review_part,
    review_weight,
    public,
    benchmark_weight,
    extras,
    params,
    trust_out,
    unhappy,
):
    """Phases 2 to 5, up to the complaints, for the customers ``lo..hi`` on one thread.

    Reads this step's draws at buffer position ``i - base`` (``z``, ``hit``) and leaves each
    served relationship's trust before the complaint outcome in ``trust_out`` and whether this
    step's rating is below the complaint threshold in ``unhappy``; when ``recording``, adds
    ``[served, sum w.X, sum w.E_judged]`` per firm to ``sums``.
    """
    p = by_value(params[0])  # the market's constants, held as values
    n_ind, _, n_attr = experience.shape
    width = disclose.shape[0]  # F + 1: a firm table's rows, the last for no supplier
    # -- delivery, industry by industry (each industry's rows are contiguous)
    for m in range(n_ind):
        for i in range(lo, hi):
            b = i - base
            f = supplier[m, i]
            failed[m, i] = hit[m, b]
            ws_failure[m, i] = hit[m, b]
            if f < 0:
                continue
            row = f + region[i] * width
            for k in range(n_attr):
                experience[m, i, k] = delivery.perceived(
                    tables[m, row, k],
                    z[m, b, k],
                    p.noise,
                    hit[m, b],
                    failure_attribute[k],
                    p.severity,
                )
    # -- expectations: the benchmark, decayed, then raised by this step's experiences
    for i in range(lo, hi):
        for k in range(n_attr):
            best = expectations.decayed_benchmark(benchmark[i, k], p.benchmark_keep)
            for m in range(n_ind):
                if supplier[m, i] >= 0:
                    best = expectations.raised_benchmark(best, experience[m, i, k])
            benchmark[i, k] = best
    # -- the rest of phases 3 to 5, industry by industry
    for m in range(n_ind):
        for i in range(lo, hi):
            b = i - base
            f = supplier[m, i]
            recent = warnings[m, i]
            if f < 0:  # no supplier: nothing to judge; the step's records say so
                for k in range(n_attr):
                    expectation_used[m, i, k] = expectation[m, i, k]
                satisfaction_before[m, i] = satisfaction_state[m, i]
                warnings[m, i] = recent * p.warnings_keep
                unhappy[m, b] = False
                continue
            warned = hit[m, b] and disclose[f]
            effect = trust.warning_effect(recent, p.habituation) if p.habituation_on else ONE
            warnings[m, i] = recent * p.warnings_keep + (ONE if warned else ZERO)
            # -- expectations: the bar of this experience, then E moves toward its target
            credible = ONE
            if p.credibility_on:
                credible = expectations.credibility(trust_state[f, i], public[f], p.rho)
            promise_weight = p.a_p * credible
            personal = standard[i] if p.standard_on else ZERO
            judged_sum = ZERO
            for k in range(n_attr):
                e = expectation[m, i, k]
                x = experience[m, i, k]
                bar = expectations.judged(e, x, warned, failure_attribute[k], p.adjustment * effect)
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
                expectation[m, i, k] = expectations.moved(
                    e, toward + personal, p.rate_up, p.rate_down
                )
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
            satisfaction_state[m, i] = satisfaction.running(before, s, p.memory)
            last_satisfaction[m, i] = s
            disconfirmation_out[m, i] = disconfirmation
            if recording:
                sums[f, 0] += 1.0
                sums[f, 1] += performance
                sums[f, 2] += judged_sum
            # -- trust, before complaints
            t = trust_state[f, i]
            if p.trust_promises_on:
                cut = trust.trust_cut(shortfall, warned, effect, p)
                t = trust.trusted(t, kept, cut, p.gain)
            trust_out[m, b] = t
            unhappy[m, b] = s < p.threshold


@kernel
def commitment_rows(
    lo,
    hi,
    base,
    supplier,
    satisfaction_state,
    trust_state,
    commitment,
    tenure,
    steps_since_recovery,
    complaints,
    answered,
    satisfaction_before,
    trust_out,
    outcome,
    commit_bonus,
    params,
):
    """The rest of trust for the customers ``lo..hi`` on one thread (buffer positions
    ``i - base``): the complaint outcome, recovery, commitment and tenure."""
    p = by_value(params[0])  # the market's constants, held as values
    n_ind = supplier.shape[0]
    for i in range(lo, hi):
        b = i - base
        for m in range(n_ind):
            f = supplier[m, i]
            if f < 0:
                continue
            t = trust_out[m, b]
            code = outcome[m, b]
            if code == IGNORED:
                t *= p.kept_share
            trust_state[f, i] = clip(t, ZERO, ONE)
            since = steps_since_recovery[m, i]
            if code == ANSWERED:
                satisfaction_state[m, i] = trust.recovered(
                    satisfaction_state[m, i], satisfaction_before[m, i], since, p
                )
            since = min(since + 1, 1 << 30)
            if code == ANSWERED:
                since = 0
                answered[m, i] += 1
            if code != NO_COMPLAINT:
                complaints[m, i] += 1
            steps_since_recovery[m, i] = since
            commitment[m, i] = trust.committed(commitment[m, i], tenure[m, i], commit_bonus[f], p)
            tenure[m, i] += 1


@parallel_kernel
def customer_phases(lo, hi, task_rows, sums, *state):
    """:func:`customer_rows` for the customers ``lo..hi`` (buffer positions ``i - lo``) in
    tasks of ``task_rows`` customers run in parallel, each adding to its own ``sums[task]``."""
    n_tasks = (hi - lo + task_rows - 1) // task_rows
    for task in prange(n_tasks):
        start = lo + task * task_rows
        customer_rows(start, min(hi, start + task_rows), lo, sums[task], *state)


@parallel_kernel
def commitment_phase(lo, hi, task_rows, *state):
    """:func:`commitment_rows` for the customers ``lo..hi`` in parallel tasks of
    ``task_rows``."""
    n_tasks = (hi - lo + task_rows - 1) // task_rows
    for task in prange(n_tasks):
        start = lo + task * task_rows
        commitment_rows(start, min(hi, start + task_rows), lo, *state)


def parameters(model: CustomerMarket, contexts: list[SimpleNamespace]) -> np.recarray:
    """The constants of the four phases as one record (``p.loss_aversion``, ...): each phase's
    ``constants`` in the state's float type, its ``wide_constants`` in float64 and its
    ``switches`` (mechanisms on or off) as booleans."""
    ft = model.customer_state.experience.dtype
    fields: list[tuple[str, Any]] = []
    values: list[float] = []
    for ctx in contexts:
        for name, value in ctx.constants.items():
            fields.append((name, ft))
            values.append(value)
        for name, value in getattr(ctx, "wide_constants", {}).items():
            fields.append((name, np.float64))
            values.append(value)
        for name, value in getattr(ctx, "switches", {}).items():
            fields.append((name, np.bool_))
            values.append(bool(value))
    record = np.zeros(1, np.dtype(fields)).view(np.recarray)
    for (name, _), value in zip(fields, values, strict=True):
        record[name] = value
    return record


def run(model: CustomerMarket, scratch: StepScratch) -> None:
    """Phases 2 to 5 for every customer (see the module docstring)."""
    cs, ws = model.customer_state, model.workspace
    contexts = [phase.prepare(model, scratch) for phase in PHASES]  # in phase order
    deliver, expect, satisfy, trusting = contexts
    params = parameters(model, contexts)
    k, n_firms, n_ind = len(model.attributes), model.firm_state.n, len(model.industries)
    block = arrays.CHUNK
    span = block * TASKS_PER_SPAN
    # per-span buffers, [industry, position in the span], kept from step to step (a fresh
    # array costs page faults every step)
    width = min(span, max(model.n_customers, 1))
    keep = ws.blocks.array
    z = keep("span_noise", (n_ind, width, k), np.float32)
    if not deliver.noise_on:
        z[...] = 0.0
    hit = keep("span_hit", (n_ind, width), bool)
    unhappy = keep("span_unhappy", (n_ind, width), bool)
    outcome = keep("span_outcome", (n_ind, width), np.int8)
    trust_out = keep("span_trust", (n_ind, width), cs.experience.dtype)
    sums = keep("span_sums", (TASKS_PER_SPAN, n_firms, 3), np.float64)
    for lo in range(0, model.n_customers, span):
        hi = min(model.n_customers, lo + span)
        delivery.draw(model, deliver, lo, hi, block, z, hit)
        sums[...] = 0.0
        # one task, or one thread: the serial kernel (a parallel launch costs a thread wake-up)
        serial = hi - lo <= block or threads() == 1
        state = (
            scratch.recording,
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
            cs.warnings,
            cs.failed,
            ws.failure,
            ws.expectation_used,
            ws.satisfaction_before,
            ws.disconfirmation,
            z,
            hit,
            deliver.tables,
            deliver.disclose,
            deliver.failure_attribute,
            expect.promise,
            expect.review_part,
            expect.review_weight,
            expect.public,
            expect.benchmark_weight,
            satisfy.extras,
            params,
            trust_out,
            unhappy,
        )
        if serial:
            customer_rows(lo, hi, lo, sums[0], *state)
        else:
            customer_phases(lo, hi, block, sums, *state)
        if scratch.recording:
            for task_sums in sums:  # in task order: the same total on any number of threads
                satisfy.sums += task_sums
        trust.draw_complaints(model, trusting, lo, hi, block, unhappy, outcome)
        state = (
            cs.supplier,
            cs.satisfaction,
            cs.trust,
            cs.commitment,
            cs.tenure,
            cs.steps_since_recovery,
            cs.complaints,
            cs.answered,
            ws.satisfaction_before,
            trust_out,
            outcome,
            trusting.commit_bonus,
            params,
        )
        if serial:
            commitment_rows(lo, hi, lo, *state)
        else:
            commitment_phase(lo, hi, block, *state)
    for phase, ctx in zip(PHASES, contexts, strict=True):
        if hasattr(phase, "finish"):
            phase.finish(model, scratch, ctx)
