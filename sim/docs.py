"""The parameter reference of docs/MODEL.md, generated from the scenario schema.

``python -m sim.docs`` rewrites the block between ``<!-- BEGIN GENERATED PARAMETERS -->`` and
``<!-- END GENERATED PARAMETERS -->`` in docs/MODEL.md: one Markdown table per scenario section
(the top-level keys, ``[market]``, ``[network]``, ``[[segments]]``, ``[[firms]]`` and every
behavioural section of :class:`sim.params.Params`), then the built-in strategies and their levers.
``python -m sim.docs --check`` changes nothing and exits 1 with a one-line message when the file
is out of date, so a test or CI job catches a default changed in code but not in the docs.

Every cell comes from the pydantic schema: the default, the unit (:func:`sim.params.unit_of`), the
limits (``ge``/``gt``/``le``/``lt`` and length metadata; the default and the limits written by
``sim.field_text``) and the field's description; for the behavioural sections also the plausible
range and its source (:func:`sim.params.parameter_range`), or why a parameter has none (a switch,
or :data:`sim.params.NO_RANGE`), and a count of sourced, free and exempt parameters
(:func:`provenance_counts`). The prose of MODEL.md refers to parameters by key and never repeats a
default, so the tables are the only place where numbers appear and they cannot drift from the
code.

This module imports only the schema (``sim.params``, ``sim.scenario``, ``sim.strategies``) and
``sim.field_text``; it must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.field_text import field_limits, format_default, number_text
from sim.params import NO_RANGE, Params, parameter_range, unit_of
from sim.resources import resource_path
from sim.scenario import ClaimSpec, FirmSpec, MarketSpec, NetworkSpec, Scenario, SegmentSpec
from sim.scenario_types import MAX_MAGNITUDE
from sim.strategies import BUILTIN_STRATEGIES, Strategy

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "MODEL_MD",
    "Section",
    "check",
    "field_limits",
    "format_default",
    "main",
    "parameter_reference",
    "provenance_cells",
    "provenance_counts",
    "render",
    "sections",
    "strategy_reference",
    "write",
]

BEGIN_MARKER = "<!-- BEGIN GENERATED PARAMETERS -->"
END_MARKER = "<!-- END GENERATED PARAMETERS -->"

MODEL_MD = resource_path("MODEL.md")
"""The file whose generated block this module maintains (the repository's docs/MODEL.md; in an
installed package, its copy)."""

SPEC_KEYS = ("market", "network", "segments", "firms", "claims")
"""Top-level scenario keys that hold structure rather than one value."""

_FALLBACK_MEANING = {
    ("Scenario", "name"): "name of the scenario (default: the file name without .toml)",
    ("Scenario", "description"): "what the scenario is about; its first line is listed by "
    "`cxsim list`",
    ("SegmentSpec", "name"): "name of the segment (labels metrics and customer views)",
    ("FirmSpec", "name"): "name of the firm, unique in the scenario",
    ("FirmSpec", "industry"): "industry the firm competes in, one of `market.industries`",
}
"""Meanings for the few schema fields that carry no description."""


class Section:
    """One table of the reference: a schema class and how its keys are written in a scenario.

    Parameters
    ----------
    title
        Heading of the table.
    model
        The pydantic model whose fields the table lists.
    prefix
        What precedes a field name in its key, e.g. ``"expectations."`` or ``"firms[i]."``.
    fields
        The field names to list (default: all fields of ``model``).
    intro
        A sentence printed between the heading and the table.
    provenance
        The table also shows each parameter's plausible range and its source (behavioural
        sections with numeric parameters).
    """

    def __init__(
        self,
        title: str,
        model: type[BaseModel],
        prefix: str,
        fields: Sequence[str] | None = None,
        intro: str = "",
        provenance: bool = False,
    ) -> None:
        self.title = title
        self.model = model
        self.prefix = prefix
        self.fields = list(model.model_fields) if fields is None else list(fields)
        self.intro = intro
        self.provenance = provenance

    def keys(self) -> list[str]:
        """The scenario keys of the section's fields, e.g. ``["expectations.rate_up", ...]``."""
        return [self.prefix + name for name in self.fields]


def sections() -> list[Section]:
    """Every section of a scenario, in the order the reference lists them.

    Returns
    -------
    list of Section
        The top-level keys of :class:`sim.scenario.Scenario`, its ``market``, ``network``,
        ``segments`` and ``firms`` specs, then one section per field of :class:`sim.params.Params`.
    """
    top = [
        name
        for name in Scenario.model_fields
        if name not in Params.model_fields and name not in SPEC_KEYS
    ]
    seg = Scenario.model_fields["segments"].default_factory()[0]
    out = [
        Section(
            "Top-level keys",
            Scenario,
            "",
            top,
            "Written at the top of the file, before any table. `extends` (a scenario name or "
            "a path relative to this file) is resolved before validation; see section 6.",
        ),
        Section("`[market]`: who is in the market", MarketSpec, "market."),
        Section("`[network]`: the social network", NetworkSpec, "network."),
        Section(
            "`[[segments]]`: groups of customers",
            SegmentSpec,
            "segments[i].",
            intro=(
                "One table per segment; `i` is its position. Without any `[[segments]]` table "
                f"the market has one segment: name = `{seg.name}`, weights = "
                f"{format_default(seg.weights)}, "
                f"concentration = {format_default(seg.concentration)}."
            ),
        ),
        Section(
            "`[[firms]]`: the firms",
            FirmSpec,
            "firms[i].",
            intro=(
                "One table per firm; `i` is its position (an override may also name the firm: "
                "`firms.Acme.price`). Every industry needs at least one firm. The strategy's "
                "levers are listed under Strategies below."
            ),
        ),
        Section(
            "`[[claims]]`: the verdicts the scenario states",
            ClaimSpec,
            "claims[i].",
            intro=(
                "Optional; one table per claim, checked on load against the scenario's firms, "
                "industries and years. `cxsim robustness` gives each claim its odds over the "
                "plausible worlds; the expression form is in docs/robustness.md."
            ),
        ),
    ]
    for name, field in Params.model_fields.items():
        model = field.annotation
        doc = (model.__doc__ or "").strip().splitlines()[0]
        numeric = any(f.annotation is not bool for f in model.model_fields.values())
        out.append(Section(f"`[{name}]`: {doc}", model, f"{name}.", provenance=numeric))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _meaning(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    return field.description or _FALLBACK_MEANING.get((model.__name__, name), "")


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()
    return field.default


def provenance_cells(key: str) -> tuple[str, str]:
    """The plausible-range and source cells of the behavioural parameter ``key``.

    Parameters
    ----------
    key
        ``"section.name"`` of :class:`sim.params.Params`.

    Returns
    -------
    (str, str)
        E.g. ``("[1, 3]", "Tversky & Kahneman 1992 ...")``; ``("—", "switch")`` for a true/false
        parameter; ``("—", "exempt: <reason>")`` for one of :data:`sim.params.NO_RANGE`;
        ``("—", "none declared")`` for a numeric parameter without a range (a test forbids it).
    """
    found = parameter_range(key)
    if found is not None:
        return f"[{number_text(found.low)}, {number_text(found.high)}]", found.source
    section, _, name = key.partition(".")
    if Params.model_fields[section].annotation.model_fields[name].annotation is bool:
        return "—", "switch"
    if key in NO_RANGE:
        return "—", f"exempt: {NO_RANGE[key]}"
    return "—", "none declared"


def provenance_counts() -> dict[str, int]:
    """How many parameters of :class:`sim.params.Params` are sourced, free, exempt or switches.

    Returns
    -------
    dict
        ``{"sourced": .., "free": .., "exempt": .., "switches": .., "missing": ..}``: a range
        with a citation, a range marked free (no empirical basis), a numeric parameter of
        :data:`sim.params.NO_RANGE`, a true/false parameter, and a numeric parameter with no
        range that is not exempt (0 when the schema is complete).
    """
    counts = dict.fromkeys(("sourced", "free", "exempt", "switches", "missing"), 0)
    for section, part in Params.model_fields.items():
        for name, field in part.annotation.model_fields.items():
            key = f"{section}.{name}"
            found = parameter_range(key)
            if found is not None:
                counts["free" if found.free else "sourced"] += 1
            elif field.annotation is bool:
                counts["switches"] += 1
            elif key in NO_RANGE:
                counts["exempt"] += 1
            else:
                counts["missing"] += 1
    return counts


def _table(section: Section) -> list[str]:
    head = ["key", "default", "unit", "limits", "meaning"]
    if section.provenance:
        head += ["plausible range", "source"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in section.fields:
        field = section.model.model_fields[name]
        unit = unit_of(section.model, name) or "—"
        cells = [
            f"`{section.prefix}{name}`",
            format_default(_default(field)),
            unit,
            field_limits(field),
            _meaning(section.model, name),
        ]
        if section.provenance:
            cells += provenance_cells(section.prefix + name)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _first_line(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def strategy_reference(strategies: dict[str, type[Strategy]] | None = None) -> str:
    """Markdown tables of the built-in strategies and their levers.

    Parameters
    ----------
    strategies
        Name to class (default: :data:`sim.strategies.BUILTIN_STRATEGIES`).

    Returns
    -------
    str
        A summary table (name, first line of the docstring, levers) and a table of every lever
        (key, strategy, default, limits, meaning).
    """
    strategies = BUILTIN_STRATEGIES if strategies is None else strategies
    lines = [
        "### Strategies",
        "",
        "A firm's `strategy` is one of these names, `package.module:ClassName`, or a list of them "
        "applied in order. Its levers are set in the firm's `levers` table, e.g. "
        "`levers = { inflation = 0.3 }`.",
        "",
        "| strategy | what it does | levers |",
        "|---|---|---|",
    ]
    for name, cls in strategies.items():
        levers = ", ".join(f"`{lever}`" for lever in cls.Levers.model_fields) or "—"
        lines.append(f"| `{name}` | {_cell(_first_line(cls))} | {levers} |")
    lines += [
        "",
        "| key | strategy | default | unit | limits | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for name, cls in strategies.items():
        for lever, field in cls.Levers.model_fields.items():
            unit = unit_of(cls.Levers, lever) or "—"
            lines.append(
                f"| `firms[i].levers.{lever}` | `{name}` | "
                f"{_cell(format_default(_default(field)))} | {_cell(unit)} | "
                f"{_cell(field_limits(field))} | {_cell(field.description or '')} |"
            )
    return "\n".join(lines)


def _provenance_summary() -> str:
    c = provenance_counts()
    ranged = c["sourced"] + c["free"]
    text = (
        "The behavioural tables also give each parameter's *plausible range* (its likely values "
        "in real markets, not the limits the code accepts) and the *source* of that range. Of "
        f"the {ranged + c['exempt']} numeric behavioural parameters, {ranged} declare a range: "
        f"{c['sourced']} from a published estimate and {c['free']} free (no empirical basis: "
        f"the range is a modelling choice, kept wide); {c['exempt']} are exempt as units or "
        f"computational settings (`sim.params.NO_RANGE`). The {c['switches']} switches "
        "(true/false) need no range."
    )
    if c["missing"]:
        text += f" {c['missing']} numeric parameters declare no range yet."
    return text


def parameter_reference() -> str:
    """The whole generated block (without the markers), as Markdown.

    Returns
    -------
    str
        A note on how the block is made, one table per section of :func:`sections`, and the
        strategies (:func:`strategy_reference`).
    """
    lines = [
        "<!-- Generated by `python -m sim.docs` from sim/params/, sim/scenario.py and "
        "sim/strategies.py. Do not edit by hand: change the schema and rerun. -->",
        "",
        "Keys are written as in a scenario file: `expectations.rate_up` is `rate_up` in the "
        "`[expectations]` table, and also the key of an override "
        '(`cxsim run --set expectations.rate_up=0.2` or `overrides={"expectations.rate_up": 0.2}`'
        "). Limits are checked when a scenario loads; besides them, no number may be `inf` or "
        "`nan`, and one that need not be whole (a price, a cost, a weight) may be at most "
        f"{MAX_MAGNITUDE:g} in size (larger ones overflow the model's sums). "
        "Units: *per week* and *per year* rates "
        "are converted to the step length "
        "(section 3); *attribute* is the 0..1 scale of capability, promise, expectation and "
        "experience; *points* the 0..10 satisfaction scale; *money* is per member of the market "
        "population (section 7, Economics). A dash means dimensionless.",
        "",
        _provenance_summary(),
    ]
    for section in sections():
        lines += ["", f"### {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        lines += _table(section)
    lines += ["", strategy_reference()]
    return "\n".join(lines)


# -- the file -----------------------------------------------------------------------------------


def render(text: str) -> str:
    """``text`` (the contents of MODEL.md) with its generated block brought up to date.

    Parameters
    ----------
    text
        The current file contents. Without the markers, a "Parameter reference" section holding
        them is appended.

    Returns
    -------
    str
        The new contents.
    """
    block = f"{BEGIN_MARKER}\n{parameter_reference()}\n{END_MARKER}"
    start = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{sep}## Parameter reference\n\n{block}\n"
    return text[:start] + block + text[end + len(END_MARKER) :]


def check(path: Path | str = MODEL_MD) -> tuple[bool, str]:
    """Whether the file's generated block matches the schema.

    Parameters
    ----------
    path
        The Markdown file (default: docs/MODEL.md of the repository).

    Returns
    -------
    (bool, str)
        ``(True, "")`` when up to date, else ``(False, one-line message)``.
    """
    path = Path(path)
    if not path.is_file():
        return False, f"{path}: file not found; run `python -m sim.docs` to create it"
    text = path.read_text(encoding="utf-8")
    if BEGIN_MARKER not in text or END_MARKER not in text:
        return False, f"{path}: markers {BEGIN_MARKER} / {END_MARKER} not found"
    if render(text) != text:
        return False, f"{path}: parameter reference is out of date; run `python -m sim.docs`"
    return True, ""


def write(path: Path | str = MODEL_MD) -> bool:
    """Rewrite the generated block of the file (create the file if needed).

    Parameters
    ----------
    path
        The Markdown file (default: docs/MODEL.md of the repository).

    Returns
    -------
    bool
        Whether the file changed.
    """
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    new = render(old)
    if new == old:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m sim.docs [--check] [--path FILE]``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds the file out of date.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sim.docs",
        description="Regenerate the parameter reference in docs/MODEL.md from the schema.",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the file is out of date"
    )
    parser.add_argument("--path", type=Path, default=MODEL_MD, help="the Markdown file")
    args = parser.parse_args(argv)
    if args.check:
        ok, message = check(args.path)
        if not ok:
            print(message, file=sys.stderr)
            return 1
        return 0
    changed = write(args.path)
    print(f"{args.path}: {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
