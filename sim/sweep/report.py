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
    AT_FINAL,
    outcome_ci,
    outcome_values,
    parse_outcomes,
    point_summary,
    timeseries,
)
from sim.sweep.outcomes import LABELS, Outcome, firm_metric_names, market_metric_names
from sim.sweep.results import SweepResults
from sim.sweep.sensitivity import SensitivityError, sobol_precision_notes, sweep_indices
from sim.sweep.store import check_folder

__all__ = ["AnalysisReport", "analyze", "kept_steps_text", "slug"]

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
    survivors
        Every firm outcome is over the replicates in which the firm is in business (else each
        over its ``sim.sweep.analysis.population``).
    """

    outcomes: list[Outcome]
    at: int | str
    summary: pd.DataFrame
    indices: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    survivors: bool = False


def slug(text: str) -> str:
    """A file-name-safe form of an outcome or parameter name."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "x"


def kept_steps_text(steps: Sequence[int], shown: int = 6) -> str:
    """The kept steps for a message: all of them when few, else the first ones, ``...`` and
    the last (``13, 26, 39, 52, 65, ..., 520``)."""
    steps = sorted(steps)
    if len(steps) <= shown:
        return ", ".join(str(s) for s in steps)
    return ", ".join(str(s) for s in steps[: shown - 1]) + f", ..., {steps[-1]}"


def _check_at(results: SweepResults, outcomes: Sequence[Outcome], at: int | str) -> None:
    """A ``ValueError`` when no finished run has a row to summarise, or naming ``--at`` when no
    run kept the step ``at``."""
    steps: set[int] = set()
    for table in dict.fromkeys(o.table for o in outcomes):
        if "step" not in results.sql(f"SELECT * FROM {table} LIMIT 0").columns:
            continue  # no chunk holds the table: no finished run
        steps |= {int(r[0]) for r in results.sql(f"SELECT DISTINCT step FROM {table}").fetchall()}
    if not steps:
        raise ValueError(
            "no finished run to summarise; expected at least one run that finished "
            "(nothing written)"
        )
    if at != AT_FINAL and int(at) not in steps:
        kept = f"final or one of {kept_steps_text(steps)}"
        raise ValueError(f"--at {at}: step {at} was not kept; expected {kept}")


def _check_kept(results: SweepResults, outcomes: Sequence[Outcome], named: bool) -> None:
    """A ``ValueError`` naming an outcome whose metric the sweep's ``[output]`` did not keep
    (``--outcome firms.X.cash`` of a sweep that kept share and profit), with the metrics kept;
    ``named``: the outcomes came from ``--outcome`` (else from the sweep's ``analysis``)."""
    for o in outcomes:
        columns = list(results.sql(f"SELECT * FROM {o.table} LIMIT 0").columns)
        if "step" not in columns or o.metric in columns:
            continue  # no chunk holds the table (_check_at says so), or it was kept
        if o.table == "firms":
            allowed = firm_metric_names()
        else:
            allowed = market_metric_names(results.industries())
        kept = [c for c in columns if c in allowed]
        where = f"--outcome {o.text!r}" if named else f"analysis.outcomes: {o.text!r}"
        raise ValueError(
            f"{where}: {o.metric} was not kept by this sweep; expected one of the {o.table} "
            f"metrics its [output] kept: {', '.join(kept) or 'none'} (add {o.metric} to "
            f"[output] {o.table} and run the sweep into a new folder)"
        )


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    """``df`` as CSV at ``path``, written whole or not at all (a temporary file renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


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
    survivors: bool = False,
) -> AnalysisReport:
    """Summarise a sweep, compute indices where the design allows, and draw charts.

    Nothing is written when there is nothing to summarise (an error instead), so an earlier
    analysis in ``out_dir`` is never replaced by empty files.

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
    survivors
        Every firm outcome over the replicates in which the firm is in business (share and
        profit too, which otherwise count an exited firm as 0).

    Returns
    -------
    AnalysisReport
        Tables, file list and notes.

    Raises
    ------
    ValueError
        An unknown outcome or parameter name, a step ``at`` that was not kept, or no finished
        run to summarise (the message names it and what was expected).
    SweepStoreError
        ``out_dir`` is a file.
    """
    spec = results.spec
    texts = list(outcomes) if outcomes else list(spec.analysis.outcomes)
    parsed = parse_outcomes(results, texts)
    at = spec.analysis.at if at is None else at
    out = Path(out_dir) if out_dir else results.root / "analysis"
    check_folder(out, "a folder for the analysis' tables and charts")
    for name, value in (("x", x), ("y", y)):
        if value is not None and value not in results.parameters:
            raise ValueError(
                f"--{name} {value!r}: expected a parameter of the sweep "
                f"({', '.join(results.parameters)})"
            )
    _check_at(results, parsed, at)
    _check_kept(results, parsed, named=bool(outcomes))
    summary = point_summary(results, parsed, at, level, survivors)
    if summary.empty:
        where = "the final step" if at == AT_FINAL else f"step {at}"
        raise ValueError(
            f"no finished run has a row at {where}; expected at least one finished run "
            "(nothing written)"
        )
    out.mkdir(parents=True, exist_ok=True)
    report = AnalysisReport(outcomes=parsed, at=at, summary=summary, survivors=survivors)
    if not results.complete:
        c = results.manifest.get("counts", {})
        report.notes.append(
            f"the sweep is incomplete ({c.get('missing', '?')} of "
            f"{c.get('runs', '?')} runs missing): rerun it to finish"
        )
    report.files.append(_write_csv(summary, out / "summary.csv"))

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
            report.files.append(_write_csv(report.indices, out / "indices.csv"))
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
                df = outcome_values(results, o, at, report.survivors).df()
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
            df = _firms_in_order(point_summary(results, [o], at, level, report.survivors), firms)
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
            df = _firms_in_order(outcome_ci(results, o, by, at, level, report.survivors), firms)
            group = ys if ys and df[ys].nunique() <= plots.MAX_LINES else None
            fig = plots.line_chart(df, xs, o.title, _ylabel(o), group=group, panel=panel, note=note)
            report.files.append(plots.save(fig, out / f"{stem}_by_{slug(xs)}.png"))
            if ys:
                fig = plots.heatmap(df, xs, ys, o.title, panel=panel, note=note)
                report.files.append(plots.save(fig, out / f"{stem}_{slug(xs)}_{slug(ys)}.png"))
        n_points = results.manifest["design"]["points"]
        if n_points <= TIMESERIES_MAX_POINTS:
            ts = timeseries(results, o, ("point",), level, report.survivors)
            if ts["step"].nunique() > 2:
                labels = results.sql(
                    "SELECT point, any_value(label) AS label FROM design GROUP BY point"
                ).df()
                ts = _firms_in_order(
                    ts.merge(labels, on="point").sort_values(["point", "step"]), firms
                )
                fig = plots.timeseries_chart(ts, "label", o.title, _ylabel(o), panel=panel)
                report.files.append(plots.save(fig, out / f"{stem}_over_time.png"))
