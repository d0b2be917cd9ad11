"""Workshop mode: a facilitator runs a shared market in rounds; each participant runs one firm.

:mod:`sim.workshop.room` holds the rules (rooms, participants, rounds, levers, leaderboard) and
:mod:`sim.workshop.store` keeps every room in SQLite, so a room survives a server restart. This
package must never import the UI.
"""

from sim.workshop.room import (
    DEFAULT_CHOICE,
    AccessDenied,
    Choice,
    Room,
    Workshop,
    WorkshopError,
    WorkshopStrategy,
)
from sim.workshop.store import WorkshopStore

__all__ = [
    "DEFAULT_CHOICE",
    "AccessDenied",
    "Choice",
    "Room",
    "Workshop",
    "WorkshopError",
    "WorkshopStore",
    "WorkshopStrategy",
]
