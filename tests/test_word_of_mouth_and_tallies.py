"""Word of mouth and the customer tallies of the metrics, on crafted states and edge cases.

The compiled loops of ``sim.rules.word_of_mouth`` (who talks, the fan-out of messages, what
listeners make of them) and ``sim.metrics.tally`` are checked against plain numpy statements of
the same rules written here (the oracles), on crafted states with the edge cases: nobody talks,
one listener hearing every message, NaN heard values and benchmarks, a customer at the neutral
point, a complete graph, unserved customers and firms of another industry. The whole step is
checked rule by rule against the agent-by-agent reference in tests/test_reference.py.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import sim
import sim.metrics
from sim.draws import CODES, TALK, KeyedDraws, step_keys, uniform
from sim.network import Adjacency
from sim.params.stacked import StackedParams
from sim.rules import constants, listening, reviews, word_of_mouth
from sim.rules.fan_out import expand_csr, plan_fan_out
from sim.rules.flagged import BLAMES, POSTS, PRAISES, TALKS
from sim.state import BatchScratch

# -- crafted states -------------------------------------------------------------------------


def crafted_market(kind: str = "watts_strogatz") -> sim.CustomerMarket:
    """A 40-customer market (three industries, two firms each) to write states into."""
    overrides = {"market.customers": 40, "network.kind": kind}
    if kind == "watts_strogatz":
        overrides["network.k"] = 4
    return sim.CustomerMarket("baseline", rng=2, overrides=overrides)


def spread(model: sim.CustomerMarket) -> BatchScratch:
    """``_spread`` on the market's state (its batch of one); returns the step's scratch."""
    batch = model.batch
    scratch = BatchScratch(1, batch.F, np.array([True]))
    word_of_mouth._spread(batch, scratch)
    return scratch


def everyone_talks(model: sim.CustomerMarket) -> None:
    """A chance to talk of 1 whatever the satisfaction: every served customer with an S talks
    (a NaN S never does)."""
    model.params.word_of_mouth.base_rate = 1.0


def served_state(model: sim.CustomerMarket) -> np.ndarray:
    """Give everyone a supplier in every industry, experiences, satisfactions; return the
    customers' suppliers."""
    cs, rng = model.customer_state, np.random.default_rng(5)
    m_ind, n, k = cs.experience.shape
    for m, firms in enumerate(model.industry_firms):
        cs.supplier[m] = firms[np.arange(n) % len(firms)]
    cs.experience[:] = rng.uniform(0.5, 1.0, (m_ind, n, k)).astype(cs.experience.dtype)
    cs.satisfaction[:] = rng.uniform(0.0, 10.0, (m_ind, n)).astype(cs.satisfaction.dtype)
    cs.attitude[:] = rng.uniform(-1, 1, cs.attitude.shape).astype(cs.attitude.dtype)
    return cs.supplier


def test_nobody_talks() -> None:
    model = crafted_market()
    served_state(model)
    prm = model.params.word_of_mouth
    prm.base_rate = prm.positive_amplitude = prm.negative_amplitude = 0.0  # a chance of 0
    before = model.customer_state.heard.copy()
    sa = spread(model)
    assert sa.wom_reach.sum() == 0 and sa.wom_positive.sum() == 0
    assert np.array_equal(model.customer_state.heard, before, equal_nan=True)


def test_one_listener_hears_every_message_with_nan_heard_values() -> None:
    """A star: customer 0 hears all 39 others, who all talk, about both firms of each industry;
    NaN heard values are set by the first messages, others move toward them; a NaN benchmark
    stays NaN, the others rise with praise."""
    model = crafted_market()
    n = 40
    model.adjacency = Adjacency.from_edges(np.zeros(n - 1, int), np.arange(1, n), n)
    model.params.word_of_mouth.reach = 1.0
    served_state(model)
    cs = model.customer_state
    cs.satisfaction[:, 1:] = 9.5  # delighted: positive messages
    cs.satisfaction[0, 5] = model.params.word_of_mouth.neutral_point  # neutral: tone 0
    cs.satisfaction[1, 7] = np.nan  # no S: never talks
    cs.satisfaction[:, 0] = np.nan  # the center never talks
    cs.experience[:, 1:, :] = 0.9  # praise on every cross attribute
    cs.heard[:] = np.nan
    cs.heard[2, 0] = 0.25  # one industry's heard value is set before
    cross = np.flatnonzero(model.cross_mask)
    cs.benchmark[:] = 0.1
    cs.benchmark[0, cross[0]] = np.nan
    everyone_talks(model)  # everyone but the center talks
    attitude = cs.attitude[:, 0].copy()
    heard_rate = model.params.expectations.heard_rate
    sa = spread(model)
    assert sa.wom_reach.sum() > 3 * 30  # customer 0 heard (nearly) every message
    assert np.isfinite(cs.heard[:, 0]).all()
    assert np.allclose(cs.heard[[0, 1], 0], 0.9)  # NaN: set to the mean of the messages
    assert np.allclose(cs.heard[2, 0], 0.25 + heard_rate * (0.9 - 0.25))  # moved toward it
    assert np.isnan(cs.benchmark[0, cross[0]])  # a NaN benchmark stays NaN
    praise = np.float32(model.params.expectations.benchmark_from_praise) * np.float32(0.9)
    assert cs.benchmark[0, cross[1]] == praise
    assert (cs.benchmark[1:] == 0.1).all()  # the center said nothing
    assert (cs.attitude[:, 0] != attitude).all()
    assert (cs.attitude[:, 0] > attitude).all()  # delighted messages only


def test_partial_reach_on_a_ring_matches() -> None:
    model = crafted_market()
    served_state(model)
    model.customer_state.heard[:, ::3] = np.nan
    model.params.word_of_mouth.base_rate = 0.3
    full = copy.deepcopy(model)
    full.params.word_of_mouth.reach = 1.0
    model.params.word_of_mouth.reach = 0.5
    partial, everyone = spread(model).wom_reach.sum(), spread(full).wom_reach.sum()
    assert 0 < partial < everyone  # the same talkers; a message reaches about half the ring


def test_complete_graph_matches() -> None:
    model = crafted_market("complete")
    assert model.adjacency_is_complete
    served_state(model)
    model.params.word_of_mouth.base_rate = 0.25
    cap = model.params.word_of_mouth.complete_graph_max_receivers
    sa = spread(model)
    talkers = sa.wom_positive.sum() + sa.wom_negative.sum()
    assert 0 < sa.wom_reach.sum() <= cap * (talkers + (sa.wom_positive == 0).sum())


def talk_probability(sat: np.ndarray, prm: SimpleNamespace) -> np.ndarray:
    """The oracle: the weekly chance to talk of docs/MODEL.md 7.6, in numpy."""
    n0 = prm.neutral_point
    up = np.clip((sat - n0) / (10.0 - n0), 0.0, 1.0)
    down = np.clip((n0 - sat) / n0, 0.0, 1.0)
    return np.clip(
        prm.base_rate + prm.positive_amplitude * up**2 + prm.negative_amplitude * down**2, 0, 1
    )


def valence(sat: np.ndarray, n0: float) -> np.ndarray:
    """The oracle: a message's tone."""
    return np.where(sat >= n0, (sat - n0) / (10.0 - n0), (sat - n0) / n0)


def wom_constants(tone: bool = True, **values: float) -> np.recarray:
    """The kernels' constants of one market of the crafted shape, with word-of-mouth values
    (``tone``: ``mechanisms.word_of_mouth_tone``)."""
    params = crafted_market().params.model_copy(deep=True)
    for name, value in values.items():
        setattr(params.word_of_mouth, name, value)
    params.mechanisms.word_of_mouth_tone = tone
    return constants.build(StackedParams([params]), 52, np.float32)


@pytest.mark.parametrize("tone", [True, False], ids=["tone of satisfaction", "tone drawn"])
def test_select_talkers_matches_talk_probability_and_valence(tone: bool) -> None:
    """Every float32 satisfaction around the neutral point and the ends, NaN and unserved rows,
    against each customer's own keyed uniform. With ``mechanisms.word_of_mouth_tone`` off the
    same customers talk, but each message's tone is ``2u - 1`` of the customer's own ``"tone"``
    uniform, whatever its satisfaction, and the praise and blame counted follow that tone."""
    prm = SimpleNamespace(
        base_rate=0.03, positive_amplitude=0.12, negative_amplitude=0.3, neutral_point=6.3
    )
    consts = wom_constants(tone, **vars(prm))
    n0 = np.float32(prm.neutral_point)
    sat = np.concatenate(
        [
            np.linspace(0, 10, 2001, dtype=np.float32),
            n0 + np.arange(-50, 51, dtype=np.float32) * np.spacing(n0),
            [np.nan, 0.0, 10.0, 6.3],
        ]
    ).astype(np.float32)
    n = len(sat)
    supplier = np.where(np.arange(n) % 7 == 3, -1, np.arange(n) % 4).astype(np.int32)
    chance = talk_probability(sat, prm)
    draws = KeyedDraws(13)
    draws.step = 4
    keys = step_keys(np.array([draws.seed], np.uint64), draws.step, CODES, 1)
    u = draws.uniform("talk", 0, slice(0, n))
    assert keys[0, TALK, 0] == draws.key("talk", 0)
    talk = (u < chance) & (supplier >= 0)
    out = [np.empty(n + 1, np.int64) for _ in range(3)] + [np.empty(n + 1, np.float32)]
    said = np.zeros((4, 2))
    flags = np.zeros((1, n), np.uint8)
    listed, counts = np.zeros((1, n), np.int32), np.zeros((1, 1), np.int64)
    talking = np.zeros((1, 1), np.int64)
    attitude = np.random.default_rng(3).uniform(-1, 1, (4, n)).astype(np.float32)
    before, span = attitude.copy(), np.empty((4, 2), np.float32)
    word_of_mouth.decide_rows(
        0,
        n,
        0,
        keys[0],
        consts[0],
        supplier[None],
        sat[None],
        np.full((1, n), -1, np.int32),  # nobody delivered to: no notices
        np.zeros((1, n), bool),
        np.zeros(4, bool),
        attitude,
        span,
        flags,
        listed,
        counts[0],
        talking[0],
        said,
    )
    # the attitudes faded, and the range of each firm's row taken as they faded
    keep = consts[0].attitude_keep
    assert 0 < keep < 1 and consts[0].wom_on
    np.testing.assert_array_equal(attitude, before * keep)
    np.testing.assert_array_equal(span, np.stack([attitude.min(axis=1), attitude.max(axis=1)], 1))
    trust = np.random.default_rng(5).random((4, n)).astype(np.float32)
    out.append(np.empty(n + 1, np.float32))
    degree = np.empty(n + 1, np.int64)
    indptr = np.concatenate([[0], np.cumsum(np.arange(n) % 5)])  # customer i: i % 5 neighbours
    count = word_of_mouth.select_talkers(
        0,
        np.array([0]),
        np.array([0]),
        counts,
        talking,
        listed[0],
        consts,
        keys,
        np.array([0, n]),
        flags[0],
        supplier,
        sat,
        trust,
        indptr,
        *out,
        degree,
    )
    talkers, market, firm, said_tone, believed = (a[:count] for a in out)
    assert np.array_equal(talkers, np.flatnonzero(talk)) and (market == 0).all()
    assert count == talking[0, 0]  # decide_rows counts the talkers among the flagged
    assert np.array_equal(firm, supplier[talk])
    assert np.array_equal(believed, trust[firm, talkers])  # what each message carries
    assert np.array_equal(degree[:count], talkers % 5)  # what the fan-out's plan adds
    if tone:
        want = valence(sat[talk], prm.neutral_point)
    else:
        want = 2.0 * draws.uniform("tone", 0, slice(0, n))[talk] - 1.0
        # independent of satisfaction: about as many positive as negative among the talkers
        assert abs(np.mean(want > 0) - 0.5) < 0.1
        assert abs(np.corrcoef(want, np.nan_to_num(sat[talk]))[0, 1]) < 0.15
    np.testing.assert_allclose(said_tone, want, rtol=2e-7)
    tone = said_tone
    assert tone.dtype == np.float32 and 0 < talk.sum() < n
    flagged = listed[0, : counts[0, 0]]  # every flagged customer, in order, none other
    assert np.array_equal(flagged, np.flatnonzero(flags[0])) and counts[0, 0] < n
    assert np.array_equal(said[:, 0], np.bincount(firm[tone > 0], minlength=4))
    assert np.array_equal(said[:, 1], np.bincount(firm[tone < 0], minlength=4))


def in_runs(runs: np.ndarray) -> np.ndarray:
    """The entries of ``expand_csr``'s runs (``[tasks, 2]``: first entry, length), in order."""
    return np.concatenate([np.arange(a, a + n) for a, n in runs]).astype(np.int64)


@pytest.mark.parametrize("n_tasks", [1, 3, 7])
@pytest.mark.parametrize("reach", [0.0, 0.4, 1.0])
def test_expand_csr_keeps_each_delivery_by_its_keyed_uniform(reach: float, n_tasks: int) -> None:
    rng = np.random.default_rng(3)
    adj = Adjacency.from_edges(rng.integers(0, 60, 300), rng.integers(0, 60, 300), 61)  # 60 alone
    senders = np.array([5, 5, 60, 0, 59, 17, 60, 33], np.int64)  # repeats, an isolated sender
    firm = np.array([0, 1, 2, 3, 0, 1, 2, 3], np.int64)
    draws = KeyedDraws(7)
    keys = step_keys(np.array([draws.seed], np.uint64), draws.step, CODES, 2)
    # the oracle: message i reaches the j-th neighbour of its sender s when the uniform of
    # column j of s in its industry's "reach" stream is below reach
    want_message, want_receiver = [], []
    for i, s in enumerate(senders):
        row = adj.indices[adj.indptr[s] : adj.indptr[s + 1]]
        u = draws.uniform("reach", 1, [s], width=max(len(row), 1))[0]
        for j, r in enumerate(row):
            if reach >= 1 or u[j] < reach:
                want_message.append(i)
                want_receiver.append(r)
    fan_out = int(adj.degree[senders].sum())
    message, receiver = np.empty(fan_out + 1, np.int64), np.empty(fan_out + 1, np.int64)
    per_firm = np.full((1, 4), 99.0)
    runs = expand_csr(
        senders,
        np.zeros(len(senders), np.int64),
        1,
        np.array([0, 61]),
        keys,
        wom_constants(reach=reach),
        adj.indptr,
        adj.indices,
        firm,
        message,
        receiver,
        per_firm,
        plan_fan_out(senders, adj.indptr, n_tasks),  # 7: some of one message, one of none
    )
    # planned from the senders' numbers of neighbours (the talkers' list has them): the same
    np.testing.assert_array_equal(
        plan_fan_out(senders, adj.indptr, n_tasks, degree=adj.degree[senders].astype(np.int64)),
        plan_fan_out(senders, adj.indptr, n_tasks),
    )
    taken = in_runs(runs)  # the tasks' runs, one after another
    assert np.array_equal(message[taken], want_message)
    assert np.array_equal(receiver[taken], want_receiver)
    assert np.array_equal(per_firm[0], 99 + np.bincount(firm[want_message], minlength=4))
    if reach == 0:
        assert len(taken) == 0


def test_moved_table_is_the_same_whatever_its_length() -> None:
    """The table is computed up to a bound (the most messages a listener can hear): the
    entries of two bounds that they share must be the same numbers, market by market."""
    influence = np.array([[0.2], [0.07], [0.9]])
    long = word_of_mouth.moved_table(influence, 300)
    for most in (0, 1, 2, 3, 7, 8, 9, 16, 31, 64, 299):
        assert np.array_equal(word_of_mouth.moved_table(influence, most), long[:, : most + 1])


# -- tallies --------------------------------------------------------------------------------


def tally_oracle(model: sim.CustomerMarket) -> dict:
    """The per-firm tallies of ``sim.metrics.tally_customers``, stated in numpy."""
    cs, n_firms = model.customer_state, model.firm_state.n
    out = {name: np.zeros(n_firms) for name in sim.metrics.TALLIES}
    anywhere = (cs.supplier >= 0).any(axis=0)
    for m, firms in enumerate(model.industry_firms):
        for f in firms:
            mine = cs.supplier[m] == f
            s = cs.satisfaction[m][mine].astype(float)
            answer = s + cs.recommend[mine]
            made = cs.complaints[m][mine]
            out["customers"][f] = mine.sum()
            out["rated"][f] = np.isfinite(s).sum()
            out["promoters"][f] = (answer >= 8.5).sum()
            out["detractors"][f] = (answer < 6.5).sum()
            out["complainers"][f] = (made > 0).sum()
            out["satisfaction"][f] = np.nansum(np.fmax(s, 0.0))
            out["trust"][f] = cs.trust[f][mine].astype(float).sum()
            out["commitment"][f] = cs.commitment[m][mine].astype(float).sum()
            out["control_mutuality"][f] = (cs.answered[m][mine] / np.maximum(made, 1)).sum()
            out["mindset"][f] = cs.attitude[f][mine].astype(float).sum()  # own customers only
    out["attitude"] = cs.attitude.astype(float).sum(axis=1)  # everyone, customer or not
    out["served_anywhere"] = int(anywhere.sum())
    return out


def tallies_both_ways(model: sim.CustomerMarket) -> tuple[dict, dict]:
    """The oracle's tallies, and the package's of the market (a batch of one)."""
    got = sim.metrics.tally_customers(model.batch, np.array([True]))
    return tally_oracle(model), {name: value[0] for name, value in got.items()}


def assert_same_tallies(want: dict, got: dict) -> None:
    assert got.keys() == want.keys()
    assert got["served_anywhere"] == want["served_anywhere"]
    for name in ("customers", "rated", "promoters", "detractors", "complainers"):
        assert np.array_equal(got[name], want[name]), name
    for name in ("satisfaction", "trust", "commitment", "control_mutuality", "mindset", "attitude"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_tally_matches_the_oracle_on_a_stepped_market() -> None:
    model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 5000})
    model.run(8)
    want, got = tallies_both_ways(model)
    assert_same_tallies(want, got)
    assert want["complainers"].sum() > 0 and want["promoters"].sum() > 0


def test_tally_matches_the_oracle_on_crafted_customers() -> None:
    """Unserved customers, no S (NaN), answers beyond 0..10, thresholds hit exactly,
    complaints answered or not, a supplier from another industry (counted for nobody, but
    served), and an industry without firms."""
    from sim.batch import industry_tables

    model = crafted_market()
    cs = model.customer_state
    n = 40
    served_state(model)
    cs.supplier[0, :5] = -1
    cs.supplier[:, 5] = -1  # served nowhere
    cs.supplier[1, 6] = model.industry_firms[0][0]  # a firm of another industry
    cs.satisfaction[0, 7:10] = np.nan
    cs.recommend[:] = 0.0
    cs.recommend[10:12] = (20.0, -20.0)
    cs.satisfaction[2, 12:16] = (8.5, 6.5, np.nextafter(np.float32(6.5), 0), 0.0)
    cs.complaints[:, 16:20] = (0, 1, 3, 2)
    cs.answered[:, 16:20] = (0, 1, 2, 0)
    assert_same_tallies(*tallies_both_ways(model))
    for firms in (model.industry_firms, model.batch.industry_firms):
        firms[2] = np.zeros(0, np.int64)  # no firm in the third industry
    batch = model.batch  # its industry tables are fixed for a batch: rebuilt for the new firms
    batch.industry_sizes, batch.industry_members, batch.belongs = industry_tables(
        batch.industry_firms, batch.F
    )
    want, got = tallies_both_ways(model)
    assert_same_tallies(want, got)
    assert want["served_anywhere"] == n - 1


def test_tally_kernel_is_a_running_sum() -> None:
    """``tally`` adds to ``total``: calling it twice doubles every column."""
    model = crafted_market()
    served_state(model)
    cs = model.customer_state
    belongs = np.zeros((3, model.firm_state.n), bool)
    for m, firms in enumerate(model.industry_firms):
        belongs[m, firms] = True
    f = model.firm_state.n
    total = np.zeros((1, f, len(sim.metrics.TALLIES)))
    served = np.zeros(1, np.int64)
    args = (
        np.array([0, 40]),
        np.array([True]),
        cs.supplier,
        cs.satisfaction,
        cs.complaints,
        cs.answered,
        cs.trust,
        cs.commitment,
        cs.recommend,
        cs.attitude,
        belongs,
        np.float32(8.5),
        np.float32(6.5),
        total,
        served,
    )
    sim.metrics.tally(*args)
    assert served[0] == 40
    once = total.copy()
    sim.metrics.tally(*args)
    np.testing.assert_array_equal(total, 2 * once)
    assert served[0] == 80
    assert once[0, :, 0].sum() == 3 * 40


@pytest.mark.parametrize("tone", [True, False], ids=["tone of satisfaction", "tone drawn"])
@pytest.mark.parametrize("steps_per_year", [52, 12])
def test_draws_block_is_the_customer_by_customer_rule(steps_per_year: int, tone: bool) -> None:
    """The vectorised draws of who talks and posts (``draws_block``, branch-free over a block,
    a loop of its own for weekly steps) give each customer the bits the rules give it one by
    one: talks when its talk uniform is below ``per_step(talk_chance(valence(S)))``, posts
    likewise, praises or blames by the valence's sign (by the sign of ``2u - 1``, its tone
    uniform, with ``mechanisms.word_of_mouth_tone`` off); nothing for the unserved (NaN S: not
    rated, never talks)."""
    model = sim.CustomerMarket(
        "baseline",
        rng=4,
        overrides={
            "market.customers": 3000,
            "steps_per_year": steps_per_year,
            "mechanisms.word_of_mouth_tone": tone,
        },
    )
    p = model.batch.consts[0]
    assert (p.step_power == 1.0) == (steps_per_year == 52)
    rng = np.random.default_rng(9)
    n = 3000
    supplier = rng.integers(-1, 2, n).astype(np.int32)
    satisfaction = rng.uniform(0.0, 10.0, n).astype(np.float32)
    satisfaction[rng.random(n) < 0.1] = np.nan
    flags = np.zeros(n, np.uint8)
    talk_key, review_key, tone_key, me = np.uint64(12345), np.uint64(67890), np.uint64(555), 17
    word_of_mouth.draws_block(
        supplier, satisfaction, flags, talk_key, review_key, tone_key, me, p, n
    )
    w = word_of_mouth
    want = np.zeros(n, np.uint8)
    for j in range(n):
        if supplier[j] < 0:
            continue
        s = satisfaction[j]
        v = w.valence(s, p.neutral, p.up_scale, p.down_scale)
        talk = w.per_step(w.talk_chance(v, p.talk_base, p.talk_up, p.talk_down), p.step_power)
        week = reviews.review_chance(s, p.review_rate, p.extremity, p.five)
        post = w.per_step(week, p.step_power)
        said = v if tone else 2.0 * uniform(tone_key, me + j) - 1.0
        if p.wom_on and uniform(talk_key, me + j) < talk:
            want[j] |= TALKS | (PRAISES if said > 0 else BLAMES if said < 0 else 0)
        if p.reviews_on and uniform(review_key, me + j) < post:
            want[j] |= POSTS
    np.testing.assert_array_equal(flags, want)
    assert (want & TALKS).sum() > 50 and (want & POSTS).sum() > 5  # both drawn, some kept
    assert not (want[supplier < 0]).any()


# -- hearing in tasks over ranges of customers -----------------------------------------------


@contextmanager
def kernel_threads(n: int) -> Iterator[None]:
    """The parallel kernels on at most ``n`` threads (``sim.jit.use_threads``), then as before."""
    from sim.jit import threads, use_threads

    before = threads()
    use_threads(n)
    try:
        yield
    finally:
        use_threads(before)


def step_wrapping(name: str, record: Callable[..., Any]) -> None:
    """Step a 4,000-customer baseline market twice, then once more with word of mouth's
    ``name`` (``hear``, ``expand_csr``) called through ``record(real, *args, **kwargs)``."""
    real = getattr(word_of_mouth, name)
    model = sim.CustomerMarket("baseline", rng=3, overrides={"market.customers": 4000})
    model.run(2)
    setattr(word_of_mouth, name, lambda *args, **kwargs: record(real, *args, **kwargs))
    try:
        model.step()
    finally:
        setattr(word_of_mouth, name, real)


@pytest.mark.parametrize("threads", [1, 2])
def test_hearing_in_tasks_moves_the_same_state(threads: int) -> None:
    """``hear`` over 1, 2, 3 or 7 ranges of customers, one after another (one thread) or as
    parallel tasks (two), leaves the same state to the bit and gives the same counts and the
    same ranges of the attitudes the listeners moved to: each task takes the deliveries to its
    own customers in message order, and a listener's state is its own. Its scratch is left as
    it found it. The deliveries cut into three runs with entries between them that are no
    deliveries (as the fan-out's tasks leave theirs, ``runs``) move the same state as the
    deliveries one after another."""
    import inspect

    calls = []

    def keep(real, *args, runs):
        calls.append([a.copy() if isinstance(a, np.ndarray) else a for a in (*args, runs)])
        return real(*args, runs=runs)

    step_wrapping("hear", keep)
    assert len(calls) == 3
    names = list(inspect.signature(listening.hear).parameters)
    names = [name for name in names if name != "n_tasks"]
    state = ("heard", "benchmark", "attitude", "trust", "weights", "flags", "tally", "sums", "span")
    with kernel_threads(threads):
        for call in calls:
            runs = call[-1]  # one run at 4,000 customers (the fan-out's single task)
            taken = in_runs(runs)
            message, receiver = call[0][taken], call[1][taken]
            # the same deliveries in three runs, seven entries between them that are not
            # deliveries: customer 0 hearing the first message, if they were read
            cut = [0, len(taken) // 3, 2 * len(taken) // 3, len(taken)]
            gapped = [
                np.concatenate(
                    [np.r_[x[a:b], np.zeros(7, x.dtype)] for a, b in itertools.pairwise(cut)]
                )
                for x in (message, receiver)
            ]
            three = np.array([[a + 7 * i, b - a] for i, (a, b) in
                              enumerate(itertools.pairwise(cut))], np.int64)  # fmt: skip
            results = []
            for n_tasks, gaps in ((1, True), (2, True), (3, True), (7, True), (2, False)):
                args = dict(
                    zip(
                        names,
                        [x.copy() if isinstance(x, np.ndarray) else x for x in call],
                        strict=True,
                    )
                )
                if gaps:
                    args["message"], args["receiver"], args["runs"] = *gapped, three
                else:  # every entry a delivery
                    args["message"], args["receiver"], args["runs"] = message, receiver, None
                counts = listening.hear(**args, n_tasks=n_tasks)
                results.append((counts, [args[name] for name in state]))
            assert results[0][0][0] > 500  # listeners enough for every range to hold some
            for counts, arrays in results[1:]:
                assert counts == results[0][0]
                for got, want in zip(arrays, results[0][1], strict=True):
                    np.testing.assert_array_equal(got, want)
            given = dict(zip(names, call, strict=True))
            for name in ("heard", "attitude", "trust", "span"):  # the listeners moved
                moved = results[0][1][state.index(name)]
                assert not np.array_equal(given[name], moved, equal_nan=True)
            for name in ("flags", "tally", "sums"):  # the scratch as found
                np.testing.assert_array_equal(results[0][1][state.index(name)], given[name])


@pytest.mark.parametrize("threads", [1, 2])
def test_fan_out_in_tasks_gives_the_same_deliveries(threads: int) -> None:
    """``expand_csr`` over 1, 2, 3 or 7 ranges of messages, one after another (one thread) or
    as parallel tasks (two), gives the deliveries of the step to the bit (the messages, their
    receivers, their number and the counts per firm), on the arguments of a step of a market
    with reach below 1, and again with some senders' neighbours taken away (degree 0): the
    tasks' runs taken one after another."""
    import inspect

    calls = []

    def keep(real, *args):
        call = [a.copy() if isinstance(a, np.ndarray) else a for a in args[:-1]]  # but starts
        runs = real(*args)
        taken = in_runs(runs)
        calls.append((call, len(taken), args[9][taken], args[10][taken], args[11].copy()))
        return runs

    step_wrapping("expand_csr", keep)
    assert len(calls) == 3
    names = list(inspect.signature(expand_csr).parameters)[:-1]  # all but starts
    cases = []
    for call, kept, message, receiver, per_firm in calls:
        given = dict(zip(names, call, strict=True))
        assert (given["consts"].reach < 1).all()  # some deliveries dropped by their draw
        cases.append((given, (kept, message, receiver, per_firm)))
        # every third sender without neighbours: its messages reach nobody
        indptr, senders = given["indptr"], given["senders"]
        degree = np.diff(indptr)
        alone = np.zeros(len(degree), bool)
        alone[senders[::3]] = True
        keep_edge = ~np.repeat(alone, degree)
        thinned = dict(given)
        thinned["indices"] = given["indices"][keep_edge]
        thinned["indptr"] = np.concatenate([[0], np.cumsum(np.where(alone, 0, degree))])
        cases.append((thinned, None))
    with kernel_threads(threads):
        for given, want in cases:
            results = []
            for n_tasks in (1, 2, 3, 7):
                args = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in given.items()}
                starts = plan_fan_out(args["senders"], args["indptr"], n_tasks)
                assert starts[-1] == np.diff(args["indptr"])[args["senders"]].sum()
                taken = in_runs(expand_csr(**args, starts=starts))
                results.append(
                    (len(taken), args["message"][taken], args["receiver"][taken], args["per_firm"])
                )
            if want is not None:
                results.insert(0, want)  # the step's own deliveries
            assert len(given["senders"]) > 100 and results[0][0] > 200  # some in every range
            pairs = np.diff(given["indptr"])[given["senders"]]
            assert results[0][0] < pairs.sum()  # reach < 1: not every pair delivered
            assert want is not None or (pairs == 0).any()
            for got in results[1:]:
                assert got[0] == results[0][0]
                for g, w in zip(got[1:], results[0][1:], strict=True):
                    np.testing.assert_array_equal(g, w)
            assert (np.diff(results[0][1]) >= 0).all()


# -- the per-firm sums in order, the customer counts ---------------------------------------------


def test_tally_adds_each_firms_customers_in_order_block_by_block() -> None:
    """Each firm's float sums are, for each block of ``TALLY_BLOCK`` customers, its customers'
    values added one after another in customer order from zero, and the blocks' sums added in
    block order: an order that does not depend on the threads (checked over three blocks)."""
    from sim.tallies import TALLY_BLOCK

    n = TALLY_BLOCK * 2 + 123
    model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": n})
    model.run(3)
    cs = model.customer_state
    got = sim.metrics.tally_customers(model.batch, np.array([True]))
    for m, firms in enumerate(model.industry_firms):
        for f in firms:
            mine = np.flatnonzero(cs.supplier[m] == f)
            trust = commitment = 0.0
            for lo in range(0, n, TALLY_BLOCK):
                block_trust = block_commitment = 0.0
                for i in mine[(mine >= lo) & (mine < lo + TALLY_BLOCK)]:
                    block_trust += float(cs.trust[f, i])
                    block_commitment += float(cs.commitment[m, i])
                trust += block_trust
                commitment += block_commitment
            assert got["trust"][0, f] == trust
            assert got["commitment"][0, f] == commitment
            assert got["customers"][0, f] == len(mine)


def test_the_tally_as_parallel_tasks_equals_the_serial_tally() -> None:
    """The tally with its blocks as parallel tasks (large markets, two threads) gives the
    serial tally's bits, over markets of several blocks, one of which does not record."""
    from sim.batch import MarketBatch
    from sim.jit import threads, use_threads
    from sim.tallies import DETRACTOR, PROMOTER, TALLIES, TALLY_BLOCK, parallel_tally, tally

    sizes = (2 * TALLY_BLOCK + 77, TALLY_BLOCK + 5, 3 * TALLY_BLOCK)
    markets = [
        sim.CustomerMarket("baseline", rng=s, overrides={"market.customers": n})
        for s, n in enumerate(sizes)
    ]
    batch = MarketBatch(markets)
    batch.run(4)
    cs = batch.customer_state
    ft = cs.satisfaction.dtype.type
    recording = np.array([True, False, True])
    belongs = batch.belongs
    out, before = [], threads()
    use_threads(2)
    for kernel in (tally, parallel_tally):
        total = np.zeros((batch.B, batch.F, len(TALLIES)))
        served = np.zeros(batch.B, np.int64)
        kernel(batch.offsets, recording, cs.supplier, cs.satisfaction, cs.complaints, cs.answered,
               cs.trust, cs.commitment, cs.recommend, cs.attitude, belongs, ft(PROMOTER),
               ft(DETRACTOR), total, served)  # fmt: skip
        out.append((total, served))
    use_threads(before)
    (serial, served), (parallel, served_too) = out
    assert serial.tobytes() == parallel.tobytes()  # to the bit
    np.testing.assert_array_equal(served, served_too)
    assert (serial[1] == 0).all() and served[1] == 0  # the market that does not record
    assert (serial[[0, 2], :, 0].sum(axis=1) > 0).all() and (served[[0, 2]] > 0).all()


def test_cohort_counts_in_parallel_tasks_equal_the_serial_counts() -> None:
    """Each firm's customers by the year they joined it, counted over ranges of customers that
    cross the markets' bounds as parallel tasks, are the serial counts; and they are the
    customers' own counts (a numpy statement)."""
    from sim.batch import MarketBatch
    from sim.tallies import cohort_counts, parallel_cohort_counts

    markets = [
        sim.CustomerMarket("baseline", rng=s, overrides={"market.customers": n})
        for s, n in ((1, 900), (2, 1300), (3, 700))
    ]
    batch = MarketBatch(markets)
    batch.run(60)  # into the run's second year: joiners in two cohorts
    cs, spy = batch.customer_state, batch.steps_per_year
    want = np.zeros((batch.B, batch.F, 3), np.int64)
    cohort_counts(batch.offsets, cs.supplier, cs.joined, spy, want)
    for b in range(batch.B):
        lo, hi = batch.offsets[b], batch.offsets[b + 1]
        for m in range(batch.M):
            f, j = cs.supplier[m, lo:hi], cs.joined[m, lo:hi]
            keep = (f >= 0) & (j >= 0)
            expect = np.zeros((batch.F, 3), np.int64)
            np.add.at(expect, (f[keep], j[keep] // spy), 1)
            assert (want[b][batch.belongs[m]] == expect[batch.belongs[m]]).all()
    assert (want[:, :, 1] > 0).any() and (want[:, :, 0] > 0).any()
    with kernel_threads(2):
        for task in (1, 257, 1000, 5000):
            got = np.zeros_like(want)
            parallel_cohort_counts(batch.offsets, cs.supplier, cs.joined, spy, got, task)
            np.testing.assert_array_equal(got, want)


def test_customers_counted_in_tasks_are_each_firms_customers() -> None:
    """``count_customers`` over the batch's tasks (one thread, or parallel tasks on two) gives
    each firm of every live market its current customers (a numpy statement), and leaves a
    market that is not live as it was."""
    from sim.batch import MarketBatch
    from sim.rules.economics import count_customers

    markets = [
        sim.CustomerMarket("baseline", rng=s, overrides={"market.customers": n})
        for s, n in ((1, 900), (2, 1300), (3, 700))
    ]
    batch = MarketBatch(markets)
    batch.run(8)
    cs = batch.customer_state
    want = np.zeros((batch.B, batch.F), np.int64)
    for b in range(batch.B):
        sup = cs.supplier[:, batch.offsets[b] : batch.offsets[b + 1]]
        want[b] = np.bincount(sup[sup >= 0], minlength=batch.F)
    assert (want > 0).sum() >= 3 * 4
    batch.live[1] = False
    for threads in (1, 2):
        with kernel_threads(threads):
            batch.firm_state.customers[...] = -7
            count_customers(batch)
            got = batch.firm_state.customers
            np.testing.assert_array_equal(got[[0, 2]], want[[0, 2]])
            assert (got[1] == -7).all()


def _three_markets_the_second_stopped():
    """A batch of three baseline markets after 3 steps, market 1 marked stopped."""
    from sim.batch import MarketBatch

    markets = [
        sim.CustomerMarket("baseline", rng=s, overrides={"market.customers": 700 + 100 * s})
        for s in (1, 2, 3)
    ]
    batch = MarketBatch(markets)
    batch.run(3)
    batch.live[1] = False
    return batch


def test_count_customers_counts_each_firms_customers_in_live_markets() -> None:
    """``count_customers`` (economics) against numpy's count, in a batch where one market has
    stopped (its count is kept as it was)."""
    from sim.rules.economics import count_customers

    batch = _three_markets_the_second_stopped()
    kept = batch.firm_state.customers[1].copy()
    batch.firm_state.customers[...] = -5
    batch.firm_state.customers[1] = kept
    count_customers(batch)
    for b in (0, 2):
        lo, hi = batch.offsets[b], batch.offsets[b + 1]
        supplier = batch.customer_state.supplier[:, lo:hi]
        want = np.bincount(supplier[supplier >= 0], minlength=batch.F)
        np.testing.assert_array_equal(batch.firm_state.customers[b], want)
        assert want.sum() > 0
    np.testing.assert_array_equal(batch.firm_state.customers[1], kept)


def test_switching_reads_the_batchs_industry_tables_with_a_market_stopped() -> None:
    """The industry tables a batch holds (``industry_sizes``, ``industry_members``,
    ``belongs``: built once, read by switching, acquisition and ``count_customers``) are the
    firms of each industry; with one market stopped, switching leaves it alone and moves
    customers of the others only between firms of the customer's own industry."""
    from sim.rules import switching

    batch = _three_markets_the_second_stopped()
    assert batch.M > 1
    for m, firms in enumerate(batch.industry_firms):
        size = batch.industry_sizes[m]
        np.testing.assert_array_equal(batch.industry_members[m, :size], firms)
        np.testing.assert_array_equal(np.flatnonzero(batch.belongs[m]), firms)
    assert batch.belongs.sum(axis=0).tolist() == [1] * batch.F  # each firm in one industry
    cs = batch.customer_state
    before = cs.supplier.copy()
    lo, hi = batch.offsets[1], batch.offsets[2]
    stopped = {f.name: getattr(cs, f.name)[..., lo:hi].copy() for f in fields(cs)}
    scratch = BatchScratch(batch.B, batch.F, np.zeros(batch.B, bool))
    for _ in range(5):  # a few steps' worth of switching, so that some customers move
        batch.steps += 1
        batch.keys = step_keys(batch.seeds, batch.steps, CODES, batch.M)
        batch.kept_terms = None
        switching.apply(batch, scratch)
    for name, values in stopped.items():
        np.testing.assert_array_equal(getattr(cs, name)[..., lo:hi], values, err_msg=name)
    assert scratch.churned[1].sum() == 0 and scratch.churned[[0, 2]].sum() > 0
    moved = (cs.supplier != before) & (cs.supplier >= 0)
    for m in range(batch.M):
        assert batch.belongs[m, cs.supplier[m][moved[m]]].all()
    assert moved.any()


def batch_calls(module: Any, name: str) -> list[list[Any]]:
    """Step a batch of five 900-customer baseline markets twice, then once more with
    ``module.name`` called as usual, and return copies of its arguments, call by call."""
    from sim.batch import MarketBatch

    markets = [
        sim.CustomerMarket("baseline", rng=s, overrides={"market.customers": 900})
        for s in range(1, 6)
    ]
    batch = MarketBatch(markets)
    batch.run(2)
    calls = []
    real = getattr(module, name)

    def keep(*args):
        calls.append([a.copy() if isinstance(a, np.ndarray) else a for a in args])
        return real(*args)

    setattr(module, name, keep)
    try:
        batch.step()
    finally:
        setattr(module, name, real)
    return calls


@pytest.mark.parametrize("threads", [1, 2])
def test_select_talkers_in_tasks_lists_every_talker_in_order(threads: int) -> None:
    """In a batch of five markets (five tasks of ``decide_rows``), ``select_talkers`` one task
    after another (one thread) or as parallel tasks (two) lists every customer whose flags say
    it talks, in order of customers, with its market, its supplier and its trust in its
    supplier's word, and the tones of a batch of one: the same lists on any number of
    threads."""
    calls = batch_calls(word_of_mouth, "select_talkers")
    assert len(calls) == 3 and len(calls[0][1]) == 5  # three industries, five tasks
    market_of = np.repeat(np.arange(5), 900)
    with kernel_threads(threads):
        for call in calls:
            args = [a.copy() if isinstance(a, np.ndarray) else a for a in call]
            count = word_of_mouth.select_talkers(*args)
            flags, supplier, trust, indptr = args[9], args[10], args[12], args[13]
            talkers, market, firm, tone, believed, degree = (a[:count] for a in args[14:])
            want = np.flatnonzero(flags & TALKS)
            assert 100 < count == len(want)
            np.testing.assert_array_equal(talkers, want)
            np.testing.assert_array_equal(market, market_of[want])
            np.testing.assert_array_equal(firm, supplier[want])
            np.testing.assert_array_equal(believed, trust[firm, talkers])
            np.testing.assert_array_equal(degree, np.diff(indptr)[talkers])
            assert degree.min() > 0  # a small-world network: everyone has neighbours
            assert np.isfinite(tone).all() and (np.abs(tone) <= 1).all()


@pytest.mark.parametrize("threads", [1, 2])
def test_reviews_gathered_in_tasks_add_up_in_order_of_customers(threads: int) -> None:
    """In a batch of five markets, ``post_reviews`` gathers the reviewers' and noticed
    customers' state in the tasks of ``decide_rows`` (one after another, or as parallel tasks)
    and adds it in order of customers: each firm's records are the reviews and notices added
    one by one in that order (float64, from zero), to the bit, on any number of threads."""
    from sim.rules.flagged import NOTICE

    calls = batch_calls(reviews, "post_reviews")
    assert len(calls) == 3
    market_of = np.repeat(np.arange(5), 900)
    with kernel_threads(threads):
        for m, call in enumerate(calls):
            args = [a.copy() if isinstance(a, np.ndarray) else a for a in call]
            for record in args[12:17]:
                record[...] = 0.0
            consts, flags, supplier, score, experience, trust, delivered_by = args[5:12]
            # the baseline announces no failure: every fourth talker's failure made public
            talkers = np.flatnonzero(flags & TALKS)[::4]
            flags[talkers] |= NOTICE
            delivered_by[talkers] = supplier[talkers]
            consts["visibility"] = 0.5
            reviews.post_reviews(*args)
            posts, notices = flags & POSTS, flags & NOTICE
            assert posts.sum() > 10 * POSTS and notices.sum() > 10 * NOTICE
            want = [np.zeros_like(r) for r in args[12:17]]
            for i in np.flatnonzero(posts | notices):  # the oracle: in order of customers
                b, f, x = market_of[i], supplier[i], experience[i].astype(np.float64)
                if posts[i]:
                    want[0][b, f] += np.float64(score[i])
                    want[1][b, f] += 1.0
                    want[2][b, f] += x
                    want[3][b, f] += np.float64(trust[f, i])
                    want[4][b, f] += 1.0
                if notices[i]:
                    g = delivered_by[i]
                    want[0][b, g] += 0.5 * np.float64(score[i])
                    want[1][b, g] += 0.5
                    want[2][b, g] += 0.5 * x
            assert want[1].sum() > want[4].sum() > 0, m
            for got, expected in zip(args[12:17], want, strict=True):
                np.testing.assert_array_equal(got, expected)
