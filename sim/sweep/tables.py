"""The kept rows of markets stepped together, read from their batch's recorder at once.

A run of a sweep returns its kept market and firm rows as two tables (``sim.sweep.worker``).
Built one run at a time through the model's own frames (``model_metrics``, ``firm_metrics``),
filtered, trimmed to the kept columns and prefixed with the run's columns, they cost 8-10 ms a
run of 1,000 customers x 104 steps, a third of what the run's steps cost in a batch of 32: a
few dozen pandas operations a table. :func:`group_tables` reads the recorded rows of all the
markets of a batch (``sim.metrics.BatchRecorder``: ``[B, F]`` arrays per recorded step) once
and picks each run's kept steps with numpy: the same columns, in the same order, with the same
values and types as the per-run path (tests/test_sweep_run.py compares them frame by frame).

Each table is built once for all the runs of a batch that keep the same columns and whose own
columns have the same types (usually all of them), from ready typed arrays (the run's columns
repeated with ``np.repeat`` in the type pandas infers for ``[value] * n``: object for strings
and None, bool, int64, float64), and cut into one frame per run (``iloc`` and
``reset_index``: a copy, indexed from 0, about 25 us). One ``DataFrame`` call a run and table
cost about 0.35 ms, mostly pandas checking and typing each of its 37-50 columns (typed arrays
alone saved 5%). Batched sweep of 160 runs x 1,000 customers x 104 steps, a row every 13
steps, 4 batches (load 0.1-1.4, 3 December 2026, alternated with the code before): the tables
of the 160 runs 137-223 -> 20-36 ms of CPU (medians of 5; under cProfile, 0.47 -> 0.05 s of
a 3.1 s serial sweep).

Each run keeps where its rows sit in the batch's table (:class:`Cut`). Its result pickles the
table as that cut, so the batch's results carry each table once, whole, and the main process
cuts the runs' frames again; the store writes neighbouring cuts of one table as one piece
(:func:`joined`) instead of concatenating 160 small frames (pandas' concat costs about 60 us a
frame of 37-50 columns). The 160 runs' results: pickling 14-16 -> 1 ms, loading 18-21 ->
11-12 ms, the store's concat 17-28 -> 1 ms and its ``write_chunk`` 48-72 -> 28-34 ms of CPU;
the main process of a 2-worker sweep of them 0.26 -> 0.14 s of CPU, of 640 runs 0.66 -> 0.40 s
(medians of 4; docs/performance.md).

Anything outside the common case (a run that recorded nothing, a run column named like a
metric or holding a value other than None, a string, a bool, an int64 or a float, columns it
does not have, a market without firms) is left to the per-run path, which gives the tables or
the error it always gave.

This module never imports the UI or an executor.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.columns import FIRM_COLUMNS

if TYPE_CHECKING:
    from sim.sweep.worker import RunTask

__all__ = ["Cut", "group_tables", "joined"]

_LABELS = ("name", "industry", "strategy")
"""Firm columns that are not recorded arrays but the firms' labels."""


def _is_int(name: str) -> bool:
    from sim.metrics import MARKET_INTS

    return name in MARKET_INTS or name.startswith("served[")


def _selected(names: list[str], keys: tuple[str, ...], columns: tuple[str, ...] | None) -> list:
    """The columns of a run's table, as ``sim.sweep.worker._frame`` orders them."""
    metrics = [c for c in names if c not in keys] if columns is None else list(columns)
    return [*keys, *[c for c in metrics if c not in keys]]


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


def _dtype(value: Any) -> np.dtype | None:
    """The type pandas infers for a column holding only ``value`` (``[value] * n``, n > 0), for
    the values a design gives (``sim.sweep.design._typed``); None for any other value, whose run
    is left to the per-run path."""
    if value is None or isinstance(value, str):
        return _OBJECT
    kind = type(value)
    if kind is bool:
        return np.dtype(bool)
    if kind is float:
        return np.dtype(np.float64)
    if kind is int and -(2**63) <= value < 2**63:
        return np.dtype(np.int64)
    return None


_OBJECT = np.dtype(object)


def _signature(task: RunTask) -> tuple[tuple[str, np.dtype], ...] | None:
    """The run's own columns and the types pandas would give them; None if one is unknown."""
    from sim.sweep.worker import run_values

    out = []
    for name, value in run_values(task).items():
        dtype = _dtype(value)
        if dtype is None:
            return None
        out.append((name, dtype))
    return tuple(out)


class _Group:
    """Runs of a batch that share their kept columns and the types of their own columns: their
    tables are built as one frame each and cut into the runs' frames."""

    def __init__(self, output: Any, signature: tuple[tuple[str, np.dtype], ...]) -> None:
        self.output, self.signature = output, signature
        self.index: list[int] = []  # the runs' places in the batch
        self.tasks: list[RunTask] = []
        self.models: list[Any] = []
        self.rows: list[np.ndarray] = []  # each run's kept recorded rows

    def add(self, i: int, task: RunTask, model: Any, rows: np.ndarray) -> None:
        self.index.append(i)
        self.tasks.append(task)
        self.models.append(model)
        self.rows.append(rows)

    def front(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """The runs' own columns, ``counts[k]`` rows of run ``k`` each, already typed (pandas
        infers nothing: its inference was most of what a run's frames cost)."""
        from sim.sweep.worker import run_values

        values = [list(run_values(t).values()) for t in self.tasks]
        cols = {}
        for j, (name, dtype) in enumerate(self.signature):
            if dtype == _OBJECT:  # element by element: a value may be a list
                column = np.empty(len(values), object)
                for k, v in enumerate(values):
                    column[k] = v[j]
            else:
                column = np.array([v[j] for v in values], dtype)
            cols[name] = np.repeat(column, counts)
        return cols


def _frame(group: _Group, cols: dict[str, np.ndarray], counts: np.ndarray) -> pd.DataFrame:
    front = group.front(counts)
    if set(front) & set(cols):  # the per-run path refuses it its own way
        raise KeyError("a run column is named like a metric")
    return pd.DataFrame({**front, **cols})


def _market_table(group: _Group, rec: _Recorded, r: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """The market rows of a group's runs, one after another (``r``, ``b``: recorded row and
    market of each)."""
    from sim.sweep.worker import MARKET_KEYS

    names = _selected(list(rec.market), MARKET_KEYS, group.output.market_columns)
    cols = {}
    for name in names:
        values = rec.market[name][r, b]  # KeyError for a column it does not have
        cols[name] = values.astype(np.int64 if _is_int(name) else np.float64)
    return _frame(group, cols, np.array([len(rows) for rows in group.rows]))


def _firm_table(group: _Group, rec: _Recorded, r: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """The firm rows of a group's runs: each kept step's firms in order, run after run."""
    from sim.sweep.worker import FIRM_KEYS

    if set(FIRM_COLUMNS) != {*rec.firm, *_LABELS}:
        raise KeyError("the recorded firm columns are not FIRM_COLUMNS")
    names = _selected(list(FIRM_COLUMNS), FIRM_KEYS, group.output.firm_columns)
    n_firms = rec.firm["firm"].shape[2]
    if not n_firms:  # pandas would type a run's empty columns otherwise: the per-run path
        raise ValueError("a market without firms")
    firm = np.arange(n_firms)
    run = np.repeat(np.arange(len(group.rows)), [len(rows) for rows in group.rows])
    labels = {  # [runs, F] per label, read at each kept row's run: [rows * F]
        "name": [np.array(m.firm_names, dtype=object)[firm] for m in group.models],
        "industry": [
            np.array(m.industries, dtype=object)[m.firm_state.industry[firm]] for m in group.models
        ],
        "strategy": [np.array(m.strategy_labels, dtype=object)[firm] for m in group.models],
    }
    cols = {}
    for name in names:
        if name in labels:
            cols[name] = np.stack(labels[name])[run].reshape(-1)
        else:
            cols[name] = rec.firm[name][r, b].reshape(-1)
    return _frame(group, cols, np.array([len(rows) * n_firms for rows in group.rows]))


class Cut:
    """A run's rows ``start:stop`` of a table built for several runs at once (``whole``), and
    the run's frame of them (``frame``).

    A result pickles such a table as its cut (``sim.sweep.worker.RunResult``): pickle keeps one
    copy of an object that several others refer to, so a batch's table travels once, whole,
    instead of as many small frames, and the run's frame is cut again where it arrives. The
    store writes neighbouring cuts of one table as one piece (:func:`joined`).
    """

    __slots__ = ("frame", "start", "stop", "whole")

    def __init__(self, whole: pd.DataFrame, start: int, stop: int) -> None:
        self.whole, self.start, self.stop = whole, int(start), int(stop)
        self.frame = self.take()

    def take(self) -> pd.DataFrame:
        """The run's rows as a frame indexed from 0: a view of ``whole``'s rows (nothing reads
        a run's frame to change it; the runs' rows do not overlap). A copy, as
        ``reset_index(drop=True)`` made it, took 55-60 us against 12-13 (a firms table of 32
        columns; pandas 2.3), so unpickling a batch of 80 runs' results, in the sweep's process,
        took 6.2 ms, most of it cutting the runs' frames again."""
        frame = self.whole.iloc[self.start : self.stop]
        frame.index = pd.RangeIndex(self.stop - self.start)
        return frame

    def __getstate__(self) -> tuple[pd.DataFrame, int, int]:
        return self.whole, self.start, self.stop

    def __setstate__(self, state: tuple[pd.DataFrame, int, int]) -> None:
        self.whole, self.start, self.stop = state
        self.frame = self.take()


def _cut(frame: pd.DataFrame, counts: list[int]) -> list[Cut]:
    """Each run's rows of a group's frame."""
    bounds = np.cumsum([0, *counts])
    return [Cut(frame, a, z) for a, z in itertools.pairwise(bounds)]


def joined(tables: list[tuple[pd.DataFrame, Cut | None]]) -> list[pd.DataFrame]:
    """Runs' frames (each with its cut, or None), in order, as fewer frames of the same rows:
    neighbouring cuts of one whole table, whose frames are still those cut from it, are one
    slice of it. ``pd.concat`` of the result is ``pd.concat`` of the frames; its cost grows with
    the frames' number (about 60 us a frame of 37-50 columns), so a chunk of 160 runs from 4
    batches is 4 pieces instead of 160."""
    pieces: list[Any] = []  # frames, or [whole, start, stop]
    for frame, cut in tables:
        if cut is None or cut.frame is not frame:
            pieces.append(frame)
            continue
        last = pieces[-1] if pieces else None
        if isinstance(last, list) and last[0] is cut.whole and last[2] == cut.start:
            last[2] = cut.stop
        else:
            pieces.append([cut.whole, cut.start, cut.stop])
    out = []
    for piece in pieces:
        if isinstance(piece, list):
            whole, start, stop = piece
            piece = whole if (start, stop) == (0, len(whole)) else whole.iloc[start:stop]
        out.append(piece)
    return out


def group_tables(tasks: list[RunTask], models: list[Any]) -> list[dict[str, Cut] | None]:
    """The ``market`` and ``firms`` tables each run of a batch keeps (``task.output``), read
    from the markets' shared recorder, as cuts of tables built for several runs (the run's
    frame is ``cut.frame``); None for a run (or all of them) left to the per-run path.

    Parameters
    ----------
    tasks, models
        The runs and their markets, stepped together as one ``sim.batch.MarketBatch``.
    """
    recorder = models[0].recorder.batch
    out: list[dict[str, Cut] | None] = [None] * len(tasks)
    if not recorder.rows or any(m.recorder.batch is not recorder for m in models):
        return out
    if pd.get_option("future.infer_string"):  # strings would not be objects: the per-run path
        return out
    rec = _Recorded(recorder.rows)
    groups: dict[Any, _Group] = {}
    for i, (task, model) in enumerate(zip(tasks, models, strict=True)):
        rows = rec.kept(model.recorder.b, task.output.every)
        signature = _signature(task)
        if rows is None or signature is None:
            continue
        key = (task.output, signature)
        groups.setdefault(key, _Group(*key)).add(i, task, model, rows)
    for group in groups.values():
        r = np.concatenate(group.rows)
        b = np.repeat([m.recorder.b for m in group.models], [len(x) for x in group.rows])
        try:
            tables = {}
            if "market" in group.output.tables:
                market = _market_table(group, rec, r, b)
                tables["market"] = _cut(market, [len(x) for x in group.rows])
            if "firms" in group.output.tables:
                firms = _firm_table(group, rec, r, b)
                n_firms = rec.firm["firm"].shape[2]
                tables["firms"] = _cut(firms, [len(x) * n_firms for x in group.rows])
        except (KeyError, IndexError, ValueError):
            continue
        for k, i in enumerate(group.index):
            out[i] = {name: cuts[k] for name, cuts in tables.items()}
    return out
