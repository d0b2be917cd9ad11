"""Phase 2, delivery: what each served customer perceives from its supplier this step.

For a customer ``n`` served by firm ``f`` in industry ``m``::

    util(f)  = customers(f) / (capacity(f) * N)
    load(f)  = min(1, 1 / util(f)) ** eta                  (a firm that outgrows its staff degrades)
    X[k]     = Q[f, k] * load(f) + noise * z_k,  z_k ~ N(0, 1)
    X[value] = Q[f, value] + price_sensitivity * (ref_price - price(f)) / ref_price + noise * z
    failure  ~ Bernoulli(base_failure_rate * (1 + backlog_failure * backlog(f))
                         + overload_failure_rate * max(0, util(f) - 1))
    X[k]    -= failure_severity   for k in failure_attributes, if failure
    X        = clip(X, 0, 1)

``ref_price`` is the mean price of the active firms the customer can see in that industry (its
region's local firms and the national ones): price checks are cheap. A firm with ``disclose``
set warns the customers who are about to meet a failure. Switches (``[mechanisms]``):
``overload`` off keeps the load at 1 and the failure chance at the base rate; ``price_value`` off
perceives value like any other attribute, from capability.

The firm-level part (load, failure chances, each firm's expected experience before noise) is
computed once per step by :func:`prepare`; :func:`draw` draws the noise and the failures of a
span of customers; :func:`perceived` is the rule for one attribute of one customer's experience,
applied to every served customer by the kernel of ``sim.rules.fused``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import chunks, firm_table
from sim.jit import ONE, ZERO, clip, rule
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


@rule
def perceived(
    expected: float, z: float, noise: float, failed: bool, failure_attribute: bool, severity: float
) -> float:
    """One attribute of a served customer's experience.

    ``X[k] = expected[k] + noise * z_k``, less ``failure_severity`` on a failure attribute when
    the customer meets a failure, clipped to 0..1; ``expected`` is the firm's row of the table
    of :func:`prepare` (``Q * load``, or the value perceived from price).
    """
    x = expected + z * noise
    if failed and failure_attribute:
        x -= severity
    return clip(x, ZERO, ONE)


def firm_load(model: CustomerMarket) -> tuple[np.ndarray, np.ndarray]:
    """``(load, utilisation)`` of every firm from its current customers and capacity; with
    ``mechanisms.overload`` off the load is 1 whatever the utilisation."""
    fs = model.firm_state
    cap = fs.capacity * model.n_customers
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, fs.customers / np.maximum(cap, 1e-12), np.inf)
        util = np.where(fs.customers == 0, 0.0, util)
        load = np.where(util > 1, 1.0 / util, 1.0) ** model.params.delivery.load_exponent
    if not model.params.mechanisms.overload:
        load = np.ones_like(load)
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


def expected_experience(model: CustomerMarket, m: int, load: np.ndarray) -> np.ndarray:
    """``[R, F + 1, K]``: the experience each firm's customers in region r of industry m can
    expect before noise and failures, ``Q * load`` (the value attribute from the firm's price
    against the region's reference price); the last row, for customers without a supplier, 0."""
    fs, prm = model.firm_state, model.params.delivery
    base = fs.capability * load[:, None]
    kv = model.price_index if model.params.mechanisms.price_value else -1
    n_regions = model.visible.shape[0]
    ref = reference_prices(model)[:, m] if kv >= 0 else np.zeros(n_regions)
    out = np.empty((n_regions, fs.n + 1, fs.capability.shape[1]))
    for r in range(n_regions):
        table = base.copy()
        if kv >= 0:
            with np.errstate(invalid="ignore", divide="ignore"):
                table[:, kv] = (
                    fs.capability[:, kv] + prm.price_sensitivity * (ref[r] - fs.price) / ref[r]
                )
        out[r] = firm_table(table, 0.0)
    return out


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values of the phase: load, failure chances, the expected-experience tables."""
    cs, fs, prm, ws = model.customer_state, model.firm_state, model.params.delivery, model.workspace
    dt = cs.experience.dtype
    load, util = firm_load(model)
    scratch.load, scratch.utilisation = load, util
    overload = prm.overload_failure_rate if model.params.mechanisms.overload else 0.0
    backlog = model.params.economics.backlog_failure * fs.backlog  # unfinished work fails
    base = prm.base_failure_rate * (1.0 + backlog)
    fail_week = np.clip(base + overload * np.maximum(0.0, util - 1.0), 0.0, 1.0)
    fail_step = weekly_rate_to_step(
        np.where(np.isfinite(fail_week), fail_week, 1.0), model.steps_per_year
    )
    p_max = [float(fail_step[firms].max()) if len(firms) else 0.0 for firms in model.industry_firms]
    n_regions, width = model.visible.shape[0], fs.n + 1
    tables = np.empty((len(model.industries), n_regions * width, len(model.attributes)), dt)
    for m in range(len(model.industries)):  # rows region * (F + 1) + firm
        tables[m] = expected_experience(model, m, load).reshape(n_regions * width, -1)
    np.copyto(ws.supplier, cs.supplier)
    return SimpleNamespace(
        tables=tables,
        p_max=p_max,
        p_fail=firm_table(fail_step, 0.0),
        disclose=firm_table(fs.disclose, False),
        failure_attribute=np.asarray(model.failure_mask, bool),
        noise_on=bool(prm.noise > 0),
        constants={"noise": prm.noise, "severity": prm.failure_severity},
        failures=np.zeros(fs.n),
        warnings=np.zeros(fs.n),
    )


def draw(
    model: CustomerMarket,
    ctx: SimpleNamespace,
    lo: int,
    hi: int,
    block: int,
    z: np.ndarray,
    failed: np.ndarray,
) -> None:
    """The noise ``z`` and the failures (``failed``) of customers ``lo..hi``, in blocks of
    ``block`` customers: positions ``i - lo`` of the ``[M, span, K]`` and ``[M, span]``
    buffers. Failures are thinned Bernoulli trials (``GeneratorSource.below``): a uniform only
    for the customers below the industry's largest failure chance, then each customer's own."""
    cs, draws = model.customer_state, model.draws
    k, n_firms = len(model.attributes), model.firm_state.n
    failed[:, : hi - lo] = False
    for rows in chunks(hi - lo, block):
        here = slice(lo + rows.start, lo + rows.stop)  # the block, in customers
        for m in range(len(model.industries)):
            sup = cs.supplier[m, here]
            if ctx.noise_on:
                z[m, rows] = draws.normal("noise", m, here, k)
            cand, u = draws.below("failure", m, here, ctx.p_max[m])
            failing = cand[u < ctx.p_fail[sup[cand]]]
            failed[m, rows.start + failing] = True
            ctx.failures += np.bincount(sup[failing], minlength=n_firms)
            warned = sup[failing][ctx.disclose[sup[failing]]]
            ctx.warnings += np.bincount(warned, minlength=n_firms)


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Hand the phase's tallies to the scratch."""
    scratch.failures = ctx.failures
    scratch.warnings = ctx.warnings
