"""Phase 9, economics: revenue, costs, investment, cash and exit.

Money is per member of the market population per year, so a scenario means the same at 300
customers and at a million (outputs multiply by N). For firm f with share ``s = customers / N``::

    revenue  = price * s
    unit     = unit_cost * (max(s, ref / 16) / ref) ** -scale_elasticity     (economies of scale)
    costs    = unit * s + capacity_cost * capacity + budget + disclosure cost * warnings
    budget   = base_budget + budget_share * revenue      (split by the strategy's allocation)
    cash    += (revenue - costs) * dt
    features = capability_spend * feature_share      fixes = capability_spend - features
    dQ[k]/dt = (features * focus[k] + fixes * fixing[k]) / capability_cost * (1 - Q[k])
               - capability_decay * (Q[k] - 0.2)
    dB/dt    = features / backlog_cost - fixes / fix_cost * B          (backlog, B >= 0)
    dcap/dt  = capacity_spend / capacity_build_cost - capacity_decay * capacity

Marketing spend scales the firm's Bass p (acquisition phase); retention spend per own customer is
split over the retention tactics (sim.rules.retention: extras, promotions, personal contact,
aftercare). A firm whose cash stays negative for ``exit_after_weeks`` exits and its
customers become unserved. Each warning of a coming failure costs ``disclosure.cost``
(``mechanisms.disclosure_cost``); with ``mechanisms.focus_investment`` off capability spending
is spread evenly whatever the firm's focus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.rules.retention import remember_promotions, tactic_levels
from sim.rules.switching import end_relationship
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket

CAPABILITY_FLOOR = 0.2


def budget(model: CustomerMarket) -> np.ndarray:
    """``[F]`` discretionary budget per market customer per year at the current customer base."""
    fs = model.firm_state
    revenue = fs.price * fs.customers / model.n_customers
    return fs.base_budget + fs.budget_share * revenue


def unit_costs(model: CustomerMarket) -> np.ndarray:
    """``[F]`` the cost of serving one customer a year at each firm's current scale:
    ``unit_cost * (max(s, ref / 16) / ref) ** -scale_elasticity`` with ``s`` its share of the
    market and ``ref`` ``economics.scale_reference`` (a tiny firm pays at most 16 ** e times its
    stated cost)."""
    fs, eco = model.firm_state, model.params.economics
    share = np.maximum(fs.customers / model.n_customers, eco.scale_reference / 16.0)
    return fs.unit_cost * (share / eco.scale_reference) ** -eco.scale_elasticity


def set_spending(model: CustomerMarket) -> None:
    """Split each active firm's budget by its allocation (run after the firms decide)."""
    fs = model.firm_state
    active = fs.active(model.steps)
    alloc = fs.allocation / np.maximum(fs.allocation.sum(axis=1, keepdims=True), 1e-12)
    spend = budget(model)[:, None] * alloc * active[:, None]
    model.spending = spend
    fs.teaching_spend = spend[:, 2] * fs.teaching  # teaching what to value (sim.rules.teaching)
    fs.marketing = spend[:, 2] - fs.teaching_spend  # winning customers
    share = np.maximum(fs.customers / model.n_customers, 1e-12)
    fs.retention = np.where(fs.customers > 0, spend[:, 3] / share, 0.0)
    model.tactics = tactic_levels(model)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Book revenue and costs, invest, and retire firms that ran out of cash."""
    fs, eco = model.firm_state, model.params.economics
    dt = 1.0 / model.steps_per_year
    active = fs.active(model.steps)
    share = fs.customers / model.n_customers
    spend = model.spending
    revenue = fs.price * share * active
    costs = (unit_costs(model) * share + fs.capacity_cost * fs.capacity) * active
    costs = costs + spend.sum(axis=1)
    if model.params.mechanisms.disclosure_cost and scratch.warnings is not None:
        # each warning costs disclosure.cost, booked as a flow over the step
        costs = costs + model.params.disclosure.cost * scratch.warnings / model.n_customers / dt
    fs.revenue = revenue
    fs.profit = revenue - costs
    fs.cash += fs.profit * dt
    remember_promotions(model)

    q, on = fs.capability, model.params.mechanisms
    focus = fs.focus if on.focus_investment else np.full_like(fs.focus, 1.0 / q.shape[1])
    fixing = model.failure_mask / max(1, model.failure_mask.sum())  # reliability work
    features = spend[:, 0] * fs.feature_share  # new features: the focus attributes
    fixes = spend[:, 0] - features  # fixes and reliability: the failure attributes, the backlog
    invested = features[:, None] * focus + fixes[:, None] * fixing
    growth = (invested / eco.capability_cost) * (1.0 - q)
    decay = eco.capability_decay * np.maximum(0.0, q - CAPABILITY_FLOOR)
    fs.capability = np.clip(q + dt * (growth - decay) * active[:, None], 0.0, 1.0)
    if on.backlog:  # loose ends of new features, cleared by fixes
        change = features / eco.backlog_cost - fixes / eco.fix_cost * fs.backlog
        fs.backlog = np.maximum(0.0, fs.backlog + dt * change * active)
    fs.capacity = np.maximum(
        0.0,
        fs.capacity
        + dt * active * (spend[:, 1] / eco.capacity_build_cost - eco.capacity_decay * fs.capacity),
    )

    if not eco.exit_enabled:
        return
    fs.steps_negative = np.where(active & (fs.cash < 0), fs.steps_negative + 1, 0)
    limit = eco.exit_after_weeks * model.steps_per_year / 52.0
    for f in np.flatnonzero(active & (fs.steps_negative >= limit)):
        fs.alive[f] = False
        fs.exit_step[f] = model.steps
        m = int(fs.industry[f])
        rows = np.flatnonzero(model.customer_state.supplier[m] == f)
        scratch.churned[f] += len(rows)
        end_relationship(model, rows, m)
        scratch.exits.append(int(f))
