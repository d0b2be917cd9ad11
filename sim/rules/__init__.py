"""The step phases, one module each, in the order the model runs them.

Each module states its phase's rules once, as compiled functions of one customer (or firm, or
message) whose docstrings carry the equations (``sim.jit``). Phases 2 to 5 (delivery,
expectations, satisfaction, trust) touch only a customer's own state, so one kernel applies all
four to each customer in turn (``sim.rules.fused``); the other phases each run on their own
(``apply(model, scratch)``). No phase loops over customers in Python. Rules never import the UI
or the sweep layer.
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
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket

Step = Callable[["CustomerMarket", StepScratch], None]

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
    model: CustomerMarket, scratch: StepScratch, after: Callable[[str], None] | None = None
) -> None:
    """Run :data:`STEPS` in order; ``after(name)`` is called after each."""
    for name, step in STEPS:
        step(model, scratch)
        if after is not None:
            after(name)


__all__ = ["PHASES", "STEPS", "run_phases"]
