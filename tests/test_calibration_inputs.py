"""Calibration inputs: the observed-data format and the calibration file, good and bad.

Every bad input is one message naming the file, the row or key, and what was expected.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.data import observed_csv, read_observed
from sim.calibration.errors import CalibrationFileError, DataError
from sim.calibration.spec import load_calibration
from sim.calibration.summaries import Summaries
from sim.scenario import load_scenario

FIXTURES = Path(__file__).parent / "fixtures" / "calibration"
MARKET = FIXTURES / "market.toml"
FIRMS = ["Acme", "Rival"]

HEADER = "series,firm,cohort,year,value,se,n,holdout\n"


def write(tmp_path: Path, body: str, header: str = HEADER, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body)
    return path


def test_the_fixture_reads_with_market_rows_holdout_and_hash() -> None:
    data = read_observed(FIXTURES / "retention.csv", FIRMS)
    assert len(data) == 10
    assert data.frame["holdout"].sum() == 3
    assert data.groups()[:2] == [("survival", "Acme", 0), ("survival", "Rival", 0)]
    assert len(data.sha256) == 64
    assert data.horizon_years == 1.5


def test_a_blank_or_market_firm_means_the_whole_market(tmp_path: Path) -> None:
    path = write(tmp_path, "churn,,,1,0.2,,,\nnps,market,,1,10,,,\n")
    assert read_observed(path, FIRMS).frame["firm"].tolist() == ["", ""]


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    df = pd.read_csv(FIXTURES / "retention.csv")
    df.to_parquet(tmp_path / "d.parquet")
    a = read_observed(tmp_path / "d.parquet", FIRMS).frame
    b = read_observed(FIXTURES / "retention.csv", FIRMS).frame
    assert np.allclose(a["value"], b["value"]) and a["holdout"].tolist() == b["holdout"].tolist()


@pytest.mark.parametrize(
    ("body", "row", "column", "words"),
    [
        ("survival,Acmee,0,1,0.9,,,\n", 1, "firm", "unknown firm 'Acmee'"),
        ("churn,Acme,,1,-0.1,,,\n", 1, "value", "negative"),
        ("survival,Acme,0,1,85,,,\n", 1, "value", "write 0.85 for 85%"),
        ("nps,Acme,,1,130,,,\n", 1, "value", "above 100"),
        ("survival,Acme,0,1,0.9,,,\nsurvival,Acme,0,2,0.95,,,\n", 2, "value", "rises"),
        ("retention,Acme,,1,0.9,,,\nloyalty,Acme,,1,0.9,,,\n", 2, "series", "expected one of"),
        ("nps,Acme,,1,abc,,,\n", 1, "value", "expected a number"),
        ("nps,Acme,,1,,,,\n", 1, "value", "is empty"),
        ("nps,Acme,,1,20,,,\nnps,Acme,,1,21,,,\n", 2, "year", "repeats row 1"),
        ("survival,Acme,,1,0.9,,,\n", 1, "cohort", "needs the year its cohort joined"),
        ("survival,Acme,2,1,0.9,,,\n", 1, "year", "before the cohort joined"),
        ("nps,Acme,0,1,20,,,\n", 1, "cohort", "no cohorts"),
        ("share,,,1,0.3,,,\n", 1, "firm", "needs a firm"),
        ("nps,Acme,,-1,20,,,\n", 1, "year", "negative"),
        ("nps,Acme,,1,20,-2,,\n", 1, "se", "negative"),
        ("nps,Acme,,1,20,,0,\n", 1, "n", "at least 1"),
        ("nps,Acme,,1,20,,,maybe\n", 1, "holdout", "true or false"),
    ],
)
def test_bad_rows_name_file_row_and_column(
    tmp_path: Path, body: str, row: int, column: str, words: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(DataError) as err:
        read_observed(path, FIRMS)
    e = err.value
    assert (e.row, e.column) == (row, column), str(e)
    assert str(e).startswith(f"{path}, row {row}, column {column}: ")
    assert words in str(e)
    assert "\n" not in str(e)


def test_a_survival_that_rises_names_both_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "survival,Acme,0,0.5,0.9,,,\nsurvival,Acme,0,1,0.8,,,\nsurvival,Acme,0,1.5,0.85,,,\n",
    )
    with pytest.raises(DataError, match=r"row 3, column value: survival rises from 0.8 \(row 2"):
        read_observed(path, FIRMS)


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("series,firm,year\nnps,Acme,1\n", "value", "missing; expected the columns"),
        ("series,firm,year,value,colour\nnps,Acme,1,3,red\n", "colour", "unknown column"),
        ("series,firm,year,value,holdout\nnps,Acme,1,3,true\n", "holdout", "every row is held"),
    ],
)
def test_bad_files_name_the_column(tmp_path: Path, text: str, column: str, words: str) -> None:
    path = write(tmp_path, text, header="")
    with pytest.raises(DataError) as err:
        read_observed(path, FIRMS)
    assert err.value.column == column and words in str(err.value)


def test_empty_and_foreign_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        read_observed(write(tmp_path, "", header=""), FIRMS)
    with pytest.raises(DataError, match=r"expected a \.csv or \.parquet"):
        read_observed(write(tmp_path, "x", header="", name="d.xlsx"), FIRMS)
    with pytest.raises(DataError, match="no such file"):
        read_observed(tmp_path / "missing.csv", FIRMS)


def test_the_folders_observed_csv_reads_back_to_the_same_rows(tmp_path: Path) -> None:
    """A calibration writes the checked data as observed.csv: read back, the same frame (a
    missing cohort empty, as the reader wants it for nps) and the same text, from CSV or
    Parquet alike."""
    data = read_observed(FIXTURES / "retention.csv", FIRMS)
    text = observed_csv(data)
    assert "\nnps,Acme,,1.0,30.0,6.0,,False\n" in text
    path = tmp_path / "observed.csv"
    path.write_text(text)
    again = read_observed(path, FIRMS)
    pd.testing.assert_frame_equal(again.frame, data.frame)
    assert observed_csv(again) == text
    pd.read_csv(FIXTURES / "retention.csv").to_parquet(tmp_path / "same.parquet")
    assert observed_csv(read_observed(tmp_path / "same.parquet", FIRMS)) == text


# -- the calibration file ---------------------------------------------------------------------


@pytest.fixture
def scenario():
    return load_scenario(MARKET)


def calib(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calib.toml"
    path.write_text(text)
    return path


def test_a_parameter_without_a_prior_takes_the_schema_range(tmp_path: Path, scenario) -> None:
    spec = load_calibration(
        calib(tmp_path, '[parameters."satisfaction.loss_aversion"]\n[calibration]\nseed = 3\n'),
        scenario,
    )
    (p,) = spec.priors
    assert (p.form, p.low, p.high) == ("uniform", 1.0, 3.0)
    assert p.source.startswith("schema: Tversky & Kahneman")
    assert spec.seed == 3 and spec.population == 200


def test_unquoted_keys_nest_and_still_work(tmp_path: Path, scenario) -> None:
    spec = load_calibration(calib(tmp_path, "[parameters.acquisition.q]\n"), scenario)
    assert spec.keys == ["acquisition.q"]


def test_explicit_priors_of_each_form(tmp_path: Path, scenario) -> None:
    spec = load_calibration(
        calib(
            tmp_path,
            """
[parameters."switching.intercept"]
prior = "uniform"
low = -4.0
high = 0.0
[parameters."trust.loss"]
prior = "loguniform"
low = 0.1
high = 5.0
[parameters."firms.Rival.levers.inflation"]
prior = "normal"
mean = 0.3
sd = 0.1
low = 0.0
high = 1.0
""",
        ),
        scenario,
    )
    forms = [(p.key, p.form) for p in spec.priors]
    assert forms == [
        ("switching.intercept", "uniform"),
        ("trust.loss", "loguniform"),
        ("firms.Rival.levers.inflation", "normal"),
    ]
    lo, hi = spec.priors[2].interval(0.9)
    assert 0.0 < lo < 0.3 < hi < 1.0
    assert math.isclose(spec.priors[0].interval(1.0)[1], 0.0)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            '[parameters."economics.marketing_reference"]\n',
            "parameters.'economics.marketing_reference'",
            "the schema declares no plausible range for it",
        ),
        (
            '[parameters."firms.Acme.price"]\n',
            "parameters.'firms.Acme.price'",
            "not a parameter of [params]",
        ),
        (
            '[parameters."satisfaction.loss_aversionn"]\nprior="uniform"\nlow=1\nhigh=2\n',
            "parameters.'satisfaction.loss_aversionn'.low",
            "does not accept",
        ),
        (
            '[parameters."satisfaction.loss_aversion"]\nprior="uniform"\nlow=0.5\nhigh=2\n',
            "parameters.'satisfaction.loss_aversion'.low",
            "does not accept",
        ),
        (
            '[parameters."trust.loss"]\nprior="loguniform"\nlow=0\nhigh=2\n',
            "parameters.'trust.loss'.low",
            "needs low > 0",
        ),
        (
            '[parameters."trust.loss"]\nprior="normal"\nmean=1\n',
            "parameters.'trust.loss'.sd",
            "needs mean and sd",
        ),
        (
            '[parameters."trust.loss"]\nprior="beta"\n',
            "parameters.'trust.loss'.prior",
            "expected one of",
        ),
        (
            '[parameters."trust.loss"]\nprior="uniform"\nlow=2\nhigh=1\n',
            "parameters.'trust.loss'.high",
            "expected high > low",
        ),
        (
            "[calibration]\npopulation = 3\n[parameters.acquisition.q]\n",
            "calibration.population",
            "at least 10",
        ),
        (
            "[calibration]\nbudget = 3\n[parameters.acquisition.q]\n",
            "calibration.budget",
            "unknown key",
        ),
        (
            '[calibration]\nseries = ["loyalty"]\n[parameters.acquisition.q]\n',
            "calibration.series",
            "expected names from",
        ),
        ("[calibration]\nseed = 1\n", "parameters", "at least one unknown parameter"),
        ('[set]\n"market.customerz" = 3\n[parameters.acquisition.q]\n', "set.market.customerz", ""),
    ],
)
def test_bad_calibration_files_name_the_key(
    tmp_path: Path, scenario, text: str, key: str, words: str
) -> None:
    path = calib(tmp_path, text)
    with pytest.raises(CalibrationFileError) as err:
        load_calibration(path, scenario)
    assert err.value.key == key, str(err.value)
    assert str(err.value).startswith(f"{path}: {key}: ")
    assert words in str(err.value)


def test_whole_settings_take_a_whole_float_as_a_scenario_does(tmp_path: Path, scenario) -> None:
    spec = load_calibration(
        calib(tmp_path, "[calibration]\npopulation = 20.0\n[parameters.acquisition.q]\n"),
        scenario,
    )
    assert spec.population == 20 and isinstance(spec.population, int)
    for value in ("20.5", "true", '"20"'):
        path = calib(tmp_path, f"[calibration]\npopulation = {value}\n[parameters.acquisition.q]\n")
        with pytest.raises(CalibrationFileError, match="expected a whole number"):
            load_calibration(path, scenario)


WRITTEN = """
[calibration]
seed = 4
series = ["survival"]
population = 12

[set]
"market.customers" = 120

[parameters."satisfaction.loss_aversion"]

[parameters."switching.intercept"]
prior = "uniform"
low = -4.0
high = 0.0

[parameters."trust.loss"]
prior = "loguniform"
low = 0.1
high = 5.0
source = "our survey"

[parameters."firms.Rival.levers.inflation"]
prior = "normal"
mean = 0.5
sd = 0.1
high = 1.0

[parameters."market.regions"]
prior = "uniform"
low = 1
high = 3
"""


def test_the_calibration_a_folder_writes_reads_back_as_the_same_calibration(
    tmp_path: Path, scenario
) -> None:
    """calibration.toml (CalibrationSpec.to_dict as TOML) passes the reader's checks and gives
    the same priors, settings, [set] and fit_hash: the folder's identity."""
    import tomli_w

    spec = load_calibration(calib(tmp_path, WRITTEN), scenario)
    written = tmp_path / "calibration.toml"
    written.write_text(tomli_w.dumps(spec.with_changes(seed=9).to_dict()))
    text = written.read_text()
    assert "\nform = " not in text and 'source = "schema: Tversky & Kahneman' in text
    again = load_calibration(written, scenario)
    assert again.priors == spec.priors  # forms, numbers, sources, whole-number flag
    assert [p.integer for p in again.priors] == [False, False, False, False, True]
    assert again.priors[2].source == "our survey"
    assert again.to_dict() == spec.with_changes(seed=9).to_dict()
    assert again.fit_hash() == spec.with_changes(seed=9).fit_hash() != spec.fit_hash()
    assert load_calibration(written, load_scenario(scenario, spec.fixed)).fit_hash() == (
        again.fit_hash()
    )


def test_a_priors_source_is_information_only(tmp_path: Path, scenario) -> None:
    body = '[parameters."trust.loss"]\nprior = "uniform"\nlow = 0.1\nhigh = 5.0\n'
    plain = load_calibration(calib(tmp_path, body), scenario)
    cited = load_calibration(calib(tmp_path, body + 'source = "a survey"\n'), scenario)
    assert plain.priors[0].source == "calibration file"
    assert cited.priors[0].source == "a survey"
    assert cited.fit_hash() == plain.fit_hash()


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (  # the spelling calibration.toml had before it was a calibration file
            '[parameters."trust.loss"]\nform = "uniform"\nlow = 0.1\nhigh = 5.0\n',
            "parameters.'trust.loss'.form",
            "unknown key; expected some of",
        ),
        (
            '[parameters."trust.loss"]\nprior = "uniform"\nlow = 0.1\nhigh = 5.0\ninteger = true\n',
            "parameters.'trust.loss'.integer",
            "unknown key",
        ),
        (
            '[parameters."trust.loss"]\nprior = "uniform"\nlow = 0.1\nhigh = 5.0\nsource = 3\n',
            "parameters.'trust.loss'.source",
            "expected text",
        ),
        (
            '[parameters."satisfaction.loss_aversion"]\nsource = "schema"\n',
            "parameters.'satisfaction.loss_aversion'.prior",
            "missing",
        ),
    ],
)
def test_a_priors_keys_are_checked(
    tmp_path: Path, scenario, text: str, key: str, words: str
) -> None:
    path = calib(tmp_path, text)
    with pytest.raises(CalibrationFileError) as err:
        load_calibration(path, scenario)
    assert err.value.key == key, str(err.value)
    assert str(err.value).startswith(f"{path}: {key}: ") and "\n" not in str(err.value)
    assert words in str(err.value)


# -- what a run says about each row -----------------------------------------------------------


def test_summaries_read_each_series_from_hand_made_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "churn,Acme,,0.5,0.1,,,\nchurn,Acme,,1,0.1,,,\nnps,,,1,10,,,\n"
        "survival,Acme,0,0.5,0.9,,,\npurchases,Acme,0,0.5,0.3,,,\n"
        "purchases,Acme,0,1,0.2,,,true\n",
    )
    data = read_observed(path, FIRMS)
    s = Summaries(data, steps_per_year=4)  # steps of a quarter
    steps = np.arange(0, 5)
    firms = pd.DataFrame(
        {
            "step": steps,
            "name": "Acme",
            "retention_weekly": [1.0, 0.9, 0.8, 0.5, 1.0],
            "nps": 0.0,
        }
    )
    market = pd.DataFrame({"step": steps, "nps": [0, 1, 2, 3, 4.0], "retention_weekly": 1.0})
    cohorts = pd.DataFrame(
        {
            "step": [2, 4],
            "firm": 0,
            "name": "Acme",
            "cohort": 0,
            "joined": [40, 50],
            "remaining": [30, 25],
        }
    )
    out = s.simulate({"market": market, "firms": firms, "cohorts": cohorts})
    assert out[0] == pytest.approx(1 - 0.9 * 0.8)  # steps 1..2 (first period as long as next)
    assert out[1] == pytest.approx(1 - 0.5 * 1.0)  # steps 3..4
    assert out[2] == 4.0  # market NPS at step 4
    assert out[3] == pytest.approx(30 / 40)
    # purchases: share of the cohort's final size (50) times the rate fitted on the fitted row
    assert out[4] == pytest.approx(0.3)  # one fitted row: the rate reproduces it exactly
    assert out[5] == pytest.approx(0.3 / (30 / 50) * (25 / 50))  # held out: same rate


def test_firm_level_purchases_follow_the_firm_customers(tmp_path: Path) -> None:
    path = write(tmp_path, "purchases,Acme,,0.5,0.4,,,\npurchases,Acme,,1,0.1,,,true\n")
    s = Summaries(read_observed(path, FIRMS), steps_per_year=4)
    firms = pd.DataFrame({"step": [1, 2, 3, 4], "name": "Acme", "customers": [100, 80, 60, 50]})
    market = pd.DataFrame({"step": [1, 2, 3, 4], "served": 100})
    out = s.simulate({"market": market, "firms": firms})
    assert not s.needs_cohorts
    # the rate fitted on year 0.5 (80 of the first 100 still customers) carries to year 1
    assert out[0] == pytest.approx(0.4)
    assert out[1] == pytest.approx(0.4 / 0.8 * 0.5)


def test_purchases_by_age_counts_repeat_days_per_member() -> None:
    from sim.calibration.transactions import purchases_by_age

    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
            "date": pd.to_datetime(
                [
                    "2020-01-01",
                    "2020-01-01",
                    "2020-01-10",
                    "2020-02-05",  # a: day 9, day 35
                    "2020-01-03",
                    "2020-01-20",  # b: day 17
                    "2020-01-05",
                ]  # c: no repeat
            ),
        }
    )
    rows = purchases_by_age(log, period_days=28, holdout_after=1, observed_until="2020-03-10")
    assert rows["value"].tolist() == pytest.approx([2 / 3, 1 / 3])  # a twice.. b once; c none
    assert rows["holdout"].tolist() == [False, True]
    assert rows["n"].tolist() == [3, 3]
    read_observed(rows, None)  # the rows are valid observed data
    with pytest.raises(ValueError, match="expected periods <= 2"):
        purchases_by_age(log, period_days=28, periods=3, observed_until="2020-03-10")
