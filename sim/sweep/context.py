"""Where the local pool's workers come from: a fork server that loaded the package once.

:func:`worker_context` is the multiprocessing context of ``LocalExecutor``'s pool;
:func:`prestart` starts its fork server early (``cxsim sweep`` does it before its own imports,
``sim.sweep.run`` before it builds the plan), so that the server's warm-up (:mod:`sim.sweep.warm`,
about 2 s) overlaps the sweep's own start.

This module imports nothing but the standard library: it is what a command imports first.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

__all__ = ["WARM_MODULE", "prestart", "worker_context"]

WARM_MODULE = "sim.sweep.warm"
"""Imported by the pool's fork server before it forks any worker (:func:`worker_context`)."""


def worker_context(preload: str = WARM_MODULE) -> Any:
    """The multiprocessing context of the local pool's workers: a fork server preloaded with
    ``preload`` (:data:`WARM_MODULE`; the UI's Compare page names its own) where there is
    one (Linux, macOS), else "spawn".

    The fork server is started once per process and kept (``multiprocessing.forkserver``): it
    pays for the imports and for loading the kernels once, and each worker forked from it,
    in this sweep or a later one in the same process, or to replace a worker that died,
    starts with them. A worker forked from it sees the environment variables of the moment
    the server started (the interpreter's paths and working folder are the sweep's). A
    process that started the server earlier with other modules to preload (the UI's
    Compare page, ``sim.ui.replicates``) keeps that server: its workers are warm too.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([preload])  # no effect once the server runs
        return ctx
    return multiprocessing.get_context("spawn")


def prestart(preload: str = WARM_MODULE) -> None:
    """Start the workers' fork server now (it warms up in its own process; returns at once)."""
    if worker_context(preload).get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
