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

The rules for one speaker (:func:`valence`, :func:`talk_chance`) and for one listener's messages
(in :func:`hear`) are compiled (``sim.jit``); so are the loops that pick the talkers
(:func:`select_talkers`), fan messages out over a CSR network (:func:`expand_csr`) and let the
listeners of an industry hear them (:func:`hear`). Talking and posting are thinned Bernoulli
trials (a uniform only for the customers below the largest chance, then each customer's own).

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

from sim.draws import uniform_column
from sim.jit import ONE, ZERO, clip, kernel, prefetch, rule
from sim.network import Adjacency
from sim.rules import teaching
from sim.rules.expectations import PRIOR_REVIEWS
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket

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


@kernel
def select_talkers(
    cand: np.ndarray,
    u: np.ndarray,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    base: float,
    positive_amplitude: float,
    negative_amplitude: float,
    neutral: float,
    up_scale: float,
    down_scale: float,
    step_power: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates that talk, their supplier and the tone of their message.

    Candidate ``i`` (customer ``cand[i]``, uniform ``u[i]``) talks when it has a supplier and
    ``u[i]`` is below its chance to talk this step (:func:`talk_chance`, converted from a week
    to the step: ``step_power = 52 / steps_per_year``). The float arguments are in the type of
    ``satisfaction``.

    Returns
    -------
    talkers, firm, tone
        The customers who talk (``cand``'s type), their supplier (``supplier``'s type) and the
        valence of their message (``satisfaction``'s type).
    """
    n = len(cand)
    talkers = np.empty(n + 1, cand.dtype)  # one spare slot: every candidate is written
    firm = np.empty(n + 1, supplier.dtype)
    tone = np.empty(n + 1, satisfaction.dtype)
    count = 0
    for i in range(n):
        c = cand[i]
        f = supplier[c]
        v = valence(satisfaction[c], neutral, up_scale, down_scale)
        chance = talk_chance(v, base, positive_amplitude, negative_amplitude)
        # written at ``count`` whether it talks or not, kept by advancing ``count``
        talkers[count] = c
        firm[count] = f
        tone[count] = v
        if step_power == 1.0:
            count += (f >= 0) & (u[i] < chance)
        else:
            count += (f >= 0) & (u[i] < 1.0 - (1.0 - np.float64(chance)) ** step_power)
    return talkers[:count], firm[:count], tone[:count]


@kernel
def expand_csr(
    senders: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    keys: np.ndarray,
    reach: float,
    firm: np.ndarray,
    message: np.ndarray,
    receiver: np.ndarray,
    per_firm: np.ndarray,
) -> int:
    """Messages fanned out to their senders' neighbours, and deliveries per firm.

    Parameters
    ----------
    senders
        The sending customer of each message.
    indptr, indices
        The CSR network (``sim.network.Adjacency``).
    keys
        The "reach" stream of each message's industry (``sim.draws``): the delivery of message
        ``i`` to the ``j``-th neighbour of its sender ``s`` is kept when
        ``uniform_column(keys[i], s, j)`` is below ``reach``. Ignored when ``reach >= 1``:
        every delivery is kept.
    reach
        Chance that a message reaches a neighbour.
    firm
        The firm each message is about.
    message, receiver
        Out: position in ``senders`` of each kept delivery (non-decreasing) and its receiver;
        room for every (message, neighbour) pair and one more.
    per_firm
        Out: the number of deliveries about each firm (zeroed here).

    Returns
    -------
    int
        The number of kept deliveries (the first entries of ``message`` and ``receiver``).
    """
    everyone = reach >= 1.0
    n = len(senders)
    per_firm[:] = 0
    out = 0
    for i in range(n):
        prefetch(indptr, senders[min(i + 2 * AHEAD, n - 1)])
        prefetch(indices, indptr[senders[min(i + AHEAD, n - 1)]])
        s = senders[i]
        lo = indptr[s]
        deg = indptr[s + 1] - lo
        before = out
        for j in range(deg):
            # written at ``out`` whether kept or not, kept by advancing ``out``
            message[out] = i
            receiver[out] = indices[lo + j]
            out += everyone or uniform_column(keys[i], s, j) < reach
        per_firm[firm[i]] += out - before
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
    experience: np.ndarray,
    heard: np.ndarray,
    heard_rate: float,
    benchmark: np.ndarray,
    cross: np.ndarray,
    praise_threshold: float,
    praise_share: float,
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
    senders, local_firm, tone, positive, speaker_trust
        Per message of the industry: the sender, the position of its firm among the industry's
        ``n_local`` firms, its valence, whether it is positive and the sender's trust in the
        firm's word.
    n_local
        Number of firms of the industry.
    experience
        The industry's ``[N, K]`` experiences (what a message says).
    heard
        The industry's ``[N, K]`` heard experiences, updated in place: NaN becomes the mean
        of the messages heard, else it moves by ``heard_rate`` toward it.
    heard_rate
        Share of the way toward the mean heard this step.
    benchmark
        ``[N, K]`` benchmarks, raised in place on the ``cross`` attributes to
        ``praise_share * X`` for every positive message with ``X >= praise_threshold``.
    cross
        Attributes that praise lifts (empty for none).
    praise_threshold, praise_share
        In the float type of ``experience``.
    firms
        The industry's firms (their rows of ``attitude``).
    moved
        ``moved[c]``: share of the way an attitude moves after ``c`` messages; ``c`` up to the
        most messages a listener can hear about one firm.
    attitude
        ``[F, N]`` attitudes: a listener that heard ``c > 0`` messages about a firm with mean
        valence ``v_bar`` moves ``A += moved[c] * (v_bar - A)`` (in float64), in place.
    moved_trust, trust
        The same for trust ``[F, N]``: toward the mean trust of the speakers,
        ``T += moved_trust[c] * (t_bar - T)``, in place.
    taught, teach_focus, weights
        Per firm of the industry: the share of the way one message moves a listener's
        attribute weights toward the firm's focus (``word_of_mouth_share * L``, 0 for a firm
        that does not teach), and that focus ``[n_local, K]``; the listeners' weights ``[N, K]``
        move ``1 - (1 - taught) ** c`` of the way, in place (sim.rules.teaching).
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
            for c in range(n_cross):
                x = said[j, cross[c]]
                if x >= praise_threshold:
                    sums[i, k_attr + c] = max(sums[i, k_attr + c], praise_share * x)

    most = 0.0
    last = len(moved) - 1
    n_att = attitude.shape[1]
    flat_attitude = attitude.reshape(-1)
    last_trust = len(moved_trust) - 1
    for i in range(n_who):
        ahead = who[min(i + AHEAD, n_who - 1)]
        prefetch(heard, ahead)
        prefetch(benchmark, ahead)
        for f in range(n_local):
            prefetch(flat_attitude, firms[f] * n_att + ahead)
        r = who[i]
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
            b = benchmark[r, cross[c]]
            benchmark[r, cross[c]] = best if best > b else b  # np.maximum: NaN stays NaN
        for f in range(n_local):
            key = 3 * (i * n_local + f)
            c = tally[key]
            a = attitude[firms[f], r]
            # c <= last unless the caller's bound is wrong; no message (c = 0): no change
            step = moved[min(int(c), last)]
            toward = np.float64(a) + step * (tally[key + 1] / max(c, 1.0) - np.float64(a))
            attitude[firms[f], r] = toward if c > 0 else a
            t = trust[firms[f], r]
            step = moved_trust[min(int(c), last_trust)]
            toward = np.float64(t) + step * (tally[key + 2] / max(c, 1.0) - np.float64(t))
            trust[firms[f], r] = toward if c > 0 else t
            if taught[f] > 0 and c > 0:  # what the firm teaches, carried by its customers
                keep = 1.0
                for _ in range(int(c)):
                    keep *= 1.0 - taught[f]
                for k in range(k_attr):
                    weights[r, k] += (1.0 - keep) * (teach_focus[f, k] - weights[r, k])
        # the scratch left as found, for the next call
        for key in range(3 * i * n_local, 3 * (i + 1) * n_local):
            tally[key] = 0.0
        for k in range(k_attr):
            sums[i, k] = 0
        for c in range(n_cross):
            sums[i, k_attr + c] = -np.inf
    return n_who, int(most)


def below_all(p: float, margin: float = 1e-6) -> float:
    """A bound on probabilities computed in float32 whose exact maximum is ``p``: ``p`` raised
    by a relative ``margin`` (float32 rounding is 6e-8), at most 1."""
    return min(1.0, p * (1.0 + margin) + 1e-12)


def talk_probability_max(model: CustomerMarket) -> float:
    """The largest chance to talk at any satisfaction (at 0 or 10)."""
    prm = model.params.word_of_mouth
    week = np.clip(prm.base_rate + max(prm.positive_amplitude, prm.negative_amplitude), 0.0, 1.0)
    return below_all(float(weekly_rate_to_step(week, model.steps_per_year)))


def review_score(model: CustomerMarket) -> np.ndarray:
    """``[F]`` public review score of each firm on 0..10."""
    fs, prior = model.firm_state, model.params.reviews.prior_score
    return (prior * PRIOR_REVIEWS + fs.review_sum) / (PRIOR_REVIEWS + fs.review_weight)


def _talkers(model: CustomerMarket) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """``(sender, firm, tone, offsets)`` of this step's messages, industry by industry (the
    messages of industry ``m`` are ``offsets[m]:offsets[m + 1]``)."""
    cs, prm, draws = model.customer_state, model.params.word_of_mouth, model.draws
    everyone = slice(0, model.n_customers)
    p_max = talk_probability_max(model)
    ft = cs.satisfaction.dtype.type
    n0 = prm.neutral_point
    senders, firms, tones, offsets = [], [], [], [0]
    for m in range(len(model.industries)):
        cand, u = draws.below("talk", m, everyone, p_max)
        talkers, firm, tone = select_talkers(
            np.asarray(cand),
            np.asarray(u),
            cs.supplier[m],
            cs.satisfaction[m],
            ft(prm.base_rate),
            ft(prm.positive_amplitude),
            ft(prm.negative_amplitude),
            ft(n0),
            ft(max(10.0 - n0, 1e-9)),
            ft(max(n0, 1e-9)),
            52.0 / model.steps_per_year,
        )
        senders.append(talkers)
        firms.append(firm)
        tones.append(tone)
        offsets.append(offsets[-1] + len(talkers))
    return np.concatenate(senders), np.concatenate(firms), np.concatenate(tones), offsets


def _fan_out(
    model: CustomerMarket, sender: np.ndarray, firm: np.ndarray, offsets: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(msg, recv, per_firm)``: the deliveries of the messages to the network (position of the
    message, receiver) and how many there are about each firm. The messages of industry ``m``
    are ``offsets[m]:offsets[m + 1]``."""
    prm, adjacency, n_firms = model.params.word_of_mouth, model.adjacency, model.firm_state.n
    if not isinstance(adjacency, Adjacency):  # the complete graph: receivers drawn, capped
        rng = model.draws.stream("reach")
        msg, recv = adjacency.expand(
            sender, prm.reach, rng, max_receivers=prm.complete_graph_max_receivers
        )
        return msg, recv, np.bincount(firm[msg], minlength=n_firms)
    reach = float(prm.reach)
    if reach == 0.0 or len(sender) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(n_firms, np.int64)
    fan_out = int(adjacency.degree[sender].sum())
    keys = np.repeat(
        np.array([model.draws.key("reach", m) for m in range(len(offsets) - 1)], np.uint64),
        np.diff(offsets),
    )
    pool = model.workspace.pool
    message = pool("message", fan_out + 1, np.int64)
    receiver = pool("receiver", fan_out + 1, np.int64)
    per_firm = np.zeros(n_firms, np.int64)
    kept = expand_csr(
        sender,
        adjacency.indptr,
        adjacency.indices,
        keys,
        reach,
        firm,
        message,
        receiver,
        per_firm,
    )
    return message[:kept], receiver[:kept], per_firm


def _spread(model: CustomerMarket, scratch: StepScratch) -> None:
    cs, prm, n_firms = model.customer_state, model.params.word_of_mouth, model.firm_state.n
    if not model.params.mechanisms.word_of_mouth:  # nobody talks
        scratch.wom_positive = scratch.wom_negative = scratch.wom_reach = np.zeros(n_firms)
        return
    sender, firm, tone, offsets = _talkers(model)
    positive = tone > 0
    scratch.wom_positive = np.bincount(firm, weights=positive, minlength=n_firms)
    scratch.wom_negative = np.bincount(firm, weights=tone < 0, minlength=n_firms)
    msg, recv, per_firm = _fan_out(model, sender, firm, offsets)
    scratch.wom_reach = per_firm.astype(float)

    decay = weekly_rate_to_step(prm.attitude_decay, model.steps_per_year)
    cs.attitude *= cs.attitude.dtype.type(1.0 - decay)
    if len(recv) == 0:
        return
    bounds = np.searchsorted(msg, offsets)  # the deliveries of each industry's messages
    _listen(model, msg, recv, bounds, sender, firm, tone, offsets)


def _moved(influence: float, most: int) -> np.ndarray:
    """Share of the way an attitude moves after 0, 1, ..., ``most`` messages."""
    return 1.0 - (1.0 - influence) ** np.arange(most + 1)


def _listen(
    model: CustomerMarket,
    msg: np.ndarray,
    recv: np.ndarray,
    bounds: np.ndarray,
    sender: np.ndarray,
    firm: np.ndarray,
    tone: np.ndarray,
    offsets: list[int],
) -> None:
    """The listeners' side of ``_spread``: attitudes, what was heard, praise (:func:`hear`)."""
    cs, prm, n_firms = model.customer_state, model.params.word_of_mouth, model.firm_state.n
    n, n_attr = model.n_customers, cs.experience.shape[2]
    ft = cs.experience.dtype
    heard_rate = float(
        weekly_rate_to_step(model.params.expectations.heard_rate, model.steps_per_year)
    )
    praise_share = model.params.expectations.benchmark_from_praise
    cross = np.flatnonzero(model.cross_mask) if praise_share > 0 else np.zeros(0, np.int64)
    positive = tone > 0
    speaker_trust = cs.trust[firm, sender]  # what each speaker believes of its firm's word
    taught = model.params.teaching.word_of_mouth_share * teaching.levels(model)
    pool = model.workspace.pool
    flags = pool("flags", n, np.uint8)  # zero when made, left zero by ``hear``
    stamp = pool("stamp", n, np.int32 if n < 2**31 else np.int64)
    width = n_attr + len(cross)  # a row of ``sums``: K zeros, then -inf per cross attribute
    sums_fill = np.concatenate([np.zeros(n_attr, ft), np.full(len(cross), -np.inf, ft)])
    # a listener hears at most one message per neighbour that talked in the industry
    most_neighbours = _max_degree(model)
    for m in range(len(model.industries)):
        lo, hi = bounds[m], bounds[m + 1]
        if lo == hi:
            continue
        mine = model.industry_firms[m]
        local = np.zeros(n_firms, np.int64)
        local[mine] = np.arange(len(mine))
        first, last = offsets[m], offsets[m + 1]
        n_del = hi - lo
        most_heard = min(last - first, most_neighbours)
        moved = _moved(prm.influence, most_heard)
        moved_trust = _moved(model.params.trust.word_of_mouth_influence, most_heard)
        _, most = hear(
            msg[lo:hi],
            recv[lo:hi],
            first,
            sender[first:last],
            local[firm[first:last]],
            len(mine),
            tone[first:last],
            positive[first:last],
            speaker_trust[first:last],
            cs.experience[m],
            cs.heard[m],
            heard_rate,
            cs.benchmark,
            cross,
            ft.type(prm.praise_threshold),
            ft.type(praise_share),
            np.asarray(mine, np.int64),
            moved,
            cs.attitude,
            moved_trust,
            cs.trust,
            taught[mine],
            np.ascontiguousarray(model.firm_state.focus[mine]),
            cs.weights,
            flags,
            stamp,
            pool("rank", n_del, stamp.dtype),
            pool("who", n_del + 1, np.int64),
            pool("tally", n_del * 3 * len(mine), np.float64),
            pool(f"sums{width}", n_del * width, ft, fill=sums_fill),
            pool("said", (last - first) * n_attr, ft),
        )
        if most >= len(moved):
            raise RuntimeError(f"a listener heard {most} messages about one firm: more than it can")


def _max_degree(model: CustomerMarket) -> int:
    """The most neighbours a customer has (computed once per network)."""
    pool, adjacency = model.workspace.pool, model.adjacency
    known = pool.notes.get("max_degree")
    if known is None or known[0] is not adjacency:
        known = pool.notes["max_degree"] = (adjacency, int(adjacency.degree.max(initial=0)))
    return known[1]


def _post(
    fs: Any, f: np.ndarray, scores: np.ndarray, experiences: np.ndarray, weight: float = 1.0
) -> None:
    """Add reviews (firm, score, experience, each counting ``weight``) to the firms' records."""
    n_firms = fs.n
    fs.review_sum += weight * np.bincount(f, weights=scores, minlength=n_firms)
    fs.review_weight += weight * np.bincount(f, minlength=n_firms)
    for k in range(experiences.shape[1]):
        fs.review_attr[:, k] += weight * np.bincount(
            f, weights=experiences[:, k], minlength=n_firms
        )


def _review(model: CustomerMarket, scratch: StepScratch) -> None:
    cs, fs, prm = model.customer_state, model.firm_state, model.params.reviews
    on, ws = model.params.mechanisms, model.workspace
    draws, n, n_firms = model.draws, model.n_customers, fs.n
    keep = 1.0 - weekly_rate_to_step(prm.memory, model.steps_per_year)
    for record in (fs.review_sum, fs.review_weight, fs.review_attr, fs.review_trust):
        record *= keep
    fs.review_trust_weight *= keep
    top = np.clip(prm.rate * (1.0 + prm.extremity), 0.0, 1.0)
    p_max = below_all(float(weekly_rate_to_step(top, model.steps_per_year)))
    visibility = model.params.disclosure.visibility if on.disclosure_visibility else 0.0
    for m in range(len(model.industries)):
        if on.reviews:
            cand, u = draws.below("review", m, slice(0, n), p_max)
            sup = cs.supplier[m][cand]
            ok = sup >= 0
            cand, u, sup = cand[ok], u[ok], sup[ok]
            sat = cs.satisfaction[m][cand]
            week = np.clip(prm.rate * (1.0 + prm.extremity * np.abs(sat - 5.0) / 5.0), 0.0, 1.0)
            post = u < weekly_rate_to_step(week, model.steps_per_year)
            rows, f = cand[post], sup[post]
            x = np.take(cs.experience[m], rows, axis=0)
            _post(fs, f, cs.last_satisfaction[m][rows], x)
            # a review also says whether the firm keeps its word: the reviewer's trust in it
            fs.review_trust += np.bincount(f, weights=cs.trust[f, rows], minlength=n_firms)
            fs.review_trust_weight += np.bincount(f, minlength=n_firms)
        if visibility > 0:  # announced failures are public notices: they enter the record
            sup = ws.supplier[m]
            warned = np.flatnonzero(ws.failure[m] & (sup >= 0))
            warned = warned[fs.disclose[sup[warned]]]
            if len(warned):
                x = np.take(cs.experience[m], warned, axis=0)
                _post(fs, sup[warned], cs.last_satisfaction[m][warned], x, visibility)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Spread this step's word of mouth over the network, then post reviews."""
    _spread(model, scratch)
    _review(model, scratch)
