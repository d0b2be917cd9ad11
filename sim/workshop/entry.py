"""The workshop page's first cards: create a room, join one, come back to one.

Each card ends by handing the session its role (``on_role``: facilitator with the room's key,
or participant with a token) to :func:`sim.workshop.app.Page`.
"""

from __future__ import annotations

from typing import Any

import solara

from sim.scenario import list_scenarios
from sim.workshop.room import AccessDenied, WorkshopError
from sim.workshop.service import workshop

__all__ = ["ROLES", "CreateRoom", "JoinRoom", "Rejoin", "rejoin_role", "typed"]


def typed(text: Any, kind: type) -> Any:
    """``text`` of a form field as a ``kind`` (int or float; "1,000" is 1000), or the text itself
    when it is not one, so that the room's own check names the field and what it expected."""
    raw = str(text if text is not None else "").strip()
    try:
        return kind(raw.replace(",", "")) if kind is int else kind(raw)
    except ValueError:
        return raw


@solara.component
def CreateRoom(on_role: Any) -> None:
    """The facilitator's form: base scenario, weeks per round, rounds, seats, customers."""
    names = [name for name, _, _ in list_scenarios()]
    scenario = solara.use_reactive(
        "overpromise_vs_honest" if "overpromise_vs_honest" in names else names[0]
    )
    # text fields, read when the room is made: a number field kept its last valid value when
    # "abc" was typed, and the room was made with it, unnoticed (a facilitator's review)
    weeks = solara.use_reactive("13")
    rounds = solara.use_reactive("8")
    seats = solara.use_reactive("12")
    customers = solara.use_reactive("1,000")
    error, set_error = solara.use_state("")

    def create() -> None:
        try:
            code, key = workshop().create_room(
                scenario.value,
                weeks=typed(weeks.value, int),
                rounds=typed(rounds.value, int),
                seats=typed(seats.value, int),
                customers=typed(customers.value, int),
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
        for label, value, css in (
            ("Weeks per round (1-104)", weeks, "cx-ws-weeks"),
            ("Rounds (1-50)", rounds, "cx-ws-rounds"),
            ("Seats (1-40)", seats, "cx-ws-seats"),
            ("Customers (100-20,000)", customers, "cx-ws-customers"),
        ):
            solara.InputText(label, value=value, continuous_update=True, classes=[css])
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
