"""The kernels' constants: every phase's, one record per market.

Each phase module with compiled rules states its constants once, as ``constants(P,
steps_per_year)``: a dict of name to ``([B, 1] values, kind)`` computed from the markets'
parameters (``sim.params.stacked``), with kind ``"f"`` (the state's float type: a rule's
arithmetic stays in it), ``"w"`` (float64), ``"b"`` (a switch) or ``"i"`` (an integer).
:func:`build` gathers them into one numpy record array with a row per market, which the kernels
read as ``consts[b].name``. Parameters do not change during a run, so a batch builds it once.

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.params.stacked import StackedParams
from sim.rules import (
    acquisition,
    choice,
    delivery,
    expectations,
    satisfaction,
    switching,
    teaching,
    trust,
    word_of_mouth,
)

__all__ = ["SOURCES", "build"]

SOURCES = (
    delivery,
    expectations,
    satisfaction,
    trust,
    word_of_mouth,
    teaching,
    choice,
    switching,
    acquisition,
)
"""The modules whose ``constants`` the record holds, in field order."""

KINDS = {"w": np.float64, "b": np.bool_, "i": np.int64}


def build(P: StackedParams, steps_per_year: int, float_type: Any) -> np.recarray:
    """``[B]`` records of every phase's constants (the ``"f"`` ones in ``float_type``)."""
    values: dict[str, np.ndarray] = {}
    types: list[tuple[str, Any]] = []
    for module in SOURCES:
        for name, (value, kind) in module.constants(P, steps_per_year).items():
            if name in values:
                raise ValueError(f"constant {name!r} of {module.__name__} is defined twice")
            values[name] = np.broadcast_to(np.asarray(value), (P.n, 1))[:, 0]
            types.append((name, float_type if kind == "f" else KINDS[kind]))
    record = np.zeros(P.n, np.dtype(types)).view(np.recarray)
    for name, _ in types:
        record[name] = values[name]
    return record
