"""Workshop mode: a facilitator runs a shared market in rounds; each participant runs one firm.

:mod:`sim.workshop.room` holds the rules (rooms, participants, rounds, levers, leaderboard) and
:mod:`sim.workshop.store` keeps every room in SQLite, so a room survives a server restart; neither
imports the UI (the page, :mod:`sim.workshop.app`, and the command, :mod:`sim.workshop.cli`, reuse
the UI's charts and server). The names below are imported on first use (``lazy_loader``), so
registering ``cxsim workshop`` does not import the model.

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
