"""Batch sweeps of the market model: designs, seeds, executors, a Parquet store and analysis.

A sweep file (``experiments/*.toml``) names a base scenario, the parameters to vary and how
(grid, list, Latin hypercube, Sobol' or Morris), replicates, steps and what to keep. Runs execute
in a local process pool (default), in this process, or on a Dask cluster, and give the same
numbers on each; results stream to Parquet chunks with a manifest, and an interrupted sweep
resumes where it stopped.

From Python::

    import sim.sweep
    res = sim.sweep.run("experiments/overpromise_inflation.toml", out="results/opi")
    res.df("market")                                                   # pandas
    res.sql("select inflation, avg(retention_annual) from market group by 1")  # DuckDB
    sim.sweep.open("results/opi").runs()

The sweep layer only uses the model's public API; nothing here imports the UI.
"""

from sim.sweep.executors import (
    DaskExecutor,
    Executor,
    ExecutorError,
    LocalExecutor,
    SerialExecutor,
    make_executor,
)
from sim.sweep.plan import Plan, build_plan
from sim.sweep.runner import SweepInterrupted, SweepReport, run
from sim.sweep.spec import SpecError, SweepSpec, load_spec
from sim.sweep.store import SweepResults, SweepStoreError, open_results

open = open_results

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "Plan",
    "SerialExecutor",
    "SpecError",
    "SweepInterrupted",
    "SweepReport",
    "SweepResults",
    "SweepSpec",
    "SweepStoreError",
    "build_plan",
    "load_spec",
    "make_executor",
    "open_results",
    "run",
]
