"""How the local pool's workers start (sim.sweep.context): forked from the sweep's own process
when that process is warm (it holds the model and the worker module, and runs no other Python
thread), from the fork server otherwise; the numbers are the same whichever.

Each case runs in a fresh interpreter, so that what the process has imported and which threads
it runs are known (the test process's own depend on the tests before)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml"

WARM = f"""
import gc, io, json, os, signal, sys, tempfile, threading
from pathlib import Path

import sim.sweep as sw
from sim.sweep.context import worker_context
from sim.sweep.executors import LocalExecutor
from sim.sweep.progress import PlainProgress
from sim.sweep.worker import RunResult


def spec(name):
    return {{
        "name": name,
        "scenario": {str(FIXTURE)!r},
        "seed": 5,
        "replicates": 2,
        "steps": 6,
        "parameters": [{{"key": "firms.Probe.levers.inflation", "values": [0.0, 0.3]}}],
    }}


def probe(task):
    loaded = "sim.sweep.warm" in sys.modules
    return RunResult(run_id=task.run_id, status="ok", error=repr(loaded),
                     worker=str(os.getppid()))


def frozen(task):
    return RunResult(run_id=task.run_id, status="ok", error=str(gc.get_freeze_count()))


class During:
    def start(self, *args):
        self.frozen = gc.get_freeze_count()

    def update(self, result):
        pass

    def stop(self):
        pass


def die(task):
    os.kill(os.getpid(), signal.SIGTERM)


def firms(res):
    frame = res.df("firms").sort_values(["run_id", "step", "firm"])
    return frame[["run_id", "step", "firm", "customers", "nps", "trust", "cash"]].to_json()


if __name__ == "__main__":
    out = {{}}
    with tempfile.TemporaryDirectory() as tmp:
        serial = sw.run(spec("s"), Path(tmp) / "s", executor="serial")  # the process is warm
        pool = LocalExecutor(2)
        during = During()
        forked = sw.run(spec("f"), Path(tmp) / "f", executor=pool, progress=during)
        out["main_frozen"] = [during.frozen, gc.get_freeze_count()]
        out["auto"] = pool.start_method
        out["same_as_serial"] = firms(forked) == firms(serial)
        # the plain progress lines' timer starts after the pool's workers were forked
        plain = LocalExecutor(2)
        lines = io.StringIO()
        sw.run(spec("q"), Path(tmp) / "q", executor=plain, progress=PlainProgress(lines, 0.01))
        out["plain"] = [plain.start_method, lines.getvalue().splitlines()[-1].split()[1]]
        from sim.sweep.plan import build_plan

        tasks = build_plan(spec("p")).tasks
        with LocalExecutor(2) as ex:
            seen = list(ex.map(probe, tasks))
        out["second"] = ex.start_method  # the first pool left no thread behind
        out["parents"] = sorted({{int(r.worker) == os.getpid() for r in seen}})
        out["warm_module"] = sorted({{r.error for r in seen}})
        with LocalExecutor(2) as ex:  # not through sw.run: this process is not frozen
            out["fork_frozen"] = min(int(r.error) for r in ex.map(frozen, tasks))
        # a worker forked from a process that turns SIGTERM into Ctrl-C (as ``cxsim sweep``
        # does) still dies of SIGTERM: the pool can stop its workers
        signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        with LocalExecutor(1, start="fork", max_deaths=1) as ex:
            out["sigterm"] = [r.error for r in ex.map(die, tasks[:1])]
        ticker = threading.Event()
        thread = threading.Thread(target=ticker.wait, daemon=True)
        thread.start()
        out["with_a_thread"] = worker_context().get_start_method()
        ticker.set()
        thread.join()
        server = LocalExecutor(2, start="forkserver")
        served = sw.run(spec("v"), Path(tmp) / "v", executor=server)
        out["asked"] = server.start_method
        with server:
            out["server_frozen"] = min(int(r.error) for r in server.map(frozen, tasks))
        out["server_same_as_serial"] = firms(served) == firms(serial)
        out["after_a_server"] = worker_context().get_start_method()
    print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_warm_process_forks_its_workers_with_the_same_numbers(tmp_path: Path) -> None:
    script = tmp_path / "warm.py"
    script.write_text(WARM)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["auto"] == "fork"
    assert (
        out["plain"][0] == "fork" and out["plain"][1].split("/")[0] == out["plain"][1].split("/")[1]
    )
    assert out["same_as_serial"] is True
    assert out["second"] == "fork"
    assert out["parents"] == [True]  # the workers are this process's children
    assert out["warm_module"] == ["False"]  # ... not the fork server's, which never started
    assert len(out["sigterm"]) == 1 and "worker process died" in out["sigterm"][0]
    assert out["with_a_thread"] == "forkserver"
    assert out["asked"] == "forkserver"
    assert out["server_same_as_serial"] is True
    assert out["after_a_server"] == "forkserver"  # a server once started is kept
    # the objects a worker inherits are out of the collector's passes, forked from this process
    # or from the fork server; this process's only while a sweep runs
    assert out["fork_frozen"] > 100_000
    assert out["server_frozen"] > 100_000
    assert out["main_frozen"][0] > 100_000 and out["main_frozen"][1] == 0


def test_a_sweep_leaves_the_collector_as_it_found_it() -> None:
    import gc

    from sim.sweep.context import collector_frozen

    def frozen(obj: object) -> bool:
        """Whether the collector's passes leave ``obj`` out: ``gc.get_objects`` lists the objects
        of its generations, not the frozen ones. Asked of objects rather than read off
        ``gc.get_freeze_count``, which another thread of this process (tqdm's monitor, which a
        dependency starts, wakes every 10 s) lowers whenever it drops an object frozen here."""
        return all(o is not obj for o in gc.get_objects())

    held: list[int] = []  # tracked by the collector, as every container is
    assert gc.get_freeze_count() == 0
    with collector_frozen():
        made: list[int] = []
        assert frozen(held) and not frozen(made)  # what it found is frozen, what is new is not
    assert not frozen(held) and gc.get_freeze_count() == 0
    gc.freeze()  # a process that froze objects itself keeps them as it froze them
    try:
        late: list[int] = []  # made after this process's own freeze
        with collector_frozen():
            assert frozen(held) and not frozen(late)  # it froze nothing more
        assert frozen(held) and not frozen(late)  # and unfroze nothing on its way out
    finally:
        gc.unfreeze()


def test_a_cold_process_uses_the_fork_server() -> None:
    code = (
        "from sim.sweep.context import worker_context\n"
        "print(worker_context().get_start_method())\n"
        "import sim.model, sim.sweep.worker\n"
        "print(worker_context().get_start_method())\n"
        "print(worker_context('sim.ui.replicates').get_start_method())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    assert done.stdout.split() == ["forkserver", "fork", "forkserver"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS starts one thread anyway")
@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_a_pool_worker_runs_numpy_blas_on_one_thread(start: str) -> None:
    """Two workers' BLAS threads, one per core each, would take turns on the cores; the workers
    are the parallelism (sim.sweep.context.one_blas_thread). The process that starts the pool
    keeps its own two. The variables that would set one thread everywhere (Dask sets them in
    the test process) are left out of the fresh interpreter's environment."""
    code = (
        "import json, numpy, threadpoolctl\n"
        "threadpoolctl.threadpool_limits(2, user_api='blas')\n"
        "from sim.sweep.context import worker_context\n"
        "from sim.sweep.executors import local_pool\n"
        f"with local_pool(1, worker_context(start={start!r})) as pool:\n"
        "    worker = pool.submit(threadpoolctl.threadpool_info).result()\n"
        "blas = lambda info: [i['num_threads'] for i in info if i['user_api'] == 'blas']\n"
        "print(json.dumps([blas(threadpoolctl.threadpool_info()), blas(worker)]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True,
        env=env,
    )  # fmt: skip
    parent, worker = json.loads(done.stdout.strip().splitlines()[-1])
    assert parent and set(parent) == {2}, parent
    assert worker and set(worker) == {1}, worker


def test_an_unknown_start_method_is_refused() -> None:
    from sim.sweep.context import worker_context
    from sim.sweep.executors import LocalExecutor

    with pytest.raises(ValueError, match="start: expected one of auto, fork, forkserver, spawn"):
        LocalExecutor(2, start="thread")
    with pytest.raises(ValueError, match="got 'x'"):
        worker_context(start="x")


ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "experiments" / "calibration"

FIRST = """
import json, os, sys
from multiprocessing import forkserver

HEAVY = ("pandas", "pyarrow", "pyabc", "sim.model", "sim.sweep.executors", "sim.sweep.store")


def started():  # the fork server asked for: what this process had imported by then
    print(json.dumps(sorted(m for m in HEAVY if m in sys.modules)), flush=True)
    os._exit(0)


forkserver.ensure_running = started
{patch}
from sim.cli import main

main({argv!r})
print("null")  # it never asked: its workers were forked from it
"""


def heavy_before_server(argv: list[str], patch: str = "") -> list[str] | None:
    """What ``cxsim argv`` had imported when it asked for its workers' fork server, in a fresh
    interpreter (it stops there); None if it never asked."""
    code = FIRST.format(argv=argv, patch=patch)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


POOLED = {
    "sweep": ["sweep", "{spec}", "--quiet", "--out", "{out}"],
    "calibrate": [
        "calibrate",
        str(CALIBRATION / "recovery_market.toml"),
        str(CALIBRATION / "example_retention.csv"),
        str(CALIBRATION / "example_calibration.toml"),
        *("--population", "10", "--generations", "1", "--quiet"),
        *("--out", "{out}"),
    ],
    "robustness": [
        *("robustness", "overpromise_vs_honest", "--worlds", "4", "--replicates", "1"),
        *("--customers", "200", "--no-charts", "--quiet", "--out", "{out}"),
    ],
}


@pytest.mark.parametrize("command", sorted(POOLED))
def test_a_pooled_command_starts_its_fork_server_before_its_own_imports(
    command: str, tmp_path: Path
) -> None:
    """``cxsim sweep``, ``calibrate`` and ``robustness`` ask for the fork server first, so that
    its warm-up (the package's imports and kernels, 1.3-1.5 s) runs while the command imports
    pandas, pyabc and the sweep layer and plans, instead of after (docs/performance_rounds.md,
    twelfth round). Before, ``cxsim sweep``'s error handling imported the executors (pandas,
    the model) before the command started the server, and the other two started it only with
    their executor."""
    spec = tmp_path / "start.toml"
    spec.write_text(
        f'name = "start"\nscenario = "{FIXTURE}"\nreplicates = 1\nsteps = 5\n'
        '[[parameters]]\nkey = "firms.Probe.levers.inflation"\nvalues = [0.0, 0.3]\n'
    )
    argv = [a.format(out=tmp_path / "out", spec=spec) for a in POOLED[command]]
    assert heavy_before_server(argv) == []
    assert not (tmp_path / "out").exists()  # stopped before anything was written
    # the control: without the early start, the command does not ask for the server before
    # those imports (it forks its workers from itself, which has imported them: 3.6-4.5 s
    # against 3.2-3.7 for a sweep of 160 runs, the workers loading the kernels themselves)
    late = "import sim.sweep.context as c\nc.prestart = lambda *a, **k: None\n"
    assert heavy_before_server(argv, late) is None


STOPPED = """
import json, os
from multiprocessing import forkserver

servers = []
ensure_running = forkserver.ensure_running


def recorded():
    ensure_running()
    servers.append(forkserver._forkserver._forkserver_pid)


forkserver.ensure_running = recorded
{patch}
from sim.cli import main

code = main({argv!r})
alive = []
for pid in servers:
    try:
        os.kill(pid, 0)
        alive.append(pid)
    except ProcessLookupError:
        pass
print(json.dumps({{"code": code, "servers": len(servers), "alive": alive}}))
"""


@pytest.mark.parametrize("command", ["sweep", "calibrate"])
def test_a_pooled_command_ending_on_a_user_error_stops_its_fork_server(
    command: str, tmp_path: Path
) -> None:
    """The fork server a command started first is stopped when the command ends on a user
    error (exit 2), in the middle of its warm-up: it holds the command's stdout and stderr,
    so a pipe or a capture of the output waited for the warm-up's end (1.6 s instead of 0.6
    for a sweep file that does not exist). The control: without the stop, it is still
    running when the command returns."""
    argv = {
        "sweep": ["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "out")],
        "calibrate": [
            *("calibrate", str(tmp_path / "missing.toml"), "data.csv", "cal.toml"),
            *("--out", str(tmp_path / "out")),
        ],
    }[command]

    def run(patch: str = "") -> dict:
        done = subprocess.run(
            [sys.executable, "-c", STOPPED.format(argv=argv, patch=patch)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        assert "missing.toml" in done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert run() == {"code": 2, "servers": 1, "alive": []}
    kept = run("import sim.sweep.context as c\nc.stop_server = lambda: None\n")
    assert kept["code"] == 2 and kept["servers"] == 1 and len(kept["alive"]) == 1
