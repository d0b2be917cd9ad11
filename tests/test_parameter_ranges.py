"""Plausible ranges of behavioural parameters are machine-readable from the schema, and every
numeric behavioural parameter has one (or a stated exemption)."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, Field

from sim.params import FREE, NO_RANGE, P, Params, Section, parameter_range, plausible_ranges


def _unranged(params: type[BaseModel]) -> list[str]:
    """Numeric parameters of a Params-like model (one field per section) that declare no
    plausible range and are not exempt in NO_RANGE."""
    missing = []
    for section, part in params.model_fields.items():
        for name, info in part.annotation.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            key = f"{section}.{name}"
            if info.annotation is not bool and "range" not in extra and key not in NO_RANGE:
                missing.append(key)
    return missing


def _limits(key: str) -> tuple[float | None, float | None, bool, bool]:
    section, _, name = key.partition(".")
    info = Params.model_fields[section].annotation.model_fields[name]
    lower = upper = None
    lower_open = upper_open = False
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            lower = meta.ge
        if getattr(meta, "gt", None) is not None:
            lower, lower_open = meta.gt, True
        if getattr(meta, "le", None) is not None:
            upper = meta.le
        if getattr(meta, "lt", None) is not None:
            upper, upper_open = meta.lt, True
    return lower, upper, lower_open, upper_open


def test_every_numeric_behavioural_parameter_has_a_range_or_an_exemption() -> None:
    assert _unranged(Params) == []


def test_the_rule_catches_a_new_parameter_without_a_range() -> None:
    class NewSection(Section):
        ranged: float = P(0.5, "a", range=(0.0, 1.0), source=FREE)
        unranged: float = P(0.5, "b")
        count: int = P(3, "c")
        switch: bool = P(True, "d")

    class NewParams(BaseModel):
        new: NewSection = Field(default_factory=NewSection)

    assert _unranged(NewParams) == ["new.unranged", "new.count"]


def test_exemptions_are_numeric_parameters_without_a_range_and_say_why() -> None:
    for key, reason in NO_RANGE.items():
        assert parameter_range(key) is None, key  # raises KeyError for an unknown key
        section, _, name = key.partition(".")
        assert Params.model_fields[section].annotation.model_fields[name].annotation is not bool
        assert len(reason) > 20, key
    for section, part in Params.model_fields.items():
        for name, info in part.annotation.model_fields.items():
            if info.annotation is bool:
                assert parameter_range(f"{section}.{name}") is None, f"switch {section}.{name}"


def test_declared_ranges_hold_their_defaults_and_sources() -> None:
    ranges = plausible_ranges()
    assert "satisfaction.loss_aversion" in ranges
    for key, r in ranges.items():
        assert r.key == key
        assert r.low < r.high, key
        assert r.low <= r.default <= r.high, key
        assert r.source, key
    lam = ranges["satisfaction.loss_aversion"]
    assert (lam.low, lam.high, lam.default) == (1.0, 3.0, 2.25)
    assert "Tversky" in lam.source and not lam.free
    assert ranges["switching.quality"].free
    assert ranges["complaints.recovery_memory_weeks"].integer
    assert not ranges["complaints.recovery"].integer


def test_ranges_lie_within_the_limits_the_code_accepts() -> None:
    """A plausible range is narrower than the limits, so every value sampled from it loads."""
    for key, r in plausible_ranges().items():
        lower, upper, lower_open, upper_open = _limits(key)
        if lower is not None:
            assert r.low > lower if lower_open else r.low >= lower, key
        if upper is not None:
            assert r.high < upper if upper_open else r.high <= upper, key


def test_a_source_is_a_citation_with_a_year_or_is_marked_free() -> None:
    ranges = plausible_ranges()
    for key, r in ranges.items():
        if r.free:
            assert r.source == FREE or r.source.startswith(FREE + "; "), key
        else:
            assert re.search(r"[A-Z][a-z]+.* (19|20)\d\d\b", r.source), key
    sourced = {key: r.source for key, r in ranges.items() if not r.free}
    # The published anchors (docs/MODEL.md, the Source column), with their numbers.
    assert "2.25" in sourced["satisfaction.loss_aversion"]
    assert "0.88" in sourced["satisfaction.curvature"]
    assert "0.03" in sourced["acquisition.p"] and "Sultan" in sourced["acquisition.p"]
    assert "0.38" in sourced["acquisition.q"] and "Sultan" in sourced["acquisition.q"]
    assert "-2.62" in sourced["switching.price"]
    assert ".12" in sourced["acquisition.marketing_elasticity"]
    # Free ranges are the majority: the model is mostly unfitted, and the tables say so.
    assert sum(r.free for r in ranges.values()) > len(sourced)


def test_a_parameter_without_a_range_and_an_unknown_key() -> None:
    assert parameter_range("economics.marketing_reference") is None
    assert parameter_range("switching.enabled") is None
    assert parameter_range("trust.gain") is not None
    with pytest.raises(KeyError, match="not a behavioural parameter"):
        parameter_range("market.customers")
    with pytest.raises(KeyError):
        parameter_range("satisfaction.no_such")


def test_a_default_outside_its_range_is_refused_when_the_schema_is_written() -> None:
    with pytest.raises(ValueError, match="outside its range"):
        P(5.0, "x", range=(0.0, 1.0))
    assert FREE.startswith("free")
