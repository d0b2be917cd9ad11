"""Phase 6, word of mouth over the network and public reviews.

Talking is U-shaped in satisfaction and heavier on the dissatisfied side (Anderson 1998), with
``n0`` the neutral point::

    p_talk = base_rate + positive_amplitude * ((S - n0) / (10 - n0)) ** 2     if S >= n0
    p_talk = base_rate + negative_amplitude * ((n0 - S) / n0) ** 2            if S <  n0
    valence v = (S - n0) / (10 - n0)  or  (S - n0) / n0,   in -1..1

A message about the speaker's supplier reaches each neighbour with probability ``reach``
(weak ties count as much as strong ones: Goldenberg, Libai & Muller 2001). A listener who hears
``c`` messages about firm f with mean valence ``v_bar`` moves its attitude
``A += (1 - (1 - influence) ** c) * (v_bar - A)``; attitudes fade by ``attitude_decay`` a week.
What the speaker experienced becomes what the listener has *heard* about the industry (it enters
the expectation target), and an attribute the speaker praises (X >= ``praise_threshold`` in a
positive message) lifts the listener's benchmark on it to ``benchmark_from_praise * X`` when the
attribute is a cross-industry one (the benchmark only enters expectations on those).

Reviews: a served customer posts with probability ``rate * (1 + extremity * |S - 5| / 5)``.
A firm's review score is a decayed mean of posted scores with a prior of ``prior_score`` worth two
reviews; the mean experience in its reviews feeds expectations.

Implementation: talking and posting are thinned Bernoulli trials (a uniform is drawn for every
customer, or only for those below the largest chance when it is small, and compared with each
customer's own chance); what listeners receive is aggregated per listener with ``bincount`` over
the deliveries of each industry, indexed compactly over the customers who heard anything. On the
numba engine (``model.engine``) the same draws go to compiled loops instead
(``sim.rules.word_of_mouth_kernels``: who talks, the fan-out over a CSR network, what the
listeners make of it), which give the same state to the bit; their temporaries are kept from
step to step in a pool per model.
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from sim.arrays import put_rows
from sim.network import Adjacency, AdjacencyLike
from sim.state import StepScratch
from sim.timebase import WEEKS_PER_YEAR, weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket

PRIOR_REVIEWS = 2.0


def talk_probability(satisfaction: np.ndarray, model: CustomerMarket) -> np.ndarray:
    """Chance per step that a customer with running satisfaction S talks about its supplier."""
    prm = model.params.word_of_mouth
    n0 = prm.neutral_point
    up = np.clip((satisfaction - n0) / max(10.0 - n0, 1e-9), 0.0, 1.0)
    down = np.clip((n0 - satisfaction) / max(n0, 1e-9), 0.0, 1.0)
    week = prm.base_rate + prm.positive_amplitude * up**2 + prm.negative_amplitude * down**2
    return weekly_rate_to_step(np.clip(week, 0.0, 1.0), model.steps_per_year)


def below_all(p: float, margin: float = 1e-6) -> float:
    """A bound on probabilities computed in float32 whose exact maximum is ``p``: ``p`` raised
    by a relative ``margin`` (float32 rounding is 6e-8), at most 1."""
    return min(1.0, p * (1.0 + margin) + 1e-12)


def talk_probability_max(model: CustomerMarket) -> float:
    """The largest chance to talk at any satisfaction (at 0 or 10)."""
    prm = model.params.word_of_mouth
    week = np.clip(prm.base_rate + max(prm.positive_amplitude, prm.negative_amplitude), 0.0, 1.0)
    return below_all(float(weekly_rate_to_step(week, model.steps_per_year)))


def valence(satisfaction: np.ndarray, neutral_point: float) -> np.ndarray:
    """Tone of a message, -1 (furious) .. 1 (delighted), 0 at the neutral point."""
    n0 = neutral_point
    return np.where(
        satisfaction >= n0,
        (satisfaction - n0) / max(10.0 - n0, 1e-9),
        (satisfaction - n0) / max(n0, 1e-9),
    )


def review_score(model: CustomerMarket) -> np.ndarray:
    """``[F]`` public review score of each firm on 0..10."""
    fs, prior = model.firm_state, model.params.reviews.prior_score
    return (prior * PRIOR_REVIEWS + fs.review_sum) / (PRIOR_REVIEWS + fs.review_weight)


def _kernels(model: CustomerMarket) -> ModuleType | None:
    """The compiled kernels when the model runs on the numba engine, else None (numpy)."""
    if getattr(model, "engine", "numpy") != "numba":
        return None
    from sim.rules import word_of_mouth_kernels  # imports numba: only on the numba engine

    return word_of_mouth_kernels


def _talkers(
    model: CustomerMarket, kernels: ModuleType | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """``(sender, firm, tone, offsets)`` of this step's messages, industry by industry (the
    messages of industry ``m`` are ``offsets[m]:offsets[m + 1]``)."""
    cs, prm, draws = model.customer_state, model.params.word_of_mouth, model.draws
    everyone = slice(0, model.n_customers)
    p_max = talk_probability_max(model)
    # the compiled selection computes the weekly chance itself: only at a step of a week
    compiled = kernels is not None and model.steps_per_year == WEEKS_PER_YEAR
    senders, firms, tones, offsets = [], [], [], [0]
    for m in range(len(model.industries)):
        sup = cs.supplier[m]
        cand, u = draws.below("talk", m, everyone, p_max)
        if compiled:
            ft = cs.satisfaction.dtype.type
            n0 = prm.neutral_point
            talkers, firm, tone = kernels.select_talkers(
                np.asarray(cand),
                np.asarray(u),
                sup,
                cs.satisfaction[m],
                ft(prm.base_rate),
                ft(prm.positive_amplitude),
                ft(prm.negative_amplitude),
                ft(n0),
                ft(max(10.0 - n0, 1e-9)),
                ft(max(n0, 1e-9)),
            )
        else:
            ok = sup[cand] >= 0
            cand, u = cand[ok], u[ok]
            sat = cs.satisfaction[m][cand]
            talk = u < talk_probability(sat, model)
            talkers = cand[talk]
            firm = sup[talkers]
            tone = valence(sat[talk], prm.neutral_point)
        senders.append(talkers)
        firms.append(firm)
        tones.append(tone)
        offsets.append(offsets[-1] + len(talkers))
    return np.concatenate(senders), np.concatenate(firms), np.concatenate(tones), offsets


def _fan_out(
    model: CustomerMarket, kernels: ModuleType | None, sender: np.ndarray, firm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(msg, recv, per_firm)``: the deliveries of the messages to the network (position of the
    message, receiver) and how many there are about each firm."""
    prm, adjacency, n_firms = model.params.word_of_mouth, model.adjacency, model.firm_state.n
    rng = model.draws.stream("reach")
    if model.adjacency_is_complete:
        msg, recv = adjacency.expand(
            sender, prm.reach, rng, max_receivers=prm.complete_graph_max_receivers
        )
    elif kernels is not None and isinstance(adjacency, Adjacency):
        # Adjacency.expand's draws (one uniform per (message, neighbour)), its loop compiled
        reach = float(prm.reach)
        if reach == 0.0 or len(sender) == 0:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(n_firms, np.int64)
        fan_out = int(adjacency.degree[sender].sum())
        uniforms = rng.random(fan_out) if reach < 1.0 else np.zeros(0)
        pool = _pool(model)
        message = pool("message", fan_out + 1, np.int64)
        receiver = pool("receiver", fan_out + 1, np.int64)
        per_firm = np.zeros(n_firms, np.int64)
        kept = kernels.expand_csr(
            sender,
            adjacency.indptr,
            adjacency.indices,
            uniforms,
            reach,
            firm,
            message,
            receiver,
            per_firm,
        )
        return message[:kept], receiver[:kept], per_firm
    else:
        msg, recv = adjacency.expand(sender, prm.reach, rng)
    return msg, recv, np.bincount(firm[msg], minlength=n_firms)


def _spread(model: CustomerMarket, scratch: StepScratch) -> None:
    cs, fs, prm, ws = (
        model.customer_state,
        model.firm_state,
        model.params.word_of_mouth,
        model.workspace,
    )
    n, n_firms = model.n_customers, fs.n
    kernels = _kernels(model)
    sender, firm, tone, offsets = _talkers(model, kernels)
    positive = tone > 0
    scratch.wom_positive = np.bincount(firm, weights=positive, minlength=n_firms)
    scratch.wom_negative = np.bincount(firm, weights=tone < 0, minlength=n_firms)
    msg, recv, per_firm = _fan_out(model, kernels, sender, firm)
    scratch.wom_reach = per_firm.astype(float)

    decay = weekly_rate_to_step(prm.attitude_decay, model.steps_per_year)
    cs.attitude *= cs.attitude.dtype.type(1.0 - decay)
    if len(recv) == 0:
        return
    bounds = np.searchsorted(msg, offsets)  # the deliveries of each industry's messages
    if kernels is not None:
        _listen_compiled(model, kernels, msg, recv, bounds, sender, firm, tone, offsets)
        return
    heard_rate = weekly_rate_to_step(model.params.expectations.heard_rate, model.steps_per_year)
    praise_share = model.params.expectations.benchmark_from_praise
    cross = np.flatnonzero(model.cross_mask)
    attitude = cs.attitude.reshape(-1)
    for m in range(len(model.industries)):
        lo, hi = bounds[m], bounds[m + 1]
        if lo == hi:
            continue
        mm, r = msg[lo:hi], recv[lo:hi]
        rank, who = _listeners(r, ws.rank)  # rank: the listener's position in ``who``
        heard_by = np.bincount(rank, minlength=len(who))

        # attitude toward each firm of the industry: c messages with mean valence v_bar
        mine = model.industry_firms[m]
        key = rank * len(mine) + np.searchsorted(mine, firm[mm])
        c_all = np.bincount(key, minlength=len(who) * len(mine))
        hit = np.flatnonzero(c_all)
        c = c_all[hit]
        tone_sum = np.bincount(key, weights=tone[mm], minlength=len(who) * len(mine))[hit]
        where = mine[hit % len(mine)] * n + who[hit // len(mine)]
        a = attitude[where]
        attitude[where] = a + _moved(prm.influence, c.max())[c] * (tone_sum / c - a)

        # what was heard about the industry: the mean of the experiences in the messages, as a
        # product of the (listener x message) delivery matrix with the messages' experiences
        said = np.take(cs.experience[m], sender[offsets[m] : offsets[m + 1]], axis=0)
        message = mm - offsets[m]
        # deliveries come grouped by message: they are the columns of a CSC matrix as they are
        per_message = np.bincount(message, minlength=len(said))
        indptr = np.zeros(len(said) + 1, np.int64)
        np.cumsum(per_message, out=indptr[1:])
        deliveries = sp.csc_array(
            (np.ones(len(r), said.dtype), rank, indptr), shape=(len(who), len(said))
        )
        mean = np.asarray(deliveries @ said, dtype=float)
        mean /= heard_by[:, None]
        old = np.take(cs.heard[m], who, axis=0)
        new = (mean - old) * heard_rate
        new += old
        np.putmask(new, np.isnan(old), mean)  # the first messages set it
        put_rows(cs.heard[m], who, new.astype(old.dtype))

        # praise raises the benchmark on cross-industry attributes
        if praise_share > 0 and len(cross):
            pos = positive[offsets[m] : offsets[m + 1]]
            for k in cross:
                praise = pos & (said[:, k] >= prm.praise_threshold)  # per message
                praised = praise[message]  # per delivery
                if not praised.any():
                    continue
                value = (praise_share * said[message[praised], k]).astype(cs.benchmark.dtype)
                best = np.full(len(who), -np.inf, value.dtype)
                np.maximum.at(best, rank[praised], value)  # same dtypes: numpy's fast path
                got = np.flatnonzero(best > -np.inf)
                flat = who[got] * cs.benchmark.shape[1] + k  # entries of the benchmark
                bench = cs.benchmark.reshape(-1)
                bench[flat] = np.maximum(bench[flat], best[got])


def _moved(influence: float, most: int) -> np.ndarray:
    """Share of the way an attitude moves after 0, 1, ..., ``most`` messages."""
    return 1.0 - (1.0 - influence) ** np.arange(most + 1)


def _listen_compiled(
    model: CustomerMarket,
    kernels: ModuleType,
    msg: np.ndarray,
    recv: np.ndarray,
    bounds: np.ndarray,
    sender: np.ndarray,
    firm: np.ndarray,
    tone: np.ndarray,
    offsets: list[int],
) -> None:
    """The listeners' side of ``_spread`` (attitudes, heard, praise) by the compiled kernels."""
    cs, prm, n_firms = model.customer_state, model.params.word_of_mouth, model.firm_state.n
    n, n_attr = model.n_customers, cs.experience.shape[2]
    ft = cs.experience.dtype
    heard_rate = float(
        weekly_rate_to_step(model.params.expectations.heard_rate, model.steps_per_year)
    )
    praise_share = model.params.expectations.benchmark_from_praise
    cross = np.flatnonzero(model.cross_mask) if praise_share > 0 else np.zeros(0, np.int64)
    positive = tone > 0
    pool = _pool(model)
    flags = pool("flags", n, np.uint8)  # zero when made, left zero by ``hear``
    stamp = pool("stamp", n, np.int32 if n < 2**31 else np.int64)
    width = n_attr + len(cross)  # a row of ``sums``: K zeros, then -inf per cross attribute
    sums_fill = np.concatenate([np.zeros(n_attr, ft), np.full(len(cross), -np.inf, ft)])
    # a listener hears at most one message per neighbour that talked in the industry
    most_neighbours = pool.max_degree(model.adjacency)
    for m in range(len(model.industries)):
        lo, hi = bounds[m], bounds[m + 1]
        if lo == hi:
            continue
        mine = model.industry_firms[m]
        local = np.zeros(n_firms, np.int64)
        local[mine] = np.arange(len(mine))
        first, last = offsets[m], offsets[m + 1]
        n_del = hi - lo
        moved = _moved(prm.influence, min(last - first, most_neighbours))
        _, most = kernels.hear(
            msg[lo:hi],
            recv[lo:hi],
            first,
            sender[first:last],
            local[firm[first:last]],
            len(mine),
            tone[first:last],
            positive[first:last],
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
            flags,
            stamp,
            pool("rank", n_del, stamp.dtype),
            pool("who", n_del + 1, np.int64),
            pool("tally", n_del * 2 * len(mine), np.float64),
            pool(f"sums{width}", n_del * width, ft, fill=sums_fill),
            pool("said", (last - first) * n_attr, ft),
        )
        if most >= len(moved):
            raise RuntimeError(f"a listener heard {most} messages about one firm: more than it can")


class _Pool:
    """Flat arrays for the compiled kernels' temporaries, kept from step to step and grown
    when too small: in a fresh array every 4 KiB page costs a page fault when first written
    (about 3 us on the project's machine, as much as the kernels' work at a million customers).
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._degree: tuple[AdjacencyLike, int] | None = None

    def max_degree(self, adjacency: AdjacencyLike) -> int:
        """The most neighbours a customer has in ``adjacency`` (computed once per network)."""
        if self._degree is None or self._degree[0] is not adjacency:
            self._degree = (adjacency, int(adjacency.degree.max(initial=0)))
        return self._degree[1]

    def __call__(
        self, name: str, size: int, dtype: type | np.dtype, fill: np.ndarray | None = None
    ) -> np.ndarray:
        """The first ``size`` items of the array called ``name`` (of type ``dtype``). A new
        array is zero, or ``fill`` repeated (``size`` must then be a multiple of its length)."""
        a = self._arrays.get(name)
        if a is None or a.size < size or a.dtype != dtype:
            period = 1 if fill is None else len(fill)
            capacity = -(-(size + size // 4 + 1024) // period) * period
            if fill is None:
                a = np.zeros(capacity, dtype)
            else:
                a = np.tile(np.asarray(fill, dtype), capacity // period)
            self._arrays[name] = a
        return a[:size]


_POOLS: weakref.WeakKeyDictionary[CustomerMarket, _Pool] = weakref.WeakKeyDictionary()


def _pool(model: CustomerMarket) -> _Pool:
    """The model's pool of kernel temporaries."""
    pool = _POOLS.get(model)
    if pool is None:
        pool = _POOLS[model] = _Pool()
    return pool


def _listeners(receiver: np.ndarray, stamp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rank, who)``: the distinct receivers ``who`` and each delivery's position in it.

    ``stamp`` is a reusable array of N integers: every receiver's entry is overwritten with the
    index of one of its deliveries (any one), which then stands for all of them; no pass over
    all N customers is needed.
    """
    d = np.arange(len(receiver))
    stamp[receiver] = d
    rep = stamp[receiver]  # the standing delivery of each delivery's receiver
    first = rep == d
    ids = np.cumsum(first) - 1
    return ids[rep], receiver[first]


def _review(model: CustomerMarket, scratch: StepScratch) -> None:
    cs, fs, prm = model.customer_state, model.firm_state, model.params.reviews
    draws, n, n_firms = model.draws, model.n_customers, fs.n
    keep = 1.0 - weekly_rate_to_step(prm.memory, model.steps_per_year)
    fs.review_sum *= keep
    fs.review_weight *= keep
    fs.review_attr *= keep
    top = np.clip(prm.rate * (1.0 + prm.extremity), 0.0, 1.0)
    p_max = below_all(float(weekly_rate_to_step(top, model.steps_per_year)))
    for m in range(len(model.industries)):
        cand, u = draws.below("review", m, slice(0, n), p_max)
        sup = cs.supplier[m][cand]
        ok = sup >= 0
        cand, u, sup = cand[ok], u[ok], sup[ok]
        sat = cs.satisfaction[m][cand]
        week = np.clip(prm.rate * (1.0 + prm.extremity * np.abs(sat - 5.0) / 5.0), 0.0, 1.0)
        post = u < weekly_rate_to_step(week, model.steps_per_year)
        rows, f = cand[post], sup[post]
        fs.review_sum += np.bincount(f, weights=cs.last_satisfaction[m][rows], minlength=n_firms)
        fs.review_weight += np.bincount(f, minlength=n_firms)
        x = np.take(cs.experience[m], rows, axis=0)
        for k in range(x.shape[1]):
            fs.review_attr[:, k] += np.bincount(f, weights=x[:, k], minlength=n_firms)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Spread this step's word of mouth over the network, then post reviews."""
    _spread(model, scratch)
    _review(model, scratch)
