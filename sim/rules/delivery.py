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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import put_rows
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


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Draw every served customer's experience X for this step (writes ``experience``)."""
    cs, fs, prm = model.customer_state, model.firm_state, model.params.delivery
    rng, k = model.rng, len(model.attributes)
    load, util = firm_load(model)
    scratch.load, scratch.utilisation = load, util
    fail_week = np.clip(prm.base_failure_rate + prm.overload_failure_rate
                        * np.maximum(0.0, util - 1.0), 0.0, 1.0)
    fail_step = weekly_rate_to_step(np.where(np.isfinite(fail_week), fail_week, 1.0),
                                    model.steps_per_year)
    ref_price = reference_prices(model)
    kv = model.price_index
    for m in range(len(model.industries)):
        served = np.flatnonzero(cs.supplier[m] >= 0)
        f = cs.supplier[m][served]
        x = np.take(fs.capability, f, axis=0) * load[f, None]
        if kv >= 0:
            ref = ref_price[cs.region[served], m]
            x[:, kv] = fs.capability[f, kv] + prm.price_sensitivity * (ref - fs.price[f]) / ref
        if prm.noise > 0:
            x += prm.noise * rng.standard_normal((len(served), k))
        failure = rng.random(len(served)) < fail_step[f]
        x[np.ix_(failure, model.failure_mask)] -= prm.failure_severity
        np.clip(x, 0.0, 1.0, out=x)
        put_rows(cs.experience[m], served, x)
        cs.failed[m][served] = failure
        scratch.served.append(served)
        scratch.firm.append(f)
        scratch.failure.append(failure)
        scratch.warned.append(failure & fs.disclose[f])
