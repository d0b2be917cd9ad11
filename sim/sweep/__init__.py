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

The sweep layer only uses the model's public API; nothing here imports the UI. The names below
are imported from their modules on first use (``lazy_loader``), so registering ``cxsim sweep``
costs nothing until a sweep runs.
"""

from __future__ import annotations

from typing import Any

import lazy_loader

_getattr, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "executors": [
            "DaskExecutor",
            "Executor",
            "ExecutorError",
            "LocalExecutor",
            "SerialExecutor",
            "make_executor",
        ],
        "plan": ["Plan", "build_plan"],
        "runner": ["SweepInterrupted", "SweepReport", "run"],
        "spec": ["SpecError", "SweepSpec", "load_spec"],
        "results": ["SweepResults", "open_results"],
        "store": ["SweepStoreError"],
    },
)


def __getattr__(name: str) -> Any:
    if name == "open":  # ``sim.sweep.open(folder)``: an alias of open_results
        return _getattr("open_results")
    return _getattr(name)
