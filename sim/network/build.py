"""One entry point for every kind of customer network: :func:`build_adjacency`.

This module must never import the UI, the sweep layer or the rules.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.network.adjacency import Adjacency
from sim.network.complete import CompleteAdjacency
from sim.network.edge_lists import edges_from_networkx, read_edge_list
from sim.network.generators import (
    DEFAULT_N_BLOCKS,
    barabasi_albert_edges,
    block_sizes_for,
    erdos_renyi_edges,
    stochastic_block_edges,
    watts_strogatz_edges,
)
from sim.network.nodes import _check_n
from sim.scenario_network import NETWORK_KINDS as SCENARIO_KINDS

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["NETWORK_KINDS", "AdjacencyLike", "build_adjacency"]

#: The network kinds understood by :func:`build_adjacency`: a scenario's, and a networkx graph
#: given from Python.
NETWORK_KINDS: tuple[str, ...] = (*SCENARIO_KINDS, "networkx")


#: Either adjacency implementation.
AdjacencyLike = Adjacency | CompleteAdjacency


def build_adjacency(
    kind: str,
    n: int | None,
    rng: np.random.Generator,
    *,
    k: int = 10,
    p: float = 0.1,
    m: int = 5,
    mean_degree: float = 10.0,
    block_sizes: Any = None,
    k_in: float = 8.0,
    k_out: float = 2.0,
    path: str | os.PathLike[str] | None = None,
    graph: nx.Graph | None = None,
    n_name: str = "n",
) -> Adjacency | CompleteAdjacency:
    """Build the customer network of the given kind.

    Parameters
    ----------
    kind : str
        One of :data:`NETWORK_KINDS`: ``"watts_strogatz"`` (uses ``k``, ``p``),
        ``"barabasi_albert"`` (``m``), ``"erdos_renyi"`` (``mean_degree``),
        ``"stochastic_block"`` (``block_sizes``, ``k_in``, ``k_out``; default
        ``block_sizes_for(n, DEFAULT_N_BLOCKS)``), ``"complete"``, ``"edge_list"`` (``path``)
        or ``"networkx"`` (``graph``).
    n : int or None
        Number of nodes. May be None only for ``"edge_list"`` and ``"networkx"``, which then
        take it from the file or graph.
    rng : numpy.random.Generator
        Source of randomness.
    k, p, m, mean_degree, block_sizes, k_in, k_out, path, graph
        Parameters of the kinds above.
    n_name : str, default "n"
        How ``n`` is named in edge-list error messages, e.g. ``"market.customers"``.

    Returns
    -------
    Adjacency or CompleteAdjacency

    Raises
    ------
    ValueError
        For an unknown kind, a missing or inconsistent parameter. :class:`EdgeListError` (a
        ValueError) for an unreadable edge list.
    """
    if kind not in NETWORK_KINDS:
        raise ValueError(
            f"unknown network kind {kind!r}; expected one of {', '.join(NETWORK_KINDS)}"
        )
    if kind == "edge_list":
        if path is None:
            raise ValueError("network kind 'edge_list' needs a path")
        u, v, n_nodes = read_edge_list(path, n, n_name=n_name)
        return Adjacency.from_edges(u, v, n_nodes)
    if kind == "networkx":
        if graph is None:
            raise ValueError("network kind 'networkx' needs a graph")
        u, v, n_nodes = edges_from_networkx(graph)
        if n is not None and n_nodes != n:
            raise ValueError(f"the networkx graph has {n_nodes} nodes but {n_name} = {n}")
        return Adjacency.from_edges(u, v, n_nodes)
    if n is None:
        raise ValueError(f"network kind {kind!r} needs n")
    n = _check_n(n)
    if kind == "complete":
        return CompleteAdjacency(n)
    if kind == "watts_strogatz":
        u, v = watts_strogatz_edges(n, k, p, rng)
    elif kind == "barabasi_albert":
        u, v = barabasi_albert_edges(n, m, rng)
    elif kind == "erdos_renyi":
        u, v = erdos_renyi_edges(n, mean_degree, rng)
    else:  # stochastic_block
        sizes = (
            block_sizes_for(n, min(DEFAULT_N_BLOCKS, max(n, 1)))
            if block_sizes is None
            else np.asarray(block_sizes, dtype=np.int64)
        )
        if int(sizes.sum()) != n:
            raise ValueError(f"block_sizes sum to {int(sizes.sum())} but n = {n}")
        u, v = stochastic_block_edges(sizes, k_in, k_out, rng)
    return Adjacency.from_edges(u, v, n)
