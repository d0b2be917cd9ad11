"""Warm-up for the local pool's worker processes: importing this module runs a tiny sweep batch.

Only the fork server of :class:`sim.sweep.executors.LocalExecutor` imports it (its
``set_forkserver_preload``): the server then holds the package imported (pandas, Mesa, the model,
the sweep's worker) and the compiled kernels loaded, once, and every worker forked from it starts
with both instead of paying for them itself (2-2.5 s of CPU a worker, measured in a fresh process
on the project's machine; docs/performance.md). Nothing else may import this module.

The warm-up steps two markets of 60 customers together for three steps, recording, with one
kernel thread (``sim.jit.use_threads(1)``, as the workers run: the serial kernels, and no thread
pool started before the server forks). A warm-up that fails leaves the server as it is: the
workers then load what they need themselves, as they did before.

It imports no UI and no executor.
"""

from __future__ import annotations

import time

_started = time.perf_counter()

# The model first, from a shallow stack: importing Mesa names its logger by walking the caller's
# stack (``inspect.stack()`` in mesa.mesa_logging), which costs more the deeper the stack and the
# more modules are loaded; imported here rather than deep inside the warm-up's plan building it
# took 0.1-0.25 s less of the server's 1.9-2.5 s of CPU (10 alternated pairs, load 2.3-3.1).
try:
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
