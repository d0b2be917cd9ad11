"""Phase 2, delivery: what each served customer perceives from its supplier this step.

For a customer ``n`` served by firm ``f`` in industry ``m``::

    util(f)  = customers(f) / (capacity(f) * N)
    load(f)  = min(1, 1 / util(f)) ** eta                  (a firm that outgrows its staff degrades)
    X[k]     = Q[f, k] * load(f) + noise * z_k,  z_k ~ N(0, 1)
    X[value] = Q[f, value] + price_sensitivity * (ref_price - price(f)) / ref_price + noise * z
    failure  ~ Bernoulli(base_failure_rate + overload_failure_rate * max(0, util(f) - 1))
    X[k]    -= failure_severity   for k in failure_attributes, if failure

``ref_price`` is the mean price of the active firms the customer can see in that industry (its
region's local firms and the national ones): price checks are cheap. X is clipped to 0..1.
A firm with ``disclose`` set warns the customers who are about to meet a failure.

Implementation: each industry's slab of customers is processed in blocks; every row of a block
gets its firm's row of a small table (a last row for customers without a supplier), noise is
drawn for every row, failures are thinned Bernoulli draws (only the rows whose uniform falls
below the largest failure chance are drawn), and only the rows of served customers are written.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import firm_table, put_where
from sim.rules.fused import Block, run_in_blocks
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def firm_load(model: CustomerMarket) -> tuple[np.ndarray, np.ndarray]:
    """``(load, utilisation)`` of every firm from its current customers and capacity."""
    fs = model.firm_state
    cap = fs.capacity * model.n_customers
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, fs.customers / np.maximum(cap, 1e-12), np.inf)
        util = np.where(fs.customers == 0, 0.0, util)
        load = np.where(util > 1, 1.0 / util, 1.0) ** model.params.delivery.load_exponent
    return load, util


def reference_prices(model: CustomerMarket) -> np.ndarray:
    """``[regions, industries]`` mean price of the active firms visible from each region."""
    fs = model.firm_state
    vis = model.visible.astype(float)  # [R, F]
    onehot = np.zeros((fs.n, len(model.industries)))
    onehot[np.arange(fs.n), fs.industry] = 1.0
    count = vis @ onehot
    total = vis @ (onehot * fs.price[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def price_table(model: CustomerMarket, m: int, load: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(table, regional)``: the expected experience ``[F + 1, K]`` of each firm's customers in
    industry m before noise and failures (the last row, for customers without a supplier, is 0),
    or ``[R * (F + 1), K]`` rows ``region * (F + 1) + firm`` when the reference price differs
    between regions."""
    fs, prm = model.firm_state, model.params.delivery
    base = fs.capability * load[:, None]
    kv = model.price_index
    if kv < 0:
        return firm_table(base, 0.0), False
    ref = reference_prices(model)[:, m]
    regional = len(ref) > 1 and not np.all(ref == ref[0])
    rows = []
    for r in range(len(ref) if regional else 1):
        table = base.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            table[:, kv] = (
                fs.capability[:, kv] + prm.price_sensitivity * (ref[r] - fs.price) / ref[r]
            )
        rows.append(firm_table(table, 0.0))
    return np.concatenate(rows), regional


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values of the phase: load, failure chances, the expected-experience tables."""
    cs, fs, prm, ws = model.customer_state, model.firm_state, model.params.delivery, model.workspace
    dt = cs.experience.dtype
    load, util = firm_load(model)
    scratch.load, scratch.utilisation = load, util
    fail_week = np.clip(
        prm.base_failure_rate + prm.overload_failure_rate * np.maximum(0.0, util - 1.0), 0.0, 1.0
    )
    fail_step = weekly_rate_to_step(
        np.where(np.isfinite(fail_week), fail_week, 1.0), model.steps_per_year
    )
    tables, regional, p_max = [], [], []
    for m, firms in enumerate(model.industry_firms):
        table, by_region = price_table(model, m, load)
        tables.append(table.astype(dt))
        regional.append(by_region)
        p_max.append(float(fail_step[firms].max()) if len(firms) else 0.0)
    np.copyto(ws.supplier, cs.supplier)
    return SimpleNamespace(
        tables=tables,
        regional=regional,
        p_max=p_max,
        p_fail=firm_table(fail_step, 0.0),
        fail_cols=np.flatnonzero(model.failure_mask),
        severity=dt.type(prm.failure_severity),
        noise=dt.type(prm.noise),
        disclose=fs.disclose.copy(),
        failures=np.zeros(fs.n),
    )


def block(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace, blk: Block) -> None:
    """Experiences of the customers of a block, in every industry."""
    cs, ws, draws = model.customer_state, model.workspace, model.draws
    k, n_firms, rows = len(model.attributes), model.firm_state.n, blk.rows
    x = ws.blocks("x", k, cs.experience.dtype)[: blk.size]
    for m in range(len(model.industries)):
        sup, key = blk.supplier[m], blk.key[m]  # key -1 (no supplier) takes a table's last row
        if ctx.regional[m]:
            key = np.where(sup < 0, n_firms, sup) + cs.region[rows] * (n_firms + 1)
        np.take(ctx.tables[m], key, axis=0, out=x, mode="wrap")
        if ctx.noise > 0:
            z = draws.normal("noise", m, rows, k)  # float32
            if z.dtype == x.dtype:
                z *= ctx.noise
                x += z
            else:
                x += z * ctx.noise
        cand, u = draws.below("failure", m, rows, ctx.p_max[m])
        hit = cand[u < ctx.p_fail[sup[cand]]]
        if len(hit):
            x[np.ix_(hit, ctx.fail_cols)] -= ctx.severity
        np.clip(x, 0.0, 1.0, out=x)
        put_where(cs.experience[m, rows], x, blk.served[m])
        fail = ws.failure[m, rows]
        fail[:] = False
        fail[hit] = True
        cs.failed[m, rows] = fail
        blk.set_warned(m, hit[ctx.disclose[sup[hit]]])
        ctx.failures += np.bincount(sup[hit], minlength=n_firms)


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Hand the phase's tallies to the scratch."""
    scratch.failures = ctx.failures


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Draw every served customer's experience X for this step (writes ``experience``)."""
    run_in_blocks(model, scratch, [sys.modules[__name__]])
