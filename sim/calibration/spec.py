"""The calibration file: which parameters are unknown (and their priors), what to match, budget.

A TOML file::

    [calibration]
    seed = 1                    # same file, data and seed: the same posterior, on any executor
    series = ["survival", "nps"]  # series of the data to match (default: all of them)
    population = 200            # particles per ABC-SMC generation
    generations = 6             # at most this many generations after the prior sample
    max_simulations = 5000      # start no generation once this many model runs were used
    min_epsilon = 0.0           # stop once the acceptance distance falls to this
    predictive = 60             # posterior predictive runs for the bands

    [set]                       # fixed scenario changes for every run (e.g. a smaller market)
    "market.customers" = 1000

    [parameters."satisfaction.loss_aversion"]   # no prior given: the schema's plausible range

    [parameters."switching.intercept"]
    prior = "uniform"           # uniform | loguniform | normal
    low = -4.0
    high = 0.0

    [parameters."firms.Acme.levers.inflation"]
    prior = "normal"
    mean = 0.2
    sd = 0.1
    low = 0.0                   # optional cut of a normal
    high = 1.0
    source = "our 2025 survey"  # optional, information only: recorded, changes no run

The ``calibration.toml`` a calibration writes in its folder (:meth:`CalibrationSpec.to_dict`)
is such a file: its settings after the command line's overrides, ``[set]``, and every prior
spelled out with its ``source`` (``"schema: <citation>"`` for a range the schema declares).
Read back with the same scenario it is the same calibration, to the same
:meth:`~CalibrationSpec.fit_hash`.

Every problem is one :class:`~sim.calibration.errors.CalibrationFileError` naming the file and
the key. Keys are checked against the scenario (a key it does not have, a prior reaching outside
what it accepts).

This module never imports the model, the sweep layer or the UI.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.calibration.data import SERIES
from sim.calibration.errors import CalibrationFileError
from sim.calibration.priors import FORMS, Prior
from sim.params import parameter_range
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["CalibrationSpec", "load_calibration"]

SETTINGS = {
    "seed": (int, 0),
    "series": (list, None),
    "population": (int, 200),
    "generations": (int, 6),
    "max_simulations": (int, 5000),
    "min_epsilon": (float, 0.0),
    "predictive": (int, 60),
}
"""``[calibration]`` keys with their types and defaults."""

PRIOR_KEYS = {"prior", "low", "high", "mean", "sd", "source"}
"""Keys of a ``[parameters."key"]`` table (``source`` is information only)."""


@dataclass
class CalibrationSpec:
    """A checked calibration file.

    Attributes
    ----------
    priors
        One per unknown parameter, in file order.
    seed, population, generations, max_simulations, min_epsilon, predictive
        See the module docstring.
    series
        Series of the data to match (None: all).
    fixed
        Scenario overrides applied to every run (``[set]``).
    source
        The file ('<calibration>' for a dict).
    """

    priors: list[Prior]
    seed: int = 0
    series: list[str] | None = None
    population: int = 200
    generations: int = 6
    max_simulations: int = 5000
    min_epsilon: float = 0.0
    predictive: int = 60
    fixed: dict[str, Any] = field(default_factory=dict)
    source: str = "<calibration>"

    @property
    def keys(self) -> list[str]:
        """The unknown parameters' scenario keys."""
        return [p.key for p in self.priors]

    def to_dict(self) -> dict[str, Any]:
        """The calibration file of this calibration, priors spelled out
        (:meth:`Prior.to_dict <sim.calibration.priors.Prior.to_dict>`): what a calibration
        writes as ``calibration.toml`` and :func:`load_calibration` reads back."""
        settings: dict[str, Any] = {
            "seed": self.seed,
            "population": self.population,
            "generations": self.generations,
            "max_simulations": self.max_simulations,
            "min_epsilon": self.min_epsilon,
            "predictive": self.predictive,
        }
        if self.series is not None:
            settings["series"] = list(self.series)
        out: dict[str, Any] = {"calibration": settings}
        if self.fixed:
            out["set"] = dict(self.fixed)
        out["parameters"] = {p.key: p.to_dict() for p in self.priors}
        return out

    def fit_hash(self) -> str:
        """SHA-256 of what decides the posterior: not ``predictive``, nor a prior's
        ``source``."""
        data = self.to_dict()
        data["calibration"].pop("predictive", None)
        for entry in data["parameters"].values():
            entry.pop("source")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def with_changes(self, **changes: Any) -> CalibrationSpec:
        """A copy with settings replaced (e.g. a smaller budget from the command line)."""
        data = {**self.__dict__, **{k: v for k, v in changes.items() if v is not None}}
        return CalibrationSpec(**data)


def _typed(where: str, key: str, value: Any, kind: type) -> Any:
    if kind is int:
        # a whole float (``20.0``) is a whole number, as in a scenario (sim.scenario_types)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise CalibrationFileError(where, key, f"expected a whole number, got {value!r}")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CalibrationFileError(where, key, f"expected a number, got {value!r}")
        return float(value)
    if kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise CalibrationFileError(where, key, f"expected a list of names, got {value!r}")
    return value


def _number(where: str, key: str, raw: dict[str, Any], name: str) -> float:
    if name not in raw:
        return math.nan
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationFileError(where, f"{key}.{name}", f"expected a number, got {value!r}")
    return float(value)


def _current_value(scenario: Scenario, key: str) -> Any:
    """The scenario's value at a dotted key (None when it has none there yet)."""
    from sim.scenario import apply_overrides

    data = scenario.to_dict()
    marker = object()
    probe = apply_overrides(data, {key: marker})
    # walk both trees to the marker: the value in ``data`` at the same place
    node: Any = data
    pnode: Any = probe
    path: list[Any] = []

    def find(a: Any, b: Any) -> bool:
        if b is marker:
            return True
        if isinstance(b, dict):
            for k, v in b.items():
                path.append(k)
                if find(a.get(k) if isinstance(a, dict) else None, v):
                    return True
                path.pop()
        if isinstance(b, list):
            for i, v in enumerate(b):
                path.append(i)
                if find(a[i] if isinstance(a, list) and i < len(a) else None, v):
                    return True
                path.pop()
        return False

    find(node, pnode)
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _prior(where: str, key: str, raw: Any, scenario: Scenario) -> Prior:
    label = f"parameters.{key!r}" if "." in key else f"parameters.{key}"
    if not isinstance(raw, dict):
        raise CalibrationFileError(
            where, label, f"expected a table (prior, low, high, ...), got {raw!r}"
        )
    extra = sorted(set(raw) - PRIOR_KEYS)
    if extra:
        raise CalibrationFileError(
            where, f"{label}.{extra[0]}", f"unknown key; expected some of {sorted(PRIOR_KEYS)}"
        )
    try:
        schema = parameter_range(key)
        is_param = True
    except KeyError:
        schema, is_param = None, False
    current = _current_value(scenario, key)
    integer = isinstance(current, int) and not isinstance(current, bool)
    if schema is not None:
        integer = schema.integer
    form = raw.get("prior")
    source = raw.get("source", "calibration file")
    if not isinstance(source, str):
        raise CalibrationFileError(
            where, f"{label}.source", f"expected text (where the prior comes from), got {source!r}"
        )
    low, high = _number(where, label, raw, "low"), _number(where, label, raw, "high")
    mean, sd = _number(where, label, raw, "mean"), _number(where, label, raw, "sd")
    if form is None:
        if set(raw) & PRIOR_KEYS:
            raise CalibrationFileError(
                where, f"{label}.prior", f"missing; expected one of {', '.join(FORMS)}"
            )
        if schema is None:
            why = (
                "the schema declares no plausible range for it"
                if is_param
                else "it is not a parameter of [params] with a plausible range"
            )
            raise CalibrationFileError(
                where,
                label,
                f'{why}; expected a prior here, e.g. prior = "uniform", low = ..., high = ...',
            )
        prior = Prior(
            key,
            "uniform",
            schema.low,
            schema.high,
            source=f"schema: {schema.source}",
            integer=integer,
        )
    else:
        if form not in FORMS:
            raise CalibrationFileError(
                where, f"{label}.prior", f"expected one of {', '.join(FORMS)}, got {form!r}"
            )
        if form in ("uniform", "loguniform"):
            for name, v in (("low", low), ("high", high)):
                if math.isnan(v):
                    raise CalibrationFileError(
                        where, f"{label}.{name}", f"missing; a {form} prior needs low and high"
                    )
            if not low < high:
                raise CalibrationFileError(
                    where, f"{label}.high", f"expected high > low ({low:g}), got {high:g}"
                )
            if form == "loguniform" and low <= 0:
                raise CalibrationFileError(
                    where, f"{label}.low", f"a loguniform prior needs low > 0, got {low:g}"
                )
            prior = Prior(key, form, low, high, source=source, integer=integer)
        else:
            if math.isnan(mean) or math.isnan(sd):
                raise CalibrationFileError(
                    where,
                    f"{label}.{'mean' if math.isnan(mean) else 'sd'}",
                    "missing; a normal prior needs mean and sd",
                )
            if sd <= 0:
                raise CalibrationFileError(where, f"{label}.sd", f"expected sd > 0, got {sd:g}")
            lo = -math.inf if math.isnan(low) else low
            hi = math.inf if math.isnan(high) else high
            if not lo < mean < hi:
                raise CalibrationFileError(
                    where, f"{label}.mean", f"expected mean inside low..high, got {mean:g}"
                )
            prior = Prior(key, "normal", lo, hi, mean=mean, sd=sd, source=source, integer=integer)
    _check_reach(where, label, prior, scenario)
    return prior


def _check_reach(where: str, label: str, prior: Prior, scenario: Scenario) -> None:
    """The scenario must accept the prior's ends (or its 99.9% interval for a normal)."""
    lo, hi = prior.low, prior.high
    if not math.isfinite(lo) or not math.isfinite(hi):
        qlo, qhi = prior.scipy().interval(0.999)
        lo = lo if math.isfinite(lo) else float(qlo)
        hi = hi if math.isfinite(hi) else float(qhi)
    for name, value in (("low", lo), ("high", hi)):
        v = round(value) if prior.integer else value
        try:
            load_scenario(scenario, {prior.key: v})
        except ScenarioError as e:
            detail = e.detail if e.key else str(e)
            raise CalibrationFileError(
                where,
                f"{label}.{name}" if prior.form != "normal" or name in ("low", "high") else label,
                f"the scenario does not accept {prior.key} = {v:g} ({detail})",
            ) from None


def load_calibration(source: str | Path | dict[str, Any], scenario: Scenario) -> CalibrationSpec:
    """Read and check a calibration file against the scenario it calibrates.

    Parameters
    ----------
    source
        A TOML file, or its content as a dict.
    scenario
        The base scenario (keys and prior ends are checked on it).

    Raises
    ------
    CalibrationFileError
        One line naming the file and the key.
    """
    if isinstance(source, dict):
        where, data = "<calibration>", source
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise CalibrationFileError(where, "", "no such file; expected a calibration TOML")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise CalibrationFileError(where, "", f"not valid TOML ({e})") from None
    unknown = sorted(set(data) - {"calibration", "set", "parameters"})
    if unknown:
        raise CalibrationFileError(
            where, unknown[0], "unknown table; expected [calibration], [set] and [parameters]"
        )
    settings = data.get("calibration", {})
    if not isinstance(settings, dict):
        raise CalibrationFileError(where, "calibration", "expected a table")
    values: dict[str, Any] = {}
    for key, raw in settings.items():
        if key not in SETTINGS:
            raise CalibrationFileError(
                where, f"calibration.{key}", f"unknown key; expected some of {sorted(SETTINGS)}"
            )
        values[key] = _typed(where, f"calibration.{key}", raw, SETTINGS[key][0])
    for key in ("population", "generations", "max_simulations"):
        if key in values and values[key] < 1:
            raise CalibrationFileError(
                where, f"calibration.{key}", f"expected at least 1, got {values[key]}"
            )
    if values.get("population", 200) < 10:
        raise CalibrationFileError(
            where, "calibration.population", f"expected at least 10, got {values['population']}"
        )
    if values.get("predictive", 60) < 0 or values.get("seed", 0) < 0:
        bad = "predictive" if values.get("predictive", 60) < 0 else "seed"
        raise CalibrationFileError(where, f"calibration.{bad}", "expected a number >= 0")
    if values.get("min_epsilon", 0.0) < 0:
        raise CalibrationFileError(where, "calibration.min_epsilon", "expected a number >= 0")
    for s in values.get("series") or []:
        if s not in SERIES:
            raise CalibrationFileError(
                where, "calibration.series", f"expected names from {', '.join(SERIES)}, got {s!r}"
            )
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        raise CalibrationFileError(where, "set", "expected a table of scenario keys and values")
    try:
        base = load_scenario(scenario, fixed) if fixed else scenario
    except ScenarioError as e:
        raise CalibrationFileError(where, f"set.{e.key}" if e.key else "set", e.detail) from None
    params = data.get("parameters", {})
    if not isinstance(params, dict) or not params:
        raise CalibrationFileError(
            where,
            "parameters",
            "expected at least one unknown parameter, e.g. "
            '[parameters."satisfaction.loss_aversion"]',
        )
    priors = [_prior(where, key, raw, base) for key, raw in _flatten(params).items()]
    clash = sorted(set(fixed) & {p.key for p in priors})
    if clash:
        raise CalibrationFileError(
            where, f"set.{clash[0]}", "is also an unknown parameter; expected it in one place"
        )
    return CalibrationSpec(priors=priors, fixed=dict(fixed), source=where, **values)


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[parameters.satisfaction.loss_aversion]`` (unquoted) nests; flatten to dotted keys."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value and not (set(value) & PRIOR_KEYS):
            nested = all(isinstance(v, dict) for v in value.values())
            if nested:
                out.update(_flatten(value, f"{full}."))
                continue
        out[full] = value
    return out
