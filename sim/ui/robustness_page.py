"""The "When does it pay?" page: a scenario's claim (or two firms pitted) over plausible worlds.

Pick a scenario and one of its claims, or two firms and a metric to pit them on; the page runs a
robustness study (:mod:`sim.robustness`) on a background thread of the server
(:mod:`sim.robustness.background`), stored in a folder named by the settings. The runs go on
when the tab is closed; a tab opened later with the same settings finds the job's progress or
its stored results. It shows the odds with their interval, the verdict in words with PRIM's
conditions, a map of the claim's margin over the two parameters that decide it most, and the
first-order indices.

Studies are stored under ``$CXSIM_ROBUSTNESS_DIR`` (default ``results/robustness/ui``). With
"only worlds that reproduce the published facts" ticked, the worlds come from the fit of
``cxsim facts`` in ``$CXSIM_FACTS_DIR`` (default ``results/facts``; docs/robustness.md).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara

from sim.robustness.background import job_for, start_job
from sim.robustness.ranges import RobustnessError
from sim.scenario import ScenarioError, list_scenarios, load_scenario
from sim.ui.robustness_words import undecided_note, versus_line
from sim.ui.state import SessionState

__all__ = [
    "DIR_ENV",
    "FACTS_ENV",
    "MARGIN_NOTE",
    "PIT",
    "PIT_METRICS",
    "RobustnessPage",
    "RobustnessState",
    "StudySettings",
    "claim_scenarios",
    "facts_posterior",
    "odds_boxes",
    "undecided_note",
]

DIR_ENV = "CXSIM_ROBUSTNESS_DIR"
FACTS_ENV = "CXSIM_FACTS_DIR"
PIT = "Pit two firms…"
PIT_METRICS = {
    "market share at the end": "share",
    "annual retention at the end": "retention_annual",
    "profit in the last year": "profit",
    "trust at the end": "trust",
    "NPS at the end": "nps",
    "mean satisfaction at the end": "satisfaction",
}
DEFAULT_RANGES = "experiments/robustness/ranges.toml"
ROBUSTNESS_CSS = """
.cx-deciders { width: 100%; table-layout: auto; }
.cx-deciders td:first-child { white-space: normal; min-width: 14em; }
.cx-deciders td:nth-child(2) { white-space: normal; }
.cx-deciders tr.cx-standout td { font-weight: 600; }
"""
"""The deciders' table wraps its long parameter names inside its card (``.cx-table`` keeps
cells on one line, and the schema's descriptions ran past the page's right edge)."""


MARGIN_NOTE = (
    "in the claim's units (e.g. share points as a fraction: 0.05 = 5 points); > 0: it holds"
)
"""What the mean margin is: the claim's left side minus its right (or the reverse for ``<``),
in whatever its references measure, averaged over the decided worlds."""


def claim_scenarios() -> list[str]:
    """Names of the scenarios on the search path that state claims."""
    out = []
    for name, path, _ in list_scenarios():
        try:
            if load_scenario(path).claims:
                out.append(name)
        except ScenarioError:
            continue
    return out


def facts_posterior() -> Path:
    """Where the fit to the published facts keeps its worlds (``cxsim facts --out``)."""
    return Path(os.environ.get(FACTS_ENV) or "results/facts") / "posterior.parquet"


def facts_fit_note() -> str:
    """What the fit to the published facts holds, in a few words (for the form's hint)."""
    post = facts_posterior()
    if not post.is_file():
        return f"not made yet ({post})"
    try:
        info = json.loads((post.parent / "fit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    words = f"found ({post})"
    if info.get("reproduces") is not True:  # cxsim facts stopped before every world fitted
        words += ": an unfinished fit, not every one of its worlds reproduces every fact yet"
    elif info.get("ancestors"):
        words += (
            f": {info['distinct_worlds']} distinct worlds from {info['ancestors']} lineages, "
            f"{info['between_lineages']:.0%} of their variance between lineages, so its odds "
            "and deciding parameters are a few neighbourhoods' as much as the facts' "
            "(docs/robustness.md)"
        )
    return words


@dataclass(frozen=True)
class StudySettings:
    """What the form asks for, checked."""

    scenario: str
    claims: tuple[tuple[str, str], ...] | None
    claim_name: str
    worlds: int
    replicates: int
    customers: int
    ranges: str | None
    fitted: str | None = None

    @property
    def folder(self) -> Path:
        """Where this study is stored (the claims are re-read from the runs, not part of it,
        but for their versus tables: each runs every world once more)."""
        text = Path(self.ranges).read_text(encoding="utf-8") if self.ranges else ""
        tag = hashlib.sha256(text.encode()).hexdigest()[:8]
        if self.fitted:
            worlds = hashlib.sha256(Path(self.fitted).read_bytes()).hexdigest()[:8]
            tag += f"-facts{worlds}"
        tables = self.versus_tables()
        if tables:
            tag += "-vs" + hashlib.sha256(json.dumps(tables, default=str).encode()).hexdigest()[:8]
        base = Path(os.environ.get(DIR_ENV) or "results/robustness/ui")
        return base / (f"{self.scenario}-{self.worlds}w{self.replicates}r{self.customers}c-{tag}")

    def versus_tables(self) -> list[dict[str, object]]:
        """The distinct versus tables of the claims the study tests, in order of first use."""
        if self.claims:
            return []
        out: list[dict[str, object]] = []
        for c in load_scenario(self.scenario).claims:
            if c.versus and c.versus not in out:
                out.append(dict(c.versus))
        return out

    def plan(self):
        """The study (its worlds are the same on every call)."""
        from sim.robustness.study import plan_study

        return plan_study(
            self.scenario,
            self.ranges,
            claims=list(self.claims) if self.claims else None,
            worlds=self.worlds,
            replicates=self.replicates,
            fixed={"market.customers": self.customers},
            posterior=self.fitted,
        )


def _whole(label: str, text: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError(f"{label}: expected a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{label}: expected {low:,} to {high:,}, got {value:,}")
    return value


class RobustnessState:
    """One session's choices on the page.

    The scenario follows the sidebar's: the page opens on the session's scenario (when it states
    claims) and moves to each scenario loaded in the sidebar afterwards (:meth:`follow`); a
    scenario picked on the page stays until the sidebar loads another. Changing any field clears
    the form's message (:meth:`edit`).
    """

    def __init__(self, session: SessionState) -> None:
        names = claim_scenarios()
        current = session.scenario.value.name
        first = current if current in names else (names[0] if names else "")
        self.session = session
        self.names = names
        self.scenario = solara.reactive(first)
        self.claim = solara.reactive("")
        self.firm_a = solara.reactive("")
        self.firm_b = solara.reactive("")
        self.metric = solara.reactive(next(iter(PIT_METRICS)))
        self.worlds = solara.reactive("64")
        self.replicates = solara.reactive("2")
        self.customers = solara.reactive("1000")
        self.ranges = solara.reactive(DEFAULT_RANGES if Path(DEFAULT_RANGES).is_file() else "")
        self.fitted = solara.reactive(False)
        self.form_error: solara.Reactive[str | None] = solara.reactive(None)
        self.tick = solara.reactive(0)
        self._followed = current

    def edit(self, field: solara.Reactive, value: object) -> None:
        """A field changed: set it and clear the form's message (it was about the old values)."""
        field.value = value
        self.form_error.value = None

    def follow(self, sidebar: str) -> None:
        """The sidebar's scenario is ``sidebar``: if it is new and states claims, test it."""
        if sidebar == self._followed:
            return
        self._followed = sidebar
        if sidebar in self.names and sidebar != self.scenario.value:
            self.edit(self.scenario, sidebar)

    def settings(self) -> StudySettings:
        """The study the form describes.

        Raises
        ------
        ValueError
            A message for the form.
        """
        scenario = load_scenario(self.scenario.value)
        firms = [f.name for f in scenario.firms]
        if self.claim.value == PIT:
            a, b = self.firm_a.value or firms[0], self.firm_b.value or firms[-1]
            if a == b:
                raise ValueError("pit two different firms")
            metric = PIT_METRICS[self.metric.value]
            says = f"{a} beats {b} on {self.metric.value}"
            claims: tuple[tuple[str, str], ...] | None = (
                (f"firms.{a}.{metric} > firms.{b}.{metric}", says),
            )
            claim_name = "claim 1"
        else:
            names = [c.name for c in scenario.claims]
            claim_name = self.claim.value if self.claim.value in names else names[0]
            claims = None
        ranges = str(self.ranges.value).strip() or None
        if ranges and not Path(ranges).is_file():
            raise ValueError(f"robustness file: {ranges!r} not found")
        fitted = facts_posterior() if self.fitted.value else None
        if fitted is not None and not fitted.is_file():
            raise ValueError(
                f"worlds that reproduce the published facts: {fitted} not found; fit them first "
                f"with: cxsim facts --out {fitted.parent} (about 35 minutes on 2 cores)"
            )
        return StudySettings(
            scenario=self.scenario.value,
            claims=claims,
            claim_name=claim_name,
            worlds=_whole("worlds", self.worlds.value, 8, 4096),
            replicates=_whole("replicates", self.replicates.value, 1, 20),
            customers=_whole("customers", self.customers.value, 100, 20_000),
            ranges=ranges,
            fitted=str(fitted) if fitted else None,
        )

    def start(self) -> None:
        """Check the form and start (or rejoin) the study."""
        try:
            s = self.settings()
            study = s.plan()
        except (ValueError, ScenarioError) as e:
            self.form_error.value = str(e)
            return
        self.form_error.value = None
        start_job(study, s.folder)
        self.tick.value += 1


def _breakable(key: str) -> str:
    """A dotted key as HTML that may wrap after its dots and underscores, not inside words."""
    return html.escape(key).replace(".", ".<wbr>").replace("_", "_<wbr>")


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


@solara.component
def StudyForm(st: RobustnessState) -> None:
    """Scenario, claim or firms to pit, worlds, replicates, customers, ranges; Run."""
    try:
        scenario = load_scenario(st.scenario.value)
    except ScenarioError as e:
        solara.Error(str(e))
        return
    claims = [c.name for c in scenario.claims]
    firms = [f.name for f in scenario.firms]
    choice = st.claim.value if st.claim.value in [*claims, PIT] else claims[0]
    with solara.Div(classes=["cx-compare-form"]):
        with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
            solara.Text("What to test", classes=["cx-section-title"])
            solara.Select(
                "scenario",
                value=st.scenario.value,
                values=st.names,
                on_value=lambda v: st.edit(st.scenario, v),
                dense=True,
            )
            solara.Select(
                "claim",
                value=choice,
                values=[*claims, PIT],
                on_value=lambda v: st.edit(st.claim, v),
                dense=True,
            )
            if choice == PIT:
                a = st.firm_a.value if st.firm_a.value in firms else firms[0]
                b = st.firm_b.value if st.firm_b.value in firms else firms[-1]
                solara.Select(
                    "firm",
                    value=a,
                    values=firms,
                    on_value=lambda v: st.edit(st.firm_a, v),
                    dense=True,
                )
                solara.Select(
                    "beats",
                    value=b,
                    values=firms,
                    on_value=lambda v: st.edit(st.firm_b, v),
                    dense=True,
                )
                solara.Select(
                    "on",
                    value=st.metric.value,
                    values=list(PIT_METRICS),
                    on_value=lambda v: st.edit(st.metric, v),
                    dense=True,
                )
            else:
                says = next(c for c in scenario.claims if c.name == choice)
                solara.Text(says.says, classes=["cx-hint", "cx-claim-says"])
                solara.Text(says.holds, classes=["cx-hint"])
                if says.versus:
                    solara.Text(versus_line(says.versus, scenario), classes=["cx-hint"])
        with solara.Div(classes=["cx-card-chart", "cx-form-card"]):
            solara.Text(
                "Worlds that reproduce the facts" if st.fitted.value else "Plausible worlds",
                classes=["cx-section-title"],
            )
            solara.InputText(
                "worlds",
                value=st.worlds.value,
                on_value=lambda v: st.edit(st.worlds, v),
                dense=True,
                continuous_update=True,
                message=(
                    "8 to 4,096: at most that many of the fit's worlds (each once)"
                    if st.fitted.value
                    else "8 to 4,096 points of parameter space (Latin hypercube)"
                ),
            )
            solara.InputText(
                "replicates per world",
                value=st.replicates.value,
                on_value=lambda v: st.edit(st.replicates, v),
                dense=True,
                continuous_update=True,
                message="1 to 20 runs, shared seeds",
            )
            solara.InputText(
                "customers",
                value=st.customers.value,
                on_value=lambda v: st.edit(st.customers, v),
                dense=True,
                continuous_update=True,
                message="market size of every run",
            )
            solara.InputText(
                "robustness file (ranges)",
                value=st.ranges.value,
                on_value=lambda v: st.edit(st.ranges, v),
                dense=True,
                continuous_update=True,
                message="empty: only the ranges the schema declares",
            )
            solara.Checkbox(
                label="only worlds that reproduce the published facts",
                value=st.fitted.value,
                on_value=lambda v: st.edit(st.fitted, v),
            )
            solara.Text(
                "the worlds of the fit 'cxsim facts' keeps (docs/robustness.md): those that also "
                "show the validation's in-sample facts; " + facts_fit_note(),
                classes=["cx-hint"],
            )
            if scenario.held:
                solara.Text(
                    "held at the scenario's value (its set-up): " + ", ".join(scenario.held),
                    classes=["cx-hint", "cx-held"],
                )
            solara.Button("Run", color="primary", on_click=st.start, classes=["cx-run-study"])
    if st.form_error.value:
        solara.Text(st.form_error.value, classes=["cx-error", "cx-study-error"])


@solara.component
def StudyResult(st: RobustnessState, s: StudySettings) -> None:
    """Progress of the study of ``s`` and what its finished runs say."""
    folder = s.folder
    job = job_for(folder)
    running = job is not None and job.running

    def poll():
        import time

        while job is not None and job.running:  # solara stops this thread when the page goes
            time.sleep(1.5)
            st.tick.value += 1

    solara.use_thread(poll, dependencies=[str(folder), running])
    tick = st.tick.value
    stored = (folder / "runs" / "manifest.json").exists()
    done = (job.skipped + job.done) if job else -1
    analysis, error = solara.use_memo(
        lambda: _analysis(s) if stored else (None, None),
        [s, stored, done, job.state if job else "", tick if not running else 0],
    )
    if running:
        solara.ProgressLinear(value=round(100 * job.fraction, 1), color="primary")
        with solara.Row():
            solara.Text(
                f"{job.skipped + job.done} of {job.total} runs · {job.seconds:.0f} s · the runs "
                "go on if you leave this page; come back with the same settings to see them",
                classes=["cx-hint", "cx-study-status"],
            )
            solara.Button(
                "Cancel",
                color="error",
                outlined=True,
                on_click=job.cancel,
                classes=["cx-cancel-study"],
            )
    elif job is not None and job.state == "failed":
        solara.Error(f"The study failed: {job.error}")
    elif job is not None and job.state == "cancelled":
        solara.Text(
            "cancelled: the finished runs are kept; Run resumes",
            classes=["cx-hint", "cx-study-status"],
        )
    if not stored:
        solara.Info(
            "Press Run: every world runs on worker processes on the server; the first results "
            "show as soon as runs finish."
        )
        return
    if error:
        solara.Error(error)
        return
    if analysis is None or not analysis.runs_ok:
        solara.Info("No finished run stored yet (runs are written a batch at a time).")
        return
    verdict = next((v for v in analysis.verdicts if v.claim.name == s.claim_name), None)
    if verdict is None:
        solara.Info("No world decides this claim yet.")
        return
    OddsView(analysis, verdict)


def _analysis(s: StudySettings):
    from sim.robustness.report import analyze
    from sim.sweep.results import SweepResults

    try:
        return analyze(s.plan(), SweepResults(s.folder / "runs")), None
    except (RobustnessError, ScenarioError, ValueError) as e:
        return None, str(e)


def odds_boxes(analysis: Any, verdict: Any) -> list[tuple[str, str, str]]:
    """The headline boxes of a verdict: ``(label, value, note)`` for its odds, their interval
    and its mean margin. A claim that holds by construction says so under its odds."""
    o = verdict.odds
    partial = "" if analysis.complete else f" (so far: {analysis.runs_ok} of "
    partial += f"{analysis.runs_total} runs)" if partial else ""
    built_in = "; built in, not a finding" if verdict.claim.by_construction else ""
    from sim.robustness.report import worlds_are

    kind = "worlds" if analysis.study.posterior is None else worlds_are(analysis.study)
    return [
        ("holds in", f"{100 * o.share:.0f}%", f"of {o.worlds} {kind}{partial}{built_in}"),
        ("95% interval", f"{100 * o.low:.0f}–{100 * o.high:.0f}%", "Wilson score"),
        ("mean margin", f"{verdict.margin_mean:+.3g}", MARGIN_NOTE),
    ]


@solara.component
def OddsView(analysis, verdict) -> None:
    """Odds, the verdict in words, the margin map and the deciding parameters."""
    from sim.robustness.figures import margin_map
    from sim.robustness.importance import MIN_WORLDS
    from sim.robustness.verdicts import STANDS_OUT, parameter_label

    o = verdict.odds
    cells = "".join(
        f'<div class="cx-stat" data-stat="{label}"><span class="cx-stat-label">{label}</span>'
        f'<span class="cx-stat-value">{value}</span><span class="cx-stat-note">{note}</span>'
        "</div>"
        for label, value, note in odds_boxes(analysis, verdict)
    )
    solara.HTML(tag="div", unsafe_innerHTML=cells, classes=["cx-headline"])
    solara.HTML(tag="p", unsafe_innerHTML=html.escape(verdict.sentence()), classes=["cx-verdict"])
    if o.undecided:
        solara.Text(undecided_note(o.undecided, verdict.claim), classes=["cx-hint", "cx-undecided"])
    png = solara.use_memo(
        lambda: _png(margin_map(verdict, analysis.worlds, analysis.margins[verdict.claim.name])),
        [verdict.odds, analysis.runs_ok, verdict.claim.text],
    )
    with solara.Div(classes=["cx-grid"]):
        with solara.Div(classes=["cx-card-chart", "cx-margin-map"]):
            solara.Image(png)
        with solara.Div(classes=["cx-card-chart"]):
            solara.Text("What decides it", classes=["cx-section-title"])
            if verdict.importance.empty:
                solara.Text(
                    f"Indices need at least {MIN_WORLDS} decided worlds; the map shows the "
                    "first two varied parameters meanwhile.",
                    classes=["cx-hint"],
                )
            else:
                standouts = set(verdict.standouts["parameter"])
                solara.Text(
                    "Share of the claim's margin variance each parameter explains alone "
                    "(RBD-FAST over the worlds). The map shows the two largest, or the parameters "
                    "of PRIM's box when it found one."
                    + (
                        " In bold: those that stand out from the estimator's noise."
                        if standouts
                        else " None stands out from the estimator's noise (an index of at least "
                        f"{STANDS_OUT} whose interval lies above 0): no one parameter decides it "
                        "alone."
                    ),
                    classes=["cx-hint"],
                )
                rows = "".join(
                    f'<tr class="{"cx-standout" if r.parameter in standouts else ""}">'
                    f"<td>{html.escape(parameter_label(r.parameter))}</td>"
                    f"<td><code>{_breakable(r.parameter)}</code></td><td>{r.S1:.2f}</td>"
                    f"<td>± {r.S1_conf:.2f}</td></tr>"
                    for r in verdict.importance.head(6).itertuples()
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=(
                        '<table class="cx-table cx-deciders" data-table="deciders"><thead><tr>'
                        "<th>parameter</th><th>key</th><th>first-order index</th><th>95%</th>"
                        f"</tr></thead><tbody>{rows}</tbody></table>"
                    ),
                )


@solara.component
def RobustnessPage(st: RobustnessState) -> None:
    """The form, then the chosen study's progress and verdict."""
    sidebar = st.session.scenario.value.name
    solara.use_effect(lambda: st.follow(sidebar), [sidebar])
    if not st.names:
        solara.Info("No scenario on the search path states claims ([[claims]]).")
        return
    solara.Style(ROBUSTNESS_CSS)
    StudyForm(st)
    try:
        s = st.settings()
    except (ValueError, ScenarioError):
        return
    StudyResult(st, s)
