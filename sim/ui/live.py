"""Changes that act on the running market, as a NetLogo slider does, and those that need a rebuild.

A firm's strategy, its levers (promise inflation, spending split, disclosure, ...), its price,
costs and budget are decisions a firm can change any week: the UI applies them to the model in
place (:func:`apply_live`), from the next step on, and the market keeps its history. Anything
else (the market's size, the network, segments, capability and capacity, behavioural
parameters) shapes how the market was built, so it takes a rebuild from step 0 (the UI asks
first once the market has run).

This module must never import the sweep layer. (It needs no Solara either: the page calls it.)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sim.strategies import build_strategy

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.scenario import Scenario

__all__ = ["LIVE_FIRM_FIELDS", "apply_live", "is_live", "strategy_label"]

LIVE_FIRM_FIELDS = ("price", "unit_cost", "capacity_cost", "base_budget", "budget_share")
"""Firm fields copied into the running model (the firm arrays of the same names)."""

_LIVE_KEY = re.compile(
    r"^firms\[\d+\]\.(strategy|strategy_also|levers(\..+)?|" + "|".join(LIVE_FIRM_FIELDS) + r")$"
)


def is_live(key: str) -> bool:
    """Whether a change of ``key`` can act on the running market (no rebuild)."""
    return bool(_LIVE_KEY.match(key))


def strategy_label(strategy: str | list[str]) -> str:
    """How a firm's strategy is named in the legend and the series: ``honest`` or
    ``honest+niche``."""
    return strategy if isinstance(strategy, str) else "+".join(strategy)


def apply_live(model: CustomerMarket, new: Scenario) -> list[str]:
    """Make the running ``model`` follow ``new`` in every live field (see :data:`_LIVE_KEY`).

    ``new`` must differ from the model's scenario in live fields only (the caller checks).
    Strategies are rebuilt with their new levers and take over from the next step; firm
    fields are written into the firm arrays. The model's scenario becomes ``new``, so Reset
    and the exported TOML start from today's values.

    Returns
    -------
    list of str
        The keys changed, e.g. ``["firms[0].levers.inflation"]``.
    """
    old = model.scenario
    search_dir = new.source_path.parent if new.source_path else None
    changed: list[str] = []
    fs = model.firm_state
    for i, (before, after) in enumerate(zip(old.firms, new.firms, strict=True)):
        if before.strategy != after.strategy or before.levers != after.levers:
            model.set_strategy(
                i,
                build_strategy(after.strategy, after.levers, model.attributes, search_dir),
                strategy_label(after.strategy),
            )
            changed += [f"firms[{i}].strategy"] if before.strategy != after.strategy else []
            changed += [
                f"firms[{i}].levers.{k}"
                for k in sorted(set(before.levers) | set(after.levers))
                if before.levers.get(k) != after.levers.get(k)
            ]
        for name in LIVE_FIRM_FIELDS:
            if getattr(before, name) != getattr(after, name):
                getattr(fs, name)[i] = getattr(after, name)
                changed.append(f"firms[{i}].{name}")
    model.scenario = new
    return changed
