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
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import chunks, firm_table
from sim.state import StepScratch

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
    """Run ``phases`` (modules with ``prepare``/``block``/``finish``) block by block, in order."""
    contexts = []
    for phase in phases:  # firm-level values, in phase order (trust uses delivery's load)
        contexts.append(phase.prepare(model, scratch))
    for rows in chunks(model.n_customers):
        block = Block(model, rows)
        for phase, context in zip(phases, contexts, strict=True):
            phase.block(model, scratch, context, block)
    for phase, context in zip(phases, contexts, strict=True):
        phase.finish(model, scratch, context)
