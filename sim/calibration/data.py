"""Observed data: the series a market is calibrated to, read from CSV or Parquet and checked.

One row per observation (a "long" table)::

    series,firm,cohort,year,value,se,n,holdout
    survival,Acme,0,0.5,0.91,,1200,
    survival,Acme,0,1.0,0.84,,1200,
    nps,Acme,,1.0,31,4.5,,
    churn,,,1.0,0.12,,,
    share,Acme,,2.0,0.38,0.02,,true

Columns:

- ``series`` (required): what was measured, one of :data:`SERIES`.
- ``firm``: a firm of the scenario, by name; empty (or ``market``) for the whole market.
- ``cohort``: for ``survival`` (and optionally ``purchases``), the year (0, 1, ...) in which
  the cohort of new customers joined; empty for the other series.
- ``year`` (required): when, in years since the market starts (0.25 = after one quarter).
- ``value`` (required): the measurement, on the scale :data:`SERIES` gives.
- ``se``: its standard error; ``n``: the sample size it came from (used for an ``se`` when
  none is given). Both optional.
- ``holdout``: true for rows kept out of the fit and used only to check the forecast.

Bad data (a missing column, an unknown series or firm, a rate out of range, a survival curve
that rises, a duplicated row) raises :class:`~sim.calibration.errors.DataError` naming the file,
the row (1-based, header excluded) and the column.

This module never imports the model, the sweep layer or the UI.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.errors import DataError

__all__ = [
    "COLUMNS",
    "SERIES",
    "ObservedData",
    "SeriesKind",
    "observed_csv",
    "read_observed",
    "sha256_of",
]


@dataclass(frozen=True)
class SeriesKind:
    """What a series means and the values it may take.

    Attributes
    ----------
    name
        As written in the ``series`` column.
    meaning
        One line for messages and docs.
    low, high
        Allowed values (inclusive); None for no bound.
    cohort
        Rows need a ``cohort`` (``"optional"``: may have one).
    firm_only
        Rows need a ``firm`` (no market-wide value exists).
    proportion
        The value is a share, so ``se`` can come from ``n`` as sqrt(v (1 - v) / n).
    """

    name: str
    meaning: str
    low: float | None
    high: float | None
    cohort: bool | str = False
    firm_only: bool = False
    proportion: bool = False


SERIES: dict[str, SeriesKind] = {
    s.name: s
    for s in (
        SeriesKind(
            "survival",
            "share of a cohort of new customers still with the firm",
            0.0,
            1.0,
            cohort=True,
            proportion=True,
        ),
        SeriesKind(
            "purchases",
            "purchases per customer of a cohort (or of the firm's first customers) in the "
            "period ending at year: a rate times the share still a customer",
            0.0,
            None,
            cohort="optional",
        ),
        SeriesKind(
            "churn",
            "share of the customers at the start of the period lost during it",
            0.0,
            1.0,
            proportion=True,
        ),
        SeriesKind(
            "retention",
            "annual retention (share kept over the last year)",
            0.0,
            1.0,
            proportion=True,
        ),
        SeriesKind("nps", "Net Promoter Score", -100.0, 100.0),
        SeriesKind("satisfaction", "mean satisfaction on 0-10", 0.0, 10.0),
        SeriesKind(
            "share",
            "market share of the firm in its industry",
            0.0,
            1.0,
            firm_only=True,
            proportion=True,
        ),
    )
}
"""The series the data may hold."""

COLUMNS = ("series", "firm", "cohort", "year", "value", "se", "n", "holdout")
"""Columns the format knows (``series``, ``year`` and ``value`` are required)."""

REQUIRED = ("series", "year", "value")
MARKET = ("", "market")


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class ObservedData:
    """Checked observations, one row each.

    Attributes
    ----------
    frame
        Columns ``row`` (1-based row of the file), ``series``, ``firm`` ('' for the market),
        ``cohort`` (-1 when none), ``year``, ``value``, ``se`` (NaN when none), ``n`` (NaN when
        none), ``holdout`` (bool), in file order.
    source
        The file (or a name for data given as a frame).
    sha256
        SHA-256 of the file's bytes ('' for a frame).
    """

    frame: pd.DataFrame
    source: str
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def fit(self) -> pd.DataFrame:
        """The rows the fit uses (not held out)."""
        return self.frame[~self.frame["holdout"]]

    @property
    def horizon_years(self) -> float:
        """The latest ``year`` of any row."""
        return float(self.frame["year"].max())

    @property
    def firms(self) -> list[str]:
        """Firms named in the data ('' is the market), in order of first appearance."""
        return list(dict.fromkeys(self.frame["firm"]))

    @property
    def series(self) -> list[str]:
        """Series present, in order of first appearance."""
        return list(dict.fromkeys(self.frame["series"]))

    def groups(self) -> list[tuple[str, str, int]]:
        """``(series, firm, cohort)`` of each curve, in order of first appearance."""
        keys = zip(self.frame["series"], self.frame["firm"], self.frame["cohort"], strict=True)
        return list(dict.fromkeys((s, f, int(c)) for s, f, c in keys))


def _fail(source: str, row: int | None, column: str | None, detail: str) -> DataError:
    return DataError(source, row, column, detail)


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as e:  # pyarrow raises several types for a bad file
            raise _fail(str(path), None, None, f"cannot read as Parquet ({e})") from None
    if suffix not in (".csv", ".txt"):
        raise _fail(str(path), None, None, "expected a .csv or .parquet file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise _fail(str(path), None, None, "the file is empty; expected a header line") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        detail = str(e).splitlines()[0]
        raise _fail(str(path), None, None, f"cannot read as CSV ({detail})") from None


def _number(
    source: str, row: int, column: str, raw: Any, *, required: bool, integer: bool = False
) -> float:
    text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
    if text == "":
        if required:
            raise _fail(source, row, column, "is empty; expected a number")
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise _fail(source, row, column, f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise _fail(source, row, column, f"expected a finite number, got {text!r}")
    if integer and value != int(value):
        raise _fail(source, row, column, f"expected a whole number, got {text!r}")
    return value


def _flag(source: str, row: int, raw: Any) -> bool:
    text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)
    text = text.strip().lower()
    if text in ("", "0", "false", "no"):
        return False
    if text in ("1", "true", "yes"):
        return True
    raise _fail(source, row, "holdout", f"expected true or false, got {text!r}")


def _check_value(source: str, row: int, kind: SeriesKind, value: float) -> None:
    if kind.low is not None and value < kind.low:
        what = "negative" if kind.low == 0 else f"below {kind.low:g}"
        raise _fail(
            source, row, "value", f"{kind.name} {value:g} is {what}; expected {_scale(kind)}"
        )
    if kind.high is not None and value > kind.high:
        hint = " (write 0.85 for 85%)" if kind.high == 1 else ""
        raise _fail(
            source,
            row,
            "value",
            f"{kind.name} {value:g} is above {kind.high:g}; expected {_scale(kind)}{hint}",
        )


def _scale(kind: SeriesKind) -> str:
    if kind.low is not None and kind.high is not None:
        return f"a value in {kind.low:g}..{kind.high:g}"
    return f"a value >= {kind.low:g}"


def read_observed(
    source: str | Path | pd.DataFrame,
    firms: Iterable[str] | None = None,
    *,
    name: str | None = None,
) -> ObservedData:
    """Read and check observed series.

    Parameters
    ----------
    source
        A ``.csv`` or ``.parquet`` file, or a DataFrame with the same columns.
    firms
        The scenario's firm names; a row naming another firm is an error. None skips the check.
    name
        How to call a DataFrame source in messages (default ``"<data>"``).

    Returns
    -------
    ObservedData

    Raises
    ------
    DataError
        One line naming the file, the row and the column.
    """
    if isinstance(source, pd.DataFrame):
        where, raw, digest = name or "<data>", source.copy(), ""
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise _fail(where, None, None, "no such file; expected a CSV or Parquet data file")
        raw, digest = _read(path), sha256_of(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise _fail(
            where,
            None,
            missing[0],
            f"missing; expected the columns {', '.join(REQUIRED)} (and optionally "
            f"firm, cohort, se, n, holdout), found {', '.join(raw.columns) or 'none'}",
        )
    unknown = [c for c in raw.columns if c not in COLUMNS]
    if unknown:
        raise _fail(
            where, None, unknown[0], f"unknown column; expected some of {', '.join(COLUMNS)}"
        )
    if raw.empty:
        raise _fail(where, None, None, "has no data rows")
    firm_names = None if firms is None else list(firms)
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(raw.to_dict("records"), start=1):
        series = str(rec["series"]).strip().lower()
        kind = SERIES.get(series)
        if kind is None:
            raise _fail(
                where, i, "series", f"expected one of {', '.join(SERIES)}, got {rec['series']!r}"
            )
        firm_raw = rec.get("firm", "")
        firm = "" if firm_raw is None or firm_raw != firm_raw else str(firm_raw).strip()
        if firm.lower() in MARKET:
            firm = ""
        if firm and firm_names is not None and firm not in firm_names:
            raise _fail(
                where,
                i,
                "firm",
                f"unknown firm {firm!r}; expected one of the scenario's firms "
                f"({', '.join(firm_names)}) or empty for the market",
            )
        if kind.firm_only and not firm:
            raise _fail(where, i, "firm", f"{series} needs a firm; expected a firm name")
        year = _number(where, i, "year", rec["year"], required=True)
        if year < 0:
            raise _fail(where, i, "year", f"{year:g} is negative; expected years since the start")
        cohort = _number(where, i, "cohort", rec.get("cohort"), required=False, integer=True)
        if kind.cohort and not (kind.cohort == "optional" and math.isnan(cohort)):
            if math.isnan(cohort):
                raise _fail(
                    where, i, "cohort", f"{series} needs the year its cohort joined (0, 1, ...)"
                )
            if cohort < 0:
                raise _fail(where, i, "cohort", f"{cohort:g} is negative; expected 0, 1, ...")
            if year < cohort:
                raise _fail(
                    where,
                    i,
                    "year",
                    f"{year:g} is before the cohort joined (cohort {cohort:g}); expected "
                    "year >= cohort",
                )
        elif not math.isnan(cohort):
            raise _fail(where, i, "cohort", f"{series} has no cohorts; expected it empty")
        value = _number(where, i, "value", rec["value"], required=True)
        _check_value(where, i, kind, value)
        se = _number(where, i, "se", rec.get("se"), required=False)
        if se < 0:
            raise _fail(where, i, "se", f"{se:g} is negative; expected a standard error >= 0")
        n = _number(where, i, "n", rec.get("n"), required=False, integer=True)
        if n < 1:
            raise _fail(where, i, "n", f"{n:g}; expected a sample size of at least 1")
        rows.append(
            {
                "row": i,
                "series": series,
                "firm": firm,
                "cohort": -1 if math.isnan(cohort) else int(cohort),
                "year": year,
                "value": value,
                "se": se,
                "n": n,
                "holdout": _flag(where, i, rec.get("holdout")),
            }
        )
    frame = pd.DataFrame(rows)
    _check_curves(where, frame)
    if frame["holdout"].all():
        raise _fail(where, None, "holdout", "every row is held out; expected some rows to fit")
    return ObservedData(frame=frame, source=where, sha256=digest)


def observed_csv(observed: ObservedData) -> str:
    """The checked data as a CSV :func:`read_observed` takes back, to the same frame.

    Every column of :data:`COLUMNS`, one row per observation in the file's order; a cohort
    the series has none of and a missing ``se`` or ``n`` are empty, ``holdout`` is
    ``True``/``False``. The same observations give the same text whatever file they came from
    (CSV or Parquet, its column order, spacing or spelling of ``true``): a calibration's
    ``observed.csv``, whose SHA-256 names the data in the folder's identity.
    """
    frame = observed.frame[list(COLUMNS)].copy()
    frame["cohort"] = frame["cohort"].astype("Int64").mask(frame["cohort"] < 0)
    frame["n"] = frame["n"].astype("Int64")  # whole numbers (checked), NaN for none
    return frame.to_csv(index=False, lineterminator="\n")


def _check_curves(where: str, frame: pd.DataFrame) -> None:
    key = ["series", "firm", "cohort", "year"]
    dup = frame.duplicated(key, keep="first")
    if dup.any():
        r = frame[dup].iloc[0]
        first = frame[(frame[key] == r[key]).all(axis=1)].iloc[0]
        raise _fail(
            where,
            int(r["row"]),
            "year",
            f"repeats row {int(first['row'])} ({r['series']}, {r['firm'] or 'market'}, "
            f"year {r['year']:g}); expected one value per series, firm, cohort and year",
        )
    surv = frame[frame["series"] == "survival"]
    for _, curve in surv.groupby(["firm", "cohort"], sort=False):
        ordered = curve.sort_values("year")
        values = ordered["value"].to_numpy()
        rises = np.flatnonzero(np.diff(values) > 1e-12)
        if len(rises):
            j = rises[0] + 1
            r, before = ordered.iloc[j], ordered.iloc[j - 1]
            raise _fail(
                where,
                int(r["row"]),
                "value",
                f"survival rises from {before['value']:g} (row {int(before['row'])}, year "
                f"{before['year']:g}) to {r['value']:g} at year {r['year']:g}; expected a "
                "curve that never rises",
            )
