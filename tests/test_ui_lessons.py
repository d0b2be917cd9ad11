"""The Lessons page: its state without a browser, then the page in Debian's Chromium.

The unit tests drive :class:`sim.ui.lessons_page.LessonsState` against a real session; the
browser test opens the page served by ``cxsim ui``, picks the promises lesson, clicks a thing to
try and checks the market restarted at step 0 with the lever changed in the sidebar's controls.
Screenshots go to ``test-output/ui/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sim.lessons import load_lessons
from sim.ui.lessons_page import LessonsState, render_markdown, try_summary
from sim.ui.state import SessionState
from tests.ui_helpers import (
    CHROMIUM_FLAGS,
    OUTPUT,
    WAIT,
    UIServer,
    field,
    open_app,
    require_browser,
    screenshot,
)

PROMISES = "02_promises"


def test_markdown_renders_lists_and_code_but_never_raw_html() -> None:
    out = render_markdown("Para one with `code` and *stress*.\n\n- a\n- b <script>x</script>")
    assert "<p>Para one with <code>code</code> and <em>stress</em>.</p>" in out
    assert "<ul>" in out and "<li>a</li>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_every_lesson_section_renders() -> None:
    for lesson in load_lessons():
        for text in lesson.sections.values():
            assert render_markdown(text).strip()


def test_opening_a_lesson_loads_its_scenario_and_a_try_sets_its_levers() -> None:
    session = SessionState("baseline")
    lessons = LessonsState(session)
    assert lessons.error is None and len(lessons.lessons) >= 6
    assert lessons.open(PROMISES)
    assert session.scenario.value.name == "overpromise_vs_honest"
    assert session.scenario.value.firms[1].levers["inflation"] == pytest.approx(0.3)
    session.step(3)
    assert session.model.value.steps == 3

    lesson = lessons.lesson
    assert lesson is not None
    tried = lesson.tries[0]
    assert tried.set == {"firms[1].levers.inflation": 0.6}
    assert lessons.apply(tried.label)
    assert lessons.tried.value == tried.label
    assert session.model.value.steps == 0  # restarted
    assert session.scenario.value.firms[1].levers["inflation"] == pytest.approx(0.6)
    assert session.scenario.value.to_dict() == lesson.scenario_for(tried).to_dict()
    assert try_summary(tried) == "firms[1].levers.inflation = 0.6"

    assert lessons.apply(None)  # back to the lesson's own market
    assert lessons.tried.value is None
    assert session.scenario.value.firms[1].levers["inflation"] == pytest.approx(0.3)
    session.close()


def test_every_chart_a_lesson_can_ask_for_draws_from_a_run() -> None:
    from sim.lessons import CHARTS
    from sim.ui.charts import firm_colours
    from sim.ui.explore import firm_series
    from sim.ui.lessons_page import lesson_chart

    session = SessionState("baseline")
    session.step(30)
    series = firm_series(session.model.value)
    for name in CHARTS:
        option = lesson_chart(name, series, firm_colours(len(series.names)))
        rows = option["dataset"]["source"]
        assert len(rows) == 30 and len(option["series"]) >= len(series.names), name
    wom = lesson_chart("word_of_mouth", series, firm_colours(len(series.names)))
    assert any(v and v > 0 for row in wom["dataset"]["source"] for v in row[1:])
    session.close()


def test_play_stops_at_the_lessons_end_once() -> None:
    """A learner pressed Play and found the market at year 43: Play now stops at the lesson's
    steps, and goes on when pressed again."""
    session = SessionState("baseline")
    lessons = LessonsState(session)
    assert lessons.open(PROMISES)
    lesson = lessons.lesson
    assert lesson is not None and session.stop_at == lesson.steps
    session.render_interval.value = 38
    session.playing.value = True
    while session.playing.value and session.model.value.steps < 2 * lesson.steps:
        session.step()
    assert session.model.value.steps == lesson.steps and not session.playing.value
    assert session.step() == 38  # from the lesson's end Play goes on
    session.reset()
    session.step(lesson.steps + 10)
    assert session.model.value.steps == lesson.steps  # each run stops there once
    assert session.load("baseline") and session.stop_at is None  # another market: no stop
    session.close()


def test_unknown_lesson_or_try_changes_nothing() -> None:
    session = SessionState("baseline")
    lessons = LessonsState(session)
    assert not lessons.apply("anything")  # no lesson picked yet
    assert not lessons.open("no_such_lesson")
    assert lessons.message.value == "no lesson named 'no_such_lesson'"
    assert lessons.open(PROMISES)
    session.step(2)
    before = session.scenario.value.to_dict()
    assert not lessons.apply("not a thing to try")
    assert "no thing to try" in (lessons.message.value or "")
    assert session.scenario.value.to_dict() == before
    assert session.model.value.steps == 2
    session.close()


# -- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[UIServer]:
    """``cxsim ui`` 's server on baseline (after the browser check)."""
    require_browser()
    srv = UIServer("baseline", OUTPUT / "server-lessons.log")
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(server: UIServer) -> Iterator[Any]:
    """Debian's Chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    path = require_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


LIVE_STEP = '.cx-lesson-live [data-stat="step"] .cx-stat-value'


def _live_step(page: Any) -> int:
    return int(page.locator(LIVE_STEP).inner_text().strip().replace(",", ""))


def _wait_live_step(page: Any, value: int) -> None:
    page.wait_for_function(
        "([sel, v]) => { const e = document.querySelector(sel);"
        " return e && e.innerText.trim().replace(/,/g, '') === String(v); }",
        arg=[LIVE_STEP, value],
        timeout=WAIT,
    )


def _inflation(page: Any) -> str:
    """The value of Big Promises' inflation lever in the sidebar's controls."""
    box = field(page, "overpromise: inflation")
    if not box.is_visible():
        page.locator(".cx-panel-header", has_text="Firm: Big Promises").click()
    box.wait_for(timeout=WAIT)
    return box.input_value()


@pytest.mark.browser
@pytest.mark.slow
def test_lesson_page_try_button_resets_the_model_with_the_lever_changed(
    browser: Any, server: UIServer
) -> None:
    context, page, log = open_app(browser, server.url, viewport=(1600, 1100))
    try:
        page.get_by_role("tab", name="Lessons").click()
        page.locator(".cx-lesson-pick").first.wait_for(timeout=WAIT)
        assert page.locator(".cx-lesson-pick").count() == len(load_lessons())
        page.locator(f".cx-lesson-pick-{PROMISES}").click()
        status = page.locator(f'.cx-lesson-status[data-lesson="{PROMISES}"]')
        status.wait_for(timeout=WAIT)
        assert "overpromise_vs_honest" in status.inner_text()
        assert page.locator(".cx-lesson-section h2", has_text="Things to notice").count() == 1
        assert page.locator(".cx-lesson-text li").count() >= 4  # lists rendered as lists
        assert _live_step(page) == 0
        assert float(_inflation(page)) == pytest.approx(0.3)
        page.locator(".cx-lesson-picks").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        screenshot(page, "lessons-open")

        for _ in range(3):
            before = _live_step(page)
            page.locator(".cx-step").click()
            _wait_live_step(page, before + 1)
        page.locator('.cx-lesson-live [data-chart="trust"]').wait_for(timeout=WAIT)
        assert _live_step(page) == 3

        page.locator(".cx-lesson-try", has_text="Over-promise by 60%").click()
        page.locator('.cx-lesson-status[data-try="Over-promise by 60%"]').wait_for(timeout=WAIT)
        _wait_live_step(page, 0)  # the model was reset
        assert "firms[1].levers.inflation = 0.6" in page.locator(".cx-lesson-set").inner_text()
        for _ in range(600):  # the sidebar's controls re-read the new scenario
            if float(_inflation(page)) == pytest.approx(0.6):
                break
            page.wait_for_timeout(200)
        assert float(_inflation(page)) == pytest.approx(0.6)

        for _ in range(2):
            before = _live_step(page)
            page.locator(".cx-step").click()
            _wait_live_step(page, before + 1)
        page.locator('.cx-lesson-live [data-chart="customers"]').wait_for(timeout=WAIT)
        page.wait_for_timeout(800)
        screenshot(page, "lessons-try-text")
        page.locator(".cx-lesson-picks").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        screenshot(page, "lessons-try")

        # issue 17, item 3: an edited market is not replaced without asking
        box = field(page, "overpromise: inflation")
        box.fill("0.9")
        box.press("Enter")
        for _ in range(600):
            if float(_inflation(page)) == pytest.approx(0.9):
                break
            page.wait_for_timeout(200)
        assert _live_step(page) == 2  # a live lever: the market ran on
        page.locator(".cx-lesson-try-base").click()
        dialog = page.locator(".v-dialog", has_text="Replace the edited market?")
        dialog.wait_for(timeout=WAIT)
        screenshot(page, "lessons-ask-before-replacing")
        page.locator(".cx-pending-cancel").click()
        dialog.wait_for(state="hidden", timeout=WAIT)
        assert _live_step(page) == 2 and float(_inflation(page)) == pytest.approx(0.9)
        page.locator(".cx-lesson-try-base").click()
        dialog.wait_for(timeout=WAIT)
        page.locator(".cx-pending-ok").click()
        page.locator('.cx-lesson-status[data-try=""]').wait_for(timeout=WAIT)
        _wait_live_step(page, 0)
        assert log.errors == [], log.errors
        assert log.failed == [], log.failed
        assert log.external == [], log.external
    finally:
        context.close()
