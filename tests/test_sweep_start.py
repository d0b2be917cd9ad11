"""A sweep whose executor cannot start writes nothing: no new results folder, no session in an
existing one, and a folder that existed before is never deleted."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import sim.sweep as sw
from sim.cli import main
from sim.sweep.executors import ExecutorError, SerialExecutor
from tests.ui_helpers import free_port

FIXTURE = Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml"


def spec() -> dict:
    return {
        "name": "start",
        "scenario": str(FIXTURE),
        "seed": 3,
        "replicates": 1,
        "steps": 5,
        "parameters": [{"key": "firms.Probe.levers.inflation", "values": [0.0, 0.3]}],
    }


class CannotStart(SerialExecutor):
    """An executor whose workers never come up (as a Dask scheduler that is not there)."""

    def __enter__(self) -> CannotStart:
        raise ExecutorError("no workers: the cluster did not start")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_no_folder_is_created_when_the_executor_cannot_start(tmp_path: Path) -> None:
    out = tmp_path / "results" / "start"
    with pytest.raises(ExecutorError, match="did not start"):
        sw.run(spec(), out, executor=CannotStart())
    assert not out.exists() and not out.parent.exists()


def test_no_temporary_folder_is_left_either(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ExecutorError):
        sw.run(spec(), None, executor=CannotStart())
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_kept_as_it_was(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ExecutorError):
        sw.run(spec(), empty, executor=CannotStart())
    assert empty.is_dir() and list(empty.iterdir()) == []

    done = tmp_path / "done"
    first = sw.run(spec(), done, executor="serial")
    assert first.report.ok == 2
    before = snapshot(done)
    with pytest.raises(ExecutorError):
        sw.run(spec(), done, executor=CannotStart(), retry_failed=True)
    assert snapshot(done) == before  # not even a "failed" session in its manifest


@pytest.mark.slow
def test_cxsim_sweep_with_no_dask_scheduler_says_so_and_leaves_no_folder(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "results"
    spec_file = tmp_path / "start.toml"
    spec_file.write_text(
        f'name = "start"\nscenario = "{FIXTURE}"\nreplicates = 1\nsteps = 5\n'
        '[[parameters]]\nkey = "firms.Probe.levers.inflation"\nvalues = [0.0, 0.3]\n'
    )
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    # --dask-timeout 1: the same refusal as at the default 20 s, without waiting 20 s for it
    argv = ["sweep", str(spec_file), "--dask", address, "--dask-timeout", "1"]
    code = main([*argv, "--out", str(out), "--quiet"])
    assert code == 2
    assert "cannot reach the scheduler within 1 s" in capsys.readouterr().err
    assert not out.exists()


def probe(task):
    """Run in a pool worker: what the worker had loaded before its first task."""
    import sys

    from sim.sweep.worker import RunResult

    loaded = ("sim.sweep.warm" in sys.modules, "sim.model" in sys.modules)
    return RunResult(run_id=task.run_id, status="ok", error=repr(loaded), worker=str(os.getpid()))


def test_pool_workers_start_with_the_package_loaded(tmp_path: Path) -> None:
    """The local pool's fork server imported the package and stepped a tiny batch
    (sim.sweep.warm): workers forked from it do not pay for the imports and kernels each. (A
    warm process forks its workers itself: tests/test_pool_start.py.)"""
    from sim.sweep.executors import LocalExecutor
    from sim.sweep.plan import build_plan

    tasks = build_plan(spec()).tasks
    with LocalExecutor(2, start="forkserver") as ex:
        results = list(ex.map(probe, tasks))
    assert [r.error for r in results] == ["(True, True)"] * len(tasks)
    assert all(int(r.worker) != os.getpid() for r in results)


def test_the_fork_server_does_not_import_scipy_spatial() -> None:
    """The server's warm-up (importing sim.sweep.warm in a fresh interpreter, as the fork server
    does) leaves Mesa's continuous space, and the scipy.spatial it imports, unexecuted: 0.1-0.2 s
    of the serial start of every sweep in a fresh process. The module is still there, and works
    on first use."""
    import subprocess
    import sys

    code = (
        "import sys, sim.sweep.warm as w\n"
        "import mesa\n"
        "print(w.WARMED, 'scipy.spatial' in sys.modules, 'mesa' in sys.modules)\n"
        "from mesa.experimental.continuous_space import ContinuousSpace\n"
        "import scipy.spatial.distance as d\n"
        "print('scipy.spatial' in sys.modules, ContinuousSpace.__module__,"
        " mesa.experimental.continuous_space.continuous_space.cdist is d.cdist)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    before, after = done.stdout.split("\n")[:2]
    assert before == "True False True"
    assert after == "True mesa.experimental.continuous_space.continuous_space True"
