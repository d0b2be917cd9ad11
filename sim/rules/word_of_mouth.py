"""Phase 6, word of mouth over the network (and, at its end, the public reviews).

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

With ``mechanisms.word_of_mouth_tone`` off (the negative control of the valence check) who talks
and how often are unchanged, but a message's tone is :func:`drawn_tone`, uniform on -1..1 from the
customer's own draw (purpose ``"tone"``), whatever its satisfaction.

Reviews (who posts, the firms' records and review scores) are ``sim.rules.reviews``; their
draws are taken here, beside who talks, and :func:`apply` posts them at the end of the phase.

The rules for one speaker (:func:`valence`, :func:`talk_chance`) and for one reviewer
(``reviews.review_chance``) are compiled (``sim.jit``). :func:`decide_rows` applies them to a block
of customers of one market, every industry: it draws who talks and who posts, customer by customer
(``sim.draws``: purposes ``"talk"``, ``"review"``; ``"reach"`` below), and flags them (the bits of
``sim.rules.flagged``). The blocks are the batch's tasks (``MarketBatch.tasks``), run in parallel:
a customer's draws and flags are its own, and each task counts its messages in its own row. The
messages' order, the sums of the reviews and what the listeners hear are then taken in order of
customers: from the flagged customers each task lists, the same tasks list their talkers
(:func:`select_talkers`, each task from the number of talkers before it) and gather their
reviewers' state (``reviews.post_reviews``) in parallel, and the reviews are added to the firms'
records in task order, on one thread.
Fanning the messages out over the network and what the listeners make of them are
``sim.rules.fan_out``'s and ``sim.rules.listening``'s kernels (:func:`expand_csr`, whose tasks'
runs of deliveries :func:`hear` reads where they were written; parallel tasks, the same numbers
on any number of threads). They run over every market of a batch (``sim.batch``): a
market's customers are a contiguous range, its network's rows hold their own customers only, and
each customer reads its market's parameters. A message reaches a neighbour by the sender's
``"reach"`` uniform with the neighbour's position as the column. Messages are taken in the order of
their senders, so a listener hears its neighbours' messages in the same order alone or in a batch.
Temporaries come from a pool per model, kept from step to step (a fresh array costs a page fault
per 4 KiB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.draws import REVIEW, TALK, TONE, uniform
from sim.jit import (
    ONE,
    ZERO,
    add_task_rows,
    by_value,
    clip,
    kernel,
    parallel_kernel,
    prange,
    prefetch,
    rule,
    run_tasks,
)
from sim.params.stacked import StackedParams
from sim.rules import teaching
from sim.rules.churn_skip import row_range
from sim.rules.fan_out import expand_csr, plan_fan_out
from sim.rules.flagged import (
    BLAMES,
    NOTICE,
    POSTS,
    PRAISES,
    TALKS,
    Decided,
    flagged_before,
    prefetch_flagged,
    prefetch_trust,
)
from sim.rules.listening import hear, listen_tasks
from sim.rules.reviews import post, review_chance
from sim.state import BatchScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch


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
def per_step(chance: float, step_power: float) -> float:
    """A weekly chance converted to the step: ``1 - (1 - chance) ** step_power`` with
    ``step_power = 52 / steps_per_year`` (the chance itself at a week)."""
    if step_power == 1.0:
        return chance
    return 1.0 - (1.0 - np.float64(chance)) ** step_power


@rule
def drawn_tone(tone_key: Any, customer: int) -> float:
    """A message's tone when it is not the speaker's satisfaction (``mechanisms.word_of_mouth_tone``
    off, a control): uniform on -1..1, the customer's own draw (``sim.draws``: ``"tone"``)."""
    return 2.0 * uniform(tone_key, customer) - 1.0


@rule
def message_tone(s, p, tone_key, customer, drawn):
    """The tone of customer ``customer``'s message: its :func:`valence` at satisfaction ``s``,
    or :func:`drawn_tone` when ``drawn``."""
    if drawn:
        return drawn_tone(tone_key, customer)
    return valence(s, p.neutral, p.up_scale, p.down_scale)


@rule
def draw_bits(supplier, satisfaction, talk_key, review_key, tone_key, me, p, j, weekly, drawn):
    """:func:`draws_block`'s customer ``j``: its bits, and its valence and chances to talk and
    to post a week (its chances this step when ``weekly``, a step of a week); praise or blame
    by the tone of its message (:func:`message_tone`: the valence, or drawn when ``drawn``)."""
    s = satisfaction[j]
    v = valence(s, p.neutral, p.up_scale, p.down_scale)
    chance = talk_chance(v, p.talk_base, p.talk_up, p.talk_down)
    week = review_chance(s, p.review_rate, p.extremity, p.five)
    talk_u, review_u = uniform(talk_key, me + j), uniform(review_key, me + j)
    served = supplier[j] >= 0
    if weekly:
        talks = served and p.wom_on and talk_u < chance
        posts = served and p.reviews_on and review_u < week
    else:
        talks = served and p.wom_on and talk_u < per_step(chance, p.step_power)
        posts = served and p.reviews_on and review_u < per_step(week, p.step_power)
    tone = drawn_tone(tone_key, me + j) if drawn else v
    bits = TALKS if talks else 0
    bits |= POSTS if posts else 0
    bits |= PRAISES if talks and tone > ZERO else 0
    bits |= BLAMES if talks and tone < ZERO else 0
    return bits


@rule
def draws_block(supplier, satisfaction, flags, talk_key, review_key, tone_key, me, p, nb):
    """Who of ``nb`` customers (their ``supplier``, ``satisfaction`` and ``flags`` in one
    industry, the first customer's index in its market ``me``) talks and who posts:
    :data:`TALKS`, :data:`POSTS` and :data:`PRAISES` or :data:`BLAMES` in ``flags``.

    Every customer's two uniforms are drawn and its chances computed, served or not, and the
    bits selected without a branch, so that the compiler takes several customers at once; an
    unserved customer's bits are 0. A step of a week has a loop of its own, without
    :func:`per_step`'s power (the compiler would compute it for every customer and keep the
    chance). With the tone drawn (``tone_on`` false: a control), one loop for any step, which
    draws a third uniform per customer."""
    args = (supplier, satisfaction, talk_key, review_key, tone_key, me, p)
    if not p.tone_on:
        weekly = p.step_power == 1.0  # per_step returns the chance itself then: same numbers
        for j in range(nb):
            flags[j] = draw_bits(*args, j, weekly, True)
    elif p.step_power == 1.0:
        for j in range(nb):
            flags[j] = draw_bits(*args, j, True, False)
    else:
        for j in range(nb):
            flags[j] = draw_bits(*args, j, False, False)


@kernel
def decide_rows(lo, hi, first, keys, p, supplier, satisfaction, delivered_by, failure, disclose,
                attitude, span, flags, listed, counts, talking, said):  # fmt: skip
    """Phase 6's draws for the customers ``lo..hi`` of one market (its first customer
    ``first``; ``keys`` its stream bases ``[purpose, industry]``, ``p`` its constants), every
    industry: attitudes fade (``A *= 1 - attitude_decay`` per step, when the market talks; the
    lowest and highest of each firm's row go to ``span[f]``, ``churn_skip.row_range``), and
    ``flags[m, i]`` says who talks (:data:`TALKS`), posts (:data:`POSTS`) and whose failure is
    public (:data:`NOTICE`); ``listed[m, lo:lo + counts[m]]`` are the customers with any flag,
    in order, ``talking[m]`` of them talkers; ``said[f]`` counts the messages (positive,
    negative) per firm.

    A served customer talks when its uniform is below its chance to talk this step
    (:func:`talk_chance` of its :func:`valence`, converted from a week to the step), posts when
    another is below its chance to post (``reviews.review_chance``): :func:`draws_block`, in
    blocks of :data:`DRAWS_BLOCK` customers. A failure announced at this step's delivery
    (``failure`` and ``disclose`` of the firm that delivered, ``delivered_by``) is a public notice
    when notices count (``visibility`` > 0).

    The pass that counts and lists them skips a customer with no bit and no failure (93% of
    them in the baseline at 1M): the branch mispredicts on the others, but the pass did the whole
    work for everyone (:func:`decide` at 1M, one thread: 14.0 -> 10.5-11.1 ms).
    """
    for f in range(attitude.shape[0]):
        span[f, 0], span[f, 1] = row_range(attitude[f], lo, hi, p.attitude_keep, p.wom_on)
    for m in range(supplier.shape[0]):
        talk_key, review_key, tone_key = keys[TALK, m], keys[REVIEW, m], keys[TONE, m]
        for start in range(lo, hi, DRAWS_BLOCK):
            end = min(hi, start + DRAWS_BLOCK)
            args = (supplier[m, start:end], satisfaction[m, start:end], flags[m, start:end])
            draws_block(*args, talk_key, review_key, tone_key, start - first, p, end - start)
        n_listed = n_talking = 0
        visible = p.visibility > 0
        for i in range(lo, hi):
            bits = flags[m, i]
            if bits == 0 and not failure[m, i]:  # nothing to count or list (most customers)
                continue
            if bits & (PRAISES | BLAMES):
                said[supplier[m, i], 0 if bits & PRAISES else 1] += 1.0
            n_talking += bits & TALKS
            bits &= TALKS | POSTS
            g = delivered_by[m, i]  # -1: nobody delivered; no branch on the firm's values
            notice = visible & (g >= 0) & failure[m, i] & disclose[max(g, 0)]
            bits |= NOTICE if notice else 0
            flags[m, i] = bits
            listed[m, lo + n_listed] = i  # kept when flagged
            n_listed += bits != 0
        counts[m] = n_listed
        talking[m] = n_talking


DRAWS_BLOCK = 1024
"""Customers :func:`decide_rows` draws for at a time (:func:`draws_block`)."""


@kernel
def one_task(t, tasks, keys, consts, supplier, satisfaction, delivered_by, failure, disclose,
             attitude, spans, flags, listed, counts, talking, said):  # fmt: skip
    """Task ``t`` of :func:`decide_rows` (``tasks``: market, first and last customer, the
    market's first); its counts in ``said[t]``, its attitudes' ranges in ``spans[t]``."""
    b, lo, hi, first = tasks[0][t], tasks[1][t], tasks[2][t], tasks[3][t]
    p = by_value(consts[b])
    decide_rows(lo, hi, first, keys[b], p, supplier, satisfaction, delivered_by, failure,
                disclose[b], attitude, spans[t], flags, listed, counts[t], talking[t],
                said[t])  # fmt: skip


@kernel
def serial_tasks(n_tasks, tasks, keys, consts, supplier, satisfaction, delivered_by, failure,
                 disclose, attitude, spans, flags, listed, counts, talking, said):  # fmt: skip
    """Every task, one after another, on the calling thread."""
    for t in range(n_tasks):
        one_task(t, tasks, keys, consts, supplier, satisfaction, delivered_by, failure, disclose,
                 attitude, spans, flags, listed, counts, talking, said)  # fmt: skip


@parallel_kernel
def parallel_tasks(n_tasks, tasks, keys, consts, supplier, satisfaction, delivered_by, failure,
                   disclose, attitude, spans, flags, listed, counts, talking, said):  # fmt: skip
    """Every task, as parallel tasks on numba's threads (a customer's draws and flags are its
    own; each task counts in its own row)."""
    for t in prange(n_tasks):
        one_task(t, tasks, keys, consts, supplier, satisfaction, delivered_by, failure, disclose,
                 attitude, spans, flags, listed, counts, talking, said)  # fmt: skip


@kernel
def task_talkers(t, m, task_market, task_lo, counts, first, listed, consts, keys, offsets,
                 flags, supplier, satisfaction, trust, indptr, talkers, market, firm, tone,
                 speaker_trust, degree):  # fmt: skip
    """Task ``t``'s talkers about their supplier in industry ``m`` (:data:`TALKS` in their
    ``flags``; its flagged customers are ``listed[task_lo[t]:]``, ``counts[t, m]`` of them,
    :func:`decide_rows`), in order of customers, written from ``first[t]`` (how many talkers
    the tasks before it have): each talker, its market, its supplier, the tone of its
    message (:func:`message_tone`), its trust in its supplier's word (``trust[f, c]``, what
    the message carries) and its number of neighbours (from the network's ``indptr``; 0 on the
    complete graph, whose ``indptr`` is empty).

    The flagged customers are a few in a hundred, so each one's flags, supplier, satisfaction
    and row pointers are prefetched a few ahead, and its trust once its supplier has come."""
    b = task_market[t]
    p = consts[b]
    start = task_lo[t]
    end = start + counts[t, m]
    tone_key = keys[b][TONE, m]
    flat_trust = trust.reshape(-1)
    count = first[t]
    wired = len(indptr) > 0
    for j in range(start, end):
        ahead = prefetch_flagged(listed, j, end, flags, supplier, satisfaction)
        prefetch(indptr, ahead if wired else 0)
        prefetch_trust(listed, j, end, supplier, flat_trust)
        c = listed[j]
        if flags[c] & TALKS:
            f = supplier[c]
            talkers[count] = c
            market[count] = b
            firm[count] = f
            tone[count] = message_tone(satisfaction[c], p, tone_key, c - offsets[b], not p.tone_on)
            speaker_trust[count] = trust[f, c]
            degree[count] = indptr[c + 1] - indptr[c] if wired else 0
            count += 1


@kernel
def serial_talkers(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`task_talkers` (its arguments after ``t``: ``args``), one after
    another on the calling thread."""
    for t in range(n_tasks):
        task_talkers(t, *args)


@parallel_kernel
def parallel_talkers(n_tasks, *args):  # type: ignore[no-untyped-def]
    """Every task of :func:`task_talkers`, as parallel tasks on numba's threads (a task's
    flagged customers and output slots are its own)."""
    for t in prange(n_tasks):
        task_talkers(t, *args)


def select_talkers(
    m: int,
    task_market: np.ndarray,
    task_lo: np.ndarray,
    counts: np.ndarray,
    talking: np.ndarray,
    listed: np.ndarray,
    consts: Any,
    keys: np.ndarray,
    offsets: np.ndarray,
    flags: np.ndarray,
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    trust: np.ndarray,
    indptr: np.ndarray,
    talkers: np.ndarray,
    market: np.ndarray,
    firm: np.ndarray,
    tone: np.ndarray,
    speaker_trust: np.ndarray,
    degree: np.ndarray,
) -> int:
    """The customers of every market that talk about their supplier in industry ``m``, in order
    of customers: each talker, its market, its supplier, the tone of its message
    (:func:`message_tone`; ``keys`` and ``offsets``: the markets' stream bases and first
    customers, for a drawn tone), its trust in its supplier's word (``trust`` ``[F, N]``) and
    its number of neighbours in the batch's network (``indptr``; empty for the complete graph:
    0), which plans the fan-out (``fan_out.plan_fan_out``).
    ``listed`` and ``counts`` are the flagged customers of each task and ``talking`` how many of
    them talk in each industry (:func:`decide_rows`). Returns how many talk (the first entries
    of the outputs, which have room for every customer and one more).

    Each task of :func:`decide_rows` lists its own talkers (:func:`task_talkers`, as parallel
    tasks) from the number of talkers before it, so that they follow each other: the same
    talkers in the same order on any number of threads, and no run moved after on one thread
    (docs/performance.md, the twenty-first round)."""
    n_tasks = len(task_market)
    first = flagged_before(talking[:, m])  # each task's first talker, then all of them
    run_tasks(serial_talkers, parallel_talkers, n_tasks, n_tasks, m, task_market, task_lo, counts,
              first, listed, consts, keys, offsets, flags, supplier, satisfaction, trust, indptr,
              talkers, market, firm, tone, speaker_trust, degree)  # fmt: skip
    return int(first[-1])


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm, on, spy = P.word_of_mouth, P.mechanisms, steps_per_year
    n0 = prm.neutral_point
    return {
        "wom_on": (on.word_of_mouth, "b"),
        "tone_on": (on.word_of_mouth_tone, "b"),
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


def _spread(batch: MarketBatch, scratch: BatchScratch) -> Decided:
    """Talk, fan out, listen: every industry of every market of the batch."""
    cs, fs, P = batch.customer_state, batch.firm_state, batch.params
    reach = np.zeros((batch.B, batch.F))
    n, n_attr = batch.n_total, batch.K
    pool = batch.workspace.pool
    decided = decide(batch, scratch)
    flags, listed, counts, talking = decided
    task_market, task_lo, _ = batch.tasks
    taught = P.teaching.word_of_mouth_share * teaching.levels(batch)  # [B, F]
    cross = np.flatnonzero(batch.cross_mask)
    praise = P.expectations.benchmark_from_praise[:, 0] > 0
    if not praise.any():
        cross = np.zeros(0, np.int64)
    ft = batch.dtype
    heard_flags = pool("flags", n, np.uint8)  # zero when made, left zero by ``hear``
    stamp = pool("stamp", n, np.int32 if n < 2**31 else np.int64)
    width = n_attr + len(cross)  # a row of ``sums``: K zeros, then -inf per cross attribute
    sums_fill = np.concatenate([np.zeros(n_attr, ft), np.full(len(cross), -np.inf, ft)])
    # a listener hears at most one message per neighbour that talked in the industry
    most_neighbours = batch.max_degree
    influence = P.word_of_mouth.influence
    trust_influence = P.trust.word_of_mouth_influence
    moved = moved_trust = np.zeros((batch.B, 0))  # made for the first industry that talks
    for m in range(batch.M):
        talkers = pool("talkers", n + 1, np.int64)
        market = pool("talker_market", n + 1, np.int64)
        firm = pool("talker_firm", n + 1, np.int64)
        tone = pool("talker_tone", n + 1, ft)
        believed = pool("talker_trust", n + 1, cs.trust.dtype)
        degree = pool("talker_degree", n + 1, np.int64)
        count = select_talkers(
            m,
            task_market,
            task_lo,
            counts,
            talking,
            listed[m],
            batch.consts,
            batch.keys,
            batch.offsets,
            flags[m],
            cs.supplier[m],
            cs.satisfaction[m],
            cs.trust,
            batch.indptr,
            talkers,
            market,
            firm,
            tone,
            believed,
            degree,
        )
        if count == 0:
            continue
        senders, market, firm, tone = talkers[:count], market[:count], firm[:count], tone[:count]
        believed = believed[:count]
        if batch.complete:  # the complete graph of a batch of one: receivers drawn, capped
            prm = batch.markets[0].params.word_of_mouth
            rng = batch.markets[0].draws.stream("reach")
            msg, recv = batch.markets[0].adjacency.expand(
                senders, prm.reach, rng, max_receivers=prm.complete_graph_max_receivers
            )
            np.add.at(reach[0], firm[msg], 1.0)
            runs, n_del = None, len(recv)
        else:
            # the tasks' slots, then every pair
            starts = plan_fan_out(senders, batch.indptr, degree=degree[:count])
            message = pool("message", int(starts[-1]) + 1, np.int64)
            receiver = pool("receiver", int(starts[-1]) + 1, np.int64)
            runs = expand_csr(  # the tasks' runs of deliveries, where they wrote them
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
                starts,
            )
            msg, recv, n_del = message, receiver, int(runs[:, 1].sum())
        if n_del == 0:
            continue
        mine = batch.industry_firms[m]
        local = np.zeros(batch.F, np.int64)
        local[mine] = np.arange(len(mine))
        most_heard = min(count, most_neighbours)
        if moved.shape[1] <= most_heard:  # a longer table holds the same shares
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
            believed,  # what each speaker believes of its firm's word
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
            heard_flags,
            stamp,
            pool("rank", n_del, stamp.dtype),
            pool("own", n_del * listen_tasks(n), np.int64),
            pool("who", n_del + 1, np.int64),
            pool("tally", n_del * 3 * len(mine), np.float64),
            pool(f"sums{width}", n_del * width, ft, fill=sums_fill),
            pool("said", count * n_attr, ft),
            batch.attitude_spans[1],
            runs=runs,
        )
        if most >= moved.shape[1]:
            raise RuntimeError(f"a listener heard {most} messages about one firm: more than it can")
    scratch.wom_reach[...] = reach
    return decided


def decide(batch: MarketBatch, scratch: BatchScratch) -> Decided:
    """Attitudes fade; who talks, posts and is noticed in every industry (:func:`decide_rows`
    over the batch's tasks, in parallel): ``[M, N]`` flags, the flagged customers of each task
    and industry, their counts ``[tasks, M]`` and how many of them talk ``[tasks, M]``
    (:class:`~sim.rules.flagged.Decided`). Counts the messages per firm, and keeps in
    ``batch.attitude_spans`` each task's range of the faded attitudes toward each firm and room
    for the range of those the listeners move to (``[B, F, 2]``, widened by :func:`_spread`):
    switching's bounds (``sim.rules.churn_skip.attitude_ranges``)."""
    cs, ws = batch.customer_state, batch.workspace
    task_market, task_lo, task_hi = batch.tasks
    n_tasks = len(task_market)
    flags = ws.pool("wom_flags", batch.M * batch.n_total, np.uint8)
    flags = flags.reshape(batch.M, batch.n_total)
    index_type = np.int32 if batch.n_total < 2**31 else np.int64
    listed = ws.pool("wom_listed", batch.M * batch.n_total, index_type)
    listed = listed.reshape(batch.M, batch.n_total)
    counts = np.zeros((n_tasks, batch.M), np.int64)
    talking = np.zeros((n_tasks, batch.M), np.int64)
    said = np.zeros((n_tasks, batch.F, 2))
    faded = np.empty((n_tasks, batch.F, 2), cs.attitude.dtype)
    args = (
        n_tasks,
        (task_market, task_lo, task_hi, batch.offsets[task_market]),
        batch.keys,
        batch.consts,
        cs.supplier,
        cs.satisfaction,
        ws.supplier,
        ws.failure,
        batch.firm_state.disclose,
        cs.attitude,
        faded,
        flags,
        listed,
        counts,
        talking,
        said,
    )
    run_tasks(serial_tasks, parallel_tasks, n_tasks, *args)
    moved_to = np.empty((batch.B, batch.F, 2))
    moved_to[...] = (np.inf, -np.inf)
    batch.attitude_spans = (faded, moved_to)
    total = np.zeros((batch.B, batch.F, 2))
    # whole counts: exact in any order
    add_task_rows(task_market, said.reshape(n_tasks, -1), total.reshape(batch.B, -1))
    scratch.wom_positive[...] = total[:, :, 0]
    scratch.wom_negative[...] = total[:, :, 1]
    return Decided(flags, listed, counts, talking)


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Spread this step's word of mouth over the network, then post reviews."""
    post(batch, _spread(batch, scratch))
