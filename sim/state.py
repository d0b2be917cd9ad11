"""The model's state: customers and firms as a structure of numpy arrays.

Customers are rows ``n`` (N of them), industries ``m`` (M), attributes ``k`` (K), firms ``f`` (F).
Every rule reads and writes these arrays in place, all customers at once. Mesa agents
(``sim.agents``) are views onto rows of them.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["FLOAT", "CustomerState", "FirmState", "StepScratch"]

FLOAT = np.float64
"""Floating point type of every state array."""

NO_FIRM = -1
"""Value of ``supplier`` for a customer with no supplier in an industry."""


@dataclass
class CustomerState:
    """Per-customer arrays. Per-industry arrays are industry-major, ``[M, N]`` or ``[M, N, K]``,
    so that one industry's customers are contiguous for the step's gathers and scatters."""

    segment: np.ndarray  # [N] int16, index into the scenario's segments
    region: np.ndarray  # [N] int32
    weights: np.ndarray  # [N, K] attribute weights, rows sum to 1
    disposition: np.ndarray  # [N] lasting personal offset in how the customer rates, points
    supplier: np.ndarray  # [M, N] int32 firm index or NO_FIRM
    expectation: np.ndarray  # [M, N, K] E, 0..1
    experience: np.ndarray  # [M, N, K] X of the last step served, 0..1
    satisfaction: np.ndarray  # [M, N] S, running average, 0..10
    last_satisfaction: np.ndarray  # [M, N] s of the last step served, 0..10
    trust: np.ndarray  # [M, N] T, 0..1
    commitment: np.ndarray  # [M, N] 0..1
    tenure: np.ndarray  # [M, N] int32 steps with the current supplier
    joined: np.ndarray  # [M, N] int32 step the current relationship began (-1: before the run)
    failed: np.ndarray  # [M, N] bool: last experience was a failure
    steps_since_recovery: np.ndarray  # [M, N] int32 steps since the last answered complaint (large = never)
    complaints: np.ndarray  # [M, N] int32 complaints made to the current supplier
    answered: np.ndarray  # [M, N] int32 of which answered
    switches: np.ndarray  # [M, N] int32 supplier changes
    benchmark: np.ndarray  # [N, K] best recent experience anywhere, 0..1
    heard: np.ndarray  # [M, N, K] what friends said about the industry's firms, 0..1
    attitude: np.ndarray  # [F, N] -1..1, what the customer thinks of each firm from hearsay

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.segment)

    @classmethod
    def empty(cls, n: int, m: int, k: int, f: int) -> CustomerState:
        """Arrays for ``n`` customers, ``m`` industries, ``k`` attributes and ``f`` firms."""
        return cls(
            segment=np.zeros(n, np.int16),
            region=np.zeros(n, np.int32),
            weights=np.full((n, k), 1.0 / k, FLOAT),
            disposition=np.zeros(n, FLOAT),
            supplier=np.full((m, n), NO_FIRM, np.int32),
            expectation=np.full((m, n, k), 0.5, FLOAT),
            experience=np.full((m, n, k), np.nan, FLOAT),
            satisfaction=np.full((m, n), np.nan, FLOAT),
            last_satisfaction=np.full((m, n), np.nan, FLOAT),
            trust=np.zeros((m, n), FLOAT),
            commitment=np.zeros((m, n), FLOAT),
            tenure=np.zeros((m, n), np.int32),
            joined=np.full((m, n), -1, np.int32),
            failed=np.zeros((m, n), bool),
            steps_since_recovery=np.full((m, n), 1_000_000, np.int32),
            complaints=np.zeros((m, n), np.int32),
            answered=np.zeros((m, n), np.int32),
            switches=np.zeros((m, n), np.int32),
            benchmark=np.zeros((n, k), FLOAT),
            heard=np.full((m, n, k), np.nan, FLOAT),
            attitude=np.zeros((f, n), FLOAT),
        )

    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


@dataclass
class FirmState:
    """Per-firm arrays (F rows)."""

    industry: np.ndarray  # [F] int
    region: np.ndarray  # [F] int, -1 for national
    capability: np.ndarray  # [F, K] Q
    promise: np.ndarray  # [F, K] P
    focus: np.ndarray  # [F, K] where investment goes, sums to 1
    allocation: np.ndarray  # [F, 4] budget shares: capability, capacity, marketing, retention
    disclose: np.ndarray  # [F] bool
    capacity: np.ndarray  # [F] share of market customers served at full quality
    price: np.ndarray  # [F]
    unit_cost: np.ndarray  # [F]
    capacity_cost: np.ndarray  # [F]
    base_budget: np.ndarray  # [F]
    budget_share: np.ndarray  # [F]
    cash: np.ndarray  # [F] per market customer
    entry_step: np.ndarray  # [F] int
    alive: np.ndarray  # [F] bool: has not exited
    steps_negative: np.ndarray  # [F] int, consecutive steps with negative cash
    exit_step: np.ndarray  # [F] int, -1 while alive
    customers: np.ndarray  # [F] int, current customer count
    review_sum: np.ndarray  # [F] decayed sum of review scores
    review_weight: np.ndarray  # [F] decayed count of reviews
    review_attr: np.ndarray  # [F, K] decayed sum of reviewers' experience
    marketing: np.ndarray  # [F] marketing spend per market customer per year, this step
    retention: np.ndarray  # [F] retention spend per own customer per year, this step
    revenue: np.ndarray  # [F] per market customer per year, this step
    profit: np.ndarray  # [F] per market customer per year, this step

    @property
    def n(self) -> int:
        """Number of firms."""
        return len(self.industry)

    @property
    def national(self) -> np.ndarray:
        """Whether each firm serves every region."""
        return self.region < 0

    def active(self, step: int) -> np.ndarray:
        """Firms in the market at ``step``: entered and not exited."""
        return self.alive & (self.entry_step <= step)


@dataclass
class StepScratch:
    """What one step's phases pass to the next and to the metrics (per industry lists)."""

    served: list[np.ndarray] = field(default_factory=list)  # customers served, per industry
    firm: list[np.ndarray] = field(default_factory=list)  # their supplier
    failure: list[np.ndarray] = field(default_factory=list)  # bool per served customer
    warned: list[np.ndarray] = field(default_factory=list)  # failure disclosed beforehand
    step_satisfaction: list[np.ndarray] = field(default_factory=list)
    disconfirmation: list[np.ndarray] = field(default_factory=list)
    satisfaction_before: list[np.ndarray] = field(default_factory=list)  # S before this step
    expectation_used: list[np.ndarray] = field(default_factory=list)  # E before this step's update
    load: np.ndarray | None = None  # [F] quality factor
    utilisation: np.ndarray | None = None  # [F] customers / capacity
    complaints: np.ndarray | None = None  # [F]
    answered: np.ndarray | None = None  # [F]
    wom_positive: np.ndarray | None = None  # [F] messages sent
    wom_negative: np.ndarray | None = None  # [F]
    wom_reach: np.ndarray | None = None  # [F] listeners reached
    churned: np.ndarray | None = None  # [F] customers lost
    base: np.ndarray | None = None  # [F] customers at the start of the step
    switched_in: np.ndarray | None = None  # [F] customers won from rivals
    acquired: np.ndarray | None = None  # [F] customers won from the unserved
    just_left: list[np.ndarray] = field(default_factory=list)  # left to unserved, per industry
    exits: list[int] = field(default_factory=list)
