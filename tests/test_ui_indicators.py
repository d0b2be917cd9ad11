"""The Inspect page's indicators panel: the survey items with their wording, the early warning in
words and the chart, as functions and in a real browser (Chromium through Playwright).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import sim
from sim.early_warning import INDICATORS, early_warning
from sim.indicators import SURVEY_ITEMS
from sim.ui.indicators import indicators_html, indicators_option, warning_html
from tests.test_early_warning import capacity_failure
from tests.ui_helpers import (
    CHROMIUM_FLAGS,
    OUTPUT,
    UIServer,
    colour_distance,
    open_app,
    require_browser,
    screenshot,
    stat,
    wait_chart,
)


@pytest.fixture(scope="module")
def failure():
    return capacity_failure(keep=0.65)


def test_the_table_has_every_survey_item_with_its_question(failure) -> None:
    text = indicators_html(failure, 0, "First Bank")
    rows = re.findall(r"<tr><td><span title=\"([^\"]+)\" data-survey=\"(\w+)\"", text)
    assert [column for _, column in rows] == [item.column for item in SURVEY_ITEMS]
    tips = dict((column, tip) for tip, column in rows)
    assert "First Bank can be relied on to keep its promises" in tips["trust"]
    assert "five years from now" in tips["intention_to_stay"]
    last = failure[failure["firm"] == 0].iloc[-1]
    assert f"{last['satisfaction']:.2f}" in text


def test_the_warning_says_what_fell_first_and_the_chart_marks_it(failure) -> None:
    warning = early_warning(failure[failure["firm"] == 0])
    text = warning_html(warning, 0)
    assert re.search(r"fell \d+ weeks before churn rose in week \d+", text)
    option = indicators_option(warning, 0)
    names = [s["name"] for s in option["series"]]
    assert names == [i.label for i in INDICATORS.values()] + ["churn, % a week"]
    dots = sum(len(s["markPoint"]["data"]) for s in option["series"])
    assert dots == len(warning.alarms)
    assert option["series"][-1]["markLine"]["data"], "a dashed line where churn rose"


def test_every_indicator_has_a_colour_of_its_own(failure) -> None:
    """Audit: trust (#e76f51) and intention to stay (#d62828) were near-identical reds that
    overlapped on the chart; mind-set's orange was as close to trust. Every pair of lines,
    churn's near black included, is now further apart than any of those pairs."""
    option = indicators_option(early_warning(failure[failure["firm"] == 0]), 0)
    colours = {s["name"]: s["color"] for s in option["series"]}
    assert len(colours) == len(INDICATORS) + 1
    names = list(colours)
    close = [
        (a, b, round(colour_distance(colours[a], colours[b])))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if colour_distance(colours[a], colours[b]) < 35
    ]
    assert close == []


# -- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UIServer]:
    require_browser()
    scenario = sim.load_scenario("baseline", {"name": "ui_indicators", "market.customers": 400})
    path = tmp_path_factory.mktemp("ui") / "ui_indicators.toml"
    path.write_text(scenario.to_toml())
    srv = UIServer(str(path), OUTPUT / "server-indicators.log")
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_the_inspect_page_shows_the_indicators_and_the_warning(server: UIServer) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_browser(), args=CHROMIUM_FLAGS)
        try:
            context, page, log = open_app(browser, server.url, viewport=(1440, 900))
            page.locator(".cx-play").click()
            page.wait_for_function(
                "() => parseInt(document.querySelector('[data-stat=\"step\"] .cx-stat-value')"
                ".innerText.replace(/,/g, '')) >= 40",
                timeout=120_000,
            )
            page.locator(".cx-play").click()  # pause
            page.get_by_text("▶ Play").wait_for(timeout=30_000)
            steps = int(stat(page, "step").replace(",", ""))
            page.get_by_role("tab", name="Inspect").click()
            page.locator(".cx-toggle button", has_text="firm").click()
            table = page.locator('[data-table="indicators"]')
            table.wait_for(timeout=30_000)
            items = table.locator("[data-survey]")
            assert items.count() == len(SURVEY_ITEMS)
            tip = _title(items.nth(1))
            assert tip.startswith('"First Bank can be relied on to keep its promises')
            warning = page.locator('[data-panel="early-warning"]')
            assert "churn" in warning.inner_text().lower()
            chart = wait_chart(page, "firm-indicators", lambda c: c and len(c["series"]) == 8)
            assert chart["data"] and len(chart["data"]) == steps
            table.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            screenshot(page, "inspect-firm-indicators")
            assert log.errors == [], log.errors
            context.close()
        finally:
            browser.close()


def _title(locator: Any) -> str:
    return locator.get_attribute("title") or ""
