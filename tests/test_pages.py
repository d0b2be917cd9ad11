"""A market is built with numpy's huge-page advice off (``sim.pages``): the advice is off while
the network and the customers' arrays are allocated, numpy's setting is given back after, and a
user who set ``NUMPY_MADVISE_HUGEPAGE`` is left alone. Once built, the step's large arrays are
moved onto huge pages (``on_huge_pages``), their values unchanged."""

from __future__ import annotations

import ctypes
import errno
import mmap
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import CustomerMarket
from sim.pages import on_huge_pages, without_huge_pages

multiarray = np._core.multiarray
THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


@pytest.fixture
def advice_on():
    """numpy's advice on for the test (its Linux default), the test process's setting after."""
    before = multiarray._set_madvise_hugepage(True)
    yield
    multiarray._set_madvise_hugepage(before)


def seen_while_building(monkeypatch) -> list[bool]:
    """numpy's advice at the moment a market builds its network."""
    seen: list[bool] = []
    build = CustomerMarket._build_network

    def spy(self, graph):
        seen.append(bool(multiarray._get_madvise_hugepage()))
        return build(self, graph)

    monkeypatch.setattr(CustomerMarket, "_build_network", spy)
    return seen


def test_a_market_is_built_without_the_advice_and_gives_it_back(advice_on, monkeypatch) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    seen = seen_while_building(monkeypatch)
    market = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 300})
    assert seen == [False]
    assert multiarray._get_madvise_hugepage()  # given back
    market.step()  # and the market steps as any other


def test_the_advice_comes_back_when_the_build_fails(advice_on) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any error of the scenario
        sim.CustomerMarket("baseline", overrides={"market.customers": -5})
    assert multiarray._get_madvise_hugepage()


def test_a_user_who_chose_is_left_alone(advice_on, monkeypatch) -> None:
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    seen = seen_while_building(monkeypatch)
    sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 300})
    assert seen == [True]


def test_nested_blocks_give_back_what_each_found(advice_on, monkeypatch) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    with without_huge_pages():
        assert not multiarray._get_madvise_hugepage()
        with without_huge_pages():
            assert not multiarray._get_madvise_hugepage()
        assert not multiarray._get_madvise_hugepage()
    assert multiarray._get_madvise_hugepage()


def huge_kib(array: np.ndarray) -> int:
    """The array's memory on transparent huge pages, KiB, as the kernel counts it: the
    ``AnonHugePages`` of the mappings (``/proc/self/smaps``) that lie within the array. Not the
    whole process's count, which memory freed elsewhere in the same moment (another test's
    market collected) can lower: the fresh-clone CI once saw +6 MiB there for 64 moved."""
    lo, hi = array.ctypes.data, array.ctypes.data + array.nbytes
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split(maxsplit=1)[0]
            if "-" in head and not head.endswith(":"):  # a mapping's first line: start-end ...
                start, end = (int(x, 16) for x in head.split("-"))
                inside = start >= lo - (2 << 20) and end <= hi + (2 << 20)
            elif inside and line.startswith("AnonHugePages:"):
                total += int(line.split()[1])
    return total


def fresh_mapping(nbytes: int) -> np.ndarray:
    """``nbytes`` of zeros (int64) in a mapping of their own, not yet touched, with 4 MB of it
    left unused on either side. Not numpy's allocation: in a long test process malloc may serve
    a large request from memory freed earlier, which can lie on huge pages already or in a range
    an earlier market's arrays had marked for them (the fresh-clone CI once found 56 of 64 MiB
    there before anything was moved). The unused sides keep the array's marked range from
    merging with a neighbouring mapping marked too, whose huge pages :func:`huge_kib` would
    then not see as the array's."""
    side = 4 << 20
    private = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS  # not shared memory, which THP treats apart
    whole = mmap.mmap(-1, nbytes + 2 * side, flags=private)
    return np.frombuffer(whole, dtype=np.int64, count=nbytes // 8, offset=side)


def on_small_pages(nbytes: int) -> np.ndarray:
    """An array of ``nbytes`` faulted in on small pages: a fresh mapping, which the kernel
    puts on huge pages only when advised (:func:`collapsible` skips where it does always),
    written."""
    array = fresh_mapping(nbytes)
    array[:] = np.arange(len(array))
    return array


@pytest.fixture
def collapsible(monkeypatch):
    """Skip where this kernel cannot move memory onto huge pages (not Linux 6.1+, THP off)."""
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("huge pages are moved on Linux only")
    if THP_SETTING.exists() and "[always]" in THP_SETTING.read_text():
        pytest.skip("this kernel puts all memory on huge pages (THP 'always'): nothing to move")
    probe = on_small_pages(8 << 20)  # asked of the kernel directly, not of the code under test
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = 2 << 20
    start = -(-probe.ctypes.data // page) * page
    if madvise(start, page, 25) != 0:  # MADV_COLLAPSE
        pytest.skip("this kernel does not move memory onto huge pages (MADV_COLLAPSE)")


def kernel_refuses(array: np.ndarray) -> int:
    """The errno of the kernel's refusal to move ``array``'s whole 2 MB pages now (0: it moved
    them), asked of it directly, not of the code under test."""
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = 2 << 20
    lo = -(-array.ctypes.data // page) * page
    hi = (array.ctypes.data + array.nbytes) // page * page
    return 0 if madvise(lo, hi - lo, 25) == 0 else ctypes.get_errno()


def test_large_arrays_move_onto_huge_pages_with_their_values(collapsible) -> None:
    array = on_small_pages(64 << 20)
    view = array[1000:][::3]  # a view: its base's memory is moved
    values = array.copy()
    before = huge_kib(array)
    moved = on_huge_pages([view, np.zeros(10), "not an array"])
    np.testing.assert_array_equal(array, values)
    assert huge_kib(array) - before >= (moved >> 10) - (2 << 10)  # the kernel says so too
    if moved < 62 << 20 and kernel_refuses(array) in (errno.EAGAIN, errno.ENOMEM):
        # a loaded machine's memory had no free 2 MB page for some (the fresh-clone CI once
        # moved 0 MB): what moved is counted, and the kernel refuses the rest as well
        pytest.skip(f"the kernel had huge pages for {moved >> 20} of 64 MiB only")
    assert moved >= 62 << 20  # every whole 2 MB page inside the 64 MB


def test_untouched_arrays_come_as_huge_pages_when_written(collapsible) -> None:
    """Zeros never written have no pages to move: they are marked, and huge when written."""
    zeros = fresh_mapping(64 << 20)  # nothing faulted in yet
    assert on_huge_pages([zeros]) == 0  # nothing moved
    before = huge_kib(zeros)
    zeros[:] = 1
    assert huge_kib(zeros) - before >= 60 << 10


def test_small_arrays_and_a_user_who_said_no_are_left_alone(collapsible, monkeypatch) -> None:
    assert on_huge_pages([on_small_pages(3 << 20)]) == 0  # under numpy's own 4 MB threshold
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "0")
    assert on_huge_pages([on_small_pages(64 << 20)]) == 0


def test_a_large_market_steps_on_huge_pages_with_the_same_numbers(collapsible, monkeypatch) -> None:
    """A market built on small pages has its step's large arrays moved once built (sim.batch):
    at 120,000 customers its expectations are over 4 MB. Moved or not, the same numbers."""
    size = {"market.customers": 120_000}
    market = sim.CustomerMarket("baseline", rng=3, overrides=size)
    assert market._batch.huge_page_bytes >= 4 << 20
    monkeypatch.setattr("sim.batch.on_huge_pages", lambda arrays: 0)
    alone = sim.CustomerMarket("baseline", rng=3, overrides=size)
    assert alone._batch.huge_page_bytes == 0
    market.run(3)
    alone.run(3)
    pd.testing.assert_frame_equal(market.firm_metrics(), alone.firm_metrics())


def test_pages_the_kernel_cannot_move_leave_the_others_moved_and_counted(monkeypatch) -> None:
    """With no free huge page for some of an array's pages the kernel refuses the whole range;
    the pages are then moved one by one, and only those that moved are counted."""
    import sim.pages as pages

    calls: list[tuple[int, int, int]] = []
    refused = set()

    def madvise(address: int, length: int, advice: int) -> int:
        calls.append((address, length, advice))
        if advice == pages.MADV_COLLAPSE and (length > pages.HUGE_PAGE or address in refused):
            return -1
        return 0

    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    monkeypatch.setattr(pages, "_madvise", lambda: madvise)
    array = np.zeros(16 << 17)  # 16 MiB
    lo = -(-array.ctypes.data // pages.HUGE_PAGE) * pages.HUGE_PAGE
    whole = (array.ctypes.data + array.nbytes) // pages.HUGE_PAGE * pages.HUGE_PAGE - lo
    refused.update({lo, lo + 3 * pages.HUGE_PAGE})
    assert on_huge_pages([array]) == whole - 2 * pages.HUGE_PAGE
    collapses = [c for c in calls if c[2] == pages.MADV_COLLAPSE]
    assert collapses[0] == (lo, whole, pages.MADV_COLLAPSE)  # the whole range first
    assert len(collapses) == 1 + whole // pages.HUGE_PAGE  # then each page once
    # a kernel with no huge page left refuses every page: asked a few times, not for each
    calls.clear()
    refused.update(range(lo + 4 * pages.HUGE_PAGE, lo + whole, pages.HUGE_PAGE))
    assert on_huge_pages([array]) == 2 * pages.HUGE_PAGE  # the two before the refusals
    collapses = [c for c in calls if c[2] == pages.MADV_COLLAPSE]
    assert len(collapses) == 1 + 3 + pages.GIVE_UP  # the range, pages 0-2, GIVE_UP refusals
