"""What a firm decides and sees: one firm's :class:`Decision`, many firms' :class:`Decisions`.

A built-in strategy (``sim.strategies``) states its policy once, as an array form
(``Strategy.decide_all``) that edits the rows of :class:`Decisions` for many firms at once (the
firms of that policy in every market of a batch) seeing their :class:`FirmRows`. One firm's
:class:`Decision` (``Strategy.decide``, seeing the firm and its :class:`MarketView`) is decided by
the same array form on one row: :meth:`FirmRows.of` and :meth:`Decisions.of` make the row,
:meth:`Decisions.put` writes it back. A user strategy may write ``decide`` alone instead.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BUDGET_ITEMS",
    "DEFAULT_ALLOCATION",
    "RETENTION_TACTICS",
    "Decision",
    "Decisions",
    "FirmRows",
    "MarketView",
]

BUDGET_ITEMS = ("capability", "capacity", "marketing", "retention")
RETENTION_TACTICS = ("extras", "promotions", "personal", "aftercare")
DEFAULT_ALLOCATION = (0.3, 0.3, 0.25, 0.15)


@dataclass
class Decision:
    """What a firm does this step. Policies fill it in order; the model reads it.

    Attributes
    ----------
    promise
        What the firm tells the market, per attribute, 0..1.
    allocation
        Shares of the discretionary budget for capability, capacity, marketing and retention
        (normalised to sum 1 by the model).
    focus
        Where capability investment goes and whom marketing targets: weights per attribute.
    disclose
        Whether customers are told about a failure before they meet it.
    price
        The firm's price per customer per year (starts at its current price; a strategy that
        reacts to rivals may change it).
    retention_mix
        How the retention budget splits over the tactics extras, promotions, personal contact
        and aftercare (``sim.rules.retention``; normalised by the model; even by default).
    feature_share
        Share of capability spending on new features (which raise the focus attributes and win
        prospects, and leave a backlog of unfinished work) rather than on fixes and reliability
        for current customers (which raise the failure attributes and clear the backlog).
    teaching
        Share of marketing spending on teaching customers to value the focus attributes
        (``sim.rules.teaching``) rather than on winning them.
    """

    promise: np.ndarray
    allocation: np.ndarray = field(default_factory=lambda: np.array(DEFAULT_ALLOCATION))
    focus: np.ndarray | None = None
    disclose: bool = False
    price: float | None = None
    retention_mix: np.ndarray = field(default_factory=lambda: np.full(4, 0.25))
    feature_share: float = 0.5
    teaching: float = 0.0

    def set_retention_mix(self, **shares: float) -> None:
        """Set the retention budget's split by tactic name (extras, promotions, personal,
        aftercare); tactics not named get 0."""
        unknown = set(shares) - set(RETENTION_TACTICS)
        if unknown:
            raise ValueError(f"unknown retention tactic {sorted(unknown)}; {RETENTION_TACTICS}")
        self.retention_mix = np.array([float(shares.get(t, 0.0)) for t in RETENTION_TACTICS])

    def set_allocation(self, **shares: float) -> None:
        """Set some budget shares by name, scaling the others to fill the rest."""
        for name in shares:
            if name not in BUDGET_ITEMS:
                raise ValueError(f"unknown budget item {name!r}; expected {BUDGET_ITEMS}")
        fixed = sum(shares.values())
        rest = [i for i, n in enumerate(BUDGET_ITEMS) if n not in shares]
        free = self.allocation[rest].sum()
        scale = max(0.0, 1.0 - fixed) / free if free > 0 else 0.0
        new = self.allocation.copy()
        new[rest] *= scale
        for name, share in shares.items():
            new[BUDGET_ITEMS.index(name)] = share
        self.allocation = new


@dataclass
class MarketView:
    """What a firm can observe of its industry this step: public prices, customer counts and
    reviews of every active firm there (itself included, at ``own``), and the customers' mean
    attribute weights (what a market study would tell it).

    Attributes
    ----------
    own
        Position of the firm itself in the arrays below.
    prices, customers
        ``[F_m]`` each active firm's price and customers.
    reviews
        ``[F_m, K]`` the mean experience in each firm's public reviews (NaN: none yet).
    weights
        ``[K]`` the customers' mean attribute weights.
    step, steps_per_year
        The model's clock.
    """

    own: int
    prices: np.ndarray
    customers: np.ndarray
    reviews: np.ndarray
    weights: np.ndarray
    step: int
    steps_per_year: int

    @property
    def share(self) -> float:
        """The firm's share of the industry's served customers."""
        total = self.customers.sum()
        return float(self.customers[self.own] / total) if total > 0 else 0.0


@dataclass
class FirmRows:
    """What the array form of a strategy sees of ``n`` firms (rows of several markets).

    Attributes
    ----------
    capability
        ``[n, K]`` what each firm can deliver per attribute.
    customers
        ``[n]`` each firm's current customers.
    capacity
        ``[n]`` customers each firm can serve at full quality, as a share of its market.
    size
        ``[n]`` the customers of each firm's market.
    attributes
        The attributes' names (``K``).
    """

    capability: np.ndarray
    customers: np.ndarray
    capacity: np.ndarray
    size: np.ndarray
    attributes: list[str]

    @classmethod
    def of(cls, firm: Any) -> FirmRows:
        """One row: what the array form sees of ``firm`` (a ``sim.agents.Firm``: its
        ``capability``, ``customers``, ``capacity`` and ``model``'s ``n_customers`` and
        ``attributes``)."""
        model = firm.model
        return cls(
            capability=np.array(firm.capability, np.float64, ndmin=2),
            customers=np.array([firm.customers]),
            capacity=np.array([firm.capacity], np.float64),
            size=np.array([model.n_customers], np.float64),
            attributes=model.attributes,
        )


@dataclass
class Decisions:
    """What ``n`` firms do this step, one row per firm: the fields of :class:`Decision` as arrays
    (``promise`` and ``focus`` ``[n, K]``, ``allocation`` and ``retention_mix`` ``[n, 4]``, the
    others ``[n]``). The array forms of the strategies edit the rows in place, in the order of
    their composition."""

    promise: np.ndarray
    allocation: np.ndarray
    focus: np.ndarray
    disclose: np.ndarray
    price: np.ndarray
    retention_mix: np.ndarray
    feature_share: np.ndarray
    teaching: np.ndarray

    @classmethod
    def of(cls, decision: Decision, firm: Any) -> Decisions:
        """One row holding ``decision`` of ``firm`` (a copy; a ``focus`` or ``price`` of None is
        filled as the model reads it: an even focus, the firm's current price)."""
        promise = np.array(decision.promise, np.float64, ndmin=2)
        focus = decision.focus
        if focus is None:
            k = len(firm.capability)
            focus = np.full(k, 1.0 / k)
        return cls(
            promise=promise,
            allocation=np.array(decision.allocation, np.float64, ndmin=2),
            focus=np.array(focus, np.float64, ndmin=2),
            disclose=np.array([decision.disclose], bool),
            price=np.array([firm.price if decision.price is None else decision.price], np.float64),
            retention_mix=np.array(decision.retention_mix, np.float64, ndmin=2),
            feature_share=np.array([decision.feature_share], np.float64),
            teaching=np.array([decision.teaching], np.float64),
        )

    def put(self, decision: Decision, row: int = 0) -> None:
        """Write row ``row`` into ``decision`` (arrays as arrays, the others as Python
        scalars)."""
        decision.promise = self.promise[row]
        decision.allocation = self.allocation[row]
        decision.focus = self.focus[row]
        decision.disclose = bool(self.disclose[row])
        decision.price = float(self.price[row])
        decision.retention_mix = self.retention_mix[row]
        decision.feature_share = float(self.feature_share[row])
        decision.teaching = float(self.teaching[row])

    def set_allocation(self, shares: dict[str, np.ndarray]) -> None:
        """:meth:`Decision.set_allocation` for every row: ``shares`` maps budget items to
        ``[n]`` shares; the other items are scaled to fill the rest."""
        for name in shares:
            if name not in BUDGET_ITEMS:
                raise ValueError(f"unknown budget item {name!r}; expected {BUDGET_ITEMS}")
        fixed = sum(shares.values())
        rest = [i for i, n in enumerate(BUDGET_ITEMS) if n not in shares]
        free = self.allocation[:, rest].sum(axis=1)
        positive = free > 0
        scale = np.zeros_like(free)
        np.divide(np.maximum(0.0, 1.0 - fixed), free, out=scale, where=positive)
        new = self.allocation.copy()
        new[:, rest] *= scale[:, None]
        for name, share in shares.items():
            new[:, BUDGET_ITEMS.index(name)] = share
        self.allocation = new
