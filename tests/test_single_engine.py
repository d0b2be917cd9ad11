"""One statement of each rule, compiled: threads, the interpreted debugging path and the cache.

- Customers go to the kernels in blocks that run as parallel tasks: the results must not depend
  on how many threads run them.
- ``NUMBA_DISABLE_JIT=1`` runs the very same source as Python (the debugging path): a market
  stepped that way must equal the compiled one to the bit (the rules use no float literals in
  arithmetic, so both compute in the state's precision).
- The compiled code is cached; editing any rule file must invalidate every kernel's cache,
  since kernels inline rules from other files (``sim.jit.RuleCacheLocator``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import sim
import sim.arrays
import sim.draws
import sim.jit
from sim.rules import block_stages, fused, satisfaction

COUNTS = ("supplier", "complaints", "answered", "tenure", "switches")
FLOATS = ("expectation", "experience", "satisfaction", "trust", "commitment", "heard", "benchmark")


def run(n: int = 3000, steps: int = 15, **overrides: object) -> sim.CustomerMarket:
    return sim.CustomerMarket(
        "baseline", rng=7, overrides={"market.customers": n, **overrides}
    ).run(steps)


def test_compiled_step_does_not_depend_on_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks are parallel tasks: the results must not depend on how many threads run them.
    (The block size itself is a constant of the package: it sets how the draws are cut.)"""
    monkeypatch.setattr(sim.arrays, "CHUNK", 256)  # 12 tasks, in two spans of 8
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = run()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        parallel = run()
    finally:
        numba.set_num_threads(threads)
    assert serial.firm_metrics()["churned"].sum() > 0
    for name in COUNTS + FLOATS:
        x, y = getattr(serial.customer_state, name), getattr(parallel.customer_state, name)
        assert np.array_equal(x, y, equal_nan=True), name
    # per-firm sums are added task by task: the same whatever the threads
    assert serial.firm_metrics().equals(parallel.firm_metrics())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_linear_value_function_is_the_power_form_to_the_bit(dtype: type) -> None:
    """``satisfaction.value`` states curvature 1 as its own branch (``gap`` or ``lambda * gap``,
    so that the compiled kernel takes no power there, docs/performance.md): it must give the
    numbers of ``|gap| ** curvature``, ``lambda`` times as much and negative for a loss."""
    gaps = np.random.default_rng(3).normal(0.0, 0.4, 2000).astype(dtype)
    gaps[:4] = (0.0, -0.0, 1e-30, -1e-30)
    lam = dtype(2.25)
    for curvature in (dtype(1.0), dtype(0.88)):
        size = np.abs(gaps) ** curvature
        expected = np.where(gaps >= 0, size, -lam * size)
        got = np.array([satisfaction.value(g, lam, curvature) for g in gaps], dtype)
        if curvature == 1:  # the linear branch: the very same numbers
            np.testing.assert_array_equal(got, expected)
        else:  # the power branch: the compiler's pow against numpy's, within rounding
            np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps)
    assert satisfaction.value(dtype(-0.5), lam, dtype(1.0)) == dtype(-1.125)


INTERPRETED = r"""
import json, sys
import numpy as np
import sim
overrides = json.loads(sys.argv[1])
m = sim.CustomerMarket("baseline", rng=5, overrides=overrides, dtype=sys.argv[2])
m.run(int(sys.argv[3]))
cs = m.customer_state
out = {name: getattr(cs, name).tolist() for name in sys.argv[4].split(",")}
out["firms"] = m.firm_metrics().select_dtypes("number").to_numpy().tolist()
print(json.dumps(out))
"""


def step_in_a_process(jit: bool, overrides: dict, dtype: str, steps: int) -> dict:
    env = dict(os.environ, NUMBA_DISABLE_JIT="0" if jit else "1")
    names = ",".join(COUNTS + FLOATS)
    done = subprocess.run(
        [sys.executable, "-c", INTERPRETED, json.dumps(overrides), dtype, str(steps), names],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "dtype"),
    [
        ({"market.customers": 120, "delivery.base_failure_rate": 0.2}, "float32"),
        ({"market.customers": 90, "steps_per_year": 12, "satisfaction.curvature": 0.88}, "float64"),
    ],
)
def test_the_same_source_run_as_python_equals_the_compiled_run(overrides: dict, dtype: str) -> None:
    """The debugging path (``NUMBA_DISABLE_JIT=1``) runs the rules as Python: the same market,
    to the bit (measured: identical in float32 and float64, with a concave value function)."""
    steps = 6
    compiled = step_in_a_process(True, overrides, dtype, steps)
    python = step_in_a_process(False, overrides, dtype, steps)
    for name in COUNTS:
        assert compiled[name] == python[name], name
    for name in (*FLOATS, "firms"):
        a = np.asarray(compiled[name], float)
        b = np.asarray(python[name], float)
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.asarray(compiled["complaints"]).sum() > 0  # the rules were exercised


def test_constants_held_as_values_keep_their_names_types_and_numbers() -> None:
    """``sim.jit.by_value`` turns a record of constants into values inside a kernel (so that the
    compiler keeps them out of memory): every field keeps its name, its type and its value."""
    fields = [("a", np.float32), ("b", np.float64), ("on", np.bool_)]
    record = np.zeros(1, fields).view(np.recarray)  # as sim.rules.fused.parameters builds it
    record["a"], record["b"], record["on"] = np.float32(1 / 3), 1 / 3, True

    @numba.njit
    def read(params: np.ndarray) -> tuple:
        p = sim.jit.by_value(params[0])
        return p.a * p.a, p.b * p.b, p.on

    a, b, on = read(record)
    assert a == float(np.float32(1 / 3) * np.float32(1 / 3))  # float32 arithmetic stays float32
    assert a != (1 / 3) * (1 / 3) and b == (1 / 3) * (1 / 3) and on


@pytest.mark.skipif(
    numba.config.DISABLE_JIT,
    reason="NUMBA_DISABLE_JIT=1: the kernels are plain Python functions, with no cache to stamp",
)
def test_every_kernel_of_the_package_is_cached_with_the_rule_stamp() -> None:
    """Kernels inline rules from other files, so their caches carry a stamp of every file with
    compiled code: editing any rule recompiles them (numba alone checks the kernel's file)."""
    for dispatcher in (
        fused.customer_rows,
        fused.one_task,
        block_stages.block,
        sim.draws.fill_listed_normals,
        sim.metrics.tally,
    ):
        locator = dispatcher._cache._impl.locator
        assert isinstance(locator, sim.jit.RuleCacheLocator), dispatcher
    stamp = (
        sim.jit.RuleCacheLocator._stamp
        or fused.customer_rows._cache._impl.locator.get_source_stamp()
    )
    files = [p for pattern in sim.jit.COMPILED_SOURCES for p in sim.jit.PACKAGE.glob(pattern)]
    assert Path(sim.jit.PACKAGE / "rules" / "trust.py") in files
    assert Path(sim.jit.PACKAGE / "rules" / "block_stages.py") in files
    assert Path(sim.jit.PACKAGE / "metrics.py") in files
    assert isinstance(stamp, str) and len(stamp) == 64


def test_the_stamp_changes_when_a_rule_file_changes(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "sim"
    (package / "rules").mkdir(parents=True)
    for name in ("jit.py", "metrics.py", "rules/trust.py"):
        (package / name).write_text("x = 1\n")
    monkeypatch.setattr(sim.jit, "PACKAGE", package)
    monkeypatch.setattr(sim.jit.RuleCacheLocator, "_stamp", None)
    locator = sim.jit.RuleCacheLocator.__new__(sim.jit.RuleCacheLocator)
    before = locator.get_source_stamp()
    (package / "rules" / "trust.py").write_text("x = 2\n")
    monkeypatch.setattr(sim.jit.RuleCacheLocator, "_stamp", None)
    assert locator.get_source_stamp() != before


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ({}, sim.jit.SPIN_COUNT),
        ({"GOMP_SPINCOUNT": "500"}, "500"),
        ({"OMP_WAIT_POLICY": "active"}, None),
    ],
)
def test_openmp_threads_spin_briefly_unless_the_environment_says(
    env: dict, want: str | None
) -> None:
    """Importing ``sim.jit`` (as every module with a parallel kernel does) sets
    ``GOMP_SPINCOUNT`` to ``sim.jit.SPIN_COUNT`` before numba loads OpenMP (a worker thread would
    otherwise spin about 10 ms of a core after every parallel kernel), and leaves a spin count or
    a wait policy the user set alone."""
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    code = "import os, sim.jit; print(os.environ.get('GOMP_SPINCOUNT'))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(want)


@pytest.mark.parametrize(
    "env",
    [{}, {"NUMBA_CPU_FEATURES": "+sse2"}, {"NUMBA_CPU_NAME": "generic"}],
    ids=["host", "features set", "processor set"],
)
def test_wide_vectors_on_avx512_unless_the_environment_names_the_processor(env: dict) -> None:
    """Importing ``sim.jit`` on a processor with AVX-512 (one of ``sim.jit.WIDE_VECTOR_CPUS``:
    not the first AVX-512 server parts, whose clock drops under 512-bit code) lifts LLVM's
    preference for 256-bit vectors (``sim.jit.WIDE_VECTORS`` after numba's own list of the
    host's features), so that the stages of phases 2 to 5 take 16 float32 customers an
    instruction, for numba's compiler in this process and in the workers it starts; on another
    processor, or when the user names numba's features or processor, nothing is changed."""
    from llvmlite.binding import get_host_cpu_name
    from numba.core.codegen import get_host_cpu_features

    names = ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME")
    clean = {k: v for k, v in os.environ.items() if k not in names}
    code = (
        "import json, os, sim.jit; from numba import config\n"
        "print(json.dumps([os.environ.get('NUMBA_CPU_FEATURES'), config.CPU_FEATURES]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    environ, config = json.loads(done.stdout)
    host = get_host_cpu_features()
    if env:  # as the user set it (numba reads no features as "" once a processor is named)
        assert environ == env.get("NUMBA_CPU_FEATURES")
        assert config == env.get("NUMBA_CPU_FEATURES", "")
    elif "+avx512f" in host.split(",") and get_host_cpu_name() in sim.jit.WIDE_VECTOR_CPUS:
        assert environ == config == f"{host},{sim.jit.WIDE_VECTORS}"
    else:
        assert environ is None and config is None
