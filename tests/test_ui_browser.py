"""The UI in a real browser: Debian's Chromium driven by Playwright, against ``cxsim ui``'s server.

One server for the module (a 400-customer copy of ``baseline`` whose first firm overpromises),
one browser; each test opens its own context (its own session). The internet is blocked in
every context, so the page must load from the server alone. Screenshots go to
``test-output/ui/``.
"""

from __future__ import annotations

import io
import os
import re
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.ui_helpers import (
    CHROMIUM_FLAGS,
    OUTPUT,
    UIServer,
    chart,
    open_app,
    require_browser,
    screenshot,
    set_field,
    stat,
    wait_chart,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMERS = 400
TALL = {"width": 1500, "height": 2300}


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline shrunk to 400 customers, its first firm overpromising by 30%."""
    import sim

    scenario = sim.load_scenario(
        "baseline",
        {
            "name": "ui_test",
            "market.customers": CUSTOMERS,
            "firms[0].strategy": "overpromise",
            "firms[0].levers": {"inflation": 0.3},
        },
    )
    path = tmp_path_factory.mktemp("ui") / "ui_test.toml"
    path.write_text(scenario.to_toml())
    return path


@pytest.fixture(scope="module")
def server(scenario_file: Path) -> Iterator[UIServer]:
    """``cxsim ui`` 's server on a free port of 127.0.0.1 (after the browser check)."""
    require_browser()
    srv = UIServer(str(scenario_file), OUTPUT / "server.log")
    try:
        srv.startup_seconds = srv.wait_ready()
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


@pytest.fixture
def app(browser: Any, server: UIServer) -> Iterator[tuple[Any, Any]]:
    """A fresh session: (page, log). Fails the test on console errors or failed requests."""
    context, page, log = open_app(browser, server.url)
    try:
        yield page, log
        assert log.errors == [], f"console errors: {log.errors}"
        assert log.failed == [], f"failed requests: {log.failed}"
        assert log.external == [], f"requests leaving 127.0.0.1: {log.external}"
    finally:
        context.close()


def step(page: Any, times: int = 1) -> int:
    """Click Step ``times`` times; return the step shown in the headline."""
    for _ in range(times):
        before = stat(page, "step")
        page.locator(".cx-step").click()
        page.wait_for_function(
            "(b) => document.querySelector('[data-stat=\"step\"] .cx-stat-value')"
            ".innerText.trim() !== b",
            arg=before,
            timeout=30_000,
        )
    return int(stat(page, "step").replace(",", ""))


def last_row(probe: dict[str, Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in probe["last"][1:]]


def test_page_loads_offline_without_errors(browser: Any, server: UIServer) -> None:
    started = time.perf_counter()
    context, page, log = open_app(browser, server.url)
    try:
        wait_chart(
            page, "network", lambda c: c and sum(s["points"] for s in c["series"]) == CUSTOMERS
        )
        load = time.perf_counter() - started
        (OUTPUT / "page_load_seconds.txt").write_text(f"{load:.2f}\n")
        assert stat(page, "step") == "0"
        assert page.locator('[data-stat="customers served"]').inner_text().count(f"of {CUSTOMERS}")
        assert page.get_by_role("tab", name="Explore").is_visible()
        assert "ui_test" in page.title()
        screenshot(page, "explore-start")
        assert log.errors == [], log.errors
        assert log.failed == [], log.failed
        assert log.external == [], log.external
        assert load < 30, f"page took {load:.1f} s to show the network"
    finally:
        context.close()


def test_step_changes_the_charts_data(app: tuple[Any, Any]) -> None:
    page, _ = app
    assert chart(page, "share") is None  # step 0: no chart yet, a hint instead
    assert page.get_by_text("press Step or ▶ Play").is_visible()
    assert step(page) == 1
    one = wait_chart(page, "share", lambda c: c and c["rows"] == 1)
    assert step(page, 2) == 3
    three = wait_chart(page, "share", lambda c: c and c["rows"] == 3)
    assert len(three["series"]) == 6
    assert one["last"] != three["last"]
    shares = np.array(last_row(three))
    assert np.all((shares > 0) & (shares <= 100)), shares
    nodes = wait_chart(page, "network", lambda c: c and c["series"][0]["points"] > 0)
    assert all(0 <= p[2] <= 10 for p in nodes["data"])  # satisfaction, 0-10
    for name in ("retention", "nps", "satisfaction", "trust", "profit"):
        probe = wait_chart(page, name, lambda c: c and c["rows"] == 3)
        assert any(v is not None for v in probe["last"][1:]), name
    page.set_viewport_size(TALL)
    page.wait_for_timeout(800)
    screenshot(page, "explore-stepped")


def test_changed_lever_changes_the_result_and_a_bad_value_changes_nothing(
    app: tuple[Any, Any],
) -> None:
    page, _ = app
    assert step(page, 6) == 6
    before = last_row(wait_chart(page, "trust", lambda c: c and c["rows"] == 6))

    box = set_field(page, "Firm: First Bank", "overpromise: inflation", "5")
    error = page.locator(".cx-field .error--text").first
    error.wait_for(timeout=15_000)
    assert (
        "less than or equal to 2"
        in page.locator(".cx-field")
        .filter(has=page.locator("label", has_text="inflation"))
        .inner_text()
    )
    assert stat(page, "step") == "6"  # the model kept its state
    assert box.input_value() == "5"
    page.set_viewport_size(TALL)
    screenshot(page, "explore-invalid-value")

    set_field(page, "Firm: First Bank", "overpromise: inflation", "1.5")
    page.wait_for_function(
        "() => document.querySelector('[data-stat=\"step\"] .cx-stat-value')"
        ".innerText.trim() === '0'",
        timeout=30_000,
    )
    assert page.locator(".cx-field .error--text").count() == 0
    assert step(page, 6) == 6
    after = last_row(wait_chart(page, "trust", lambda c: c and c["rows"] == 6))
    assert after[0] != pytest.approx(before[0], abs=1e-4), (before, after)
    assert after[0] < before[0]  # promising 150% more breaks more trust than 30% more


def node_point(page: Any, customer_series: int = 0) -> dict[str, float]:
    """Page coordinates and id of the first node of the nodes layer."""
    return page.evaluate(
        """(s) => {
      const el = document.querySelector('[data-chart="network"]');
      const defined = window.requirejs.s.contexts._.defined;
      const ec = defined[Object.keys(defined).find(k => k.includes('echarts'))];
      const ch = ec.getInstanceByDom(el);
      const d = ch.getOption().series[s].data[0];
      const px = ch.convertToPixel({seriesIndex: s}, [d[0], d[1]]);
      const r = el.getBoundingClientRect();
      return {x: r.left + px[0], y: r.top + px[1], id: d[3]};
    }""",
        customer_series,
    )


def test_clicking_a_node_opens_its_history(app: tuple[Any, Any]) -> None:
    page, _ = app
    page.set_viewport_size(TALL)
    assert step(page, 4) == 4
    wait_chart(page, "network", lambda c: c and c["series"][0]["points"] > 0)
    point = node_point(page)
    page.mouse.click(point["x"], point["y"])
    page.get_by_role("tab", name="Inspect", selected=True).wait_for(timeout=15_000)
    customer = int(point["id"])
    page.get_by_text(f"#{customer}", exact=True).wait_for(timeout=15_000)
    history = wait_chart(page, "customer-expectation", lambda c: c and c["rows"] == 4)
    assert len(history["series"]) == 8  # 4 attributes x (experience, expectation)
    wait_chart(page, "customer-satisfaction", lambda c: c and c["rows"] == 4)
    page.wait_for_timeout(500)
    screenshot(page, "inspect-customer")

    page.locator(".cx-toggle button", has_text="firm").click()
    probe = wait_chart(page, "firm-promise", lambda c: c and c["rows"] == 4)
    promise, capability = probe["last"][2], probe["last"][1]
    assert promise > capability  # First Bank overpromises
    wait_chart(page, "firm-customers", lambda c: c and c["rows"] == 4)
    page.wait_for_timeout(500)
    screenshot(page, "inspect-firm")


def choose(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the Vuetify select labelled ``label``."""
    page.locator(".v-select", has=page.locator("label", has_text=label)).click()
    page.locator(".v-menu__content .v-list-item", has_text=option).first.click()


def server_workers(server: UIServer) -> list[int]:
    """Worker processes the server started with multiprocessing (spawn)."""
    pids = []
    for children in Path(f"/proc/{server.process.pid}/task").glob("*/children"):
        pids += [int(p) for p in children.read_text().split()]
    out = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "spawn_main" in cmd:
            out.append(pid)
    return out


def test_compare_gives_bands_and_a_table_and_cancels(
    app: tuple[Any, Any], server: UIServer
) -> None:
    page, _ = app
    page.set_viewport_size(TALL)
    page.get_by_role("tab", name="Compare").click()
    choose(page, "B changes", "First Bank: overpromise: inflation")
    page.get_by_label("to", exact=True).fill("1.5")
    page.get_by_label("replicates per variant").fill("3")
    page.get_by_label("steps per run").fill("26")
    started = time.perf_counter()
    page.locator(".cx-run-compare").click()
    page.locator('[data-table="compare"]').wait_for(timeout=180_000)
    seconds = time.perf_counter() - started
    (OUTPUT / "compare_3x26_seconds.txt").write_text(f"{seconds:.1f}\n")
    trust = wait_chart(page, "compare-trust", lambda c: c and c["rows"] == 26)
    assert [s["name"] for s in trust["series"] if "95%" not in s["name"]] == [
        "A: ui_test (Explore)",
        "B: First Bank: overpromise: inflation = 1.5",
    ]
    # each variant: low, band width, mean; with 3 replicates the bands have width
    widths = [row[2] for row in [trust["last"]]]
    assert all(w is not None and w >= 0 for w in widths)
    table = page.locator('[data-table="compare"]')
    assert table.locator("tbody tr").count() == 6
    assert "95% CI" in table.inner_text()
    choose(page, "show", "First Bank")
    wait_chart(page, "compare-share", lambda c: c and c["rows"] == 26)
    assert "Market share" in page.locator('[data-table="compare"]').inner_text()
    page.wait_for_timeout(800)
    screenshot(page, "compare")

    page.get_by_label("steps per run").fill("5000")
    page.locator(".cx-run-compare").click()
    page.get_by_text("runs done").wait_for(timeout=60_000)
    deadline = time.perf_counter() + 30
    while not server_workers(server) and time.perf_counter() < deadline:
        time.sleep(0.2)
    assert server_workers(server), "the comparison started no worker process"
    page.locator(".cx-cancel-compare").click()
    page.get_by_text("cancelled").wait_for(timeout=15_000)
    deadline = time.perf_counter() + 15
    while server_workers(server) and time.perf_counter() < deadline:
        time.sleep(0.2)
    assert server_workers(server) == [], "workers still running after Cancel"
    assert page.locator('[data-table="compare"]').is_visible()  # the last result stays


def test_two_sessions_do_not_see_each_other(browser: Any, server: UIServer) -> None:
    first, page_a, log_a = open_app(browser, server.url)
    second, page_b, log_b = open_app(browser, server.url)
    try:
        set_field(page_a, "Run and market", "customers", "300")
        page_a.locator('[data-stat="customers served"]', has_text="of 300").wait_for(timeout=30_000)
        assert step(page_a, 3) == 3
        page_b.wait_for_timeout(1000)
        assert stat(page_b, "step") == "0"
        assert f"of {CUSTOMERS}" in page_b.locator('[data-stat="customers served"]').inner_text()
        assert step(page_b, 2) == 2
        page_a.wait_for_timeout(500)
        assert stat(page_a, "step") == "3"
        assert "of 300" in page_a.locator('[data-stat="customers served"]').inner_text()
        page_b.locator(".cx-panel-header", has_text="Run and market").click()
        page_b.wait_for_timeout(500)
        from tests.ui_helpers import field

        assert field(page_b, "customers").input_value() == str(CUSTOMERS)
        screenshot(page_a, "session-a")
        screenshot(page_b, "session-b")
        for log in (log_a, log_b):
            assert log.errors == [] and log.failed == [], (log.errors, log.failed)
    finally:
        first.close()
        second.close()


def test_export_files_parse_and_reproduce_the_run(app: tuple[Any, Any], tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    import sim

    page, _ = app
    assert step(page, 5) == 5
    page.get_by_role("tab", name="Export").click()
    page.locator(".cx-download").first.wait_for(timeout=15_000)
    files: dict[str, bytes] = {}
    for box in page.locator(".cx-download").all():
        name = box.get_attribute("data-file")
        with page.expect_download(timeout=60_000) as info:
            box.locator("button").click()
        target = tmp_path / name
        info.value.save_as(target)
        files[name] = target.read_bytes()
    stem = "ui_test-step5"
    expected = {
        f"{stem}-{t}.{f}" for t in ("market", "firms", "cohorts") for f in ("csv", "parquet")
    }
    expected |= {f"{stem}-charts.zip", f"{stem}-scenario.toml", f"{stem}.zip"}
    assert set(files) == expected

    firms = pd.read_csv(io.BytesIO(files[f"{stem}-firms.csv"]))
    assert len(firms) == 5 * 6 and firms["step"].max() == 5
    assert pd.read_parquet(io.BytesIO(files[f"{stem}-firms.parquet"])).equals(
        pd.read_parquet(io.BytesIO(files[f"{stem}-firms.parquet"]))
    )
    market = pd.read_parquet(io.BytesIO(files[f"{stem}-market.parquet"]))
    assert list(market["step"]) == [1, 2, 3, 4, 5]
    pd.read_csv(io.BytesIO(files[f"{stem}-cohorts.csv"]))
    pd.read_parquet(io.BytesIO(files[f"{stem}-cohorts.parquet"]))

    with zipfile.ZipFile(io.BytesIO(files[f"{stem}-charts.zip"])) as zf:
        pngs = [n for n in zf.namelist() if n.endswith(".png")]
        assert len(pngs) >= 7
        for n in pngs:
            data = zf.read(n)
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            assert mpimg.imread(io.BytesIO(data)).shape[0] > 100
    with zipfile.ZipFile(io.BytesIO(files[f"{stem}.zip"])) as zf:
        names = set(zf.namelist())
        assert {
            f"{stem}/manifest.json",
            f"{stem}/firms.parquet",
            f"{stem}/scenario.toml",
            f"{stem}/firms.csv",
        } <= names

    toml_path = tmp_path / f"{stem}-scenario.toml"
    tomllib.loads(toml_path.read_text())
    rerun = sim.CustomerMarket(sim.load_scenario(toml_path)).run(5).firm_metrics()
    numeric = [c for c in rerun.columns if rerun[c].dtype.kind in "fi" and c != "year"]
    np.testing.assert_allclose(
        rerun[numeric].to_numpy(float),
        firms[numeric].to_numpy(float),
        rtol=1e-9,
        atol=1e-9,
        equal_nan=True,
    )
    page.set_viewport_size(TALL)
    screenshot(page, "export")


def upload(page: Any, path: Path) -> None:
    """Choose ``path`` in the sidebar's upload button's file chooser."""
    with page.expect_file_chooser(timeout=15_000) as chooser:
        page.get_by_role("button", name=re.compile("Upload")).click()
    chooser.value.set_files(str(path))


def test_upload_a_scenario_and_a_broken_one(app: tuple[Any, Any], tmp_path: Path) -> None:
    import sim

    page, _ = app
    good = tmp_path / "my_market.toml"
    good.write_text(
        sim.load_scenario("baseline", {"name": "my_market", "market.customers": 250}).to_toml()
    )
    upload(page, good)
    page.locator('[data-stat="customers served"]', has_text="of 250").wait_for(timeout=30_000)
    assert "upload: my_market.toml" in page.locator(".v-select").first.inner_text()

    broken = tmp_path / "broken.toml"
    broken.write_text(re.sub(r"customers = \d+", "customers = -5", good.read_text()))
    upload(page, broken)
    message = page.locator(".cx-source-error")
    message.wait_for(timeout=30_000)
    assert "market.customers" in message.inner_text()
    assert "of 250" in page.locator('[data-stat="customers served"]').inner_text()
    screenshot(page, "upload-error")


@pytest.mark.skipif(not os.path.isdir("/proc/net"), reason="needs Linux /proc")
def test_server_listens_on_loopback_only(server: UIServer) -> None:
    port = f"{server.port:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local.endswith(f":{port}"):
                listening.append(local.split(":")[0])
    assert listening == ["0100007F"], listening


def play_and_time(page: Any, seconds: float) -> dict[str, float]:
    """Play for ``seconds``; return steps per second and the frame times shown meanwhile."""
    page.locator(".cx-play").click()
    page.wait_for_timeout(1500)
    page.evaluate("() => { window.cxDraw = {count: 0, totalMs: 0, maxMs: 0}; }")
    start_step, started = int(stat(page, "step").replace(",", "")), time.perf_counter()
    frames: list[int] = []
    while time.perf_counter() - started < seconds:
        note = page.locator('[data-stat="step"] .cx-stat-note').inner_text()
        frames += [int(m) for m in re.findall(r"frame (\d+) ms", note)]
        page.wait_for_timeout(250)
    rate = (int(stat(page, "step").replace(",", "")) - start_step) / (time.perf_counter() - started)
    page.locator(".cx-play").click()
    draw = page.evaluate("() => window.cxDraw")
    return {
        "steps_per_second": rate,
        "frame_ms_median": float(np.median(frames)),
        "frame_ms_p90": float(np.percentile(frames, 90)),
        "samples": len(frames),
        "browser_draws": draw["count"],
        "browser_draw_ms": draw["totalMs"] / max(1, draw["count"]),
        "browser_draw_max_ms": draw["maxMs"],
    }


def test_playing_keeps_up_at_1000_and_10000_customers(app: tuple[Any, Any]) -> None:
    page, _ = app
    lines = []
    for customers in (1000, 10_000):
        set_field(page, "Run and market", "customers", str(customers))
        page.locator('[data-stat="customers served"]', has_text=f"of {customers:,}").wait_for(
            timeout=60_000
        )
        result = play_and_time(page, 8.0)
        lines.append(
            f"{customers} customers: {result['steps_per_second']:.1f} steps/s, "
            f"frame (step + redraw) median {result['frame_ms_median']:.0f} ms, "
            f"p90 {result['frame_ms_p90']:.0f} ms, {result['samples']} samples; browser: "
            f"{result['browser_draws']} chart draws, mean {result['browser_draw_ms']:.0f} ms, "
            f"max {result['browser_draw_max_ms']:.0f} ms"
        )
        if customers == 1000:
            assert result["samples"] >= 10 and result["browser_draws"] > 10
            assert result["frame_ms_median"] < 250, result
    (OUTPUT / "play_speed.txt").write_text("\n".join(lines) + "\n")
    page.set_viewport_size(TALL)
    page.wait_for_timeout(1000)
    screenshot(page, "explore-played-10k")
