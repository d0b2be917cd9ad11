"""Node ids and index arrays shared by the network modules (package-internal).

Checks of node counts, of node-index arguments and of probabilities; the empty edge list;
uniform draws of "another node" and of node samples. Everything is vectorized numpy.

It imports only numpy: the other network modules build on it, never the reverse.
"""

from __future__ import annotations

from typing import Any

import numpy as np

IntArray = np.ndarray
FloatArray = np.ndarray


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


def _other_node(draw: IntArray, sender: IntArray) -> IntArray:
    """Map a uniform draw in ``0..n-2`` to a uniform node in ``0..n-1`` other than ``sender``."""
    return draw + (draw >= sender)


def _as_values(values: Any, n: int) -> FloatArray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[0] != n:
        raise ValueError(f"values must have shape (n,) or (n, c) with n={n}, got {values.shape}")
    return values


def _as_nodes(nodes: Any, n: int, name: str) -> IntArray:
    """``nodes`` as a flat int64 array of node indices in ``0..n-1`` (``name`` for messages)."""
    nodes = np.asarray(nodes)
    if nodes.dtype.kind == "b":
        raise TypeError(f"{name} must be an array of node indices, not a boolean mask")
    nodes = nodes.astype(np.int64, copy=False).ravel()
    if nodes.size and (nodes.min() < 0 or nodes.max() >= n):
        raise IndexError(f"{name} must be node indices in 0..{n - 1}")
    return nodes


def _check_reach(reach: float) -> float:
    reach = float(reach)
    if not reach >= 0.0:  # also rejects NaN
        raise ValueError(f"reach must be >= 0, got {reach}")
    return reach


def _sample_nodes(n: int, k: int, rng: np.random.Generator) -> IntArray:
    k = _check_n(k, "k")
    if k >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)
