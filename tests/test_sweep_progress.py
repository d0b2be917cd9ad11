"""A sweep's progress lines: what they say of a burst of runs, a resumed sweep and the end."""

from __future__ import annotations

import io
import threading
import time
from types import SimpleNamespace

from sim.sweep.progress import PlainProgress, format_seconds

OK = SimpleNamespace(status="ok")
FAILED = SimpleNamespace(status="failed")


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def wait_for_line(stream: io.StringIO, start: str, timeout: float = 60.0) -> str:
    """The first line that starts with ``start``, once the timer thread has printed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in lines(stream) if line.startswith(start)]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no line starting {start!r} in {lines(stream)}")


def test_seconds_read_as_hours_minutes_or_seconds() -> None:
    assert format_seconds(3725) == "1h02m"
    assert format_seconds(75) == "1m15s"
    assert format_seconds(4.4) == "4s"
    assert [format_seconds(x) for x in (None, float("nan"), float("inf"))] == ["-"] * 3


def test_a_burst_of_runs_is_reported_whole_with_the_time_it_took() -> None:
    """A batch of markets ends its runs in the same instant: the line after it says so, not
    "1 of 64 done" with a time left for 63 more at that pace (it used to)."""
    stream = io.StringIO()
    progress = PlainProgress(stream=stream, interval=0.05)
    threads = set(threading.enumerate())  # this process's others may end meanwhile (Dask's)
    progress.start(64, 0, 0, "local (2 workers)")
    assert lines(stream) == ["runs 0/64 (0 failed) 0.00 runs/s eta - [local (2 workers)]"]
    # no thread until a run has finished: a warm process forks its pool's workers only while
    # it runs no other thread, and the pool starts after this line
    assert set(threading.enumerate()) <= threads
    time.sleep(0.2)
    assert len(lines(stream)) == 1  # nothing moved: no new line
    for _ in range(31):
        progress.update(OK)
    progress.update(FAILED)
    # (on a loaded machine the timer may also print while the burst is counted: a line of the
    # runs so far, then this one)
    burst = wait_for_line(stream, "runs 32/64 (1 failed) ")
    rate = float(burst.split()[4])
    eta = burst.split("eta ")[1].split()[0]
    # 32 runs in the time since the start: the same time again for the other 32
    assert eta in {format_seconds(32 / rate + d) for d in (-1, 0, 1)}
    for _ in range(32):
        progress.update(OK)
    progress.stop()
    assert lines(stream)[-1].startswith("runs 64/64 (1 failed) ")
    assert lines(stream)[-1].endswith("eta 0s [local (2 workers)]")
    count = len(lines(stream))
    time.sleep(0.2)
    assert len(lines(stream)) == count  # the timer stopped with the sweep
    assert set(threading.enumerate()) <= threads


def test_a_resumed_sweep_counts_only_its_own_runs_for_the_rate() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream=stream, interval=1e9)
    progress.start(100, 90, 2, "serial (1 worker)")
    assert lines(stream) == ["runs 90/100 (2 failed) 0.00 runs/s eta - [serial (1 worker)]"]
    time.sleep(0.05)
    progress.update(OK)
    progress.stop()
    last = lines(stream)[-1]
    assert last.startswith("runs 91/100 (2 failed) ")
    assert float(last.split()[4]) < 1 / 0.05  # one run since the start, not 91
