"""Writing a run to disk: Parquet series, the resolved scenario and a manifest.

A run folder holds ``model.parquet`` (one row per recorded step), ``firms.parquet`` (one row per
firm per recorded step), ``cohorts.parquet`` (cohort survival), ``scenario.toml`` (the exact
scenario, which ``cxsim run`` accepts) and ``manifest.json`` (scenario name and hash, seed, steps,
package versions, wall time). Folders are written to a temporary sibling and renamed into place,
so an interrupted or failed write never leaves a half-written or clobbered ``--out``.

This module must never import the rules, the UI or the sweep layer.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from sim.codehash import model_code_hash
from sim.scenario import Scenario, scenario_hash

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = [
    "OutputExistsError",
    "package_versions",
    "portable_scenario",
    "prepare_out",
    "write_run",
]

PACKAGES = (
    "cxsim",
    "mesa",
    "numpy",
    "numba",
    "scipy",
    "pandas",
    "networkx",
    "pyarrow",
    "pydantic",
)


class OutputExistsError(FileExistsError):
    """``--out`` already holds something and overwriting was not asked for."""


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages a result depends on, and Python's."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def prepare_out(out: str | Path, force: bool) -> Path:
    """Check that ``out`` may be written: it must not exist or be empty, unless ``force``."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputExistsError(f"{path}: already holds results; use --force to replace them")
    return path


def write_run(
    model: CustomerMarket,
    out: str | Path,
    *,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a finished (or partly run) model's results to the folder ``out``.

    Parameters
    ----------
    model
        The market, after ``run``.
    out
        Target folder; created. An existing non-empty folder is replaced only with ``force``.
    force
        Replace an existing folder (only once the new one is completely written).
    extra
        More manifest entries (e.g. the command line).

    Returns
    -------
    Path
        The folder written.
    """
    path = prepare_out(out, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        model.model_metrics().to_parquet(tmp / "model.parquet", index=False)
        model.firm_metrics().to_parquet(tmp / "firms.parquet", index=False)
        model.cohort_survival().to_parquet(tmp / "cohorts.parquet", index=False)
        scenario_data, inputs = portable_scenario(model.scenario, tmp)
        (tmp / "scenario.toml").write_text(tomli_w.dumps(scenario_data))
        manifest = {
            "scenario": model.scenario.name,
            "scenario_source": str(model.scenario.source_path or ""),
            "scenario_hash": scenario_hash(model.scenario),
            "seed": _seed_of(model),
            "steps": int(model.steps),
            "customers": int(model.n_customers),
            "firms": model.firm_names,
            "dtype": str(model.dtype),
            "model_code": model_code_hash(),
            "wall_seconds": round(model.wall_seconds, 3),
            "build_seconds": round(model.build_seconds, 3),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": package_versions(),
            "argv": sys.argv,
            "inputs": inputs,
            **(extra or {}),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}"
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def portable_scenario(scenario: Scenario, folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The scenario's data as ``folder/scenario.toml`` must say it to run again on its own.

    Files the scenario refers to are copied into ``folder``: a user strategy module that lives
    beside the scenario file (or in the working folder) goes to ``folder`` itself (strategies
    are imported from the scenario's folder), an edge list to ``folder/inputs/``, and the data
    refers to the copies. A strategy installed as a package is not copied.

    Returns
    -------
    data, inputs
        The scenario data, and what was copied (copy's name -> original path).
    """
    data = scenario.to_dict()
    home = scenario.source_path.parent.resolve() if scenario.source_path else None
    inputs: dict[str, str] = {}
    specs = [
        s
        for f in data["firms"]
        for s in ([f["strategy"]] if isinstance(f["strategy"], str) else f["strategy"])
    ]
    for spec in specs:
        if ":" not in spec:
            continue
        top = spec.partition(":")[0].split(".")[0]
        source = _local_module(top, home)
        if source is None or top in inputs:
            continue
        target = folder / source.name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
        inputs[source.name] = str(source)
    network = data.get("network", {})
    if network.get("kind") == "edge_list" and network.get("path"):
        edges = Path(network["path"])
        if not edges.is_absolute() and home is not None:
            edges = home / edges
        (folder / "inputs").mkdir(exist_ok=True)
        shutil.copy2(edges, folder / "inputs" / edges.name)
        network["path"] = f"inputs/{edges.name}"
        inputs[network["path"]] = str(edges.resolve())
    return data, inputs


def _local_module(top: str, home: Path | None) -> Path | None:
    """The file (``top.py``) or package folder of a user strategy module found beside the
    scenario or in the working folder, or None (an installed module)."""
    for folder in (home, Path.cwd().resolve()):
        if folder is None:
            continue
        if (folder / f"{top}.py").is_file():
            return folder / f"{top}.py"
        if (folder / top / "__init__.py").is_file():
            return folder / top
    return None


def _seed_of(model: CustomerMarket) -> Any:
    seed = getattr(model, "_cxsim_seed", None)
    return seed if seed is not None else getattr(model, "_seed", None)
