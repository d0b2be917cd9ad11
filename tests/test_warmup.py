"""The warm-up (``python -m sim.warmup``, run by ``make install``) compiles every kernel a user's
first markets need: a market large enough for the parallel kernels (word of mouth's tasks, the
tallies, the attitude ranges), a sweep worker's batch on one thread, and every shipped scenario
alone and as a sweep's batch then add no compiled specialisation. Run in a fresh interpreter:
the signatures this test process has compiled for other tests would hide a missing one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import importlib, json, pkgutil, sys
import sim, sim.rules
from sim.batch import MarketBatch
from sim.jit import use_threads
from sim.model import CustomerMarket
from sim.warmup import warm_up

if sys.argv[1] == "warm":
    warm_up()
kernels = {}
for info in pkgutil.walk_packages(sim.__path__, "sim."):
    if info.name.startswith(("sim.ui", "sim.workshop")) or info.name == "sim.sweep.warm":
        continue  # the UI's; the fork server's preload, which sets one kernel thread
    module = importlib.import_module(info.name)
    for name, value in vars(module).items():
        if hasattr(value, "signatures") and hasattr(value, "py_func"):
            kernels[f"{value.__module__}.{name}"] = value
before = {name: set(k.signatures) for name, k in kernels.items()}
# a user's first large market (every parallel threshold passed, 2 threads), then a sweep
# worker's batch on one thread
CustomerMarket("baseline", rng=0, overrides={"market.customers": 300_000}).run(2)
use_threads(1)
small = {"market.customers": 1000}
MarketBatch([CustomerMarket("baseline", rng=r, overrides=small) for r in range(8)]).run(3)
# every shipped scenario: a market alone (the UI, ``cxsim run``) and a sweep worker's batch (one
# thread; a market on the complete graph is its own batch), long enough for word of mouth
from sim.scenario import list_scenarios

for name, _, _ in list_scenarios():
    use_threads(2)
    CustomerMarket(name, rng=0, overrides={"market.customers": 300}).run(12)
    use_threads(1)
    built = [CustomerMarket(name, rng=r, overrides={"market.customers": 300}, batched=True)
             for r in range(3)]
    if built[0].adjacency_is_complete:
        built = [CustomerMarket(name, rng=0, overrides={"market.customers": 300})]
    MarketBatch(built).run(12)
print(json.dumps(sorted(n for n, k in kernels.items() if set(k.signatures) - before[n])))
"""


def new_signatures(mode: str) -> list[str]:
    """The kernels that compiled (or loaded) a specialisation for the user's markets."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NUMBA_NUM_THREADS": "2"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_warm_up_leaves_nothing_to_compile_for_a_large_market_or_a_batch() -> None:
    assert new_signatures("warm") == []


def test_without_the_warm_up_the_check_sees_the_kernels_compiled() -> None:
    # the control: the same markets in a process that did not warm up bring their kernels in
    # (from the cache), the parallel ones included
    names = new_signatures("cold")
    for kernel in (
        "sim.rules.fused.parallel_tasks",
        "sim.rules.listening.parallel_listen",
        "sim.tallies.parallel_tally",
        "sim.rules.switching.serial_tasks",
        "sim.rules.teaching.taught",
    ):
        assert kernel in names
