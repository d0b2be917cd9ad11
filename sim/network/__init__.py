"""Social networks of customers: graph generators, edge-list loading and CSR adjacency.

Customers are the nodes ``0..n-1`` of an undirected, unweighted social network. This package
builds that network, from a random-graph generator (:mod:`~sim.network.generators`:
Watts-Strogatz, Barabási-Albert, Erdős-Rényi, stochastic block model), from a user's edge-list
file or a networkx graph (:mod:`~sim.network.edge_lists`), or as the complete graph
(:mod:`~sim.network.complete`), and holds it as an adjacency (:mod:`~sim.network.adjacency`)
with the two operations the step needs: a sum of neighbour values (``neighbour_sum``) and a
fan-out of messages to neighbours (``expand``). :func:`build_adjacency` is the one entry point.

Everything is vectorized numpy/scipy (no Python loop over nodes or edges) so that a network of
a million customers is drawn in a few seconds; all randomness comes from the
``numpy.random.Generator`` passed in. Two implementations share one interface:
:class:`Adjacency` (CSR) for sparse graphs and :class:`CompleteAdjacency` for the complete graph
(Bass-model docking), which never stores its ``n(n-1)/2`` edges.

Layering: the package imports numpy and scipy; pandas only to read an edge list or relabel a
networkx graph, networkx only to build or export one. It must never import the UI, the sweep
layer or the rules.
"""

from sim.network.adjacency import Adjacency
from sim.network.build import NETWORK_KINDS, AdjacencyLike, build_adjacency
from sim.network.complete import COMPLETE_MATERIALIZE_LIMIT, CompleteAdjacency
from sim.network.edge_lists import EdgeListError, edges_from_networkx, read_edge_list
from sim.network.generators import (
    DEFAULT_N_BLOCKS,
    barabasi_albert_edges,
    block_sizes_for,
    erdos_renyi_edges,
    region_of,
    stochastic_block_edges,
    watts_strogatz_edges,
)

__all__ = [
    "COMPLETE_MATERIALIZE_LIMIT",
    "DEFAULT_N_BLOCKS",
    "NETWORK_KINDS",
    "Adjacency",
    "AdjacencyLike",
    "CompleteAdjacency",
    "EdgeListError",
    "barabasi_albert_edges",
    "block_sizes_for",
    "build_adjacency",
    "edges_from_networkx",
    "erdos_renyi_edges",
    "read_edge_list",
    "region_of",
    "stochastic_block_edges",
    "watts_strogatz_edges",
]
