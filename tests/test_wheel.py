"""A built wheel carries what it needs: installed in a fresh venv, ``cxsim run baseline`` works.

The wheel is built from a copy of the sources (``pip wheel --no-deps --no-build-isolation``, so
nothing is downloaded: the dev extra installs the setuptools it needs) and installed with
``--no-index`` into a new venv that borrows this venv's packages through a ``.pth`` line (the
dependencies are not reinstalled). Then, from a folder with no ``scenarios/``, it must find the
shipped scenarios, lessons and model document inside the installed package.

The building, installing and running are tests/wheel_build.py's, in a process that the session
starts before its first test (tests/conftest.py): the installed copy's first ``cxsim run``
compiles its kernels, about a minute on one core, while the other tests go on. These tests read
what each command printed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from sim.resources import PACKAGED, SOURCES
from tests import wheel_build

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """What tests/wheel_build.py recorded: the wheel, the venv's site-packages, each command."""
    return wheel_build.result()


def _output(built: dict[str, Any], name: str) -> str:
    """The standard output of the command ``name``, which must have succeeded."""
    done = built["commands"].get(name)
    assert done is not None, (
        f"{name}: not run ({built.get('error') or 'an earlier command failed'}): "
        f"{built['commands']}"
    )
    assert done["returncode"] == 0, (
        f"{done['argv']}:\n{done['stdout'][-2000:]}\n{done['stderr'][-3000:]}"
    )
    return done["stdout"]


@pytest.fixture(scope="module")
def wheel(built: dict[str, Any]) -> Path:
    _output(built, "wheel")
    assert "wheel" in built, built.get("error")
    return Path(built["wheel"])


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


def test_an_installed_wheel_runs_baseline_from_another_folder(built: dict[str, Any]) -> None:
    assert "error" not in built, built["error"]
    _output(built, "install")
    site = _output(built, "site").strip()
    where = _output(built, "where").split()
    assert where[0].startswith(site), where  # the installed copy, not the checkout
    assert int(where[1]) == len(list((REPO / "docs" / "lessons").glob("0*.md")))
    assert where[2].startswith(site) and Path(where[2]).is_file()
    listed = _output(built, "list")
    names = sorted(line.split()[0] for line in listed.splitlines())
    assert names == sorted(p.stem for p in (REPO / "scenarios").glob("*.toml"))
    ran = _output(built, "run")
    assert "baseline: after 5 steps" in ran
