"""A robustness study: a scenario's claims over its plausible worlds, run as a sweep.

:func:`plan_study` resolves the scenario, its claims (those it states, or others given), the
ranges and the worlds, and builds a sweep of the worlds (a ``list`` design, one point per world,
``replicates`` runs each with common random numbers, so replicate ``r`` of every world meets the
same customers and network). :func:`run_study` hands it to :func:`sim.sweep.run`: the runs go
through the sweep executors (local processes by default, Dask when asked), stream to the sweep
store in ``OUT/runs`` and an interrupted study resumes where it stopped. The claims are left out
of the runs' scenario, so a changed claim is re-read from the stored runs without running again
(but for its ``versus`` table: each distinct one runs every world once more, in the
counterfactual market its contrast reads, :mod:`sim.robustness.versus`).

This module never imports the UI.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.robustness.claims import Claim, ClaimError, parse_claim, scenario_claims
from sim.robustness.margins import claim_margins, world_margins
from sim.robustness.ranges import (
    REPLICATES,
    WORLDS,
    Range,
    RobustnessConfig,
    RobustnessError,
    check_int,
    held_keys,
    load_config,
    resolve_ranges,
)
from sim.robustness.versus import paired_runs
from sim.robustness.worlds import (
    Resampling,
    posterior_worlds,
    read_weighted_posterior,
    resample_posterior,
    sample_worlds,
)
from sim.scenario import (
    Scenario,
    ScenarioError,
    find_scenario,
    load_scenario,
    network_kind,
    unused_network_keys,
)
from sim.sweep.progress import Progress
from sim.sweep.results import SweepResults
from sim.sweep.runner import run as run_sweep
from sim.sweep.store import check_folder

__all__ = ["STUDY_FILE", "Study", "plan_study", "run_study", "study_margins"]

STUDY_FILE = "study.json"
"""What a study folder records about the study (scenario, claims, ranges, worlds)."""


@dataclass
class Study:
    """A robustness study ready to run.

    Attributes
    ----------
    scenario
        The scenario as stated (with its claims).
    scenario_path
        Its file.
    claims
        The claims read.
    ranges
        The varied parameters and their ranges, by key.
    worlds
        One row per world, one column per varied key.
    config
        Worlds, replicates, seed, steps and fixed overrides.
    steps
        Steps per run.
    posterior
        The posterior file the worlds came from, if any.
    held
        Ranged parameters kept at the scenario's value: the file's ``hold`` and the scenario's
        own ``held`` (its set-up on purpose).
    resampling
        How the worlds were drawn by a weighted posterior's weights; None for an equally
        weighted posterior, or none.
    """

    scenario: Scenario
    scenario_path: Path | None
    claims: list[Claim]
    ranges: dict[str, Range]
    worlds: pd.DataFrame
    config: RobustnessConfig
    steps: int
    posterior: Path | None = None
    held: tuple[str, ...] = ()
    resampling: Resampling | None = None

    @property
    def keys(self) -> list[str]:
        """The varied parameters, in column order."""
        return list(self.worlds.columns)

    @property
    def versus_tables(self) -> list[tuple[tuple[str, Any], ...]]:
        """The claims' distinct versus tables, in order of first use: each runs every world
        once more (:mod:`sim.robustness.versus`)."""
        out: list[tuple[tuple[str, Any], ...]] = []
        for c in self.claims:
            if c.versus and c.versus not in out:
                out.append(c.versus)
        return out

    @property
    def runs(self) -> int:
        """Runs of the study: every world's replicates, once more per versus table."""
        return len(self.worlds) * (1 + len(self.versus_tables)) * self.config.replicates

    def sweep_spec(self) -> dict[str, Any]:
        """The sweep that runs the worlds (a ``list`` design): one point per world, then, for
        each versus table in turn, every world again with its overrides (counterfactual runs,
        not worlds: replicate ``r`` of both shares its random numbers)."""
        spy = self.scenario.steps_per_year
        every = spy // 4 if spy % 4 == 0 else spy
        for c in self.claims:
            for s in c.steps:
                every = math.gcd(every, s)
        every = min(every, self.steps)
        integer = {k for k, r in self.ranges.items() if r.integer}
        points = [
            {
                "label": f"world {i}",
                "set": {k: int(v) if k in integer else float(v) for k, v in row.items()},
            }
            for i, row in enumerate(self.worlds.to_dict(orient="records"))
        ]
        worlds = list(points)
        for t, table in enumerate(self.versus_tables):
            points += [
                {"label": f"{p['label']} versus {t + 1}", "set": {**p["set"], **dict(table)}}
                for p in worlds
            ]
        spec: dict[str, Any] = {
            "name": f"robustness-{self.scenario.name}",
            "description": f"plausible worlds of {self.scenario.name}",
            "scenario": str(self.scenario_path) if self.scenario_path else self.scenario.name,
            "seed": self.config.seed,
            "replicates": self.config.replicates,
            "steps": self.steps,
            "common_random_numbers": True,
            "set": {**self.config.fixed, "claims": []},
            "design": {"kind": "list", "points": points},
            "output": {"tables": ["market", "firms"], "every": every},
        }
        if self.keys:
            spec["parameters"] = [{"key": k} for k in self.keys]
        return spec

    def to_dict(self) -> dict[str, Any]:
        """What ``study.json`` holds (``resampled`` only for a weighted posterior)."""
        out = {
            "scenario": self.scenario.name,
            "scenario_path": str(self.scenario_path) if self.scenario_path else None,
            "claims": [
                {"name": c.name, "says": c.says, "holds": c.text}
                | ({"versus": dict(c.versus)} if c.versus else {})
                for c in self.claims
            ],
            "ranges": {
                k: {"low": r.low, "high": r.high, "source": r.source, "origin": r.origin}
                for k, r in self.ranges.items()
            },
            "worlds": len(self.worlds),
            "replicates": self.config.replicates,
            "seed": self.config.seed,
            "steps": self.steps,
            "set": self.config.fixed,
            "posterior": str(self.posterior) if self.posterior else None,
            "held": list(self.held),
        }
        if self.resampling is not None:
            out["resampled"] = self.resampling.to_dict()
        return out


def _claims(
    scenario: Scenario, extra: list[str | tuple[str, str]] | None, steps: int, where: str
) -> list[Claim]:
    firms = [f.name for f in scenario.firms]
    if extra:
        out = []
        for i, item in enumerate(extra):
            text, says = (item, "") if isinstance(item, str) else item
            try:
                out.append(
                    parse_claim(
                        f"claim {i + 1}",
                        text,
                        says,
                        firms,
                        list(scenario.market.industries),
                        steps_per_year=scenario.steps_per_year,
                        steps=steps,
                    )
                )
            except ClaimError as e:
                hint = " (a --claim has none: state a contrast in the scenario's [[claims]])"
                hint = hint if "no versus table" in e.detail else ""
                at = f"[{i}]" if len(extra) > 1 else ""  # which --claim, when there are several
                raise RobustnessError("--claim", at, f"{text!r}: {e.detail}{hint}") from None
        return out
    try:
        claims = scenario_claims(scenario, steps)
    except ClaimError as e:
        raise RobustnessError(where, e.key, e.detail) from None
    if not claims:
        raise RobustnessError(
            where,
            "claims",
            "the scenario states no claims; expected [[claims]] tables with "
            "name, says and holds (docs/robustness.md), or --claim EXPRESSION",
        )
    return claims


def plan_study(
    scenario: str | Path | Scenario,
    config: RobustnessConfig | str | Path | None = None,
    *,
    posterior: str | Path | None = None,
    claims: list[str | tuple[str, str]] | None = None,
    worlds: int | None = None,
    replicates: int | None = None,
    steps: int | None = None,
    fixed: dict[str, Any] | None = None,
    fixed_sources: Mapping[str, str] | None = None,
) -> Study:
    """Resolve a scenario's claims, ranges and worlds.

    Parameters
    ----------
    scenario
        A scenario name, path or Scenario.
    config
        A robustness file (or its loaded content); None uses the defaults and the schema's
        ranges.
    posterior
        A calibration posterior (see :mod:`sim.robustness.worlds`).
    claims
        Claims to test instead of the scenario's own: expressions, or ``(expression, says)``.
    worlds, replicates, steps
        Replace the file's values.
    fixed
        More fixed overrides (e.g. ``{"market.customers": 1000}``).
    fixed_sources
        How each key of ``fixed`` is named in messages (``{"market.customers": "--customers
        1000"}``): a value that does not apply to the scenario is blamed on the flag, not on
        the robustness file.

    Raises
    ------
    RobustnessError, ScenarioError
        One line naming the file, the key and what was expected.
    """
    cfg = config if isinstance(config, RobustnessConfig) else load_config(config)
    if worlds is not None:
        cfg.worlds = check_int("--worlds", "", worlds, *WORLDS)
    if replicates is not None:
        cfg.replicates = check_int("--replicates", "", replicates, *REPLICATES)
    if steps is not None:
        cfg.steps = check_int("--steps", "", steps, 1, 10_000_000)
    if fixed:
        cfg.fixed = {**cfg.fixed, **fixed}
    if isinstance(scenario, Scenario):
        stated, path = scenario, scenario.source_path
    else:
        path = find_scenario(scenario)
        stated = load_scenario(path)
    where = str(path) if path else stated.name
    flags = {k: v for k, v in (fixed_sources or {}).items() if k in (fixed or {})}
    try:
        base = (
            load_scenario(stated, {**cfg.fixed, "claims": []}, override_sources=flags)
            if cfg.fixed
            else stated
        )
    except ScenarioError as e:
        flagged = [p for p in e.problems if p[0] in flags.values()]
        if flagged:
            raise ScenarioError.of(flagged) from None
        raise RobustnessError(cfg.where, "set", f"{e.key}: {e.detail}") from None
    n_steps = int(cfg.steps or stated.steps)
    # the claims as stated, read against the market the runs will have (with [set] applied)
    claim_list = _claims(base.model_copy(update={"claims": stated.claims}), claims, n_steps, where)
    _check_network_keys(cfg, base, claim_list, flags)
    ranges = resolve_ranges(cfg, base)
    held = held_keys(cfg, base)
    post_path = Path(posterior) if posterior else None
    resampling = None
    if post_path is not None:
        table, weights = read_weighted_posterior(post_path)
        # a parameter the scenario or the file holds keeps its value (the scenario's set-up)
        table = table[[k for k in table.columns if k not in held]]
        for key in table.columns:
            try:
                load_scenario(base, {key: float(table[key].iloc[0])})
            except ScenarioError as e:
                raise RobustnessError(str(post_path), key, f"{e.key}: {e.detail}") from None
        if weights is None:  # equally weighted: a seeded subset, as always
            table_worlds, ranges = posterior_worlds(table, ranges, cfg.worlds, cfg.seed)
        else:  # importance weights: the worlds are drawn by them
            table, resampling = resample_posterior(table, weights, cfg.worlds, cfg.seed)
            table_worlds, ranges = posterior_worlds(table, ranges, cfg.worlds, cfg.seed, drawn=True)
    else:
        table_worlds = sample_worlds(ranges, cfg.worlds, cfg.seed)
    return Study(
        scenario=stated,
        scenario_path=path,
        claims=claim_list,
        ranges=ranges,
        worlds=table_worlds,
        config=cfg,
        steps=n_steps,
        posterior=post_path,
        held=tuple(k for k in held if k not in ranges),
        resampling=resampling,
    )


def _check_network_keys(
    cfg: RobustnessConfig, base: Scenario, claim_list: list[Claim], flags: Mapping[str, str]
) -> None:
    """Refuse a fixed ``[network]`` key (``[set]``, ``--set``) no run's network kind uses, the
    base market's or a versus market's (``sim.scenario_network.unused_network_keys``): it would be
    ignored. Checked before the study writes anything, as its sweep would refuse it."""
    kind = base.network.kind
    kinds = {kind} | {network_kind(dict(c.versus), kind) for c in claim_list if c.versus}
    problems = [
        (flags[key], key, message) if key in flags else (cfg.where, f'set."{key}"', message)
        for key, message in unused_network_keys(cfg.fixed, kinds)
    ]
    if any(p[0] in flags.values() for p in problems):
        raise ScenarioError.of([p for p in problems if p[0] in flags.values()])
    if problems:
        raise RobustnessError.of(problems)


def run_study(
    study: Study,
    out: str | Path,
    *,
    executor: Any = None,
    workers: int | None = None,
    progress: Progress | None = None,
    force: bool = False,
    argv: list[str] | None = None,
    batch: bool = True,
) -> SweepResults:
    """Run (or resume) the study's worlds into ``out/runs`` and record the study in ``out``.

    The worlds' small markets are stepped together, many to a batch (``batch``, issue 16), with
    the same numbers as one by one (``batch=False``).

    Raises
    ------
    SweepStoreError
        ``out`` is a file, or ``out/runs`` holds a different study (other worlds, replicates,
        ranges or scenario; ``force`` deletes it).
    SweepInterrupted
        On Ctrl-C, after the finished runs were written.
    """
    root = check_folder(out, "a folder for the robustness study")
    root.mkdir(parents=True, exist_ok=True)
    results = run_sweep(
        study.sweep_spec(),
        root / "runs",
        executor=executor,
        workers=workers,
        progress=progress,
        force=force,
        argv=argv,
        batch=batch,
    )
    (root / STUDY_FILE).write_text(json.dumps(study.to_dict(), indent=2) + "\n", encoding="utf-8")
    return results


def study_margins(study: Study, results: SweepResults) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each world's parameters and each claim's margin there (mean over replicates).

    A contrast's margin in a world run reads ``versus(...)`` in its paired run (same world, same
    replicate, the claim's versus table): :func:`sim.robustness.versus.paired_runs`.

    Returns
    -------
    worlds, margins
        Both indexed by world number (the design row), only worlds with at least one finished
        run; ``margins`` has one column per claim.
    """
    runs = results.runs()
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs.iloc[:0]
    if ok.empty:
        empty = pd.DataFrame(columns=[c.name for c in study.claims])
        return study.worlds.iloc[:0], empty
    firms = results.df("firms")
    market = results.df("market")
    n = len(study.worlds)
    paired = paired_runs(ok, n, study.versus_tables, study.claims)
    ok = ok[ok["point"] < n]  # the counterfactual runs are not worlds
    ids = pd.Index(ok["run_id"], name="run_id")
    margins = claim_margins(study.claims, market, firms, ids, final_step=study.steps, paired=paired)
    world_of = pd.Series(ok["point"].to_numpy(), index=ids)
    per_world = world_margins(margins, world_of)
    return study.worlds.loc[per_world.index], per_world
