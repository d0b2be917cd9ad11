"""Do the facts hold a narrowed range? Each one redrawn in the fitted worlds, the facts measured.

:func:`sim.robustness.fit_report.constrained_table` lists a parameter as narrowed when its
fitted worlds' 90% interval is at most 75% of its range's and narrower than every decoy's. With
one Metropolis step a generation the fitted worlds descend from a few prior worlds (lineages), so
the decoys are narrow too and, with a hundred parameters against five decoys, many parameters
pass that bar by chance: the lineages hold them there, not the facts. :func:`knockout_table`
tests each listed parameter directly. In every distinct fitted world it redraws that one
parameter from its plausible range (:func:`redrawn`: uniform over ``[low, high]``, whole numbers
rounded as the fit's prior does), keeps every other value, and measures the facts with the fit's
seed, the seed the fit measured them with, so that only the parameter changed. The share of
worlds that still reproduce every fact says whether the facts need the parameter where the
fitted worlds have it; :func:`held` says when that share is low enough to count
(:data:`RULE`).

Each redraw comes from ``SeedSequence(seed, spawn_key=(parameter, world))`` (the parameter's
name and the world's values hashed): the same fit, the same redraws, whatever the workers, the
order of the worlds or the parameters tested with it. Each redrawn world's distances are
appended to ``OUT/knockout.jsonl`` (a stopped test resumes), and ``cxsim facts`` writes the
table to ``OUT/knockout.csv`` and beside the narrowed ranges in ``report.md``.

This module never imports the UI or an executor.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.robustness.facts import world_distances_many
from sim.robustness.fit_report import constrained_table
from sim.robustness.measured import Measure, MeasuredWorlds, world_key
from sim.robustness.odds import share_columns, wilson

if TYPE_CHECKING:
    from sim.robustness.fit import FactsFit
    from sim.robustness.ranges import Range

__all__ = ["FILE", "NEW_SEED_SHARE", "RULE", "held", "knockout_table", "redrawn", "summary"]

FILE = "knockout.jsonl"

NEW_SEED_SHARE = 0.9
"""The share of fitted worlds that still reproduce every fact with the next seed, assumed when
the reseed test (:mod:`sim.robustness.reseed`) was not run: the shipped fit's (75 of 83, 7
December 2026), taken as exact."""

RULE = (
    "held when redrawing it loses clearly more worlds than measuring again with the next seed "
    "does: the redrawn share is below the next seed's by more than both shares' 95% Wilson "
    "intervals allow (Newcombe's interval for the difference lies above 0)"
)
"""The rule of :func:`held`, in words (the report and the docs say it)."""


def held(holds: int, decided: int, seed_holds: int | None, seed_decided: int | None) -> bool:
    """Whether the facts hold a parameter: redrawn, it loses clearly more worlds than a new seed.

    A redraw changes the worlds' markets in two ways: through what the parameter does, and
    through the draws (a changed parameter shifts which random numbers each customer meets).
    The fit kept the worlds that reproduce every fact with one seed, so some pass by the draw,
    and the second way alone loses those (a winner's curse): a redraw that perturbs the draws
    as much as a new seed keeps about the new seed's share (:mod:`sim.robustness.reseed`), one
    that nothing in the facts' markets reads keeps every world. The new seed's share is
    therefore the least a redraw the facts do not care about keeps, and a parameter is held
    when its redrawn share ``p`` (Wilson interval ``l..h``) is below the new seed's ``q``
    (``lq..hq``) by more than both uncertainties allow::

        q - p > sqrt((q - lq)^2 + (h - p)^2)

    the lower bound of Newcombe's (1998, *Statistics in Medicine* 17:873-890) hybrid Wilson
    interval for ``q - p`` above 0, a one-sided test at about 2.5%. Comparing the redrawn
    share's upper bound with the new seed's share alone (``h < q``) would take that share as
    exact; it is measured in the same few worlds (75 of 83 in the shipped fit: 82-95%), and
    taking it as exact calls parameters held whose redrawn share lies within its noise. The
    shares are of the same worlds, whose passes under the two perturbations go together, so
    treating them as independent samples widens the interval: the rule errs towards "not held".
    Of 39 parameters that each kept the new seed's share, about one would be called held by
    chance; one the facts ignore keeps more, and is called held less often.

    When the reseed test was not run (``seed_decided`` None or 0) the new seed's share is
    :data:`NEW_SEED_SHARE`, taken as exact: held when ``h`` is below it. No world decided: not
    held.

    Parameters
    ----------
    holds, decided
        Redrawn worlds that still reproduce every fact, and those whose markets ran.
    seed_holds, seed_decided
        The same with the next seed, unredrawn (:func:`~sim.robustness.reseed.reseed_table`'s
        ``all of them`` row); None when that test was not run.
    """
    if decided < 1:
        return False
    redrawn_odds = wilson(holds, decided)
    if seed_holds is None or not seed_decided:
        q, q_margin = NEW_SEED_SHARE, 0.0
    else:
        seed_odds = wilson(seed_holds, seed_decided)
        q, q_margin = seed_odds.share, seed_odds.share - seed_odds.low
    p_margin = redrawn_odds.high - redrawn_odds.share
    return q - redrawn_odds.share > math.hypot(q_margin, p_margin)


def _name(text: str) -> int:
    """A whole number of a name, the same in every process (``hash`` is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def redrawn(worlds: pd.DataFrame, parameter: str, r: Range, seed: int) -> pd.DataFrame:
    """``worlds`` with ``parameter`` redrawn uniformly over ``[r.low, r.high]``, every other
    value kept.

    Each world's value comes from ``SeedSequence(seed, spawn_key=(parameter, world))`` (both
    hashed, the world by :func:`~sim.robustness.measured.world_key` of its values), so it
    depends on the seed, the parameter and that world only. Whole-number ranges are rounded, as
    the fit's prior is (:class:`~sim.robustness.fit.FactsSimulator`).

    Returns
    -------
    DataFrame
        The same rows and columns as ``worlds``.
    """
    out = worlds.copy()
    u = np.array(
        [
            np.random.default_rng(
                np.random.SeedSequence(seed, spawn_key=(_name(parameter), int(world_key(row), 16)))
            ).random()
            for row in worlds.to_dict(orient="records")
        ],
        dtype=float,
    )
    values = r.low + u * (r.high - r.low)
    out[parameter] = np.round(values) if r.integer else values
    return out


def knockout_table(
    fit: FactsFit,
    out: str | Path,
    *,
    seed: int,
    facts_seed: int,
    workers: int = 1,
    reseed: pd.DataFrame | None = None,
    measure: Measure | None = None,
) -> pd.DataFrame:
    """Each narrowed parameter redrawn in the fitted worlds: the share that still reproduces
    every fact, and whether the facts hold it (:func:`held`).

    Parameters
    ----------
    fit
        A fit whose worlds reproduce every fact; its narrowed parameters
        (:func:`~sim.robustness.fit_report.constrained_table`) are tested, each in every
        distinct fitted world.
    out
        The fit's folder (``knockout.jsonl`` is kept there).
    seed
        The fit's seed (``--seed``): of the redraws (:func:`redrawn`).
    facts_seed
        The facts' seed the fit measured them with: the redrawn worlds are measured with it.
    workers
        Local processes.
    reseed
        The reseed test's table (:func:`~sim.robustness.reseed.reseed_table`; its last row,
        ``all of them``, is the new seed's share), None when it was not run.
    measure
        ``measure(worlds, seed)``: each world's distances, one per fact of ``fit.facts``
        (default: the facts, :func:`~sim.robustness.facts.world_distances_many`).

    Returns
    -------
    DataFrame
        One row per narrowed parameter, narrowest first: ``parameter``, ``low``, ``high`` (its
        range), ``ratio`` (fitted 90% width over the range's), ``holds``, ``decided`` (redrawn
        worlds whose markets ran), ``share``, ``share_low``, ``share_high`` (95% Wilson
        interval) and ``held``.
    """
    narrowed = constrained_table(fit)
    narrowed = narrowed[narrowed["narrowed"]]
    worlds = fit.posterior.drop_duplicates().reset_index(drop=True)
    tests = {
        k: redrawn(worlds, k, fit.ranges[k], seed).to_dict(orient="records")
        for k in narrowed["parameter"]
    }
    named = {world_key(w): w for rows in tests.values() for w in rows}
    if measure is None:
        measure = functools.partial(world_distances_many, facts=tuple(fit.facts))
    with MeasuredWorlds(measure, Path(out) / FILE, facts_seed, workers) as store:
        known = store.measure(named)
    seed_holds = seed_decided = None
    if reseed is not None and len(reseed):
        seed_holds, seed_decided = int(reseed.iloc[-1]["holds"]), int(reseed.iloc[-1]["decided"])
    rows = []
    for r in narrowed.itertuples():
        d = np.array([known[world_key(w)] for w in tests[r.parameter]], dtype=float)
        d = d.reshape(len(worlds), len(fit.facts))
        ran = np.all(np.isfinite(d), axis=1)
        holds, decided = int(np.all(d[ran] == 0, axis=1).sum()), int(ran.sum())
        cols = share_columns(holds, decided)
        rows.append(
            {
                "parameter": r.parameter,
                "low": r.low,
                "high": r.high,
                "ratio": r.ratio,
                "holds": holds,
                "decided": decided,
                "share": cols["share"],
                "share_low": cols["low"],
                "share_high": cols["high"],
                "held": held(holds, decided, seed_holds, seed_decided),
            }
        )
    columns = ["parameter", "low", "high", "ratio", "holds", "decided", "share"]
    return pd.DataFrame(rows, columns=[*columns, "share_low", "share_high", "held"])


def summary(table: pd.DataFrame) -> str:
    """The knockout test in one line (``cxsim facts`` prints it)."""
    n = len(table)
    k = int(table["held"].sum()) if n else 0
    if not n:
        return "no range is narrowed: nothing to redraw"
    if k == 0:
        return (
            f"the facts hold none of the {n} narrowed ranges: redrawn, none loses clearly more "
            "worlds than a new seed does; their narrowing is the lineages', not the facts'"
        )
    each = "each loses" if k > 1 else "it loses"
    text = f"the facts hold {k} of the {n} narrowed ranges: redrawn, {each} clearly more "
    text += "worlds than a new seed does"
    if k < n:
        text += f"; the other {n - k} do not, their narrowing is the lineages', not the facts'"
    return text
