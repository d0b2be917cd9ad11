"""CPU a customer and step of small markets stepped together, against one large market.

Issue 16, item 1: a batch of small markets should cost per customer about what one large market
costs. This script steps, on one thread as a sweep's worker does, the same number of customers
three ways and prints the CPU time of a customer-step of each:

- **alone**: markets of ``--customers`` stepped one by one, each its own batch of one (how a
  sweep stepped them before issue 16);
- **batched**: ``--markets`` of them stepped together as one batch (``sim.batch.MarketBatch``,
  how a sweep steps them now);
- **one market** of ``markets x customers`` customers.

Every market records its metrics every 13th step, as the sweep benchmarks keep their rows
(``batched_sweep.spec``); building the markets is not timed. What the batch still pays more
than one market is its fixed part (the phases' firm-level set-up, once a step for the batch, and
a little for each of its markets) and, in a market of up to 5,000 customers, the survey panel:
everyone answers it, where a larger market asks a sample of 5,000 (``sim.indicators.panel``).

    python experiments/benchmarks/batch_vs_large.py [--markets 64] [--customers 1000]
        [--steps 104] [--scenarios baseline overpromise_vs_honest] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

from batched_sweep import at_least

import sim
from sim.batch import MarketBatch
from sim.jit import threads, use_threads
from sim.scenario import ScenarioError, load_scenario

RECORD_EVERY = 13
"""Steps between recorded rows, as ``batched_sweep.spec`` keeps them."""


def _batch(scenario: str, customers: int, seeds: range, steps: int) -> MarketBatch:
    """Fresh markets of ``scenario`` stepped as one batch, recording every 13th and the last
    step, as a sweep's worker records the rows it keeps (``MarketBatch.record_kept``)."""
    size = {"market.customers": customers}
    markets = [sim.CustomerMarket(scenario, rng=s, overrides=size, batched=True) for s in seeds]
    batch = MarketBatch(markets)
    batch.record_kept(RECORD_EVERY, steps)
    return batch


def _cpu(batches: list[MarketBatch], steps: int) -> float:
    """CPU seconds to run each batch for ``steps`` steps, one after another."""
    start = time.process_time()
    for batch in batches:
        batch.run(steps)
    return time.process_time() - start


def measure(
    scenario: str, markets: int, customers: int, steps: int, repeats: int = 3
) -> dict[str, float]:
    """Nanoseconds of CPU a customer-step, ``{"alone", "batched", "one"}`` (the least of
    ``repeats``), on one thread (the caller's thread count is set back after)."""
    before = threads()
    use_threads(1)
    try:
        seeds = range(1, markets + 1)
        _batch(scenario, customers, range(1, 3), 3).run(3)  # load the kernels
        _batch(scenario, customers * markets, range(1, 2), 3).run(3)
        best = {"alone": float("inf"), "batched": float("inf"), "one": float("inf")}
        ways = {  # each way's batches, built just before they are timed
            "alone": lambda: [_batch(scenario, customers, range(s, s + 1), steps) for s in seeds],
            "batched": lambda: [_batch(scenario, customers, seeds, steps)],
            "one": lambda: [_batch(scenario, customers * markets, range(1, 2), steps)],
        }
        for _ in range(repeats):
            for way, build in ways.items():
                best[way] = min(best[way], _cpu(build(), steps))
    finally:
        use_threads(before)
    per = steps * markets * customers
    return {way: 1e9 * seconds / per for way, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markets", type=at_least(2), default=64)
    parser.add_argument("--customers", type=at_least(50), default=1000)
    parser.add_argument("--steps", type=at_least(1), default=104)
    parser.add_argument("--repeats", type=at_least(1), default=3)
    parser.add_argument("--scenarios", nargs="+", default=["baseline", "overpromise_vs_honest"])
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    rows = []
    m, n = args.markets, args.customers
    for scenario in args.scenarios:  # a wrong name or size: one message before any timing
        try:
            load_scenario(scenario, {"market.customers": n})
        except ScenarioError as e:
            parser.error(f"--scenarios: {e}")
    print(f"CPU a customer-step, one thread: {m} markets of {n:,} customers x {args.steps} steps")
    print(f"{'scenario':<24} {'alone':>9} {'batched':>9} {'one market':>11}  batched / one")
    for scenario in args.scenarios:
        ns = measure(scenario, m, n, args.steps, args.repeats)
        ratio = ns["batched"] / ns["one"]
        print(f"{scenario:<24} {ns['alone']:>6.0f} ns {ns['batched']:>6.0f} ns "
              f"{ns['one']:>8.0f} ns  {ratio:.2f}x")  # fmt: skip
        rows.append({"scenario": scenario, "markets": m, "customers": n, **ns, "ratio": ratio})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
