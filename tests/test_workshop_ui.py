"""Workshop mode in the browser: ``cxsim workshop`` 's server, a facilitator and two participants.

Each role is its own browser context (its own session). The facilitator creates a room, the
participants join with its code, one acts and one does not, the facilitator closes the round,
and every page shows the leaderboard the SQLite file holds; then the server restarts and the
facilitator reopens the room with its code and key. Screenshots go to ``test-output/ui/``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.ui_helpers import (
    CHROMIUM_FLAGS,
    OUTPUT,
    REPO,
    PageLog,
    block_internet,
    free_port,
    require_browser,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class WorkshopServer:
    """``cxsim workshop`` 's server on a free port of 127.0.0.1, in its own process group."""

    def __init__(self, db: Path, log: Path) -> None:
        from sim.workshop.cli import server_command, server_environment

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            server_command("127.0.0.1", self.port),
            env=server_environment(db),
            cwd=REPO,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.3)
        raise TimeoutError(f"no answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


def _open(browser: Any, url: str) -> tuple[Any, Any, PageLog]:
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    block_internet(context)
    page = context.new_page()
    log = PageLog(page)
    page.goto(url)
    page.locator(".cx-ws-join-btn").wait_for(timeout=60_000)
    return context, page, log


def _join(browser: Any, url: str, code: str, name: str) -> tuple[Any, Any, PageLog]:
    context, page, log = _open(browser, url)
    page.locator(".cx-ws-join-code input").fill(code)
    page.locator(".cx-ws-join-name input").fill(name)
    page.locator(".cx-ws-join-btn").click()
    page.locator(".cx-ws-me-box").wait_for(timeout=30_000)
    return context, page, log


def _clean(log: PageLog) -> None:
    assert log.errors == [], log.errors
    assert log.failed == [], log.failed
    assert log.external == [], log.external


def test_a_round_in_the_browser_and_after_a_restart(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    from sim.workshop import Workshop

    db = tmp_path / "rooms.sqlite"
    server = WorkshopServer(db, OUTPUT / "server-workshop.log")
    contexts: list[Any] = []
    try:
        server.wait_ready()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=require_browser(), args=CHROMIUM_FLAGS)
            try:
                ctx, host, host_log = _open(browser, server.url)
                contexts.append(ctx)
                host.locator(".cx-ws-create-btn").click()
                room = host.locator(".cx-ws-room")
                room.wait_for(timeout=30_000)
                code = room.get_attribute("data-code")
                key = host.locator(".cx-ws-key").inner_text().strip()
                assert code and len(code) == 6 and len(key) >= 20

                ctx, ana, ana_log = _join(browser, server.url, code, "Ana")
                contexts.append(ctx)
                ctx, ben, ben_log = _join(browser, server.url, code.lower(), "Ben")
                contexts.append(ctx)
                host.locator(".cx-ws-participants tr[data-firm='1']").wait_for(timeout=15_000)

                host.locator(".cx-ws-start").click()
                ana.locator(".cx-ws-me-box[data-phase='open']").wait_for(timeout=15_000)
                ana.locator(".cx-ws-promise input").fill("0.8")
                ana.locator(".cx-ws-marketing input").fill("0.9")
                ana.locator(".cx-ws-submit").click()
                saved = ana.locator(".cx-ws-saved")
                saved.wait_for(timeout=15_000)
                assert "promise +80%" in saved.inner_text()
                acted = host.locator(".cx-ws-participants tr[data-firm='0'] .cx-ws-acted")
                host.wait_for_function(
                    "() => document.querySelector(\".cx-ws-participants tr[data-firm='0'] "
                    ".cx-ws-acted\").innerText.includes('acted')",
                    timeout=15_000,
                )
                assert (
                    "waiting"
                    in host.locator(
                        ".cx-ws-participants tr[data-firm='1'] .cx-ws-acted"
                    ).inner_text()
                )
                assert "acted" in acted.inner_text()

                ana.locator(".cx-ws-promise input").fill("7")  # refused, nothing saved
                ana.locator(".cx-ws-submit").click()
                ana.locator(".cx-ws-error").wait_for(timeout=15_000)
                assert "promise_level" in ana.locator(".cx-ws-error").inner_text()

                host.locator(".cx-ws-close").click()
                host.locator(".cx-ws-board").wait_for(timeout=60_000)
                ben.locator(".cx-ws-board").wait_for(timeout=15_000)
                ben.locator(".cx-ws-board tr.cx-ws-me[data-firm='1']").wait_for(timeout=5_000)
                ana.locator(".cx-ws-board tr.cx-ws-me[data-firm='0']").wait_for(timeout=15_000)
                ana.wait_for_timeout(500)
                shown = {
                    int(r.get_attribute("data-firm")): float(r.get_attribute("data-customers"))
                    for r in host.locator(".cx-ws-board tr[data-firm]").all()
                }
                screenshot(host, "workshop-facilitator")
                screenshot(ana, "workshop-participant")
                for log in (host_log, ana_log, ben_log):
                    _clean(log)

                stored = Workshop(str(db))  # what the server saved, replayed here
                try:
                    board = stored.leaderboard(code)
                    assert stored.room(code).replay_matches is True
                    assert stored.room(code).choices[1][0].promise_level == 0.8
                    assert stored.room(code).choices[1][1].promise_level == 0.0
                finally:
                    stored.close()
                assert shown == {row["firm"]: round(row["customers"]) for row in board}

                server.stop()  # restart: the room must survive
                server = WorkshopServer(db, OUTPUT / "server-workshop-2.log")
                server.wait_ready()
                ctx, again, again_log = _open(browser, server.url)
                contexts.append(ctx)
                again.locator(".cx-ws-rejoin-code input").fill(code)
                again.locator(".cx-ws-rejoin-secret input").fill(key)
                again.locator(".cx-ws-rejoin-btn").click()
                back = again.locator(".cx-ws-room[data-phase='between'][data-round='1']")
                back.wait_for(timeout=60_000)
                again.locator(".cx-ws-board").wait_for(timeout=15_000)
                assert {
                    int(r.get_attribute("data-firm")): float(r.get_attribute("data-customers"))
                    for r in again.locator(".cx-ws-board tr[data-firm]").all()
                } == shown
                again.locator(".cx-ws-start").click()
                again.locator(".cx-ws-room[data-phase='open'][data-round='2']").wait_for(
                    timeout=15_000
                )
                screenshot(again, "workshop-after-restart")
                _clean(again_log)
            finally:
                for ctx in contexts:
                    with contextlib.suppress(Exception):
                        ctx.close()
                browser.close()
    finally:
        server.stop()
