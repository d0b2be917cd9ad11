"""Posterior predictive runs: the model at posterior draws, as bands around the data.

Draws ``k`` particles from the weighted posterior (a seeded resample), runs each once on the
executor and returns, for every observed row (fitted and held out), the 5%, 25%, 50%, 75% and
95% quantiles of the simulated values next to the observed value. Held-out rows show the
forecast; the share of fitted rows inside their 90% band is a quick check of the fit.

This module never imports the UI.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.calibration.data import ObservedData
from sim.calibration.priors import Prior
from sim.calibration.simulate import Simulator, run_key

__all__ = ["draw_posterior", "predictive_bands"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def draw_posterior(
    posterior: pd.DataFrame, priors: Sequence[Prior], k: int, seed: int
) -> list[dict[str, float]]:
    """``k`` parameter sets resampled from the weighted posterior (seeded)."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(999_983,)))
    w = posterior["weight"].to_numpy(float)
    idx = rng.choice(len(posterior), size=k, replace=True, p=w / w.sum())
    return [{p.key: float(posterior[p.key].iloc[i]) for p in priors} for i in idx]


def predictive_bands(
    observed: ObservedData,
    simulator: Simulator,
    draws: Sequence[dict[str, float]],
    label: str = "predictive",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Run the draws; return the bands per observed row and the raw simulated rows.

    Returns
    -------
    bands
        The observed frame with ``q05 .. q95`` and ``inside90`` (the value lies in its band).
    sims
        ``len(draws) x rows`` simulated values.
    """
    batch = [(f"{label}/{i}", d) for i, d in enumerate(draws)]
    stats = simulator.run(batch)
    sims = np.array([stats[run_key(lbl, d)] for lbl, d in batch])
    bands = observed.frame.copy()
    with np.errstate(all="ignore"):
        qs = np.nanquantile(sims, QUANTILES, axis=0) if len(sims) else None
    for q, name in zip(QUANTILES, ("q05", "q25", "q50", "q75", "q95"), strict=True):
        bands[name] = qs[QUANTILES.index(q)] if qs is not None else np.nan
    bands["inside90"] = (bands["value"] >= bands["q05"]) & (bands["value"] <= bands["q95"])
    return bands, sims
