"""Scenario files: finding them, reading them, ``extends``, overrides and validation.

A scenario is one complete market in a TOML file (its schema is :mod:`sim.scenario_schema`, its
``[network]`` section's :mod:`sim.scenario_network`, both re-exported here). Loading reads the
file, resolves ``extends``, applies overrides and validates everything, turning every problem
into a line of one :class:`ScenarioError` that names the file (or the command-line flag), the key
path and what was expected (who is blamed for what: :mod:`sim.scenario_blame`).

Which files a scenario may pull in: ``extends`` names a scenario on the search path
(:func:`scenario_dirs`) by name, or a ``.toml`` file inside the extending file's own folder;
an edge list (``network.path``) must also lie inside the folder of the file that names it. Other
folders are allowed only when the user lists them in ``$CXSIM_ALLOW_EXTENDS`` (``cxsim run``,
``show`` and ``check`` take ``--allow-extends DIR``), so a scenario (an uploaded one, say) cannot
read files elsewhere on the machine.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.scenario_blame import blame, blamed, blamed_problems, new_table
from sim.scenario_network import (
    NETWORK_KEYS,
    NETWORK_KINDS,
    NetworkSpec,
    network_kind,
    unused_network_keys,
)
from sim.scenario_schema import (
    ClaimSpec,
    FirmSpec,
    MarketSpec,
    Scenario,
    ScenarioError,
    SegmentSpec,
    scenario_hash,
    validation_problems,
)
from sim.tomlfile import TomlError, parse_toml

__all__ = [
    "ALLOW_ENV",
    "NETWORK_KEYS",
    "NETWORK_KINDS",
    "ClaimSpec",
    "FirmSpec",
    "MarketSpec",
    "NetworkSpec",
    "Scenario",
    "ScenarioError",
    "SegmentSpec",
    "allowed_folders",
    "apply_overrides",
    "blamed",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "network_kind",
    "scenario_dirs",
    "scenario_hash",
    "unused_network_keys",
]

ALLOW_ENV = "CXSIM_ALLOW_EXTENDS"
"""Environment variable listing extra folders (``os.pathsep``-separated) from which a scenario
may ``extends`` files or read its edge list."""

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


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
    if p.is_dir():
        raise ScenarioError(
            str(name), "", f"is a folder; expected a scenario .toml file or one of: {known}"
        )
    raise ScenarioError(str(name), "", f"file not found; expected a .toml path or one of: {known}")


def list_scenarios() -> list[tuple[str, Path, str]]:
    """``(name, path, first line of description)`` of every scenario on the search path."""
    out: dict[str, tuple[str, Path, str]] = {}
    for d in scenario_dirs():
        for f in sorted(d.glob("*.toml")):
            if f.stem in out:
                continue
            try:
                data = parse_toml(f.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, TomlError):
                data = {}
            desc = str(data.get("description", "")).strip().splitlines()
            out[f.stem] = (f.stem, f, desc[0] if desc else "")
    return sorted(out.values())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return parse_toml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(str(path), "", "is a folder; expected a scenario .toml file") from None
    except TomlError as e:
        raise ScenarioError(str(path), "", str(e)) from None
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


def allowed_folders() -> list[Path]:
    """Folders the user allowed beyond a scenario's own (``$CXSIM_ALLOW_EXTENDS``), resolved."""
    raw = os.environ.get(ALLOW_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def _inside(target: Path, folder: Path) -> bool:
    """Whether ``target`` (resolved: symlinks followed) lies in ``folder`` or one allowed."""
    resolved = target.resolve()
    return any(resolved.is_relative_to(f) for f in (folder.resolve(), *allowed_folders()))


def _outside_message(what: str, folder: Path) -> str:
    return (
        f"{what} is outside {folder}; expected a file in the scenario's own folder (allow "
        f"another folder with --allow-extends DIR or ${ALLOW_ENV})"
    )


def _find_parent(parent: str, path: Path | None, where: str) -> Path:
    """The file ``extends = parent`` means for the scenario at ``path``, or a ScenarioError
    naming the extending file."""
    folder = path.parent if path is not None else Path.cwd()
    if not parent.endswith(".toml") and "/" not in parent and "\\" not in parent:
        if not _NAME.match(parent):
            raise ScenarioError(where, "extends", f"expected a scenario name, got {parent!r}")
        candidates = [folder / f"{parent}.toml"] + [d / f"{parent}.toml" for d in scenario_dirs()]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        known = ", ".join(n for n, _, _ in list_scenarios()) or "none found"
        raise ScenarioError(
            where,
            "extends",
            f"no scenario named {parent!r}; expected one of: {known}, or a .toml file in {folder}",
        )
    target = Path(parent)
    target = target if target.is_absolute() else folder / target
    if not _inside(target, folder):
        raise ScenarioError(where, "extends", _outside_message(repr(parent), folder))
    if not target.is_file():
        raise ScenarioError(where, "extends", f"{parent!r}: file not found in {folder}")
    return target


def _edge_list_path(
    data: dict[str, Any], path: Path | None, where: str, absolute: bool = False
) -> None:
    """Check that the edge list a file names is in its folder; with ``absolute``, make the path
    absolute (an edge list named by a parent is relative to the parent's file, not the
    child's)."""
    network = data.get("network")
    if not (isinstance(network, dict) and isinstance(network.get("path"), str)):
        return
    folder = path.parent if path is not None else Path.cwd()
    edge_list = Path(network["path"])
    target = edge_list if edge_list.is_absolute() else folder / edge_list
    if not _inside(target, folder):
        raise ScenarioError(where, "network.path", _outside_message(repr(network["path"]), folder))
    if absolute and path is not None:
        network["path"] = str(target.resolve())


def _resolve_extends(data: dict[str, Any], path: Path | None, chain: tuple[str, ...] = ()) -> dict:
    parent = data.pop("extends", None)
    if parent is None:
        return data
    where = str(path) if path else "<scenario>"
    if not isinstance(parent, str):
        raise ScenarioError(where, "extends", f"expected a scenario name or path, got {parent!r}")
    ppath = _find_parent(parent, path, where)
    key = str(ppath.resolve())
    if key in chain:
        raise ScenarioError(where, "extends", f"circular extends through {ppath}")
    parent_data = _read_toml(ppath)
    _edge_list_path(parent_data, ppath, str(ppath), absolute=True)
    base = _resolve_extends(parent_data, ppath, (*chain, key))
    merged = _deep_merge(base, data)
    if "name" not in data:
        merged["name"] = path.stem if path else merged.get("name", "unnamed")
    return merged


_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")


def apply_overrides(
    data: dict[str, Any], overrides: dict[str, Any], sources: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Set dotted keys in scenario data: ``"market.customers"``, ``"firms[0].levers.inflation"``,
    ``"firms.Acme.price"`` (a firm by name), ``"market__customers"`` (Mesa batch_run style).

    ``sources`` names where each override came from in error messages (e.g.
    ``{"market.customers": "--set market.customers=0"}``; default ``override KEY``).
    """
    return _set_in_place(copy.deepcopy(data), overrides, sources)


def _set_in_place(
    out: dict[str, Any],
    overrides: Mapping[str, Any],
    sources: Mapping[str, str] | None,
    paths: dict[str, str] | None = None,
) -> dict[str, Any]:
    """:func:`apply_overrides` on data the caller owns (no copy: :func:`load_scenario`'s data is
    its own, and the copy was half of a sweep plan's check of a design point, 0.8 ms a point).

    ``paths``, if given, receives the key each override reached, in
    :func:`~sim.scenario_blame.normal_key` form with an entry picked by name numbered
    (``firms.Acme.price`` -> ``firms.0.price``), so that a problem at ``firms[0].price`` is
    blamed on the override that set it."""
    for dotted, value in overrides.items():
        source = (sources or {}).get(dotted) or f"override {dotted}"

        def fail(message: str, source: str = source, key: str = dotted) -> ScenarioError:
            return ScenarioError(source, key, message)

        parts = _key_parts(dotted)
        reached = [str(p) for p in parts]
        node: Any = out
        name = ""  # the key of ``node`` in the table above it, for messages
        for i, part in enumerate(parts[:-1]):
            nxt = parts[i + 1]
            if isinstance(node, list):
                if isinstance(part, str):
                    names = [x.get("name") if isinstance(x, dict) else None for x in node]
                    at = names.index(part) if part in names else None
                    if at is None:
                        raise fail(f"no entry named {part!r}; {_list_keys(name, node)}")
                    node, reached[i] = node[at], str(at)
                    continue
                if not 0 <= part < len(node):
                    raise fail(f"index {part} out of range (0..{len(node) - 1})")
                node = node[part]
            elif isinstance(node, dict):
                _check_part(part, node, fail)
                node = node.setdefault(part, [] if isinstance(nxt, int) else {})
                name = str(part)
            else:
                raise fail(f"{part!r} is inside a value, not a table")
        last = parts[-1]
        if isinstance(node, list):
            if not isinstance(last, int) or not 0 <= last < len(node):
                raise fail(_list_keys(name, node))
        elif not isinstance(node, dict):
            raise fail(f"{last!r} is inside a value, not a table")
        else:
            _check_part(last, node, fail)
        node[last] = value
        if paths is not None:
            paths[dotted] = ".".join(reached)
    return out


def _list_keys(name: str, entries: list[Any]) -> str:
    """How a key may pick an entry of the list ``name``, for a message: ``expected
    firms[INDEX] (0..5) or firms.<name> (First Bank, City Bank, ...)``."""
    name = name or "LIST"
    where = f"{name}[INDEX] (0..{len(entries) - 1})" if entries else f"{name}[INDEX] (it is empty)"
    names = [str(x["name"]) for x in entries if isinstance(x, dict) and "name" in x]
    if names:
        more = f", and {len(names) - 10} more" if len(names) > 10 else ""
        where += f" or {name}.<name> ({', '.join(names[:10])}{more})"
    return f"expected {where}"


def _check_part(
    part: str | int, table: dict[str, Any], fail: Callable[[str], ScenarioError]
) -> None:
    """Refuse a part of an override's key that cannot name anything in ``table``: an empty one
    (``market..customers``) or a malformed index (``firms[x]``, ``firms[-1]``, ``firms[A Co]``),
    saying what was expected. A key the table already has is left alone."""
    if not isinstance(part, str) or part in table:
        return
    if not part:
        raise fail("expected no empty part between the dots, e.g. market.customers")
    base, bracket, _ = part.partition("[")
    if bracket or "]" in part:
        entries = table.get(base)
        if isinstance(entries, list):
            raise fail(_list_keys(base, entries))
        raise fail(f"expected {base or 'NAME'}[INDEX] with INDEX a whole number, e.g. firms[0]")


def value_at(scenario: Scenario, dotted: str) -> Any:
    """The value a scenario has at a dotted key of :func:`apply_overrides`' forms (defaults
    included), or None where the key names nothing (e.g. an optional table left out)."""
    node: Any = scenario.model_dump()
    for part in _key_parts(dotted):
        if isinstance(node, list):
            if isinstance(part, str):
                named = [x for x in node if isinstance(x, dict) and x.get("name") == part]
                node = named[0] if named else None
            else:
                node = node[part] if 0 <= part < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def _key_parts(dotted: str) -> list[str | int]:
    parts: list[str | int] = []
    for part in dotted.replace("__", ".").split("."):
        m = _INDEX.match(part)
        parts += [m.group(1), int(m.group(2))] if m else [int(part) if part.isdigit() else part]
    return parts


_OTHER_FILES = (
    (("calibration",), "a calibration file", "cxsim calibrate SCENARIO DATA FILE"),
    (("scenario", "parameters", "design"), "a sweep file", "cxsim sweep FILE"),
    (
        ("ranges", "schema_ranges", "worlds"),
        "a robustness file",
        "cxsim robustness SCENARIO --ranges FILE",
    ),
)
"""Top-level keys no scenario has that mark another kind of file, what it is and its command."""


def _other_kind(keys_of_file: frozenset[str]) -> str | None:
    """What to say of a file that is not a scenario but a sweep, robustness or calibration
    file (one line instead of a line per key a scenario does not have), from its own top-level
    keys (not those an override adds); None for a scenario."""
    for keys, what, command in _OTHER_FILES:
        if any(k in keys_of_file for k in keys):
            return (
                f"is {what}, not a scenario; expected a scenario here ({what} is run by "
                f"'{command}')"
            )
    return None


def _source_data(
    source: str | Path | dict[str, Any] | Scenario,
) -> tuple[dict[str, Any], Path | None, frozenset[str]]:
    """The data of a scenario to load, ``extends`` resolved, before overrides (this call's own
    copy), with its file, if any, and the file's own top-level keys."""
    if isinstance(source, Scenario):
        return source.to_dict(), source.source_path, frozenset()
    if isinstance(source, dict):
        data, path, own_keys = copy.deepcopy(source), None, frozenset()
    else:
        path = find_scenario(source)
        data = _read_toml(path)
        own_keys = frozenset(data)
        data.setdefault("name", path.stem)
    _edge_list_path(data, path, str(path) if path else "<scenario>")
    return _resolve_extends(data, path), path, own_keys


def load_scenario(
    source: str | Path | dict[str, Any] | Scenario = "baseline",
    overrides: dict[str, Any] | None = None,
    *,
    override_sources: Mapping[str, str] | None = None,
) -> Scenario:
    """Load, resolve ``extends``, apply ``overrides`` and validate a scenario.

    Parameters
    ----------
    source
        A scenario name (``"baseline"``), a path to a TOML file, plain data, or a Scenario.
    overrides
        Dotted keys to set after loading, e.g. ``{"market.customers": 1000}``.
    override_sources
        How each override is named in messages (``{"market.customers": "--customers 0"}``);
        default ``override KEY``. A problem with an overridden value names the override, not
        the file.

    Returns
    -------
    Scenario
        The validated scenario. ``scenario.source_path`` is the file it came from, if any.

    Raises
    ------
    ScenarioError
        Every problem found, one line each, naming the file (or override), the key and what
        was expected.
    """
    overrides = dict(overrides or {})
    sources = dict(override_sources or {})
    if isinstance(source, Scenario) and not overrides:
        return source
    data, path, own_keys = _source_data(source)
    # the overrides a Scenario given as source was loaded with
    earlier = dict(source._override_sources) if isinstance(source, Scenario) else {}
    earlier_paths = dict(source._override_paths) if isinstance(source, Scenario) else {}
    where = str(path) if path else "<scenario>"
    new_tables: dict[str, str] = {}
    paths: dict[str, str] = {}  # override -> the key it reached (firms by name numbered)
    if overrides:
        new_tables = {
            dotted: made for dotted in overrides if (made := new_table(data, dotted)) is not None
        }
        before = (data.get("network") or {}).get("path")
        data = _set_in_place(data, overrides, sources, paths)  # data is this call's own
        after = data.get("network") or {}
        if isinstance(after, dict) and after.get("path") != before:
            try:
                _edge_list_path(data, path, where)
            except ScenarioError as e:
                raise ScenarioError(*blame(e.key, where, sources, paths), e.detail) from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        if other := _other_kind(own_keys):
            raise ScenarioError(where, "", other) from None

        def problems_with(some: Mapping[str, Any]) -> list[tuple[str, str]] | None:
            """The problems of the source with only ``some`` of the overrides applied."""
            try:
                Scenario.model_validate(_set_in_place(_source_data(source)[0], some, sources))
            except ScenarioError:
                return None
            except ValidationError as e:
                return validation_problems(e)
            return []

        raise ScenarioError.of(
            blamed_problems(
                validation_problems(err),
                where,
                overrides,
                sources,
                paths,
                new_tables,
                problems_with,
            )
        ) from None
    scenario._source_path = path
    scenario._override_sources = {
        **earlier,
        **{dotted: sources.get(dotted) or f"override {dotted}" for dotted in overrides},
    }
    scenario._override_paths = {**earlier_paths, **paths}
    from sim.strategies import StrategyError, build_strategy  # lazy: strategies import params

    problems = []
    for i, firm in enumerate(scenario.firms):
        try:
            build_strategy(
                firm.strategy,
                firm.levers,
                scenario.market.attributes,
                search_dir=path.parent if path else None,
            )
        except StrategyError as e:
            problems.append((*blame(f"firms[{i}].{e.key}", where, sources, paths), str(e)))
    if problems:
        raise ScenarioError.of(problems)
    if scenario.claims:
        from sim.robustness.claims import ClaimError, check_claims  # lazy: reads outcomes

        try:
            check_claims(scenario)  # parsed once for the same claims, firms and time base
        except ClaimError as e:
            if path is not None and not overrides:  # a scenario file's claims must fit it
                raise ScenarioError(where, e.key, e.detail) from None
            if path is not None:
                load_scenario(path)  # raises if the file's own claims do not fit the file
            scenario.claims = []  # they do not fit this variant (other firms, fewer steps)
    return scenario
