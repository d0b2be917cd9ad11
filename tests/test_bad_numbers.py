"""Numbers no run can use are refused before any work: ``inf`` and ``nan`` anywhere a number is
expected, sizes that overflow the model's sums, and more steps than a run can count. One line
naming the file or flag, the key and what was expected; exit code 2; nothing written. A number a
user's strategy decides while the market runs is refused at the step, in one line naming the
strategy's file, the firm, the field, the step and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


# -- numbers a user's strategy decides while the market runs --------------------------------------

WILD = '''
import numpy as np
from sim.strategies import NoLevers, Strategy


class Wild(Strategy):
    """From step at_step on, sets one field (an array's second entry) to value."""

    class Levers(NoLevers):
        field: str = "price"
        value: str = "inf"
        at_step: int = 2

    def decide(self, firm, decision):
        if firm.model.steps < self.levers.at_step:
            return
        value, name = float(self.levers.value), self.levers.field
        if name in ("promise", "allocation", "focus", "retention_mix"):
            row = getattr(decision, name)
            row = np.array(np.full(len(firm.capability), 0.25) if row is None else row, float)
            row[1] = value
            setattr(decision, name, row)
        else:
            setattr(decision, name, value)


class Calm(Strategy):
    """Spends more on capacity: a valid policy composed with Wild."""

    def decide(self, firm, decision):
        decision.set_allocation(capacity=0.4)


class WildAll(Strategy):
    """In array form: every firm of the policy prices at NaN."""

    @classmethod
    def decide_all(cls, parts, firms, decisions):
        decisions.price = np.full(len(parts), np.nan)
'''
"""A user's strategy module: ``cx_wild_decisions`` (one name, imported once per process)."""


@pytest.fixture(scope="module")
def wild(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the strategy module :data:`WILD`, where the scenarios go."""
    folder = tmp_path_factory.mktemp("wild")
    (folder / "cx_wild_decisions.py").write_text(WILD)
    return folder


def wild_firm(folder: Path, strategy: str, levers: str = "", name: str = "wild.toml") -> Path:
    """MINIMAL with firm B deciding by ``strategy`` (a TOML value) with ``levers``."""
    old = 'name = "B"\nindustry = "banking"'
    line = f"strategy = {strategy}" + (f"\nlevers = {{ {levers} }}" if levers else "")
    return write(folder, "steps = 6\n" + MINIMAL.replace(old, f"{old}\n{line}"), name)


def run_line(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """Exit code and the one line printed on stderr, asserting no traceback."""
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    err = captured.err.strip()
    assert "\n" not in err, err
    return code, err


@pytest.mark.parametrize(
    ("field", "value", "shown", "expected"),
    [
        ("price", "inf", "inf", "a finite number > 0 of size at most 1e+15"),
        ("price", "1e300", "1e+300", "a finite number > 0 of size at most 1e+15"),
        ("price", "-5", "-5.0", "a finite number > 0"),
        ("promise", "nan", ", nan, ", "4 finite numbers, one per attribute (reliability, "),
        ("allocation", "-inf", "[0.3, -inf, 0.25, 0.15]", "4 finite numbers >= 0 with a"),
        ("focus", "inf", "[0.25, inf, 0.25, 0.25]", "4 finite numbers >= 0 with a positive"),
        ("retention_mix", "nan", "[0.25, nan, 0.25, 0.25]", "4 finite numbers >= 0 with"),
        ("feature_share", "nan", "nan", "a share: a finite number from 0 to 1"),
        ("teaching", "1.5", "1.5", "a share: a finite number from 0 to 1"),
    ],
)
def test_a_strategy_deciding_a_number_out_of_range_is_one_line(
    wild, tmp_path, capsys, field, value, shown, expected
) -> None:
    """A user's strategy that decides inf, NaN or a number out of its field's range mid-run
    was a ValueError traceback from run: one line naming the module's file, the class, the
    firm, the field, the step and what was expected; exit code 2; the earlier results that
    --out --force would replace are left as they were."""
    levers = f'field = "{field}", value = "{value}"'
    out = tmp_path / "out"
    fine = wild_firm(wild, '"cx_wild_decisions:Wild"', levers + ", at_step = 99", "fine.toml")
    code, _ = run_line(capsys, "run", str(fine), "--out", str(out), "--quiet")
    assert code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    path = wild_firm(wild, '"cx_wild_decisions:Wild"', levers)
    code, err = run_line(capsys, "run", str(path), "--out", str(out), "--force", "--quiet")
    assert code == 2
    module = wild / "cx_wild_decisions.py"
    assert err.startswith(
        f"cxsim: error: {module}: Wild.decide: firm 'B' (firms[1]) set {field} to "
    )
    assert shown in err and f" at step 2; expected {expected}" in err, err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_an_array_form_deciding_nan_is_named_at_its_first_decision(wild, capsys) -> None:
    """The firms of a policy with an array form decide at once; the one whose row is refused
    is named, with the policy's decide_all (here before the first step)."""
    path = wild_firm(wild, '"cx_wild_decisions:WildAll"', name="all.toml")
    code, err = run_line(capsys, "run", str(path), "--quiet")
    assert code == 2
    assert err == (
        f"cxsim: error: {wild / 'cx_wild_decisions.py'}: WildAll.decide_all: firm 'B' "
        "(firms[1]) set price to nan at step 0 (its first decision); expected a finite "
        "number > 0 of size at most 1e+15"
    )


def test_in_a_composition_the_policy_that_decided_it_is_named(wild, capsys) -> None:
    strategy = '["cx_wild_decisions:Calm", "overpromise", "cx_wild_decisions:Wild"]'
    path = wild_firm(wild, strategy, 'field = "promise", value = "inf"', "comp.toml")
    code, err = run_line(capsys, "run", str(path), "--quiet")
    assert code == 2 and ": Wild.decide: firm 'B' (firms[1]) set promise to " in err, err


def test_a_promise_outside_0_to_1_is_clipped_as_documented(wild) -> None:
    """Finite numbers out of a field's range: a promise is clipped to 0..1 (docs/MODEL.md 7.1),
    the other fields are refused (above)."""
    import sim

    for value, clipped in (("1.7", 1.0), ("-0.4", 0.0)):
        path = wild_firm(wild, '"cx_wild_decisions:Wild"', f'field = "promise", value = "{value}"')
        model = sim.CustomerMarket(path).run(4)
        assert model.firm_state.promise[1, 1] == clipped
        assert np.isfinite(model.firm_metrics()["satisfaction"].dropna()).all()


def test_a_sweep_records_the_same_line_for_the_run(wild, tmp_path, capsys) -> None:
    """A sweep keeps going when a run fails (a run's failure is data, exit code 1): the failed
    run is recorded with the same one line."""
    path = wild_firm(wild, '"cx_wild_decisions:Wild"', name="sweep_wild.toml")
    spec = write(
        tmp_path,
        f'name = "w"\nscenario = "{path}"\nreplicates = 1\nsteps = 4\n'
        '[[parameters]]\nkey = "firms.A.price"\nvalues = [90]\n',
        "sweep.toml",
    )
    code = main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--serial", "--quiet"])
    text = capsys.readouterr().out
    assert code == 1 and "Traceback" not in text
    assert (
        f"ScenarioError: {wild / 'cx_wild_decisions.py'}: Wild.decide: firm 'B' (firms[1]) set "
        "price to inf at step 2; expected a finite number > 0" in text
    ), text
