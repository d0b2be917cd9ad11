"""Phases 2 to 5 in vectorised stages give the numbers of one customer at a time, to the bit.

``sim.rules.block_stages`` runs the phases over a block of customers in loops the compiler
vectorises when the number of attributes is a constant (4); the very same stages with the number
unknown to the compiler are scalar code. Both must give the same state, sums and bounds, and the
normals drawn a block at a time must be those drawn one by one. (The agent-by-agent reference,
tests/test_reference.py, and the shipped scenarios' series hash check the whole step.)
"""

from __future__ import annotations

from dataclasses import fields

import numba
import numpy as np
import pytest

import sim
from sim.draws import (
    CODES,
    ZIG_X,
    KeyedDraws,
    draw_key,
    draw_uniforms,
    fill_listed_normals,
    normal,
    step_keys,
    uniform,
)
from sim.rules import delivery, fused
from sim.state import BatchScratch


@numba.njit
def _normals_one_by_one(base, first, count, width, out):
    for j in range(count):
        for c in range(width):
            out[j * width + c] = normal(base, first + j, c)


@numba.njit
def _listed_normals_of_four(base, first, ids, count, out, rare):
    fill_listed_normals(base, first, ids, count, 4, out, rare)  # the vectorised loop


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_listed_customers_normals_are_theirs(dtype: type) -> None:
    """``fill_listed_normals`` gives each listed (served) customer, in the list's order, the
    normals it draws one by one (``normal``), the width a constant (the vectorised loop) or not,
    and writes nothing past the list; everyone listed, a whole block's normals."""
    base = np.uint64(draw_key(np.uint64(2024), 7, 99, 1))
    count, first = 20_000, 4096
    rng = np.random.default_rng(5)
    for width in (4, 3):
        everyone = np.empty((count, width), dtype)
        _normals_one_by_one(base, first, count, width, everyone.reshape(-1))
        rare = np.empty(count * width, np.int64)
        for share in (0.0, 0.003, 0.21, 0.5, 0.79, 0.99, 1.0):
            ids = np.flatnonzero(rng.random(count) < share)
            got = np.full((count, width), 7.0, dtype)
            if width == 4:
                _listed_normals_of_four(base, first, ids, len(ids), got.reshape(-1), rare)
            else:
                fill_listed_normals(base, first, ids, len(ids), width, got.reshape(-1), rare)
            assert np.array_equal(got[: len(ids)].view(np.uint8), everyone[ids].view(np.uint8))
            assert (got[len(ids) :] == 7.0).all(), (width, share)
        # the rare cases (listed, then drawn one by one) were met: the tail beyond R among them
        assert (np.abs(everyone) > ZIG_X[1]).sum() > 2


def test_uniforms_of_a_block_are_the_uniforms_drawn_one_by_one() -> None:
    """The screening kernels' ``draw_uniforms``: customer ``lo + j`` of a market whose first
    customer is ``first`` gets its own uniform (its index in its market), the rest untouched."""
    base = np.uint64(draw_key(np.uint64(2024), 7, 99, 1))
    lo, hi, first = 1_500, 9_000, 1_000
    got = np.full(hi - lo + 3, -1.0)
    draw_uniforms(base, lo, hi, first, got)
    expected = [uniform(base, i - first) for i in range(lo, hi)]
    assert np.array_equal(got[: hi - lo], expected)
    assert (got[hi - lo :] == -1.0).all() and 0.0 < got[: hi - lo].min() < 0.001
    draw_uniforms(base, hi, hi, first, got)  # an empty block draws nothing
    assert np.array_equal(got[: hi - lo], expected)


def _stepped(scenario: str, n: int, dtype: str, **overrides: object) -> sim.CustomerMarket:
    model = sim.CustomerMarket(
        scenario, rng=3, overrides={"market.customers": n, **overrides}, dtype=dtype
    ).run(4)
    batch = model.batch
    batch.steps += 1
    batch.keys = step_keys(batch.seeds, batch.steps, CODES, batch.M)
    return model


def _phases(model: sim.CustomerMarket, literal: bool) -> list[np.ndarray]:
    batch = model.batch
    cs, ws = batch.customer_state, batch.workspace
    scratch = BatchScratch(batch.B, batch.F, np.ones(batch.B, bool))
    scratch.details = True  # the step's details written too, and compared
    fused.run(batch, scratch, literal=literal)
    out = [getattr(cs, f.name).copy() for f in fields(cs)]
    out += [getattr(ws, name).copy() for name in ("failure", "expectation_used")]
    out += [ws.satisfaction_before.copy(), ws.disconfirmation.copy()]
    return [*out, scratch.tallies.copy(), batch.bounds.copy()]


@pytest.mark.parametrize(
    ("scenario", "dtype", "overrides"),
    [
        ("baseline", "float32", {}),
        ("proactive_disclosure", "float64", {"delivery.base_failure_rate": 0.2}),
        ("overpromise_vs_honest", "float32", {"satisfaction.curvature": 0.88}),
        # four regions, a national firm at another price than each region's grocer: the held
        # promise is gathered by region (sim.rules.expectations.held_promise)
        ("national_leader_enters", "float32", {"firms.MegaMart.entry_step": 1}),
    ],
)
def test_the_vectorised_stages_equal_the_scalar_ones(scenario, dtype, overrides) -> None:
    """The same step, with the attributes a constant (vectorised) and not (scalar code): the
    state, the per-firm sums and the bounds are equal to the bit."""
    model = _stepped(scenario, 2600, dtype, **overrides)  # 3 blocks, the last one short
    cs = model.batch.customer_state
    saved = {f.name: getattr(cs, f.name).copy() for f in fields(cs)}
    vectorised = _phases(model, literal=True)
    for name, value in saved.items():
        getattr(cs, name)[...] = value
    scalar = _phases(model, literal=False)
    for a, b in zip(vectorised, scalar, strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8))
    assert vectorised[-2].sum() > 0 and np.isfinite(vectorised[-1]).all()


@numba.njit
def _experienced(x, tables, supplier, region, failed, z, noise, severity, fa, width):
    """Every served customer's experience from its firm's table and its own normals ``z``
    (everyone's, drawn one by one): the full-draw path."""
    for m in range(x.shape[0]):
        for i in range(x.shape[1]):
            f = supplier[m, i]
            if f >= 0:
                row = f + region[i] * width
                for k in range(x.shape[2]):
                    expected, fail = tables[m, row, k], failed[m, i]
                    x[m, i, k] = delivery.perceived(
                        expected, z[m, i, k], noise, fail, fa[k], severity
                    )


@pytest.mark.parametrize("served", ["few", "everyone"])
def test_the_step_draws_noise_for_the_served_customers_as_for_everyone(served: str) -> None:
    """Phases 2-5 draw the noise of the served customers only; their experiences are those of
    the noise drawn for every customer, one by one, and the unserved keep theirs: in a market
    where most customers have no firm in an industry and in one where everyone has one."""
    model = _stepped("baseline", 2600, "float32")  # 3 blocks, the last one short
    batch = model.batch
    cs = batch.customer_state
    rng = np.random.default_rng(11)
    if served == "few":  # 70% more customer-industries without a firm
        cs.supplier[rng.random(cs.supplier.shape) < 0.7] = -1
    else:  # each customer without a firm takes the firm most common in its region and industry
        for m in range(batch.M):
            for r in np.unique(cs.region):
                mine = cs.region == r
                firms = cs.supplier[m, mine]
                common = np.bincount(firms[firms >= 0]).argmax()
                cs.supplier[m, mine & (cs.supplier[m] < 0)] = common
    has = cs.supplier >= 0
    assert (has.mean() < 0.3) if served == "few" else has.all()
    before = cs.experience.copy()
    deliver = delivery.prepare(batch, BatchScratch(batch.B, batch.F, np.ones(batch.B, bool)))
    _phases(model, literal=True)
    draws = KeyedDraws(int(batch.seeds[0]))
    draws.step = batch.steps
    z = np.stack(
        [draws.normal("noise", m, slice(0, cs.supplier.shape[1]), batch.K) for m in range(batch.M)]
    )
    expected = before.copy()
    p = batch.consts[0]
    width = deliver.disclose.shape[1]
    args = (cs.supplier, cs.region, batch.workspace.failure, z, p.noise, p.severity)
    _experienced(expected, deliver.tables[0], *args, deliver.failure_attribute, width)
    assert np.array_equal(cs.experience.view(np.uint8), expected.view(np.uint8))
    assert not np.array_equal(cs.experience[has], before[has])  # the served moved
    assert np.array_equal(cs.experience[~has].view(np.uint8), before[~has].view(np.uint8))


def test_who_delivered_is_the_suppliers_phase_2_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The phases' kernel writes who delivered (``workspace.supplier``, read by word of mouth's
    notices and the reviews) block by block as it reads the suppliers: after the step it holds
    the suppliers as phases 2 to 5 found them, in every task of a batch of three markets of
    20,000 customers (two tasks each), though switching and acquisition moved some since, and
    it is not last step's (which a copy left out would leave)."""
    import sim.rules

    markets = [
        sim.CustomerMarket("baseline", rng=r, overrides={"market.customers": 20_000}, batched=True)
        for r in (1, 2, 3)
    ]
    batch = sim.batch.MarketBatch(markets)
    for _ in range(2):
        batch.step()
    found = []

    def customers(b, scratch):
        found.append(b.customer_state.supplier.copy())
        fused.run(b, scratch)

    steps = tuple((n, customers if n == "customers" else f) for n, f in sim.rules.STEPS)
    monkeypatch.setattr(sim.rules, "STEPS", steps)
    last = batch.workspace.supplier.copy()
    batch.step()
    assert len(batch.tasks[0]) == 6
    delivered, now = batch.workspace.supplier, batch.customer_state.supplier
    np.testing.assert_array_equal(delivered, found[0])
    assert not np.array_equal(delivered, now)  # the step moved some customers after
    assert not np.array_equal(delivered, last)
