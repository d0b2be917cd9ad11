"""Which parameters decide a claim: first-order sensitivity of its margin over the worlds.

The worlds are a Latin hypercube (or posterior samples), not a Saltelli or Morris design, so
the indices are estimated from the sample as it is with RBD-FAST (random balance designs Fourier
amplitude sensitivity test; Tarantola, Gatelli & Mara 2006, with Plischke's 2010 given-data
ordering and bias correction, as ``SALib.analyze.rbd_fast`` implements it). It needs no extra
runs: Sobol' or Morris would need their own designs of ``N (D + 2)`` or ``r (D + 1)`` runs that say
nothing about the odds. A random forest's importance would need scikit-learn (a dependency the
project does not otherwise have) and is not a variance share. Each index is the share of the
margin's variance explained by one parameter alone, with a bootstrap 95% interval; with ~128
worlds the intervals are wide (about +-0.15) and indices below ~0.05 are indistinguishable from 0.

The indices are SALib's; their bootstrap interval is SALib's too, computed here with every
resample of a parameter in one FFT (:func:`_bootstrap_conf`: the same draws from the same
generator, the same periodogram ratio and bias correction): SALib calls
``scipy.signal.periodogram`` once per resample, 200 x 110 calls per claim when the schema's 110
ranges are varied, about two minutes of a loaded 2-core machine for each claim.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["HARMONICS", "MIN_WORLDS", "margin_importance"]

MIN_WORLDS = 32
"""Fewer decided worlds than this give no indices (SALib's bootstrap needs subsamples well above
``2 * HARMONICS`` worlds)."""

HARMONICS = 4
"""Fourier harmonics RBD-FAST sums: on a 128-world hypercube of 13 parameters with a known answer
(S1 = 0.63 and 0.30) 4 gave the same estimates as 6-8 with narrower intervals."""


def margin_importance(
    worlds: pd.DataFrame, margin: pd.Series, seed: int = 0, resamples: int = 200
) -> pd.DataFrame:
    """First-order indices of the margin for every varied parameter, largest first.

    Parameters
    ----------
    worlds
        One row per world, one column per parameter.
    margin
        The claim's margin in each world (same index); undefined worlds are dropped.
    seed, resamples
        Of the bootstrap interval.

    Returns
    -------
    DataFrame
        Columns ``parameter``, ``S1`` (clipped at 0), ``S1_conf`` (half-width of the 95%
        interval); empty when fewer than :data:`MIN_WORLDS` worlds are decided or the margin
        does not vary.
    """
    keep = margin.notna()
    X = worlds.loc[keep[keep].index]
    y = margin[keep].to_numpy(dtype=float)
    varying = [c for c in X.columns if X[c].nunique() > 1]
    cols = ["parameter", "S1", "S1_conf"]
    if len(y) < MIN_WORLDS or not varying or np.ptp(y) == 0:
        return pd.DataFrame(columns=cols)
    X = X[varying]
    from SALib.analyze.rbd_fast import compute_first_order, permute_outputs, unskew_S1
    from scipy.stats import norm

    values = X.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)  # as SALib's rbd_fast.analyze(seed=seed) draws
    s1 = np.empty(len(varying))
    conf = np.empty(len(varying))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(varying)):
            first = compute_first_order(permute_outputs(values[:, i], y), HARMONICS)
            s1[i] = unskew_S1(first, HARMONICS, len(y))
            spread = _bootstrap_s1(values[:, i], y, resamples, rng).std(ddof=1)
            conf[i] = norm.ppf(0.975) * spread
    out = pd.DataFrame(
        {
            "parameter": varying,
            "S1": np.clip(s1, 0, None),
            "S1_conf": conf,
        }
    )
    return out.sort_values("S1", ascending=False, kind="stable").reset_index(drop=True)


def _bootstrap_s1(x: np.ndarray, y: np.ndarray, resamples: int, rng: np.random.Generator):
    """The bias-corrected index of ``y`` on ``x`` in each of ``resamples`` bootstrap halves: the
    draws, ordering and periodogram ratio of ``SALib.analyze.rbd_fast.bootstrap``, one FFT for
    all of them."""
    n = len(x)
    half = int(n * 0.5)
    idx = np.stack([rng.choice(n, replace=True, size=half) for _ in range(resamples)])
    xs, ys = x[idx], y[idx]
    order = np.argsort(xs, axis=1)
    order = np.concatenate([order[:, ::2], order[:, 1::2][:, ::-1]], axis=1)
    permuted = np.take_along_axis(ys, order, axis=1)
    # scipy.signal.periodogram's one-sided density: the mean removed, every bin but 0 (and the
    # Nyquist bin of an even length) doubled; the constant factor cancels in the ratio
    power = np.abs(np.fft.rfft(permuted - permuted.mean(axis=1, keepdims=True), axis=1)) ** 2
    if half % 2 == 0:
        power[:, 1:-1] *= 2
    else:
        power[:, 1:] *= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        first = power[:, 1 : HARMONICS + 1].sum(axis=1) / power[:, 1:].sum(axis=1)
    lamb = 2 * HARMONICS / half
    return first - lamb / (1 - lamb) * (1 - first)
