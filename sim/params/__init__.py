"""Behavioural parameters of the model, one pydantic model per step phase.

Every coefficient of every rule lives here with its default, unit, limits and a one-line
meaning, and every behavioural one with its plausible range and where that comes from (a
citation, or :data:`FREE`; :data:`NO_RANGE` lists the few numeric parameters exempt). These
classes are the single source for scenario validation, for the parameter tables in
docs/MODEL.md (``python -m sim.docs``), for the UI's controls and for the ranges that
calibration and robustness sample (:func:`plausible_ranges`). Adaptation rates are given
*per week* and converted to the model's step length; hazards and money flows are *per year*.

Sections live in submodules by concern (``customers``, ``talk``, ``choice``, ``firms``,
``mechanisms``); ``fields`` declares how a parameter is written. This package must never
import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from sim.params.choice import AcquisitionParams, SwitchingParams
from sim.params.customers import (
    ComplaintParams,
    DeliveryParams,
    ExpectationParams,
    SatisfactionParams,
    TrustParams,
)
from sim.params.fields import FREE, NO_RANGE, P, Section, unit_of
from sim.params.firms import DisclosureParams, EconomicsParams, RetentionParams
from sim.params.mechanisms import MechanismParams
from sim.params.talk import ReviewParams, TeachingParams, WordOfMouthParams

__all__ = [
    "FREE",
    "NO_RANGE",
    "AcquisitionParams",
    "ComplaintParams",
    "DeliveryParams",
    "DisclosureParams",
    "EconomicsParams",
    "ExpectationParams",
    "MechanismParams",
    "P",
    "ParameterRange",
    "Params",
    "RetentionParams",
    "ReviewParams",
    "SatisfactionParams",
    "Section",
    "SwitchingParams",
    "TeachingParams",
    "TrustParams",
    "WordOfMouthParams",
    "parameter_range",
    "plausible_ranges",
    "unit_of",
]


@dataclass(frozen=True)
class ParameterRange:
    """The plausible range of one behavioural parameter and where it comes from.

    Attributes
    ----------
    key
        The scenario key, e.g. ``"satisfaction.loss_aversion"``.
    low, high
        The plausible range (inclusive).
    default
        The schema's default.
    source
        A citation, or ``"free (no empirical basis)"`` (:data:`FREE`).
    unit
        The unit of the value ('' when dimensionless).
    integer
        The parameter takes whole numbers.
    """

    key: str
    low: float
    high: float
    default: float
    source: str
    unit: str = ""
    integer: bool = False

    @property
    def free(self) -> bool:
        """The range is a modelling choice, not an empirical estimate."""
        return self.source.startswith(FREE)


def parameter_range(key: str) -> ParameterRange | None:
    """The plausible range of the behavioural parameter ``key`` (``"section.name"``), or None
    when the schema declares none for it.

    Raises
    ------
    KeyError
        ``key`` is not a behavioural parameter.
    """
    section, _, name = key.partition(".")
    part = Params.model_fields.get(section)
    if part is None or not name or name not in part.annotation.model_fields:
        raise KeyError(f"{key!r} is not a behavioural parameter (section.name of [params])")
    info = part.annotation.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "range" not in extra:
        return None
    lo, hi = extra["range"]
    return ParameterRange(
        key=key,
        low=float(lo),
        high=float(hi),
        default=float(info.default),
        source=str(extra.get("source", FREE)),
        unit=str(extra.get("unit", "")),
        integer=info.annotation is int,
    )


def plausible_ranges() -> dict[str, ParameterRange]:
    """Every behavioural parameter with a declared plausible range, by scenario key, in schema
    order (section by section)."""
    out: dict[str, ParameterRange] = {}
    for section, part in Params.model_fields.items():
        for name in part.annotation.model_fields:
            found = parameter_range(f"{section}.{name}")
            if found is not None:
                out[found.key] = found
    return out


class Params(Section):
    """All behavioural parameters, one section per step phase."""

    delivery: DeliveryParams = Field(default_factory=DeliveryParams)
    expectations: ExpectationParams = Field(default_factory=ExpectationParams)
    satisfaction: SatisfactionParams = Field(default_factory=SatisfactionParams)
    trust: TrustParams = Field(default_factory=TrustParams)
    complaints: ComplaintParams = Field(default_factory=ComplaintParams)
    word_of_mouth: WordOfMouthParams = Field(default_factory=WordOfMouthParams)
    reviews: ReviewParams = Field(default_factory=ReviewParams)
    switching: SwitchingParams = Field(default_factory=SwitchingParams)
    acquisition: AcquisitionParams = Field(default_factory=AcquisitionParams)
    economics: EconomicsParams = Field(default_factory=EconomicsParams)
    retention: RetentionParams = Field(default_factory=RetentionParams)
    teaching: TeachingParams = Field(default_factory=TeachingParams)
    disclosure: DisclosureParams = Field(default_factory=DisclosureParams)
    mechanisms: MechanismParams = Field(default_factory=MechanismParams)
