"""Robustness studies running in the background of a long-lived process (the UI server).

A :class:`StudyJob` runs :func:`~sim.robustness.study.run_study` on a thread of its own, so a
browser tab that started it can be closed: the runs go on, stream to the study folder, and a tab
opened later finds the job (by folder, :func:`job_for`) with its progress, or its finished
results on disk. Cancelling stops it at the next finished run; the finished runs are kept and a
new start resumes them.

Each job writes one line to the process's standard error when it starts and one when it ends
(complete, cancelled or failed, with the error's traceback): the UI server's terminal, or its log,
says what ran in the background and how it ended.

This module never imports the UI.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.robustness.study import Study, run_study

__all__ = ["StudyJob", "job_for", "start_job"]

_JOBS: dict[str, StudyJob] = {}
_LOCK = threading.Lock()


class _Cancelled(KeyboardInterrupt):
    """Raised from the progress callback to stop the sweep runner as Ctrl-C would."""


@dataclass
class StudyJob:
    """A study running (or finished) on a background thread.

    Attributes
    ----------
    study, folder
        What runs and where it is stored.
    total, skipped, done, failed
        Runs in the study, found on disk at the start, finished in this job, failed in it.
    state
        ``running``, ``complete``, ``cancelled`` or ``failed``.
    error
        The error of a failed job.
    """

    study: Study
    folder: Path
    workers: int | None = None
    executor: Any = None
    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    state: str = "running"
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    # -- the sweep runner's Progress protocol ------------------------------------------------

    def start(self, total: int, done: int, failed: int, executor: str) -> None:
        """Called by the runner when the runs start."""
        self.total, self.skipped = total, done
        self._say(f"started, {total - done} of {total} runs to go, on {executor}")

    def update(self, result: Any) -> None:
        """Called by the runner for every finished run."""
        self.done += 1
        self.failed += result.status != "ok"
        if self._cancel.is_set():
            raise _Cancelled

    def stop(self) -> None:
        """Called by the runner at the end."""

    # -- control ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Still running."""
        return self.state == "running"

    @property
    def fraction(self) -> float:
        """Share of the study's runs on disk, 0..1."""
        return (self.skipped + self.done) / self.total if self.total else 0.0

    @property
    def seconds(self) -> float:
        """Time since the job started (until it ended)."""
        return (self.ended or time.monotonic()) - self.started

    def cancel(self) -> None:
        """Stop after the next finished run (the finished ones are kept)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the thread ends."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _say(self, what: str) -> None:
        print(f"cxsim study {self.folder.name}: {what}", file=sys.stderr, flush=True)

    def _run(self) -> None:
        try:
            run_study(
                self.study,
                self.folder,
                executor=self.executor,
                workers=self.workers,
                progress=self,
            )
            self.state = "complete"
        except KeyboardInterrupt:
            self.state = "cancelled"
        except Exception as e:  # reported on the page that asks
            self.state, self.error = "failed", f"{type(e).__name__}: {e}"
            self._say("failed\n" + traceback.format_exc().rstrip())
        finally:
            self.ended = time.monotonic()
        self._say(
            f"{self.state}: {self.done} runs in {self.seconds:.0f} s"
            f" ({self.skipped} found on disk, {self.failed} failed)"
        )


def job_for(folder: str | Path) -> StudyJob | None:
    """The job (running or ended) of a study folder in this process, if any."""
    with _LOCK:
        return _JOBS.get(str(Path(folder).resolve()))


def start_job(
    study: Study, folder: str | Path, *, workers: int | None = None, executor: Any = None
) -> StudyJob:
    """Start a study on a background thread, or return the one already running in ``folder``."""
    key = str(Path(folder).resolve())
    with _LOCK:
        job = _JOBS.get(key)
        if job is not None and job.running:
            return job
        job = StudyJob(study, Path(folder), workers=workers, executor=executor)
        job.total = study.runs
        job._thread = threading.Thread(target=job._run, name=f"cxsim-study-{key}", daemon=True)
        _JOBS[key] = job
        job._thread.start()
        return job
