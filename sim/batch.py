"""Many markets of one shape stepped together as one state: ``MarketBatch``, ``run``.

Calibration, robustness and sensitivity analysis run thousands of small markets. Stepped one by
one, a small market costs several times per customer what a large one does: the fixed cost of a
step (a few hundred numpy calls for the firms, the phases' set-up) dominates at 1,000 customers.
A batch steps ``B`` markets of the same shape (the same industries, attributes, firms and their
industries, regions, step length and float type; any parameters, seeds, sizes and networks) as
one state: their customers one after another along the customer axis, their firms on a leading
market axis (``[B, F, ...]``), each with its own parameters (``consts[b]`` of the kernels),
network (its rows of one CSR), random numbers (its own seed: ``sim.draws``) and firm tables.
The kernels loop over markets and their customers; the firm-level code, the firms' decisions
included, runs once for all markets (``sim.rules.decisions``).

Batching is invisible in the numbers: every random number is keyed by the market's seed and the
customer's index in its own market, each market reads only its own parameters, network and
firms, and per-firm sums are added customer by customer within each market, in the same order
alone or batched (tests/test_batch.py runs markets alone and in batches of several sizes and
compositions and requires identical states and metrics).

A ``CustomerMarket`` is a batch of one: its ``step`` steps its own batch. ``MarketBatch(markets)``
takes fresh markets (step 0) and from then on owns their state: each market keeps views of its
part, so its Mesa face (agents, metrics, ``customer_state``) still works, but it is stepped only
through the batch. A market whose firms have all exited stops (``running`` False) and keeps a
copy of its final state; the others go on.

Markets built with ``CustomerMarket(..., batched=True)`` (a sweep's workers build theirs so) are
left unseeded: their batch makes the firms' first decisions for all of them at once and then
seeds each market's customers from its own generator, in the order a batch of one does, so the
numbers are the same. It saves building and merging a batch of one per market: 1.4 of a small
market's 2.5 ms to build; 6-15% more runs a second on one worker at 1,000 customers x 104
steps, 10-21% on two (docs/performance_rounds.md, ninth round).

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import arrays
from sim.draws import CODES, step_keys
from sim.metrics import BatchRecorder, MetricsRecorder
from sim.pages import on_huge_pages
from sim.params.stacked import StackedParams
from sim.rules import choice, constants, run_phases
from sim.rules.decisions import decide, update_visibility
from sim.rules.economics import count_customers
from sim.state import BatchScratch, CustomerState, FirmState, Workspace

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = ["MarketBatch", "industry_tables", "run", "shape_of"]


def shape_of(market: CustomerMarket) -> tuple[Any, ...]:
    """What markets must share to be stepped together: industries, attributes and their roles,
    the firms' industries, the regions, the step length, the float type, and whether the
    network is the complete graph (a market on the complete graph is stepped alone)."""
    return (
        tuple(market.industries),
        tuple(market.attributes),
        tuple(map(bool, market.cross_mask)),
        tuple(map(bool, market.failure_mask)),
        market.price_index,
        tuple(int(i) for i in market.firm_state.industry),
        market.n_regions,
        market.steps_per_year,
        market.dtype.str,
        market.adjacency_is_complete,
    )


def industry_tables(
    industry_firms: list[np.ndarray], n_firms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sizes, members, belongs)`` of the firms of each industry (``industry_firms``, one
    array per industry): ``[M]`` how many, ``[M, width]`` which (row ``m``'s first ``sizes[m]``;
    the rest 0, width at least 1) and ``[M, n_firms]`` whether firm ``f`` is of industry ``m``:
    the tables the kernels take (``MarketBatch``)."""
    sizes = np.array([len(f) for f in industry_firms], np.int64)
    members = np.zeros((len(industry_firms), max(sizes.max(initial=0), 1)), np.int64)
    belongs = np.zeros((len(industry_firms), n_firms), np.bool_)
    for m, firms in enumerate(industry_firms):
        members[m, : len(firms)] = firms
        belongs[m, firms] = True
    return sizes, members, belongs


def _arrays(firm_state: FirmState) -> tuple[np.ndarray, ...]:
    """The arrays of a firm state, in field order."""
    return tuple(getattr(firm_state, f.name) for f in fields(firm_state))


def _params_key(params: Any) -> tuple[Any, ...]:
    """Every parameter value of a market, to notice edits made in place."""
    return tuple(
        tuple(getattr(params, name).__dict__.values()) for name in type(params).model_fields
    )


class MarketBatch:
    """Markets of one shape, stepped together (see the module docstring).

    Parameters
    ----------
    markets
        ``CustomerMarket`` objects of one shape (:func:`shape_of`), all at step 0 unless there
        is only one.
    cohorts
        Keep the yearly cohorts' survival (``CustomerMarket.cohort_survival``); sweeps do not.
    survey
        Ask the intention-to-stay panel at each recorded step (``sim.metrics.BatchRecorder``);
        without, ``intention_to_stay`` is NaN and every other number the same.

    Attributes
    ----------
    markets
        The markets, in batch order (market ``b``'s customers are ``offsets[b]:offsets[b+1]``).
    steps
        Steps taken.
    live
        ``[B]``: the market is still running.
    industry_firms, industry_sizes, industry_members, belongs
        The firms of each industry: a list of ``M`` arrays; the same as a table, ``[M]`` how
        many and ``[M, width]`` which (the first ``industry_sizes[m]`` of row ``m``); ``[M, F]``
        whether firm ``f`` is of industry ``m``. Fixed for a batch (every market has the same
        firms, a late entrant included), so built once, not by the phases on every step.
    record_every
        ``[B]``: a market records its metrics at the steps that are multiples of this (its
        scenario's ``collect_every`` unless changed); also at the steps in ``record_at``, and
        at the step it stops where ``record_final`` (``[B]``) is set.
    details
        Keep each step's details in the workspace: every served customer's expectations the
        experience was judged against, its ``S`` before the step and its ``d``
        (``StepScratch.expectation_used``, ``satisfaction_before``, ``disconfirmation``; the
        validation survey reads them). Off unless set: no other phase or metric reads them, and
        at 1M customers writing them took 72 MB of memory traffic and 1-4 ms a step
        (docs/performance.md). Every other number is the same either way.
    """

    def __init__(
        self, markets: Iterable[CustomerMarket], *, cohorts: bool = True, survey: bool = True
    ) -> None:
        markets = list(markets)
        if not markets:
            raise ValueError("a batch needs at least one market")
        first = markets[0]
        shape = shape_of(first)
        for market in markets[1:]:
            if shape_of(market) != shape:
                raise ValueError(
                    "markets of a batch must share their industries, attributes, firms' "
                    "industries, regions, steps_per_year and float type; "
                    f"{market.scenario.name!r} differs from {first.scenario.name!r}"
                )
        seeded = {m._seeded for m in markets}
        if len(seeded) > 1:
            raise ValueError("a batch takes markets all built with batched=True, or none")
        if not first._seeded and first.steps != 0:
            raise ValueError("a market built with batched=True was stepped before its batch")
        if len(markets) > 1:
            if first.adjacency_is_complete:
                raise ValueError("markets on the complete graph are stepped alone, not batched")
            if any(m.steps != 0 for m in markets) or len({id(m) for m in markets}) < len(markets):
                raise ValueError("a batch takes distinct markets that have not stepped yet")
        self.markets = markets
        self.B = len(markets)
        self.industries = list(first.industries)
        self.attributes = list(first.attributes)
        self.M, self.K = len(first.industries), len(first.attributes)
        self.F, self.R = first.firm_state.n, first.n_regions
        self.industry_firms = [np.asarray(f, np.int64) for f in first.industry_firms]
        self.industry_sizes, self.industry_members, self.belongs = industry_tables(
            self.industry_firms, self.F
        )
        self.cross_mask = np.asarray(first.cross_mask, bool)
        self.failure_mask = np.asarray(first.failure_mask, bool)
        self.price_index = first.price_index
        self.steps_per_year = first.steps_per_year
        self.dtype = first.dtype
        self.complete = first.adjacency_is_complete
        sizes = np.array([m.n_customers for m in markets], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.n_total = int(self.offsets[-1])
        self.size = sizes.astype(np.float64)[:, None]
        self.market_of = np.repeat(np.arange(self.B), sizes).astype(np.int64)
        self.steps = int(first.steps)
        self.live = np.array([bool(m.running) for m in markets])
        self.seeds = np.array([m.draws.seed for m in markets], np.uint64)
        self.record_every = np.array([m.scenario.collect_every for m in markets], np.int64)
        self.record_at: set[int] = set()
        self.record_final = np.zeros(self.B, bool)
        self.tasks = self._tasks(sizes)
        self.scratch: BatchScratch | None = None
        self.keys = step_keys(self.seeds, self.steps, CODES, self.M)
        self.bounds = np.zeros((self.B, self.M, 3), self.dtype)
        self.wall_seconds = 0.0
        self.details = False  # keep the step's details (StepScratch.expectation_used, ...)
        self.per_firm_decisions = False  # True: every firm decides alone (sim.rules.decisions)
        self.decision_plan: Any = None  # who decides how (sim.rules.decisions), kept
        self.kept_terms: Any = None  # this step's firm terms (sim.rules.choice.step_terms)
        # this step's bounds on the attitudes, taken by word of mouth for switching
        # (sim.rules.churn_skip.attitude_ranges)
        self.attitude_spans: Any = None
        if self.B == 1:
            self.customer_state = first.customer_state
            self.workspace = first.workspace
            self._lift(first.firm_state)
            self._step_values()
            self._network(first.adjacency)
            self._params_key = _params_key(first.params)
        else:
            self._merge(markets)
        self.huge_page_bytes = on_huge_pages(self._step_arrays())  # sim.pages
        self._read_params()
        self.recorder = BatchRecorder(self, cohorts=cohorts, survey=survey)
        for b, market in enumerate(markets):
            market._join(self, b, MetricsRecorder(self.recorder, b))
        if not seeded.pop():
            self._seed()

    def _seed(self) -> None:
        """Step 0 of markets built to join this batch: the firms' first decisions, for all
        markets at once; then each market seeds its customers and draws the seed of its
        step's random numbers from its own generator (``CustomerMarket._start``), as a market
        built alone does in its batch of one."""
        update_visibility(self)
        decide(self)
        terms = choice.terms(self)
        for market in self.markets:
            market._start(terms)
        count_customers(self)
        self.seeds[:] = [m.draws.seed for m in self.markets]
        self.keys = step_keys(self.seeds, self.steps, CODES, self.M)

    # -- construction -----------------------------------------------------------------------

    def _step_values(self) -> None:
        """The firms' step values before their first decisions: visible nowhere, no tactics,
        no spending, nothing taught."""
        self.visible = np.zeros((self.B, self.R, self.F), bool)
        self.tactics = np.zeros((self.B, self.F, 4))
        self.spending = np.zeros((self.B, self.F, 4))
        self.taught = np.zeros(self.B, bool)

    def _tasks(self, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Blocks of at most ``sim.arrays.CHUNK`` customers within each market: the kernels'
        tasks, cut from each market's own first customer (the same blocks alone or batched)."""
        market, lo, hi = [], [], []
        for b, n in enumerate(sizes):
            for start in range(0, max(int(n), 1), arrays.CHUNK):
                market.append(b)
                lo.append(self.offsets[b] + start)
                hi.append(self.offsets[b] + min(int(n), start + arrays.CHUNK))
        return (np.array(market, np.int64), np.array(lo, np.int64), np.array(hi, np.int64))

    def _step_arrays(self) -> Iterable[np.ndarray]:
        """The per-customer arrays a step reads and writes: the customers' state, the
        workspace's, the network's."""
        state, workspace = self.customer_state, self.workspace
        yield from (getattr(state, f.name) for f in fields(state))
        yield from (getattr(workspace, name) for name in workspace.ARRAYS)
        yield from (self.indptr, self.indices, self.degree, self.market_of)

    def _merge(self, markets: list[CustomerMarket]) -> None:
        """One state for all the markets; each market's state becomes views of its part."""
        self.customer_state = CustomerState.concat([m.customer_state for m in markets])
        self.workspace = Workspace.for_state(self.customer_state)
        self.firm_state = FirmState.stack([m.firm_state for m in markets])
        if markets[0]._seeded:  # each has decided in its batch of one
            self.visible = np.stack([m.visible for m in markets])
            self.tactics = np.stack([m.tactics for m in markets])
            self.spending = np.stack([m.spending for m in markets])
            self.taught = np.array([m.taught for m in markets], bool)
        else:  # they decide in this batch (_seed)
            self._step_values()
        parts = [m.adjacency for m in markets]
        edges = np.concatenate([[0], np.cumsum([int(a.indptr[-1]) for a in parts])])
        indptr = np.concatenate(
            [a.indptr[:-1].astype(np.int64) + edges[b] for b, a in enumerate(parts)]
            + [np.array([edges[-1]], np.int64)]
        )
        index_type = np.int32 if self.n_total < 2**31 else np.int64
        indices = np.concatenate(
            [
                a.indices.astype(index_type) + index_type(self.offsets[b])
                for b, a in enumerate(parts)
            ]
        )
        self._set_network(indptr, indices)
        self._adjacency = None
        for b, market in enumerate(markets):
            lo, hi = int(self.offsets[b]), int(self.offsets[b + 1])
            market.customer_state = self.customer_state.part(lo, hi)
            market.workspace = self.workspace.part(lo, hi)
            market.firm_state = self.firm_state.row(b)

    def _network(self, adjacency: Any) -> None:
        """The network of a batch of one: its market's."""
        self._adjacency = adjacency
        if self.complete:  # no edges; int32 columns as a sparse network's, one compiled kernel
            self._set_network(np.zeros(0, np.int64), np.zeros(0, np.int32))
            self.max_degree = max(self.n_total - 1, 0)
        else:
            self._set_network(adjacency.indptr, adjacency.indices)

    def _set_network(self, indptr: np.ndarray, indices: np.ndarray) -> None:
        # int64 row pointers whatever the network's own (int32 up to 2**31 pairs): the kernels
        # that read them are then compiled once, for one market and for a batch alike
        self.indptr, self.indices = indptr.astype(np.int64, copy=False), indices
        self.degree = np.diff(indptr).astype(np.int64) if len(indptr) else np.zeros(0, np.int64)
        self.max_degree = int(self.degree.max(initial=0))

    def _read_params(self) -> None:
        """The markets' parameters as ``[B, 1]`` arrays and the kernels' constants."""
        self.params = StackedParams([m.params for m in self.markets])
        self.consts = constants.build(self.params, self.steps_per_year, self.dtype)
        s = self.customer_state.price_sensitivity
        low = np.array([s[a:b].min(initial=np.inf) for a, b in self._ranges()])
        high = np.array([s[a:b].max(initial=-np.inf) for a, b in self._ranges()])
        self.sensitivity_range = (low[:, None].astype(float), high[:, None].astype(float))

    def _ranges(self) -> list[tuple[int, int]]:
        return [(int(self.offsets[b]), int(self.offsets[b + 1])) for b in range(self.B)]

    def sync(self) -> None:
        """A batch of one follows what was done to its market between steps: a new network,
        parameters edited in place, firm arrays replaced."""
        market = self.markets[0]
        if market.adjacency is not self._adjacency:
            self._network(market.adjacency)
        key = _params_key(market.params)
        if key != self._params_key:
            self._params_key = key
            self._read_params()
        self.customer_state = market.customer_state
        self.workspace = market.workspace
        if any(a is not b for a, b in zip(self._lifted, _arrays(market.firm_state), strict=True)):
            self._lift(market.firm_state)

    def _lift(self, firm_state: FirmState) -> None:
        """A batch of one steps views of its market's firm arrays (``FirmState.lift``); it
        keeps the arrays it lifted, to notice one replaced (compared by identity: an array's
        ``base`` is its memory's owner, not always the array, e.g. ``np.tile``'s result, so a
        test on ``base`` lifted again at every step)."""
        self._lifted = _arrays(firm_state)
        self.firm_state = firm_state.lift()

    # -- arrays the phases ask for ----------------------------------------------------------

    def firm_table(self, values: np.ndarray, fill: Any, dtype: Any = None) -> np.ndarray:
        """``values`` ``[B, F, ...]`` with one more firm row holding ``fill`` (for customers
        without a supplier: supplier -1 picks the last row), in ``dtype``."""
        values = np.asarray(values)
        extra = np.full((values.shape[0], 1, *values.shape[2:]), fill, dtype=values.dtype)
        table = np.concatenate([values, extra], axis=1)
        return table if dtype is None else table.astype(dtype)

    def record_kept(self, every: int, steps: int) -> None:
        """Record the metrics every ``every`` steps, at the last of the next ``steps`` steps and
        at the step a market stops: how a sweep records the rows it keeps (:func:`run`).
        Recording changes no state."""
        self.record_every[:] = max(1, int(every))
        self.record_at.add(self.steps + int(steps))
        self.record_final[:] = True

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance every live market by one step."""
        self.steps += 1
        for b in np.flatnonzero(self.live):
            self.markets[b].steps = self.steps
        self.advance()

    def advance(self) -> None:
        """The step of every live market (``steps`` already counts it): phases 0 to 10."""
        started = time.perf_counter()
        if self.B == 1:
            self.sync()
        live = np.flatnonzero(self.live)
        for b in live:
            self.markets[b].draws.step = self.steps
        update_visibility(self)
        decide(self)
        recording = self.live & (self.steps % self.record_every == 0)
        if self.steps in self.record_at:
            recording = self.live.copy()
        # the phases add the recorded sums also for the markets that record if they stop now
        scratch = BatchScratch(self.B, self.F, recording | (self.live & self.record_final))
        scratch.base = self.firm_state.customers.astype(float)
        scratch.details = bool(self.details)
        self.keys = step_keys(self.seeds, self.steps, CODES, self.M)
        self.kept_terms = None  # sim.rules.choice.step_terms: this step's, once
        self.attitude_spans = None  # word of mouth takes this step's
        run_phases(self, scratch, after=self._after_phase)
        if scratch.exits:  # counted after acquisition; only an exit has moved customers since
            count_customers(self)
        stopping = self.live & ~self.firm_state.alive.any(axis=1)
        scratch.recording = recording | (stopping & self.record_final)
        recording = scratch.recording
        self.recorder.account(self, scratch)
        if recording.any():
            self.recorder.record(self, scratch)
        if self.steps % max(1, self.steps_per_year // 12) == 0:
            self.recorder.record_cohorts(self)
        self.scratch = scratch
        for b in live:
            market = self.markets[b]
            if len(market.trace.ids):
                market.trace.record(market)
        elapsed = time.perf_counter() - started
        self.wall_seconds += elapsed
        for b in live:
            self.markets[b].wall_seconds += elapsed / len(live)
        for b in np.flatnonzero(self.live & ~self.firm_state.alive.any(axis=1)):
            self.retire(b)

    def _after_phase(self, name: str) -> None:
        if name == "acquisition":  # economics books the customer base after the moves
            count_customers(self)

    def retire(self, b: int) -> None:
        """Market ``b`` stops: no firm is left. It keeps a copy of its state as it is."""
        self.live[b] = False
        market = self.markets[b]
        market.running = False
        if self.B > 1:
            market._freeze()

    def run(self, steps: int, progress: Callable[[int, int], None] | None = None) -> MarketBatch:
        """Run ``steps`` steps (fewer if every market stops); ``progress(done, total)`` is
        called after every step. Returns the batch."""
        for i in range(int(steps)):
            if not self.live.any():
                break
            self.step()
            if progress is not None:
                progress(i + 1, steps)
        return self


def run(
    markets: Iterable[CustomerMarket],
    steps: int,
    *,
    record_every: int | None = None,
    cohorts: bool = True,
    survey: bool = True,
) -> list[CustomerMarket]:
    """Step fresh markets of one shape together for ``steps`` steps and return them.

    Parameters
    ----------
    markets
        Markets of one shape (``sim.batch.shape_of``) at step 0.
    steps
        Steps to run.
    record_every
        Record the metrics every this many steps, at the last step and at the step a market
        stops (default: each scenario's ``collect_every``). With markets that record every
        step (``collect_every = 1``), these rows are the same numbers as alone: recording
        changes no state.
    cohorts
        Keep the cohorts' survival.
    survey
        Ask the intention-to-stay panel (else ``intention_to_stay`` is NaN).

    Examples
    --------
    >>> import sim
    >>> from sim.batch import run
    >>> small = {"market.customers": 200}
    >>> markets = [sim.CustomerMarket("baseline", rng=s, overrides=small) for s in (1, 2, 3)]
    >>> [m.steps for m in run(markets, 5)]
    [5, 5, 5]
    """
    batch = MarketBatch(markets, cohorts=cohorts, survey=survey)
    if record_every is not None:
        batch.record_kept(record_every, steps)
    batch.run(steps)
    return batch.markets
