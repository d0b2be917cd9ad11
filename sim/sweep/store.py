"""The results folder of a sweep: Parquet chunks, a manifest, resume, and the readers.

Layout of ``--out``::

    manifest.json        spec and its hash, scenario hash, seeds, package versions, sessions
                         (start, end, executor, counts), completed and failed run ids
    spec.toml            the sweep as run (after command-line changes)
    scenario.toml        the resolved base scenario (fixed overrides applied)
    design.parquet       the design rows in order (row, point_id, label, parameter columns)
    chunks/chunk-SSS-NNNNN-xxxxxx/
        runs.parquet     one row per run: ids, parameters, status, error, seconds, worker, seed
        market.parquet   one row per kept step per finished run
        firms.parquet    one row per firm per kept step per finished run

Runs are written as they finish, a chunk of runs at a time, never one growing file and never one
file per run. A chunk is written into ``.tmp/`` and renamed into ``chunks/`` in one step, so it
is visible only once complete. The set of completed runs is read from the chunks present, not
from the manifest, so a crash between writing a chunk and rewriting the manifest loses nothing
and duplicates nothing; the manifest is rewritten atomically (temporary file and
``os.replace``). A lock file keeps two sweeps from writing one folder at once.

The manifest lists every completed run, so it grows with the sweep: rewriting it took 5 ms at
10,000 runs, 30 ms at 100,000 and 230-270 ms (29 MB) at a million. After a chunk it is
rewritten only once the runs written since its last rewrite are more than :data:`MANIFEST_LAG`
of those it listed then; at the end of a session (complete, interrupted or failed) always. A
sweep of up to a few thousand runs, whose chunks hold more than 2% of it, still rewrites it after
every chunk; a longer one each time the list has grown by 2%. A million-run sweep in chunks of
200 runs so rewrites it 260 times, 49 million run ids in all (about 12 s of the sweep's process
and 1.4 GB), where a rewrite after each of its 5,000 chunks was 2,500 million ids (about 10
minutes and 73 GB): at a million completed runs, a chunk's write took 230-360 ms with the
rewrite and 10-13 ms without it. A count, not a clock, so that what a killed sweep's manifest
shows does not depend on the machine's speed.

The reader, :class:`sim.sweep.results.SweepResults` (``sim.sweep.open(path)``), is its own
module.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import platform
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.output import PACKAGES, not_a_folder, package_versions
from sim.sweep.plan import FORMAT, Plan
from sim.sweep.seeds import SEED_SCHEME
from sim.sweep.tables import joined
from sim.sweep.worker import RunResult, RunTask

if TYPE_CHECKING:
    pass

__all__ = [
    "TABLES",
    "SweepStore",
    "SweepStoreError",
    "check_folder",
    "chunk_dirs",
    "read_done",
    "read_manifest",
]

TABLES = ("market", "firms")
"""Data tables a sweep may keep (besides ``runs``)."""

VERSION_PACKAGES = (*PACKAGES, "duckdb", "dask", "distributed", "SALib")


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    """The manifest's package versions, read once a process: 13 metadata look-ups, 0.07 s of
    the main process before any run starts, again for every sweep of a calibration or a
    notebook (the versions a process has imported do not change while it runs)."""
    return tuple(package_versions(VERSION_PACKAGES).items())


MANIFEST_LAG = 0.02
"""How far the manifest's list of runs may lag the chunks between rewrites, as a share."""

_ARROW = {
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "text": pa.string(),
}


class SweepStoreError(ValueError):
    """A results folder that cannot be used as asked; the message says why and what to do."""


def check_folder(out: str | Path, expected: str) -> Path:
    """``out`` as a path, if it is a folder or could be made one; else a
    :class:`SweepStoreError` naming it: ``afile: exists and is not a folder; expected ...``.

    Parameters
    ----------
    out
        The folder a command was asked to write (``--out``).
    expected
        What it should be, for the message ("a folder for the sweep's results").
    """
    root = Path(out)
    if problem := not_a_folder(root):
        raise SweepStoreError(f"{root}: {problem}; expected {expected}")
    return root


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` as one zstd-compressed Parquet file and wait until it is on disk.

    Dictionary encoding is kept for the text columns only (run ids, labels, firm names: few
    values, many rows). A number column of a run's rows rarely repeats a value, and encoding it
    by dictionary first builds the dictionary, then gives it up: measured on a sweep's chunks
    (5 December 2026), writing took 30-35% less time without it (a chunk of 40 runs: the firms
    table 3.3-3.6 -> 2.3-2.5 ms, the market table 2.1-2.3 -> 1.5-1.6 ms; of 200 runs x 520
    steps: 21-23 -> 14-15 ms and 9-14 -> 6-9 ms) and the files came out 8-12% smaller, with
    the same reading time and the same table read back."""
    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    pq.write_table(table, path, compression="zstd", use_dictionary=text)
    with open(path, "rb") as f:
        os.fsync(f.fileno())


class SweepStore:
    """Writes a sweep's results folder; created by :meth:`open`.

    Attributes
    ----------
    root
        The folder.
    done
        ``run_id -> "ok" | "error"`` for every run recorded in the chunks present.
    """

    def __init__(self, root: Path, plan: Plan, manifest: dict[str, Any], lock: Any) -> None:
        self.root, self.plan, self.manifest = root, plan, manifest
        self._lock = lock
        self._types = {p.column: _ARROW[p.dtype] for p in plan.design.parameters}
        self._tasks = {t.run_id: t for t in plan.tasks}
        self._seq = 0
        self._token = uuid.uuid4().hex[:6]
        self.done: dict[str, str] = read_done(root)
        self._errors: dict[str, str] = {}
        self._listed = self._unlisted = 0  # runs the manifest lists, runs written since

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        out: str | Path,
        plan: Plan,
        *,
        force: bool = False,
        executor: str = "",
        argv: list[str] | None = None,
    ) -> SweepStore:
        """Create ``out`` for ``plan``, or reopen it to resume the same sweep.

        Raises
        ------
        SweepStoreError
            ``out`` holds a different sweep (and not ``force``), holds other files, or another
            sweep is writing it now.
        """
        root = check_folder(out, "a folder for the sweep's results")
        manifest_path = root / "manifest.json"
        old = read_manifest(root) if manifest_path.exists() else None
        if old is None and root.is_dir() and any(root.iterdir()):
            raise SweepStoreError(
                f"{root}: holds files but no manifest.json; expected an empty "
                "folder or the --out of an earlier 'cxsim sweep'"
            )
        root.mkdir(parents=True, exist_ok=True)
        lock = _lock(root)
        try:
            if old is not None and old.get("sweep_hash") != plan.sweep_hash:
                if not force:
                    raise SweepStoreError(_mismatch(root, old, plan))
                _clear(root)
                old = None
            (root / "chunks").mkdir(exist_ok=True)
            tmp = root / ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)  # partial chunks of a crashed session
            tmp.mkdir()
            manifest = old if old is not None else _new_manifest(plan)
            for earlier in manifest["sessions"]:
                if earlier.get("status") == "running":  # we hold the lock: that one died
                    earlier["status"] = "killed"
            if old is None:
                (root / "spec.toml").write_text(plan.spec.to_toml())
                (root / "scenario.toml").write_text(plan.scenario.to_toml())
                _write_parquet(design_table(plan), root / "design.parquet")
            else:  # same runs; the analysis section or description may have been edited
                (root / "spec.toml").write_text(plan.spec.to_toml())
                manifest["spec"] = plan.spec.to_dict()
            manifest["sessions"].append(
                {
                    "started": _now(),
                    "ended": None,
                    "status": "running",
                    "executor": executor,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "argv": list(argv if argv is not None else sys.argv),
                    "ran": 0,
                    "failed": 0,
                }
            )
            store = cls(root, plan, manifest, lock)
            store._flush_manifest()
            return store
        except BaseException:
            _unlock(lock)
            raise

    # -- writing -------------------------------------------------------------------------------

    def task(self, run_id: str) -> RunTask:
        """The plan's task of ``run_id``."""
        return self._tasks[run_id]

    @property
    def session(self) -> dict[str, Any]:
        """This session's entry in the manifest."""
        return self.manifest["sessions"][-1]

    def write_chunk(self, results: list[RunResult]) -> Path | None:
        """Write finished runs as one chunk (atomically visible); returns its folder.

        A batch's runs whose tables are cuts of one table built for the batch
        (``sim.sweep.tables.Cut``) are written from that table, not from their frames one by
        one: the same rows, the same files."""
        results = [r for r in results if r.run_id in self._tasks]
        if not results:
            return None
        n_session = len(self.manifest["sessions"])
        name = f"chunk-{n_session:03d}-{self._seq:05d}-{self._token}"
        self._seq += 1
        tmp = self.root / ".tmp" / name
        tmp.mkdir(parents=True)
        try:
            for table in TABLES:
                frames = [
                    (r.tables[table], r.cuts.get(table))
                    for r in results
                    if r.status == "ok" and table in r.tables and len(r.tables[table])
                ]
                if frames:  # a batch's runs as one piece (160 frames: concat 17 -> 1 ms)
                    df = pd.concat(joined(frames), ignore_index=True)
                    _write_parquet(self._arrow(df), tmp / f"{table}.parquet")
            _write_parquet(self._runs_table(results), tmp / "runs.parquet")
            _fsync_dir(tmp)
            final = self.root / "chunks" / name
            os.rename(tmp, final)
            _fsync_dir(self.root / "chunks")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for r in results:
            previous = self.done.get(r.run_id)
            self.done[r.run_id] = "ok" if "ok" in (r.status, previous) else "error"
            if r.status == "error":
                self._errors[r.run_id] = r.error
            self.session["ran"] += 1
            self.session["failed"] += r.status != "ok"
        self._unlisted += len(results)
        if self._unlisted > MANIFEST_LAG * self._listed:
            self._flush_manifest()
        return final

    def finish(self, status: str) -> None:
        """Close this session: ``complete``, ``interrupted`` or ``failed``; release the lock."""
        try:
            self.session["ended"] = _now()
            self.session["status"] = status
            self._flush_manifest()
        finally:
            _unlock(self._lock)
            self._lock = None

    def _flush_manifest(self) -> None:
        m = self.manifest
        ok = sorted(r for r, s in self.done.items() if s == "ok")
        failed = sorted(r for r, s in self.done.items() if s != "ok")
        known = {f["run_id"]: f["error"] for f in m.get("failed", [])}
        known.update(self._errors)
        m["completed"] = ok
        m["failed"] = [{"run_id": r, "error": known.get(r, "")} for r in failed]
        m["counts"] = {
            "runs": len(self.plan.tasks),
            "ok": len(ok),
            "failed": len(failed),
            "missing": len(self.plan.tasks) - len(ok) - len(failed),
        }
        m["status"] = "complete" if m["counts"]["missing"] == 0 else "incomplete"
        m["updated"] = _now()
        write_json_atomic(self.root / "manifest.json", m)
        self._listed, self._unlisted = len(self.done), 0

    def _arrow(self, df: pd.DataFrame) -> pa.Table:
        """``df`` as an Arrow table, column by column: a design parameter's column with its
        declared type, every other with the type Arrow infers (as ``Table.from_pandas``
        would). ``from_pandas`` itself took three times as long (a chunk's firm table of 640
        rows x 50 columns: 1.1 against 0.36 ms), mostly for the pandas metadata it adds, which
        nothing reads: the results are read through DuckDB."""
        columns = [_column(df[name], self._types.get(name)) for name in df.columns]
        return pa.Table.from_arrays(columns, names=[str(name) for name in df.columns])

    def _runs_table(self, results: list[RunResult]) -> pa.Table:
        rows = []
        for r in results:
            t: RunTask = self._tasks[r.run_id]
            rows.append(
                {
                    "run_id": r.run_id,
                    "point_id": t.point_id,
                    "point": t.point,
                    "replicate": t.replicate,
                    "label": t.label,
                    **t.values,
                    "status": r.status,
                    "error": r.error,
                    "traceback": r.traceback,
                    "seconds": float(r.seconds),
                    "attempts": int(r.attempts),
                    "worker": r.worker,
                    "steps_run": int(r.steps_run),
                    "finished": _now(),
                    "seed_entropy": int(t.seed_entropy),
                    "seed_key": 0,
                }
            )
        table = self._arrow(pd.DataFrame(rows))
        keys = pa.array([self._tasks[r.run_id].seed_key for r in results], pa.uint64())
        i = table.column_names.index("seed_key")
        return table.set_column(i, pa.field("seed_key", pa.uint64()), keys)


def design_table(plan: Plan) -> pa.Table:
    """The design rows in order, with their point ids, labels and parameter columns."""
    design = plan.design
    rows = []
    for i, pid in enumerate(design.row_points):
        pt = design.point(pid)
        rows.append({"row": i, "point_id": pid, "point": pt.index, "label": pt.label, **pt.values})
    df = pd.DataFrame(rows)
    table = pa.Table.from_pandas(df, preserve_index=False)
    for p in design.parameters:
        i = table.column_names.index(p.column)
        typ = _ARROW[p.dtype]
        table = table.set_column(i, pa.field(p.column, typ), _column(df[p.column], typ))
    return table


def _column(values: pd.Series, typ: pa.DataType | None = None) -> pa.Array:
    """A column of type ``typ`` (a design parameter's), or of the type Arrow infers for it, as
    ``Table.from_pandas`` infers it; a missing value (a point that leaves the key at a value the
    design cannot show) is null, never a float NaN in an integer column.

    Converted from the column's numpy array (``from_pandas``: NaN and None are null; half the
    time of converting the Series itself), or from the Series when pandas holds it in an
    extension type (nullable integers, ...), which converts itself; never value by value: a
    robustness study puts its 109 parameters on every row of its market and firm tables, and
    value by value took 0.16 ms a column of 2,446 rows (0.007 ms so), about 0.2 s of its
    process's CPU at 64 worlds x 2 (docs/performance_rounds.md, twelfth round)."""
    data = values.to_numpy() if isinstance(values.dtype, np.dtype) else values
    return pa.array(data, type=typ, from_pandas=True)


def _new_manifest(plan: Plan) -> dict[str, Any]:
    spec = plan.spec
    return {
        "format": FORMAT,
        "name": spec.name,
        "spec_file": str(spec.source_path or ""),
        "spec": spec.to_dict(),
        "sweep_hash": plan.sweep_hash,
        "identity": plan.identity,
        "scenario": {
            "name": plan.scenario.name,
            "file": str(plan.scenario_path or ""),
            "hash": plan.identity["scenario_hash"],
        },
        "steps": plan.steps,
        "design": {
            "kind": plan.design.kind,
            "rows": len(plan.design.row_points),
            "points": len(plan.design.points),
            "replicates": spec.replicates,
            "runs": len(plan.tasks),
        },
        "parameters": [
            {"key": p.key, "column": p.column, "type": p.dtype, "low": p.low, "high": p.high}
            for p in plan.design.parameters
        ],
        "problem": plan.design.problem,
        "seeds": {
            "sweep_seed": spec.seed,
            "scheme": SEED_SCHEME,
            "common_random_numbers": spec.common_random_numbers,
            "per_run": "runs.parquet: seed_entropy, seed_key",
        },
        "created": _now(),
        "machine": {"host": socket.gethostname(), "platform": platform.platform()},
        "versions": dict(_versions()),
        "sessions": [],
        "completed": [],
        "failed": [],
    }


def _mismatch(root: Path, old: dict[str, Any], plan: Plan) -> str:
    before, now = old.get("identity", {}), plan.identity
    differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    named = {
        "scenario_hash": "the base scenario",
        "set": "set",
        "design": "design",
        "parameters": "parameters",
        "output": "output",
        "format": "the folder format",
        "model_code": "the model's code (the rules changed since those runs)",
    }
    what = ", ".join(named.get(k, k) for k in differ) or "its content"
    name = str(old.get("name") or "")
    if name.startswith(STUDY_PREFIX):  # a robustness study's runs (no sweep file of its own)
        return (
            f"{root}: holds the runs of a different robustness study (of "
            f"{name.removeprefix(STUDY_PREFIX)!r}; they differ in {what}); expected the same "
            "study to resume it: use another --out, or --force to delete those runs"
        )
    made = f"made from {old['spec_file']}" if old.get("spec_file") else "not made from a file"
    return (
        f"{root}: holds results of a different sweep ({name or 'unnamed'!r}, {made}; they "
        f"differ in {what}); expected the same sweep to resume it: use another --out, or "
        "--force to delete those results"
    )


STUDY_PREFIX = "robustness-"
"""How a robustness study names the sweep of its runs (``sim.robustness.study``)."""


def _clear(root: Path) -> None:
    for child in root.iterdir():
        if child.name == ".lock":
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _lock(root: Path) -> Any:
    f = open(root / ".lock", "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise SweepStoreError(
            f"{root}: another cxsim sweep is writing these results now; "
            "expected it to finish first (or use another --out)"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(f"{socket.gethostname()}:{os.getpid()}\n")
    f.flush()
    return f


def _unlock(lock: Any) -> None:
    if lock is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        lock.close()


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepStoreError(
            f"{root}: no manifest.json; expected the --out folder of 'cxsim sweep'"
        ) from None
    except (OSError, json.JSONDecodeError) as e:
        raise SweepStoreError(
            f"{path}: unreadable ({e}); expected the JSON manifest written by 'cxsim sweep'"
        ) from None
    if data.get("format") != FORMAT:
        raise SweepStoreError(f"{path}: format {data.get('format')!r}; expected {FORMAT!r}")
    return data


def chunk_dirs(root: Path) -> list[Path]:
    """Complete chunks, in name order (a chunk without runs.parquet is not one)."""
    base = root / "chunks"
    if not base.is_dir():
        return []
    return sorted(d for d in base.iterdir() if d.is_dir() and (d / "runs.parquet").exists())


def read_done(root: Path) -> dict[str, str]:
    """``run_id -> "ok" | "error"`` from the chunks present ("ok" wins over an earlier error)."""
    done: dict[str, str] = {}
    for d in chunk_dirs(root):
        t = pq.read_table(d / "runs.parquet", columns=["run_id", "status"]).to_pydict()
        for rid, status in zip(t["run_id"], t["status"], strict=True):
            if done.get(rid) != "ok":
                done[rid] = status
    return done


def missing_runs(plan: Plan, done: dict[str, str], retry_failed: bool) -> Iterable[RunTask]:
    """The tasks of ``plan`` still to run, given what the chunks hold."""
    for t in plan.tasks:
        status = done.get(t.run_id)
        if status is None or (retry_failed and status != "ok"):
            yield t
