"""Light imports stay light, and each module imports only what its docstring allows.

Two kinds of check, both on what ends up in ``sys.modules`` (never on a wall clock):

- ``import sim`` and the light commands (``cxsim --help``, ``list``, ``show``, ``check``) run in a
  fresh interpreter and must not import the model, the UI, the sweep or workshop layers, nor
  Mesa, pandas, scipy, networkx, numba and the other heavy libraries.
- Every module whose docstring says what it must never import ("must never import the rules, the
  UI or the sweep layer", "must never import anything from the package") is imported alone, in
  a forked copy of an interpreter that has already imported the heavy third-party libraries (so
  each import costs only the package's own modules), and the ``sim.*`` modules it pulled in are
  checked against that sentence. A package's ``__init__`` sentence covers its every module.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "sim"

HEAVY = (
    "mesa",
    "pandas",
    "scipy",
    "networkx",
    "numba",
    "matplotlib",
    "pyarrow",
    "solara",
    "dask",
    "distributed",
    "duckdb",
    "SALib",
    "altair",
)
"""Third-party libraries no light command may import."""

LAYERS = ("sim.model", "sim.rules", "sim.ui.app", "sim.sweep.runner", "sim.workshop.room")
"""Modules of the package no light command may import."""


def _imported_after(code: str, cwd: Path = REPO) -> list[str]:
    """Names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = (
        "import contextlib, io, json, sys\n"
        f"{code}\n"
        "sys.__stdout__.write('\\n@@' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.rsplit("\n@@", 1)[1])


def _heavy(modules: list[str]) -> list[str]:
    return sorted(
        m for m in modules if m.split(".")[0] in HEAVY or m.startswith(LAYERS) or m == "sim.model"
    )


def test_import_sim_imports_no_submodule(tmp_path: Path) -> None:
    modules = _imported_after("import sim", cwd=tmp_path)
    assert [m for m in modules if m.startswith("sim.")] == []
    assert _heavy(modules) == []
    assert "pydantic" not in modules and "numpy" not in modules


def test_lazy_names_still_resolve(tmp_path: Path) -> None:
    modules = _imported_after(
        "import sim\n"
        "assert sim.load_scenario('baseline').market.customers > 0\n"
        "assert sim.__version__\n"
        "assert 'CustomerMarket' in dir(sim)",
        cwd=tmp_path,
    )
    assert "sim.scenario" in modules
    assert "sim.model" not in modules and "mesa" not in modules


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["list"],
        ["show", "baseline"],
        ["check", "scenarios/baseline.toml", "scenarios/proactive_disclosure.toml"],
        ["run", "--help"],
        ["sweep", "--help"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_light_commands_import_no_heavy_layer(argv: list[str]) -> None:
    modules = _imported_after(
        "from sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = main({argv!r})\n"
        "    except SystemExit as e:\n"
        "        code = e.code\n"
        "assert code == 0, code"
    )
    # check makes every check run makes before its first step (issue 17), the network built
    # (an edge list read) included: that needs scipy's sparse matrices, nothing heavier
    allowed = {"scipy"} if argv[0] == "check" else set()
    assert [m for m in _heavy(modules) if m.split(".")[0] not in allowed] == []
    if argv[-1] == "--help":  # not even the scenario schema
        assert "numpy" not in modules and "pydantic" not in modules
        assert "sim.scenario" not in modules


def test_check_reads_an_edge_list_without_the_model_mesa_or_numba(tmp_path: Path) -> None:
    """README: ``check`` builds the network (scipy's sparse matrices) and reads an edge list
    (pandas' parser, which brings pyarrow); nothing heavier, as for a generated network."""
    baseline = (REPO / "scenarios" / "baseline.toml").read_text()
    network = '[network]\nkind = "watts_strogatz"\nk = 10\np = 0.1\n'
    assert network in baseline  # the section this test replaces
    scenario = tmp_path / "edges.toml"
    scenario.write_text(
        baseline.replace(network, '[network]\nkind = "edge_list"\npath = "e.txt"\n')
    )
    (tmp_path / "e.txt").write_text("0 1\n1 2\n2 3\n")
    modules = _imported_after(
        "from sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['check', {str(scenario)!r}])\n"
        "assert code == 0 and 'ok' in out.getvalue(), (code, out.getvalue())",
        cwd=tmp_path,
    )
    assert "sim.network.edge_lists" in modules and "pandas" in modules  # the list was read
    heavy = {m.split(".")[0] for m in _heavy(modules)}
    assert heavy <= {"scipy", "pandas", "pyarrow"}, sorted(_heavy(modules))


def test_calibrate_tells_a_typo_in_its_data_before_loading_pyabc(tmp_path: Path) -> None:
    """A mistyped value in the observed data is reported before pyabc and the calibration's
    machinery are imported (1.8 s of the 3.7 s it took), and nothing is written."""
    fixtures = REPO / "tests" / "fixtures" / "calibration"
    good = (fixtures / "retention.csv").read_text().splitlines()
    header = good[0].split(",")
    row = good[1].split(",")
    row[header.index("value")] = "0.9x"
    data = tmp_path / "data.csv"
    data.write_text("\n".join([good[0], ",".join(row), *good[2:]]) + "\n")
    calibration = tmp_path / "calibration.toml"
    calibration.write_text('[parameters."acquisition.q"]\n')
    argv = ["calibrate", str(fixtures / "market.toml"), str(data), str(calibration)]
    argv += ["--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]
    modules = _imported_after(
        "from sim.cli import main\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        f"    code = main({argv!r})\n"
        "assert code == 2, (code, err.getvalue())\n"
        "assert 'data.csv, row 1, column value' in err.getvalue(), err.getvalue()\n",
        cwd=tmp_path,
    )
    assert "pyabc" not in modules
    assert "sim.calibration.abc_smc" not in modules
    assert not (tmp_path / "out").exists()


# -- what each module's docstring says it never imports --------------------------------------

_NEVER = re.compile(r"never imports? (?P<what>.+?)(?:[.:;]\s|\.$)")
_TERMS = {
    "the model": ("sim.model",),
    "the rules": ("sim.rules",),
    "the UI": ("sim.ui",),
    "the sweep layer": ("sim.sweep",),
    "an executor": ("sim.sweep.executors",),
    "the room's state": ("sim.workshop.state", "sim.workshop.room"),
    "the workshop": ("sim.workshop",),
    "the calibration layer": ("sim.calibration",),
    "the robustness layer": ("sim.robustness",),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _promises() -> list[tuple[str, list[str], str]]:
    """``(module, modules it covers, the sentence)`` for every "never import" sentence."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        match = _NEVER.search(" ".join(doc.split()))
        if match is None:
            continue
        name = _module_name(path)
        covered = [name]
        if path.name == "__init__.py" and "submodule" not in match.group(0):
            # a package's sentence covers all its modules
            covered += [_module_name(p) for p in sorted(path.parent.rglob("*.py")) if p != path]
        found.append((name, covered, match.group(0)))
    return found


def _forbidden(name: str, sentence: str) -> tuple[str, ...]:
    what = re.sub(r"^never imports? ", "", sentence).strip().rstrip(".")
    if what == "anything from the package":
        return ("sim.",)
    if what == "a submodule eagerly":
        return (f"{name}.",)
    terms = [t.strip() for t in re.split(r",| or ", what) if t.strip()]
    unknown = [t for t in terms if t not in _TERMS]
    assert not unknown, f"{name}: the test does not know what {unknown} means in {sentence!r}"
    return tuple(prefix for t in terms for prefix in _TERMS[t])


def _allowed(module: str, imported: str) -> bool:
    # a module may always import itself and the packages above it
    return module == imported or module.startswith(imported + ".")


_FORK_PRELOAD = (
    "numpy",
    "scipy.sparse",
    "pandas",
    "pydantic",
    "networkx",
    "mesa",
    "numba",
    "matplotlib.pyplot",
    "pyarrow.parquet",
    "rich.console",
    # what many of the package's modules import besides: pydantic's submodules (loaded lazily
    # by ``pydantic``: the scenario schema, 91 of the 154 modules imported), the TOML readers
    # and writers, scipy's statistics (25) and multiprocessing's queues. Not the package's:
    # loaded here once rather than in every fork (23 s -> 14 s of forks, 7 December 2026)
    "lazy_loader",
    "annotated_types",
    "pydantic.main",
    "pydantic.fields",
    "pydantic.functional_validators",
    "pydantic.json_schema",
    "tomllib",
    "tomli_w",
    "scipy.stats",
    "scipy.optimize",
    "scipy.ndimage",
    "multiprocessing.queues",
)


def _sim_modules_after_import(targets: list[str]) -> dict[str, list[str]]:
    """For each target: the ``sim.*`` modules a fresh import of it (alone) brings in.

    Each target is imported in a fork of its own; two forks run at a time (the imports are
    independent, and the 2-core machine would otherwise leave a core idle)."""
    script = f"""
import importlib, json, os, sys, tempfile
import matplotlib
matplotlib.use("Agg")
for heavy in {list(_FORK_PRELOAD)!r}:
    importlib.import_module(heavy)
assert not [m for m in sys.modules if m == "sim" or m.startswith("sim.")]
results = {{}}
todo, running = list({targets!r}), {{}}
with tempfile.TemporaryDirectory() as folder:
    while todo or running:
        while todo and len(running) < 2:
            target = todo.pop(0)
            path = os.path.join(folder, str(len(results) + len(running)))
            pid = os.fork()
            if pid == 0:
                try:
                    importlib.import_module(target)
                    payload = sorted(m for m in sys.modules if m == "sim" or m.startswith("sim."))
                except BaseException as e:
                    payload = {{"error": repr(e)}}
                with open(path, "w") as f:
                    json.dump(payload, f)
                os._exit(0)
            running[pid] = (target, path)
        pid, status = os.wait()
        target, path = running.pop(pid)
        assert status == 0, (target, status)
        with open(path) as f:
            results[target] = json.load(f)
print(json.dumps(results))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_modules_import_only_what_their_docstring_allows() -> None:
    promises = _promises()
    assert len(promises) >= 30  # the sentences were found (the pattern still matches them)
    targets = sorted({m for _, covered, _ in promises for m in covered})
    parents = sorted({t.rpartition(".")[0] for t in targets} - {""})
    imported = _sim_modules_after_import(sorted(set(targets) | set(parents)))
    errors = [f"{t}: {r['error']}" for t, r in imported.items() if isinstance(r, dict)]
    assert not errors, errors
    broken = []
    for name, covered, sentence in promises:
        forbidden = _forbidden(name, sentence)
        for module in covered:
            # what its package's __init__ imports is the package's doing, not the module's
            by_package = set(imported.get(module.rpartition(".")[0], []))
            bad = [
                m
                for m in imported[module]
                if m.startswith(forbidden)
                and not _allowed(module, m)
                and m != name
                and m not in by_package
            ]
            if bad:
                broken.append(f"{module} ({name}: {sentence!r}) imports {bad}")
    assert not broken, "\n".join(broken)


def test_the_docstring_check_catches_a_broken_promise() -> None:
    # negative control: sim.model imports the rules, so a sentence forbidding them must fail
    imported = _sim_modules_after_import(["sim.model", "sim.version"])
    forbidden = _forbidden("sim.model", "never import the rules.")
    assert any(m.startswith(forbidden) for m in imported["sim.model"])
    assert imported["sim.version"] == ["sim", "sim.version"]
