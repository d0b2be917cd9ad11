"""Numbers no run can use are refused before any work: ``inf`` and ``nan`` anywhere a number is
expected, sizes that overflow the model's sums, and more steps than a run can count. One line
naming the file or flag, the key and what was expected; exit code 2; nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from sim.scenario_schema import MAX_STEPS
from tests.test_bad_input import MINIMAL, error_of, write

FIXTURES = Path(__file__).parent / "fixtures"
TINY_SWEEP = str(FIXTURES / "sweep" / "tiny.toml")
TINY_STUDY = str(FIXTURES / "robustness" / "tiny.toml")


def firm_a(line: str) -> tuple[str, str]:
    """A change of MINIMAL that adds ``line`` to firm A."""
    return 'name = "A"\nindustry = "banking"', f'name = "A"\nindustry = "banking"\n{line}'


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "+inf"])
@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (firm_a("price = {v}"), "firms[0].price", "expected a finite number > 0, got {v}"),
        (firm_a("unit_cost = {v}"), "firms[0].unit_cost", "expected a finite number >= 0"),
        (firm_a("capacity_cost = {v}"), "firms[0].capacity_cost", "a finite number >= 0"),
        (firm_a("base_budget = {v}"), "firms[0].base_budget", "a finite number >= 0"),
        (firm_a("cash = {v}"), "firms[0].cash", "expected a finite number, got {v}"),
        (("[market]", "[economics]\nfix_cost = {v}\n[market]"), "economics.fix_cost", "finite"),
        (("[market]", "[switching]\nprice = {v}\n[market]"), "switching.price", "finite"),
        (
            ("[market]", "[[segments]]\nname = 'x'\nweights = {{ speed = {v} }}\n[market]"),
            "segments[0].weights.speed",
            "finite",
        ),
        (
            firm_a('strategy = "overpromise"\nlevers = {{ inflation = {v} }}'),
            "firms[0].levers.inflation",
            "expected a finite number from 0 to 2",
        ),
    ],
)
def test_inf_and_nan_are_refused_naming_the_key(tmp_path, value, change, key, expected) -> None:
    old, new = change
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new.format(v=value), 1))
    message = error_of(path)
    assert message.startswith(f"{path}: {key}: "), message
    shown = value.lstrip("+")
    assert expected.format(v=shown) in message, message


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("price = 1e308", "firms[0].price"),
        ("cash = -1e300", "firms[0].cash"),
        ("unit_cost = 2e15", "firms[0].unit_cost"),
    ],
)
def test_a_size_that_overflows_the_sums_is_refused(tmp_path, line, key) -> None:
    """A price of 1e308 passes ``gt=0`` and overflowed to NaN in the first step (a traceback);
    1e15, the limit, runs (tests/test_bad_numbers.py is not the place to run it: it was checked
    for every money field when the limit was set)."""
    old, new = firm_a(line)
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    message = error_of(path)
    assert message.startswith(f"{path}: {key}: "), message
    assert "of size at most 1e+15" in message, message
    ok = write(tmp_path, MINIMAL.replace(old, firm_a("price = 1e15")[1], 1), "ok.toml")
    assert load_scenario(ok).firms[0].price == 1e15


def test_check_refuses_an_infinite_price_with_one_line_a_problem(tmp_path, capsys) -> None:
    old, new = firm_a("price = inf")
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"BAD {path}: firms[0].price: expected a finite number > 0, got inf"]


def test_run_refuses_an_infinite_set_before_writing(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = main(
        ["run", "baseline", "--set", "firms[0].unit_cost=inf", "--out", str(out), "--quiet"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err
    assert err == (
        "cxsim: error: --set firms[0].unit_cost=inf: expected a finite number >= 0, got inf"
    )
    assert not out.exists()


def test_sweep_refuses_an_infinite_value_before_writing(tmp_path, capsys) -> None:
    spec = write(
        tmp_path,
        f'name = "inf"\nscenario = "{TINY_SWEEP}"\nreplicates = 1\nsteps = 4\n'
        '[[parameters]]\nkey = "firms.Steady.price"\nvalues = [100, inf]\n',
        "sweep.toml",
    )
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out), "--serial", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and "\n" not in err, err
    expected = f"{spec}: parameters[0].values[1]: expected a finite number, got inf"
    assert err == f"cxsim: error: {expected}"
    assert not out.exists()


def test_sweep_refuses_an_infinite_range(tmp_path, capsys) -> None:
    spec = write(
        tmp_path,
        f'name = "inf"\nscenario = "{TINY_SWEEP}"\n[design]\nkind = "lhs"\nsamples = 4\n'
        '[[parameters]]\nkey = "firms.Steady.price"\nlow = 1\nhigh = inf\n',
        "sweep.toml",
    )
    code = main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--serial", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    assert f"{spec}: parameters[0].high: " in err and "finite" in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["sweep", "robustness"])
def test_an_infinite_set_flag_is_refused_naming_the_flag(tmp_path, capsys, command) -> None:
    target = TINY_STUDY if command == "robustness" else None
    if target is None:
        target = str(
            write(
                tmp_path,
                f'name = "s"\nscenario = "{TINY_SWEEP}"\nreplicates = 1\nsteps = 4\n'
                '[[parameters]]\nkey = "firms.Steady.price"\nvalues = [90, 100]\n',
                "sweep.toml",
            )
        )
    out = tmp_path / "out"
    args = [command, target, "--set", "firms[0].unit_cost=inf", "--out", str(out), "--serial"]
    code = main([*args, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    assert err.startswith("cxsim: error: --set firms[0].unit_cost=inf: "), err
    assert "expected a finite number >= 0, got inf" in err
    assert not out.exists()


def test_robustness_file_ranges_must_be_finite(tmp_path, capsys) -> None:
    ranges = write(tmp_path, '[ranges]\n"acquisition.p" = [0.01, inf]\n', "ranges.toml")
    out = tmp_path / "out"
    code = main(["robustness", TINY_STUDY, "--ranges", str(ranges), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    assert f'{ranges}: ranges."acquisition.p": expected a finite number for high' in err
    assert not out.exists()


def test_steps_past_the_limit_are_refused(tmp_path, capsys) -> None:
    """99999999999999999999999 steps passed ``check`` (``ge=1`` only): the customers' step
    counters are 32-bit, and robustness files already stopped at 10,000,000."""
    for steps in ("99999999999999999999999", str(MAX_STEPS + 1)):
        path = write(tmp_path, f"steps = {steps}\n" + MINIMAL)
        assert main(["check", str(path)]) == 2
        line = capsys.readouterr().out.strip()
        assert line == (
            f"BAD {path}: steps: expected a whole number from 1 to 10,000,000, got {steps}"
        )
    old, new = firm_a(f"entry_step = {MAX_STEPS + 1}")
    assert "firms[0].entry_step" in error_of(write(tmp_path, MINIMAL.replace(old, new, 1)))
    assert load_scenario(write(tmp_path, f"steps = {MAX_STEPS}\n" + MINIMAL)).steps == MAX_STEPS


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_steps_flag_past_the_limit_is_refused(tmp_path, capsys, command) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "baseline", "--steps", str(MAX_STEPS + 1)])
    assert info.value.code == 2
    assert "--steps: expected a whole number from 1 to 10,000,000" in capsys.readouterr().err


def test_scenario_error_is_still_a_value_error() -> None:
    """Library callers catching ValueError keep working."""
    assert issubclass(ScenarioError, ValueError)


def test_barabasi_albert_m_past_the_customers_is_refused(tmp_path) -> None:
    """m >= market.customers passed the schema and, large, was a MemoryError traceback while
    building the network (1.5 TiB for m = 999999999)."""
    text = MINIMAL.replace(
        "[market]", '[network]\nkind = "barabasi_albert"\nm = 999999999\n[market]'
    )
    path = write(tmp_path, text)
    assert error_of(path) == (
        f"{path}: network.m: expected m < market.customers (50), got 999999999"
    )
