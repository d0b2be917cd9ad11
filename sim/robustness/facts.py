"""The published facts a plausible world must reproduce, and how far a world is from them.

The plausible ranges (``sim.params.plausible_ranges``) say what each parameter could be, one at
a time. Together they admit markets unlike any observed: over the 192 worlds of the shipped
robustness studies (``experiments/robustness/ranges.toml``, seed 2027, measured 5 December
2026), the baseline market's mean satisfaction stays outside 7-8 on the 0-10 scale in 147, and
only one world reproduces the four facts below that are measured in the baseline market. A
verdict's odds over such worlds mix real-looking markets with impossible ones.
Pattern-oriented modelling (Grimm et al. 2005, Science 310:987-991) keeps only the parameter sets
that reproduce several observed patterns at once; :mod:`sim.robustness.fit` does that by
sequential Monte Carlo, and ``cxsim robustness --posterior`` then takes its worlds.

The facts (:data:`FACTS`) are the validation checks that (a) are in-sample (the model was
calibrated against them, so fitting to them uses no new evidence), (b) pass at the defaults,
and (c) measure how customers respond under the world's parameters:

- ``loss_asymmetry`` and ``disconfirmation_beats_expectation`` (a survey of the baseline
  market),
- ``word_of_mouth_valence`` and ``levels`` (the baseline market's own series),
- ``promise_asymmetry`` (one firm that exceeds, keeps or breaks its promise).

Left out: ``bass_docking`` (it docks the code with a closed form, whatever the parameters),
``kopalle_lehmann`` (it fails at the defaults: fitting to it would pick worlds by a pattern the
model does not show there) and the out-of-sample checks, ``retention_rises_with_tenure`` and
``bolton_anchoring``, which stay out of the fit so that they can still test it.

A fit may take another set (``cxsim facts --facts``, :data:`FITTABLE`): any of these five, and
``retention_rises_with_tenure``, which passes at the defaults, to ask whether the worlds can
reproduce it together with the others (docs/robustness.md: in the plausible worlds it goes
against ``disconfirmation_beats_expectation``). A fact fitted to is no longer out-of-sample.

Each fact is measured at the check's quick size (1,500 customers, seconds a world) with a seed
common to all worlds. Its distance (:attr:`sim.validation.result.CheckResult.distance`) is how
far the world's values lie outside the check's target, in units of the target band's width, 0
exactly when the check passes; a world's distance is their sum.

This module imports numpy and the model only when a world is measured (``cxsim --help`` lists
:data:`FACTS`); it never imports the UI or an executor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FACTS",
    "FITTABLE",
    "LEFT_OUT",
    "not_fitted",
    "world_distances",
    "world_distances_many",
    "world_facts",
    "world_facts_many",
]

FACTS: tuple[str, ...] = (
    "loss_asymmetry",
    "disconfirmation_beats_expectation",
    "word_of_mouth_valence",
    "levels",
    "promise_asymmetry",
)
"""The validation checks a world is fitted to by default, in the order of a world's distances."""

FITTABLE: tuple[str, ...] = (*FACTS, "retention_rises_with_tenure")
"""The checks a fit may take as its facts (each states a distance and passes at the defaults),
in the order a fit lists its facts whichever are chosen."""

LEFT_OUT: dict[str, str] = {
    "bass_docking": "docks the code with a closed form, whatever the parameters",
    "kopalle_lehmann": "fails at the defaults",
    "retention_rises_with_tenure": "out-of-sample: kept to test the fitted worlds",
    "bolton_anchoring": "out-of-sample (and fails at the defaults)",
}
"""The other checks, and why a world is not fitted to them by default."""


def not_fitted(facts: tuple[str, ...] = FACTS) -> dict[str, str]:
    """The validation checks a fit to ``facts`` leaves out, each with why."""
    out = {f: "left out of this fit (--facts)" for f in FITTABLE if f not in facts}
    out.update({k: why for k, why in LEFT_OUT.items() if k not in facts})
    return out


SIZE = "quick"
"""The size at which the facts are measured (``sim.validation.result.Size``)."""


def world_facts(
    values: Mapping[str, Any], seed: int = 1, facts: tuple[str, ...] = FACTS
) -> list[Any]:
    """The fact checks' results in a world (``CheckResult`` each, in the order of ``facts``).

    Parameters
    ----------
    values
        The world: scenario key -> value, applied to every market the checks build.
    seed
        The checks' seed (the same in every world: common random numbers).
    facts
        The checks (names of :data:`FITTABLE`).
    """
    from sim.validation import CHECKS, run_check

    cache: dict[tuple, Any] = {}
    return [run_check(CHECKS[name], SIZE, None, seed, dict(values), cache) for name in facts]


def world_facts_many(
    worlds: Sequence[Mapping[str, Any]], seed: int = 1, facts: tuple[str, ...] = FACTS
) -> list[list[Any] | BaseException]:
    """:func:`world_facts` in many worlds, their markets stepped together
    (``sim.validation.build_data``, ``sim.validation.together``): each world's results are
    those it has alone; for a world whose markets cannot be built or run, or whose check
    raises, the error instead.

    Measured on the Intel Xeon (6 December 2026, one thread, the quick size): a world's five
    facts took 1.9 s alone, 2.5 us a customer-step of its five markets of 800-1,500 customers;
    docs/robustness.md gives the figures batched.
    """
    from sim.validation import CHECKS, data_caches, run_check
    from sim.validation.together import Failed

    checks = [CHECKS[name] for name in facts]
    plain = [dict(w) for w in worlds]
    out: list[list[Any] | BaseException] = []
    for world, cache in zip(plain, data_caches(checks, SIZE, seed, plain), strict=True):
        failed = next((v for v in cache.values() if isinstance(v, Failed)), None)
        if failed is not None:  # as alone: the first data set that cannot be built
            out.append(failed.error)
            continue
        try:
            out.append([run_check(c, SIZE, None, seed, dict(world), cache) for c in checks])
        except Exception as e:
            out.append(e)
    return out


def world_distances_many(
    worlds: Sequence[Mapping[str, Any]], seed: int = 1, facts: tuple[str, ...] = FACTS
) -> list[np.ndarray]:
    """:func:`world_distances` in many worlds, their markets stepped together: the same
    distances as each alone (:func:`world_facts_many`)."""
    return [_distances(r, len(facts)) for r in world_facts_many(worlds, seed, facts)]


def _distances(results: list[Any] | BaseException, n: int) -> np.ndarray:
    import numpy as np

    if isinstance(results, BaseException):
        return np.full(n, math.inf)
    out = np.array([r.distance for r in results], dtype=float)
    out[~np.isfinite(out)] = math.inf
    return out


def world_distances(
    values: Mapping[str, Any], seed: int = 1, facts: tuple[str, ...] = FACTS
) -> np.ndarray:
    """Each fact's distance in a world (inf for a world whose market cannot be built or run).

    Returns
    -------
    ndarray
        One distance per fact of ``facts``; all 0 exactly when the world reproduces them.
    """
    try:
        results: list[Any] | BaseException = world_facts(values, seed, facts)
    except Exception as e:  # a world the model rejects is as far as can be, not a crash of the fit
        results = e
    return _distances(results, len(facts))
