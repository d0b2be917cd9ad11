"""Phase 6's network part, second half: what the listeners make of the messages delivered to
them (the deliveries themselves: ``sim.rules.fan_out``).

The equations are the word-of-mouth phase's (``sim.rules.word_of_mouth``, which calls these
kernels): a listener's attitude and trust toward the message's firm move toward the mean of what
it heard, ``A += (1 - (1 - influence) ** c) * (v_bar - A)``; what it heard about the industry
enters ``heard``, praise lifts its benchmark on the cross-industry attributes, and a teaching
firm's customers carry its focus to their listeners' attribute weights. :func:`hear` applies one
industry's deliveries to their listeners.

At a million customers these loops wait on memory, not arithmetic: messages, listeners and
their state sit at scattered places of arrays of tens of MB. So the listeners are taken in
increasing order (the passes over their state then run through it in order), no branch depends
on a value loaded from a scattered place, and the loops that gather from scattered places
prefetch a few iterations ahead (``sim.jit.prefetch``). :func:`hear` leaves its scratch as it
found it rather than clearing it before use.

:func:`hear` cuts the customers into ranges, each a parallel task that moves its own listeners:
the same numbers on any number of threads.

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.jit import kernel, parallel_kernel, prange, prefetch, run_tasks, threads

__all__ = [
    "AHEAD",
    "LISTEN_TASK",
    "hear",
    "listen_tasks",
]

AHEAD = 32
"""Iterations ahead that the gathering loops prefetch (16 to 64 measured about the same; the
fan-out's loops too, ``sim.rules.fan_out``)."""


LISTEN_TASK = 32768
"""Customers a task of :func:`hear` takes at least: fewer customers, one task on the calling
thread (a parallel launch costs a thread wake-up)."""


def hear(
    message: np.ndarray,
    receiver: np.ndarray,
    first: int,
    senders: np.ndarray,
    local_firm: np.ndarray,
    n_local: int,
    tone: np.ndarray,
    positive: np.ndarray,
    speaker_trust: np.ndarray,
    market: np.ndarray,
    market_of: np.ndarray,
    consts: Any,
    experience: np.ndarray,
    heard: np.ndarray,
    benchmark: np.ndarray,
    cross: np.ndarray,
    firms: np.ndarray,
    moved: np.ndarray,
    attitude: np.ndarray,
    moved_trust: np.ndarray,
    trust: np.ndarray,
    taught: np.ndarray,
    teach_focus: np.ndarray,
    weights: np.ndarray,
    flags: np.ndarray,
    stamp: np.ndarray,
    rank: np.ndarray,
    own: np.ndarray,
    who: np.ndarray,
    tally: np.ndarray,
    sums: np.ndarray,
    said: np.ndarray,
    span: np.ndarray,
    n_tasks: int | None = None,
    runs: np.ndarray | None = None,
) -> tuple[int, int]:
    """One industry's deliveries: update what the listeners heard, their benchmarks, their
    attitudes toward the industry's firms and their trust in those firms' word.

    The customers are cut into ``n_tasks`` ranges (default: one per thread, at least
    :data:`LISTEN_TASK` customers each), each a task that takes the deliveries to its own
    customers, in message order, and moves its own listeners' state: a listener's numbers are the
    same whatever the ranges, and the tasks run in parallel (:func:`mark`, then
    :func:`listen`).

    Parameters
    ----------
    message, receiver
        The industry's deliveries: message positions ``first .. first + len(senders) - 1``
        (non-decreasing) and receiving customers; all of them, or the entries of ``runs``.
    first
        Position of the industry's first message among all messages.
    senders, local_firm, tone, positive, speaker_trust, market
        Per message of the industry: the sender, the position of its firm among the industry's
        ``n_local`` firms, its valence, whether it is positive, the sender's trust in the
        firm's word and its market.
    n_local
        Number of firms of the industry.
    market_of, consts
        Each customer's market and the markets' constants (``heard_rate``, the share of the way
        toward the mean heard this step; ``praise_threshold`` and ``praise_share`` in the float
        type of ``experience``).
    experience
        The industry's ``[N, K]`` experiences (what a message says).
    heard
        The industry's ``[N, K]`` heard experiences, updated in place: NaN becomes the mean
        of the messages heard, else it moves by ``heard_rate`` toward it.
    benchmark
        ``[N, K]`` benchmarks, raised in place on the ``cross`` attributes to
        ``praise_share * X`` for every positive message with ``X >= praise_threshold``.
    cross
        Attributes that praise lifts (empty for none).
    firms
        The industry's firms (their rows of ``attitude``).
    moved
        ``moved[b, c]``: share of the way an attitude moves after ``c`` messages in market
        ``b``; ``c`` up to the most messages a listener can hear about one firm.
    attitude
        ``[F, N]`` attitudes: a listener that heard ``c > 0`` messages about a firm with mean
        valence ``v_bar`` moves ``A += moved[b, c] * (v_bar - A)`` (in float64), in place.
    moved_trust, trust
        The same for trust ``[F, N]``: toward the mean trust of the speakers,
        ``T += moved_trust[b, c] * (t_bar - T)``, in place.
    taught, teach_focus, weights
        Per market and firm of the industry: the share of the way one message moves a
        listener's attribute weights toward the firm's focus (``word_of_mouth_share * L``, 0 for
        a firm that does not teach), and that focus ``[B, n_local, K]``; the listeners' weights
        ``[N, K]`` move ``1 - (1 - taught) ** c`` of the way, in place (sim.rules.teaching).
    flags
        uint8 ``[N]``, all zero; left all zero.
    stamp, rank
        Integer scratch: ``[N]`` and one per delivery, of one type.
    own
        Integer scratch, ``n_tasks`` times one per delivery: task ``t``'s deliveries, in message
        order, from ``t`` times the number of deliveries (made here when it is shorter).
    who
        Scratch, room for one more than the deliveries: the listeners.
    tally
        Float64 scratch, room for ``3 * n_local`` per delivery, all zero; left all zero
        (per listener and firm: the number of messages, the sum of their tones and of the
        speakers' trust).
    sums
        Scratch in the float type of ``experience``, room for a row per delivery of
        ``K + len(cross)``: in each row ``K`` zeros, then ``-inf``; left so (per listener: the
        sum of what it heard, then its highest praise per cross attribute).
    said
        Scratch in the float type of ``experience``, room for ``len(senders) * K``.
    span
        ``[B, F, 2]`` float64, widened in place: per market and firm, the lowest and highest
        attitude a listener moved to (switching's bounds, ``sim.rules.churn_skip``).
    n_tasks
        Ranges of customers (tests; default above).
    runs
        ``[R, 2]`` int64: where the deliveries are in ``message`` and ``receiver`` when they are
        not all of them, each run's first entry and length, in order (the fan-out's tasks'
        runs, ``fan_out.expand_csr``, left where they were written); default one run of
        every entry.

    Returns
    -------
    n_who, most
        The number of listeners and the largest number of messages a listener heard about
        one firm (at most ``len(moved) - 1``, else ``moved`` was too short).
    """
    n = len(flags)
    if n_tasks is None:
        n_tasks = listen_tasks(n)
    bounds = np.arange(n_tasks + 1, dtype=np.int64) * n // n_tasks  # customers of each task
    listeners = np.zeros(n_tasks + 1, np.int64)  # then each task's first listener
    deliveries = np.zeros(n_tasks + 1, np.int64)  # then each task's first delivery in ``rank``
    if runs is None:
        runs = np.array([[0, len(receiver)]], np.int64)
    n_del = int(runs[:, 1].sum())
    if len(own) < n_tasks * n_del:
        own = np.empty(n_tasks * n_del, np.int64)
    run_tasks(serial_mark, parallel_mark, n_tasks, n_tasks, bounds, runs, n_del, receiver,
              senders, experience, flags, said, own, listeners, deliveries)  # fmt: skip
    np.cumsum(listeners, out=listeners)
    np.cumsum(deliveries, out=deliveries)
    most = np.zeros(n_tasks)
    spans = np.empty((n_tasks, *span.shape))  # each task's own, then combined
    spans[...] = (np.inf, -np.inf)
    run_tasks(serial_listen, parallel_listen, n_tasks, n_tasks, most, bounds, listeners,
              deliveries, n_del, message, receiver, first, local_firm, n_local, tone, positive,
              speaker_trust, market, market_of, consts, heard, benchmark, cross, firms, moved,
              attitude, moved_trust, trust, taught, teach_focus, weights, flags, stamp, rank,
              own, who, tally, sums, said, spans)  # fmt: skip
    np.minimum(span[..., 0], spans[..., 0].min(axis=0), out=span[..., 0])
    np.maximum(span[..., 1], spans[..., 1].max(axis=0), out=span[..., 1])
    return int(listeners[-1]), int(most.max())


def listen_tasks(n: int) -> int:
    """The ranges of customers :func:`hear` cuts ``n`` customers into: one per thread, at
    least :data:`LISTEN_TASK` customers each."""
    return max(1, min(threads(), n // LISTEN_TASK))


@kernel
def mark(t, n_tasks, bounds, runs, n_del, receiver, senders, experience, flags, said, own,
         listeners, deliveries):  # fmt: skip
    """:func:`hear`'s first part for task ``t`` of ``n_tasks``: what its share of the messages
    says (``said``), a flag on each of its customers (``bounds[t] .. bounds[t + 1] - 1``) that
    receives a delivery, its deliveries (their entries of ``receiver``, in the ``runs``) in
    message order (``own`` from ``t * n_del``, ``n_del`` the number of deliveries); the number
    of its listeners and of its deliveries in ``listeners[t + 1]`` and ``deliveries[t + 1]``."""
    n_msg = len(senders)
    k_attr = experience.shape[1]
    said = said[: n_msg * k_attr].reshape((n_msg, k_attr))
    for j in range(n_msg * t // n_tasks, n_msg * (t + 1) // n_tasks):
        prefetch(experience, senders[min(j + AHEAD, n_msg - 1)])
        for k in range(k_attr):
            said[j, k] = experience[senders[j], k]
    lo, hi = bounds[t], bounds[t + 1]
    base = t * n_del
    mine = 0
    for run in range(len(runs)):
        for d in range(runs[run, 0], runs[run, 0] + runs[run, 1]):
            r = receiver[d]
            if lo <= r < hi:
                flags[r] = 1
                own[base + mine] = d
                mine += 1
    count = 0
    mine_flags = flags[lo:hi]  # indexed from 0: no index is wrapped as if it were negative
    for j in range(hi - lo):
        count += np.int64(mine_flags[j])  # (a uint8 sum would wrap when run as Python)
    listeners[t + 1] = count
    deliveries[t + 1] = mine


@kernel
def serial_mark(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`mark` (its arguments after ``t``: ``n_tasks, *args``), one after
    another on the calling thread."""
    for t in range(n_tasks):
        mark(t, n_tasks, *args)


@parallel_kernel
def parallel_mark(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`mark`, as parallel tasks on numba's threads."""
    for t in prange(n_tasks):
        mark(t, n_tasks, *args)


@kernel
def listen(t, bounds, listeners, deliveries, n_del, message, receiver, first, local_firm,
           n_local, tone, positive, speaker_trust, market, market_of, consts, heard, benchmark,
           cross, firms, moved, attitude, moved_trust, trust, taught, teach_focus, weights,
           flags, stamp, rank, own, who, tally, sums, said, spans):  # fmt: skip
    """:func:`hear`'s second part for task ``t``: its listeners in increasing order (``who``
    from ``listeners[t]``), the ranks of its deliveries' listeners (``rank`` from
    ``deliveries[t]``; its deliveries are ``own``'s from ``t * n_del``, :func:`mark`),
    per listener the messages and tones per firm, the sum of what it heard and its highest
    praise, then each listener's state moved by them, and in ``spans[t]`` the lowest and
    highest attitude each firm's listeners moved to. Returns the most messages one of its
    listeners heard about one firm.

    The last pass reads each listener's rows of ``heard``, ``benchmark``, ``market_of`` and of
    ``attitude`` and ``trust`` for every firm of the industry, prefetched a few listeners
    ahead. Until 4 December trust and the market were not: at 1M customers (baseline, the
    three industries' deliveries of one step, medians of 15 calls) :func:`hear` took 22.3-22.7
    ms on two threads against 18.9-19.0 so, and 42.4 against 36.1 ms on one. Each listener's
    scratch (its tally and sums) is cleared as it is read, not in loops of their own after:
    19.3-19.5 -> 17.8 ms. The pass over the deliveries prefetches both ends of a listener's
    tally and sums rows (48 and 24 bytes with two firms and two cross attributes, often across
    two cache lines): 17.0-19.3 -> 15.9-17.5 ms."""
    k_attr = heard.shape[1]
    n_cross = len(cross)
    width = k_attr + n_cross  # per listener: the sum of what it heard, its highest praise
    n_msg = len(tone)
    said = said[: n_msg * k_attr].reshape((n_msg, k_attr))
    lo, hi = bounds[t], bounds[t + 1]
    w0, w1 = listeners[t], listeners[t + 1]
    d0, d1 = deliveries[t], deliveries[t + 1]

    # the listeners in increasing order, and each of the task's deliveries with its listener
    n_who = w0
    spare = len(who) - 1  # never a listener's slot: there are fewer listeners than deliveries
    mine_stamps, mine_flags = stamp[lo:hi], flags[lo:hi]  # indexed from 0, as in :func:`mark`
    for j in range(hi - lo):
        mine_stamps[j] = n_who  # customer lo + j's position among the listeners, if it is one
        # every customer writes (no branch): a later listener of this task overwrites it, or
        # it goes to the spare slot, never to the next task's first listener
        who[n_who if n_who < w1 else spare] = lo + j
        n_who += np.int64(mine_flags[j])
    for i in range(w0, w1):
        flags[who[i]] = 0
    mine = own[t * n_del : t * n_del + d1 - d0]  # listed by :func:`mark`
    for k in range(d1 - d0):
        prefetch(stamp, receiver[mine[min(k + AHEAD, d1 - d0 - 1)]])
        rank[d0 + k] = stamp[receiver[mine[k]]]

    # per listener, in message order: messages and tones per firm, sum of what was said, and
    # the highest praise per cross attribute
    for e in range(d0, d1):
        ahead = rank[min(e + AHEAD, d1 - 1)]
        prefetch(tally, 3 * n_local * ahead)
        prefetch(tally, 3 * n_local * (ahead + 1) - 1)
        prefetch(sums, width * ahead)
        prefetch(sums, width * (ahead + 1) - 1)
        i = rank[e]
        j = message[mine[e - d0]] - first
        key = 3 * (i * n_local + local_firm[j])
        tally[key] += 1.0
        tally[key + 1] += np.float64(tone[j])
        tally[key + 2] += np.float64(speaker_trust[j])
        row = width * i
        for k in range(k_attr):
            sums[row + k] += said[j, k]
        if positive[j]:
            p = consts[market[j]]
            for c in range(n_cross):
                x = said[j, cross[c]]
                if x >= p.praise_threshold:
                    sums[row + k_attr + c] = max(sums[row + k_attr + c], p.praise_share * x)

    most = 0.0
    last = moved.shape[1] - 1
    n_att = attitude.shape[1]
    flat_attitude = attitude.reshape(-1)
    flat_trust = trust.reshape(-1)
    last_trust = moved_trust.shape[1] - 1
    span = spans[t]
    for i in range(w0, w1):
        ahead = who[min(i + AHEAD, w1 - 1)]
        prefetch(heard, ahead)
        prefetch(benchmark, ahead)
        for f in range(n_local):
            prefetch(flat_attitude, firms[f] * n_att + ahead)
            prefetch(flat_trust, firms[f] * n_att + ahead)
        prefetch(market_of, ahead)
        r = np.uint64(who[i])  # unsigned: no read is wrapped as if its index were negative
        b = np.uint64(market_of[r])
        heard_rate = consts[b].heard_rate
        heard_by = 0.0
        for f in range(n_local):
            heard_by += tally[3 * (i * n_local + f)]
            most = max(most, tally[3 * (i * n_local + f)])
        row = width * i
        for k in range(k_attr):
            mean = np.float64(sums[row + k]) / heard_by
            old = np.float64(heard[r, k])
            toward = (mean - old) * heard_rate + old
            heard[r, k] = mean if np.isnan(old) else toward  # the first messages set it
            sums[row + k] = 0
        for c in range(n_cross):
            best = sums[row + k_attr + c]
            bar = benchmark[r, cross[c]]
            benchmark[r, cross[c]] = best if best > bar else bar  # np.maximum: NaN stays NaN
            sums[row + k_attr + c] = -np.inf
        for f in range(n_local):
            key = 3 * (i * n_local + f)
            c = tally[key]
            g = np.uint64(firms[f])
            a = attitude[g, r]
            # c <= last unless the caller's bound is wrong; no message (c = 0): no change
            step = moved[b, min(int(c), last)]
            toward = np.float64(a) + step * (tally[key + 1] / max(c, 1.0) - np.float64(a))
            attitude[g, r] = toward if c > 0 else a
            if c > 0:
                now = attitude[g, r]
                span[b, g, 0] = min(span[b, g, 0], now)
                span[b, g, 1] = max(span[b, g, 1], now)
            tr = trust[g, r]
            step = moved_trust[b, min(int(c), last_trust)]
            toward = np.float64(tr) + step * (tally[key + 2] / max(c, 1.0) - np.float64(tr))
            trust[g, r] = toward if c > 0 else tr
            tally[key] = 0.0
            tally[key + 1] = 0.0
            tally[key + 2] = 0.0
            if taught[b, f] > 0 and c > 0:  # what the firm teaches, carried by its customers
                keep = 1.0
                for _ in range(int(c)):
                    keep *= 1.0 - taught[b, f]
                for k in range(k_attr):
                    weights[r, k] += (1.0 - keep) * (teach_focus[b, f, k] - weights[r, k])
    return most


@kernel
def serial_listen(n_tasks, most, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`listen` (its arguments after ``t``: ``args``), one after another
    on the calling thread (``most[t]``: task ``t``'s most)."""
    for t in range(n_tasks):
        most[t] = listen(t, *args)


@parallel_kernel
def parallel_listen(n_tasks, most, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`listen`, as parallel tasks on numba's threads (a task's
    customers, listeners, deliveries and scratch rows are its own)."""
    for t in prange(n_tasks):
        most[t] = listen(t, *args)
