"""A workshop room's state: its settings, participants, choices and results, and its errors.

:class:`Room` is what :class:`~sim.workshop.room.Workshop` keeps in memory (and in SQLite through
:class:`~sim.workshop.store.WorkshopStore`); the commands that change it are in
:mod:`sim.workshop.room`.

This module must never import the UI.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.workshop.market import DEFAULT_CHOICE, Choice, build_market

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "MAX_NAME",
    "PHASES",
    "SETTINGS",
    "AccessDenied",
    "Participant",
    "Room",
    "WorkshopError",
    "check_settings",
    "clean_code",
    "clean_name",
    "hash_secret",
    "new_secret",
    "room_market",
]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Room code characters: no 0/O or 1/I/L to misread."""
CODE_LENGTH = 6
MAX_NAME = 40

PHASES = ("lobby", "open", "between", "finished")
"""A room's phases: joining; a round open for choices; between rounds; all rounds played."""


class WorkshopError(ValueError):
    """A request the room cannot accept (wrong phase, invalid input); the message says why."""


class AccessDenied(PermissionError):
    """A wrong facilitator key or participant token, or a participant acting on another firm."""


def new_secret() -> str:
    """A random facilitator key or participant token (24 URL-safe characters) that does not
    start with "-", so that ``cxsim workshop export --key KEY`` never reads it as an option
    (one key in 64 did)."""
    while True:
        secret = secrets.token_urlsafe(18)
        if not secret.startswith("-"):
            return secret


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a key or token (only digests are kept)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def clean_name(name: Any) -> str:
    """A participant's name, normalised; :class:`WorkshopError` if unusable."""
    if not isinstance(name, str):
        raise WorkshopError("name: expected text")
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise WorkshopError("name: expected a name")
    if len(text) > MAX_NAME:
        raise WorkshopError(f"name: at most {MAX_NAME} characters, got {len(text)}")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise WorkshopError("name: control characters are not allowed")
    return text


SETTINGS = {"weeks": (1, 104), "rounds": (1, 50), "seats": (1, 40), "customers": (100, 20_000)}
"""A room's settings and the whole numbers each may be."""


def check_settings(**settings: Any) -> None:
    """:class:`WorkshopError` naming the first setting of :data:`SETTINGS` that is not one of its
    whole numbers (``rounds: expected a whole number 1-50, got 'abc'``)."""
    for name, value in settings.items():
        low, high = SETTINGS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise WorkshopError(f"{name}: expected a whole number {low}-{high}, got {value!r}")


def clean_code(code: Any) -> str:
    """A room code, upper-cased; :class:`WorkshopError` if malformed."""
    if not isinstance(code, str):
        raise WorkshopError("room code: expected text")
    text = code.strip().upper()
    if len(text) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in text):
        raise WorkshopError(f"room code: expected {CODE_LENGTH} letters and digits, got {code!r}")
    return text


@dataclass
class Participant:
    """One participant: their firm (index in the market) and name; the token only as a hash."""

    firm: int
    name: str
    token_hash: str


@dataclass
class Room:
    """A room's settings and state (what :class:`Workshop` keeps in memory and in SQLite).

    Attributes
    ----------
    code
        The short code participants type.
    phase, round
        One of :data:`PHASES`, and the round open or last played (0 in the lobby).
    choices
        ``choices[r][firm]``: the choices of round ``r`` (the final ones once it is closed).
    submitted
        ``submitted[r]``: the firms whose participant acted in round ``r``.
    results
        ``results[r]``: the leaderboard rows after round ``r``.
    model
        The shared market (None in the lobby).
    paused
        Whether the open round is paused (no submissions, cannot be closed until resumed).
    replay_matches
        After a restart: whether replaying the stored choices reproduced the stored results.
    revision
        Bumped by every change (pages poll it to know when to redraw).
    """

    code: str
    key_hash: str
    scenario: str
    customers: int
    seed: int
    weeks: int
    rounds: int
    seats: int
    attributes: list[str]
    phase: str = "lobby"
    round: int = 0
    participants: list[Participant] = field(default_factory=list)
    choices: dict[int, dict[int, Choice]] = field(default_factory=dict)
    submitted: dict[int, set[int]] = field(default_factory=dict)
    results: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    model: CustomerMarket | None = None
    replay_matches: bool | None = None
    revision: int = 0
    paused: bool = False

    def last_choice(self, firm: int, before: int) -> Choice:
        """The firm's choice in the last closed round before round ``before`` (or the
        defaults)."""
        for r in range(before - 1, 0, -1):
            if firm in self.choices.get(r, {}):
                return self.choices[r][firm]
        return DEFAULT_CHOICE


def room_market(room: Room) -> CustomerMarket:
    """A fresh market for ``room`` at step 0: one firm per participant."""
    return build_market(
        room.scenario,
        [p.name for p in room.participants],
        room.customers,
        room.seed,
        room.weeks * room.rounds,
    )
