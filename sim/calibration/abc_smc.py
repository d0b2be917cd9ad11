"""ABC-SMC (pyabc) with the model's runs on the sweep executors, deterministic and resumable.

pyabc (Klinger, Rickert & Hasenauer 2018) runs the Sequential Monte Carlo: a prior sample,
then generations whose proposals come from the last population perturbed by a multivariate
normal kernel, accepted when the distance to the data falls below a threshold that shrinks to
the median of the last generation's distances. pyabc samples one candidate at a time through a
``Sampler``; :class:`ExecutorSampler` is such a sampler that hands whole batches of candidates
to a sweep executor instead:

1. *record*: for candidates ``i = j .. j + b`` of generation ``t``, seed numpy's global generator
   (which pyabc draws from) from ``SeedSequence(entropy=seed, spawn_key=(t + 1, i))`` and let
   pyabc propose; the model stops it at the simulation and keeps the proposal;
2. run the batch's proposals on the executor (runs already in the output folder are not run
   again);
3. *replay*: reseed each candidate the same way and let pyabc propose again (the same values),
   simulate (the stored result), measure the distance and accept or reject.

Particles are taken in candidate order until the population is full, so the posterior depends
on the seed and the inputs only, never on the batch size, the number of workers or the order
in which runs finish. pyabc keeps each finished generation in ``abc.sqlite``; a calibration
that stops mid-generation resumes from the last finished generation, and the runs of the
interrupted one come back from the folder.

The distance is the root mean square of ``(simulated - observed) / scale`` over the fitted rows,
with ``scale`` the row's standard error (given, or from its sample size), else the spread of
the prior predictive runs (median absolute deviation). A run without a value at a fitted row
(e.g. a failed run) is infinitely far.

This module never imports the UI.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from sim.calibration.data import SERIES, ObservedData
from sim.calibration.priors import Prior
from sim.calibration.simulate import Simulator, run_key

__all__ = ["ExecutorSampler", "ReplayModel", "ScaledDistance", "known_scales", "run_abc_smc"]

for _name in ("ABC", "pyabc", "Sampler", "Epsilon", "Distance", "History", "Transitions"):
    logging.getLogger(_name).setLevel(logging.WARNING)
logging.getLogger("ABC").setLevel(logging.WARNING)


class _Recorded(Exception):
    """Raised by the model in record mode once the proposal is known."""


def _names(priors: Sequence[Prior]) -> list[str]:
    return [f"p{i}" for i in range(len(priors))]


def pyabc_prior(priors: Sequence[Prior]) -> pyabc.Distribution:
    """The priors as a pyabc Distribution over the names ``p0, p1, ...``."""
    rvs = {}
    for name, p in zip(_names(priors), priors, strict=True):
        if p.form == "uniform":
            rvs[name] = pyabc.RV("uniform", p.low, p.high - p.low)
        elif p.form == "loguniform":
            rvs[name] = pyabc.RV("loguniform", p.low, p.high)
        elif math.isinf(p.low) and math.isinf(p.high):
            rvs[name] = pyabc.RV("norm", p.mean, p.sd)
        else:
            a, b = (p.low - p.mean) / p.sd, (p.high - p.mean) / p.sd
            rvs[name] = pyabc.RV("truncnorm", a, b, p.mean, p.sd)
    return pyabc.Distribution(**rvs)


class ReplayModel(pyabc.Model):
    """pyabc's model: in record mode it keeps the proposal and stops; in replay mode it returns
    the simulated rows the sampler set."""

    def __init__(self, priors: Sequence[Prior]) -> None:
        super().__init__("cxsim")
        self.keys = [p.key for p in priors]
        self.names = _names(priors)
        self.recording = True
        self.proposal: dict[str, float] = {}
        self.result: np.ndarray | None = None

    def values(self, pars: Any) -> dict[str, float]:
        """Scenario key -> value of a pyabc parameter."""
        return {k: float(pars[n]) for k, n in zip(self.keys, self.names, strict=True)}

    def sample(self, pars: Any) -> dict[str, np.ndarray]:
        """Record the proposal (record mode) or return the stored rows (replay mode)."""
        if self.recording:
            self.proposal = self.values(pars)
            raise _Recorded
        if self.values(pars) != self.proposal:  # pragma: no cover - replay must match record
            raise RuntimeError("replayed proposal differs from the recorded one")
        return {"y": self.result}


def _z_scale(observed: ObservedData) -> np.ndarray:
    """Each row's standard error: given, else from its sample size, else NaN."""
    df = observed.frame
    se = df["se"].to_numpy(dtype=float).copy()
    n, v = df["n"].to_numpy(dtype=float), df["value"].to_numpy(dtype=float)
    for i, series in enumerate(df["series"]):
        if (not np.isnan(se[i]) and se[i] > 0) or np.isnan(n[i]):
            continue
        kind = SERIES[series]
        if kind.proportion:
            p = min(max(v[i], 1 / n[i]), 1 - 1 / n[i]) if n[i] > 1 else 0.5
            se[i] = math.sqrt(p * (1 - p) / n[i])
        elif series == "nps":
            se[i] = 100 * math.sqrt(max(1 - (v[i] / 100) ** 2, 1e-4) / n[i])
        elif series == "satisfaction":
            se[i] = 2.0 / math.sqrt(n[i])  # a typical 2-point spread of answers
        elif series == "purchases":
            se[i] = math.sqrt(max(v[i], 1 / n[i]) / n[i])
    se[se <= 0] = np.nan
    return se


def known_scales(observed: ObservedData) -> np.ndarray:
    """Scales known from the data alone (NaN where the prior predictive spread is needed)."""
    return _z_scale(observed)


class ScaledDistance(pyabc.Distance):
    """Root mean square of standardized differences over the fitted rows.

    Parameters
    ----------
    observed
        The data (its fitted rows and standard errors).
    mask
        Rows that count (fitted rows of the chosen series).
    scales
        Known scales of every row (from an earlier session); None: computed at
        :meth:`initialize` from the prior sample where the data gives none.
    """

    def __init__(
        self, observed: ObservedData, mask: np.ndarray, scales: np.ndarray | None = None
    ) -> None:
        super().__init__()
        self.obs = observed.frame["value"].to_numpy(dtype=float)
        self.mask = np.asarray(mask, bool)
        self.given = _z_scale(observed)
        self.scales = None if scales is None else np.asarray(scales, float)
        self.on_scales: Callable[[np.ndarray], None] | None = None

    def requires_calibration(self) -> bool:
        """Scales may need the prior sample."""
        return self.scales is None

    def initialize(self, t: int, get_sample: Callable, x_0: dict, total_sims: int) -> None:
        """Fill the scales the data does not give from the prior predictive spread."""
        if self.scales is not None:
            return
        scales = self.given.copy()
        if np.isnan(scales[self.mask]).any():
            sims = np.array([p.sum_stat["y"] for p in get_sample().all_particles])
            with np.errstate(all="ignore"):
                spread = 1.4826 * np.nanmedian(np.abs(sims - np.nanmedian(sims, 0)), 0)
                sd = np.nanstd(sims, 0)
            spread = np.where(spread > 0, spread, sd)
            fill = np.isnan(scales)
            scales[fill] = spread[fill]
        floor = 1e-3 * np.maximum(np.abs(self.obs), 1e-3)
        scales = np.where(np.isfinite(scales) & (scales > floor), scales, floor)
        self.scales = scales
        if self.on_scales is not None:
            self.on_scales(scales)

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: Any = None) -> float:
        """The distance of a run's rows to the data."""
        if self.scales is None:  # pragma: no cover - initialize comes first
            raise RuntimeError("ScaledDistance used before initialize")
        y = np.asarray(x["y"], float)[self.mask]
        z = (y - self.obs[self.mask]) / self.scales[self.mask]
        if not np.all(np.isfinite(z)):
            return math.inf
        return float(np.sqrt(np.mean(z**2)))

    def get_config(self) -> dict:
        """For pyabc's database."""
        return {"name": "cxsim ScaledDistance"}


class ExecutorSampler(pyabc.sampler.Sampler):
    """Samples a pyabc population in batches run on a sweep executor (see module docstring).

    Parameters
    ----------
    model
        The :class:`ReplayModel` given to pyabc.
    simulator
        Runs batches of parameter values.
    seed
        The calibration's seed.
    workers
        Executor workers (a batch is at least twice this).
    on_batch
        Called with ``(t, accepted, n, evaluated)`` after each batch (progress display).
    """

    def __init__(
        self,
        model: ReplayModel,
        simulator: Simulator,
        seed: int,
        workers: int = 1,
        on_batch: Callable[[int, int, int, int], None] | None = None,
        on_start: Callable[[int, int], None] | None = None,
    ) -> None:
        super().__init__()
        self.model, self.simulator, self.seed = model, simulator, int(seed)
        self.workers = max(1, int(workers))
        self.on_batch, self.on_start = on_batch, on_start
        self.rate = 0.5  # a first guess of the acceptance rate; then the last generation's
        self.nr_evaluations_ = 0

    def _reseed(self, t: int, i: int) -> None:
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(t + 1, i))
        np.random.seed(seq.generate_state(4))  # noqa: NPY002 - pyabc draws from it

    def _batch_size(self, missing: int, n: int) -> int:
        want = math.ceil(missing / max(self.rate, 0.02) * 1.15)
        return int(min(max(want, 4 * self.workers, n // 4), 4 * n))

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        """Candidates in order, in batches, until ``n`` are accepted (or ``max_eval``)."""
        sample = self._create_empty_sample()
        model = self.model
        accepted = evaluated = start = 0
        rate = self.rate
        if all_accepted:
            self.rate = 1.0
        if self.on_start is not None:
            self.on_start(t, n)
        while accepted < n and evaluated < max_eval:
            size = n - accepted if all_accepted else self._batch_size(n - accepted, n)
            if max_eval < np.inf:
                size = int(min(size, max_eval - evaluated))
            batch: list[tuple[str, dict[str, float]]] = []
            model.recording = True
            for i in range(start, start + size):
                self._reseed(t, i)
                try:
                    simulate_one()
                except _Recorded:
                    batch.append((f"abc/{t}/{i}", dict(model.proposal)))
            stats = self.simulator.run(batch)
            model.recording = False
            for i, (label, values) in zip(range(start, start + size), batch, strict=True):
                model.proposal = values
                model.result = stats[run_key(label, values)]
                self._reseed(t, i)
                particle = simulate_one()
                sample.append(particle)
                evaluated += 1
                if particle.accepted:
                    accepted += 1
                    if accepted >= n:
                        break
            start += size
            if self.on_batch is not None:
                self.on_batch(t, accepted, n, evaluated)
            if not all_accepted:
                self.rate = max(accepted / max(evaluated, 1), 1e-3)
        if all_accepted:
            self.rate = rate
        model.recording = True
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample


def run_abc_smc(
    db: Path,
    observed: ObservedData,
    priors: Sequence[Prior],
    simulator: Simulator,
    *,
    mask: np.ndarray,
    seed: int,
    population: int,
    generations: int,
    max_simulations: int,
    min_epsilon: float,
    workers: int,
    scales: np.ndarray | None = None,
    on_scales: Callable[[np.ndarray], None] | None = None,
    on_batch: Callable[[int, int, int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> pyabc.storage.History:
    """Run (or resume) ABC-SMC and return pyabc's history.

    Parameters
    ----------
    db
        The SQLite file of pyabc's history; an existing one is resumed.
    generations
        Generations after the prior sample, counted over all sessions.
    scales
        The distance's scales from an earlier session (needed to resume after the prior sample).
    """
    model = ReplayModel(priors)
    distance = ScaledDistance(observed, mask, scales)
    distance.on_scales = on_scales
    sampler = ExecutorSampler(model, simulator, seed, workers, on_batch, on_start)
    abc = pyabc.ABCSMC(
        model,
        pyabc_prior(priors),
        distance,
        population_size=population,
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=0.5),
    )
    url = f"sqlite:///{db}"
    if db.exists():
        history = abc.load(url, 1)
    else:
        history = abc.new(url, {"y": observed.frame["value"].to_numpy(dtype=float)})
    done = history.max_t + 1 if history.n_populations > 0 else 0
    left = generations - done
    if left > 0 and history.total_nr_simulations < max_simulations:
        abc.run(
            minimum_epsilon=min_epsilon,
            max_nr_populations=left,
            max_total_nr_simulations=max_simulations,
        )
    return history


def posterior_frame(history: Any, priors: Sequence[Prior]) -> tuple[pd.DataFrame, int]:
    """The last generation's particles: one column per parameter key and ``weight``."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    names = _names(priors)
    out = pd.DataFrame({p.key: df[n].to_numpy() for p, n in zip(priors, names, strict=True)})
    out["weight"] = np.asarray(w, float) / np.sum(w)
    return out, int(history.max_t)
