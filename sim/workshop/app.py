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
import threading
import time
from typing import Any

import solara

from sim.ui.html_widget import clickable_html
from sim.workshop.address import join_addresses, served_at
from sim.workshop.entry import CreateRoom, JoinRoom, Rejoin, rejoin_role, typed
from sim.workshop.market import choice_problem
from sim.workshop.presentation import (
    CSS,
    board_html,
    choices_html,
    debrief_options,
    join_html,
    own_options,
    participants_html,
    ranking_note,
)
from sim.workshop.reports import RANK_BY
from sim.workshop.room import BALANCED, AccessDenied, WorkshopError
from sim.workshop.service import DB_ENV, default_db, workshop

__all__ = [
    "DB_ENV",
    "Page",
    "board_html",
    "choices_html",
    "debrief_options",
    "default_db",
    "own_options",
    "rejoin_role",
    "workshop",
]

POLL_SECONDS = 1.0


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
def NewToken(code: str, key: str, participants: list[dict[str, Any]]) -> None:
    """A new token for a participant who lost theirs (a closed tab, a server restart): joining
    closes when round 1 starts, so the facilitator gives one; the old token stops working."""
    chosen = solara.use_reactive(None)
    issued, set_issued = solara.use_state(None)  # type: ignore[arg-type]
    error, set_error = solara.use_state("")
    names = [p["name"] for p in participants]
    if not names:
        return

    def issue() -> None:
        firm = next(p["firm"] for p in participants if p["name"] == chosen.value)
        try:
            set_issued((chosen.value, workshop().new_token(code, key, firm)))
            set_error("")
        except (WorkshopError, AccessDenied) as e:
            set_error(str(e))

    with solara.Row(classes=["cx-ws-new-token", "cx-ws-actions"]):
        solara.Select(
            "A participant lost their token?",
            values=names,
            value=chosen,
            style={"max-width": "320px"},
        )
        solara.Button(
            "Give a new token",
            outlined=True,
            color="primary",
            disabled=chosen.value is None,
            on_click=issue,
            classes=["cx-ws-new-token-btn"],
        )
    if error:
        solara.Text(error, classes=["cx-ws-error"])
    if issued:
        Secret(
            f"{issued[0]}'s new token",
            issued[1],
            "cx-ws-new-token-value",
            "give it to them: with the room code it opens their firm (Come back); "
            "their old token no longer works",
        )


def join_line(code: str) -> str:
    """Where participants open the workshop, for a server ``cxsim workshop`` started (it says
    where it listens: sim.workshop.address); nothing for one started otherwise."""
    served = served_at()
    if served is None:
        return ""
    where = join_addresses(*served)
    return join_html(code, where.urls, where.note)


@solara.component
def FacilitatorView(code: str, key: str) -> None:
    """Room code and key, round controls, participants' statuses, the leaderboard."""
    use_room_revision(code)
    shop = workshop()
    error, set_error = solara.use_state("")
    debrief_open, set_debrief = solara.use_state(None)  # type: ignore[arg-type]
    sort, set_sort = solara.use_state(RANK_BY)
    show_choices, set_show_choices = solara.use_state(False)
    status = shop.status(code, key)
    # the addresses once per page, not at every refresh (a host name's lookup can be slow)
    where = solara.use_memo(lambda: join_line(code), [code])

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
            f'<p class="cx-ws-status"><b>{label}</b> · {status["weeks"]} weeks a round · '
            f"{status['rounds']} rounds · {html.escape(status['scenario'])}, "
            f"{status['customers']:,} customers · {len(status['participants'])} of "
            f"{status['seats']} seats</p>{where}</div>"
        ),
    )
    Secret(
        "facilitator key",
        key,
        "cx-ws-key",
        "keep it private: with the room code it reopens this page (and runs the room)",
    )
    with solara.Row(classes=["cx-ws-actions"]):  # wraps on a narrow screen
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
    # a projected page shows who has acted, not what: choices only on request
    with solara.Row(justify="start"):
        solara.Button(
            "Hide choices" if show_choices else "Show choices",
            text=True,
            color="primary",
            icon_name="mdi-eye-off" if show_choices else "mdi-eye",
            on_click=lambda: set_show_choices(not show_choices),
            classes=["cx-ws-choices-btn"],
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=participants_html(status["participants"], phase, show_choices),
    )
    NewToken(code, key, status["participants"])
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
            f'<span class="cx-ws-note">'
            f"{ranking_note(sort, any(row['value'] is not None for row in rows))}</span>"
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
    # text fields, read at Submit (a number field kept its last valid value under "abc")
    promise = solara.use_reactive(f"{me['choice']['promise_level']:g}")
    focus = solara.use_reactive(me["choice"]["focus"])
    marketing = solara.use_reactive(f"{me['choice']['marketing']:g}")
    disclose = solara.use_reactive(me["choice"]["disclose"])
    capacity = solara.use_reactive(f"{me['choice']['capacity_share']:g}")
    message, set_message = solara.use_state("")
    error, set_error = solara.use_state("")
    sort, set_sort = solara.use_state(RANK_BY)

    def submit() -> None:
        levers = {
            "promise_level": typed(promise.value, float),
            "focus": focus.value,
            "marketing": typed(marketing.value, float),
            "disclose": disclose.value,
            "capacity_share": typed(capacity.value, float),
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
        "write it down: with the room code it brings you back to your firm after a reload or "
        "a restart (Come back); keep it private. Lost it? Your facilitator can give you a new one",
    )
    with solara.Card("Your levers", classes=["cx-ws-levers"]):
        solara.Text(
            "If you do not act in a round, your firm keeps its last choices.",
            classes=["cx-ws-note"],
        )
        solara.InputText(
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
        solara.InputText(
            "Marketing vs retention (0-1): share of the customer budget on marketing",
            value=marketing,
            continuous_update=True,
            classes=["cx-ws-marketing"],
        )
        solara.InputText(
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
