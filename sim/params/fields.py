"""How a parameter is declared: the field helper ``P`` and the base of every section.

This module must never import anything from the package.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FREE", "NO_RANGE", "P", "Section", "unit_of"]

FREE = "free (no empirical basis)"
"""The ``source`` of a parameter whose plausible range is a modelling choice, not an estimate."""

NO_RANGE: dict[str, str] = {
    "economics.marketing_reference": "a unit: the marketing spend at which acquisition.p "
    "applies unscaled; changing it is the same as changing p, whose range covers it",
    "economics.scale_reference": "a unit: the market share at which each firm's unit_cost is "
    "stated; changing it rescales the scenario's unit costs, whose ranges belong to the scenario",
    "word_of_mouth.complete_graph_max_receivers": "a computational cap on complete graphs "
    "(docs/MODEL.md 7.12), not a behaviour",
}
"""The numeric parameters of :class:`Params` exempt from a plausible range, with the reason.

Every other numeric parameter declares ``range=`` and ``source=`` in its :func:`P` call
(tests/test_parameter_ranges.py fails when one does not). Switches (true/false: all of
``[mechanisms]``, ``switching.enabled``, ``acquisition.enabled``, ``economics.exit_enabled``)
need no range either: they choose the model, they do not describe a market.
"""


def P(
    default: Any,
    description: str,
    unit: str = "",
    *,
    range: tuple[float, float] | None = None,
    source: str | None = None,
    **limits: Any,
) -> Any:
    """A parameter field: default, one-line meaning, unit and limits (ge/le/gt/lt).

    ``range`` is the plausible range ``(lo, hi)`` of a behavioural parameter (narrower than the
    limits, which only say what the code accepts) and ``source`` where it comes from (a
    citation, or :data:`FREE`). Both are machine-readable (:func:`plausible_ranges`): calibration
    takes its default priors from them and robustness samples its worlds from them.
    """
    extra: dict[str, Any] = {"unit": unit}
    if range is not None:
        lo, hi = (float(v) for v in range)
        if not lo <= default <= hi:
            raise ValueError(f"{description!r}: default {default} outside its range {range}")
        extra["range"] = (lo, hi)
        extra["source"] = source or FREE
    elif source is not None:
        extra["source"] = source
    return Field(default, description=description, json_schema_extra=extra, **limits)


def unit_of(model: type[BaseModel], name: str) -> str:
    """The unit declared for field ``name`` of ``model`` ('' when dimensionless)."""
    extra = model.model_fields[name].json_schema_extra
    return extra.get("unit", "") if isinstance(extra, dict) else ""


class Section(BaseModel):
    """Base of every parameter section: unknown keys are errors; assignments are validated; no
    number is infinite or NaN (a price of ``inf`` would pass ``gt=0`` and run to NaN cash)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
