"""Files that ship with cxsim: the scenarios, the lessons and the model document.

The repository keeps them where readers expect them (``scenarios/``, ``docs/lessons/``,
``docs/MODEL.md``). A built wheel carries copies inside the package, under ``sim/_data/`` (the
build step in ``setup.py`` copies :data:`SOURCES` there), and an installed package finds them
through :mod:`importlib.resources`; a source checkout (editable install or not) has no
``sim/_data/`` and reads the repository's own files.

This module must never import anything from the package. (``setup.py`` loads it by path, before
the package's dependencies are installed.)
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["PACKAGED", "SOURCES", "resource_path"]

SOURCES: dict[str, str] = {
    "scenarios": "scenarios",
    "lessons": "docs/lessons",
    "MODEL.md": "docs/MODEL.md",
}
"""Each shipped resource and where it lives in the repository (relative to its root)."""

PACKAGED = "_data"
"""Folder of the package that holds the copies in a built wheel."""


def resource_path(name: str) -> Path:
    """Where the shipped resource ``name`` (a key of :data:`SOURCES`) is on this installation.

    Parameters
    ----------
    name
        ``"scenarios"``, ``"lessons"`` or ``"MODEL.md"``.

    Returns
    -------
    pathlib.Path
        The copy inside the installed package if there is one, else the repository's file or
        folder (which may not exist, e.g. in a wheel built without the build step).

    Examples
    --------
    >>> resource_path("scenarios").joinpath("baseline.toml").is_file()
    True
    """
    if name not in SOURCES:
        raise KeyError(f"unknown resource {name!r}; expected one of {', '.join(SOURCES)}")
    packaged = importlib.resources.files("sim").joinpath(PACKAGED, name)
    if packaged.is_file() or packaged.is_dir():
        return Path(str(packaged))  # pip installs wheels as plain files: a real path
    return Path(__file__).resolve().parent.parent / SOURCES[name]
