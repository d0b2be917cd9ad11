"""What a validation check returns, and the sizes it runs at.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["CheckResult", "Size"]

Size = Literal["quick", "full"]
"""``quick``: the small version the test suite runs (seconds); ``full``: ``cxsim validate``."""


@dataclass
class CheckResult:
    """One validation check: what the literature says, what the model gives, pass or fail.

    Attributes
    ----------
    name
        Short identifier (``bass_docking``).
    title
        One line for the table.
    source
        The publication the target comes from.
    target
        The target as a reader would state it (``max |F - F_Bass| < 0.01``).
    measured
        What the model gave, stated the same way.
    passed
        Whether the measured value meets the target.
    figure
        A PNG showing the check, if one was drawn.
    details
        Figures behind ``measured`` (for the report and for tests).
    seconds
        Wall time of the check.
    """

    name: str
    title: str
    source: str
    target: str
    measured: str
    passed: bool
    figure: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
