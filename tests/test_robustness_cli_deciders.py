"""What ``cxsim robustness`` and its report.md say decides a claim: only parameters whose index
stands out from the estimator's noise (docs/robustness.md, ``Verdict.standouts``); the ranges
file's problems all at once; an --out that is a file; the store's word for another study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.robustness.odds import wilson
from sim.robustness.ranges import RobustnessError, load_config
from sim.robustness.report import Analysis, claims_table, decided_by, markdown
from sim.robustness.study import plan_study
from sim.robustness.verdicts import Verdict

HERE = Path(__file__).parent / "fixtures" / "robustness"
TINY = str(HERE / "tiny.toml")
RANGES = str(HERE / "ranges.toml")


def _verdict(study, rows: list[tuple[str, float, float]], holds: int, worlds: int = 64) -> Verdict:
    imp = pd.DataFrame(rows, columns=["parameter", "S1", "S1_conf"])
    return Verdict(study.claims[0], wilson(holds, worlds), imp)


@pytest.fixture(scope="module")
def study():
    return plan_study(TINY, RANGES)


NOISE = [("complaints.answer_base", 0.23, 0.35), ("economics.backlog_cost", 0.20, 0.33)]
"""The review's 64-world indices: every interval contains 0."""


def test_noise_is_not_named_as_deciding_in_the_cli_line_and_report(study) -> None:
    v = _verdict(study, NOISE, holds=40)
    text = decided_by(v)
    assert text.startswith("no single parameter stands out from the estimator's noise")
    assert "complaints.answer_base" not in text and "decided by" not in text
    analysis = Analysis(study, study.worlds, pd.DataFrame(), [v], 0, 0)
    md = markdown(analysis)
    assert "Deciding parameters" not in md and "complaints.answer_base" not in md
    assert "No single parameter stands out from the estimator's noise" in md
    assert claims_table(analysis)["deciders"].iloc[0] == ""


def test_a_parameter_that_stands_out_is_named_with_its_interval(study) -> None:
    v = _verdict(study, [("trust.loss", 0.42, 0.12), *NOISE], holds=40)
    text = decided_by(v)
    assert text == (
        "decided by (first-order index of the margin ± 95% half-width): trust.loss 0.42 ± 0.12"
    )
    analysis = Analysis(study, study.worlds, pd.DataFrame(), [v], 0, 0)
    assert "Decided by (first-order index of the margin ± 95% half-width): `trust.loss`" in (
        markdown(analysis)
    )
    assert claims_table(analysis)["deciders"].iloc[0] == "trust.loss"


def test_a_claim_that_never_fails_is_decided_by_nothing(study) -> None:
    # holds in 64 of 64: what moves its margin does not decide it
    v = _verdict(study, [("trust.loss", 0.30, 0.10)], holds=64)
    text = decided_by(v)
    assert text.startswith("it never fails in these worlds, so no parameter decides it")
    assert "trust.loss 0.30 ± 0.10" in text and "decided by" not in text
    assert "never holds" in decided_by(_verdict(study, [("trust.loss", 0.30, 0.10)], holds=0))
    noise = _verdict(study, NOISE, holds=64)
    assert decided_by(noise).startswith("no single parameter stands out")


def test_without_indices_the_line_says_why(study) -> None:
    v = _verdict(study, [], holds=10, worlds=20)
    assert decided_by(v).startswith("no sensitivity indices (they need at least 32")


def test_a_ranges_file_reports_every_problem_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(
        'worlds = 3\nreplicas = 2\n[ranges]\n"trust.loss" = [0.5, 0.1]\n"trust.gain" = [0, "x"]\n'
    )
    with pytest.raises(RobustnessError) as e:
        load_config(path)
    lines = str(e.value).splitlines()
    assert lines == [
        f"{path}: replicas: unknown key; expected one of: worlds, replicates, seed, steps, "
        "schema_ranges, hold, set, ranges",
        f"{path}: worlds: expected a whole number from 8 to 100000, got 3",
        f'{path}: ranges."trust.loss": expected low < high, got 0.5 and 0.1',
        f"{path}: ranges.\"trust.gain\": expected a number for high, got 'x'",
    ]


def test_the_cli_prints_each_problem_of_a_ranges_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "r.toml"
    path.write_text('worlds = 3\n[ranges]\n"trust.loss" = [0.5, 0.1]\n')
    code = main(["robustness", TINY, "--ranges", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.splitlines() == [
        f"cxsim: error: {path}: worlds: expected a whole number from 8 to 100000, got 3",
        f'cxsim: error: {path}: ranges."trust.loss": expected low < high, got 0.5 and 0.1',
    ]
    assert not (tmp_path / "o").exists()


def test_an_out_that_is_a_file_is_one_line_and_left_alone(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    code = main(["robustness", TINY, "--ranges", RANGES, "--worlds", "8", "--out", str(afile)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"cxsim: error: {afile}: exists and is not a folder; expected a folder for the "
        "robustness study\n"
    )
    assert afile.read_text() == "mine\n"


def test_another_study_in_the_folder_is_named_without_question_marks(tmp_path: Path) -> None:
    from sim.sweep.store import _mismatch

    old = {"name": "robustness-proactive_disclosure", "spec_file": "", "identity": {"set": 1}}
    plan = type("P", (), {"identity": {"set": 2}})()
    text = _mismatch(tmp_path, old, plan)
    assert "?" not in text
    assert "holds the runs of a different robustness study (of 'proactive_disclosure'" in text
    sweep = _mismatch(tmp_path, {"name": "s", "spec_file": "", "identity": {}}, plan)
    assert "?" not in sweep and "('s', not made from a file; they differ in set)" in sweep
