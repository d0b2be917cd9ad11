"""Phases 2 to 5 (delivery, expectations, satisfaction, trust) as compiled loops over customers.

The numba engine (``sim.engine``) runs these instead of the numpy ``block`` functions of
``sim.rules.delivery``, ``expectations``, ``satisfaction`` and ``trust``. They are the same rules,
written once more as a loop over one customer at a time so that each customer's state is read
from memory once and all four phases run on it in registers; the numpy modules remain the
statement of each rule (their docstrings hold the equations) and the numpy engine.

Every operation is done in the float type of the state and in the order of the numpy code, so
that most results are identical bit for bit; the weighted sums over attributes are added in
attribute order, where numpy's matrix-vector product may add in another order, so the two
engines differ by float rounding (``tests/test_engines.py``). Random numbers are drawn by the
caller (``sim.rules.fused``) from the model's streams, exactly as the numpy engine draws them,
and passed in: normals ``z``, failure flags ``hit``, complaint outcomes ``outcome``.

Constants come in one array ``c`` of the state's float type (indices ``C_*``) so that the
arithmetic is done in that type, and in one float64 array ``d`` (indices ``D_*``) for the
few values the numpy code computes in float64. Firm tables have a last row for customers without
a supplier (supplier -1).

This module imports numba; import it only when the numba engine is used.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

__all__ = [
    "C_NAMES",
    "D_NAMES",
    "commitment_phase",
    "commitment_rows",
    "customer_phases",
    "customer_rows",
    "threads",
]

C_NAMES = (
    "zero",
    "one",
    "noise",
    "severity",
    "bench_keep",
    "adjust",
    "a_x",
    "a_w",
    "tiny",
    "up",
    "down",
    "loss_aversion",
    "curvature",
    "breach_weight",
    "w_perf",
    "w_disc",
    "intercept",
    "extras",
    "ten",
    "memory",
    "gain",
    "loss",
    "disclosure_factor",
    "threshold",
    "kept_share",
    "half",
    "twentieth",
    "commit_rate",
)
"""Names of the entries of the constants array ``c`` (the state's float type), in order."""

D_NAMES = ("step_power", "memory_steps", "repeat_recovery", "recovery")
"""Names of the entries of the float64 constants array ``d``, in order."""

(
    C_ZERO,
    C_ONE,
    C_NOISE,
    C_SEVERITY,
    C_BENCH_KEEP,
    C_ADJUST,
    C_A_X,
    C_A_W,
    C_TINY,
    C_UP,
    C_DOWN,
    C_LOSS_AVERSION,
    C_CURVATURE,
    C_BREACH_WEIGHT,
    C_W_PERF,
    C_W_DISC,
    C_INTERCEPT,
    C_EXTRAS,
    C_TEN,
    C_MEMORY,
    C_GAIN,
    C_LOSS,
    C_DISCLOSURE_FACTOR,
    C_THRESHOLD,
    C_KEPT_SHARE,
    C_HALF,
    C_TWENTIETH,
    C_COMMIT_RATE,
) = range(len(C_NAMES))
D_STEP_POWER, D_MEMORY_STEPS, D_REPEAT_RECOVERY, D_RECOVERY = range(len(D_NAMES))


def threads() -> int:
    """Threads the parallel kernels use (``numba.set_num_threads``, ``NUMBA_NUM_THREADS``)."""
    return numba.get_num_threads()


NO_OUTCOME, ANSWERED, IGNORED = 0, 1, 2
"""Codes of ``outcome``: no complaint, a complaint answered, a complaint ignored."""


@njit(cache=True, nogil=True, error_model="numpy")
def customer_rows(
    lo,
    hi,
    base,
    sums,
    supplier,
    region,
    weights,
    disposition,
    standard,
    experience,
    expectation,
    benchmark,
    heard,
    satisfaction,
    last_satisfaction,
    trust,
    failed,
    ws_failure,
    expectation_used,
    satisfaction_before,
    z,
    noise_on,
    hit,
    tables,
    disclose,
    fail_col,
    cross_weight,
    den0,
    firm_part,
    breach_floor,
    retention,
    floor,
    c,
    d,
    curved,
    step_scaled,
    recording,
    trust_out,
    unhappy,
):
    """``customer_phases`` for the customers ``lo..hi`` in one thread (buffer positions
    ``i - base``), adding to the ``[F, 3]`` sums of its task."""
    n_ind, _, n_attr = experience.shape
    n_firms = disclose.shape[0]
    zero = c[C_ZERO]
    one = c[C_ONE]
    cast = np.empty(1, trust.dtype)  # rounds a float64 value to the state's type
    # -- delivery: what each served customer perceives this step
    for m in range(n_ind):
        for i in range(lo, hi):
            b = i - base
            f = supplier[m, i]
            failed[m, i] = hit[m, b]
            ws_failure[m, i] = hit[m, b]
            if f < 0:
                continue  # no supplier: no experience
            row = f + region[i] * (n_firms + 1)
            for k in range(n_attr):
                x = tables[m, row, k]
                if noise_on:
                    x += z[m, b, k] * c[C_NOISE]
                if hit[m, b] and fail_col[k]:
                    x -= c[C_SEVERITY]
                if x < zero:
                    x = zero
                elif x > one:
                    x = one
                experience[m, i, k] = x
    # -- the benchmark: decayed, then raised to the best experience of this step
    for i in range(lo, hi):
        for k in range(n_attr):
            best = benchmark[i, k] * c[C_BENCH_KEEP]
            for m in range(n_ind):
                if supplier[m, i] >= 0:
                    x = experience[m, i, k]
                    if best == best and (x > best or x != x):  # np.maximum: NaN wins
                        best = x
            benchmark[i, k] = best
    for m in range(n_ind):
        for i in range(lo, hi):
            b = i - base
            f = supplier[m, i]
            if f < 0:  # no supplier: only what the numpy phases write for everyone
                for k in range(n_attr):
                    expectation_used[m, i, k] = expectation[m, i, k]
                satisfaction_before[m, i] = satisfaction[m, i]
                unhappy[m, b] = False
                continue
            key = f
            warned = hit[m, b] and disclose[f]
            # -- expectations: the judged expectation and the move of E toward its target
            ew_sum = zero
            for k in range(n_attr):
                e = expectation[m, i, k]
                x = experience[m, i, k]
                judged = e
                if warned and c[C_ADJUST] > zero and fail_col[k] and x < e:
                    judged = e - c[C_ADJUST] * (e - x)
                expectation_used[m, i, k] = judged
                if recording:
                    ew_sum += weights[i, k] * judged
                h = heard[m, i, k]
                num = firm_part[key, k] + x * c[C_A_X]
                num += cross_weight[k] * benchmark[i, k]
                heard_part = h if h > zero else zero  # np.fmax(heard, 0)
                num += heard_part * c[C_A_W]
                den = c[C_A_W] if h == h else zero
                den += den0[k]
                if den < c[C_TINY]:
                    den = c[C_TINY]
                gap = num / den + standard[i] - e
                rise = zero if gap < zero else gap  # np.maximum(gap, 0)
                fall = zero if gap > zero else gap  # np.minimum(gap, 0)
                expectation[m, i, k] = rise * c[C_UP] + fall * c[C_DOWN] + e
            # -- satisfaction: experience against the judged expectation, losses weigh more
            breach = zero
            disc = zero
            perf = zero
            for k in range(n_attr):
                w = weights[i, k]
                x = experience[m, i, k]
                short = breach_floor[key, k] - x
                if short < zero:
                    short = zero
                breach += w * short
                gap = x - expectation_used[m, i, k]
                if curved:
                    mag = abs(gap) ** c[C_CURVATURE]
                    value = mag if gap >= zero else -c[C_LOSS_AVERSION] * mag
                else:
                    rise = zero if gap < zero else gap
                    fall = zero if gap > zero else gap
                    value = rise + fall * c[C_LOSS_AVERSION]
                disc += w * value
                perf += w * x
            offset = breach * -c[C_BREACH_WEIGHT] + disposition[i]
            s = perf * c[C_W_PERF]
            s += c[C_W_DISC] * disc
            s += c[C_INTERCEPT]
            s += c[C_EXTRAS] * retention[key]
            s += offset
            if s < zero:
                s = zero
            elif s > c[C_TEN]:
                s = c[C_TEN]
            old = satisfaction[m, i]
            satisfaction_before[m, i] = old
            new = (s - old) * c[C_MEMORY] + old
            if old != old:
                new = s  # S starts at the first experience
            satisfaction[m, i] = new
            last_satisfaction[m, i] = s
            if recording:
                sums[f, 0] += 1.0
                sums[f, 1] += perf
                sums[f, 2] += ew_sum
            # -- trust, before complaints: kept and broken promises
            kept = zero
            cut = zero
            for k in range(n_attr):
                w = weights[i, k]
                x = experience[m, i, k]
                low = floor[key, k]
                if x >= low:
                    kept += w
                short = low - x
                if short < zero:
                    short = zero
                cut += w * short
            cut *= c[C_LOSS]
            if warned:
                cut *= c[C_DISCLOSURE_FACTOR]
            if cut < zero:
                cut = zero
            elif cut > one:
                cut = one
            if step_scaled:
                cast[0] = 1.0 - (1.0 - np.float64(cut)) ** d[D_STEP_POWER]
                cut = cast[0]
            t_old = trust[m, i]
            t = (one - t_old) * kept * c[C_GAIN]
            t -= cut * t_old
            t += t_old
            trust_out[m, b] = t
            unhappy[m, b] = s < c[C_THRESHOLD]


@njit(cache=True, nogil=True, error_model="numpy")
def commitment_rows(
    lo,
    hi,
    base,
    supplier,
    satisfaction,
    trust,
    commitment,
    tenure,
    steps_since_recovery,
    complaints,
    answered,
    satisfaction_before,
    trust_out,
    outcome,
    commit_bonus,
    c,
    d,
):
    """The rest of trust for the customers ``lo..hi`` in one thread (buffer positions
    ``i - base``): the complaint outcome (``outcome`` codes ``NO_OUTCOME``, ``ANSWERED``,
    ``IGNORED``), recovery, commitment and tenure."""
    n_ind = supplier.shape[0]
    zero = c[C_ZERO]
    one = c[C_ONE]
    for i in range(lo, hi):
        b = i - base
        for m in range(n_ind):
            f = supplier[m, i]
            if f < 0:
                continue
            t = trust_out[m, b]
            code = outcome[m, b]
            if code == IGNORED:
                t *= c[C_KEPT_SHARE]
            if t < zero:
                t = zero
            elif t > one:
                t = one
            trust[m, i] = t
            since = steps_since_recovery[m, i]
            if code == ANSWERED:
                before = satisfaction_before[m, i]
                now = satisfaction[m, i]
                lost = zero
                if before == before:
                    lost = before - now
                    if lost < zero:
                        lost = zero
                share = d[D_REPEAT_RECOVERY] if since < d[D_MEMORY_STEPS] else d[D_RECOVERY]
                satisfaction[m, i] = now + share * lost
            since += 1
            if since > 1 << 30:
                since = 1 << 30
            if code == ANSWERED:
                since = 0
                answered[m, i] += 1
            if code != NO_OUTCOME:
                complaints[m, i] += 1
            steps_since_recovery[m, i] = since
            c_old = commitment[m, i]
            target = satisfaction[m, i] * c[C_TWENTIETH]
            target += t * c[C_HALF]
            target += commit_bonus[f]
            if target < zero:
                target = zero
            elif target > one:
                target = one
            commitment[m, i] = (target - c_old) * c[C_COMMIT_RATE] + c_old
            tenure[m, i] += 1


@njit(cache=True, parallel=True, error_model="numpy")
def customer_phases(lo, hi, task_rows, sums, *state):
    """Phases 2 to 5 up to the complaints for the customers ``lo..hi`` (positions ``i - lo`` in
    the per-span buffers), in tasks of ``task_rows`` customers run in parallel.

    ``state`` is the arguments of :func:`customer_rows` after ``sums``. Writes the state in
    place as the numpy phases do; leaves each customer's new trust before the complaint outcome
    in ``trust_out[m, i - lo]`` and whether it is unhappy enough to complain in
    ``unhappy[m, i - lo]``; when ``recording``, adds ``[served, w.X, w.E_used]`` per firm to
    ``sums[task]`` (one ``[F, 3]`` row per task, so that the sums do not depend on the threads).
    """
    n_tasks = (hi - lo + task_rows - 1) // task_rows
    for task in prange(n_tasks):
        start = lo + task * task_rows
        customer_rows(start, min(hi, start + task_rows), lo, sums[task], *state)


@njit(cache=True, parallel=True, error_model="numpy")
def commitment_phase(lo, hi, task_rows, *state):
    """The rest of trust for the customers ``lo..hi``, in parallel tasks of ``task_rows``
    (``state``: the arguments of :func:`commitment_rows` after ``base``): the complaint outcome
    (``outcome`` codes ``NO_OUTCOME``, ``ANSWERED``, ``IGNORED``), recovery, commitment and
    tenure."""
    n_tasks = (hi - lo + task_rows - 1) // task_rows
    for task in prange(n_tasks):
        start = lo + task * task_rows
        commitment_rows(start, min(hi, start + task_rows), lo, *state)
