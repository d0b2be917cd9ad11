"""The numba and numpy engines run the same model.

Both take every random number from the same streams in the same order; the compiled kernels add
the weighted sums over attributes in another order than numpy's matrix products, so floats may
differ in the last bits, never a decision in these runs. The agent-by-agent reference test
(tests/test_reference.py) runs on both engines at 1e-9; these tests compare the engines with
each other on the shipped scenarios, and check that the compiled step does not depend on its
block size or its number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import sim
import sim.arrays
import sim.engine
from sim.engine import EngineError, resolve_engine

FLOATS = (
    "expectation",
    "experience",
    "benchmark",
    "satisfaction",
    "last_satisfaction",
    "trust",
    "commitment",
    "heard",
    "attitude",
)
COUNTS = (
    "supplier",
    "tenure",
    "failed",
    "complaints",
    "answered",
    "steps_since_recovery",
    "switches",
)
DECISIONS = (
    "customers",
    "churned",
    "acquired",
    "switched_in",
    "failures",
    "complaints",
    "answered",
    "wom_positive",
    "wom_negative",
)


def run(scenario: str, engine: str, steps: int = 40, n: int = 1500, **kw) -> sim.CustomerMarket:
    overrides = {"market.customers": n, **kw.pop("overrides", {})}
    model = sim.CustomerMarket(scenario, rng=7, overrides=overrides, engine=engine, **kw)
    return model.run(steps)


def assert_same_market(a: sim.CustomerMarket, b: sim.CustomerMarket, rtol: float) -> None:
    for name in COUNTS:
        x, y = getattr(a.customer_state, name), getattr(b.customer_state, name)
        assert np.array_equal(x, y), name
    for name in FLOATS:
        x, y = getattr(a.customer_state, name), getattr(b.customer_state, name)
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol, equal_nan=True, err_msg=name)
    fa, fb = a.firm_metrics(), b.firm_metrics()
    assert fa[list(DECISIONS)].equals(fb[list(DECISIONS)])
    means = ["satisfaction", "trust", "commitment", "nps", "expectation", "experience"]
    np.testing.assert_allclose(fa[means], fb[means], rtol=rtol, atol=rtol)


@pytest.mark.parametrize(
    "scenario",
    ["baseline", "overpromise_vs_honest", "proactive_disclosure", "national_leader_enters"],
)
def test_numba_and_numpy_engines_agree(scenario: str) -> None:
    a, b = run(scenario, "numba"), run(scenario, "numpy")
    assert a.engine == "numba" and b.engine == "numpy"
    assert_same_market(a, b, rtol=1e-5)
    # the market did something: customers moved, complained, failed
    df = a.firm_metrics()
    assert df["churned"].sum() > 0 and df["complaints"].sum() > 0 and df["failures"].sum() > 0


def test_engines_agree_in_float64_monthly_with_a_concave_value_function() -> None:
    """Covers the kernels' other branches: float64 state, a step of a month (step-scaled trust
    loss) and curvature below 1."""
    kw = {
        "dtype": "float64",
        "overrides": {"steps_per_year": 12, "satisfaction.curvature": 0.88},
    }
    a, b = run("baseline", "numba", steps=24, **kw), run("baseline", "numpy", steps=24, **kw)
    assert a.customer_state.trust.dtype == np.float64
    assert_same_market(a, b, rtol=1e-9)


def test_compiled_step_does_not_depend_on_threads(monkeypatch) -> None:
    """Blocks are parallel tasks: the results must not depend on how many threads run them.
    (The block size itself is a constant of the package: it sets how the draws are cut.)"""
    monkeypatch.setattr(sim.arrays, "CHUNK", 256)  # 12 tasks, in two spans of 8
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = run("baseline", "numba", steps=15, n=3000)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        parallel = run("baseline", "numba", steps=15, n=3000)
    finally:
        numba.set_num_threads(threads)
    assert serial.firm_metrics()["churned"].sum() > 0
    for name in COUNTS + FLOATS:
        x, y = getattr(serial.customer_state, name), getattr(parallel.customer_state, name)
        assert np.array_equal(x, y, equal_nan=True), name
    # per-firm sums are added task by task: the same whatever the threads
    assert serial.firm_metrics().equals(parallel.firm_metrics())
    # and the numpy engine with the same blocks draws the same numbers
    assert_same_market(serial, run("baseline", "numpy", steps=15, n=3000), rtol=1e-5)


def test_engine_is_chosen_by_argument_then_environment(monkeypatch) -> None:
    monkeypatch.delenv("CXSIM_ENGINE", raising=False)
    assert resolve_engine("auto") == "numba"
    assert resolve_engine("numpy") == "numpy"
    monkeypatch.setenv("CXSIM_ENGINE", "numpy")
    assert resolve_engine("auto") == "numpy"
    assert resolve_engine(None) == "numpy"
    assert resolve_engine("numba") == "numba"  # an explicit choice wins over the environment
    model = sim.CustomerMarket("baseline", overrides={"market.customers": 200})
    assert model.engine == "numpy"


def test_bad_engine_names_say_what_was_expected(monkeypatch) -> None:
    with pytest.raises(EngineError, match=r"engine: expected one of auto, numba, numpy; got 'C'"):
        resolve_engine("C")
    monkeypatch.setenv("CXSIM_ENGINE", "fast")
    with pytest.raises(EngineError, match=r"CXSIM_ENGINE: expected one of .*got 'fast'"):
        sim.CustomerMarket("baseline", overrides={"market.customers": 200})


def test_without_numba_auto_falls_back_to_numpy(monkeypatch) -> None:
    monkeypatch.delenv("CXSIM_ENGINE", raising=False)
    monkeypatch.setattr(sim.engine, "numba_available", lambda: False)
    assert resolve_engine("auto") == "numpy"
    with pytest.raises(EngineError, match="numba was asked for but cannot be imported"):
        resolve_engine("numba")
