"""Contrasts: a claim read against the same world with a few overrides (``versus``).

A claim within one run cannot tell a strategy's effect from what the market does anyway: "banking
customers are less satisfied at year 10 than at year 1" holds without the retailer too, when the
banks' own service erodes. A *contrast* compares a run with the same world, same seed, in a
counterfactual market::

    [[claims]]
    name = "banks_judged_against_retailer"
    versus = { "firms.Overnight.entry_step" = 100000 }
    holds = "satisfaction[banking] @ year 10 < versus(satisfaction[banking] @ year 10)"

``versus`` is a table of overrides (the keys ``cxsim run --set`` takes); ``versus(x)`` in
``holds`` reads ``x`` in the counterfactual run: the same world's parameters plus the overrides,
the same replicate (a study's common random numbers give both the same customers, network and
draws). This module checks a claim's use of ``versus`` (:func:`checked`), that its table makes a
different market the scenario loader accepts (:func:`check_market`), says the counterfactual in
words (:func:`against`) and pairs a study's runs with their counterfactual runs
(:func:`paired_runs`). It never imports the model, the UI or an executor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sim.robustness.claims import Call, Claim, ClaimError, Node, Op, _refs

if TYPE_CHECKING:  # pandas only for the studies' pairing: checking a claim stays light
    import pandas as pd

__all__ = [
    "VERSUS",
    "against",
    "check_market",
    "checked",
    "fingerprint",
    "paired_runs",
    "table_text",
]

VERSUS = "versus"
"""The function of ``holds`` that reads the counterfactual market."""

Table = tuple[tuple[str, Any], ...]
"""A versus table as a claim keeps it: ``((key, value), ...)`` in the order written."""


def _calls(node: Node, inside: bool = False) -> Iterable[tuple[Call, bool]]:
    """Every ``versus(...)`` of ``node``, with whether it lies inside another."""
    if isinstance(node, Op):
        yield from _calls(node.left, inside)
        yield from _calls(node.right, inside)
    elif isinstance(node, Call):
        here = node.name == VERSUS
        if here:
            yield node, inside
        for a in node.args:
            yield from _calls(a, inside or here)


def table_text(table: Table | Mapping[str, Any]) -> str:
    """The overrides as written in a scenario: ``firms.Overnight.entry_step = 100000``."""
    items = table.items() if isinstance(table, Mapping) else table
    return ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in items)


def against(table: Table | Mapping[str, Any], firms: list[str], steps: int) -> str:
    """The counterfactual market in words, after "the same world": ``without Overnight (it never
    enters)`` for a firm whose entry step lies past the run, ``with Probe's levers.inflation at
    0.0`` for another key of a firm, else ``with economics.capacity_decay at 0``.

    Parameters
    ----------
    table
        The overrides.
    firms
        The scenario's firm names, in order (``firms[3]`` is read as its name).
    steps
        Steps of the runs: an entry step past them means the firm never enters.
    """
    from sim.scenario import _key_parts  # the loader's own reading of a key

    items = table.items() if isinstance(table, Mapping) else table
    gone, other = [], []
    for key, value in items:
        parts = _key_parts(key)
        firm = parts[1] if len(parts) >= 3 and parts[0] == "firms" else None
        if isinstance(firm, int):
            firm = firms[firm] if 0 <= firm < len(firms) else None
        shown = repr(value) if isinstance(value, str) else str(value)
        if firm is None:
            other.append(f"{key} at {shown}")
        elif parts[2:] == ["entry_step"] and isinstance(value, int | float) and value >= steps:
            gone.append(str(firm))
        else:
            other.append(f"{firm}'s {'.'.join(str(p) for p in parts[2:])} at {shown}")
    words = []
    if gone:
        never = "it never enters" if len(gone) == 1 else "they never enter"
        words.append(f"without {' and '.join(gone)} ({never})")
    if other:
        words.append("with " + ", ".join(other))
    return " and ".join(words)


def checked(claim: Claim, versus: Mapping[str, Any] | None, firms: list[str], steps: int) -> Claim:
    """``claim`` with its versus table and its words, after checking how it uses them.

    Raises
    ------
    ClaimError
        ``key`` ``holds`` for a ``versus()`` inside another, around no outcome, or without a
        table; ``versus`` for a table that is not one of overrides or that ``holds`` never reads.
    """
    calls = [c for side in (claim.left, claim.right) for c in _calls(side)]
    for call, inside in calls:
        if inside:
            raise ClaimError(
                "holds",
                "versus(...) inside versus(...); expected versus() around outcomes of the "
                "counterfactual market, not nested (it reads one counterfactual run)",
            )
        if not any(True for _ in _refs(call.args[0])):
            raise ClaimError("holds", "expected an outcome inside versus(...), not only numbers")
    if versus is None:
        if calls:
            raise ClaimError(
                "holds",
                "reads versus(...) but the claim states no versus table; expected "
                'versus = { "<key>" = <value>, ... }, the overrides that make the '
                "counterfactual market (e.g. a firm's entry_step past the run)",
            )
        return claim
    if not isinstance(versus, Mapping) or not versus:
        raise ClaimError(
            "versus",
            f'expected a table of overrides, e.g. {{ "firms.<name>.entry_step" = {steps * 10} }}, '
            f"got {versus!r}",
        )
    bad = [k for k in versus if not isinstance(k, str) or not k.strip()]
    if bad:
        raise ClaimError("versus", f"expected dotted scenario keys, got {bad[0]!r}")
    if not calls:
        raise ClaimError(
            "versus",
            "the claim states a versus table but holds reads no versus(...); expected holds "
            "to compare with versus(<outcome>), the outcome in the counterfactual market, or "
            "no versus table",
        )
    table: Table = tuple(versus.items())
    return dataclasses.replace(claim, versus=table, against=against(table, firms, steps))


def check_market(scenario: Any, claim: Claim) -> None:
    """Check that ``claim``'s versus table makes a market the scenario loader accepts and that
    differs from ``scenario`` (its claims aside).

    Raises
    ------
    ClaimError
        ``key`` ``versus``; the loader's message (its key and what it expected), that it sets
        a network key the market's network kind does not use, or that the table changes
        nothing.
    """
    if not claim.versus:
        return
    from sim.scenario import ScenarioError, load_scenario, unused_network_keys

    base = scenario.model_copy(update={"claims": []})
    table = dict(claim.versus)
    try:
        other = load_scenario(base, table)
    except ScenarioError as e:
        key = f"{e.key}: " if e.key else ""
        raise ClaimError("versus", f"{key}{e.detail}") from None
    if unused := unused_network_keys(table, {other.network.kind}):  # as cxsim run --set's
        key, message = unused[0]
        raise ClaimError("versus", f"{key}: {message}")
    if other.to_dict() == base.to_dict():
        raise ClaimError(
            "versus",
            f"changes nothing ({table_text(claim.versus)} is the scenario's own value); "
            "expected overrides that make a different market",
        )


def fingerprint(scenario: Any) -> tuple[Any, ...]:
    """What a scenario's versus tables read beyond the claims and the firms' names: each
    table as written and the scenario's values at its keys (``()`` per claim without one), so
    that :func:`sim.robustness.claims.check_claims` checks a table again where it may now change
    nothing, or something else."""
    from sim.scenario import value_at

    out: list[tuple[Any, ...]] = []
    for c in scenario.claims:
        table = getattr(c, "versus", None) or {}
        out.append(
            tuple((str(k), repr(v), repr(value_at(scenario, str(k)))) for k, v in table.items())
        )
    return tuple(out)


def paired_runs(
    runs: pd.DataFrame, worlds: int, tables: list[Table], claims: list[Claim]
) -> dict[str, pd.Series]:
    """Each contrast's counterfactual run of every world run.

    A study's design lists its worlds first (points ``0 .. worlds - 1``), then every world again
    for each distinct versus table in turn (table ``t``'s run of world ``i`` is point
    ``worlds * (t + 1) + i``). A world's replicate ``r`` is paired with replicate ``r`` of its
    counterfactual point: with common random numbers both drew the same customers and network.

    Parameters
    ----------
    runs
        Finished runs: ``run_id``, ``point``, ``replicate``.
    worlds
        Worlds of the study.
    tables
        The distinct versus tables, in the order of the design.
    claims
        The claims; only those with a versus table get a pairing.

    Returns
    -------
    dict
        Claim name -> Series (index: the world runs' ``run_id``; value: the paired run's id, NaN
        where it did not finish).
    """
    import pandas as pd

    point = runs["point"].to_numpy()
    world_runs = runs[point < worlds]
    index = pd.Index(world_runs["run_id"], name="run_id")
    out: dict[str, pd.Series] = {}
    by_point = runs.set_index(["point", "replicate"])["run_id"]
    for c in claims:
        if not c.versus:
            continue
        t = tables.index(c.versus)
        keys = pd.MultiIndex.from_arrays(
            [world_runs["point"].to_numpy() + worlds * (t + 1), world_runs["replicate"].to_numpy()]
        )
        out[c.name] = pd.Series(by_point.reindex(keys).to_numpy(), index=index, dtype=object)
    return out
