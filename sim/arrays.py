"""Array and random-draw helpers of the step: row gathers and scatters, chunks, draws.

- ``take_rows`` / ``put_rows``: numpy's fancy indexing on a 2-D array (``a[idx]``,
  ``a[idx] = v``) is several times slower than ``np.take`` and ``np.put`` on the same rows
  (measured at 1M x 4 floats: 23 ms vs 3 ms to gather, 10-20 ms vs 3.4 ms to scatter).
- ``chunks``: the step draws its random numbers and runs its kernels on blocks of ``CHUNK``
  customers (parallel tasks of the kernels). The block size is a constant: results never depend
  on the machine or the number of threads.
- ``Blocks`` and ``Pool``: buffers kept from step to step (a fresh array costs page faults).
- ``GeneratorSource``: every random number of the step, drawn from the model's numpy Generator.
  The rules ask it for draws *by purpose, industry and rows* (``uniform("churn", m, rows)``); the
  production source ignores the labels, but a test can inject a source that derives each draw
  from them, so that two implementations of the rules that visit customers in different orders
  see the same numbers (``cxsim_reference`` in tests/reference).

This module must never import anything from the package.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "CHUNK",
    "Blocks",
    "GeneratorSource",
    "Pool",
    "box_muller",
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


_TWO_PI = np.float32(2.0 * np.pi)


def box_muller(
    rng: np.random.Generator,
    n: int,
    out: np.ndarray | None = None,
    uniforms: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` standard normal float32 draws by the Box-Muller transform of float32 uniforms.

    Twice as fast here as numpy's float32 ziggurat. Exact to float32 resolution except in the far
    tails: with 24-bit uniforms no draw exceeds ``sqrt(2 * 24 * ln 2)`` = 5.77 in absolute value
    (a normal does with probability 8e-9). ``out`` (``n`` float32) and ``uniforms`` (at least
    ``n + 1`` float32) are optional buffers.
    """
    half = (n + 1) // 2
    u = np.empty(2 * half, np.float32) if uniforms is None else uniforms[: 2 * half]
    rng.random(out=u, dtype=np.float32)
    radius, angle = u[:half], u[half:]
    np.subtract(np.float32(1.0), radius, out=radius)  # in (0, 1]: the log is finite
    np.log(radius, out=radius)
    np.multiply(radius, np.float32(-2.0), out=radius)
    np.sqrt(radius, out=radius)
    np.multiply(angle, _TWO_PI, out=angle)
    z = np.empty(n, np.float32) if out is None else out.reshape(n)
    np.cos(angle, out=z[:half])
    np.sin(angle[: n - half], out=z[half:])
    z[:half] *= radius
    z[half:] *= radius[: n - half]
    return z


class GeneratorSource:
    """The step's random draws, from streams derived from the model's seeded numpy Generator.

    Every method takes the purpose of the draw (``"noise"``, ``"churn"``, ...), the industry
    ``m`` (-1 for none) and the block of customers it is for. Each purpose has its own stream,
    a ``numpy.random.Generator`` seeded from one number drawn from the model's generator when
    the source is made, so the draws of one rule do not depend on how many numbers another rule
    drew, or in which order the rules visit their blocks. This source uses only the number of
    customers of a block; a source for tests may implement the same methods with numbers derived
    from the labels.

    Parameters
    ----------
    rng
        The model's ``numpy.random.Generator``.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.generator = rng
        self.root = int(rng.integers(2**63))
        self.step = 0  # set by the model at the start of each step (unused here)
        self._streams: dict[str, np.random.Generator] = {}
        self._blocks = Blocks()

    def stream(self, purpose: str) -> np.random.Generator:
        """The generator of one purpose."""
        g = self._streams.get(purpose)
        if g is None:
            seed = np.random.SeedSequence([self.root, zlib.crc32(purpose.encode())])
            g = self._streams[purpose] = np.random.Generator(np.random.PCG64(seed))
        return g

    def uniform(self, purpose: str, m: int, rows: Rows, width: int | None = None) -> np.ndarray:
        """A uniform on [0, 1) per customer of the block (``[n, width]`` with ``width``)."""
        n = count(rows)
        return self.stream(purpose).random(n if width is None else (n, width))

    def normal(self, purpose: str, m: int, rows: Rows, width: int) -> np.ndarray:
        """``[n, width]`` float32 standard normals (``box_muller``), in a buffer that the next
        call overwrites when ``n <= CHUNK``."""
        n = count(rows)
        rng = self.stream(purpose)
        if n > CHUNK:
            return box_muller(rng, n * width).reshape(n, width)
        out = self._blocks("normal", width)[:n]
        uniforms = self._blocks("normal_u", width + 1)
        box_muller(rng, n * width, out, uniforms.reshape(-1))
        return out

    def below(self, purpose: str, m: int, rows: Rows, p_max: float) -> tuple[np.ndarray, Any]:
        """The customers of the block whose uniform falls below ``p_max``, and those uniforms.

        Equivalent to ``u = uniform(...); i = flatnonzero(u < p_max); return i, u[i]`` and used
        to thin Bernoulli trials whose probabilities are all at most ``p_max``: trial ``i`` then
        succeeds when ``u < p_i``. For small ``p_max`` the positions are drawn as geometric gaps
        and the uniforms as ``p_max * U(0, 1)`` (their law given that they are below ``p_max``),
        so only about ``p_max * n`` numbers are drawn. Returns positions within the block.
        """
        n = count(rows)
        rng = self.stream(purpose)
        if n == 0 or p_max <= 0.0:
            return np.zeros(0, np.int64), np.zeros(0)
        if p_max > 0.25:
            u = rng.random(n)
            i = np.flatnonzero(u < p_max)
            return i, u[i]
        mean = n * p_max
        size = int(mean + 5.0 * np.sqrt(mean) + 16)
        pos = np.cumsum(rng.geometric(p_max, size=size)) - 1
        while pos[-1] < n - 1:
            more = np.cumsum(rng.geometric(p_max, size=size)) + pos[-1]
            pos = np.concatenate([pos, more])
        pos = pos[: np.searchsorted(pos, n)]
        return pos, p_max * rng.random(len(pos))
