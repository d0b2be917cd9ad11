"""Sweep files (``experiments/*.toml``): the schema, loading and validation.

A sweep file names a base scenario, fixed overrides, the parameters to vary and how (a design),
the number of replicates and steps, what to keep of each run and what to analyse. It is
validated with pydantic like a scenario: unknown keys are errors, and every problem is one
:class:`SpecError` line that names the file, the key path and what was expected (in the words of
:mod:`sim.sweep.spec_problems`). Checks that need the scenario (do the parameter keys exist, are
the values allowed) are done by :func:`sim.sweep.plan.build_plan`, which applies them as
overrides to the base scenario.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.scenario import ScenarioError
from sim.scenario_schema import MAX_STEPS
from sim.sweep.spec_problems import At, problems, toml_text
from sim.tomlfile import TomlError, parse_toml

__all__ = [
    "DESIGN_KINDS",
    "RESERVED_COLUMNS",
    "AnalysisSpec",
    "DesignSpec",
    "OutputSpec",
    "ParameterSpec",
    "PointSpec",
    "SpecError",
    "SweepSpec",
    "load_spec",
]

DESIGN_KINDS = ("grid", "list", "lhs", "sobol", "morris")

RESERVED_COLUMNS = frozenset(
    {
        "run_id",
        "point_id",
        "point",
        "replicate",
        "label",
        "status",
        "error",
        "traceback",
        "seconds",
        "attempts",
        "worker",
        "finished",
        "seed_entropy",
        "seed_key",
        "row",
    }
)
"""Column names the store uses itself; a parameter may not be named like one."""


class SpecError(ScenarioError):
    """A sweep file that cannot be used: the message names file, key and expectation."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class ParameterSpec(_Section):
    """One varied parameter: a dotted scenario key and its values or range."""

    key: str = Field(
        description="dotted scenario key, e.g. expectations.weight_promise or "
        "firms.Acme.levers.inflation"
    )
    name: str | None = Field(None, description="column name in the results (default: the key)")
    values: list[Any] | None = Field(
        None, min_length=1, description="grid or list: the values to run"
    )
    low: float | None = Field(None, description="lower end of the range")
    high: float | None = Field(None, description="upper end of the range")
    num: int | None = Field(
        None, ge=2, le=10_000, description="grid: number of evenly spaced values from low to high"
    )
    integer: bool = Field(False, description="round sampled or spaced values to whole numbers")

    @property
    def column(self) -> str:
        """The column name of this parameter in every results table."""
        return self.name or self.key

    @field_validator("values")
    @classmethod
    def _finite_values(cls, v: list[Any] | None) -> list[Any] | None:
        return _finite(v)

    @model_validator(mode="after")
    def _range(self) -> ParameterSpec:
        if (self.low is None) != (self.high is None):
            raise At(
                ("high" if self.high is None else "low",), "expected both low and high, or neither"
            )
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise At(("high",), f"expected high > low ({self.low}), got {self.high}")
        if self.values is not None and self.low is not None:
            raise At(("values",), "expected either values or low/high, not both")
        if self.num is not None and self.low is None:
            raise At(("num",), "num spaces values from low to high; expected low and high too")
        if not self.key.strip():
            raise At(("key",), "expected a dotted scenario key, e.g. market.customers")
        return self


class PointSpec(_Section):
    """One design point of an explicit list: overrides and an optional label."""

    label: str | None = Field(None, description="how the point is shown in tables and charts")
    overrides: dict[str, Any] = Field(
        alias="set", min_length=1, description="dotted scenario keys and their values"
    )

    @field_validator("overrides")
    @classmethod
    def _finite_values(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _finite(v)


class DesignSpec(_Section):
    """How the parameter space is covered."""

    kind: Literal[DESIGN_KINDS] = Field("grid", description="grid, list, lhs, sobol or morris")
    samples: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="lhs: points; sobol: base sample N (a power of 2, "
        "N*(D+2) points); morris: trajectories (r*(D+1) points)",
    )
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels (even)")
    second_order: bool = Field(
        False, description="sobol: also compute second-order indices (N*(2D+2) points)"
    )
    points: list[PointSpec] = Field(default_factory=list, description="list: the points")


class OutputSpec(_Section):
    """What is kept of each run."""

    tables: list[Literal["market", "firms"]] = Field(
        default_factory=lambda: ["market", "firms"],
        min_length=1,
        description="market: one row per kept step; firms: one row per firm per kept step",
    )
    every: int | Literal["final"] = Field(
        1, description="keep every k-th step (the final step is always kept), or 'final'"
    )
    market: list[str] | None = Field(None, description="market columns to keep (default all)")
    firms: list[str] | None = Field(None, description="firm columns to keep (default all)")

    @model_validator(mode="after")
    def _every(self) -> OutputSpec:
        if isinstance(self.every, int) and self.every < 1:
            raise At(("every",), f"expected a whole number >= 1 or 'final', got {self.every}")
        if len(set(self.tables)) != len(self.tables):
            raise At(("tables",), f"expected each table once, got {self.tables}")
        return self


class AnalysisSpec(_Section):
    """What ``cxsim analyze`` summarises."""

    outcomes: list[str] = Field(
        default_factory=lambda: ["retention_annual", "nps", "profit"],
        min_length=1,
        description="market metric (retention_annual), per firm (firms.profit) or one firm "
        "(firms.Acme.profit)",
    )
    at: int | Literal["final"] = Field("final", description="step summarised ('final': last)")
    x: str | None = Field(None, description="parameter along the x axis of the charts")
    y: str | None = Field(None, description="second parameter (lines or heatmap)")


class SweepSpec(_Section):
    """A whole sweep file."""

    name: str = Field(description="short name of the experiment")
    description: str = ""
    scenario: str = Field(
        description="base scenario: a name from scenarios/ or a .toml path "
        "(relative to the sweep file)"
    )
    seed: int = Field(0, ge=0, description="seed of the sweep's SeedSequence")
    replicates: int = Field(1, ge=1, le=100_000, description="runs per design point")
    steps: int | None = Field(
        None, ge=1, le=MAX_STEPS, description="steps per run (default: the scenario's)"
    )
    common_random_numbers: bool = Field(
        False,
        description="replicate r of every point gets the same seed (paired comparisons); "
        "default: each run's seed comes from its own id",
    )
    fixed: dict[str, Any] = Field(
        default_factory=dict,
        alias="set",
        description="overrides applied to the base scenario in every run",
    )
    design: DesignSpec = Field(default_factory=DesignSpec)
    parameters: list[ParameterSpec] = Field(default_factory=list)
    output: OutputSpec = Field(default_factory=OutputSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    _source_path: Path | None = PrivateAttr(None)
    _where: str | None = PrivateAttr(None)
    _flags: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def source_path(self) -> Path | None:
        """The file the spec was read from, if any."""
        return self._source_path

    @property
    def fixed_sources(self) -> dict[str, str]:
        """How the fixed overrides given on the command line are named in messages
        (``{"market.customers": "--customers 3"}``); those of the file are not listed."""
        return dict(self._flags)

    @property
    def where(self) -> str:
        """How errors name this spec: its file as the user named it, or ``<sweep>``."""
        if self._where is not None:
            return self._where
        return str(self._source_path) if self._source_path else "<sweep>"

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        d, params = self.design, self.parameters
        columns = [p.column for p in params]
        for i, p in enumerate(params):
            if p.key in [q.key for q in params[:i]]:
                raise At(("parameters", i, "key"), f"expected each key once, got {p.key!r} twice")
            if p.column in columns[:i]:
                raise At(
                    ("parameters", i, "name"),
                    f"expected a unique name, got {p.column!r} "
                    "twice (set name = ... to tell them apart)",
                )
            if p.column in RESERVED_COLUMNS:
                raise At(
                    ("parameters", i, "name"),
                    f"{p.column!r} is used by the results tables; expected another name",
                )
        if d.kind == "grid":
            if not params:
                raise At(
                    ("parameters",),
                    "a grid design needs at least one [[parameters]] "
                    "table with values = [...] or low, high and num",
                )
            for i, p in enumerate(params):
                if p.values is None and p.num is None:
                    raise At(("parameters", i), "a grid needs values = [...] or low, high and num")
                if p.values is not None and len({_canon(v) for v in p.values}) != len(p.values):
                    raise At(
                        ("parameters", i, "values"), f"expected distinct values, got {p.values}"
                    )
        elif d.kind == "list":
            if not d.points:
                raise At(
                    ("design", "points"),
                    "a list design needs [[design.points]] tables, "
                    'each with set = { "<key>" = <value>, ... }',
                )
            seen: dict[str, int] = {}
            for j, pt in enumerate(d.points):
                c = _canon(pt.overrides)
                if c in seen:
                    raise At(
                        ("design", "points", j, "set"),
                        f"expected a new point; the same as design.points[{seen[c]}]",
                    )
                seen[c] = j
            keys = {k for pt in d.points for k in pt.overrides}
            for i, p in enumerate(params):
                if p.key not in keys:
                    raise At(
                        ("parameters", i, "key"),
                        f"a list design's [[parameters]] only "
                        f"name keys its points set; expected one of {sorted(keys)}",
                    )
                if p.values is not None or p.low is not None:
                    raise At(
                        ("parameters", i),
                        "in a list design the points give the values; expected only key and name",
                    )
        else:
            if not params:
                raise At(
                    ("parameters",), f"a {d.kind} design needs [[parameters]] with low and high"
                )
            for i, p in enumerate(params):
                if p.low is None:
                    raise At(
                        ("parameters", i),
                        f"a {d.kind} design samples a range; expected low and high",
                    )
                if p.num is not None:
                    raise At(
                        ("parameters", i, "num"),
                        f"num is for grids; a {d.kind} design takes design.samples",
                    )
            if d.samples is None:
                what = {
                    "lhs": "points",
                    "sobol": "base sample size N, a power of 2",
                    "morris": "trajectories",
                }[d.kind]
                raise At(("design", "samples"), f"required for a {d.kind} design ({what})")
            if d.kind == "sobol" and d.samples & (d.samples - 1):
                raise At(
                    ("design", "samples"),
                    f"expected a power of 2 (Sobol' sequences converge only then), got {d.samples}",
                )
            if d.kind == "morris" and d.levels % 2:
                raise At(("design", "levels"), f"expected an even number, got {d.levels}")
            if d.kind in ("sobol", "morris") and len(params) < 2:
                raise At(("parameters",), f"a {d.kind} analysis needs at least 2 parameters")
        if d.kind != "list" and d.points:
            raise At(("design", "points"), f"points are for list designs; this is {d.kind}")
        if isinstance(self.output.every, int) and self.steps and self.output.every > self.steps:
            raise At(
                ("output", "every"),
                f"expected at most steps ({self.steps}), got {self.output.every}",
            )
        names = set(columns)
        for key in ("x", "y"):
            value = getattr(self.analysis, key)
            if value is not None and value not in names and value != "label":
                raise At(
                    ("analysis", key),
                    f"expected a parameter name from {sorted(names) or ['label']}, got {value!r}",
                )
        return self

    # -- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, in the file's own key names, None values dropped."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_toml(self) -> str:
        """The spec as TOML text that :func:`load_spec` reads back."""
        return tomli_w.dumps(self.to_dict())

    def with_changes(
        self,
        *,
        replicates: int | None = None,
        steps: int | None = None,
        customers: int | None = None,
        samples: int | None = None,
        fixed: dict[str, Any] | None = None,
        sources: dict[str, str] | None = None,
    ) -> SweepSpec:
        """A copy with command-line changes applied (and validated again).

        Parameters
        ----------
        replicates, steps
            Replace the spec's values.
        customers
            Sets ``market.customers`` in the fixed overrides.
        samples
            Replaces ``design.samples`` (lhs, sobol, morris).
        fixed
            More fixed overrides (``--set KEY=VALUE``).
        sources
            How each key of ``fixed`` is named in messages (``{"network.k": "--set
            network.k=6"}``, :func:`sim.cli.assignment_sources`): a value that does not apply
            to the scenario is then blamed on the flag, not the sweep file.
        """
        data = self.to_dict()
        named: dict[str, str] = {}  # key -> the flag that set it, blamed for its problems
        if replicates is not None:
            data["replicates"] = replicates
            named["replicates"] = f"--replicates {replicates}"
        if steps is not None:
            data["steps"] = steps
            named["steps"] = f"--steps {steps}"
        if samples is not None:
            if self.design.kind not in ("lhs", "sobol", "morris"):
                raise SpecError(
                    f"--samples {samples}",
                    "",
                    f"is for lhs, sobol and morris designs; {self.where}'s design.kind is "
                    f"{self.design.kind}",
                )
            data["design"] = {**data.get("design", {}), "samples": samples}
            named["design.samples"] = f"--samples {samples}"
        extra = dict(fixed or {})
        flags = {**self._flags, **(sources or {})}
        if customers is not None:
            extra["market.customers"] = customers
            flags["market.customers"] = f"--customers {customers}"
        if extra or self.fixed:  # the values themselves: to_dict writes an inf as None
            data["set"] = {**self.fixed, **extra}
        try:
            out = _validate(data, self._source_path, self.where)
        except SpecError as e:
            raise SpecError.of(
                [
                    (named[key], "", message) if key in named else (source, key, message)
                    for source, key, message in e.problems
                ]
            ) from None
        out._flags = {k: v for k, v in flags.items() if k in out.fixed}
        return out


def _finite(value: Any, loc: tuple[Any, ...] = ()) -> Any:
    """``value`` if no number in it (at any depth) is inf or nan, else an :class:`At` at the
    first that is: a design value must be one a run can use, and the spec written to the
    results folder must say it (TOML through JSON would write an inf as nothing)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise At(loc, f"expected a finite number, got {toml_text(value)}")
    if isinstance(value, list | dict):
        for k, v in value.items() if isinstance(value, dict) else enumerate(value):
            _finite(v, (*loc, k))
    return value


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


_MODELS: dict[str, type[BaseModel]] = {
    "": SweepSpec,
    "design": DesignSpec,
    "output": OutputSpec,
    "analysis": AnalysisSpec,
    "parameters": ParameterSpec,
    "points": PointSpec,
}


def _validate(data: dict[str, Any], path: Path | None, where: str) -> SweepSpec:
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError.of([(where, key, msg) for key, msg in problems(err, _MODELS)]) from None
    spec._source_path = path
    spec._where = where if path is not None else None
    return spec


def load_spec(source: str | Path | dict[str, Any] | SweepSpec) -> SweepSpec:
    """Read and validate a sweep file (or plain data, or a spec).

    Parameters
    ----------
    source
        Path of an ``experiments/*.toml`` file, the same content as a dict, or a spec.

    Returns
    -------
    SweepSpec
        The validated spec; ``spec.source_path`` is the file it came from.

    Raises
    ------
    SpecError
        Every problem of the file, one line each naming the file, the key path and what was
        expected.
    """
    if isinstance(source, SweepSpec):
        return source
    if isinstance(source, dict):
        return _validate(copy.deepcopy(source), None, "<sweep>")
    path = Path(source)
    try:
        data = parse_toml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(
            str(path), "", "file not found; expected a sweep .toml (see experiments/)"
        ) from None
    except IsADirectoryError:
        raise SpecError(str(path), "", "is a folder; expected a sweep .toml file") from None
    except TomlError as e:
        raise SpecError(str(path), "", str(e)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(str(path), "", f"cannot read: {e}") from None
    data.setdefault("name", path.stem)
    return _validate(data, path.resolve(), str(path))
