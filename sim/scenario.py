"""Scenario files: finding them, reading them, ``extends``, overrides and validation.

A scenario is one complete market in a TOML file (its schema is :mod:`sim.scenario_schema`,
re-exported here). Loading reads the file, resolves ``extends``, applies overrides and
validates everything, turning any problem into one :class:`ScenarioError` that names the file,
the key path and what was expected.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.scenario_schema import (
    NETWORK_KINDS,
    FirmSpec,
    MarketSpec,
    NetworkSpec,
    Scenario,
    ScenarioError,
    SegmentSpec,
    format_validation_error,
    scenario_hash,
)

__all__ = [
    "NETWORK_KINDS",
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


def scenario_dirs() -> list[Path]:
    """Folders searched for scenarios by name: $CXSIM_SCENARIOS, ./scenarios, the repo's."""
    dirs = [Path(p) for p in os.environ.get("CXSIM_SCENARIOS", "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "scenarios", Path(__file__).resolve().parent.parent / "scenarios"]
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
        key, msg = format_validation_error(err)
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
    return scenario
