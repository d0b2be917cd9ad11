"""Building a market on small memory pages: numpy's huge-page advice off while it is built.

On Linux numpy marks every allocation of 4 MB or more ``MADV_HUGEPAGE``. Where the kernel's
transparent huge pages are ``madvise`` and their defrag setting is ``madvise`` (the project's
machine; a common distribution default), a page fault in such a region with no huge page free
makes the kernel compact memory on the spot, and a fragmented machine stalls on it (numpy issue
31590). Building a market allocates many such arrays once (the network's edges and rows, the
customers' state); stepping it reuses them (a step faults in 6-34 pages at 1M customers).

Measured on the 2-core machine (4 December 2026, 19:42 UTC, load 0.4-1.2; fresh processes
alternating, the baseline scenario at 1M customers, the advice kept by ``NUMPY_MADVISE_HUGEPAGE=1``
against this module's default): built in 2.2-3.7 s with the advice (the network 0.7-1.9 s of it),
1.0-1.2 s without (the network 0.34-0.36 s); the steps after took the same (medians of five:
139-152 ms with, 135-144 without), and so did a 100,000-customer build (1.0-1.2 s). So
:class:`without_huge_pages` turns the advice off while a market is built
(``CustomerMarket.__init__``) and gives numpy back its setting after; a user who set
``NUMPY_MADVISE_HUGEPAGE`` chose for themselves and is left alone. No number depends on it.

This module must never import anything from the package.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np

__all__ = ["without_huge_pages"]

_ENV = "NUMPY_MADVISE_HUGEPAGE"


def _toggle() -> Any:
    """numpy's setter of the advice (returns the previous setting), or None where this numpy
    has none."""
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
    return getattr(multiarray, "_set_madvise_hugepage", None)


class without_huge_pages(contextlib.ContextDecorator):  # a phrase, used as a decorator
    """numpy's huge-page advice off inside (a ``with`` block, or a decorated function), its
    previous setting back after; nothing done when ``NUMPY_MADVISE_HUGEPAGE`` is set or this
    numpy cannot change it."""

    def _recreate_cm(self) -> without_huge_pages:
        return type(self)()  # a decorated call keeps its own previous setting (threads)

    def __enter__(self) -> without_huge_pages:
        toggle = _toggle()
        self._previous = None if toggle is None or _ENV in os.environ else toggle(False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            _toggle()(self._previous)
