"""Plausible worlds: points in parameter space, from ranges or a calibration posterior.

:func:`sample_worlds` draws a Latin hypercube over the ranges (uniform in each, seeded: the same
ranges, count and seed always give the same worlds). :func:`posterior_worlds` takes the worlds
from a calibration posterior instead.

**Posterior format** (what ``cxsim robustness --posterior FILE`` reads): a Parquet file with one
row per posterior sample, equally weighted, and one column per parameter named by its dotted
scenario key (``expectations.weight_promise``, ``trust.loss``, ...). Columns without a dot
(``weight``, ``distance``, ``chain``, ...) are ignored. When the file has more rows than worlds
asked for, a seeded random subset of rows is used; when it has fewer, every row is used once.
Parameters with a range that the posterior does not name are sampled from their ranges (a Latin
hypercube, independent of the posterior's columns).

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.robustness.ranges import Range, RobustnessError

__all__ = ["posterior_worlds", "read_posterior", "sample_worlds"]

DIGITS = 6
"""Significant digits kept of a sampled value (the runs' overrides are readable and hashable)."""


def _round(values: np.ndarray, integer: bool) -> np.ndarray:
    if integer:
        return np.round(values).astype(float)
    out = np.array(values, dtype=float)
    nz = out != 0
    mag = np.floor(np.log10(np.abs(out[nz])))
    scale = 10.0 ** (DIGITS - 1 - mag)
    out[nz] = np.round(out[nz] * scale) / scale
    return out


def sample_worlds(ranges: dict[str, Range], n: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube of ``n`` worlds over the ranges.

    Returns
    -------
    DataFrame
        One row per world, one column per key (in the order of ``ranges``).
    """
    keys = list(ranges)
    if not keys:
        return pd.DataFrame(index=pd.RangeIndex(n))
    unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(seed)).random(n)
    cols = {}
    for j, k in enumerate(keys):
        r = ranges[k]
        if r.integer:
            v = np.floor(r.low + unit[:, j] * (r.high - r.low + 1))
            cols[k] = np.minimum(v, r.high)
        else:
            cols[k] = _round(r.low + unit[:, j] * (r.high - r.low), False)
    return pd.DataFrame(cols)


def read_posterior(path: str | Path) -> pd.DataFrame:
    """The parameter columns of a posterior file (see the module docstring).

    Raises
    ------
    RobustnessError
        Naming the file and the column or problem.
    """
    where = str(path)
    try:
        df = pd.read_parquet(path)
    except FileNotFoundError:
        raise RobustnessError(where, "", "file not found; expected a Parquet posterior") from None
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise RobustnessError(
            where,
            "",
            f"cannot read as Parquet ({type(e).__name__}); expected one row per "
            "posterior sample and one column per dotted scenario key",
        ) from None
    keys = [c for c in df.columns if isinstance(c, str) and "." in c]
    if not keys:
        raise RobustnessError(
            where,
            "",
            f"no parameter columns; expected columns named by dotted scenario keys "
            f"(e.g. expectations.weight_promise), got {list(df.columns)}",
        )
    df = df[keys]
    for k in keys:
        if not pd.api.types.is_numeric_dtype(df[k]) or pd.api.types.is_bool_dtype(df[k]):
            raise RobustnessError(where, k, f"expected numbers, got {df[k].dtype} values")
        bad = int(df[k].isna().sum())
        if bad:
            raise RobustnessError(where, k, f"expected a number in every row, {bad} missing")
    if len(df) == 0:
        raise RobustnessError(where, "", "no rows; expected one row per posterior sample")
    return df.reset_index(drop=True)


def posterior_worlds(
    posterior: pd.DataFrame, ranges: dict[str, Range], n: int, seed: int
) -> tuple[pd.DataFrame, dict[str, Range]]:
    """Worlds from a posterior's rows, completed from the ranges it does not name.

    Parameters
    ----------
    posterior
        :func:`read_posterior` output.
    ranges
        Plausible ranges; those of the posterior's columns are replaced by the posterior.
    n, seed
        Worlds wanted and the seed of the subset and of the other parameters' hypercube.

    Returns
    -------
    worlds, ranges
        The worlds (posterior columns first) and the ranges of every varied column (the
        posterior's as its sample's minimum and maximum, origin ``posterior``).
    """
    rng = np.random.default_rng(seed)
    rows = posterior
    if len(rows) > n:
        rows = rows.iloc[np.sort(rng.choice(len(rows), size=n, replace=False))]
    rows = rows.drop_duplicates().reset_index(drop=True)
    others = {k: r for k, r in ranges.items() if k not in rows.columns}
    rest = sample_worlds(others, len(rows), seed + 1)
    worlds = pd.concat([rows.astype(float), rest], axis=1)
    for k in rows.columns:
        worlds[k] = _round(worlds[k].to_numpy(), False)
    out = {
        k: Range(
            k,
            float(rows[k].min()),
            float(rows[k].max()),
            "calibration posterior",
            False,
            "posterior",
        )
        for k in rows.columns
    }
    out.update(others)
    return worlds.drop_duplicates().reset_index(drop=True), out
