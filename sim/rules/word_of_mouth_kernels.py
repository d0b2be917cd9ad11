"""Compiled (numba) twins of the hot loops of word of mouth (``sim.rules.word_of_mouth``).

The same rules as the numpy code of ``_spread``, on random numbers drawn before the call (no
kernel draws one):

- ``select_talkers``: which candidates of the thinned talk trial talk, their firm and their
  message's tone;
- ``expand_csr``: the fan-out of messages to the neighbours of their senders in a CSR network,
  one pre-drawn uniform per (message, neighbour), as ``sim.network.Adjacency.expand``;
- ``hear``: what the listeners of one industry make of the messages they heard: their heard
  experience, the praise lifting their benchmark and their attitude toward each firm of the
  industry.

Every sum is taken in the order of the numpy code (a listener's messages in message order) and
in the same float type, so the two engines agree here to the bit
(``tests/test_engine_wom_metrics.py``).

At a million customers these loops wait on memory, not arithmetic: messages, listeners and
neighbours sit at scattered places of arrays of tens of MB. So the listeners are taken in
increasing order (the passes over their state then run through it in order), no branch depends
on a value loaded from a scattered place, and the loops that gather from scattered places
prefetch a few iterations ahead (``_prefetch``). Temporaries come from the caller, which keeps
them from step to step (a fresh array costs a page fault per 4 KiB), and ``hear`` leaves them
as it found them rather than clearing them before use.

This module imports numba: the package imports it only when a model runs on the numba engine
(``sim.engine``).
"""

from __future__ import annotations

import llvmlite.ir as llvm_ir
import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["expand_csr", "hear", "select_talkers"]

AHEAD = 32
"""Iterations ahead that the gathering loops prefetch (16 to 64 measured about the same)."""


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the CPU to fetch the cache line of ``array[index]`` (``array[index, 0]`` for a 2-D
    array) without waiting for it: LLVM's ``llvm.prefetch``, read, high locality. Never faults,
    whatever the index."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        array_value = context.make_array(array_type)(context, builder, args[0])
        at = context.cast(builder, args[1], index_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        where = [at] + [zero] * (array_type.ndim - 1)
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, array_value, where, wraparound=False
        )
        byte_pointer = llvm_ir.IntType(8).as_pointer()
        i32 = llvm_ir.IntType(32)
        signature_ir = llvm_ir.FunctionType(llvm_ir.VoidType(), [byte_pointer, i32, i32, i32])
        # typed-pointer name; LLVM versions with opaque pointers remangle it
        function = cgutils.get_or_insert_function(
            builder.module, signature_ir, "llvm.prefetch.p0i8"
        )
        read, locality, data = (llvm_ir.Constant(i32, v) for v in (0, 3, 1))
        builder.call(function, [builder.bitcast(pointer, byte_pointer), read, locality, data])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def select_talkers(
    cand: np.ndarray,
    u: np.ndarray,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    base: float,
    positive_amplitude: float,
    negative_amplitude: float,
    neutral: float,
    up_scale: float,
    down_scale: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates that talk, their supplier and the tone of their message.

    Candidate ``i`` (customer ``cand[i]``, uniform ``u[i]``) talks when it has a supplier and
    ``u[i]`` is below its weekly chance to talk (``talk_probability`` at 52 steps a year). The
    float arguments must be of the type of ``satisfaction`` (the numpy code computes in it):
    ``up_scale = max(10 - n0, 1e-9)`` and ``down_scale = max(n0, 1e-9)``.

    Parameters
    ----------
    cand, u
        Candidates (customer indices, increasing) and their uniforms, from ``draws.below``.
    supplier, satisfaction
        One industry's ``[N]`` suppliers and running satisfactions.
    base, positive_amplitude, negative_amplitude, neutral, up_scale, down_scale
        The word-of-mouth parameters, in the float type of ``satisfaction``.

    Returns
    -------
    talkers, firm, tone
        The customers who talk (``cand``'s type), their supplier (``supplier``'s type) and the
        valence of their message (``satisfaction``'s type).
    """
    n = len(cand)
    talkers = np.empty(n + 1, cand.dtype)  # one spare slot: every candidate is written
    firm = np.empty(n + 1, supplier.dtype)
    tone = np.empty(n + 1, satisfaction.dtype)
    zero = satisfaction.dtype.type(0)
    one = satisfaction.dtype.type(1)
    count = 0
    for i in range(n):
        c = cand[i]
        f = supplier[c]
        s = satisfaction[c]
        # the valence: (S - n0) / (10 - n0) at or above the neutral point, (S - n0) / n0 below;
        # numpy's ``up`` is its positive part, its ``down`` = (n0 - S) / n0 the negative part
        # (the same number: IEEE negation is exact), each clipped to 1; NaN stays NaN
        v = (s - neutral) / (up_scale if s >= neutral else down_scale)
        up = min(max(v, zero), one) if v == v else v
        down = min(max(-v, zero), one) if v == v else v
        week = base + positive_amplitude * (up * up) + negative_amplitude * (down * down)
        week = min(max(week, zero), one) if week == week else week
        # written at ``count`` whether it talks or not, kept by advancing ``count``
        talkers[count] = c
        firm[count] = f
        tone[count] = v
        count += (f >= 0) & (u[i] < week)
    return talkers[:count], firm[:count], tone[:count]


@njit(cache=True)
def expand_csr(
    senders: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    uniforms: np.ndarray,
    reach: float,
    firm: np.ndarray,
    message: np.ndarray,
    receiver: np.ndarray,
    per_firm: np.ndarray,
) -> int:
    """Messages fanned out to their senders' neighbours, and deliveries per firm.

    Parameters
    ----------
    senders
        The sending customer of each message.
    indptr, indices
        The CSR network (``sim.network.Adjacency``).
    uniforms
        One uniform per (message, neighbour) in fan-out order (message by message, each
        sender's neighbours in CSR order); a delivery is kept when its uniform is below
        ``reach``. Ignored when ``reach >= 1``: every delivery is kept.
    reach
        Chance that a message reaches a neighbour.
    firm
        The firm each message is about.
    message, receiver
        Out: position in ``senders`` of each kept delivery (non-decreasing) and its receiver;
        room for every (message, neighbour) pair and one more.
    per_firm
        Out: the number of deliveries about each firm (zeroed here).

    Returns
    -------
    int
        The number of kept deliveries (the first entries of ``message`` and ``receiver``).
    """
    everyone = reach >= 1.0
    n = len(senders)
    per_firm[:] = 0
    out = 0
    pos = 0
    for i in range(n):
        _prefetch(indptr, senders[min(i + 2 * AHEAD, n - 1)])
        _prefetch(indices, indptr[senders[min(i + AHEAD, n - 1)]])
        s = senders[i]
        lo = indptr[s]
        deg = indptr[s + 1] - lo
        before = out
        for j in range(deg):
            # written at ``out`` whether kept or not, kept by advancing ``out``
            message[out] = i
            receiver[out] = indices[lo + j]
            out += everyone or uniforms[pos + j] < reach
        pos += deg
        per_firm[firm[i]] += out - before
    return out


@njit(cache=True)
def hear(
    message: np.ndarray,
    receiver: np.ndarray,
    first: int,
    senders: np.ndarray,
    local_firm: np.ndarray,
    n_local: int,
    tone: np.ndarray,
    positive: np.ndarray,
    experience: np.ndarray,
    heard: np.ndarray,
    heard_rate: float,
    benchmark: np.ndarray,
    cross: np.ndarray,
    praise_threshold: float,
    praise_share: float,
    firms: np.ndarray,
    moved: np.ndarray,
    attitude: np.ndarray,
    flags: np.ndarray,
    stamp: np.ndarray,
    rank: np.ndarray,
    who: np.ndarray,
    tally: np.ndarray,
    sums: np.ndarray,
    said: np.ndarray,
) -> tuple[int, int]:
    """One industry's deliveries: update what the listeners heard, their benchmarks and their
    attitudes toward the industry's firms.

    Parameters
    ----------
    message, receiver
        The industry's deliveries: message positions ``first .. first + len(senders) - 1``
        (non-decreasing) and receiving customers.
    first
        Position of the industry's first message among all messages.
    senders, local_firm, tone, positive
        Per message of the industry: the sender, the position of its firm among the industry's
        ``n_local`` firms, its valence and whether it is positive.
    n_local
        Number of firms of the industry.
    experience
        The industry's ``[N, K]`` experiences (what a message says).
    heard
        The industry's ``[N, K]`` heard experiences, updated in place: NaN becomes the mean
        of the messages heard, else it moves by ``heard_rate`` toward it.
    heard_rate
        Share of the way toward the mean heard this step.
    benchmark
        ``[N, K]`` benchmarks, raised in place on the ``cross`` attributes to
        ``praise_share * X`` for every positive message with ``X >= praise_threshold``.
    cross
        Attributes that praise lifts (empty for none).
    praise_threshold, praise_share
        In the float type of ``experience``.
    firms
        The industry's firms (their rows of ``attitude``).
    moved
        ``moved[c]``: share of the way an attitude moves after ``c`` messages; ``c`` up to the
        most messages a listener can hear about one firm.
    attitude
        ``[F, N]`` attitudes: a listener that heard ``c > 0`` messages about a firm with mean
        valence ``v_bar`` moves ``A += moved[c] * (v_bar - A)`` (in float64), in place.
    flags
        uint8 ``[N]``, all zero; left all zero.
    stamp, rank
        Integer scratch: ``[N]`` and one per delivery, of one type.
    who
        Scratch, room for ``len(receiver) + 1``: the listeners.
    tally
        Float64 scratch, room for ``len(receiver) * 2 * n_local``, all zero; left all zero
        (per listener and firm: the number of messages and the sum of their tones).
    sums
        Scratch in the float type of ``experience``, room for ``len(receiver)`` rows of
        ``K + len(cross)``: in each row ``K`` zeros, then ``-inf``; left so (per listener: the
        sum of what it heard, then its highest praise per cross attribute).
    said
        Scratch in the float type of ``experience``, room for ``len(senders) * K``.

    Returns
    -------
    n_who, most
        The number of listeners and the largest number of messages a listener heard about
        one firm (at most ``len(moved) - 1``, else ``moved`` was too short).
    """
    n = len(flags)
    n_msg = len(senders)
    n_del = len(receiver)
    k_attr = experience.shape[1]
    n_cross = len(cross)
    width = k_attr + n_cross  # per listener: the sum of what it heard, its highest praise

    # what each message says
    said = said[: n_msg * k_attr].reshape((n_msg, k_attr))
    for j in range(n_msg):
        _prefetch(experience, senders[min(j + AHEAD, n_msg - 1)])
        for k in range(k_attr):
            said[j, k] = experience[senders[j], k]

    # the listeners in increasing order, and each delivery's listener
    for d in range(n_del):
        flags[receiver[d]] = 1
    n_who = 0
    for r in range(n):
        stamp[r] = n_who  # r's position among the listeners, if it is one
        who[n_who] = r  # one spare slot: every customer writes
        n_who += flags[r]
    for i in range(n_who):
        flags[who[i]] = 0
    for d in range(n_del):
        _prefetch(stamp, receiver[min(d + AHEAD, n_del - 1)])
        rank[d] = stamp[receiver[d]]

    # per listener, in message order: messages and tones per firm, sum of what was said, and
    # the highest praise per cross attribute
    sums = sums[: n_who * width].reshape((n_who, width))
    for d in range(n_del):
        ahead = rank[min(d + AHEAD, n_del - 1)]
        _prefetch(tally, 2 * n_local * ahead)
        _prefetch(sums, ahead)
        i = rank[d]
        j = message[d] - first
        key = 2 * (i * n_local + local_firm[j])
        tally[key] += 1.0
        tally[key + 1] += np.float64(tone[j])
        for k in range(k_attr):
            sums[i, k] += said[j, k]
        if positive[j]:
            for c in range(n_cross):
                x = said[j, cross[c]]
                if x >= praise_threshold:
                    sums[i, k_attr + c] = max(sums[i, k_attr + c], praise_share * x)

    most = 0.0
    last = len(moved) - 1
    n_att = attitude.shape[1]
    flat_attitude = attitude.reshape(-1)
    for i in range(n_who):
        ahead = who[min(i + AHEAD, n_who - 1)]
        _prefetch(heard, ahead)
        _prefetch(benchmark, ahead)
        for f in range(n_local):
            _prefetch(flat_attitude, firms[f] * n_att + ahead)
        r = who[i]
        heard_by = 0.0
        for f in range(n_local):
            heard_by += tally[2 * (i * n_local + f)]
            most = max(most, tally[2 * (i * n_local + f)])
        for k in range(k_attr):
            mean = np.float64(sums[i, k]) / heard_by
            old = np.float64(heard[r, k])
            toward = (mean - old) * heard_rate + old
            heard[r, k] = mean if np.isnan(old) else toward  # the first messages set it
        for c in range(n_cross):
            best = sums[i, k_attr + c]
            b = benchmark[r, cross[c]]
            benchmark[r, cross[c]] = best if best > b else b  # np.maximum: NaN stays NaN
        for f in range(n_local):
            key = 2 * (i * n_local + f)
            c = tally[key]
            a = attitude[firms[f], r]
            # c <= last unless the caller's bound is wrong; no message (c = 0): no change
            step = moved[min(int(c), last)]
            toward = np.float64(a) + step * (tally[key + 1] / max(c, 1.0) - np.float64(a))
            attitude[firms[f], r] = toward if c > 0 else a
        # the scratch left as found, for the next call
        for key in range(2 * i * n_local, 2 * (i + 1) * n_local):
            tally[key] = 0.0
        for k in range(k_attr):
            sums[i, k] = 0
        for c in range(n_cross):
            sums[i, k_attr + c] = -np.inf
    return n_who, int(most)
