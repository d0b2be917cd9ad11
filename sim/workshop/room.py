"""Workshop rooms: a facilitator, participants each running one firm, rounds, a leaderboard.

The facilitator creates a room (:meth:`Workshop.create_room`) and gets a short room code and a
secret facilitator key. Participants join with the code and a name (:meth:`Workshop.join`) and
get a secret token and a firm; the firms compete in one shared market built from a base
scenario's first firm (identical firms, so only the participants' choices differ). The
facilitator opens a round (:meth:`Workshop.start_round`); while it is open each participant sets
their firm's levers (:meth:`Workshop.submit`); when the facilitator closes it
(:meth:`Workshop.close_round`) every firm that did not act keeps its last choice (the defaults in
round 1), the market runs the round's weeks, and the leaderboard is recorded.

The levers (:class:`Choice`):

- ``promise_level``: what the firm promises relative to what it can deliver; the promise is
  capability x (1 + promise_level), so 0 is honest, 0.3 promises 30% more, -0.2 under-promises;
- ``focus``: the attribute the firm invests in and markets on (70% of its capability investment
  and targeting), or ``"balanced"``;
- ``marketing``: of the 40% of its discretionary budget that goes to customers, the share spent
  on marketing to win new ones (the rest goes to retention of current ones);
- ``capacity_share``: the share of the whole discretionary budget invested in capacity, 0-0.6
  (default 0.3); capability gets the rest of the 60% not spent on customers, so 0.6 - it
  (the default splits 30% / 30%; 0.6 puts nothing into capability);
- ``disclose``: tell customers about failures before they meet them.

Access: every participant action carries the participant's token, and the firm acted on is the
token's firm; a request naming another firm is refused (:class:`AccessDenied`) whatever else it
says. Facilitator actions need the room's key. Keys and tokens are stored only as hashes.

Every change is written to SQLite (:class:`~sim.workshop.store.WorkshopStore`) when it happens; a
:class:`Workshop` opened on the same file restores every room, rebuilding its market by
replaying the closed rounds with the stored choices.

This module must never import the UI.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from sim.model import CustomerMarket
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.strategies import Decision, Strategy, StrategyError
from sim.workshop.store import WorkshopStore

if TYPE_CHECKING:
    from sim.agents import Firm

__all__ = [
    "BALANCED",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DEBRIEF_SERIES",
    "DEFAULT_CHOICE",
    "EXPORT_FORMAT",
    "LEADERBOARD_COLUMNS",
    "OWN_SERIES",
    "AccessDenied",
    "Choice",
    "Participant",
    "Room",
    "Workshop",
    "WorkshopError",
    "WorkshopStrategy",
    "market_scenario",
]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Room code characters: no 0/O or 1/I/L to misread."""
CODE_LENGTH = 6
BALANCED = "balanced"
FOCUS_WEIGHT = 0.7
"""Share of capability investment and targeting on the focus attribute."""
CUSTOMER_BUDGET = 0.4
"""Share of the discretionary budget split between marketing and retention."""
INVESTMENT_BUDGET = 1.0 - CUSTOMER_BUDGET
"""Share of the discretionary budget split between capacity (``capacity_share``) and
capability (the rest)."""
MAX_NAME = 40
LEADERBOARD_COLUMNS = ("customers", "share", "retention", "nps", "trust", "profit", "cash")
"""Leaderboard values per firm after a round (see :meth:`Workshop.round_results`)."""

EXPORT_FORMAT = "cxsim-workshop-session"
"""The ``format`` field of :meth:`Workshop.export` documents."""
DEBRIEF_SERIES = ("customers", "share", "trust", "nps")
"""Weekly series per firm in :meth:`Workshop.debrief`."""

OWN_SERIES = ("customers", "share", "retention", "trust", "nps", "profit")
"""Weekly series of a participant's own firm in :meth:`Workshop.own_history` (the debrief's
firms carry them too)."""

PHASES = ("lobby", "open", "between", "finished")
"""A room's phases: joining; a round open for choices; between rounds; all rounds played."""


class WorkshopError(ValueError):
    """A request the room cannot accept (wrong phase, invalid input); the message says why."""


class AccessDenied(PermissionError):
    """A wrong facilitator key or participant token, or a participant acting on another firm."""


class Choice(BaseModel):
    """A firm's levers for a round (validated; unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    promise_level: float = Field(
        0.0, ge=-0.5, le=1.0, description="promise = capability x (1 + promise_level)"
    )
    focus: str = Field(BALANCED, description="attribute to invest in and market on, or balanced")
    marketing: float = Field(
        0.5, ge=0, le=1, description="share of the customer budget on marketing (rest: retention)"
    )
    disclose: StrictBool = Field(False, description="tell customers about failures beforehand")
    capacity_share: float = Field(
        0.3,
        ge=0,
        le=INVESTMENT_BUDGET,
        description="share of the discretionary budget on capacity (capability: 0.6 minus it)",
    )


DEFAULT_CHOICE = Choice()
"""What a firm does until its participant acts."""


class WorkshopStrategy(Strategy):
    """A participant's firm: does what the participant's :class:`Choice` says."""

    name = "workshop"
    Levers = Choice

    def decide(self, firm: Firm, decision: Decision) -> None:
        """Promise, focus, budget split and disclosure from the levers.

        The discretionary budget: ``capacity_share`` to capacity, ``0.6 - capacity_share`` to
        capability, and 40% to customers (``marketing`` of it to marketing, the rest to
        retention).
        """
        levers: Choice = self.levers  # type: ignore[assignment]
        decision.promise = np.clip(firm.capability * (1.0 + levers.promise_level), 0.0, 1.0)
        names = list(firm.model.attributes)
        k = len(names)
        if levers.focus == BALANCED or k == 1:
            decision.focus = np.full(k, 1.0 / k)
        else:
            if levers.focus not in names:
                raise StrategyError(
                    "levers.focus", f"expected one of {[BALANCED, *names]}, got {levers.focus!r}"
                )
            focus = np.full(k, (1.0 - FOCUS_WEIGHT) / (k - 1))
            focus[names.index(levers.focus)] = FOCUS_WEIGHT
            decision.focus = focus
        m = levers.marketing
        cap = min(max(float(levers.capacity_share), 0.0), INVESTMENT_BUDGET)
        decision.allocation = np.array(
            [INVESTMENT_BUDGET - cap, cap, CUSTOMER_BUDGET * m, CUSTOMER_BUDGET * (1.0 - m)]
        )
        decision.disclose = bool(levers.disclose)


STRATEGY_SPEC = f"{__name__}:WorkshopStrategy"


def market_scenario(base: str, names: list[str], customers: int, seed: int, steps: int) -> Scenario:
    """The shared market: the base scenario's first industry with one identical firm per name.

    Each firm is a copy of the base scenario's first firm (capability, capacity, price, costs,
    starting share), renamed, national, entering at step 0 and run by :class:`WorkshopStrategy`.

    Raises
    ------
    ScenarioError
        The base scenario or the market built from it is invalid.
    """
    data = load_scenario(base).to_dict()
    template = dict(data["firms"][0])
    industry = data["market"]["industries"][0]
    firms = []
    for name in names:
        firm = dict(template)
        firm.update(
            name=name,
            industry=industry,
            strategy=STRATEGY_SPEC,
            levers={},
            entry_step=0,
        )
        firm.pop("region", None)
        firms.append(firm)
    data["firms"] = firms
    data["market"]["industries"] = [industry]
    data["name"] = f"workshop_{base}"
    data["seed"] = int(seed)
    data["steps"] = int(steps)
    data["collect_every"] = 1
    data["market"]["customers"] = int(customers)
    return load_scenario(data)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _clean_name(name: Any) -> str:
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


def _clean_code(code: Any) -> str:
    if not isinstance(code, str):
        raise WorkshopError("room code: expected text")
    text = code.strip().upper()
    if len(text) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in text):
        raise WorkshopError(f"room code: expected {CODE_LENGTH} letters and digits, got {code!r}")
    return text


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


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


class Workshop:
    """Every room, kept in a :class:`WorkshopStore`; restores the stored rooms when created.

    Parameters
    ----------
    store
        Where rooms are saved (a path or an open store).

    Notes
    -----
    Methods are thread-safe (one lock), so one ``Workshop`` can serve every browser session.
    """

    def __init__(self, store: WorkshopStore | str) -> None:
        self.store = store if isinstance(store, WorkshopStore) else WorkshopStore(store)
        self._lock = threading.RLock()
        self._rooms: dict[str, Room] = {}
        self._debriefs: dict[tuple[str, int], dict[str, Any]] = {}
        for row in self.store.rooms():
            try:
                room = self._restore(row)
            except (ScenarioError, StrategyError) as e:
                raise WorkshopError(f"room {row['code']}: cannot be restored: {e}") from None
            self._rooms[room.code] = room

    # -- facilitator --------------------------------------------------------------------------

    def create_room(
        self,
        scenario: str = "overpromise_vs_honest",
        *,
        weeks: int = 13,
        rounds: int = 8,
        seats: int = 12,
        customers: int = 1000,
        seed: int | None = None,
    ) -> tuple[str, str]:
        """Create a room; return ``(room code, facilitator key)``.

        Parameters
        ----------
        scenario
            Base scenario: the market (customers' segments, network, behaviour) and the firm
            every participant gets a copy of (its first firm, in its first industry).
        weeks
            Steps (weeks) the market runs per round, 1-104.
        rounds
            Rounds in the game, 1-50.
        seats
            Most participants, 1-40.
        customers
            Customers in the market, 100-20,000.
        seed
            Random seed (default: the base scenario's).

        Raises
        ------
        WorkshopError
            An out-of-range setting or a base scenario that does not load.
        """
        checks = (
            ("weeks", weeks, 1, 104),
            ("rounds", rounds, 1, 50),
            ("seats", seats, 1, 40),
            ("customers", customers, 100, 20_000),
        )
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise WorkshopError(f"{name}: expected a whole number {low}-{high}, got {value!r}")
        try:
            base = load_scenario(scenario)
            market_scenario(scenario, ["probe"], customers, base.seed, weeks * rounds)
        except ScenarioError as e:
            raise WorkshopError(f"scenario: {e}") from None
        if seed is None:
            seed = int(base.seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise WorkshopError(f"seed: expected a whole number >= 0, got {seed!r}")
        key = secrets.token_urlsafe(18)
        with self._lock:
            code = self._new_code()
            room = Room(
                code=code,
                key_hash=_hash(key),
                scenario=scenario,
                customers=customers,
                seed=seed,
                weeks=weeks,
                rounds=rounds,
                seats=seats,
                attributes=list(base.market.attributes),
            )
            self.store.add_room(
                {
                    "code": code,
                    "key_hash": room.key_hash,
                    "scenario": scenario,
                    "customers": customers,
                    "seed": seed,
                    "weeks": weeks,
                    "rounds": rounds,
                    "seats": seats,
                    "phase": room.phase,
                    "round": room.round,
                }
            )
            self._rooms[code] = room
        return code, key

    def start_round(self, code: str, key: str) -> int:
        """Open the next round (building the market before round 1); return its number.

        Raises
        ------
        AccessDenied
            Wrong facilitator key.
        WorkshopError
            A round is already open, all rounds were played, or nobody has joined.
        """
        with self._lock:
            room = self._facilitated(code, key)
            if room.phase == "open":
                raise WorkshopError(f"round {room.round} is already open")
            if room.phase == "finished":
                raise WorkshopError(f"all {room.rounds} rounds have been played")
            if not room.participants:
                raise WorkshopError("nobody has joined yet")
            if room.model is None:
                room.model = self._build_market(room)
            room.round += 1
            room.phase = "open"
            room.choices.setdefault(room.round, {})
            room.submitted.setdefault(room.round, set())
            self.store.set_phase(room.code, room.phase, room.round)
            room.revision += 1
            return room.round

    def pause_round(self, code: str, key: str) -> None:
        """Pause the open round: participants' submissions are refused ("the round is paused")
        and the round cannot be closed until :meth:`resume_round`. Stored at once.

        Raises
        ------
        AccessDenied
            Wrong facilitator key.
        WorkshopError
            No round is open, or it is already paused.
        """
        self._set_paused(code, key, True)

    def resume_round(self, code: str, key: str) -> None:
        """Resume a paused round (submissions accepted again; it can be closed).

        Raises
        ------
        AccessDenied
            Wrong facilitator key.
        WorkshopError
            No round is open, or it is not paused.
        """
        self._set_paused(code, key, False)

    def _set_paused(self, code: str, key: str, paused: bool) -> None:
        with self._lock:
            room = self._facilitated(code, key)
            if room.phase != "open":
                raise WorkshopError("no round is open")
            if room.paused == paused:
                raise WorkshopError(
                    f"round {room.round} is already paused" if paused else "the round is not paused"
                )
            self.store.set_paused(room.code, paused)
            room.paused = paused
            room.revision += 1

    def close_round(self, code: str, key: str) -> list[dict[str, Any]]:
        """Close the open round: fill in the choices of firms that did not act (their last
        ones), run the round's weeks, record and return the leaderboard.

        Raises
        ------
        AccessDenied
            Wrong facilitator key.
        WorkshopError
            No round is open.
        """
        with self._lock:
            room = self._facilitated(code, key)
            if room.phase != "open":
                raise WorkshopError("no round is open")
            if room.paused:
                raise WorkshopError("the round is paused: resume it before closing it")
            r = room.round
            final = self._final_choices(room, r)
            results = self._play(room, final)
            room.choices[r] = final
            room.results[r] = results
            room.phase = "finished" if r >= room.rounds else "between"
            self.store.close_round(
                room.code,
                r,
                {f: c.model_dump() for f, c in final.items()},
                set(room.submitted.get(r, set())),
                results,
                room.phase,
            )
            room.revision += 1
            return self.leaderboard(code, r)

    def status(self, code: str, key: str) -> dict[str, Any]:
        """What the facilitator sees: phase, round, and per participant whether they acted
        this round and their current choice."""
        with self._lock:
            room = self._facilitated(code, key)
            r = room.round
            acted = room.submitted.get(r, set()) if room.phase == "open" else set()
            rows = []
            for p in room.participants:
                rows.append(
                    {
                        "firm": p.firm,
                        "name": p.name,
                        "acted": p.firm in acted,
                        "choice": self._current_choice(room, p.firm).model_dump(),
                    }
                )
            return {
                "code": room.code,
                "phase": room.phase,
                "round": r,
                "paused": room.paused,
                "rounds": room.rounds,
                "weeks": room.weeks,
                "participants": rows,
            }

    # -- participants -------------------------------------------------------------------------

    def join(self, code: str, name: str) -> tuple[str, int]:
        """Join a room in its lobby; return ``(participant token, firm index)``.

        Raises
        ------
        WorkshopError
            Unknown code, the game has started, the room is full, an invalid or taken name.
        """
        clean = _clean_name(name)
        with self._lock:
            room = self._room(code)
            if room.phase != "lobby":
                raise WorkshopError("the game has started: joining is closed")
            if len(room.participants) >= room.seats:
                raise WorkshopError(f"the room is full ({room.seats} seats)")
            if any(p.name.casefold() == clean.casefold() for p in room.participants):
                raise WorkshopError(f"name: {clean!r} is taken in this room")
            token = secrets.token_urlsafe(18)
            firm = len(room.participants)
            participant = Participant(firm, clean, _hash(token))
            self.store.add_participant(room.code, firm, clean, participant.token_hash)
            room.participants.append(participant)
            room.revision += 1
            return token, firm

    def whoami(self, code: str, token: str) -> dict[str, Any]:
        """The token's participant: ``firm``, ``name``, the room's ``phase`` and ``round``, and
        the firm's current ``choice``."""
        with self._lock:
            room = self._room(code)
            p = self._participant(room, token)
            return {
                "firm": p.firm,
                "name": p.name,
                "phase": room.phase,
                "round": room.round,
                "paused": room.paused,
                "acted": room.phase == "open" and p.firm in room.submitted.get(room.round, set()),
                "choice": self._current_choice(room, p.firm).model_dump(),
            }

    def submit(
        self, code: str, token: str, choice: Mapping[str, Any], firm: int | None = None
    ) -> Choice:
        """Set the token's firm's levers for the open round (saved at once); return them.

        Levers not given keep the firm's current values. ``firm``, if a request names one,
        must be the token's own firm.

        Raises
        ------
        AccessDenied
            Unknown token, or ``firm`` is not the token's firm.
        WorkshopError
            No round is open, the round is paused, or an invalid lever.
        """
        with self._lock:
            room = self._room(code)
            p = self._participant(room, token)
            if firm is not None and (isinstance(firm, bool) or firm != p.firm):
                raise AccessDenied("a participant can only act on their own firm")
            if room.phase != "open":
                raise WorkshopError("no round is open: wait for the facilitator")
            if room.paused:
                raise WorkshopError("the round is paused: wait for the facilitator to resume it")
            if not isinstance(choice, Mapping):
                raise WorkshopError("choice: expected a mapping of levers")
            merged = {**self._current_choice(room, p.firm).model_dump(), **dict(choice)}
            new = self._validate(room, merged)
            room.choices.setdefault(room.round, {})[p.firm] = new
            room.submitted.setdefault(room.round, set()).add(p.firm)
            self.store.save_choice(room.code, room.round, p.firm, new.model_dump(), True)
            room.revision += 1
            return new

    # -- everyone -----------------------------------------------------------------------------

    def room(self, code: str) -> Room:
        """The room with this code (its state; secrets only as hashes).

        Raises
        ------
        WorkshopError
            No such room.
        """
        with self._lock:
            return self._room(code)

    def leaderboard(self, code: str, round_: int | None = None) -> list[dict[str, Any]]:
        """The leaderboard after round ``round_`` (default: the last played), most customers
        first; each row has ``rank``, ``firm``, ``name`` and :data:`LEADERBOARD_COLUMNS`.
        Empty before the first round is closed."""
        with self._lock:
            room = self._room(code)
            if not room.results:
                return []
            r = max(room.results) if round_ is None else int(round_)
            if r not in room.results:
                raise WorkshopError(f"round {r} has not been played")
            names = {p.firm: p.name for p in room.participants}
            rows = [
                {
                    "firm": row["firm"],
                    "name": names[row["firm"]],
                    **{k: row[k] for k in LEADERBOARD_COLUMNS},
                }
                for row in room.results[r]
            ]
            rows.sort(key=lambda row: (-row["customers"], row["firm"]))
            for i, row in enumerate(rows, 1):
                row["rank"] = i
            return rows

    def export(self, code: str, key: str) -> dict[str, Any]:
        """The whole session as a JSON-ready document (facilitator only).

        Contains the room's settings, the participants (firm and name), and per closed round
        every firm's final choices (and whether its participant acted) and the leaderboard; an
        open round's submitted choices are under ``open_round``. Never a key, token or hash.

        Raises
        ------
        AccessDenied
            Wrong facilitator key.
        """
        with self._lock:
            room = self._facilitated(code, key)
            names = {p.firm: p.name for p in room.participants}
            rounds = []
            for r in sorted(room.results):
                acted = room.submitted.get(r, set())
                rounds.append(
                    {
                        "round": r,
                        "weeks": [(r - 1) * room.weeks + 1, r * room.weeks],
                        "choices": [
                            {
                                "firm": f,
                                "name": names[f],
                                "acted": f in acted,
                                **c.model_dump(),
                            }
                            for f, c in sorted(room.choices.get(r, {}).items())
                        ],
                        "results": self.leaderboard(code, r),
                    }
                )
            open_round = None
            if room.phase == "open":
                pending = room.choices.get(room.round, {})
                open_round = {
                    "round": room.round,
                    "choices": [
                        {"firm": f, "name": names[f], "acted": True, **c.model_dump()}
                        for f, c in sorted(pending.items())
                    ],
                }
            return {
                "format": EXPORT_FORMAT,
                "version": 1,
                "room": {
                    "code": room.code,
                    "scenario": room.scenario,
                    "customers": room.customers,
                    "seed": room.seed,
                    "weeks": room.weeks,
                    "rounds": room.rounds,
                    "seats": room.seats,
                    "attributes": list(room.attributes),
                    "phase": room.phase,
                    "round": room.round,
                    "paused": room.paused,
                },
                "participants": [{"firm": p.firm, "name": p.name} for p in room.participants],
                "rounds": rounds,
                "open_round": open_round,
            }

    def debrief(self, code: str, key: str | None = None) -> dict[str, Any]:
        """The market replayed round by round from the stored choices, for the debrief page.

        The facilitator (``key``) can open it at any time; once the room is finished anyone
        can. The replay is a fresh market run with the stored final choices of every closed
        round (the model is deterministic for a seed), so its numbers at each round's end are
        the stored leaderboard's; ``matches`` says so.

        Returns
        -------
        dict
            ``weeks`` (1..played), ``firms`` (per firm: ``firm``, ``name`` and the weekly
            ``customers``, ``share`` (%), ``trust``, ``nps``, ``retention`` (annual) and
            ``profit`` (that week's); None where undefined), ``rounds``
            (per closed round: ``round``, ``end_week``, ``choices`` per firm, ``results``: the
            leaderboard) and ``matches``.

        Raises
        ------
        AccessDenied
            Wrong key, or no key while the room is not finished.
        """
        with self._lock:
            room = self._room(code)
            if key is not None or room.phase != "finished":
                self._facilitated(code, "" if key is None else key)
        return self._replay(code)

    def own_history(self, code: str, token: str) -> dict[str, Any]:
        """The token's firm's own weekly series from the debrief replay, for its charts.

        Only the participant's firm: no other firm's series or choices (the leaderboard, which
        every participant sees, is the only place other firms appear).

        Returns
        -------
        dict
            ``firm``, ``name``, ``weeks_per_round``, ``weeks`` (1..played), ``series`` (the
            weekly ``customers``, ``share`` (%), ``retention`` (annual), ``trust``, ``nps`` and
            ``profit`` (money earned that week; a round's sum is its leaderboard profit); None
            where undefined) and ``rounds`` (per closed round: ``round``, ``end_week``, the
            firm's own ``choice`` and its leaderboard ``result`` row). Empty series before the
            first round is closed.

        Raises
        ------
        AccessDenied
            Unknown token.
        """
        with self._lock:
            room = self._room(code)
            p = self._participant(room, token)
        replay = self._replay(code)
        own = next(f for f in replay["firms"] if f["firm"] == p.firm)
        return {
            "firm": p.firm,
            "name": p.name,
            "weeks_per_round": replay["weeks_per_round"],
            "weeks": list(replay["weeks"]),
            "series": {k: list(own[k]) for k in OWN_SERIES},
            "rounds": [
                {
                    "round": r["round"],
                    "end_week": r["end_week"],
                    "choice": next(dict(c) for c in r["choices"] if c["firm"] == p.firm),
                    "result": next(dict(x) for x in r["results"] if x["firm"] == p.firm),
                }
                for r in replay["rounds"]
            ],
        }

    def _replay(self, code: str) -> dict[str, Any]:
        """The debrief replay (cached per room and closed rounds), without access checks."""
        with self._lock:  # what the replay needs; the replay itself runs without the lock
            room = self._room(code)
            closed = sorted(room.results)
            cache_key = (room.code, len(closed))
            cached = self._debriefs.get(cache_key)
            if cached is not None:
                return cached
            names = {p.firm: p.name for p in room.participants}
            played = [
                (r, dict(room.choices[r]), list(room.results[r]), self.leaderboard(code, r))
                for r in closed
            ]
            model = self._build_market(room) if closed else None
            weeks_per_round = room.weeks
        firms: list[dict[str, Any]] = [
            {"firm": f, "name": name, **{k: [] for k in OWN_SERIES}}
            for f, name in sorted(names.items())
        ]
        rounds = []
        matches = True
        weeks: list[int] = []
        if model is not None:
            for r, choices, stored, board in played:
                replayed = self._run_round(model, weeks_per_round, choices)
                matches = matches and _same_results(replayed, stored)
                rounds.append(
                    {
                        "round": r,
                        "end_week": model.steps,
                        "choices": [
                            {"firm": f, "name": names[f], **c.model_dump()}
                            for f, c in sorted(choices.items())
                        ],
                        "results": board,
                    }
                )
            df = model.firm_metrics()
            df = df[df["step"] > 0].sort_values(["step", "firm"])
            weeks = [int(w) for w in sorted(df["step"].unique())]
            for entry in firms:
                own = df[df["firm"] == entry["firm"]]
                entry["customers"] = [float(v) for v in own["customers"]]
                entry["share"] = [float(v) * 100.0 for v in own["share"]]
                entry["trust"] = [_number(v) for v in own["trust"]]
                entry["nps"] = [_number(v) for v in own["nps"]]
                entry["retention"] = [_number(v) for v in own["retention_annual"]]
                entry["profit"] = [float(v) / model.steps_per_year for v in own["profit"]]
        out = {
            "code": cache_key[0],
            "weeks_per_round": weeks_per_round,
            "weeks": weeks,
            "firms": firms,
            "rounds": rounds,
            "matches": matches,
        }
        with self._lock:
            self._debriefs[cache_key] = out
        return out

    def revision(self, code: str) -> int:
        """The room's change counter (see :attr:`Room.revision`)."""
        with self._lock:
            return self._room(code).revision

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # -- internals ----------------------------------------------------------------------------

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._rooms and not self.store.code_taken(code):
                return code

    def _room(self, code: str) -> Room:
        clean = _clean_code(code)
        room = self._rooms.get(clean)
        if room is None:
            raise WorkshopError(f"no room with code {clean}")
        return room

    def _facilitated(self, code: str, key: str) -> Room:
        room = self._room(code)
        if not isinstance(key, str) or not hmac.compare_digest(_hash(key), room.key_hash):
            raise AccessDenied("wrong facilitator key")
        return room

    def _participant(self, room: Room, token: str) -> Participant:
        if isinstance(token, str):
            digest = _hash(token)
            for p in room.participants:
                if hmac.compare_digest(digest, p.token_hash):
                    return p
        raise AccessDenied("unknown participant token for this room")

    def _validate(self, room: Room, data: dict[str, Any]) -> Choice:
        try:
            choice = Choice.model_validate(data)
        except ValidationError as err:
            e = err.errors()[0]
            where = ".".join(str(x) for x in e["loc"]) or "choice"
            raise WorkshopError(f"{where}: {e['msg']} (got {e.get('input')!r})") from None
        allowed = [BALANCED, *room.attributes]
        if choice.focus not in allowed:
            raise WorkshopError(f"focus: expected one of {allowed}, got {choice.focus!r}")
        return choice

    def _current_choice(self, room: Room, firm: int) -> Choice:
        if room.phase == "open" and firm in room.choices.get(room.round, {}):
            return room.choices[room.round][firm]
        before = room.round if room.phase == "open" else room.round + 1
        return room.last_choice(firm, before)

    def _final_choices(self, room: Room, r: int) -> dict[int, Choice]:
        pending = room.choices.get(r, {})
        return {
            p.firm: pending.get(p.firm) or room.last_choice(p.firm, r) for p in room.participants
        }

    def _build_market(self, room: Room) -> CustomerMarket:
        scenario = market_scenario(
            room.scenario,
            [p.name for p in room.participants],
            room.customers,
            room.seed,
            room.weeks * room.rounds,
        )
        return CustomerMarket(scenario, track=0, eager_agents=False)

    def _play(self, room: Room, final: dict[int, Choice]) -> list[dict[str, Any]]:
        """Run one round of the room's market with ``final`` choices; return its result rows."""
        assert room.model is not None
        return self._run_round(room.model, room.weeks, final)

    def _run_round(
        self, model: CustomerMarket, weeks: int, final: dict[int, Choice]
    ) -> list[dict[str, Any]]:
        """Run ``weeks`` steps of ``model`` with ``final`` choices; return the result rows."""
        for firm, choice in final.items():
            model.firms[firm].strategy = WorkshopStrategy(**choice.model_dump())
        start = model.steps
        for _ in range(weeks):
            if not model.running:
                break
            model.step()
        return self.round_results(model, start)

    @staticmethod
    def round_results(model: CustomerMarket, start: int) -> list[dict[str, Any]]:
        """Per firm, after the steps since ``start``: customers, share (%), annual retention,
        NPS, trust (at the last step), profit earned over those steps and cash (money).

        ``profit`` in the model's series is an annual rate per step; the round's profit is the
        sum over its steps divided by the steps in a year.
        """
        df = model.firm_metrics()
        rows = []
        if df.empty:
            return rows
        played = df[df["step"] > start]
        last = df[df["step"] == df["step"].max()]
        for firm in range(len(model.firms)):
            now = last[last["firm"] == firm].iloc[0]
            profit = float(played.loc[played["firm"] == firm, "profit"].sum())
            rows.append(
                {
                    "firm": firm,
                    "customers": float(now["customers"]),
                    "share": float(now["share"]) * 100.0,
                    "retention": _number(now["retention_annual"]),
                    "nps": _number(now["nps"]),
                    "trust": _number(now["trust"]),
                    "profit": profit / model.steps_per_year,
                    "cash": float(now["cash"]),
                }
            )
        return rows

    def _restore(self, row: dict[str, Any]) -> Room:
        code = row["code"]
        base = load_scenario(row["scenario"])
        room = Room(
            code=code,
            key_hash=row["key_hash"],
            scenario=row["scenario"],
            customers=int(row["customers"]),
            seed=int(row["seed"]),
            weeks=int(row["weeks"]),
            rounds=int(row["rounds"]),
            seats=int(row["seats"]),
            attributes=list(base.market.attributes),
            phase=row["phase"],
            round=int(row["round"]),
            paused=bool(row.get("paused", 0)) and row["phase"] == "open",
        )
        room.participants = [
            Participant(int(p["firm"]), p["name"], p["token_hash"])
            for p in self.store.participants(code)
        ]
        for c in self.store.choices(code):
            r, firm = int(c["round"]), int(c["firm"])
            room.choices.setdefault(r, {})[firm] = Choice(
                promise_level=c["promise_level"],
                focus=c["focus"],
                marketing=c["marketing"],
                disclose=c["disclose"],
                capacity_share=c["capacity_share"],
            )
            if c["submitted"]:
                room.submitted.setdefault(r, set()).add(firm)
        stored: dict[int, list[dict[str, Any]]] = {}
        for res in self.store.results(code):
            stored.setdefault(int(res["round"]), []).append(
                {k: res[k] for k in ("firm", *LEADERBOARD_COLUMNS)}
            )
        room.results = stored
        if room.phase != "lobby":
            room.model = self._build_market(room)
            closed = room.round if room.phase in ("between", "finished") else room.round - 1
            matches = True
            for r in range(1, closed + 1):
                replayed = self._play(room, room.choices[r])
                matches = matches and _same_results(replayed, stored.get(r, []))
            room.replay_matches = matches
        return room


def _same_results(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for k in ("firm", *LEADERBOARD_COLUMNS):
            u, v = x[k], y[k]
            if u is None or v is None:
                if u is not v:
                    return False
            elif not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9):
                return False
    return True
