"""The model's state: customers and firms as a structure of numpy arrays.

Customers are rows ``n`` (N of them), industries ``m`` (M), attributes ``k`` (K), firms ``f`` (F).
Every rule reads and writes these arrays in place, all customers at once. Mesa agents
(``sim.agents``) are views onto rows of them.

Several markets of one shape are stepped together as one state (``sim.batch``): their customer
arrays are concatenated along the customer axis (:meth:`CustomerState.concat`) and their firm
arrays stacked on a leading market axis, ``[B, F, ...]`` (:meth:`FirmState.stack`); each market
keeps views of its own part (:meth:`CustomerState.part`, :meth:`FirmState.row`), so code that
works on one market reads and writes the batch. Supplier indices are a market's own firm
indices (0..F-1) in both. Code that steps the state writes arrays in place (never rebinds a
field), so the views stay valid.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from sim.arrays import Blocks, Pool

__all__ = [
    "CUSTOMER_AXIS",
    "DETAILS",
    "FLOAT",
    "BatchScratch",
    "CustomerState",
    "FirmState",
    "StepScratch",
    "Workspace",
]

FLOAT = np.float32
"""Default floating point type of the per-customer state arrays (``CustomerMarket(dtype=...)``
chooses per model). float32 halves the memory the step streams through; firm arrays are always
float64. tests/test_precision.py bounds how far float32 runs drift from float64 ones."""

NO_FIRM = -1
"""Value of ``supplier`` for a customer with no supplier in an industry."""

CUSTOMER_AXIS = {
    "segment": 0,
    "region": 0,
    "weights": 0,
    "base_weights": 0,
    "disposition": 0,
    "standard": 0,
    "recommend": 0,
    "price_sensitivity": 0,
    "benchmark": 0,
    "supplier": 1,
    "expectation": 1,
    "experience": 1,
    "satisfaction": 1,
    "last_satisfaction": 1,
    "trust": 1,
    "commitment": 1,
    "tenure": 1,
    "joined": 1,
    "failed": 1,
    "warnings": 1,
    "steps_since_recovery": 1,
    "complaints": 1,
    "answered": 1,
    "switches": 1,
    "heard": 1,
    "attitude": 1,
    # the workspace's
    "failure": 1,
    "expectation_used": 1,
    "satisfaction_before": 1,
    "disconfirmation": 1,
    "left": 1,
}
"""The axis of each per-customer array that runs over customers."""


def _part(array: np.ndarray, name: str, lo: int, hi: int) -> np.ndarray:
    """The view of customers ``lo..hi`` of a per-customer array."""
    if CUSTOMER_AXIS[name] == 0:
        return array[lo:hi]
    return array[:, lo:hi]


def _concat(arrays: list[np.ndarray], name: str) -> np.ndarray:
    return np.concatenate(arrays, axis=CUSTOMER_AXIS[name])


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

    @staticmethod
    def concat(states: list[CustomerState]) -> CustomerState:
        """The customers of several markets one after another (copies)."""
        names = [f.name for f in fields(CustomerState)]
        return CustomerState(**{n: _concat([getattr(s, n) for s in states], n) for n in names})

    def part(self, lo: int, hi: int) -> CustomerState:
        """Views of customers ``lo..hi`` (writes through them reach this state)."""
        return CustomerState(
            **{f.name: _part(getattr(self, f.name), f.name, lo, hi) for f in fields(self)}
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
    """Per-firm arrays (F rows), or ``[B, F, ...]`` for a batch of markets (:meth:`stack`)."""

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
        """Number of firms (of each market)."""
        return self.industry.shape[-1]

    @property
    def national(self) -> np.ndarray:
        """Whether each firm serves every region."""
        return self.region < 0

    def active(self, step: Any) -> np.ndarray:
        """Firms in the market at ``step``: entered and not exited (``step`` a number, or
        ``[B, 1]`` for a batch)."""
        return self.alive & (self.entry_step <= step)

    @staticmethod
    def stack(states: list[FirmState]) -> FirmState:
        """The firms of several markets with a leading market axis (copies)."""
        names = [f.name for f in fields(FirmState)]
        return FirmState(**{n: np.stack([getattr(s, n) for s in states]) for n in names})

    def row(self, b: int) -> FirmState:
        """Views of market ``b``'s firms of a stacked state."""
        return FirmState(**{f.name: getattr(self, f.name)[b] for f in fields(self)})

    def lift(self) -> FirmState:
        """Views of one market's firms with a market axis of length 1 (a batch of one)."""
        return FirmState(**{f.name: getattr(self, f.name)[None] for f in fields(self)})


@dataclass
class Workspace:
    """Per-customer arrays a step fills and the next step overwrites (allocated once per model,
    or per batch).

    ``supplier``, ``failure``, ``expectation_used``, ``satisfaction_before`` and
    ``disconfirmation`` describe the last step's deliveries, per industry ``[M, N]``
    (``[M, N, K]``): the supplier at delivery (-1 for none), whether the experience was a
    failure, the expectation it was judged against, the running satisfaction before it and the
    weighted disconfirmation it was rated with. Rows of customers not served that step hold
    stale values; the last three are written only by the steps of a batch that keeps its
    details (``MarketBatch.details``). ``left`` marks who left for no firm in this step's
    switching (they wait a step before they may adopt again).
    """

    supplier: np.ndarray  # [M, N] int32
    failure: np.ndarray  # [M, N] bool
    expectation_used: np.ndarray  # [M, N, K]
    satisfaction_before: np.ndarray  # [M, N]
    disconfirmation: np.ndarray  # [M, N] the weighted disconfirmation d of the step
    left: np.ndarray  # [M, N] bool: left to no firm in this step's switching
    blocks: Blocks = field(default_factory=Blocks)  # the block loops' temporaries
    pool: Pool = field(default_factory=Pool)  # the compiled kernels' temporaries

    ARRAYS = (
        "supplier",
        "failure",
        "expectation_used",
        "satisfaction_before",
        "disconfirmation",
        "left",
    )

    @classmethod
    def for_state(cls, cs: CustomerState) -> Workspace:
        """Buffers shaped like ``cs``."""
        m, n, k = cs.expectation.shape
        return cls(
            supplier=np.full((m, n), -1, np.int32),
            failure=np.zeros((m, n), bool),
            expectation_used=np.zeros((m, n, k), cs.expectation.dtype),
            satisfaction_before=np.zeros((m, n), cs.satisfaction.dtype),
            disconfirmation=np.zeros((m, n), cs.satisfaction.dtype),
            left=np.zeros((m, n), bool),
        )

    def part(self, lo: int, hi: int) -> Workspace:
        """Views of customers ``lo..hi`` (its own block and pool buffers)."""
        return Workspace(**{n: _part(getattr(self, n), n, lo, hi) for n in self.ARRAYS})


TALLY_NAMES = (
    "failures",  # failures delivered
    "warnings",  # failures announced to the customer
    "served_count",  # customers served this step
    "experience_sum",  # sum of w.X over them (recorded steps)
    "expectation_sum",  # sum of w.E_used over them (recorded steps)
    "complaints",
    "answered",
    "wom_positive",  # messages sent
    "wom_negative",
    "wom_reach",  # listeners reached
    "churned",  # customers lost
    "switched_in",  # customers won from rivals
    "acquired",  # customers won from the unserved
)
"""Per-firm counts and sums of one step, in the order of :attr:`BatchScratch.tallies`."""


class BatchScratch:
    """What one step of a batch passes from phase to phase and to the metrics.

    ``tallies`` is ``[B, F, len(TALLY_NAMES)]`` float64, filled by the phases; each tally is
    also an attribute (``scratch.churned``, ``[B, F]``, a view). ``recording`` says which
    markets record their metrics this step. ``load`` and ``utilisation`` are the firms' quality
    factor and customers over capacity at the start of the step; ``base`` the customers at
    the start of the step; ``exits`` the ``(market, firm)`` pairs that exited; ``details``
    whether the step kept its details in the workspace (``MarketBatch.details``).
    """

    def __init__(self, n_markets: int, n_firms: int, recording: np.ndarray) -> None:
        self.recording = recording  # [B] bool
        self.tallies = np.zeros((n_markets, n_firms, len(TALLY_NAMES)))
        for i, name in enumerate(TALLY_NAMES):
            setattr(self, name, self.tallies[:, :, i])
        self.load: np.ndarray | None = None  # [B, F]
        self.utilisation: np.ndarray | None = None  # [B, F]
        self.base: np.ndarray | None = None  # [B, F]
        self.exits: list[tuple[int, int]] = []
        self.details = False


DETAILS = ("expectation_used", "satisfaction_before", "disconfirmation")
"""The step's details (:class:`StepScratch`), kept only by a batch that asks for them."""


class StepScratch:
    """One market's view of what its last step left: per-firm tallies ``[F]`` and the
    per-customer values of the step.

    Per-customer values of the step live in the workspace as whole-industry slabs; the
    per-industry lists below (``served``, ``firm``, ``failure``, ``warned``, ``step_satisfaction``,
    ``disconfirmation``, ``satisfaction_before``, ``expectation_used``: one array per industry,
    aligned with the customers served that step) are built from them on first use and are valid
    until the model's next step. The last three, the step's details (:data:`DETAILS`), are
    there only when the step kept them (``model.batch.details = True`` before the step).
    """

    def __init__(self, model: Any, batch: BatchScratch, b: int) -> None:
        self.model = model
        self.recording = bool(batch.recording[b])
        for name in TALLY_NAMES:
            setattr(self, name, getattr(batch, name)[b])
        self.load = batch.load[b]
        self.utilisation = batch.utilisation[b]
        self.base = batch.base[b]
        self.exits = [f for market, f in batch.exits if market == b]
        self.details = batch.details
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
                    *DETAILS,
                )
            }
            for m in range(ws.supplier.shape[0]):
                served = np.flatnonzero(ws.supplier[m] >= 0)
                f = ws.supplier[m][served]
                failure = ws.failure[m][served]
                out["served"].append(served)
                out["firm"].append(f)
                out["failure"].append(failure)
                out["warned"].append(failure & fs.disclose[f])
                out["step_satisfaction"].append(cs.last_satisfaction[m][served])
                if self.details:  # the served customers' rows of each detail
                    for name in DETAILS:
                        out[name].append(np.take(getattr(ws, name)[m], served, 0))
            self._lists = out
        return self._lists

    def _detail(self, name: str) -> list[np.ndarray]:
        if not self.details:
            raise RuntimeError(
                f"the step did not keep {name!r}, one of its details {DETAILS}: set "
                "model.batch.details = True before the step (sim.batch.MarketBatch.details)"
            )
        return self._compact()[name]

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
        lambda self: self._detail("disconfirmation"),
        doc="this step's weighted disconfirmation d",
    )
    satisfaction_before = property(
        lambda self: self._detail("satisfaction_before"),
        doc="running satisfaction S before this step",
    )
    expectation_used = property(
        lambda self: self._detail("expectation_used"),
        doc="the expectation the experience was judged against",
    )
