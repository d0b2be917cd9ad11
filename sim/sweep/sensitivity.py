"""Sensitivity indices of sweep outcomes with SALib: Sobol' (first and total order) and Morris.

The design rows of a Sobol' or Morris sweep are in SALib's sample order; each row's output ``Y``
is the mean over replicates of the outcome at its design point (a point visited twice by Morris
trajectories was run once and is used twice). Indices come with bootstrap confidence intervals
(``conf_level`` 0.95 by default) from ``SALib.analyze.sobol`` / ``SALib.analyze.morris``.

:func:`sobol_indices` and :func:`morris_indices` work on plain arrays (tested on known
functions); :func:`sweep_indices` reads them from a finished sweep. This module never imports
the model, the UI or an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.sweep.analysis import AT_FINAL, outcome_ci
from sim.sweep.outcomes import Outcome

if TYPE_CHECKING:
    from sim.sweep.results import SweepResults

__all__ = [
    "PRECISE",
    "SensitivityError",
    "morris_indices",
    "row_outputs",
    "sobol_indices",
    "sobol_precision_notes",
    "sweep_indices",
]

_ANALYSIS_SEED = 20_250_101


class SensitivityError(ValueError):
    """Indices cannot be computed (wrong design, missing results); the message says why."""


def sobol_indices(
    problem: dict[str, Any],
    y: np.ndarray,
    *,
    second_order: bool = False,
    conf_level: float = 0.95,
    seed: int = _ANALYSIS_SEED,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """First-order and total Sobol' indices with confidence intervals.

    Parameters
    ----------
    problem
        SALib problem (``num_vars``, ``names``, ``bounds``).
    y
        Model output per row of ``SALib.sample.sobol.sample(problem, N, calc_second_order=...)``.
    second_order
        Whether the sample was drawn with second-order rows.
    conf_level, seed, num_resamples
        Bootstrap of the intervals.

    Returns
    -------
    DataFrame
        ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (``*_conf``: half-width), sorted
        by ``ST`` descending.
    """
    from SALib.analyze import sobol

    res = sobol.analyze(
        problem,
        np.asarray(y, float),
        calc_second_order=second_order,
        conf_level=conf_level,
        num_resamples=num_resamples,
        seed=seed,
    )
    df = pd.DataFrame(
        {
            "parameter": problem["names"],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )
    return df.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)


def morris_indices(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    levels: int = 4,
    conf_level: float = 0.95,
    seed: int = _ANALYSIS_SEED,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """Morris elementary-effect statistics with a confidence interval on ``mu_star``.

    Parameters
    ----------
    problem
        SALib problem.
    x, y
        The Morris sample (rows in trajectory order) and the output per row.
    levels
        Grid levels the sample was drawn with.

    Returns
    -------
    DataFrame
        ``parameter``, ``mu``, ``mu_star``, ``mu_star_conf`` (half-width), ``sigma``, sorted by
        ``mu_star`` descending.
    """
    from SALib.analyze import morris

    res = morris.analyze(
        problem,
        np.asarray(x, float),
        np.asarray(y, float),
        num_levels=levels,
        conf_level=conf_level,
        num_resamples=num_resamples,
        seed=seed,
    )
    df = pd.DataFrame(
        {
            "parameter": problem["names"],
            "mu": res["mu"],
            "mu_star": res["mu_star"],
            "mu_star_conf": res["mu_star_conf"],
            "sigma": res["sigma"],
        }
    )
    return df.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)


def row_outputs(results: SweepResults, outcome: Outcome, at: int | str = AT_FINAL) -> np.ndarray:
    """The output ``Y`` per design row: the point's mean over replicates.

    Raises
    ------
    SensitivityError
        Some points have no value (failed or missing runs): indices need every row.
    """
    means = outcome_ci(results, outcome, ["point_id"], at)
    by_point = dict(zip(means["point_id"], means["mean"], strict=True))
    rows = results.design()["point_id"].tolist()
    y = np.array([by_point.get(p, np.nan) for p in rows], float)
    missing = int(np.isnan(y).sum())
    if missing:
        raise SensitivityError(
            f"{results.root}: {outcome.text} has no value at {missing} of "
            f"{len(y)} design rows (failed or missing runs); expected every "
            "row: finish the sweep (rerun it, --retry-failed) first"
        )
    return y


def sweep_indices(
    results: SweepResults,
    outcomes: Sequence[Outcome],
    at: int | str = AT_FINAL,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sensitivity indices of each scalar outcome of a Sobol' or Morris sweep (long format).

    Returns
    -------
    DataFrame
        ``outcome``, ``title``, ``method``, then the columns of :func:`sobol_indices` or
        :func:`morris_indices`.

    Raises
    ------
    SensitivityError
        The sweep is not a Sobol' or Morris design, or an outcome is per firm (not scalar).
    """
    m = results.manifest
    kind, problem = m["design"]["kind"], m.get("problem")
    if kind not in ("sobol", "morris") or not problem:
        raise SensitivityError(
            f"{results.root}: a {kind} design; sensitivity indices need a "
            "sobol or morris design (design.kind)"
        )
    spec = m["spec"].get("design", {})
    frames = []
    for o in outcomes:
        if o.per_firm:
            raise SensitivityError(
                f"{o.text}: one value per firm; expected a scalar outcome "
                f"(a market metric, or firms.<firm>.{o.metric})"
            )
        y = row_outputs(results, o, at)
        if kind == "sobol":
            df = sobol_indices(
                problem,
                y,
                second_order=bool(spec.get("second_order", False)),
                conf_level=conf_level,
            )
        else:
            x = results.design()[problem["names"]].to_numpy(float)
            df = morris_indices(
                problem, x, y, levels=int(spec.get("levels", 4)), conf_level=conf_level
            )
        df.insert(0, "outcome", o.text)
        df.insert(1, "title", o.title)
        df.insert(2, "method", kind)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


PRECISE = 0.1
"""The confidence half-width up to which a Sobol' index reads to one decimal: wider, and an index
of 0.3 may be 0 or 0.7 (and a total index above 1 or a first-order one below 0 is that width, not
a finding): :func:`sobol_precision_notes` says so, and how many samples would do."""


def sobol_precision_notes(
    indices: pd.DataFrame, samples: int, runs_per_sample: int, level: float = 0.95
) -> list[str]:
    """One note per outcome whose Sobol' indices are wider than :data:`PRECISE`.

    The bootstrap half-widths shrink about as ``1 / sqrt(samples)``, so ``samples * (w /
    PRECISE) ** 2`` samples, rounded up to a power of two (Sobol' sequences are balanced there),
    would bring the widest half-width ``w`` near :data:`PRECISE`.

    Parameters
    ----------
    indices
        :func:`sweep_indices`' table (rows of other methods are ignored).
    samples
        The design's ``samples`` (SALib's ``N``).
    runs_per_sample
        Runs a sample costs: ``D + 2`` points (``2 D + 2`` with second-order indices) times the
        replicates.
    level
        The intervals' confidence level (for the message).

    Returns
    -------
    list of str
        Empty when every index is that precise.
    """
    notes = []
    if indices is None or not len(indices) or "S1_conf" not in indices:
        return notes
    sobol = indices[indices["method"] == "sobol"]
    for (_, title), rows in sobol.groupby(["outcome", "title"], sort=False):
        widths = np.concatenate([rows["S1_conf"].to_numpy(float), rows["ST_conf"].to_numpy(float)])
        widths = widths[np.isfinite(widths)]
        if not len(widths) or widths.max() <= PRECISE:
            continue
        worst = float(widths.max())
        need = 2 ** int(np.ceil(np.log2(samples * (worst / PRECISE) ** 2)))
        notes.append(
            f"{title}: the Sobol' indices are imprecise (the widest {level:.0%} half-width is "
            f"{worst:.2f}; an index outside 0..1 is that width, not a finding): design.samples = "
            f"{need:,} instead of {samples:,} ({need * runs_per_sample:,} runs) would bring the "
            f"half-widths near {PRECISE}"
        )
    return notes
