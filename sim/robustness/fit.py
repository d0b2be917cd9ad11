"""The plausible worlds that reproduce the published facts: sequential Monte Carlo with moves.

:func:`fit_facts` treats the plausible ranges as a uniform prior and the facts of
:mod:`sim.robustness.facts` as the data, and samples the prior restricted to the worlds that
reproduce every fact: rejection by the patterns (Grimm et al. 2005), made affordable in stages.
With one world in 192 of the prior meeting all the facts, plain rejection would need about
40,000 worlds for 200 accepted.

The sampler is ABC-SMC with Markov moves (Del Moral, Doucet & Jasra 2012; in reliability
analysis, subset simulation: Au & Beck 2001). Worlds are points ``u`` of the unit cube, one
coordinate per range (``value = low + u * (high - low)``, whole numbers rounded):

1. ``population`` worlds from the prior (uniform on the cube), their facts measured;
2. the threshold is the median of the worlds' distances (0 once half of them reproduce every
   fact); the worlds within it are resampled to ``population`` (systematic resampling, equal
   weights);
3. each world takes a Metropolis step: a normal step, each coordinate's scale the spread of the
   surviving worlds times a factor tuned toward a quarter of steps accepted, reflected at the
   cube's faces (a symmetric proposal); the step is kept when the new world is within the
   threshold. With a uniform prior and a symmetric proposal that is the whole Metropolis
   ratio: no importance weight enters, and none can degenerate;
4. repeat from 2; at the threshold 0, five steps spread the worlds that resampling
   duplicated, and the fit stops: every world reproduces every fact.

One step a generation (``moves=1``, the default, the sampler of the shipped figures) moves a
copy with the step's acceptance only (0.1-0.2 once the threshold is tight), so the fitted worlds
are clusters about a few lineages (:func:`sim.robustness.fit_report.lineages`: the shipped fit's
128 worlds descend from 6 prior worlds, 73% of their variance between lineages).
``moves="auto"`` takes as many steps a generation as leave a world unmoved with probability 0.01
(:func:`moves_needed`), at several times the worlds measured.

The first version used pyabc's ABC-SMC, whose importance weights (prior over a mixture of
normal kernels) in 110 dimensions left one world with 98% of the weight after one generation
(effective sample size 1.0 of 128, measured 5 December 2026): a posterior of one world.

All randomness comes from ``SeedSequence(seed, spawn_key=(generation, step))``; the facts of
each proposal are measured in batches on a local process pool
(:func:`sim.sweep.executors.local_pool`) and appended to ``OUT/runs.jsonl`` by a key of the
proposal, so the worlds depend on the ranges, the population and the seed only, never on the
workers, and a fit run again replays the worlds measured before and goes on: it resumes.

Written in ``OUT``:

=====================  ========================================================================
``posterior.parquet``  the fitted worlds, equally weighted: one row per world, one column per
                       parameter; ``cxsim robustness --posterior`` reads it
``particles.parquet``  the same with each fact's distance (and ``weight``, equal)
``facts.csv``          per fact: the share of prior worlds and of fitted worlds that reproduce it
``constrained.csv``    per parameter: the fitted worlds' 90% interval against the range's
``report.md``          the same in words
=====================  ========================================================================

This module never imports the UI.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.simulate import run_key
from sim.robustness.facts import FACTS, FITTABLE, world_distances_many
from sim.robustness.measured import MeasuredWorlds
from sim.robustness.ranges import Range, RobustnessError, load_config, resolve_ranges
from sim.robustness.worlds import systematic as _systematic

__all__ = [
    "FactsFit",
    "FactsSimulator",
    "FitError",
    "FitPlan",
    "fit_facts",
    "moves_needed",
    "plan_fit",
]

RUNS = "runs.jsonl"
SPEC = "fit_spec.json"
"""What a fit folder was started with (ranges, population, seeds, facts): a resumed fit must
match it."""
FILES = (RUNS, SPEC, "posterior.parquet", "particles.parquet", "facts.csv", "constrained.csv")
FILES += ("fit.json", "report.md", "holdout.jsonl", "holdout.csv", "reseed.jsonl", "reseed.csv")
FILES += ("knockout.jsonl", "knockout.csv")
TARGET_ACCEPTANCE = 0.25
"""The share of Metropolis steps kept that the step's scale is tuned toward."""
FINAL_STEPS = 5
"""Metropolis steps at the threshold 0, to spread the worlds that resampling duplicated."""
DECOYS = 5
"""Coordinates the sampler moves like the others but no world reads: the fitted worlds' spread
in them is the sampler's own narrowing (finite steps after each resampling), the yardstick a
parameter's narrowing must beat to be the facts' (:mod:`sim.robustness.fit_report`)."""


MOVES_CAP = 20
"""The most Metropolis steps a generation ``moves="auto"`` takes."""


def moves_needed(acceptance: float, unmoved: float = 0.01, cap: int = MOVES_CAP) -> int:
    """Metropolis steps that leave a world unmoved with probability at most ``unmoved`` when
    each step is kept with probability ``acceptance``: ``log(unmoved) / log(1 - acceptance)``
    (Drovandi & Pettitt 2011, Biometrics 67:225-233), between 1 and ``cap``."""
    if acceptance >= 1.0:
        return 1
    acceptance = max(acceptance, 1e-6)
    return int(min(cap, max(1, math.ceil(math.log(unmoved) / math.log1p(-acceptance)))))


class FitError(RobustnessError):
    """A fit that cannot start: the folder holds another fit, or is not a folder."""


@dataclass
class FitPlan:
    """A fit ready to run: its folder, the ranges (the prior) and the facts."""

    out: Path
    ranges: dict[str, Range]
    facts: tuple[str, ...] = FACTS
    moves: int | str = 1
    facts_seed: int = 1
    """Of the markets the facts are measured in; the next seed tests the fitted worlds again
    (:mod:`sim.robustness.reseed`)."""


SPEC_DEFAULTS = {"moves": 1}
"""What a fit folder made before a key existed was made with."""


def plan_fit(
    out: str | Path,
    ranges_file: str | Path | None = None,
    *,
    population: int = 128,
    seed: int = 2027,
    facts_seed: int = 1,
    facts: tuple[str, ...] | list[str] = FACTS,
    moves: int | str = 1,
    force: bool = False,
) -> FitPlan:
    """The ranges of a robustness file (None: the schema's), the facts and the fit's folder,
    checked.

    The ranges are resolved against ``baseline``, the market the facts are measured in. The
    facts are names of :data:`~sim.robustness.facts.FITTABLE` (put in its order). A folder
    that holds a fit started with other ranges, facts, population or seeds is refused unless
    ``force`` (which deletes that fit's files).

    Raises
    ------
    FitError, RobustnessError
        One line naming the file, the key and what was expected.
    """
    from sim.output import not_a_folder
    from sim.scenario import find_scenario, load_scenario

    root = Path(out)
    unknown = [f for f in facts if f not in FITTABLE]
    if unknown or not facts:
        raise FitError(
            "--facts",
            unknown[0] if unknown else "",
            "is not a fact a fit can take; expected one or more of " + ", ".join(FITTABLE),
        )
    chosen = tuple(f for f in FITTABLE if f in facts)
    if not (moves == "auto" or (isinstance(moves, int) and moves >= 1)):
        raise FitError("--moves", str(moves), "expected a whole number of at least 1, or auto")
    for flag, value in (("--seed", seed), ("facts_seed", facts_seed)):
        if value < 0:  # SeedSequence refuses it after the spec is written: refuse it first
            raise FitError(flag, str(value), "expected a whole number >= 0")
    if problem := not_a_folder(root):
        raise FitError(str(root), "", f"{problem}; expected a folder for the fit")
    cfg = load_config(ranges_file)
    ranges = resolve_ranges(cfg, load_scenario(find_scenario("baseline")))
    if not ranges:
        raise FitError(cfg.where, "ranges", "no parameter left to vary; expected at least one")
    spec = {
        "facts": list(chosen),
        "population": int(population),
        "seed": int(seed),
        "facts_seed": int(facts_seed),
        "moves": moves,
        "ranges": {k: [r.low, r.high, r.integer] for k, r in ranges.items()},
    }
    path = root / SPEC
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        differs = [k for k in spec if old.get(k, SPEC_DEFAULTS.get(k)) != spec[k]]
        if differs and not force:
            raise FitError(
                str(path),
                differs[0],
                f"this folder holds a fit started with another {differs[0]}; expected the same "
                "to resume (--force discards it, or choose another --out)",
            )
        if differs:
            for name in FILES:
                (root / name).unlink(missing_ok=True)
    elif force:
        for name in FILES:
            (root / name).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return FitPlan(root, ranges, chosen, moves, int(facts_seed))


class FactsSimulator:
    """The worlds of points of the unit cube, and their facts' distances, measured once each
    (:class:`~sim.robustness.measured.MeasuredWorlds`, kept in ``OUT/runs.jsonl``).

    Parameters
    ----------
    ranges
        The varied parameters (whole-number ones are rounded).
    seed
        The facts' seed (common to every world).
    workers
        Processes; 1 measures in this process.
    folder
        Where ``runs.jsonl`` is kept (read back on resume); None keeps nothing.
    facts
        The facts measured, in the order of a world's distances.
    """

    def __init__(
        self,
        ranges: dict[str, Range],
        seed: int,
        workers: int = 1,
        folder: Path | None = None,
        facts: tuple[str, ...] = FACTS,
    ) -> None:
        self.ranges = dict(ranges)
        self.low = np.array([r.low for r in self.ranges.values()], float)
        self.width = np.array([r.high - r.low for r in self.ranges.values()], float)
        path = None if folder is None else Path(folder) / RUNS
        measure = functools.partial(world_distances_many, facts=tuple(facts))
        self.store = MeasuredWorlds(measure, path, seed, workers)

    def __enter__(self) -> FactsSimulator:
        self.store.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.__exit__(*exc)

    def worlds(self, u: np.ndarray) -> pd.DataFrame:
        """The worlds (scenario key -> value) of points of the unit cube, whole numbers
        rounded (coordinates beyond the ranges, the decoys, are left out)."""
        x = self.low + np.asarray(u, float)[:, : len(self.ranges)] * self.width
        out = pd.DataFrame(x, columns=list(self.ranges))
        for k, r in self.ranges.items():
            if r.integer:
                out[k] = out[k].round()
        return out

    def measure(self, label: str, u: np.ndarray) -> np.ndarray:
        """Each world's distances (one row per point of ``u``, one column per fact)."""
        rows = self.worlds(u).to_dict(orient="records")
        named = {run_key(f"{label}/{i}", row): row for i, row in enumerate(rows)}
        known = self.store.measure(named)
        return np.array([known[k] for k in named], dtype=float)


def _reflect(u: np.ndarray) -> np.ndarray:
    """Points folded back into the unit cube at its faces (a symmetric proposal stays so)."""
    u = np.abs(u) % 2.0
    return np.where(u > 1.0, 2.0 - u, u)


def _total(d: np.ndarray) -> np.ndarray:
    """A world's distance: the sum of its facts' (inf if any is not finite)."""
    return np.where(np.all(np.isfinite(d), axis=1), np.nan_to_num(d).sum(axis=1), np.inf)


@dataclass
class FactsFit:
    """A finished (or stopped) fit.

    Attributes
    ----------
    particles
        The last generation: parameters, ``weight`` (equal) and ``d:<fact>`` per fact
        (:attr:`posterior`: its parameters only).
    prior_facts
        The prior sample's distances, one column per fact.
    prior_worlds
        The prior sample's parameters (rows as ``prior_facts``).
    decoys
        The fitted worlds' coordinates in the :data:`DECOYS` (uniform on 0..1 in the prior).
    epsilons
        The threshold of each generation after the prior sample.
    acceptance
        The share of Metropolis steps kept, step by step.
    generations
        Generations after the prior sample.
    simulations
        Worlds measured, over all sessions.
    fresh
        Of those, the worlds measured in this session (the others were read back from
        ``runs.jsonl``).
    ancestors
        Each fitted world's ancestor in the prior sample (its row of :attr:`prior_worlds`):
        resampling copies worlds and a Metropolis step moves a copy only a little, so worlds of
        one lineage are near copies (:func:`sim.robustness.fit_report.lineages`).
    moves
        Metropolis steps a generation: a number, or ``"auto"`` (:func:`moves_needed`).
    ranges
        The ranges (the prior).
    facts
        The facts fitted to, in the order of the distances.
    """

    particles: pd.DataFrame
    prior_facts: pd.DataFrame
    prior_worlds: pd.DataFrame
    epsilons: list[float]
    generations: int
    simulations: int
    ranges: dict[str, Range]
    acceptance: list[float] = field(default_factory=list)
    decoys: np.ndarray | None = None
    facts: tuple[str, ...] = FACTS
    fresh: int = 0
    ancestors: np.ndarray | None = None
    moves: int | str = 1

    @property
    def posterior(self) -> pd.DataFrame:
        """The fitted worlds' parameters, one row per world (what ``posterior.parquet`` holds)."""
        return self.particles[list(self.ranges)]

    @property
    def reproduces(self) -> bool:
        """Every world of the last generation reproduces every fact."""
        d = self.particles[[f"d:{f}" for f in self.facts]].to_numpy()
        return bool(len(d) and np.all(d == 0))


def fit_facts(
    out: str | Path,
    ranges: dict[str, Range],
    *,
    population: int = 128,
    seed: int = 2027,
    facts_seed: int = 1,
    workers: int = 1,
    generations: int = 14,
    max_simulations: int = 20_000,
    facts: tuple[str, ...] = FACTS,
    moves: int | str = 1,
    on_start: Callable[[int, float], None] | None = None,
) -> FactsFit:
    """Fit the plausible worlds to the facts (see the module docstring); resumable.

    Parameters
    ----------
    out
        The fit's folder.
    ranges
        The plausible ranges (a uniform prior over each).
    population
        Worlds per generation.
    seed
        Of the prior sample, the resampling and the steps.
    facts_seed
        Of the markets the facts are measured in (the same for every world).
    workers
        Local processes.
    generations
        At most this many generations after the prior sample; the fit stops earlier once every
        world reproduces every fact.
    max_simulations
        Stop before a generation that would measure more worlds than this in all.
    facts
        The facts (:attr:`FitPlan.facts`).
    moves
        Metropolis steps a generation (at least :data:`FINAL_STEPS` at the threshold 0), or
        ``"auto"``: after the first, as many as leave a world unmoved with probability 0.01 at
        its acceptance (:func:`moves_needed`).
    on_start
        Called with ``(generation, threshold)`` as each begins (0: the prior sample, threshold
        inf).
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)

    def rng(t: int, step: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(t, step)))

    n, dims = int(population), len(ranges) + DECOYS
    with FactsSimulator(ranges, facts_seed, workers, root, facts) as sim:
        if on_start is not None:
            on_start(0, math.inf)
        u = rng(0, 0).random((n, dims))
        d = sim.measure("prior", u)
        prior_u, prior_d = u.copy(), d.copy()
        ancestors = np.arange(n)
        measured = n
        epsilons: list[float] = []
        acceptance: list[float] = []
        scale = 0.5
        t = 0
        while t < generations:
            total = _total(d)
            eps = max(0.0, float(np.quantile(total, 0.5)))
            least = FINAL_STEPS if eps == 0 else 1
            steps = max(least, moves if isinstance(moves, int) else 1)
            if measured + least * n > max_simulations:
                break
            t += 1
            if on_start is not None:
                on_start(t, eps)
            epsilons.append(eps)
            keep = _systematic((total <= eps).astype(float), n, rng(t, 0))
            u, d, ancestors = u[keep], d[keep], ancestors[keep]
            spread = np.maximum(u.std(axis=0), 0.01)
            step = 0
            while step < steps and measured + n <= max_simulations:
                noise = rng(t, step + 1).standard_normal((n, dims))
                proposal = _reflect(u + scale * spread * noise)
                dp = sim.measure(f"move/{t}/{step}", proposal)
                measured += n
                ok = _total(dp) <= eps
                u[ok], d[ok] = proposal[ok], dp[ok]
                rate = float(ok.mean())
                acceptance.append(rate)
                scale = float(np.clip(scale * math.exp(rate - TARGET_ACCEPTANCE), 0.05, 2.0))
                if step == 0 and moves == "auto":
                    steps = max(least, moves_needed(rate))
                step += 1
            if eps == 0:
                break
        worlds = sim.worlds(u)
        particles = worlds.assign(weight=1.0 / n)
        for j, f in enumerate(facts):
            particles[f"d:{f}"] = d[:, j]
        return FactsFit(
            particles=particles,
            prior_facts=pd.DataFrame(prior_d, columns=list(facts)),
            prior_worlds=sim.worlds(prior_u),
            epsilons=epsilons,
            generations=t,
            simulations=measured,
            ranges=dict(ranges),
            acceptance=acceptance,
            decoys=u[:, len(ranges) :].copy(),
            facts=tuple(facts),
            fresh=sim.store.fresh,
            ancestors=ancestors,
            moves=moves,
        )
