"""Whose a scenario's problem is: the file's, or the flag's or override's that brought it.

A scenario is loaded from a file with overrides (``--set KEY=VALUE``, ``--customers N``, a sweep's
values). A problem is an override's when the override set its key or a table above it (by index,
``firms[0].price``, or by name, ``firms.Acme.price``) or made its table; when the message names the
override's key (``--customers 3`` makes the file's ``network.k = 10`` too many: a conflict with the
file); or when the file alone does not have the problem and leaving the override out removes it
(two ``--set firms[i].initial_share`` that together make an industry's shares sum above 1).
Otherwise it is the file's. :func:`sim.scenario.load_scenario` blames the problems it finds this
way, and :func:`blamed` those found later, while the market is built.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.scenario_schema import Scenario

__all__ = ["blame", "blamed", "blamed_problems", "conflict", "new_table", "normal_key"]

Problems = list[tuple[str, str]]
"""A validation's problems, as ``(key path, message)``."""


def normal_key(key: str) -> str:
    """A dotted key in one form: ``firms[0].price`` and ``firms__0__price`` are
    ``firms.0.price``."""
    return key.replace("__", ".").replace("[", ".").replace("]", "")


def _source(dotted: str, sources: Mapping[str, str]) -> str:
    return sources.get(dotted) or f"override {dotted}"


def blame(
    key: str,
    where: str,
    sources: Mapping[str, str],
    paths: Mapping[str, str],
    new_tables: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """``(source, key)`` of a problem at ``key``: the override that set ``key`` (or a table above
    it), or that made the table ``key`` (``new_tables``: override -> the table it created), if
    any, else the file ``where``.

    ``paths`` maps each override to the key it reached, in :func:`normal_key` form with firms
    picked by name numbered (``firms.Acme.price`` -> ``firms.0.price``).
    """
    target = normal_key(key)
    for dotted, path in paths.items():
        if target == path or target.startswith(path + "."):
            return _source(dotted, sources), key
    for dotted, created in (new_tables or {}).items():
        if target == created:  # a table the override made, e.g. an unknown section
            return _source(dotted, sources), key
    return where, key


def conflict(
    key: str, message: str, where: str, sources: Mapping[str, str], overrides: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    """A problem at a key the file set that is there because of an override it names (``--customers
    3`` makes the file's ``network.k = 10`` too many: its message says ``market.customers``),
    blamed on the override and saying the conflict; None if no override is named."""
    for dotted in overrides:
        name = re.escape(normal_key(dotted))
        if re.search(rf"(?<![\w.]){name}(?![\w.])", message):
            return _source(dotted, sources), "", f"conflicts with {key} of {where}: {message}"
    return None


def blamed(scenario: Scenario, key: str, message: str) -> tuple[str, str, str]:
    """``(source, key, message)`` of a problem found with a loaded scenario, at ``key`` (building
    its network, say), blamed as :func:`sim.scenario.load_scenario` blames its own: on the
    override that set ``key`` (or a table above it), else on one the message names, as a conflict
    with the scenario's file (``--customers 40`` makes the file's edge list name a node past
    ``market.customers``), else on the file."""
    where = str(scenario.source_path) if scenario.source_path else "<scenario>"
    sources = scenario._override_sources
    paths = {d: scenario._override_paths.get(d) or normal_key(d) for d in sources}
    source, at = blame(key, where, sources, paths)
    if source == where:
        return conflict(key, message, where, sources, sources) or (where, key, message)
    return source, at, message


def new_table(data: dict[str, Any], dotted: str) -> str | None:
    """The first table of ``dotted`` (normalised) that ``data`` does not have, if the
    override would create one (``foo`` for ``foo.bar`` where the file has no ``foo``)."""
    node: Any = data
    parts = normal_key(dotted).split(".")
    for n, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            return None
        if part not in node:
            return ".".join(parts[: n + 1])
        node = node[part]
    return None


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")


def _shape(key: str, message: str) -> tuple[str, str]:
    """A problem with its numbers left out: the file alone has "the same" problem when its
    sum is 1.1 and the overrides' 1.3."""
    return key, _NUMBER.sub("#", message)


def blamed_problems(
    problems: Problems,
    where: str,
    overrides: Mapping[str, Any],
    sources: Mapping[str, str],
    paths: Mapping[str, str],
    new_tables: Mapping[str, str],
    problems_with: Callable[[Mapping[str, Any]], Problems | None],
) -> list[tuple[str, str, str]]:
    """The validation problems of a scenario loaded with ``overrides``, blamed.

    Parameters
    ----------
    problems
        ``(key, message)`` of each problem found.
    where
        The scenario's file (how messages name it).
    overrides, sources, paths, new_tables
        The overrides applied, how each is named, the key each reached (see :func:`blame`) and
        the tables they made.
    problems_with
        The problems of the file with only the given overrides applied (``[]``: none; None: the
        overrides do not apply without the others). Called only for a problem no override's
        key explains, once with none and once per override left out.

    Returns
    -------
    list of (source, key, message)
        A problem at a key an override set is the override's (:func:`blame`); one the file has
        without any override is the file's; one whose message names an override is that
        override's conflict with the file (:func:`conflict`); else the overrides whose leaving
        out removes the problem are its cause (``--set firms[0].initial_share=0.7`` for the
        industry's shares summing above 1), the first named as its source and the others in
        the message; a problem of a key the file set, where none is under the key, is said as
        a conflict with the file.
    """
    out: list[tuple[str, str, str]] = []
    alone: set[tuple[str, str]] | None = None
    for key, message in problems:
        source, at = blame(key, where, sources, paths, new_tables)
        if source != where or not overrides:
            out.append((source, at, message))
            continue
        if alone is None:
            alone = {_shape(*p) for p in problems_with({}) or []}
        if _shape(key, message) in alone:  # the file's own problem, whatever the overrides
            out.append((where, key, message))
            continue
        if flag := conflict(key, message, where, sources, overrides):
            out.append(flag)
            continue
        out.append(_caused(key, message, where, overrides, sources, paths, problems_with))
    return out


def _caused(
    key: str,
    message: str,
    where: str,
    overrides: Mapping[str, Any],
    sources: Mapping[str, str],
    paths: Mapping[str, str],
    problems_with: Callable[[Mapping[str, Any]], Problems | None],
) -> tuple[str, str, str]:
    """A problem the file does not have alone, blamed on the overrides that bring it."""
    shape = _shape(key, message)
    target = normal_key(key)

    def under(dotted: str) -> bool:
        path = paths.get(dotted) or normal_key(dotted)
        return path.startswith(target + ".")

    causes = []
    for dotted in overrides:
        rest = {d: v for d, v in overrides.items() if d != dotted}
        found = problems_with(rest)
        if found is not None and shape not in {_shape(*p) for p in found}:
            causes.append(dotted)
    if not causes:  # no one override alone: those under the key, else all of them
        causes = [d for d in overrides if under(d)] or list(overrides)
    first, *others = causes
    also = f" (together with {', '.join(_source(d, sources) for d in others)})" if others else ""
    if under(first):
        return _source(first, sources), key, message + also
    return _source(first, sources), "", f"conflicts with {key} of {where}: {message}{also}"
