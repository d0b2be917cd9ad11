"""The kept rows of markets stepped together, read from their batch's recorder at once.

A run of a sweep returns its kept market and firm rows as two tables (``sim.sweep.worker``).
Built one run at a time through the model's own frames (``model_metrics``, ``firm_metrics``),
filtered, trimmed to the kept columns and prefixed with the run's columns, they cost 8-10 ms a
run of 1,000 customers x 104 steps, a third of what the run's steps cost in a batch of 32: a
few dozen pandas operations a table. :func:`group_tables` reads the recorded rows of all the
markets of a batch (``sim.metrics.BatchRecorder``: ``[B, F]`` arrays per recorded step) once,
picks each run's kept steps with numpy and builds each of its tables with one ``DataFrame``
call: the same columns, in the same order, with the same values and types as the per-run path
(tests/test_sweep_run.py compares them frame by frame). Anything outside the common case (a
run that recorded nothing, a run column named like a metric, columns it does not have) is
left to the per-run path, which gives the tables or the error it always gave.

This module never imports the UI or an executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.columns import FIRM_COLUMNS

if TYPE_CHECKING:
    from sim.sweep.worker import RunTask

__all__ = ["group_tables"]

_LABELS = ("name", "industry", "strategy")
"""Firm columns that are not recorded arrays but the firms' labels."""


def _is_int(name: str) -> bool:
    from sim.metrics import MARKET_INTS

    return name in MARKET_INTS or name.startswith("served[")


def _selected(names: list[str], keys: tuple[str, ...], columns: tuple[str, ...] | None) -> list:
    """The columns of a run's table, as ``sim.sweep.worker._frame`` orders them."""
    metrics = [c for c in names if c not in keys] if columns is None else list(columns)
    return [*keys, *[c for c in metrics if c not in keys]]


def _run_columns(task: RunTask, n: int) -> dict[str, list[Any]]:
    """The run's own columns, as lists (pandas infers their types as the per-run path does)."""
    from sim.sweep.worker import run_values

    return {name: [value] * n for name, value in run_values(task).items()}


class _Recorded:
    """The recorded rows of a batch, stacked: ``steps [R]``, ``mask [R, B]``, firm columns
    ``[R, B, F]`` and market columns ``[R, B]``."""

    def __init__(self, rows: list[tuple[int, np.ndarray, dict, dict]]) -> None:
        self.steps = np.array([r[0] for r in rows], np.int64)
        self.mask = np.stack([r[1] for r in rows])
        self.firm = {k: np.stack([r[2][k] for r in rows]) for k in rows[0][2]}
        self.market = {k: np.stack([r[3][k] for r in rows]) for k in rows[0][3]}

    def kept(self, b: int, every: int | None) -> np.ndarray | None:
        """Rows of market ``b`` that its run keeps: multiples of ``every`` and its last."""
        mine = np.flatnonzero(self.mask[:, b])
        if not len(mine):
            return None
        steps = self.steps[mine]
        keep = steps == steps.max()
        if every is not None:
            keep |= steps % every == 0
        return mine[keep]


def _market_table(task: RunTask, rec: _Recorded, b: int, rows: np.ndarray) -> pd.DataFrame:
    from sim.sweep.worker import MARKET_KEYS

    names = _selected(list(rec.market), MARKET_KEYS, task.output.market_columns)
    cols = {}
    for name in names:
        values = rec.market[name][rows, b]  # KeyError for a column it does not have
        cols[name] = values.astype(np.int64 if _is_int(name) else np.float64)
    return _table(task, cols, len(rows))


def _firm_table(
    task: RunTask, model: Any, rec: _Recorded, b: int, rows: np.ndarray
) -> pd.DataFrame:
    from sim.sweep.worker import FIRM_KEYS

    if set(FIRM_COLUMNS) != {*rec.firm, *_LABELS}:
        raise KeyError("the recorded firm columns are not FIRM_COLUMNS")
    names = _selected(list(FIRM_COLUMNS), FIRM_KEYS, task.output.firm_columns)
    n_firms = rec.firm["firm"].shape[2]
    firm = np.tile(np.arange(n_firms), len(rows))
    labels = {
        "name": np.array(model.firm_names, dtype=object)[firm],
        "industry": np.array(model.industries, dtype=object)[model.firm_state.industry[firm]],
        "strategy": np.array(model.strategy_labels, dtype=object)[firm],
    }
    cols = {}
    for name in names:
        cols[name] = labels[name] if name in labels else rec.firm[name][rows, b].reshape(-1)
    return _table(task, cols, len(rows) * n_firms)


def _table(task: RunTask, cols: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    front = _run_columns(task, n)
    if set(front) & set(cols):  # the per-run path refuses it its own way
        raise KeyError("a run column is named like a metric")
    return pd.DataFrame({**front, **cols})


def group_tables(tasks: list[RunTask], models: list[Any]) -> list[dict[str, pd.DataFrame] | None]:
    """The ``market`` and ``firms`` tables each run of a batch keeps (``task.output``), read
    from the markets' shared recorder; None for a run (or all of them) left to the per-run
    path.

    Parameters
    ----------
    tasks, models
        The runs and their markets, stepped together as one ``sim.batch.MarketBatch``.
    """
    recorder = models[0].recorder.batch
    if not recorder.rows or any(m.recorder.batch is not recorder for m in models):
        return [None] * len(tasks)
    rec = _Recorded(recorder.rows)
    out: list[dict[str, pd.DataFrame] | None] = []
    for task, model in zip(tasks, models, strict=True):
        b = model.recorder.b
        rows = rec.kept(b, task.output.every)
        if rows is None:
            out.append(None)
            continue
        try:
            tables = {}
            if "market" in task.output.tables:
                tables["market"] = _market_table(task, rec, b, rows)
            if "firms" in task.output.tables:
                tables["firms"] = _firm_table(task, model, rec, b, rows)
        except (KeyError, IndexError, ValueError):
            out.append(None)
            continue
        out.append(tables)
    return out
