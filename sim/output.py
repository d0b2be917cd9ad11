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
import numbers
import os
import platform
import shutil
import sys
import tempfile
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
    "RUN_FILES",
    "RUN_KIND",
    "OutputExistsError",
    "not_a_folder",
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


RUN_FILES = ("model.parquet", "firms.parquet", "cohorts.parquet", "scenario.toml", "manifest.json")
"""The files every run folder holds."""

RUN_KIND = "cxsim run"
"""``manifest.json``'s ``kind`` in a run folder."""

_EXPECTED = "expected an empty folder or the --out of an earlier 'cxsim run'"


def not_a_folder(path: Path) -> str | None:
    """Why ``path`` cannot be (made) a folder: ``"exists and is not a folder"``,
    ``"<above> is a file, not a folder"`` for a file above it, or ``"cannot write in <folder>
    (<reason>)"`` when the nearest existing folder takes no new entry (``/proc/x/y``, a
    read-only disk); None if it can. The check of every command's ``--out``, before anything is
    run or written: the last is tried by making an empty folder there and removing it."""
    if path.exists() and not path.is_dir():
        return "exists and is not a folder"
    for above in (path.absolute(), *path.absolute().parents):
        if above.exists():
            if not above.is_dir():
                return f"{above} is a file, not a folder"
            return _unwritable(above)
    return None


def _unwritable(folder: Path) -> str | None:
    """Why no entry can be made in the existing ``folder`` (None: one can): an empty folder is
    made in it and removed at once."""
    try:
        os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".cxsim-probe-"))
    except OSError as e:
        return f"cannot write in {folder} ({e.strerror or e})"
    return None


def prepare_out(out: str | Path, force: bool) -> Path:
    """Check, before a run, that its results may be written to the folder ``out``.

    ``out`` may be missing, an empty folder, or the folder of an earlier ``cxsim run`` (its
    ``manifest.json`` and only the files a run writes), which is replaced only with ``force``.
    Anything else is refused whatever ``force`` says, so a user's own files are never deleted:
    a file, a folder holding other files, and the current folder or one above it.

    Parameters
    ----------
    out
        The folder ``--out`` names.
    force
        Whether an earlier run's folder may be replaced.

    Returns
    -------
    Path
        ``out`` as a path.

    Raises
    ------
    OutputExistsError
        ``out`` may not be written; the message names it and what was expected.
    """
    path = Path(out)
    if problem := not_a_folder(path):
        raise OutputExistsError(f"{out}: {problem}; {_EXPECTED}")
    here = Path.cwd().resolve()
    resolved = path.resolve()
    if resolved == here or resolved in here.parents:
        which = "the current folder" if resolved == here else "a folder above the current one"
        raise OutputExistsError(
            f"{out}: is {which}; expected a folder of its own for the run, e.g. --out runs/first"
        )
    if not path.is_dir() or not any(path.iterdir()):
        return path
    manifest = _run_manifest(path)
    if manifest is None:
        if not (path / "manifest.json").exists():
            raise OutputExistsError(f"{out}: holds files but no manifest.json; {_EXPECTED}")
        raise OutputExistsError(
            f"{out}: its manifest.json is not that of a 'cxsim run' (a sweep's or a "
            f"calibration's?); {_EXPECTED}"
        )
    foreign = _not_written_by_run(path, manifest)
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise OutputExistsError(
            f"{out}: holds files that 'cxsim run' did not write ({', '.join(foreign[:5])}{more}); "
            f"{_EXPECTED} with only its own files"
        )
    if not force:
        raise OutputExistsError(
            f"{out}: holds the results of an earlier 'cxsim run'; use --force to replace them"
        )
    return path


def _run_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of the run whose folder ``folder`` is, or None if it is not one.

    Folders written before manifests had a ``kind`` are known by their keys."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    if "kind" in manifest:
        return manifest if manifest["kind"] == RUN_KIND else None
    run_keys = {"scenario", "scenario_hash", "seed", "steps", "firms", "model_code", "inputs"}
    return manifest if run_keys <= manifest.keys() and "sessions" not in manifest else None


def _not_written_by_run(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """What ``folder`` holds that ``cxsim run`` (and its ``--plot``) did not write, sorted."""
    inputs = manifest.get("inputs")
    inputs = inputs if isinstance(inputs, dict) else {}
    own = {*RUN_FILES, *(str(name).split("/")[0] for name in inputs)}
    foreign = []
    for entry in folder.iterdir():
        if entry.name == "plots" and entry.is_dir():
            foreign += [
                f"plots/{p.name}"
                for p in entry.iterdir()
                if not (p.is_file() and p.suffix == ".png")
            ]
        elif entry.name == "inputs" and entry.is_dir():
            foreign += [
                f"inputs/{p.name}" for p in entry.iterdir() if f"inputs/{p.name}" not in inputs
            ]
        elif entry.name not in own:
            foreign.append(entry.name)
    return sorted(foreign)


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
        Target folder; created. It must be new, empty or an earlier run's folder, which is
        replaced only with ``force`` (see :func:`prepare_out`).
    force
        Replace an earlier run's folder (only once the new one is completely written).
    extra
        More manifest entries (e.g. the command line).

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    OutputExistsError
        ``out`` may not be written (:func:`prepare_out`); nothing is written.

    Notes
    -----
    ``scenario.toml`` says the seed and the steps the run used (``cxsim run --seed/--steps``),
    so that ``cxsim run OUT/scenario.toml`` runs it again; claims that do not fit those steps
    are left out of it, as :func:`sim.scenario.load_scenario` leaves them out of a variant.
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
        _as_run(scenario_data, model)
        (tmp / "scenario.toml").write_text(tomli_w.dumps(scenario_data))
        manifest = {
            "kind": RUN_KIND,
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


def _as_run(data: dict[str, Any], model: CustomerMarket) -> None:
    """Make the scenario ``data`` say the seed and steps ``model`` was run with (an int seed
    only: a generator passed as ``rng`` has no seed to write), dropping the claims that do not
    fit those steps."""
    seed = _seed_of(model)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        data["seed"] = int(seed)
    if int(model.steps) >= 1 and int(model.steps) != data.get("steps"):
        data["steps"] = int(model.steps)
        if data.get("claims"):
            data["claims"] = _fitting_claims(model.scenario, data["claims"], int(model.steps))


def _fitting_claims(
    scenario: Scenario, claims: list[dict[str, Any]], steps: int
) -> list[dict[str, Any]]:
    """The claims (as data, in ``scenario``'s order) that can be read on a run of ``steps``."""
    # lazy, as in sim.scenario.load_scenario: loading a scenario with claims imported it already
    from sim.robustness.claims import ClaimError, check_claims

    fitting = []
    for data, claim in zip(claims, scenario.claims, strict=True):
        try:
            check_claims(scenario.model_copy(update={"claims": [claim], "steps": steps}))
        except ClaimError:
            continue
        fitting.append(data)
    return fitting


def _seed_of(model: CustomerMarket) -> Any:
    seed = getattr(model, "_cxsim_seed", None)
    return seed if seed is not None else getattr(model, "_seed", None)
