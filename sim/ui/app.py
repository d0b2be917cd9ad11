"""The Solara app: ``Page`` is what ``solara run sim.ui.app`` serves.

One :class:`~sim.ui.state.SessionState` (and one comparison) per browser session, created inside
the page with ``solara.use_memo``: nothing model-related lives at module level, so two tabs never
see each other's changes. The sidebar holds the scenario, the run controls and the parameters;
the pages are tabs (only the visible one is rendered, so a running market redraws only what is
on screen).

The scenario to open comes from ``$CXSIM_UI_SCENARIO`` (set by ``cxsim ui``), default
``baseline``.
"""

from __future__ import annotations

import os

import solara
import solara.lab

from sim.scenario import ScenarioError
from sim.ui.calibrate_page import CalibratePage
from sim.ui.calibrate_state import CalibrateState
from sim.ui.compare import ComparePage, CompareState
from sim.ui.controls import Sidebar
from sim.ui.explore import ExplorePage
from sim.ui.export import ExportPage
from sim.ui.inspect import InspectPage
from sim.ui.lessons_page import LessonsPage, LessonsState
from sim.ui.robustness_page import RobustnessPage, RobustnessState
from sim.ui.server import SCENARIO_ENV
from sim.ui.state import SessionState

__all__ = ["CSS", "Layout", "Page", "initial_scenario"]

CSS = """
.cx-hint { font-size: 12px; color: #5f6368; line-height: 1.35; display: block; }
.cx-error { font-size: 12px; color: #b00020; display: block; line-height: 1.35; }
.cx-section-title { font-size: 14px; font-weight: 600; color: #333; margin: 6px 0 4px 0;
  display: block; }
.cx-card { margin-bottom: 10px !important; }
.cx-card .v-card__title { font-size: 15px !important; padding: 8px 12px 4px 12px !important; }
.cx-card .v-card__text { padding: 4px 12px 10px 12px !important; }
.cx-field .v-messages__message { font-size: 11px; line-height: 1.3; }
.cx-field { margin-bottom: 2px; }
.cx-panels .v-expansion-panel-header { min-height: 40px !important; padding: 6px 12px; }
.cx-panels .v-expansion-panel-content__wrap { padding: 4px 10px 10px 10px; }
.cx-subheader { height: 28px !important; font-size: 12px !important; padding: 0 4px; }
.cx-headline { display: flex; flex-wrap: wrap; gap: 8px; margin: 2px 0 8px 0; }
.cx-stat { flex: 1 1 130px; border: 1px solid #e0e0e0; border-radius: 6px;
  padding: 5px 10px; background: #fafafa; min-width: 120px; }
.cx-stat-label { font-size: 11px; text-transform: uppercase; color: #5f6368;
  letter-spacing: 0.04em; display: block; }
.cx-stat-value { font-size: 21px; font-weight: 600; color: #202124; display: block;
  line-height: 1.2; }
.cx-stat-note { font-size: 11px; color: #80868b; display: block; }
@media (max-width: 1366px) {
  .cx-stat { padding: 4px 7px; min-width: 0; }
  .cx-stat-label { letter-spacing: 0; font-size: 10.5px; }
  .cx-stat-note { font-size: 10.5px; }
}
.cx-legend { display: flex; flex-wrap: wrap; gap: 4px 6px; align-items: center;
  margin-bottom: 6px; }
.cx-legend .v-btn { height: 24px !important; font-size: 12px !important; }
.cx-chip { text-transform: none !important; letter-spacing: 0 !important;
  background: #f1f3f4 !important; border-radius: 4px !important; }
.cx-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr));
  gap: 12px; margin-bottom: 12px; width: 100%; }
.cx-card-chart { border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px;
  background: white; min-width: 0; }
.cx-wide { grid-column: 1 / -1; }
.cx-network { margin-bottom: 12px; }
.cx-explore { display: grid; grid-template-columns: minmax(0, 3fr) minmax(360px, 2fr);
  gap: 12px; align-items: start; }
.cx-explore-charts .cx-grid { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
.cx-explore-network { position: sticky; top: 72px; }
@media (max-width: 1180px) {
  .cx-explore { grid-template-columns: minmax(0, 1fr); }
  .cx-explore-network { position: static; }
}
.v-tabs { margin-top: -6px; }
.cx-error-line { display: block; }
.cx-toggle { margin: 0 8px 4px 0; }
.cx-toggle .v-btn { height: 28px !important; }
.cx-facts { display: flex; flex-wrap: wrap; gap: 8px 18px; margin: 6px 0 10px 0; }
.cx-fact { max-width: 100%; }
.cx-fact-value { font-size: 14px; color: #202124; display: block; }
.cx-table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px 0; }
.cx-table th, .cx-table td { border-bottom: 1px solid #e0e0e0; padding: 4px 10px;
  text-align: right; white-space: nowrap; }
.cx-table th:first-child, .cx-table td:first-child { text-align: left; }
.cx-table th { background: #f5f5f5; font-weight: 600; }
.cx-compare-form { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
  gap: 12px; margin-bottom: 8px; }
.cx-download { margin: 4px 8px 8px 0; }
.cx-download .v-btn { text-transform: none !important; letter-spacing: 0 !important; }
.cx-form-card .v-input { margin-top: 14px; margin-bottom: 6px; }
.cx-form-card .v-input .v-messages { min-height: 14px; }
.cx-form-card .v-text-field__details, .cx-form-card .v-messages__message {
  line-height: 1.3; }
"""


def initial_scenario() -> str:
    """The scenario a new session opens: ``$CXSIM_UI_SCENARIO`` or ``baseline``."""
    return os.environ.get(SCENARIO_ENV) or "baseline"


def _new_session() -> tuple[SessionState, str | None]:
    source = initial_scenario()
    try:
        return SessionState(source), None
    except ScenarioError as e:
        if source == "baseline":
            raise
        return SessionState("baseline"), f"{e} (opened baseline instead)"


@solara.component
def Layout(children: list | None = None) -> solara.Element:
    """Solara's app layout with the page scrolling as a whole (its default scrolls the main
    pane inside a fixed-height box); the app bar and the sidebar stay where they are."""
    return solara.AppLayout(children=children or [], style="padding: 12px 16px;")


@solara.component
def Page() -> None:
    """The whole app for one browser session."""
    state, problem = solara.use_memo(_new_session, [])
    cmp = solara.use_memo(lambda: CompareState(state), [state])
    lessons = solara.use_memo(lambda: LessonsState(state), [state])
    odds = solara.use_memo(lambda: RobustnessState(state), [state])
    calibration = solara.use_memo(lambda: CalibrateState(state), [state])

    def cleanup():
        def stop() -> None:
            cmp.cancel()
            calibration.close()
            state.close()

        return stop

    solara.use_effect(cleanup, [])
    solara.Style(CSS)
    solara.Title(f"cxsim · {state.scenario.value.name}")
    with solara.AppBar():
        solara.AppBarTitle(f"cxsim · customer expectations · {state.scenario.value.name}")
    with solara.Sidebar():
        Sidebar(state)
    if problem:
        solara.Warning(problem)
    with solara.lab.Tabs(value=state.tab, lazy=True):
        with solara.lab.Tab("Explore"):
            ExplorePage(state)
        with solara.lab.Tab("Inspect"):
            InspectPage(state)
        with solara.lab.Tab("Compare"):
            ComparePage(cmp)
        with solara.lab.Tab("Export"):
            ExportPage(state)
        with solara.lab.Tab("Lessons"):
            LessonsPage(lessons)
        with solara.lab.Tab("When does it pay?"):
            RobustnessPage(odds)
        with solara.lab.Tab("Calibrate"):
            CalibratePage(calibration)
