"""A scenario's numbers must be numbers: ``true`` or ``"2000"`` where a number is expected is one
clear error naming the key, never converted (review finding 3); integers for floats, whole
floats for integers, NumPy scalars and ``--set`` values keep working."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.test_bad_input import MINIMAL

ROOT = Path(__file__).resolve().parents[1]
FIRM_A = 'name = "A"\nindustry = "banking"'


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(source) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source)
    return info.value.lines


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "customers = 50",
            'customers = "2000"',
            'market.customers: expected a whole number from 2 to 50,000,000, got "2000"',
        ),
        (
            "customers = 50",
            "customers = true",
            "market.customers: expected a whole number from 2 to 50,000,000, got true",
        ),
        (
            "customers = 50",
            "customers = 2000.5",
            "market.customers: expected a whole number from 2 to 50,000,000, got 2000.5",
        ),
        (
            FIRM_A,
            FIRM_A + "\ncapability = true",
            "firms[0].capability: expected a number from 0 to 1 or a table of attributes, got true",
        ),
        (
            FIRM_A,
            FIRM_A + '\ncapability = "high"',
            "firms[0].capability: expected a number from 0 to 1 or a table of attributes, "
            'got "high"',
        ),
        (
            FIRM_A,
            FIRM_A + "\ncapability = [1]",
            "firms[0].capability: expected a number from 0 to 1 or a table of attributes, got [1]",
        ),
        (
            FIRM_A,
            FIRM_A + "\ncapability = { speed = true }",
            "firms[0].capability.speed: expected a number from 0 to 1, got true",
        ),
        (
            FIRM_A,
            FIRM_A + '\ncapability = { speed = "0.5" }',
            'firms[0].capability.speed: expected a number from 0 to 1, got "0.5"',
        ),
        (FIRM_A, FIRM_A + "\nprice = true", "firms[0].price: expected a number > 0, got true"),
        (FIRM_A, FIRM_A + '\nprice = "90"', 'firms[0].price: expected a number > 0, got "90"'),
        (FIRM_A, FIRM_A + "\nregion = true", "firms[0].region: expected a whole number, got true"),
        (
            'name = "tiny"',
            'name = "tiny"\nseed = "7"',
            'seed: expected a whole number >= 0, got "7"',
        ),
        (
            'name = "tiny"',
            'name = "tiny"\nsteps = true',
            "steps: expected a whole number from 1 to 10,000,000, got true",
        ),
        (
            "[market]",
            '[trust]\ngain = "0.5"\n[market]',
            'trust.gain: expected a number from 0 to 1, got "0.5"',
        ),
        (
            "[market]",
            "[network]\nk = false\n[market]",
            "network.k: expected a whole number >= 2, got false",
        ),
        (
            "[market]",
            '[[segments]]\nname = "all"\nweights = { speed = "0.3" }\n[market]',
            'segments[0].weights.speed: expected a number, got "0.3"',
        ),
    ],
)
def test_a_wrong_type_is_one_line_naming_the_key_in_tomls_terms(tmp_path, old, new, line) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    assert problems_of(path) == [f"{path}: {line}"]


def test_steps_true_is_blamed_on_steps_not_on_a_claim(tmp_path) -> None:
    text = (ROOT / "scenarios" / "overpromise_vs_honest.toml").read_text()
    assert "\nsteps = 520\n" in text and "[[claims]]" in text
    path = write(tmp_path, text.replace("\nsteps = 520\n", "\nsteps = true\n"))
    assert problems_of(path) == [
        f"{path}: steps: expected a whole number from 1 to 10,000,000, got true"
    ]


def test_check_lists_every_wrong_type_one_line_each_exit_2(tmp_path, capsys) -> None:
    text = (ROOT / "scenarios" / "overpromise_vs_honest.toml").read_text()
    for old, new in [
        ("customers = 2000", 'customers = "2000"'),
        ("capability = 0.65", "capability = true"),
        ("price = 100", "price = true"),
        ("seed = 7", 'seed = "7"'),
        ("steps = 520", "steps = true"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    path = write(tmp_path, text)
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).strip().splitlines()
    assert "Traceback" not in captured.out + captured.err
    assert sorted(lines) == sorted(
        f"BAD {path}: {line}"
        for line in [
            'seed: expected a whole number >= 0, got "7"',
            "steps: expected a whole number from 1 to 10,000,000, got true",
            'market.customers: expected a whole number from 2 to 50,000,000, got "2000"',
            "firms[0].capability: expected a number from 0 to 1 or a table of attributes, got true",
            "firms[0].price: expected a number > 0, got true",
        ]
    )


def test_integers_are_numbers_and_whole_floats_are_whole_numbers(tmp_path) -> None:
    text = MINIMAL.replace("customers = 50", "customers = 50.0").replace(
        FIRM_A, FIRM_A + "\nprice = 1\ncapability = 1\ncapacity = 0", 1
    )
    text = text.replace("[market]", "[trust]\ngain = 1\n[network]\np = 0\n[market]")
    sc = load_scenario(write(tmp_path, text, "ok.toml"))
    assert sc.market.customers == 50 and type(sc.market.customers) is int
    firm = sc.firms[0]
    assert (firm.price, firm.capability, firm.capacity) == (1.0, 1.0, 0.0)
    assert all(type(x) is float for x in (firm.price, firm.capability, firm.capacity))
    assert sc.trust.gain == 1.0 and sc.network.p == 0.0
    dict_cap = load_scenario(
        write(tmp_path, MINIMAL.replace(FIRM_A, FIRM_A + "\ncapability = { speed = 1 }"), "d.toml")
    )
    assert dict_cap.firms[0].capability == {"speed": 1.0}


def test_numpy_scalars_are_the_numbers_they_hold() -> None:
    sc = load_scenario(
        "overpromise_vs_honest",
        {
            "market.customers": np.int64(500),
            "firms[0].capability": np.float64(0.9),
            "firms[1].price": np.float32(90.5),
            "complaints.recovery_memory_weeks": np.float64(26.0),  # a robustness world's value
            "mechanisms.word_of_mouth": np.bool_(False),
            "firms[1].levers.inflation": np.float64(0.2),
        },
    )
    assert sc.market.customers == 500 and type(sc.market.customers) is int
    assert sc.firms[0].capability == 0.9 and sc.firms[1].price == 90.5
    assert sc.complaints.recovery_memory_weeks == 26
    assert type(sc.complaints.recovery_memory_weeks) is int
    assert sc.mechanisms.word_of_mouth is False
    assert sc.firms[1].levers == {"inflation": 0.2}
    assert problems_of(
        {**load_scenario("overpromise_vs_honest").to_dict(), "seed": np.bool_(True)}
    ) == ["<scenario>: seed: expected a whole number >= 0, got true"]


def test_set_values_are_typed_by_toml(capsys) -> None:
    args = ["show", "overpromise_vs_honest", "--set", "market.customers=500"]
    assert main([*args, "--set", "firms[0].capability=0.9", "--set", "firms[1].price=1"]) == 0
    shown = capsys.readouterr().out
    assert "customers = 500\n" in shown and "capability = 0.9\n" in shown
    assert main(["show", "overpromise_vs_honest", "--set", "market.customers=true"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "cxsim: error: --set market.customers=true: expected a whole number from 2 to "
        "50,000,000, got true"
    ]
    assert main(["show", "overpromise_vs_honest", "--set", 'firms[0].capability="high"']) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        'cxsim: error: --set firms[0].capability="high": expected a number from 0 to 1 or a '
        'table of attributes, got "high"'
    ]


SCENARIO_FILES = sorted(
    {
        *glob.glob(str(ROOT / "scenarios" / "*.toml")),
        *glob.glob(str(ROOT / "experiments" / "calibration" / "*_market.toml")),
        *glob.glob(str(ROOT / "tests" / "fixtures" / "*" / "tiny.toml")),
        *glob.glob(str(ROOT / "tests" / "fixtures" / "calibration" / "market.toml")),
    }
)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_every_shipped_scenario_file_still_loads(path) -> None:
    load_scenario(path)


SWEEPS = sorted(glob.glob(str(ROOT / "experiments" / "*.toml")))


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: Path(p).stem)
def test_every_experiment_still_plans(path) -> None:
    from sim.sweep.plan import build_plan

    build_plan(path)  # the base scenario and every design point's scenario


def test_lessons_and_calibration_examples_still_load() -> None:
    from sim.calibration.spec import load_calibration
    from sim.lessons import load_lessons

    assert load_lessons()
    folder = ROOT / "experiments" / "calibration"
    for spec, market in [
        ("example_calibration", "recovery_market"),
        ("cdnow_calibration", "cdnow_market"),
    ]:
        load_calibration(folder / f"{spec}.toml", load_scenario(folder / f"{market}.toml"))


def test_robustness_worlds_still_load() -> None:
    """Sampled worlds give integer parameters whole NumPy floats; they are whole numbers."""
    from sim.robustness.study import plan_study

    study = plan_study(
        "overpromise_vs_honest", ROOT / "experiments" / "robustness" / "ranges.toml", worlds=8
    )
    assert "complaints.recovery_memory_weeks" in study.worlds.columns
    base = load_scenario(study.scenario, dict(study.config.fixed))
    for _, row in study.worlds.iterrows():
        load_scenario(base, {key: row[key] for key in study.worlds.columns})


@pytest.mark.parametrize(
    ("value", "words"),
    [("true", "expected a number from 0 to 2, got true"), ('"0.3"', 'got "0.3"')],
)
def test_a_lever_of_the_wrong_type_is_refused_too(tmp_path, value, words) -> None:
    """Levers are validated by their strategy's own model, after the scenario's: the same rule."""
    text = (ROOT / "scenarios" / "overpromise_vs_honest.toml").read_text()
    assert "levers = { inflation = 0.3 }" in text
    path = write(tmp_path, text.replace("inflation = 0.3", f"inflation = {value}"))
    (line,) = problems_of(path)
    assert line.startswith(f"{path}: firms[1].levers.inflation: ") and line.endswith(words)


def test_a_strategy_without_levers_says_so() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("overpromise_vs_honest", {"firms[0].levers.inflation": 0.5})
    assert info.value.lines[-1].endswith("unknown lever: honest has no levers")
