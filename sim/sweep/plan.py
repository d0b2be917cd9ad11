"""From a sweep spec to the list of runs: base scenario, checks against it, seeds, the hash.

:func:`build_plan` resolves the base scenario (relative to the sweep file, then the scenario
search path), applies the fixed overrides, checks every parameter by applying its values as
overrides to the base scenario and validating (so a misspelt key or an out-of-range value is
reported before anything runs, naming the sweep file and key), checks the kept columns and the
analysis outcomes, and lists one :class:`~sim.sweep.worker.RunTask` per design point and
replicate with its id and seed.

The plan's ``sweep_hash`` covers everything that changes the numbers (resolved base scenario,
design, replicates, steps, seeds, what is kept) but not the name, description or analysis
section, so those may be edited without invalidating results. This module never imports the UI
or an executor.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sim.codehash import model_code_hash
from sim.columns import FIRM_COLUMNS
from sim.scenario import (
    Scenario,
    ScenarioError,
    find_scenario,
    load_scenario,
    network_kind,
    scenario_hash,
    unused_network_keys,
    value_at,
)
from sim.sweep.design import Design, build_design
from sim.sweep.outcomes import Outcome, market_metric_names, parse_outcome
from sim.sweep.seeds import canonical, run_ids, seed_key
from sim.sweep.spec import SpecError, SweepSpec, load_spec
from sim.sweep.spec_problems import plain_words, toml_text
from sim.sweep.worker import FIRM_KEYS, MARKET_KEYS, OutputPlan, RunTask

__all__ = ["FORMAT", "Plan", "build_plan", "kept_steps"]

FORMAT = "cxsim-sweep/1"
"""Version of the results folder layout (in the manifest and the hash)."""

CHECK_ALL_POINTS_MAX = 400
"""Designs with at most this many points have every point validated against the scenario."""


@dataclass
class Plan:
    """A sweep ready to run.

    Attributes
    ----------
    spec
        The validated spec.
    scenario
        Base scenario with the fixed overrides (and the recording interval) applied.
    scenario_path
        The scenario file, if any.
    steps
        Steps per run.
    design
        Points and rows.
    tasks
        One per run, in design order then replicate.
    output
        What each run keeps.
    outcomes
        The analysis outcomes, parsed.
    sweep_hash
        Identity of the results (see the module docstring).
    identity
        What the hash covers, as data (the manifest keeps it to say what changed).
    """

    spec: SweepSpec
    scenario: Scenario
    scenario_path: Path | None
    steps: int
    design: Design
    tasks: list[RunTask]
    output: OutputPlan
    outcomes: list[Outcome]
    sweep_hash: str
    identity: dict[str, Any]

    @property
    def firm_names(self) -> list[str]:
        """Names of the scenario's firms."""
        return [f.name for f in self.scenario.firms]


def kept_steps(steps: int, every: int | None) -> set[int]:
    """Steps whose rows a run keeps: multiples of ``every`` and the final step."""
    kept = {steps}
    if every is not None:
        kept |= set(range(every, steps + 1, every))
    return kept


def _resolve_scenario(spec: SweepSpec) -> tuple[Scenario, Path | None]:
    where = spec.where
    name = Path(spec.scenario)
    try:
        if name.suffix == ".toml" or len(name.parts) > 1:  # a path: relative to the sweep file
            base = spec.source_path.parent if spec.source_path else None
            path = find_scenario(name, relative_to=base)
        else:  # a name: the scenario search path (never the sweep file's own folder)
            path = find_scenario(name)
    except ScenarioError as e:
        raise SpecError(where, "scenario", f"{spec.scenario!r}: {e.detail}") from None
    try:
        return load_scenario(path), path
    except ScenarioError as e:
        raise SpecError(
            where, "scenario", f"{spec.scenario!r} is not a valid scenario: {e}"
        ) from None


def _check(
    base: Scenario, overrides: dict[str, Any], where: str, key: str, what: str
) -> list[tuple[str, str, str]]:
    """The problem of applying ``overrides`` to the scenario, as ``[(where, key, message)]``
    (empty when they apply)."""
    try:
        load_scenario(base, overrides)
    except ScenarioError as e:
        detail = plain_words(e.detail)
        detail = f"{e.key}: {detail}" if e.key else detail
        return [(where, key, f"{what} does not apply to scenario {base.name!r}: {detail}")]
    return []


def _check_design(spec: SweepSpec, base: Scenario, design: Design) -> None:
    """Every value of the design checked against the scenario; a :class:`SpecError` with a
    line per value that does not apply."""
    where = spec.where
    problems: list[tuple[str, str, str]] = []
    if spec.design.kind == "list":
        for j, pt in enumerate(spec.design.points):
            problems += _check(
                base, dict(pt.overrides), where, f"design.points[{j}].set", canonical(pt.overrides)
            )
    else:
        for i, p in enumerate(spec.parameters):
            if p.values is not None:
                for j, v in enumerate(p.values):
                    at, what = f"parameters[{i}].values[{j}]", f"{p.key} = {toml_text(v)}"
                    problems += _check(base, {p.key: v}, where, at, what)
            else:
                lo, hi = (round(p.low), round(p.high)) if p.integer else (p.low, p.high)
                for end, value in (("low", lo), ("high", hi)):
                    at, what = f"parameters[{i}].{end}", f"{p.key} = {toml_text(value)}"
                    problems += _check(base, {p.key: value}, where, at, what)
        if not problems and len(design.points) <= CHECK_ALL_POINTS_MAX and len(spec.parameters) > 1:
            for pt in design.points:
                problems += _check(base, pt.overrides, where, "parameters", f"the point {pt.label}")
                if problems:  # one is enough: the points combine values already checked
                    break
    if problems:
        raise SpecError.of(problems)


def _check_network_keys(spec: SweepSpec, base: Scenario, design: Design) -> None:
    """Refuse a ``[network]`` key no run uses (``sim.scenario_network.unused_network_keys``): fixed
    (``[set]``, ``--set``) or varied while no run's network kind uses it, or set by a point of a
    list whose kind does not. A sweep that varies ``network.kind`` may set each kind's keys."""
    where, flags = spec.where, spec.fixed_sources
    problems: list[tuple[str, str, str]] = []
    if spec.design.kind == "list":
        for j, pt in enumerate(spec.design.points):
            kind = network_kind(pt.overrides, base.network.kind)
            for key, message in unused_network_keys(pt.overrides, {kind}):
                problems.append((where, f'design.points[{j}].set."{key}"', message))
    kinds = {network_kind(pt.overrides, base.network.kind) for pt in design.points}
    for key, message in unused_network_keys(spec.fixed, kinds):
        at = (flags[key], key) if key in flags else (where, f'set."{key}"')
        problems.append((*at, message))
    if spec.design.kind != "list":
        for i, p in enumerate(spec.parameters):
            for _, message in unused_network_keys({p.key: None}, kinds):
                problems.append((where, f"parameters[{i}].key", message))
    if problems:
        raise SpecError.of(problems)


def _output_plan(spec: SweepSpec, base: Scenario, steps: int) -> OutputPlan:
    out, where = spec.output, spec.where
    market_allowed = market_metric_names(base.market.industries)
    firm_allowed = [c for c in FIRM_COLUMNS if c not in FIRM_KEYS]
    checked: dict[str, tuple[str, ...] | None] = {}
    for table, allowed, keys in (
        ("market", market_allowed, MARKET_KEYS),
        ("firms", firm_allowed, FIRM_KEYS),
    ):
        columns = getattr(out, table)
        if columns is None:
            checked[table] = None
            continue
        for j, c in enumerate(columns):
            if c not in allowed and c not in keys:
                raise SpecError(
                    where,
                    f"output.{table}[{j}]",
                    f"expected a {table} column ({', '.join(allowed)}), got {c!r}",
                )
        checked[table] = tuple(c for c in columns if c not in keys)
    every = None if out.every == "final" else int(out.every)
    if every is not None and every > steps:
        raise SpecError(
            where, "output.every", f"expected at most the steps per run ({steps}), got {every}"
        )
    return OutputPlan(
        tables=tuple(out.tables),
        every=every,
        market_columns=checked["market"],
        firm_columns=checked["firms"],
    )


def _outcomes(spec: SweepSpec, base: Scenario, output: OutputPlan, steps: int) -> list[Outcome]:
    where, firms = spec.where, [f.name for f in base.firms]
    outcomes = []
    for j, text in enumerate(spec.analysis.outcomes):
        try:
            o = parse_outcome(text, firms, base.market.industries)
        except ValueError as e:
            raise SpecError(where, f"analysis.outcomes[{j}]", str(e)) from None
        if o.table not in output.tables:
            raise SpecError(
                where,
                f"analysis.outcomes[{j}]",
                f"{text!r} needs the {o.table} "
                f"table; expected it in output.tables ({list(output.tables)})",
            )
        kept = output.market_columns if o.table == "market" else output.firm_columns
        if kept is not None and o.metric not in kept:
            raise SpecError(
                where,
                f"analysis.outcomes[{j}]",
                f"{text!r} needs the column {o.metric!r}; expected it in output.{o.table}",
            )
        outcomes.append(o)
    at = spec.analysis.at
    if at != "final" and int(at) not in kept_steps(steps, output.every):
        raise SpecError(
            where,
            "analysis.at",
            f"expected 'final' or a kept step (a multiple of "
            f"output.every = {output.every or 'final'}, or {steps}), got {at}",
        )
    return outcomes


def build_plan(spec: SweepSpec | str | Path | dict[str, Any]) -> Plan:
    """Resolve, check and expand a sweep into its runs.

    Parameters
    ----------
    spec
        A spec, or a sweep file path or its content.

    Returns
    -------
    Plan
        The runs with ids and seeds, and the sweep's hash.

    Raises
    ------
    SpecError
        A problem with the file or its fit to the scenario, as one line.
    """
    spec = load_spec(spec)
    where = spec.where
    scenario, path = _resolve_scenario(spec)
    base_name = scenario.name
    if spec.fixed:
        flags = spec.fixed_sources  # --set and --customers: their problems are the flags'
        try:
            scenario = load_scenario(scenario, dict(spec.fixed), override_sources=flags)
        except ScenarioError as e:
            flagged = [p for p in e.problems if p[0] in flags.values()]
            if flagged:
                raise SpecError.of(flagged) from None
            detail = f"{e.key}: {e.detail}" if e.key else e.detail
            raise SpecError(
                where, "set", f"does not apply to scenario {base_name!r}: {detail}"
            ) from None
    steps = int(spec.steps or scenario.steps)
    metric_columns = {*FIRM_COLUMNS, *market_metric_names(scenario.market.industries)}
    for i, p in enumerate(spec.parameters):
        if p.column in metric_columns:
            raise SpecError(
                where,
                f"parameters[{i}].name",
                f"{p.column!r} is a metric column of the results; expected another name",
            )
    output = _output_plan(spec, scenario, steps)
    every = output.every or steps
    scenario = load_scenario(scenario, {"collect_every": math.gcd(every, steps)})
    design = build_design(spec, partial(value_at, scenario))
    _check_design(spec, scenario, design)
    _check_network_keys(spec, scenario, design)
    outcomes = _outcomes(spec, scenario, output, steps)

    tasks = []
    for pt in design.points:
        for r, rid in enumerate(run_ids(pt.overrides, spec.replicates)):
            tasks.append(
                RunTask(
                    run_id=rid,
                    point_id=pt.id,
                    point=pt.index,
                    replicate=r,
                    label=pt.label,
                    overrides=pt.overrides,
                    values=pt.values,
                    seed_entropy=spec.seed,
                    seed_key=seed_key(rid, r, spec.common_random_numbers),
                    steps=steps,
                    scenario=scenario,
                    output=output,
                )
            )
    ids = [t.run_id for t in tasks]
    if len(set(ids)) != len(ids):  # pragma: no cover - 64-bit hash collision
        raise SpecError(where, "parameters", "two runs hash to the same id; change the seed")

    identity = spec.to_dict()
    for key in ("name", "description", "analysis", "scenario"):
        identity.pop(key, None)
    identity.update(
        format=FORMAT,
        steps=steps,
        scenario_hash=scenario_hash(scenario),
        model_code=model_code_hash(),  # results of other rules are not this sweep's
    )
    sweep_hash = hashlib.sha256(canonical(identity).encode()).hexdigest()
    return Plan(
        spec=spec,
        scenario=scenario,
        scenario_path=path,
        steps=steps,
        design=design,
        tasks=tasks,
        output=output,
        outcomes=outcomes,
        sweep_hash=sweep_hash,
        identity=identity,
    )
