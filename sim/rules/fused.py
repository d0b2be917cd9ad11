"""Phases 2 to 5 in one pass over each customer: delivery, expectations, satisfaction, trust.

These phases change each customer's state from that customer's own state and from firm-level
values fixed at the start of the step, so the kernel below applies the four phases' rules
(``sim.rules.delivery``, ``expectations``, ``satisfaction``, ``trust``: each rule is stated there,
once) to a block of customers (:data:`BLOCK`) while its state is in the caches, and the state is
read from memory once. For each industry in turn, every customer's experience (delivery, with its
failure and its noise); then each customer's benchmark over the industries; then, industry by
industry, for every served relationship the judged expectation and the move of E
(expectations), ``s`` and ``S`` (satisfaction), trust, the complaint and the firm's answer,
recovery, commitment and tenure (trust). The block's stages, loops over its customers that the
compiler vectorises, are ``sim.rules.block_stages``; this module prepares the firm tables, cuts
the customers into tasks and blocks and adds up the tasks' sums.

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

from sim.jit import ONE, ZERO, by_value, kernel, parallel_kernel, prange, run_tasks
from sim.rules import block_stages, delivery, expectations, satisfaction, trust
from sim.state import BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch

__all__ = ["PHASES", "TALLIES", "run"]

PHASES = (delivery, expectations, satisfaction, trust)
"""The phases this module runs together, in order."""

TALLIES = block_stages.TALLIES
"""The per-firm tallies the kernel adds (``sim.state.TALLY_NAMES``), in its column order."""

BLOCK = 1024
"""Customers the kernel takes together: for a block, delivery industry by industry, the
benchmarks, then the rest of phases 3 to 5 industry by industry, each stage a loop over the
block's customers (``sim.rules.block_stages``). The loops' iterations are independent customers,
which the processor overlaps and the compiler vectorises; one customer's three industries one
after another, as before, made a single long chain of dependent work per customer
(docs/performance.md, "One large market"). The order in which per-firm sums are added is the same
(each firm is in one industry, its customers in order), so are the results."""


@kernel
def customer_rows(
    lo, hi, first, keys, p, sums, bounds, recording, details, state, firm, literal=True
):
    """Phases 2 to 5 for the customers ``lo..hi`` of one market (its first customer is
    ``first``: a customer's own index in its market, which keys its draws, is ``i - first``).

    ``keys`` are the market's stream bases ``[purpose, industry]`` of the step, ``p`` its
    constants (a record), ``state`` the batch's customer arrays (see :func:`run`) and ``firm``
    the market's firm tables (``[F + 1, ...]``, the last row for no supplier; the experience
    tables ``[M, R * (F + 1), K]``). Adds to ``sums[f]`` the columns of
    :data:`TALLIES` (the first three only when ``recording``), writes the step's details to the
    workspace's arrays in ``state`` only when ``details`` (``BatchScratch.details``) and keeps in
    ``bounds[m]`` the lowest running satisfaction and the lowest and highest expectation of the
    served customers (switching bounds its hazards with them). The work is
    ``sim.rules.block_stages.block``'s, a block of :data:`BLOCK` customers at a time, with the
    number of attributes a constant when it is 4 and ``literal`` (the compiler then vectorises
    the stages; ``literal=False`` runs the very same stages as scalar code, which tests
    compare).
    """
    p = by_value(p)  # the market's constants as values, read once (sim.jit.by_value)
    weights, experience, expectation, benchmark, heard = (
        state[2],
        state[5],
        state[6],
        state[7],
        state[8],
    )
    n_ind, _, n_attr = experience.shape
    flat = (
        experience.reshape(-1),
        expectation.reshape(-1),
        heard.reshape(-1),
        state[20].reshape(-1),  # the expectations judged against
        weights.reshape(-1),
        benchmark.reshape(-1),
    )
    failure_attribute, benchmark_weight = firm[3], firm[8]
    # per attribute: failure attribute (1 or 0), benchmark weight (a_b * cross)
    firm_k = np.empty((2, n_attr), experience.dtype)
    for k in range(n_attr):
        firm_k[0, k] = ONE if failure_attribute[k] else ZERO
        firm_k[1, k] = benchmark_weight[k]
    firm = (*firm[:3], firm_k, *firm[4:])
    supplier, delivered_by = state[0], state[23]
    buf = block_stages.buffers(n_ind, BLOCK, n_attr, experience.dtype)
    keeps = (recording, details)  # the recorded sums, the step's details
    for start in range(lo, hi, BLOCK):
        nb = min(hi, start + BLOCK) - start
        for m in range(n_ind):  # who delivers this step: the suppliers as phase 2 finds them
            delivered_by[m, start : start + nb] = supplier[m, start : start + nb]
        if literal and n_attr == 4:  # a constant: the compiler vectorises the stages
            block_stages.block(
                start, nb, first, 4, keys, p, sums, bounds, keeps, state, flat, firm, buf
            )
        else:
            block_stages.block(
                start, nb, first, n_attr, keys, p, sums, bounds, keeps, state, flat, firm, buf
            )


@kernel
def one_task(
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
    details,
    state,
    tables,
    literal,
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
        details,
        state,
        firm,
        literal,
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
    details,
    state,
    tables,
    literal,
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
            details,
            state,
            tables,
            literal,
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
    details,
    state,
    tables,
    literal,
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
            details,
            state,
            tables,
            literal,
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


def run(batch: MarketBatch, scratch: BatchScratch, literal: bool = True) -> None:
    """Phases 2 to 5 for every customer of every market of the batch (see the module
    docstring); ``literal=False``: the stages as scalar code (:func:`customer_rows`)."""
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
        ws.supplier,  # who delivered: the suppliers, copied block by block
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
        scratch.details,  # the scratch records whether the step kept its details
        state,
        tables,
        literal,
    )
    run_tasks(serial_tasks, parallel_tasks, n_tasks, n_tasks, *args)
    columns = np.array([TALLY_INDEX[name] for name in TALLIES], np.int64)
    batch.bounds = np.empty((batch.B, batch.M, 3), bounds.dtype)
    batch.bounds[...] = (np.inf, np.inf, -np.inf)
    add_tasks(task_market, sums, bounds, scratch.tallies, columns, batch.bounds)


def _tally_index() -> dict[str, int]:
    from sim.state import TALLY_NAMES

    return {name: i for i, name in enumerate(TALLY_NAMES)}


TALLY_INDEX = _tally_index()
_ = SimpleNamespace  # the phases' prepare() return namespaces
