"""CustomerMarket: the Mesa model. Builds the state from a scenario, runs the step, records.

The Mesa face (``mesa.Model``, ``Customer`` and ``Firm`` agents, a ``mesa.DataCollector``, a
``mesa.discrete_space.Network`` space) sits over a numpy body: the step runs every phase of
``sim.rules`` over the state arrays for all customers at once. Updates are synchronous: every
customer reacts to the same state of the world within a phase. The initial state the market
starts from (the firms' arrays, the customers' drawn traits, their first expectations and the
firms' first customers) is built by ``sim.initial_state``, in the order the random stream needs.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

import sim.state
from sim.agents import Customer, Firm
from sim.batch import MarketBatch
from sim.collector import RecorderCollector
from sim.draws import KeyedDraws
from sim.initial_state import build_customers, build_firms, seed_customers
from sim.metrics import RELATIONSHIP_INDICATORS, MetricsRecorder
from sim.network import CompleteAdjacency
from sim.pages import without_huge_pages
from sim.rules.decisions import decide_market
from sim.scenario import Scenario, load_scenario
from sim.scenario_check import build_network
from sim.state import CustomerState, FirmState, StepScratch, Workspace
from sim.strategies import build_strategy
from sim.strategy_history import StrategyHistory
from sim.trace import CustomerTrace

__all__ = ["CustomerMarket"]

_HOLDS_STATE = (
    "_batch",
    "customer_state",
    "workspace",
    "firm_state",
    "_scratch_view",
    "recorder",
    "adjacency",
    "_frozen",
)
"""What a market holds of its batch's state (``sim.batch``): dropped by ``_let_go``."""


class CustomerMarket(mesa.Model):
    """A market of customers on a social network and the firms that serve them.

    Parameters
    ----------
    scenario
        A scenario name (``"baseline"``), a TOML path, plain data or a :class:`Scenario`.
    seed, rng
        As for ``mesa.Model``: ``rng`` may be an int, a ``numpy.random.SeedSequence`` or a
        Generator. With neither, the scenario's ``seed`` is used, so a scenario alone is
        reproducible.
    overrides
        Dotted scenario keys to change, e.g. ``{"market.customers": 1000}``.
    graph
        A ``networkx.Graph`` to use as the social network instead of the scenario's generator;
        its nodes are relabelled 0..n-1 and its size sets the number of customers.
    track
        Customers whose full history to record for inspection: a list of indices, or an int
        ``n`` to track every customer when the market has at most ``n``.
    eager_agents
        Create every Customer agent and the Mesa space now rather than on first use (see
        :attr:`agents`).
    dtype
        Floating point type of the per-customer state: ``"float32"`` (the default,
        ``sim.state.FLOAT``) or ``"float64"``. float32 halves the memory a step streams
        through; tests/test_precision.py bounds the difference it makes to the results.
    batched
        Leave the market to the :class:`~sim.batch.MarketBatch` it will join: the batch makes
        the firms' first decisions and seeds the customers of all its markets at once (the
        same numbers as alone, without a batch of one built and merged for each market; a
        sweep's workers build their markets so). Until then the market cannot step.
    **kwargs
        More overrides in Mesa ``batch_run`` style: ``market__customers=1000``.

    Examples
    --------
    >>> import sim
    >>> m = sim.CustomerMarket.from_scenario("baseline", rng=1, overrides={"market.customers": 300})
    >>> m.run(10)
    <CustomerMarket baseline: 300 customers, 6 firms in 3 industries, step 10>
    >>> len(m.firm_metrics()) == 10 * len(m.firms)
    True
    """

    @without_huge_pages()  # a 1M market built in 1.0-1.2 s, not 2.2-3.7 (sim.pages)
    def __init__(
        self,
        scenario: str | Path | dict[str, Any] | Scenario = "baseline",
        *,
        seed: float | None = None,
        rng: Any = None,
        overrides: dict[str, Any] | None = None,
        graph: nx.Graph | None = None,
        track: list[int] | int | None = None,
        eager_agents: bool = False,
        dtype: Any = None,
        batched: bool = False,
        **kwargs: Any,
    ) -> None:
        started = time.perf_counter()
        overrides = {**(overrides or {}), **kwargs}
        if graph is not None:
            overrides.setdefault("market.customers", graph.number_of_nodes())
        self.scenario = load_scenario(scenario, overrides or None)
        if seed is None and rng is None:
            rng = self.scenario.seed
        super().__init__(seed=seed, rng=rng)
        self._cxsim_seed = (
            seed
            if seed is not None
            else (int(rng) if isinstance(rng, int | np.integer) else repr(rng))
        )
        sc = self.scenario
        self.params = sc.params
        self.steps_per_year = sc.steps_per_year
        market = sc.market
        self.n_customers = market.customers
        self.dtype = np.dtype(sim.state.FLOAT if dtype is None else dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.industries = list(market.industries)
        self.attributes = list(market.attributes)
        self.segment_names = [s.name for s in sc.segments]
        self.cross_mask = np.isin(self.attributes, market.cross_industry)
        self.failure_mask = np.isin(self.attributes, market.failure_attributes)
        self.price_index = (
            self.attributes.index(market.price_attribute) if market.price_attribute else -1
        )

        t0 = time.perf_counter()
        self.adjacency = self._build_network(graph)
        self.adjacency_is_complete = isinstance(self.adjacency, CompleteAdjacency)
        self.network_seconds = time.perf_counter() - t0

        self.firm_names = [f.name for f in sc.firms]
        self.firm_state = build_firms(sc, self.industries, self.attributes)
        self.industry_firms = [
            np.flatnonzero(self.firm_state.industry == m) for m in range(len(self.industries))
        ]
        self.customer_state = build_customers(
            sc, self.rng, self.industries, self.attributes, self.dtype
        )
        self.workspace = Workspace.for_state(self.customer_state)
        self.n_regions = market.regions
        self.draws = KeyedDraws(0)  # its seed is drawn once the customers are seeded, below
        self._frozen: dict[str, Any] | None = None
        self._scratch_view: tuple[int, StepScratch] | None = None
        self.trace = CustomerTrace(self, np.zeros(0, np.int64))
        self.wall_seconds = 0.0

        search_dir = sc.source_path.parent if sc.source_path else None
        self.firms: list[Firm] = []
        for i, spec in enumerate(sc.firms):
            strategy = build_strategy(spec.strategy, spec.levers, self.attributes, search_dir)
            self.firms.append(Firm(self, i, spec.name, strategy))
        self.strategy_labels = [
            s if isinstance(s, str) else "+".join(s) for s in (f.strategy for f in sc.firms)
        ]
        self.strategy_history = StrategyHistory()
        """The labels changed while the market ran (:meth:`set_strategy`)."""

        self.datacollector = RecorderCollector(self)  # Mesa's face of the recorder
        self._customer_views: dict[int, Customer] = {}
        self._space: mesa.discrete_space.Network | None = None
        self.trace = CustomerTrace(self, self._tracked(track))
        self._batch: MarketBatch | None = None
        self._seeded = False
        if batched:
            if eager_agents:
                raise ValueError("eager_agents needs seeded customers: not with batched=True")
        else:
            MarketBatch([self])  # a batch of one: seeds this market, then steps it
            if eager_agents:
                self.customer_agents()
                self.space  # noqa: B018 - builds the Mesa space and places the agents
        self.build_seconds = time.perf_counter() - started

    def __repr__(self) -> str:
        return (
            f"<CustomerMarket {self.scenario.name}: {self.n_customers:,} customers, "
            f"{len(self.firms)} firms in {len(self.industries)} industries, step {self.steps}>"
        )

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def from_scenario(
        cls,
        scenario: str | Path | dict[str, Any] | Scenario = "baseline",
        rng: Any = None,
        **kwargs: Any,
    ) -> CustomerMarket:
        """Build a market from a scenario; the same as ``CustomerMarket(scenario, rng=rng)``."""
        return cls(scenario, rng=rng, **kwargs)

    def _build_network(self, graph: nx.Graph | None) -> Any:
        return build_network(self.scenario, self.rng, graph)

    def _start(self, terms: SimpleNamespace) -> None:
        """Seed this market, joined to a fresh batch that has made its firms' first decisions
        (``terms``: ``choice.terms`` of that batch): its customers' initial expectations and
        the firms' initial customer bases (``sim.initial_state.seed_customers``), then the seed
        of the step's random numbers (``sim.draws``), drawn from this market's generator. The
        batch counts the customers."""
        seed_customers(self, terms)
        self.draws = KeyedDraws(int(self.rng.integers(2**64, dtype=np.uint64)))
        self._seeded = True

    def _tracked(self, track: list[int] | int | None) -> np.ndarray:
        if track is None:
            return np.zeros(0, np.int64)
        if isinstance(track, int | np.integer):
            return np.arange(self.n_customers) if self.n_customers <= track else np.zeros(0, int)
        ids = np.unique(np.asarray(track, np.int64))
        if len(ids) and (ids[0] < 0 or ids[-1] >= self.n_customers):
            raise ValueError(f"track: customer ids must be in 0..{self.n_customers - 1}")
        return ids

    # -- the step ---------------------------------------------------------------------------------

    def decide_firms(self) -> None:
        """Phase 1 for this market alone, firm by firm: each active firm's strategy decides
        promise, allocation, focus, price, retention mix, feature share, teaching and disclosure
        (``sim.rules.decisions``; a step decides for all markets of its batch at once)."""
        decide_market(self)

    def step(self) -> None:
        """Advance the market by one step (a week by default): every phase, for everyone."""
        if self._batch is None:
            raise RuntimeError(
                "this market was built with batched=True: step it with the others of its batch "
                "(sim.batch.MarketBatch)"
            )
        if self._batch.B > 1:
            raise RuntimeError(
                "this market is stepped with others by its batch (sim.batch.MarketBatch.step)"
            )
        self._batch.steps = self.steps
        self._batch.advance()

    # -- the batch that steps this market ----------------------------------------------------

    def _join(self, batch: MarketBatch, slot: int, recorder: MetricsRecorder) -> None:
        """Become market ``slot`` of ``batch`` (which holds the state from now on)."""
        self._batch, self._slot, self.recorder = batch, slot, recorder
        self._scratch_view = None

    def _let_go(self) -> None:
        """Drop this market's hold on its batch's state: the batch, the views of its arrays,
        the step values kept, the recorder and the network (``sim.sweep.worker.release``, once
        the market's results are taken). The market is unusable afterwards."""
        for name in _HOLDS_STATE:
            self.__dict__.pop(name, None)

    def _freeze(self) -> None:
        """Keep copies of this market's state and step values: it left its batch."""
        batch, b = self._batch, self._slot
        self._frozen = {
            "visible": batch.visible[b].copy(),
            "tactics": batch.tactics[b].copy(),
            "spending": batch.spending[b].copy(),
            "taught": bool(batch.taught[b]),
        }
        self.last_scratch  # noqa: B018 - builds the view of the last step before copying
        cs, ws = self.customer_state, self.workspace
        self.customer_state = CustomerState(
            **{f.name: getattr(cs, f.name).copy() for f in fields(cs)}
        )
        self.workspace = Workspace(**{n: getattr(ws, n).copy() for n in Workspace.ARRAYS})
        self.firm_state = FirmState(
            **{f.name: getattr(self.firm_state, f.name).copy() for f in fields(self.firm_state)}
        )
        if self._scratch_view is not None:
            self._scratch_view[1].model = self

    def _step_value(self, name: str) -> Any:
        if self._frozen is not None:
            return self._frozen[name]
        return getattr(self._batch, name)[self._slot]

    visible = property(
        lambda self: self._step_value("visible"),
        doc="``[R, F]``: firm f is active and visible from region r this step",
    )
    tactics = property(
        lambda self: self._step_value("tactics"),
        doc="``[F, 4]``: each firm's level of each retention tactic this step",
    )
    spending = property(
        lambda self: self._step_value("spending"),
        doc="``[F, 4]``: each firm's spending on capability, capacity, marketing, retention",
    )

    @property
    def taught(self) -> bool:
        """Some firm has taught this market's customers what to value (sim.rules.teaching)."""
        return bool(self._step_value("taught"))

    @property
    def batch(self) -> MarketBatch:
        """The batch that steps this market (its own batch of one unless it was batched). A
        batch of one first takes in what was changed on the market since its last step
        (parameters, the network, firm arrays)."""
        if self._batch.B == 1:
            self._batch.sync()
        return self._batch

    @property
    def last_scratch(self) -> StepScratch | None:
        """What the last step left: per-firm tallies and the per-customer values of the step
        (``sim.state.StepScratch``); None before the first step."""
        batch = self._batch
        if batch.scratch is None:
            return None
        if self._scratch_view is None or self._scratch_view[0] != id(batch.scratch):
            if self._frozen is not None and self._scratch_view is not None:
                return self._scratch_view[1]
            self._scratch_view = (id(batch.scratch), StepScratch(self, batch.scratch, self._slot))
        return self._scratch_view[1]

    def run(self, steps: int | None = None, progress: Any = None) -> CustomerMarket:
        """Run ``steps`` steps (default: the scenario's ``steps``); returns the model.

        ``progress``, if given, is called as ``progress(done, total)`` after every step.
        """
        total = self.scenario.steps if steps is None else int(steps)
        for i in range(total):
            if not self.running:
                break
            self.step()
            if progress is not None:
                progress(i + 1, total)
        return self

    # -- agents and space ------------------------------------------------------------------------

    def customer(self, index: int) -> Customer:
        """The Mesa agent viewing customer ``index`` (created on first use)."""
        index = int(index)
        if not 0 <= index < self.n_customers:
            raise IndexError(f"customer {index} is not in 0..{self.n_customers - 1}")
        agent = self._customer_views.get(index)
        if agent is None:
            agent = self._customer_views[index] = Customer(self, index)
            if self._space is not None:
                agent.cell = self._space._cells[index]
        return agent

    def customer_agents(self) -> mesa.AgentSet:
        """Every customer as a Mesa agent (creates the views not created yet)."""
        if len(self._customer_views) < self.n_customers:
            for i in range(self.n_customers):
                if i not in self._customer_views:
                    self.customer(i)
        return self._agents_by_type[Customer]

    @property
    def agents(self) -> mesa.AgentSet:
        """Every agent of the market, at any size: the firms and one ``Customer`` per customer.

        Customer agents are views of rows of the state arrays, created on demand: the first use
        of ``model.agents`` (or of ``agents_by_type[Customer]``) creates the views not created
        yet, about 3 us and 0.4 KB each (3 s and 400 MB at a million customers). Use
        ``model.customer(i)`` to view one customer without creating the others.
        """
        self.customer_agents()
        return self._all_agents

    @property
    def agents_by_type(self) -> _AgentsByType:
        """``{Customer: ..., Firm: ...}`` AgentSets; the customers' is completed on first use
        (see :attr:`agents`)."""
        return _AgentsByType(self)

    @property
    def agent_types(self) -> list[type]:
        """The agent types of the market: ``Firm`` and ``Customer``."""
        return [Firm, Customer]

    @property
    def space(self) -> mesa.discrete_space.Network:
        """The social network as a ``mesa.discrete_space.Network`` (built on first use: at a
        million customers this takes Mesa tens of seconds)."""
        if self._space is None:
            self._space = mesa.discrete_space.Network(
                self.adjacency.to_networkx(), random=self.random
            )
            for i, agent in self._customer_views.items():
                agent.cell = self._space._cells[i]
        return self._space

    @property
    def attributes_index(self) -> dict[str, int]:
        """Attribute name to column."""
        return {a: i for i, a in enumerate(self.attributes)}

    def set_strategy(self, index: int, strategy: Any, label: str) -> None:
        """Give firm ``index`` ``strategy`` (named ``label``) from the next step on.

        The steps already recorded keep the label the firm had then: a change of label is
        noted in :attr:`strategy_history` (once per step: what was in force during the step
        just recorded is the label before the first change made after it).
        """
        if label != self.strategy_labels[index]:
            self.strategy_history.note(index, self.steps, self.strategy_labels[index])
        self.firms[index].strategy = strategy
        self.strategy_labels[index] = label

    def strategy_labels_at(self, firm: np.ndarray, step: np.ndarray) -> np.ndarray:
        """The label each ``firm`` had at each ``step`` (recorded after that step), as objects."""
        return self.strategy_history.labels_at(self.strategy_labels, firm, step)

    # -- results ------------------------------------------------------------------------------

    def firm_metrics(self) -> pd.DataFrame:
        """One row per firm per recorded step (see ``sim.metrics.FIRM_COLUMNS``)."""
        return self.recorder.firm_frame(self)

    def model_metrics(self) -> pd.DataFrame:
        """One row per recorded step for the whole market."""
        return self.recorder.market_frame()

    def cohort_survival(self) -> pd.DataFrame:
        """Share of each firm's yearly cohort of new customers still with it, by age."""
        return self.recorder.cohort_frame(self)

    def relationship_indicators(self) -> pd.DataFrame:
        """The six relationship indicators per firm at the last recorded step."""
        df = self.firm_metrics()
        if df.empty:
            return df
        last = df[df["step"] == df["step"].max()]
        return last[["firm", "name", "industry", *RELATIONSHIP_INDICATORS]].reset_index(drop=True)

    def customer_history(self, index: int) -> pd.DataFrame:
        """The recorded history of a tracked customer (see ``track``)."""
        return self.trace.history(self, index)

    def summary(self) -> pd.DataFrame:
        """Per firm at the last recorded step: the columns ``cxsim run`` prints."""
        df = self.firm_metrics()
        if df.empty:
            return df
        last = df[df["step"] == df["step"].max()]
        cols = [
            "name",
            "industry",
            "strategy",
            "customers",
            "share",
            "retention_annual",
            "nps",
            "satisfaction",
            "trust",
            "expectation_gap",
            "profit",
        ]
        return last[cols].reset_index(drop=True)


class _AgentsByType(Mapping):
    """``model.agents_by_type``: the firms' AgentSet as Mesa keeps it, and the customers', which
    asking for completes (customer views are created on demand)."""

    def __init__(self, model: CustomerMarket) -> None:
        self._model = model

    def __getitem__(self, agent_type: type) -> mesa.AgentSet:
        model = self._model
        if agent_type is Customer:
            return model.customer_agents()
        return model._agents_by_type[agent_type]

    def __iter__(self) -> Iterator[type]:
        return iter(self._model.agent_types)

    def __len__(self) -> int:
        return len(self._model.agent_types)
