"""Warm-up for the Compare page's worker processes: importing this module runs a tiny market.

Only the fork server of :mod:`sim.ui.replicates` imports it (``set_forkserver_preload``): the
server then holds the package imported and the compiled kernels loaded, and each worker process
forked from it starts with both, instead of paying for them (seconds each) before its first
step. Nothing else may import this module.

It imports no Solara (worker processes need none) and never the sweep layer.
"""

from __future__ import annotations

import time

_started = time.perf_counter()

from sim.jit import use_threads  # noqa: E402
from sim.model import CustomerMarket  # noqa: E402
from sim.ui import replicates  # noqa: E402, F401 - the workers' own module, imported once here

use_threads(1)  # as the workers run: one kernel thread each, the serial kernels
_market = CustomerMarket("baseline", overrides={"market.customers": 60}, eager_agents=False)
_market.run(2)
del _market

WARM_SECONDS = time.perf_counter() - _started
"""How long the warm-up took (in the fork server)."""
