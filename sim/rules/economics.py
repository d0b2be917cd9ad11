"""Phase 9, economics: revenue, costs, investment, cash and exit.

Money is per member of the market population per year, so a scenario means the same at 300
customers and at a million (outputs multiply by N). For firm f with share ``s = customers / N``::

    revenue  = price * s
    unit     = unit_cost * (max(s, ref * scale_floor) / ref) ** -scale_elasticity     (scale)
    costs    = unit * s + capacity_cost * capacity + budget + disclosure cost * warnings
    budget   = base_budget + budget_share * revenue      (split by the strategy's allocation)
    cash    += (revenue - costs) * dt
    features = capability_spend * feature_share      fixes = capability_spend - features
    dQ[k]/dt = (features * focus[k] + fixes * fixing[k]) / capability_cost * (1 - Q[k])
               - capability_decay * max(0, Q[k] - capability_floor)
    dB/dt    = features / backlog_cost - fixes / fix_cost * B          (backlog, B >= 0)
    dcap/dt  = capacity_spend / capacity_build_cost - capacity_decay * capacity

Marketing spend scales the firm's Bass p (acquisition phase); retention spend per own customer is
split over the retention tactics (sim.rules.retention: extras, promotions, personal contact,
aftercare). A firm whose cash stays negative for ``exit_after_weeks`` exits and its
customers become unserved. Each warning of a coming failure costs ``disclosure.cost``
(``mechanisms.disclosure_cost``); with ``mechanisms.focus_investment`` off capability spending
is spread evenly whatever the firm's focus.

Every market of a batch is booked at once (``[B, F]`` arrays, each market's parameters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.jit import add_task_rows, kernel, parallel_kernel, prange, run_tasks
from sim.rules.retention import remember_promotions, tactic_levels
from sim.rules.switching import leave
from sim.state import BatchScratch

if TYPE_CHECKING:
    from sim.batch import MarketBatch


def budget(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` discretionary budget per market customer per year at the current customer
    base."""
    fs = batch.firm_state
    revenue = fs.price * fs.customers / batch.size
    return fs.base_budget + fs.budget_share * revenue


def unit_costs(batch: MarketBatch) -> np.ndarray:
    """``[B, F]`` the cost of serving one customer a year at each firm's current scale:
    ``unit_cost * (max(s, ref * scale_floor) / ref) ** -scale_elasticity`` with ``s`` its share
    of the market and ``ref`` ``economics.scale_reference`` (a tiny firm pays at most
    ``scale_floor ** -e`` times its stated cost)."""
    fs, eco = batch.firm_state, batch.params.economics
    share = np.maximum(fs.customers / batch.size, eco.scale_reference * eco.scale_floor)
    return fs.unit_cost * (share / eco.scale_reference) ** -eco.scale_elasticity


def set_spending(batch: MarketBatch) -> None:
    """Split each active firm's budget by its allocation (run after the firms decide)."""
    fs = batch.firm_state
    active = fs.active(batch.steps)
    alloc = fs.allocation / np.maximum(fs.allocation.sum(axis=2, keepdims=True), 1e-12)
    spend = budget(batch)[..., None] * alloc * active[..., None]
    batch.spending[...] = spend
    fs.teaching_spend[...] = spend[..., 2] * fs.teaching  # teaching what to value
    fs.marketing[...] = spend[..., 2] - fs.teaching_spend  # winning customers
    share = np.maximum(fs.customers / batch.size, 1e-12)
    fs.retention[...] = np.where(fs.customers > 0, spend[..., 3] / share, 0.0)
    batch.tactics[...] = tactic_levels(batch)


@kernel
def task_counts(t, tasks, live, supplier, belongs, counts) -> None:
    """``counts[t, f]``: the customers of firm ``f`` among task ``t``'s (``tasks``: its market,
    first and last customer), when its market is live (``belongs`` ``[M, F]``: firm ``f`` is one
    of industry ``m``'s, the only firms its ``supplier`` row holds). One loop without branches
    per industry and firm, which the compiler takes several customers at a time (a histogram's
    ``counts[b, f] += 1`` waits on the previous add of the same firm: 6.5 against 0.65 ms at 1M
    customers on one thread)."""
    b, lo, hi = tasks[0][t], tasks[1][t], tasks[2][t]
    if not live[b]:
        return
    for m in range(supplier.shape[0]):
        row = supplier[m, lo:hi]
        for f in range(belongs.shape[1]):
            if belongs[m, f]:
                count = 0
                for i in range(len(row)):
                    count += row[i] == f
                counts[t, f] += count


@kernel
def serial_counts(n_tasks, tasks, live, supplier, belongs, counts) -> None:
    """Every task of :func:`task_counts`, one after another."""
    for t in range(n_tasks):
        task_counts(t, tasks, live, supplier, belongs, counts)


@parallel_kernel
def parallel_counts(n_tasks, tasks, live, supplier, belongs, counts) -> None:
    """Every task of :func:`task_counts`, as parallel tasks (each counts in its own row)."""
    for t in prange(n_tasks):
        task_counts(t, tasks, live, supplier, belongs, counts)


def count_customers(batch: MarketBatch) -> None:
    """``firm_state.customers``: each firm's current customers, in every live market, counted
    over the batch's tasks, in parallel, each task's counts then added (whole numbers: the
    same in any order). At 1M customers, after acquisition (the supplier rows not in the
    caches): 2.2 ms of a step market by market on one thread, 0.9-1.0 as tasks on two (6
    December 2026, Intel Xeon)."""
    task_market = batch.tasks[0]
    n_tasks = len(task_market)
    counts = np.zeros((n_tasks, batch.F), np.int64)
    args = (batch.tasks, batch.live, batch.customer_state.supplier, batch.belongs, counts)
    run_tasks(serial_counts, parallel_counts, n_tasks, n_tasks, *args)
    total = np.zeros((batch.B, batch.F), np.int64)
    add_task_rows(task_market, counts, total)
    customers = batch.firm_state.customers
    customers[...] = np.where(batch.live[:, None], total, customers)


@kernel
def end_all(offsets, b, m, f, supplier, satisfaction, commitment, tenure, failed) -> int:
    """End every relationship of firm ``f`` of market ``b`` in industry ``m``; returns how
    many."""
    count = 0
    for i in range(offsets[b], offsets[b + 1]):
        if supplier[m, i] == f:
            leave(i, m, supplier, satisfaction, commitment, tenure, failed)
            count += 1
    return count


def apply(batch: MarketBatch, scratch: BatchScratch) -> None:
    """Book revenue and costs, invest, and retire firms that ran out of cash."""
    fs, P = batch.firm_state, batch.params
    eco, on = P.economics, P.mechanisms
    dt = 1.0 / batch.steps_per_year
    active = fs.active(batch.steps)
    share = fs.customers / batch.size
    spend = batch.spending
    revenue = fs.price * share * active
    costs = (unit_costs(batch) * share + fs.capacity_cost * fs.capacity) * active
    costs = costs + spend.sum(axis=2)
    # each warning costs disclosure.cost, booked as a flow over the step
    warned = P.disclosure.cost * scratch.warnings / batch.size / dt
    costs = costs + np.where(on.disclosure_cost, warned, 0.0)
    fs.revenue[...] = revenue
    fs.profit[...] = revenue - costs
    fs.cash[...] += fs.profit * dt
    remember_promotions(batch)

    q = fs.capability
    even = np.full_like(fs.focus, 1.0 / q.shape[2])
    focus = np.where(on.focus_investment[..., None], fs.focus, even)
    fixing = batch.failure_mask / max(1, batch.failure_mask.sum())  # reliability work
    features = spend[..., 0] * fs.feature_share  # new features: the focus attributes
    fixes = spend[..., 0] - features  # fixes and reliability: the failure attributes, the backlog
    invested = features[..., None] * focus + fixes[..., None] * fixing
    growth = (invested / eco.capability_cost[..., None]) * (1.0 - q)
    decay = eco.capability_decay[..., None] * np.maximum(0.0, q - eco.capability_floor[..., None])
    fs.capability[...] = np.clip(q + dt * (growth - decay) * active[..., None], 0.0, 1.0)
    change = features / eco.backlog_cost - fixes / eco.fix_cost * fs.backlog
    backlog = np.maximum(0.0, fs.backlog + dt * change * active)
    fs.backlog[...] = np.where(on.backlog, backlog, fs.backlog)  # loose ends, cleared by fixes
    fs.capacity[...] = np.maximum(
        0.0,
        fs.capacity
        + dt
        * active
        * (spend[..., 1] / eco.capacity_build_cost - eco.capacity_decay * fs.capacity),
    )

    exits = eco.exit_enabled  # [B, 1]
    negative = np.where(active & (fs.cash < 0), fs.steps_negative + 1, 0)
    fs.steps_negative[...] = np.where(exits, negative, fs.steps_negative)
    limit = eco.exit_after_weeks * batch.steps_per_year / 52.0
    out = exits & active & (fs.steps_negative >= limit) & batch.live[:, None]
    if not out.any():
        return
    cs = batch.customer_state
    for b, f in zip(*np.nonzero(out), strict=True):
        fs.alive[b, f] = False
        fs.exit_step[b, f] = batch.steps
        m = int(fs.industry[b, f])
        left = end_all(
            batch.offsets,
            b,
            m,
            f,
            cs.supplier,
            cs.satisfaction,
            cs.commitment,
            cs.tenure,
            cs.failed,
        )
        scratch.churned[b, f] += left
        scratch.exits.append((int(b), int(f)))
