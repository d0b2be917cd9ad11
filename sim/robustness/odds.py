"""The odds of a claim: the share of plausible worlds where it holds, with a Wilson interval.

The Wilson score interval (Wilson 1927) keeps its coverage near the nominal level for small
samples and for shares near 0 or 1, where the normal ("Wald") interval collapses to a point; a
claim that holds in 128 of 128 worlds gets [0.97, 1], not [1, 1].

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

__all__ = ["Odds", "share_columns", "wilson"]


@dataclass(frozen=True)
class Odds:
    """How often a claim holds.

    Attributes
    ----------
    holds, worlds
        Worlds where it holds, and decided worlds (where its margin is defined).
    share
        ``holds / worlds``.
    low, high
        The Wilson interval at ``level``.
    level
        Confidence level.
    undecided
        Worlds where the claim's margin is undefined (left out of ``worlds``).
    """

    holds: int
    worlds: int
    share: float
    low: float
    high: float
    level: float = 0.95
    undecided: int = 0

    @property
    def text(self) -> str:
        """``"72% (95% CI 64-79%)"``."""
        return (
            f"{100 * self.share:.0f}% ({100 * self.level:.0f}% CI "
            f"{100 * self.low:.0f}-{100 * self.high:.0f}%)"
        )


def wilson(holds: int, worlds: int, level: float = 0.95, undecided: int = 0) -> Odds:
    """The share ``holds / worlds`` with its Wilson score interval.

    Raises
    ------
    ValueError
        For ``worlds < 1`` or ``holds`` outside ``0..worlds``.
    """
    if worlds < 1 or not 0 <= holds <= worlds:
        raise ValueError(f"expected 0 <= holds <= worlds and worlds >= 1, got {holds}/{worlds}")
    z = float(norm.ppf(0.5 + level / 2))
    p = holds / worlds
    denom = 1 + z * z / worlds
    centre = (p + z * z / (2 * worlds)) / denom
    half = z * math.sqrt(p * (1 - p) / worlds + z * z / (4 * worlds * worlds)) / denom
    return Odds(
        holds=holds,
        worlds=worlds,
        share=p,
        low=max(0.0, centre - half),
        high=min(1.0, centre + half),
        level=level,
        undecided=undecided,
    )


def share_columns(holds: int, decided: int) -> dict[str, float]:
    """A table row's ``holds``, ``decided``, ``share``, ``low`` and ``high`` (the 95% Wilson
    interval; NaN when nothing was decided)."""
    o = wilson(holds, decided) if decided else None
    return {
        "holds": holds,
        "decided": decided,
        "share": o.share if o else math.nan,
        "low": o.low if o else math.nan,
        "high": o.high if o else math.nan,
    }
