"""Which strategy label each firm had at each step, when labels change while a market runs.

A firm's strategy can be changed while the market runs (a live lever in the UI,
``sim.ui.live``); the rows already recorded keep the label the firm had then. A market nobody
changed keeps an empty history, never read per step.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StrategyHistory"]


class StrategyHistory(dict[int, tuple[list[int], list[str]]]):
    """Per firm whose label changed: the steps after which it changed, ascending, and the label
    in force up to each of them."""

    def note(self, firm: int, step: int, before: str) -> None:
        """Firm ``firm``'s label changes after step ``step`` from ``before``; a second change
        after the same step keeps the label that step really had."""
        steps, labels = self.setdefault(firm, ([], []))
        if not steps or steps[-1] != step:
            steps.append(step)
            labels.append(before)

    def labels_at(self, current: list[str], firm: np.ndarray, step: np.ndarray) -> np.ndarray:
        """The label each ``firm`` had at each ``step`` (recorded after that step), as objects;
        ``current`` holds today's labels."""
        out = np.array(current, dtype=object)[firm]
        for i, (steps, labels) in self.items():
            mine = firm == i
            history = np.array([*labels, current[i]], dtype=object)
            out[mine] = history[np.searchsorted(steps, step[mine], side="left")]
        return out
