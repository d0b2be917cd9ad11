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

__all__ = ["MODEL_CODE", "OUTSIDE", "OUTSIDE_MODULES", "model_code_hash", "tree_hash"]

PACKAGE = Path(__file__).resolve().parent
OUTSIDE = ("ui", "sweep", "workshop", "validation", "calibration", "robustness")
"""Subpackages that do not change what a run produces."""

OUTSIDE_MODULES = (
    "cli.py",
    "docs.py",
    "early_warning.py",
    "field_text.py",
    "lessons.py",
    "output.py",
    "plots.py",
    "precision.py",
    "version.py",
    "warmup.py",
)
"""Modules of the package's top level that only present, write or explain a run (the command
line, the parameter reference, the analyses of a run's series, its files and charts, the
compile step of ``make install``). Until 5 December they were hashed too, and a change to the
command line told a resumed sweep that "the rules changed since those runs"."""

MODEL_CODE = "the model's code"


@functools.cache
def model_code_hash() -> str:
    """SHA-256 (first 16 hex digits) of the model's source files, in a stable order."""
    return tree_hash(PACKAGE)


def tree_hash(package: Path) -> str:
    """:func:`model_code_hash` of the package at ``package``."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] in OUTSIDE or relative.as_posix() in OUTSIDE_MODULES:
            continue
        digest.update(relative.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
