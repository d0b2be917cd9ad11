"""A fixture's independent pieces of work in two worker processes at once.

The suite runs its tests one at a time in one process, which leaves the second core of the
2-core machine idle. A module-scoped fixture whose work falls into independent calls (each
validation check, each world measured alone) can run them two at a time here, in the local
pool's own worker processes (:func:`sim.sweep.context.worker_context`: forked from a warm
process, else from the fork server), each on one kernel thread as the pool's workers are. The
results are those of the same calls made in the test process: every market's numbers come from
its seed, whatever the process or the number of kernel threads (tests/test_single_engine.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    from sim.jit import use_threads

    use_threads(1)  # as the pool's workers: never enter a kernel thread pool forked from us
    return fn(*args)


def in_two_processes(calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
    """``[fn(*args) for fn, args in calls]``, computed two at a time in worker processes
    (``fn`` must be importable by name: a module-level function)."""
    from concurrent.futures import ProcessPoolExecutor

    from sim.sweep.context import worker_context

    with ProcessPoolExecutor(2, mp_context=worker_context()) as pool:
        futures = [pool.submit(_call, fn, args) for fn, args in calls]
        return [f.result() for f in futures]
