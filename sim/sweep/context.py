"""Where the local pool's workers come from: this process, or a fork server that loaded the
package once.

:func:`worker_context` is the multiprocessing context of ``LocalExecutor``'s pool:

- **"fork" from this process** when this process is already warm: it has imported the modules the
  workers need (:data:`WARM_FROM_PARENT`: a script or notebook that built or ran a model, a
  calibration, a second sweep) and runs no other Python thread. A forked worker starts with
  everything this process loaded, imports and compiled kernels alike, in a few milliseconds.
- **a fork server** otherwise (a fresh ``cxsim sweep``, the UI's threads): the server imports the
  package and loads the kernels once (:mod:`sim.sweep.warm`, about 2 s here), and each worker
  forked from it starts with both. :func:`prestart` starts it early (``cxsim sweep``,
  ``calibrate`` and ``robustness`` before their own imports, ``sim.sweep.run`` before it builds
  the plan), so that its warm-up overlaps the command's own start. Once this process started a
  server, it keeps using it.
- **"spawn"** where there is no fork (each worker imports the package itself).

Why fork only then: a process that runs other threads may be forked while one of them holds a
lock (the import lock, a logging handler's), which the child then never gets; and a cold
process would make every worker import the package on its own instead of once. The workers run
the serial kernels only (``sim.jit.use_threads(1)``), so a kernel thread pool this process
started is never entered in a worker. The numbers do not depend on the choice: every run's
seed comes from its task. Measured on the project's 2-core machine (docs/performance_rounds.md): a
sweep of 160 runs in a warm process waited 1.6-2.1 s for a cold fork server before its first
worker existed, against milliseconds forked from itself.

This module imports nothing but the standard library at its top: it is what a command imports
first.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "START_METHODS",
    "WARM_FROM_PARENT",
    "WARM_MODULE",
    "collector_frozen",
    "freeze_inherited",
    "prestart",
    "stop_server",
    "worker_context",
]

WARM_MODULE = "sim.sweep.warm"
"""Imported by the pool's fork server before it forks any worker (:func:`worker_context`)."""

WARM_FROM_PARENT: dict[str, tuple[str, ...]] = {WARM_MODULE: ("sim.model", "sim.sweep.worker")}
"""For a fork server's preload, the modules whose presence in this process makes it as warm as
that server: the pool then forks from this process instead. A preload not listed here (the UI's
Compare page) always uses its fork server."""

START_METHODS = ("auto", "fork", "forkserver", "spawn")
"""How a pool's workers may start: ``"auto"`` chooses as the module docstring says."""


def _server_running() -> bool:
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None) is not None


def _is_warm(preload: str) -> bool:
    """This process may fork the workers itself: it holds what ``preload`` would load, runs no
    other Python thread, and has not started a fork server (which is then kept)."""
    needs = WARM_FROM_PARENT.get(preload)
    return (
        needs is not None
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and all(name in sys.modules for name in needs)
        and not _server_running()
    )


def worker_context(preload: str = WARM_MODULE, start: str = "auto") -> Any:
    """The multiprocessing context of the local pool's workers.

    Parameters
    ----------
    preload
        The module a fork server imports before it forks (:data:`WARM_MODULE`; the UI's
        Compare page names its own).
    start
        ``"auto"`` (default): "fork" from this process when it is warm (module docstring),
        else the fork server preloaded with ``preload`` where there is one (Linux, macOS),
        else "spawn". ``"fork"``, ``"forkserver"`` or ``"spawn"`` ask for that one.

    The fork server is started once per process and kept (``multiprocessing.forkserver``): it
    pays for the imports and for loading the kernels once, and each worker forked from it,
    in this sweep or a later one in the same process, or to replace a worker that died,
    starts with them. A worker forked from it sees the environment variables of the moment
    the server started (the interpreter's paths and working folder are the sweep's). A
    process that started the server earlier with other modules to preload (the UI's
    Compare page, ``sim.ui.replicates``) keeps that server: its workers are warm too.
    """
    if start not in START_METHODS:
        raise ValueError(f"start: expected one of {', '.join(START_METHODS)}, got {start!r}")
    methods = multiprocessing.get_all_start_methods()
    if start == "auto":
        if _is_warm(preload):
            start = "fork"
        else:
            start = "forkserver" if "forkserver" in methods else "spawn"
    if start not in methods:
        raise ValueError(f"start: {start!r} is not available here (only {', '.join(methods)})")
    ctx = multiprocessing.get_context(start)
    if start == "forkserver":
        ctx.set_forkserver_preload([preload])  # no effect once the server runs
    return ctx


def prestart(preload: str = WARM_MODULE, start: str = "auto") -> None:
    """Start the workers' fork server now, if they will come from one (it warms up in its own
    process; returns at once)."""
    if worker_context(preload, start).get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def stop_server() -> None:
    """Stop this process's fork server now, in the middle of its warm-up if need be: for a
    command that ends on an error. The server inherited the command's stdout and stderr, and
    left alone it finishes its warm-up (1-1.5 s) before it notices that the command is gone:
    meanwhile a pipe (``cxsim sweep bad.toml | tee log``) or a caller capturing the output
    waited for the end of a command that had already printed its error (1.6 s instead of 0.6
    for a sweep file that does not exist). A server that has forked workers has already
    warmed up; its workers belong to pools that are stopped by then."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):  # closes its "alive" pipe, reaps it, removes its socket
        server._stop()


def freeze_inherited() -> None:
    """A pool worker's first act: the objects it started with (the package, pandas, Mesa, numba's
    dispatchers: about 196,000 that the garbage collector tracks, forked from this process or
    from the fork server) move to the collector's permanent generation (``gc.freeze``) and are
    never walked again.

    Python's collector makes a full pass over every object it tracks once the objects that
    survived its younger passes reach a quarter of them. In a worker such a pass walked the
    inherited objects: 85-102 ms, in two of three one-worker sweeps of 160 runs and in both
    workers of one two-worker sweep in four (docs/performance_rounds.md, eleventh round). A sweep
    waits for its slowest worker, and the pass came at no moment anyone chose. The inherited
    objects live as long as the worker, so leaving them out costs only whatever cyclic garbage
    they held at the fork (it is never freed; it does not grow). Their pages, shared with the
    parent, are also no longer copied when the collector writes to their headers: the use
    ``gc.freeze``'s documentation gives for processes that fork workers.
    """
    gc.freeze()


def one_blas_thread() -> None:
    """A pool worker's numpy and scipy on one BLAS thread (``threadpoolctl``), as its kernels
    run on one numba thread: the workers are the parallelism.

    OpenBLAS otherwise starts a thread per core in every worker, and on this 2-core machine two
    workers' four threads took turns on the two cores wherever a matrix product was large
    enough to be split (the facts fit's Tobit on 100,000 answers, its least squares). Two
    processes measuring 16 worlds each (``cxsim facts``'s work) took 10.2-11.3 s before this
    and the Tobit's own change, 8.9-9.3 s after (docs/performance.md, "The facts fit's own
    work").
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


@contextmanager
def collector_frozen() -> Iterator[None]:
    """The objects this process holds when a sweep or a calibration starts, left out of the
    garbage collector's passes until it ends (``gc.freeze`` on entry, ``gc.unfreeze`` on exit).

    While a sweep runs, this process reads results and writes chunks; while a calibration
    runs, it also runs the ABC sampler. A full pass of the collector walks every object this
    process tracks (about 196,000 once the package is imported, more with pyabc's), and on a
    machine whose every core runs a worker its CPU is taken from the workers. A calibration of
    60 particles x 3 generations on two workers made two to five such passes, 0.36-0.6 s of CPU
    in all, against 0.004-0.02 s with this (its wall time 6.8-7.8 s against 8.3-8.7; 4 December
    2026). Objects made during the sweep are collected as usual; those held before it and
    dropped during it are collected after it. A process that froze objects itself
    (``gc.get_freeze_count()`` not zero) is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
