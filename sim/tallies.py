"""Per-firm counts and sums over each firm's current customers, in one compiled pass: what the
metrics of a recorded step tally (``sim.metrics``), and the cohorts' counts.

:func:`tally` adds, per market and firm of a batch, its customers, those rated, promoters and
detractors (the answer to "would you recommend?", ``S`` plus the customer's personal offset,
against 8.5 and 6.5), those who ever complained, and the sums of satisfaction, trust in the
firm's word, commitment, answered / made complaints and the attitude toward the firm (over its
customers, and over everyone: its reputation). :func:`cohort_counts` counts each firm's
customers by the year they joined it.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.jit import kernel

if TYPE_CHECKING:
    from sim.batch import MarketBatch

__all__ = [
    "DETRACTOR",
    "PROMOTER",
    "TALLIES",
    "cohort_counts",
    "industry_membership",
    "tally",
    "tally_customers",
]

PROMOTER, DETRACTOR = 8.5, 6.5
"""NPS thresholds on the answer to "would you recommend?" (0..10): 9-10 and 0-6 once rounded."""

TALLIES = (
    "customers",
    "rated",
    "promoters",
    "detractors",
    "complainers",
    "satisfaction",
    "trust",
    "commitment",
    "control_mutuality",
    "mindset",
    "attitude",
)


TALLY_BLOCK = 4096
"""Customers per block of :func:`tally` (whether each is served anywhere is kept per block)."""


@kernel
def _block_sum(values: np.ndarray, lo: int, hi: int) -> float:
    """``values[lo:hi]`` summed in float64, in four interleaved partial sums (one chain of
    additions would wait on each add's latency)."""
    a = b = c = d = 0.0
    i = lo
    while i + 4 <= hi:
        a += np.float64(values[i])
        b += np.float64(values[i + 1])
        c += np.float64(values[i + 2])
        d += np.float64(values[i + 3])
        i += 4
    while i < hi:
        a += np.float64(values[i])
        i += 1
    return (a + b) + (c + d)


@kernel
def tally(
    offsets: np.ndarray,
    recording: np.ndarray,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    complaints: np.ndarray,
    answered: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    recommend: np.ndarray,
    attitude: np.ndarray,
    belongs: np.ndarray,
    promoter: float,
    detractor: float,
    total: np.ndarray,
    served: np.ndarray,
) -> None:
    """Add each firm's tallies over its current customers, in one pass over every market that
    records this step.

    Parameters
    ----------
    offsets, recording
        The batch's first customer of each market (and one past the last) and which markets
        record.
    supplier, satisfaction, complaints, answered, commitment
        ``[M, N]`` per industry and customer (``sim.state.CustomerState``).
    trust, attitude
        ``[F, N]`` each customer's trust in each firm's word, and attitude toward it (summed
        over the firm's own customers, and over everyone).
    recommend
        ``[N]`` personal offset of the answer to "would you recommend?".
    belongs
        ``[M, F]`` bool: firm ``f`` is one of industry ``m``'s; a customer counts for its
        supplier only then.
    promoter, detractor
        The NPS thresholds on the answer, in the float type of ``satisfaction``.
    total
        ``[B, F, 11]`` float64, added to: per firm the columns of :data:`TALLIES` (customers,
        rated, promoters, detractors, complainers, sum of S, of trust, of commitment, of
        answered / made complaints and of the attitude toward the firm over its customers,
        then over all its market's customers).
    served
        ``[B]``, added to: customers with a supplier in at least one industry.
    """
    n_ind = supplier.shape[0]
    anywhere = np.zeros(TALLY_BLOCK, np.bool_)
    for b in range(len(offsets) - 1):
        if not recording[b]:
            continue
        for lo in range(offsets[b], offsets[b + 1], TALLY_BLOCK):
            hi = min(offsets[b + 1], lo + TALLY_BLOCK)
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
                    t = total[b, f]
                    t[0] += 1.0
                    t[1] += s == s  # rated: not NaN
                    t[2] += answer >= promoter
                    t[3] += answer < detractor
                    t[4] += made > 0
                    t[5] += np.float64(s) if s > 0 else 0.0  # S, 0 where missing (NaN)
                    t[6] += np.float64(trust[f, i])
                    t[7] += np.float64(commitment[m, i])
                    t[8] += np.float64(answered[m, i]) / np.float64(max(made, 1))
                    t[9] += np.float64(attitude[f, i])
            for i in range(hi - lo):
                served[b] += anywhere[i]
            for f in range(attitude.shape[0]):  # the firm's reputation among everyone
                total[b, f, 10] += _block_sum(attitude[f], lo, hi)


@kernel
def cohort_counts(
    offsets: np.ndarray,
    supplier: np.ndarray,
    joined: np.ndarray,
    steps_per_year: int,
    counts: np.ndarray,
) -> None:
    """``counts[b, f, c]``: customers of firm ``f`` of market ``b`` who joined it in year ``c``
    of the run (not those served since before the run), added to."""
    for b in range(len(offsets) - 1):
        for m in range(supplier.shape[0]):
            for i in range(offsets[b], offsets[b + 1]):
                f = supplier[m, i]
                j = joined[m, i]
                if f >= 0 and j >= 0:
                    counts[b, f, j // steps_per_year] += 1


def tally_customers(batch: MarketBatch, recording: np.ndarray) -> dict[str, np.ndarray]:
    """Per market and firm ``[B, F]``, over its current customers: how many (``customers``),
    how many have an S (``rated``), promoters, detractors, how many ever complained
    (``complainers``), and the sums of S, trust, commitment, answered / made complaints (over
    complainers) and the attitude toward the firm over its customers (``mindset``) and over
    everyone (``attitude``); ``served_anywhere`` ``[B]``, customers with a supplier in at least
    one industry. Markets not in ``recording`` get zeros."""
    cs = batch.customer_state
    belongs = industry_membership(batch)
    ft = cs.satisfaction.dtype.type
    total = np.zeros((batch.B, batch.F, len(TALLIES)))
    served = np.zeros(batch.B, np.int64)
    tally(
        batch.offsets,
        recording,
        cs.supplier,
        cs.satisfaction,
        cs.complaints,
        cs.answered,
        cs.trust,
        cs.commitment,
        cs.recommend,
        cs.attitude,
        belongs,
        ft(PROMOTER),
        ft(DETRACTOR),
        total,
        served,
    )
    out = {name: total[:, :, i] for i, name in enumerate(TALLIES)}
    out["served_anywhere"] = served
    return out


def industry_membership(batch: MarketBatch) -> np.ndarray:
    """``[M, F]`` bool: firm ``f`` is one of industry ``m``'s."""
    belongs = np.zeros((batch.M, batch.F), bool)
    for m, firms in enumerate(batch.industry_firms):
        belongs[m, firms] = True
    return belongs
