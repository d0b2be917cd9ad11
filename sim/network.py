"""Social networks of customers: graph generators, edge-list loading and CSR adjacency.

Customers are the nodes ``0..n-1`` of an undirected, unweighted social network. This module
builds that network, from a random-graph generator (Watts-Strogatz, Barabási-Albert,
Erdős-Rényi, stochastic block model, complete graph), from a user's edge-list file or from a
networkx graph, and holds it as an adjacency with the two operations the step needs: a sum of
neighbour values (``neighbour_sum``) and a fan-out of messages to neighbours (``expand``).

Everything is vectorized numpy/scipy (no Python loop over nodes or edges) so that a network of
a million customers is drawn in a few seconds; all randomness comes from the
``numpy.random.Generator`` passed in.

Two implementations share one interface: :class:`Adjacency` (CSR) for sparse graphs and
:class:`CompleteAdjacency` for the complete graph (Bass-model docking), which never stores its
``n(n-1)/2`` edges.

Layering: this module imports only numpy, scipy and networkx (and pandas, lazily, to parse large
edge-list files). It must never import the UI, sweep or rules layers.
"""

from __future__ import annotations

import gzip
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from collections.abc import Iterator

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

#: The network kinds understood by :func:`build_adjacency`.
NETWORK_KINDS: tuple[str, ...] = (
    "watts_strogatz",
    "barabasi_albert",
    "erdos_renyi",
    "stochastic_block",
    "complete",
    "edge_list",
    "networkx",
)

#: Largest complete graph whose edges :class:`CompleteAdjacency` will materialize.
COMPLETE_MATERIALIZE_LIMIT = 5000

#: Number of equal blocks used by ``build_adjacency("stochastic_block", ...)`` when no
#: ``block_sizes`` are given.
DEFAULT_N_BLOCKS = 4

_INT32_MAX = np.iinfo(np.int32).max

IntArray = np.ndarray
FloatArray = np.ndarray


class EdgeListError(ValueError):
    """An edge-list file that cannot be read; the message names the file and line."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _check_n(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return n


def _check_probability(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def _empty_edges() -> tuple[IntArray, IntArray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)


def _ragged_positions(starts: IntArray, counts: IntArray) -> IntArray:
    """Concatenate ``arange(starts[i], starts[i] + counts[i])`` for all i, without a loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    out_starts = np.cumsum(counts) - counts
    shift = np.asarray(starts, dtype=np.int64) - out_starts
    return np.arange(total, dtype=np.int64) + np.repeat(shift, counts)


def _other_node(draw: IntArray, sender: IntArray) -> IntArray:
    """Map a uniform draw in ``0..n-2`` to a uniform node in ``0..n-1`` other than ``sender``."""
    return draw + (draw >= sender)


# --------------------------------------------------------------------------------------------
# Edge generators
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Edge lists and networkx graphs
# --------------------------------------------------------------------------------------------

_BAD_LINE = "expected two node ids separated by whitespace or a comma"


def _open_text(path: str) -> Any:
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _data_lines(path: str, comma: bool) -> Iterator[tuple[int, str, list[str]]]:
    """Yield ``(line_number, stripped_text, fields)`` for each non-blank, non-comment line.

    A slow Python scan used only to explain a failure of the fast parser.
    """
    with _open_text(path) as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            fields = [f.strip() for f in text.split(",")] if comma else text.split()
            yield number, raw.strip(), fields


def _find_bad_line(path: str, comma: bool) -> tuple[int, str] | None:
    for number, text, fields in _data_lines(path, comma):
        if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
            return number, text
    return None


def _line_of_row(path: str, comma: bool, row: int) -> int:
    for index, (number, _text, _fields) in enumerate(_data_lines(path, comma)):
        if index == row:
            return number
    return 0  # unreachable for a row the fast parser produced


def _sniff_comma(path: str) -> bool:
    """Whether the first data line of the file separates its fields with commas."""
    with _open_text(path) as handle:
        for _, raw in zip(range(10_000), handle, strict=False):
            text = raw.split("#", 1)[0].strip()
            if text:
                return "," in text
    return False


def read_edge_list(
    path: str | os.PathLike[str], n: int | None = None, *, n_name: str = "n"
) -> tuple[IntArray, IntArray, int]:
    """Read an undirected edge list from a text file.

    One edge per line, ``u v`` or ``u,v`` (whitespace- or comma-separated, decided by the first
    data line); a third column such as a weight is allowed and ignored. ``#`` starts a comment;
    blank lines are skipped. A ``.gz`` file is decompressed. If every node id is a non-negative
    integer the ids are used directly; otherwise the ids are labels, numbered ``0..L-1`` in order
    of first appearance (reading each line left to right). Self loops and duplicate edges are
    returned as they are (:meth:`Adjacency.from_edges` drops them).

    The file is parsed by pandas' C parser; only when that fails is the file scanned line by line
    in Python to name the offending line.

    Parameters
    ----------
    path : str or os.PathLike
        The edge-list file.
    n : int, optional
        Number of nodes of the network. Integer ids must then be ``< n`` and labels at most
        ``n`` distinct; nodes that appear in no edge are isolated.
    n_name : str, default "n"
        How ``n`` is named in error messages, e.g. ``"market.customers"``.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the edges, in file order.
    n_nodes : int
        ``n`` if given, else the largest integer id plus one, or the number of labels.

    Raises
    ------
    EdgeListError
        With a one-line message ``path:line: what is wrong``: file not found, a line that is
        not two or three fields, an id out of range, more labels than ``n``, no edges.

    Examples
    --------
    A file with the lines ``0 1`` and ``1 2`` gives ``u = [0, 1]``, ``v = [1, 2]``,
    ``n_nodes = 3``; with the lines ``ann,bob`` and ``bob,cy`` it gives the same. Separators
    cannot be mixed: a ``1,2`` line in a whitespace-separated file is a bad line.
    """
    import pandas as pd

    where = os.fspath(path)
    if n is not None:
        n = _check_n(n)
    if not os.path.exists(where):
        raise EdgeListError(f"{where}: file not found")
    if os.path.isdir(where):
        raise EdgeListError(f"{where}: is a directory, not an edge-list file")
    comma = _sniff_comma(where)

    def parse(as_text: bool) -> Any:
        options: dict[str, Any] = {
            "sep": "," if comma else r"\s+",
            "header": None,
            "names": ["u", "v", "extra"],
            "index_col": False,
            "comment": "#",
            "skip_blank_lines": True,
            "skipinitialspace": True,
            "quoting": 3,  # csv.QUOTE_NONE: quotes are part of labels
            "engine": "c",
            "encoding_errors": "replace",
        }
        if as_text:
            options |= {
                "dtype": {"u": str, "v": str},
                "keep_default_na": False,
                "na_values": {"u": [""], "v": [""]},
            }
        try:
            return pd.read_csv(where, **options)
        except pd.errors.EmptyDataError:
            raise EdgeListError(f"{where}: no edges") from None
        except (pd.errors.ParserError, ValueError, OverflowError) as error:
            bad = _find_bad_line(where, comma)
            if bad is not None:
                raise EdgeListError(f"{where}:{bad[0]}: {_BAD_LINE}, got {bad[1]!r}") from None
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise EdgeListError(f"{where}: cannot parse edge list ({first_line})") from None

    def bad_line_error() -> EdgeListError:
        bad = _find_bad_line(where, comma)
        if bad is not None:
            return EdgeListError(f"{where}:{bad[0]}: {_BAD_LINE}, got {bad[1]!r}")
        return EdgeListError(f"{where}: {_BAD_LINE}")

    frame = parse(as_text=False)
    if len(frame) == 0:
        raise EdgeListError(f"{where}: no edges")
    col_u, col_v = frame["u"], frame["v"]
    integer_ids = (
        col_u.dtype.kind == "i"
        and col_v.dtype.kind == "i"
        and int(col_u.min()) >= 0
        and int(col_v.min()) >= 0
    )
    if not integer_ids:
        # Labels. The first parse holds them as read unless a column was typed (ints, floats)
        # or a label looked like a missing value ("NA", "null"): then read them again as text.
        as_read = col_u.dtype == object and col_v.dtype == object
        if not as_read or col_u.isna().any() or col_v.isna().any():
            frame = parse(as_text=True)
            col_u, col_v = frame["u"], frame["v"]
            if col_u.isna().any() or col_v.isna().any():
                raise bad_line_error()
        if comma:  # the parser strips leading blanks of a field, not trailing ones
            col_u = col_u.str.strip()
            col_v = col_v.str.strip()
            if (col_u == "").any() or (col_v == "").any():
                raise bad_line_error()
        labels = np.column_stack((col_u.to_numpy(), col_v.to_numpy())).ravel()
        codes, uniques = pd.factorize(labels)
        codes = codes.astype(np.int64).reshape(-1, 2)
        n_labels = len(uniques)
        if n is not None and n_labels > n:
            first = int(np.flatnonzero(codes.ravel() == n)[0])
            line = _line_of_row(where, comma, first // 2)
            raise EdgeListError(
                f"{where}:{line}: node {uniques[n]!r} is distinct node label number {n + 1}, "
                f"more than the {n} nodes of the network ({n_name} = {n})"
            )
        return codes[:, 0].copy(), codes[:, 1].copy(), n if n is not None else n_labels

    u = col_u.to_numpy(dtype=np.int64)
    v = col_v.to_numpy(dtype=np.int64)
    largest = int(max(u.max(), v.max()))
    if n is not None and largest >= n:
        row = int(np.flatnonzero((u >= n) | (v >= n))[0])
        node = int(u[row]) if u[row] >= n else int(v[row])
        line = _line_of_row(where, comma, row)
        raise EdgeListError(
            f"{where}:{line}: node id {node} is outside 0..{n - 1} ({n_name} = {n})"
        )
    return u, v, n if n is not None else largest + 1


def edges_from_networkx(graph: nx.Graph) -> tuple[IntArray, IntArray, int]:
    """Edges of a networkx graph, its nodes relabelled ``0..n-1`` in the graph's node order.

    Directed graphs are taken as undirected, multigraphs as simple graphs (both by
    :meth:`Adjacency.from_edges`, which symmetrizes and dedupes). This walks networkx's Python
    dicts, so it costs what networkx itself costs per edge; for large networks prefer the
    generators here or an edge-list file.

    Parameters
    ----------
    graph : networkx.Graph
        Any networkx graph (``Graph``, ``DiGraph``, ``MultiGraph``, ``MultiDiGraph``), any
        hashable node labels.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the edges (as networkx lists them; may include self loops).
    n_nodes : int
        Number of nodes of ``graph``.

    Examples
    --------
    >>> u, v, n = edges_from_networkx(nx.path_graph(["a", "b", "c"]))
    >>> u.tolist(), v.tolist(), n
    ([0, 1], [1, 2], 3)
    """
    import itertools

    import pandas as pd

    n_nodes = graph.number_of_nodes()
    n_edges = graph.number_of_edges()
    if n_edges == 0:
        u, v = _empty_edges()
        return u, v, n_nodes
    endpoints_iter = itertools.chain.from_iterable(graph.edges())
    nodes_iter = iter(graph)
    try:
        nodes = np.fromiter(nodes_iter, dtype=np.int64, count=n_nodes)
        integer_nodes = bool((nodes == np.arange(n_nodes)).all())
    except (TypeError, ValueError, OverflowError):
        integer_nodes = False
    if integer_nodes:
        endpoints = np.fromiter(endpoints_iter, dtype=np.int64, count=2 * n_edges)
    else:
        node_labels = np.empty(n_nodes, dtype=object)
        node_labels[:] = list(graph)
        edge_labels = np.empty(2 * n_edges, dtype=object)
        edge_labels[:] = list(endpoints_iter)
        index = pd.Index(node_labels, tupleize_cols=False, dtype=object)
        endpoints = index.get_indexer(edge_labels).astype(np.int64)
    endpoints = endpoints.reshape(-1, 2)
    return endpoints[:, 0].copy(), endpoints[:, 1].copy(), n_nodes


# --------------------------------------------------------------------------------------------
# Adjacency
# --------------------------------------------------------------------------------------------


def _as_values(values: Any, n: int) -> FloatArray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[0] != n:
        raise ValueError(f"values must have shape (n,) or (n, c) with n={n}, got {values.shape}")
    return values


def _as_rows(rows: Any, n: int) -> IntArray:
    rows = np.asarray(rows)
    if rows.dtype.kind == "b":
        raise TypeError("rows must be an array of node indices, not a boolean mask")
    rows = rows.astype(np.int64, copy=False).ravel()
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise IndexError(f"rows must be node indices in 0..{n - 1}")
    return rows


def _as_senders(senders: Any, n: int) -> IntArray:
    senders = np.asarray(senders)
    if senders.dtype.kind == "b":
        raise TypeError("senders must be an array of node indices, not a boolean mask")
    senders = senders.astype(np.int64, copy=False).ravel()
    if senders.size and (senders.min() < 0 or senders.max() >= n):
        raise IndexError(f"senders must be node indices in 0..{n - 1}")
    return senders


def _check_reach(reach: float) -> float:
    reach = float(reach)
    if not reach >= 0.0:  # also rejects NaN
        raise ValueError(f"reach must be >= 0, got {reach}")
    return reach


class Adjacency:
    """Symmetric, unweighted adjacency of a simple undirected graph in CSR form.

    Row ``i`` of the CSR structure lists the neighbours of node ``i`` in increasing order:
    ``indices[indptr[i]:indptr[i + 1]]``. There are no self loops and no duplicate edges.
    Build one with :meth:`from_edges`; the arrays must not be modified afterwards.

    Parameters
    ----------
    indptr : numpy.ndarray
        CSR row pointer, shape ``(n + 1,)``.
    indices : numpy.ndarray
        CSR column indices, shape ``(indptr[-1],)``, symmetric, sorted within rows.

    Attributes
    ----------
    n : int
        Number of nodes.
    indptr, indices : numpy.ndarray
        The CSR structure (int32 when it fits, else int64).
    """

    def __init__(self, indptr: IntArray, indices: IntArray) -> None:
        indptr = np.asarray(indptr)
        indices = np.asarray(indices)
        if indptr.ndim != 1 or indptr.size < 1 or indices.ndim != 1:
            raise ValueError("indptr and indices must be one-dimensional, indptr non-empty")
        if int(indptr[-1]) != indices.size:
            raise ValueError(f"indptr[-1]={int(indptr[-1])} but there are {indices.size} indices")
        self.n: int = int(indptr.size - 1)
        self.indptr: IntArray = indptr
        self.indices: IntArray = indices

    @classmethod
    def from_edges(cls, u: Any, v: Any, n: int) -> Adjacency:
        """Build the adjacency of an undirected graph from its edge list.

        Each edge may be given once or in both directions, any number of times; duplicates and
        self loops are dropped.

        Parameters
        ----------
        u, v : array_like of int
            Endpoints of the edges, same length, each in ``0..n-1``.
        n : int
            Number of nodes (nodes in no edge are isolated).

        Returns
        -------
        Adjacency

        Raises
        ------
        ValueError
            If ``u`` and ``v`` differ in length or an endpoint is outside ``0..n-1``.

        Examples
        --------
        >>> adj = Adjacency.from_edges([0, 1, 1, 2], [1, 0, 1, 0], 4)
        >>> adj.n_edges, adj.degree.tolist()
        (2, [2, 1, 1, 0])
        """
        n = _check_n(n)
        u = np.asarray(u).ravel()
        v = np.asarray(v).ravel()
        if u.shape != v.shape:
            raise ValueError(f"u and v must have the same length, got {u.size} and {v.size}")
        if u.size and (min(int(u.min()), int(v.min())) < 0 or max(int(u.max()), int(v.max())) >= n):
            raise ValueError(f"edge endpoints must be node indices in 0..{n - 1}")
        index_dtype = np.int32 if max(n, 2 * u.size) <= _INT32_MAX else np.int64
        keep = u != v
        if not keep.all():
            u, v = u[keep], v[keep]
        u = u.astype(index_dtype, copy=False)
        v = v.astype(index_dtype, copy=False)
        rows = np.concatenate((u, v))
        cols = np.concatenate((v, u))
        del u, v
        ones = np.ones(rows.size, dtype=np.float32)
        coo = sp.coo_array((ones, (rows, cols)), shape=(n, n))
        del rows, cols, ones
        csr = coo.tocsr()  # sums duplicates; result has sorted indices
        del coo
        csr.sum_duplicates()
        indptr = csr.indptr
        indices = csr.indices
        if indptr.dtype != index_dtype and int(indptr[-1]) <= _INT32_MAX:
            indptr = indptr.astype(index_dtype)
            indices = indices.astype(index_dtype)
        adjacency = cls(indptr, indices)
        csr.data[:] = 1.0
        if csr.indptr is indptr:
            adjacency.__dict__["matrix"] = csr
        return adjacency

    def __repr__(self) -> str:
        return f"Adjacency(n={self.n}, n_edges={self.n_edges})"

    @cached_property
    def degree(self) -> IntArray:
        """Number of neighbours of each node, int64, shape ``(n,)``."""
        return np.diff(self.indptr).astype(np.int64)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.indptr[-1]) // 2

    @cached_property
    def matrix(self) -> sp.csr_array:
        """The adjacency as a scipy ``csr_array`` of float32 ones (shares ``indices``)."""
        data = np.ones(self.indices.size, dtype=np.float32)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n), copy=False)

    @cached_property
    def _matrix64(self) -> sp.csr_array:
        # float64 twin of ``matrix`` for products with float64 values (scipy would otherwise
        # cast the float32 data on every product).
        data = np.ones(self.indices.size, dtype=np.float64)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n), copy=False)

    def neighbour_sum(self, values: Any, rows: Any = None) -> FloatArray:
        """Sum of ``values`` over the neighbours of each node (or of each node in ``rows``).

        Parameters
        ----------
        values : array_like, shape (n,) or (n, c)
            A value (or ``c`` values) per node.
        rows : array_like of int, optional
            Only these nodes (may repeat); default all nodes.

        Returns
        -------
        numpy.ndarray of float64
            Shape ``(len(rows),)`` or ``(len(rows), c)`` (``n`` in place of ``len(rows)`` when
            ``rows`` is None). A node with no neighbours gets 0.

        Examples
        --------
        >>> adj = Adjacency.from_edges([0, 1], [1, 2], 3)
        >>> adj.neighbour_sum([1.0, 10.0, 100.0]).tolist()
        [10.0, 101.0, 10.0]
        """
        values = _as_values(values, self.n)
        if rows is None:
            return np.asarray(self._matrix64 @ values, dtype=np.float64)
        rows = _as_rows(rows, self.n)
        return np.asarray(self._matrix64[rows] @ values, dtype=np.float64)

    def neighbour_counts(self, codes: Any, n_codes: int, rows: Any) -> FloatArray:
        """For each node in ``rows``, how many of its neighbours carry each code.

        Parameters
        ----------
        codes : array_like of int, shape (n,)
            A code per node in ``0..n_codes-1``, or -1 for none.
        n_codes : int
            Number of codes.
        rows : array_like of int
            The nodes to count for.

        Returns
        -------
        numpy.ndarray of float64, shape ``(n_codes, len(rows))``
            Whole numbers: one row per code.

        Examples
        --------
        >>> adj = Adjacency.from_edges([0, 0, 1], [1, 2, 2], 3)
        >>> adj.neighbour_counts([0, 1, -1], 2, [0, 2]).tolist()
        [[0.0, 1.0], [1.0, 1.0]]
        """
        codes = np.asarray(codes)
        rows = _as_rows(rows, self.n)
        out = np.empty((n_codes, rows.size))
        if rows.size == 0 or n_codes == 0:
            return out
        if rows.size * 16 < self.n:  # few rows: gather their neighbours' codes directly
            degree = self.degree[rows]
            code = np.take(codes, self.indices[_ragged_positions(self.indptr[rows], degree)])
            owner = np.repeat(np.arange(rows.size, dtype=np.int64), degree)
            ok = code >= 0
            counts = np.bincount(owner[ok] * n_codes + code[ok], minlength=rows.size * n_codes)
            out[...] = counts.reshape(rows.size, n_codes).T
            return out
        bits = max(1, int(self.degree[rows].max()).bit_length())  # a count fits in ``bits``
        if n_codes * bits <= 52:
            # one product for all codes: code c counts 2 ** (bits * c), exact in the float type
            ft = np.float32 if n_codes * bits <= 24 else np.float64
            sub = (self.matrix if ft == np.float32 else self._matrix64)[rows]
            weight = np.zeros(n_codes + 1, ft)  # code -1 (the last entry) counts 0
            weight[:n_codes] = np.ldexp(1.0, bits * np.arange(n_codes))
            total = (sub @ np.take(weight, codes)).astype(np.int64)
            for c in range(n_codes):
                out[c] = (total >> (bits * c)) & ((1 << bits) - 1)
            return out
        sub = self._matrix64[rows]
        for c in range(n_codes):
            out[c] = sub @ (codes == c).astype(np.float64)
        return out

    def expand(
        self, senders: Any, reach: float, rng: np.random.Generator | None = None
    ) -> tuple[IntArray, IntArray]:
        """Fan messages out from senders to their neighbours.

        Every sender position ``i`` sends to every neighbour ``j`` of ``senders[i]``, each
        delivery kept independently with probability ``reach``.

        Parameters
        ----------
        senders : array_like of int
            Sending nodes; a node may appear several times (several messages).
        reach : float
            Probability that a message reaches a given neighbour; ``>= 1`` delivers to all
            neighbours without drawing random numbers.
        rng : numpy.random.Generator, optional
            Source of randomness, needed when ``reach < 1``.

        Returns
        -------
        message : numpy.ndarray of int64
            Position in ``senders`` of each delivery (non-decreasing).
        receiver : numpy.ndarray of int64
            Receiving node of each delivery.

        Examples
        --------
        >>> adj = Adjacency.from_edges([0, 0], [1, 2], 3)
        >>> message, receiver = adj.expand([2, 0], 1.0)
        >>> message.tolist(), receiver.tolist()
        ([0, 1, 1], [0, 1, 2])
        """
        senders = _as_senders(senders, self.n)
        reach = _check_reach(reach)
        if reach == 0.0 or senders.size == 0:
            return _empty_edges()
        counts = self.degree[senders]
        if reach >= 1.0:
            positions = _ragged_positions(self.indptr[senders], counts)
            message = np.repeat(np.arange(senders.size, dtype=np.int64), counts)
            return message, self.indices[positions].astype(np.int64)
        if rng is None:
            raise ValueError("expand needs an rng when reach < 1")
        # One draw per (message, neighbour) in fan-out order, as if every delivery were listed;
        # only the kept ones are turned into (message, receiver) pairs.
        kept = np.flatnonzero(rng.random(int(counts.sum())) < reach)
        message = np.repeat(np.arange(senders.size, dtype=np.int64), counts)[kept]
        offset = kept - (np.cumsum(counts) - counts)[message]  # position within the sender's row
        receiver = self.indices[self.indptr[senders[message]] + offset].astype(np.int64)
        return message, receiver

    def to_networkx(self) -> nx.Graph:
        """The graph as a ``networkx.Graph`` with nodes ``0..n-1`` (isolated nodes included).

        Returns
        -------
        networkx.Graph
            Unweighted; edges carry no attributes.
        """
        row = np.repeat(np.arange(self.n, dtype=np.int64), self.degree)
        col = self.indices.astype(np.int64)
        upper = row < col
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        graph.add_edges_from(zip(row[upper].tolist(), col[upper].tolist(), strict=True))
        return graph

    def sample_nodes(self, k: int, rng: np.random.Generator) -> IntArray:
        """A uniform sample of ``min(k, n)`` distinct nodes, sorted, e.g. for drawing.

        Parameters
        ----------
        k : int
            Sample size.
        rng : numpy.random.Generator
            Source of randomness.

        Returns
        -------
        numpy.ndarray of int64
        """
        return _sample_nodes(self.n, k, rng)


def _sample_nodes(n: int, k: int, rng: np.random.Generator) -> IntArray:
    k = _check_n(k, "k")
    if k >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)


def _distinct_draws(counts: IntArray, population: int, rng: np.random.Generator) -> IntArray:
    """For each i, ``counts[i]`` distinct uniform draws from ``0..population-1``, concatenated.

    Each row of draws is a uniformly random subset (in random order for the dense case, sorted
    for the sparse one). Rows of iid draws are redrawn until they hold no repeat (rejection
    sampling, exact) when repeats are rare; otherwise each row takes the ``counts[i]`` smallest
    of ``population`` random keys.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0 or int(counts.max(initial=0)) == 0:
        return np.empty(0, dtype=np.int64)
    width = int(counts.max())
    valid = np.arange(width) < counts[:, None]
    if width * width <= population // 2:
        # Sparse: a row of iid draws repeats a value with probability <= 1/4; redraw such rows.
        draws = rng.integers(0, population, size=(counts.size, width))
        sentinel = population + np.arange(width)  # distinct values above any draw
        pending = np.flatnonzero(counts >= 2)
        while pending.size:
            rows = np.where(valid[pending], draws[pending], sentinel)
            rows.sort(axis=1)
            repeated = (rows[:, 1:] == rows[:, :-1]).any(axis=1)
            pending = pending[repeated]
            draws[pending] = rng.integers(0, population, size=(pending.size, width))
        return draws[valid]
    # Dense: random keys over the whole population, a bounded block of rows at a time.
    block = max(1, 4_000_000 // population)
    parts = []
    for start in range(0, counts.size, block):
        keys = rng.random((min(block, counts.size - start), population))
        smallest = np.argsort(keys, axis=1)[:, :width]
        parts.append(smallest[valid[start : start + block]])
    return np.concatenate(parts).astype(np.int64)


class CompleteAdjacency:
    """The complete graph on ``n`` nodes, with the interface of :class:`Adjacency`.

    No edge is stored: ``neighbour_sum`` is the column total minus the node's own value.
    ``indptr``, ``indices`` and ``matrix`` are built on demand and only for
    ``n <= COMPLETE_MATERIALIZE_LIMIT``.

    Parameters
    ----------
    n : int
        Number of nodes.

    Attributes
    ----------
    n : int
        Number of nodes.
    """

    def __init__(self, n: int) -> None:
        self.n: int = _check_n(n)

    def __repr__(self) -> str:
        return f"CompleteAdjacency(n={self.n})"

    @cached_property
    def degree(self) -> IntArray:
        """``n - 1`` for every node, int64, shape ``(n,)``."""
        return np.full(self.n, max(self.n - 1, 0), dtype=np.int64)

    @property
    def n_edges(self) -> int:
        """``n (n - 1) / 2``."""
        return self.n * (self.n - 1) // 2

    def _check_small(self, what: str) -> None:
        if self.n > COMPLETE_MATERIALIZE_LIMIT:
            raise ValueError(
                f"CompleteAdjacency.{what} is only built for n <= {COMPLETE_MATERIALIZE_LIMIT}: "
                f"a complete graph on n={self.n} nodes has {self.n_edges} edges"
            )

    @cached_property
    def indices(self) -> IntArray:
        """CSR column indices (``n <= COMPLETE_MATERIALIZE_LIMIT`` only)."""
        self._check_small("indices")
        n = self.n
        if n < 2:
            return np.empty(0, dtype=np.int32)
        others = np.broadcast_to(np.arange(n - 1, dtype=np.int32), (n, n - 1))
        return _other_node(others, np.arange(n, dtype=np.int32)[:, None]).astype(np.int32).ravel()

    @cached_property
    def indptr(self) -> IntArray:
        """CSR row pointer (``n <= COMPLETE_MATERIALIZE_LIMIT`` only)."""
        self._check_small("indptr")
        return (np.arange(self.n + 1, dtype=np.int32) * max(self.n - 1, 0)).astype(np.int32)

    @cached_property
    def matrix(self) -> sp.csr_array:
        """scipy ``csr_array`` of float32 ones (``n <= COMPLETE_MATERIALIZE_LIMIT`` only)."""
        self._check_small("matrix")
        data = np.ones(self.indices.size, dtype=np.float32)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    def neighbour_sum(self, values: Any, rows: Any = None) -> FloatArray:
        """Sum of ``values`` over all other nodes: column total minus the node's own value.

        Parameters
        ----------
        values : array_like, shape (n,) or (n, c)
            A value (or ``c`` values) per node.
        rows : array_like of int, optional
            Only these nodes (may repeat); default all nodes.

        Returns
        -------
        numpy.ndarray of float64
            Shape ``(len(rows),)`` or ``(len(rows), c)`` (``n`` when ``rows`` is None).
        """
        values = _as_values(values, self.n)
        total = values.sum(axis=0)
        if rows is None:
            return total - values
        return total - values[_as_rows(rows, self.n)]

    def neighbour_counts(self, codes: Any, n_codes: int, rows: Any) -> FloatArray:
        """For each node in ``rows``, how many other nodes carry each code (see
        :meth:`Adjacency.neighbour_counts`)."""
        codes = np.asarray(codes)
        rows = _as_rows(rows, self.n)
        total = np.bincount(codes[codes >= 0], minlength=n_codes).astype(np.float64)
        out = np.repeat(total[:, None], rows.size, axis=1)
        own = codes[rows]
        mine = np.flatnonzero(own >= 0)
        out[own[mine], mine] -= 1.0
        return out

    def expand(
        self,
        senders: Any,
        reach: float,
        rng: np.random.Generator | None = None,
        max_receivers: int | None = 50,
    ) -> tuple[IntArray, IntArray]:
        """Fan messages out from senders to other nodes of the complete graph.

        Sender position ``i`` reaches ``min(Binomial(n - 1, reach), max_receivers)`` distinct
        other nodes drawn uniformly (all ``min(n - 1, max_receivers)`` when ``reach >= 1``). The
        cap exists because a complete graph at large ``n`` cannot deliver every message to
        everyone: with ``max_receivers=None`` a message at ``reach`` 1 goes to all ``n - 1``
        others, which is only affordable for small ``n``.

        Parameters
        ----------
        senders : array_like of int
            Sending nodes; a node may appear several times.
        reach : float
            Probability that a message reaches a given other node.
        rng : numpy.random.Generator, optional
            Source of randomness (needed unless every sender reaches all others).
        max_receivers : int or None, default 50
            Most receivers per message; None for no cap.

        Returns
        -------
        message : numpy.ndarray of int64
            Position in ``senders`` of each delivery (non-decreasing).
        receiver : numpy.ndarray of int64
            Receiving node of each delivery (never the sender itself).
        """
        senders = _as_senders(senders, self.n)
        reach = _check_reach(reach)
        if max_receivers is not None and max_receivers < 0:
            raise ValueError(f"max_receivers must be >= 0 or None, got {max_receivers}")
        population = self.n - 1
        if reach == 0.0 or senders.size == 0 or population <= 0:
            return _empty_edges()
        cap = population if max_receivers is None else min(int(max_receivers), population)
        if reach >= 1.0:
            counts = np.full(senders.size, cap, dtype=np.int64)
        else:
            if rng is None:
                raise ValueError("expand needs an rng when reach < 1")
            counts = np.minimum(rng.binomial(population, reach, size=senders.size), cap)
        message = np.repeat(np.arange(senders.size, dtype=np.int64), counts)
        if cap == population and (counts == population).all():
            draws = np.tile(np.arange(population, dtype=np.int64), senders.size)
        else:
            if rng is None:
                raise ValueError("expand needs an rng unless every sender reaches all others")
            draws = _distinct_draws(counts, population, rng)
        return message, _other_node(draws, senders[message])

    def to_networkx(self) -> nx.Graph:
        """``networkx.complete_graph(n)`` (``n <= COMPLETE_MATERIALIZE_LIMIT`` only).

        Raises
        ------
        ValueError
            For larger ``n``: the graph would hold ``n (n - 1) / 2`` Python edge objects.
        """
        self._check_small("to_networkx()")
        return nx.complete_graph(self.n)

    def sample_nodes(self, k: int, rng: np.random.Generator) -> IntArray:
        """A uniform sample of ``min(k, n)`` distinct nodes, sorted, e.g. for drawing.

        Parameters
        ----------
        k : int
            Sample size.
        rng : numpy.random.Generator
            Source of randomness.

        Returns
        -------
        numpy.ndarray of int64
        """
        return _sample_nodes(self.n, k, rng)


#: Either adjacency implementation.
AdjacencyLike = Adjacency | CompleteAdjacency


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------


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
