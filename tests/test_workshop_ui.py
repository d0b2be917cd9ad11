"""Workshop mode in the browser: ``cxsim workshop`` 's server, a facilitator and two participants.

Each role is its own browser context (its own session). The facilitator creates a room, the
participants join with its code, one acts and one does not, the facilitator closes the round,
and every page shows the leaderboard the SQLite file holds; then the server restarts and the
facilitator reopens the room with its code and key. Screenshots go to ``test-output/ui/``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from tests.ui_helpers import (
    CHROMIUM_FLAGS,
    OPEN_MENU,
    OUTPUT,
    WAIT,
    PageLog,
    SolaraServer,
    block_internet,
    require_browser,
    screenshot,
    wait_chart,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class WorkshopServer(SolaraServer):
    """``cxsim workshop`` 's server on a free port of 127.0.0.1, in its own process group."""

    def __init__(self, db: Path, log: Path) -> None:
        from sim.workshop.cli import server_command, server_environment

        env = server_environment(db)

        def command(port: int) -> list[str]:  # as cxsim workshop does: it says where it listens
            env.update(server_environment(db, env, host="127.0.0.1", port=port))
            return server_command("127.0.0.1", port)

        super().__init__(command, env, log)


def _open(browser: Any, url: str) -> tuple[Any, Any, PageLog]:
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    block_internet(context)
    page = context.new_page()
    log = PageLog(page)
    page.goto(url)
    page.locator(".cx-ws-join-btn").wait_for(timeout=WAIT)
    return context, page, log


def _join(browser: Any, url: str, code: str, name: str) -> tuple[Any, Any, PageLog]:
    context, page, log = _open(browser, url)
    page.locator(".cx-ws-join-code input").fill(code)
    page.locator(".cx-ws-join-name input").fill(name)
    page.locator(".cx-ws-join-btn").click()
    page.locator(".cx-ws-me-box").wait_for(timeout=WAIT)
    return context, page, log


def _reveal(page: Any, what: str) -> str:
    """Read the facilitator key (``what="key"``) or participant token (``"token"``): hidden
    until its Show button is clicked, never in a URL, hidden again by Hide."""
    assert page.locator(f".cx-ws-{what}").count() == 0
    assert page.locator(f".cx-ws-{what}-hidden").is_visible()
    page.locator(f".cx-ws-{what}-reveal").click()
    secret = page.locator(f".cx-ws-{what}").inner_text().strip()
    assert len(secret) >= 20 and secret in page.locator("body").inner_text()
    assert secret not in page.url
    assert all(secret not in (a.get_attribute("href") or "") for a in page.locator("a").all())
    page.locator(f".cx-ws-{what}-reveal").click()  # hide it again
    page.locator(f".cx-ws-{what}-hidden").wait_for(timeout=WAIT)
    assert secret not in page.locator("body").inner_text()
    return secret


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
                room.wait_for(timeout=WAIT)
                code = room.get_attribute("data-code")
                key = _reveal(host, "key")
                assert code and len(code) == 6 and len(key) >= 20
                # where participants open it: this server listens on 127.0.0.1 only, and the
                # page says how to start it for other computers
                join = host.locator(".cx-ws-address")
                assert join.get_attribute("data-urls") == server.url.rstrip("/")
                assert code in join.inner_text() and "--host 0.0.0.0" in join.inner_text()
                # on a phone the facilitator's buttons wrap instead of running off the screen
                host.set_viewport_size({"width": 390, "height": 900})
                host.wait_for_timeout(300)
                rights = host.eval_on_selector_all(
                    ".cx-ws-actions button",
                    "els => els.map(e => e.getBoundingClientRect().right)",
                )
                assert len(rights) >= 6 and max(rights) <= 390, rights
                host.set_viewport_size({"width": 1300, "height": 1000})

                ctx, ana, ana_log = _join(browser, server.url, code, "Ana")
                contexts.append(ctx)
                ctx, ben, ben_log = _join(browser, server.url, code.lower(), "Ben")
                contexts.append(ctx)
                host.locator(".cx-ws-participants tr[data-firm='1']").wait_for(timeout=WAIT)

                host.locator(".cx-ws-start").click()
                ana.locator(".cx-ws-me-box[data-phase='open']").wait_for(timeout=WAIT)
                ana.locator(".cx-ws-promise input").fill("0.8")
                ana.locator(".cx-ws-marketing input").fill("0.9")
                ana.locator(".cx-ws-submit").click()
                saved = ana.locator(".cx-ws-saved")
                saved.wait_for(timeout=WAIT)
                assert "promise +80%" in saved.inner_text()
                acted = host.locator(".cx-ws-participants tr[data-firm='0'] .cx-ws-acted")
                host.wait_for_function(
                    "() => document.querySelector(\".cx-ws-participants tr[data-firm='0'] "
                    ".cx-ws-acted\").innerText.includes('acted')",
                    timeout=WAIT,
                )
                assert (
                    "waiting"
                    in host.locator(
                        ".cx-ws-participants tr[data-firm='1'] .cx-ws-acted"
                    ).inner_text()
                )
                assert "acted" in acted.inner_text()
                # a projected page shows who has acted, not what: choices only on request
                assert "+80%" not in host.locator(".cx-ws-participants").inner_text()
                host.locator(".cx-ws-choices-btn").click()
                host.wait_for_function(
                    "() => document.querySelector(\".cx-ws-participants tr[data-firm='0']\")"
                    ".innerText.includes('+80%')",
                    timeout=WAIT,
                )
                host.locator(".cx-ws-choices-btn").click()
                host.wait_for_function(
                    "() => !document.querySelector('.cx-ws-participants').innerText"
                    ".includes('+80%')",
                    timeout=WAIT,
                )

                ana.locator(".cx-ws-promise input").fill("7")  # refused, nothing saved
                ana.locator(".cx-ws-submit").click()
                # the message may show beside the field and in the form while it re-renders
                ana.locator(".cx-ws-error").first.wait_for(timeout=WAIT)
                # worded as the room form words its own, not pydantic's text (review 17)
                refused = ana.locator(".cx-ws-error").first.inner_text()
                assert "promise level: expected a number from -0.5 to 1, got 7" in refused

                host.locator(".cx-ws-pause").click()  # paused: participants see it, wait
                host.locator(".cx-ws-room[data-paused='true']").wait_for(timeout=WAIT)
                ben.locator(".cx-ws-me-box[data-paused='true']").wait_for(timeout=WAIT)
                assert "paused" in ben.locator(".cx-ws-status").inner_text()
                assert ben.locator(".cx-ws-submit").is_disabled()
                assert host.locator(".cx-ws-close").is_disabled()
                host.locator(".cx-ws-resume").click()
                host.locator(".cx-ws-room[data-paused='false']").wait_for(timeout=WAIT)
                ben.locator(".cx-ws-me-box[data-paused='false']").wait_for(timeout=WAIT)

                host.locator(".cx-ws-close").click()
                host.locator(".cx-ws-board").wait_for(timeout=WAIT)
                ben.locator(".cx-ws-board").wait_for(timeout=WAIT)
                ben.locator(".cx-ws-board tr.cx-ws-me[data-firm='1']").wait_for(timeout=WAIT)
                ana.locator(".cx-ws-board tr.cx-ws-me[data-firm='0']").wait_for(timeout=WAIT)
                # the participant's own charts: their firm only, one line each
                ana.locator(".cx-ws-own[data-firm='0'][data-rounds='1']").wait_for(timeout=WAIT)
                for name in ("customers", "retention", "nps", "profit"):
                    wait_chart(ana, f"own-{name}")
                assert host.locator("[data-chart^='own-']").count() == 0
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
                again.locator(".cx-ws-rejoin-role button", has_text="facilitator").click()
                again.locator(".cx-ws-rejoin-secret input").fill(key[:-2])  # mistyped
                again.locator(".cx-ws-rejoin-btn").click()
                again.get_by_text(f"wrong facilitator key for room {code}").wait_for(timeout=WAIT)
                again.locator(".cx-ws-rejoin-secret input").fill(key)
                again.locator(".cx-ws-rejoin-btn").click()
                back = again.locator(".cx-ws-room[data-phase='between'][data-round='1']")
                back.wait_for(timeout=WAIT)
                again.locator(".cx-ws-board").wait_for(timeout=WAIT)
                assert {
                    int(r.get_attribute("data-firm")): float(r.get_attribute("data-customers"))
                    for r in again.locator(".cx-ws-board tr[data-firm]").all()
                } == shown
                again.locator(".cx-ws-start").click()
                again.locator(".cx-ws-room[data-phase='open'][data-round='2']").wait_for(
                    timeout=WAIT
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


PLAYERS = ("Ana Quill", "Ben Marsh", "Caz Orbit")


def _board(page: Any) -> dict[int, tuple[float, str]]:
    """The leaderboard shown: firm -> (customers, share text)."""
    return {
        int(r.get_attribute("data-firm")): (
            float(r.get_attribute("data-customers")),
            r.locator("td[data-col='share']").inner_text().strip(),
        )
        for r in page.locator(".cx-ws-board tr[data-firm]").all()
    }


def _expected_board(db: Path, code: str, round_: int) -> dict[int, tuple[float, str]]:
    from sim.workshop import Workshop

    stored = Workshop(str(db))
    try:
        assert stored.room(code).replay_matches is True
        return {
            row["firm"]: (round(row["customers"]), f"{row['share']:.1f}%")
            for row in stored.leaderboard(code, round_)
        }
    finally:
        stored.close()


def _order(page: Any) -> list[int]:
    """The firms in the order the leaderboard shows them."""
    rows = page.locator(".cx-ws-board tr[data-firm]").all()
    return [int(r.get_attribute("data-firm")) for r in rows]


def _expected_order(db: Path, code: str, round_: int, sort: str) -> list[int]:
    from sim.workshop import Workshop

    stored = Workshop(str(db))
    try:
        return [row["firm"] for row in stored.leaderboard(code, round_, sort=sort)]
    finally:
        stored.close()


def _only_own_firm(page: Any, firm: int) -> None:
    """The participant's page shows their firm and controls only, no one else's."""
    assert page.locator(".cx-ws-me-box").count() == 1
    assert page.locator(f".cx-ws-me-box[data-firm='{firm}']").count() == 1
    assert page.locator(".cx-ws-levers").count() == 1
    assert page.locator(".cx-ws-participants, .cx-ws-key, .cx-ws-start").count() == 0
    text = page.locator("body").inner_text()
    assert PLAYERS[firm] in text
    if page.locator(".cx-ws-board").count() == 0:  # before a leaderboard lists every firm
        for other, name in enumerate(PLAYERS):
            assert other == firm or name not in text, name


def test_three_participants_two_rounds_and_the_debrief(tmp_path: Path) -> None:
    require_browser()
    import json

    from playwright.sync_api import sync_playwright

    from sim.workshop import Workshop

    db = tmp_path / "rooms.sqlite"
    server = WorkshopServer(db, OUTPUT / "server-workshop-3.log")
    contexts: list[Any] = []
    try:
        server.wait_ready()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=require_browser(), args=CHROMIUM_FLAGS)
            try:
                ctx, host, host_log = _open(browser, server.url)
                contexts.append(ctx)
                # a value that is not a number makes no room (it was replaced by the last valid)
                host.get_by_label("Rounds (1-50)").fill("abc")
                host.wait_for_timeout(300)
                host.locator(".cx-ws-create-btn").click()
                host.locator(".cx-ws-error").first.wait_for(timeout=WAIT)
                error = host.locator(".cx-ws-error").first.inner_text()
                assert "rounds: expected a whole number 1-50, got 'abc'" in error
                assert host.locator(".cx-ws-room").count() == 0
                for label, value in (("Weeks per round (1-104)", "8"), ("Rounds (1-50)", "2")):
                    box = host.get_by_label(label)
                    box.fill(value)
                    box.press("Enter")
                host.wait_for_timeout(300)
                host.locator(".cx-ws-create-btn").click()
                room = host.locator(".cx-ws-room")
                room.wait_for(timeout=WAIT)
                code = room.get_attribute("data-code")
                key = _reveal(host, "key")
                status = host.locator(".cx-ws-status").inner_text()
                assert code and "8 weeks a round · 2 rounds · overpromise_vs_honest" in status

                pages, logs = [], []
                for name in PLAYERS:
                    ctx, page, log = _join(browser, server.url, code, name)
                    contexts.append(ctx)
                    pages.append(page)
                    logs.append(log)
                host.locator(".cx-ws-participants tr[data-firm='2']").wait_for(timeout=WAIT)
                for firm, page in enumerate(pages):
                    _only_own_firm(page, firm)
                ana, ben, caz = pages

                # round 1: Ana over-promises, Ben markets hard, Caz does not act
                host.locator(".cx-ws-start").click()
                for firm, levers in ((0, {"promise": "0.6"}), (1, {"marketing": "0.9"})):
                    page = pages[firm]
                    page.locator(".cx-ws-me-box[data-phase='open']").wait_for(timeout=WAIT)
                    for lever, value in levers.items():
                        page.locator(f".cx-ws-{lever} input").fill(value)
                    page.locator(".cx-ws-submit").click()
                    page.locator(".cx-ws-saved").wait_for(timeout=WAIT)
                host.wait_for_function(
                    "() => [...document.querySelectorAll('.cx-ws-participants .cx-ws-acted')]"
                    ".filter(e => e.innerText.includes('acted')).length === 2",
                    timeout=WAIT,
                )
                host.locator(".cx-ws-close").click()
                host.locator(".cx-ws-room[data-phase='between']").wait_for(timeout=WAIT)
                expected = _expected_board(db, code, 1)
                for firm, page in enumerate([host, *pages]):
                    page.locator(".cx-ws-board tr[data-firm='2']").wait_for(timeout=WAIT)
                    assert _board(page) == expected
                    assert _order(page) == _expected_order(db, code, 1, "value")
                    if page is not host:
                        _only_own_firm(page, firm - 1)
                # a click on a header ranks by that column (for this viewer only)
                ana.locator(".cx-ws-board th[data-sort='customers']").click()
                ana.locator(".cx-ws-board[data-sort='customers']").wait_for(timeout=WAIT)
                assert _order(ana) == _expected_order(db, code, 1, "customers")
                assert host.locator(".cx-ws-board").get_attribute("data-sort") == "value"
                screenshot(ana, "workshop3-participant")
                screenshot(host, "workshop3-facilitator")
                host.locator(".cx-ws-debrief-btn").click()  # the facilitator opens it early
                host.locator(".cx-ws-debrief[data-rounds='1'][data-matches='true']").wait_for(
                    timeout=WAIT
                )
                wait_chart(host, "debrief-customers", lambda c: c and c["rows"] == 8)

                # Ben reloads: his session is gone; his token brings his firm back
                token = _reveal(ben, "token")
                ben.reload()
                ben.locator(".cx-ws-rejoin-btn").wait_for(timeout=WAIT)
                ben.locator(".cx-ws-rejoin-code input").fill(code)
                ben.locator(".cx-ws-rejoin-secret input").fill(token)
                ben.locator(".cx-ws-rejoin-btn").click()
                ben.locator(".cx-ws-me-box[data-firm='1'][data-round='1']").wait_for(timeout=WAIT)
                assert ben.locator(".cx-ws-marketing input").input_value() == "0.9"
                _only_own_firm(ben, 1)

                # Caz lost her token (joining is closed): the facilitator gives her a new one
                caz.reload()
                caz.locator(".cx-ws-rejoin-btn").wait_for(timeout=WAIT)
                host.locator(".cx-ws-new-token .v-select").click()
                host.locator(f"{OPEN_MENU} .v-list-item", has_text="Caz").first.click()
                host.locator(".cx-ws-new-token-btn").click()
                host.locator(".cx-ws-new-token-value-hidden").wait_for(timeout=WAIT)
                fresh = _reveal(host, "new-token-value")
                caz.locator(".cx-ws-rejoin-code input").fill(code)
                caz.locator(".cx-ws-rejoin-secret input").fill(fresh)
                caz.locator(".cx-ws-rejoin-btn").click()
                caz.locator(".cx-ws-me-box[data-firm='2'][data-round='1']").wait_for(timeout=WAIT)
                _only_own_firm(caz, 2)

                # round 2: Ben (after his reload) under-promises, Caz discloses
                host.locator(".cx-ws-start").click()
                ben.locator(".cx-ws-me-box[data-phase='open']").wait_for(timeout=WAIT)
                ben.locator(".cx-ws-promise input").fill("-0.2")
                ben.locator(".cx-ws-submit").click()
                ben.locator(".cx-ws-saved").wait_for(timeout=WAIT)
                caz.locator(".cx-ws-me-box[data-phase='open']").wait_for(timeout=WAIT)
                caz.locator("label", has_text="Disclose failures").click()
                caz.locator(".cx-ws-submit").click()
                caz.locator(".cx-ws-saved").wait_for(timeout=WAIT)
                assert "disclose yes" in caz.locator(".cx-ws-saved").inner_text()
                host.locator(".cx-ws-close").click()
                host.locator(".cx-ws-room[data-phase='finished']").wait_for(timeout=WAIT)
                expected = _expected_board(db, code, 2)
                host.locator(".cx-ws-board tr[data-firm='2']").wait_for(timeout=WAIT)
                assert _board(host) == expected

                # the debrief opens by itself at the end: lines that end on the leaderboard
                host.locator(".cx-ws-debrief[data-rounds='2'][data-matches='true']").wait_for(
                    timeout=WAIT
                )
                for name in ("customers", "share", "trust", "nps"):
                    probe = wait_chart(
                        host,
                        f"debrief-{name}",
                        lambda c: c and c["rows"] == 16,
                    )
                    assert len(probe["series"]) == 3
                    if name == "customers":
                        assert {f: round(v) for f, v in enumerate(probe["last"][1:])} == {
                            f: c for f, (c, _) in expected.items()
                        }
                cells = host.locator(".cx-ws-choices tr[data-round='2'] td[data-firm='1']")
                assert "promise -20%" in cells.inner_text()
                host.set_viewport_size({"width": 1300, "height": 2000})  # the page scrolls inside
                host.wait_for_timeout(800)
                screenshot(host, "workshop3-debrief")
                ana.locator(".cx-ws-debrief[data-rounds='2']").wait_for(timeout=WAIT)
                wait_chart(ana, "debrief-trust", lambda c: c and c["rows"] == 16)
                ana.set_viewport_size({"width": 1300, "height": 2200})
                ana.wait_for_timeout(800)
                screenshot(ana, "workshop3-participant-end")

                with host.expect_download(timeout=WAIT) as download:
                    host.locator(".cx-ws-export").click()
                exported = json.loads(Path(download.value.path()).read_text())
                stored = Workshop(str(db))
                try:
                    assert exported == json.loads(json.dumps(stored.export(code, key)))
                finally:
                    stored.close()
                assert [len(r["choices"]) for r in exported["rounds"]] == [3, 3]
                assert key not in json.dumps(exported) and token not in json.dumps(exported)
                for log in (host_log, *logs):
                    _clean(log)
            finally:
                for ctx in contexts:
                    with contextlib.suppress(Exception):
                        ctx.close()
                browser.close()
    finally:
        server.stop()
