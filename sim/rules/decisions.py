"""Phase 0 and 1: which firms customers can see, and what the firms decide.

Visibility: firms whose ``entry_step`` has come and that have not exited are visible to their
region's customers (national firms to all). Decisions: each active firm's strategy (a Python
object, ``sim.strategies``) sets its promise, budget allocation, focus, price, retention mix,
feature share, teaching and disclosure; the budget is then split into capability, capacity,
marketing and retention spending at the current customer base (``sim.rules.economics``).

The firms of a batch decide at once, policy by policy: the active firms whose strategies are
the same composition of policies with an array form (every built-in but ``responsive``), in
every market of the batch, are one group, and each policy's array form
(``Strategy.decide_all``, where the policy's rule is stated) edits the group's rows of
:class:`Decisions`. A market with a firm whose policy is written firm by firm (a user's
``decide``; ``responsive``, which remembers and reads its rivals' prices as they are set)
decides firm by firm, in firm order (:func:`decide_market`); there a policy with an array form
decides through ``Strategy.decide``, its array form on one row. Both give the same numbers, to
the bit (tests/test_decisions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from sim.decision import BUDGET_ITEMS, DEFAULT_ALLOCATION, Decision, Decisions, FirmRows
from sim.rules.economics import set_spending
from sim.rules.retention import DEFAULT_MIX, TACTICS
from sim.strategies import Composite, Strategy, has_array_form

if TYPE_CHECKING:
    from sim.agents import Firm
    from sim.batch import MarketBatch
    from sim.model import CustomerMarket

__all__ = ["decide", "decide_market", "update_visibility"]


def update_visibility(batch: MarketBatch) -> None:
    """``batch.visible[b, r, f]``: firm ``f`` of market ``b`` is active and serves region
    ``r``."""
    fs = batch.firm_state
    active = fs.active(batch.steps)  # [B, F]
    regions = np.arange(batch.R)[None, :, None]
    batch.visible[...] = active[:, None, :] & (
        fs.national[:, None, :] | (fs.region[:, None, :] == regions)
    )


def decide(batch: MarketBatch) -> None:
    """Phase 1: every live market's active firms decide; then the budgets are split.

    With ``batch.per_firm_decisions`` set every market decides firm by firm (the same numbers;
    tests compare the two)."""
    plan = _plan(batch)
    for market in plan.per_firm:
        decide_market(market)
    active = batch.firm_state.active(batch.steps)
    groups = []
    for policies, b, f, columns in plan.groups:
        on = active[b, f]
        if not on.all():
            b, f = b[on], f[on]
            columns = [[p for p, keep in zip(col, on, strict=True) if keep] for col in columns]
        if len(b):
            groups.append((policies, b, f, columns))
    if groups:
        _decide_groups(batch, groups)
    set_spending(batch)


@dataclass
class _Plan:
    """Who decides how: the markets that decide firm by firm, and the groups of firms (of every
    other live market) of one composition of policies: ``(policies, b, f, columns)`` with
    ``columns[p][i]`` the ``p``-th policy of firm ``(b[i], f[i])``."""

    key: tuple
    per_firm: list[CustomerMarket] = field(default_factory=list)
    groups: list[tuple[tuple[type[Strategy], ...], np.ndarray, np.ndarray, list[list]]] = field(
        default_factory=list
    )


def _plan(batch: MarketBatch) -> _Plan:
    """The batch's plan, made again when a market stopped or a firm's strategy was replaced."""
    live = np.flatnonzero(batch.live)
    markets = [batch.markets[b] for b in live]
    key = (
        batch.per_firm_decisions,
        tuple(live),
        tuple(id(firm.strategy) for market in markets for firm in market.firms),
    )
    plan = batch.decision_plan
    if plan is not None and plan.key == key:
        return plan
    plan = _Plan(key)
    found: dict[tuple[type[Strategy], ...], tuple[list[int], list[int], list[list]]] = {}
    for b, market in zip(live, markets, strict=True):
        chains = [_policies(firm.strategy) for firm in market.firms]
        if batch.per_firm_decisions or any(c is None for c in chains):
            plan.per_firm.append(market)
            continue
        for f, chain in enumerate(chains):
            rows, firms, columns = found.setdefault(
                tuple(map(type, chain)), ([], [], [[] for _ in chain])
            )
            rows.append(int(b))
            firms.append(f)
            for column, part in zip(columns, chain, strict=True):
                column.append(part)
    for policies, (rows, firms, columns) in found.items():
        plan.groups.append((policies, np.array(rows), np.array(firms), columns))
    batch.decision_plan = plan
    return plan


def _policies(strategy: Strategy) -> list[Strategy] | None:
    """A firm's policies in order, or None if one of them has no array form."""
    parts = strategy.parts if type(strategy) is Composite else [strategy]
    return parts if all(has_array_form(type(p)) for p in parts) else None


def _decide_groups(
    batch: MarketBatch,
    groups: list[tuple[tuple[type[Strategy], ...], np.ndarray, np.ndarray, list[list]]],
) -> None:
    """The firms of each group ``(policies, b, f, columns)`` decide at once, policy by policy
    (each group's rows of one :class:`Decisions`); the decisions are checked and written for
    all groups together."""
    fs = batch.firm_state
    b = np.concatenate([g[1] for g in groups])
    f = np.concatenate([g[2] for g in groups])
    n = len(b)
    firms = FirmRows(
        capability=fs.capability[b, f],
        customers=fs.customers[b, f],
        capacity=fs.capacity[b, f],
        size=batch.size[b, 0],
        attributes=batch.attributes,
    )
    d = Decisions(
        promise=fs.capability[b, f],
        allocation=np.tile(np.array(DEFAULT_ALLOCATION), (n, 1)),
        focus=fs.focus[b, f],
        disclose=np.zeros(n, bool),
        price=fs.price[b, f],
        retention_mix=np.tile(np.array(DEFAULT_MIX), (n, 1)),
        feature_share=np.full(n, 0.5),
        teaching=np.zeros(n),
    )
    start = 0
    for policies, rows_b, _, columns in groups:
        rows = slice(start, start + len(rows_b))
        start = rows.stop
        mine = FirmRows(
            **{name: getattr(firms, name)[rows] for name in _FIRM_ROWS},
            attributes=firms.attributes,
        )
        theirs = Decisions(**{name: getattr(d, name)[rows] for name in _DECISIONS})
        for policy, parts in zip(policies, columns, strict=True):
            policy.decide_all(parts, mine, theirs)
        for name in _DECISIONS:
            getattr(d, name)[rows] = getattr(theirs, name)
    sums = [x.sum(axis=1, keepdims=True) for x in (d.allocation, d.focus, d.retention_mix)]
    invalid = _invalid(d, sums)
    if invalid.any():  # the firm's own decision names the error
        i = int(np.argmax(invalid))
        decide_market(batch.markets[int(b[i])])
        raise RuntimeError(f"firm {f[i]} of market {b[i]}: an array form decided what its "
                           "decide refuses")  # fmt: skip
    fs.price[b, f] = d.price
    fs.promise[b, f] = np.clip(d.promise, 0.0, 1.0)
    fs.allocation[b, f] = d.allocation / sums[0]
    fs.focus[b, f] = d.focus / sums[1]
    fs.retention_mix[b, f] = d.retention_mix / sums[2]
    fs.feature_share[b, f] = d.feature_share
    fs.teaching[b, f] = d.teaching
    fs.disclose[b, f] = d.disclose


_FIRM_ROWS = ("capability", "customers", "capacity", "size")
_DECISIONS = tuple(f.name for f in fields(Decisions))


def _invalid(d: Decisions, sums: list[np.ndarray]) -> np.ndarray:
    """``[n]``: rows that :func:`apply_decision` would refuse (``sums``: of the allocation, the
    focus and the retention mix)."""
    shares = np.concatenate([d.allocation, d.focus, d.retention_mix], axis=1)
    numbers = np.concatenate(
        [d.promise, shares, d.price[:, None], d.feature_share[:, None], d.teaching[:, None]],
        axis=1,
    )
    bad = ~np.isfinite(numbers).all(axis=1) | (shares.min(axis=1) < 0)
    bad |= ~(np.concatenate(sums, axis=1) > 0).all(axis=1) | ~(d.price > 0)
    for share in (d.feature_share, d.teaching):
        bad |= ~((share >= 0.0) & (share <= 1.0))
    return bad


# -- firm by firm --------------------------------------------------------------------------


def decide_market(market: CustomerMarket) -> None:
    """Each active firm of ``market`` decides in turn, through its strategy's ``decide``."""
    fs = market.firm_state
    for firm in market.firms:
        f = firm.index
        if not firm.active:
            continue
        decision = Decision(
            promise=fs.capability[f].copy(),
            allocation=np.array(DEFAULT_ALLOCATION),
            focus=fs.focus[f].copy(),
            price=float(fs.price[f]),
            retention_mix=np.array(DEFAULT_MIX),
            feature_share=0.5,
            teaching=0.0,
        )
        firm.strategy.decide(firm, decision)
        apply_decision(market, firm, decision)


def apply_decision(market: CustomerMarket, firm: Firm, d: Decision) -> None:
    """Check ``firm``'s decision and write it into the firm arrays (shares normalised, the
    promise clipped to 0..1).

    Raises
    ------
    ValueError
        A decision of the wrong shape, not finite, negative, or with shares outside 0..1.
    """
    fs, f, k = market.firm_state, firm.index, len(market.attributes)
    promise = np.asarray(d.promise, float)
    alloc = np.asarray(d.allocation, float)
    focus = np.full(k, 1.0 / k) if d.focus is None else np.asarray(d.focus, float)
    mix = np.asarray(d.retention_mix, float)
    price = fs.price[f] if d.price is None else d.price
    shares = (d.feature_share, d.teaching)
    arrays = (promise, alloc, focus, mix)
    sums = _acceptable(k, arrays, price, shares)
    if sums is None:
        _refuse(firm, d, k, arrays, price)
    fs.price[f] = float(price)
    fs.promise[f] = np.clip(promise, 0.0, 1.0)
    fs.allocation[f] = alloc / sums[0]
    fs.focus[f] = focus / sums[1]
    fs.retention_mix[f] = mix / sums[2]
    fs.feature_share[f], fs.teaching[f] = map(float, shares)
    fs.disclose[f] = bool(d.disclose)


def _acceptable(
    k: int, arrays: tuple[np.ndarray, ...], price: Any, shares: tuple[Any, Any]
) -> tuple[float, float, float] | None:
    """The sums of the allocation, focus and mix of a decision :func:`apply_decision` accepts
    (``arrays``: its promise, allocation, focus and retention mix), or None (checked in one
    pass; :func:`_refuse` names the problem)."""
    promise, alloc, focus, mix = arrays
    if not (promise.shape == focus.shape == (k,) and alloc.shape == (len(BUDGET_ITEMS),)):
        return None
    if mix.shape != (len(TACTICS),):
        return None
    try:
        scalars = [float(price), *map(float, shares)]
    except (TypeError, ValueError):
        return None
    numbers = np.concatenate((promise, alloc, focus, mix, scalars))
    if not np.isfinite(numbers).all() or numbers[k:-3].min() < 0:  # the shares
        return None
    sums = alloc.sum(), focus.sum(), mix.sum()
    if min(sums) <= 0 or scalars[0] <= 0 or not all(0.0 <= x <= 1.0 for x in scalars[1:]):
        return None
    return sums


def _refuse(
    firm: Firm, d: Decision, k: int, arrays: tuple[np.ndarray, ...], price: Any
) -> NoReturn:
    """Raise the ValueError naming the first problem of a decision :func:`_acceptable`
    refused."""
    promise, alloc, focus, mix = arrays
    checks = (
        (promise, (k,), "promise"),
        (alloc, (4,), "allocation"),
        (focus, (k,), "focus"),
        (mix, (len(TACTICS),), "retention_mix"),
    )
    for value, shape, name in checks:
        if value.shape != shape or not np.all(np.isfinite(value)):
            raise ValueError(
                f"strategy {firm.strategy!r} of firm {firm.name!r} set {name} to "
                f"{value!r}; expected {shape[0]} finite numbers"
            )
    if any(v.min() < 0 or v.sum() <= 0 for v in (alloc, focus, mix)):
        raise ValueError(
            f"strategy {firm.strategy!r} of firm {firm.name!r}: allocation, focus and "
            "retention_mix must be non-negative with a positive sum"
        )
    price = float(price)
    if not np.isfinite(price) or price <= 0:
        raise ValueError(
            f"strategy {firm.strategy!r} of firm {firm.name!r} set price to {d.price!r}; "
            "expected a positive number"
        )
    for name in ("feature_share", "teaching"):
        value = getattr(d, name)
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(
                f"strategy {firm.strategy!r} of firm {firm.name!r} set {name} to "
                f"{value!r}; expected a share in 0..1"
            )
    raise AssertionError(f"decision of firm {firm.name!r} refused and not named")
