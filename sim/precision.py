"""How many decimals a number deserves when it comes with a confidence interval.

A mean over replicates is known to about its interval's half-width; digits finer than the
half-width's second significant digit are noise (``4.84 ± 656`` says no more than ``5 ± 656``),
and too few hide what the interval shows (a difference of trust of ``-0.10`` with an interval
"``-0.10`` to ``-0.10``" reads as zero width when it is ``-0.1035`` to ``-0.0989``). The
command line's summaries (``sim.sweep.cli``) and the UI's comparison table
(``sim.ui.compare``) both write their numbers to :func:`interval_places`.

This module imports nothing of the package.
"""

from __future__ import annotations

import math

__all__ = ["MOST_PLACES", "fixed", "interval_places"]

MOST_PLACES = 6
"""More decimals than this are not written: an interval that narrow is given otherwise."""


def interval_places(half_width: float) -> int | None:
    """Decimals that put the last digit at the half-width's second significant digit.

    Parameters
    ----------
    half_width
        Half the width of the interval (its sign is ignored).

    Returns
    -------
    int or None
        ``0`` for half-widths of 10 or more (``656`` -> ``0``: ``5 ± 656``), ``3`` for
        ``0.039``, ``4`` for ``0.0055``; ``None`` when there is no usable width (0, NaN or
        infinite) or it would need more than :data:`MOST_PLACES` decimals.
    """
    half = abs(half_width)
    if not (0 < half < math.inf):
        return None
    places = max(0, 1 - math.floor(math.log10(half)))
    return places if places <= MOST_PLACES else None


def fixed(x: float, places: int) -> str:
    """``x`` with thousands separators and ``places`` decimals; a value that rounds to zero is
    written ``0`` (``0.00``), never ``-0``."""
    text = f"{x:,.{places}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        return text[1:]
    return text
