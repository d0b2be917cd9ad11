"""What the UI's parameter controls show, read from the scenario schema.

Every control edits one dotted scenario key (``"market.customers"``,
``"firms[0].levers.inflation"``) and shows the field's meaning, unit and limits exactly as
``sim.params``, ``sim.scenario`` and the strategies' ``Levers`` models declare them, so a limit
is written once, in the schema. The groups (run and market, network, customers, each firm,
behaviour) are built here; the Solara widgets that draw them are in :mod:`sim.ui.controls`.

Checking a typed value is the scenario loader's job (:func:`sim.load_scenario`): the UI never
re-implements a limit, it parses the text to the field's type and asks the loader.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.params import Params, unit_of
from sim.scenario import NETWORK_KEYS, FirmSpec, MarketSpec, NetworkSpec, Scenario, SegmentSpec
from sim.strategies import BUILTIN_STRATEGIES, build_strategy

__all__ = [
    "BEHAVIOUR_SECTIONS",
    "STRATEGY_ALSO",
    "UI_MAX_CUSTOMERS",
    "FieldSpec",
    "Group",
    "behaviour_groups",
    "current_value",
    "field_message",
    "field_name",
    "field_spec",
    "firm_group",
    "format_value",
    "key_name",
    "lever_specs",
    "market_group",
    "network_group",
    "parse_value",
    "segment_group",
    "strategy_names",
    "strategy_names_after",
    "strategy_specs",
]

Kind = Literal["int", "float", "bool", "choice", "choices", "text"]

UI_MAX_CUSTOMERS = 200_000
"""Largest market the browser UI builds (each session holds its own model in the server's
memory); ``cxsim run`` and sweeps have no such limit."""

BEHAVIOUR_SECTIONS = {
    "expectations": "Expectations",
    "satisfaction": "Satisfaction",
    "trust": "Trust and commitment",
    "complaints": "Complaints and recovery",
    "word_of_mouth": "Word of mouth",
    "reviews": "Public reviews",
    "switching": "Switching and churn",
    "acquisition": "Acquisition",
    "delivery": "Delivery",
    "economics": "Firm economics",
}
"""Behavioural parameter sections of :class:`sim.params.Params`, in the order shown."""


@dataclass(frozen=True)
class FieldSpec:
    """One editable scenario key and what the schema says about it.

    Attributes
    ----------
    key
        Dotted scenario key, as accepted by ``load_scenario(..., overrides)``.
    label
        Short label (the field name in words).
    kind
        How the value is typed: ``int``, ``float``, ``bool``, ``choice`` (one of ``choices``),
        ``choices`` (a list from ``choices``) or ``text``.
    unit
        Unit from the schema ('' when dimensionless).
    description
        One-line meaning from the schema.
    ge, gt, le, lt
        Limits from the schema (None when not declared).
    choices
        Allowed values for ``choice``/``choices``.
    optional
        Whether an empty entry means "none" (e.g. a national firm has no region).
    default
        Value in force when the scenario does not set the key (a strategy lever's default).
    """

    key: str
    label: str
    kind: Kind
    unit: str = ""
    description: str = ""
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    default: Any = None

    @property
    def limits(self) -> str:
        """The declared limits in words: ``"0 to 1"``, ``"at least 0"``, ``"above 0"`` or ''."""
        low = _num(self.ge) if self.ge is not None else None
        high = _num(self.le) if self.le is not None else None
        if low is not None and high is not None:
            return f"{low} to {high}"
        if self.gt is not None and high is not None:
            return f"above {_num(self.gt)}, at most {high}"
        parts = []
        if low is not None:
            parts.append(f"at least {low}")
        if self.gt is not None:
            parts.append(f"above {_num(self.gt)}")
        if high is not None:
            parts.append(f"at most {high}")
        if self.lt is not None:
            parts.append(f"below {_num(self.lt)}")
        return ", ".join(parts)

    @property
    def hint(self) -> str:
        """Unit and limits for the line under the control, e.g. ``"share · 0 to 10"``."""
        return " · ".join(p for p in (self.unit, self.limits) if p)

    @property
    def step(self) -> float:
        """A sensible increment for the field (for sliders and arrow keys)."""
        if self.kind == "int":
            return 1
        high = self.le if self.le is not None else self.lt
        low = self.ge if self.ge is not None else (self.gt or 0.0)
        span = (high - low) if high is not None else 1.0
        return 10 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01


def field_message(spec: FieldSpec, live: bool = False) -> str:
    """The line under a control: unit, limits, "empty: none", "live", then the meaning, each
    part only when there is one (a field with no unit and no limits starts with its meaning)."""
    empty = spec.optional and "empty:" not in spec.description
    parts = [spec.hint, "empty: none" if empty else "", "live" if live else ""]
    return " · ".join(p for p in (*parts, spec.description) if p)


def field_name(scenario: Scenario, spec: FieldSpec) -> str:
    """The field as a reader names it: its label, after the firm's name for a firm's field
    (``firms[0].initial_share`` -> ``First Bank: initial share``) and the section's title for
    a behavioural one (``trust.gain`` -> ``Trust and commitment: gain``)."""
    head, _, _ = spec.key.partition(".")
    if head.startswith("firms[") and head.endswith("]"):
        index = int(head[len("firms[") : -1])
        if 0 <= index < len(scenario.firms):
            return f"{scenario.firms[index].name}: {spec.label}"
    sections = {**BEHAVIOUR_SECTIONS, "market": "Market", "network": "Network"}
    if head in sections and spec.key.count(".") == 1:
        return f"{sections[head]}: {spec.label}"
    return spec.label


@dataclass(frozen=True)
class Group:
    """A titled set of controls (an expansion panel in the sidebar)."""

    title: str
    fields: tuple[FieldSpec, ...]
    subtitle: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"


def _limits(info: FieldInfo) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in info.metadata:
        for name in ("ge", "gt", "le", "lt"):
            value = getattr(item, name, None)
            if value is not None:
                out[name] = float(value)
    return out


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...], bool]:
    """The control kind of a field annotation, its choices, and whether None is allowed."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    optional = False
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            kind, choices, _ = _kind(rest[0])
            return kind, choices, optional
        return "text", (), optional
    if origin is Literal:
        return "choice", tuple(str(a) for a in args), False
    if origin is list:
        return "choices", (), False
    if annotation is bool:
        return "bool", (), False
    if annotation is int:
        return "int", (), False
    if annotation is float:
        return "float", (), False
    return "text", (), False


def key_name(scenario: Scenario, key: str, before: Scenario | None = None) -> str:
    """A scenario key named as the sidebar names its field (:func:`field_name`):
    ``firms[0].strategy`` -> ``First Bank: strategy``, ``firms[0].levers.inflation`` ->
    ``First Bank: overpromise: inflation``. A key ``scenario`` shows no control for is looked up
    in ``before`` (the scenario before a change: the lever of a strategy the firm just left),
    then a firm's key is named after the firm (``First Bank: inflation``); any other key stays
    as it is."""
    for sc in (scenario, before):
        if sc is not None and (name := _shown_name(sc, key)) is not None:
            return name
    head, _, rest = key.partition(".")
    if head.startswith("firms[") and head.endswith("]"):
        index = int(head[len("firms[") : -1])
        if 0 <= index < len(scenario.firms):
            return f"{scenario.firms[index].name}: {rest.rpartition('.')[2].replace('_', ' ')}"
    return key


def _shown_name(scenario: Scenario, key: str) -> str | None:
    """:func:`field_name` of the control of ``key`` in ``scenario``'s sidebar, or None."""
    head, _, rest = key.partition(".")
    if head.startswith("firms[") and head.endswith("]"):
        index = int(head[len("firms[") : -1])
        if not 0 <= index < len(scenario.firms):
            return None
        key = f"{head}.strategy" if rest == STRATEGY_ALSO else key
        groups = [firm_group(scenario, index)]
    else:
        groups = [market_group(scenario), network_group(scenario), *behaviour_groups()]
    for group in groups:
        for spec in group.fields:
            if spec.key == key:
                return field_name(scenario, spec)
    return None


def field_spec(model: type[BaseModel], name: str, key: str, label: str | None = None) -> FieldSpec:
    """The :class:`FieldSpec` of field ``name`` of a pydantic ``model``, edited at ``key``.

    Parameters
    ----------
    model
        A schema class: a ``sim.params`` section, ``MarketSpec``, ``FirmSpec``, a strategy's
        ``Levers`` ...
    name
        The field.
    key
        The dotted scenario key the control writes.
    label
        Label; default: the field name with spaces.
    """
    info = model.model_fields[name]
    kind, choices, optional = _kind(info.annotation)
    extra = info.json_schema_extra
    unit = unit_of(model, name) if isinstance(extra, dict) else ""
    return FieldSpec(
        key=key,
        label=label or name.replace("_", " "),
        kind=kind,
        unit=unit,
        description=info.description or "",
        choices=choices,
        optional=optional,
        **_limits(info),
    )


def parse_value(spec: FieldSpec, text: Any) -> Any:
    """Turn what was typed into a value of the field's type.

    Parameters
    ----------
    spec
        The field.
    text
        What the control holds: a string for typed fields, a bool or list for the others.

    Returns
    -------
    Any
        The value (None for an empty optional field).

    Raises
    ------
    ValueError
        With a message for the user, e.g. ``"expected a whole number, got '1.5'"``.
    """
    if spec.kind in ("bool", "choices"):
        return text
    s = str(text).strip().replace(",", "").replace("_", "")
    if s == "" or s.lower() == "none":
        if spec.optional:
            return None
        raise ValueError("expected a value")
    if spec.kind == "int":
        try:
            value = float(s)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
        if not value.is_integer():
            raise ValueError(f"expected a whole number, got {text!r}")
        return int(value)
    if spec.kind == "float":
        try:
            value = float(s)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        return value
    if spec.kind == "choice" and spec.choices and s not in spec.choices:
        raise ValueError(f"expected one of {', '.join(spec.choices)}, got {text!r}")
    return str(text).strip()


def format_value(value: Any) -> str:
    """How a value is shown in a text control (``0.3``, ``2000``, '' for None)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# -- groups -----------------------------------------------------------------------------------


def market_group(scenario: Scenario) -> Group:
    """Run and market: seed, steps, customers, regions (structure lists are read-only notes)."""
    m = scenario.market
    specs = [
        field_spec(Scenario, "seed", "seed"),
        field_spec(Scenario, "steps", "steps", "steps per run"),
        field_spec(MarketSpec, "customers", "market.customers"),
        field_spec(MarketSpec, "regions", "market.regions"),
    ]
    notes = (
        f"industries: {', '.join(m.industries)}",
        f"attributes: {', '.join(m.attributes)} (cross-industry: "
        f"{', '.join(m.cross_industry) or 'none'})",
        f"{scenario.steps_per_year} steps a year",
    )
    return Group("Run and market", tuple(specs), notes=notes)


def network_group(scenario: Scenario) -> Group:
    """The network generator and the parameters that apply to it."""
    kind = scenario.network.kind
    specs = [field_spec(NetworkSpec, "kind", "network.kind", "generator")]
    specs += [field_spec(NetworkSpec, name, f"network.{name}") for name in NETWORK_KEYS[kind]]
    return Group("Network", tuple(specs), subtitle=kind.replace("_", "-"))


def segment_group(scenario: Scenario) -> Group:
    """Customers: each segment's share and attribute weights."""
    specs = []
    for i, seg in enumerate(scenario.segments):
        specs.append(field_spec(SegmentSpec, "share", f"segments[{i}].share", f"{seg.name}: share"))
        for a in scenario.market.attributes:
            spec = field_spec(
                SegmentSpec, "weights", f"segments[{i}].weights.{a}", f"{seg.name}: weight of {a}"
            )
            specs.append(
                FieldSpec(
                    key=spec.key,
                    label=spec.label,
                    kind="float",
                    description=f"how much {seg.name} customers weight {a} "
                    "(weights are normalised to sum 1)",
                    ge=0.0,
                )
            )
    n = len(scenario.segments)
    return Group("Customers", tuple(specs), subtitle=f"{n} segment{'' if n == 1 else 's'}")


def strategy_names(current: str | list[str] | None = None) -> tuple[str, ...]:
    """Built-in strategy names, plus any custom ``package.module:Class`` in ``current``."""
    names = list(BUILTIN_STRATEGIES)
    extra = [current] if isinstance(current, str) else list(current or [])
    names += [n for n in extra if n not in names]
    return tuple(names)


def lever_specs(scenario: Scenario, index: int) -> tuple[FieldSpec, ...]:
    """The levers of firm ``index``'s strategy (every composed policy's ``Levers`` fields)."""
    firm = scenario.firms[index]
    search_dir = scenario.source_path.parent if scenario.source_path else None
    strategy = build_strategy(firm.strategy, firm.levers, scenario.market.attributes, search_dir)
    parts = getattr(strategy, "parts", [strategy])
    specs = []
    for part in parts:
        levers = type(part.levers)
        for name in levers.model_fields:
            spec = field_spec(
                levers,
                name,
                f"firms[{index}].levers.{name}",
                f"{part.name}: {name.replace('_', ' ')}",
            )
            value = getattr(part.levers, name)
            if spec.kind == "choices":  # attribute lists, e.g. niche.focus
                spec = FieldSpec(
                    key=spec.key,
                    label=spec.label,
                    kind="choices",
                    description=spec.description,
                    choices=tuple(scenario.market.attributes),
                    default=value,
                )
            else:
                spec = FieldSpec(**{**spec.__dict__, "default": value})
            specs.append(spec)
    return tuple(specs)


FIRM_FIELDS = (
    "capacity",
    "price",
    "initial_share",
    "initial_tenure_years",
    "entry_step",
    "region",
    "unit_cost",
    "capacity_cost",
    "cash",
    "base_budget",
    "budget_share",
)
"""Firm fields shown after strategy, levers and capability, in this order."""


STRATEGY_ALSO = "strategy_also"
"""Key suffix (``firms[i].strategy_also``) of the control that combines further strategies with
a firm's strategy; not a scenario key (see :func:`strategy_names_after`)."""


def strategy_specs(scenario: Scenario, index: int) -> tuple[FieldSpec, FieldSpec]:
    """The firm's strategy (one, a plain choice: picking another switches to it) and, as a
    separate choice, the strategies combined with it (applied after it, in order)."""
    firm = scenario.firms[index]
    info = field_spec(FirmSpec, "strategy", f"firms[{index}].strategy")
    names = strategy_names(firm.strategy)
    primary = firm.strategy if isinstance(firm.strategy, str) else firm.strategy[0]
    return (
        FieldSpec(
            key=info.key,
            label="strategy",
            kind="choice",
            description="the firm's strategy; picking another switches to it",
            choices=names,
        ),
        FieldSpec(
            key=f"firms[{index}].{STRATEGY_ALSO}",
            label="combined with (optional)",
            kind="choices",
            description=f"further strategies applied after {primary}, in order, each with its "
            "own levers; empty: none",
            choices=tuple(n for n in names if n != primary),
            default=[],
        ),
    )


def strategy_names_after(key: str, value: Any, current: str | list[str]) -> list[str]:
    """The firm's strategy list after the strategy control ``key`` was set to ``value``.

    ``firms[i].strategy`` (one name) replaces the first strategy and keeps the combined ones;
    ``firms[i].strategy_also`` (a list) replaces the combined ones and keeps the first.
    """
    names = [current] if isinstance(current, str) else list(current)
    if key.endswith(f".{STRATEGY_ALSO}"):
        extra = [value] if isinstance(value, str) else list(value or [])
        return [names[0], *(n for n in extra if n != names[0])]
    first = value if isinstance(value, str) else next(iter(value))
    return [first, *(n for n in names[1:] if n != first)]


def firm_group(scenario: Scenario, index: int) -> Group:
    """One firm: strategy (and what is combined with it), its levers, capability per
    attribute, then the rest."""
    firm = scenario.firms[index]
    specs = [*strategy_specs(scenario, index), *lever_specs(scenario, index)]
    # capability's 0..1 is a validator's, not a declared limit: given here so the hint shows it
    cap = field_spec(FirmSpec, "capability", f"firms[{index}].capability")
    if isinstance(firm.capability, dict):
        for a in scenario.market.attributes:
            specs.append(
                FieldSpec(
                    key=f"{cap.key}.{a}",
                    label=f"capability: {a}",
                    kind="float",
                    description=f"what the firm can deliver on {a} (0: nothing, 1: the best)",
                    ge=0.0,
                    le=1.0,
                )
            )
    else:
        specs.append(
            FieldSpec(
                key=cap.key,
                label="capability (all attributes)",
                kind="float",
                description="what the firm can deliver, the same on every attribute "
                "(0: nothing, 1: the best)",
                ge=0.0,
                le=1.0,
            )
        )
    specs += [_firm_field(scenario, index, name) for name in FIRM_FIELDS]
    label = firm.strategy if isinstance(firm.strategy, str) else " + ".join(firm.strategy)
    return Group(firm.name, tuple(specs), subtitle=f"{firm.industry} · {label}")


def _firm_field(scenario: Scenario, index: int, name: str) -> FieldSpec:
    """A firm field, with what the schema cannot say alone: capacity in customers of this market,
    the regions a local firm may serve."""
    spec = field_spec(FirmSpec, name, f"firms[{index}].{name}")
    if name == "capacity":
        n = scenario.market.customers
        return FieldSpec(
            **{
                **spec.__dict__,
                "unit": "share of the market's customers",
                "description": "customers it can serve at full quality at the start, as a share "
                f"of the market's {n:,} customers (1: all of them; 0.5: {n // 2:,}); "
                "it changes with investment later",
            }
        )
    if name == "region":
        regions = scenario.market.regions
        where = (
            "this market has one region, 0"
            if regions == 1
            else f"regions 0 to {regions - 1:,} (market.regions = {regions:,})"
        )
        text = f"region served by a local firm; empty: a national firm ({where})"
        return FieldSpec(**{**spec.__dict__, "description": text})
    return spec


def behaviour_groups() -> list[Group]:
    """One group per behavioural parameter section (:data:`BEHAVIOUR_SECTIONS`)."""
    groups = []
    for section, title in BEHAVIOUR_SECTIONS.items():
        model = Params.model_fields[section].annotation
        specs = tuple(field_spec(model, name, f"{section}.{name}") for name in model.model_fields)
        phase = (model.__doc__ or "").split(",")[0].strip()
        groups.append(
            Group(title, specs, subtitle=phase.lower() if phase.startswith("Phase") else "")
        )
    return groups


def current_value(data: dict[str, Any], spec: FieldSpec) -> Any:
    """The value in force for ``spec`` in scenario data (``scenario.to_dict()``).

    An absent key (an unset strategy lever, a national firm's region) gives ``spec.default``.
    A firm's ``strategy`` control shows its first strategy, ``strategy_also`` the others.
    """
    if spec.key.endswith(f".{STRATEGY_ALSO}") or spec.key.endswith("].strategy"):
        strategy = _lookup(data, spec.key.rsplit(".", 1)[0] + ".strategy")
        names = [strategy] if isinstance(strategy, str) else list(strategy or [])
        if spec.key.endswith(".strategy"):
            return names[0] if names else spec.default
        return names[1:]
    value = _lookup(data, spec.key)
    return spec.default if value is None else value


def _lookup(data: dict[str, Any], key: str) -> Any:
    """The value at a dotted key (``firms[0].levers.inflation``), or None if absent."""
    node: Any = data
    for part in key.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, list):
            idx = int(part)
            node = node[idx] if 0 <= idx < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = None
        if node is None:
            return None
    return node
