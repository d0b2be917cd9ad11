"""Replays: the debrief, and a room restored from SQLite, by re-running the stored choices.

The model is deterministic for a seed, so a fresh market run with each closed round's final
choices reaches the stored leaderboard at each round's end (:func:`replay_rounds` says whether
it did). A participant sees only their own firm's part of it (:func:`own_part`). After a
server restart a room is rebuilt the same way (:func:`restore_room`).

This module must never import the UI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.scenario import load_scenario
from sim.workshop.market import LEADERBOARD_COLUMNS, Choice, number, run_round, same_results
from sim.workshop.retention import retention_estimates
from sim.workshop.state import Participant, Room, room_market

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.workshop.store import WorkshopStore

__all__ = ["DEBRIEF_SERIES", "OWN_SERIES", "own_part", "replay_rounds", "restore_room"]

DEBRIEF_SERIES = ("customers", "share", "trust", "nps")
"""Weekly series per firm in the debrief."""

OWN_SERIES = ("customers", "share", "retention", "trust", "nps", "profit")
"""Weekly series of a participant's own firm (the debrief's firms carry them too)."""

Played = tuple[int, dict[int, Choice], list[dict[str, Any]], list[dict[str, Any]]]
"""A closed round: its number, final choices per firm, stored results, leaderboard."""


def replay_rounds(
    code: str,
    model: CustomerMarket | None,
    played: list[Played],
    names: dict[int, str],
    weeks_per_round: int,
) -> dict[str, Any]:
    """Run ``model`` (a fresh market, None before any round is closed) through ``played``.

    Returns
    -------
    dict
        ``code``, ``weeks_per_round``, ``weeks`` (1..played), ``firms`` (per firm: ``firm``,
        ``name`` and the weekly ``customers``, ``share`` (%), ``trust``, ``nps``,
        ``retention`` (annual) and ``profit`` (that week's); None where undefined),
        ``rounds`` (per closed round: ``round``, ``end_week``, ``choices`` per firm,
        ``results``: the leaderboard) and ``matches``.
    """
    firms: list[dict[str, Any]] = [
        {"firm": f, "name": name, **{k: [] for k in OWN_SERIES}}
        for f, name in sorted(names.items())
    ]
    rounds = []
    matches = True
    weeks: list[int] = []
    if model is not None:
        for r, choices, stored, board in played:
            replayed = run_round(model, weeks_per_round, choices)
            matches = matches and same_results(replayed, stored)
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
        retention = retention_estimates(df, model.steps_per_year)
        df = df[df["step"] > 0].sort_values(["step", "firm"])
        weeks = [int(w) for w in sorted(df["step"].unique())]
        for entry in firms:
            own = df[df["firm"] == entry["firm"]]
            entry["customers"] = [float(v) for v in own["customers"]]
            entry["share"] = [float(v) * 100.0 for v in own["share"]]
            entry["trust"] = [number(v) for v in own["trust"]]
            entry["nps"] = [number(v) for v in own["nps"]]
            entry["retention"] = [number(v) for v in retention[:, entry["firm"]]]
            entry["profit"] = [float(v) / model.steps_per_year for v in own["profit"]]
    return {
        "code": code,
        "weeks_per_round": weeks_per_round,
        "weeks": weeks,
        "firms": firms,
        "rounds": rounds,
        "matches": matches,
    }


def own_part(replay: dict[str, Any], firm: int, name: str) -> dict[str, Any]:
    """One firm's part of a replay: its series, its own choices and results per round.

    Returns
    -------
    dict
        ``firm``, ``name``, ``weeks_per_round``, ``weeks``, ``series`` (:data:`OWN_SERIES`)
        and ``rounds`` (per closed round: ``round``, ``end_week``, the firm's ``choice`` and
        its leaderboard ``result`` row).
    """
    own = next(f for f in replay["firms"] if f["firm"] == firm)
    return {
        "firm": firm,
        "name": name,
        "weeks_per_round": replay["weeks_per_round"],
        "weeks": list(replay["weeks"]),
        "series": {k: list(own[k]) for k in OWN_SERIES},
        "rounds": [
            {
                "round": r["round"],
                "end_week": r["end_week"],
                "choice": next(dict(c) for c in r["choices"] if c["firm"] == firm),
                "result": next(dict(x) for x in r["results"] if x["firm"] == firm),
            }
            for r in replay["rounds"]
        ],
    }


def restore_room(row: dict[str, Any], store: WorkshopStore) -> Room:
    """A room as ``store`` holds it (``row``: its entry in ``store.rooms()``), its market
    rebuilt by replaying the closed rounds; ``room.replay_matches`` says whether the replay
    reproduced the stored results.

    Raises
    ------
    ScenarioError, StrategyError
        The room's base scenario no longer loads.
    """
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
        Participant(int(p["firm"]), p["name"], p["token_hash"]) for p in store.participants(code)
    ]
    for c in store.choices(code):
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
    for res in store.results(code):
        stored.setdefault(int(res["round"]), []).append(
            {k: res[k] for k in ("firm", *LEADERBOARD_COLUMNS)}
        )
    room.results = stored
    if room.phase != "lobby":
        room.model = room_market(room)
        closed = room.round if room.phase in ("between", "finished") else room.round - 1
        matches = True
        for r in range(1, closed + 1):
            replayed = run_round(room.model, room.weeks, room.choices[r])
            for old, new in zip(stored.get(r, []), replayed, strict=False):
                if old.get("clv") is None and old["firm"] == new["firm"]:
                    old["clv"] = new["clv"]  # a database from before clv was stored
            matches = matches and same_results(replayed, stored.get(r, []))
        room.replay_matches = matches
    return room
