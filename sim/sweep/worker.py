"""One run of a sweep, as executed on a worker: the task, the function and its result.

:func:`run_one` is what every executor calls (in-process, in a local process pool or on a Dask
worker): it builds the market from the base scenario and the run's overrides with the run's own
``SeedSequence``, runs it, keeps the requested steps and columns and returns them with the run's
id and parameter columns. A run that raises is returned as a result with ``status = "error"``
and the error text, so one bad parameter combination never stops a sweep.

Everything here is picklable and importable on a worker that has only the ``sim`` package.
This module never imports the UI or an executor.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "COHORT_KEYS",
    "FIRM_KEYS",
    "MARKET_KEYS",
    "OutputPlan",
    "RunResult",
    "RunTask",
    "run_one",
]

MARKET_KEYS = ("step", "year")
"""Market columns always kept."""

FIRM_KEYS = ("step", "year", "firm", "name", "industry", "strategy")
"""Firm columns always kept."""

COHORT_KEYS = ("step", "firm", "name", "cohort")
"""Cohort columns always kept."""


@dataclass(frozen=True)
class OutputPlan:
    """What to keep of a run.

    Attributes
    ----------
    tables
        ``market``, ``firms`` and/or ``cohorts`` (cohort survival snapshots, as
        ``CustomerMarket.cohort_survival``; not filtered by ``every``).
    every
        Keep steps that are multiples of this (and the final step); None keeps only the final.
    market_columns, firm_columns
        Metric columns to keep (None: all); the key columns are always kept.
    """

    tables: tuple[str, ...] = ("market", "firms")
    every: int | None = 1
    market_columns: tuple[str, ...] | None = None
    firm_columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run.

    Attributes
    ----------
    run_id, point_id, point, replicate, label
        Identity of the run, of its design point and the point's place in the design.
    overrides
        The point's dotted scenario keys and values.
    values
        The point's parameter columns, typed for the results tables.
    seed_entropy, seed_key
        The run's stream is ``SeedSequence(entropy=seed_entropy, spawn_key=(seed_key,))``.
    steps
        Steps to run.
    scenario
        The base scenario (fixed overrides applied); a :class:`sim.Scenario`.
    output
        What to keep.
    """

    run_id: str
    point_id: str
    point: int
    replicate: int
    label: str
    overrides: dict[str, Any]
    values: dict[str, Any]
    seed_entropy: int
    seed_key: int
    steps: int
    scenario: Any
    output: OutputPlan = field(default_factory=OutputPlan)


@dataclass
class RunResult:
    """What comes back from a run: its tables, or its error.

    Attributes
    ----------
    run_id
        The run.
    status
        ``"ok"`` or ``"error"``.
    tables
        ``{"market": DataFrame, "firms": DataFrame}`` for a run that finished.
    error, traceback
        For a failed run: one line, and the full traceback.
    seconds
        Wall time of the run on its worker.
    worker
        ``host:pid`` of the process that ran it.
    steps_run
        Steps actually run (fewer than asked if every firm exited).
    attempts
        Times the run was started (more than 1 when a worker died under it).
    """

    run_id: str
    status: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    error: str = ""
    traceback: str = ""
    seconds: float = 0.0
    worker: str = ""
    steps_run: int = 0
    attempts: int = 1


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def failed(task: RunTask, error: str, tb: str = "", attempts: int = 1) -> RunResult:
    """A result recording that ``task`` could not be completed."""
    return RunResult(
        run_id=task.run_id, status="error", error=error, traceback=tb, worker="", attempts=attempts
    )


def _keep_steps(df: pd.DataFrame, every: int | None) -> pd.DataFrame:
    if df.empty:
        return df
    final = df["step"].max()
    keep = df["step"] == final
    if every is not None:
        keep |= df["step"] % every == 0
    return df[keep]


def _frame(
    task: RunTask,
    df: pd.DataFrame,
    keys: tuple[str, ...],
    columns: tuple[str, ...] | None,
    every: bool = True,
) -> pd.DataFrame:
    if every:
        df = _keep_steps(df, task.output.every)
    metrics = [c for c in df.columns if c not in keys] if columns is None else list(columns)
    out = df[[*keys, *[c for c in metrics if c not in keys]]].reset_index(drop=True)
    ids = {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "point": task.point,
        "replicate": task.replicate,
    }
    ids.update(task.values)
    for i, (name, value) in enumerate(ids.items()):
        out.insert(i, name, [value] * len(out))
    return out


def run_one(task: RunTask) -> RunResult:
    """Run one market of a sweep and return the kept rows (or the error).

    Parameters
    ----------
    task
        The run: base scenario, overrides, seed, steps and what to keep.

    Returns
    -------
    RunResult
        ``status = "ok"`` with ``tables``, or ``status = "error"`` with the error; never raises
        for a problem of the run itself.
    """
    from sim.jit import use_threads
    from sim.model import CustomerMarket

    started = time.perf_counter()
    use_threads(1)  # the sweep's parallelism is across runs: one thread per run
    try:
        seed = np.random.SeedSequence(entropy=task.seed_entropy, spawn_key=(task.seed_key,))
        model = CustomerMarket(task.scenario, rng=seed, overrides=task.overrides or None)
        model.run(task.steps)
        tables = {}
        if "market" in task.output.tables:
            tables["market"] = _frame(
                task, model.model_metrics(), MARKET_KEYS, task.output.market_columns
            )
        if "firms" in task.output.tables:
            tables["firms"] = _frame(
                task, model.firm_metrics(), FIRM_KEYS, task.output.firm_columns
            )
        if "cohorts" in task.output.tables:
            tables["cohorts"] = _frame(
                task, model.cohort_survival(), COHORT_KEYS, None, every=False
            )
        return RunResult(
            run_id=task.run_id,
            status="ok",
            tables=tables,
            seconds=time.perf_counter() - started,
            worker=worker_name(),
            steps_run=int(model.steps),
        )
    except Exception as e:  # a run's own failure is data, not a reason to stop the sweep
        line = f"{type(e).__name__}: {e}".splitlines()[0][:500]
        return RunResult(
            run_id=task.run_id,
            status="error",
            error=line,
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - started,
            worker=worker_name(),
        )
