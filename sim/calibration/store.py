"""The output folder of a calibration: manifest, inputs as used, the run cache, resume.

Layout of ``--out``::

    manifest.json         identity (SHA-256 of observed.csv, calibration and scenario
                          hashes), data file and its SHA-256, seeds, package versions,
                          sessions (start, end, executor, host, BLAS kernels, runs), status
    calibration.toml      the calibration as run (priors spelled out), as calibrate reads it
    scenario.toml         the base scenario (fixed changes applied)
    observed.csv          the checked data, as calibrate reads it
    runs/chunk-*.parquet  every model run so far: key, status, seconds, the simulated rows
    abc.sqlite            pyabc's history of the ABC-SMC generations
    scales.json           the distance's scale of each observed row
    posterior.parquet, intervals.csv, identifiability.csv, predictive.parquet,
    predictive.png, fitted.toml                                   (the results)

Runs are written in chunks as they finish (``.tmp/`` then an atomic rename), so a calibration
stopped by Ctrl-C or a kill loses at most the runs in flight; a rerun with the same inputs finds
the finished runs and the finished generations and goes on from there, as does one given the
folder's own calibration.toml, scenario.toml and observed.csv. A different calibration (other
observations, priors, scenario or seed) is refused unless ``force``. A lock keeps two
calibrations from writing one folder.

This module never imports the model, an executor or the UI.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.calibration.errors import CalibrationStoreError
from sim.output import PACKAGES as RUN_PACKAGES
from sim.output import not_a_folder, package_versions
from sim.sweep.store import (  # the sweep folder's helpers
    _clear,
    _unlock,
    _write_parquet,
    write_json_atomic,
)

__all__ = ["CalibrationStore", "RunRecord"]

PACKAGES = (*RUN_PACKAGES, "pyabc", "distributed")
RESULT_FILES = (
    "posterior.parquet",
    "intervals.csv",
    "identifiability.csv",
    "predictive.parquet",
    "predictive.png",
    "fitted.toml",
)


def blas_kernels() -> list[str]:
    """The BLAS libraries loaded in this process, each with the kernels it chose for this
    processor ("openblas 0.3.31 SkylakeX (libscipy_openblas64_...so)"): OpenBLAS picks them by
    processor (or by ``OPENBLAS_CORETYPE``), and pyabc's proposals computed with another
    processor's kernels differ in their last bits, so the same seed can give another posterior
    on another machine (docs/calibration.md). Recorded with each session for that reason."""
    from threadpoolctl import threadpool_info

    return [
        f"{lib.get('internal_api', '?')} {lib.get('version', '?')} "
        f"{lib.get('architecture', '?')} ({Path(lib.get('filepath', '?')).name})"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class RunRecord:
    """One finished model run: its key, status and simulated rows."""

    __slots__ = ("error", "key", "seconds", "stats", "status")

    def __init__(
        self, key: str, status: str, stats: np.ndarray, seconds: float = 0.0, error: str = ""
    ) -> None:
        self.key, self.status, self.stats = key, status, stats
        self.seconds, self.error = seconds, error


WHAT_DIFFERS = {
    "calibration": "calibration settings",
    "observed_sha256": "data",
    "scenario": "scenario",
}
"""How a message names each part of a calibration's identity that differs from the folder's."""


class CalibrationStore:
    """Writes (and resumes) a calibration's output folder; made by :meth:`open`."""

    def __init__(self, root: Path, manifest: dict[str, Any], lock: Any) -> None:
        self.root, self.manifest, self._lock = root, manifest, lock
        self._token = uuid.uuid4().hex[:6]
        self._seq = 0
        self.runs: dict[str, RunRecord] = _read_runs(root / "runs")
        self._pending: list[RunRecord] = []
        self._oldest = 0.0

    @classmethod
    def open(
        cls,
        out: str | Path,
        identity: dict[str, Any],
        *,
        force: bool = False,
        executor: str = "",
        argv: list[str] | None = None,
    ) -> CalibrationStore:
        """Create ``out`` or reopen it for the same calibration.

        Parameters
        ----------
        identity
            What decides the posterior (hashes of data, calibration, scenario; the seed):
            a folder holding another identity is refused unless ``force``.

        Raises
        ------
        CalibrationStoreError
            ``out`` is a file, holds other files, another calibration, or is locked.
        """
        root = Path(out)
        if problem := not_a_folder(root):
            raise CalibrationStoreError(f"{root}: {problem}; expected a folder for the calibration")
        manifest_path = root / "manifest.json"
        old = None
        if manifest_path.exists():
            import json

            try:
                old = json.loads(manifest_path.read_text())
            except (OSError, ValueError):
                raise CalibrationStoreError(
                    f"{manifest_path}: unreadable; expected the manifest of a calibration"
                ) from None
        if old is None and root.is_dir() and any(root.iterdir()):
            raise CalibrationStoreError(
                f"{root}: holds files but no manifest.json; expected an empty folder or the "
                "--out of an earlier 'cxsim calibrate'"
            )
        root.mkdir(parents=True, exist_ok=True)
        lock = _lock(root)
        try:
            if old is not None and old.get("identity") != identity:
                if not force:
                    before = old.get("identity") or {}
                    if set(before) != set(identity):
                        why = "its identity recorded by another version of cxsim"
                    else:
                        changed = [
                            WHAT_DIFFERS.get(k, k)
                            for k in sorted(identity)
                            if before[k] != identity[k]
                        ]
                        why = f"other {' and '.join(changed)}"
                    raise CalibrationStoreError(
                        f"{root}: holds another calibration ({why}); use another --out, or "
                        "--force to replace it"
                    )
                _clear(root)
                old = None
            (root / "runs").mkdir(exist_ok=True)
            shutil.rmtree(root / ".tmp", ignore_errors=True)
            (root / ".tmp").mkdir()
            manifest = old or {
                "format": 1,
                "kind": "cxsim calibration",
                "identity": identity,
                "created": _now(),
                "sessions": [],
                "status": "running",
            }
            for earlier in manifest["sessions"]:
                if earlier.get("status") == "running":
                    earlier["status"] = "killed"
            manifest["sessions"].append(
                {
                    "started": _now(),
                    "ended": None,
                    "status": "running",
                    "executor": executor,
                    "host": socket.gethostname(),
                    "blas": blas_kernels(),
                    "pid": os.getpid(),
                    "argv": list(argv if argv is not None else sys.argv),
                    "runs": 0,
                }
            )
            manifest["status"] = "running"
            store = cls(root, manifest, lock)
            store.write_manifest()
            return store
        except BaseException:
            _unlock(lock)
            raise

    @property
    def resumed(self) -> bool:
        """The folder held an earlier session of this calibration."""
        return len(self.manifest["sessions"]) > 1

    def write_manifest(self) -> None:
        """Rewrite manifest.json atomically."""
        self.manifest["versions"] = package_versions(PACKAGES)
        write_json_atomic(self.root / "manifest.json", self.manifest)

    # -- runs ----------------------------------------------------------------------------------

    def add(self, record: RunRecord, flush_every: int = 50, flush_seconds: float = 15.0) -> None:
        """Keep a finished run; write a chunk when enough are waiting."""
        if not self._pending:
            self._oldest = time.monotonic()
        self.runs[record.key] = record
        self._pending.append(record)
        self.manifest["sessions"][-1]["runs"] += 1
        if len(self._pending) >= flush_every or time.monotonic() - self._oldest >= flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the waiting runs as one chunk (atomically)."""
        if not self._pending:
            return
        self._seq += 1
        name = f"chunk-{len(self.manifest['sessions']):03d}-{self._seq:05d}-{self._token}"
        table = pa.table(
            {
                "key": [r.key for r in self._pending],
                "status": [r.status for r in self._pending],
                "error": [r.error for r in self._pending],
                "seconds": [float(r.seconds) for r in self._pending],
                "stats": [np.asarray(r.stats, dtype=float).tolist() for r in self._pending],
            }
        )
        tmp = self.root / ".tmp" / f"{name}.parquet"
        _write_parquet(table, tmp)
        os.replace(tmp, self.root / "runs" / f"{name}.parquet")
        self._pending.clear()

    def finish(self, status: str, **facts: Any) -> None:
        """Flush, record how the session ended, release the lock."""
        try:
            self.flush()
        finally:
            session = self.manifest["sessions"][-1]
            session.update(ended=_now(), status=status)
            self.manifest["status"] = status
            self.manifest.update(facts)
            self.write_manifest()
            shutil.rmtree(self.root / ".tmp", ignore_errors=True)
            _unlock(self._lock)

    def path(self, name: str) -> Path:
        """A file of the folder."""
        return self.root / name


def _read_runs(folder: Path) -> dict[str, RunRecord]:
    runs: dict[str, RunRecord] = {}
    if not folder.is_dir():
        return runs
    for chunk in sorted(folder.glob("chunk-*.parquet")):
        df = pq.read_table(chunk).to_pandas()
        for key, status, error, seconds, stats in zip(
            df["key"], df["status"], df["error"], df["seconds"], df["stats"], strict=True
        ):
            runs[key] = RunRecord(key, status, np.asarray(stats, dtype=float), seconds, error)
    return runs


def runs_frame(store: CalibrationStore) -> pd.DataFrame:
    """Every run of the folder as a frame (key, status, seconds)."""
    return pd.DataFrame(
        [(r.key, r.status, r.seconds) for r in store.runs.values()],
        columns=["key", "status", "seconds"],
    )


def _lock(root: Path) -> Any:
    f = open(root / ".lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise CalibrationStoreError(
            f"{root}: another calibration is writing this folder now; wait for it or use "
            "another --out"
        ) from None
    return f
