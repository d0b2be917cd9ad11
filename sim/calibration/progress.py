"""Progress of a calibration: phase (prior sample, generation t, predictive), particles accepted,
model runs, runs per second.

:class:`CalibrationProgress` keeps the numbers (the browser page reads them from another
thread); :class:`RichProgress` draws them as a live bar on a terminal and :class:`PlainProgress`
prints a line now and then (logs, pipes). The calibration calls ``start``, ``phase``,
``accepted``, ``run_done`` and ``stop``.

This module never imports the model, an executor or the UI.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from sim.sweep.progress import format_seconds

__all__ = ["CalibrationProgress", "PlainProgress", "RichProgress", "generations", "make_progress"]


def generations(n: int) -> str:
    """``"1 generation"``, ``"3 generations"``: how a search's length is told (CLI, log, UI)."""
    return f"{n} generation{'s' * (n != 1)}"


class CalibrationProgress:
    """The numbers of a running calibration (thread-safe to read).

    Attributes
    ----------
    phase
        ``"prior sample"``, ``"generation 3"``, ``"predictive"``, ``"done"``.
    accepted, target
        Particles accepted so far in this phase, and wanted.
    runs, failed
        Model runs finished in this session (and how many failed).
    executor
        Where the runs go.
    """

    def __init__(self) -> None:
        self.phase = "starting"
        self.accepted = self.target = self.runs = self.failed = 0
        self.executor = ""
        self.started = time.monotonic()
        self.log: list[str] = []
        self._lock = threading.Lock()

    def start(self, executor: str) -> None:
        """The calibration starts (or resumes) on ``executor``."""
        with self._lock:
            self.executor = executor
            self.started = time.monotonic()

    def set_phase(self, name: str, target: int) -> None:
        """A new phase with ``target`` particles (or runs) to get."""
        with self._lock:
            self.phase, self.target, self.accepted = name, int(target), 0

    def accepted_so_far(self, accepted: int) -> None:
        """Particles accepted so far in this phase."""
        with self._lock:
            self.accepted = int(accepted)

    def run_done(self, ok: bool) -> None:
        """One model run finished."""
        with self._lock:
            self.runs += 1
            self.failed += not ok

    def note(self, text: str) -> None:
        """A line worth keeping (a generation's threshold, a resumed folder)."""
        with self._lock:
            self.log.append(text)

    def stop(self) -> None:
        """The calibration ended or stopped."""

    @property
    def rate(self) -> float:
        """Runs per second in this session."""
        elapsed = time.monotonic() - self.started
        return self.runs / elapsed if elapsed > 0 else 0.0

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of the numbers."""
        with self._lock:
            return {
                "phase": self.phase,
                "accepted": self.accepted,
                "target": self.target,
                "runs": self.runs,
                "failed": self.failed,
                "rate": self.rate,
                "elapsed": time.monotonic() - self.started,
                "executor": self.executor,
                "log": list(self.log),
            }


class PlainProgress(CalibrationProgress):
    """Prints ``generation 2: 140/200 accepted, 612 runs (0 failed), 6.1 runs/s`` now and then."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        super().__init__()
        self._stream = stream or sys.stderr
        self._interval = interval
        self._last = 0.0

    def _line(self) -> str:
        s = self.snapshot()
        return (
            f"{s['phase']}: {s['accepted']}/{s['target']} accepted, "
            f"{s['runs']} run{'s' * (s['runs'] != 1)} "
            f"({s['failed']} failed), {s['rate']:.2f} runs/s, {format_seconds(s['elapsed'])} "
            f"[{s['executor']}]"
        )

    def _maybe_print(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            self._last = now
            print(self._line(), file=self._stream, flush=True)

    def start(self, executor: str) -> None:
        """Print the first line; the next comes at the end of the phase or ``interval`` seconds
        on (not at the first run, whose rate says only how long the workers took to start)."""
        super().start(executor)
        self._last = time.monotonic()
        print(f"calibrating on {executor}", file=self._stream, flush=True)

    def set_phase(self, name: str, target: int) -> None:
        """Print the phase that ended, then switch."""
        if self.phase != "starting":
            self._maybe_print(force=True)
        super().set_phase(name, target)

    def run_done(self, ok: bool) -> None:
        """Count a run; print a line if ``interval`` has passed."""
        super().run_done(ok)
        self._maybe_print()

    def note(self, text: str) -> None:
        """Print the note."""
        super().note(text)
        print(text, file=self._stream, flush=True)

    def stop(self) -> None:
        """Print the final line."""
        self._maybe_print(force=True)


class RichProgress(CalibrationProgress):
    """A live bar on stderr: phase, accepted/wanted, runs, failures, runs/s, elapsed."""

    def __init__(self, console: Any = None) -> None:
        super().__init__()
        self._console = console
        self._bar: Any = None
        self._task: Any = None

    def start(self, executor: str) -> None:
        """Show the bar."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        super().start(executor)
        self._console = self._console or Console(stderr=True)
        self._bar = Bar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("accepted, {task.fields[runs]} runs"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[on]}"),
            console=self._console,
        )
        self._task = self._bar.add_task(
            "starting", total=1, runs=0, failed=0, rate="- runs/s", on=executor
        )
        self._bar.start()

    def _refresh(self) -> None:
        if self._bar is None:
            return
        s = self.snapshot()
        self._bar.update(
            self._task,
            description=s["phase"],
            total=max(1, s["target"]),
            completed=s["accepted"],
            runs=s["runs"],
            failed=s["failed"],
            rate=f"{s['rate']:.2f} runs/s",
        )

    def set_phase(self, name: str, target: int) -> None:
        """Switch the bar to a new phase."""
        super().set_phase(name, target)
        self._refresh()

    def accepted_so_far(self, accepted: int) -> None:
        """Move the bar."""
        super().accepted_so_far(accepted)
        self._refresh()

    def run_done(self, ok: bool) -> None:
        """Count a run."""
        super().run_done(ok)
        self._refresh()

    def note(self, text: str) -> None:
        """Print the note above the bar."""
        super().note(text)
        if self._bar is not None:
            self._bar.console.print(text)

    def stop(self) -> None:
        """Leave the last state on screen."""
        if self._bar is not None:
            self._refresh()
            self._bar.stop()
            self._bar = None


def make_progress(quiet: bool = False) -> CalibrationProgress:
    """A live bar on a terminal, plain lines otherwise, silent numbers when ``quiet``."""
    if quiet:
        return CalibrationProgress()
    return RichProgress() if sys.stderr.isatty() else PlainProgress()
