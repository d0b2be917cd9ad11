"""Random-graph generators of the customer network, as edge lists.

Watts-Strogatz, Barabási-Albert, Erdős-Rényi and a stochastic block model with contiguous blocks
(the regions of :func:`region_of`). Each returns the endpoints ``u, v`` of its edges as int64
arrays, drawn with vectorized numpy from the ``numpy.random.Generator`` passed in (no Python loop
over nodes or edges), so a million-node network is drawn in a few seconds.

This module must never import the UI, the sweep layer or the rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.network.nodes import (
    IntArray,
    _check_n,
    _check_probability,
    _empty_edges,
    _other_node,
)

__all__ = [
    "DEFAULT_N_BLOCKS",
    "barabasi_albert_edges",
    "block_sizes_for",
    "erdos_renyi_edges",
    "region_of",
    "stochastic_block_edges",
    "watts_strogatz_edges",
]

#: Number of equal blocks used by ``build_adjacency("stochastic_block", ...)`` when no
#: ``block_sizes`` are given.
DEFAULT_N_BLOCKS = 4


def watts_strogatz_edges(
    n: int, k: int, p: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Edges of a Watts-Strogatz small-world graph.

    Start from a ring lattice in which every node is linked to its ``k // 2`` nearest neighbours
    on each side (an odd ``k`` is rounded down, as networkx does), then rewire the far end of each
    lattice edge, independently with probability ``p``, to a uniformly random node other than the
    near end. Rewired edges that duplicate another edge are dropped later by
    :meth:`Adjacency.from_edges`, so the edge count can fall a little below ``n * (k // 2)``.

    Parameters
    ----------
    n : int
        Number of nodes.
    k : int
        Number of lattice neighbours of each node, ``0 <= k < n``.
    p : float
        Rewiring probability, ``0 <= p <= 1``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the undirected edges, ``u != v``.

    Raises
    ------
    ValueError
        If ``k`` is negative or ``k >= n``, or ``p`` is outside ``[0, 1]``.

    Examples
    --------
    >>> u, v = watts_strogatz_edges(10, 4, 0.0, np.random.default_rng(0))
    >>> len(u)
    20
    """
    n = _check_n(n)
    k = _check_n(k, "k")
    p = _check_probability(p, "p")
    if k >= n and not (n == 0 and k == 0):
        raise ValueError(f"watts_strogatz needs k < n, got k={k}, n={n}")
    half = k // 2
    if half == 0:
        return _empty_edges()
    nodes = np.arange(n, dtype=np.int64)
    u = np.tile(nodes, half)
    offset = np.repeat(np.arange(1, half + 1, dtype=np.int64), n)
    v = u + offset
    v[v >= n] -= n
    if p > 0.0:
        rewired = np.flatnonzero(rng.random(u.size) < p)
        v[rewired] = _other_node(rng.integers(0, n - 1, size=rewired.size), u[rewired])
    return u, v


def barabasi_albert_edges(n: int, m: int, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """Edges of a Barabási-Albert preferential-attachment graph.

    Vectorized Bollobás-Riordan linearized chord diagram: a tree is grown on ``n * m``
    mini-nodes, mini-node ``t`` attaching to the endpoint at a uniformly chosen position of the
    endpoint list ``[src_0, tgt_0, src_1, tgt_1, ...]`` of the ``t`` earlier edges, i.e. to an
    earlier mini-node with probability proportional to its degree. An even position ``2e`` is
    the source of edge ``e`` (mini-node ``e``); an odd position ``2e + 1`` copies the target of
    edge ``e``, which is resolved by pointer jumping (a few vectorized rounds). Each run of ``m``
    consecutive mini-nodes is then contracted into one node. Self loops and multiple edges that
    the contraction creates are dropped here (self loops) and in :meth:`Adjacency.from_edges`
    (duplicates). The degree distribution has a power-law tail with exponent about 3 and the
    mean degree is close to ``2 m``.

    Parameters
    ----------
    n : int
        Number of nodes.
    m : int
        Edges added with each node, ``m >= 1``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the undirected edges, ``u != v`` (``u`` is the newer node).

    Raises
    ------
    ValueError
        If ``m < 1``.

    References
    ----------
    B. Bollobás and O. Riordan, "The diameter of a scale-free random graph",
    Combinatorica 24 (2004) 5-34.
    """
    n = _check_n(n)
    m = _check_n(m, "m")
    if m < 1:
        raise ValueError(f"barabasi_albert needs m >= 1, got {m}")
    total = n * m
    if n < 2:
        return _empty_edges()
    # Edge t (t >= 1) goes from mini-node t to the endpoint at position r_t in [0, 2t).
    t = np.arange(1, total, dtype=np.int64)
    position = (rng.random(total - 1) * (2 * t)).astype(np.int64)
    np.minimum(position, 2 * t - 1, out=position)  # guard against rounding at the upper end
    # pointer[e]: the target mini-node of edge e once resolved, else an earlier edge whose target
    # equals e's. Edge 0 is the seed self loop of mini-node 0.
    pointer = np.empty(total, dtype=np.int64)
    resolved = np.empty(total, dtype=bool)
    pointer[0] = 0
    resolved[0] = True
    pointer[1:] = position >> 1
    resolved[1:] = (position & 1) == 0
    pending = np.flatnonzero(~resolved)
    while pending.size:
        via = pointer[pending]
        pointer[pending] = pointer[via]
        resolved[pending] = resolved[via]
        pending = pending[~resolved[pending]]
    u = t // m
    v = pointer[1:] // m
    keep = u != v
    return u[keep], v[keep]


def _decode_pair_index(index: IntArray) -> tuple[IntArray, IntArray]:
    """Map ``index`` in ``0..N(N-1)/2-1`` to the pair ``(i, j)``, ``i < j``, in colex order."""
    j = np.floor((1.0 + np.sqrt(1.0 + 8.0 * index.astype(np.float64))) / 2.0).astype(np.int64)
    j -= (j * (j - 1)) // 2 > index
    j += (j * (j + 1)) // 2 <= index
    i = index - (j * (j - 1)) // 2
    return i, j


def erdos_renyi_edges(
    n: int, mean_degree: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Edges of an Erdős-Rényi random graph.

    The number of edges is ``M ~ Binomial(n (n-1) / 2, mean_degree / (n-1))`` (so the graph is
    distributed exactly as G(n, p) with ``p = mean_degree / (n-1)``), and the ``M`` edges are
    ``M`` distinct node pairs drawn uniformly.

    Parameters
    ----------
    n : int
        Number of nodes.
    mean_degree : float
        Expected mean degree, ``0 <= mean_degree <= n - 1``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the undirected edges, ``u < v``, no duplicates.

    Raises
    ------
    ValueError
        If ``mean_degree`` is negative or above ``n - 1``.
    """
    n = _check_n(n)
    mean_degree = float(mean_degree)
    if not 0.0 <= mean_degree <= max(n - 1, 0):
        raise ValueError(f"erdos_renyi needs 0 <= mean_degree <= n - 1, got {mean_degree}, n={n}")
    if n < 2 or mean_degree == 0.0:
        return _empty_edges()
    n_pairs = n * (n - 1) // 2
    n_edges = int(rng.binomial(n_pairs, mean_degree / (n - 1)))
    index = rng.choice(n_pairs, size=n_edges, replace=False).astype(np.int64)
    return _decode_pair_index(index)


def stochastic_block_edges(
    block_sizes: Any, k_in: float, k_out: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Edges of a stochastic block model with contiguous blocks.

    Block ``b`` holds the nodes ``start_b .. start_b + size_b - 1``, blocks in the given order
    (with equal sizes these are the regions of :func:`region_of`). Block ``b`` gets
    ``Poisson(size_b * k_in / 2)`` within-block edges between uniform pairs of its nodes, and the
    graph gets ``Poisson(n * k_out / 2)`` between-block edges, each from a uniform node to a
    uniform node outside that node's block. So each node has on average ``k_in`` neighbours in
    its own block and ``k_out`` outside it (exactly so for equal blocks, approximately for unequal
    ones), less the few duplicate pairs that :meth:`Adjacency.from_edges` drops.

    Parameters
    ----------
    block_sizes : sequence of int
        Size of each block; ``n = sum(block_sizes)``.
    k_in : float
        Mean number of neighbours within a node's block, at most ``min(size) - 1``.
    k_out : float
        Mean number of neighbours outside a node's block, at most ``n - max(size)``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the undirected edges, ``u != v``.

    Raises
    ------
    ValueError
        If a block size is negative, or ``k_in`` or ``k_out`` is negative or cannot be reached.
    """
    sizes = np.asarray(block_sizes, dtype=np.int64).ravel()
    if sizes.size == 0 or (sizes < 0).any():
        raise ValueError(f"block_sizes must be a non-empty list of sizes >= 0, got {block_sizes}")
    k_in = float(k_in)
    k_out = float(k_out)
    if k_in < 0 or k_out < 0:
        raise ValueError(f"k_in and k_out must be >= 0, got k_in={k_in}, k_out={k_out}")
    sizes_used = sizes[sizes > 0]
    n = int(sizes.sum())
    if n == 0:
        return _empty_edges()
    if k_in > 0 and k_in > sizes_used.min() - 1:
        raise ValueError(
            f"k_in={k_in} is more than a node of the smallest block (size {sizes_used.min()}) "
            "can have within its block"
        )
    if k_out > 0 and k_out > n - sizes_used.max():
        raise ValueError(
            f"k_out={k_out} is more than a node of the largest block (size {sizes_used.max()}) "
            f"can have outside it among n={n} nodes"
        )
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))

    # Within-block edges.
    n_within = rng.poisson(sizes * k_in / 2.0) if k_in > 0 else np.zeros(sizes.size, np.int64)
    n_within = np.where(sizes >= 2, n_within, 0)
    block = np.repeat(np.arange(sizes.size), n_within)
    size_e = sizes[block]
    a = rng.integers(0, size_e) if block.size else np.empty(0, dtype=np.int64)
    b = _other_node(rng.integers(0, size_e - 1), a) if block.size else a
    u_in = starts[block] + a
    v_in = starts[block] + b

    # Between-block edges: a uniform node, then a uniform node outside its block.
    n_between = int(rng.poisson(n * k_out / 2.0)) if k_out > 0 else 0
    u_out = rng.integers(0, n, size=n_between)
    block_u = np.searchsorted(np.cumsum(sizes), u_out, side="right")  # skips empty blocks
    r = rng.integers(0, n - sizes[block_u]) if n_between else np.empty(0, dtype=np.int64)
    v_out = np.where(r < starts[block_u], r, r + sizes[block_u])
    return (
        np.concatenate((u_in, u_out)).astype(np.int64),
        np.concatenate((v_in, v_out)).astype(np.int64),
    )


def region_of(n: int, n_regions: int) -> IntArray:
    """Region (community) of each node: contiguous blocks of near-equal size.

    Node ``i`` is in region ``(i * n_regions) // n``. These regions are the blocks of
    :func:`stochastic_block_edges` with ``block_sizes_for(n, n_regions)`` and arcs of the ring of
    :func:`watts_strogatz_edges`.

    Parameters
    ----------
    n : int
        Number of nodes.
    n_regions : int
        Number of regions, ``1 <= n_regions <= max(n, 1)``.

    Returns
    -------
    numpy.ndarray of int32
        Region index of each node, non-decreasing, shape ``(n,)``.

    Raises
    ------
    ValueError
        If ``n_regions`` is below 1 or more than ``n`` (a region would be empty).

    Examples
    --------
    >>> region_of(10, 3).tolist()
    [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    """
    n = _check_n(n)
    n_regions = _check_n(n_regions, "n_regions")
    if n_regions < 1 or (n > 0 and n_regions > n):
        raise ValueError(f"n_regions must be between 1 and n={n}, got {n_regions}")
    return ((np.arange(n, dtype=np.int64) * n_regions) // max(n, 1)).astype(np.int32)


def block_sizes_for(n: int, n_blocks: int) -> IntArray:
    """Sizes of the ``n_blocks`` contiguous regions of :func:`region_of`.

    Parameters
    ----------
    n : int
        Number of nodes.
    n_blocks : int
        Number of blocks, ``1 <= n_blocks <= max(n, 1)``.

    Returns
    -------
    numpy.ndarray of int64
        Block sizes summing to ``n``.

    Examples
    --------
    >>> block_sizes_for(10, 3).tolist()
    [4, 3, 3]
    """
    n = _check_n(n)
    n_blocks = _check_n(n_blocks, "n_blocks")
    if n_blocks < 1 or (n > 0 and n_blocks > n):
        raise ValueError(f"n_blocks must be between 1 and n={n}, got {n_blocks}")
    bounds = -((-np.arange(n_blocks + 1, dtype=np.int64) * n) // n_blocks)  # ceil(b * n / B)
    return np.diff(bounds)
