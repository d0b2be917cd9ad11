"""Files a user hands cxsim: malformed, too deep, referring outside their folder, with several
mistakes at once, or written by ``--out`` and run again elsewhere (issue 17, items 10-14; issue
18, item 6).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import ALLOW_ENV, ScenarioError, load_scenario
from tests.test_bad_input import MINIMAL

EDGE_LIST = '[network]\nkind = "edge_list"\npath = "{path}"\n[market]'


def write(folder: Path, text: str, name: str = "bad.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, list[str]]:
    """Exit code and the lines printed (stdout and stderr), asserting no traceback."""
    code = main(list(args))
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text and "RecursionError" not in text
    return code, [line for line in text.splitlines() if line.strip()]


# -- item 10: deeply nested files are one line, exit 2 --------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "x = " + "[" * 5000 + "]" * 5000,  # past what the parser can follow
        "x = " + "{a = " * 3000 + "1" + "}" * 3000,
        "[market]\ncustomers = " + "[" * 40 + "]" * 40,  # readable, deeper than any file needs
    ],
    ids=["arrays", "inline-tables", "forty-levels"],
)
@pytest.mark.parametrize("command", ["run", "check", "show"])
def test_a_deeply_nested_file_is_one_line_and_exit_2(tmp_path, capsys, body, command) -> None:
    path = write(tmp_path, body + "\n")
    code, lines = run_cli(capsys, command, str(path), *(["--quiet"] if command == "run" else []))
    assert code == 2
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and "nested" in lines[0] and "32 levels" in lines[0]


def test_a_deeply_nested_set_value_and_sweep_file_are_one_line(tmp_path, capsys) -> None:
    deep = "[" * 3000 + "]" * 3000
    code, lines = run_cli(capsys, "run", "baseline", "--set", f"seed={deep}", "--quiet")
    assert code == 2 and len(lines) == 1 and lines[0].startswith("cxsim: error: --set seed=")
    sweep = write(tmp_path, f'scenario = "baseline"\nx = {deep}\n', "sweep.toml")
    code, lines = run_cli(capsys, "sweep", str(sweep), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 2 and len(lines) == 1 and "nested" in lines[0] and str(sweep) in lines[0]
    assert not (tmp_path / "o").exists()


# -- item 11: check refuses what run refuses before stepping --------------------------------------


def _edge_list_out_of_range(folder: Path) -> Path:
    (folder / "edges.txt").write_text("0 1\n1 75\n")
    return write(folder, MINIMAL.replace("[market]", EDGE_LIST.format(path="edges.txt")))


def _edge_list_bad_line(folder: Path) -> Path:
    (folder / "edges.txt").write_text("0 1\n1 2 3 4\n")
    return write(folder, MINIMAL.replace("[market]", EDGE_LIST.format(path="edges.txt")))


def _edge_list_missing(folder: Path) -> Path:
    return write(folder, MINIMAL.replace("[market]", EDGE_LIST.format(path="gone.txt")))


def _mean_degree_too_high(folder: Path) -> Path:
    network = '[network]\nkind = "erdos_renyi"\nmean_degree = 80\n[market]'
    return write(folder, MINIMAL.replace("[market]", network))


def _local_firm_too_big(folder: Path) -> Path:
    text = MINIMAL.replace("customers = 50", "customers = 50\nregions = 2").replace(
        'name = "A"\nindustry = "banking"',
        'name = "A"\nindustry = "banking"\nregion = 0\ninitial_share = 0.7',
    )
    return write(folder, text)


def _strategy_not_importable(folder: Path) -> Path:
    text = MINIMAL.replace(
        'name = "A"\nindustry = "banking"',
        'name = "A"\nindustry = "banking"\nstrategy = "no_such_module_here:Bold"',
    )
    return write(folder, text)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_edge_list_out_of_range, "node id 75 is outside 0..49"),
        (_edge_list_bad_line, "edges.txt:2"),
        (_edge_list_missing, "file not found"),
        (_mean_degree_too_high, "mean_degree"),
        (_local_firm_too_big, "firms[0].initial_share"),
        (_strategy_not_importable, "cannot import module 'no_such_module_here'"),
    ],
    ids=["edge-id", "edge-line", "edge-file", "mean-degree", "local-share", "strategy"],
)
def test_check_refuses_what_run_refuses_before_stepping(tmp_path, capsys, make, expected) -> None:
    path = make(tmp_path)
    out = tmp_path / "out"
    code, run_lines = run_cli(
        capsys, "run", str(path), "--steps", "1", "--quiet", "--out", str(out)
    )
    assert code == 2 and not out.exists()
    assert len(run_lines) == 1 and expected in run_lines[0], run_lines
    code, check_lines = run_cli(capsys, "check", str(path))
    assert code == 2
    assert check_lines == ["BAD " + run_lines[0].removeprefix("cxsim: error: ")]


# -- item 12: extends stays in the scenario's folder unless the user allows more -----------------


def test_extends_by_name_and_within_the_folder_is_followed(tmp_path) -> None:
    write(tmp_path, MINIMAL, "parent.toml")
    write(tmp_path / "more", MINIMAL.replace("customers = 50", "customers = 60"), "deeper.toml")
    assert load_scenario(write(tmp_path, 'extends = "parent"\nseed = 4\n')).seed == 4
    child = write(tmp_path, 'extends = "more/deeper.toml"\n', "c2.toml")
    assert load_scenario(child).market.customers == 60
    shipped = write(tmp_path, 'extends = "baseline"\nseed = 9\n', "c3.toml")
    assert load_scenario(shipped).firms == load_scenario("baseline").firms


@pytest.mark.parametrize(
    "target", ["../outside/secret.toml", "{outside}/secret.toml", "link/secret.toml"]
)
def test_extends_out_of_the_folder_is_refused(tmp_path, target) -> None:
    outside = tmp_path / "outside"
    write(outside, MINIMAL, "secret.toml")
    home = tmp_path / "home"
    home.mkdir()
    (home / "link").symlink_to(outside, target_is_directory=True)  # a link out is still out
    path = write(home, f'extends = "{target.format(outside=outside)}"\n', "child.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: extends: ") and "is outside" in message
    assert "--allow-extends" in message and "\n" not in message


def test_an_edge_list_out_of_the_folder_is_refused_and_not_read(tmp_path) -> None:
    outside = write(tmp_path / "outside", "root:x:0:0:secret\n", "passwd")
    path = write(tmp_path / "home", MINIMAL.replace("[market]", EDGE_LIST.format(path=outside)))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "network.path" in str(info.value) and "is outside" in str(info.value)
    assert "root:x" not in str(info.value)
    inside = load_scenario(write(tmp_path / "home", MINIMAL, "ok.toml"))
    with pytest.raises(ScenarioError) as info:  # an edit (UI field, --set) is held to it too
        load_scenario(inside, {"network.kind": "edge_list", "network.path": str(outside)})
    assert "is outside" in str(info.value) and "root:x" not in str(info.value)


def test_allow_extends_option_and_environment(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    write(tmp_path / "shared", MINIMAL, "common.toml")
    path = write(tmp_path / "home", 'extends = "../shared/common.toml"\nseed = 2\n', "c.toml")
    code, lines = run_cli(capsys, "check", str(path))
    assert code == 2 and "is outside" in lines[0]
    code, lines = run_cli(capsys, "check", str(path), "--allow-extends", str(tmp_path / "shared"))
    assert code == 0 and lines[0].startswith("ok ")
    monkeypatch.setenv(ALLOW_ENV, os.pathsep.join(["/nonexistent", str(tmp_path / "shared")]))
    assert load_scenario(path).seed == 2
    code, lines = run_cli(capsys, "check", str(path), "--allow-extends", str(tmp_path / "nope"))
    assert code == 2 and lines == [
        f"cxsim: error: --allow-extends {tmp_path / 'nope'}: expected an existing folder"
    ]


# -- item 13: messages name the file (or flag) that holds the mistake -----------------------------


def test_a_missing_parent_names_the_child_and_a_bad_set_names_the_flag(tmp_path, capsys) -> None:
    child = write(tmp_path, 'extends = "no_such_parent"\n', "child.toml")
    code, lines = run_cli(capsys, "run", str(child), "--quiet")
    assert code == 2 and lines[0].startswith(f"cxsim: error: {child}: extends: no scenario named")
    code, lines = run_cli(capsys, "run", "baseline", "--set", "market.customers=-4", "--quiet")
    assert code == 2 and lines == [
        "cxsim: error: --set market.customers=-4: "
        "expected a whole number from 2 to 50,000,000, got -4"
    ]
    code, lines = run_cli(capsys, "show", "baseline", "--set", "firms[0].levers.inflaton=1")
    assert code == 2 and lines[0].startswith("cxsim: error: --set firms[0].levers.inflaton=1: ")
    assert "baseline.toml" not in lines[0]
    code, lines = run_cli(capsys, "run", "baseline", "--set", "market.customers.x=1", "--quiet")
    assert code == 2 and lines[0].startswith("cxsim: error: --set market.customers.x=1: ")


# -- item 14: a written scenario.toml runs again on its own, from anywhere ------------------------

STRATEGY = """
import numpy as np
from sim.strategies import Strategy


class Bold(Strategy):
    name = "bold"

    def decide(self, firm, decision):
        decision.promise = np.clip(firm.capability * 1.25, 0.0, 1.0)
"""


def test_out_scenario_with_a_local_strategy_and_edge_list_runs_anywhere(
    tmp_path, capsys, monkeypatch
) -> None:
    import pandas as pd

    home = tmp_path / "home"
    write(home, STRATEGY, "bold_strategy_i17.py")
    (home / "ring.txt").write_text("".join(f"{i} {(i + 1) % 50}\n" for i in range(50)))
    text = MINIMAL.replace("[market]", EDGE_LIST.format(path="ring.txt")).replace(
        'name = "B"\nindustry = "banking"',
        'name = "B"\nindustry = "banking"\nstrategy = "bold_strategy_i17:Bold"',
    )
    scenario = write(home, text, "mine.toml")
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    code, lines = run_cli(
        capsys, "run", str(scenario), "--steps", "4", "--quiet", "--out", str(out)
    )
    assert code == 0, lines
    assert any("bold_strategy_i17.py" in line and "inputs/ring.txt" in line for line in lines)
    first = pd.read_parquet(out / "firms.parquet")
    # the original folder is gone and the module forgotten: only the copies can serve
    for p in home.iterdir():
        p.unlink()
    home.rmdir()
    sys.modules.pop("bold_strategy_i17", None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = tmp_path / "again"
    code, lines = run_cli(
        capsys, "run", str(out / "scenario.toml"), "--steps", "4", "--quiet", "--out", str(again)
    )
    assert code == 0, lines
    pd.testing.assert_frame_equal(first, pd.read_parquet(again / "firms.parquet"))


# -- issue 18, item 6: every problem at once -----------------------------------------------------


def test_check_lists_every_problem_one_line_each(tmp_path, capsys) -> None:
    text = MINIMAL.replace("customers = 50", "customers = -5\nregions = 0").replace(
        'name = "B"\nindustry = "banking"', 'name = "B"\nindustry = "banking"\nprice = -1'
    )
    path = write(tmp_path, text)
    code, lines = run_cli(capsys, "check", str(path))
    assert code == 2
    assert [line.split(": ")[1] for line in lines] == [
        "market.customers",
        "market.regions",
        "firms[1].price",
    ]
    assert all(line.startswith(f"BAD {path}: ") for line in lines)
    assert not any("more problem" in line for line in lines)
    consistency = MINIMAL.replace('industry = "banking"\n[[firms]]', 'industry = "bank"\n[[firms]]')
    consistency = consistency.replace('name = "B"', 'name = "A"')
    code, lines = run_cli(capsys, "check", str(write(tmp_path, consistency, "two.toml")))
    assert code == 2 and len(lines) >= 2
    assert any("firms[0].industry" in line for line in lines)
    assert any("unique firm name" in line for line in lines)
    code, lines = run_cli(capsys, "run", str(path), "--quiet")
    assert code == 2 and len(lines) == 3 and all(x.startswith("cxsim: error: ") for x in lines)
