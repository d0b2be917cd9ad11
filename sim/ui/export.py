"""The Export page: the current run's series, its charts and its exact scenario, as files.

Series come as CSV and Parquet (market, firms, cohorts); charts as PNG files drawn by
:func:`sim.plots.plot_firm_series` (the same charts ``cxsim run --plot`` writes), zipped; the
scenario as the TOML text of the session's scenario with every change made in the UI, which
``cxsim run`` accepts and which reproduces the run (``--steps`` = the steps run here). "Everything"
is the folder ``cxsim run --out`` writes (:func:`sim.output.write_run`) plus the CSVs and charts.

The bytes are built when a button is clicked, from the model as it is at that moment.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import solara

from sim.output import write_run
from sim.plots import plot_firm_series
from sim.ui.frames import use_frame

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.scenario import Scenario
    from sim.ui.state import SessionState

__all__ = [
    "ExportPage",
    "charts_zip",
    "everything_zip",
    "file_stem",
    "scenario_toml",
    "series_bytes",
    "series_tables",
]


def file_stem(model: CustomerMarket) -> str:
    """``<scenario>-step<N>``, safe for a file name."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", model.scenario.name).strip("_") or "scenario"
    return f"{name}-step{model.steps}"


def series_tables(model: CustomerMarket) -> dict[str, pd.DataFrame]:
    """The run's series: ``market``, ``firms`` and ``cohorts``."""
    return {
        "market": model.model_metrics(),
        "firms": model.firm_metrics(),
        "cohorts": model.cohort_survival(),
    }


def series_bytes(model: CustomerMarket, table: str, fmt: str) -> bytes:
    """One series table as CSV or Parquet bytes.

    Parameters
    ----------
    model
        The market.
    table
        ``market``, ``firms`` or ``cohorts``.
    fmt
        ``csv`` or ``parquet``.
    """
    df = series_tables(model)[table]
    if fmt == "csv":
        return df.to_csv(index=False).encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format: expected csv or parquet, got {fmt!r}")


def charts_zip(model: CustomerMarket) -> bytes:
    """The run's charts as PNG files in a zip (one file per chart)."""
    with tempfile.TemporaryDirectory(prefix="cxsim-charts-") as tmp:
        files = plot_firm_series(model.firm_metrics(), tmp)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, arcname=f"charts/{path.name}")
        return buffer.getvalue()


def scenario_toml(scenario: Scenario) -> bytes:
    """The exact scenario (with the UI's changes) as TOML that ``cxsim run`` accepts."""
    return scenario.to_toml().encode()


def everything_zip(model: CustomerMarket) -> bytes:
    """``cxsim run --out`` 's folder for this run, plus CSVs and charts, zipped."""
    stem = file_stem(model)
    with tempfile.TemporaryDirectory(prefix="cxsim-export-") as tmp:
        out = write_run(model, Path(tmp) / stem, extra={"exported_from": "cxsim ui"})
        for table, df in series_tables(model).items():
            df.to_csv(out / f"{table}.csv", index=False)
        plot_firm_series(model.firm_metrics(), out / "plots")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    zf.write(path, arcname=str(path.relative_to(Path(tmp))))
        return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _download(label: str, filename: str, data, mime: str, disabled: bool = False) -> None:
    with solara.Div(classes=["cx-download"], attributes={"data-file": filename}):
        if disabled:
            solara.Button(label, icon_name="mdi-download", disabled=True, outlined=True)
        else:
            solara.FileDownload(
                data,
                filename=filename,
                mime_type=mime,
                children=[
                    solara.Button(label, icon_name="mdi-download", outlined=True, color="primary")
                ],
            )


@solara.component
def ExportPage(state: SessionState) -> None:
    """Download buttons for the session's current run."""
    use_frame(state)
    model = state.model.value
    scenario = state.scenario.value
    stem = file_stem(model)
    empty = model.steps == 0
    solara.HTML(
        tag="p",
        unsafe_innerHTML=(
            f"<b>{_escape(scenario.name)}</b> at step <b>{model.steps:,}</b> (year "
            f"{model.steps / model.steps_per_year:.1f}), {model.n_customers:,} customers, seed "
            f"{scenario.seed}. Files are built from the run as it is when you click."
        ),
    )
    if empty:
        solara.Info(
            "Step 0: nothing has run yet, so there are no series or charts; the "
            "scenario can be saved now."
        )
    solara.Text("Series", classes=["cx-section-title"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        for table in ("market", "firms", "cohorts"):
            for fmt, mime in (("csv", "text/csv"), ("parquet", "application/octet-stream")):
                _download(
                    f"{table}.{fmt}",
                    f"{stem}-{table}.{fmt}",
                    lambda table=table, fmt=fmt: state.read(
                        lambda: series_bytes(model, table, fmt)
                    ),
                    mime,
                    disabled=empty,
                )
    solara.Text("Charts", classes=["cx-section-title"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        _download(
            "charts (PNG, zip)",
            f"{stem}-charts.zip",
            lambda: state.read(lambda: charts_zip(model)),
            "application/zip",
            disabled=empty,
        )
    solara.Text("Scenario", classes=["cx-section-title"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        _download(
            "scenario.toml",
            f"{stem}-scenario.toml",
            lambda: scenario_toml(scenario),
            "application/toml",
        )
        _download(
            "everything (zip)",
            f"{stem}.zip",
            lambda: state.read(lambda: everything_zip(model)),
            "application/zip",
            disabled=empty,
        )
    solara.HTML(
        tag="p",
        unsafe_innerHTML=(
            f"<code>cxsim run {_escape(stem)}-scenario.toml --steps {max(model.steps, 1)}</code> "
            "reproduces this run (same seed, same numbers). The TOML holds every change made in "
            "the sidebar."
        ),
        classes=["cx-hint"],
    )
