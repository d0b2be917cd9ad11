"""The step phases, one module each, in the order the model runs them.

Each module exposes ``apply(model, scratch)``: it reads and writes the model's state arrays for all
customers at once (no Python loop over customers or edges) and leaves what later phases and the
metrics need in ``scratch``. Rules never import the UI or the sweep layer.
"""

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

__all__ = ["PHASES"]
