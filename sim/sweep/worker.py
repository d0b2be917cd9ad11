"""One run of a sweep, as executed on a worker: the task, the function and its result.

:func:`run_one` is what every executor calls (in-process, in a local process pool or on a Dask
worker): it builds the market from the base scenario and the run's overrides with the run's own
``SeedSequence``, runs it, keeps the requested steps and columns and returns them with the run's
id and parameter columns. A run that raises is returned as a result with ``status = "error"``
and the error text, so one bad parameter combination never stops a sweep.

Small markets cost several times per customer what a large one does when stepped one by one, so
a sweep hands its workers :class:`RunBatch` es (:func:`make_batches`): :func:`run_batch` steps
the markets of a batch together as one state (``sim.batch``) and returns the same rows, to the
bit, as :func:`run_one` gives each run alone.

Everything here is picklable and importable on a worker that has only the ``sim`` package.
This module never imports the UI or an executor.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.tables import Cut

__all__ = [
    "BATCH_CUSTOMERS",
    "COHORT_KEYS",
    "FIRM_KEYS",
    "MARKET_KEYS",
    "SPLIT_SHARE",
    "OutputPlan",
    "RunBatch",
    "RunResult",
    "RunTask",
    "make_batches",
    "run_batch",
    "run_one",
]

MARKET_KEYS = ("step", "year")
"""Market columns always kept."""

FIRM_KEYS = ("step", "year", "firm", "name", "industry", "strategy", "active")
"""Firm columns always kept (``active``: the firm is in business at the step, which tells the
analysis which replicates a firm outcome is over, ``sim.sweep.analysis.population``)."""

BATCH_CUSTOMERS = 131_072
"""Customers per batch of runs a worker steps together (:func:`make_batches`): enough that a
step's fixed cost (its Python and numpy on firm-sized arrays) is shared by many markets, few
enough that a batch's state stays near the processor. A batch's 104 steps cost about 0.2 s of
CPU whatever its markets (1.5 ms a step: 1,000-customer markets of overpromise_vs_honest, one
thread, 16 to 80 markets a batch), so a run costs ``11 ms + 0.2 s / markets``: batches of 40,
64, 96, 128 and 160 markets, alternated six times in one process (6 December 2026, Intel
Xeon), 16.3, 14.5, 12.8, 12.6 and 13.9 ms of CPU a run (medians); the 160-market batch's
state no longer fits where the 128's does. 65,536 until 6 December (64 markets of 1,000 against
32, 3 December: 500 runs x 520 steps 26.9/28.6 s against 31.9/30.8 s on 2 workers); a
worker's peak grows by about 0.7 MB a market of 1,000 (experiments/benchmarks/batched_sweep.py
measures the sweeps and the peaks)."""

SPLIT_SHARE = 1 << 27
"""Customer-steps (customers x steps over its runs) of a worker's share of a sweep above which
:func:`make_batches` gives every worker two batches at least: about 15 s of one core at 1,000
customers a market (110-130 ns a customer-step). A batch is the unit of the sweep's progress and
of what an interrupted sweep loses, but a second batch a worker pays the step's fixed part again
(about 1.5 ms a step): 11% or more of a share that fits one batch (72 runs of 1,000 customers x
520 steps on 2 workers, 6 December 2026: 3.3 s in two batches, 4.0 s in four). So a share that
fits one batch is one batch, unless it takes long enough that progress and what an interruption
keeps matter more."""

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


@dataclass(frozen=True, slots=True)
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
    cuts
        For a table built for the run's whole batch (``sim.sweep.tables``): where the run's
        rows sit in it (``sim.sweep.tables.Cut``, whose ``frame`` is the run's table).

    Pickled, a table that is still its cut's frame travels as the cut, and a batch's results
    pickled together (as every executor returns them) carry each of its tables once, whole:
    160 runs of 1,000 customers x 104 steps in 4 batches pickle in 1 ms instead of 14-16 and
    load in 11-12 ms instead of 18-21 (CPU, the runs' frames cut again on arrival included), and
    the store writes a batch's rows without concatenating its runs' frames
    (``sim.sweep.tables.joined``).
    A result pickled alone carries its batch's whole tables: pickle a batch's results together.
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
    cuts: dict[str, Cut] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["tables"] = {
            name: cut if (cut := self.cuts.get(name)) is not None and cut.frame is table else table
            for name, table in self.tables.items()
        }
        state["cuts"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        tables, cuts = {}, {}
        for name, table in state["tables"].items():
            if isinstance(table, Cut):  # cut again from the batch's table, on arrival
                cuts[name], table = table, table.frame
            tables[name] = table
        self.__dict__.update(state, tables=tables, cuts=cuts)


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def failed(
    task: RunTask | RunBatch, error: str, tb: str = "", attempts: int = 1
) -> RunResult | list[RunResult]:
    """A result recording that ``task`` could not be completed (one per run of a batch)."""
    if isinstance(task, RunBatch):
        return [failed(t, error, tb, attempts) for t in task.tasks]  # type: ignore[misc]
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


def run_values(task: RunTask) -> dict[str, Any]:
    """The run's own columns of its tables, in order: its ids and its parameter values."""
    ids = {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "point": task.point,
        "replicate": task.replicate,
    }
    ids.update(task.values)
    return ids


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
    ids = run_values(task)
    if set(ids) & set(out.columns):  # refused as before: a run column cannot be a metric's
        for i, (name, value) in enumerate(ids.items()):
            out.insert(i, name, [value] * len(out))
    # the run's columns in front, in one go (inserting them one by one was a fifth of a small
    # run's cost in a batched sweep)
    front = pd.DataFrame({name: [value] * len(out) for name, value in ids.items()})
    return pd.concat([front, out], axis=1)


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

    started = time.perf_counter()
    use_threads(1)  # the sweep's parallelism is across runs: one thread per run
    model = None
    try:
        model = _build(task)
        model.batch.recorder.survey = _asks(task.output)  # as a batch of runs would
        model.run(task.steps)
        return _result(task, model, time.perf_counter() - started)
    except Exception as e:  # a run's own failure is data, not a reason to stop the sweep
        return _error(task, e, time.perf_counter() - started)
    finally:
        release(model)


def release(model: Any) -> None:
    """Let a market whose results were taken be freed.

    Mesa 3.3.1 keeps every model that ever made an agent as a key of the class attribute
    ``mesa.Agent._ids`` (mesa issue 3179, fixed upstream after 3.3.1), so a worker held every
    market it had run: its memory grew by about 15 MB a batch of 32 markets of 1,000
    customers, 2 GB a worker over a sweep of 10,000 runs. Nothing else refers to the market.

    A market and its agents refer to each other, so only Python's cyclic garbage collector
    frees it, and a full collection is rare: a worker kept the state of several batches
    (65 markets of 1,000 customers, about 29 MB each) until one ran, and its peak grew from
    about 226 MB after its first batch to 350-400 MB. The market therefore lets go of its
    batch and of its views of the batch's state here (``CustomerMarket._let_go``): once its
    markets are released, the batch and its arrays are freed at once, by reference counting.
    """
    if model is None:
        return
    from mesa import Agent

    ids = getattr(Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)
    model._let_go()


def _build(task: RunTask, scenarios: dict[tuple[int, int], Any] | None = None) -> Any:
    """The run's market. ``scenarios`` keeps the scenarios with overrides applied that a
    batch's runs share (a design point's replicates: the same base and overrides objects):
    the scenario is checked once (3 ms), and a market built from a ``Scenario`` without
    overrides uses it as it is (``sim.scenario.load_scenario``), as runs without overrides
    always have."""
    from sim.model import CustomerMarket
    from sim.scenario import load_scenario

    seed = np.random.SeedSequence(entropy=task.seed_entropy, spawn_key=(task.seed_key,))
    batched = scenarios is not None  # seeded by the batch it joins (sim.batch)
    if scenarios is None or not task.overrides:
        return CustomerMarket(
            task.scenario, rng=seed, overrides=task.overrides or None, batched=batched
        )
    key = (id(task.scenario), id(task.overrides))
    if key not in scenarios:
        scenarios[key] = load_scenario(task.scenario, task.overrides)
    return CustomerMarket(scenarios[key], rng=seed, batched=True)


def _result(
    task: RunTask, model: Any, seconds: float, kept: dict[str, Cut] | None = None
) -> RunResult:
    """The kept rows of a market that ran (``kept``: its market and firm tables, already built
    for its whole batch by ``sim.sweep.tables``)."""
    tables = {name: cut.frame for name, cut in (kept or {}).items()}
    if "market" in task.output.tables and kept is None:
        tables["market"] = _frame(
            task, model.model_metrics(), MARKET_KEYS, task.output.market_columns
        )
    if "firms" in task.output.tables and kept is None:
        tables["firms"] = _frame(task, model.firm_metrics(), FIRM_KEYS, task.output.firm_columns)
    if "cohorts" in task.output.tables:
        tables["cohorts"] = _frame(task, model.cohort_survival(), COHORT_KEYS, None, every=False)
    return RunResult(
        run_id=task.run_id,
        status="ok",
        tables=tables,
        seconds=seconds,
        worker=worker_name(),
        steps_run=int(model.steps),
        cuts=dict(kept or {}),
    )


def _error(task: RunTask, e: Exception, seconds: float) -> RunResult:
    line = f"{type(e).__name__}: {e}".splitlines()[0][:500]
    return RunResult(
        run_id=task.run_id,
        status="error",
        error=line,
        traceback=traceback.format_exc(),
        seconds=seconds,
        worker=worker_name(),
    )


@dataclass(frozen=True)
class RunBatch:
    """Runs of a sweep that one worker steps together as one state (``sim.batch``).

    Executors treat it like one task: :func:`run_batch` returns a result per run, and a batch
    whose worker dies is retried as a whole; on the local pool one that kills its worker alone
    is then cut in halves, each retried alone, down to the run that kills; on Dask one that ends
    as ``KilledWorker`` is cut in halves that go on as tasks, down to the run.

    Attributes
    ----------
    tasks
        The runs.
    """

    tasks: tuple[RunTask, ...]

    @property
    def run_id(self) -> str:
        """The first run's id: names the batch for the executors (runs are in one batch only)."""
        return self.tasks[0].run_id


def run_batch(batch: RunBatch | RunTask) -> list[RunResult] | RunResult:
    """Run the markets of ``batch``, stepping those of one shape together, and return one result
    per run, in order: the same rows as :func:`run_one` gives each run alone (batching is
    invisible in the numbers, ``sim.batch``).

    A run that cannot be built is an error result; markets on the complete graph run alone; if
    a batch's step raises, its runs are run again one by one so the error is the failing run's.
    Each result's ``seconds`` is its share of its group's wall time. A lone ``RunTask`` is
    :func:`run_one`'s. Markets that would record their metrics every step record only the steps
    kept (every ``output.every``-th, the last, the one they stop at): the same rows, for less
    work, as long as no strategy reads its own recorded metrics (none of the package's does).
    """
    if isinstance(batch, RunTask):
        return run_one(batch)
    from sim.batch import run as run_together
    from sim.batch import shape_of
    from sim.jit import use_threads
    from sim.sweep.tables import group_tables

    use_threads(1)  # the sweep's parallelism is across workers: one thread per worker
    results: dict[str, RunResult] = {}
    groups: dict[Any, list[tuple[RunTask, Any]]] = {}
    scenarios: dict[tuple[int, int], Any] = {}  # the tasks (and so the ids) live till the end
    for task in batch.tasks:
        started = time.perf_counter()
        try:
            model = _build(task, scenarios)
        except Exception as e:
            results[task.run_id] = _error(task, e, time.perf_counter() - started)
            continue
        alone = model.adjacency_is_complete
        key = (id(task) if alone else shape_of(model), task.steps, task.output)
        groups.setdefault(key, []).append((task, model))
    for (_, steps, output), members in groups.items():
        started = time.perf_counter()
        tasks = [task for task, _ in members]
        markets = [model for _, model in members]
        # record only the rows kept (``_keep_steps``), when alone they would record every step
        every = None
        if all(m.scenario.collect_every == 1 for m in markets):
            every = output.every if output.every is not None else steps + 1
        try:
            models = run_together(
                markets,
                steps,
                record_every=every,
                cohorts="cohorts" in output.tables,
                survey=_asks(output),
            )
        except Exception:  # find the failing run: each alone
            for task, model in members:
                release(model)
                results[task.run_id] = run_one(task)
            continue
        try:  # every run's tables at once (sim.sweep.tables); None: the run's own way
            kept = group_tables(tasks, models)
        except Exception:
            kept = [None] * len(tasks)
        share = (time.perf_counter() - started) / len(tasks)
        for task, model, tables in zip(tasks, models, kept, strict=True):
            try:
                results[task.run_id] = _result(task, model, share, tables)
            except Exception as e:
                results[task.run_id] = _error(task, e, share)
            release(model)
    return [results[task.run_id] for task in batch.tasks]


def _asks(output: OutputPlan) -> bool:
    """Whether the columns kept include the intention to stay, the answer of a survey panel
    that costs as much as a step's switching (``sim.metrics.BatchRecorder``): a batch that
    keeps none of it does not ask."""
    kept = [output.market_columns] if "market" in output.tables else []
    kept += [output.firm_columns] if "firms" in output.tables else []
    return any(columns is None or "intention_to_stay" in columns for columns in kept)


def customers_of(task: RunTask) -> int:
    """The number of customers of a run's market."""
    value = (task.overrides or {}).get("market.customers")
    return int(value if value is not None else task.scenario.market.customers)


def make_batches(tasks: list[RunTask], workers: int, customers: int = BATCH_CUSTOMERS) -> list:
    """``tasks`` cut into :class:`RunBatch` es of at most about ``customers`` customers each (a
    run larger than that alone), in order, as few as that allows in a multiple of ``workers``,
    two at least (results come back, and are written, in more than one piece) and two a worker
    when a worker's share is longer than :data:`SPLIT_SHARE` customer-steps, of equal sizes (to
    one run), so that every worker gets the same work.

    Every batch costs its step's fixed part once (the phases' set-up, about 1.5 ms a step
    whatever its markets: :data:`BATCH_CUSTOMERS`), so batches are as large as allowed and as
    few as possible, and on a short sweep more workers cut no more batches than one does: 160
    runs of 1,000 customers x 104 steps are two batches of 80 on one worker and on two (until 6
    December 2026, two a worker at least, under a cap of 65,536 customers: three batches of 53
    on one worker and four of 40 on two, whose fourth batch's fixed part was most of what the
    second worker lost). A worker slowed down by the machine is late by at most one batch. A
    market gets the same numbers whatever batch it is in (``sim.batch``).
    """
    if not tasks:
        return []
    each = np.array([customers_of(t) for t in tasks], np.int64)
    per_run = max(1, int(np.median(each)))
    size = max(1, customers // per_run)
    workers = max(1, workers)
    if size == 1 or len(tasks) <= workers:
        return list(tasks)
    share = int(each @ np.array([t.steps for t in tasks], np.int64)) / workers  # customer-steps
    least = 2 if share > SPLIT_SHARE else 1
    count = max(2, workers * max(least, -(-len(tasks) // (workers * size))))
    if count >= len(tasks):
        return list(tasks)
    bounds = np.linspace(0, len(tasks), count + 1).round().astype(int)
    return [RunBatch(tuple(tasks[a:b])) for a, b in itertools.pairwise(bounds)]
