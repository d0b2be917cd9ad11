"""The Calibrate page in a real browser: upload errors, a small fit, the fitted market in Explore.

Its own server on the calibration tests' tiny market (150 customers), so a fit of a few dozen
runs finishes in a minute or two even on a busy machine. Screenshots go to test-output/ui/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui_helpers import (
    CHROMIUM_FLAGS,
    OUTPUT,
    UIServer,
    open_app,
    require_browser,
    screenshot,
    stat,
    tick,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("pyabc")

FIXTURES = Path(__file__).parent / "fixtures" / "calibration"


@pytest.fixture(scope="module")
def server() -> Iterator[UIServer]:
    require_browser()
    srv = UIServer(str(FIXTURES / "market.toml"), OUTPUT / "server-calibrate.log")
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(server: UIServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=require_browser(), args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def upload_data(page: Any, path: Path) -> None:
    with page.expect_file_chooser(timeout=15_000) as chooser:
        page.get_by_role("button", name=re.compile("Upload data")).click()
    chooser.value.set_files(str(path))


def test_upload_errors_a_fit_and_the_fitted_market_in_explore(
    browser: Any, server: UIServer, tmp_path: Path
) -> None:
    context, page, log = open_app(browser, server.url, viewport=(1500, 2400))
    try:
        page.get_by_role("tab", name="Calibrate").click()
        bad = tmp_path / "my_retention.csv"
        bad.write_text(
            "series,firm,cohort,year,value\nsurvival,Acme,0,1,0.9\nsurvival,Acme,0,2,0.95\n"
        )
        upload_data(page, bad)
        error = page.locator(".cx-data-error")
        error.wait_for(timeout=30_000)
        text = error.inner_text()
        assert text.startswith("my_retention.csv, row 2, column value: survival rises")
        upload_data(page, FIXTURES / "retention.csv")
        summary = page.locator(".cx-data-summary")
        summary.wait_for(timeout=30_000)
        assert "10 rows (3 held out)" in summary.inner_text()
        assert not page.locator(".cx-data-error").is_visible()

        page.locator(".cx-start-calibration").click()  # nothing ticked yet
        assert "tick at least one" in page.locator(".cx-calibration-error").inner_text()

        # the short list of commonly unknown levers, by section; the filter searches them all
        count = page.locator(".cx-lever-count")
        assert re.match(r"10 of \d+ listed", count.inner_text()), count.inner_text()
        assert page.locator(".cx-lever-group", has_text="Switching").count() == 1
        assert page.get_by_label("trust.commitment_rate").count() == 0
        lever_filter = page.get_by_label("filter levers")
        lever_filter.fill("commitment rate")
        page.get_by_label("trust.commitment_rate").wait_for(timeout=30_000)
        assert page.get_by_label("switching.intercept").count() == 0
        tick(page, "trust.commitment_rate")
        lever_filter.fill("reviews")
        page.get_by_label("reviews.rate").wait_for(timeout=30_000)
        assert page.get_by_label("trust.commitment_rate").count() == 1  # ticked: still listed
        tick(page, "trust.commitment_rate", on=False)
        lever_filter.fill("")
        page.locator(".cx-lever-count", has_text="10 of").wait_for(timeout=30_000)
        assert page.get_by_label("trust.commitment_rate").count() == 0
        screenshot(page, "calibrate-levers")

        tick(page, "switching.intercept")
        low = page.locator(".cx-low-switching-intercept input")
        low.fill("x")
        low.press("Enter")
        page.locator(".cx-start-calibration").click()  # a range that is not a number
        page.get_by_text("switching.intercept: give low and high as numbers").wait_for(
            timeout=15_000
        )
        tick(page, "switching.intercept", on=False)
        tick(page, "satisfaction.loss_aversion")
        page.get_by_label("particles per generation").fill("10")
        page.get_by_label("generations").fill("1")
        page.locator(".cx-start-calibration").click()
        page.locator(".cx-calibration-status", has_text="accepted").wait_for(timeout=120_000)
        table = page.locator('[data-table="calibration"]')
        table.wait_for(timeout=900_000)
        assert "satisfaction.loss_aversion" in table.inner_text()
        assert "uniform(1, 3)" in table.inner_text()
        assert page.locator(".cx-predictive-png img, img.cx-predictive-png").count() >= 1
        # the table and the bands are drawn before the status line says done (a loaded machine
        # shows the gap): wait for it rather than read it once
        page.locator(".cx-calibration-status", has_text="done: 1 generation,").wait_for(
            timeout=120_000
        )
        page.wait_for_timeout(500)
        screenshot(page, "calibrate")

        page.locator(".cx-open-fitted").click()
        page.locator('[data-stat="step"]').wait_for(timeout=60_000)
        page.get_by_text("calibration_market_fitted").first.wait_for(timeout=30_000)
        assert stat(page, "step") == "0"
        assert log.errors == [], log.errors
        assert log.external == [], log.external
    finally:
        context.close()
