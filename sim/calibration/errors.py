"""Errors of the calibration layer: each one line a user can act on (file, row or key, expected).

``cxsim calibrate`` prints them as ``cxsim: error: ...`` with exit code 2. This module imports
nothing of the model, the sweep layer or the UI.
"""

from __future__ import annotations

__all__ = ["CalibrationError", "CalibrationFileError", "CalibrationStoreError", "DataError"]


class CalibrationError(ValueError):
    """Base of every user error of a calibration."""


class DataError(CalibrationError):
    """An observed-data file that cannot be used: names the file, the row and the column.

    Attributes
    ----------
    source, row, column, detail
        The file, the 1-based data row (None for the whole file), the column and what was wrong.
    """

    def __init__(self, source: str, row: int | None, column: str | None, detail: str) -> None:
        self.source, self.row, self.column, self.detail = source, row, column, detail
        where = [source]
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column}")
        super().__init__(", ".join(where) + ": " + detail)


class CalibrationFileError(CalibrationError):
    """A calibration file that cannot be used: names the file, the key and what was expected."""

    def __init__(self, source: str, key: str, detail: str) -> None:
        self.source, self.key, self.detail = source, key, detail
        super().__init__(f"{source}: {key + ': ' if key else ''}{detail}")


class CalibrationStoreError(CalibrationError):
    """An output folder that cannot be used as asked (another calibration, other files)."""
