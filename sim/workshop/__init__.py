"""Workshop mode: a facilitator runs a shared market in rounds; each participant runs one firm.

:mod:`sim.workshop.room` holds the commands (rooms, participants, rounds), with the room's state
in :mod:`sim.workshop.state`, the levers and the shared market in :mod:`sim.workshop.market`, the
leaderboard and export in :mod:`sim.workshop.reports` and the debrief replay in
:mod:`sim.workshop.replay`; :mod:`sim.workshop.store` keeps every room in SQLite, so a room
survives a server restart. The page is :mod:`sim.workshop.app` (components) and
:mod:`sim.workshop.presentation` (HTML and charts); only those two import the UI. The names
below are imported on first use (``lazy_loader``), so registering ``cxsim workshop`` does not
import the model.

This package must never import a submodule eagerly.
"""

from __future__ import annotations

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "room": [
            "DEFAULT_CHOICE",
            "AccessDenied",
            "Choice",
            "Room",
            "Workshop",
            "WorkshopError",
            "WorkshopStrategy",
        ],
        "store": ["WorkshopStore"],
    },
)
