"""Executors: where the runs of a sweep execute.

- :class:`SerialExecutor`: in this process, one run after another (debugging, tiny sweeps).
- :class:`LocalExecutor`: a ``concurrent.futures.ProcessPoolExecutor`` on this machine's cores,
  its workers forked from this process when it is already warm, else from a fork server that
  imported the package and loaded the compiled kernels once (:mod:`sim.sweep.context`,
  :mod:`sim.sweep.warm`; "spawn" where there is no fork). A worker that
  dies (killed, out of memory, crashed) breaks such a pool: the pool is rebuilt and the runs
  that were in flight are retried, each alone first, so the run that kills its worker is found
  (a batch that kills its worker alone is cut in halves, each retried alone in turn, down to
  the run); one that kills its worker ``max_deaths`` times is recorded as failed and the sweep
  goes on.
  Inside ``with executor:`` the pool is kept between calls of ``map`` (a calibration maps a
  batch at a time) and stopped on exit.
- :class:`DaskExecutor`: a Dask distributed cluster at an address (``tcp://host:8786``), or a
  ``LocalCluster`` started for the sweep (``"local"``). Dask's nanny restarts a killed worker and
  the scheduler reschedules its tasks; a task that kills workers repeatedly ends as
  ``KilledWorker``: a run is recorded as failed, a batch is cut in halves that go on as tasks
  of their own, down to the run that kills (as on the local pool, without running them alone:
  the scheduler's count of the deaths each task was at tells them apart). Each future is
  released once read.

Every executor yields one :class:`~sim.sweep.worker.RunResult` per task, in completion order;
seeds come from the tasks, so the numbers do not depend on the executor. Executors are context
managers (start on enter, stop on exit) and stop their workers when the consumer stops early
(Ctrl-C). Entering one that is already entered starts nothing, and only the outermost exit
stops it: the sweeps a script runs inside its own ``with executor:`` (``sim.sweep.run(...,
executor=executor)``, which enters it too) share one pool or one cluster, instead of each
starting its own (a ``LocalCluster`` of two workers took about 3 s to start, as long as 160 of
its runs of 1,000 customers x 104 steps). ``import mesa`` switches multiprocessing to
"spawn": scripts that run sweeps on processes need an ``if __name__ == "__main__":`` guard.

This module never imports the model or the UI.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.sweep.context import (
    START_METHODS,
    freeze_inherited,
    one_blas_thread,
    prestart,
    worker_context,
)
from sim.sweep.worker import RunBatch, RunResult, RunTask, failed

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "SerialExecutor",
    "available_cores",
    "local_pool",
    "make_executor",
]

RunFn = Callable[[RunTask], RunResult]


class ExecutorError(RuntimeError):
    """The executor cannot go on (e.g. worker processes die before running anything)."""


def available_cores() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Base class: runs tasks and yields their results as they finish.

    Subclasses implement :meth:`map`, and :meth:`_open` / :meth:`_close` to start and stop
    whatever they need (a pool, a cluster connection). Entering starts it only if the executor
    is not already entered; only the outermost exit stops it.
    """

    name = "executor"
    workers = 1
    _depth = 0
    """``with`` blocks entered and not left."""

    def __enter__(self) -> Executor:
        if not self._depth:
            self._open()
        self._depth += 1  # after a start that failed, no exit is owed
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth = max(0, self._depth - 1)
        if not self._depth:
            self._close()

    @property
    def _entered(self) -> bool:
        return self._depth > 0

    def _open(self) -> None:
        """Start what the executor needs (nothing by default)."""
        return None

    def _close(self) -> None:
        """Stop what :meth:`_open` or :meth:`map` started (nothing by default)."""
        return None

    @abstractmethod
    def map(self, fn: RunFn, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Run ``fn`` on every task; yield each result when it is ready."""

    def describe(self) -> str:
        """One line for the manifest and the progress display."""
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class SerialExecutor(Executor):
    """Run every task in this process, in order."""

    name = "serial"

    def map(self, fn: RunFn, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Run the tasks one after another."""
        for task in tasks:
            yield fn(task)


def _worker_init(parent_pid: int) -> None:
    """Pool worker set-up: leave Ctrl-C to the parent; exit if the parent (the process that
    started the pool, not the fork server) dies. A worker forked from the sweep's own process
    drops the handlers it inherited (``cxsim sweep`` turns SIGTERM into Ctrl-C): stopping the
    pool terminates its workers. The objects it inherited are left out of the garbage
    collector's passes (:func:`~sim.sweep.context.freeze_inherited`); numpy's BLAS runs on one
    thread (:func:`~sim.sweep.context.one_blas_thread`)."""
    freeze_inherited()
    one_blas_thread()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = multiprocessing.parent_process()

    def watch() -> None:
        if parent is not None and parent.pid == parent_pid:
            parent.join()  # returns when the parent's end of the worker's pipe closes
            os._exit(0)
        while True:  # pragma: no cover - a parent that multiprocessing does not know of
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="cxsim-parent-watch", daemon=True).start()


def local_pool(workers: int, context: Any = None) -> ProcessPoolExecutor:
    """A process pool of the local executor's kind: workers from the warm fork server (or forked
    from this process when it is warm), ignoring Ctrl-C, and exiting when this process dies, so
    that a killed command leaves no worker behind. Also for work that is not a sweep's runs
    (``cxsim facts`` measures validation checks in it). ``context``: the multiprocessing
    context (default :func:`~sim.sweep.context.worker_context`'s)."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context or worker_context(),
        initializer=_worker_init,
        initargs=(os.getpid(),),
    )


class LocalExecutor(Executor):
    """A pool of worker processes on this machine (forked from this process when it is warm,
    else from a warm fork server: :func:`~sim.sweep.context.worker_context`), rebuilt if one
    dies.

    Parameters
    ----------
    workers
        Processes (default: every available core).
    start
        How the workers start: ``"auto"`` (default; see :mod:`sim.sweep.context`), ``"fork"``,
        ``"forkserver"`` or ``"spawn"``. The numbers are the same whichever.
    max_deaths
        A run whose worker dies this many times while it runs alone is recorded as failed.
    max_restarts
        Rebuilding the pool this many times in a row without a single finished run raises
        :class:`ExecutorError` (the workers cannot start at all).
    """

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        *,
        start: str = "auto",
        max_deaths: int = 2,
        max_restarts: int = 8,
    ) -> None:
        self.workers = int(workers) if workers else available_cores()
        if self.workers < 1:
            raise ValueError(f"workers: expected at least 1, got {workers}")
        if start not in START_METHODS:
            raise ValueError(f"start: expected one of {', '.join(START_METHODS)}, got {start!r}")
        self.start = start
        self.start_method = ""
        """How the last pool's workers started ("fork", "forkserver" or "spawn")."""
        self.max_deaths = max_deaths
        self.max_restarts = max_restarts
        self.restarts = 0
        self._pool: ProcessPoolExecutor | None = None

    def _open(self) -> None:
        prestart(start=self.start)  # a fork server warms up while the sweep opens its store

    def _close(self) -> None:
        if self._pool is not None:
            self._stop(self._pool, kill=False)
            self._pool = None

    def _new_pool(self) -> ProcessPoolExecutor:
        context = worker_context(start=self.start)
        self.start_method = context.get_start_method()
        return local_pool(self.workers, context)

    @staticmethod
    def _stop(pool: ProcessPoolExecutor, kill: bool) -> None:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        # a clean stop waits for the idle workers to exit, so that the pool leaves no thread
        # behind: a process running other threads no longer forks its next pool's workers
        pool.shutdown(wait=not kill, cancel_futures=True)
        if kill:
            for p in processes:
                if p.is_alive():
                    p.terminate()
            for p in processes:
                p.join(timeout=5)

    def map(self, fn: RunFn, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Run the tasks on the pool; retry the runs a dying worker took with it."""
        queue: deque[RunTask] = deque(tasks)
        suspects: deque[RunTask] = deque()
        deaths: dict[str, int] = {}
        attempts: dict[str, int] = {}
        inflight: dict[Future, RunTask] = {}
        limit = 2 * self.workers
        # inside ``with executor:`` the pool outlives one map (calibrations call map per batch)
        pool, self._pool = self._pool or self._new_pool(), None
        idle_restarts = 0
        clean = False

        def submit(task: RunTask) -> None:
            attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
            inflight[pool.submit(fn, task)] = task

        def settle(fut: Future, task: RunTask, lost: list[RunTask]) -> RunResult | None:
            exc = fut.exception()
            if exc is None:
                result = fut.result()
                for one in result if isinstance(result, list) else [result]:
                    one.attempts = attempts[task.run_id]
                return result
            if isinstance(exc, BrokenProcessPool):
                lost.append(task)
                return None
            return failed(
                task, f"{type(exc).__name__}: {exc}".splitlines()[0], attempts=attempts[task.run_id]
            )

        try:
            while queue or suspects or inflight:
                if suspects:
                    if not inflight:
                        submit(suspects.popleft())
                else:
                    while queue and len(inflight) < limit:
                        submit(queue.popleft())
                alone = len(inflight) == 1
                done, _ = wait(list(inflight), timeout=1.0, return_when=FIRST_COMPLETED)
                lost: list[RunTask] = []
                for fut in done:
                    result = settle(fut, inflight.pop(fut), lost)
                    if result is not None:
                        idle_restarts = 0
                        yield result
                if not lost:
                    continue
                # The pool is broken: every other in-flight future fails with it, shortly.
                rest, pending = wait(list(inflight), timeout=30)
                for fut in rest:
                    result = settle(fut, inflight.pop(fut), lost)
                    if result is not None:
                        yield result
                lost += [inflight.pop(fut) for fut in pending]
                self._stop(pool, kill=True)
                pool = self._new_pool()
                self.restarts += 1
                lone = lost[0] if alone and len(lost) == 1 else None  # it killed its worker
                # a batch that killed its worker alone is searched, not a worker that cannot start
                split = isinstance(lone, RunBatch)
                idle_restarts += not split
                if idle_restarts > self.max_restarts:
                    raise ExecutorError(
                        f"worker processes died {idle_restarts} times in a row "
                        "without finishing a run; giving up"
                    )
                if split:
                    # its halves go alone in turn, so that the run that kills is found and its
                    # batch-mates still run in batches
                    for half in reversed(halves(lone)):
                        attempts[half.run_id] = attempts[lone.run_id]
                        suspects.appendleft(half)
                elif lone is not None:
                    task = lone
                    deaths[task.run_id] = deaths.get(task.run_id, 0) + 1
                    if deaths[task.run_id] >= self.max_deaths:
                        n = deaths[task.run_id]
                        times = "once" if n == 1 else f"{n} times"
                        yield failed(
                            task,
                            f"the worker process died {times} running it alone (killed, out "
                            "of memory or crashed)",
                            attempts=attempts[task.run_id],
                        )
                    else:
                        suspects.appendleft(task)
                else:
                    suspects.extend(lost)
            clean = True
        finally:
            if clean and self._entered:
                self._pool = pool
            else:
                self._stop(pool, kill=not clean)


def halves(batch: RunBatch) -> list[RunBatch | RunTask]:
    """A batch cut in two, in order; a half of one run is that run (a task of its own)."""
    cut = len(batch.tasks) // 2
    parts = (batch.tasks[:cut], batch.tasks[cut:])
    return [part[0] if len(part) == 1 else RunBatch(part) for part in parts]


class DaskExecutor(Executor):
    """Runs on a Dask distributed cluster.

    Parameters
    ----------
    address
        Scheduler address (``tcp://10.0.0.5:8786``), or ``"local"`` to start a ``LocalCluster``
        of worker processes on this machine for the duration of the sweep.
    workers
        ``"local"`` only: worker processes (default: every available core), one thread each.
    client
        An existing ``distributed.Client`` to use instead (not closed at the end).
    timeout
        Seconds to wait for the scheduler to answer.
    """

    name = "dask"

    def __init__(
        self,
        address: str = "local",
        workers: int | None = None,
        *,
        client: Any = None,
        timeout: float = 20.0,
    ) -> None:
        self.address = address
        self.workers = int(workers) if workers else available_cores()
        self.timeout = timeout
        self._client = client
        self._own_client = client is None
        self._cluster: Any = None
        self.halved = 0  # batches cut in halves after KilledWorker, over this executor's life

    def _open(self) -> None:
        from distributed import Client, LocalCluster

        if self._client is None:
            if self.address in ("local", "", None):
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # no dashboard, but the scheduler still serves /health and /metrics over
                    # HTTP, on 8787 unless told: a port of its own, so a cluster the user
                    # already runs there is not in the way (and no warning says it was)
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                )
                self._client = Client(self._cluster, timeout=self.timeout)
            else:
                try:
                    self._client = Client(self.address, timeout=self.timeout)
                except OSError as e:
                    raise ExecutorError(
                        f"--dask {self.address}: cannot reach the scheduler "
                        f"within {self.timeout:.0f} s ({e}); expected a running "
                        "'dask scheduler' at that address"
                    ) from None

    def _close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (after entering)."""
        return self._client

    def describe(self) -> str:
        """Where the runs go."""
        if self._client is not None and self._cluster is None:
            where = str(getattr(self._client.scheduler, "address", self.address))
        else:
            where = "LocalCluster" if self.address == "local" else self.address
        return f"dask {where} ({self._threads()} worker threads)"

    def _threads(self) -> int:
        if self._client is None:
            return self.workers
        try:
            return int(sum(self._client.nthreads().values()))
        except Exception:  # scheduler briefly unreachable: keep going with a guess
            return self.workers

    def map(self, fn: RunFn, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Submit the tasks (a bounded number at a time); yield results as they finish."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if self._client is None:
            raise ExecutorError("DaskExecutor.map called outside 'with executor:'")
        client, token = self._client, uuid.uuid4().hex[:8]
        queue: deque[RunTask] = deque(tasks)
        pending: dict[str, RunTask] = {}
        futures: dict[str, Any] = {}
        done_set = as_completed()
        checked, limit = 0.0, 4

        def top_up() -> None:
            nonlocal checked, limit
            now = time.monotonic()
            if now - checked > 5:
                limit, checked = max(4, 2 * self._threads()), now
            while queue and len(pending) < limit:
                task = queue.popleft()
                # a half's first run names it as its batch did: its size keeps the key unique
                size = len(task.tasks) if isinstance(task, RunBatch) else 1
                key = f"cxsim-run-{task.run_id}-{size}-{token}"
                fut = client.submit(fn, task, key=key, pure=False)
                pending[fut.key] = task
                futures[fut.key] = fut
                done_set.add(fut)

        top_up()
        try:
            for fut in done_set:
                task = pending.pop(fut.key)
                futures.pop(fut.key, None)
                result: RunResult | list[RunResult] | None
                try:
                    result = fut.result()
                except KilledWorker as e:
                    if isinstance(task, RunBatch):
                        # its halves go on, first in line, so that the run that kills is found
                        # and its batch-mates still run in batches
                        queue.extendleft(reversed(halves(task)))
                        self.halved += 1
                        result = None
                    else:
                        result = failed(
                            task,
                            f"Dask KilledWorker: the workers running it died "
                            f"repeatedly ({e})".splitlines()[0],
                        )
                except Exception as e:
                    result = failed(task, f"{type(e).__name__}: {e}".splitlines()[0])
                finally:
                    fut.release()
                if result is not None:
                    yield result
                top_up()
        finally:
            if futures:
                client.cancel(list(futures.values()))


def make_executor(executor: Executor | str | None = None, workers: int | None = None) -> Executor:
    """An executor from a name.

    Parameters
    ----------
    executor
        An :class:`Executor`; ``"serial"``; ``"local"`` (default: a process pool); ``"dask"``
        (a LocalCluster); or a Dask scheduler address such as ``"tcp://10.0.0.5:8786"``.
    workers
        Processes for ``"local"`` and ``"dask"``.
    """
    if isinstance(executor, Executor):
        return executor
    if executor is None or executor == "local":
        return LocalExecutor(workers)
    if executor == "serial":
        return SerialExecutor()
    if executor == "dask":
        return DaskExecutor("local", workers)
    if isinstance(executor, str) and "://" in executor:
        return DaskExecutor(executor, workers)
    raise ValueError(
        f"executor: expected 'serial', 'local', 'dask' or a Dask scheduler address "
        f"like tcp://10.0.0.5:8786, got {executor!r}"
    )
