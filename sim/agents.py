"""Mesa agents that are views onto rows of the state arrays.

A :class:`Customer` or :class:`Firm` holds only its row index: reading an attribute reads the
arrays, setting one writes them, so a Mesa user can inspect or nudge an agent and the vectorized
step sees it. Neither agent has a ``step``: the model steps all customers at once.

This module must never import the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from mesa import Agent
from mesa.discrete_space import FixedAgent

from sim.strategies import MarketView

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.strategies import Strategy

__all__ = ["Customer", "Firm"]

PER_CUSTOMER_COLUMN = frozenset(
    {
        "supplier",
        "expectation",
        "experience",
        "satisfaction",
        "trust",
        "commitment",
        "tenure",
        "heard",
        "attitude",
    }
)
"""Customer arrays whose second axis is the customer (industry- or firm-major)."""


class _IdsByModel(weakref.WeakKeyDictionary):
    """Each model's counter of agent ids, held weakly: what ``mesa.Agent._ids`` should be.

    Mesa 3.3.1 (the newest on the registry) counts agent ids per model in a class-level
    ``defaultdict`` keyed by the model, so every model that ever made an agent stays in memory
    for the life of the process (mesa issue #3179, fixed upstream by #3180 after 3.3.1). A
    process that builds many markets grew by it: 15 MB per world in ``cxsim facts`` (five
    checks' markets of 1,500 customers), 3.5 GB per worker after a few hundred worlds. Keyed
    weakly, a model's counter goes with the model; ids stay unique within each model as before.
    Remove once Mesa ships the fix.
    """

    def __getitem__(self, model: Any) -> Any:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


if not isinstance(Agent.__dict__.get("_ids"), _IdsByModel):
    Agent._ids = _IdsByModel(Agent.__dict__.get("_ids") or {})


class Customer(FixedAgent):
    """A customer: a view of row ``index`` of the customer arrays.

    Per-industry quantities are arrays indexed by industry (see ``model.industries``);
    per-attribute ones by attribute (``model.attributes``). Its ``cell`` is its node of the
    model's ``mesa.discrete_space.Network`` once ``model.space`` has been built.
    """

    model: CustomerMarket

    def __init__(self, model: CustomerMarket, index: int) -> None:
        super().__init__(model)
        self.index = int(index)

    def _row(self, name: str) -> np.ndarray:
        arr = getattr(self.model.customer_state, name)
        return arr[:, self.index] if name in PER_CUSTOMER_COLUMN else arr[self.index]

    def _set(self, name: str, value: object) -> None:
        arr = getattr(self.model.customer_state, name)
        if name in PER_CUSTOMER_COLUMN:
            arr[:, self.index] = value
        else:
            arr[self.index] = value

    segment = property(
        lambda self: self.model.segment_names[int(self._row("segment"))],
        doc="name of the customer's segment",
    )
    region = property(lambda self: int(self._row("region")), doc="region (network community)")
    weights = property(
        lambda self: self._row("weights"),
        lambda self, v: self._set("weights", v),
        doc="attribute weights [K], summing to 1",
    )
    supplier = property(
        lambda self: self._row("supplier"),
        lambda self, v: self._set("supplier", v),
        doc="firm index per industry [M], -1 when unserved",
    )
    expectation = property(
        lambda self: self._row("expectation"),
        lambda self, v: self._set("expectation", v),
        doc="expectation E [M, K]",
    )
    experience = property(
        lambda self: self._row("experience"), doc="last perceived experience X [M, K]"
    )
    satisfaction = property(
        lambda self: self._row("satisfaction"),
        lambda self, v: self._set("satisfaction", v),
        doc="running satisfaction S per industry [M], 0..10",
    )
    trust = property(
        lambda self: self.model.customer_state.supplier_trust([self.index])[:, 0],
        doc="trust in the current supplier's word per industry [M], 0..1 (NaN: no supplier)",
    )
    trust_in = property(
        lambda self: self._row("trust"),
        lambda self, v: self._set("trust", v),
        doc="trust in each firm's word [F], 0..1: its credibility to this customer",
    )
    commitment = property(
        lambda self: self._row("commitment"),
        lambda self, v: self._set("commitment", v),
        doc="commitment per industry [M], 0..1",
    )
    tenure = property(lambda self: self._row("tenure"), doc="steps with the current supplier [M]")
    benchmark = property(
        lambda self: self._row("benchmark"),
        lambda self, v: self._set("benchmark", v),
        doc="best recent experience anywhere [K]",
    )
    heard = property(lambda self: self._row("heard"), doc="what friends said per industry [M, K]")
    attitude = property(
        lambda self: self._row("attitude"),
        lambda self, v: self._set("attitude", v),
        doc="attitude toward each firm [F], -1..1",
    )

    @property
    def neighbours(self) -> np.ndarray:
        """Indices of the customers this one talks to."""
        adj = self.model.adjacency
        return adj.indices[adj.indptr[self.index] : adj.indptr[self.index + 1]]

    def __repr__(self) -> str:
        return f"Customer({self.index}, supplier={self.supplier.tolist()})"


class Firm(Agent):
    """A firm: a view of row ``index`` of the firm arrays, with its strategy."""

    model: CustomerMarket

    def __init__(self, model: CustomerMarket, index: int, name: str, strategy: Strategy) -> None:
        super().__init__(model)
        self.index = int(index)
        self.name = name
        self.strategy = strategy

    def _row(self, name: str) -> np.ndarray:
        return getattr(self.model.firm_state, name)[self.index]

    def _set(self, name: str, value: object) -> None:
        getattr(self.model.firm_state, name)[self.index] = value

    industry = property(
        lambda self: self.model.industries[int(self._row("industry"))],
        doc="name of the firm's industry",
    )
    region = property(
        lambda self: None if self._row("region") < 0 else int(self._row("region")),
        doc="region served, None for a national firm",
    )
    capability = property(
        lambda self: self._row("capability"),
        lambda self, v: self._set("capability", v),
        doc="what it can deliver per attribute [K], 0..1",
    )
    promise = property(
        lambda self: self._row("promise"),
        lambda self, v: self._set("promise", v),
        doc="what it tells the market per attribute [K], 0..1",
    )
    capacity = property(
        lambda self: float(self._row("capacity")),
        lambda self, v: self._set("capacity", v),
        doc="customers it can serve at full quality, as a share of the market",
    )
    price = property(
        lambda self: float(self._row("price")),
        lambda self, v: self._set("price", v),
        doc="price per customer per year",
    )
    cash = property(
        lambda self: float(self._row("cash")),
        lambda self, v: self._set("cash", v),
        doc="cash per market customer",
    )
    customers = property(lambda self: int(self._row("customers")), doc="current customers")
    unit_cost = property(
        lambda self: float(self._row("unit_cost")), doc="stated cost of serving one customer a year"
    )

    def market_view(self) -> MarketView:
        """What this firm can observe of its industry (``sim.strategies.MarketView``)."""
        model, fs = self.model, self.model.firm_state
        firms = model.industry_firms[int(fs.industry[self.index])]
        firms = firms[fs.alive[firms] & (fs.entry_step[firms] <= model.steps)]
        if self.index not in firms:
            firms = np.sort(np.append(firms, self.index))
        weight = fs.review_weight[firms, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            reviews = np.where(weight > 1e-9, fs.review_attr[firms] / weight, np.nan)
        return MarketView(
            own=int(np.searchsorted(firms, self.index)),
            prices=fs.price[firms].copy(),
            customers=fs.customers[firms].astype(float),
            reviews=reviews,
            weights=model.customer_state.weights.mean(axis=0, dtype=np.float64),
            step=int(model.steps),
            steps_per_year=int(model.steps_per_year),
        )

    alive = property(lambda self: bool(self._row("alive")), doc="has not exited")

    @property
    def active(self) -> bool:
        """In the market now: entered and not exited."""
        fs = self.model.firm_state
        return bool(fs.alive[self.index] and fs.entry_step[self.index] <= self.model.steps)

    @property
    def metrics(self) -> dict[str, float]:
        """This firm's metrics at the last recorded step."""
        latest = self.model.recorder.latest_firm
        return {k: v[self.index].item() for k, v in latest.items()}

    def __repr__(self) -> str:
        return f"Firm({self.index}, {self.name!r}, {self.industry}, {self.strategy!r})"
