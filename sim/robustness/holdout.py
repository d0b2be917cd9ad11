"""The fitted worlds against the published facts they were not fitted to.

:mod:`sim.robustness.fit` keeps the plausible worlds that reproduce the in-sample facts. Whether
that makes them more like real markets is a question for facts they were *not* fitted to: the
out-of-sample validation checks (:data:`HOLDOUT`). :func:`holdout_table` runs them, at their quick
size with the facts' common seed, in the plausible worlds of the fit's prior sample and in the
fitted worlds, and gives the share of each set that reproduces each, with its Wilson interval.
If fitting to the in-sample facts made the worlds more realistic, the fitted worlds should
reproduce the out-of-sample facts at least as often; if not, the in-sample facts constrain
something else. Each world's results are appended to ``OUT/holdout.jsonl`` (a stopped test
resumes).

This module never imports the UI or an executor.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.robustness.measured import MeasuredWorlds, world_key
from sim.robustness.odds import share_columns

__all__ = ["HOLDOUT", "holdout_table", "out_of_sample", "world_holdout", "world_holdout_many"]

HOLDOUT: tuple[str, ...] = ("retention_rises_with_tenure", "bolton_anchoring")
"""The out-of-sample validation checks (docs/validation.md), in the order of a world's results."""

FILE = "holdout.jsonl"


def out_of_sample(facts: tuple[str, ...]) -> tuple[str, ...]:
    """The checks of :data:`HOLDOUT` a fit to ``facts`` leaves out of sample."""
    return tuple(c for c in HOLDOUT if c not in facts)


def world_holdout(
    values: Mapping[str, Any], seed: int = 1, checks: tuple[str, ...] = HOLDOUT
) -> list[float]:
    """Whether the world reproduces each of ``checks`` (1 or 0; NaN when its market cannot be
    built or run)."""
    from sim.validation import CHECKS, run_check

    cache: dict[tuple, Any] = {}
    out = []
    for name in checks:
        try:
            out.append(
                float(run_check(CHECKS[name], "quick", None, seed, dict(values), cache).passed)
            )
        except Exception:  # a world the model rejects gives no answer, not a crash
            out.append(math.nan)
    return out


def world_holdout_many(
    worlds: Sequence[Mapping[str, Any]], seed: int = 1, checks: tuple[str, ...] = HOLDOUT
) -> list[list[float]]:
    """:func:`world_holdout` in many worlds, the markets of the data sets that can be built
    together stepped together (``sim.validation.build_data``): the same answers as each
    alone."""
    from sim.validation import CHECKS, data_caches, data_key, run_check
    from sim.validation.together import Failed

    plain = [dict(w) for w in worlds]
    caches = data_caches([CHECKS[c] for c in checks], "quick", seed, plain)
    out = []
    for world, cache in zip(plain, caches, strict=True):
        row = []
        for name in checks:
            check = CHECKS[name]
            if check.data is not None and isinstance(
                cache[data_key(check.data, "quick", seed, world)], Failed
            ):
                row.append(math.nan)
                continue
            try:
                row.append(float(run_check(check, "quick", None, seed, dict(world), cache).passed))
            except Exception:  # a world the model rejects gives no answer, not a crash
                row.append(math.nan)
        out.append(row)
    return out


def holdout_table(
    sets: Mapping[str, pd.DataFrame],
    out: str | Path,
    *,
    seed: int = 1,
    workers: int = 1,
    checks: tuple[str, ...] = HOLDOUT,
) -> pd.DataFrame:
    """Each out-of-sample fact's share in each set of worlds.

    Parameters
    ----------
    sets
        Label -> worlds (one row per world, one column per scenario key); a world that appears
        twice is run once.
    out
        The fit's folder (``holdout.jsonl`` is kept there).
    seed
        The checks' seed, common to every world.
    workers
        Local processes.
    checks
        The out-of-sample checks: those of :data:`HOLDOUT` the fit did not take as facts
        (:func:`out_of_sample`).

    Returns
    -------
    DataFrame
        ``worlds`` (the set's label), ``check``, ``holds``, ``decided``, ``share``, ``low``,
        ``high`` (95% Wilson interval).
    """
    every = {world_key(row): row for df in sets.values() for row in df.to_dict(orient="records")}
    measure = functools.partial(world_holdout_many, checks=tuple(checks))
    with MeasuredWorlds(measure, Path(out) / FILE, seed, workers) as store:
        known = store.measure(every)
    rows = []
    for label, worlds in sets.items():
        results = np.array([known[world_key(r)] for r in worlds.to_dict(orient="records")], float)
        for j, name in enumerate(checks):
            col = results[:, j] if len(results) else np.array([])
            decided = col[~np.isnan(col)]
            rows.append(
                {
                    "worlds": label,
                    "check": name,
                    **share_columns(int(decided.sum()), len(decided)),
                }
            )
    return pd.DataFrame(rows)
