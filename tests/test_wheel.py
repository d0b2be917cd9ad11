"""A built wheel carries what it needs: installed in a fresh venv, ``cxsim run baseline`` works.

The wheel is built from a copy of the sources (``pip wheel --no-deps --no-build-isolation``, so
nothing is downloaded: the dev extra installs the setuptools it needs) and installed with
``--no-index`` into a new venv that borrows this venv's packages through a ``.pth`` line (the
dependencies are not reinstalled). Then, from a folder with no ``scenarios/``, it must find the
shipped scenarios, lessons and model document inside the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from sim.resources import PACKAGED, SOURCES

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CXSIM_SCENARIOS")}
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
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
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--wheel-dir",
            str(work / "dist"),
        ],
        cwd=src,
    )
    (built,) = (work / "dist").glob("cxsim-*.whl")
    return built


def test_the_wheel_holds_resources_license_and_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sim/py.typed" in names
    assert f"sim/{PACKAGED}/scenarios/baseline.toml" in names
    assert f"sim/{PACKAGED}/MODEL.md" in names
    shipped_lessons = {n for n in names if n.startswith(f"sim/{PACKAGED}/lessons/")}
    assert len(shipped_lessons) == len(list((REPO / SOURCES["lessons"]).glob("*.md")))
    scenarios = {n for n in names if n.startswith(f"sim/{PACKAGED}/scenarios/")}
    assert len(scenarios) == len(list((REPO / "scenarios").glob("*.toml")))
    (license_file,) = [n for n in names if n.endswith("licenses/LICENSE")]
    metadata = zipfile.ZipFile(wheel).read(license_file.replace("licenses/LICENSE", "METADATA"))
    assert "License-Expression: MIT" in metadata.decode()
    assert "MIT License" in zipfile.ZipFile(wheel).read(license_file).decode()
    assert not [n for n in names if "__pycache__" in n or n.endswith((".nbi", ".nbc"))]


def test_an_installed_wheel_runs_baseline_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path
    ).stdout.strip()
    # the dependencies come from this venv (a .pth line adds its site-packages, after the
    # new venv's own: the installed wheel, not this checkout, provides ``sim``)
    Path(site, "_borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], tmp_path
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(
        [
            str(python),
            "-c",
            "import sim, sim.lessons, sim.docs;"
            "print(sim.__file__); print(len(sim.lessons.load_lessons())); print(sim.docs.MODEL_MD)",
        ],
        elsewhere,
    ).stdout.split()
    assert where[0].startswith(site), where  # the installed copy, not the checkout
    assert int(where[1]) == len(list((REPO / "docs" / "lessons").glob("0*.md")))
    assert where[2].startswith(site) and Path(where[2]).is_file()
    cxsim = env_dir / "bin" / "cxsim"
    listed = _run([str(cxsim), "list"], elsewhere).stdout
    names = sorted(line.split()[0] for line in listed.splitlines())
    assert names == sorted(p.stem for p in (REPO / "scenarios").glob("*.toml"))
    ran = _run([str(cxsim), "run", "baseline", "--steps", "5", "--quiet"], elsewhere).stdout
    assert "baseline: after 5 steps" in ran
