"""Phase 6, public reviews: who posts, what a firm's record holds, its score.

A served customer posts a review with the weekly chance (:func:`review_chance`)::

    p_post = rate * (1 + extremity * |S - 5| / 5)        (the extremes post more)

drawn beside who talks, customer by customer (``sim.rules.word_of_mouth.decide_rows``: purpose
``"review"``). A review adds this step's satisfaction ``s``, the experience ``X`` and the
reviewer's trust in the firm's word to the firm's record. A failure the firm announced at
delivery (``disclose``) is a public notice when notices count: it enters the record like a
review counting ``visibility`` (``[mechanisms] disclosure_visibility``), without trust. Records
fade by ``reviews.memory`` a week before a step's reviews are added, and a firm's review score
is the decayed mean of its posted scores with a prior of ``prior_score`` worth
``prior_weight`` reviews (:func:`review_score`); the mean experience in its reviews feeds
expectations (``sim.rules.expectations``), and the mean trust its public credibility
(``expectations.public_credibility``).

:func:`post_reviews` adds the reviews and notices of one industry of every market of a batch in
order of customers, from the flagged customers each task of ``decide_rows`` lists
(``sim.rules.flagged``): their state gathered by those tasks in parallel, then added on one
thread; :func:`post` runs it for every industry after the records fade. Word of mouth calls
:func:`post` at the end of its phase (``word_of_mouth.apply``).

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.jit import ONE, ZERO, clip, kernel, parallel_kernel, prange, prefetch, rule, run_tasks
from sim.rules.flagged import (
    NOTICE,
    POSTS,
    Decided,
    flagged_before,
    prefetch_flagged,
    prefetch_trust,
)
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch


@rule
def review_chance(satisfaction: float, rate: float, extremity: float, five: float) -> float:
    """Weekly chance to post a review: ``rate * (1 + extremity * |S - 5| / 5)``, in 0..1
    (``five``: 5 in the state's type)."""
    week = rate * (ONE + extremity * abs(satisfaction - five) / five)
    return clip(week, ZERO, ONE)


@kernel
def task_posts(t, m, task_lo, counts, first, listed, flags, supplier, last_satisfaction,
               experience, trust, delivered_by, found, bits, firm, about, score, said,
               believed):  # fmt: skip
    """Task ``t``'s reviewers and noticed failures in industry ``m`` (:data:`POSTS` or
    :data:`NOTICE` among its flagged customers ``listed[task_lo[t]:]``, ``counts[t, m]`` of
    them, ``word_of_mouth.decide_rows``), in order of customers, written from ``first[t]``:
    each one's flags, supplier, the firm that delivered to it, score (this step's ``s``),
    experience and trust in its supplier's word; their number in ``found[t]``, so that
    :func:`add_posts` reads them in order.

    The flagged customers are a few in a hundred, each at a new cache line: each one's state is
    prefetched a few ahead, and its trust in its supplier's word (``trust[f, i]``) once its
    supplier has come (at 1M customers 2.99 -> 1.97 ms when the loop also added the reviews,
    on one thread, 4 December 2026). Most of them only talk: their state is not read."""
    n_attr = experience.shape[1]
    flat_trust = trust.reshape(-1)
    end = task_lo[t] + counts[t, m]
    out = first[t]
    for j in range(task_lo[t], end):
        prefetch(experience, prefetch_flagged(listed, j, end, flags, supplier, last_satisfaction))
        prefetch_trust(listed, j, end, supplier, flat_trust)
        i = listed[j]
        seen = flags[i]
        if seen & (POSTS | NOTICE):
            f = supplier[i]
            bits[out] = seen
            firm[out] = f
            about[out] = delivered_by[i] if seen & NOTICE else -1  # (not prefetched: rare)
            score[out] = last_satisfaction[i]
            for k in range(n_attr):
                said[out, k] = experience[i, k]
            believed[out] = trust[max(f, 0), i]  # read only for a review (a served customer)
            out += 1
    found[t] = out - first[t]


@kernel
def serial_posts(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`task_posts` (its arguments after ``t``: ``args``), one after another
    on the calling thread."""
    for t in range(n_tasks):
        task_posts(t, *args)


@parallel_kernel
def parallel_posts(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`task_posts`, as parallel tasks on numba's threads (a task's flagged
    customers and their places are its own)."""
    for t in prange(n_tasks):
        task_posts(t, *args)


@kernel
def add_posts(
    task_market: np.ndarray,
    first: np.ndarray,
    found: np.ndarray,
    consts: Any,
    bits: np.ndarray,
    firm: np.ndarray,
    about: np.ndarray,
    score: np.ndarray,
    said: np.ndarray,
    believed: np.ndarray,
    review_sum: np.ndarray,
    review_weight: np.ndarray,
    review_attr: np.ndarray,
    review_trust: np.ndarray,
    review_trust_weight: np.ndarray,
) -> None:
    """The reviews and public notices of one industry in every market (:data:`POSTS` and
    :data:`NOTICE` in ``bits``: ``found[t]`` from ``first[t]`` for task ``t``, as
    :func:`task_posts` gathered them), added to the firms' records (``[B, F]``, ``review_attr``
    ``[B, F, K]``) in order of customers, on the calling thread (the order of the additions
    defines the sums' bits).

    A review adds its score (this step's ``s``), its experience and its trust in the firm's
    word. A public notice enters the record like a review counting ``visibility``, without
    trust.
    """
    n_attr = said.shape[1]
    for t in range(len(task_market)):
        b = task_market[t]
        p = consts[b]
        for j in range(first[t], first[t] + found[t]):
            if bits[j] & POSTS:
                f = firm[j]
                review_sum[b, f] += np.float64(score[j])
                review_weight[b, f] += 1.0
                for k in range(n_attr):
                    review_attr[b, f, k] += np.float64(said[j, k])
                review_trust[b, f] += np.float64(believed[j])
                review_trust_weight[b, f] += 1.0
            if bits[j] & NOTICE:
                g = about[j]
                w = p.visibility
                review_sum[b, g] += w * np.float64(score[j])
                review_weight[b, g] += w
                for k in range(n_attr):
                    review_attr[b, g, k] += w * np.float64(said[j, k])


def post_reviews(
    m: int,
    task_market: np.ndarray,
    task_lo: np.ndarray,
    counts: np.ndarray,
    listed: np.ndarray,
    consts: Any,
    flags: np.ndarray,
    supplier: np.ndarray,
    last_satisfaction: np.ndarray,
    experience: np.ndarray,
    trust: np.ndarray,
    delivered_by: np.ndarray,
    review_sum: np.ndarray,
    review_weight: np.ndarray,
    review_attr: np.ndarray,
    review_trust: np.ndarray,
    review_trust_weight: np.ndarray,
    pool: Any,
) -> None:
    """The reviews and public notices of industry ``m`` in every market (:data:`POSTS` and
    :data:`NOTICE` in the customers' ``flags``; ``listed`` and ``counts`` the flagged customers
    of each task, ``word_of_mouth.decide_rows``), added to the firms' records (``[B, F]``,
    ``review_attr`` ``[B, F, K]``) in order of customers.

    The reviewers' and noticed customers' state is gathered by the tasks of ``decide_rows`` in
    parallel (:func:`task_posts`: the reads that wait on memory), then added in order on one
    thread (:func:`add_posts`: the same additions in the same order on any number of threads).
    ``pool`` gives the gathered values' room (``sim.arrays.Pool``). At 1M customers (the three
    industries of a step, 6 December 2026) the loop that gathered and added on one thread took
    5.0 ms.
    """
    n_attr = experience.shape[1]
    n_tasks = len(task_market)
    first = flagged_before(counts[:, m])
    n = int(first[-1])  # room for every flagged customer, task after task
    room = (
        pool("post_bits", n, np.uint8),
        pool("post_firm", n, supplier.dtype),
        pool("post_about", n, delivered_by.dtype),
        pool("post_score", n, last_satisfaction.dtype),
        pool("post_said", n * n_attr, experience.dtype).reshape(n, n_attr),
        pool("post_trust", n, trust.dtype),
    )
    found = np.zeros(n_tasks, np.int64)
    run_tasks(serial_posts, parallel_posts, n_tasks, n_tasks, m, task_lo, counts, first, listed,
              flags, supplier, last_satisfaction, experience, trust, delivered_by, found,
              *room)  # fmt: skip
    add_posts(task_market, first, found, consts, *room, review_sum, review_weight,
              review_attr, review_trust, review_trust_weight)  # fmt: skip


def with_prior(prior: Any, total: np.ndarray, weight: np.ndarray, n: Any) -> np.ndarray:
    """The mean of a firm's public record, ``total / weight``, with ``prior`` counting as ``n``
    records (``reviews.prior_weight``): ``(prior * n + total) / (n + weight)``. The review score
    (:func:`review_score`) and the public credibility (``expectations.public_credibility``) are
    this one rule applied to two sums of the record."""
    return (prior * n + total) / (n + weight)


def review_score(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` public review score of each firm on 0..10: the reviews' mean, with
    ``prior_score`` counting as ``prior_weight`` reviews (:func:`with_prior`)."""
    fs, prm = batch.firm_state, batch.params.reviews
    return with_prior(prm.prior_score, fs.review_sum, fs.review_weight, prm.prior_weight)


def post(batch: MarketBatch, decided: Decided) -> None:
    """Reviews fade, then this step's reviews and notices are posted, industry by industry
    (``decided``: the flags, the flagged customers and their counts that
    ``word_of_mouth.decide`` returned)."""
    cs, fs, ws, P = batch.customer_state, batch.firm_state, batch.workspace, batch.params
    keep = 1.0 - weekly_rate_to_step(P.reviews.memory, batch.steps_per_year)  # [B, 1]
    for record in (fs.review_sum, fs.review_weight, fs.review_trust, fs.review_trust_weight):
        record *= keep
    fs.review_attr *= keep[:, :, None]
    flags, listed, counts = decided.flags, decided.listed, decided.counts
    task_market, task_lo, _ = batch.tasks
    for m in range(batch.M):
        post_reviews(
            m,
            task_market,
            task_lo,
            counts,
            listed[m],
            batch.consts,
            flags[m],
            cs.supplier[m],
            cs.last_satisfaction[m],
            cs.experience[m],
            cs.trust,
            ws.supplier[m],
            fs.review_sum,
            fs.review_weight,
            fs.review_attr,
            fs.review_trust,
            fs.review_trust_weight,
            ws.pool,
        )
