"""Running a calibration end to end: inputs, ABC-SMC on an executor, results in the folder.

:func:`calibrate` is the Python entry point and what ``cxsim calibrate`` and the browser's
Calibrate page call. It checks the scenario, the data and the calibration file, opens (or
resumes) the output folder, runs ABC-SMC with the model's runs on a sweep executor, then writes
the posterior, its intervals, the identifiability table, the posterior predictive bands (table
and PNG) and the fitted scenario. On Ctrl-C the finished runs are kept and
:class:`CalibrationInterrupted` is raised; the same call with the same folder goes on.

This module never imports the UI.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from sim.calibration.data import ObservedData, observed_csv, read_observed
from sim.calibration.errors import DataError
from sim.calibration.priors import Prior
from sim.calibration.progress import CalibrationProgress, generations
from sim.calibration.spec import CalibrationSpec, load_calibration
from sim.calibration.store import CalibrationStore, blas_kernels
from sim.calibration.summaries import Summaries
from sim.scenario import Scenario, load_scenario, scenario_hash

__all__ = ["CalibrationInterrupted", "CalibrationResult", "calibrate", "prepare"]


@dataclass
class CalibrationResult:
    """What a finished calibration wrote and found.

    Attributes
    ----------
    out
        The output folder.
    posterior
        Weighted particles of the last generation (one column per parameter, ``weight``).
    intervals, identifiability, bands
        The tables written to ``intervals.csv``, ``identifiability.csv`` and
        ``predictive.parquet``.
    fitted
        The fitted scenario (posterior medians).
    generations
        ABC-SMC generations after the prior sample.
    stopped_by
        What ended the search: ``"generations"`` (all that were asked for), ``"min_epsilon"``
        or ``"max_simulations"`` (see :func:`stopped_by`).
    epsilon
        The last generation's acceptance threshold.
    runs_used, runs_this_session
        Model runs in all sessions / in this one.
    seconds
        Wall time of this session.
    priors
        The unknown parameters' priors.
    files
        The result files, by name.
    """

    out: Path
    posterior: pd.DataFrame
    intervals: pd.DataFrame
    identifiability: pd.DataFrame
    bands: pd.DataFrame
    fitted: Scenario
    generations: int
    epsilon: float
    runs_used: int
    runs_this_session: int
    seconds: float
    priors: list[Prior] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    stopped_by: str = "generations"


def stopped_by(spec: CalibrationSpec, done: int, epsilon: float) -> str:
    """What ended a finished search, checked in pyabc's order: ``"generations"`` once all the
    generations asked for ran, else ``"min_epsilon"`` once the threshold fell to it, else
    ``"max_simulations"`` (``done``: generations after the prior sample; ``epsilon``: the
    last one's threshold). The budget is checked between generations, as pyabc's
    ``max_total_nr_simulations`` is: no generation starts once ``max_simulations`` runs were
    used, and the one that crosses it runs to its end (a generation cut short would leave no
    population), so ``runs_used`` may pass the budget by up to one generation's runs."""
    if done >= spec.generations:
        return "generations"
    if epsilon <= spec.min_epsilon:
        return "min_epsilon"
    return "max_simulations"


def _other_blas(sessions: list[dict[str, Any]]) -> list[str] | None:
    """The BLAS kernels of an earlier session that differ from the last session's, if any."""
    now = sessions[-1].get("blas")
    for earlier in sessions[:-1]:
        if "blas" in earlier and earlier["blas"] != now:
            return earlier["blas"]
    return None


class CalibrationInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a calibration; the finished runs and generations are in ``out``."""

    def __init__(self, out: Path, runs: int) -> None:
        super().__init__(f"calibration interrupted; {runs} runs of this session kept in {out}")
        self.out, self.runs = out, runs


@dataclass
class Inputs:
    """Checked inputs of a calibration."""

    base: Scenario
    spec: CalibrationSpec
    observed: ObservedData
    mask: np.ndarray
    data_name: str


def prepare(
    scenario: str | Path | Scenario | dict[str, Any],
    data: str | Path | pd.DataFrame,
    calibration: str | Path | dict[str, Any] | CalibrationSpec,
    *,
    data_name: str | None = None,
) -> Inputs:
    """Check the scenario, the data and the calibration against each other.

    Raises
    ------
    ScenarioError, DataError, CalibrationFileError
        One line naming the file and the key, row or column.
    """
    scenario = load_scenario(scenario)
    spec = (
        calibration
        if isinstance(calibration, CalibrationSpec)
        else load_calibration(calibration, scenario)
    )
    base = load_scenario(scenario, spec.fixed) if spec.fixed else scenario
    observed = read_observed(data, [f.name for f in base.firms], name=data_name)
    frame = observed.frame
    chosen = frame["series"].isin(spec.series) if spec.series else np.ones(len(frame), bool)
    mask = np.asarray(chosen & ~frame["holdout"], bool)
    if not mask.any():
        raise DataError(
            observed.source,
            None,
            "series",
            f"no fitted rows of the series to match ({', '.join(spec.series or [])}); "
            f"the data has {', '.join(observed.series)}",
        )
    _check_horizon(observed, base)
    name = data_name or (observed.source if not isinstance(data, pd.DataFrame) else "<data>")
    return Inputs(base, spec, observed, mask, name)


def _check_horizon(observed: ObservedData, base: Scenario) -> None:
    """Every row within the scenario's run: the runs last until the latest row, so a year
    typed 50 for 0.5 would otherwise make every run 25 times longer without a word."""
    frame = observed.frame
    spy = base.steps_per_year
    last = frame.loc[frame["year"].idxmax()]
    if round(float(last["year"]) * spy) > base.steps:
        raise DataError(
            observed.source,
            int(last["row"]),
            "year",
            f"{last['year']:g} is after the scenario's run ends (year {base.steps / spy:g}: "
            f"steps = {base.steps} of {spy} a year); expected a year up to "
            f"{base.steps / spy:g}, or a scenario with more steps",
        )


def _identity(inputs: Inputs) -> tuple[dict[str, str], str]:
    """What decides a calibration's posterior, as the output folder's ``identity``, and the
    ``observed.csv`` it writes: the SHA-256 of that file (the checked observations, not the
    bytes of the file they came from), the calibration's :meth:`~CalibrationSpec.fit_hash` and
    the base scenario's hash. A folder's own ``scenario.toml``, ``observed.csv`` and
    ``calibration.toml`` given back make the identity they were written with."""
    text = observed_csv(inputs.observed)
    return {
        "observed_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "calibration": inputs.spec.fit_hash(),
        "scenario": scenario_hash(inputs.base),
    }, text


def _data_record(inputs: Inputs, observed_sha256: str) -> dict[str, str]:
    """The data file given and its SHA-256 (of the canonical text for data given as a frame)."""
    return {"file": inputs.data_name, "sha256": inputs.observed.sha256 or observed_sha256}


def calibrate(
    scenario: str | Path | Scenario | dict[str, Any],
    data: str | Path | pd.DataFrame,
    calibration: str | Path | dict[str, Any] | CalibrationSpec,
    out: str | Path,
    *,
    executor: Any = None,
    workers: int | None = None,
    progress: CalibrationProgress | None = None,
    force: bool = False,
    argv: list[str] | None = None,
    data_name: str | None = None,
) -> CalibrationResult:
    """Fit the unknown parameters of a scenario to observed series (ABC-SMC).

    Parameters
    ----------
    scenario
        A scenario name, file, dict or :class:`~sim.Scenario`.
    data
        Observed series: a CSV or Parquet file (see :mod:`sim.calibration.data`) or a frame.
    calibration
        The calibration file (see :mod:`sim.calibration.spec`), its content, or a spec.
    out
        Output folder: created, or resumed if it holds the same calibration.
    executor
        ``"local"`` (default: a process pool on every core), ``"serial"``, ``"dask"``, a Dask
        scheduler address, or a :class:`~sim.sweep.executors.Executor`.
    workers
        Processes for ``"local"`` / ``"dask"``.
    progress
        Receives the progress (:mod:`sim.calibration.progress`); None shows nothing.
    force
        Replace another calibration in ``out`` instead of refusing.
    argv
        Command line for the manifest.
    data_name
        How to name the data in messages and the fitted scenario (default: its path).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ScenarioError, DataError, CalibrationFileError, CalibrationStoreError
        Bad input, nothing written (a store error: nothing changed in ``out``).
    CalibrationInterrupted
        On Ctrl-C, after the finished runs were written.
    """
    from sim.calibration.abc_smc import posterior_frame, run_abc_smc
    from sim.calibration.plots import plot_marginals, plot_predictive
    from sim.calibration.predictive import draw_posterior, predictive_bands
    from sim.calibration.results import (
        fitted_scenario,
        fitted_scenario_toml,
        identifiability,
        intervals,
    )
    from sim.calibration.simulate import Simulator
    from sim.sweep.context import collector_frozen
    from sim.sweep.executors import make_executor

    started = time.perf_counter()
    inputs = prepare(scenario, data, calibration, data_name=data_name)
    base, spec, observed = inputs.base, inputs.spec, inputs.observed
    progress = progress or CalibrationProgress()
    ident, observed_text = _identity(inputs)
    ex = make_executor(executor, workers)
    store = CalibrationStore.open(out, ident, force=force, executor=ex.describe(), argv=argv)
    status = "failed"
    sim: Simulator | None = None
    try:
        if not store.resumed:
            # the inputs as cxsim calibrate takes them back (docs/calibration.md, "The outputs")
            store.path("calibration.toml").write_text(tomli_w.dumps(spec.to_dict()))
            store.path("scenario.toml").write_text(base.to_toml())
            store.path("observed.csv").write_bytes(observed_text.encode())
        # the file the folder was first fitted to: a resume may read another file holding the
        # same observations (its own observed.csv); each session's argv names the one it read
        data = store.manifest.setdefault("data", _data_record(inputs, ident["observed_sha256"]))
        store.manifest["parameters"] = {
            p.key: {**p.to_dict(), **({"integer": True} if p.integer else {})} for p in spec.priors
        }
        store.manifest["seed"] = spec.seed
        summaries = Summaries(observed, base.steps_per_year)
        scales_path = store.path("scales.json")
        scales = (
            np.array(json.loads(scales_path.read_text()), float) if scales_path.exists() else None
        )

        def keep_scales(values: np.ndarray) -> None:
            scales_path.write_text(json.dumps([float(v) for v in values]))

        def on_start(t: int, n: int) -> None:
            progress.set_phase("prior sample" if t < 0 else f"generation {t + 1}", n)

        def on_batch(t: int, accepted: int, n: int, evaluated: int) -> None:
            progress.accepted_so_far(accepted)

        # the objects held before it left out of the collector's passes while it runs (its
        # full passes took 0.36-0.6 s of this process's CPU a calibration, 0.004-0.02 s so)
        with collector_frozen(), ex:
            progress.start(ex.describe())
            if store.resumed:
                progress.note(f"resuming {store.root}: {len(store.runs)} runs already there")
                other = _other_blas(store.manifest["sessions"])
                if other:
                    progress.note(
                        f"note: an earlier session's BLAS kernels were {other}, this one's "
                        f"{blas_kernels()}: the generations from here can differ from those of "
                        "one uninterrupted run on either (docs/calibration.md, 'The same seed "
                        "on another processor')"
                    )
            sim = Simulator(
                base,
                spec.priors,
                summaries,
                spec.seed,
                ex,
                store,
                on_result=lambda r: progress.run_done(r.status == "ok"),
            )
            history = run_abc_smc(
                store.path("abc.sqlite"),
                observed,
                spec.priors,
                sim,
                mask=inputs.mask,
                seed=spec.seed,
                population=spec.population,
                generations=spec.generations,
                max_simulations=spec.max_simulations,
                min_epsilon=spec.min_epsilon,
                workers=ex.workers,
                scales=scales,
                on_scales=keep_scales,
                on_batch=on_batch,
                on_start=on_start,
            )
            posterior, t_last = posterior_frame(history, spec.priors)
            pops = history.get_all_populations()
            epsilon = float(pops["epsilon"].iloc[-1])
            runs_used = int(history.total_nr_simulations)
            stop = stopped_by(spec, t_last + 1, epsilon)
            table = intervals(posterior, spec.priors)
            ident = identifiability(posterior, spec.priors)
            draws = draw_posterior(posterior, spec.priors, spec.predictive, spec.seed)
            progress.set_phase("predictive", len(draws))  # a line printer ends the last one
            progress.note(
                f"{generations(t_last + 1)}, threshold {epsilon:.3g}, {runs_used} runs used"
            )
            bands, _ = predictive_bands(observed, sim, draws)
            progress.accepted_so_far(len(draws))
        posterior.to_parquet(store.path("posterior.parquet"), index=False)
        table.to_csv(store.path("intervals.csv"), index=False)
        ident.to_csv(store.path("identifiability.csv"), index=False)
        bands.drop(columns=["row"]).to_parquet(store.path("predictive.parquet"), index=False)
        files = {
            "posterior.parquet": store.path("posterior.parquet"),
            "intervals.csv": store.path("intervals.csv"),
            "identifiability.csv": store.path("identifiability.csv"),
            "predictive.parquet": store.path("predictive.parquet"),
        }
        if spec.predictive:
            files["predictive.png"] = plot_predictive(
                bands, store.path("predictive.png"), title=f"{base.name}: posterior predictive"
            )
        files["marginals.png"] = plot_marginals(posterior, spec.priors, store.path("marginals.png"))
        fitted = fitted_scenario(base, table, spec.priors)
        store.path("fitted.toml").write_text(
            fitted_scenario_toml(
                base,
                table,
                spec.priors,
                data_file=data["file"],
                data_sha256=data["sha256"],
                runs=runs_used,
            )
        )
        files["fitted.toml"] = store.path("fitted.toml")
        status = "complete"
        seconds = time.perf_counter() - started
        store.manifest["posterior_median"] = dict(
            zip(table["parameter"], map(float, table["median"]), strict=True)
        )
        store.manifest["result"] = {
            "generations": t_last + 1,
            "epsilon": epsilon,
            "runs_used": runs_used,
            "stopped_by": stop,
            "predictive_runs": len(draws),
            "fitted_inside90": float(bands.loc[~bands["holdout"], "inside90"].mean()),
        }
        return CalibrationResult(
            out=store.root,
            posterior=posterior,
            intervals=table,
            identifiability=ident,
            bands=bands,
            fitted=fitted,
            generations=t_last + 1,
            epsilon=epsilon,
            runs_used=runs_used,
            runs_this_session=sim.ran,
            seconds=seconds,
            priors=list(spec.priors),
            files=files,
            stopped_by=stop,
        )
    except KeyboardInterrupt:
        status = "interrupted"
        raise CalibrationInterrupted(store.root, sim.ran if sim else 0) from None
    finally:
        progress.stop()
        store.finish(status, seconds=round(time.perf_counter() - started, 2))
