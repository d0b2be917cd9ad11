"""A market's initial state, built from its scenario (docs/MODEL.md section 5).

:func:`build_firms` makes the firms' arrays from the ``[[firms]]`` tables, :func:`build_customers`
draws the customers' regions, segments, dispositions, personal standards and weights, and
:func:`seed_customers`, once the firms have made their first decisions, sets every customer's
initial expectations and trust and draws the firms' initial customer bases.
:class:`~sim.model.CustomerMarket` calls them in this order, which the random stream depends on.

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.network import region_of
from sim.rules import choice
from sim.rules.retention import DEFAULT_MIX
from sim.scenario import Scenario, ScenarioError, blamed
from sim.state import CustomerState, FirmState

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = ["build_customers", "build_firms", "seed_customers"]


def build_firms(scenario: Scenario, industries: list[str], attributes: list[str]) -> FirmState:
    """The firms' arrays from the scenario's ``[[firms]]`` tables, before any decision."""
    sc, k = scenario, len(attributes)
    specs = sc.firms
    n_firms = len(specs)

    def per_attribute(value: float | dict[str, float], default: float) -> np.ndarray:
        if isinstance(value, dict):
            return np.array([value.get(a, default) for a in attributes], np.float64)
        return np.full(k, value, np.float64)

    arr = lambda name, dtype=np.float64: np.array([getattr(f, name) for f in specs], dtype)  # noqa: E731
    capability = np.stack([per_attribute(f.capability, 0.6) for f in specs])
    return FirmState(
        industry=np.array([industries.index(f.industry) for f in specs], np.int32),
        region=np.array([-1 if f.region is None else f.region for f in specs], np.int32),
        capability=capability,
        promise=capability.copy(),
        focus=np.full((n_firms, k), 1.0 / k),
        allocation=np.tile([0.3, 0.3, 0.25, 0.15], (n_firms, 1)),
        retention_mix=np.tile(DEFAULT_MIX, (n_firms, 1)),
        promotion_load=np.zeros(n_firms),
        feature_share=np.full(n_firms, 0.5),
        teaching=np.zeros(n_firms),
        teaching_spend=np.zeros(n_firms),
        backlog=np.zeros(n_firms),
        disclose=np.zeros(n_firms, bool),
        capacity=arr("capacity"),
        price=arr("price"),
        unit_cost=arr("unit_cost"),
        capacity_cost=arr("capacity_cost"),
        base_budget=arr("base_budget"),
        budget_share=arr("budget_share"),
        cash=arr("cash"),
        entry_step=arr("entry_step", np.int64),
        alive=np.ones(n_firms, bool),
        steps_negative=np.zeros(n_firms, np.int64),
        exit_step=np.full(n_firms, -1, np.int64),
        customers=np.zeros(n_firms, np.int64),
        review_sum=np.zeros(n_firms),
        review_weight=np.zeros(n_firms),
        review_attr=np.zeros((n_firms, k)),
        review_trust=np.zeros(n_firms),
        review_trust_weight=np.zeros(n_firms),
        marketing=np.zeros(n_firms),
        retention=np.zeros(n_firms),
        revenue=np.zeros(n_firms),
        profit=np.zeros(n_firms),
    )


def build_customers(
    scenario: Scenario,
    rng: np.random.Generator,
    industries: list[str],
    attributes: list[str],
    dtype: Any,
) -> CustomerState:
    """The customers' drawn traits (region, segment, disposition, personal standard, recommend
    offset, weights), from ``rng``; expectations and suppliers are set by :func:`seed_customers`."""
    sc = scenario
    n, k = sc.market.customers, len(attributes)
    cs = CustomerState.empty(n, len(industries), k, len(sc.firms), dtype)
    cs.region[:] = region_of(n, sc.market.regions)
    shares = np.array([s.share for s in sc.segments], float)
    cs.segment[:] = rng.choice(len(shares), size=n, p=shares / shares.sum())
    sat = sc.params.satisfaction
    cs.disposition[:] = sat.disposition_sd * rng.standard_normal(n)
    cs.standard[:] = sc.params.expectations.personal_sd * rng.standard_normal(n)
    cs.recommend[:] = sat.recommend_offset + sat.recommend_sd * rng.standard_normal(n)
    for i, seg in enumerate(sc.segments):
        rows = np.flatnonzero(cs.segment == i)
        cs.price_sensitivity[rows] = seg.price_sensitivity
        mean = np.array([seg.weights.get(a, 0.0) for a in attributes], float)
        mean = mean / mean.sum() if mean.sum() > 0 else np.full(k, 1.0 / k)
        if seg.concentration == 0:
            cs.weights[rows] = mean
        else:
            g = np.zeros((len(rows), k))
            pos = mean > 0
            g[:, pos] = rng.gamma(seg.concentration * mean[pos], size=(len(rows), pos.sum()))
            cs.weights[rows] = g / np.maximum(g.sum(axis=1, keepdims=True), 1e-300)
    cs.base_weights[:] = cs.weights  # the customers' own weights (firms may teach others)
    return cs


def seed_customers(market: CustomerMarket, terms: SimpleNamespace) -> None:
    """Initial expectations and trust, and the initial customer bases of the firms present at
    step 0, for ``market`` joined to a fresh batch that has made its firms' first decisions
    (``terms``: ``choice.terms`` of that batch)."""
    batch, b = market._batch, market._slot
    cs, fs, rng = market.customer_state, market.firm_state, market.rng
    tp = market.params.trust
    anchor = market.params.expectations.join_anchor
    cs.trust[:] = tp.initial  # no one has learned anything of any firm yet
    # the industry norm: what the firms present promise, or, with promises raising no bar
    # (mechanisms.promise_expectations off), what they can deliver
    said = fs.promise if market.params.mechanisms.promise_expectations else fs.capability
    for m, firms in enumerate(market.industry_firms):
        present = firms[fs.entry_step[firms] <= 0]
        norm = said[present].mean(axis=0) if len(present) else said[firms].mean(0)
        cs.expectation[m] = norm
        for f in present:
            target = round(market.scenario.firms[f].initial_share * market.n_customers)
            free = cs.supplier[m] < 0
            if fs.region[f] >= 0:
                free &= cs.region == fs.region[f]
            pool = np.flatnonzero(free)
            if target > len(pool):  # blamed on a --set of it, if one set it
                raise ScenarioError(
                    *blamed(
                        market.scenario,
                        f"firms[{f}].initial_share",
                        f"expected at most {len(pool) / market.n_customers:.3g} "
                        f"(the unserved customers it can reach), got "
                        f"{market.scenario.firms[f].initial_share}",
                    )
                )
            rows = np.sort(rng.choice(pool, size=target, replace=False))
            cs.supplier[m, rows] = f
            cs.commitment[m, rows] = tp.commitment_established
            years = market.scenario.firms[f].initial_tenure_years or tp.initial_tenure_years
            longest = max(1, round(years * market.steps_per_year))
            cs.tenure[m, rows] = rng.integers(0, longest, size=len(rows))
            quality = np.empty((len(rows), len(market.attributes)))
            choice.qualities(
                rows,
                f,
                cs.expectation[m],
                cs.trust[f],
                terms.promise[b],
                terms.review_part[b],
                terms.review_weight[b],
                terms.public[b],
                batch.consts[b],
                quality,
            )
            cs.expectation[m, rows] += anchor * (quality - cs.expectation[m, rows])
