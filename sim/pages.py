"""Memory pages: a market built on small pages, then its step's large arrays moved onto huge ones.

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

Once built, the arrays a step reads are put on huge pages (:func:`on_huge_pages`;
``sim.batch.MarketBatch``): the pages already written are moved in one go (``MADV_COLLAPSE``,
Linux 6.1 or later), and those not yet touched (arrays of zeros that the steps fill: the
attitudes, the switches) are marked so that they come as huge pages when first written
(``MADV_HUGEPAGE``). A step reads the listeners' attitudes and trust, the neighbours' rows and the
customers' expectations at scattered places; on small pages each such read can miss the
processor's page-table cache, and under a hypervisor (the project's Intel Xeon under KVM since 6
December 2026) a miss walks two page tables. On that machine (6 December 2026, 18:45-18:55 UTC,
the baseline at 1M customers; ``before_after.py --ref 20b0ff4 --rounds 5 --steps 20``, fresh
processes alternating): a step **207.7 -> 188.9 ms** wall (0.91; word of mouth 69.8 -> 60.6,
phases 2-5 91.5 -> 88.3); 280 MiB moved and about 500 MiB on huge pages after the first step
(70 before), which made the build 1.0-1.2 s longer (1.6-1.8 -> 2.8 s): repaid in about 60
steps. At 100,000 and 10,000 customers (6-8 MiB moved, or none) the build and the steps took
the same. A batch of a sweep is built outside a market's build, with numpy's advice on: its
arrays are on huge pages already and there is little left to do. Where the kernel cannot
(another system, an older kernel, no huge page to be had) nothing is moved and nothing else
changes; a page the kernel has no free huge page for stays small and the others move (the
fresh-clone CI once found none for an array under heavy load); ``NUMPY_MADVISE_HUGEPAGE=0`` turns
it off too.

This module must never import anything from the package.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["on_huge_pages", "without_huge_pages"]

_ENV = "NUMPY_MADVISE_HUGEPAGE"
MADV_HUGEPAGE = 14  # <linux/mman.h>
MADV_COLLAPSE = 25  # <linux/mman.h>, Linux 6.1
HUGE_PAGE = 2 << 20  # bytes, x86-64 and arm64's transparent huge page
LARGE = 4 << 20  # bytes: numpy's own threshold for its advice
GIVE_UP = 4  # refusals in a row after which :func:`on_huge_pages` stops asking for an array


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


@functools.cache
def _madvise() -> Any:
    """libc's ``madvise`` (address, length, advice) -> 0 or -1, or None off Linux; looked up
    once per process."""
    if sys.platform != "linux":
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    call.restype = ctypes.c_int
    return call


def on_huge_pages(arrays: Iterable[np.ndarray]) -> int:
    """Put the arrays' memory on transparent huge pages: what is written moves now
    (``MADV_COLLAPSE``), what is not yet touched comes as huge pages (``MADV_HUGEPAGE``).

    Parameters
    ----------
    arrays : iterable of numpy.ndarray
        Arrays (or views: their base's memory is taken; anything else is skipped) of which
        those of 4 MB or more are moved, each on the 2 MB pages that lie wholly inside it.

    Returns
    -------
    int
        Bytes of the arrays the kernel moved (or found on huge pages already): all of an
        array's 2 MB pages when it could, else those of its pages it could move one by one (on
        a loaded machine the kernel may find no free huge page for some); 0 off Linux, before
        Linux 6.1, where huge pages are unavailable, or when ``NUMPY_MADVISE_HUGEPAGE`` is
        ``0``. An array not yet touched is not counted: it is only marked.
    """
    if os.environ.get(_ENV, "").strip() == "0":
        return 0
    madvise = _madvise()
    if madvise is None:
        return 0
    bases: dict[int, np.ndarray] = {}
    for array in arrays:
        if not isinstance(array, np.ndarray):
            continue
        base = array
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base.nbytes >= LARGE:
            bases[base.ctypes.data] = base
    moved = 0
    for address, base in bases.items():
        lo = -(-address // HUGE_PAGE) * HUGE_PAGE
        hi = (address + base.nbytes) // HUGE_PAGE * HUGE_PAGE
        if hi > lo:
            madvise(lo, hi - lo, MADV_HUGEPAGE)  # pages not yet touched: huge when they are
            if madvise(lo, hi - lo, MADV_COLLAPSE) == 0:
                moved += hi - lo
            else:
                moved += _page_by_page(madvise, lo, hi)
    return moved


def _page_by_page(madvise: Any, lo: int, hi: int) -> int:
    """Bytes on huge pages in ``[lo, hi)`` after collapsing its 2 MB pages one at a time.

    The kernel's collapse of a range stops at the first page it finds no free huge page for
    (Linux's ``madvise_collapse``): those before it have moved, those after it were not tried.
    A page already huge collapses at once; the loop gives up after :data:`GIVE_UP` refusals in
    a row (the kernel has no huge page left to give, and each refusal costs it an attempt to
    compact memory)."""
    moved = refused = 0
    for page in range(lo, hi, HUGE_PAGE):
        if madvise(page, HUGE_PAGE, MADV_COLLAPSE) == 0:
            moved, refused = moved + HUGE_PAGE, 0
        else:
            refused += 1
            if refused == GIVE_UP:
                break
    return moved
