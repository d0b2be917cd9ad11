"""The Compare page's table of end-of-run differences B - A: each row to the precision of its
interval, the pairs it is over, and the note on a firm that closed in some runs (the page:
:mod:`sim.ui.compare`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.precision import fixed, interval_places
from sim.ui.replicates import MIN_PAIRS, CompareResult

__all__ = ["closure_note", "difference_rows", "row_places"]


def _fmt(x: float, digits: int = 2) -> str:
    return "-" if x is None or np.isnan(x) else fixed(x, digits)


def row_places(low: float, high: float) -> int:
    """Decimals for a row of the differences table: to the second significant digit of the
    interval's half-width (:func:`sim.precision.interval_places`), 2 without one."""
    places = None if low is None or high is None else interval_places((high - low) / 2)
    return 2 if places is None else places


def closure_note(result: CompareResult, firm: str) -> str | None:
    """The note "<firm> closed in 6 of 8 runs of A, 0 of 8 of B (by step 260)"; None if it
    closed in no run."""
    (a, a_runs), (b, b_runs) = result.closures(firm)
    if not a and not b:
        return None
    return (
        f"{firm} closed in {a} of {a_runs} runs of A, {b} of {b_runs} of B "
        f"(by step {int(result.steps[-1])})"
    )


def _plain_places(*values: float) -> int:
    """Decimals for a row without an interval: three significant digits of its largest value,
    0 to 4."""
    big = max((abs(v) for v in values if v is not None and np.isfinite(v)), default=0.0)
    if big == 0:
        return 2
    return int(min(4, max(0, 2 - math.floor(math.log10(big)))))


def difference_rows(table: Any, replicates: int) -> str:
    """The differences table's rows, as HTML: A, B and B − A over the row's pairs; the pairs
    as "2 of 8" when fewer than the replicates; no interval and no ✔ under
    :data:`MIN_PAIRS` pairs (such a row to three significant digits)."""
    rows = ""
    for r in table.itertuples():
        few = r.pairs < MIN_PAIRS
        d = _plain_places(r.a, r.b, r.difference) if few else row_places(r.low, r.high)
        if few:
            ci = (
                f'<span class="cx-too-few" title="an interval needs {MIN_PAIRS} pairs or more: '
                f'with {r.pairs} this difference is not decided">too few pairs</span>'
            )
        else:
            ci = f"{_fmt(r.low, d)} to {_fmt(r.high, d)}"
        if r.pairs < replicates:
            pairs = (
                f'<span style="color:#b45309;font-weight:600" title="pairs of runs with a '
                f"value in both A and B{'' if r.scope == 'market' else ' (the firm open in both)'}"
                f'; A, B and B − A of this row are over these">{r.pairs} of {replicates}</span>'
            )
        else:
            pairs = str(r.pairs)
        rows += (
            f'<tr data-metric="{r.key}"><td>{r.metric}</td><td>{_fmt(r.a, d)}</td>'
            f"<td>{_fmt(r.b, d)}</td><td>{_fmt(r.difference, d)}</td><td>{ci}</td>"
            f"<td>{pairs}</td><td>{'✔' if r.clear else ''}</td></tr>"
        )
    return rows
