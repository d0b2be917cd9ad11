"""Build step of the wheel: copy the scenarios, lessons and model document into the package.

Everything else about the package is declared in pyproject.toml. The repository keeps
``scenarios/`` and ``docs/`` at the top; a wheel must carry them inside ``sim`` so that an
installed package reaches them through ``importlib.resources`` (see ``sim/resources.py``, which
names what is copied and where it is found). An editable install reads them in place instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _resources():  # sim/resources.py by path: the package's dependencies are not installed yet
    spec = importlib.util.spec_from_file_location("_cxsim_resources", ROOT / "sim" / "resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithResources(build_py):
    """``build_py`` that also copies :data:`sim.resources.SOURCES` into ``sim/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository's files in place
        resources = _resources()
        target = Path(self.build_lib) / "sim" / resources.PACKAGED
        for name, source in resources.SOURCES.items():
            src, dst = ROOT / source, target / name
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildPyWithResources})
