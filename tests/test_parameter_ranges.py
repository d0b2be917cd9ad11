"""Plausible ranges of behavioural parameters are machine-readable from the schema."""

from __future__ import annotations

import pytest

from sim.params import FREE, P, parameter_range, plausible_ranges


def test_declared_ranges_hold_their_defaults_and_sources() -> None:
    ranges = plausible_ranges()
    assert "satisfaction.loss_aversion" in ranges
    for key, r in ranges.items():
        assert r.key == key
        assert r.low <= r.default <= r.high, key
        assert r.source, key
    lam = ranges["satisfaction.loss_aversion"]
    assert (lam.low, lam.high, lam.default) == (1.0, 3.0, 2.25)
    assert "Tversky" in lam.source and not lam.free
    assert ranges["switching.quality"].free


def test_a_parameter_without_a_range_and_an_unknown_key() -> None:
    assert parameter_range("trust.gain") is None or parameter_range("trust.gain").key
    with pytest.raises(KeyError, match="not a behavioural parameter"):
        parameter_range("market.customers")
    with pytest.raises(KeyError):
        parameter_range("satisfaction.no_such")


def test_a_default_outside_its_range_is_refused_when_the_schema_is_written() -> None:
    with pytest.raises(ValueError, match="outside its range"):
        P(5.0, "x", range=(0.0, 1.0))
    assert FREE.startswith("free")
