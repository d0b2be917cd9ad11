"""The fitted worlds' facts measured again, with another seed.

:mod:`sim.robustness.fit` measures each fact once per world, at the check's quick size
(1,500 customers) and with one seed common to all worlds. A world near a band's edge can then
reproduce a fact by the draw rather than by its parameters, and the fit, which keeps worlds by
that one measurement, favours such worlds (a winner's curse). :func:`reseed_table` measures the
fitted worlds' facts again with the next seed: the share that still reproduces each fact, and
all of them, says how much of the fit is the worlds' and how much the draw's. Each world's
distances are appended to ``OUT/reseed.jsonl`` (a stopped test resumes).

This module never imports the UI or an executor.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from sim.robustness.facts import world_distances_many
from sim.robustness.measured import MeasuredWorlds, world_key
from sim.robustness.odds import share_columns

__all__ = ["FILE", "reseed_table"]

FILE = "reseed.jsonl"


def reseed_table(
    worlds: pd.DataFrame,
    facts: tuple[str, ...],
    out: str | Path,
    *,
    seed: int = 2,
    workers: int = 1,
) -> pd.DataFrame:
    """Each fact's share of ``worlds`` that reproduces it when measured with ``seed``.

    Parameters
    ----------
    worlds
        The fitted worlds (one row per distinct world, one column per scenario key).
    facts
        The facts the worlds were fitted to.
    out
        The fit's folder (``reseed.jsonl`` is kept there).
    seed
        The facts' seed for this test (the fit's seed + 1).
    workers
        Local processes.

    Returns
    -------
    DataFrame
        ``fact`` (each, then ``all of them``), ``holds``, ``decided`` (worlds whose markets ran),
        ``share``, ``low``, ``high`` (95% Wilson interval).
    """
    rows = worlds.to_dict(orient="records")
    named = {world_key(r): r for r in rows}
    measure = functools.partial(world_distances_many, facts=tuple(facts))
    with MeasuredWorlds(measure, Path(out) / FILE, seed, workers) as store:
        known = store.measure(named)
    d = np.array([known[world_key(r)] for r in rows], dtype=float).reshape(len(rows), len(facts))
    ran = np.all(np.isfinite(d), axis=1)
    every = [*zip(facts, (d == 0).T, strict=True), ("all of them", np.all(d == 0, axis=1))]
    return pd.DataFrame(
        [
            {"fact": name, **share_columns(int(holds[ran].sum()), int(ran.sum()))}
            for name, holds in every
        ]
    )
