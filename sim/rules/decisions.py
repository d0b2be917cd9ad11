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

import inspect
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from sim.decision import BUDGET_ITEMS, DEFAULT_ALLOCATION, Decision, Decisions, FirmRows
from sim.rules.economics import set_spending
from sim.rules.retention import DEFAULT_MIX, TACTICS
from sim.scenario_schema import ScenarioError
from sim.scenario_types import MAX_MAGNITUDE, shown
from sim.strategies import BUILTIN_STRATEGIES, Composite, Strategy, has_array_form

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
    bad |= d.price > MAX_MAGNITUDE
    for share in (d.feature_share, d.teaching):
        bad |= ~((share >= 0.0) & (share <= 1.0))
    return bad


# -- firm by firm --------------------------------------------------------------------------


def decide_market(market: CustomerMarket) -> None:
    """Each active firm of ``market`` decides in turn, through its strategy's ``decide``."""
    fs = market.firm_state
    for firm in market.firms:
        if not firm.active:
            continue
        decision = _default_decision(fs, firm.index)
        firm.strategy.decide(firm, decision)
        apply_decision(market, firm, decision)


def _default_decision(fs: Any, f: int) -> Decision:
    """What firm ``f`` starts its step's decision from: its capability as promise, the default
    allocation and retention mix, its focus and price of the step before."""
    return Decision(
        promise=fs.capability[f].copy(),
        allocation=np.array(DEFAULT_ALLOCATION),
        focus=fs.focus[f].copy(),
        price=float(fs.price[f]),
        retention_mix=np.array(DEFAULT_MIX),
        feature_share=0.5,
        teaching=0.0,
    )


def apply_decision(market: CustomerMarket, firm: Firm, d: Decision) -> None:
    """Check ``firm``'s decision and write it into the firm arrays (shares normalised, the
    promise clipped to 0..1).

    Raises
    ------
    ScenarioError
        A decision of the wrong shape, not finite, negative, with shares outside 0..1 or a
        price outside 0..1e15: one line naming the strategy's module file, its class, the firm,
        the field, the step and what was expected (:func:`_refuse`; a ValueError, as before).
    """
    fs, f, k = market.firm_state, firm.index, len(market.attributes)
    try:
        promise = np.asarray(d.promise, float)
        alloc = np.asarray(d.allocation, float)
        focus = np.full(k, 1.0 / k) if d.focus is None else np.asarray(d.focus, float)
        mix = np.asarray(d.retention_mix, float)
    except (TypeError, ValueError):  # not numbers at all
        _refuse(market, firm, d)
    price = fs.price[f] if d.price is None else d.price
    shares = (d.feature_share, d.teaching)
    arrays = (promise, alloc, focus, mix)
    sums = _acceptable(k, arrays, price, shares)
    if sums is None:
        _refuse(market, firm, d)
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
    if min(sums) <= 0 or not 0 < scalars[0] <= MAX_MAGNITUDE:
        return None
    if not all(0.0 <= x <= 1.0 for x in scalars[1:]):
        return None
    return sums


def _refuse(market: CustomerMarket, firm: Firm, d: Decision) -> NoReturn:
    """Raise the :class:`ScenarioError` naming the first problem of a decision
    :func:`_acceptable` refused: the file and class of the policy that decided it (the one
    that made the field wrong, in a composition), the firm, the field, the step, the value and
    what was expected; one line."""
    problem = _problem(market.attributes, d)
    if problem is None:
        raise AssertionError(f"decision of firm {firm.name!r} refused and not named")
    name, value, expected = problem
    policy = _policy_to_blame(market, firm, name)
    where, method = _written_in(type(policy))
    raise ScenarioError(
        where,
        method,
        f"firm {firm.name!r} (firms[{firm.index}]) set {name} to {shown(_plain(value))} "
        f"at step {market.steps}{' (its first decision)' if market.steps == 0 else ''}; "
        f"expected {expected}",
    )


def _problem(attributes: list[str], d: Decision) -> tuple[str, Any, str] | None:
    """``(field, value, expected)`` of the first field of ``d`` that :func:`apply_decision`
    refuses, in the order of :class:`Decision`; None if there is none."""
    k, per_attribute = len(attributes), f"one per attribute ({', '.join(attributes)})"
    positive = "finite numbers >= 0 with a positive sum"
    arrays = (
        ("promise", d.promise, k, f"{k} finite numbers, {per_attribute}; each is clipped to 0..1"),
        ("allocation", d.allocation, 4, f"4 {positive}, one per budget item "
         f"({', '.join(BUDGET_ITEMS)})"),
        ("focus", d.focus, k, f"{k} {positive}, {per_attribute}"),
        ("retention_mix", d.retention_mix, 4, f"4 {positive}, one per tactic "
         f"({', '.join(TACTICS)})"),
    )  # fmt: skip
    for name, value, n, expected in arrays:
        if name == "focus" and value is None:  # an even focus
            continue
        try:
            a = np.asarray(value, float)
        except (TypeError, ValueError):
            return name, value, expected
        if a.shape != (n,) or not np.isfinite(a).all():
            return name, value, expected
        if name != "promise" and (a.min() < 0 or not a.sum() > 0):
            return name, value, expected
    scalars = (
        ("price", d.price, f"a finite number > 0 of size at most {MAX_MAGNITUDE:g}"),
        ("feature_share", d.feature_share, "a share: a finite number from 0 to 1"),
        ("teaching", d.teaching, "a share: a finite number from 0 to 1"),
    )
    for name, value, expected in scalars:
        if name == "price" and value is None:  # the current price
            continue
        try:
            x = float(value)
        except (TypeError, ValueError):
            return name, value, expected
        low_ok = x > 0 if name == "price" else x >= 0
        high = MAX_MAGNITUDE if name == "price" else 1.0
        if not (low_ok and x <= high):  # NaN fails both
            return name, value, expected
    return None


def _policy_to_blame(market: CustomerMarket, firm: Firm, name: str) -> Strategy:
    """The policy of ``firm``'s strategy that set ``name`` wrong: its one policy not built in
    (the built-ins decide within range from valid levers); with several, the first whose
    decision is refused when the composition is decided again one policy at a time (from the
    step's default decision); failing that, the last of them."""
    strategy = firm.strategy
    parts = list(strategy.parts) if isinstance(strategy, Composite) else [strategy]
    own = [p for p in parts if type(p) not in BUILTIN_STRATEGIES.values()] or parts
    if len(own) == 1:
        return own[0]
    decision = _default_decision(market.firm_state, firm.index)
    try:
        for part in parts:
            part.decide(firm, decision)
            wrong = _problem(market.attributes, decision)
            if wrong is not None and wrong[0] == name:
                return part
    except Exception:  # the policies decided otherwise this time: blame the last
        pass
    return own[-1]


def _written_in(cls: type[Strategy]) -> tuple[str, str]:
    """The file and ``Class.method`` where ``cls`` decides: its ``decide_all`` if it decides
    through its array form (:func:`has_array_form`), else its ``decide``."""
    method = "decide_all" if has_array_form(cls) else "decide"
    owner = next((k for k in cls.__mro__ if method in k.__dict__), cls)
    try:
        where = inspect.getsourcefile(owner) or inspect.getfile(owner)
    except TypeError:  # a class made at run time, without a file
        where = f"<module {owner.__module__}>"
    return where, f"{owner.__name__}.{method}"


def _plain(value: Any) -> Any:
    """A decision's value as :func:`~sim.scenario_types.shown` writes it: arrays (and lists of
    numbers) as lists of Python floats, NumPy scalars as Python numbers; anything else as it
    is."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | list | tuple):
        try:
            return np.asarray(value, float).tolist()
        except (TypeError, ValueError):
            return value.tolist() if isinstance(value, np.ndarray) else value
    return value
