"""Experimental designs: which parameter values a sweep runs.

From a :class:`~sim.sweep.spec.SweepSpec` this builds the design *rows* in order (a full grid, an
explicit list, a Latin hypercube from ``scipy.stats.qmc``, a Sobol'/Saltelli sample from
``SALib.sample.sobol`` or Morris trajectories from ``SALib.sample.morris``) and the distinct
design *points* among them (Morris trajectories may visit a point twice; it is run once). Each
parameter becomes a typed results column (bool, int, float, str, or text for lists and
tables, e.g. a composed strategy, written as
canonical JSON in a text column).

Sampled designs are drawn from a generator seeded by the sweep seed, so the same file always gives
the same design. This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sim.sweep.seeds import canonical, point_id
from sim.sweep.spec import SweepSpec

__all__ = ["Design", "Parameter", "Point", "build_design", "column_type", "format_value"]

ColumnType = Literal["bool", "int", "float", "str", "text"]

_DESIGN_STREAM = 0xD35196
"""Spawn key of the design's own random stream (distinct from every run's)."""


@dataclass(frozen=True)
class Parameter:
    """A varied parameter as a results column."""

    key: str
    column: str
    dtype: ColumnType
    low: float | None = None
    high: float | None = None


@dataclass
class Point:
    """A distinct design point: its overrides, label and typed column values."""

    id: str
    index: int
    overrides: dict[str, Any]
    label: str
    values: dict[str, Any]


@dataclass
class Design:
    """The rows of a design, in order, and the distinct points they map to.

    Attributes
    ----------
    kind
        grid, list, lhs, sobol or morris.
    parameters
        The columns, in spec order.
    points
        Distinct points in first-seen order.
    row_points
        For each design row, the id of its point (SALib's analyses need the rows in order).
    matrix
        Sampled designs: the values actually run, rows x parameters (SALib's ``X``).
    problem
        Sampled designs: the SALib problem (``num_vars``, ``names``, ``bounds``).
    """

    kind: str
    parameters: list[Parameter]
    points: list[Point]
    row_points: list[str]
    matrix: np.ndarray | None = None
    problem: dict[str, Any] | None = field(default=None)

    @property
    def columns(self) -> list[str]:
        """Parameter column names, in spec order."""
        return [p.column for p in self.parameters]

    def point(self, pid: str) -> Point:
        """The point with id ``pid``."""
        return self._by_id[pid]

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.points}


def column_type(values: list[Any]) -> ColumnType:
    """The results column type that holds every value of a parameter."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values):
        return "float"
    if all(isinstance(v, str) for v in values):
        return "str"
    return "text"


def _typed(value: Any, dtype: ColumnType) -> Any:
    if value is None:
        return None
    if dtype == "bool":
        return bool(value)
    if dtype == "int":
        return int(value)
    if dtype == "float":
        return float(value)
    if dtype == "str" or isinstance(value, str):
        return str(value)
    return canonical(value)


def format_value(value: Any) -> str:
    """A short text of a parameter value for labels and legends."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    if isinstance(value, list | tuple):
        return "+".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True) if value else "{}"
    return str(value)


def _tidy(x: float) -> float:
    """Round away floating-point dust (0.30000000000000004 -> 0.3): 12 significant digits."""
    return float(f"{x:.12g}")


def _design_seed(seed: int) -> int:
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(_DESIGN_STREAM,))
    return int(ss.generate_state(1, np.uint32)[0])


def _grid_values(p: Any) -> list[Any]:
    if p.values is not None:
        return list(p.values)
    values = [_tidy(v) for v in np.linspace(p.low, p.high, p.num)]
    if p.integer:
        values = sorted({round(v) for v in values})
    return values


def _sample(spec: SweepSpec) -> tuple[np.ndarray, dict[str, Any]]:
    params, d = spec.parameters, spec.design
    problem = {
        "num_vars": len(params),
        "names": [p.column for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }
    seed = _design_seed(spec.seed)
    if d.kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(params), rng=np.random.default_rng(seed)).random(d.samples)
        x = qmc.scale(unit, [p.low for p in params], [p.high for p in params])
    elif d.kind == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, d.samples, calc_second_order=d.second_order, seed=seed)
    else:
        from SALib.sample import morris

        x = morris.sample(problem, d.samples, num_levels=d.levels, seed=seed)
    x = np.vectorize(_tidy, otypes=[float])(np.asarray(x, float))
    for j, p in enumerate(params):
        if p.integer:
            x[:, j] = np.rint(x[:, j])
    return x, problem


def _label(values: dict[str, Any], columns: list[str]) -> str:
    return ", ".join(f"{c}={format_value(values[c])}" for c in columns)


def build_design(spec: SweepSpec, base_value: Callable[[str], Any] | None = None) -> Design:
    """The design rows and distinct points of a spec.

    Parameters
    ----------
    spec
        A validated sweep spec.
    base_value
        The base scenario's value at a key (``sim.scenario.value_at``): a list design's point
        that does not set a key another point sets shows this value in that key's column (it
        is the value the run has); without it the cell is empty (null).

    Returns
    -------
    Design
        Rows in order (grid: the first parameter varies slowest), distinct points, and for
        sampled designs the matrix and SALib problem.
    """
    d = spec.design
    matrix = problem = None
    if d.kind == "grid":
        keys = [p.key for p in spec.parameters]
        rows = [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(_grid_values(p) for p in spec.parameters))
        ]
        labels = [None] * len(rows)
    elif d.kind == "list":
        rows = [dict(pt.overrides) for pt in d.points]
        labels = [pt.label for pt in d.points]
    else:
        matrix, problem = _sample(spec)
        keys = [p.key for p in spec.parameters]
        rows = [
            {
                k: (int(v) if p.integer else float(v))
                for k, v, p in zip(keys, row, spec.parameters, strict=True)
            }
            for row in matrix
        ]
        labels = [None] * len(rows)

    named = {p.key: p for p in spec.parameters}
    keys_in_order = list(named)
    if d.kind == "list":
        keys_in_order += sorted({k for r in rows for k in r} - set(named))
    if d.kind == "list" and base_value is not None:
        unset = {k for r in rows for k in keys_in_order if k not in r}
        base = {k: base_value(k) for k in unset}
        shown_rows = [{**{k: base[k] for k in unset if k not in r}, **r} for r in rows]
    else:
        shown_rows = rows
    parameters = []
    for key in keys_in_order:
        values = [r.get(key) for r in shown_rows]
        present = [v for v in values if v is not None]
        p = named.get(key)
        parameters.append(
            Parameter(
                key=key,
                column=p.column if p else key,
                dtype=column_type(present),
                low=p.low if p else None,
                high=p.high if p else None,
            )
        )
    varying = [
        p.column for p in parameters if len({canonical(r.get(p.key)) for r in shown_rows}) > 1
    ]
    varying = varying or [p.column for p in parameters]

    points: dict[str, Point] = {}
    row_points = []
    for row, filled, label in zip(rows, shown_rows, labels, strict=True):
        pid = point_id(row)
        if pid not in points:
            values = {p.column: _typed(filled.get(p.key), p.dtype) for p in parameters}
            shown = {p.column: filled.get(p.key) for p in parameters}
            points[pid] = Point(
                id=pid,
                index=len(points),
                overrides=row,
                label=label or _label(shown, varying),
                values=values,
            )
        row_points.append(pid)
    return Design(
        kind=d.kind,
        parameters=parameters,
        points=list(points.values()),
        row_points=row_points,
        matrix=matrix,
        problem=problem,
    )
