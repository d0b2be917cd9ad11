"""The model's state: customers and firms as a structure of numpy arrays.

Customers are rows ``n`` (N of them), industries ``m`` (M), attributes ``k`` (K), firms ``f`` (F).
Every rule reads and writes these arrays in place, all customers at once. Mesa agents
(``sim.agents``) are views onto rows of them.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from sim.arrays import Blocks, Pool

__all__ = ["FLOAT", "CustomerState", "FirmState", "StepScratch", "Workspace"]

FLOAT = np.float32
"""Default floating point type of the per-customer state arrays (``CustomerMarket(dtype=...)``
chooses per model). float32 halves the memory the step streams through; firm arrays are always
float64. tests/test_precision.py bounds how far float32 runs drift from float64 ones."""

NO_FIRM = -1
"""Value of ``supplier`` for a customer with no supplier in an industry."""


@dataclass
class CustomerState:
    """Per-customer arrays. Per-industry arrays are industry-major, ``[M, N]`` or ``[M, N, K]``,
    so that one industry's customers are contiguous for the step's gathers and scatters."""

    segment: np.ndarray  # [N] int16, index into the scenario's segments
    region: np.ndarray  # [N] int32
    weights: np.ndarray  # [N, K] attribute weights, rows sum to 1 (firms may teach them)
    base_weights: np.ndarray  # [N, K] the customer's own weights, as drawn at the start
    disposition: np.ndarray  # [N] lasting personal offset in how the customer rates, points
    standard: np.ndarray  # [N] lasting personal offset of the expectation target, attribute units
    recommend: np.ndarray  # [N] personal offset of "would you recommend?" over satisfaction
    price_sensitivity: np.ndarray  # [N] weight of price in choosing a firm (its segment's)
    supplier: np.ndarray  # [M, N] int32 firm index or NO_FIRM
    expectation: np.ndarray  # [M, N, K] E, 0..1
    experience: np.ndarray  # [M, N, K] X of the last step served, 0..1
    satisfaction: np.ndarray  # [M, N] S, running average, 0..10
    last_satisfaction: np.ndarray  # [M, N] s of the last step served, 0..10
    trust: np.ndarray  # [F, N] T: trust in each firm's word (its credibility), 0..1
    commitment: np.ndarray  # [M, N] 0..1
    tenure: np.ndarray  # [M, N] int32 steps with the current supplier
    joined: np.ndarray  # [M, N] int32 step the current relationship began (-1: before the run)
    failed: np.ndarray  # [M, N] bool: last experience was a failure
    warnings: np.ndarray  # [M, N] warnings of failures received recently (decayed count)
    steps_since_recovery: np.ndarray  # [M, N] int32 steps since the last answered complaint
    # (large = never)
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
    def empty(cls, n: int, m: int, k: int, f: int, dtype: Any = FLOAT) -> CustomerState:
        """Arrays for ``n`` customers, ``m`` industries, ``k`` attributes and ``f`` firms, with
        floating point values of type ``dtype``."""
        ft = np.dtype(dtype).type
        return cls(
            segment=np.zeros(n, np.int16),
            region=np.zeros(n, np.int32),
            weights=np.full((n, k), 1.0 / k, ft),
            base_weights=np.full((n, k), 1.0 / k, ft),
            disposition=np.zeros(n, ft),
            standard=np.zeros(n, ft),
            recommend=np.zeros(n, ft),
            price_sensitivity=np.ones(n, ft),
            supplier=np.full((m, n), NO_FIRM, np.int32),
            expectation=np.full((m, n, k), 0.5, ft),
            experience=np.full((m, n, k), np.nan, ft),
            satisfaction=np.full((m, n), np.nan, ft),
            last_satisfaction=np.full((m, n), np.nan, ft),
            trust=np.zeros((f, n), ft),
            commitment=np.zeros((m, n), ft),
            tenure=np.zeros((m, n), np.int32),
            joined=np.full((m, n), -1, np.int32),
            failed=np.zeros((m, n), bool),
            warnings=np.zeros((m, n), ft),
            steps_since_recovery=np.full((m, n), 1_000_000, np.int32),
            complaints=np.zeros((m, n), np.int32),
            answered=np.zeros((m, n), np.int32),
            switches=np.zeros((m, n), np.int32),
            benchmark=np.zeros((n, k), ft),
            heard=np.full((m, n, k), np.nan, ft),
            attitude=np.zeros((f, n), ft),
        )

    def supplier_trust(self, ids: Any = None) -> np.ndarray:
        """``[M, n]`` each customer's trust in its current supplier's word, NaN where it has
        none (``ids``: the customers, default all)."""
        ids = np.arange(self.n) if ids is None else np.asarray(ids)
        sup = self.supplier[:, ids]
        trust = self.trust[np.maximum(sup, 0), ids[None, :]]
        return np.where(sup >= 0, trust, np.nan)

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
    retention_mix: np.ndarray  # [F, 4] retention split: extras, promotions, personal, aftercare
    promotion_load: np.ndarray  # [F] remembered level of promotions (they wear out)
    feature_share: np.ndarray  # [F] share of capability spending on new features (vs fixes)
    teaching: np.ndarray  # [F] share of marketing spending on teaching what to value
    teaching_spend: np.ndarray  # [F] spending on teaching, per market customer per year
    backlog: np.ndarray  # [F] unfinished work left by new features (raises failures)
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
    review_trust: np.ndarray  # [F] decayed sum of reviewers' trust in the firm
    review_trust_weight: np.ndarray  # [F] decayed count of reviews carrying trust
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
class Workspace:
    """Per-customer arrays a step fills and the next step overwrites (allocated once per model).

    ``supplier``, ``failure``, ``expectation_used``, ``satisfaction_before`` and
    ``disconfirmation`` describe the last step's deliveries, per industry ``[M, N]``
    (``[M, N, K]``): the supplier at delivery (-1 for none), whether the experience was a
    failure, the expectation it was judged against, the running satisfaction before it and the
    weighted disconfirmation it was rated with. Rows of customers not served that step hold
    stale values.
    """

    supplier: np.ndarray  # [M, N] int32
    failure: np.ndarray  # [M, N] bool
    expectation_used: np.ndarray  # [M, N, K]
    satisfaction_before: np.ndarray  # [M, N]
    disconfirmation: np.ndarray  # [M, N] the weighted disconfirmation d of the step
    rank: np.ndarray  # [N] int64: compact position of a listener in word of mouth
    blocks: Blocks = field(default_factory=Blocks)  # the block loops' temporaries
    pool: Pool = field(default_factory=Pool)  # the compiled kernels' temporaries

    @classmethod
    def for_state(cls, cs: CustomerState) -> Workspace:
        """Buffers shaped like ``cs``."""
        m, n, k = cs.expectation.shape
        return cls(
            supplier=np.empty((m, n), np.int32),
            failure=np.zeros((m, n), bool),
            expectation_used=np.empty((m, n, k), cs.expectation.dtype),
            satisfaction_before=np.empty((m, n), cs.satisfaction.dtype),
            disconfirmation=np.empty((m, n), cs.satisfaction.dtype),
            rank=np.zeros(n, np.int64),
        )


class StepScratch:
    """What one step's phases pass to the next and to the metrics.

    Per-firm tallies (``[F]`` arrays) are filled by the phases. Per-customer values of the step
    live in the model's :class:`Workspace` as whole-industry slabs; the per-industry lists below
    (``served``, ``firm``, ``failure``, ``warned``, ``step_satisfaction``, ``disconfirmation``,
    ``satisfaction_before``, ``expectation_used``: one array per industry, aligned with the
    customers served that step) are built from them on first use and are valid until the model's
    next step.
    """

    def __init__(self, model: Any = None, recording: bool = False) -> None:
        self.model = model
        self.recording = recording  # this step's metrics are recorded
        self.load: np.ndarray | None = None  # [F] quality factor
        self.utilisation: np.ndarray | None = None  # [F] customers / capacity
        self.failures: np.ndarray | None = None  # [F] failures delivered
        self.warnings: np.ndarray | None = None  # [F] failures announced to the customer
        self.served_count: np.ndarray | None = None  # [F] customers served this step
        self.expectation_sum: np.ndarray | None = None  # [F] sum of w.E_used (recorded steps)
        self.experience_sum: np.ndarray | None = None  # [F] sum of w.X (recorded steps)
        self.complaints: np.ndarray | None = None  # [F]
        self.answered: np.ndarray | None = None  # [F]
        self.wom_positive: np.ndarray | None = None  # [F] messages sent
        self.wom_negative: np.ndarray | None = None  # [F]
        self.wom_reach: np.ndarray | None = None  # [F] listeners reached
        self.churned: np.ndarray | None = None  # [F] customers lost
        self.base: np.ndarray | None = None  # [F] customers at the start of the step
        self.switched_in: np.ndarray | None = None  # [F] customers won from rivals
        self.acquired: np.ndarray | None = None  # [F] customers won from the unserved
        self.just_left: list[np.ndarray] = []  # left to unserved this step, per industry
        self.exits: list[int] = []
        self._lists: dict[str, list[np.ndarray]] | None = None

    def _compact(self) -> dict[str, list[np.ndarray]]:
        if self._lists is None:
            model = self.model
            ws, cs, fs = model.workspace, model.customer_state, model.firm_state
            out: dict[str, list[np.ndarray]] = {
                k: []
                for k in (
                    "served",
                    "firm",
                    "failure",
                    "warned",
                    "step_satisfaction",
                    "disconfirmation",
                    "satisfaction_before",
                    "expectation_used",
                )
            }
            for m in range(ws.supplier.shape[0]):
                served = np.flatnonzero(ws.supplier[m] >= 0)
                f = ws.supplier[m][served]
                failure = ws.failure[m][served]
                e = np.take(ws.expectation_used[m], served, axis=0)
                out["served"].append(served)
                out["firm"].append(f)
                out["failure"].append(failure)
                out["warned"].append(failure & fs.disclose[f])
                out["step_satisfaction"].append(cs.last_satisfaction[m][served])
                out["disconfirmation"].append(ws.disconfirmation[m][served])
                out["satisfaction_before"].append(ws.satisfaction_before[m][served])
                out["expectation_used"].append(e)
            self._lists = out
        return self._lists

    served = property(lambda self: self._compact()["served"], doc="customers served, per industry")
    firm = property(lambda self: self._compact()["firm"], doc="their supplier, per industry")
    failure = property(
        lambda self: self._compact()["failure"], doc="whether each served customer met a failure"
    )
    warned = property(lambda self: self._compact()["warned"], doc="failure disclosed beforehand")
    step_satisfaction = property(
        lambda self: self._compact()["step_satisfaction"], doc="this step's satisfaction s"
    )
    disconfirmation = property(
        lambda self: self._compact()["disconfirmation"],
        doc="this step's weighted disconfirmation d",
    )
    satisfaction_before = property(
        lambda self: self._compact()["satisfaction_before"],
        doc="running satisfaction S before this step",
    )
    expectation_used = property(
        lambda self: self._compact()["expectation_used"],
        doc="the expectation the experience was judged against",
    )
