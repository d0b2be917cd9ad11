"""Phases 2 to 5 over one block of customers, stage by stage: the body of ``sim.rules.fused``.

For each industry: who is served and who meets a failure, the perception noise, the experience
(delivery); then every customer's benchmark; then, industry by industry, what each customer
brings to the attributes (the firm's promise and reviews, the warning, the credibility), the
attributes themselves (the judged bar, the move of E, and the attribute sums of satisfaction and
trust), each customer's satisfaction and commitment, its trust after the step's promises, and
last the random and per-firm part (complaints and answers and what they do to trust, recovery,
the per-firm sums and the bounds switching uses).

The arithmetic stages are loops over the block whose iterations are independent customers, that
read and write contiguous slices of the state (``[M, N, K]`` arrays as flat rows), gather nothing
from the firm tables (a scalar stage gathers first into the block's buffers) and branch nowhere
(the rules' branches compile to selects), so the compiler vectorises them across customers (16
float32 lanes with AVX-512) when the number of attributes is a constant: ``sim.rules.fused``
calls :func:`block` with a literal 4 when there are four. The rules are those of the phase
modules (``delivery``, ``expectations``, ``satisfaction``, ``trust``), stated there once and
called here; every per-firm sum is added customer by customer in the customers' order and the
bounds are taken in that order too, so the results are those of one customer at a time, to the
bit (tests/test_block_stages.py).

The perception noise is drawn for the served customers only (a fifth of the customer-industries
are unserved at 1M, baseline): the loop that reads the block's firms lists them without a
branch, ``sim.draws.fill_listed_normals`` draws their normals in the list's order and
:func:`perceived_block` writes their experiences alone. Phases 2-5 at 1M, one thread: 118.5 ->
110.0 ms CPU (docs/performance.md, "The perception noise of the served customers only").

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.draws import AFTERCARE, ANSWER, COMPLAIN, FAILURE, NOISE, fill_listed_normals, uniform
from sim.jit import ONE, ZERO, clip, rule
from sim.rules import delivery, expectations, satisfaction, trust
from sim.rules.trust import ANSWERED, IGNORED, NO_COMPLAINT

TALLIES = (
    "served_count",
    "experience_sum",
    "expectation_sum",
    "failures",
    "warnings",
    "complaints",
    "answered",
)
"""The per-firm sums the stages add (``sim.state.TALLY_NAMES``), in their column order."""
SERVED, EXPERIENCE, EXPECTATION, FAILURES, WARNINGS, COMPLAINTS, ANSWERS = range(len(TALLIES))

(LOWERED, PROMISE_WEIGHT, REVIEW_WEIGHT, PERSONAL, SERVES) = range(5)
"""The per-customer buffers (``per`` of :func:`buffers`) that :func:`attributes` reads (``SERVES``:
1 or 0, the customer has a firm in the industry)."""
(JUDGED, PERFORMANCE, DISCONFIRMATION, SHORTFALL, KEPT, LOW, HIGH) = range(5, 12)
"""Those it writes: the judged expectation's sum, the sums of satisfaction and trust, E's range."""
(EFFECT, EXTRAS, BONUS, RUNNING, RATING) = range(12, 17)
"""The warning's effect, the firm's extras and commitment bonus; :func:`rated`'s results."""
SURPLUS = 17
"""The trust sum :func:`attributes` writes last: the surplus over the promise (it moves trust
only with ``mechanisms.trust_asymmetry`` off, sim.rules.trust)."""
(TRUST, TRUSTED) = range(18, 20)
"""The customer's trust in its firm's word before the step, and after the step's promises
(:func:`promises`), before any complaint."""
ROWS = 20


@rule
def buffers(n_ind: int, block: int, n_attr: int, dtype: Any) -> tuple[Any, ...]:
    """The block's buffers: firms and service per industry, flags (failure, warned), the
    per-customer values between the stages (``ROWS`` arrays of their own, not rows of one: the
    compiler then checks once that they do not overlap and vectorises the loops that use them)
    and the per-attribute values (the noise, the firm's expected experience, promise and
    reviews); the failure uniforms (float64, drawn in a loop of their own); the list of the
    served customers of an industry and that of the rare normals
    (:func:`sim.draws.fill_listed_normals`); last the room for the step's details when they
    are not kept (:func:`block`): the judged expectations, ``S`` before the step and ``d``."""
    per = (
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
        np.empty(block, dtype),
    )
    return (
        np.empty((n_ind, block), np.int64),
        np.empty((n_ind, block), np.bool_),
        np.empty((2, block), np.bool_),
        per,
        np.empty((4, block * n_attr), dtype),
        np.empty(block, np.float64),
        np.empty(block, np.int64),
        np.empty(block * n_attr, np.int64),
        (np.empty(block * n_attr, dtype), np.empty(block, dtype), np.empty(block, dtype)),
    )


@rule
def perceived_block(x_out, expected, z, ids, count, hits, failure_attribute, noise, severity, K):
    """Delivery: the experience of every attribute of the ``count`` served customers listed in
    ``ids`` (their noise ``z`` listed in the same order); the others keep theirs."""
    for t in range(count):
        j = np.uint64(ids[t])  # unsigned: no read is wrapped as if its index were negative
        for k in range(K):
            q = j * np.uint64(K) + np.uint64(k)
            fa = failure_attribute[k] != ZERO
            x_out[q] = delivery.perceived(expected[q], z[t * K + k], noise, hits[j], fa, severity)


@rule
def raised_benchmarks(best, x, served, nb, K):
    """The benchmark raised by one industry's experiences of the served customers."""
    for j in range(nb):
        for k in range(K):
            q = j * K + k
            b = best[q]
            raised = expectations.raised_benchmark(b, x[q])
            best[q] = raised if served[j] else b


@rule
def attributes(e_io, x_in, w_in, b_in, h_in, used, pr, rv, warned, per, firm_k, p, curv, nb, K):
    """Expectations (the judged bar, the move of E toward its target) and the attribute sums of
    satisfaction and trust, for every customer of the block; no firm: E and the bar stay E.

    ``per``: the per-customer rows (``LOWERED``: adjustment times the warning's effect, ...),
    read and written. ``firm_k``: failure attribute (1 or 0) and benchmark weight of each
    attribute. ``curv`` is the curvature (a constant 1 for the linear
    value function, which then takes no power)."""
    lowered, promise_weight, review_weight = per[LOWERED], per[PROMISE_WEIGHT], per[REVIEW_WEIGHT]
    personal, served = per[PERSONAL], per[SERVES]
    judged_out, perf_out, disc_out = per[JUDGED], per[PERFORMANCE], per[DISCONFIRMATION]
    short_out, kept_out, low_out, high_out = per[SHORTFALL], per[KEPT], per[LOW], per[HIGH]
    surplus_out = per[SURPLUS]
    fa, bw = firm_k[0], firm_k[1]
    for j in range(nb):
        judged_sum = performance = disconfirmation = shortfall = kept = surplus = ZERO
        low = high = ZERO
        for k in range(K):
            q = j * K + k
            e = e_io[q]
            x = x_in[q]
            w = w_in[q]
            promise = pr[q]
            bar = expectations.judged(e, x, warned[j], fa[k] != ZERO, lowered[j])
            used[q] = bar
            judged_sum += w * bar
            toward = expectations.target(
                promise_weight[j],
                promise,
                rv[q],
                review_weight[j],
                x,
                p.a_x,
                bw[k] * b_in[q],
                bw[k],
                h_in[q],
                p.a_w,
                p.tiny,
            )
            moved = expectations.moved(e, toward + personal[j], p.rate_up, p.rate_down)
            e_io[q] = moved if served[j] != ZERO else e
            low = moved if k == 0 else min(low, moved)
            high = moved if k == 0 else max(high, moved)
            kept += w if trust.promise_kept(x, promise, p.tolerance) else ZERO
            shortfall += w * trust.promise_shortfall(x, promise, p.tolerance)
            surplus += w * trust.promise_surplus(x, promise, p.tolerance)
            disconfirmation += w * satisfaction.value(x - bar, p.loss_aversion, curv)
            performance += w * x
        judged_out[j] = judged_sum
        perf_out[j] = performance
        disc_out[j] = disconfirmation
        short_out[j] = shortfall
        kept_out[j] = kept
        surplus_out[j] = surplus
        low_out[j] = low
        high_out[j] = high


@rule
def rated(s_state, before_out, last_s, disc_state, commit, tenure, disposition, per, p, nb):
    """Satisfaction (``s`` and the running ``S`` before any recovery) and commitment and tenure
    of the block's served customers; every customer's ``S`` before the step is recorded.

    ``per``: the per-customer rows; writes ``RUNNING`` and ``RATING``."""
    served, perf, disc = per[SERVES], per[PERFORMANCE], per[DISCONFIRMATION]
    extras, bonus, running_out, rating_out = per[EXTRAS], per[BONUS], per[RUNNING], per[RATING]
    for j in range(nb):
        serve = served[j] != ZERO
        s = satisfaction.rating(perf[j], disc[j], extras[j], disposition[j], p)
        rating_out[j] = s
        before = s_state[j]
        before_out[j] = before
        running_out[j] = satisfaction.running(before, s, p.memory)
        last_s[j] = s if serve else last_s[j]
        disc_state[j] = disc[j] if serve else disc_state[j]
        t = tenure[j]
        c = trust.committed(commit[j], t, bonus[j], p)
        commit[j] = c if serve else commit[j]
        tenure[j] = t + 1 if serve else t


@rule
def promises(per, warned, p, power, nb):
    """Trust after the step's promises were kept or broken, before any complaint, for every
    customer of the block (``per[TRUSTED]`` from ``per[TRUST]``, sim.rules.trust); ``power``:
    the step's length in weeks, ``p.step_power``.

    A loop of its own, which the compiler vectorises: the rules return before the power when
    it is 1 (weekly steps), a test on a value the loop does not change, so the loop is compiled
    twice, the weekly one without the power. In the scalar last stage (:func:`settled`) these
    rules took about 11 ms of phases 2-5 at 1M customers on one thread (docs/performance.md,
    twenty-eighth round)."""
    held, out, kept = per[TRUST], per[TRUSTED], per[KEPT]
    shortfall, surplus, effect = per[SHORTFALL], per[SURPLUS], per[EFFECT]
    for j in range(nb):
        cut = trust.trust_cut(shortfall[j], warned[j], effect[j], p, power)
        raised = trust.trust_raise(surplus[j], p, power)
        out[j] = trust.trusted(held[j], kept[j], cut, raised, p.gain)


@rule
def block(start, nb, first, K, keys, p, sums, bounds, keeps, state, flat, firm, buf):
    """Phases 2 to 5 for the ``nb`` customers from ``start`` (``K`` attributes; see the module
    docstring and ``sim.rules.fused.customer_rows`` for the arguments).

    ``keeps``: ``(recording, details)``: the recorded per-firm sums are added when
    ``recording``; the step's details (each served customer's judged expectations, ``S`` before
    the step and ``d``) go to the workspace's arrays in ``state`` when ``details``, otherwise
    to the block's own room in ``buf``, which the next industry overwrites (nothing after the
    step reads them but ``sim.state.StepScratch``; at 1M customers they are 72 MB written a
    step)."""
    recording, details = keeps
    (
        supplier,
        region,
        _weights,
        disposition,
        standard,
        _experience,
        _expectation,
        _benchmark,
        _heard,
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
        _expectation_used,
        satisfaction_before,
        disconfirmation_out,
        _delivered_by,
    ) = state
    x_flat, e_flat, h_flat, used_flat, w_flat, b_flat = flat
    (
        tables,
        p_fail,
        disclose,
        firm_k,
        promise,
        review_part,
        review_weight,
        public,
        _benchmark_weight,
        extras,
        complain_p,
        aftercare_p,
        answer,
        commit_bonus,
    ) = firm
    firms, served, flags, per, attr, draws, ids, rare, room = buf
    hits, warned = flags[0], flags[1]
    z, expected, pr, rv = attr[0], attr[1], attr[2], attr[3]
    n_ind, n = supplier.shape
    width = disclose.shape[0]  # F + 1: a firm table's rows, the last for no supplier
    noisy = p.noise > ZERO
    if not noisy:
        z[:] = ZERO * p.noise
    span = nb * K
    # -- delivery, industry by industry
    for m in range(n_ind):
        firms_m, served_m = firms[m], served[m]
        failure_key = keys[FAILURE, m]
        for j in range(nb):  # the uniforms, one loop of independent hashes
            draws[j] = uniform(failure_key, start + j - first)
        count = 0
        for j in range(nb):  # who is served (listed), who meets a failure (nobody without a firm)
            i = start + j
            f = supplier[m, i]
            firms_m[j] = f
            served_m[j] = f >= 0
            ids[count] = j
            count += 1 if f >= 0 else 0
            hit = draws[j] < p_fail[f]
            failed[m, i] = hit
            ws_failure[m, i] = hit
            hits[j] = hit
            row = f + region[i] * width
            for k in range(K):
                expected[j * K + k] = tables[m, row, k]
        for j in range(nb):  # the firms' counts, in customer order
            if hits[j]:
                f = firms_m[j]
                sums[f, FAILURES] += 1.0
                if disclose[f]:
                    sums[f, WARNINGS] += 1.0
        if noisy:  # the served customers' only (the others' would not be used)
            fill_listed_normals(keys[NOISE, m], start - first, ids, count, K, z, rare)
        o = (m * n + start) * K
        perceived_block(
            x_flat[o : o + span], expected, z, ids, count, hits, firm_k[0], p.noise, p.severity, K
        )
    # -- expectations: the benchmark, decayed, then raised by this step's experiences
    best = b_flat[start * K : start * K + span]
    for q in range(span):
        best[q] = expectations.decayed_benchmark(best[q], p.benchmark_keep)
    for m in range(n_ind):
        o = (m * n + start) * K
        raised_benchmarks(best, x_flat[o : o + span], served[m], nb, K)
    # -- the rest of phases 3 to 5, industry by industry
    # the block's customers as slices, indexed from 0 (from ``start`` every index might be
    # negative, and the compiler wraps each: a select per read)
    customers = slice(start, start + nb)
    block_trust = trust_state[:, customers]
    block_standard, block_region = standard[customers], region[customers]
    for m in range(n_ind):
        firms_m = firms[m]
        block_warnings, block_failed = warnings[m, customers], failed[m, customers]
        for j in range(nb):  # what each customer brings to the attributes
            f = firms_m[j]
            recent = block_warnings[j]
            warn = block_failed[j] and disclose[f]
            effect = trust.warning_effect(recent, p.habituation) if p.habituation_on else ONE
            if f >= 0:
                block_warnings[j] = recent * p.warnings_keep + (ONE if warn else ZERO)
            else:
                block_warnings[j] = recent * p.warnings_keep
            held = block_trust[f, j]
            credible = ONE
            if p.credibility_on:
                credible = expectations.credibility(held, public[f], p.rho)
            warned[j] = warn
            per[LOWERED][j] = p.adjustment * effect
            per[PROMISE_WEIGHT][j] = p.a_p * credible
            per[REVIEW_WEIGHT][j] = review_weight[f]
            per[PERSONAL][j] = block_standard[j] if p.standard_on else ZERO
            per[SERVES][j] = ONE if f >= 0 else ZERO
            per[EFFECT][j] = effect
            per[EXTRAS][j] = extras[f]
            per[BONUS][j] = commit_bonus[f]
            per[TRUST][j] = held
            row = f + block_region[j] * width
            for k in range(K):
                pr[j * K + k] = promise[m, row, k]
                rv[j * K + k] = review_part[f, k]
        o = (m * n + start) * K
        if details:  # the step's details, kept in the workspace
            judged, before = used_flat[o : o + span], satisfaction_before[m, customers]
            disconfirmation = disconfirmation_out[m, customers]
        else:  # or in the block's room
            judged, before, disconfirmation = room[0][:span], room[1][:nb], room[2][:nb]
        args = (
            e_flat[o : o + span],
            x_flat[o : o + span],
            w_flat[start * K : start * K + span],
            best,
            h_flat[o : o + span],
            judged,
            pr,
            rv,
            warned,
            per,
            firm_k,
            p,
        )
        if p.curvature == ONE:
            attributes(*args, ONE, nb, K)
        else:
            attributes(*args, p.curvature, nb, K)
        rated(
            satisfaction_state[m, customers],
            before,
            last_satisfaction[m, customers],
            disconfirmation,
            commitment[m, customers],
            tenure[m, customers],
            disposition[customers],
            per,
            p,
            nb,
        )
        if p.trust_promises_on:
            promises(per, warned, p, p.step_power, nb)
        settled(
            start,
            nb,
            first,
            m,
            keys,
            p,
            sums,
            bounds,
            recording,
            (trust_state, satisfaction_state, before),
            (steps_since_recovery, complaints, answered),
            (complain_p, aftercare_p, answer),
            firms_m,
            warned,
            per,
        )


@rule
def settled(
    start,
    nb,
    first,
    m,
    keys,
    p,
    sums,
    bounds,
    recording,
    state,
    counts,
    chances,
    firms,
    warned,
    per,
):
    """Complaints and answers, trust (after :func:`promises`, cut by an ignored complaint),
    recovery, the per-firm sums and the bounds, served customer by served customer in order
    (the draws, the sums, the bounds); ``state``: trust, ``S`` and the block's ``S`` before
    the step."""
    trust_state, satisfaction_state, before = state
    steps_since_recovery, complaints, answered = counts
    complain_p, aftercare_p, answer = chances
    lowest_s, lowest_e, highest_e = bounds[m, 0], bounds[m, 1], bounds[m, 2]
    # the block's customers as slices, indexed from 0 (no read wrapped as if negative)
    customers = slice(start, start + nb)
    block_trust, since_recovery = trust_state[:, customers], steps_since_recovery[m, customers]
    rating = satisfaction_state[m, customers]
    block_answered, block_complaints = answered[m, customers], complaints[m, customers]
    for j in range(nb):
        f = firms[j]
        if f < 0:
            continue
        me = start + j - first
        lowest_e = min(lowest_e, per[LOW][j])
        highest_e = max(highest_e, per[HIGH][j])
        s = per[RATING][j]
        if recording:
            sums[f, SERVED] += 1.0
            sums[f, EXPERIENCE] += per[PERFORMANCE][j]
            sums[f, EXPECTATION] += per[JUDGED][j]
        # -- trust: promises kept and broken (:func:`promises`)
        t = per[TRUSTED][j] if p.trust_promises_on else per[TRUST][j]  # as the firm terms read it
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
        block_trust[f, j] = clip(t, ZERO, ONE)
        running = per[RUNNING][j]
        since = since_recovery[j]
        if code == ANSWERED:
            running = trust.recovered(running, before[j], since, p)
        rating[j] = running
        lowest_s = min(lowest_s, running)
        since = min(since + 1, 1 << 30)
        if code == ANSWERED:
            since = 0
            block_answered[j] += 1
            sums[f, ANSWERS] += 1.0
        if code != NO_COMPLAINT:
            block_complaints[j] += 1
            sums[f, COMPLAINTS] += 1.0
        since_recovery[j] = since
    bounds[m, 0], bounds[m, 1], bounds[m, 2] = lowest_s, lowest_e, highest_e
