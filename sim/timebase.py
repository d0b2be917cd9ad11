"""Converting rates between a week, a year and the model's step.

Adaptation rates in scenarios are *per week* (the share of a gap closed in a week); hazards and
money flows are *per year*. The model's step lasts ``1 / steps_per_year`` years, so the same
scenario means the same thing at 52 steps a year (the default) and at 1,000 (Bass docking).

This module must never import anything from the package.
"""

from __future__ import annotations

import numpy as np

__all__ = ["WEEKS_PER_YEAR", "annual_hazard_to_step", "weekly_rate_to_step"]

WEEKS_PER_YEAR = 52.0


def weekly_rate_to_step(rate: float | np.ndarray, steps_per_year: int) -> float | np.ndarray:
    """The share of a gap closed in one step, given the share closed in a week.

    ``1 - (1 - rate) ** (52 / steps_per_year)``: compounding keeps a year of steps equal to a
    year of weeks. At 52 steps a year it returns ``rate`` unchanged.
    """
    if steps_per_year == WEEKS_PER_YEAR:
        return rate
    return 1.0 - (1.0 - np.asarray(rate, dtype=float)) ** (WEEKS_PER_YEAR / steps_per_year)


def annual_hazard_to_step(probability: float | np.ndarray, steps_per_year: int) -> np.ndarray:
    """The chance of an event in one step, given its chance within a year."""
    p = np.clip(np.asarray(probability, dtype=float), 0.0, 1.0)
    return 1.0 - (1.0 - p) ** (1.0 / steps_per_year)
