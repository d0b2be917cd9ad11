"""The Compare page: two variants, replicates in the background, bands and a table.

Variant A is the market on the Explore page (with the UI's changes) or any scenario file;
variant B is another scenario file, or A with one parameter changed (validated like any control:
a bad value gets a message beside it). Runs go to a local process pool
(:class:`sim.ui.replicates.ReplicateRun`, workers forked from a warm fork server started when
the session opens) from a Solara task, so the page stays live; the progress bar and the status
line count the steps done of every run, and Cancel terminates the workers at once.
"""

from __future__ import annotations

import time

import numpy as np
import solara
import solara.lab

from sim.precision import fixed, interval_places
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.ui.charts import Chart, band_option
from sim.ui.fields import (
    FieldSpec,
    behaviour_groups,
    current_value,
    firm_group,
    format_value,
    market_group,
    parse_value,
)
from sim.ui.frames import FrameMarker
from sim.ui.replicates import (
    FIRM_METRICS,
    LIMITS,
    MARKET_METRICS,
    CompareResult,
    CompareSpec,
    ReplicateRun,
    mean_band,
    prestart,
)
from sim.ui.state import SessionState, apply_change, scenario_choices

__all__ = ["CURRENT", "CompareForm", "ComparePage", "CompareResults", "CompareState", "change_keys"]

CURRENT = "Explore market, as edited"
"""Choice meaning "the session's current scenario"."""

VARIANT_COLOURS = ("#1f77b4", "#d62728")


def change_keys(scenario: Scenario) -> dict[str, FieldSpec]:
    """Keys variant B may change, by label: every firm's fields and levers, then behaviour."""
    out: dict[str, FieldSpec] = {}
    for i, firm in enumerate(scenario.firms):
        for spec in firm_group(scenario, i).fields:
            out[f"{firm.name}: {spec.label}"] = spec
    for spec in market_group(scenario).fields:
        if spec.key not in ("seed", "steps"):
            out[f"market: {spec.label}"] = spec
    for group in behaviour_groups():
        for spec in group.fields:
            out[f"{group.title.lower()}: {spec.label}"] = spec
    return out


class CompareState:
    """One session's comparison: the form's choices, the background task and its result."""

    def __init__(self, session: SessionState) -> None:
        prestart()  # the workers' fork server warms up while the user looks around
        self.session = session
        self.a_source = solara.reactive(CURRENT)
        self.b_mode = solara.reactive("one change")
        self.b_source = solara.reactive(session.source.value)
        self.b_key: solara.Reactive[str | None] = solara.reactive(None)
        self.b_value = solara.reactive("")
        self.replicates = solara.reactive("10")
        self.steps = solara.reactive("")
        self.scope = solara.reactive("market")
        self.form_error: solara.Reactive[str | None] = solara.reactive(None)
        self.status = solara.reactive("")
        self.result: solara.Reactive[CompareResult | None] = solara.reactive(None)
        self.task = solara.lab.task(self._run, check_for_render_context=False)

    def _run(self, spec: CompareSpec) -> CompareResult | None:
        run = ReplicateRun(spec)
        started = time.perf_counter()
        self.status.value = run.progress_text(0.0)

        def on_progress(r: ReplicateRun) -> None:
            self.task.progress = round(100 * r.fraction, 1)
            self.status.value = r.progress_text(time.perf_counter() - started)

        result = run.run(on_progress, cancelled=lambda: not self.task.is_current())
        if result is None:
            self.status.value = "cancelled: the worker processes were stopped"
        else:
            self.result.value = result
            self.status.value = (
                f"{spec.runs} runs of {spec.steps} steps in "
                f"{result.seconds:.1f} s on {run.workers} processes"
                + (f"; {len(result.errors)} failed" if result.errors else "")
            )
        return result

    def build_spec(self) -> CompareSpec:
        """The comparison the form describes.

        Raises
        ------
        ValueError
            With a message for the form when a choice or value is invalid.
        """
        session = self.session.scenario.value
        a = session if self.a_source.value == CURRENT else load_scenario(self.a_source.value)
        a_label = "A: " + (
            f"{session.name} (Explore)" if self.a_source.value == CURRENT else self.a_source.value
        )
        if self.b_mode.value == "another scenario":
            b = load_scenario(self.b_source.value)
            b_label = f"B: {self.b_source.value}"
        else:
            keys = change_keys(a)
            label = self.b_key.value or next(iter(keys))
            if label not in keys:
                raise ValueError(f"choose what B changes (from {a.name})")
            spec = keys[label]
            value = self.b_value.value
            if spec.kind == "choices":
                value = _names(value)
            try:
                b = apply_change(a, spec.key, parse_value(spec, value))
            except ScenarioError as e:
                raise ValueError(f"{label}: {e.detail}") from None
            b_label = f"B: {label} = {self.b_value.value or 'none'}"
        if b.to_dict() == a.to_dict():
            raise ValueError(
                "B is the same market as A: change a value (or pick another scenario) to compare"
            )
        try:
            replicates = int(str(self.replicates.value).strip())
        except ValueError:
            raise ValueError(
                f"replicates: expected a whole number, got {self.replicates.value!r}"
            ) from None
        if not 2 <= replicates <= 200:
            raise ValueError(f"replicates: expected 2 to 200, got {replicates}")
        steps_text = str(self.steps.value).strip() or str(a.steps)
        try:
            steps = int(steps_text)
        except ValueError:
            raise ValueError(f"steps: expected a whole number, got {steps_text!r}") from None
        if not 1 <= steps <= 100_000:
            raise ValueError(f"steps: expected 1 to 100,000, got {steps}")
        return CompareSpec(
            a, b, (a_label, b_label), replicates=replicates, steps=steps, seed=a.seed
        )

    def start(self) -> None:
        """Validate the form and start the runs (a running comparison is replaced)."""
        try:
            spec = self.build_spec()
        except (ValueError, ScenarioError) as e:
            self.form_error.value = str(e)
            return
        self.form_error.value = None
        self.scope.value = "market"
        self.task(spec)

    def cancel(self) -> None:
        """Stop the runs now."""
        if self.task.pending:
            self.task.cancel()


@solara.component
def ChangeValue(cmp: CompareState, spec: FieldSpec, running: bool) -> None:
    """What B sets the chosen key to: a chooser for a choice (one strategy), a multiple
    chooser for a list (the strategies combined with it), else a typed value."""
    if spec.kind == "choice":
        value = cmp.b_value.value if cmp.b_value.value in spec.choices else spec.choices[0]
        solara.Select(
            "to",
            value=value,
            values=list(spec.choices),
            on_value=cmp.b_value.set,
            dense=True,
            disabled=running,
            classes=["cx-compare-to"],
        )
        solara.Text(spec.description, classes=["cx-hint"])
    elif spec.kind == "choices":
        chosen = [v for v in _names(cmp.b_value.value) if v in spec.choices]
        solara.SelectMultiple(
            "to",
            values=chosen,
            all_values=list(spec.choices),
            on_value=lambda v: cmp.b_value.set(" + ".join(v)),
            dense=True,
            disabled=running,
            classes=["cx-compare-to"],
        )
        solara.Text(spec.description, classes=["cx-hint"])
    else:
        solara.InputText(
            "to",
            value=cmp.b_value,
            message=spec.hint or spec.description,
            dense=True,
            continuous_update=True,
            disabled=running,
            classes=["cx-compare-to"],
        )


def _names(text: str) -> list[str]:
    return [v.strip() for v in str(text).replace("+", ",").split(",") if v.strip()]


@solara.component
def CompareForm(cmp: CompareState) -> None:
    """Variants, replicates, steps; Run and Cancel; progress."""
    names = [n for n, _ in solara.use_memo(scenario_choices, [])]
    session = cmp.session.scenario.value
    a = session if cmp.a_source.value == CURRENT else None
    if a is None:
        try:
            a = load_scenario(cmp.a_source.value)
        except ScenarioError as e:
            solara.Error(str(e))
            a = session
    keys = solara.use_memo(lambda: change_keys(a), [a])
    key = cmp.b_key.value if cmp.b_key.value in keys else next(iter(keys))
    spec = keys[key]
    running = cmp.task.pending

    def on_key(label: str) -> None:
        cmp.b_key.set(label)
        chosen = keys[label]
        value = current_value(a.to_dict(), chosen)
        cmp.b_value.set(" + ".join(value) if isinstance(value, list) else format_value(value))

    def initialise() -> None:
        if cmp.b_key.value not in keys:
            on_key(next(iter(keys)))

    solara.use_effect(initialise, [a])
    with solara.Div(classes=["cx-compare-form"]):
        with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
            solara.Text("Variant A", classes=["cx-section-title"])
            solara.Select(
                "A is", value=cmp.a_source, values=[CURRENT, *names], dense=True, disabled=running
            )
            solara.Text(
                f"{a.name}: {a.market.customers:,} customers, {len(a.firms)} firms, seed {a.seed}",
                classes=["cx-hint"],
            )
        with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
            solara.Text("Variant B", classes=["cx-section-title"])
            solara.ToggleButtonsSingle(
                value=cmp.b_mode,
                values=["one change", "another scenario"],
                dense=True,
                classes=["cx-toggle"],
            )
            if cmp.b_mode.value == "another scenario":
                solara.Select(
                    "B is", value=cmp.b_source, values=names, dense=True, disabled=running
                )
            else:
                solara.Select(
                    "B changes",
                    value=key,
                    values=list(keys),
                    on_value=on_key,
                    dense=True,
                    disabled=running,
                )
                ChangeValue(cmp, spec, running)
        with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
            solara.Text("Runs", classes=["cx-section-title"])
            solara.InputText(
                "replicates per variant",
                value=cmp.replicates,
                dense=True,
                continuous_update=True,
                disabled=running,
                message="2 to 200; replicate r of A and B share a random stream",
            )
            solara.InputText(
                "steps per run",
                value=cmp.steps,
                dense=True,
                continuous_update=True,
                disabled=running,
                message=f"empty: the scenario's {a.steps} ({a.steps / a.steps_per_year:g} years)",
            )
            with solara.Row():
                solara.Button(
                    "Run comparison",
                    color="primary",
                    on_click=cmp.start,
                    disabled=running,
                    classes=["cx-run-compare"],
                )
                solara.Button(
                    "Cancel",
                    color="error",
                    outlined=True,
                    on_click=cmp.cancel,
                    disabled=not running,
                    classes=["cx-cancel-compare"],
                )
    if cmp.form_error.value:
        solara.Text(cmp.form_error.value, classes=["cx-error", "cx-compare-error"])
    if running:
        progress = cmp.task.progress
        solara.ProgressLinear(value=progress if progress else True, color="primary")
    if cmp.status.value:
        solara.Text(cmp.status.value, classes=["cx-hint", "cx-compare-status"])
    if cmp.task.error:
        solara.Error(f"The comparison failed: {cmp.task.exception}")


def _fmt(x: float, digits: int = 2) -> str:
    return "-" if x is None or np.isnan(x) else fixed(x, digits)


def row_places(low: float, high: float) -> int:
    """Decimals for a row of the differences table: to the second significant digit of the
    interval's half-width (:func:`sim.precision.interval_places`), 2 without one."""
    places = None if low is None or high is None else interval_places((high - low) / 2)
    return 2 if places is None else places


@solara.component
def CompareResults(cmp: CompareState, result: CompareResult) -> None:
    """Mean lines with 95% bands per metric, and the end-of-run differences."""
    scopes = ["market", *result.common_firms]
    scope = cmp.scope.value if cmp.scope.value in scopes else "market"
    solara.Select(
        "show",
        value=scope,
        values=scopes,
        on_value=cmp.scope.set,
        dense=True,
        style={"max-width": "360px"},
    )
    metrics = MARKET_METRICS if scope == "market" else FIRM_METRICS
    reps = result.market[0]["nps"].shape[0]
    with solara.Div(classes=["cx-grid"]):
        for metric, (title, scale) in metrics.items():
            variants = []
            for v in (0, 1):
                mean, low, high = mean_band(result.series(v, scope, metric) * scale)
                variants.append((result.labels[v], VARIANT_COLOURS[v], mean, low, high))
            with solara.Div(classes=["cx-card-chart"]):
                Chart(
                    band_option(title, "", result.years, variants, LIMITS.get(metric)),
                    name=f"compare-{metric}",
                    height=300,
                )
    table = result.differences()
    table = table[table["scope"] == scope]
    solara.Text(
        f"End of run (step {int(result.steps[-1])}): B − A, paired by replicate, mean "
        f"and 95% confidence interval over {reps} replicates, each row to the precision of "
        "its interval; ✔ marks an interval that excludes 0.",
        classes=["cx-hint"],
    )
    head = "".join(f"<th>{c}</th>" for c in ("metric", "A", "B", "B − A", "95% CI", "pairs", ""))
    rows = ""
    for r in table.itertuples():
        d = row_places(r.low, r.high)
        rows += (
            f"<tr><td>{r.metric}</td><td>{_fmt(r.a, d)}</td><td>{_fmt(r.b, d)}</td>"
            f"<td>{_fmt(r.difference, d)}</td><td>{_fmt(r.low, d)} to {_fmt(r.high, d)}</td>"
            f"<td>{r.pairs}</td><td>{'✔' if r.clear else ''}</td></tr>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<table class="cx-table" data-table="compare"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        ),
    )
    for line in result.errors[:5]:
        solara.Warning(line)


@solara.component
def ComparePage(cmp: CompareState) -> None:
    """The form, then the latest result (kept while a new one runs)."""
    FrameMarker(cmp.session)
    CompareForm(cmp)
    result = cmp.result.value
    if result is not None:
        CompareResults(cmp, result)
    elif not cmp.task.pending:
        solara.Info(
            "Choose two variants and press Run comparison. Each variant runs once per "
            "replicate on worker processes; the page stays usable meanwhile."
        )
