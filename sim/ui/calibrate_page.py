"""The Calibrate page: upload observed series, tick the unknown levers, watch the fit, see the
predictive bands over the data, open the fitted market in Explore.

The data format is docs/calibration.md's (CSV or Parquet: series, firm, cohort, year, value,
optional se, n, holdout); a file that does not fit it is refused with one line naming the row
and the column, as ``cxsim calibrate`` does. The state lives in
:class:`sim.ui.calibrate_state.CalibrateState`.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
import solara

from sim.ui.calibrate_state import CalibrateState, Candidate, lever_groups, section_title

__all__ = ["CalibratePage"]

HELP = (
    "Upload your firm's observed series: cohort survival, churn, retention, NPS, satisfaction or "
    "market share, one row per observation (columns series, firm, cohort, year, value; "
    "optionally se, n, holdout). Firms are those of the Explore market. Tick the levers you do "
    "not know (the commonly unknown ones are listed; the filter finds any other); the fit runs "
    "the Explore market many times (ABC-SMC) and keeps the parameter values whose runs look "
    "like your data."
)

GROUP_STYLE = {"display": "block", "margin-top": "14px", "border-bottom": "1px solid #e0e0e0"}
"""A section's heading among the levers."""


@solara.component
def DataCard(cal: CalibrateState) -> None:
    """The upload and what was read."""

    widget = solara.use_ref(None)

    def on_upload(value: Any) -> None:
        files = list(value.values()) if isinstance(value, dict) else list(value or [])
        if files:
            item = files[0]
            name = item.get("name") or item.get("metadata", {}).get("name", "data.csv")
            if not cal.upload(name, bytes(item["content"])) and widget.current is not None:
                widget.current.value = ()  # its "(1)" would count a file not in use

    with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
        solara.Text("Observed data", classes=["cx-section-title"])
        solara.Text(
            "CSV or Parquet; columns series, firm, cohort, year, value (optionally se, n, "
            "holdout); see docs/calibration.md",
            classes=["cx-hint"],
        )
        button = ipywidgets.FileUpload.element(
            accept=".csv,.parquet",
            multiple=False,
            description="Upload data",
            on_value=on_upload,
        )

    def keep_widget() -> None:
        widget.current = solara.get_widget(button)

    solara.use_effect(keep_widget, [])


@solara.component
def DataMessage(cal: CalibrateState) -> None:
    """What was read from the upload, or why it was refused (row and column)."""
    observed = cal.observed.value
    if cal.data_error.value:
        solara.Text(cal.data_error.value, classes=["cx-error", "cx-data-error"])
    elif observed is not None:
        curves = ", ".join(
            f"{s} of {f or 'the market'}" + (f" (cohort {c})" if c >= 0 else "")
            for s, f, c in observed.groups()
        )
        held = int(observed.frame["holdout"].sum())
        solara.Text(
            f"{cal.data_name.value}: {len(observed)} rows ({held} held out), up to year "
            f"{observed.horizon_years:g}: {curves}",
            classes=["cx-hint", "cx-data-summary"],
        )


@solara.component
def LeverRow(cal: CalibrateState, c: Candidate, running: bool) -> None:
    """One lever: unknown or not, its prior range, what it is and where the range comes from."""
    low, high = cal.ranges.value.get(c.key, ("", ""))
    with solara.Row(style={"align-items": "center", "gap": "6px"}):
        solara.Checkbox(
            label=c.key,
            value=bool(cal.unknown.value.get(c.key)),
            on_value=lambda on, key=c.key: cal.set_unknown(key, on),
            disabled=running,
        )
        solara.InputText(
            "low",
            value=low,
            on_value=lambda v, key=c.key, h=high: cal.set_range(key, v, h),
            dense=True,
            disabled=running,
            style={"max-width": "90px"},
            classes=[f"cx-low-{c.key.replace('.', '-')}"],
        )
        solara.InputText(
            "high",
            value=high,
            on_value=lambda v, key=c.key, lo=low: cal.set_range(key, lo, v),
            dense=True,
            disabled=running,
            style={"max-width": "90px"},
            classes=[f"cx-high-{c.key.replace('.', '-')}"],
        )
    source = c.source or "no declared range: give yours"
    solara.Text(f"{c.description} · {source}", classes=["cx-hint"])


@solara.component
def UnknownsCard(cal: CalibrateState) -> None:
    """The levers by section of the schema: the commonly unknown ones, a filter over all, or all."""
    running = cal.task.pending
    text = cal.lever_filter.value
    groups = lever_groups(cal.candidates, text, cal.all_levers.value, cal.unknown.value)
    listed = sum(len(levers) for _, levers in groups)
    ticked = sum(bool(v) for v in cal.unknown.value.values())
    total = len(cal.candidates)
    with solara.Div(classes=["cx-card-chart", "cx-form-card", "cx-unknowns"]):
        solara.Text("Unknown levers and their ranges", classes=["cx-section-title"])
        with solara.Row(style={"align-items": "center", "gap": "16px", "flex-wrap": "wrap"}):
            solara.InputText(
                "filter levers",
                value=cal.lever_filter,
                continuous_update=True,
                dense=True,
                clearable=True,
                placeholder="e.g. trust, churn, reviews",
                style={"min-width": "260px", "max-width": "340px"},
                classes=["cx-lever-filter"],
            )
            with solara.Div(classes=["cx-all-levers"]):
                solara.Checkbox(
                    label=f"list all {total} levers", value=cal.all_levers, disabled=bool(text)
                )
        if text.strip():
            what = f"levers whose name or description holds '{text.strip()}'"
        elif cal.all_levers.value:
            what = "every lever of the model"
        else:
            what = "the levers most often unknown; filter to search all, or list them all"
        solara.Text(
            f"{listed} of {total} listed ({what}) · {ticked} ticked (always listed)",
            classes=["cx-hint", "cx-lever-count"],
        )
        if not groups:
            solara.Text("No lever matches the filter.", classes=["cx-hint", "cx-no-lever"])
        for section, levers in groups:
            solara.Text(
                section_title(section),
                classes=["cx-section-title", "cx-lever-group"],
                style=GROUP_STYLE,
            ).key(f"head-{section}")
            for c in levers:
                LeverRow(cal, c, running).key(c.key)


@solara.component
def BudgetCard(cal: CalibrateState) -> None:
    """Budget and size, Start and Cancel, progress."""
    running = cal.task.pending
    scenario = cal.session.scenario.value
    with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
        solara.Text("Fit", classes=["cx-section-title"])
        solara.InputText(
            "particles per generation",
            value=cal.population,
            dense=True,
            continuous_update=True,
            disabled=running,
            message="at least 10; more gives smoother posteriors and costs runs",
        )
        solara.InputText(
            "generations",
            value=cal.generations,
            dense=True,
            continuous_update=True,
            disabled=running,
            message="after the prior sample; each narrows the acceptance threshold",
        )
        solara.InputText(
            "customers per run",
            value=cal.customers,
            dense=True,
            continuous_update=True,
            disabled=running,
            message=f"empty: the market's {scenario.market.customers:,}; fewer is faster",
        )
        with solara.Row():
            solara.Button(
                "Start",
                color="primary",
                on_click=cal.start,
                disabled=running,
                classes=["cx-start-calibration"],
            )
            solara.Button(
                "Cancel",
                color="error",
                outlined=True,
                on_click=cal.cancel,
                disabled=not running,
                classes=["cx-cancel-calibration"],
            )
    if cal.form_error.value:
        solara.Text(cal.form_error.value, classes=["cx-error", "cx-calibration-error"])
    if running:
        progress = cal.task.progress
        solara.ProgressLinear(value=progress if progress else True, color="primary")
    if cal.status.value:
        solara.Text(cal.status.value, classes=["cx-hint", "cx-calibration-status"])
    if cal.task.error:
        solara.Error(f"The calibration failed: {cal.task.exception}")


def _table(result: Any) -> str:
    ident = result.identifiability.set_index("parameter")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("parameter", "prior", "median", "90% interval", "width / prior", "verdict")
    )
    rows = []
    for _, r in result.intervals.iterrows():
        i = ident.loc[r["parameter"]]
        cells = (
            r["parameter"],
            r["prior"],
            f"{r['median']:.4g}",
            f"{r['q05']:.4g} to {r['q95']:.4g}",
            f"{i['ratio']:.2f}",
            i["verdict"],
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return (
        f'<table class="cx-table" data-table="calibration"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


@solara.component
def CalibrationResults(cal: CalibrateState, result: Any) -> None:
    """Posterior table, predictive bands over the data, marginals; open in Explore."""
    solara.Text("Posterior", classes=["cx-section-title"])
    solara.HTML(tag="div", unsafe_innerHTML=_table(result))
    solara.Button(
        "Open the fitted market in Explore",
        color="primary",
        outlined=True,
        on_click=cal.open_in_explore,
        classes=["cx-open-fitted"],
    )
    solara.Text(
        "The Explore market with each calibrated lever at its posterior median, at its full size.",
        classes=["cx-hint"],
    )
    png = result.files.get("predictive.png")
    if png is not None:
        solara.Text("Posterior predictive bands over the data", classes=["cx-section-title"])
        solara.Image(png.read_bytes(), classes=["cx-predictive-png"])
    marginals = result.files.get("marginals.png")
    if marginals is not None:
        solara.Text("Posterior of each lever over its prior", classes=["cx-section-title"])
        solara.Image(marginals.read_bytes(), classes=["cx-marginals-png"])


@solara.component
def CalibratePage(cal: CalibrateState) -> None:
    """The whole page."""
    solara.Text(HELP, classes=["cx-hint"], style={"margin-bottom": "8px"})
    with solara.Div(classes=["cx-compare-form"]):
        DataCard(cal)
        BudgetCard(cal)
    DataMessage(cal)
    UnknownsCard(cal)
    if cal.result.value is not None:
        CalibrationResults(cal, cal.result.value)
