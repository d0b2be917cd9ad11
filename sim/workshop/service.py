"""The server process's one :class:`~sim.workshop.room.Workshop`, shared by every browser session.

Opened on first use from ``$CXSIM_WORKSHOP_DB`` (``cxsim workshop --db`` sets it).

This module must never import the UI.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sim.workshop.room import Workshop

__all__ = ["DB_ENV", "default_db", "workshop"]

DB_ENV = "CXSIM_WORKSHOP_DB"
"""Environment variable naming the SQLite file of the rooms."""

_lock = threading.Lock()
_workshop: Workshop | None = None


def default_db() -> Path:
    """``$CXSIM_WORKSHOP_DB``, or ``workshop.sqlite`` in the current folder."""
    return Path(os.environ.get(DB_ENV) or "workshop.sqlite").resolve()


def workshop() -> Workshop:
    """The server's workshop (every room), opened on first use from :func:`default_db`."""
    global _workshop
    with _lock:
        if _workshop is None:
            _workshop = Workshop(str(default_db()))
        return _workshop
