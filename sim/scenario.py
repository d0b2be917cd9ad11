"""Scenario files: schema, loading, ``extends``, overrides and validation.

A scenario is one complete market in a TOML file: who the customers are, how they are connected,
which firms serve them with which strategies, and every behavioural parameter (``sim.params``).
Loading validates everything and turns any problem into one :class:`ScenarioError` line that names
the file, the key path and what was expected.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.params import P, Params, Section

__all__ = [
    "ClaimSpec",
    "FirmSpec",
    "MarketSpec",
    "NetworkSpec",
    "Scenario",
    "ScenarioError",
    "SegmentSpec",
    "apply_overrides",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "scenario_dirs",
    "scenario_hash",
]

NETWORK_KINDS = (
    "watts_strogatz",
    "barabasi_albert",
    "erdos_renyi",
    "stochastic_block",
    "complete",
    "edge_list",
)


class ScenarioError(ValueError):
    """A scenario that cannot be used: the message names file, key and expectation."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key, self.detail = source, key, message
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key + ': ' if key else ''}{message}")


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
        for key in ("cross_industry", "failure_attributes"):
            bad = [a for a in getattr(self, key) if a not in self.attributes]
            if bad:
                raise _At((key,), f"expected names from attributes {self.attributes}, got {bad}")
        if self.price_attribute is not None and self.price_attribute not in self.attributes:
            raise _At(
                ("price_attribute",),
                f'expected one of {self.attributes} or "none", got {self.price_attribute!r}',
            )
        if self.customers < self.regions:
            raise _At(
                ("customers",),
                f"expected at least one customer per region (market.regions = {self.regions}), "
                f"got {self.customers}",
            )
        return self


class NetworkSpec(Section):
    """The social network customers talk over."""

    kind: Literal[NETWORK_KINDS] = P("watts_strogatz", "graph generator, or edge_list for a file")
    k: int = P(10, "watts_strogatz: neighbours in the ring lattice", "", ge=2)
    p: float = P(0.1, "watts_strogatz: rewiring probability", "", ge=0, le=1)
    m: int = P(5, "barabasi_albert: edges a new node brings", "", ge=1)
    mean_degree: float = P(10.0, "erdos_renyi: mean degree", "", gt=0)
    k_in: float = P(8.0, "stochastic_block: mean neighbours in one's own region", "", ge=0)
    k_out: float = P(2.0, "stochastic_block: mean neighbours in other regions", "", ge=0)
    path: str | None = P(None, "edge_list: path of the file, relative to the scenario file")

    @model_validator(mode="after")
    def _path_for_edge_list(self) -> NetworkSpec:
        if self.kind == "edge_list" and not self.path:
            raise ValueError("kind = 'edge_list' needs path = '<file>'")
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
    entry_step: int = P(0, "step at which the firm enters the market", "steps", ge=0)
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

    ``holds`` is parsed and checked against the scenario by :mod:`sim.robustness.claims`.
    """

    name: str = P(..., "short identifier of the claim, unique in the scenario")
    says: str = P("", "the verdict in words")
    holds: str = P(..., "LEFT OP RIGHT over the outputs (docs/robustness.md)")


class Scenario(Params):
    """One complete market: structure, firms and every behavioural parameter."""

    name: str = "unnamed"
    description: str = ""
    seed: int = P(0, "seed of the model's random generator", "", ge=0)
    steps: int = P(520, "steps a run lasts unless told otherwise", "steps", ge=1)
    steps_per_year: int = P(
        52, "steps in a simulated year (52: a step is a week)", "", ge=1, le=10_000
    )
    collect_every: int = P(1, "record metrics every this many steps", "steps", ge=1)
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
    _source_path: Path | None = PrivateAttr(None)

    @property
    def source_path(self) -> Path | None:
        """The file this scenario was loaded from, if any."""
        return self._source_path

    @property
    def params(self) -> Params:
        """The behavioural parameters alone."""
        return Params(**{k: getattr(self, k) for k in Params.model_fields})

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        market = self.market
        if not self.firms:
            raise _At(("firms",), "expected at least one [[firms]] table")
        names = [f.name for f in self.firms]
        for i, f in enumerate(self.firms):
            if names.count(f.name) > 1:
                raise _At(
                    ("firms", i, "name"), f"expected a unique firm name, got {f.name!r} twice"
                )
            if f.industry not in market.industries:
                raise _At(
                    ("firms", i, "industry"),
                    f"expected one of {market.industries}, got {f.industry!r}",
                )
            if f.region is not None and not 0 <= f.region < market.regions:
                raise _At(
                    ("firms", i, "region"),
                    f"expected a region in 0..{market.regions - 1} "
                    f"(market.regions = {market.regions}), got {f.region}",
                )
            if isinstance(f.capability, dict):
                bad = [a for a in f.capability if a not in market.attributes]
                if bad:
                    raise _At(
                        ("firms", i, "capability"),
                        f"expected attributes from {market.attributes}, got {bad}",
                    )
        for industry in market.industries:
            firms = [f for f in self.firms if f.industry == industry]
            if not firms:
                raise _At(
                    ("market", "industries"),
                    f"industry {industry!r} has no firm; expected at least one "
                    "[[firms]] with industry = " + repr(industry),
                )
            share = sum(f.initial_share for f in firms)
            if share > 1 + 1e-9:
                raise _At(
                    ("firms",),
                    f"initial_share of the firms in {industry!r} sums to "
                    f"{share:.3g}; expected at most 1",
                )
        for i, seg in enumerate(self.segments):
            bad = [a for a in seg.weights if a not in market.attributes]
            if bad:
                raise _At(
                    ("segments", i, "weights"),
                    f"expected attributes from {market.attributes}, got {bad}",
                )
        if not self.segments:
            raise _At(("segments",), "expected at least one [[segments]] table")
        if self.network.kind == "stochastic_block" and market.regions < 2:
            raise _At(("network", "kind"), "stochastic_block needs market.regions >= 2")
        if self.network.kind == "watts_strogatz" and self.network.k >= market.customers:
            raise _At(
                ("network", "k"),
                f"expected k < market.customers ({market.customers}), got {self.network.k}",
            )
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


# -- finding and loading ----------------------------------------------------------------------


def scenario_dirs() -> list[Path]:
    """Folders searched for scenarios by name: $CXSIM_SCENARIOS, ./scenarios, the shipped ones
    (the repository's, or the installed package's: :func:`sim.resources.resource_path`)."""
    from sim.resources import resource_path

    dirs = [Path(p) for p in os.environ.get("CXSIM_SCENARIOS", "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "scenarios", resource_path("scenarios")]
    seen, out = set(), []
    for d in dirs:
        r = d.resolve()
        if r not in seen and r.is_dir():
            seen.add(r)
            out.append(r)
    return out


def find_scenario(name: str | Path, relative_to: Path | None = None) -> Path:
    """Path of a scenario given as a file path or a bare name such as ``"baseline"``.

    Raises
    ------
    ScenarioError
        When no such file exists; the message lists the scenarios that do.
    """
    p = Path(name)
    candidates: list[Path] = []
    if p.suffix == ".toml" or len(p.parts) > 1:
        candidates.append(p)
        if relative_to is not None and not p.is_absolute():
            candidates.append(relative_to / p)
    else:
        if relative_to is not None:
            candidates.append(relative_to / f"{p}.toml")
        candidates += [d / f"{p}.toml" for d in scenario_dirs()]
    for c in candidates:
        if c.is_file():
            return c
    known = ", ".join(n for n, _, _ in list_scenarios()) or "none found"
    raise ScenarioError(str(name), "", f"file not found; expected a .toml path or one of: {known}")


def list_scenarios() -> list[tuple[str, Path, str]]:
    """``(name, path, first line of description)`` of every scenario on the search path."""
    out: dict[str, tuple[str, Path, str]] = {}
    for d in scenario_dirs():
        for f in sorted(d.glob("*.toml")):
            if f.stem in out:
                continue
            try:
                data = tomllib.loads(f.read_text())
            except (OSError, tomllib.TOMLDecodeError):
                data = {}
            desc = str(data.get("description", "")).strip().splitlines()
            out[f.stem] = (f.stem, f, desc[0] if desc else "")
    return sorted(out.values())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), "", f"invalid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(str(path), "", f"cannot read: {e}") from None


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _resolve_extends(data: dict[str, Any], path: Path | None, chain: tuple[str, ...] = ()) -> dict:
    parent = data.pop("extends", None)
    if parent is None:
        return data
    where = str(path) if path else "<scenario>"
    if not isinstance(parent, str):
        raise ScenarioError(where, "extends", f"expected a scenario name or path, got {parent!r}")
    ppath = find_scenario(parent, relative_to=path.parent if path else None)
    key = str(ppath.resolve())
    if key in chain:
        raise ScenarioError(where, "extends", f"circular extends through {ppath}")
    parent_data = _read_toml(ppath)
    network = parent_data.get("network")
    if isinstance(network, dict) and isinstance(network.get("path"), str):
        # an edge list named by the parent is relative to the parent's file, not the child's
        edge_list = Path(network["path"])
        if not edge_list.is_absolute():
            network["path"] = str((ppath.parent / edge_list).resolve())
    base = _resolve_extends(parent_data, ppath, (*chain, key))
    merged = _deep_merge(base, data)
    if "name" not in data:
        merged["name"] = path.stem if path else merged.get("name", "unnamed")
    return merged


_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in scenario data: ``"market.customers"``, ``"firms[0].levers.inflation"``,
    ``"firms.Acme.price"`` (a firm by name), ``"market__customers"`` (Mesa batch_run style)."""
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        parts: list[str | int] = []
        for part in dotted.replace("__", ".").split("."):
            m = _INDEX.match(part)
            parts += [m.group(1), int(m.group(2))] if m else [int(part) if part.isdigit() else part]
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            nxt = parts[i + 1]
            if isinstance(node, list):
                if isinstance(part, str):
                    named = [x for x in node if isinstance(x, dict) and x.get("name") == part]
                    if not named:
                        raise ScenarioError("override", dotted, f"no entry named {part!r}")
                    node = named[0]
                    continue
                if not 0 <= part < len(node):
                    raise ScenarioError(
                        "override", dotted, f"index {part} out of range (0..{len(node) - 1})"
                    )
                node = node[part]
            else:
                node = node.setdefault(part, [] if isinstance(nxt, int) else {})
        last = parts[-1]
        if isinstance(node, list):
            if not isinstance(last, int) or not 0 <= last < len(node):
                raise ScenarioError("override", dotted, "expected a valid list index")
        node[last] = value
    return out


def _loc_str(loc: tuple[Any, ...]) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def _fields_at(loc: tuple[Any, ...]) -> list[str] | None:
    """Allowed keys of the schema node that owns the last element of ``loc``."""
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
    return list(getattr(model, "model_fields", {}))


def _format_validation_error(err: ValidationError) -> tuple[str, str]:
    e = err.errors()[0]
    loc = tuple(
        x
        for x in e["loc"]
        if not (
            isinstance(x, str)
            and (
                "[" in x
                or x in ("str", "int", "float", "list[str]", "dict[str,float]", "function-after")
            )
        )
    )
    key = _loc_str(loc)
    if e["type"] == "extra_forbidden":
        allowed = _fields_at(loc)
        msg = "unknown key" + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
    elif e["type"] == "missing":
        msg = "required key is missing"
    else:
        ctx_err = (e.get("ctx") or {}).get("error")
        if isinstance(ctx_err, _At):
            key = _loc_str((*loc, *ctx_err.loc)) if ctx_err.loc else key
            msg = str(ctx_err)
        else:
            msg = e["msg"].removeprefix("Value error, ")
            msg = msg[0].lower() + msg[1:]
            if not msg.startswith("expected") and "input" in e and not isinstance(e["input"], dict):
                msg = f"expected {msg.removeprefix('input should be ')}, got {e['input']!r}"
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return key, msg


def load_scenario(
    source: str | Path | dict[str, Any] | Scenario = "baseline",
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Load, resolve ``extends``, apply ``overrides`` and validate a scenario.

    Parameters
    ----------
    source
        A scenario name (``"baseline"``), a path to a TOML file, plain data, or a Scenario.
    overrides
        Dotted keys to set after loading, e.g. ``{"market.customers": 1000}``.

    Returns
    -------
    Scenario
        The validated scenario. ``scenario.source_path`` is the file it came from, if any.

    Raises
    ------
    ScenarioError
        One message naming the file, the key and what was expected.
    """
    path: Path | None = None
    if isinstance(source, Scenario):
        if not overrides:
            return source
        data, path = source.to_dict(), getattr(source, "_source_path", None)
    elif isinstance(source, dict):
        data = copy.deepcopy(source)
    else:
        path = find_scenario(source)
        data = _read_toml(path)
        data.setdefault("name", path.stem)
    where = str(path) if path else "<scenario>"
    data = _resolve_extends(data, path)
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        key, msg = _format_validation_error(err)
        raise ScenarioError(where, key, msg) from None
    scenario._source_path = path
    from sim.strategies import StrategyError, build_strategy  # lazy: strategies import params

    for i, firm in enumerate(scenario.firms):
        try:
            build_strategy(
                firm.strategy,
                firm.levers,
                scenario.market.attributes,
                search_dir=path.parent if path else None,
            )
        except StrategyError as e:
            raise ScenarioError(where, f"firms[{i}].{e.key}", str(e)) from None
    if scenario.claims:
        from sim.robustness.claims import ClaimError, scenario_claims  # lazy: reads outcomes

        try:
            scenario_claims(scenario)
        except ClaimError as e:
            if path is not None and not overrides:  # a scenario file's claims must fit it
                raise ScenarioError(where, e.key, e.detail) from None
            if path is not None:
                load_scenario(path)  # raises if the file's own claims do not fit the file
            scenario.claims = []  # they do not fit this variant (other firms, fewer steps)
    return scenario


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
