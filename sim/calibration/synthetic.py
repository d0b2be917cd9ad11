"""Observed series made by the model itself at known parameters (recovery tests, examples).

:func:`synthetic_observations` runs the scenario once with the given parameter values and seed
and fills the ``value`` column of a template of rows (series, firm, cohort, year, and optionally
se, n, holdout) with what the run shows, through the same :class:`Summaries` a calibration
uses. A calibration to such data should find the parameters again: that is the recovery
benchmark (experiments/benchmarks/calibration_recovery.py).

This module never imports the UI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.data import read_observed
from sim.calibration.summaries import FIRM_METRICS, MARKET_METRICS, Summaries
from sim.scenario import Scenario, load_scenario
from sim.sweep.worker import OutputPlan, RunTask, run_one

__all__ = ["synthetic_observations"]

_PLACEHOLDER = {"nps": 0.0, "satisfaction": 5.0}


def synthetic_observations(
    scenario: str | Path | Scenario | dict[str, Any],
    truth: dict[str, Any],
    template: pd.DataFrame,
    seed: int,
) -> pd.DataFrame:
    """The template's rows with the values one run at ``truth`` gives.

    Parameters
    ----------
    scenario
        The market (with any fixed changes already applied).
    truth
        Scenario overrides: the parameter values to recover.
    template
        Rows of the observed-data format; ``value`` may be missing (it is filled).
    seed
        The run's seed.

    Raises
    ------
    ValueError
        The template has ``purchases`` rows (their rate is not the model's) or the run fails.
    """
    base = load_scenario(scenario)
    rows = template.copy()
    if "purchases" in set(rows["series"]):
        raise ValueError("synthetic purchases need a purchase rate the model does not have")
    rows["value"] = [_PLACEHOLDER.get(s, 0.5) for s in rows["series"]]
    observed = read_observed(rows, [f.name for f in base.firms], name="<template>")
    summaries = Summaries(observed, base.steps_per_year)
    task = RunTask(
        run_id="synthetic",
        point_id="synthetic",
        point=0,
        replicate=0,
        label="synthetic",
        overrides=dict(truth),
        values={},
        seed_entropy=int(seed),
        seed_key=0,
        steps=summaries.horizon_steps,
        scenario=base,
        output=OutputPlan(
            tables=summaries.tables(),
            every=1,
            market_columns=MARKET_METRICS,
            firm_columns=FIRM_METRICS,
        ),
    )
    result = run_one(task)
    if result.status != "ok":
        raise ValueError(f"the run at {truth} failed: {result.error}")
    values = summaries.simulate(result.tables)
    if np.isnan(values).any():
        bad = observed.frame[np.isnan(values)].iloc[0]
        raise ValueError(
            f"the run at {truth} has no {bad['series']} for {bad['firm'] or 'the market'} "
            f"at year {bad['year']:g}"
        )
    out = template.copy()
    out["value"] = values
    return out
