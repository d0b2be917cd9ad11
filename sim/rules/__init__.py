"""The step phases, one module each, in the order the model runs them.

Each module exposes ``apply(model, scratch)``: it reads and writes the model's state arrays for all
customers at once (no Python loop over customers or edges) and leaves what later phases and the
metrics need in ``scratch``. Rules never import the UI or the sweep layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.rules import (
    acquisition,
    delivery,
    economics,
    expectations,
    satisfaction,
    switching,
    trust,
    word_of_mouth,
)
from sim.rules.fused import run_in_blocks
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket

PHASES = (
    ("delivery", delivery.apply),
    ("expectations", expectations.apply),
    ("satisfaction", satisfaction.apply),
    ("trust", trust.apply),
    ("word_of_mouth", word_of_mouth.apply),
    ("switching", switching.apply),
    ("acquisition", acquisition.apply),
    ("economics", economics.apply),
)
"""``(name, apply)`` of every phase after the firms' decisions, in order."""

BLOCKED = (delivery, expectations, satisfaction, trust)
"""The per-customer phases at the head of ``PHASES``, which the step runs block by block."""


def run_phases(
    model: CustomerMarket, scratch: StepScratch, after: Callable[[str], None] | None = None
) -> None:
    """Run ``PHASES`` in order, the first ones (``BLOCKED``) fused block by block
    (``sim.rules.fused``); ``after(name)`` is called after each phase."""
    run_in_blocks(model, scratch, BLOCKED)
    for name, phase in PHASES:
        if name not in _BLOCKED_NAMES:
            phase(model, scratch)
        if after is not None:
            after(name)


_BLOCKED_NAMES = frozenset(name for name, _ in PHASES[: len(BLOCKED)])

__all__ = ["BLOCKED", "PHASES", "run_phases"]
