"""Progress of a running sweep: runs done, failures, rate and time left.

:class:`RichProgress` draws a live bar on a terminal; :class:`PlainProgress` prints a line now
and then (batch jobs, logs, pipes). Both count only this session's runs for the rate, so a resumed
sweep's estimate is not flattered by the runs found on disk. The runner calls ``start``,
``update`` per finished run and ``stop``, for every executor alike.

This module never imports the model or the UI.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Protocol, TextIO

from sim.sweep.worker import RunResult

__all__ = ["PlainProgress", "Progress", "RichProgress", "format_seconds", "make_progress"]


class Progress(Protocol):
    """What the runner reports to."""

    def start(self, total: int, done: int, failed: int, executor: str) -> None:
        """The sweep has ``total`` runs, ``done`` of them already on disk (``failed`` failed)."""

    def update(self, result: RunResult) -> None:
        """A run finished (or failed)."""

    def stop(self) -> None:
        """The sweep ended or was interrupted."""


def format_seconds(s: float | None) -> str:
    """``3725`` -> ``"1h02m"``; ``75`` -> ``"1m15s"``; None -> ``"-"``."""
    if s is None or s != s or s == float("inf"):
        return "-"
    s = round(s)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class _Counter:
    def __init__(self) -> None:
        self.total = self.done = self.failed = self.ran = 0
        self.started = time.monotonic()

    def start(self, total: int, done: int, failed: int) -> None:
        self.total, self.done, self.failed, self.ran = total, done, failed, 0
        self.started = time.monotonic()

    def add(self, result: RunResult) -> None:
        self.done += 1
        self.ran += 1
        self.failed += result.status != "ok"

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.ran / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None


class RichProgress:
    """A live progress bar (rich, on stderr) with runs done, failures, runs/s and time left."""

    def __init__(self, console: Any = None) -> None:
        self._console = console
        self._count = _Counter()
        self._bar: Any = None
        self._task: Any = None

    def start(self, total: int, done: int, failed: int, executor: str) -> None:
        """Show the bar."""
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        self._count.start(total, done, failed)
        self._bar = Bar(
            TextColumn("[bold]runs"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta {task.fields[eta]}"),
            TextColumn("[dim]{task.fields[on]}"),
            console=self._console,
            transient=False,
        )
        self._task = self._bar.add_task(
            "sweep",
            total=total,
            completed=done,
            failed=failed,
            rate="- runs/s",
            eta="-",
            on=executor,
        )
        self._bar.start()

    def update(self, result: RunResult) -> None:
        """Count a finished run."""
        c = self._count
        c.add(result)
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=c.done,
                failed=c.failed,
                rate=f"{c.rate:.2f} runs/s",
                eta=format_seconds(c.eta),
            )

    def stop(self) -> None:
        """Leave the final state on screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class PlainProgress:
    """A line when the runs start, one every ``interval`` seconds while the count moves, and the
    last one: ``runs 120/500 (3 failed) 1.90 runs/s eta 3m20s``.

    The lines come from a timer thread, not from the runs' arrivals: the runs of a batch of
    markets end in the same instant, and a line printed at the first of them showed one run
    done and a time left sixty times too long (``runs 1/64 ... eta 14m22s`` for a study that
    ended in 14 s). The timer starts with the first finished run, once the pool's workers
    exist: a warm process forks its workers only while it runs no other thread
    (:mod:`sim.sweep.context`).
    """

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self._stream = stream or sys.stderr
        self._interval = interval
        self._count = _Counter()
        self._printed = ""
        self._executor = ""
        self._lock = threading.Lock()
        self._ticking = threading.Event()
        self._timer: threading.Thread | None = None

    def _line(self) -> str:
        c = self._count
        return (
            f"runs {c.done}/{c.total} ({c.failed} failed) {c.rate:.2f} runs/s "
            f"eta {format_seconds(c.eta)} [{self._executor}]"
        )

    def _print(self) -> None:
        with self._lock:
            c = self._count
            state = f"{c.done}/{c.failed}"
            if state != self._printed:
                self._printed = state
                print(self._line(), file=self._stream, flush=True)

    def _tick(self) -> None:
        while not self._ticking.wait(self._interval):
            self._print()

    def start(self, total: int, done: int, failed: int, executor: str) -> None:
        """Print the starting line."""
        self._count.start(total, done, failed)
        self._executor = executor
        self._print()

    def update(self, result: RunResult) -> None:
        """Count a run (the timer prints; the first run starts it)."""
        self._count.add(result)
        if self._timer is None:
            self._ticking.clear()
            self._timer = threading.Thread(target=self._tick, name="cxsim-progress", daemon=True)
            self._timer.start()

    def stop(self) -> None:
        """Stop the timer and print the final line (unless it was just printed)."""
        if self._timer is not None:
            self._ticking.set()
            self._timer.join()
            self._timer = None
        self._print()


def make_progress(quiet: bool = False) -> Progress | None:
    """A rich bar on a terminal, plain lines otherwise, nothing when ``quiet``."""
    if quiet:
        return None
    return RichProgress() if sys.stderr.isatty() else PlainProgress()
