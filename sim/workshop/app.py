"""The workshop's browser page: ``solara run sim.workshop.app`` (``cxsim workshop`` starts it).

Unlike the strategist UI, the market here is shared on purpose: one :class:`Workshop` per server
process (opened on first use from ``$CXSIM_WORKSHOP_DB``) holds every room, and every browser
session acts on it through the same checked methods a script would use (a facilitator's actions
need the room's key, a participant's the participant's token). What a session is (facilitator
of a room, or a participant with a token) lives in that session only. Each page polls its room's
change counter once a second, so statuses and leaderboards appear without reloading. The HTML
tables, chart options and CSS are in :mod:`sim.workshop.presentation`.
"""

from __future__ import annotations

import html
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import solara

from sim.scenario import list_scenarios
from sim.ui.html_widget import clickable_html
from sim.workshop.market import choice_problem
from sim.workshop.presentation import (
    CSS,
    board_html,
    choices_html,
    debrief_options,
    own_options,
    ranking_note,
)
from sim.workshop.reports import RANK_BY
from sim.workshop.room import (
    BALANCED,
    AccessDenied,
    Workshop,
    WorkshopError,
)

__all__ = [
    "DB_ENV",
    "Page",
    "board_html",
    "choices_html",
    "debrief_options",
    "default_db",
    "own_options",
    "workshop",
]

DB_ENV = "CXSIM_WORKSHOP_DB"
"""Environment variable naming the SQLite file of the rooms."""

POLL_SECONDS = 1.0

_lock = threading.Lock()
_workshop: Workshop | None = None


def default_db() -> Path:
    """``$CXSIM_WORKSHOP_DB``, or ``workshop.sqlite`` in the current folder."""
    return Path(os.environ.get(DB_ENV) or "workshop.sqlite").resolve()


def workshop() -> Workshop:
    """The server's workshop (every room), opened on first use from :func:`default_db`."""
    global _workshop
    with _lock:
        if _workshop is None:
            _workshop = Workshop(str(default_db()))
        return _workshop


@solara.component
def OwnCharts(code: str, token: str) -> None:
    """The participant's own firm over the rounds played (replayed; nothing of other firms)."""
    from sim.ui.charts import Chart

    revision = use_room_revision(code)
    own = solara.use_memo(
        lambda: workshop().own_history(code, token), dependencies=[code, token, revision]
    )
    n = len(own["rounds"])
    if not n:
        return
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div class="cx-ws-own" data-firm="{own["firm"]}" data-rounds="{n}">'
            f"<h3>Your firm over {n} round{'s' if n != 1 else ''}</h3>"
            '<span class="cx-ws-note">Week by week; dashed lines mark the end of each '
            "round.</span></div>"
        ),
    )
    with solara.Div(classes=["cx-ws-charts", "cx-ws-own-charts"]):
        for name, option in own_options(own, len(workshop().room(code).participants)):
            Chart(option, name, height=240)


@solara.component
def DebriefView(code: str, key: str | None) -> None:
    """The market replayed round by round: the firms' lines and each round's choices."""
    from sim.ui.charts import Chart

    revision = use_room_revision(code)
    debrief = solara.use_memo(
        lambda: workshop().debrief(code, key), dependencies=[code, key, revision]
    )
    n = len(debrief["rounds"])
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div class="cx-ws-debrief" data-rounds="{n}" '
            f'data-matches="{str(debrief["matches"]).lower()}"><h3>Debrief: the market replayed '
            f"over {n} round{'s' if n != 1 else ''}</h3>"
            '<span class="cx-ws-note">Replayed from the stored choices; dashed lines mark the '
            "end of each round. The table under the charts gives each firm's choices per "
            "round and its customers at the round's end.</span></div>"
        ),
    )
    if not n:
        solara.Text("No round has been played yet.", classes=["cx-ws-note"])
        return
    with solara.Div(classes=["cx-ws-charts"]):
        for name, option in debrief_options(debrief):
            Chart(option, name, height=270)
    solara.HTML(tag="div", unsafe_innerHTML="<h4>Choices per round</h4>" + choices_html(debrief))


def use_room_revision(code: str | None) -> int:
    """Redraw the calling component when the room changes (polled); return the revision."""
    revision, set_revision = solara.use_state(0)

    def poll(cancel: threading.Event) -> None:
        if code is None:
            return
        seen = -1
        while not cancel.is_set():
            try:
                now = workshop().revision(code)
            except WorkshopError:
                return
            if now != seen:
                seen = now
                set_revision(now)
            time.sleep(POLL_SECONDS)

    solara.use_thread(poll, dependencies=[code], intrusive_cancel=False)
    return revision


@solara.component
def CreateRoom(on_role: Any) -> None:
    """The facilitator's form: base scenario, weeks per round, rounds, seats, customers."""
    names = [name for name, _, _ in list_scenarios()]
    scenario = solara.use_reactive(
        "overpromise_vs_honest" if "overpromise_vs_honest" in names else names[0]
    )
    weeks = solara.use_reactive(13)
    rounds = solara.use_reactive(8)
    seats = solara.use_reactive(12)
    customers = solara.use_reactive(1000)
    error, set_error = solara.use_state("")

    def create() -> None:
        try:
            code, key = workshop().create_room(
                scenario.value,
                weeks=weeks.value,
                rounds=rounds.value,
                seats=seats.value,
                customers=customers.value,
            )
        except WorkshopError as e:
            set_error(str(e))
            return
        on_role({"role": "facilitator", "code": code, "key": key})

    with solara.Card("Run a workshop", classes=["cx-ws-create"]):
        solara.Text(
            "Every participant gets a copy of the scenario's first firm in one shared market.",
            classes=["cx-ws-note"],
        )
        solara.Select("Market (scenario)", values=names, value=scenario)
        solara.InputInt("Weeks per round (1-104)", value=weeks)
        solara.InputInt("Rounds (1-50)", value=rounds)
        solara.InputInt("Seats (1-40)", value=seats)
        solara.InputInt("Customers (100-20,000)", value=customers)
        solara.Button("Create room", color="primary", on_click=create, classes=["cx-ws-create-btn"])
        if error:
            solara.Text(error, classes=["cx-ws-error"])


@solara.component
def JoinRoom(on_role: Any) -> None:
    """The participant's form: room code and name."""
    code = solara.use_reactive("")
    name = solara.use_reactive("")
    error, set_error = solara.use_state("")

    def join() -> None:
        try:
            token, _ = workshop().join(code.value or "", name.value or "")
        except WorkshopError as e:
            set_error(str(e))
            return
        on_role({"role": "participant", "code": code.value.strip().upper(), "token": token})

    with solara.Card("Join a workshop", classes=["cx-ws-join"]):
        solara.InputText(
            "Room code", value=code, continuous_update=True, classes=["cx-ws-join-code"]
        )
        solara.InputText(
            "Your name", value=name, continuous_update=True, classes=["cx-ws-join-name"]
        )
        solara.Button("Join", color="primary", on_click=join, classes=["cx-ws-join-btn"])
        if error:
            solara.Text(error, classes=["cx-ws-error"])


ROLES = {"participant": "participant token", "facilitator": "facilitator key"}
"""Who comes back to a room, and the secret each one holds."""


def rejoin_role(code: str, secret: str, role: str) -> dict[str, str]:
    """The role a code and secret open: ``role``'s first, then the other's.

    Raises
    ------
    AccessDenied
        Neither matches; the message names what was asked for ("wrong facilitator key for
        room ABCDEF" or "unknown participant token for room ABCDEF").
    WorkshopError
        No such room.
    """
    shop = workshop()
    order = (
        ["facilitator", "participant"] if role == "facilitator" else ["participant", "facilitator"]
    )
    for who in order:
        try:
            if who == "facilitator":
                shop.status(code, secret)
                return {"role": "facilitator", "code": code, "key": secret}
            shop.whoami(code, secret)
            return {"role": "participant", "code": code, "token": secret}
        except AccessDenied:
            continue
    what = "wrong facilitator key" if role == "facilitator" else "unknown participant token"
    raise AccessDenied(f"{what} for room {code}")


@solara.component
def Rejoin(on_role: Any) -> None:
    """Come back to a room after a reload or a restart: code, who one is, and the secret."""
    code = solara.use_reactive("")
    role = solara.use_reactive("participant")
    secret = solara.use_reactive("")
    error, set_error = solara.use_state("")

    def rejoin() -> None:
        c, s = (code.value or "").strip().upper(), (secret.value or "").strip()
        try:
            on_role(rejoin_role(c, s, role.value))
        except (AccessDenied, WorkshopError) as e:
            set_error(str(e))

    with solara.Card("Come back", classes=["cx-ws-rejoin"]):
        solara.Text(
            "Participants: the room code and the token shown when you joined. Facilitators: "
            "the room code and key.",
            classes=["cx-ws-note"],
        )
        solara.InputText(
            "Room code", value=code, continuous_update=True, classes=["cx-ws-rejoin-code"]
        )
        solara.ToggleButtonsSingle(
            value=role, values=list(ROLES), dense=True, classes=["cx-ws-rejoin-role"]
        )
        solara.InputText(
            f"Your {ROLES[role.value]}",
            value=secret,
            continuous_update=True,
            password=True,
            classes=["cx-ws-rejoin-secret"],
        )
        solara.Button("Open", color="primary", on_click=rejoin, classes=["cx-ws-rejoin-btn"])
        if error:
            solara.Text(error, classes=["cx-ws-error"])


@solara.component
def Secret(label: str, secret: str, css: str, note: str) -> None:
    """A secret hidden behind a Show button (a projected screen never shows it by accident)."""
    shown, set_shown = solara.use_state(False)
    with solara.Div(classes=["cx-ws-secret-row"]):
        solara.Text(label, classes=["cx-ws-note"])
        if shown:
            solara.Text(secret, classes=["cx-ws-secret", css])
        else:
            solara.Text("••••••••", classes=["cx-ws-secret", f"{css}-hidden"])
        solara.Button(
            f"Hide {label.split()[-1]}" if shown else f"Show {label.split()[-1]}",
            small=True,
            text=True,
            color="primary",
            icon_name="mdi-eye-off" if shown else "mdi-eye",
            on_click=lambda: set_shown(not shown),
            classes=[f"{css}-reveal"],
        )
        solara.Text(note, classes=["cx-ws-note"])


@solara.component
def FacilitatorView(code: str, key: str) -> None:
    """Room code and key, round controls, participants' statuses, the leaderboard."""
    use_room_revision(code)
    shop = workshop()
    error, set_error = solara.use_state("")
    debrief_open, set_debrief = solara.use_state(None)  # type: ignore[arg-type]
    sort, set_sort = solara.use_state(RANK_BY)
    status = shop.status(code, key)

    def act(fn: Any) -> None:
        try:
            fn(code, key)
            set_error("")
        except (WorkshopError, AccessDenied) as e:
            set_error(str(e))

    phase, r = status["phase"], status["round"]
    paused = bool(status.get("paused"))
    show_debrief = phase == "finished" if debrief_open is None else bool(debrief_open)
    label = {
        "lobby": "waiting for participants",
        "open": f"round {r} of {status['rounds']} "
        + ("paused (resume it to take choices or close it)" if paused else "open for choices"),
        "between": f"round {r} of {status['rounds']} played",
        "finished": f"all {status['rounds']} rounds played",
    }[phase]
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div class="cx-ws-room" data-code="{code}" data-phase="{phase}" data-round="{r}" '
            f'data-paused="{str(paused).lower()}">'
            f'<span class="cx-ws-note">room code</span><span class="cx-ws-code">{code}</span>'
            f'<p class="cx-ws-status"><b>{label}</b> · {status["weeks"]} weeks a round</p></div>'
        ),
    )
    Secret(
        "facilitator key",
        key,
        "cx-ws-key",
        "keep it private: with the room code it reopens this page (and runs the room)",
    )
    with solara.Row():
        solara.Button(
            "Start next round",
            color="primary",
            disabled=phase in ("open", "finished") or not status["participants"],
            on_click=lambda: act(shop.start_round),
            classes=["cx-ws-start"],
        )
        solara.Button(
            "Close round and run the market",
            color="primary",
            disabled=phase != "open" or paused,
            on_click=lambda: act(shop.close_round),
            classes=["cx-ws-close"],
        )
        solara.Button(
            "Pause round",
            outlined=True,
            color="primary",
            disabled=phase != "open" or paused,
            on_click=lambda: act(shop.pause_round),
            classes=["cx-ws-pause"],
        )
        solara.Button(
            "Resume round",
            outlined=True,
            color="primary",
            disabled=phase != "open" or not paused,
            on_click=lambda: act(shop.resume_round),
            classes=["cx-ws-resume"],
        )
        solara.FileDownload(
            lambda: json.dumps(shop.export(code, key), indent=1, ensure_ascii=False).encode(),
            filename=f"workshop-{code}.json",
            mime_type="application/json",
            children=[
                solara.Button(
                    "Export session (JSON)",
                    icon_name="mdi-download",
                    outlined=True,
                    color="primary",
                    classes=["cx-ws-export"],
                )
            ],
        )
        solara.Button(
            "Hide debrief" if show_debrief else "Open debrief",
            outlined=True,
            color="primary",
            disabled=r == 0 or (phase == "open" and r == 1),
            on_click=lambda: set_debrief(not show_debrief),
            classes=["cx-ws-debrief-btn"],
        )
    if error:
        solara.Text(error, classes=["cx-ws-error"])
    rows = "".join(
        f'<tr data-firm="{p["firm"]}"><td>{p["firm"] + 1}</td><td>{html.escape(p["name"])}</td>'
        f'<td class="cx-ws-acted">{"✔ acted" if p["acted"] else ("waiting" if phase == "open" else "")}</td>'  # noqa: E501
        f"<td>{p['choice']['promise_level']:+.0%}</td><td>{html.escape(p['choice']['focus'])}</td>"
        f"<td>{p['choice']['marketing']:.0%}</td><td>{p['choice']['capacity_share']:.0%}</td>"
        f"<td>{'yes' if p['choice']['disclose'] else 'no'}</td></tr>"
        for p in status["participants"]
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<h3>Participants ({len(status['participants'])})</h3>"
            '<table class="cx-ws-table cx-ws-participants"><tr><th>#</th><th>name</th>'
            "<th>this round</th><th>promise</th><th>focus</th><th>marketing</th>"
            f"<th>capacity</th><th>disclose</th></tr>{rows}</table>"
        ),
    )
    leaderboard(code, None, sort, set_sort)
    if show_debrief:
        DebriefView(code, key)


def leaderboard(code: str, me: int | None, sort: str = RANK_BY, on_sort: Any = None) -> None:
    """Show the leaderboard after the last round played (nothing before the first), ordered by
    ``sort``; a click on a column header calls ``on_sort(column)``.

    A plain function, not a component: it is redrawn whenever the calling view is.
    """
    rows = workshop().leaderboard(code, sort=sort)
    if not rows:
        return
    r = max(workshop().room(code).results)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<h3>Leaderboard after round {r}</h3>"
            f'<span class="cx-ws-note">{ranking_note(sort)}</span>'
        ),
    )
    clickable_html(board_html(rows, me, sort), on_sort or (lambda _: None))


@solara.component
def ParticipantView(code: str, token: str) -> None:
    """The participant's firm, its levers for the open round, the leaderboard."""
    use_room_revision(code)
    shop = workshop()
    me = shop.whoami(code, token)
    room = shop.room(code)
    promise = solara.use_reactive(me["choice"]["promise_level"])
    focus = solara.use_reactive(me["choice"]["focus"])
    marketing = solara.use_reactive(me["choice"]["marketing"])
    disclose = solara.use_reactive(me["choice"]["disclose"])
    capacity = solara.use_reactive(me["choice"]["capacity_share"])
    message, set_message = solara.use_state("")
    error, set_error = solara.use_state("")
    sort, set_sort = solara.use_state(RANK_BY)

    def submit() -> None:
        levers = {
            "promise_level": promise.value,
            "focus": focus.value,
            "marketing": marketing.value,
            "disclose": disclose.value,
            "capacity_share": capacity.value,
        }
        problem = choice_problem(levers)  # worded as the room form words its own
        if problem:
            set_error(problem)
            set_message("")
            return
        try:
            saved = shop.submit(code, token, levers)
        except (WorkshopError, AccessDenied) as e:
            set_error(str(e))
            set_message("")
            return
        set_error("")
        set_message(
            f"{me['round']}|Saved for round {me['round']}: promise {saved.promise_level:+.0%}, "
            f"focus {saved.focus}, marketing {saved.marketing:.0%}, "
            f"disclose {'yes' if saved.disclose else 'no'}, "
            f"capacity {saved.capacity_share:.0%}."
        )

    phase, r = me["phase"], me["round"]
    paused = bool(me.get("paused")) and phase == "open"
    label = {
        "lobby": "waiting for the facilitator to start round 1",
        "open": (
            f"round {r} of {room.rounds} is paused: wait for the facilitator to resume it"
            if paused
            else f"round {r} of {room.rounds} is open: set your levers"
        ),
        "between": f"round {r} of {room.rounds} played; wait for the next",
        "finished": f"the game is over ({room.rounds} rounds)",
    }[phase]
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f'<div class="cx-ws-me-box" data-firm="{me["firm"]}" data-phase="{phase}" '
            f'data-round="{r}" data-paused="{str(paused).lower()}">'
            f"<h2>{html.escape(me['name'])} · firm {me['firm'] + 1}</h2>"
            f'<p class="cx-ws-status"><b>{label}</b></p><span class="cx-ws-note">room {code}'
            "</span></div>"
        ),
    )
    Secret(
        "your token",
        token,
        "cx-ws-token",
        "to come back to your firm after a reload; keep it private",
    )
    with solara.Card("Your levers", classes=["cx-ws-levers"]):
        solara.Text(
            "If you do not act in a round, your firm keeps its last choices.",
            classes=["cx-ws-note"],
        )
        solara.InputFloat(
            "Promise level (-0.5 to 1): promise = capability × (1 + level)",
            value=promise,
            continuous_update=True,
            classes=["cx-ws-promise"],
        )
        solara.Select(
            "Investment focus",
            values=[BALANCED, *room.attributes],
            value=focus,
            classes=["cx-ws-focus"],
        )
        solara.InputFloat(
            "Marketing vs retention (0-1): share of the customer budget on marketing",
            value=marketing,
            continuous_update=True,
            classes=["cx-ws-marketing"],
        )
        solara.InputFloat(
            "Capacity investment (0-0.6): share of the budget on capacity (capability: 0.6 - it)",
            value=capacity,
            continuous_update=True,
            classes=["cx-ws-capacity"],
        )
        solara.Checkbox(
            label="Disclose failures to customers before they meet them", value=disclose
        )
        solara.Button(
            "Submit choices",
            color="primary",
            disabled=phase != "open" or paused,
            on_click=submit,
            classes=["cx-ws-submit"],
        )
        saved_round, _, saved_text = message.partition("|")
        if saved_text and phase == "open" and saved_round == str(r):  # this round's only
            solara.Text(saved_text, classes=["cx-ws-note", "cx-ws-saved"])
        if error:
            solara.Text(error, classes=["cx-ws-error"])
    leaderboard(code, me["firm"], sort, set_sort)
    if room.results:
        OwnCharts(code, token)
    if phase == "finished":
        DebriefView(code, None)


@solara.component
def Page() -> None:
    """The workshop page for one browser session."""
    role, set_role = solara.use_state(None)  # type: ignore[arg-type]
    solara.Style(CSS)
    solara.Title("cxsim workshop")
    with solara.AppBar():
        solara.AppBarTitle("cxsim · workshop")
    with solara.Column(classes=["cx-ws"]):
        if role is None:
            with solara.Div(classes=["cx-ws-cards"]):
                JoinRoom(set_role)
                CreateRoom(set_role)
                Rejoin(set_role)
        elif role["role"] == "facilitator":
            FacilitatorView(role["code"], role["key"])
        else:
            ParticipantView(role["code"], role["token"])
