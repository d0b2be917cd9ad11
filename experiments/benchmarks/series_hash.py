"""A digest of the shipped scenarios' series: a change that must not move any number checks it.

    python experiments/benchmarks/series_hash.py [--steps 104] [--customers 2000]

Every shipped scenario (``sim.scenario.list_scenarios``) runs ``--steps`` steps at
``--customers`` customers with seed 1; the market and firm series (``model_metrics``,
``firm_metrics``) are hashed row by row (``pandas.util.hash_pandas_object``). Prints one line per
scenario and, last, ``ALL <digest>`` over all of them. An optimisation that keeps the bits gives
the same last line before and after; a change of a rule changes it (on purpose). The digest
depends on the platform's floating point (numba compiles for the machine's processor), so compare
digests taken on one machine.
"""

from __future__ import annotations

import argparse
import hashlib

import pandas as pd

import sim
from sim.scenario import list_scenarios


def digest(frame: pd.DataFrame) -> str:
    """Sixteen hex digits of a frame's values, column names and order of rows."""
    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    h = hashlib.blake2b(digest_size=8)
    h.update(",".join(map(str, frame.columns)).encode())
    h.update(rows.tobytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=104)
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    total = hashlib.blake2b(digest_size=8)
    for name, _, _ in list_scenarios():
        model = sim.CustomerMarket(name, rng=1, overrides={"market.customers": args.customers})
        for _ in range(args.steps):
            model.step()
        one = digest(model.model_metrics()) + digest(model.firm_metrics())
        total.update(one.encode())
        print(f"{name:<28} {one}", flush=True)
    print(f"ALL {total.hexdigest()}")


if __name__ == "__main__":
    main()
