"""Drawing helpers shared by the validation checks: pyplot without a display, and saving.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["pyplot", "save"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (the checks run without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, figures: Path, name: str) -> Path:
    """Write ``fig`` to ``figures / name`` (creating the folder), close it, return the path."""
    figures.mkdir(parents=True, exist_ok=True)
    path = figures / name
    fig.savefig(path)
    pyplot().close(fig)
    return path
