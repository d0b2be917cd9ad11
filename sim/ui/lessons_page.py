"""The Lessons page: a lesson's text beside the live model of its scenario.

The lessons are the Markdown files of ``docs/lessons/`` (:func:`sim.lessons.load_lessons`).
Picking one loads its scenario into the session (the same :class:`~sim.ui.state.SessionState`
the Explore page and the sidebar use, so the run controls, the parameter panels and the other
pages all show the lesson's market). Each "thing to try" is a button: it loads the lesson's
scenario with that item's ``set`` overrides applied (:meth:`sim.lessons.Lesson.scenario_for`)
and restarts the market at step 0; "Lesson's own market" goes back to the scenario as written.
If the market in the session was edited, the page asks before replacing it.

The text is rendered with Python-Markdown (a dependency of Solara) with raw HTML switched off,
never with ``solara.Markdown``, which fetches KaTeX from a CDN. Only the headline and three
charts redraw per frame (:func:`sim.ui.frames.use_frame`).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import markdown
import solara

from sim.lessons import DEFAULT_CHARTS, SECTIONS, Lesson, LessonError, Try, load_lessons
from sim.model import CustomerMarket
from sim.scenario import ScenarioError
from sim.ui.charts import (
    EXPLORE_CHARTS,
    FirmSeries,
    experience_expectation_option,
    firm_colours,
    firm_line_option,
    word_of_mouth_option,
)
from sim.ui.echarts_widget import board_element
from sim.ui.explore import firm_series, headline_html
from sim.ui.fields import UI_MAX_CUSTOMERS
from sim.ui.frames import use_frame
from sim.ui.state import SessionState

__all__ = ["LessonsPage", "LessonsState", "lesson_chart", "render_markdown", "try_summary"]


def lesson_chart(name: str, series: FirmSeries, colours: list[str]) -> dict[str, Any]:
    """The option of a chart a lesson asks for (a name of :data:`sim.lessons.CHARTS`)."""
    if name == "experience":
        return experience_expectation_option(series, colours)
    if name == "word_of_mouth":
        return word_of_mouth_option(series, colours)
    return firm_line_option(series, colours=colours, **EXPLORE_CHARTS[name])


LESSONS_CSS = """
.cx-lesson-picks { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 10px 0; }
.cx-lesson-pick { text-transform: none !important; letter-spacing: 0 !important; }
.cx-lesson-layout { display: grid; grid-template-columns: minmax(320px, 5fr) minmax(420px, 6fr);
  gap: 18px; width: 100%; align-items: start; }
.cx-lesson-text { font-size: 14px; line-height: 1.5; color: #202124; }
.cx-lesson-text h2 { font-size: 17px; margin: 14px 0 4px 0; }
.cx-lesson-text h1 { font-size: 21px; margin: 4px 0 6px 0; }
.cx-lesson-text p { margin: 0 0 8px 0; }
.cx-lesson-text ul, .cx-lesson-text ol { margin: 0 0 8px 0; padding-left: 22px; }
.cx-lesson-text code { background: #f1f3f4; padding: 0 3px; border-radius: 3px; font-size: 13px; }
.cx-lesson-tries { display: flex; flex-direction: column; align-items: flex-start; gap: 4px;
  margin: 4px 0 10px 0; }
.cx-lesson-try { text-transform: none !important; letter-spacing: 0 !important;
  height: auto !important; min-height: 30px; white-space: normal; text-align: left; }
.cx-lesson-status { font-size: 13px; border-left: 4px solid #1a73e8; background: #f8f9fa;
  padding: 6px 10px; margin: 0 0 10px 0; }
.cx-lesson-status code { background: #e8eaed; padding: 0 3px; border-radius: 3px; }
.cx-lesson-live .cx-grid { grid-template-columns: 1fr; }
"""


def render_markdown(text: str) -> str:
    """HTML for a lesson's Markdown, with raw HTML in the source shown as text.

    Parameters
    ----------
    text
        Markdown (paragraphs, lists, emphasis, code spans, links).

    Returns
    -------
    str
        HTML safe to put in the page: ``<`` in the source never becomes a tag.
    """
    md = markdown.Markdown(extensions=[], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md.convert(text)


def try_summary(tried: Try | None) -> str:
    """The overrides a thing to try applies, as ``key = value`` pairs (TOML/JSON values)."""
    if tried is None:
        return "the scenario as written"
    return ", ".join(f"{key} = {json.dumps(value)}" for key, value in tried.set.items())


@dataclass
class _Catalogue:
    lessons: list[Lesson]
    error: str | None


def _load_catalogue() -> _Catalogue:
    try:
        return _Catalogue(load_lessons(), None)
    except LessonError as e:
        return _Catalogue([], str(e))


class LessonsState:
    """The Lessons page's state for one browser session.

    Parameters
    ----------
    session
        The session whose model the lessons drive.

    Attributes
    ----------
    lessons
        Every lesson, in teaching order (empty if one failed to load; see ``error``).
    error
        Why the lessons could not be loaded, or None.
    slug
        The lesson shown (None until one is picked).
    tried
        Label of the thing to try applied to the current market (None: the lesson's own
        scenario).
    message
        Why the last load was refused (the market then stays as it was), or None.
    """

    def __init__(self, session: SessionState) -> None:
        catalogue = _load_catalogue()
        self.session = session
        self.lessons = catalogue.lessons
        self.error = catalogue.error
        self.slug: solara.Reactive[str | None] = solara.reactive(None)
        self.tried: solara.Reactive[str | None] = solara.reactive(None)
        self.message: solara.Reactive[str | None] = solara.reactive(None)

    @property
    def lesson(self) -> Lesson | None:
        """The lesson shown, or None."""
        return next((x for x in self.lessons if x.slug == self.slug.value), None)

    def open(self, slug: str) -> bool:
        """Show lesson ``slug`` and load its scenario at step 0; False if it cannot load."""
        lesson = next((x for x in self.lessons if x.slug == slug), None)
        if lesson is None:
            self.message.value = f"no lesson named {slug!r}"
            return False
        self.slug.value = slug
        return self._load(lesson, None)

    def apply(self, label: str | None) -> bool:
        """Load the shown lesson's scenario with the thing to try ``label`` (None: as written).

        The market restarts at step 0 with the lesson's seed (after asking, if the market was
        edited: :meth:`SessionState.replace`); False (and ``message`` says why) if the scenario
        could not be built, in which case the market stays as it was.
        """
        lesson = self.lesson
        if lesson is None:
            self.message.value = "pick a lesson first"
            return False
        if label is None:
            return self._load(lesson, None)
        tried = next((t for t in lesson.tries if t.label == label), None)
        if tried is None:
            self.message.value = f"{lesson.title}: no thing to try labelled {label!r}"
            return False
        return self._load(lesson, tried)

    def _load(self, lesson: Lesson, tried: Try | None) -> bool:
        try:
            scenario = lesson.scenario_for(tried)
        except ScenarioError as e:
            self.message.value = str(e)
            return False
        if scenario.market.customers > UI_MAX_CUSTOMERS:
            self.message.value = (
                f"{lesson.scenario}: the browser UI runs at most {UI_MAX_CUSTOMERS:,} customers"
            )
            return False
        session = self.session
        self.message.value = None

        def load() -> None:
            session.playing.value = False
            session.source_error.value = None
            session.source.value = lesson.scenario
            session.customer.value = None
            session.firm.value = 0
            session.loaded = scenario
            session.set_scenario(scenario)
            session.stop_at = lesson.steps
            self.tried.value = tried.label if tried else None

        what = f"the lesson {lesson.title!r}" + (f" ({tried.label})" if tried else "")
        session.replace(what, load)
        return True


@solara.component
def LessonLive(
    session: SessionState, model: CustomerMarket, charts: tuple[str, ...] = DEFAULT_CHARTS
) -> None:
    """Headline and the lesson's ``charts`` of the running model, redrawn every frame."""
    use_frame(session)

    def read() -> tuple[dict, int, Any]:
        market = dict(model.recorder.latest_market)
        series = firm_series(model) if model.recorder.latest_firm else None
        return market, model.steps, series

    market, steps, series = session.read(read)
    solara.HTML(tag="div", unsafe_innerHTML=headline_html(model, market, steps))
    if series is None or len(series) == 0:
        solara.Info("Step 0: press Step or ▶ Play in the sidebar to run the lesson's market.")
        return
    colours = firm_colours(len(series.names))
    board_element([(name, lesson_chart(name, series, colours), 260, False) for name in charts])


@solara.component
def LessonText(lessons: LessonsState, lesson: Lesson) -> None:
    """The lesson's sections, with a button per thing to try under "Things to try"."""
    tried = lessons.tried.value
    for section in SECTIONS:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<h2>{html.escape(section)}</h2>"
            + render_markdown(lesson.sections.get(section, "")),
            classes=["cx-lesson-text", "cx-lesson-section"],
        )
        if section == "Things to try":
            with solara.Div(classes=["cx-lesson-tries"]):
                solara.Button(
                    "↺ Lesson's own market",
                    small=True,
                    outlined=tried is not None,
                    color="primary",
                    classes=["cx-lesson-try", "cx-lesson-try-base"],
                    on_click=lambda: lessons.apply(None),
                )
                for item in lesson.tries:
                    solara.Button(
                        "▶ " + item.label,
                        small=True,
                        outlined=tried != item.label,
                        color="primary",
                        classes=["cx-lesson-try"],
                        on_click=lambda label=item.label: lessons.apply(label),
                    )
                    if item.note:
                        solara.Text(item.note, classes=["cx-hint"])


def _status_html(lesson: Lesson, tried: Try | None) -> str:
    what = "the lesson's own market" if tried is None else f"tried: {html.escape(tried.label)}"
    return (
        f'<div class="cx-lesson-status" data-lesson="{html.escape(lesson.slug)}" '
        f'data-try="{html.escape(tried.label if tried else "")}">'
        f"<b>{html.escape(lesson.title)}</b> · scenario <code>{html.escape(lesson.scenario)}"
        f'</code> · {what}<br>set: <code class="cx-lesson-set">'
        f"{html.escape(try_summary(tried))}</code> · restarted at step 0; ▶ Play stops at "
        f"step {lesson.steps:,} ({lesson.steps / 52:.0f} years), the lesson's end (Play again "
        "goes on).</div>"
    )


@solara.component
def LessonsPage(lessons: LessonsState) -> None:
    """Lesson picker, then the chosen lesson's text beside its live market."""
    solara.Style(LESSONS_CSS)
    if lessons.error:
        solara.Error(f"The lessons could not be loaded: {lessons.error}")
        return
    if not lessons.lessons:
        solara.Info("No lessons found in docs/lessons/.")
        return
    current = lessons.lesson
    with solara.Div(classes=["cx-lesson-picks"]):
        for lesson in lessons.lessons:
            solara.Button(
                f"{lesson.order}. {lesson.title}",
                small=True,
                outlined=current is None or lesson.slug != current.slug,
                color="primary",
                classes=["cx-lesson-pick", f"cx-lesson-pick-{lesson.slug}"],
                on_click=lambda slug=lesson.slug: lessons.open(slug),
            )
    if lessons.message.value:
        solara.Error(lessons.message.value)
    if current is None:
        solara.Info(
            "Pick a lesson: its market opens here and in the sidebar, ready to run. Each "
            "lesson ends with things to try; a click loads the variant and restarts the market."
        )
        return
    tried = next((t for t in current.tries if t.label == lessons.tried.value), None)
    session = lessons.session
    with solara.Div(classes=["cx-lesson-layout"]):
        with solara.Div():
            LessonText(lessons, current)
        with solara.Div(classes=["cx-lesson-live"]):
            solara.HTML(tag="div", unsafe_innerHTML=_status_html(current, tried))
            LessonLive(session, session.model.value, current.charts)
