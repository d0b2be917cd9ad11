"""Phase 6's network part, first half: each message fanned out to its speaker's neighbours.

A message reaches each neighbour of its sender with probability ``reach`` (the word-of-mouth
phase's rule, ``sim.rules.word_of_mouth``, which calls these kernels). :func:`expand_csr` fans
the messages out over a CSR network (the batch's, every market one after another), drawing each
delivery's keyed uniform (``sim.draws``: ``"reach"``, the neighbour's position as the column);
what the listeners make of the deliveries is ``sim.rules.listening``.

It cuts the messages into ranges of senders, each a parallel task: a task writes its deliveries
from the number of (message, neighbour) pairs before its first message, and the listeners take
the tasks' runs as they are; a delivery's draw is keyed, not taken in order, so the deliveries
are the same on any number of threads. At 1M customers (three
industries, 31-77k talkers each) the fan-out took 10.5 ms a step on one thread and 6.4 on two
(median of 6 processes alternating, quiet machine; CPU 10.5 -> 9.5 ms; docs/performance.md, "One
large market"); with each sender's neighbours prefetched whole (:func:`fan`), 3.5 ms on two.

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.draws import REACH, uniform_column
from sim.jit import kernel, parallel_kernel, prange, prefetch, run_tasks, threads
from sim.rules.listening import AHEAD

__all__ = [
    "FAN_TASK",
    "expand_csr",
    "plan_fan_out",
]

FAN_TASK = 8192
"""Messages a task of :func:`expand_csr` takes at least (about 0.6 ms of work at 1M customers:
70 ns a message of 10 neighbours in the step): fewer messages, one task on the calling thread (a
parallel launch costs a thread wake-up)."""


def expand_csr(
    senders: np.ndarray,
    market: np.ndarray,
    m: int,
    offsets: np.ndarray,
    keys: np.ndarray,
    consts: Any,
    indptr: np.ndarray,
    indices: np.ndarray,
    firm: np.ndarray,
    message: np.ndarray,
    receiver: np.ndarray,
    per_firm: np.ndarray,
    starts: np.ndarray | None = None,
) -> np.ndarray:
    """Messages fanned out to their senders' neighbours, and deliveries per firm.

    The messages are cut into the ranges of :func:`plan_fan_out`, each a task that writes its
    kept deliveries from the number of (message, neighbour) pairs before its first message and
    counts them per firm in a row of its own (:func:`fan`); the rows are then added to
    ``per_firm``. A delivery's draw is keyed by its sender and neighbour, not by the order of
    drawing, so the deliveries are the same whatever the ranges, and the tasks run in parallel.
    The deliveries stay where the tasks wrote them, one run a task, with room between the runs:
    what reads them takes run after run (``listening.hear``'s ``runs``). Moving the runs
    together after, on one thread, took 1.9 ms a step at 1M customers (6 December 2026: the
    three industries' second runs, 2-3 MB each, read from the other core's cache).

    Parameters
    ----------
    senders, market, firm
        The sending customer of each message (an index of the batch, non-decreasing), its
        market and the firm the message is about (of its market).
    m
        The messages' industry.
    offsets, keys, consts
        The batch's first customer of each market, stream bases and constants: the delivery of
        a message of sender ``s`` (of market ``b``) to the ``j``-th neighbour of ``s`` is kept
        when ``uniform_column(keys[b, REACH, m], s - offsets[b], j)`` is below the market's
        ``reach`` (every delivery when ``reach >= 1``).
    indptr, indices
        The batch's CSR network (``sim.network.Adjacency`` of every market, one after another).
    message, receiver
        Out: position in ``senders`` of each kept delivery and its receiver, in the runs; room
        for every (message, neighbour) pair and one more.
    per_firm
        Added to: the number of deliveries about each firm, ``[B, F]`` (whole numbers in
        float64: the tasks' counts add up exactly in any order).
    starts
        :func:`plan_fan_out` of ``senders`` (the caller sizes ``message`` and ``receiver`` by
        its last entry); default: computed here.

    Returns
    -------
    np.ndarray
        The runs, ``[tasks, 2]`` int64: each one's first entry of ``message`` and ``receiver``
        and its number of deliveries. Taken in order, the deliveries' messages are
        non-decreasing.
    """
    if starts is None:
        starts = plan_fan_out(senders, indptr)
    n_tasks = len(starts) - 1
    runs = np.zeros((n_tasks, 2), np.int64)
    runs[:, 0] = starts[:-1]
    kept = np.zeros(n_tasks, np.int64)
    counts = np.zeros((n_tasks, *per_firm.shape))
    run_tasks(serial_fan, parallel_fan, n_tasks, n_tasks, starts, senders, market, m, offsets,
              keys, consts, indptr, indices, firm, message, receiver, kept, counts)  # fmt: skip
    per_firm += counts.sum(axis=0)  # whole numbers: exact in any order
    runs[:, 1] = kept
    return runs


def plan_fan_out(
    senders: np.ndarray,
    indptr: np.ndarray,
    n_tasks: int | None = None,
    degree: np.ndarray | None = None,
) -> np.ndarray:
    """The tasks of :func:`expand_csr`: where each writes its deliveries.

    The messages are cut into ``n_tasks`` ranges (default: one per thread, at least
    :data:`FAN_TASK` messages each); a task writes from the number of (message, neighbour)
    pairs of the messages before its own, room enough for everything before it.

    Parameters
    ----------
    senders
        The sending customer of each message (non-decreasing).
    indptr
        The batch's CSR network's row pointers.
    n_tasks
        Ranges of messages (tests; default above).
    degree
        Each sender's number of neighbours, if the caller has it (``word_of_mouth``'s talkers
        do): then the plan adds these, in order, instead of reading the senders' row pointers
        at scattered places on one thread (at 1M customers 2.7 ms a step in the step; the
        same plan).

    Returns
    -------
    np.ndarray
        ``n_tasks + 1`` int64: each task's first delivery slot, then the number of all pairs.
    """
    if n_tasks is None:
        n_tasks = max(1, min(threads(), len(senders) // FAN_TASK))
    starts = np.zeros(n_tasks + 1, np.int64)
    if degree is None:
        plan(n_tasks, senders, indptr, starts)
    else:
        plan_degrees(n_tasks, degree, starts)
    return starts


@kernel
def plan(n_tasks, senders, indptr, starts):  # fmt: skip
    """:func:`plan_fan_out`'s pass over the messages, on the calling thread: the senders are in
    increasing order, so it runs through ``indptr`` in order (0.11 ms for 75,000 messages at 1M
    customers against 0.65 ms as two tasks, whose launch waits for a thread)."""
    n = len(senders)
    total = 0
    for t in range(n_tasks):
        starts[t] = total
        for i in range(n * t // n_tasks, n * (t + 1) // n_tasks):
            prefetch(indptr, senders[min(i + AHEAD, n - 1)])
            s = senders[i]
            total += indptr[s + 1] - indptr[s]
    starts[n_tasks] = total


@kernel
def plan_degrees(n_tasks, degree, starts):  # fmt: skip
    """:func:`plan`, from the senders' numbers of neighbours: the same starts."""
    n = len(degree)
    total = 0
    for t in range(n_tasks):
        starts[t] = total
        for i in range(n * t // n_tasks, n * (t + 1) // n_tasks):
            total += degree[i]
    starts[n_tasks] = total


@kernel
def fan(t, n_tasks, starts, senders, market, m, offsets, keys, consts, indptr, indices, firm,
        message, receiver, kept, counts):  # fmt: skip
    """:func:`expand_csr`'s second part for task ``t`` of ``n_tasks``: its messages' kept
    deliveries written from ``starts[t]``, their number in ``kept[t]`` and per firm added to
    ``counts[t]``.

    A sender's neighbours are prefetched at both ends: ten int32 neighbours, 40 bytes, often
    straddle two cache lines, and until 4 December only the first was asked for. At 1M customers
    (baseline, the three industries' 141,000 messages and 1.41M (message, neighbour) pairs of a
    step, medians of 21 calls) :func:`expand_csr` took 6.2-6.3 ms on two threads against 3.5 so,
    and 11.3 against 5.6 ms on one."""
    n = len(senders)
    out = starts[t]
    for i in range(n * t // n_tasks, n * (t + 1) // n_tasks):
        prefetch(indptr, senders[min(i + 2 * AHEAD, n - 1)])
        ahead = senders[min(i + AHEAD, n - 1)]
        prefetch(indices, indptr[ahead])  # both ends of its neighbours
        prefetch(indices, indptr[ahead + 1] - 1)
        s = senders[i]
        b = market[i]
        reach = consts[b].reach
        everyone = reach >= 1.0
        base = keys[b, REACH, m]
        me = s - offsets[b]
        lo = indptr[s]
        deg = indptr[s + 1] - lo
        before = out
        for j in range(deg):
            # written at ``out`` whether kept or not, kept by advancing ``out``
            message[out] = i
            receiver[out] = indices[lo + j]
            out += everyone or uniform_column(base, me, j) < reach
        counts[t, b, firm[i]] += out - before
    kept[t] = out - starts[t]


@kernel
def serial_fan(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`fan` (its arguments after ``t``: ``n_tasks, *args``), one after
    another on the calling thread."""
    for t in range(n_tasks):
        fan(t, n_tasks, *args)


@parallel_kernel
def parallel_fan(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`fan`, as parallel tasks on numba's threads (a task's messages,
    delivery slots and row of ``counts`` are its own)."""
    for t in prange(n_tasks):
        fan(t, n_tasks, *args)
