"""Compiling the rules before first use: ``python -m sim.warmup`` (``make install``).

The first model to step compiles its kernels (``sim.jit``), and numba caches them next to their
modules (``__pycache__``), so later processes load them in well under a second. Warming up once
after installing keeps that pause out of the first ``cxsim run``, the first UI session and every
fresh sweep worker.

It compiles the float32 kernels, the ones every market of the command line, the UI, the sweeps
and the studies uses: 81 s of CPU time in a fresh clone (97 s wall, load average 2.5, 5
December 2026), against 118 s (128 s wall) in the same hour when it also compiled a float64
market. float64 (``CustomerMarket(dtype="float64")``, the Python API's, used by the
agent-by-agent reference tests) compiles its own specialisations at its first use, about 35 s.
"""

from __future__ import annotations

import time

__all__ = ["main", "warm_up"]


def warm_up() -> float:
    """Step small markets so that every kernel is compiled and cached.

    Two markets: a float32 one larger than one block of customers, with the sizes from which
    word of mouth, the tallies and the attitude ranges run parallel tasks lowered to its own
    (the parallel kernels: without it a user's first market of 250,000 customers or more
    compiled three more, 3 s), and a small one with a month-long step (a few specialisations
    of its own); then a batch of two
    float32 markets of 1,000 customers on one kernel thread, as a sweep's workers step theirs
    (the serial twins of the parallel kernels, on a batch's arrays: without it each worker of
    the first sweep compiled them, about 7 s of CPU a worker on the 2-core machine), and two of
    ``niche_vs_generalist``, whose firms teach customers what to value (the teaching kernel: 0.4
    s at a user's first such market, and in every worker of its first sweep). Returns the
    seconds taken.
    """
    from sim import arrays, tallies
    from sim.batch import MarketBatch
    from sim.jit import threads, use_threads
    from sim.model import CustomerMarket
    from sim.rules import fan_out, listening

    started = time.perf_counter()
    big = {"market.customers": 2 * arrays.CHUNK + 100}
    sizes = (
        fan_out.FAN_TASK,
        listening.LISTEN_TASK,
        tallies.PARALLEL_TALLY,
    )
    # word of mouth's tasks and the tallies' run in parallel from larger markets than this one:
    # lowered here, so that their parallel kernels are compiled too (not at a user's first
    # large market)
    fan_out.FAN_TASK, listening.LISTEN_TASK = 256, 4096
    tallies.PARALLEL_TALLY = arrays.CHUNK
    try:
        CustomerMarket("baseline", rng=0, overrides=big).run(2)
    finally:
        (
            fan_out.FAN_TASK,
            listening.LISTEN_TASK,
            tallies.PARALLEL_TALLY,
        ) = sizes
    # a month-long step (a few specialisations of its own); float32, as every market of the
    # CLI, the UI and the sweeps (float64 is the Python API's, compiled at its first use)
    monthly = {"market.customers": 300, "steps_per_year": 12}
    CustomerMarket("baseline", rng=0, overrides=monthly).run(2)
    before = threads()
    use_threads(1)
    try:
        small = {"market.customers": 1000}
        MarketBatch([CustomerMarket("baseline", rng=r, overrides=small) for r in (0, 1)]).run(6)
        # firms that teach customers what to value (none of the baseline's does)
        teach = [CustomerMarket("niche_vs_generalist", rng=r, overrides=small) for r in (0, 1)]
        MarketBatch(teach).run(2)
    finally:
        use_threads(before)
    return time.perf_counter() - started


def main() -> None:
    """Warm up and say how long it took."""
    seconds = warm_up()
    print(f"numba kernels compiled and cached ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
