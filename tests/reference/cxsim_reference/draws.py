"""Random sources for the reference implementation and for comparing it with the package.

``KeyedSource`` makes every random number a fixed function of what it is for: the purpose of the
draw (``"churn"``, ``"noise"``, ...), the step, the industry, the customer and, for draws with
several columns, the column. Injected into both the package (``model.draws = source``) and the
reference, it gives both the same numbers although the package draws them a block of customers at
a time and the reference one agent at a time. The numbers are uniform on (0, 1) (a splitmix64 hash
of the labels) or standard normal (the inverse normal CDF of such a uniform, rounded to float32 as
the package's normals are).

``PythonDraws`` is what a Mesa user would write: ``model.random.random()`` and
``model.random.gauss(0, 1)`` per agent and decision. The benchmark uses it; it cannot be compared
number by number with the package.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from scipy.special import ndtri

__all__ = ["KeyedSource", "PythonDraws"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _ids(rows: Any) -> np.ndarray:
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop, dtype=np.uint64)
    return np.asarray(rows, dtype=np.int64).astype(np.uint64).reshape(-1)


class KeyedSource:
    """Uniforms and normals that depend only on (seed, step, purpose, industry, customer, column).

    Implements the package's draw interface (``uniform``, ``normal``, ``below``, ``stream``:
    see ``sim.arrays.GeneratorSource``) and the reference's scalar one (``u``, ``z``). The model
    sets ``step`` at the start of each step; the reference does the same.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)
        self.step = 0
        self._fallback = np.random.default_rng(seed)

    # -- the hash -------------------------------------------------------------------------------

    def _uniform(self, purpose: str, m: int, ids: np.ndarray, width: int | None) -> np.ndarray:
        with np.errstate(over="ignore"):
            base = np.uint64(self.seed) * _GOLDEN
            for part in (self.step + 1, zlib.crc32(purpose.encode()), m + 2):
                base = _mix(np.array([base ^ np.uint64(part)], np.uint64))[0] + _GOLDEN
            key = _mix(ids * _GOLDEN + base)
            if width is not None:
                cols = np.arange(1, width + 1, dtype=np.uint64) * _M2
                key = _mix(key[:, None] ^ cols[None, :])
            # 53 random bits, centred in their cell: a uniform on (0, 1), never 0
            return ((key >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53

    # -- the package's interface ----------------------------------------------------------------

    def uniform(self, purpose: str, m: int, rows: Any, width: int | None = None) -> np.ndarray:
        """One uniform per customer of ``rows`` (``[n, width]`` with ``width``)."""
        return self._uniform(purpose, m, _ids(rows), width)

    def normal(self, purpose: str, m: int, rows: Any, width: int) -> np.ndarray:
        """``[n, width]`` float32 standard normals."""
        return ndtri(self._uniform(purpose, m, _ids(rows), width)).astype(np.float32)

    def below(self, purpose: str, m: int, rows: Any, p_max: float) -> tuple[np.ndarray, Any]:
        """Positions within ``rows`` of the customers whose uniform is below ``p_max``, and the
        uniforms."""
        u = self._uniform(purpose, m, _ids(rows), None)
        i = np.flatnonzero(u < p_max)
        return i, u[i]

    def stream(self, purpose: str) -> np.random.Generator:
        """Not keyed: only used by draws the comparison switches off (partial reach)."""
        return self._fallback

    # -- the reference's interface --------------------------------------------------------------

    def u(self, purpose: str, m: int, customer: int, column: int | None = None) -> float:
        """The uniform for one customer (and column)."""
        ids = np.array([customer], np.uint64)
        if column is None:
            return float(self._uniform(purpose, m, ids, None)[0])
        return float(self._uniform(purpose, m, ids, column + 1)[0, column])

    def z(self, purpose: str, m: int, customer: int, column: int) -> float:
        """The standard normal for one customer and column (a float32 value)."""
        ids = np.array([customer], np.uint64)
        u = self._uniform(purpose, m, ids, column + 1)[0, column]
        return float(np.float32(ndtri(u)))

    def reach(self) -> float:
        """The uniform deciding whether a message reaches one neighbour (the comparison runs with
        ``word_of_mouth.reach`` 0 or 1, where it is not drawn)."""
        return float(self._fallback.random())


class PythonDraws:
    """Per-agent draws from Python's ``random`` module, as a Mesa user would write them."""

    def __init__(self, random: Any) -> None:
        self.random = random
        self.step = 0

    def u(self, purpose: str, m: int, customer: int, column: int | None = None) -> float:
        """A uniform on [0, 1)."""
        return self.random.random()

    def z(self, purpose: str, m: int, customer: int, column: int) -> float:
        """A standard normal."""
        return self.random.gauss(0.0, 1.0)

    def reach(self) -> float:
        """A uniform on [0, 1)."""
        return self.random.random()
