"""The fitted worlds against the published facts they were not fitted to.

:mod:`sim.robustness.fit` keeps the plausible worlds that reproduce the in-sample facts. Whether
that makes them more like real markets is a question for facts they were *not* fitted to: the
out-of-sample validation checks (:data:`HOLDOUT`). :func:`holdout_table` runs them, at their quick
size with the facts' common seed, in the plausible worlds of the fit's prior sample and in the
fitted worlds, and gives the share of each set that reproduces each, with its Wilson interval.
If fitting to the in-sample facts made the worlds more realistic, the fitted worlds should
reproduce the out-of-sample facts at least as often; if not, the in-sample facts constrain
something else. Each world's results are appended to ``OUT/holdout.jsonl`` (a stopped test
resumes).

This module never imports the UI or an executor.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.robustness.odds import wilson

__all__ = ["HOLDOUT", "holdout_table", "world_holdout"]

HOLDOUT: tuple[str, ...] = ("retention_rises_with_tenure", "bolton_anchoring")
"""The out-of-sample validation checks (docs/validation.md), in the order of a world's results."""

FILE = "holdout.jsonl"


def world_holdout(values: Mapping[str, Any], seed: int = 1) -> list[float]:
    """Whether the world reproduces each fact of :data:`HOLDOUT` (1 or 0; NaN when its market
    cannot be built or run)."""
    from sim.validation import CHECKS, run_check

    cache: dict[tuple, Any] = {}
    out = []
    for name in HOLDOUT:
        try:
            out.append(
                float(run_check(CHECKS[name], "quick", None, seed, dict(values), cache).passed)
            )
        except Exception:  # a world the model rejects gives no answer, not a crash
            out.append(math.nan)
    return out


def _key(values: Mapping[str, Any]) -> str:
    text = json.dumps({k: float(v) for k, v in values.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _one(item: tuple[str, dict[str, Any], int]) -> tuple[str, list[float]]:
    key, values, seed = item
    return key, world_holdout(values, seed)


def holdout_table(
    sets: Mapping[str, pd.DataFrame], out: str | Path, *, seed: int = 1, workers: int = 1
) -> pd.DataFrame:
    """Each out-of-sample fact's share in each set of worlds.

    Parameters
    ----------
    sets
        Label -> worlds (one row per world, one column per scenario key); a world that appears
        twice is run once.
    out
        The fit's folder (``holdout.jsonl`` is kept there).
    seed
        The checks' seed, common to every world.
    workers
        Local processes.

    Returns
    -------
    DataFrame
        ``worlds`` (the set's label), ``check``, ``holds``, ``decided``, ``share``, ``low``,
        ``high`` (95% Wilson interval).
    """
    path = Path(out) / FILE
    known: dict[str, list[float]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                known[rec["key"]] = rec["passed"]
    todo: dict[str, tuple[str, dict[str, Any], int]] = {}
    for worlds in sets.values():
        for row in worlds.to_dict(orient="records"):
            k = _key(row)
            if k not in known and k not in todo:
                todo[k] = (k, row, seed)
    if todo:
        pool = None
        if workers > 1:
            from sim.sweep.executors import local_pool

            pool = local_pool(workers)
        try:
            done = pool.map(_one, todo.values()) if pool else map(_one, todo.values())
            with path.open("a", encoding="utf-8") as f:
                for k, passed in done:
                    known[k] = passed
                    f.write(json.dumps({"key": k, "passed": passed}) + "\n")
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    rows = []
    for label, worlds in sets.items():
        results = np.array([known[_key(r)] for r in worlds.to_dict(orient="records")], float)
        for j, name in enumerate(HOLDOUT):
            col = results[:, j] if len(results) else np.array([])
            decided = col[~np.isnan(col)]
            holds = int(decided.sum())
            o = wilson(holds, len(decided)) if len(decided) else None
            rows.append(
                {
                    "worlds": label,
                    "check": name,
                    "holds": holds,
                    "decided": len(decided),
                    "share": o.share if o else math.nan,
                    "low": o.low if o else math.nan,
                    "high": o.high if o else math.nan,
                }
            )
    return pd.DataFrame(rows)
