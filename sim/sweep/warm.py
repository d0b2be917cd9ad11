"""Warm-up for the local pool's worker processes: importing this module runs a tiny sweep batch.

Only the fork server of :class:`sim.sweep.executors.LocalExecutor` imports it (its
``set_forkserver_preload``): the server then holds the package imported (pandas, Mesa, the model,
the sweep's worker) and the compiled kernels loaded, once, and every worker forked from it starts
with both instead of paying for them itself (2-2.5 s of CPU a worker, measured in a fresh process
on the project's machine; docs/performance_rounds.md). Nothing else may import this module.

The warm-up steps two markets of 60 customers together for three steps, recording, with one
kernel thread (``sim.jit.use_threads(1)``, as the workers run: the serial kernels, and no thread
pool started before the server forks). A warm-up that fails leaves the server as it is: the
workers then load what they need themselves, as they did before.

It imports no UI and no executor.
"""

from __future__ import annotations

import time

_started = time.perf_counter()

import importlib.machinery  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import Any  # noqa: E402

LAZY_MODULES = ("mesa.experimental.continuous_space",)
"""Modules ``import mesa`` executes that no sweep uses, which the server imports lazily: the
module object exists (with its ``__file__``, ``__path__`` and ``__spec__``), its code runs on the
first read of any other attribute, so a strategy that uses it works unchanged.
``mesa.experimental.continuous_space`` is what imports ``scipy.spatial`` (for ``cdist``):
0.12-0.24 s of the server's serial warm-up (the rest of SciPy, ``scipy.sparse``, is the
networks' own). ``importlib.util.LazyLoader`` does not do: Mesa's logger walks the stack with
``inspect.stack()``, whose ``inspect.getmodule`` reads ``__file__`` of every loaded module."""


class _Deferred(types.ModuleType):
    """A module whose code has not run yet: it runs on the first read of a missing attribute."""

    def __getattr__(self, name: str) -> Any:
        loader = self.__dict__.pop("_deferred_loader", None)
        if loader is None or name.startswith("__"):  # probes (``__wrapped__``, ...) load nothing
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        self.__class__ = types.ModuleType
        self.__loader__ = self.__spec__.loader = loader
        loader.exec_module(self)
        return getattr(self, name)


class _DeferredLoader:
    """Creates the module as its own loader would, and leaves running its code to ``_Deferred``."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__["_deferred_loader"] = self.loader
        module.__class__ = _Deferred


class _DeferringFinder:
    """A meta path finder that gives ``names`` a :class:`_DeferredLoader` (finds nothing else)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _DeferredLoader(spec.loader)
        return spec


@contextmanager
def _deferring(names: tuple[str, ...]) -> Iterator[None]:
    finder = _DeferringFinder(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


# The model first, from a shallow stack: importing Mesa names its logger by walking the caller's
# stack (``inspect.stack()`` in mesa.mesa_logging), which costs more the deeper the stack and the
# more modules are loaded; imported here rather than deep inside the warm-up's plan building it
# took 0.1-0.25 s less of the server's 1.9-2.5 s of CPU (10 alternated pairs, load 2.3-3.1).
try:
    with _deferring(LAZY_MODULES):
        import sim.model  # noqa: F401
except Exception:  # as a failed warm-up (below): the workers import it themselves
    pass

from sim.jit import use_threads  # noqa: E402
from sim.sweep import worker  # noqa: E402 - the workers' own module, imported once here

use_threads(1)  # as the workers run: one kernel thread each, the serial kernels


def _warm_up() -> None:
    from sim.sweep.plan import build_plan

    plan = build_plan(
        {
            "name": "warm-up",
            "scenario": "baseline",
            "seed": 1,
            "replicates": 2,
            "steps": 3,
            "parameters": [{"key": "market.customers", "values": [60]}],
            "output": {"every": 2},
        }
    )
    worker.run_batch(worker.RunBatch(tuple(plan.tasks)))


try:
    _warm_up()
    WARMED = True
except Exception:  # the workers load what they need themselves (slower, same numbers)
    WARMED = False

WARM_SECONDS = time.perf_counter() - _started
"""How long the warm-up took (in the fork server)."""
