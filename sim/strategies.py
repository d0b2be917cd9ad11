"""Firm strategies: the interface, the built-ins, composition and loading of user strategies.

A strategy decides, once a step, what a firm promises, how it splits its discretionary budget
between capability, capacity, marketing and retention, which attributes it focuses on, and whether
it tells customers about failures. A firm's strategy is a *composition* of policies: each policy
sets the parts of the :class:`Decision` it cares about and leaves the rest to the ones before it,
so ``["niche", "proactive"]`` is a niche firm that discloses its failures.

Each built-in policy states its rule once, as an array form (:meth:`Strategy.decide_all`): it
decides for every firm of that policy in a batch of markets at once (``sim.rules.decisions``),
and one firm's decision (:meth:`Strategy.decide`) is the same array form on one row.

Write your own by subclassing :class:`Strategy` and naming it in a scenario as
``package.module:ClassName`` (the scenario's folder is importable). Its ``Levers`` (a pydantic
model) are filled from the firm's ``levers`` table and validated like the rest of the scenario.
Write one of the two methods: ``decide_all`` (the firms of the policy then decide at once, and
``decide`` comes with it), or ``decide`` alone (for a rule of one firm at a time: one that
remembers, or reads its rivals; a market with such a policy decides firm by firm).

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.decision import (
    BUDGET_ITEMS,
    DEFAULT_ALLOCATION,
    RETENTION_TACTICS,
    Decision,
    Decisions,
    FirmRows,
    MarketView,
)
from sim.scenario_types import out_of_range_message, strict_numbers, wrong_type_message

if TYPE_CHECKING:
    from sim.agents import Firm

__all__ = [
    "BUDGET_ITEMS",
    "BUILTIN_STRATEGIES",
    "DEFAULT_ALLOCATION",
    "RETENTION_TACTICS",
    "BenchmarkLeader",
    "Composite",
    "Decision",
    "Decisions",
    "FeatureChaser",
    "FirmRows",
    "Generalist",
    "Honest",
    "MarketView",
    "Niche",
    "Overpromise",
    "Proactive",
    "Responsive",
    "RetentionFocus",
    "Strategy",
    "StrategyError",
    "Underpromise",
    "build_strategy",
    "has_array_form",
    "lever",
]


class StrategyError(ValueError):
    """A strategy that cannot be built; ``key`` is ``strategy`` or ``levers.<name>``."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class NoLevers(BaseModel):
    """A strategy without levers (and the base of the built-ins' ``Levers``: no lever is
    infinite or NaN)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Strategy:
    """Base class of every strategy policy.

    Subclasses set ``name``, a docstring, optionally a pydantic ``Levers`` model, and override
    one of :meth:`decide_all` (the policy's rule for many firms at once; ``decide`` comes from
    it) or :meth:`decide` (one firm at a time), each editing decisions in place.
    """

    name: ClassVar[str] = "strategy"
    Levers: ClassVar[type[BaseModel]] = NoLevers

    def __init__(self, **levers: Any) -> None:
        self.levers = self.Levers(**levers)

    def decide(self, firm: Firm, decision: Decision) -> None:
        """Edit ``decision`` for ``firm`` this step: by default the class's array form
        (:meth:`decide_all`) on one row, to the bit what the firm gets deciding with others."""
        row = Decisions.of(decision, firm)
        type(self).decide_all([self], FirmRows.of(firm), row)
        row.put(decision)

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        """Edit row ``i`` of ``decisions`` as ``parts[i]`` (a policy of this class, with its
        levers) decides for the firm of row ``i`` of ``firms``; each row from its own firm and
        levers only (so that one row alone gives what it gets among others). Used for a class
        whose ``decide`` is derived from it or defined beside it (:func:`has_array_form`); the
        default changes nothing."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.levers.model_dump().items())
        return f"{type(self).__name__}({args})"


def has_array_form(cls: type[Strategy]) -> bool:
    """Whether ``cls`` decides through its ``decide_all``: its ``decide`` is the one derived from
    it (:meth:`Strategy.decide`) or is defined in the same class as a ``decide_all`` (which must
    then give the same numbers). A subclass that overrides ``decide`` only (``responsive``, a
    user's) is decided firm by firm."""
    return _has_array_form(cls)


@cache
def _has_array_form(cls: type[Strategy]) -> bool:
    owner = next(k for k in cls.__mro__ if "decide" in k.__dict__)
    return owner is Strategy or "decide_all" in owner.__dict__


def lever(parts: Sequence[Strategy], name: str) -> np.ndarray:
    """``[n]`` lever ``name`` of each policy of ``parts`` (float): in ``decide_all``, each row's
    own value of a lever."""
    return np.array([getattr(p.levers, name) for p in parts], np.float64)


def _levers(**fields: Any) -> type[BaseModel]:
    return type(
        "Levers",
        (NoLevers,),
        {"__annotations__": {k: type(v.default) for k, v in fields.items()}, **fields},
    )


class Honest(Strategy):
    """Promise exactly what the firm can deliver."""

    name = "honest"

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        decisions.promise = firms.capability.copy()


class Overpromise(Strategy):
    """Promise capability x (1 + inflation) + overstatement: wins trials, breaks trust."""

    name = "overpromise"
    Levers = _levers(
        inflation=Field(0.3, ge=0, le=2, description="share promised above capability"),
        overstatement=Field(
            0.0,
            ge=0,
            le=1,
            description="amount promised above capability on "
            "every attribute (added after inflation)",
        ),
    )

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        inflation = lever(parts, "inflation")[:, None]
        promised = firms.capability * (1 + inflation) + lever(parts, "overstatement")[:, None]
        decisions.promise = np.minimum(1.0, promised)


class Underpromise(Strategy):
    """Promise below capability: under-promise, over-deliver."""

    name = "underpromise"
    Levers = _levers(
        understatement=Field(0.15, ge=0, le=1, description="share promised below capability")
    )

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        decisions.promise = firms.capability * (1 - lever(parts, "understatement")[:, None])


class Generalist(Strategy):
    """Spread the budget evenly: a quarter each to capability, capacity, marketing and retention,
    and capability investment evenly over all attributes."""

    name = "generalist"

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        k = firms.capability.shape[1]
        decisions.focus = np.full_like(decisions.focus, 1.0 / k)
        decisions.allocation = np.full_like(decisions.allocation, 1.0 / len(BUDGET_ITEMS))


class Niche(Strategy):
    """Invest in one or two attributes, stay at par on the rest; market to those who weight them."""

    name = "niche"

    class Levers(NoLevers):
        focus: list[str] = Field(
            ["service"], min_length=1, max_length=2, description="attributes to dominate"
        )
        intensity: float = Field(
            0.85, ge=0, le=1, description="share of capability investment on the focus attributes"
        )
        teaching: float = Field(
            0.3, ge=0, le=1, description="share of marketing on teaching customers to value them"
        )

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        names = firms.attributes
        for part in parts:
            _check_focus(part, names)
        mask = np.array([[a in part.levers.focus for a in names] for part in parts], bool)
        intensity = lever(parts, "intensity")[:, None]
        focus = np.where(
            mask,
            intensity / mask.sum(axis=1, keepdims=True),
            (1 - intensity) / np.maximum(1, (~mask).sum(axis=1, keepdims=True)),
        )
        decisions.focus = focus / focus.sum(axis=1, keepdims=True)
        decisions.teaching = lever(parts, "teaching")


def _check_focus(part: Strategy, names: list[str]) -> None:
    for a in part.levers.focus:
        if a not in names:
            raise StrategyError("levers.focus", f"expected attributes from {names}, got {a!r}")


class FeatureChaser(Strategy):
    """Chase prospects: marketing and new features first; fixes, capacity and current
    customers lag."""

    name = "feature_chaser"
    Levers = _levers(
        marketing_share=Field(0.5, ge=0, le=1, description="budget share on marketing"),
        capability_share=Field(0.4, ge=0, le=1, description="budget share on capability"),
        feature_share=Field(
            0.85, ge=0, le=1, description="share of capability spending on new features"
        ),
    )

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        m, c = lever(parts, "marketing_share"), lever(parts, "capability_share")
        rest = np.maximum(0.0, 1 - m - c)
        decisions.allocation = np.stack([c, rest * 0.5, m, rest * 0.5], axis=1)
        decisions.feature_share = lever(parts, "feature_share")


class RetentionFocus(Strategy):
    """Spend on current customers: product extras, reinforcing promotions, personal contact and
    post-purchase follow-up, each in its share of the retention budget."""

    name = "retention_focus"
    Levers = _levers(
        retention_share=Field(0.45, ge=0, le=1, description="budget share on retention"),
        capacity_share=Field(0.3, ge=0, le=1, description="budget share on capacity"),
        extras=Field(0.3, ge=0, le=1, description="share of retention on product extras"),
        promotions=Field(
            0.1, ge=0, le=1, description="share of retention on reinforcing promotions"
        ),
        personal=Field(0.35, ge=0, le=1, description="share of retention on personal contact"),
        aftercare=Field(
            0.25, ge=0, le=1, description="share of retention on post-purchase follow-up"
        ),
    )

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        shares = {"retention": lever(parts, "retention_share")}
        shares["capacity"] = lever(parts, "capacity_share")
        decisions.set_allocation(shares)
        mix = np.stack([lever(parts, t) for t in RETENTION_TACTICS], axis=1)
        extras, promotions, personal, aftercare = mix.T
        given = extras + promotions + personal + aftercare > 0
        decisions.retention_mix = np.where(given[:, None], mix, decisions.retention_mix)


class Proactive(Strategy):
    """Tell customers about delays and failures at once."""

    name = "proactive"

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        decisions.disclose = np.ones_like(decisions.disclose)


class BenchmarkLeader(Strategy):
    """A well-resourced leader: honest, broad, staffs ahead of demand (enters at ``entry_step``)."""

    name = "benchmark_leader"
    Levers = _levers(
        headroom=Field(1.2, ge=1, le=3, description="capacity kept above the customer base"),
        capacity_share=Field(
            0.25, ge=0, le=1, description="budget share on capacity while it has the headroom"
        ),
        capacity_share_short=Field(
            0.5, ge=0, le=1, description="budget share on capacity while short of the headroom"
        ),
    )

    @classmethod
    def decide_all(cls, parts: Sequence[Strategy], firms: FirmRows, decisions: Decisions) -> None:
        decisions.promise = firms.capability.copy()
        k = firms.capability.shape[1]
        decisions.focus = np.full_like(decisions.focus, 1.0 / k)
        short = firms.customers * lever(parts, "headroom") > firms.capacity * firms.size
        shares = np.where(
            short, lever(parts, "capacity_share_short"), lever(parts, "capacity_share")
        )
        decisions.set_allocation({"capacity": shares})


class Responsive(Strategy):
    """A rival that reacts: every few weeks it looks at its share, its rivals' prices and their
    reviews; when it is losing share it answers on price if a rival is cheaper, else on the
    attribute where rivals' reviews beat its own (it moves its investment focus there). Promises
    what it can deliver."""

    name = "responsive"

    class Levers(NoLevers):
        review_weeks: float = Field(13.0, gt=0, le=104, description="weeks between reviews")
        trigger: float = Field(
            0.01,
            ge=0,
            le=1,
            description="share of the industry lost since the last review that makes it react",
        )
        price_step: float = Field(
            0.5, ge=0, le=1, description="share of the gap to the cheapest rival's price closed"
        )
        price_floor: float = Field(
            1.2, ge=0, le=10, description="lowest price, as a multiple of its unit cost"
        )
        refocus: float = Field(
            0.6,
            ge=0,
            le=1,
            description="share of capability investment moved to the lost attribute",
        )

    def __init__(self, **levers: Any) -> None:
        super().__init__(**levers)
        self._last_review: int | None = None
        self._last_share = 0.0
        self._focus: np.ndarray | None = None

    def decide(self, firm: Firm, decision: Decision) -> None:
        view = firm.market_view()
        if self._focus is not None:
            decision.focus = self._focus.copy()
        interval = self.levers.review_weeks * view.steps_per_year / 52.0
        if self._last_review is not None and view.step - self._last_review < interval:
            return
        share, lost = view.share, self._last_share - view.share
        first = self._last_review is None
        self._last_review, self._last_share = view.step, share
        if first or lost < self.levers.trigger:
            return
        own = view.own
        rivals = np.arange(len(view.prices)) != own
        if not rivals.any():
            return
        cheapest = float(view.prices[rivals].min())
        if cheapest < view.prices[own] * 0.99:  # answer on price, not below the floor
            target = view.prices[own] - self.levers.price_step * (view.prices[own] - cheapest)
            decision.price = max(target, self.levers.price_floor * firm.unit_cost)
            return
        # answer on the attribute the market weighs where rivals' reviews beat its own most
        best = np.nanmax(np.where(rivals[:, None], view.reviews, np.nan), axis=0)
        gap = view.weights * (best - view.reviews[own])
        if not np.isfinite(gap).any() or np.nanmax(gap) <= 0:
            return
        k = int(np.nanargmax(gap))
        focus = np.full(len(gap), (1 - self.levers.refocus) / max(1, len(gap) - 1))
        focus[k] = self.levers.refocus
        self._focus = focus / focus.sum()
        decision.focus = self._focus.copy()


BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        Honest,
        Overpromise,
        Underpromise,
        Niche,
        Generalist,
        FeatureChaser,
        RetentionFocus,
        Proactive,
        BenchmarkLeader,
        Responsive,
    )
}


class Composite(Strategy):
    """Policies applied in order, each editing what it cares about."""

    name = "composite"

    def __init__(self, parts: list[Strategy]) -> None:
        self.parts = parts
        self.levers = NoLevers()

    def decide(self, firm: Firm, decision: Decision) -> None:
        for part in self.parts:
            part.decide(firm, decision)

    def __repr__(self) -> str:
        return " + ".join(map(repr, self.parts))


def _import_failure(error: Exception) -> str:
    """A user module's failure on import in one line: ``invalid syntax (mymod.py, line 3)``,
    ``RuntimeError: boom (mymod.py, line 1)``, naming the module's line that raised."""
    if isinstance(error, SyntaxError):
        return " ".join(str(error).split())
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if "importlib" not in f.filename and "<frozen" not in f.filename]
    where = f" ({Path(mine[-1].filename).name}, line {mine[-1].lineno})" if mine else ""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}{': ' + text if text else ''}{where}"


def _load_class(spec: str, search_dir: Path | None) -> type[Strategy]:
    module_name, _, class_name = spec.partition(":")
    added = False
    if search_dir is not None and str(search_dir) not in sys.path:
        sys.path.insert(0, str(search_dir))
        added = True
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise StrategyError("strategy", f"cannot import module {module_name!r}: {e}") from None
    except Exception as e:  # the module's own code failed: a SyntaxError, or raised on import
        raise StrategyError(
            "strategy", f"cannot import module {module_name!r}: {_import_failure(e)}"
        ) from None
    finally:
        if added:
            sys.path.remove(str(search_dir))
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(
            "strategy",
            f"expected {class_name!r} in {module_name} to be a subclass of sim.strategies.Strategy",
        )
    return cls


def build_strategy(
    spec: str | list[str],
    levers: dict[str, Any] | None = None,
    attributes: list[str] | None = None,
    search_dir: Path | None = None,
) -> Strategy:
    """Build a firm's strategy from its scenario entry.

    Parameters
    ----------
    spec
        A built-in name, ``package.module:ClassName``, or a list of these composed in order.
    levers
        Lever values; each must belong to one of the composed policies.
    attributes
        The market's attribute names, to check attribute-valued levers.
    search_dir
        A folder made importable while loading user strategies (the scenario's).

    Raises
    ------
    StrategyError
        Unknown names, classes that are not strategies, unknown or invalid levers.
    """
    names = [spec] if isinstance(spec, str) else list(spec)
    if not names:
        raise StrategyError("strategy", "expected at least one strategy name")
    classes = []
    for name in names:
        if ":" in name:
            classes.append(_load_class(name, search_dir))
        elif name in BUILTIN_STRATEGIES:
            classes.append(BUILTIN_STRATEGIES[name])
        else:
            raise StrategyError(
                "strategy",
                f"expected one of {', '.join(BUILTIN_STRATEGIES)} or "
                f"package.module:ClassName, got {name!r}",
            )
    levers = dict(levers or {})
    known = {f for c in classes for f in c.Levers.model_fields}
    unknown = sorted(set(levers) - known)
    if unknown:
        strategy = "+".join(names)
        raise StrategyError(
            f"levers.{unknown[0]}",
            f"unknown lever for {strategy}; expected one of: {', '.join(sorted(known))}"
            if known
            else f"unknown lever: {strategy} has no levers",
        )
    parts = []
    for cls in classes:
        mine = {k: v for k, v in levers.items() if k in cls.Levers.model_fields}
        # numbers must be numbers: lax pydantic would take true for 1 (sim.scenario_types)
        mine = strict_numbers(cls.Levers, mine)
        try:
            parts.append(cls(**mine))
        except ValidationError as err:
            e = err.errors()[0]
            info = cls.Levers.model_fields.get(e["loc"][0]) if e["loc"] else None
            detail = (
                wrong_type_message(e["input"])
                or out_of_range_message(info, e)
                or f"{e['msg']} (got {e['input']!r})"
            )
            raise StrategyError(f"levers.{e['loc'][0]}", detail) from None
    if attributes is not None:
        for part in parts:
            focus = getattr(part.levers, "focus", None)
            if isinstance(focus, list):
                bad = [a for a in focus if a not in attributes]
                if bad:
                    raise StrategyError(
                        "levers.focus", f"expected attributes from {attributes}, got {bad}"
                    )
    return parts[0] if len(parts) == 1 else Composite(parts)
