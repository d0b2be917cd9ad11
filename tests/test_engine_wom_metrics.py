"""The compiled word of mouth and customer tallies give the numpy engine's results.

``sim.rules.word_of_mouth_kernels`` (who talks, the fan-out of messages, what listeners make of
them) adds every sum in the numpy code's order and float type, so on the same state and the same
draws the two engines leave the same state to the bit; ``sim.metrics_kernels`` (per-firm
tallies) gives the same counts and sums equal up to float rounding. The tests run each on
realistic states (markets stepped by the numpy engine), on crafted states with the edge cases
(nobody talks, one listener hearing every message, NaN heard values and benchmarks, a customer
at the neutral point, a complete graph), and whole runs on both engines.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import sim
import sim.metrics
from sim import metrics_kernels
from sim.network import Adjacency
from sim.rules import word_of_mouth, word_of_mouth_kernels
from sim.state import StepScratch

SMALL = 2000


def assert_same_state(a: sim.CustomerMarket, b: sim.CustomerMarket) -> None:
    """Every customer and firm array equal to the bit (NaN where NaN)."""
    for group in ("customer_state", "firm_state"):
        for f in fields(getattr(a, group)):
            x, y = getattr(getattr(a, group), f.name), getattr(getattr(b, group), f.name)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{group}.{f.name}"


def compiled_word_of_mouth_for(monkeypatch: pytest.MonkeyPatch, model: object) -> None:
    """Word of mouth runs its compiled kernels for ``model`` only (every other phase and model
    stays on the numpy engine)."""
    kernels = word_of_mouth._kernels

    def choose(m: sim.CustomerMarket) -> object:
        return word_of_mouth_kernels if m is model else kernels(m)

    monkeypatch.setattr(word_of_mouth, "_kernels", choose)


# -- realistic states -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "overrides", "dtype"),
    [
        ("baseline", {}, None),
        ("overpromise_vs_honest", {}, None),
        # a step of a month: talkers are chosen by the numpy code, the rest compiled
        ("baseline", {"steps_per_year": 12}, "float64"),
        # every neighbour hears, and a neutral point that float32 cannot hold
        ("baseline", {"word_of_mouth.reach": 1.0, "word_of_mouth.neutral_point": 6.3}, None),
        ("baseline", {"network.kind": "complete", "market.customers": 600}, None),
    ],
)
def test_compiled_word_of_mouth_leaves_the_numpy_state_to_the_bit(
    monkeypatch: pytest.MonkeyPatch, scenario: str, overrides: dict, dtype: str | None
) -> None:
    """Two markets from one seed, the second with compiled word of mouth, stepped side by side:
    the same state after every step (word of mouth feeds expectations, so a difference would
    grow), with the pool of kernel temporaries reused from step to step."""
    overrides = {"market.customers": SMALL, **overrides}
    a, b = (
        sim.CustomerMarket(scenario, rng=11, overrides=overrides, engine="numpy", dtype=dtype)
        for _ in range(2)
    )
    compiled_word_of_mouth_for(monkeypatch, b)
    for _ in range(20):
        a.step()
        b.step()
        assert_same_state(a, b)
        for name in ("wom_positive", "wom_negative", "wom_reach"):
            assert np.array_equal(getattr(a.last_scratch, name), getattr(b.last_scratch, name))
    assert a.firm_metrics().equals(b.firm_metrics())
    assert a.firm_metrics()["wom_reach"].sum() > 0  # messages were delivered
    assert np.isfinite(a.customer_state.heard).any()  # and heard


@pytest.mark.parametrize("scenario", ["baseline", "overpromise_vs_honest"])
def test_engines_agree_on_word_of_mouth_and_tallies(scenario: str) -> None:
    """Whole runs on each engine (phases 2-5 compiled too): the same decisions and word of
    mouth, the same tallies, means within float rounding."""
    runs = {
        engine: sim.CustomerMarket(
            scenario, rng=3, overrides={"market.customers": SMALL}, engine=engine
        ).run(30)
        for engine in ("numpy", "numba")
    }
    assert runs["numba"].engine == "numba"
    fa, fb = (runs[e].firm_metrics() for e in ("numpy", "numba"))
    counts = ["customers", "churned", "acquired", "wom_positive", "wom_negative", "wom_reach"]
    assert fa[counts].equals(fb[counts])
    means = ["satisfaction", "nps", "trust", "commitment", "control_mutuality", "attitude"]
    np.testing.assert_allclose(fa[means], fb[means], rtol=1e-5, atol=1e-7)
    ma, mb = (runs[e].model_metrics() for e in ("numpy", "numba"))
    assert ma["served"].equals(mb["served"])
    np.testing.assert_allclose(ma[["nps", "satisfaction"]], mb[["nps", "satisfaction"]], 1e-5)
    assert fa["wom_reach"].sum() > 0 and fa["churned"].sum() > 0


# -- crafted states -------------------------------------------------------------------------


class CraftedDraws:
    """Talk uniforms chosen by the test (one per customer and industry; 1 = silent); the reach
    stream restarts from one seed on every call, so both engines draw the same numbers."""

    def __init__(self, talk: np.ndarray, seed: int = 0) -> None:
        self.talk = talk  # [M, N]
        self.seed = seed
        self.step = 0

    def below(self, purpose: str, m: int, rows: slice, p_max: float) -> tuple[np.ndarray, Any]:
        u = self.talk[m] if purpose == "talk" else np.ones(self.talk.shape[1])
        i = np.flatnonzero(u < p_max)
        return i, u[i]

    def stream(self, purpose: str) -> np.random.Generator:
        return np.random.default_rng(self.seed)


def crafted_market(kind: str = "watts_strogatz") -> sim.CustomerMarket:
    """A 40-customer market (three industries, two firms each) to write states into."""
    overrides = {"market.customers": 40, "network.kind": kind}
    if kind == "watts_strogatz":
        overrides["network.k"] = 4
    return sim.CustomerMarket("baseline", rng=2, overrides=overrides, engine="numpy")


def spread_both_ways(model: sim.CustomerMarket) -> tuple[object, object]:
    """``_spread`` on two copies of the market's state, by numpy and by the kernels."""
    results = []
    for engine in ("numpy", "numba"):
        m = copy.deepcopy(model)
        m.engine = engine
        scratch = StepScratch(m)
        word_of_mouth._spread(m, scratch)
        results.append((m, scratch))
    (a, sa), (b, sb) = results
    assert_same_state(a, b)
    for name in ("wom_positive", "wom_negative", "wom_reach"):
        assert np.array_equal(getattr(sa, name), getattr(sb, name)), name
    return (a, sa), (b, sb)


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
    model.draws = CraftedDraws(np.ones((3, 40)))
    before = model.customer_state.heard.copy()
    (a, sa), _ = spread_both_ways(model)
    assert sa.wom_reach.sum() == 0 and sa.wom_positive.sum() == 0
    assert np.array_equal(a.customer_state.heard, before, equal_nan=True)


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
    cs.experience[:, 1:, :] = 0.9  # praise on every cross attribute
    cs.heard[:] = np.nan
    cs.heard[2, 0] = 0.25  # one industry's heard value is set before
    cross = np.flatnonzero(model.cross_mask)
    cs.benchmark[:] = 0.1
    cs.benchmark[0, cross[0]] = np.nan
    talk = np.ones((3, n))
    talk[:, 1:] = 0.0  # everyone but the center talks
    model.draws = CraftedDraws(talk)
    (a, sa), _ = spread_both_ways(model)
    assert sa.wom_reach.sum() > 3 * 30  # customer 0 heard (nearly) every message
    assert np.isfinite(a.customer_state.heard[:, 0]).all()
    assert np.isnan(a.customer_state.benchmark[0, cross[0]])  # a NaN benchmark stays NaN
    praise = np.float32(model.params.expectations.benchmark_from_praise) * np.float32(0.9)
    assert a.customer_state.benchmark[0, cross[1]] == praise
    assert (a.customer_state.benchmark[1:] == 0.1).all()  # the center said nothing
    assert (a.customer_state.attitude[:, 0] != model.customer_state.attitude[:, 0]).all()


def test_partial_reach_on_a_ring_matches() -> None:
    model = crafted_market()
    served_state(model)
    model.customer_state.heard[:, ::3] = np.nan
    model.draws = CraftedDraws(np.random.default_rng(8).uniform(0, 0.6, (3, 40)), seed=4)
    (_, sa), _ = spread_both_ways(model)
    assert 0 < sa.wom_reach.sum()


def test_complete_graph_matches() -> None:
    model = crafted_market("complete")
    assert model.adjacency_is_complete
    served_state(model)
    model.draws = CraftedDraws(np.random.default_rng(9).uniform(0, 0.5, (3, 40)), seed=6)
    (_, sa), _ = spread_both_ways(model)
    assert sa.wom_reach.sum() > 0


def test_select_talkers_matches_talk_probability_and_valence() -> None:
    """Every float32 satisfaction around the neutral point and the ends, NaN, unserved rows and
    uniforms at the chance itself."""
    prm = SimpleNamespace(
        base_rate=0.03, positive_amplitude=0.12, negative_amplitude=0.3, neutral_point=6.3
    )
    fake = SimpleNamespace(params=SimpleNamespace(word_of_mouth=prm), steps_per_year=52)
    n0 = np.float32(prm.neutral_point)
    sat = np.concatenate(
        [
            np.linspace(0, 10, 2001, dtype=np.float32),
            n0 + np.arange(-50, 51, dtype=np.float32) * np.spacing(n0),
            [np.nan, 0.0, 10.0, 6.3],
        ]
    ).astype(np.float32)
    supplier = np.where(np.arange(len(sat)) % 7 == 3, -1, np.arange(len(sat)) % 4).astype(np.int32)
    chance = word_of_mouth.talk_probability(sat, fake)
    u = np.random.default_rng(1).uniform(0, 0.45, len(sat))
    u[::5] = chance[::5]  # at the chance itself: does not talk
    u[1::5] = np.nextafter(chance[1::5], -1.0)  # just below: talks
    cand = np.arange(len(sat))
    ok = supplier >= 0
    talk = (u < chance) & ok
    ft = np.float32
    got = word_of_mouth_kernels.select_talkers(
        cand,
        u,
        supplier,
        sat,
        ft(prm.base_rate),
        ft(prm.positive_amplitude),
        ft(prm.negative_amplitude),
        n0,
        ft(max(10.0 - prm.neutral_point, 1e-9)),
        ft(max(prm.neutral_point, 1e-9)),
    )
    assert np.array_equal(got[0], cand[talk])
    assert np.array_equal(got[1], supplier[talk])
    assert np.array_equal(got[2], word_of_mouth.valence(sat[talk], prm.neutral_point))
    assert got[2].dtype == np.float32 and 0 < talk.sum() < len(sat)


@pytest.mark.parametrize("reach", [0.0, 0.4, 1.0])
def test_expand_csr_matches_adjacency_expand(reach: float) -> None:
    rng = np.random.default_rng(3)
    adj = Adjacency.from_edges(rng.integers(0, 60, 300), rng.integers(0, 60, 300), 61)  # 60 alone
    senders = np.array([5, 5, 60, 0, 59, 17, 60, 33], np.int64)  # repeats, an isolated sender
    firm = np.array([0, 1, 2, 3, 0, 1, 2, 3], np.int32)
    want = adj.expand(senders, reach, np.random.default_rng(7))
    fan_out = int(adj.degree[senders].sum())
    uniforms = np.random.default_rng(7).random(fan_out) if 0 < reach < 1 else np.zeros(0)
    message, receiver = np.empty(fan_out + 1, np.int64), np.empty(fan_out + 1, np.int64)
    per_firm = np.full(4, 99, np.int64)
    if reach == 0:
        assert len(want[0]) == 0  # the model returns early: no draw, no kernel
        return
    kept = word_of_mouth_kernels.expand_csr(
        senders, adj.indptr, adj.indices, uniforms, reach, firm, message, receiver, per_firm
    )
    assert np.array_equal(message[:kept], want[0])
    assert np.array_equal(receiver[:kept], want[1])
    assert np.array_equal(per_firm, np.bincount(firm[want[0]], minlength=4))


def test_moved_table_is_the_same_whatever_its_length() -> None:
    """The compiled path computes ``moved`` up to a bound (the most neighbours), numpy up to
    the most messages heard: the entries they share must be the same numbers."""
    for influence in (0.2, 0.07, 0.9):
        long = word_of_mouth._moved(influence, 300)
        for most in (0, 1, 2, 3, 7, 8, 9, 16, 31, 64, 299):
            assert np.array_equal(word_of_mouth._moved(influence, most), long[: most + 1])


# -- tallies --------------------------------------------------------------------------------


def tallies_both_ways(model: sim.CustomerMarket) -> tuple[dict, dict]:
    model.engine = "numpy"
    want = sim.metrics.tally_customers(model)
    model.engine = "numba"
    got = sim.metrics.tally_customers(model)
    model.engine = "numpy"
    return want, got


def assert_same_tallies(want: dict, got: dict) -> None:
    assert got.keys() == want.keys()
    assert got["served_anywhere"] == want["served_anywhere"]
    for name in ("customers", "rated", "promoters", "detractors", "complainers"):
        assert np.array_equal(got[name], want[name]), name
    for name in ("satisfaction", "trust", "commitment", "control_mutuality"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_tally_matches_numpy_on_a_stepped_market() -> None:
    model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 5000})
    model.engine = "numpy"
    model.run(8)
    want, got = tallies_both_ways(model)
    assert_same_tallies(want, got)
    assert want["complainers"].sum() > 0 and want["promoters"].sum() > 0


def test_tally_matches_numpy_on_crafted_customers() -> None:
    """Unserved customers, no S (NaN), answers beyond 0..10, thresholds hit exactly,
    complaints answered or not, a supplier from another industry (counted for nobody, but
    served), and an industry without firms."""
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
    model.industry_firms[2] = np.zeros(0, np.int64)  # no firm in the third industry
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
    total = np.zeros((model.firm_state.n, len(sim.metrics.TALLIES)))
    args = (
        cs.supplier,
        cs.satisfaction,
        cs.complaints,
        cs.answered,
        cs.trust,
        cs.commitment,
        cs.recommend,
        belongs,
        np.float32(8.5),
        np.float32(6.5),
        total,
    )
    assert metrics_kernels.tally(*args) == 40
    once = total.copy()
    metrics_kernels.tally(*args)
    np.testing.assert_array_equal(total, 2 * once)
    assert once[:, 0].sum() == 3 * 40
