"""Evaluating claims on run results: one margin per run, then one per world.

A run's margin of a claim is ``left - right`` (for ``>``/``>=``) or ``right - left`` (for
``<``/``<=``), each reference read from the run's kept rows in its window. A world's margin is the
mean over its replicates; the claim holds in the world when that mean is positive (or zero for a
non-strict comparison). A reference that is undefined in a run (the trust of a firm that has no
customers left, a step the run did not reach, the end of a run whose market stopped early because
every firm closed) gives no margin for that run; a world whose every
replicate is undefined is *undecided* and counted apart. ``versus(x)`` reads ``x`` in the run's
counterfactual run (:mod:`sim.robustness.versus`); without one the run has no margin.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.columns import metric_range
from sim.robustness.claims import Call, Claim, Const, Node, Op, Ref

__all__ = ["claim_margins", "holds", "margin_range", "world_margins"]


def _ref_values(
    ref: Ref, market: pd.DataFrame | None, firms: pd.DataFrame | None, final: int | None
) -> pd.Series:
    o = ref.outcome
    if o.table == "firms":
        if firms is None:
            raise ValueError(f"{ref.text} needs the firms table")
        rows = firms[firms["name"] == o.firm]
    else:
        if market is None:
            raise ValueError(f"{ref.text} needs the market table")
        rows = market
    if o.metric not in rows.columns:
        raise ValueError(f"{ref.text}: the results have no column {o.metric!r}")
    w = ref.window
    if w.kind == "final" and final is not None:
        rows = rows[rows["step"] == final]
    elif w.kind == "final":
        last = rows.groupby("run_id")["step"].transform("max")
        rows = rows[rows["step"] == last]
    else:
        rows = rows[(rows["step"] >= w.first) & (rows["step"] <= w.last)]
    return rows.groupby("run_id")[o.metric].mean().astype(float)


def _eval(
    node: Node,
    runs: pd.Index,
    market: pd.DataFrame | None,
    firms: pd.DataFrame | None,
    final: int | None = None,
    paired: pd.Series | None = None,
):
    if isinstance(node, Const):
        return pd.Series(node.value, index=runs, dtype=float)
    if isinstance(node, Ref):
        return _ref_values(node, market, firms, final).reindex(runs)
    if isinstance(node, Call) and node.name == "versus":
        if paired is None:
            raise ValueError("versus(...) reads the counterfactual runs; expected their pairing")
        pair = paired.reindex(runs)
        other = pd.Index(pair.dropna().unique(), name="run_id")
        values = _eval(node.args[0], other, market, firms, final)
        return pd.Series(values.reindex(pair.to_numpy()).to_numpy(), index=runs, dtype=float)
    if isinstance(node, Op):
        a = _eval(node.left, runs, market, firms, final, paired)
        b = _eval(node.right, runs, market, firms, final, paired)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        with np.errstate(divide="ignore", invalid="ignore"):
            return (a / b).replace([np.inf, -np.inf], np.nan)
    if isinstance(node, Call):
        args = [_eval(a, runs, market, firms, final, paired) for a in node.args]
        if node.name == "abs":
            return args[0].abs()
        frame = pd.concat(args, axis=1)
        return (
            frame.min(axis=1, skipna=False)
            if node.name == "min"
            else frame.max(axis=1, skipna=False)
        )
    raise TypeError(f"not a claim node: {node!r}")  # pragma: no cover


def margin_range(claim: Claim) -> tuple[float, float]:
    """The values ``claim``'s margin can take, from the ranges of the metrics it reads
    (``sim.columns.metric_range``) by interval arithmetic: ``(-inf, inf)`` where one has none.
    A share difference lies in -1..1, "A's share > 0.3" in -0.3..0.7; an interval of a margin
    over replicates is kept within them."""
    left, right = _range(claim.left), _range(claim.right)
    a, b = (left, right) if claim.op in (">", ">=") else (right, left)
    return a[0] - b[1], a[1] - b[0]


def _range(node: Node) -> tuple[float, float]:
    if isinstance(node, Const):
        return node.value, node.value
    if isinstance(node, Ref):
        return metric_range(node.outcome.metric)
    if isinstance(node, Op):
        (a0, a1), (b0, b1) = _range(node.left), _range(node.right)
        if node.op == "+":
            return a0 + b0, a1 + b1
        if node.op == "-":
            return a0 - b1, a1 - b0
        if node.op == "/" and b0 <= 0.0 <= b1:
            return -math.inf, math.inf
        if node.op == "*":
            corners = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
        else:  # b0 and b1 on one side of 0, not 0
            corners = (a0 / b0, a0 / b1, a1 / b0, a1 / b1)
        if any(math.isnan(c) for c in corners):  # 0 x inf: no bound
            return -math.inf, math.inf
        return min(corners), max(corners)
    if isinstance(node, Call):
        ranges = [_range(a) for a in node.args]
        if node.name == "versus":
            return ranges[0]
        if node.name == "abs":
            (lo, hi) = ranges[0]
            return (lo, hi) if lo >= 0 else (-hi, -lo) if hi <= 0 else (0.0, max(-lo, hi))
        pick = min if node.name == "min" else max
        return pick(r[0] for r in ranges), pick(r[1] for r in ranges)
    raise TypeError(f"not a claim node: {node!r}")  # pragma: no cover


def claim_margins(
    claims: list[Claim],
    market: pd.DataFrame | None,
    firms: pd.DataFrame | None,
    runs: pd.Index | None = None,
    final_step: int | None = None,
    paired: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Each claim's margin in each run.

    Parameters
    ----------
    claims
        Parsed claims.
    market, firms
        Kept rows of the runs, with ``run_id`` and ``step`` (and ``name`` for firms), as
        ``SweepResults.df`` returns them.
    runs
        Run ids to report (default: every run in the tables).
    final_step
        The step ``@ final`` reads: the runs' last step as planned. A market stops when its
        last firm closes, and a run that stopped before ``final_step`` has no final value (its
        claims about the end are undecided there, not read in the year the firms closed).
        None: each run's last kept step.
    paired
        For each claim with a versus table (by name), the run ``versus(...)`` reads for each
        run: index ``run_id``, value the counterfactual run's id (NaN: none, so no margin).
        :func:`sim.robustness.versus.paired_runs` pairs a study's runs.

    Returns
    -------
    DataFrame
        Index ``run_id``, one column per claim name; NaN where a reference is undefined.
    """
    if runs is None:
        ids = [t["run_id"] for t in (market, firms) if t is not None]
        runs = pd.Index(sorted(set().union(*[set(i) for i in ids])), name="run_id")
    out = {}
    for c in claims:
        pair = (paired or {}).get(c.name)
        if c.versus and pair is None:
            raise ValueError(f"claim {c.name!r} reads versus(...); expected its paired runs")
        left = _eval(c.left, runs, market, firms, final_step, pair)
        right = _eval(c.right, runs, market, firms, final_step, pair)
        out[c.name] = (left - right) if c.op in (">", ">=") else (right - left)
    return pd.DataFrame(out, index=runs)


def world_margins(margins: pd.DataFrame, worlds: pd.Series) -> pd.DataFrame:
    """Mean margin per world over its replicates (undefined replicates left out).

    Parameters
    ----------
    margins
        :func:`claim_margins` output (index ``run_id``).
    worlds
        The world of each run (index ``run_id``).

    Returns
    -------
    DataFrame
        Index: world; one column per claim; NaN for an undecided world.
    """
    return margins.groupby(worlds.reindex(margins.index)).mean()


def holds(claim: Claim, margin: pd.Series | np.ndarray) -> np.ndarray:
    """Whether the claim holds at each margin (False where undefined)."""
    m = np.asarray(margin, dtype=float)
    with np.errstate(invalid="ignore"):
        return (m > 0) if claim.strict else (m >= 0)
