"""What a room reports: the leaderboard after a round and the whole session as a document.

Pure functions of a :class:`~sim.workshop.room.Room`'s state; :class:`~sim.workshop.room.Workshop`
checks access and holds its lock before calling them.

This module must never import the UI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.workshop.market import LEADERBOARD_COLUMNS

if TYPE_CHECKING:
    from sim.workshop.room import Room

__all__ = ["EXPORT_FORMAT", "RANK_BY", "SORT_KEYS", "export_document", "leaderboard_rows"]

EXPORT_FORMAT = "cxsim-workshop-session"
"""The ``format`` field of :func:`export_document` documents."""

RANK_BY = "value"
"""The leaderboard's default order: long-run value, ``customers x clv`` (customer equity)."""

SORT_KEYS = ("value", "customers", "share", "retention", "nps", "trust", "profit", "cash", "clv")
"""Columns the leaderboard can be ordered by (largest first)."""


def leaderboard_rows(
    room: Room, round_: int | None = None, sort: str = RANK_BY
) -> list[dict[str, Any]]:
    """The leaderboard after round ``round_`` (default: the last played).

    Each row has ``rank``, ``firm``, ``name``, :data:`LEADERBOARD_COLUMNS` and ``value``: the
    firm's long-run value, its customers times their lifetime value (``clv``: margin x r /
    (1 + i - r), Gupta & Lehmann 2003), what its customer base is worth if they keep leaving
    at this round's rate. Rows are ordered by ``sort`` (one of :data:`SORT_KEYS`, largest
    first, undefined values last, ties by customers, then by firm) and ``rank`` is the position
    in that order.
    Empty before the first round is closed.

    Raises
    ------
    KeyError
        Round ``round_`` has not been played.
    ValueError
        ``sort`` is not one of :data:`SORT_KEYS`.
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"sort: expected one of {', '.join(SORT_KEYS)}, got {sort!r}")
    if not room.results:
        return []
    r = max(room.results) if round_ is None else int(round_)
    if r not in room.results:
        raise KeyError(r)
    names = {p.firm: p.name for p in room.participants}
    rows = [
        {
            "firm": row["firm"],
            "name": names[row["firm"]],
            **{k: row.get(k) for k in LEADERBOARD_COLUMNS},
            "value": None if row.get("clv") is None else row["customers"] * row["clv"],
        }
        for row in room.results[r]
    ]
    # before any firm has a value (a quarter of churn), the customers decide the order
    rows.sort(
        key=lambda row: (row[sort] is None, -(row[sort] or 0.0), -row["customers"], row["firm"])
    )
    for i, row in enumerate(rows, 1):
        row["rank"] = i
    return rows


def export_document(room: Room) -> dict[str, Any]:
    """The whole session as a JSON-ready document.

    Contains the room's settings, the participants (firm and name), and per closed round
    every firm's final choices (and whether its participant acted) and the leaderboard; an
    open round's submitted choices are under ``open_round``. Never a key, token or hash.
    """
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
                "results": leaderboard_rows(room, r),
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
