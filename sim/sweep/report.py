"""The analysis of a finished sweep as ``cxsim analyze`` does it: tables, indices and charts.

:func:`analyze` summarises each outcome per design point (mean and 95% CI across replicates),
computes Sobol' or Morris indices for sensitivity designs, writes ``summary.csv`` (and
``indices.csv``) and chooses charts from the design: a line with CI bands along a numeric
parameter (one line per value of a second), a heatmap over two parameters, bars for categorical
points such as strategies, a time series per point when there are few points, scatter plots for
sampled designs and a tornado of the indices.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.sweep import plots
from sim.sweep.analysis import (
    outcome_ci,
    outcome_values,
    parse_outcomes,
    point_summary,
    timeseries,
)
from sim.sweep.outcomes import LABELS, Outcome
from sim.sweep.results import SweepResults
from sim.sweep.sensitivity import SensitivityError, sobol_precision_notes, sweep_indices

__all__ = ["AnalysisReport", "analyze", "slug"]

TIMESERIES_MAX_POINTS = plots.MAX_LINES
"""Time-series charts are drawn when the design has at most this many points."""


@dataclass
class AnalysisReport:
    """What :func:`analyze` produced.

    Attributes
    ----------
    outcomes
        The outcomes summarised.
    at
        The step summarised (``"final"`` or a step).
    summary
        Long table: one row per outcome, design point (and firm), with mean and CI.
    indices
        Sensitivity indices (Sobol' or Morris designs), else None.
    files
        Everything written (CSV and PNG).
    notes
        Things the reader should know (skipped charts, incomplete sweep).
    """

    outcomes: list[Outcome]
    at: int | str
    summary: pd.DataFrame
    indices: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    """A file-name-safe form of an outcome or parameter name."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "x"


def _ylabel(o: Outcome) -> str:
    return LABELS.get(o.metric, o.metric)


def _firms_in_order(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Rows of per-firm data ordered as the scenario lists its firms (for panels and legends)."""
    if "firm" not in df or df["firm"].isna().all():
        return df
    rank = {n: i for i, n in enumerate(names)}
    return df.sort_values("firm", key=lambda c: c.map(rank), kind="stable")


def _varying(results: SweepResults) -> tuple[list[str], list[str], pd.DataFrame]:
    """(varying parameters, the numeric ones among them, the design), in spec order."""
    design = results.design()
    types = {p["column"]: p["type"] for p in results.manifest.get("parameters", [])}
    varying = [c for c in results.parameters if design[c].astype(str).nunique() > 1]
    numeric = [c for c in varying if types.get(c) in ("int", "float")]
    return varying, numeric, design


def _free(design: pd.DataFrame, column: str, given: list[str]) -> bool:
    """True if ``column`` still varies once the ``given`` columns are fixed (it is not a
    function of them, like a second segment share that makes the shares sum to 1)."""
    if not given:
        return True
    keys = design[given].astype(str)
    return bool(design[column].astype(str).groupby([keys[c] for c in given]).nunique().max() > 1)


def analyze(
    results: SweepResults,
    *,
    outcomes: Sequence[str] | None = None,
    at: int | str | None = None,
    x: str | None = None,
    y: str | None = None,
    out_dir: str | Path | None = None,
    charts: bool = True,
    level: float = 0.95,
) -> AnalysisReport:
    """Summarise a sweep, compute indices where the design allows, and draw charts.

    Parameters
    ----------
    results
        The sweep (``sim.sweep.open(path)``).
    outcomes
        Outcome names (default: the spec's ``analysis.outcomes``).
    at
        Step to summarise (default: the spec's ``analysis.at``, normally the final step).
    x, y
        Parameters for the charts (default: the spec's, else the first varying ones).
    out_dir
        Where to write (default: ``<results>/analysis``).
    charts
        Draw PNG charts.
    level
        Confidence level of the intervals.

    Returns
    -------
    AnalysisReport
        Tables, file list and notes.

    Raises
    ------
    ValueError
        An unknown outcome or parameter name (the message names it and what was expected).
    """
    spec = results.spec
    texts = list(outcomes) if outcomes else list(spec.analysis.outcomes)
    parsed = parse_outcomes(results, texts)
    at = spec.analysis.at if at is None else at
    out = Path(out_dir) if out_dir else results.root / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    for name, value in (("x", x), ("y", y)):
        if value is not None and value not in results.parameters:
            raise ValueError(
                f"--{name} {value!r}: expected a parameter of the sweep "
                f"({', '.join(results.parameters)})"
            )
    summary = point_summary(results, parsed, at, level)
    report = AnalysisReport(outcomes=parsed, at=at, summary=summary)
    if not results.complete:
        c = results.manifest.get("counts", {})
        report.notes.append(
            f"the sweep is incomplete ({c.get('missing', '?')} of "
            f"{c.get('runs', '?')} runs missing): rerun it to finish"
        )
    summary.to_csv(out / "summary.csv", index=False)
    report.files.append(out / "summary.csv")

    kind = results.manifest["design"]["kind"]
    if kind in ("sobol", "morris"):
        scalar = [o for o in parsed if not o.per_firm]
        skipped = [o.text for o in parsed if o.per_firm]
        if skipped:
            report.notes.append(
                f"no indices for per-firm outcomes {skipped}: name one firm, "
                "e.g. firms.<firm>.<metric>"
            )
        try:
            report.indices = sweep_indices(results, scalar, at, level)
        except SensitivityError as e:
            report.notes.append(str(e))
        if report.indices is not None and len(report.indices):
            report.indices.to_csv(out / "indices.csv", index=False)
            report.files.append(out / "indices.csv")
            if kind == "sobol":
                report.notes += sobol_precision_notes(
                    report.indices, *_sobol_cost(results), level=level
                )
    if charts:
        _charts(results, report, kind, x or spec.analysis.x, y or spec.analysis.y, out, level)
    return report


def _sobol_cost(results: SweepResults) -> tuple[int, int]:
    """A Sobol' sweep's samples (``N``) and the runs one sample costs: its planned runs (every
    design row times the replicates, as SALib sampled them) over ``N``."""
    samples = int(results.manifest["spec"]["design"]["samples"])
    return samples, int(results.manifest["counts"]["runs"]) // samples


def _charts(
    results: SweepResults,
    report: AnalysisReport,
    kind: str,
    x: str | None,
    y: str | None,
    out: Path,
    level: float,
) -> None:
    varying, numeric, design = _varying(results)
    at = report.at
    firms = results.firm_names()
    for o in report.outcomes:
        stem = slug(o.text)
        panel = "firm" if o.per_firm else None
        if kind in ("lhs", "sobol", "morris"):
            if o.per_firm:
                report.notes.append(f"no scatter chart for per-firm {o.text}")
            else:
                df = outcome_values(results, o, at).df()
                fig = plots.scatter_chart(df, results.parameters, o.title, _ylabel(o))
                report.files.append(plots.save(fig, out / f"{stem}_scatter.png"))
            if report.indices is not None and len(report.indices):
                rows = report.indices[report.indices["outcome"] == o.text]
                if len(rows):
                    fig = plots.indices_chart(rows, o.title)
                    report.files.append(plots.save(fig, out / f"{stem}_indices.png"))
            continue
        xs = x if x is not None else (numeric[0] if numeric else None)
        if xs is None:
            df = _firms_in_order(point_summary(results, [o], at, level), firms)
            fig = plots.bar_chart(df, "label", o.title, _ylabel(o), group=panel)
            report.files.append(plots.save(fig, out / f"{stem}_bars.png"))
        else:
            ys = (
                y
                if y is not None
                else next((c for c in varying if c != xs and _free(design, c, [xs])), None)
            )
            shown = [xs] + ([ys] if ys else [])
            others = [c for c in varying if c not in shown and _free(design, c, shown)]
            note = f"averaged over {', '.join(others)}" if others else ""
            by = [xs] + ([ys] if ys else [])
            df = _firms_in_order(outcome_ci(results, o, by, at, level), firms)
            group = ys if ys and df[ys].nunique() <= plots.MAX_LINES else None
            fig = plots.line_chart(df, xs, o.title, _ylabel(o), group=group, panel=panel, note=note)
            report.files.append(plots.save(fig, out / f"{stem}_by_{slug(xs)}.png"))
            if ys:
                fig = plots.heatmap(df, xs, ys, o.title, panel=panel, note=note)
                report.files.append(plots.save(fig, out / f"{stem}_{slug(xs)}_{slug(ys)}.png"))
        n_points = results.manifest["design"]["points"]
        if n_points <= TIMESERIES_MAX_POINTS:
            ts = timeseries(results, o, ("point",), level)
            if ts["step"].nunique() > 2:
                labels = results.sql(
                    "SELECT point, any_value(label) AS label FROM design GROUP BY point"
                ).df()
                ts = _firms_in_order(
                    ts.merge(labels, on="point").sort_values(["point", "step"]), firms
                )
                fig = plots.timeseries_chart(ts, "label", o.title, _ylabel(o), panel=panel)
                report.files.append(plots.save(fig, out / f"{stem}_over_time.png"))
