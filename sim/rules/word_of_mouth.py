"""Phase 6, word of mouth over the network and public reviews.

Talking is U-shaped in satisfaction and heavier on the dissatisfied side (Anderson 1998), with
``n0`` the neutral point::

    v      = (S - n0) / (10 - n0)  if S >= n0,   (S - n0) / n0  if S < n0       (valence, -1..1)
    p_talk = base_rate + positive_amplitude * max(v, 0) ** 2 + negative_amplitude * min(v, 0) ** 2

A message about the speaker's supplier reaches each neighbour with probability ``reach``
(weak ties count as much as strong ones: Goldenberg, Libai & Muller 2001). A listener who hears
``c`` messages about firm f with mean valence ``v_bar`` moves its attitude
``A += (1 - (1 - influence) ** c) * (v_bar - A)``; attitudes fade by ``attitude_decay`` a week.
What the speaker experienced becomes what the listener has *heard* about the industry (it enters
the expectation target)::

    heard[m, n]  = mean X[m] of the messages about industry m      at the first messages, then
    heard[m, n] += heard_rate * (mean X[m] - heard[m, n])

and an attribute the speaker praises (X >= ``praise_threshold`` in a positive message) lifts the
listener's benchmark on it to ``benchmark_from_praise * X`` when the attribute is a cross-industry
one (the benchmark only enters expectations on those).

Reviews: a served customer posts with probability ``rate * (1 + extremity * |S - 5| / 5)``.
A firm's review score is a decayed mean of posted scores with a prior of ``prior_score`` worth two
reviews; the mean experience in its reviews feeds expectations.

The rules for one speaker (:func:`valence`, :func:`talk_chance`), for one listener's messages
(in :func:`hear`) and for one reviewer (:func:`review_chance`) are compiled (``sim.jit``); so
are the loops that pick the talkers (:func:`select_talkers`), fan messages out over a CSR network
(:func:`expand_csr`), let the listeners of an industry hear them (:func:`hear`) and post the
reviews (:func:`post_reviews`). They run over every market of a batch (``sim.batch``): a market's
customers are a contiguous range, its network's rows hold their own customers only, and each
customer reads its market's parameters. Random numbers are drawn customer by customer
(``sim.draws``: purposes ``"talk"``, ``"reach"`` with the neighbour's position as the column,
``"review"``). Messages are taken in the order of their senders, so a listener hears its
neighbours' messages in the same order alone or in a batch.

At a million customers these loops wait on memory, not arithmetic: messages, listeners and
neighbours sit at scattered places of arrays of tens of MB. So the listeners are taken in
increasing order (the passes over their state then run through it in order), no branch depends
on a value loaded from a scattered place, and the loops that gather from scattered places
prefetch a few iterations ahead (``sim.jit.prefetch``). Temporaries come from a pool per model,
kept from step to step (a fresh array costs a page fault per 4 KiB), and ``hear`` leaves them as
it found them rather than clearing them before use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.draws import REACH, REVIEW, TALK, uniform, uniform_column
from sim.jit import ONE, ZERO, clip, kernel, prefetch, rule
from sim.params.stacked import StackedParams
from sim.rules import teaching
from sim.rules.expectations import PRIOR_REVIEWS
from sim.state import BatchScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch

AHEAD = 32
"""Iterations ahead that the gathering loops prefetch (16 to 64 measured about the same)."""


@rule
def valence(satisfaction: float, neutral: float, up_scale: float, down_scale: float) -> float:
    """Tone of a message, -1 (furious) .. 1 (delighted), 0 at the neutral point ``n0``:
    ``(S - n0) / (10 - n0)`` at or above it, ``(S - n0) / n0`` below (``up_scale`` and
    ``down_scale`` are these denominators, at least 1e-9); NaN stays NaN."""
    return (satisfaction - neutral) / (up_scale if satisfaction >= neutral else down_scale)


@rule
def talk_chance(
    tone: float, base: float, positive_amplitude: float, negative_amplitude: float
) -> float:
    """Weekly chance to talk: ``base + positive_amplitude * up ** 2 + negative_amplitude *
    down ** 2``, with ``up`` and ``down`` the positive and negative parts of the valence, in
    0..1."""
    up = clip(tone, ZERO, ONE)
    down = clip(-tone, ZERO, ONE)
    week = base + positive_amplitude * (up * up) + negative_amplitude * (down * down)
    return clip(week, ZERO, ONE)


@rule
def review_chance(satisfaction: float, rate: float, extremity: float, five: float) -> float:
    """Weekly chance to post a review: ``rate * (1 + extremity * |S - 5| / 5)``, in 0..1
    (``five``: 5 in the state's type)."""
    week = rate * (ONE + extremity * abs(satisfaction - five) / five)
    return clip(week, ZERO, ONE)


@rule
def per_step(chance: float, step_power: float) -> float:
    """A weekly chance converted to the step: ``1 - (1 - chance) ** step_power`` with
    ``step_power = 52 / steps_per_year`` (the chance itself at a week)."""
    if step_power == 1.0:
        return chance
    return 1.0 - (1.0 - np.float64(chance)) ** step_power


@kernel
def decay_attitudes(attitude: np.ndarray, offsets: np.ndarray, consts: Any) -> None:
    """Attitudes fade: ``A *= 1 - attitude_decay`` (per step) in every market that talks."""
    for b in range(len(offsets) - 1):
        p = consts[b]
        if not p.wom_on:
            continue
        for f in range(attitude.shape[0]):
            for i in range(offsets[b], offsets[b + 1]):
                attitude[f, i] *= p.attitude_keep


@kernel
def select_talkers(
    m: int,
    offsets: np.ndarray,
    keys: np.ndarray,
    consts: Any,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    talkers: np.ndarray,
    market: np.ndarray,
    firm: np.ndarray,
    tone: np.ndarray,
    said: np.ndarray,
) -> int:
    """The customers of every market that talk about their supplier in industry ``m``.

    A served customer talks when its uniform is below its chance to talk this step
    (:func:`talk_chance`, converted from a week to the step). Writes, in order of customers,
    each talker, its market, its supplier and the tone of its message (:func:`valence`), and
    adds each message to ``said[market, firm]`` (``[B, F, 2]``: positive, negative). Returns
    how many talk (the first entries of the outputs, which have room for every customer and
    one more).
    """
    count = 0
    for b in range(len(offsets) - 1):
        p = consts[b]
        if not p.wom_on:
            continue
        base = keys[b, TALK, m]
        first = offsets[b]
        for c in range(first, offsets[b + 1]):
            f = supplier[c]
            if f < 0:
                continue
            v = valence(satisfaction[c], p.neutral, p.up_scale, p.down_scale)
            chance = talk_chance(v, p.talk_base, p.talk_up, p.talk_down)
            if uniform(base, c - first) < per_step(chance, p.step_power):
                talkers[count] = c
                market[count] = b
                firm[count] = f
                tone[count] = v
                count += 1
                if v > ZERO:
                    said[b, f, 0] += 1.0
                elif v < ZERO:
                    said[b, f, 1] += 1.0
    return count


@kernel
def expand_csr(
    senders: np.ndarray,
    market: np.ndarray,
    m: int,
    offsets: np.ndarray,
    keys: np.ndarray,
    consts: Any,
    indptr: np.ndarray,
    indices: np.ndarray,
    firm: np.ndarray,
    message: np.ndarray,
    receiver: np.ndarray,
    per_firm: np.ndarray,
) -> int:
    """Messages fanned out to their senders' neighbours, and deliveries per firm.

    Parameters
    ----------
    senders, market, firm
        The sending customer of each message (an index of the batch), its market and the firm
        the message is about (of its market).
    m
        The messages' industry.
    offsets, keys, consts
        The batch's first customer of each market, stream bases and constants: the delivery of
        a message of sender ``s`` (of market ``b``) to the ``j``-th neighbour of ``s`` is kept
        when ``uniform_column(keys[b, REACH, m], s - offsets[b], j)`` is below the market's
        ``reach`` (every delivery when ``reach >= 1``).
    indptr, indices
        The batch's CSR network (``sim.network.Adjacency`` of every market, one after another).
    message, receiver
        Out: position in ``senders`` of each kept delivery (non-decreasing) and its receiver;
        room for every (message, neighbour) pair and one more.
    per_firm
        Added to: the number of deliveries about each firm, ``[B, F]``.

    Returns
    -------
    int
        The number of kept deliveries (the first entries of ``message`` and ``receiver``).
    """
    n = len(senders)
    out = 0
    for i in range(n):
        prefetch(indptr, senders[min(i + 2 * AHEAD, n - 1)])
        prefetch(indices, indptr[senders[min(i + AHEAD, n - 1)]])
        s = senders[i]
        b = market[i]
        reach = consts[b].reach
        everyone = reach >= 1.0
        base = keys[b, REACH, m]
        me = s - offsets[b]
        lo = indptr[s]
        deg = indptr[s + 1] - lo
        before = out
        for j in range(deg):
            # written at ``out`` whether kept or not, kept by advancing ``out``
            message[out] = i
            receiver[out] = indices[lo + j]
            out += everyone or uniform_column(base, me, j) < reach
        per_firm[b, firm[i]] += out - before
    return out


@kernel
def hear(
    message: np.ndarray,
    receiver: np.ndarray,
    first: int,
    senders: np.ndarray,
    local_firm: np.ndarray,
    n_local: int,
    tone: np.ndarray,
    positive: np.ndarray,
    speaker_trust: np.ndarray,
    market: np.ndarray,
    market_of: np.ndarray,
    consts: Any,
    experience: np.ndarray,
    heard: np.ndarray,
    benchmark: np.ndarray,
    cross: np.ndarray,
    firms: np.ndarray,
    moved: np.ndarray,
    attitude: np.ndarray,
    moved_trust: np.ndarray,
    trust: np.ndarray,
    taught: np.ndarray,
    teach_focus: np.ndarray,
    weights: np.ndarray,
    flags: np.ndarray,
    stamp: np.ndarray,
    rank: np.ndarray,
    who: np.ndarray,
    tally: np.ndarray,
    sums: np.ndarray,
    said: np.ndarray,
) -> tuple[int, int]:
    """One industry's deliveries: update what the listeners heard, their benchmarks, their
    attitudes toward the industry's firms and their trust in those firms' word.

    Parameters
    ----------
    message, receiver
        The industry's deliveries: message positions ``first .. first + len(senders) - 1``
        (non-decreasing) and receiving customers.
    first
        Position of the industry's first message among all messages.
    senders, local_firm, tone, positive, speaker_trust, market
        Per message of the industry: the sender, the position of its firm among the industry's
        ``n_local`` firms, its valence, whether it is positive, the sender's trust in the
        firm's word and its market.
    n_local
        Number of firms of the industry.
    market_of, consts
        Each customer's market and the markets' constants (``heard_rate``, the share of the way
        toward the mean heard this step; ``praise_threshold`` and ``praise_share`` in the float
        type of ``experience``).
    experience
        The industry's ``[N, K]`` experiences (what a message says).
    heard
        The industry's ``[N, K]`` heard experiences, updated in place: NaN becomes the mean
        of the messages heard, else it moves by ``heard_rate`` toward it.
    benchmark
        ``[N, K]`` benchmarks, raised in place on the ``cross`` attributes to
        ``praise_share * X`` for every positive message with ``X >= praise_threshold``.
    cross
        Attributes that praise lifts (empty for none).
    firms
        The industry's firms (their rows of ``attitude``).
    moved
        ``moved[b, c]``: share of the way an attitude moves after ``c`` messages in market
        ``b``; ``c`` up to the most messages a listener can hear about one firm.
    attitude
        ``[F, N]`` attitudes: a listener that heard ``c > 0`` messages about a firm with mean
        valence ``v_bar`` moves ``A += moved[b, c] * (v_bar - A)`` (in float64), in place.
    moved_trust, trust
        The same for trust ``[F, N]``: toward the mean trust of the speakers,
        ``T += moved_trust[b, c] * (t_bar - T)``, in place.
    taught, teach_focus, weights
        Per market and firm of the industry: the share of the way one message moves a
        listener's attribute weights toward the firm's focus (``word_of_mouth_share * L``, 0 for
        a firm that does not teach), and that focus ``[B, n_local, K]``; the listeners' weights
        ``[N, K]`` move ``1 - (1 - taught) ** c`` of the way, in place (sim.rules.teaching).
    flags
        uint8 ``[N]``, all zero; left all zero.
    stamp, rank
        Integer scratch: ``[N]`` and one per delivery, of one type.
    who
        Scratch, room for ``len(receiver) + 1``: the listeners.
    tally
        Float64 scratch, room for ``len(receiver) * 3 * n_local``, all zero; left all zero
        (per listener and firm: the number of messages, the sum of their tones and of the
        speakers' trust).
    sums
        Scratch in the float type of ``experience``, room for ``len(receiver)`` rows of
        ``K + len(cross)``: in each row ``K`` zeros, then ``-inf``; left so (per listener: the
        sum of what it heard, then its highest praise per cross attribute).
    said
        Scratch in the float type of ``experience``, room for ``len(senders) * K``.

    Returns
    -------
    n_who, most
        The number of listeners and the largest number of messages a listener heard about
        one firm (at most ``len(moved) - 1``, else ``moved`` was too short).
    """
    n = len(flags)
    n_msg = len(senders)
    n_del = len(receiver)
    k_attr = experience.shape[1]
    n_cross = len(cross)
    width = k_attr + n_cross  # per listener: the sum of what it heard, its highest praise

    # what each message says
    said = said[: n_msg * k_attr].reshape((n_msg, k_attr))
    for j in range(n_msg):
        prefetch(experience, senders[min(j + AHEAD, n_msg - 1)])
        for k in range(k_attr):
            said[j, k] = experience[senders[j], k]

    # the listeners in increasing order, and each delivery's listener
    for d in range(n_del):
        flags[receiver[d]] = 1
    n_who = 0
    for r in range(n):
        stamp[r] = n_who  # r's position among the listeners, if it is one
        who[n_who] = r  # one spare slot: every customer writes
        n_who += np.int64(flags[r])  # (a uint8 sum would wrap when run as Python)
    for i in range(n_who):
        flags[who[i]] = 0
    for d in range(n_del):
        prefetch(stamp, receiver[min(d + AHEAD, n_del - 1)])
        rank[d] = stamp[receiver[d]]

    # per listener, in message order: messages and tones per firm, sum of what was said, and
    # the highest praise per cross attribute
    sums = sums[: n_who * width].reshape((n_who, width))
    for d in range(n_del):
        ahead = rank[min(d + AHEAD, n_del - 1)]
        prefetch(tally, 3 * n_local * ahead)
        prefetch(sums, ahead)
        i = rank[d]
        j = message[d] - first
        key = 3 * (i * n_local + local_firm[j])
        tally[key] += 1.0
        tally[key + 1] += np.float64(tone[j])
        tally[key + 2] += np.float64(speaker_trust[j])
        for k in range(k_attr):
            sums[i, k] += said[j, k]
        if positive[j]:
            p = consts[market[j]]
            for c in range(n_cross):
                x = said[j, cross[c]]
                if x >= p.praise_threshold:
                    sums[i, k_attr + c] = max(sums[i, k_attr + c], p.praise_share * x)

    most = 0.0
    last = moved.shape[1] - 1
    n_att = attitude.shape[1]
    flat_attitude = attitude.reshape(-1)
    last_trust = moved_trust.shape[1] - 1
    for i in range(n_who):
        ahead = who[min(i + AHEAD, n_who - 1)]
        prefetch(heard, ahead)
        prefetch(benchmark, ahead)
        for f in range(n_local):
            prefetch(flat_attitude, firms[f] * n_att + ahead)
        r = who[i]
        b = market_of[r]
        heard_rate = consts[b].heard_rate
        heard_by = 0.0
        for f in range(n_local):
            heard_by += tally[3 * (i * n_local + f)]
            most = max(most, tally[3 * (i * n_local + f)])
        for k in range(k_attr):
            mean = np.float64(sums[i, k]) / heard_by
            old = np.float64(heard[r, k])
            toward = (mean - old) * heard_rate + old
            heard[r, k] = mean if np.isnan(old) else toward  # the first messages set it
        for c in range(n_cross):
            best = sums[i, k_attr + c]
            bar = benchmark[r, cross[c]]
            benchmark[r, cross[c]] = best if best > bar else bar  # np.maximum: NaN stays NaN
        for f in range(n_local):
            key = 3 * (i * n_local + f)
            c = tally[key]
            a = attitude[firms[f], r]
            # c <= last unless the caller's bound is wrong; no message (c = 0): no change
            step = moved[b, min(int(c), last)]
            toward = np.float64(a) + step * (tally[key + 1] / max(c, 1.0) - np.float64(a))
            attitude[firms[f], r] = toward if c > 0 else a
            t = trust[firms[f], r]
            step = moved_trust[b, min(int(c), last_trust)]
            toward = np.float64(t) + step * (tally[key + 2] / max(c, 1.0) - np.float64(t))
            trust[firms[f], r] = toward if c > 0 else t
            if taught[b, f] > 0 and c > 0:  # what the firm teaches, carried by its customers
                keep = 1.0
                for _ in range(int(c)):
                    keep *= 1.0 - taught[b, f]
                for k in range(k_attr):
                    weights[r, k] += (1.0 - keep) * (teach_focus[b, f, k] - weights[r, k])
        # the scratch left as found, for the next call
        for key in range(3 * i * n_local, 3 * (i + 1) * n_local):
            tally[key] = 0.0
        for k in range(k_attr):
            sums[i, k] = 0
        for c in range(n_cross):
            sums[i, k_attr + c] = -np.inf
    return n_who, int(most)


@kernel
def post_reviews(
    m: int,
    offsets: np.ndarray,
    keys: np.ndarray,
    consts: Any,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    last_satisfaction: np.ndarray,
    experience: np.ndarray,
    trust: np.ndarray,
    delivered_by: np.ndarray,
    failure: np.ndarray,
    disclose: np.ndarray,
    review_sum: np.ndarray,
    review_weight: np.ndarray,
    review_attr: np.ndarray,
    review_trust: np.ndarray,
    review_trust_weight: np.ndarray,
) -> None:
    """The reviews and public notices of industry ``m`` in every market, added to the firms'
    records (``[B, F]``, ``review_attr`` ``[B, F, K]``).

    A served customer posts with its chance (:func:`review_chance`, converted to the step):
    its score (this step's ``s``), its experience and its trust in the firm's word. A failure
    announced at this step's delivery (``failure`` and ``disclose`` of the firm that delivered,
    ``delivered_by``) is a public notice: it enters the record like a review counting
    ``visibility``, without trust.
    """
    n_attr = experience.shape[1]
    for b in range(len(offsets) - 1):
        p = consts[b]
        base = keys[b, REVIEW, m]
        first = offsets[b]
        for i in range(first, offsets[b + 1]):
            f = supplier[i]
            if p.reviews_on and f >= 0:
                week = review_chance(satisfaction[i], p.review_rate, p.extremity, p.five)
                if uniform(base, i - first) < per_step(week, p.step_power):
                    review_sum[b, f] += np.float64(last_satisfaction[i])
                    review_weight[b, f] += 1.0
                    for k in range(n_attr):
                        review_attr[b, f, k] += np.float64(experience[i, k])
                    review_trust[b, f] += np.float64(trust[f, i])
                    review_trust_weight[b, f] += 1.0
            g = delivered_by[i]
            if p.visibility > 0 and g >= 0 and failure[i] and disclose[b, g]:
                w = p.visibility
                review_sum[b, g] += w * np.float64(last_satisfaction[i])
                review_weight[b, g] += w
                for k in range(n_attr):
                    review_attr[b, g, k] += w * np.float64(experience[i, k])


def review_score(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` public review score of each firm on 0..10."""
    fs, prior = batch.firm_state, batch.params.reviews.prior_score
    return (prior * PRIOR_REVIEWS + fs.review_sum) / (PRIOR_REVIEWS + fs.review_weight)


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm, on, spy = P.word_of_mouth, P.mechanisms, steps_per_year
    n0 = prm.neutral_point
    return {
        "wom_on": (on.word_of_mouth, "b"),
        "reviews_on": (on.reviews, "b"),
        "talk_base": (prm.base_rate, "f"),
        "talk_up": (prm.positive_amplitude, "f"),
        "talk_down": (prm.negative_amplitude, "f"),
        "neutral": (n0, "f"),
        "up_scale": (np.maximum(10.0 - n0, 1e-9), "f"),
        "down_scale": (np.maximum(n0, 1e-9), "f"),
        "reach": (prm.reach, "w"),
        "attitude_keep": (1.0 - weekly_rate_to_step(prm.attitude_decay, spy), "f"),
        "heard_rate": (weekly_rate_to_step(P.expectations.heard_rate, spy), "w"),
        "praise_threshold": (prm.praise_threshold, "f"),
        "praise_share": (P.expectations.benchmark_from_praise, "f"),
        "review_rate": (P.reviews.rate, "f"),
        "extremity": (P.reviews.extremity, "f"),
        "five": (np.full_like(prm.reach, 5.0), "f"),
        "visibility": (
            np.where(on.disclosure_visibility, P.disclosure.visibility, 0.0),
            "w",
        ),
    }


def moved_table(share: np.ndarray, most: int) -> np.ndarray:
    """``[B, most + 1]``: the share of the way an attitude (or trust) moves after 0, 1, ...,
    ``most`` messages, ``1 - (1 - share) ** c``, per market (``share`` ``[B, 1]``)."""
    return 1.0 - (1.0 - share) ** np.arange(most + 1)


def _spread(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Talk, fan out, listen: every industry of every market of the batch."""
    cs, fs, P = batch.customer_state, batch.firm_state, batch.params
    said = np.zeros((batch.B, batch.F, 2))
    reach = np.zeros((batch.B, batch.F))
    decay_attitudes(cs.attitude, batch.offsets, batch.consts)
    n, n_attr = batch.n_total, batch.K
    pool = batch.workspace.pool
    taught = P.teaching.word_of_mouth_share * teaching.levels(batch)  # [B, F]
    cross = np.flatnonzero(batch.cross_mask)
    praise = P.expectations.benchmark_from_praise[:, 0] > 0
    if not praise.any():
        cross = np.zeros(0, np.int64)
    ft = batch.dtype
    flags = pool("flags", n, np.uint8)  # zero when made, left zero by ``hear``
    stamp = pool("stamp", n, np.int32 if n < 2**31 else np.int64)
    width = n_attr + len(cross)  # a row of ``sums``: K zeros, then -inf per cross attribute
    sums_fill = np.concatenate([np.zeros(n_attr, ft), np.full(len(cross), -np.inf, ft)])
    # a listener hears at most one message per neighbour that talked in the industry
    most_neighbours = batch.max_degree
    influence = P.word_of_mouth.influence
    trust_influence = P.trust.word_of_mouth_influence
    for m in range(batch.M):
        talkers = pool("talkers", n + 1, np.int64)
        market = pool("talker_market", n + 1, np.int64)
        firm = pool("talker_firm", n + 1, np.int64)
        tone = pool("talker_tone", n + 1, ft)
        count = select_talkers(
            m,
            batch.offsets,
            batch.keys,
            batch.consts,
            cs.supplier[m],
            cs.satisfaction[m],
            talkers,
            market,
            firm,
            tone,
            said,
        )
        if count == 0:
            continue
        senders, market, firm, tone = talkers[:count], market[:count], firm[:count], tone[:count]
        if batch.complete:  # the complete graph of a batch of one: receivers drawn, capped
            prm = batch.markets[0].params.word_of_mouth
            rng = batch.markets[0].draws.stream("reach")
            msg, recv = batch.markets[0].adjacency.expand(
                senders, prm.reach, rng, max_receivers=prm.complete_graph_max_receivers
            )
            np.add.at(reach[0], firm[msg], 1.0)
        else:
            fan_out = int(batch.degree[senders].sum())
            message = pool("message", fan_out + 1, np.int64)
            receiver = pool("receiver", fan_out + 1, np.int64)
            kept = expand_csr(
                senders,
                market,
                m,
                batch.offsets,
                batch.keys,
                batch.consts,
                batch.indptr,
                batch.indices,
                firm,
                message,
                receiver,
                reach,
            )
            msg, recv = message[:kept], receiver[:kept]
        if len(recv) == 0:
            continue
        mine = batch.industry_firms[m]
        local = np.zeros(batch.F, np.int64)
        local[mine] = np.arange(len(mine))
        n_del = len(recv)
        most_heard = min(count, most_neighbours)
        moved = moved_table(influence, most_heard)
        moved_trust = moved_table(trust_influence, most_heard)
        _, most = hear(
            msg,
            recv,
            0,
            senders,
            local[firm],
            len(mine),
            tone,
            tone > 0,
            cs.trust[firm, senders],  # what each speaker believes of its firm's word
            market,
            batch.market_of,
            batch.consts,
            cs.experience[m],
            cs.heard[m],
            cs.benchmark,
            cross,
            np.asarray(mine, np.int64),
            moved,
            cs.attitude,
            moved_trust,
            cs.trust,
            np.ascontiguousarray(taught[:, mine]),
            np.ascontiguousarray(fs.focus[:, mine]),
            cs.weights,
            flags,
            stamp,
            pool("rank", n_del, stamp.dtype),
            pool("who", n_del + 1, np.int64),
            pool("tally", n_del * 3 * len(mine), np.float64),
            pool(f"sums{width}", n_del * width, ft, fill=sums_fill),
            pool("said", count * n_attr, ft),
        )
        if most >= moved.shape[1]:
            raise RuntimeError(f"a listener heard {most} messages about one firm: more than it can")
    scratch.wom_positive[...] = said[:, :, 0]
    scratch.wom_negative[...] = said[:, :, 1]
    scratch.wom_reach[...] = reach


def _review(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Reviews fade, then this step's reviews and notices are posted."""
    cs, fs, ws, P = batch.customer_state, batch.firm_state, batch.workspace, batch.params
    keep = 1.0 - weekly_rate_to_step(P.reviews.memory, batch.steps_per_year)  # [B, 1]
    for record in (fs.review_sum, fs.review_weight, fs.review_trust, fs.review_trust_weight):
        record *= keep
    fs.review_attr *= keep[:, :, None]
    disclose = fs.disclose
    for m in range(batch.M):
        post_reviews(
            m,
            batch.offsets,
            batch.keys,
            batch.consts,
            cs.supplier[m],
            cs.satisfaction[m],
            cs.last_satisfaction[m],
            cs.experience[m],
            cs.trust,
            ws.supplier[m],
            ws.failure[m],
            disclose,
            fs.review_sum,
            fs.review_weight,
            fs.review_attr,
            fs.review_trust,
            fs.review_trust_weight,
        )


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Spread this step's word of mouth over the network, then post reviews."""
    _spread(batch, scratch)
    _review(batch, scratch)
