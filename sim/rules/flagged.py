"""Phase 6's flagged customers: the bits that say who talks, posts and is noticed in an industry,
and the prefetch of the flagged customers ahead.

``sim.rules.word_of_mouth.decide_rows`` draws, for every customer and industry, whether it talks
about its supplier and whether it posts a review, and sets these bits in the customer's flags; it
lists the customers with any bit, in order. The talkers are then listed from them
(``word_of_mouth.select_talkers``) and the reviews and notices posted
(``sim.rules.reviews.post_reviews``); both loops visit the flagged customers only, a few in a
hundred, each at a new cache line, and prefetch their state a few customers ahead
(:func:`prefetch_flagged`, :func:`prefetch_trust`).

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.jit import inlined_rule, prefetch

TALKS, POSTS, NOTICE = 1, 2, 4
"""Bits of a customer's flags in an industry: it talks about its supplier, it posts a review,
its failure at delivery is made public (``word_of_mouth.decide_rows``)."""

PRAISES, BLAMES = 8, 16
"""Bits ``word_of_mouth.draws_block`` adds for a talker whose valence is positive or negative;
read and cleared by ``word_of_mouth.decide_rows``, which counts the messages per firm."""


class Decided(NamedTuple):
    """What ``word_of_mouth.decide`` drew for a step, read by the talkers' list and the reviews.

    Attributes
    ----------
    flags
        ``[M, N]`` uint8: each customer's bits in each industry.
    listed
        ``[M, N]``: each task's flagged customers, in order, from the task's first customer.
    counts
        ``[tasks, M]``: how many customers each task flagged in each industry.
    talking
        ``[tasks, M]``: how many of them talk.
    """

    flags: np.ndarray
    listed: np.ndarray
    counts: np.ndarray
    talking: np.ndarray


FLAGGED_AHEAD = 16
"""Flagged customers ahead whose state ``word_of_mouth.select_talkers`` and
``reviews.post_reviews`` prefetch."""


@inlined_rule
def prefetch_flagged(listed, j, end, flags, supplier, values):  # type: ignore[no-untyped-def]
    """Prefetch the flags, supplier and ``values`` of the flagged customer
    :data:`FLAGGED_AHEAD` after the ``j``-th of ``listed`` (the last before ``end`` near the
    end); returns that customer."""
    ahead = listed[min(j + FLAGGED_AHEAD, end - 1)]
    prefetch(flags, ahead)
    prefetch(supplier, ahead)
    prefetch(values, ahead)
    return ahead


@inlined_rule
def prefetch_trust(listed, j, end, supplier, flat_trust):  # type: ignore[no-untyped-def]
    """Prefetch the trust in its supplier's word (``trust[f, i]``, ``flat_trust`` the ``[F, N]``
    trust flattened) of the flagged customer ``i`` half :data:`FLAGGED_AHEAD` after the ``j``-th
    of ``listed``, whose supplier :func:`prefetch_flagged` asked for earlier (an unserved
    customer's: firm 0's)."""
    near = listed[min(j + FLAGGED_AHEAD // 2, end - 1)]
    prefetch(flat_trust, max(supplier[near], 0) * len(supplier) + near)


def flagged_before(counts: np.ndarray) -> np.ndarray:
    """Each task's first place in a list of the flagged customers of one industry (or of its
    talkers), task after task (``counts``: each task's number of them), and the number of all of
    them last: where a task writes what it draws from its flagged customers, in room for them
    all without gaps between tasks larger than the task's own (none, for the talkers: each task
    writes all of its own)."""
    first = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=first[1:])
    return first
