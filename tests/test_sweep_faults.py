"""Faults: a sweep killed with SIGKILL and resumed, workers killed mid-sweep (local pool and Dask),
a run that keeps killing its worker, and the same numbers on a real Dask cluster.

The Dask tests start ``dask scheduler`` and ``dask worker`` as subprocesses on 127.0.0.1 (free
ports, no dashboard) and stop them at the end. Workers are killed by the fixture strategy
``Sabotage`` (tests/fixtures/sweep), which SIGKILLs its own process once per marker file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim.sweep as sw
from sim.sweep.executors import DaskExecutor, LocalExecutor
from sim.sweep.store import chunk_dirs
from tests.processes import alive, descendants

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # a hang guard, not a speed limit

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")
CLI = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())"]
BIN = Path(sys.executable).parent


def spec(marker: Path | None = None, **changes):
    data = {
        "name": "faults",
        "scenario": FIXTURE,
        "seed": 9,
        "replicates": 3,
        "steps": 20,
        "parameters": [
            {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.0, 0.2, 0.4]}
        ],
        "output": {"every": 10},
    }
    if marker is not None:
        data["set"] = {"firms.Probe.levers.marker": str(marker)}
    data.update(changes)
    return data


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.df("market"), b.df("market"))
    pd.testing.assert_frame_equal(a.df("firms"), b.df("firms"))


@pytest.fixture(scope="module")
def marker_reference(tmp_path_factory):
    """The sweep with its kill marker already used: nothing is killed."""
    d = tmp_path_factory.mktemp("marker")
    marker = d / "killed"
    marker.write_text("used")
    return marker, sw.run(spec(marker), d / "ref", executor="serial")


# -- the sweep process killed -----------------------------------------------------------------


def test_sigkill_mid_sweep_then_rerun_gives_each_run_once(tmp_path):
    """Kill -9 a `cxsim sweep` on a pool of one worker after 6 of 12 runs; rerun; each run is
    there once, with the numbers of a serial sweep (so this is also pool size 1 == serial)."""
    hold = tmp_path / "hold"
    hold.write_text("runs of the second half wait while this file exists")
    # hold="" runs finish; hold=<file> runs wait at step 5 while the file exists: the kill
    # always lands after the first 6 runs (one chunk each) and before the last 6
    data = spec(
        replicates=2,
        parameters=[
            {"key": "firms.Probe.levers.hold", "name": "hold", "values": ["", str(hold)]},
            {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.0, 0.2, 0.4]},
        ],
    )
    sweep_file = tmp_path / "resume.toml"
    sweep_file.write_text(sw.load_spec(data).to_toml())
    out = tmp_path / "out"
    cmd = [
        *CLI,
        "sweep",
        str(sweep_file),
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "1",
        "--chunk-runs",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # generous: a loaded machine may be slow
        while len(chunk_dirs(out)) < 6 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)  # the held run is now running in the worker
        workers = descendants(proc.pid)  # the pool's workers and their fork server
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(chunk_dirs(out)) == 6 and manifest["counts"]["ok"] == 6
    assert manifest["status"] == "incomplete"
    deadline = time.monotonic() + 120  # the orphaned pool worker notices and exits
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(alive(p) for p in workers)

    hold.unlink()
    res = sw.run(sweep_file, out, executor="serial")  # what the rerun of the command does
    assert (res.report.skipped, res.report.ok, res.report.failed) == (6, 6, 0)
    counts = res.sql("SELECT count(*), count(DISTINCT run_id) FROM _runs_all").fetchall()
    assert counts == [(12, 12)]
    per_run = res.sql("SELECT run_id, count(*) AS n FROM firms GROUP BY 1").df()
    assert len(per_run) == 12 and set(per_run["n"]) == {2 * 2}  # 2 firms x steps 10, 20
    assert [s["status"] for s in res.manifest["sessions"]] == ["killed", "complete"]
    reference = sw.run(data, tmp_path / "ref", executor="serial")
    assert_same(reference, res)


# -- workers killed ---------------------------------------------------------------------------


def test_killed_pool_workers_have_their_runs_retried(marker_reference, tmp_path):
    used, reference = marker_reference
    marker = used.parent / "killed-local"
    points = [
        {"label": f"inflation {x}", "set": {"firms.Probe.levers.inflation": x}}
        for x in (0.0, 0.2, 0.4)
    ]
    points.append({"label": "killer", "set": {"firms.Probe.levers.kill_always": True}})
    res = sw.run(
        spec(marker, replicates=1, parameters=[], design={"kind": "list", "points": points}),
        tmp_path / "k",
        executor=LocalExecutor(2, max_deaths=1),
    )
    assert marker.exists(), "the kill-once sabotage did not fire"
    runs = res.runs().set_index("label")
    assert runs.loc["killer", "status"] == "error"
    assert "died once running it alone" in runs.loc["killer", "error"]
    assert (res.report.ok, res.report.failed) == (3, 1)
    assert runs["attempts"].max() >= 2
    # the other runs have the numbers they have without any kill: run ids and seeds depend on
    # the point and replicate only, and the reference (same points, marker already taken) ran
    # in this process
    ref = reference.df("firms")
    ref = ref[ref["replicate"] == 0].drop(columns=["point_id", "point", "inflation"])
    got = res.df("firms").drop(
        columns=[
            "point_id",
            "point",
            "firms.Probe.levers.inflation",
            "firms.Probe.levers.kill_always",
        ],
        errors="ignore",
    )
    key = ["run_id", "step", "firm"]
    pd.testing.assert_frame_equal(
        ref.sort_values(key).reset_index(drop=True), got.sort_values(key).reset_index(drop=True)
    )


def killer_spec(marker_reference) -> dict:
    """Five runs in a list design, then a sixth that kills its worker every time (the kill-once
    marker is spent: only the killer kills); one worker cuts them into two batches of three."""
    used, _ = marker_reference
    points = [
        {"label": f"inflation {x}", "set": {"firms.Probe.levers.inflation": x}}
        for x in (0.0, 0.1, 0.2, 0.3, 0.4)
    ]
    points.append({"label": "killer", "set": {"firms.Probe.levers.kill_always": True}})
    return spec(used, replicates=1, parameters=[], design={"kind": "list", "points": points})


def assert_others_as_alone(data: dict, res, tmp_path: Path) -> None:
    """The runs of ``res`` other than the killer have the numbers they have without it, run
    serially (run ids come from the point)."""
    data = {**data, "design": {**data["design"], "points": data["design"]["points"][:-1]}}
    alone = sw.run(data, tmp_path / "serial", executor="serial")
    key = ["run_id", "step", "firm"]
    drop = ["point_id", "point", "firms.Probe.levers.kill_always"]
    tables = [r.df("firms").drop(columns=drop, errors="ignore") for r in (alone, res)]
    expected, got = (t.sort_values(key).reset_index(drop=True) for t in tables)
    pd.testing.assert_frame_equal(expected, got)


def test_a_batch_that_kills_its_worker_is_halved_down_to_the_run(marker_reference, tmp_path):
    """One worker steps two batches of three runs; the second holds a run that kills its worker
    every time. Retried alone, that batch is cut in halves, each retried alone in turn, so its
    two other runs finish (in a batch of their own where they can) and only the killer fails:
    three deaths (the batch, the half holding the killer, the killer alone)."""
    data = killer_spec(marker_reference)
    executor = LocalExecutor(1, max_deaths=1)
    res = sw.run(data, tmp_path / "k", executor=executor)
    runs = res.runs().set_index("label")
    assert (res.report.ok, res.report.failed) == (5, 1)
    assert runs.loc["killer", "status"] == "error"
    assert "died once running it alone" in runs.loc["killer", "error"]
    assert executor.restarts == 3
    assert runs.loc["inflation 0.4", "attempts"] == 3  # its batch, its half, itself
    assert runs.loc["inflation 0.0", "attempts"] == 1  # the first batch ran once
    assert_others_as_alone(data, res, tmp_path)


# -- Dask: a real scheduler and workers on loopback -------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    procs.append(
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--death-timeout",
                "60",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    )
    try:
        with Client(address, timeout=300) as client:
            client.wait_for_workers(2, timeout=600)
        yield address
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


def test_dask_cluster_gives_the_same_numbers(dask_cluster, tmp_path):
    serial = sw.run(spec(), tmp_path / "serial", executor="serial")
    dask = sw.run(spec(), tmp_path / "dask", executor=DaskExecutor(dask_cluster))
    assert dask.report.ok == 9 and dask_cluster in dask.report.executor
    assert_same(serial, dask)  # and serial == local pools: tests/test_sweep_run.py
    assert len(set(dask.runs()["worker"])) == 2


def test_dask_local_steps_the_pools_batches_to_the_same_numbers(tmp_path, monkeypatch):
    """``--dask local`` (a LocalCluster, what the CLI builds) gets the batches the local pool
    gets, markets of built-in strategies deciding at once, and gives the same numbers."""
    import sim.sweep.runner as runner
    from sim.sweep.worker import RunBatch

    cut: list[list] = []
    make = runner.make_batches
    monkeypatch.setattr(
        runner, "make_batches", lambda *a, **k: cut.append(make(*a, **k)) or cut[-1]
    )
    data = {
        "name": "dask-local",
        "scenario": "overpromise_vs_honest",
        "seed": 4,
        "replicates": 4,
        "steps": 12,
        "set": {"market.customers": 300},
        "parameters": [
            {
                "key": "firms.Big Promises.levers.inflation",
                "name": "inflation",
                "values": [0, 0.5, 1],
            }
        ],
        "output": {"every": 4},
    }
    pool = sw.run(data, tmp_path / "pool", executor=LocalExecutor(2))
    with DaskExecutor("local", 2) as executor:  # two sweeps, one cluster: started once
        client = executor.client
        dask = sw.run(data, tmp_path / "dask", executor=executor)
        again = sw.run(data, tmp_path / "again", executor=executor)
        assert executor.client is client and client.status == "running"
    assert executor.client is None and client.status == "closed"
    assert pool.report.ok == dask.report.ok == again.report.ok == 12
    assert_same(pool, dask)
    assert_same(pool, again)
    sizes = [[len(b.tasks) for b in batches] for batches in cut]
    assert all(isinstance(b, RunBatch) for batches in cut for b in batches)
    assert sizes[0] == sizes[1] and len(sizes[0]) < 12  # batched alike
    assert len(set(dask.runs()["worker"])) == 2


def test_a_batch_that_kills_dask_workers_is_halved_down_to_the_run(marker_reference, tmp_path):
    """On a LocalCluster of one worker, the second of two batches of three runs holds a run that
    kills its worker every time. The scheduler gives up on that batch (``KilledWorker``, after
    ``allowed-failures`` + 1 deaths); the executor cuts it in halves that go on as tasks of their
    own, down to the run that kills: five runs finish, with their numbers alone, and only the
    killer fails. Before, the whole batch was recorded as failed (three runs)."""
    import dask

    data = killer_spec(marker_reference)
    # two deaths a task, not four: the batch, the half holding the killer, the killer
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        executor = DaskExecutor("local", 1)
        res = sw.run(data, tmp_path / "k", executor=executor)
    runs = res.runs().set_index("label")
    assert (res.report.ok, res.report.failed) == (5, 1)
    assert runs.loc["killer", "status"] == "error"
    assert "KilledWorker" in runs.loc["killer", "error"]
    assert executor.halved == 2  # the batch of three, then its half of two
    assert_others_as_alone(data, res, tmp_path)


def test_dask_local_leaves_port_8787_to_a_cluster_already_there():
    """A LocalCluster's scheduler serves /health and /metrics over HTTP even without its
    dashboard, on Dask's dashboard port 8787 unless told otherwise: beside a cluster the user
    already runs, ``--dask local`` warned "Port 8787 is already in use". It takes a port of its
    own now (and warned, before, with 8787 held as here)."""
    import warnings

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen()
    except OSError:
        pass  # something else holds it already: the same situation
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            with DaskExecutor("local", 1) as executor:
                assert executor.client.scheduler_info()["workers"]
    finally:
        holder.close()


def test_a_killed_dask_worker_is_restarted_and_its_runs_rerun(
    dask_cluster, marker_reference, tmp_path
):
    used, reference = marker_reference
    marker = used.parent / "killed-dask"
    res = sw.run(spec(marker), tmp_path / "dk", executor=DaskExecutor(dask_cluster))
    assert marker.exists(), "the sabotage did not fire"
    assert res.report.ok == 9 and res.report.failed == 0
    assert_same(reference, res)


def test_a_sweep_from_other_rules_is_not_resumed(tmp_path, monkeypatch) -> None:
    """Results made by another version of the model's code are not mixed in on resume: the
    folder says the rules changed, and nothing is run or deleted."""
    import sim.codehash
    import sim.sweep
    from sim.sweep.store import SweepStoreError

    study = spec(replicates=1, steps=10)
    out = tmp_path / "res"
    sim.sweep.run(study, out=out, executor="serial")
    before = sorted(p.name for p in out.rglob("*"))
    monkeypatch.setattr(sim.codehash, "model_code_hash", lambda: "another-version")
    monkeypatch.setattr("sim.sweep.plan.model_code_hash", lambda: "another-version")
    with pytest.raises(SweepStoreError, match="the model's code"):
        sim.sweep.run(study, out=out, executor="serial")
    assert sorted(p.name for p in out.rglob("*")) == before
