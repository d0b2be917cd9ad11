"""A fingerprint of the model's code: which rules produced a result.

Results stored by a sweep (and the studies built on sweeps: robustness, calibration) are only
comparable with results of the same rules. :func:`model_code_hash` hashes the source of every
module that decides what a run produces (the model, its rules, strategies, metrics, parameters,
scenarios' loading), and not the layers around it (UI, sweeps, workshop, analyses), so a resumed
sweep can tell that the rules changed under it.

This module must never import anything from the package.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["MODEL_CODE", "model_code_hash"]

PACKAGE = Path(__file__).resolve().parent
OUTSIDE = ("ui", "sweep", "workshop", "validation", "calibration", "robustness")
"""Subpackages that do not change what a run produces."""

MODEL_CODE = "the model's code"


@functools.cache
def model_code_hash() -> str:
    """SHA-256 (first 16 hex digits) of the model's source files, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in OUTSIDE:
            continue
        digest.update(relative.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
