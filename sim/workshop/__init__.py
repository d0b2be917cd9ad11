"""Workshop mode: a facilitator runs a shared market in rounds; each participant runs one firm.

:mod:`sim.workshop.room` holds the commands (rooms, participants, rounds), with the room's state
in :mod:`sim.workshop.state`, the levers and the shared market in :mod:`sim.workshop.market`, the
leaderboard and export in :mod:`sim.workshop.reports` and the debrief replay in
:mod:`sim.workshop.replay`; :mod:`sim.workshop.store` keeps every room in SQLite, so a room
survives a server restart. The page is :mod:`sim.workshop.app` (components) and
:mod:`sim.workshop.presentation` (HTML and charts). Only those two import the UI.
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
