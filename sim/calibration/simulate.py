"""Running the model at parameter values: tasks for the sweep executors, results as summaries.

:class:`Simulator` turns a batch of ``(key, parameter values)`` into sweep
:class:`~sim.sweep.worker.RunTask` objects, hands the ones not yet in the output folder to an
executor (a local process pool, a Dask cluster, or this process), turns each finished run into
its simulated rows (:class:`Summaries`) and keeps it in the folder. Small markets are stepped
together: the tasks are cut into :class:`~sim.sweep.worker.RunBatch` es (``make_batches``, at
most about 131,072 customers each) that a worker runs as one state
(``executor.map(run_batch, batches)``), which gives each run the numbers it has alone. Each
run's random stream is ``SeedSequence(entropy=seed, spawn_key=(k,))`` with ``k`` from the run's
key, so the numbers depend on the key and the seed only, never on the executor, the number of
workers, the batches or the order in which runs finish.

This module never imports the UI. It imports the sweep layer's worker, not its executors'
internals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sim.calibration.priors import Prior
from sim.calibration.store import CalibrationStore, RunRecord
from sim.calibration.summaries import FIRM_METRICS, MARKET_METRICS, Summaries
from sim.scenario import Scenario
from sim.sweep.executors import Executor
from sim.sweep.worker import OutputPlan, RunResult, RunTask, make_batches, run_batch, run_one

__all__ = ["Simulator", "run_key"]


def run_key(label: str, values: dict[str, float]) -> str:
    """A run's key: a hash of its place in the calibration (label) and its parameter values."""
    text = json.dumps(
        {"at": label, "theta": {k: float(v) for k, v in values.items()}}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Simulator:
    """Runs batches of parameter values and returns their simulated rows.

    Parameters
    ----------
    scenario
        The base scenario (fixed changes applied).
    priors
        The unknown parameters (for rounding whole-number ones).
    summaries
        Maps a run to the observed rows.
    seed
        The calibration's seed.
    executor
        An entered sweep executor.
    store
        The output folder (runs found there are not run again); None keeps nothing.
    on_result
        Called with each finished :class:`RunRecord` (progress display).
    batch
        Step the runs' markets together on each worker (``sim.sweep.worker.run_batch``: the
        same numbers as one by one, faster for small markets); False runs each on its own.
    """

    def __init__(
        self,
        scenario: Scenario,
        priors: Sequence[Prior],
        summaries: Summaries,
        seed: int,
        executor: Executor,
        store: CalibrationStore | None = None,
        on_result: Callable[[RunRecord], None] | None = None,
        batch: bool = True,
    ) -> None:
        self.scenario, self.priors, self.summaries = scenario, list(priors), summaries
        self.seed, self.executor, self.store = int(seed), executor, store
        self.on_result, self.batch = on_result, bool(batch)
        self.memory: dict[str, RunRecord] = {}
        self.ran = 0
        self.output = OutputPlan(
            tables=summaries.tables(),
            every=1,
            market_columns=MARKET_METRICS,
            firm_columns=FIRM_METRICS,
        )

    def overrides(self, values: dict[str, float]) -> dict[str, Any]:
        """Scenario overrides for parameter values (whole numbers rounded)."""
        out: dict[str, Any] = {}
        for p in self.priors:
            v = float(values[p.key])
            out[p.key] = round(v) if p.integer else v
        return out

    def task(self, key: str, values: dict[str, float]) -> RunTask:
        """The sweep task of one run."""
        return RunTask(
            run_id=key,
            point_id=key,
            point=0,
            replicate=0,
            label=key,
            overrides=self.overrides(values),
            values={},
            seed_entropy=self.seed,
            seed_key=int(key, 16),
            steps=self.summaries.horizon_steps,
            scenario=self.scenario,
            output=self.output,
        )

    def known(self, key: str) -> RunRecord | None:
        """A run already done (this session or an earlier one)."""
        if key in self.memory:
            return self.memory[key]
        if self.store is not None:
            return self.store.runs.get(key)
        return None

    def run(self, batch: Sequence[tuple[str, dict[str, float]]]) -> dict[str, np.ndarray]:
        """Simulated rows of every run of ``batch`` (NaN rows for a failed run).

        Parameters
        ----------
        batch
            ``(label, parameter values)``; the label says where the run belongs (e.g.
            ``"abc/3/17"``) and with the values makes its key.

        Returns
        -------
        dict
            ``key -> simulated rows`` for every item of the batch.
        """
        keys = [run_key(label, values) for label, values in batch]
        todo = {}
        for key, (_, values) in zip(keys, batch, strict=True):
            if self.known(key) is None and key not in todo:
                todo[key] = self.task(key, values)
        tasks = list(todo.values())
        if not tasks:
            results = []
        elif self.batch:
            results = self.executor.map(run_batch, make_batches(tasks, self.executor.workers))
        else:
            results = self.executor.map(run_one, tasks)
        for done in results:  # a batch gives a list of results, a lone run one result
            for result in done if isinstance(done, list) else [done]:
                self._keep(self._record(result))
        return {key: self.known(key).stats for key in keys}  # type: ignore[union-attr]

    def _keep(self, record: RunRecord) -> None:
        """Remember a finished run, write it to the folder and report it."""
        self.memory[record.key] = record
        self.ran += 1
        if self.store is not None:
            self.store.add(record)
        if self.on_result is not None:
            self.on_result(record)

    def _record(self, result: RunResult) -> RunRecord:
        if result.status != "ok":
            return RunRecord(
                result.run_id,
                "error",
                np.full(self.summaries.n, np.nan),
                result.seconds,
                result.error,
            )
        try:
            stats = self.summaries.simulate(result.tables)
        except Exception as e:  # a run whose tables do not fit: data, not a crash
            return RunRecord(
                result.run_id,
                "error",
                np.full(self.summaries.n, np.nan),
                result.seconds,
                f"{type(e).__name__}: {e}".splitlines()[0],
            )
        return RunRecord(result.run_id, "ok", stats, result.seconds)
