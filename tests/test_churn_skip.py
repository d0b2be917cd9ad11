"""Switching skips most customers without computing their chance (sim.rules.switching): the
bounds it skips on must bound the chance, or a customer who should leave would stay."""

from __future__ import annotations

import numpy as np

from sim.rules import switching


def test_the_table_bounds_every_chance_below_its_top_and_is_tight() -> None:
    """``chance_above(z)`` is at least the exact chance at ``z`` (the decision is the uniform
    against the exact chance: a bound below it would change who leaves), for every ``z`` up to
    the largest of the industry and far below; within about two points of the table above it
    (else the skip saves little); 1 where the table has no point above ``z``."""
    years = 1.0 / 52
    for z_max in (-9.0, -2.5, 0.0, 0.3, 4.0):
        table, top = switching.chance_table(np.array([z_max]), 52)
        z = np.concatenate(
            [
                np.linspace(z_max - 40.0, z_max, 20001),
                z_max - np.arange(200) * np.spacing(np.float32(z_max + 10.0)),
            ]
        )
        exact = np.array([switching.leave_chance(x, years) for x in z])
        above = np.array(
            [switching.chance_above(x, table[0], top[0], switching.PER_UNIT) for x in z]
        )
        assert (above >= exact).all()
        near = z > z_max - (switching.POINTS - 3) / switching.PER_UNIT
        tight = exact[near] * np.exp(3.0 / switching.PER_UNIT) * (1 + 1e-5) + 1.01e-12
        assert (above[near] <= tight).all()
        assert switching.chance_above(top[0], table[0], top[0], switching.PER_UNIT) == 1.0
        assert switching.chance_above(np.nan, table[0], top[0], switching.PER_UNIT) == 1.0
        far = switching.chance_above(-np.inf, table[0], top[0], switching.PER_UNIT)
        assert far == table[0, -1] > 0


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
