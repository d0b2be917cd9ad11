"""Workshop rooms: a facilitator, participants each running one firm, rounds.

The facilitator creates a room (:meth:`Workshop.create_room`) and gets a short room code and a
secret facilitator key. Participants join with the code and a name (:meth:`Workshop.join`) and
get a secret token and a firm; the firms compete in one shared market built from a base
scenario's first firm (:mod:`sim.workshop.market`: identical firms, so only the participants'
choices differ). The facilitator opens a round (:meth:`Workshop.start_round`); while it is open
each participant sets their firm's levers (:meth:`Workshop.submit`); when the facilitator closes
it (:meth:`Workshop.close_round`) every firm that did not act keeps its last choice (the
defaults in round 1), the market runs the round's weeks, and the leaderboard is recorded
(:mod:`sim.workshop.reports`). The debrief replays the market (:mod:`sim.workshop.replay`).

Access: every participant action carries the participant's token, and the firm acted on is the
token's firm; a request naming another firm is refused (:class:`AccessDenied`) whatever else it
says. Facilitator actions need the room's key. Keys and tokens are stored only as hashes.

Every change is written to SQLite (:class:`~sim.workshop.store.WorkshopStore`) when it happens; a
:class:`Workshop` opened on the same file restores every room, rebuilding its market by
replaying the closed rounds with the stored choices.

This module must never import the UI.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from sim.scenario import ScenarioError, load_scenario
from sim.strategies import StrategyError
from sim.workshop.market import (
    BALANCED,
    DEFAULT_CHOICE,
    LEADERBOARD_COLUMNS,
    Choice,
    WorkshopStrategy,
    choice_problem,
    market_scenario,
    round_results,
    run_round,
)
from sim.workshop.replay import DEBRIEF_SERIES, OWN_SERIES, own_part, replay_rounds, restore_room
from sim.workshop.reports import EXPORT_FORMAT, RANK_BY, export_document, leaderboard_rows
from sim.workshop.state import (
    CODE_ALPHABET,
    CODE_LENGTH,
    AccessDenied,
    Participant,
    Room,
    WorkshopError,
    check_settings,
    clean_code,
    clean_name,
    hash_secret,
    new_secret,
    room_market,
)
from sim.workshop.store import WorkshopStore

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
                room = restore_room(row, self.store)
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
        check_settings(weeks=weeks, rounds=rounds, seats=seats, customers=customers)
        try:
            base = load_scenario(scenario)
            market_scenario(scenario, ["probe"], customers, base.seed, weeks * rounds)
        except ScenarioError as e:
            raise WorkshopError(f"scenario: {e}") from None
        if seed is None:
            seed = int(base.seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise WorkshopError(f"seed: expected a whole number >= 0, got {seed!r}")
        key = new_secret()
        with self._lock:
            code = self._new_code()
            room = Room(
                code=code,
                key_hash=hash_secret(key),
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
                room.model = room_market(room)
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
                "scenario": room.scenario,
                "customers": room.customers,
                "seats": room.seats,
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
        clean = clean_name(name)
        with self._lock:
            room = self._room(code)
            if room.phase != "lobby":
                raise WorkshopError(
                    "the game has started: joining is closed (lost your token? the facilitator "
                    "can give you a new one)"
                )
            if len(room.participants) >= room.seats:
                raise WorkshopError(f"the room is full ({room.seats} seats)")
            if any(p.name.casefold() == clean.casefold() for p in room.participants):
                raise WorkshopError(f"name: {clean!r} is taken in this room")
            token = new_secret()
            firm = len(room.participants)
            participant = Participant(firm, clean, hash_secret(token))
            self.store.add_participant(room.code, firm, clean, participant.token_hash)
            room.participants.append(participant)
            room.revision += 1
            return token, firm

    def new_token(self, code: str, key: str, firm: int) -> str:
        """A new token for the participant of ``firm`` (facilitator only); the old one stops
        working. A participant who lost theirs (a closed tab, a server restart) cannot join
        again once the game has started: the facilitator gives them a new one.

        Raises
        ------
        AccessDenied
            Wrong key.
        WorkshopError
            Unknown code, or no participant runs ``firm``.
        """
        with self._lock:
            room = self._facilitated(code, key)
            at = next((i for i, p in enumerate(room.participants) if p.firm == firm), None)
            if at is None:
                raise WorkshopError(f"firm {firm + 1}: no participant runs it")
            token = new_secret()
            old = room.participants[at]
            room.participants[at] = Participant(old.firm, old.name, hash_secret(token))
            self.store.set_token(room.code, firm, room.participants[at].token_hash)
            room.revision += 1
            return token

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

    def leaderboard(
        self, code: str, round_: int | None = None, sort: str = RANK_BY
    ) -> list[dict[str, Any]]:
        """The leaderboard after round ``round_`` (default: the last played), ordered by
        ``sort`` (default: long-run value; see :func:`sim.workshop.reports.leaderboard_rows`).
        Empty before the first round is closed.

        Raises
        ------
        WorkshopError
            The round has not been played, or ``sort`` is not a leaderboard column.
        """
        with self._lock:
            room = self._room(code)
            try:
                return leaderboard_rows(room, round_, sort)
            except KeyError:
                raise WorkshopError(f"round {round_} has not been played") from None
            except ValueError as e:
                raise WorkshopError(str(e)) from None

    def export(self, code: str, key: str) -> dict[str, Any]:
        """The whole session as a JSON-ready document (facilitator only;
        :func:`sim.workshop.reports.export_document`). Never a key, token or hash.

        Raises
        ------
        AccessDenied
            Wrong facilitator key.
        """
        with self._lock:
            return export_document(self._facilitated(code, key))

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
        return own_part(self._replay(code), p.firm, p.name)

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
                (r, dict(room.choices[r]), list(room.results[r]), leaderboard_rows(room, r))
                for r in closed
            ]
            model = room_market(room) if closed else None
            weeks_per_round = room.weeks
            acted = {r: set(room.submitted.get(r, set())) for r in closed}
        out = replay_rounds(room.code, model, played, names, weeks_per_round)
        for entry in out["rounds"]:  # who chose in each round, and who kept its last choices
            for c in entry["choices"]:
                c["acted"] = c["firm"] in acted[entry["round"]]
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
        clean = clean_code(code)
        room = self._rooms.get(clean)
        if room is None:
            raise WorkshopError(f"no room with code {clean}")
        return room

    def _facilitated(self, code: str, key: str) -> Room:
        room = self._room(code)
        if not isinstance(key, str) or not hmac.compare_digest(hash_secret(key), room.key_hash):
            raise AccessDenied("wrong facilitator key")
        return room

    def _participant(self, room: Room, token: str) -> Participant:
        if isinstance(token, str):
            digest = hash_secret(token)
            for p in room.participants:
                if hmac.compare_digest(digest, p.token_hash):
                    return p
        raise AccessDenied("unknown participant token for this room")

    def _validate(self, room: Room, data: dict[str, Any]) -> Choice:
        problem = choice_problem(data)  # in the room form's words, for a script as for the page
        if problem:
            raise WorkshopError(problem)
        choice = Choice.model_validate(data)
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

    def _play(self, room: Room, final: dict[int, Choice]) -> list[dict[str, Any]]:
        """Run one round of the room's market with ``final`` choices; return its result rows."""
        assert room.model is not None
        return run_round(room.model, room.weeks, final)

    round_results = staticmethod(round_results)
