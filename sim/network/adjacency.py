"""The customer network as a CSR adjacency: the two operations the step needs.

:class:`Adjacency` holds a simple undirected graph in compressed sparse rows and gives the step a
sum of neighbour values (:meth:`~Adjacency.neighbour_sum`), counts of neighbours per code
(:meth:`~Adjacency.neighbour_counts`) and a fan-out of messages to neighbours
(:meth:`~Adjacency.expand`), all vectorized (numpy and scipy.sparse). networkx is imported only by
:meth:`~Adjacency.to_networkx`.

This module must never import the UI, the sweep layer or the rules.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from sim.network.nodes import (
    FloatArray,
    IntArray,
    _as_nodes,
    _as_values,
    _check_n,
    _check_reach,
    _empty_edges,
    _sample_nodes,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Adjacency"]

_INT32_MAX = np.iinfo(np.int32).max


def _ragged_positions(starts: IntArray, counts: IntArray) -> IntArray:
    """Concatenate ``arange(starts[i], starts[i] + counts[i])`` for all i, without a loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    out_starts = np.cumsum(counts) - counts
    shift = np.asarray(starts, dtype=np.int64) - out_starts
    return np.arange(total, dtype=np.int64) + np.repeat(shift, counts)


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
        rows = _as_nodes(rows, self.n, "rows")
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
        rows = _as_nodes(rows, self.n, "rows")
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
        senders = _as_nodes(senders, self.n, "senders")
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
        import networkx as nx

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
