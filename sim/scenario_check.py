"""What a scenario needs beyond its schema: its network built, its referenced files read.

:func:`sim.load_scenario` validates what a scenario *says*; some problems only show when the
market is built: an edge list with a bad line or a node id past ``market.customers``, generator
parameters the network cannot satisfy (an Erdős-Rényi mean degree above ``n - 1``), local firms
whose starting customers do not fit in their region. :func:`build_network` is the one place the
model builds its network from a scenario, and :func:`check_scenario` runs it (and the other
checks the build makes before the first step), so ``cxsim check`` refuses every scenario
``cxsim run`` would refuse before stepping, with the same messages, without building customers.

This module must never import the model, the UI or the sweep layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario import Scenario, ScenarioError, blamed

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build_network", "check_scenario"]


def build_network(
    scenario: Scenario, rng: np.random.Generator, graph: nx.Graph | None = None
) -> Any:
    """The customer network the scenario describes (or ``graph``, if given).

    Parameters
    ----------
    scenario
        The scenario (``network`` and ``market``; an edge list's path is relative to
        ``scenario.source_path``).
    rng
        The model's generator (random generators draw from it).
    graph
        A networkx graph to use instead, with ``market.customers`` nodes.

    Returns
    -------
    Adjacency or CompleteAdjacency

    Raises
    ------
    ScenarioError
        ``network.path`` for an unreadable or inconsistent edge list, ``network`` for generator
        parameters the network cannot satisfy; the message names the scenario's file, or the
        flag or override that made the problem (``--customers 40`` with an edge list naming
        node 45; ``sim.scenario.blamed``).
    """
    from sim.network import build_adjacency, region_of

    n = scenario.market.customers
    spec = scenario.network
    if graph is not None:
        return build_adjacency("networkx", n, rng, graph=graph)
    path = None
    if spec.kind == "edge_list":
        path = Path(spec.path)
        if not path.is_absolute() and scenario.source_path is not None:
            path = scenario.source_path.parent / path
    block_sizes = None
    if spec.kind == "stochastic_block":
        regions = scenario.market.regions
        block_sizes = np.bincount(region_of(n, regions), minlength=regions)
    try:
        return build_adjacency(
            spec.kind,
            n,
            rng,
            k=spec.k,
            p=spec.p,
            m=spec.m,
            n_name="market.customers",
            mean_degree=spec.mean_degree,
            block_sizes=block_sizes,
            k_in=spec.k_in,
            k_out=spec.k_out,
            path=None if path is None else str(path),
        )
    except ScenarioError:
        raise
    except ValueError as e:  # blamed on the flag or override that made it, if one did
        key = "network.path" if spec.kind == "edge_list" else "network"
        raise ScenarioError(*blamed(scenario, key, str(e))) from None


def check_scenario(scenario: Scenario) -> None:
    """Run the checks the model makes while it builds, short of building the customers.

    The network is built (an edge list is read whole), and the local firms present at the start
    must find their starting customers in their region.

    Raises
    ------
    ScenarioError
        Every problem found, one line each.
    """
    problems: list[tuple[str, str, str]] = []
    try:
        build_network(scenario, np.random.default_rng(scenario.seed))
    except ScenarioError as e:
        problems += e.problems
    problems += _local_reach(scenario)
    if problems:
        raise ScenarioError.of(problems)


def _local_reach(scenario: Scenario) -> list[tuple[str, str, str]]:
    """Local firms whose starting customers exceed their region's customers (less those of the
    other local firms of the region before them in the file)."""
    from sim.network import region_of

    market = scenario.market
    n = market.customers
    where = str(scenario.source_path) if scenario.source_path else "<scenario>"
    sizes = np.bincount(region_of(n, market.regions), minlength=market.regions)
    taken: dict[tuple[str, int], int] = {}
    out = []
    for i, firm in enumerate(scenario.firms):
        if firm.region is None or firm.entry_step > 0:
            continue
        slot = (firm.industry, firm.region)
        target = round(firm.initial_share * n)
        free = int(sizes[firm.region]) - taken.get(slot, 0)
        if target > free:
            out.append(
                (
                    where,
                    f"firms[{i}].initial_share",
                    f"expected at most {max(free, 0) / n:.3g} (the unserved customers it can "
                    f"reach), got {firm.initial_share}",
                )
            )
        taken[slot] = taken.get(slot, 0) + target
    return out
