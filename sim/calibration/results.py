"""What a posterior says: credible intervals, identifiability, and the fitted scenario.

- :func:`intervals`: weighted 5%, 25%, 50%, 75%, 95% quantiles and the mean of each parameter.
- :func:`identifiability`: the width of the 90% posterior interval over that of the prior. Near
  0 the data pins the parameter down; near 1 it says nothing the prior did not (the parameter
  is not identified by these series, and its posterior is its prior).
- :func:`fitted_scenario_toml`: the base scenario with each parameter at its posterior median,
  as TOML that ``cxsim run`` accepts, headed by comments giving the intervals, the data file and
  its SHA-256.

This module never imports the model, an executor or the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.priors import Prior
from sim.scenario import Scenario, load_scenario

__all__ = [
    "IDENTIFIED",
    "UNIDENTIFIED",
    "fitted_scenario",
    "fitted_scenario_toml",
    "identifiability",
    "intervals",
    "weighted_quantile",
]

IDENTIFIED = 0.5
"""A posterior/prior width ratio below this: the data pins the parameter down."""

UNIDENTIFIED = 0.8
"""Above this: the data says little about the parameter."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted empirical CDF, interpolated)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(q, float), cdf, v)


def intervals(posterior: pd.DataFrame, priors: Sequence[Prior]) -> pd.DataFrame:
    """One row per parameter: prior, mean, median and the 50% and 90% credible intervals."""
    rows = []
    w = posterior["weight"].to_numpy()
    for p in priors:
        x = posterior[p.key].to_numpy()
        q05, q25, q50, q75, q95 = weighted_quantile(x, w, [0.05, 0.25, 0.5, 0.75, 0.95])
        rows.append(
            {
                "parameter": p.key,
                "prior": p.describe(),
                "mean": float(np.sum(w * x) / np.sum(w)),
                "median": q50,
                "q05": q05,
                "q25": q25,
                "q75": q75,
                "q95": q95,
            }
        )
    return pd.DataFrame(rows)


def identifiability(posterior: pd.DataFrame, priors: Sequence[Prior]) -> pd.DataFrame:
    """Posterior 90% width over prior 90% width, with a verdict per parameter."""
    rows = []
    w = posterior["weight"].to_numpy()
    for p in priors:
        lo, hi = weighted_quantile(posterior[p.key].to_numpy(), w, [0.05, 0.95])
        plo, phi = p.interval(0.9)
        ratio = (hi - lo) / (phi - plo) if phi > plo else np.nan
        verdict = (
            "pinned down"
            if ratio < IDENTIFIED
            else "weakly identified"
            if ratio < UNIDENTIFIED
            else "not identified"
        )
        rows.append(
            {
                "parameter": p.key,
                "prior_width": phi - plo,
                "posterior_width": hi - lo,
                "ratio": ratio,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def _median_overrides(table: pd.DataFrame, priors: Sequence[Prior]) -> dict[str, Any]:
    medians = dict(zip(table["parameter"], table["median"], strict=True))
    return {p.key: round(medians[p.key]) if p.integer else float(medians[p.key]) for p in priors}


def fitted_scenario(base: Scenario, table: pd.DataFrame, priors: Sequence[Prior]) -> Scenario:
    """The base scenario with every parameter at its posterior median."""
    return load_scenario(base, _median_overrides(table, priors))


def fitted_scenario_toml(
    base: Scenario,
    table: pd.DataFrame,
    priors: Sequence[Prior],
    *,
    data_file: str,
    data_sha256: str,
    runs: int,
) -> str:
    """The fitted scenario as TOML, headed by comments on where it came from."""
    scenario = fitted_scenario(base, table, priors)
    data = scenario.to_dict()
    data["name"] = f"{base.name}_fitted"
    note = (
        f"Calibrated by cxsim calibrate to {data_file} (sha256 {data_sha256[:12]}...): "
        "the behavioural parameters below are at their posterior medians."
    )
    data["description"] = f"{base.description.strip()}\n\n{note}".strip()
    import tomli_w

    lines = [
        f"# Fitted by 'cxsim calibrate' ({runs} model runs).",
        f"# data: {data_file}",
        f"# data sha256: {data_sha256}",
        "# posterior median [90% interval] of each calibrated parameter:",
    ]
    for _, r in table.iterrows():
        lines.append(f"#   {r['parameter']} = {r['median']:.6g}  [{r['q05']:.4g}, {r['q95']:.4g}]")
    return "\n".join(lines) + "\n\n" + tomli_w.dumps(data)
