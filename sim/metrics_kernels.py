"""Compiled (numba) twin of ``sim.metrics.tally_customers``: per-firm tallies in one pass.

``tally`` reads each industry's arrays a block of customers at a time, in order, and adds every
quantity of ``sim.metrics.TALLIES`` of a customer to its supplier's row. Counts are exact and the
same as the numpy code's; the sums (satisfaction, trust, commitment, control mutuality) are
added customer by customer where numpy adds by matrix products, so the two engines agree up to
float rounding.

This module imports numba: the package imports it only when a model runs on the numba engine
(``sim.engine``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["BLOCK", "tally"]

BLOCK = 4096
"""Customers per block (whether each is served anywhere is kept for a block at a time)."""


@njit(cache=True)
def tally(
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    complaints: np.ndarray,
    answered: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    recommend: np.ndarray,
    belongs: np.ndarray,
    promoter: float,
    detractor: float,
    total: np.ndarray,
) -> int:
    """Add each firm's tallies over its current customers to ``total``.

    Parameters
    ----------
    supplier, satisfaction, complaints, answered, trust, commitment
        ``[M, N]`` per industry and customer (``sim.state.CustomerState``).
    recommend
        ``[N]`` personal offset of the answer to "would you recommend?".
    belongs
        ``[M, F]`` bool: firm ``f`` is one of industry ``m``'s; a customer counts for its
        supplier only then (as in the numpy code).
    promoter, detractor
        The NPS thresholds on the answer, in the float type of ``satisfaction``.
    total
        ``[F, 9]`` float64, added to: per firm the columns of ``sim.metrics.TALLIES``
        (customers, rated, promoters, detractors, complainers, sum of S, of trust, of
        commitment and of answered / made complaints).

    Returns
    -------
    int
        How many customers have a supplier in at least one industry.
    """
    n_ind, n = supplier.shape
    anywhere = np.zeros(BLOCK, np.bool_)
    served = 0
    for lo in range(0, n, BLOCK):
        hi = min(n, lo + BLOCK)
        anywhere[:] = False
        for m in range(n_ind):
            for i in range(lo, hi):
                f = supplier[m, i]
                if f < 0:
                    continue
                anywhere[i - lo] = True
                if not belongs[m, f]:
                    continue
                s = satisfaction[m, i]
                # the answer to "would you recommend?" is clip(S + offset, 0, 10); the clip
                # changes neither comparison below (and NaN fails both)
                answer = s + recommend[i]
                made = complaints[m, i]
                total[f, 0] += 1.0
                total[f, 1] += s == s  # rated: not NaN
                total[f, 2] += answer >= promoter
                total[f, 3] += answer < detractor
                total[f, 4] += made > 0
                total[f, 5] += np.float64(s) if s > 0 else 0.0  # np.fmax(S, 0): NaN counts 0
                total[f, 6] += np.float64(trust[m, i])
                total[f, 7] += np.float64(commitment[m, i])
                total[f, 8] += np.float64(answered[m, i]) / np.float64(max(made, 1))
        for i in range(hi - lo):
            served += anywhere[i]
    return served
