"""The plausible worlds that reproduce the published facts: ABC-SMC over the plausible ranges.

:func:`fit_facts` treats the plausible ranges as a uniform prior and the facts of
:mod:`sim.robustness.facts` as the data: a world is accepted when the sum of its facts'
distances is within the generation's threshold, which shrinks (pyabc's quantile epsilon, the
median of the last generation's distances) until it reaches 0, where every accepted world
reproduces every fact. That is rejection by the patterns (Grimm et al. 2005), made affordable by
sequential Monte Carlo (Sisson, Fan & Tanaka 2007; pyabc, Klinger, Rickert & Hasenauer 2018):
with one world in 192 of the prior meeting all the facts, plain rejection would need about
40,000 worlds for 200 accepted.

pyabc works in unbounded coordinates, one per range, whose logistic prior is the uniform one on
the range (:func:`to_range`): its perturbation kernel then never proposes a world outside the
ranges, which in 110 dimensions it almost always did. The sampler is the calibration's
(:class:`sim.calibration.abc_smc.ExecutorSampler`): candidates are proposed in order from seeds
of ``(generation, candidate)``, their facts measured in batches on a local process pool
(:func:`sim.sweep.executors.local_pool`), so the worlds depend on the ranges, the seed and the
population only, never on the workers. Each measured world is appended to ``OUT/runs.jsonl``
and pyabc keeps each finished generation in ``OUT/abc.sqlite``: an interrupted fit resumes.

Written in ``OUT``:

=====================  ========================================================================
``posterior.parquet``  the last generation resampled to equal weights (systematic resampling):
                       one row per world, one column per parameter; ``cxsim robustness
                       --posterior`` reads it
``particles.parquet``  the last generation as pyabc holds it: parameters, ``weight``, and each
                       fact's distance
``facts.csv``          per fact: the share of prior worlds and of fitted worlds that reproduce it
``constrained.csv``    per parameter: the fitted worlds' 90% interval against the range's
``report.md``          the same in words
=====================  ========================================================================

This module never imports the UI.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from sim.calibration.abc_smc import ExecutorSampler, ReplayModel
from sim.calibration.priors import Prior
from sim.calibration.simulate import run_key
from sim.robustness.facts import FACTS, world_distances
from sim.robustness.ranges import Range, RobustnessError, load_config, resolve_ranges

__all__ = ["FactsFit", "FactsSimulator", "FitError", "FitPlan", "fit_facts", "plan_fit", "resample"]

logging.getLogger("ABC").setLevel(logging.WARNING)

RUNS = "runs.jsonl"
SPEC = "fit_spec.json"
"""What a fit folder was started with (ranges, population, seeds, facts): a resumed fit must
match it."""
FILES = (RUNS, "abc.sqlite", SPEC, "posterior.parquet", "particles.parquet", "facts.csv")
FILES += ("constrained.csv", "fit.json", "report.md")


class FitError(RobustnessError):
    """A fit that cannot start: the folder holds another fit, or is not a folder."""


@dataclass
class FitPlan:
    """A fit ready to run: its folder and the ranges (the prior)."""

    out: Path
    ranges: dict[str, Range]


def plan_fit(
    out: str | Path,
    ranges_file: str | Path | None = None,
    *,
    population: int = 128,
    seed: int = 2027,
    facts_seed: int = 1,
    force: bool = False,
) -> FitPlan:
    """The ranges of a robustness file (None: the schema's) and the fit's folder, checked.

    The ranges are resolved against ``baseline``, the market the facts are measured in. A
    folder that holds a fit started with other ranges, population or seeds is refused unless
    ``force`` (which deletes that fit's files).

    Raises
    ------
    FitError, RobustnessError
        One line naming the file, the key and what was expected.
    """
    from sim.scenario import find_scenario, load_scenario

    root = Path(out)
    if root.exists() and not root.is_dir():
        raise FitError(str(root), "", "exists and is not a folder; expected a folder for the fit")
    cfg = load_config(ranges_file)
    ranges = resolve_ranges(cfg, load_scenario(find_scenario("baseline")))
    if not ranges:
        raise FitError(cfg.where, "ranges", "no parameter left to vary; expected at least one")
    spec = {
        "facts": list(FACTS),
        "population": int(population),
        "seed": int(seed),
        "facts_seed": int(facts_seed),
        "ranges": {k: [r.low, r.high, r.integer] for k, r in ranges.items()},
    }
    path = root / SPEC
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        differs = [k for k in spec if old.get(k) != spec[k]]
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
    return FitPlan(root, ranges)


def _point(values: dict[str, float]) -> tuple:
    """A proposal as a hashable key (its exact values, as pyabc stores them)."""
    return tuple(sorted((k, float(v)) for k, v in values.items()))


def _measure(item: tuple[str, dict[str, float], int]) -> tuple[str, list[float], float]:
    key, values, seed = item
    started = time.perf_counter()
    d = world_distances(values, seed)
    return key, [float(x) for x in d], time.perf_counter() - started


class FactsSimulator:
    """Measures the facts of batches of worlds on a process pool (``run`` as the calibration's
    :class:`~sim.calibration.simulate.Simulator`), keeping each in ``OUT/runs.jsonl``.

    Parameters
    ----------
    priors
        The varied parameters (whole-number ones are rounded).
    seed
        The facts' seed (common to every world).
    workers
        Processes; 1 measures in this process.
    folder
        Where ``runs.jsonl`` is kept (read back on resume); None keeps nothing.
    on_world
        Called with each finished world's distances.
    """

    def __init__(
        self,
        priors: Sequence[Prior],
        seed: int,
        workers: int = 1,
        folder: Path | None = None,
        on_world: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.priors, self.seed, self.workers = list(priors), int(seed), max(1, int(workers))
        self.path = None if folder is None else Path(folder) / RUNS
        self.on_world = on_world
        self.memory: dict[str, np.ndarray] = {}
        self.by_values: dict[tuple, np.ndarray] = {}
        self.labels: dict[str, str] = {}
        self.values_of: dict[str, dict[str, float]] = {}
        self.ran = 0
        self.seconds = 0.0
        self._pool: ProcessPoolExecutor | None = None
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.memory[rec["key"]] = np.array(rec["distances"], dtype=float)
                    self.by_values[_point(rec["values"])] = self.memory[rec["key"]]
                    self.labels[rec["key"]] = rec["label"]
                    self.values_of[rec["key"]] = rec["values"]

    def __enter__(self) -> FactsSimulator:
        if self.workers > 1:
            from sim.sweep.executors import local_pool

            self._pool = local_pool(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def values(self, values: dict[str, float]) -> dict[str, float]:
        """The world's scenario overrides from pyabc's unbounded coordinates (:func:`to_range`;
        whole numbers rounded)."""
        return {
            p.key: (round(x) if p.integer else x)
            for p in self.priors
            for x in [to_range(values[p.key], p.low, p.high)]
        }

    def prior_sample(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The worlds drawn from the prior for the first threshold (pyabc's generation -1, all
        accepted): their parameters, and their distances (one column per fact)."""
        keys = [k for k, label in self.labels.items() if label.startswith("abc/-1/")]
        worlds = pd.DataFrame([self.values(self.values_of[k]) for k in keys])
        return worlds, pd.DataFrame([self.memory[k] for k in keys], columns=list(FACTS))

    def run(self, batch: Sequence[tuple[str, dict[str, float]]]) -> dict[str, np.ndarray]:
        """Each world's distances, by run key (:func:`sim.calibration.simulate.run_key`)."""
        keys = [run_key(label, values) for label, values in batch]
        proposed = {k: v for k, (_, v) in zip(keys, batch, strict=True)}
        self.labels.update({k: label for k, (label, _) in zip(keys, batch, strict=True)})
        self.values_of.update(proposed)
        items = [
            (k, self.values(v), self.seed) for k, v in proposed.items() if k not in self.memory
        ]
        done = self._pool.map(_measure, items) if self._pool else map(_measure, items)
        with self.path.open("a", encoding="utf-8") if self.path else _Null() as f:
            for key, dist, seconds in done:
                self.memory[key] = np.array(dist, dtype=float)
                self.by_values[_point(proposed[key])] = self.memory[key]
                self.ran += 1
                self.seconds += seconds
                f.write(
                    json.dumps(
                        {
                            "key": key,
                            "label": self.labels[key],
                            "values": proposed[key],
                            "distances": dist,
                        }
                    )
                )
                f.write("\n")
                if self.on_world is not None:
                    self.on_world(self.memory[key])
        return {k: self.memory[k] for k in keys}


class _Null:
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, text: str) -> None:
        return None


class FactsDistance(pyabc.Distance):
    """A world's distance to the facts: the sum of its facts' distances (inf if any is)."""

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: Any = None) -> float:
        y = np.asarray(x["y"], dtype=float)
        return float(y.sum()) if np.all(np.isfinite(y)) else math.inf

    def get_config(self) -> dict:
        """For pyabc's database."""
        return {"name": "cxsim FactsDistance"}


def to_range(z: float, low: float, high: float) -> float:
    """A parameter's value from its unbounded coordinate: ``low + (high - low) * sigmoid(z)``.

    pyabc perturbs particles with a multivariate normal kernel; over 110 bounded ranges almost
    every perturbed proposal left some range, and drawing again until one fell inside all of
    them took the fitting process minutes of CPU per generation (measured: generation 1 had not
    proposed its first batch after 3 minutes). The fit therefore works in ``z``, where no
    proposal can leave the ranges: a logistic prior on ``z`` is exactly the uniform prior on the
    range, since ``sigmoid`` of a standard logistic variable is uniform on (0, 1).
    """
    return float(low + (high - low) / (1.0 + math.exp(-float(z))))


def logistic_prior(priors: Sequence[Prior]) -> pyabc.Distribution:
    """The uniform priors as standard logistic distributions of the unbounded coordinates."""
    return pyabc.Distribution(
        **{f"p{i}": pyabc.RV("logistic", 0.0, 1.0) for i in range(len(priors))}
    )


def priors_from_ranges(ranges: dict[str, Range]) -> list[Prior]:
    """A uniform prior over each plausible range."""
    return [
        Prior(k, "uniform", r.low, r.high, source=r.source, integer=r.integer)
        for k, r in ranges.items()
    ]


def resample(particles: pd.DataFrame, weights: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows drawn by systematic resampling in proportion to ``weights`` (equal weights)."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    u = (np.random.default_rng(seed).random() + np.arange(n)) / n
    idx = np.minimum(np.searchsorted(np.cumsum(w), u), len(w) - 1)
    return particles.iloc[idx].reset_index(drop=True)


@dataclass
class FactsFit:
    """A finished (or stopped) fit.

    Attributes
    ----------
    particles
        The last generation: parameters, ``weight``, and ``d:<fact>`` per fact.
    posterior
        The same resampled to equal weights.
    prior_facts
        The prior sample's distances (pyabc's generation -1), one column per fact.
    prior_worlds
        The prior sample's parameters (rows as ``prior_facts``).
    epsilons
        The threshold of each generation.
    generations
        Generations run (counting the prior sample).
    simulations
        Worlds measured, over all sessions.
    ranges
        The ranges (the prior).
    """

    particles: pd.DataFrame
    posterior: pd.DataFrame
    prior_facts: pd.DataFrame
    epsilons: list[float]
    generations: int
    simulations: int
    ranges: dict[str, Range]
    prior_worlds: pd.DataFrame | None = None

    @property
    def reproduces(self) -> bool:
        """Every world of the last generation reproduces every fact."""
        d = self.particles[[f"d:{f}" for f in FACTS]].to_numpy()
        return bool(len(d) and np.all(d == 0))


def fit_facts(
    out: str | Path,
    ranges: dict[str, Range],
    *,
    population: int = 128,
    seed: int = 2027,
    facts_seed: int = 1,
    workers: int = 1,
    generations: int = 12,
    max_simulations: int = 20_000,
    on_world: Callable[[np.ndarray], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
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
        Of the proposals and the resampling.
    facts_seed
        Of the markets the facts are measured in (the same for every world).
    workers
        Local processes.
    generations
        At most this many generations, the prior sample included; the fit stops earlier when
        the threshold reaches 0.
    max_simulations
        At most this many worlds measured.
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    priors = priors_from_ranges(ranges)
    model = ReplayModel(priors)
    with FactsSimulator(priors, facts_seed, workers, root, on_world) as sim:
        sampler = ExecutorSampler(model, sim, seed, workers, on_start=on_start)
        abc = pyabc.ABCSMC(
            model,
            logistic_prior(priors),
            FactsDistance(),
            population_size=population,
            sampler=sampler,
            eps=pyabc.QuantileEpsilon(alpha=0.5),
        )
        db = root / "abc.sqlite"
        url = f"sqlite:///{db}"
        history = abc.load(url, 1) if db.exists() else abc.new(url, {"y": np.zeros(len(FACTS))})
        done = history.max_t + 1 if history.n_populations > 0 else 0
        last_eps = history.get_all_populations()["epsilon"].iloc[-1] if done else math.inf
        if done < generations and last_eps > 0 and history.total_nr_simulations < max_simulations:
            abc.run(
                minimum_epsilon=0.0,
                max_nr_populations=generations - done,
                max_total_nr_simulations=max_simulations,
            )
    return _collect(history, priors, ranges, seed, population, sim)


def _population(
    history: Any, t: int, priors: list[Prior], measured: dict[tuple, np.ndarray]
) -> pd.DataFrame:
    """A generation's worlds: parameters, ``weight`` and ``d:<fact>`` (looked up among the
    measured worlds by their exact values)."""
    df, w = history.get_distribution(m=0, t=t)
    z = pd.DataFrame({p.key: df[f"p{i}"].to_numpy(float) for i, p in enumerate(priors)})
    dist = np.array([measured[_point(row)] for row in z.to_dict(orient="records")])
    out = pd.DataFrame(
        {
            p.key: [
                round(v) if p.integer else v for v in (to_range(x, p.low, p.high) for x in z[p.key])
            ]
            for p in priors
        }
    )
    out["weight"] = np.asarray(w, float) / np.sum(w)
    for j, f in enumerate(FACTS):
        out[f"d:{f}"] = dist[:, j]
    return out.reset_index(drop=True)


def _collect(
    history: Any,
    priors: list[Prior],
    ranges: dict[str, Range],
    seed: int,
    population: int,
    sim: FactsSimulator,
) -> FactsFit:
    t = int(history.max_t)
    particles = _population(history, t, priors, sim.by_values)
    keys = [p.key for p in priors]
    posterior = resample(particles[keys], particles["weight"].to_numpy(), population, seed)
    prior_worlds, prior_facts = sim.prior_sample()
    pops = history.get_all_populations()
    eps = [float(e) for e in pops.loc[pops["t"] >= 0, "epsilon"]]
    return FactsFit(
        particles=particles,
        posterior=posterior,
        prior_facts=prior_facts,
        prior_worlds=prior_worlds,
        epsilons=eps,
        generations=t + 1,
        simulations=int(history.total_nr_simulations),
        ranges=ranges,
    )
