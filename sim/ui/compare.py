"""The Compare page: two variants, replicates in the background, bands and a table.

Variant A is the market on the Explore page (with the UI's changes) or any scenario file;
variant B is another scenario file, or A with one parameter changed (validated like any control:
a bad value gets a message beside it). Runs go to a local process pool
(:class:`sim.ui.replicates.ReplicateRun`, workers forked from a warm fork server started when
the session opens) from a Solara task, so the page stays live; the progress bar and the status
line count the steps done of every run, and Cancel terminates the workers at once.

The last result stays on the page while a new comparison runs, after Cancel and after the form
changes; it is then greyed and labelled "previous comparison" with its own settings. A firm
that closed in some runs counts with no share and no profit; the page says in how many runs of
each variant it closed (:mod:`sim.ui.replicates`).
"""

from __future__ import annotations

import time

import solara
import solara.lab

from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.ui.charts import QUARTER, Chart, band_option
from sim.ui.compare_table import closure_note, difference_rows
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
    MIN_PAIRS,
    OPEN_ONLY,
    ZERO_WHEN_CLOSED,
    CompareResult,
    CompareSpec,
    ReplicateRun,
    mean_band,
    prestart,
)
from sim.ui.state import SessionState, apply_change, scenario_choices

__all__ = [
    "CURRENT",
    "CompareForm",
    "ComparePage",
    "CompareResults",
    "CompareState",
    "change_keys",
    "closure_note",
    "default_change",
    "difference_rows",
    "previous_label",
]

CURRENT = "Explore market, as edited"
"""Choice meaning "the session's current scenario"."""

VARIANT_COLOURS = ("#1f77b4", "#d62728")

RUNNING = "a new comparison is running"
"""Why the result on the page is not the form's while a comparison runs."""

START_YEAR = {"retention_annual": QUARTER}
"""First year each metric's band chart draws: annual retention only once a quarter of churn
exists (before, it is projected from a few weeks' churn)."""


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


def default_change(a: Scenario, keys: dict[str, FieldSpec]) -> tuple[str, str]:
    """Variant B's change when the form opens, ``(label, value)``: the first key (the first
    firm's strategy) set to a value A does not have (the first other strategy), so that B
    differs from A whatever A's firm does now (a key with no choices keeps A's value)."""
    label = next(iter(keys))
    spec = keys[label]
    current = current_value(a.to_dict(), spec)
    if spec.kind == "choice":
        return label, next((c for c in spec.choices if c != current), str(current))
    return label, " + ".join(current) if isinstance(current, list) else format_value(current)


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
        self.b_default: tuple[str, str] | None = None
        """B's change as :func:`default_change` made it, while the user has not changed it."""
        self.replicates = solara.reactive("10")
        self.steps = solara.reactive("")
        self.scope = solara.reactive("market")
        self.form_error: solara.Reactive[str | None] = solara.reactive(None)
        self.status = solara.reactive("")
        self.result: solara.Reactive[CompareResult | None] = solara.reactive(None)
        self.shown: solara.Reactive[tuple[tuple, CompareSpec] | None] = solara.reactive(None)
        """The form's settings (:meth:`settings`) and the spec of the result on the page."""
        self.task = solara.lab.task(self._run, check_for_render_context=False)

    def settings(self) -> tuple:
        """What the form says now: the Explore scenario (when A is it) and every choice."""
        another = self.b_mode.value == "another scenario"
        return (
            self.session.scenario.value if self.a_source.value == CURRENT else None,
            (
                self.a_source.value,
                self.b_mode.value,
                self.b_source.value if another else None,
                None if another else self.b_key.value,
                None if another else str(self.b_value.value),
                str(self.replicates.value).strip(),
                str(self.steps.value).strip(),
            ),
        )

    def stale(self) -> str | None:
        """Why the result on the page is not the form's comparison (None: it is)."""
        if self.result.value is None:
            return None
        if self.task.pending:
            return RUNNING
        if self.shown.value is None:
            return None
        (scenario, choices), _ = self.shown.value
        now_scenario, now_choices = self.settings()
        if now_scenario is not scenario or now_choices != choices:
            return "the settings above have changed since"
        return None

    def _run(self, spec: CompareSpec, settings: tuple | None = None) -> CompareResult | None:
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
            self.shown.value = (settings, spec) if settings is not None else None
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
        self.task(spec, self.settings())

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
        """B's default change, made again when A changes while the user kept it (A may have
        taken the very value it set: a live change of strategy in Explore)."""
        untouched = (cmp.b_key.value, cmp.b_value.value) == cmp.b_default
        if cmp.b_key.value not in keys or untouched:
            label, value = cmp.b_default = default_change(a, keys)
            cmp.b_key.set(label)
            cmp.b_value.set(value)

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
                message=(
                    f"2 to 200 ({MIN_PAIRS} or more for intervals); replicate r of A and B "
                    "share a random stream"
                ),
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


SHORT_NAMES = {
    "share": "market share",
    "profit": "profit",
    "retention_annual": "retention",
    "nps": "NPS",
    "satisfaction": "satisfaction",
    "trust": "trust",
}


def _titles(metrics: tuple[str, ...]) -> str:
    names = [SHORT_NAMES.get(m, m) for m in metrics]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def previous_label(spec: CompareSpec, why: str) -> str:
    """The label over a result that is not the form's comparison."""
    then = (
        "It stays until the new one finishes."
        if why == RUNNING
        else "Press Run comparison for the settings above."
    )
    return (
        f"Previous comparison ({why}): {spec.labels[0]} · {spec.labels[1]} · "
        f"{spec.replicates} replicates of {spec.steps:,} steps. {then}"
    )


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
    reps = result.replicates
    closed = None if scope == "market" else closure_note(result, scope)
    if scope != "market":
        solara.Text(
            (f"{closed}. " if closed else "")
            + f"Lines: {_titles(ZERO_WHEN_CLOSED)} count {scope} as 0 in a run where it has "
            f"closed (every run counts); {_titles(OPEN_ONLY)} exist only while it has "
            "customers, so their lines are means over the runs in which it is open at that step"
            + (" (after it closes, the runs it survives in)." if closed else "."),
            classes=["cx-hint", "cx-compare-firm-caption"],
        )
    with solara.Div(classes=["cx-grid"]):
        for metric, (title, scale) in metrics.items():
            variants = []
            for v in (0, 1):
                mean, low, high = mean_band(result.series(v, scope, metric) * scale)
                variants.append((result.labels[v], VARIANT_COLOURS[v], mean, low, high))
            with solara.Div(classes=["cx-card-chart"]):
                Chart(
                    band_option(
                        title,
                        "",
                        result.years,
                        variants,
                        LIMITS.get(metric),
                        start_year=START_YEAR.get(metric, 0.0),
                    ),
                    name=f"compare-{metric}",
                    height=300,
                )
    table = result.differences()
    table = table[table["scope"] == scope]
    if closed:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>{closed}.</b> A closed firm counts with no share and no profit.",
            attributes={"data-note": "closures"},
            style=(
                "border-left: 4px solid #b45309; background: #fff7ed; padding: 6px 10px; "
                "margin: 8px 0 4px 0; font-size: 13px"
            ),
        )
    fewer = bool((table["pairs"] < reps).any())
    solara.Text(
        f"End of run (step {int(result.steps[-1])}): B − A, paired by replicate, mean and 95% "
        f"confidence interval over {reps} pairs of runs"
        + (" (fewer where the pairs column says so)" if fewer else "")
        + ", each row to the precision of its interval; ✔ marks an interval that excludes 0. "
        "A row's A, B and B − A are over the same pairs"
        + (
            f"; {_titles(OPEN_ONLY)} are over the pairs in which {scope} is open in both"
            if scope != "market"
            else ""
        )
        + f". Under {MIN_PAIRS} pairs a row has no interval and is not decided.",
        classes=["cx-hint"],
    )
    head = "".join(f"<th>{c}</th>" for c in ("metric", "A", "B", "B − A", "95% CI", "pairs", ""))
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<table class="cx-table" data-table="compare"><thead><tr>{head}</tr></thead>'
            f"<tbody>{difference_rows(table, reps)}</tbody></table>"
        ),
    )
    for line in result.errors[:5]:
        solara.Warning(line)


@solara.component
def ComparePage(cmp: CompareState) -> None:
    """The form, then the latest result: kept while a new one runs, after Cancel and after the
    form changes, but then greyed and labelled with its own settings."""
    FrameMarker(cmp.session)
    CompareForm(cmp)
    result = cmp.result.value
    if result is not None:
        why = cmp.stale()
        shown = cmp.shown.value
        if why is not None and shown is not None:
            solara.Text(
                previous_label(shown[1], why),
                classes=["cx-compare-previous"],
                style={
                    "display": "block",
                    "border-left": "4px solid #5f6368",
                    "background": "#f1f3f4",
                    "padding": "6px 10px",
                    "margin": "8px 0",
                    "font-size": "13px",
                },
            )
        with solara.Div(
            classes=["cx-compare-result"] + (["cx-compare-stale"] if why else []),
            style={"opacity": "0.45", "filter": "grayscale(0.6)"} if why else {},
        ):
            CompareResults(cmp, result)
    elif not cmp.task.pending:
        solara.Info(
            "Choose two variants and press Run comparison. Each variant runs once per "
            "replicate on worker processes; the page stays usable meanwhile."
        )
