"""The step's random numbers: a counter-based generator keyed by what each number is for.

Every random number of the step is a fixed function of the market's seed and of what it is for:
the step, the purpose (``"noise"``, ``"churn"``, ...: :data:`PURPOSES`), the industry, the
customer (its index within its market) and, for draws with several columns, the column. The
function is a splitmix64 hash (Steele, Lea & Flood 2014)::

    base = seed * G;  for part in (step + 1, crc32(purpose), industry + 2):
                          base = mix(base ^ part) + G
    key  = mix(customer * G + base);   key = mix(key ^ (column + 1) * M2)   (column draws)
    u    = ((key >> 11) + 0.5) / 2**53                      (a uniform on (0, 1), never 0 or 1)

with ``mix`` the splitmix64 finaliser and ``G``, ``M2`` its constants. So:

- the kernels draw inside their loops, customer by customer, with no numbers drawn in between:
  a customer's number does not depend on which other customers were drawn for, in which order,
  in which block or thread, or with which other markets it is stepped (``sim.batch``);
- one purpose's numbers do not depend on another's (the purpose is part of the key);
- the agent-by-agent reference (tests/reference) calls the same functions one customer at a time
  and sees the same numbers.

Normals (perception noise) come from the key by the ziggurat method (Marsaglia & Tsang 2000, in
the 128-layer form of Doornik 2005): the key's low 7 bits pick a layer, its top 53 bits a signed
uniform; about 97% of draws (the mean of the layers' ratios, 0.9724) are accepted at once, the
others rehash the key and try again, so every normal is exact (to float32, as the state) and
still a function of its key alone.

The seed of a market is one number drawn from the model's generator (``model.rng``) when it is
built: the scenario's seed (or the caller's) remains the only source of randomness.

``NUMBA_DISABLE_JIT=1`` runs the same functions as Python with the same integer arithmetic
(Python integers masked to 64 bits), so interpreted runs draw the same numbers.

This module must never import the rules, the model, the UI or the sweep layer. Of the package
it imports only ``sim.jit``.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
from numba import float32, float64, uint64

from sim.jit import jit_disabled, kernel, rule

__all__ = [
    "PURPOSES",
    "KeyedDraws",
    "draw_key",
    "draw_uniforms",
    "fill_listed_normals",
    "normal",
    "purpose_code",
    "step_keys",
    "uniform",
    "uniform_column",
]

PURPOSES = (
    "noise",
    "failure",
    "complain",
    "aftercare",
    "answer",
    "talk",
    "reach",
    "review",
    "churn",
    "leave_to",
    "adopt",
    "adopt_firm",
    "tone",
)
"""Every purpose the step draws for, in the order of the purpose axis of :func:`step_keys`."""

(
    NOISE,
    FAILURE,
    COMPLAIN,
    AFTERCARE,
    ANSWER,
    TALK,
    REACH,
    REVIEW,
    CHURN,
    LEAVE_TO,
    ADOPT,
    ADOPT_FIRM,
    TONE,
) = range(len(PURPOSES))

MASK = (1 << 64) - 1
G = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
UNIT = 2.0**-53


def purpose_code(purpose: str) -> int:
    """The number that stands for a purpose in the key: crc32 of its name."""
    return zlib.crc32(purpose.encode())


# -- the hash: uint64 arithmetic, wrapping (Python integers masked when run as Python) ----------

if jit_disabled():

    def mix(z: Any) -> Any:
        """splitmix64 finaliser of a 64-bit integer."""
        z = int(z)
        z = ((z ^ (z >> 30)) * int(M1)) & MASK
        z = ((z ^ (z >> 27)) * int(M2)) & MASK
        return np.uint64(z ^ (z >> 31))

    def spread(i: Any, base: Any) -> Any:
        """``mix(i * G + base)``: the key of item ``i`` of a stream."""
        return mix((int(i) * int(G) + int(base)) & MASK)

    def chain(base: Any, part: Any) -> Any:
        """``mix(base ^ part) + G``: a stream's base refined by one more label."""
        return np.uint64((int(mix(int(base) ^ int(part))) + int(G)) & MASK)

    def column(key: Any, c: Any) -> Any:
        """``mix(key ^ (c + 1) * M2)``: the key of column ``c`` of an item."""
        return mix(int(key) ^ (((int(c) + 1) * int(M2)) & MASK))

    def rehash(key: Any) -> Any:
        """``mix(key + G)``: a fresh key from a key (rejection sampling)."""
        return mix((int(key) + int(G)) & MASK)

    def seed_base(seed: Any) -> Any:
        """``seed * G``: where a market's streams start."""
        return np.uint64((int(seed) * int(G)) & MASK)

    def low_bits(key: Any, n: int) -> int:
        """The ``n`` lowest bits of a key, as an index."""
        return int(key) & ((1 << n) - 1)

    def top_bits(key: Any) -> float:
        """The top 53 bits of a key as a float (exact)."""
        return float(int(key) >> 11)

else:

    @rule
    def mix(z: Any) -> Any:
        """splitmix64 finaliser of a 64-bit integer."""
        z = (z ^ (z >> uint64(30))) * M1
        z = (z ^ (z >> uint64(27))) * M2
        return z ^ (z >> uint64(31))

    @rule
    def spread(i: Any, base: Any) -> Any:
        """``mix(i * G + base)``: the key of item ``i`` of a stream."""
        return mix(uint64(i) * G + base)

    @rule
    def chain(base: Any, part: Any) -> Any:
        """``mix(base ^ part) + G``: a stream's base refined by one more label."""
        return mix(base ^ uint64(part)) + G

    @rule
    def column(key: Any, c: Any) -> Any:
        """``mix(key ^ (c + 1) * M2)``: the key of column ``c`` of an item."""
        return mix(key ^ (uint64(c + 1) * M2))

    @rule
    def rehash(key: Any) -> Any:
        """``mix(key + G)``: a fresh key from a key (rejection sampling)."""
        return mix(key + G)

    @rule
    def seed_base(seed: Any) -> Any:
        """``seed * G``: where a market's streams start."""
        return uint64(seed) * G

    @rule
    def low_bits(key: Any, n: int) -> int:
        """The ``n`` lowest bits of a key, as an index."""
        return np.intp(key & uint64((1 << n) - 1))

    @rule
    def top_bits(key: Any) -> float:
        """The top 53 bits of a key as a float (exact)."""
        return float64(key >> uint64(11))


@rule
def draw_key(seed: Any, step: int, code: int, industry: int) -> Any:
    """The base of the stream of one purpose (``code``: :func:`purpose_code`) in one industry
    at one step, for a market's ``seed``."""
    base = seed_base(seed)
    base = chain(base, step + 1)
    base = chain(base, code)
    return chain(base, industry + 2)


@rule
def unit(key: Any) -> float:
    """A key as a uniform on (0, 1): its top 53 bits, centred in their cell."""
    return (top_bits(key) + 0.5) * UNIT


@rule
def uniform(base: Any, customer: int) -> float:
    """The uniform of one customer in the stream ``base`` (:func:`draw_key`)."""
    return unit(spread(customer, base))


@rule
def uniform_column(base: Any, customer: int, c: int) -> float:
    """The uniform of column ``c`` of one customer in the stream ``base``."""
    return unit(column(spread(customer, base), c))


@rule
def draw_uniforms(base: Any, lo: int, hi: int, first: int, out: np.ndarray) -> None:
    """``out[j] = uniform(base, lo + j - first)`` for the customers ``lo..hi`` of a market whose
    first customer is ``first``: the very same numbers as drawn one by one, in one loop of
    independent hashes (which the compiler vectorises). The screening kernels (switching,
    acquisition) draw every customer's uniform this way before keeping the few below a bound."""
    for j in range(hi - lo):
        out[j] = uniform(base, lo + j - first)


# -- normals: the ziggurat (Doornik 2005, 128 layers) -------------------------------------------

_LAYERS = 128
_R = 3.442619855899
_V = 9.91256303526217e-3


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray]:
    x = np.zeros(_LAYERS + 1)
    f = math.exp(-0.5 * _R * _R)
    x[0] = _V / f
    x[1] = _R
    for i in range(2, _LAYERS):
        x[i] = math.sqrt(-2.0 * math.log(_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    ratio = x[1:] / x[:-1]
    return x, ratio


ZIG_X, ZIG_R = _ziggurat_tables()


@rule
def in_wedge(x: float, i: int, key: Any) -> bool:
    """The wedge test of layer ``i`` for the try ``x``: accepted when the uniform of ``key`` puts
    it under the density, between the layer's edges ``f(X[i + 1])`` and ``f(X[i])`` scaled by
    ``f(x)``."""
    f0 = math.exp(-0.5 * (ZIG_X[i] * ZIG_X[i] - x * x))
    f1 = math.exp(-0.5 * (ZIG_X[i + 1] * ZIG_X[i + 1] - x * x))
    return f1 + unit(key) * (f0 - f1) < 1.0


@rule
def ziggurat_rest(key: Any, u: float, i: int) -> float:
    """The ziggurat's rare cases: the tail beyond R (layer 0) and the wedges, where a try is
    accepted or rejected (the key is rehashed for every further number)."""
    while True:
        if i == 0:  # the base strip: a draw from the tail beyond R
            while True:
                key = rehash(key)
                x = math.log(unit(key)) / _R
                key = rehash(key)
                y = math.log(unit(key))
                if -2.0 * y >= x * x:
                    return x - _R if u < 0.0 else _R - x
        x = u * ZIG_X[i]
        key = rehash(key)
        if in_wedge(x, i, key):
            return x
        key = rehash(key)
        u = 2.0 * unit(key) - 1.0
        i = low_bits(key, 7)
        if abs(u) < ZIG_R[i]:
            return u * ZIG_X[i]


@rule
def ziggurat(key: Any) -> float:
    """A standard normal (float64) from a key, by the ziggurat method: exact, and a function of
    the key alone (a rejected try rehashes the key)."""
    u = 2.0 * unit(key) - 1.0
    i = low_bits(key, 7)
    if abs(u) < ZIG_R[i]:  # the rectangles: about 99% of draws
        return u * ZIG_X[i]
    return ziggurat_rest(key, u, i)


@rule
def normal(base: Any, customer: int, c: int) -> Any:
    """The standard normal of column ``c`` of one customer in the stream ``base``, as float32
    (the precision of the perception noise in the state)."""
    return float32(ziggurat(column(spread(customer, base), c)))


@rule
def rectangle(at: Any) -> Any:
    """The ziggurat's common case for the key ``at``: its normal (float32) when the try falls in
    a layer's rectangle (about 97% of draws), NaN otherwise (:func:`rest_normal` draws it)."""
    u = 2.0 * unit(at) - 1.0
    i = low_bits(at, 7)
    return float32(u * ZIG_X[i]) if abs(u) < ZIG_R[i] else float32(np.nan)


@rule
def rest_normal(at: Any) -> Any:
    """The normal (float32) of the key ``at`` when :func:`rectangle` gave NaN."""
    u = 2.0 * unit(at) - 1.0
    return float32(ziggurat_rest(at, u, low_bits(at, 7)))


@rule
def first_wedge(at: Any) -> tuple[Any, bool]:
    """The ziggurat's first wedge test for the key ``at`` outside the rectangles, as
    :func:`ziggurat_rest` makes it, without a branch: the normal (float32) and whether it was
    accepted (never for the base strip, layer 0)."""
    u = 2.0 * unit(at) - 1.0
    i = low_bits(at, 7)
    x = u * ZIG_X[i]
    return float32(x), (i != 0) & in_wedge(x, i, rehash(at))


@rule
def after_first_wedge(at: Any) -> Any:
    """The normal (float32) of the key ``at`` that :func:`first_wedge` did not accept: the tail
    beyond R for the base strip, else the try that follows the rejection (the key rehashed
    twice, as :func:`ziggurat_rest` does), all as drawn one by one."""
    if low_bits(at, 7) == 0:
        return rest_normal(at)
    return float32(ziggurat(rehash(rehash(at))))


@rule
def fill_listed_normals(
    base: Any, first: int, ids: Any, count: int, width: int, out: Any, rare: Any
) -> None:
    """``out[t * width + c] = normal(base, first + ids[t], c)`` for the ``count`` customers
    listed in ``ids`` and ``width`` columns, one after another: the very same numbers as drawn
    one by one, for the listed customers only (the step lists the served ones).

    The ziggurat's common case (:func:`rectangle`, about 97% of draws) is computed for all of
    them in one loop of independent iterations, which the compiler vectorises (the keys' 64-bit
    multiplies included) when ``width`` is a constant; the positions of the few outside the
    rectangles are then listed in ``rare`` (``count * width`` integers) without a branch. Their
    first wedge test (:func:`first_wedge`, about half of them accepted) is made for all of them
    in a loop without a branch, which keeps the rest in ``rare``; only those are drawn one by one
    (:func:`after_first_wedge`). Drawn one by one, every rare one cost a mispredicted branch or
    two (the wedge test goes either way): the 9.5 million normals of a 1M step (2.7% rare), one
    thread, 18.5-19.5 -> 15.1 ms, of which the rectangles 8.1 (docs/performance.md, "The rare
    normals' first wedge test without a branch"). With every customer listed, these are the
    normals of a whole block."""
    for t in range(count):
        key = spread(first + ids[t], base)
        for c in range(width):
            out[t * width + c] = rectangle(column(key, c))
    n = 0
    for q in range(count * width):
        rare[n] = q
        n += 1 if out[q] != out[q] else 0
    kept = 0
    for r in range(n):
        q = rare[r]
        x, accepted = first_wedge(column(spread(first + ids[q // width], base), q % width))
        out[q] = x
        rare[kept] = q
        kept += 0 if accepted else 1
    for r in range(kept):
        q = rare[r]
        out[q] = after_first_wedge(column(spread(first + ids[q // width], base), q % width))


# -- whole arrays of draws (for numpy code and tests) ----------------------------------------------


@kernel
def step_keys(seeds: np.ndarray, step: int, codes: np.ndarray, n_ind: int) -> np.ndarray:
    """``[B, P, M]`` stream bases of every market (``seeds``), purpose (``codes``) and industry
    at one step."""
    out = np.empty((len(seeds), len(codes), n_ind), np.uint64)
    for b in range(len(seeds)):
        for p in range(len(codes)):
            for m in range(n_ind):
                out[b, p, m] = draw_key(seeds[b], step, codes[p], m)
    return out


@kernel
def fill_uniform(base: Any, ids: np.ndarray, out: np.ndarray) -> None:
    """``out[j] = uniform(base, ids[j])``."""
    for j in range(len(ids)):
        out[j] = uniform(base, ids[j])


@kernel
def fill_uniform_columns(base: Any, ids: np.ndarray, out: np.ndarray) -> None:
    """``out[j, c] = uniform_column(base, ids[j], c)``."""
    for j in range(len(ids)):
        key = spread(ids[j], base)
        for c in range(out.shape[1]):
            out[j, c] = unit(column(key, c))


@kernel
def fill_normal(base: Any, ids: np.ndarray, out: np.ndarray) -> None:
    """``out[j, c] = normal(base, ids[j], c)``."""
    for j in range(len(ids)):
        key = spread(ids[j], base)
        for c in range(out.shape[1]):
            out[j, c] = float32(ziggurat(column(key, c)))


def _ids(rows: Any) -> np.ndarray:
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop, dtype=np.int64)
    return np.asarray(rows, dtype=np.int64).reshape(-1)


CODES = np.array([purpose_code(p) for p in PURPOSES], np.uint64)
""":func:`purpose_code` of every purpose, in the order of :data:`PURPOSES`."""


class KeyedDraws:
    """A market's random numbers as arrays: the same numbers as the kernels draw one at a time.

    Parameters
    ----------
    seed
        The market's seed, 0 .. 2**64 - 1.

    Attributes
    ----------
    seed
        The seed.
    step
        The step the numbers are for (the model sets it at the start of each step).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed) & MASK
        self.step = 0
        self._streams: dict[str, np.random.Generator] = {}

    def key(self, purpose: str, m: int) -> np.uint64:
        """The base of one purpose's stream in industry ``m`` at the current step."""
        code = np.uint64(purpose_code(purpose))
        return np.uint64(draw_key(np.uint64(self.seed), self.step, code, m))

    def uniform(self, purpose: str, m: int, rows: Any, width: int | None = None) -> np.ndarray:
        """One uniform on (0, 1) per customer of ``rows`` (a slice or indices), or ``[n, width]``
        with ``width`` (one per column)."""
        ids = _ids(rows)
        if width is None:
            out = np.empty(len(ids))
            fill_uniform(self.key(purpose, m), ids, out)
        else:
            out = np.empty((len(ids), width))
            fill_uniform_columns(self.key(purpose, m), ids, out)
        return out

    def normal(self, purpose: str, m: int, rows: Any, width: int) -> np.ndarray:
        """``[n, width]`` float32 standard normals, one per customer of ``rows`` and column."""
        ids = _ids(rows)
        out = np.empty((len(ids), width), np.float32)
        fill_normal(self.key(purpose, m), ids, out)
        return out

    def below(self, purpose: str, m: int, rows: Any, p_max: float) -> tuple[np.ndarray, Any]:
        """Positions within ``rows`` of the customers whose uniform is below ``p_max``, and
        those uniforms."""
        u = self.uniform(purpose, m, rows)
        i = np.flatnonzero(u < p_max)
        return i, u[i]

    def stream(self, purpose: str) -> np.random.Generator:
        """A numpy Generator of its own for one purpose, seeded from the market's seed: for the
        draws that are not keyed by customer (a message's receivers on a complete graph)."""
        g = self._streams.get(purpose)
        if g is None:
            seq = np.random.SeedSequence([self.seed, purpose_code(purpose)])
            g = self._streams[purpose] = np.random.Generator(np.random.PCG64(seq))
        return g
