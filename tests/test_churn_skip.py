"""Switching skips most customers without computing their chance (sim.rules.switching): the
bounds it skips on must bound the chance, or a customer who should leave would stay."""

from __future__ import annotations

import numpy as np

from sim.rules import churn_skip, switching


def test_the_table_bounds_every_chance_below_its_top_and_is_tight() -> None:
    """``chance_above(z)`` is at least the exact chance at ``z`` (the decision is the uniform
    against the exact chance: a bound below it would change who leaves), for every ``z`` up to
    the largest of the industry and far below; within about three points of the table above it
    (else the skip saves little); 1 where the table has no point above ``z``. The tables are
    read from one grid per step length, or computed beyond it."""
    from sim.rules import churn_skip

    assert churn_skip.chance_grid(52) is churn_skip.chance_grid(52)
    for steps_per_year in (52, 12):
        years = 1.0 / steps_per_year
        for z_max in (-9.0, -2.5, 0.0, 0.3, 4.0, 63.9, 80.0, -70.0):
            table, top = churn_skip.chance_table(np.array([z_max]), steps_per_year)
            assert top[0] >= z_max + 2.0 / churn_skip.PER_UNIT
            z = np.concatenate(
                [
                    np.linspace(z_max - 40.0, z_max, 20001),
                    z_max - np.arange(200) * np.spacing(np.float32(z_max + 10.0)),
                ]
            )
            exact = np.array([switching.leave_chance(x, years) for x in z])
            above = np.array(
                [churn_skip.chance_above(x, table[0], top[0], churn_skip.PER_UNIT) for x in z]
            )
            assert (above >= exact).all()
            near = (z > top[0] - (churn_skip.POINTS - 3) / churn_skip.PER_UNIT) & (
                z > churn_skip.Z_LOW
            )
            tight = exact[near] * np.exp(3.0 / churn_skip.PER_UNIT) * (1 + 1e-5) + 1.01e-12
            assert (above[near] <= tight).all()
            assert churn_skip.chance_above(top[0], table[0], top[0], churn_skip.PER_UNIT) == 1.0
            assert churn_skip.chance_above(np.nan, table[0], top[0], churn_skip.PER_UNIT) == 1.0
            far = churn_skip.chance_above(-np.inf, table[0], top[0], churn_skip.PER_UNIT)
            assert far == table[0, -1] > 0
        # on the grid, a table is the grid's points from its top down (its first below it)
        grid = churn_skip.chance_grid(steps_per_year)
        z = np.array([[-9.0, 0.3, 63.9], [-64.02, -70.0, -1e6]])
        table, top = churn_skip.chance_table(z, steps_per_year)
        top_k = np.round((top - churn_skip.Z_LOW) * churn_skip.PER_UNIT).astype(int)
        points = np.maximum(top_k[..., None] - np.arange(churn_skip.POINTS), 0)
        np.testing.assert_array_equal(table, grid[points])


def test_churn_chance_is_the_leave_chance_of_its_z() -> None:
    """The rule split in two (``churn_z``, ``leave_chance``) is the same function: a bound read
    at ``churn_z`` bounds ``churn_chance``."""
    import sim

    model = sim.CustomerMarket("baseline", rng=2, overrides={"market.customers": 500})
    p = model.batch.consts[0]
    for s, t, c, gap in [(7.5, 0.6, 0.4, 0.0), (2.0, 0.1, 0.9, 1.3), (np.nan, 0.5, 0.5, 0.2)]:
        z = switching.churn_z(np.float32(s), np.float32(t), np.float32(c), gap, p)
        chance = switching.churn_chance(np.float32(s), np.float32(t), np.float32(c), gap, p)
        assert chance == switching.leave_chance(z, p.years_per_step_64) > 0


def test_the_bounds_bound_every_served_customers_chance(monkeypatch) -> None:
    """The first check of the switching kernel: ``churn_bounds`` (compiled, all markets and
    industries at once) is at least every served customer's exact chance to leave this step,
    its rival gap included, in every market of a batch, step after step; and below 1, so that
    it skips. The rival-gap bound of each firm's customers is at least each one's gap."""
    import sim
    from sim.batch import MarketBatch

    real = switching.churn_bounds
    checked = []
    gaps = []  # (a customer's rival gap, the bound of its firm's customers)

    def checking(batch, t):
        bound, gap_bound, z = real(batch, t)
        cs = batch.customer_state
        for m, firms in enumerate(batch.industry_firms):
            rows = np.flatnonzero(cs.supplier[m] >= 0)
            market = batch.market_of[rows]
            stay = np.empty(len(rows))
            switching.stay_chances(
                m, np.asarray(firms, np.int64), rows, market, batch.consts, 1, cs.region,
                batch.visible, cs.weights, cs.price_sensitivity, cs.supplier, cs.expectation,
                cs.satisfaction, cs.trust, cs.commitment, cs.attitude, t.promise,
                t.review_part, t.review_weight, t.public, t.price_term, stay,
            )  # fmt: skip
            live = batch.live[market]
            chance = 1.0 - stay[live]  # (1 - p) ** 1
            assert (chance <= bound[market[live], m]).all()
            assert (bound[batch.live, m] < 1.0).all()
            assert (gap_bound[batch.live][:, firms] >= 0.0).all()
            gaps.extend(rival_gaps(batch, t, m, firms, rows, gap_bound))
            checked.append(chance.max() / bound[market[live], m].max())
        return bound, gap_bound, z

    monkeypatch.setattr(switching, "churn_bounds", checking)
    markets = [
        sim.CustomerMarket(
            "overpromise_vs_honest",
            rng=seed,
            overrides={"market.customers": 300, "switching.rival": rival},
        )
        for seed, rival in [(1, 0.0), (2, 1.0), (3, 2.5)]
    ]
    MarketBatch(markets).run(40)
    assert len(checked) == 40
    assert max(checked) > 0.01  # the bound is not loose by orders of magnitude
    gap, bound = np.array(gaps).T
    assert (gap <= bound).all()  # each firm's bound holds for each of its customers
    assert (gap > 0).any() and (gap / bound).max() > 0.05  # and is not loose by far


def rival_gaps(batch, t, m, firms, rows, gap_bound) -> list[tuple[float, float]]:
    """``(rival gap, gap_bound[market, own firm])`` of served customers ``rows`` of industry
    ``m`` of the live markets with ``rival`` >= 0 (where the bound is on the gap)."""
    cs = batch.customer_state
    firms = np.asarray(firms, np.int64)
    u_firm = np.empty(len(firms))
    out = []
    for i in rows:
        b = batch.market_of[i]
        if not batch.live[b] or batch.params.switching.rival[b, 0] < 0:
            continue
        own = cs.supplier[m, i]
        gap = switching.rival_gap(
            i, m, own, firms, batch.visible[b, cs.region[i]], cs.weights, cs.price_sensitivity,
            cs.expectation, cs.trust, cs.attitude, t.promise[b], t.review_part[b],
            t.review_weight[b], t.public[b], t.price_term[b], batch.consts[b], u_firm,
        )  # fmt: skip
        out.append((gap, gap_bound[b, own]))
    return out


def test_the_range_skips_nan_in_either_float_type() -> None:
    """``nan_skipping_range`` (floats compared as integers) is numpy's ``nanmin`` and
    ``nanmax``, ``inf`` and ``-inf`` with no number; of -0 and +0, -0 is the lower; and
    ``row_range`` fades the slice it ranges (``keep``), writing back exactly what it ranges,
    and nothing outside it."""
    from sim.jit import nan_skipping_range

    rng = np.random.default_rng(7)
    rows = [
        rng.normal(size=1001) * 1e3,
        np.array([np.nan, 3.0, -2.0, np.nan, 1e-300, -5e-45]),
        np.array([np.inf, -np.inf, np.nan]),
        np.array([-np.inf]),
        np.array([np.nan, np.nan]),
        np.array([]),
    ]
    for dtype in (np.float32, np.float64):
        for row in rows:
            values = row.astype(dtype)
            low, high = nan_skipping_range(values)
            if np.isnan(values).all():
                assert (low, high) == (np.inf, -np.inf)
            else:
                assert (low, high) == (np.nanmin(values), np.nanmax(values))
        low, high = nan_skipping_range(np.array([0.0, -0.0, 0.0], dtype))
        assert low == 0 and np.signbit(low) and not np.signbit(high)
        row = rng.uniform(-1, 1, 40).astype(dtype)
        row[7] = np.nan
        keep = dtype(0.75)
        faded = row.copy()
        low, high = churn_skip.row_range(faded, 5, 33, keep, True)
        expected = row.copy()
        expected[5:33] = expected[5:33] * keep
        assert np.array_equal(faded, expected, equal_nan=True)
        assert (low, high) == (np.nanmin(expected[5:33]), np.nanmax(expected[5:33]))


def test_attitude_ranges_are_each_markets_range_by_tasks() -> None:
    """Switching called on its own (no word of mouth this step) takes each live market's
    lowest and highest attitude toward each firm, task by task (``row_range``), as numpy takes
    them over the market's customers; a market that is not live keeps 0."""
    import sim
    from sim.batch import MarketBatch

    markets = [
        sim.CustomerMarket("baseline", rng=seed, overrides={"market.customers": n})
        for seed, n in [(1, 300), (2, 700)]
    ]
    batch = MarketBatch(markets)
    batch.run(3)
    batch.attitude_spans = None
    attitude = batch.customer_state.attitude
    low, high = churn_skip.attitude_ranges(batch)
    for b in range(batch.B):
        rows = attitude[:, batch.offsets[b] : batch.offsets[b + 1]]
        assert np.array_equal(low[b], rows.min(axis=1))
        assert np.array_equal(high[b], rows.max(axis=1))
    assert (high > low).any()
    batch.live[1] = False
    low, high = churn_skip.attitude_ranges(batch)
    assert not low[1].any() and not high[1].any()
    assert np.array_equal(low[0], attitude[:, : batch.offsets[1]].min(axis=1))


def test_the_attitude_bounds_word_of_mouth_takes_hold_every_attitude(monkeypatch) -> None:
    """Within a step, the attitude ranges switching reads are those word of mouth took as it
    faded the attitudes and moved its listeners' (``batch.attitude_spans``): at every step of a
    batch of three markets each range holds every attitude of its market toward the firm, as
    the attitudes are when switching reads them. The listeners' part counts: the ranges of the
    faded attitudes alone miss attitudes the listeners moved to (the control: at some step and
    firm they do not hold the market's attitudes)."""
    import sim
    from sim.batch import MarketBatch

    markets = [
        sim.CustomerMarket("baseline", rng=seed, overrides={"market.customers": n})
        for seed, n in [(1, 300), (2, 700), (3, 2000)]
    ]
    batch = MarketBatch(markets)
    real = switching.attitude_ranges
    seen = []

    def keep(batch):
        low, high = real(batch)
        faded, _ = batch.attitude_spans
        alone_low, alone_high = np.zeros_like(low), np.zeros_like(high)
        churn_skip.combined_ranges(batch.tasks[0], batch.live, faded, alone_low, alone_high)
        seen.append((low, high, alone_low, alone_high, batch.customer_state.attitude.copy()))
        return low, high

    monkeypatch.setattr(switching, "attitude_ranges", keep)
    batch.run(12)
    assert len(seen) == 12
    missed = 0
    for low, high, alone_low, alone_high, attitude in seen:
        for b in range(batch.B):
            rows = attitude[:, batch.offsets[b] : batch.offsets[b + 1]]
            assert (low[b] <= rows.min(axis=1)).all() and (high[b] >= rows.max(axis=1)).all()
            assert (low[b] > -1.0).all() and (high[b] < 1.0).all()  # within the attitudes' scale
            missed += int((alone_low[b] > rows.min(axis=1)).sum())
            missed += int((alone_high[b] < rows.max(axis=1)).sum())
    assert missed > 0


def screened_leavers(monkeypatch, shrink: str | None = None) -> tuple[int, int]:
    """``(leavers, wrong)``: over steps of a batch of markets with random switching parameters,
    the customers who should leave (served, their uniform below their own exact chance, its
    rival gap included) and how many the kernel decided otherwise. ``shrink`` makes one screen
    too tight: ``"bound"`` (everyone's, per market and industry: a fifth of it; half of it still
    held on these markets), ``"gap"`` (the rival gap's: 0), ``"table"`` (the chances
    ``chance_above`` reads, in the second and third checks: 0.8 of them)."""
    import sim
    from sim.batch import MarketBatch
    from sim.draws import CHURN, uniform

    real = switching.run_tasks
    counts = [0, 0]

    def checking(serial, parallel, n_tasks, *args):
        (tasks, run, _, keys, consts, visible, industries, sizes, limits, state, terms) = args[1:12]
        bound, gap_bound, table, top, per_unit = limits
        if shrink == "bound":
            bound = bound * 0.2
        elif shrink == "gap":
            gap_bound = gap_bound * 0.0
        elif shrink == "table":
            table = table * 0.8
        region, weights, sensitivity, supplier = state[:4]
        expectation, satisfaction, trust, commitment, attitude = state[4:9]
        promise, review_part, review_weight, public, price_term = terms
        before = supplier.copy()
        offsets = tasks[3]
        market_of = np.repeat(tasks[0], tasks[2] - tasks[1])
        first = np.repeat(offsets, tasks[2] - tasks[1])
        expected = np.zeros(before.shape, bool)
        for m in range(len(sizes)):
            firms = industries[m, : sizes[m]]
            u_firm = np.empty(len(firms))
            for i in np.flatnonzero(before[m] >= 0):
                b = market_of[i]
                if not run[b]:
                    continue
                own = before[m, i]
                gap = switching.rival_gap(
                    i, m, own, firms, visible[b, region[i]], weights, sensitivity, expectation,
                    trust, attitude, promise[b], review_part[b], review_weight[b], public[b],
                    price_term[b], consts[b], u_firm,
                )  # fmt: skip
                chance = switching.churn_chance(
                    satisfaction[m, i], trust[own, i], commitment[m, i], gap, consts[b]
                )
                expected[m, i] = uniform(keys[b][CHURN, m], i - first[i]) < chance
        limits = (bound, gap_bound, table, top, per_unit)
        real(serial, parallel, n_tasks, *args[:9], limits, *args[10:])
        left = (before >= 0) & (supplier != before)
        counts[0] += int(expected.sum())
        counts[1] += int((left != expected).sum())

    monkeypatch.setattr(switching, "run_tasks", checking)
    rng = np.random.default_rng(16)
    markets = [
        sim.CustomerMarket(
            "baseline",
            rng=seed,
            overrides={
                "market.customers": 300,
                "switching.intercept": float(rng.uniform(-1.0, 3.0)),
                "switching.satisfaction": float(rng.uniform(0.0, 1.5)),
                "switching.trust": float(rng.uniform(0.0, 4.0)),
                "switching.commitment": float(rng.uniform(0.0, 3.0)),
                "switching.rival": float(rng.uniform(0.0, 3.0)),
            },
        )
        for seed in (1, 2, 3)
    ]
    MarketBatch(markets).run(12)
    return counts[0], counts[1]


def test_every_customer_below_its_own_chance_passes_every_screen(monkeypatch) -> None:
    """End to end: the kernel lets leave exactly the served customers whose uniform is below
    their own exact chance, on random switching parameters, step after step, so no screen
    (everyone's bound, the bound at the largest rival gap, ``chance_above`` before the exact
    chance) is ever below a customer's chance. With any of them too tight it would fail: the
    same run with each shrunk decides some customers otherwise."""
    leavers, wrong = screened_leavers(monkeypatch)
    assert leavers > 100 and wrong == 0
    for shrink in ("bound", "gap", "table"):
        assert screened_leavers(monkeypatch, shrink)[1] > 0, shrink
