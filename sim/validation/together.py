"""The markets of many worlds stepped together: the validation's data sets for a list of worlds.

``cxsim facts`` measures the published facts in thousands of worlds (``sim.robustness.fit``),
each a few markets of 800 to 1,500 customers (``sim.validation.survey``, ``levels``,
``promises``). Stepped one by one, a world took 1.9 s of a core (6 December 2026, the Intel
Xeon, one thread): 2.5 us a customer-step, 7.5 times what a customer-step of the 1M market
costs, the fixed cost of a small market's step. The data sets' ``*_many`` builders build every
world's markets and step those of one shape as one state (``sim.batch.MarketBatch``), which
gives each market the numbers it has alone (batching is invisible in the numbers), and read
each market as the one-world builder reads it. The batches keep neither the cohorts' survival
nor the survey panel's intention to stay (NaN in the metrics), which no check reads: the panel
asked every customer at every step and took 12 of 27 s for 32 worlds' data sets.

Two cases go alone, through the one-world builder, so that the numbers stay those of a world
measured alone: a world whose market cannot be built or whose batch's step raises (its error is
then its own), and a market that stopped (every firm gone), since a market alone goes on being
stepped where its batch stops stepping it.

This module never imports the UI, the sweep layer or the robustness layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.batch import MarketBatch, shape_of
from sim.model import CustomerMarket

__all__ = ["Failed", "alone", "batch", "build", "by_shape", "read", "run"]


class Failed:
    """A world whose data set could not be built: the error, raised when the data is read."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def alone(build_one: Callable[..., Any], *args: Any) -> Any:
    """``build_one(*args)``, or :class:`Failed` with its error."""
    try:
        return build_one(*args)
    except Exception as e:
        return Failed(e)


def build(
    scenario: str, seed: int, overrides: Sequence[Mapping[str, Any]]
) -> list[CustomerMarket | Failed]:
    """A fresh market of ``scenario`` per set of ``overrides`` (all with the seed ``seed``), or
    :class:`Failed` for one that cannot be built."""
    out: list[CustomerMarket | Failed] = []
    for o in overrides:
        try:
            out.append(CustomerMarket(scenario, rng=seed, overrides=dict(o)))
        except Exception as e:
            out.append(Failed(e))
    return out


def by_shape(markets: Sequence[CustomerMarket | Failed]) -> list[list[int]]:
    """The positions of the built markets in groups of one shape (``sim.batch.shape_of``; a
    market on the complete graph alone)."""
    groups: dict[Any, list[int]] = {}
    for i, m in enumerate(markets):
        if isinstance(m, Failed):
            continue
        key = ("alone", i) if m.adjacency_is_complete else shape_of(m)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def batch(markets: Sequence[CustomerMarket | Failed], idx: list[int]) -> MarketBatch:
    """The markets at ``idx`` (one shape) as one batch, without the cohorts' survival and the
    survey panel, which no check reads."""
    return MarketBatch([markets[i] for i in idx], cohorts=False, survey=False)  # type: ignore[misc]


def run(
    scenario: str, seed: int, overrides: Sequence[Mapping[str, Any]], steps: int
) -> list[CustomerMarket | Failed | None]:
    """Each world's market of ``scenario`` after ``steps`` steps, those of one shape stepped
    together; :class:`Failed` for one that cannot be built, None for one to measure alone (its
    batch's step raised, or it stopped)."""
    built = build(scenario, seed, overrides)
    out: list[CustomerMarket | Failed | None] = [
        m if isinstance(m, Failed) else None for m in built
    ]
    for idx in by_shape(built):
        try:
            stepped = batch(built, idx).run(steps)
        except Exception:  # a world's step raised: each alone, so that the error is its own
            continue
        for i, market in zip(idx, stepped.markets, strict=True):
            out[i] = market if market.running else None
    return out


def read(
    markets: Sequence[CustomerMarket | Failed | None],
    what: Callable[[list[CustomerMarket]], Any],
    one: Callable[[], Any],
) -> Any:
    """One world's data from its markets of :func:`run` (a replicate or a variant each):
    ``what(markets)``; :class:`Failed` if one could not be built; ``one()`` (the one-world
    builder, :func:`alone`) if one must be measured alone."""
    failed = next((m for m in markets if isinstance(m, Failed)), None)
    if failed is not None:
        return failed
    if any(m is None for m in markets):
        return alone(one)
    return what(list(markets))  # type: ignore[arg-type]
