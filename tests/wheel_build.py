"""The work behind tests/test_wheel.py, in a process of its own that starts with the session.

``python tests/wheel_build.py FOLDER`` builds the wheel from a copy of the sources (``pip wheel
--no-deps --no-build-isolation``, so nothing is downloaded: the dev extra installs the setuptools
it needs), installs it with ``--no-index`` into a new venv that borrows this venv's packages
through a ``.pth`` line (the dependencies are not reinstalled), and runs, from a folder with no
``scenarios/``, the commands whose output the tests check. Every command, its exit code and its
output go to ``FOLDER/wheel.json``; it stops at the first command that fails.

The installed copy has no numba cache: its ``cxsim run`` compiles every kernel its market steps,
about a minute on one core, while the suite's own process waits. So ``tests/conftest.py`` starts
this script when the session starts, if the wheel tests are among those to run
(:func:`start`); they wait for it (:func:`result`) and check what it recorded, by the end of
the session long since written. The session's end stops it if it still runs (:func:`stop`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULT = "wheel.json"
TIMEOUT = 600.0
"""Seconds any one command may take (the first ``cxsim run`` compiles its kernels)."""


def _environment() -> dict[str, str]:
    """This environment without what would point the new venv at the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CXSIM_SCENARIOS")}


def build(folder: Path) -> dict[str, Any]:
    """Build, install and run; returns (and writes to ``folder / RESULT``) what happened."""
    sys.path.insert(0, str(REPO))
    from sim.resources import SOURCES

    record: dict[str, Any] = {"commands": {}}
    env = _environment()

    def run(name: str, argv: list[str], cwd: Path) -> bool:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
        record["commands"][name] = {
            "argv": argv,
            "returncode": done.returncode,
            "stdout": done.stdout,
            "stderr": done.stderr,
        }
        return done.returncode == 0

    def steps() -> None:
        src = folder / "src"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc", "_data")
        src.mkdir()
        for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
            shutil.copy2(REPO / name, src / name)
        shutil.copytree(REPO / "sim", src / "sim", ignore=ignore)
        for source in SOURCES.values():  # what setup.py copies into the wheel
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, src / source, ignore=ignore)
            else:
                (src / source).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / source, src / source)
        dist = folder / "dist"
        wheel = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation"]
        if not run("wheel", [*wheel, "-q", "--wheel-dir", str(dist)], src):
            return
        (built,) = dist.glob("cxsim-*.whl")
        record["wheel"] = str(built)

        env_dir = folder / "venv"
        venv.create(env_dir, with_pip=True)
        python = env_dir / "bin" / "python"
        purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
        if not run("site", [str(python), "-c", purelib], folder):
            return
        site = record["commands"]["site"]["stdout"].strip()
        record["site"] = site
        # the dependencies come from this venv (a .pth line adds its site-packages, after the
        # new venv's own: the installed wheel, not this checkout, provides ``sim``)
        Path(site, "_borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
        install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
        if not run("install", [*install, str(built)], folder):
            return
        elsewhere = folder / "elsewhere"
        elsewhere.mkdir()
        where = (
            "import sim, sim.lessons, sim.docs;"
            "print(sim.__file__); print(len(sim.lessons.load_lessons())); print(sim.docs.MODEL_MD)"
        )
        if not run("where", [str(python), "-c", where], elsewhere):
            return
        cxsim = str(env_dir / "bin" / "cxsim")
        if not run("list", [cxsim, "list"], elsewhere):
            return
        run("run", [cxsim, "run", "baseline", "--steps", "5", "--quiet"], elsewhere)

    try:
        steps()
    except Exception as e:  # reported by the test that reads the record
        record["error"] = f"{type(e).__name__}: {e}"
    (folder / RESULT).write_text(json.dumps(record))
    return record


# -- in the test session -------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def start() -> None:
    """Start the build in the background (once per session)."""
    if _STATE:
        return
    folder = Path(tempfile.mkdtemp(prefix="cxsim-wheel-"))
    log = (folder / "build.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(folder)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a test signalling its own process group leaves it be
    )
    _STATE.update(folder=folder, process=process, log=log)


def result(timeout: float = 3 * TIMEOUT) -> dict[str, Any]:
    """What the build recorded, waiting for it (started now if the session did not)."""
    start()
    process = _STATE["process"]
    process.wait(timeout=timeout)
    _STATE["log"].close()
    folder = _STATE["folder"]
    path = folder / RESULT
    assert path.is_file(), (
        f"tests/wheel_build.py exited with {process.returncode} and wrote no {RESULT}:\n"
        + (folder / "build.log").read_text()[-3000:]
    )
    return json.loads(path.read_text())


def stop() -> None:
    """Stop the build if it still runs, and remove its folder."""
    if not _STATE:
        return
    process = _STATE["process"]
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    _STATE["log"].close()
    shutil.rmtree(_STATE["folder"], ignore_errors=True)
    _STATE.clear()


if __name__ == "__main__":
    build(Path(sys.argv[1]))
