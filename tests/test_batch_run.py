"""The model runs unchanged under Mesa's own ``mesa.batch_run``.

Mesa 3.3.1's batch_run builds ``model_cls(**kwargs)`` from the parameter grid (so
``market__customers`` reaches the scenario as an override and ``rng`` or ``seed`` as the seed),
steps while ``model.running and model.steps <= max_steps``, and reads
``model.datacollector.model_vars[name][step]`` for ``step`` in 0, period, ... and the last step.
"""

from __future__ import annotations

from pathlib import Path

import mesa
import pandas as pd

import sim
from sim.metrics import MARKET_COLUMNS

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")


def test_batch_run_returns_market_metrics():
    rows = mesa.batch_run(
        sim.CustomerMarket,
        parameters={"scenario": FIXTURE, "market__customers": [200, 300]},
        iterations=2,
        max_steps=10,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    metrics = [c for c in MARKET_COLUMNS if c not in ("step", "year")]
    assert set(metrics) <= set(df.columns)
    assert sorted(df["RunId"].unique()) == [0, 1, 2, 3]
    # max_steps=10 runs 11 steps; rows for Step 0..10 of each run
    assert len(df) == 4 * 11
    assert set(df.groupby("RunId")["Step"].max()) == {10}
    assert (df["customers"] == df["market__customers"]).all()
    assert df["nps"].notna().all() and df["retention_annual"].between(0, 1).all()


def test_batch_run_rows_match_a_direct_run_with_the_same_seed():
    rows = mesa.batch_run(
        sim.CustomerMarket,
        parameters={"scenario": FIXTURE, "rng": [11, 12]},
        iterations=1,
        max_steps=5,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    model = sim.CustomerMarket(FIXTURE, rng=11)
    model.run(6)
    direct = model.model_metrics()
    got = df[df["rng"] == 11].sort_values("Step")
    assert list(got["nps"]) == list(direct["nps"])
    assert not got["satisfaction"].equals(df[df["rng"] == 12].sort_values("Step")["satisfaction"])
