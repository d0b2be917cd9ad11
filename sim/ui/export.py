"""The Export page: the current run's series, its charts and its exact scenario, as files.

Series come as CSV and Parquet (market, firms, cohorts); charts as PNG files drawn by
:func:`sim.plots.plot_firm_series` (the same charts ``cxsim run --plot`` writes), zipped; the
scenario as the TOML text of the session's scenario with every change made in the UI, which
``cxsim run`` accepts and which reproduces the run (``--steps`` = the steps run here). "Everything"
is the folder ``cxsim run --out`` writes (:func:`sim.output.write_run`) plus the CSVs and charts.

The bytes are built when a button is clicked, from the model as it is at that moment. The zips
(whose charts take a few seconds to draw) are built in the background with a line saying how far
they have got, and handed to the browser when done.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import solara
from solara.components.file_download import FileDownloadWidget

from sim.output import write_run
from sim.plots import plot_firm_series
from sim.ui.frames import use_frame

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.scenario import Scenario
    from sim.ui.state import SessionState

T = TypeVar("T")

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


Progress = Callable[[int, int, str], None]
"""Told ``(done, total, what)`` while a file is built."""


def _quiet(done: int, total: int, what: str) -> None:
    return None


Reader = Callable[[Callable[[], T]], T]
"""Runs a read of the model (the session's :meth:`~sim.ui.state.SessionState.read`, which
holds its lock); the charts are then drawn from the copies, while the market may run on."""


def _direct(fn: Callable[[], T]) -> T:
    return fn()


def charts_zip(model: CustomerMarket, progress: Progress = _quiet, read: Reader = _direct) -> bytes:
    """The run's charts as PNG files in a zip (one file per chart); ``progress`` hears of each
    chart drawn (drawing them is most of the time: about half a second each)."""
    firms = read(model.firm_metrics)
    with tempfile.TemporaryDirectory(prefix="cxsim-charts-") as tmp:
        files = plot_firm_series(
            firms, tmp, lambda done, total: progress(done, total, "charts drawn")
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, arcname=f"charts/{path.name}")
        return buffer.getvalue()


def scenario_toml(scenario: Scenario) -> bytes:
    """The exact scenario (with the UI's changes) as TOML that ``cxsim run`` accepts."""
    return scenario.to_toml().encode()


def everything_zip(
    model: CustomerMarket,
    progress: Progress = _quiet,
    changed: tuple[tuple[int, str], ...] = (),
    read: Reader = _direct,
) -> bytes:
    """``cxsim run --out`` 's folder for this run, plus CSVs and charts, zipped.

    ``changed`` lists the changes made to the running market (``(step, key)``); the manifest
    records them under ``changed_mid_run``.
    """
    stem = file_stem(model)
    extra: dict[str, object] = {"exported_from": "cxsim ui"}
    if changed:
        extra["changed_mid_run"] = [{"step": step, "key": key} for step, key in changed]
    with tempfile.TemporaryDirectory(prefix="cxsim-export-") as tmp:
        progress(0, 1, "series written")

        def files() -> tuple[Path, pd.DataFrame]:
            out = write_run(model, Path(tmp) / stem, extra=extra)
            for table, df in series_tables(model).items():
                df.to_csv(out / f"{table}.csv", index=False)
            return out, model.firm_metrics()

        out, firms = read(files)
        progress(1, 1, "series written")
        plot_firm_series(
            firms,
            out / "plots",
            lambda done, total: progress(done, total, "charts drawn"),
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    zf.write(path, arcname=str(path.relative_to(Path(tmp))))
        return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@solara.component
def BuiltDownload(
    label: str, filename: str, build: Callable[[Progress], bytes], mime: str, disabled: bool
) -> None:
    """A button that builds a file in the background, saying how far it has got, and hands it
    to the browser when done (for the zips, whose charts take seconds to draw)."""
    requested, set_requested = solara.use_state(False)
    status, set_status = solara.use_state("")

    def work() -> bytes | None:
        if not requested:
            return None
        set_status("starting")
        data = build(lambda done, total, what: set_status(f"{what}: {done} of {total}"))
        set_status("")
        return data

    result = solara.use_thread(work, dependencies=[requested])
    running = result.state == solara.ResultState.RUNNING
    with solara.Div(classes=["cx-download"], attributes={"data-file": filename}):
        FileDownloadWidget.element(
            filename=filename,
            bytes=result.value
            if requested and result.state == solara.ResultState.FINISHED
            else None,
            request_download=requested,
            on_request_download=set_requested,
            mime_type=mime,
            children=[
                solara.Button(
                    label,
                    icon_name="mdi-download",
                    outlined=True,
                    color="primary",
                    loading=running,
                    disabled=disabled or running,
                )
            ],
        )
        if running and status:
            solara.Text(f"building {filename}: {status} …", classes=["cx-hint", "cx-building"])
    if result.state == solara.ResultState.ERROR and result.error is not None:
        solara.Error(f"{filename} could not be built: {result.error}")


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
        BuiltDownload(
            "charts (PNG, zip)",
            f"{stem}-charts.zip",
            lambda progress: charts_zip(model, progress, state.read),
            "application/zip",
            empty,
        )
    solara.Text("Scenario", classes=["cx-section-title"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        _download(
            "scenario.toml",
            f"{stem}-scenario.toml",
            lambda: scenario_toml(scenario),
            "application/toml",
        )
        changed = state.live_changes.value
        # named as the sidebar names the field ("step 308: First Bank: price")
        names = [*state.change_names, *(key for _, key in changed[len(state.change_names) :])]
        named = [(step, name) for (step, _), name in zip(changed[:8], names, strict=False)]
        BuiltDownload(
            "everything (zip)",
            f"{stem}.zip",
            lambda progress: everything_zip(model, progress, changed, state.read),
            "application/zip",
            empty,
        )
    if changed:
        first = changed[0][0]
        listed = "; ".join(f"step {step}: {_escape(name)}" for step, name in named)
        more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
        solara.HTML(
            tag="p",
            unsafe_innerHTML=(
                f"Changed while the market ran: {listed}{more}. The TOML holds today's values "
                f"from step 0, so <code>cxsim run {_escape(stem)}-scenario.toml</code> follows "
                f"this run up to step {first} only (Reset here starts over the same way)."
            ),
            classes=["cx-hint", "cx-changed-mid-run"],
        )
    else:
        solara.HTML(
            tag="p",
            unsafe_innerHTML=(
                f"<code>cxsim run {_escape(stem)}-scenario.toml --steps {max(model.steps, 1)}"
                "</code> reproduces this run (same seed, same numbers). The TOML holds every "
                "change made in the sidebar."
            ),
            classes=["cx-hint"],
        )
