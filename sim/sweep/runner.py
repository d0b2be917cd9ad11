"""Running a sweep: plan, open the store, run what is missing, stream results to Parquet.

:func:`run` is the Python entry point (``sim.sweep.run``) and what ``cxsim sweep`` calls. It
builds the plan, opens (or resumes) the results folder, hands the missing runs to an executor,
writes finished runs in chunks as they arrive (every ``chunk_runs`` runs or ``flush_seconds``,
whichever comes first; by default a batch's runs are not split between two chunks), and on
Ctrl-C writes what has finished before stopping, so a rerun with the same ``out`` runs only what
is missing.

This module never imports the UI.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.sweep.context import collector_frozen, prestart
from sim.sweep.executors import Executor, LocalExecutor, make_executor
from sim.sweep.plan import Plan, build_plan
from sim.sweep.progress import Progress
from sim.sweep.results import SweepResults
from sim.sweep.spec import SweepSpec
from sim.sweep.store import SweepStore, missing_runs
from sim.sweep.worker import RunResult, make_batches, run_batch, run_one

__all__ = ["SweepInterrupted", "SweepReport", "default_chunk_runs", "run"]


@dataclass
class SweepReport:
    """What one call of :func:`run` did.

    Attributes
    ----------
    total
        Runs in the design.
    skipped
        Runs already in the folder (not run again).
    ok, failed
        Runs of this session that finished / failed.
    failures
        ``(run_id, label, replicate, error)`` of this session's failed runs.
    seconds
        Wall time of this session.
    status
        ``complete``, ``interrupted`` or ``failed`` (the executor gave up).
    executor
        Where the runs went.
    chunks
        Chunk folders written in this session.
    """

    total: int = 0
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    failures: list[tuple[str, str, int, str]] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "running"
    executor: str = ""
    chunks: int = 0

    @property
    def ran(self) -> int:
        """Runs finished in this session (ok or failed)."""
        return self.ok + self.failed

    @property
    def rate(self) -> float:
        """Runs per second in this session."""
        return self.ran / self.seconds if self.seconds > 0 else 0.0


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM via the CLI) stopped a sweep; the finished runs were written.

    Attributes
    ----------
    report
        What this session did before it stopped.
    out
        The results folder; run the same sweep with it again to resume.
    """

    def __init__(self, report: SweepReport, out: Path) -> None:
        super().__init__(f"sweep interrupted; {report.ran} runs of this session written to {out}")
        self.report, self.out = report, out


def default_chunk_runs(n_runs: int, workers: int) -> int:
    """Runs per chunk: about four chunks per worker, between 1 and 200 runs each."""
    return max(1, min(200, math.ceil(n_runs / max(1, 4 * workers))))


def run(
    spec: SweepSpec | Plan | str | Path | dict[str, Any],
    out: str | Path | None = None,
    *,
    executor: Executor | str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    chunk_runs: int | None = None,
    flush_seconds: float = 30.0,
    retry_failed: bool = False,
    force: bool = False,
    argv: list[str] | None = None,
    batch: bool = True,
) -> SweepResults:
    """Run a sweep (or the part of it not yet in ``out``) and return its results.

    Parameters
    ----------
    spec
        A sweep file path, its content as a dict, a :class:`SweepSpec` or a built plan.
    out
        Results folder; created, or resumed if it holds the same sweep. Default: a new
        temporary folder.
    executor
        ``"local"`` (default: a process pool on every core), ``"serial"``, ``"dask"`` (a
        LocalCluster), a Dask scheduler address, or an :class:`Executor`. A name starts and
        stops its workers for this sweep; an executor the caller has entered (``with
        executor:``) is left running for the caller's next sweep.
    workers
        Processes for ``"local"`` / ``"dask"``.
    progress
        Receives start/update/stop (see :mod:`sim.sweep.progress`); None shows nothing.
    chunk_runs
        Runs per Parquet chunk. Default: :func:`default_chunk_runs`, and a chunk ends with a
        batch (it holds at least one batch's runs); given, a chunk is written as soon as it has
        that many runs, in the middle of a batch's runs if need be.
    flush_seconds
        Also write a chunk when the oldest unwritten run finished this long ago.
    retry_failed
        Run again the runs recorded as failed.
    force
        Delete the results of a different sweep in ``out`` instead of refusing.
    argv
        Command line to record in the manifest (default: ``sys.argv``).
    batch
        Step small markets together on each worker (``sim.sweep.worker.make_batches``; the
        same numbers as one by one). False runs each market on its own, as before.

    Returns
    -------
    SweepResults
        Reader over ``out``; ``.report`` is a :class:`SweepReport` of this call.

    Raises
    ------
    SpecError
        The spec is invalid or does not fit its scenario.
    SweepStoreError
        ``out`` holds a different sweep, other files, or is being written by another sweep.
    SweepInterrupted
        On Ctrl-C, after the finished runs were written (a ``KeyboardInterrupt``).
    """
    if executor is None or executor == "local" or isinstance(executor, LocalExecutor):
        # a fork server (unless this process is warm) warms up while the plan is built
        prestart(start=getattr(executor, "start", "auto"))
    plan = spec if isinstance(spec, Plan) else build_plan(spec)
    ex = make_executor(executor, workers)
    report = SweepReport(total=len(plan.tasks), executor=ex.describe())
    started = time.perf_counter()
    # The executor starts before anything is written: a sweep that cannot start (no Dask
    # scheduler at the address, no workers) leaves no results folder and no session behind.
    with collector_frozen(), ex:
        if out is None:
            out = tempfile.mkdtemp(prefix=f"cxsim-sweep-{plan.spec.name}-")
        report.executor = ex.describe()
        store = SweepStore.open(out, plan, force=force, executor=report.executor, argv=argv)
        _run_missing(
            plan,
            store,
            ex,
            report,
            progress,
            chunk_runs,
            flush_seconds,
            retry_failed,
            started,
            batch,
        )
    results = SweepResults(out)
    results.report = report
    return results


def _run_missing(
    plan: Plan,
    store: SweepStore,
    ex: Executor,
    report: SweepReport,
    progress: Progress | None,
    chunk_runs: int | None,
    flush_seconds: float,
    retry_failed: bool,
    started: float,
    batch: bool = True,
) -> None:
    """Run the tasks of ``plan`` not yet in ``store`` on the started ``ex``, writing chunks;
    close the store's session as ``complete``, ``interrupted`` or ``failed``."""
    todo = list(missing_runs(plan, store.done, retry_failed))
    report.skipped = len(plan.tasks) - len(todo)
    per_chunk = chunk_runs or default_chunk_runs(len(todo), ex.workers)
    buffer: list[RunResult] = []
    first_unwritten = 0.0
    seen: set[str] = set()

    def flush() -> None:
        if buffer:
            store.write_chunk(buffer)
            report.chunks += 1
            buffer.clear()

    status = "failed"
    shown = False
    try:
        if progress is not None:
            prior_failed = 0 if retry_failed else sum(s != "ok" for s in store.done.values())
            progress.start(len(plan.tasks), report.skipped, prior_failed, report.executor)
            shown = True
        batches = make_batches(todo, ex.workers) if batch else todo
        work = run_batch if batch else run_one
        # a batch's runs arrive together and go to one chunk: chunks end where batches end
        # (fewer, larger chunks for the same runs), unless ``chunk_runs`` was asked for
        by_run = chunk_runs is not None

        def due() -> bool:
            return len(buffer) >= per_chunk or time.monotonic() - first_unwritten >= flush_seconds

        for delivered in ex.map(work, batches):
            for result in delivered if isinstance(delivered, list) else [delivered]:
                if result.run_id in seen:  # an executor delivered a run twice: keep the first
                    continue
                seen.add(result.run_id)
                if not buffer:
                    first_unwritten = time.monotonic()
                buffer.append(result)
                if result.status == "ok":
                    report.ok += 1
                else:
                    report.failed += 1
                    task = store.task(result.run_id)
                    report.failures.append(
                        (result.run_id, task.label, task.replicate, result.error)
                    )
                if progress is not None:
                    progress.update(result)
                if by_run and due():
                    flush()
            if due():
                flush()
        flush()
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise SweepInterrupted(report, store.root) from None
    finally:
        if shown:
            progress.stop()
        try:
            flush()
        finally:
            report.seconds = time.perf_counter() - started
            report.status = status
            store.finish(status)
