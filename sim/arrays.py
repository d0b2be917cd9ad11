"""Array and random-draw helpers of the step: row gathers and scatters, chunks, draws.

- ``take_rows`` / ``put_rows``: numpy's fancy indexing on a 2-D array (``a[idx]``,
  ``a[idx] = v``) is several times slower than ``np.take`` and ``np.put`` on the same rows
  (measured at 1M x 4 floats: 23 ms vs 3 ms to gather, 10-20 ms vs 3.4 ms to scatter).
- ``chunks``: the step draws its random numbers and runs its kernels on blocks of ``CHUNK``
  customers (parallel tasks of the kernels). The block size is a constant: results never depend
  on the machine or the number of threads.
- ``Blocks`` and ``Pool``: buffers kept from step to step (a fresh array costs page faults).

This module must never import anything from the package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "CHUNK",
    "Blocks",
    "Pool",
    "chunks",
    "count",
    "firm_table",
    "put_rows",
    "take_rows",
]

CHUNK = 16384
"""Rows per block of the step's block loops (a [CHUNK, 4] float32 block is 256 KiB)."""

Rows = slice | np.ndarray
"""A block of customers: a slice of the slab or an array of customer indices."""


class Blocks:
    """Reusable ``[CHUNK]`` and ``[CHUNK, k]`` arrays for the temporaries of the step's block loops.

    Allocating a fresh 100 KB temporary for every operation of every block makes the allocator
    hand memory back to the system and fault it in again; a rule instead asks for its blocks by
    name once per phase and computes into them with ``out=``.
    """

    def __init__(self) -> None:
        self._pool: dict[tuple[str, tuple[int, ...], str], np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A reusable array called ``name`` of exactly ``shape`` (contents left over)."""
        key = (name, tuple(shape), np.dtype(dtype).str)
        a = self._pool.get(key)
        if a is None:
            a = self._pool[key] = np.empty(shape, dtype)
        return a

    def __call__(
        self, name: str, width: int = 0, dtype: Any = np.float32, leading: int = 0
    ) -> np.ndarray:
        """The block called ``name``: ``[CHUNK]`` (``width`` 0) or ``[CHUNK, width]``, or
        ``[leading, CHUNK]`` (one contiguous row per quantity) when ``leading`` is given."""
        shape = (leading, CHUNK) if leading else (CHUNK, width) if width else (CHUNK,)
        key = (name, shape, np.dtype(dtype).str)
        a = self._pool.get(key)
        if a is None:
            a = self._pool[key] = np.empty(shape, dtype)
        return a


class Pool:
    """Flat arrays for the compiled kernels' temporaries, kept from step to step and grown when
    too small: in a fresh array every 4 KiB page costs a page fault when first written (about
    3 us on the project's machine, as much as the kernels' work at a million customers).
    ``notes`` keeps values derived once per model (e.g. the network's largest degree)."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self.notes: dict[str, Any] = {}

    def __call__(
        self, name: str, size: int, dtype: Any, fill: np.ndarray | None = None
    ) -> np.ndarray:
        """The first ``size`` items of the array called ``name`` (of type ``dtype``). A new
        array is zero, or ``fill`` repeated (``size`` must then be a multiple of its length)."""
        a = self._arrays.get(name)
        if a is None or a.size < size or a.dtype != dtype:
            period = 1 if fill is None else len(fill)
            capacity = -(-(size + size // 4 + 1024) // period) * period
            if fill is None:
                a = np.zeros(capacity, dtype)
            else:
                a = np.tile(np.asarray(fill, dtype), capacity // period)
            self._arrays[name] = a
        return a[:size]


def take_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]`` (a new array) for 1-D or 2-D ``a``, via ``np.take``."""
    return np.take(a, rows, axis=0)


def put_rows(a: np.ndarray, rows: np.ndarray, values: np.ndarray | float) -> None:
    """``a[rows] = values`` in place, for 1-D or C-contiguous 2-D ``a``.

    A 2-D array is viewed as one opaque item per row so that ``np.put`` copies whole rows.
    Scalars and arrays that are not one row per index fall back to fancy assignment.
    """
    if a.ndim == 1 or np.isscalar(values):
        a[rows] = values
        return
    values = np.asarray(values, dtype=a.dtype)
    if values.shape != (len(rows), *a.shape[1:]) or not a.flags.c_contiguous:
        a[rows] = values
        return
    row = np.dtype((np.void, a.dtype.itemsize * int(np.prod(a.shape[1:]))))
    np.put(
        a.view(row).reshape(len(a)), rows, np.ascontiguousarray(values).view(row).reshape(len(rows))
    )


def firm_table(values: Any, fill: Any, dtype: Any = None) -> np.ndarray:
    """``values`` (``[F]`` or ``[F, ...]``) with one more row holding ``fill``.

    ``np.take(table, supplier, axis=0)`` then gives each customer its firm's row, and ``fill``
    to a customer without a firm (``supplier`` -1 picks the last row).
    """
    values = np.asarray(values)
    extra = np.full((1, *values.shape[1:]), fill, dtype=values.dtype)
    table = np.concatenate([values, extra])
    return table if dtype is None else table.astype(dtype)


def chunks(n: int, size: int | None = None) -> Iterator[slice]:
    """Consecutive slices of ``range(n)`` of at most ``size`` (default ``CHUNK``) rows."""
    size = CHUNK if size is None else size
    for lo in range(0, n, size):
        yield slice(lo, min(n, lo + size))


def count(rows: Rows) -> int:
    """Number of customers in a block."""
    if isinstance(rows, slice):
        return rows.stop - rows.start
    return len(rows)
