"""Running the per-customer phases block by block.

Phases 2 to 5 (delivery, expectations, satisfaction, trust) change each customer's state from
that customer's own state and from firm-level values fixed at the start of the phase, so they can
run one block of customers at a time: all four phases on a block of ``sim.arrays.CHUNK``
customers, then the next block. The block's arrays then stay in the CPU cache from one phase to
the next instead of being read from memory four times. The results are the same as running the
phases one after the other over all customers: the firm-level values each phase uses are computed
before the first block (``prepare``), and every rule draws from its own random stream in the same
order either way.

Each of these modules has ``prepare(model, scratch) -> context``, ``block(model, scratch, context,
block)`` and ``finish(model, scratch, context)``; its ``apply`` runs the three for that phase alone.
A :class:`Block` carries what every phase needs to know about the block's customers.

With the numba engine (``model.engine``), the four phases together run as compiled loops
(``sim.rules.kernels``): the phases' ``prepare`` and ``finish`` are the same, the random numbers
are drawn here block by block from the same streams in the same order as the numpy ``block``
functions draw them, and two kernels per block do the arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim import arrays
from sim.arrays import chunks, firm_table
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


class Block:
    """A block of customers (``rows``, a slice) as the per-customer phases see it.

    Per industry ``m``: ``supplier[m]`` (a view of the state), ``key[m]`` (the same as ``intp``,
    for ``np.take`` from firm tables whose last row stands for no supplier), ``served[m]``, and
    ``warned(m)``: the block positions of customers whose failure was disclosed (set by the
    delivery phase, or read back from the workspace when a later phase runs alone).
    """

    def __init__(self, model: CustomerMarket, rows: slice) -> None:
        cs = model.customer_state
        self.rows = rows
        self.size = rows.stop - rows.start
        self.supplier = [cs.supplier[m, rows] for m in range(len(model.industries))]
        self.key = [s.astype(np.intp) for s in self.supplier]
        self.served = [s >= 0 for s in self.supplier]
        self._model = model
        self._warned: list[np.ndarray | None] = [None] * len(self.supplier)

    def set_warned(self, m: int, positions: np.ndarray) -> None:
        """Record who was warned of a failure in industry m."""
        self._warned[m] = positions

    def warned(self, m: int) -> np.ndarray:
        """Block positions of the customers warned of this step's failure in industry m."""
        if self._warned[m] is None:
            model = self._model
            disclose = firm_table(model.firm_state.disclose, False)
            failed = model.workspace.failure[m, self.rows]
            self._warned[m] = np.flatnonzero(failed & np.take(disclose, self.key[m], mode="wrap"))
        return self._warned[m]


def run_in_blocks(
    model: CustomerMarket, scratch: StepScratch, phases: Sequence[ModuleType]
) -> None:
    """Run ``phases`` (modules with ``prepare``/``block``/``finish``) block by block, in order:
    compiled when the model's engine is numba and ``phases`` are all four of phases 2 to 5."""
    contexts = []
    for phase in phases:  # firm-level values, in phase order (trust uses delivery's load)
        contexts.append(phase.prepare(model, scratch))
    if model.engine == "numba" and [p.__name__ for p in phases] == list(COMPILED):
        _run_compiled(model, scratch, contexts)
    else:
        for rows in chunks(model.n_customers):
            block = Block(model, rows)
            for phase, context in zip(phases, contexts, strict=True):
                phase.block(model, scratch, context, block)
    for phase, context in zip(phases, contexts, strict=True):
        phase.finish(model, scratch, context)


TASKS_PER_SPAN = 8
"""Blocks of ``sim.arrays.CHUNK`` customers the compiled kernels take at once, as parallel tasks."""

COMPILED = (
    "sim.rules.delivery",
    "sim.rules.expectations",
    "sim.rules.satisfaction",
    "sim.rules.trust",
)
"""The phases the compiled kernels run together, in order."""


def _constants(model: CustomerMarket, contexts: list[SimpleNamespace]) -> SimpleNamespace:
    """The kernels' arguments that stay the same for every block of a step."""
    from sim.rules import kernels

    cs, fs = model.customer_state, model.firm_state
    dt = cs.experience.dtype
    deliver, expect, satisfy, trust = contexts
    prm = model.params
    spy = model.steps_per_year
    n_regions = model.visible.shape[0]  # the scenario's regions (some may have no customer)
    width = fs.n + 1  # a firm table's rows, the last for customers without a supplier
    tables = np.empty((len(model.industries), n_regions * width, len(model.attributes)), dt)
    for m, table in enumerate(deliver.tables):  # every industry's table by region
        tables[m] = table if deliver.regional[m] else np.tile(table, (n_regions, 1))
    values = {
        "zero": 0.0,
        "one": 1.0,
        "noise": deliver.noise,
        "severity": deliver.severity,
        "bench_keep": 1.0 - weekly_rate_to_step(prm.expectations.benchmark_decay, spy),
        "adjust": expect.adjust,
        "a_x": expect.a_x,
        "a_w": expect.a_w,
        "tiny": 1e-12,
        "up": expect.up,
        "down": expect.down,
        "loss_aversion": prm.satisfaction.loss_aversion,
        "curvature": prm.satisfaction.curvature,
        "breach_weight": satisfy.breach_weight,
        "w_perf": prm.satisfaction.weight_performance,
        "w_disc": prm.satisfaction.weight_disconfirmation,
        "intercept": prm.satisfaction.intercept,
        "extras": prm.satisfaction.extras_bonus,
        "ten": 10.0,
        "memory": satisfy.memory,
        "gain": trust.gain,
        "loss": trust.loss,
        "disclosure_factor": trust.disclosure_factor,
        "threshold": trust.threshold,
        "kept_share": trust.kept_share,
        "half": 0.5,
        "twentieth": 0.05,
        "commit_rate": trust.commit_rate,
    }
    doubles = {
        "step_power": 52.0 / spy,
        "memory_steps": trust.memory_steps,
        "repeat_recovery": prm.complaints.repeat_recovery,
        "recovery": prm.complaints.recovery,
    }
    return SimpleNamespace(
        kernels=kernels,
        tables=tables,
        c=np.array([values[name] for name in kernels.C_NAMES], dt),
        d=np.array([doubles[name] for name in kernels.D_NAMES], np.float64),
        disclose=deliver.disclose,
        fail_col=np.asarray(model.failure_mask, bool),
        cross_weight=np.ascontiguousarray(expect.wb[0]),
        den0=np.ascontiguousarray(expect.den0[0]),
        curved=prm.satisfaction.curvature != 1.0,
        step_scaled=spy != 52,
    )


def _run_compiled(
    model: CustomerMarket, scratch: StepScratch, contexts: list[SimpleNamespace]
) -> None:
    """Phases 2 to 5 by the compiled kernels, drawing exactly as the numpy blocks do.

    Customers go in spans of ``TASKS_PER_SPAN`` blocks: the random numbers of each block of the
    span are drawn (same streams, same order as ``block`` of the numpy phases), then a kernel
    runs the span's blocks as parallel tasks. Every task writes only its own customers and its
    own row of sums, so results do not depend on the number of threads.
    """
    cs, ws, draws = model.customer_state, model.workspace, model.draws
    deliver, _, satisfy, trust = contexts
    k, n_firms, n_ind = len(model.attributes), model.firm_state.n, len(model.industries)
    const = _constants(model, contexts)
    kernels = const.kernels
    rows_per_task = arrays.CHUNK
    span = rows_per_task * TASKS_PER_SPAN
    # per-span buffers, [industry, position in the span], kept from step to step (a fresh
    # array costs page faults every step)
    width = min(span, max(model.n_customers, 1))
    keep = ws.blocks.array
    z = keep("span_noise", (n_ind, width, k), np.float32)
    hit = keep("span_hit", (n_ind, width), bool)
    unhappy = keep("span_unhappy", (n_ind, width), bool)
    outcome = keep("span_outcome", (n_ind, width), np.int8)
    trust_out = keep("span_trust", (n_ind, width), cs.experience.dtype)
    sums = keep("span_sums", (TASKS_PER_SPAN, n_firms, 3), np.float64)
    noise_on = bool(deliver.noise > 0)
    for lo in range(0, model.n_customers, span):
        hi = min(model.n_customers, lo + span)
        hit[:, : hi - lo] = False
        for rows in chunks(hi - lo, rows_per_task):
            here = slice(lo + rows.start, lo + rows.stop)  # the block, in customers
            for m in range(n_ind):
                sup = cs.supplier[m, here]
                if noise_on:
                    z[m, rows] = draws.normal("noise", m, here, k)
                cand, u = draws.below("failure", m, here, deliver.p_max[m])
                failing = cand[u < deliver.p_fail[sup[cand]]]
                hit[m, rows.start + failing] = True
                deliver.failures += np.bincount(sup[failing], minlength=n_firms)
        sums[...] = 0.0
        # one task, or one thread: the serial kernel (a parallel launch costs a thread wake-up)
        serial = hi - lo <= rows_per_task or kernels.threads() == 1
        (kernels.customer_rows if serial else kernels.customer_phases)(
            lo,
            hi,
            lo if serial else rows_per_task,  # the serial kernel's buffer origin
            sums[0] if serial else sums,
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
            cs.failed,
            ws.failure,
            ws.expectation_used,
            ws.satisfaction_before,
            z,
            noise_on,
            hit,
            const.tables,
            const.disclose,
            const.fail_col,
            const.cross_weight,
            const.den0,
            contexts[1].firm_part,
            satisfy.breach_floor,
            satisfy.retention,
            trust.floor,
            const.c,
            const.d,
            const.curved,
            const.step_scaled,
            scratch.recording,
            trust_out,
            unhappy,
        )
        if scratch.recording:
            for task_sums in sums:  # in task order: the same total on any number of threads
                satisfy.sums += task_sums
        outcome[:, : hi - lo] = kernels.NO_OUTCOME
        for rows in chunks(hi - lo, rows_per_task):
            for m in range(n_ind):
                sup = cs.supplier[m, lo + rows.start : lo + rows.stop]
                who = np.flatnonzero(unhappy[m, rows])
                at = lo + rows.start + who  # customers
                complains = who[draws.uniform("complain", m, at) < trust.complain_p]
                f = sup[complains]
                yes = draws.uniform("answer", m, lo + rows.start + complains) < trust.answer[f]
                outcome[m, rows.start + complains] = np.where(
                    yes, kernels.ANSWERED, kernels.IGNORED
                )
                trust.complaints += np.bincount(f, minlength=n_firms)
                trust.answered += np.bincount(f[yes], minlength=n_firms)
        (kernels.commitment_rows if serial else kernels.commitment_phase)(
            lo,
            hi,
            lo if serial else rows_per_task,
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
            trust.commit_bonus,
            const.c,
            const.d,
        )
