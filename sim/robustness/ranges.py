"""Robustness files and the plausible ranges a robustness run samples.

A robustness file (TOML, optional) says how many worlds and replicates to run, fixed overrides,
and plausible ranges for parameters, adding to or replacing those declared in the schema
(:func:`sim.params.plausible_ranges`)::

    worlds = 128                  # plausible worlds sampled
    replicates = 2                # runs per world (common random numbers across worlds)
    seed = 2027
    # steps = 520                 # default: the scenario's
    hold = ["acquisition.p"]      # keep these at the scenario's value even if they have a range
    # schema_ranges = false       # vary only the ranges below, not the schema's

    [set]                         # fixed overrides for every run
    "market.customers" = 1000

    [ranges]                      # any dotted scenario key: low, high and where it comes from
    "expectations.weight_promise" = { low = 0.1, high = 0.5, source = "free (no empirical basis)" }
    "trust.loss" = [0.1, 0.5]     # or just [low, high]

A parameter with neither a schema range nor one in the file is held at the scenario's value, and
so is one the scenario lists under ``held`` (its set-up on purpose) unless the file's ``[ranges]``
names it.
Every problem is one :class:`RobustnessError` line naming the file, the key and what was expected.
This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.params import FREE, plausible_ranges
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "REPLICATES",
    "WORLDS",
    "Range",
    "RobustnessConfig",
    "RobustnessError",
    "check_int",
    "held_keys",
    "load_config",
    "resolve_ranges",
]

_TOP_KEYS = ("worlds", "replicates", "seed", "steps", "schema_ranges", "hold", "set", "ranges")


class RobustnessError(ScenarioError):
    """A robustness file, posterior or request that cannot be used (file, key, expectation)."""


@dataclass(frozen=True)
class Range:
    """A parameter's plausible range.

    Attributes
    ----------
    key
        Dotted scenario key.
    low, high
        Inclusive bounds.
    source
        Where the range comes from.
    integer
        Round sampled values to whole numbers.
    origin
        ``schema``, the robustness file's path, or ``posterior``.
    """

    key: str
    low: float
    high: float
    source: str = FREE
    integer: bool = False
    origin: str = "schema"


@dataclass
class RobustnessConfig:
    """A robustness file's content (defaults when there is no file)."""

    worlds: int = 128
    replicates: int = 2
    seed: int = 2027
    steps: int | None = None
    schema_ranges: bool = True
    hold: list[str] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)
    ranges: dict[str, Range] = field(default_factory=dict)
    path: Path | None = None

    @property
    def where(self) -> str:
        """How errors name this configuration."""
        return str(self.path) if self.path else "<robustness>"


WORLDS = (8, 100_000)
"""Fewest and most worlds a study may sample."""
REPLICATES = (1, 1000)
"""Fewest and most runs per world."""


def check_int(where: str, key: str, value: Any, low: int, high: int) -> int:
    """``value`` if it is a whole number in ``low..high``, else a :class:`RobustnessError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RobustnessError(
            where, key, f"expected a whole number from {low} to {high}, got {value!r}"
        )
    return value


def _range(where: str, key: str, value: Any, origin: str) -> Range:
    at = f"ranges.{key}" if "." not in key else f'ranges."{key}"'
    source = f"{FREE} (declared in {Path(origin).name})"
    if isinstance(value, list):
        if len(value) != 2:
            raise RobustnessError(where, at, f"expected [low, high], got {value!r}")
        low, high = value
    elif isinstance(value, dict):
        extra = sorted(set(value) - {"low", "high", "source"})
        if extra:
            raise RobustnessError(
                where, at, f"unknown key {extra[0]!r}; expected low, high and source"
            )
        if "low" not in value or "high" not in value:
            raise RobustnessError(where, at, "expected both low and high")
        low, high = value["low"], value["high"]
        source = str(value.get("source", source))
    else:
        raise RobustnessError(
            where,
            at,
            f"expected [low, high] or {{ low = .., high = .., source = .. }}, got {value!r}",
        )
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise RobustnessError(where, at, f"expected a number for {name}, got {v!r}")
        if not math.isfinite(v):
            raise RobustnessError(where, at, f"expected a finite number for {name}, got {v!r}")
    if not low < high:
        raise RobustnessError(where, at, f"expected low < high, got {low} and {high}")
    integer = isinstance(low, int) and isinstance(high, int)
    return Range(key, float(low), float(high), source, integer, origin)


def load_config(
    path: str | Path | None = None, data: dict[str, Any] | None = None
) -> RobustnessConfig:
    """Read and check a robustness file (or its content as ``data``); None gives the defaults.

    Raises
    ------
    RobustnessError
        Every problem of the file at once, one line each naming the file, the key and what
        was expected.
    """
    where = str(path) if path is not None else "<robustness>"
    if data is None:
        if path is None:
            return RobustnessConfig()
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RobustnessError(
                where, "", "file not found; expected a robustness .toml (see docs/robustness.md)"
            ) from None
        except IsADirectoryError:
            raise RobustnessError(where, "", "is a folder; expected a robustness .toml") from None
        except tomllib.TOMLDecodeError as e:
            raise RobustnessError(where, "", f"invalid TOML: {e}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise RobustnessError(where, "", f"cannot read: {e}") from None
    problems: list[tuple[str, str, str]] = []

    def problem(key: str, message: str) -> None:
        problems.append((where, key, message))

    def checked(call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except RobustnessError as e:
            problems.extend(e.problems)
            return None

    for k in data:
        if k not in _TOP_KEYS:
            problem(k, f"unknown key; expected one of: {', '.join(_TOP_KEYS)}")
    cfg = RobustnessConfig(path=Path(path) if path is not None else None)
    bounds = {"worlds": WORLDS, "replicates": REPLICATES, "seed": (0, 2**63 - 1)}
    bounds["steps"] = (1, 10_000_000)
    for key, (low, high) in bounds.items():
        if key in data:
            value = checked(check_int, where, key, data[key], low, high)
            if value is not None:
                setattr(cfg, key, value)
    schema = data.get("schema_ranges", True)
    if not isinstance(schema, bool):
        problem("schema_ranges", f"expected true or false, got {schema!r}")
    else:
        cfg.schema_ranges = schema
    hold = data.get("hold", [])
    if not isinstance(hold, list) or not all(isinstance(h, str) for h in hold):
        problem("hold", f"expected a list of dotted keys, got {hold!r}")
    else:
        cfg.hold = list(hold)
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        problem("set", f"expected a table of dotted keys, got {fixed!r}")
    else:
        cfg.fixed = dict(fixed)
    ranges = data.get("ranges", {})
    if not isinstance(ranges, dict):
        problem("ranges", f"expected a table of dotted keys, got {ranges!r}")
    else:
        for k, v in ranges.items():
            r = checked(_range, where, k, v, where)
            if r is not None:
                cfg.ranges[k] = r
    if problems:
        raise RobustnessError.of(problems)
    return cfg


def _check(scenario: Scenario, where: str, key: str, overrides: dict[str, Any], what: str) -> None:
    try:
        load_scenario(scenario, overrides)
    except ScenarioError as e:
        detail = f"{e.key}: {e.detail}" if e.key and e.key not in e.detail else e.detail
        raise RobustnessError(
            where, key, f"{what} does not apply to scenario {scenario.name!r}: {detail}"
        ) from None


def held_keys(config: RobustnessConfig, scenario: Scenario) -> list[str]:
    """The ranged parameters a study keeps at the scenario's value: the file's ``hold``, and the
    scenario's own ``held`` (its deliberate set-up) less those the file's ``[ranges]`` names."""
    return [*config.hold, *_scenario_held(config, scenario)]


def _scenario_held(config: RobustnessConfig, scenario: Scenario) -> list[str]:
    """The scenario's own ``held`` keys the file neither holds itself nor gives a range."""
    return [k for k in scenario.held if k not in config.ranges and k not in config.hold]


def resolve_ranges(config: RobustnessConfig, scenario: Scenario) -> dict[str, Range]:
    """The ranges to sample for a scenario: the schema's, replaced or extended by the file's,
    less those held (:func:`held_keys`); each bound is checked against the scenario.

    Raises
    ------
    RobustnessError
        Every range or held key that does not apply to the scenario, one line each.
    """
    where = config.where
    schema = plausible_ranges() if config.schema_ranges else {}
    out: dict[str, Range] = {
        k: Range(k, r.low, r.high, r.source, r.integer, "schema") for k, r in schema.items()
    }
    out.update(config.ranges)
    problems: list[tuple[str, str, str]] = []
    for i, key in enumerate(config.hold):
        if key not in out:
            problems.append(
                (
                    where,
                    f"hold[{i}]",
                    f"{key!r} has no range to hold; expected one of {', '.join(out)}",
                )
            )
            continue
        del out[key]
    for key in _scenario_held(config, scenario):
        out.pop(key, None)  # the scenario's own set-up (checked against the schema on loading)
    for key, r in out.items():
        at = f'ranges."{key}"' if r.origin != "schema" else key
        for bound in (r.low, r.high):
            value = round(bound) if r.integer else bound
            try:
                _check(scenario, where, at, {key: value}, f"{key} = {value!r}")
            except RobustnessError as e:
                problems.extend(e.problems)
    if problems:
        raise RobustnessError.of(problems)
    return out
