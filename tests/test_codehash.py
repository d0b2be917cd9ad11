"""The fingerprint of the model's code (``sim.codehash``): it changes with a rule, not with the
layers that only run, present or write the model's results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.codehash import PACKAGE, model_code_hash, tree_hash


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    copy = tmp_path / "sim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


def edited(package: Path, relative: str) -> str:
    path = package / relative
    path.write_text(path.read_text() + "\n# an edit\n")
    return tree_hash(package)


def test_the_hash_is_the_packages(package: Path) -> None:
    assert tree_hash(package) == model_code_hash()


@pytest.mark.parametrize(
    "relative", ["rules/fused.py", "strategies.py", "metrics.py", "params/__init__.py"]
)
def test_a_rule_or_a_metric_changes_it(package: Path, relative: str) -> None:
    before = tree_hash(package)
    assert edited(package, relative) != before


@pytest.mark.parametrize(
    "relative", ["cli.py", "plots.py", "docs.py", "sweep/plan.py", "ui/app.py", "version.py"]
)
def test_the_command_line_charts_and_sweeps_do_not(package: Path, relative: str) -> None:
    """A change to the command line said to a resumed sweep that "the rules changed since those
    runs" (cli.py was hashed until 5 December)."""
    before = tree_hash(package)
    assert (package / relative).exists()
    assert edited(package, relative) == before
