"""Numba in one place: how the rules of the step are compiled, and the helpers they share.

Every rule of the step is written once, as a plain Python function over one customer (or one
firm, or one message) in the file of its phase (``sim/rules/*.py``), decorated with :func:`rule`;
the loops that apply the rules to every customer are decorated with :func:`kernel` (one thread)
or :func:`parallel_kernel` (``prange`` over blocks of customers). numba compiles both to machine
code, so a rule reads like its equation and runs at the speed of C.

Debugging: with ``NUMBA_DISABLE_JIT=1`` in the environment numba compiles nothing and the very
same source runs as Python, slowly but exactly (tests/test_single_engine.py checks that a market
stepped that way equals the compiled one). The rules use no float literals in arithmetic: their
constants come typed (the state's float type) from the phase's parameter record, so that
compiled and interpreted runs compute in the same precision.

Caching: compiled code is cached next to the modules (``__pycache__``) so that a new process
loads it in well under a second (``python -m sim.warmup`` compiles once after install). numba's
own cache only notices changes to the file of the cached function, not to the rules it calls
from other files; :class:`RuleCacheLocator` therefore stamps the cache of every function of the
package with a hash of all the files that hold compiled code, so editing any rule recompiles
every kernel that might inline it.

This module must never import anything from the package.
"""

from __future__ import annotations

import hashlib
import os
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numba
import numpy as np
from numba import prange, types
from numba.core import caching
from numba.extending import overload
from numba.np import numpy_support

__all__ = [
    "ONE",
    "ZERO",
    "RuleCacheLocator",
    "add_task_rows",
    "as_type_of",
    "by_value",
    "clip",
    "inlined_rule",
    "int_view",
    "kernel",
    "nan_skipping_range",
    "parallel_kernel",
    "prange",
    "prefetch",
    "rule",
    "threads",
    "use_threads",
]

F = TypeVar("F", bound=Callable[..., Any])

PACKAGE = Path(__file__).resolve().parent
COMPILED_SOURCES = ("jit.py", "draws.py", "metrics.py", "tallies.py", "rules/*.py")
"""Files (relative to the package) that hold compiled code: they stamp every kernel's cache."""

ZERO = np.float32(0.0)
ONE = np.float32(1.0)
"""0 and 1 for comparisons and clipping: a float32 constant keeps float32 arithmetic in float32
(a Python float would make numba compute in float64) and is exact in float64."""


class RuleCacheLocator(caching.InTreeCacheLocator):
    """numba cache locator for the package: in ``__pycache__`` beside each module, stamped with
    a hash of every file of :data:`COMPILED_SOURCES`, so that a change to any rule invalidates
    the cached kernels that call it (numba alone compares only the kernel's own file)."""

    _stamp: str | None = None

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> RuleCacheLocator | None:
        try:
            Path(py_file).resolve().relative_to(PACKAGE)
        except (ValueError, OSError):
            return None  # not ours: numba's own locators take it
        return super().from_function(py_func, py_file)

    def get_source_stamp(self) -> str:
        if RuleCacheLocator._stamp is None:
            digest = hashlib.sha256()
            for pattern in COMPILED_SOURCES:
                for path in sorted(PACKAGE.glob(pattern)):
                    digest.update(path.relative_to(PACKAGE).as_posix().encode())
                    digest.update(path.read_bytes())
            RuleCacheLocator._stamp = digest.hexdigest()
        return RuleCacheLocator._stamp


if RuleCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, RuleCacheLocator)

_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}

VECTORIZER = (
    "-runtime-memory-check-threshold=512",
    "-vectorize-memory-check-threshold=512",
    "-vectorize-scev-check-threshold=1024",
)
"""LLVM's loop vectoriser may check at run time that a loop's arrays do not overlap before it
takes several iterations at once; by default it gives up on loops that touch more than a few
arrays (8 checks, 16 assumptions), as the stages of phases 2 to 5 do
(``sim.rules.block_stages``). Raised for the whole process when this module is imported,
before anything compiles: the checks run once per loop, and a vectorised loop gives the same
numbers (without fast-math, LLVM never reorders floating-point arithmetic)."""


def _raise_vectorizer_limits() -> None:
    import llvmlite.binding as llvm

    for option in VECTORIZER:
        llvm.set_option("cxsim", option)


if not numba.config.DISABLE_JIT:
    _raise_vectorizer_limits()


WIDE_VECTORS = "-prefer-256-bit"
"""Added to the processor's features on a processor of :data:`WIDE_VECTOR_CPUS` with AVX-512,
unless the environment names the features or the processor for numba (``NUMBA_CPU_FEATURES``,
``NUMBA_CPU_NAME``: set either to opt out, e.g. ``NUMBA_CPU_FEATURES`` to the host's list).
LLVM's tuning for Intel's AVX-512 processors makes its vectoriser use 256-bit registers, 8
float32 lanes, where the 512-bit ones hold 16; this lifts that preference, so the stages of
phases 2 to 5 (``sim.rules.block_stages``) run 16 customers an instruction. On the project's
Intel Xeon (Rocket Lake, 2 vCPUs, 6 December 2026; three alternated processes each, 1M
customers): phases 2-5 76.0 -> 71.1 ms wall (149.3 -> 137.8 ms CPU), the step 168.9 -> 161.1 ms;
no number moves (``experiments/benchmarks/series_hash.py`` gives the same digest: without
fast-math the lanes compute what one customer at a time does). Set in the environment, before
anything compiles, so that numba's compiler (which reads the setting when it first compiles or
loads a cached kernel) and the worker processes a sweep starts use it; numba keys its cache by
the features, so kernels cached with the default are compiled again once."""

WIDE_VECTOR_CPUS = frozenset(
    {
        "icelake-client",
        "icelake-server",
        "tigerlake",
        "rocketlake",
        "sapphirerapids",
        "emeraldrapids",
        "graniterapids",
        "graniterapids-d",
        "znver4",
        "znver5",
    }
)
"""LLVM's names of the processors that get :data:`WIDE_VECTORS`: those whose clock drops little
under 512-bit instructions. Not the first AVX-512 server parts (``skylake-avx512``,
``cascadelake``, ``cooperlake``), whose clock falls enough under them for LLVM's preference to
be right for mixed code; unmeasured here, they keep LLVM's choice."""


def _prefer_wide_vectors() -> None:
    if "NUMBA_CPU_FEATURES" in os.environ or "NUMBA_CPU_NAME" in os.environ:
        return
    import llvmlite.binding as llvm
    from numba.core.codegen import get_host_cpu_features

    features = get_host_cpu_features()  # numba's own list ("+avx512f,-amx-bf16,...")
    if "+avx512f" not in features.split(",") or llvm.get_host_cpu_name() not in WIDE_VECTOR_CPUS:
        return
    os.environ["NUMBA_CPU_FEATURES"] = f"{features},{WIDE_VECTORS}"
    numba.config.reload_config()


if not numba.config.DISABLE_JIT:
    _prefer_wide_vectors()


SPIN_COUNT = "10000"
"""``GOMP_SPINCOUNT`` for numba's OpenMP threads, unless the environment sets it (or
``OMP_WAIT_POLICY``). After a parallel region GNU OpenMP's threads wait for the next by spinning,
300,000 rounds by default: about 10 ms of a core each time measured here (a parallel kernel
followed by 25 ms of serial work cost 34 ms of CPU against 25), so that every parallel kernel of
a step followed by serial work burned up to 10 ms of the other core, and on a loaded machine took
it from other processes. 10,000 rounds (about 0.3 ms) still bridge back-to-back kernels; a longer
gap costs one wake-up (tens of microseconds). Read by libgomp when numba first loads it, at the
first parallel kernel, after this module is imported."""

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)


def rule(fn: F) -> F:
    """Compile a rule: a function of one customer's (firm's, message's) values."""
    return numba.njit(**_OPTIONS)(fn)


def inlined_rule(fn: F) -> F:
    """Compile a rule that numba writes into each kernel calling it (``inline="always"``): for
    a rule taking many arrays, which a call would pass one by one for every customer."""
    return numba.njit(**_OPTIONS, inline="always")(fn)


def kernel(fn: F) -> F:
    """Compile a loop that applies rules to many customers, on the calling thread."""
    return numba.njit(**_OPTIONS)(fn)


def parallel_kernel(fn: F) -> F:
    """Compile a loop whose ``prange`` runs blocks of customers on numba's threads."""
    return numba.njit(cache=True, parallel=True, error_model="numpy")(fn)


@rule
def clip(x: Any, low: Any, high: Any) -> Any:
    """``x`` limited to ``low..high``; NaN stays NaN (as ``np.clip``)."""
    if x < low:
        return low
    if x > high:
        return high
    return x


def as_type_of(value: Any, example: Any) -> Any:
    """``value`` converted to the float type of ``example`` (a float64 intermediate stored in
    the state's type, as an array assignment would)."""
    return type(example)(value)


@overload(as_type_of)
def _as_type_of(value: Any, example: Any) -> Any:
    if isinstance(example, types.Float):
        target = numpy_support.as_dtype(example).type

        def impl(value: Any, example: Any) -> Any:
            return target(value)

        return impl
    return None


def int_view(values: np.ndarray) -> np.ndarray:
    """``values`` (float32 or float64) seen as signed integers of the same width, their bits."""
    return values.view(np.int32 if values.dtype.itemsize == 4 else np.int64)


@overload(int_view)
def _int_view(values: Any) -> Any:
    if not isinstance(values, types.Array) or not isinstance(values.dtype, types.Float):
        return None
    target = np.int32 if values.dtype.bitwidth == 32 else np.int64

    def impl(values: Any) -> Any:
        return values.view(target)

    return impl


@rule
def nan_skipping_range(values: np.ndarray) -> tuple[Any, Any]:
    """The lowest and highest of a contiguous float array, NaN skipped (``inf`` and ``-inf``
    when there is none); of -0 and +0, -0 is the lower.

    The floats are compared as integers: with its sign bit clear a float's bits increase with
    it, and with the sign bit set the other bits, flipped, do (``key = b ^ ((b >> shift) &
    rest)``, ``shift`` the sign bit's place; ``~key`` of a value's magnitude for its negative),
    so the lowest key is the lowest value.
    The compiler vectorises a loop taking the least of integers, not of floats (without
    fast-math, which would let it assume there is no NaN, it keeps one float after the other).
    At 1M customers and 6 firms, one thread, the rows fading as they are read
    (``sim.rules.churn_skip.row_range``): 10.0-10.4 ms in eight interleaved float chains
    indexed from the range's start, 2.3-2.5 ms so (7 December 2026)."""
    ends = np.empty(2, values.dtype)
    ends[0] = np.inf
    bits, end_bits = int_view(values), int_view(ends)
    inf = end_bits[0]  # the bits of +inf; above them (sign cleared), NaN
    shift = end_bits.itemsize * 8 - 1
    rest = (1 << shift) - 1  # all but the sign bit
    low, high = inf, ~inf  # the keys of +inf and -inf
    for i in range(len(bits)):
        b = bits[i]
        key = b ^ ((b >> shift) & rest)
        nan = (b & rest) > inf
        low = min(low, inf if nan else key)
        high = max(high, ~inf if nan else key)
    end_bits[0] = low ^ ((low >> shift) & rest)
    end_bits[1] = high ^ ((high >> shift) & rest)
    return ends[0], ends[1]


def by_value(record: Any) -> Any:
    """The fields of ``record`` (one row of a record array) as values: in compiled code a named
    tuple with the same field names and types, in Python (``NUMBA_DISABLE_JIT=1``) the record.

    A kernel reads its constants through this once, at its top. A record's fields are read from
    memory at every use: the compiler cannot prove that the kernel's stores to the state's
    arrays leave the record alone, so it reloads them inside the loops. As values they stay in
    registers (phases 2 to 5: about 1 ms less of 16 at 100,000 customers, 8-15% of the kernel at
    1M; docs/performance.md). The kernel's arguments do not change, so neither does its cache."""
    return record


_VALUE_TUPLES: dict[tuple[str, ...], Any] = {}


@overload(by_value)
def _by_value(record):  # type: ignore[no-untyped-def]  # unannotated, as the impl numba compares
    if not isinstance(record, types.Record):
        return None
    names = tuple(record.fields)
    cls = _VALUE_TUPLES.setdefault(names, namedtuple("Constants", names))
    # one attribute read per field, written out: numba builds the tuple from them
    source = f"def impl(record):\n    return cls({', '.join(f'record.{n}' for n in names)})\n"
    scope: dict[str, Any] = {"cls": cls}
    exec(source, scope)  # field names of our own record, not user input
    return scope["impl"]


def threads() -> int:
    """Threads the parallel kernels use (``use_threads``, ``NUMBA_NUM_THREADS``)."""
    return numba.get_num_threads()


def run_tasks(serial: Any, parallel: Any, n_tasks: int, *args: Any) -> None:
    """Run a phase's tasks: ``parallel(*args)`` when there is more than one task and more than
    one thread, else ``serial(*args)`` (one task, or one thread: a parallel launch costs a
    thread wake-up). Both kernels give the same numbers."""
    if n_tasks > 1 and threads() > 1:
        parallel(*args)
    else:
        serial(*args)


@kernel
def add_task_rows(task_market: np.ndarray, rows: np.ndarray, total: np.ndarray) -> None:
    """``total[task_market[t]] += rows[t]`` for every task ``t``, in task order (``rows``
    ``[tasks, n]``, ``total`` ``[B, n]``): each task's own counts added to its market's. For
    the phases' whole counts, the same in any order; numpy's ``add.at`` took 10-15 us a call
    in a batch of 64 markets."""
    for t in range(len(task_market)):
        for c in range(rows.shape[1]):
            total[task_market[t], c] += rows[t, c]


def use_threads(n: int) -> None:
    """Let the parallel kernels called from this thread use at most ``n`` threads.

    The sweep runs one market per worker and sets 1, so that two runs do not each start a
    thread per core. numba's setting is per calling thread.
    """
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


if numba.config.DISABLE_JIT:

    def prefetch(array: np.ndarray, index: Any) -> None:
        """Nothing, when the rules run as Python (``NUMBA_DISABLE_JIT=1``)."""

else:
    import llvmlite.ir as llvm_ir
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def prefetch(typingctx: Any, array: Any, index: Any) -> Any:
        """Ask the CPU to fetch the cache line of ``array[index]`` (``array[index, 0]`` for a
        2-D array) without waiting for it: LLVM's ``llvm.prefetch``, read, high locality. Never
        faults, whatever the index. Loops that gather from scattered places of large arrays
        (word of mouth) call it a few iterations ahead."""
        sig = types.void(array, index)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            array_type, index_type = signature.args
            array_value = context.make_array(array_type)(context, builder, args[0])
            at = context.cast(builder, args[1], index_type, types.intp)
            zero = context.get_constant(types.intp, 0)
            where = [at] + [zero] * (array_type.ndim - 1)
            pointer = cgutils.get_item_pointer(
                context, builder, array_type, array_value, where, wraparound=False
            )
            byte_pointer = llvm_ir.IntType(8).as_pointer()
            i32 = llvm_ir.IntType(32)
            signature_ir = llvm_ir.FunctionType(llvm_ir.VoidType(), [byte_pointer, i32, i32, i32])
            # typed-pointer name; LLVM versions with opaque pointers remangle it
            function = cgutils.get_or_insert_function(
                builder.module, signature_ir, "llvm.prefetch.p0i8"
            )
            read, locality, data = (llvm_ir.Constant(i32, v) for v in (0, 3, 1))
            builder.call(function, [builder.bitcast(pointer, byte_pointer), read, locality, data])
            return context.get_dummy_value()

        return sig, codegen


def jit_disabled() -> bool:
    """True when ``NUMBA_DISABLE_JIT`` makes the rules run as Python."""
    return bool(numba.config.DISABLE_JIT) or os.environ.get("NUMBA_DISABLE_JIT", "0") not in (
        "",
        "0",
    )
