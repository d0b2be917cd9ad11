"""Phase 0 and 1: which firms customers can see, and what the firms decide.

Visibility: firms whose ``entry_step`` has come and that have not exited are visible to their
region's customers (national firms to all). Decisions: each active firm's strategy (a Python
object, ``sim.strategies``) sets its promise, budget allocation, focus, price, retention mix,
feature share, teaching and disclosure; the budget is then split into capability, capacity,
marketing and retention spending at the current customer base (``sim.rules.economics``).
Every market of a batch in turn for the strategies, at once for the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.rules.economics import set_spending

if TYPE_CHECKING:
    from sim.batch import MarketBatch


def update_visibility(batch: MarketBatch) -> None:
    """``batch.visible[b, r, f]``: firm ``f`` of market ``b`` is active and serves region
    ``r``."""
    fs = batch.firm_state
    active = fs.active(batch.steps)  # [B, F]
    regions = np.arange(batch.R)[None, :, None]
    batch.visible[...] = active[:, None, :] & (
        fs.national[:, None, :] | (fs.region[:, None, :] == regions)
    )


def decide(batch: MarketBatch) -> None:
    """Phase 1: every live market's active firms decide; then the budgets are split."""
    for b in np.flatnonzero(batch.live):
        batch.markets[b].decide_firms()
    set_spending(batch)
