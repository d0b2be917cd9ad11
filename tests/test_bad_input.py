"""Bad input gets one line naming the file, the key and what was expected; nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario

MINIMAL = """
name = "tiny"
description = "a tiny market for tests"
[market]
customers = 50
industries = ["banking"]
[[firms]]
name = "A"
industry = "banking"
[[firms]]
name = "B"
industry = "banking"
"""


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path | str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_minimal_scenario_is_valid(tmp_path) -> None:
    assert load_scenario(write(tmp_path, MINIMAL)).market.customers == 50


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (
            ("customers = 50", 'customers = "many"'),
            "market.customers",
            'expected a whole number from 2 to 50,000,000, got "many"',
        ),
        (
            ("customers = 50", "customers = -5"),
            "market.customers",
            "a whole number from 2 to 50,000,000, got -5",
        ),
        (
            (
                'name = "B"\nindustry = "banking"',
                'name = "B"\nindustry = "banking"\nstrategy = "overpromis"',
            ),
            "firms[1].strategy",
            "expected one of honest, overpromise",
        ),
        (
            (
                'name = "A"\nindustry = "banking"',
                'name = "A"\nindustry = "banking"\nlevers = { inflaton = 0.2 }',
            ),
            "firms[0].levers.inflaton",
            "unknown lever",
        ),
        (
            (
                'name = "A"\nindustry = "banking"',
                'name = "A"\nindustry = "banking"\nstrategy = '
                '"overpromise"\nlevers = { inflation = -1 }',
            ),
            "firms[0].levers.inflation",
            "expected a number from 0 to 2, got -1",
        ),
        (
            ('industries = ["banking"]', 'industries = ["banking", "telecom"]'),
            "market.industries",
            "industry 'telecom' has no firm",
        ),
        (
            ("customers = 50", "customers = 50\ncolour = 3"),
            "market.colour",
            "unknown key; expected one of: customers",
        ),
        (
            ("[market]", "[trust]\ngain = 2\n[market]"),
            "trust.gain",
            "expected a number from 0 to 1, got 2",
        ),
        (
            ('name = "A"\nindustry = "banking"', 'name = "A"\nindustry = "banks"'),
            "firms[0].industry",
            "expected one of ['banking']",
        ),
        (
            (
                'name = "A"\nindustry = "banking"',
                'name = "A"\nindustry = "banking"\ncapability = { speed = 1.5 }',
            ),
            "firms[0].capability",
            "expected values in 0..1",
        ),
        (
            (
                'name = "A"\nindustry = "banking"',
                'name = "A"\nindustry = "banking"\ninitial_share = 0.9',
            ),
            "firms",
            "sums to 1.1",
        ),
        (
            ('name = "A"\nindustry = "banking"', 'name = "A"\nindustry = "banking"\nregion = 3'),
            "firms[0].region",
            "expected a region in 0..0",
        ),
        (
            ("customers = 50", "customers = 3\nregions = 4"),
            "market.customers",
            "expected at least one customer per region (market.regions = 4), got 3",
        ),
    ],
)
def test_invalid_values_name_file_key_and_expectation(tmp_path, change, key, expected) -> None:
    old, new = change
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    message = error_of(path)
    assert message.startswith(f"{path}: {key}: "), message
    assert expected in message, message


def test_missing_file_lists_known_scenarios(tmp_path) -> None:
    message = error_of(tmp_path / "nope.toml")
    assert "nope.toml" in message and "file not found" in message
    assert "baseline" in error_of("no_such_scenario")


def test_invalid_toml_says_where(tmp_path) -> None:
    message = error_of(write(tmp_path, "name = \n"))
    assert "bad.toml" in message and "invalid TOML" in message and "line 1" in message


def test_extends_unknown_parent_names_the_file_that_extends(tmp_path) -> None:
    path = write(tmp_path, 'extends = "nothing_like_this"\n' + MINIMAL)
    message = error_of(path)
    assert message.startswith(f"{path}: extends: no scenario named 'nothing_like_this'")
    assert "baseline" in message  # the names that do exist


def test_edge_list_with_bad_line_names_the_line(tmp_path) -> None:
    (tmp_path / "edges.txt").write_text("# friends\n0 1\n1 2\nthree 4 5 6\n")
    text = MINIMAL.replace(
        "[market]", '[network]\nkind = "edge_list"\npath = "edges.txt"\n[market]'
    )
    path = write(tmp_path, text)
    import sim

    with pytest.raises(ScenarioError) as info:
        sim.CustomerMarket(path, rng=1)
    message = str(info.value)
    assert "network.path" in message and "edges.txt:4" in message, message


def test_edge_list_node_out_of_range(tmp_path) -> None:
    (tmp_path / "edges.txt").write_text("0 1\n1 75\n")
    text = MINIMAL.replace(
        "[market]", '[network]\nkind = "edge_list"\npath = "edges.txt"\n[market]'
    )
    import sim

    with pytest.raises(ScenarioError) as info:
        sim.CustomerMarket(write(tmp_path, text), rng=1)
    assert "75" in str(info.value) and "market.customers" in str(info.value)


def test_cli_error_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys) -> None:
    bad = write(tmp_path, MINIMAL.replace("customers = 50", "customers = -5"))
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("cxsim: error: ")
    assert "market.customers" in err
    assert not out.exists()


def test_cli_bad_set_and_bad_argument(tmp_path, capsys) -> None:
    assert main(["run", "baseline", "--set", "market.customers", "--quiet"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main(["run", "baseline", "--set", "market.customers=1", "--quiet"]) == 2
    assert "market.customers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run", "baseline", "--steps", "-3"])
    assert info.value.code == 2


def test_existing_out_is_never_overwritten_without_force(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    args = ["run", "baseline", "--customers", "200", "--steps", "3", "--out", str(out), "--quiet"]
    for force in ([], ["--force"]):  # not an earlier run's folder: --force changes nothing
        assert main([*args, *force]) == 2
        assert "holds files but no manifest.json" in capsys.readouterr().err
        assert (out / "precious.txt").read_text() == "keep me"
    assert [p.name for p in out.iterdir()] == ["precious.txt"]
    (out / "precious.txt").unlink()
    assert main(args) == 0
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0 and (out / "manifest.json").exists()
    assert not list(tmp_path.glob(".out.*")), "no temporary folders left behind"


FIRMS = (
    "expected firms[INDEX] (0..5) or firms.<name> (First Bank, City Bank, Overnight, High "
    "Street, Telco One, Mobile Two)"
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("firms[First Bank].price=5", FIRMS),
        ("firms[x].price=1", FIRMS),
        ("firms[-1].price=1", FIRMS),
        ("firms.price=1", FIRMS),
        ("firms.First Bnak.price=1", "no entry named 'First Bnak'; " + FIRMS),
        ("market..customers=1", "expected no empty part between the dots, e.g. market.customers"),
    ],
)
def test_a_malformed_set_key_is_blamed_on_the_flag(capsys, key, expected) -> None:
    assert main(["show", "baseline", "--set", key]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"cxsim: error: --set {key}: {expected}"


def test_an_unknown_section_made_by_set_is_blamed_on_the_flag(capsys) -> None:
    """``--set foo.bar=1`` makes a table ``foo`` the file does not have: the flag's problem,
    not the scenario file's (which is fine)."""
    assert main(["show", "baseline", "--set", "foo.bar=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cxsim: error: --set foo.bar=1: foo: unknown key; expected one of: ")
    assert "baseline.toml" not in err


def test_cli_in_a_fresh_process_prints_no_traceback(tmp_path) -> None:
    bad = write(tmp_path, MINIMAL.replace('industries = ["banking"]', "industries = 3"))
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", str(bad)],
        capture_output=True,
        text=True,
        timeout=900,  # generous: a loaded machine, not a speed check
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "market.industries" in proc.stderr


def test_nested_market_errors_name_the_exact_key(tmp_path) -> None:
    path = write(
        tmp_path,
        MINIMAL.replace("customers = 50", 'customers = 50\ncross_industry = ["speed", "colour"]'),
    )
    message = error_of(path)
    assert message.startswith(f"{path}: market.cross_industry: expected names from attributes")
    assert "colour" in message and "{" not in message


def test_price_attribute_can_be_switched_off(tmp_path) -> None:
    text = MINIMAL.replace("customers = 50", 'customers = 50\nprice_attribute = "none"')
    assert load_scenario(write(tmp_path, text)).market.price_attribute is None
    bad = MINIMAL.replace("customers = 50", 'customers = 50\nprice_attribute = "cost"')
    assert "market.price_attribute" in error_of(write(tmp_path, bad, "bad2.toml"))


def test_edge_list_named_by_a_parent_is_found_from_a_child_elsewhere(tmp_path, monkeypatch) -> None:
    import sim
    from sim.scenario import ALLOW_ENV

    parent_dir, child_dir = tmp_path / "parent", tmp_path / "child"
    parent_dir.mkdir()
    child_dir.mkdir()
    (parent_dir / "edges.txt").write_text("".join(f"{i} {(i + 1) % 50}\n" for i in range(50)))
    write(
        parent_dir,
        MINIMAL.replace("[market]", '[network]\nkind = "edge_list"\npath = "edges.txt"\n[market]'),
        "parent.toml",
    )
    child = write(child_dir, 'extends = "../parent/parent.toml"\nseed = 3\n', "child.toml")
    monkeypatch.setenv(ALLOW_ENV, str(parent_dir))  # the parent is outside the child's folder
    model = sim.CustomerMarket(child, rng=1)
    assert (model.adjacency.degree == 2).all()
