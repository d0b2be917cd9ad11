"""The workshop's browser page: ``solara run sim.workshop.app`` (``cxsim workshop`` starts it).

Unlike the strategist UI, the market here is shared on purpose: one :class:`Workshop` per server
process (opened on first use from ``$CXSIM_WORKSHOP_DB``) holds every room, and every browser
session acts on it through the same checked methods a script would use (a facilitator's actions
need the room's key, a participant's the participant's token). What a session is (facilitator
of a room, or a participant with a token) lives in that session only. Each page polls its room's
change counter once a second, so statuses and leaderboards appear without reloading.
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
    "workshop",
]

DB_ENV = "CXSIM_WORKSHOP_DB"
"""Environment variable naming the SQLite file of the rooms."""

POLL_SECONDS = 1.0

CSS = """
.cx-ws { max-width: 1100px; }
.cx-ws-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
  gap: 14px; }
.cx-ws-code { font-size: 34px; font-weight: 700; letter-spacing: 0.12em; color: #1a73e8; }
.cx-ws-note { font-size: 12px; color: #5f6368; display: block; line-height: 1.4; }
.cx-ws-secret { font-family: monospace; font-size: 13px; background: #f1f3f4; padding: 2px 6px;
  border-radius: 3px; word-break: break-all; }
.cx-ws-table { border-collapse: collapse; font-size: 14px; margin: 6px 0 14px 0; }
.cx-ws-table th, .cx-ws-table td { border-bottom: 1px solid #e0e0e0; padding: 5px 12px;
  text-align: right; white-space: nowrap; }
.cx-ws-table th:nth-child(-n+2), .cx-ws-table td:nth-child(-n+2) { text-align: left; }
.cx-ws-table th { background: #f5f5f5; font-weight: 600; }
.cx-ws-me { background: #e8f0fe; font-weight: 600; }
.cx-ws-error { color: #b00020; font-size: 13px; display: block; }
.cx-ws-charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px;
  margin: 6px 0 10px 0; }
.cx-ws-charts > * { min-width: 0; border: 1px solid #e0e0e0; border-radius: 4px; }
.cx-ws-choices td, .cx-ws-choices th { text-align: left !important; white-space: normal;
  font-size: 13px; vertical-align: top; }
"""

DEBRIEF_CHARTS = (
    ("customers", "Customers", "customers", 1.0, (0, None)),
    ("share", "Market share", "%", 1.0, (0, None)),
    ("trust", "Trust", "trust (0-1)", 1.0, (0, 1)),
    ("nps", "NPS", "NPS", 1.0, (-100, 100)),
)
"""The debrief's charts: series, title, y-axis name, scale, y limits."""
OWN_CHARTS = (
    ("customers", "Your customers", "customers", 1.0, (0, None)),
    ("retention", "Your retention (annual)", "%", 100.0, (0, 100)),
    ("nps", "Your NPS", "NPS", 1.0, (-100, 100)),
    ("profit", "Your profit per week", "money", 1.0, (None, None)),
)
"""A participant's charts of their own firm (same layout as :data:`DEBRIEF_CHARTS`)."""

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


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else spec.format(value)


def board_html(rows: list[dict[str, Any]], me: int | None = None) -> str:
    """The leaderboard as an HTML table (``me``: the viewer's firm, highlighted)."""
    head = (
        "#",
        "firm",
        "customers",
        "share",
        "annual retention",
        "NPS",
        "trust",
        "profit this round",
        "cash",
    )
    body = []
    for row in rows:
        cells = (
            str(row["rank"]),
            html.escape(row["name"]),
            f"{row['customers']:,.0f}",
            f"{row['share']:.1f}%",
            _fmt(row["retention"], "{:.1%}"),
            _fmt(row["nps"], "{:+.0f}"),
            _fmt(row["trust"], "{:.2f}"),
            f"{row['profit']:,.0f}",
            f"{row['cash']:,.0f}",
        )
        cls = ' class="cx-ws-me"' if row["firm"] == me else ""
        body.append(
            f'<tr{cls} data-firm="{row["firm"]}" data-customers="{row["customers"]:.0f}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    header = "".join(f"<th>{h}</th>" for h in head)
    return f'<table class="cx-ws-table cx-ws-board"><tr>{header}</tr>{"".join(body)}</table>'


def _choice_text(c: dict[str, Any]) -> str:
    return (
        f"promise {c['promise_level']:+.0%} · {c['focus']} · marketing {c['marketing']:.0%}"
        f" · capacity {c.get('capacity_share', 0.3):.0%}"
        f"{' · discloses' if c['disclose'] else ''}"
    )


def debrief_options(
    debrief: dict[str, Any], charts: tuple = DEBRIEF_CHARTS, prefix: str = "debrief"
) -> list[tuple[str, dict[str, Any]]]:
    """The debrief's ECharts options, ``(name, option)``: one line per firm against weeks, a
    dashed line at each round's end labelled with the round, the firms' choices of each round
    in the tooltip. ``charts`` and ``prefix`` choose the charts and their names."""
    from sim.ui.charts import firm_colours

    colours = firm_colours(len(debrief["firms"]))
    ends = [r["end_week"] for r in debrief["rounds"]]
    out = []
    for column, title, y_name, scale, (low, high) in charts:
        source = [
            [
                week,
                *(None if f[column][i] is None else f[column][i] * scale for f in debrief["firms"]),
            ]
            for i, week in enumerate(debrief["weeks"])
        ]
        series: list[dict[str, Any]] = [
            {
                "type": "line",
                "name": f["name"],
                "encode": {"x": 0, "y": i + 1},
                "showSymbol": False,
                "color": colours[i],
                "lineStyle": {"width": 2},
            }
            for i, f in enumerate(debrief["firms"])
        ]
        if series:
            series[0]["markLine"] = {
                "silent": True,
                "symbol": "none",
                "lineStyle": {"type": "dashed", "color": "#888", "width": 1},
                "label": {"position": "insideEndTop", "color": "#555", "fontSize": 11},
                "data": [
                    {"xAxis": r["end_week"], "label": {"formatter": f"R{r['round']}"}}
                    for r in debrief["rounds"]
                ],
            }
        y_axis: dict[str, Any] = {
            "type": "value",
            "name": y_name,
            "nameTextStyle": {"align": "left", "color": "#555"},
        }
        if low is not None:
            y_axis["min"] = low
        if high is not None:
            y_axis["max"] = high
        out.append(
            (
                f"{prefix}-{column}",
                {
                    "animation": False,
                    "title": {
                        "text": title,
                        "left": 6,
                        "top": 4,
                        "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
                    },
                    "legend": {"top": 4, "right": 10, "textStyle": {"fontSize": 11}},
                    "grid": {
                        "left": 10,
                        "right": 22,
                        "top": 52,
                        "bottom": 28,
                        "containLabel": True,
                    },
                    "tooltip": {"trigger": "axis", "confine": True, "order": "valueDesc"},
                    "xAxis": {
                        "type": "value",
                        "name": "week",
                        "nameLocation": "middle",
                        "nameGap": 24,
                        "min": 0,
                        "max": max(ends) if ends else 1,
                        "axisLine": {"onZero": False},
                    },
                    "yAxis": y_axis,
                    "dataset": {"source": source},
                    "series": series,
                },
            )
        )
    return out


def own_options(own: dict[str, Any], firm_count: int = 1) -> list[tuple[str, dict[str, Any]]]:
    """A participant's charts (:data:`OWN_CHARTS`) from :meth:`Workshop.own_history`: their
    firm's line only, in its leaderboard colour, with the round ends marked."""
    from sim.ui.charts import firm_colours

    options = debrief_options(
        {
            "firms": [{"name": own["name"], **own["series"]}],
            "weeks": own["weeks"],
            "rounds": own["rounds"],
        },
        OWN_CHARTS,
        "own",
    )
    colour = firm_colours(max(firm_count, own["firm"] + 1))[own["firm"]]
    for _, option in options:
        option["series"][0]["color"] = colour
        option["legend"] = {"show": False}
    return options


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


def choices_html(debrief: dict[str, Any]) -> str:
    """Per round (a row), each firm's choices and customers at the round's end (a column)."""
    head = "".join(f"<th>{html.escape(f['name'])}</th>" for f in debrief["firms"])
    body = []
    for r in debrief["rounds"]:
        results = {row["firm"]: row for row in r["results"]}
        cells = []
        for c in r["choices"]:
            res = results.get(c["firm"])
            after = "" if res is None else f"<br><b>{res['customers']:,.0f}</b> customers"
            cells.append(f'<td data-firm="{c["firm"]}">{html.escape(_choice_text(c))}{after}</td>')
        body.append(
            f'<tr data-round="{r["round"]}"><td>R{r["round"]}<br>weeks '
            f"{r['end_week'] - debrief['weeks_per_round'] + 1}-{r['end_week']}</td>"
            + "".join(cells)
            + "</tr>"
        )
    return (
        '<table class="cx-ws-table cx-ws-choices"><tr><th>round</th>'
        f"{head}</tr>{''.join(body)}</table>"
    )


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


@solara.component
def Rejoin(on_role: Any) -> None:
    """Come back to a room after a reload or a restart: code and key (or token)."""
    code = solara.use_reactive("")
    secret = solara.use_reactive("")
    error, set_error = solara.use_state("")

    def rejoin() -> None:
        shop = workshop()
        c, s = (code.value or "").strip().upper(), (secret.value or "").strip()
        try:
            try:
                shop.status(c, s)
                on_role({"role": "facilitator", "code": c, "key": s})
                return
            except AccessDenied:
                pass
            shop.whoami(c, s)
            on_role({"role": "participant", "code": c, "token": s})
        except (AccessDenied, WorkshopError) as e:
            set_error(str(e))

    with solara.Card("Come back", classes=["cx-ws-rejoin"]):
        solara.Text(
            "Facilitators: the room code and key. Participants: the code and the "
            "token shown when you joined.",
            classes=["cx-ws-note"],
        )
        solara.InputText(
            "Room code", value=code, continuous_update=True, classes=["cx-ws-rejoin-code"]
        )
        solara.InputText(
            "Key or token",
            value=secret,
            continuous_update=True,
            password=True,
            classes=["cx-ws-rejoin-secret"],
        )
        solara.Button("Open", color="primary", on_click=rejoin, classes=["cx-ws-rejoin-btn"])
        if error:
            solara.Text(error, classes=["cx-ws-error"])


@solara.component
def FacilitatorView(code: str, key: str) -> None:
    """Room code and key, round controls, participants' statuses, the leaderboard."""
    use_room_revision(code)
    shop = workshop()
    error, set_error = solara.use_state("")
    debrief_open, set_debrief = solara.use_state(None)  # type: ignore[arg-type]
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
            f'<span class="cx-ws-note">facilitator key (keep it private; it reopens this '
            f'page): <span class="cx-ws-secret cx-ws-key">{html.escape(key)}</span></span>'
            f'<p class="cx-ws-status"><b>{label}</b> · {status["weeks"]} weeks a round</p></div>'
        ),
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
    leaderboard(code, None)
    if show_debrief:
        DebriefView(code, key)


def leaderboard(code: str, me: int | None) -> None:
    """Show the leaderboard after the last round played (nothing before the first).

    A plain function, not a component: it is redrawn whenever the calling view is.
    """
    rows = workshop().leaderboard(code)
    if not rows:
        return
    r = max(workshop().room(code).results)
    solara.HTML(
        tag="div", unsafe_innerHTML=f"<h3>Leaderboard after round {r}</h3>" + board_html(rows, me)
    )


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

    def submit() -> None:
        try:
            saved = shop.submit(
                code,
                token,
                {
                    "promise_level": promise.value,
                    "focus": focus.value,
                    "marketing": marketing.value,
                    "disclose": disclose.value,
                    "capacity_share": capacity.value,
                },
            )
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
            f'<p class="cx-ws-status"><b>{label}</b></p><span class="cx-ws-note">room {code} · '
            f'your token (to come back): <span class="cx-ws-secret">{html.escape(token)}</span>'
            "</span></div>"
        ),
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
    leaderboard(code, me["firm"])
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
