"""Memory bandwidth of this machine and the memory-traffic bound of a step.

Measures what numpy can stream (the fastest of several repetitions on 256 MiB arrays, far larger
than the caches: what the machine can do, which a busy minute only hides): ``copy``
(``np.copyto``, bytes read + written), ``read`` (a float32 sum) and ``write`` (``fill``). Then
counts the bytes a step must move at least: every per-customer state array the step reads for
every customer read once and, if the step rewrites it, written once (the state's own layout,
float32; :data:`READ_WRITE`, :data:`READ_ONLY`, :data:`WRITE_ONLY`). The step's details (the
expectation each experience was judged against, ``S`` before the step, ``d``) are not counted:
since 7 December 2026 the step writes them only when asked (``MarketBatch.details``, the
validation survey). Until then the count had the judged expectation (46 MiB at 1M) and lacked
the decayed warnings, the regions and the personal standards (31 MiB): 499 MiB then, 484 now.
The bound is those bytes at the copy bandwidth: no implementation that keeps this state in
memory can step faster.
docs/performance.md compares it with the measured step; with ``--step-seconds`` (a step measured
at ``--customers``) it prints the bytes per second that step reaches and its share of the copy
bandwidth (``run_all.py`` does the same in its summary).

    python experiments/benchmarks/bandwidth.py [--customers N] [--step-seconds S] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import sim

BYTES = 256 * 2**20


def stream(repeats: int = 7) -> dict[str, float]:
    """GB/s of copy (read + write), read and write on arrays larger than any cache, each from
    the fastest of ``repeats`` repetitions.

    The fastest, not the median: the figure is the machine's bandwidth, which a step's share is
    measured against, and another process streaming at the same time slows some repetitions (a
    median of seven gave 26.9-38.1 GB/s in one hour on the project's machine, and the lower
    figures made the same step's share look larger)."""
    a = np.ones(BYTES // 4, np.float32)
    b = np.empty_like(a)
    np.copyto(b, a)  # first touch

    def fastest(f) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times)

    return {
        "copy_gbs": 2 * BYTES / fastest(lambda: np.copyto(b, a)) / 1e9,
        "read_gbs": BYTES / fastest(lambda: a.sum()) / 1e9,
        "write_gbs": BYTES / fastest(lambda: b.fill(0.5)) / 1e9,
    }


def fastest_run(measurements: list[dict[str, float]]) -> dict[str, float]:
    """Of several runs of this script (``--json``), the one that streamed fastest (the copy):
    ``run_all.py`` measures before the step benchmarks and after them, and compares the 1M step
    with the better of the two, so that a busy minute at either end cannot lower the yardstick."""
    return max(measurements, key=lambda m: m["copy_gbs"])


READ_WRITE = (
    "expectation",
    "satisfaction",
    "last_satisfaction",
    "trust",
    "commitment",
    "tenure",
    "steps_since_recovery",
    "warnings",
    "benchmark",
    "attitude",
)
"""Customer arrays a step reads and rewrites for every customer (``warnings``: phases 2-5 write
each customer's decayed count every step, whether it changed or not)."""
READ_ONLY = ("supplier", "region", "weights", "disposition", "standard", "heard")
"""Customer arrays a step reads for every customer and does not rewrite (``heard`` is rewritten
for the listeners only, about 42% of its 64-byte lines at baseline; ``weights`` by a teaching
firm's customers only)."""
WRITE_ONLY = ("experience", "failed")
"""Customer arrays a step writes for every served customer without reading them first."""
NOT_COUNTED = {
    "segment": "read when the market is built",
    "base_weights": "read by teaching, for a teaching firm's customers",
    "recommend": "read by the metrics on recorded steps",
    "price_sensitivity": "read by switching and acquisition for their few candidates",
    "joined": "written at a switch or an adoption, read by the metrics on recorded steps",
    "complaints": "written for the complainers (3-4% of the values, 39% of the lines a step)",
    "answered": "written for the complainers answered",
    "switches": "written at a switch",
}
"""Customer arrays a step touches for a few customers only (or not every step): not in the least
traffic, which stays a lower bound (tests/test_benchmarks.py checks that every array of
``sim.state.CustomerState`` is in exactly one of these four groups)."""


def traffic(n: int) -> dict[str, float]:
    """Least bytes a step moves at ``n`` customers (baseline market, float32 state):
    :data:`READ_WRITE` twice, :data:`READ_ONLY` and :data:`WRITE_ONLY` once."""
    model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 300})
    cs = model.customer_state
    scale = n / cs.n
    total = 0.0
    for name in READ_WRITE:
        total += 2 * getattr(cs, name).nbytes * scale
    for name in (*READ_ONLY, *WRITE_ONLY):
        total += getattr(cs, name).nbytes * scale
    state = cs.nbytes() * scale
    return {"customers": n, "state_mb": state / 2**20, "bytes_per_step_mb": total / 2**20}


def achieved(bytes_per_step_mb: float, step_s: float, copy_gbs: float) -> tuple[float, float]:
    """``(GB/s, share of the copy bandwidth)`` a step reaches when it takes ``step_s`` seconds:
    the least bytes it must move (:func:`traffic`) over its time. Issue 16 asks for at least 30%
    at 1M customers (docs/performance.md, "One large market")."""
    gbs = bytes_per_step_mb * 2**20 / step_s / 1e9
    return gbs, gbs / copy_gbs


def main() -> None:
    """Measure, print, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=None,
        help="a measured step at --customers: print the bytes per second it reaches",
    )
    args = parser.parse_args()
    bw = stream()
    tr = traffic(args.customers)
    bound = tr["bytes_per_step_mb"] * 2**20 / (bw["copy_gbs"] * 1e9)
    out = {**bw, **tr, "bound_s": bound}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"memory bandwidth: copy {bw['copy_gbs']:.1f} GB/s (read + write), "
        f"read {bw['read_gbs']:.1f} GB/s, write {bw['write_gbs']:.1f} GB/s"
    )
    print(
        f"{args.customers:,} customers: state {tr['state_mb']:.0f} MiB; a step moves at least "
        f"{tr['bytes_per_step_mb']:.0f} MiB -> at least {1000 * bound:.0f} ms a step at the "
        "copy bandwidth"
    )
    if args.step_seconds:
        gbs, share = achieved(tr["bytes_per_step_mb"], args.step_seconds, bw["copy_gbs"])
        print(
            f"a step of {1000 * args.step_seconds:.0f} ms moves those bytes at {gbs:.2f} GB/s: "
            f"{100 * share:.1f}% of the copy bandwidth"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
