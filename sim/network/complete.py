"""The complete graph with the interface of :class:`~sim.network.adjacency.Adjacency`.

:class:`CompleteAdjacency` is the network of the Bass-model docking (everyone hears everyone): it
never stores its ``n(n-1)/2`` edges; a neighbour sum is a column total minus the node's own
value, and a message reaches a binomial number of distinct other nodes.

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
    _other_node,
    _sample_nodes,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["COMPLETE_MATERIALIZE_LIMIT", "CompleteAdjacency"]

#: Largest complete graph whose edges :class:`CompleteAdjacency` will materialize.
COMPLETE_MATERIALIZE_LIMIT = 5000


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
        return total - values[_as_nodes(rows, self.n, "rows")]

    def neighbour_counts(self, codes: Any, n_codes: int, rows: Any) -> FloatArray:
        """For each node in ``rows``, how many other nodes carry each code (see
        :meth:`Adjacency.neighbour_counts`)."""
        codes = np.asarray(codes)
        rows = _as_nodes(rows, self.n, "rows")
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
        senders = _as_nodes(senders, self.n, "senders")
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
        import networkx as nx

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
