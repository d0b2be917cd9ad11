"""The step phases, one module each, in the order the model runs them.

Each module states its phase's rules once, as compiled functions of one customer (or firm, or
message) whose docstrings carry the equations (``sim.jit``), and applies them to every customer
of every market of a batch (``sim.batch``) in compiled loops; the firm-level parts are numpy on
``[B, F]`` arrays. Phases 2 to 5 (delivery, expectations, satisfaction, trust) touch only a
customer's own state, so one kernel applies all four to each customer in turn
(``sim.rules.fused``); the other phases each run on their own (``apply(batch, scratch)``). Phase
1 (the firms' decisions) is ``sim.rules.decisions``. No phase loops over customers in Python.
Rules never import the UI or the sweep layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.rules import (
    acquisition,
    delivery,
    economics,
    expectations,
    fused,
    satisfaction,
    switching,
    teaching,
    trust,
    word_of_mouth,
)
from sim.state import BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch

Step = Callable[["MarketBatch", BatchScratch], None]

PHASES: tuple[tuple[str, object], ...] = (
    ("delivery", delivery),
    ("expectations", expectations),
    ("satisfaction", satisfaction),
    ("trust", trust),
    ("word_of_mouth", word_of_mouth),
    ("teaching", teaching),
    ("switching", switching),
    ("acquisition", acquisition),
    ("economics", economics),
)
"""``(name, module)`` of every phase after the firms' decisions, in order."""

STEPS: tuple[tuple[str, Step], ...] = (
    ("customers", fused.run),  # phases 2-5, one pass over each customer
    ("word_of_mouth", word_of_mouth.apply),
    ("teaching", teaching.apply),
    ("switching", switching.apply),
    ("acquisition", acquisition.apply),
    ("economics", economics.apply),
)
"""``(name, run)`` of what the step runs after the firms' decisions, in order: phases 2 to 5
together (``"customers"``), then the others one by one."""


def run_phases(
    batch: MarketBatch, scratch: BatchScratch, after: Callable[[str], None] | None = None
) -> None:
    """Run :data:`STEPS` in order; ``after(name)`` is called after each."""
    for name, step in STEPS:
        step(batch, scratch)
        if after is not None:
            after(name)


__all__ = ["PHASES", "STEPS", "run_phases"]
