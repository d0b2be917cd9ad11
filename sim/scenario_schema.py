"""The scenario schema: what a scenario file may say, as pydantic models.

A scenario is one complete market: who the customers are (:class:`MarketSpec`,
:class:`SegmentSpec`), how they are connected (:class:`NetworkSpec`, with the kinds of network and
the keys each uses in :mod:`sim.scenario_network`), which firms serve them with
which strategies (:class:`FirmSpec`), and every behavioural parameter (``sim.params``). The
models validate everything; :func:`validation_problems` turns pydantic's errors into the
``key: what was expected`` lines of a :class:`ScenarioError`, every problem found at once.
Finding, reading and resolving files (``extends``, overrides) is :mod:`sim.scenario`'s job.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.params import P, Params, Section, plausible_ranges
from sim.scenario_network import NETWORK_KINDS, NetworkSpec, unbuildable
from sim.scenario_types import (
    WrongType,
    out_of_range_message,
    shown,
    strict_numbers,
    toml_value,
    wrong_type_message,
)

__all__ = [
    "MAX_STEPS",
    "NETWORK_KINDS",
    "ClaimSpec",
    "FirmSpec",
    "MarketSpec",
    "NetworkSpec",
    "Scenario",
    "ScenarioError",
    "SegmentSpec",
    "scenario_hash",
    "strict_numbers",
    "toml_value",
    "validation_problems",
    "wrong_type_message",
]

MAX_STEPS = 10_000_000
"""Most steps a run may last (and latest step a firm may enter at, or metrics be recorded
every): 192,000 years of weeks. The customers' step counters (tenure, the step a relationship
began) are 32-bit, and a run records its metrics every ``collect_every`` steps; robustness files
and the sweep and run flags share the limit."""


class ScenarioError(ValueError):
    """A scenario that cannot be used: each problem names file, key and expectation.

    Parameters
    ----------
    source
        Where the problem is: a file, or a command-line flag such as ``--set market.customers=0``.
    key
        The key path in the scenario (``firms[0].price``), or '' for the whole source.
    message
        What was expected (and what was found).
    more
        Further problems found at the same time, as ``(source, key, message)``.

    Attributes
    ----------
    problems
        Every problem as ``(source, key, message)``, the first one first.
    lines
        One line per problem, ``source: key: message`` (``str(error)`` joins them with
        newlines).
    """

    def __init__(
        self, source: str, key: str, message: str, more: Sequence[tuple[str, str, str]] = ()
    ) -> None:
        self.source, self.key, self.detail = source, key, message
        self.problems: list[tuple[str, str, str]] = [(source, key, message), *more]
        super().__init__("\n".join(self.lines))

    @property
    def lines(self) -> list[str]:
        """One line per problem: ``source: key: message``."""
        return [_problem_line(*problem) for problem in self.problems]

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str, str]]) -> ScenarioError:
        """One error carrying ``problems`` (at least one)."""
        first, *rest = problems
        return cls(*first, more=rest)


def _problem_line(source: str, key: str, message: str) -> str:
    where = f"{source}: " if source else ""
    if key and (f" {key}=" in source or source.endswith(f"override {key}")):
        key = ""  # the source is the override of this very key: say it once
    return f"{where}{key + ': ' if key else ''}{message}"


class MarketSpec(Section):
    """Who is in the market."""

    customers: int = P(
        2000, "number of customers (nodes of the network)", "customers", ge=2, le=50_000_000
    )
    industries: list[str] = P(
        ["banking", "retail", "telecom"], "industries; each customer may have one supplier in each"
    )
    attributes: list[str] = P(
        ["reliability", "speed", "service", "value"], "attributes customers judge firms on"
    )
    cross_industry: list[str] = P(
        ["speed", "service"],
        "attributes whose best experience anywhere sets the bar in every industry",
    )
    failure_attributes: list[str] = P(["reliability", "speed"], "attributes a failure drops")
    price_attribute: str | None = P(
        "value",
        'attribute perceived from price against rivals ("none": no attribute depends on price)',
    )
    regions: int = P(
        1, "regions (communities of the network); local firms serve one", "", ge=1, le=10_000
    )

    @field_validator("industries", "attributes")
    @classmethod
    def _unique_non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("expected at least one name")
        if len(set(v)) != len(v):
            raise ValueError(f"expected unique names, got {v}")
        return v

    @field_validator("price_attribute")
    @classmethod
    def _none_means_no_price(cls, v: str | None) -> str | None:
        return None if v is None or v.strip().lower() in ("", "none") else v

    @model_validator(mode="after")
    def _known_attributes(self) -> MarketSpec:
        problems = _Problems()
        for key in ("cross_industry", "failure_attributes"):
            bad = [a for a in getattr(self, key) if a not in self.attributes]
            if bad:
                problems.add((key,), f"expected names from attributes {self.attributes}, got {bad}")
        if self.price_attribute is not None and self.price_attribute not in self.attributes:
            problems.add(
                ("price_attribute",),
                f'expected one of {self.attributes} or "none", got {self.price_attribute!r}',
            )
        if self.customers < self.regions:
            problems.add(
                ("customers",),
                f"expected at least one customer per region (market.regions = {self.regions}), "
                f"got {self.customers}",
            )
        problems.raise_any()
        return self


class SegmentSpec(Section):
    """A group of customers who weight attributes alike."""

    name: str
    share: float = P(1.0, "share of customers in this segment (shares are normalised)", "", gt=0)
    weights: dict[str, float] = P({}, "attribute weights (normalised to sum 1); missing = 0")
    concentration: float = P(
        40.0,
        "Dirichlet concentration of individual weights around the "
        "segment's (0: everyone has exactly the segment's weights)",
        "",
        ge=0,
    )
    price_sensitivity: float = P(
        1.0,
        "how strongly members weigh a price difference when choosing a firm, relative to "
        "switching.price (1: the average customer; price seekers above 1, service seekers below)",
        "",
        ge=0,
        le=10,
    )

    @field_validator("weights")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in v.values()):
            raise ValueError(f"expected weights >= 0, got {v}")
        if v and sum(v.values()) <= 0:
            raise ValueError("expected at least one positive weight")
        return v


class FirmSpec(Section):
    """A firm: where it competes, what it can do, what it costs and how it behaves."""

    name: str
    industry: str
    region: int | None = P(None, "region served by a local firm (none: national)")
    capability: float | dict[str, float] = P(
        0.6, "what the firm can deliver per attribute (one number: all attributes)", "attribute"
    )
    capacity: float = P(
        0.3,
        "customers it can serve at full quality, as a share of the market",
        "share",
        ge=0,
        le=10,
    )
    initial_share: float = P(0.2, "share of all customers served at the start", "share", ge=0, le=1)
    initial_tenure_years: float | None = P(
        None,
        "longest tenure of the customers it serves at the start, drawn uniformly from 0 to it "
        "(empty: the market's trust.initial_tenure_years; a bank's 32-36, a phone company's 16)",
        "years",
        gt=0,
        le=50,
    )
    price: float = P(100.0, "price per customer per year", "money/customer/year", gt=0)
    unit_cost: float = P(45.0, "cost of serving one customer per year", "money/customer/year", ge=0)
    capacity_cost: float = P(
        15.0, "upkeep of capacity for one customer per year", "money/customer/year", ge=0
    )
    cash: float = P(20.0, "cash at the start, per market customer", "money/market customer")
    base_budget: float = P(
        2.0,
        "discretionary budget per year independent of revenue",
        "money/market customer/year",
        ge=0,
    )
    budget_share: float = P(
        0.15, "share of revenue added to the discretionary budget", "", ge=0, le=1
    )
    entry_step: int = P(0, "step at which the firm enters the market", "steps", ge=0, le=MAX_STEPS)
    strategy: str | list[str] = P(
        "honest",
        "built-in strategy name, package.module:ClassName, or a list of them composed in order",
    )
    levers: dict[str, Any] = P({}, "the strategy's levers (see docs/MODEL.md, Strategies)")

    @field_validator("capability")
    @classmethod
    def _unit_interval(cls, v: float | dict[str, float]) -> float | dict[str, float]:
        values = v.values() if isinstance(v, dict) else [v]
        if any(not 0 <= x <= 1 for x in values):
            raise ValueError(f"expected values in 0..1, got {v}")
        return v


class ClaimSpec(Section):
    """A verdict the scenario states, checkable over its outputs (``cxsim robustness``).

    ``holds`` (and ``versus``) are parsed and checked against the scenario by
    :mod:`sim.robustness.claims`.
    """

    name: str = P(..., "short identifier of the claim, unique in the scenario")
    says: str = P("", "the verdict in words")
    holds: str = P(..., "LEFT OP RIGHT over the outputs (docs/robustness.md)")
    by_construction: str = P(
        "",
        "why the claim holds whatever the parameters, if the rules or the scenario's set-up "
        "make it so: said beside its odds, so that they are not read as a finding",
    )
    versus: dict[str, Any] | None = P(
        None,
        "the counterfactual market, as overrides (the keys of cxsim run --set), that "
        "versus(...) in holds reads: the same world, same seed, with these set",
    )


@functools.cache
def _ranged_keys() -> frozenset[str]:
    """The keys of the schema's ranged parameters (fixed by the schema: read once, not at
    every scenario load; a sweep loads a scenario for each design point)."""
    return frozenset(plausible_ranges())


class Scenario(Params):
    """One complete market: structure, firms and every behavioural parameter."""

    name: str = "unnamed"
    description: str = ""
    seed: int = P(0, "seed of the model's random generator", "", ge=0)
    steps: int = P(520, "steps a run lasts unless told otherwise", "steps", ge=1, le=MAX_STEPS)
    steps_per_year: int = P(
        52, "steps in a simulated year (52: a step is a week)", "", ge=1, le=10_000
    )
    collect_every: int = P(1, "record metrics every this many steps", "steps", ge=1, le=MAX_STEPS)
    market: MarketSpec = Field(default_factory=MarketSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    segments: list[SegmentSpec] = Field(
        default_factory=lambda: [
            SegmentSpec(
                name="everyone",
                weights={"reliability": 0.3, "speed": 0.25, "service": 0.25, "value": 0.2},
            )
        ]
    )
    firms: list[FirmSpec]
    claims: list[ClaimSpec] = P([], "verdicts the scenario states (docs/robustness.md)")
    held: list[str] = P(
        [],
        "ranged parameters this scenario sets on purpose (its set-up, not an unknown): "
        "robustness studies keep them at the scenario's value unless a robustness file gives "
        "them a range (docs/robustness.md)",
    )
    _source_path: Path | None = PrivateAttr(None)
    _override_sources: dict[str, str] = PrivateAttr(default_factory=dict)
    """The overrides applied on load (dotted key -> how messages name it: ``--customers 100``,
    ``--set network.path=x.txt``), for problems found after loading (``sim.scenario.blamed``)."""
    _override_paths: dict[str, str] = PrivateAttr(default_factory=dict)
    """The key each of those overrides reached, firms picked by name numbered
    (``firms.Acme.price`` -> ``firms.0.price``, :func:`sim.scenario_blame.blame`)."""

    @property
    def source_path(self) -> Path | None:
        """The file this scenario was loaded from, if any."""
        return self._source_path

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers(cls, data: Any) -> Any:
        """Numbers must be numbers: pydantic's lax mode would take ``true`` for 1 and ``"7"``
        for 7 (:func:`strict_numbers`)."""
        return strict_numbers(cls, data) if isinstance(data, dict) else data

    @property
    def params(self) -> Params:
        """The behavioural parameters alone."""
        return Params(**{k: getattr(self, k) for k in Params.model_fields})

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        market = self.market
        problems = _Problems()
        if not self.firms:
            problems.add(("firms",), "expected at least one [[firms]] table")
        names = [f.name for f in self.firms]
        for i, f in enumerate(self.firms):
            if names.count(f.name) > 1:
                problems.add(
                    ("firms", i, "name"), f"expected a unique firm name, got {f.name!r} twice"
                )
            if f.industry not in market.industries:
                problems.add(
                    ("firms", i, "industry"),
                    f"expected one of {market.industries}, got {f.industry!r}",
                )
            if f.region is not None and not 0 <= f.region < market.regions:
                problems.add(
                    ("firms", i, "region"),
                    f"expected a region in 0..{market.regions - 1} "
                    f"(market.regions = {market.regions}), got {f.region}",
                )
            if isinstance(f.capability, dict):
                bad = [a for a in f.capability if a not in market.attributes]
                if bad:
                    problems.add(
                        ("firms", i, "capability"),
                        f"expected attributes from {market.attributes}, got {bad}",
                    )
        for industry in market.industries:
            firms = [f for f in self.firms if f.industry == industry]
            if not firms:
                problems.add(
                    ("market", "industries"),
                    f"industry {industry!r} has no firm; expected at least one "
                    "[[firms]] with industry = " + repr(industry),
                )
            share = sum(f.initial_share for f in firms)
            if share > 1 + 1e-9:
                problems.add(
                    ("firms",),
                    f"initial_share of the firms in {industry!r} sums to "
                    f"{share:.3g}; expected at most 1",
                )
        for i, seg in enumerate(self.segments):
            bad = [a for a in seg.weights if a not in market.attributes]
            if bad:
                problems.add(
                    ("segments", i, "weights"),
                    f"expected attributes from {market.attributes}, got {bad}",
                )
        if not self.segments:
            problems.add(("segments",), "expected at least one [[segments]] table")
        if self.network.kind == "stochastic_block" and market.regions < 2:
            problems.add(("network", "kind"), "stochastic_block needs market.regions >= 2")
        if self.held:
            ranged = _ranged_keys()
            for i, key in enumerate(self.held):
                if key not in ranged:
                    problems.add(
                        ("held", i),
                        f"{key!r} has no plausible range to hold; expected a ranged parameter "
                        "such as 'acquisition.p' (docs/MODEL.md, Parameter reference)",
                    )
        for key, message in unbuildable(self.network, market.customers, market.regions):
            problems.add(("network", key), message)
        problems.raise_any()
        return self

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (no ``extends``), None values dropped."""
        return _drop_none(self.model_dump(mode="json"))

    def to_toml(self) -> str:
        """The resolved scenario as TOML text that ``cxsim run`` accepts."""
        return tomli_w.dumps(self.to_dict())


class _At(ValueError):
    """A consistency error at a key path inside a validator."""

    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        self.loc = loc
        super().__init__(message)


class _Problems(ValueError):
    """Every consistency error a validator found (raised once, at the end, if any)."""

    def __init__(self) -> None:
        self.found: list[_At] = []
        super().__init__("")

    def add(self, loc: tuple[Any, ...], message: str) -> None:
        self.found.append(_At(loc, message))

    def raise_any(self) -> None:
        if self.found:
            self.args = ("; ".join(str(p) for p in self.found),)
            raise self


def _loc_str(loc: tuple[Any, ...]) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def _model_at(loc: tuple[Any, ...]) -> Any:
    """The schema model that owns the last element of ``loc`` (None: not a model's key)."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = next(
            (a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if model is None:
            return None
    return model


def _fields_at(loc: tuple[Any, ...]) -> list[str] | None:
    """Allowed keys of the schema node that owns the last element of ``loc``."""
    model = _model_at(loc)
    return None if model is None else list(getattr(model, "model_fields", {}))


def _range_message(loc: tuple[Any, ...], error: Any) -> str | None:
    """An out-of-range error at ``loc`` told with the field's whole range (None: not one)."""
    model = _model_at(loc)
    info = None if model is None or not loc else model.model_fields.get(loc[-1])
    return out_of_range_message(info, error)


_TYPE_TAGS = ("str", "int", "float", "list[str]", "dict[str,float]", "function-after")
"""Pydantic's union-member tags in an error location (not keys of the scenario)."""


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in _TYPE_TAGS)


def validation_problems(err: ValidationError) -> list[tuple[str, str]]:
    """Every problem of a scenario's validation error, as ``(key path, message)``, in order."""
    out: list[tuple[str, str]] = []
    for e in _one_per_union(err.errors()):
        loc = tuple(x for x in e["loc"] if not _is_tag(x))
        key = _loc_str(loc)
        ctx_err = (e.get("ctx") or {}).get("error")
        if isinstance(e.get("input"), WrongType):
            msg = e["input"].message
        elif e["type"] == "extra_forbidden":
            allowed = _fields_at(loc)
            msg = "unknown key" + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif ranged := _range_message(loc, e):
            msg = ranged
        elif e["type"] in ("bool_type", "bool_parsing"):
            msg = f"expected true or false, got {shown(e.get('input'))}"
        elif isinstance(ctx_err, _Problems):
            out += [(_loc_str((*loc, *p.loc)) if p.loc else key, str(p)) for p in ctx_err.found]
            continue
        elif isinstance(ctx_err, _At):
            key = _loc_str((*loc, *ctx_err.loc)) if ctx_err.loc else key
            msg = str(ctx_err)
        else:
            msg = e["msg"].removeprefix("Value error, ")
            msg = msg[0].lower() + msg[1:]
            if not msg.startswith("expected") and "input" in e and not isinstance(e["input"], dict):
                msg = f"expected {msg.removeprefix('input should be ')}, got {shown(e['input'])}"
        if (key, msg) not in out:
            out.append((key, msg))
    return out


def _one_per_union(errors: list[Any]) -> list[Any]:
    """Pydantic's errors with one per problem of a union field (``float | dict[str, float]``).

    Pydantic reports every member a value failed. When one member got past the value's type
    (a table of capabilities with one bad entry), the other members' type mismatches are not
    the problem and are dropped; when none did (``capability = [1]``), the members' expectations
    are joined into one error (:class:`WrongType` values already carry one message).
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for n, e in enumerate(errors):
        at = next((i for i, part in enumerate(e["loc"]) if _is_tag(part)), None)
        if at is not None:
            groups.setdefault(tuple(e["loc"][:at]), []).append(n)
    drop: set[int] = set()
    joined: dict[int, Any] = {}
    for prefix, members in groups.items():
        top = [n for n in members if all(_is_tag(p) for p in errors[n]["loc"][len(prefix) :])]
        if len(top) < len(members):
            drop |= {n for n in top if errors[n]["type"].endswith("_type")}
        elif len(top) > 1 and not isinstance(errors[top[0]].get("input"), WrongType):
            words = [errors[n]["msg"].removeprefix("Input should be ").split(",")[0] for n in top]
            joined[top[0]] = {
                **errors[top[0]],
                "msg": "Input should be " + " or ".join(dict.fromkeys(words)),
            }
            drop |= set(top[1:])
    return [joined.get(n, e) for n, e in enumerate(errors) if n not in drop]


def scenario_hash(scenario: Scenario) -> str:
    """A stable SHA-256 of the resolved scenario (what it says, not how the file is written)."""
    blob = json.dumps(scenario.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x
