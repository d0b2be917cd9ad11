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
computed once per step for every market of a batch by :func:`prepare`; :func:`perceived` is the
rule for one attribute of one customer's experience and :func:`failed` the failure draw, applied
to every served customer by the kernel of ``sim.rules.fused``, which draws the noise and the
failure uniform customer by customer (``sim.draws``: purposes ``"noise"`` and ``"failure"``).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.jit import ONE, ZERO, clip, rule
from sim.params.stacked import StackedParams
from sim.state import BatchScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch


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


def firm_load(batch: MarketBatch) -> tuple[np.ndarray, np.ndarray]:
    """``(load, utilisation)`` ``[B, F]`` of every firm from its current customers and
    capacity; with ``mechanisms.overload`` off the load is 1 whatever the utilisation."""
    fs, P = batch.firm_state, batch.params
    cap = fs.capacity * batch.size
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, fs.customers / np.maximum(cap, 1e-12), np.inf)
        util = np.where(fs.customers == 0, 0.0, util)
        load = np.where(util > 1, 1.0 / util, 1.0) ** P.delivery.load_exponent
    return np.where(P.mechanisms.overload, load, 1.0), util


def reference_prices(batch: MarketBatch) -> np.ndarray:
    """``[B, R, M]`` mean price of the active firms visible from each region, per industry."""
    fs = batch.firm_state
    vis = batch.visible.astype(float)  # [B, R, F]
    onehot = np.zeros((batch.F, batch.M))
    onehot[np.arange(batch.F), fs.industry[0]] = 1.0
    count = vis @ onehot
    total = vis @ (onehot[None] * fs.price[:, :, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def value_from_price(batch: MarketBatch) -> np.ndarray:
    """``[B, M, R, F]``: what firm f's price adds to the value its customers in region r of
    industry m perceive, ``price_sensitivity * (ref_price - price(f)) / ref_price`` (NaN where no
    firm of the industry is visible; the switch ``price_value`` is the caller's)."""
    fs, P = batch.firm_state, batch.params
    ref = reference_prices(batch)[:, :, :, None]  # [B, R, M, 1]
    sens = P.delivery.price_sensitivity[:, :, None, None]
    price = fs.price[:, None, None, :]  # [B, 1, 1, F]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sens * (ref - price) / ref).transpose(0, 2, 1, 3)


def expected_experience(batch: MarketBatch, load: np.ndarray) -> np.ndarray:
    """``[B, M, R, F + 1, K]``: the experience each firm's customers in region r of industry m
    can expect before noise and failures, ``Q * load``, the value attribute perceived from the
    firm's price against the region's reference price (``price_value``); the last firm row, for
    customers without a supplier, 0."""
    fs, P = batch.firm_state, batch.params
    out = np.zeros((batch.B, batch.M, batch.R, batch.F + 1, batch.K))
    out[:, :, :, : batch.F] = (fs.capability * load[:, :, None])[:, None, None]
    kv = batch.price_index
    if kv >= 0:
        value = fs.capability[:, None, None, :, kv] + value_from_price(batch)  # [B, M, R, F]
        on = P.mechanisms.price_value[:, :, None, None]
        out[:, :, :, : batch.F, kv] = np.where(on, value, out[:, :, :, : batch.F, kv])
    return out


def constants(P: StackedParams, steps_per_year: int) -> dict[str, tuple[np.ndarray, str]]:
    """The phase's constants for the kernels (name: ``[B]`` values, kind)."""
    prm = P.delivery
    return {"noise": (prm.noise, "f"), "severity": (prm.failure_severity, "f")}


def prepare(batch: MarketBatch, scratch: BatchScratch) -> SimpleNamespace:
    """Firm-level values of the phase: load, failure chances, the expected-experience tables."""
    fs, P = batch.firm_state, batch.params
    prm = P.delivery
    load, util = firm_load(batch)
    scratch.load, scratch.utilisation = load, util
    overload = np.where(P.mechanisms.overload, prm.overload_failure_rate, 0.0)
    backlog = P.economics.backlog_failure * fs.backlog  # unfinished work fails
    base = prm.base_failure_rate * (1.0 + backlog)
    fail_week = np.clip(base + overload * np.maximum(0.0, util - 1.0), 0.0, 1.0)
    fail_step = weekly_rate_to_step(
        np.where(np.isfinite(fail_week), fail_week, 1.0), batch.steps_per_year
    )
    tables = expected_experience(batch, load)
    # ``ws.supplier`` (who delivered) is written by the phases' kernel as it reads each block
    # of suppliers (``sim.rules.fused.customer_rows``): a copy here took 2.2 ms a step at 1M
    # customers, on one thread, reading and writing 12 MB the kernel then read again
    return SimpleNamespace(
        tables=tables.reshape(batch.B, batch.M, -1, batch.K).astype(batch.dtype),
        p_fail=batch.firm_table(fail_step, 0.0),
        disclose=batch.firm_table(fs.disclose, False),
        failure_attribute=np.asarray(batch.failure_mask, bool),
    )
