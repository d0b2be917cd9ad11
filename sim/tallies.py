"""Per-firm counts and sums over each firm's current customers, in one compiled pass over blocks
of customers: what the metrics of a recorded step tally (``sim.metrics``), and the cohorts' counts.

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

from sim.jit import kernel, parallel_kernel, prange, threads

if TYPE_CHECKING:
    from sim.batch import MarketBatch

__all__ = [
    "DETRACTOR",
    "PARALLEL_TALLY",
    "PROMOTER",
    "TALLIES",
    "cohort_counts",
    "count_cohorts",
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
    additions would wait on each add's latency). The range is sliced first so that its
    indices start at 0: from ``lo``, known only at run time, every index might be negative and
    the compiler wraps each (a select per value); at 1M customers and 6 firms, one thread, the
    blocks' sums 10.0-10.2 -> 6.0-6.3 ms, the same sums (7 December 2026)."""
    part = values[lo:hi]
    n = len(part)
    a = b = c = d = 0.0
    i = 0
    while i + 4 <= n:
        a += np.float64(part[i])
        b += np.float64(part[i + 1])
        c += np.float64(part[i + 2])
        d += np.float64(part[i + 3])
        i += 4
    while i < n:
        a += np.float64(part[i])
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

    The order of the additions defines the sums' bits, and it is the same on any number of
    threads: each block of :data:`TALLY_BLOCK` customers of a market (from the market's first
    customer) gets its own tallies from zero (:func:`block_tallies`: each firm's customers
    added one after another in order), and the blocks' tallies are added to ``total`` in block
    order (:func:`add_blocks`). A market of one block has the sums of its customers in order.
    :func:`parallel_tally` computes the blocks as parallel tasks and adds them the same way.
    """
    market, start = blocks_of(offsets, recording)
    rows = np.empty((1, belongs.shape[1], total.shape[2]))
    count = np.empty(1, np.int64)
    anywhere = np.zeros(TALLY_BLOCK, np.int64)
    mine = np.zeros(TALLY_BLOCK, np.uint32)
    for k in range(len(market)):
        block_tallies(k, market, start, offsets, supplier, satisfaction, complaints, answered,
                      trust, commitment, recommend, attitude, belongs, promoter, detractor,
                      rows[0], count, anywhere, mine, 0)  # fmt: skip
        add_blocks(market[k : k + 1], rows, count, total, served)


@parallel_kernel
def parallel_tally(offsets, recording, supplier, satisfaction, complaints, answered, trust,
                   commitment, recommend, attitude, belongs, promoter, detractor, total,
                   served) -> None:  # fmt: skip
    """:func:`tally` with the blocks as parallel tasks, each into its own row, then added in
    block order: the tallies are the same to the bit."""
    market, start = blocks_of(offsets, recording)
    n_blocks = len(market)
    rows = np.empty((n_blocks, belongs.shape[1], total.shape[2]))
    count = np.empty(n_blocks, np.int64)
    for k in prange(n_blocks):
        anywhere = np.zeros(TALLY_BLOCK, np.int64)
        mine = np.zeros(TALLY_BLOCK, np.uint32)
        block_tallies(k, market, start, offsets, supplier, satisfaction, complaints, answered,
                      trust, commitment, recommend, attitude, belongs, promoter, detractor,
                      rows[k], count, anywhere, mine, k)  # fmt: skip
    add_blocks(market, rows, count, total, served)


@kernel
def blocks_of(offsets: np.ndarray, recording: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(market, start)``: the blocks of :data:`TALLY_BLOCK` customers of every recording
    market, in order (each market's from its first customer)."""
    n = 0
    for b in range(len(offsets) - 1):
        if recording[b]:
            n += -(-(offsets[b + 1] - offsets[b]) // TALLY_BLOCK)
    market, start = np.empty(n, np.int64), np.empty(n, np.int64)
    k = 0
    for b in range(len(offsets) - 1):
        if recording[b]:
            for lo in range(offsets[b], offsets[b + 1], TALLY_BLOCK):
                market[k], start[k] = b, lo
                k += 1
    return market, start


@kernel
def block_tallies(k, market, start, offsets, supplier, satisfaction, complaints, answered, trust,
                  commitment, recommend, attitude, belongs, promoter, detractor, row, count,
                  anywhere, mine, slot) -> None:  # fmt: skip
    """The tallies ``row`` ``[F, 11]`` (from zero) of block ``k`` and in ``count[slot]`` its
    customers served anywhere; ``anywhere`` and ``mine`` are room for a block."""
    b, lo = market[k], start[k]
    hi = min(offsets[b + 1], lo + TALLY_BLOCK)
    nb = hi - lo
    row[:] = 0.0
    anywhere[:nb] = 0
    for m in range(supplier.shape[0]):
        sup = supplier[m, lo:hi]
        for i in range(nb):
            anywhere[i] |= sup[i] >= 0
    n_served = 0
    for i in range(nb):
        n_served += anywhere[i]
    count[slot] = n_served
    for f in range(belongs.shape[1]):
        _firm_block(f, lo, hi, supplier, satisfaction, complaints, answered, trust, commitment,
                    recommend, attitude, belongs, promoter, detractor, row[f], mine)  # fmt: skip


@kernel
def add_blocks(market, rows, count, total, served) -> None:
    """Add the blocks' tallies ``rows`` and served counts to their markets', in block order."""
    for k in range(len(market)):
        b = market[k]
        for f in range(rows.shape[1]):
            for c in range(rows.shape[2]):
                total[b, f, c] += rows[k, f, c]
        served[b] += count[k]


@kernel
def _firm_block(f, lo, hi, supplier, satisfaction, complaints, answered, trust, commitment,
                recommend, attitude, belongs, promoter, detractor, row,
                mine) -> None:  # fmt: skip
    """Add firm ``f``'s customers among ``lo..hi`` (a block) to its tallies ``row``, and its
    reputation over the block: each firm's customers are listed in order
    (:func:`_customers_of`, without branches), then added with the sums held in registers
    (:func:`_add_firm`; adding every customer into the row in memory waited on the previous
    add to the same firm's row: -20% at 1M customers)."""
    for m in range(supplier.shape[0]):
        if belongs[m, f]:
            count = _customers_of(supplier[m, lo:hi], f, mine)
            _add_firm(mine[:count], satisfaction[m, lo:hi], complaints[m, lo:hi],
                      answered[m, lo:hi], trust[f, lo:hi], commitment[m, lo:hi],
                      recommend[lo:hi], attitude[f, lo:hi], promoter, detractor, row)  # fmt: skip
    row[10] += _block_sum(attitude[f], lo, hi)  # the firm's reputation among everyone


PARALLEL_TALLY = 250_000
"""Customers of a batch from which the tallies and the cohort counts run as parallel tasks
(:func:`in_parallel`); below, a launch of numba's threads costs more than it saves."""


def in_parallel(batch: MarketBatch) -> bool:
    """Whether the batch's tallies and cohort counts run as parallel tasks: from
    :data:`PARALLEL_TALLY` customers, with more than one thread (the numbers are the same either
    way)."""
    return batch.customer_state.supplier.shape[1] >= PARALLEL_TALLY and threads() > 1


@kernel
def _customers_of(supplier: np.ndarray, f: int, mine: np.ndarray) -> int:
    """The positions of firm ``f``'s customers in ``supplier`` (a block), in order, into
    ``mine``; returns how many (a loop without branches)."""
    count = 0
    for i in range(len(supplier)):
        mine[count] = i  # kept when a customer of f
        count += supplier[i] == f
    return count


@kernel
def _add_firm(mine, satisfaction, complaints, answered, trust, commitment, recommend, attitude,
              promoter, detractor, t) -> None:  # fmt: skip
    """Add a firm's customers ``mine`` (places in the block, in order; the arrays are the
    block's slices of industry ``m``'s rows, ``trust`` and ``attitude`` of the firm's) to its
    tallies ``t`` (:func:`tally`): the sums in registers, customer after customer. The places
    are unsigned, so that no read checks for a negative index (at 1M customers the tally 11.1 ->
    9.7 ms on two threads, 21.6 -> 19.4 on one, alternated calls on one state)."""
    c1 = c2 = c3 = c4 = 0
    s5, s6, s7, s8, s9 = t[5], t[6], t[7], t[8], t[9]
    for j in range(len(mine)):
        i = mine[j]
        s = satisfaction[i]
        # the answer to "would you recommend?" is clip(S + offset, 0, 10); the clip changes
        # neither comparison below (and NaN fails both)
        answer = s + recommend[i]
        made = complaints[i]
        c1 += s == s  # rated: not NaN
        c2 += answer >= promoter
        c3 += answer < detractor
        c4 += made > 0
        s5 += np.float64(s) if s > 0 else 0.0  # S, 0 where missing (NaN)
        s6 += np.float64(trust[i])
        s7 += np.float64(commitment[i])
        s8 += np.float64(answered[i]) / np.float64(max(made, 1))
        s9 += np.float64(attitude[i])
    t[0] += len(mine)
    t[1] += c1
    t[2] += c2
    t[3] += c3
    t[4] += c4
    t[5], t[6], t[7], t[8], t[9] = s5, s6, s7, s8, s9


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
        _count_cohorts(b, offsets[b], offsets[b + 1], supplier, joined, steps_per_year, counts)


@parallel_kernel
def parallel_cohort_counts(offsets, supplier, joined, steps_per_year, counts, task) -> None:
    """:func:`cohort_counts` over ranges of ``task`` customers as parallel tasks, each into
    counts of its own, then added: whole numbers, the same in any order."""
    n = supplier.shape[1]
    n_tasks = -(-n // task)
    B, F, C = counts.shape
    own = np.zeros((n_tasks, B, F, C), counts.dtype)
    for t in prange(n_tasks):
        lo, hi = t * task, min(n, (t + 1) * task)
        for b in range(len(offsets) - 1):
            first, last = max(lo, offsets[b]), min(hi, offsets[b + 1])
            if first < last:
                _count_cohorts(b, first, last, supplier, joined, steps_per_year, own[t])
    for t in range(n_tasks):
        counts += own[t]


@kernel
def _count_cohorts(b, lo, hi, supplier, joined, steps_per_year, counts) -> None:  # fmt: skip
    """Add the customers ``lo..hi`` (of market ``b``) to ``counts[b]`` (:func:`cohort_counts`),
    counted in four partial counts by the customer's place, then added: one count per firm and
    year waited on its previous add, for consecutive customers of one firm and year (at 1M
    customers, two threads: 5.6 -> 3.7 ms, the counts the same; 6 December 2026)."""
    own = np.zeros((4, counts.shape[1], counts.shape[2]), counts.dtype)
    for m in range(supplier.shape[0]):
        for i in range(lo, hi):
            j = joined[m, i]
            if j >= 0:  # most were served before the run
                f = supplier[m, i]
                if f >= 0:
                    own[i & 3, f, j // steps_per_year] += 1
    for k in range(4):
        counts[b] += own[k]


COHORT_TASK = 131_072
"""Customers a task of :func:`parallel_cohort_counts` counts."""


def count_cohorts(batch: MarketBatch, counts: np.ndarray) -> None:
    """:func:`cohort_counts` of the batch's customers into ``counts`` ``[B, F, years]``, as
    parallel tasks from :data:`PARALLEL_TALLY` customers (at 1M customers 7.6 ms on one
    thread)."""
    cs = batch.customer_state
    args = (batch.offsets, cs.supplier, cs.joined, batch.steps_per_year, counts)
    if in_parallel(batch):
        parallel_cohort_counts(*args, COHORT_TASK)
    else:
        cohort_counts(*args)


def tally_customers(batch: MarketBatch, recording: np.ndarray) -> dict[str, np.ndarray]:
    """Per market and firm ``[B, F]``, over its current customers: how many (``customers``),
    how many have an S (``rated``), promoters, detractors, how many ever complained
    (``complainers``), and the sums of S, trust, commitment, answered / made complaints (over
    complainers) and the attitude toward the firm over its customers (``mindset``) and over
    everyone (``attitude``); ``served_anywhere`` ``[B]``, customers with a supplier in at least
    one industry. Markets not in ``recording`` get zeros."""
    cs = batch.customer_state
    ft = cs.satisfaction.dtype.type
    total = np.zeros((batch.B, batch.F, len(TALLIES)))
    served = np.zeros(batch.B, np.int64)
    (parallel_tally if in_parallel(batch) else tally)(
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
        batch.belongs,
        ft(PROMOTER),
        ft(DETRACTOR),
        total,
        served,
    )
    out = {name: total[:, :, i] for i, name in enumerate(TALLIES)}
    out["served_anywhere"] = served
    return out
