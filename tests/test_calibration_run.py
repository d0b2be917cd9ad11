"""Calibrations end to end on a tiny market: determinism, resume, outputs, recovery, the CLI."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.progress import CalibrationProgress
from sim.calibration.run import CalibrationInterrupted, calibrate
from sim.calibration.synthetic import synthetic_observations
from sim.cli import main
from sim.scenario import load_scenario
from sim.sweep.executors import DaskExecutor, LocalExecutor, SerialExecutor

pytest.importorskip("pyabc")

FIXTURES = Path(__file__).parent / "fixtures" / "calibration"
MARKET = str(FIXTURES / "market.toml")
DATA = str(FIXTURES / "retention.csv")

TINY = {
    "calibration": {
        "seed": 5,
        "population": 10,
        "generations": 1,
        "max_simulations": 200,
        "predictive": 4,
    },
    "parameters": {
        "switching.intercept": {"prior": "uniform", "low": -4.0, "high": 0.0},
        "satisfaction.loss_aversion": {},
    },
}


@pytest.fixture(scope="session")  # not "module": the slow tests run after the others
# (tests/conftest.py), which would tear a module fixture down and build it again for them
def serial_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("serial") / "out"
    return calibrate(MARKET, DATA, TINY, out, executor=SerialExecutor())


@pytest.mark.slow
def test_the_posterior_does_not_depend_on_the_executor(serial_run, tmp_path: Path) -> None:
    two = calibrate(MARKET, DATA, TINY, tmp_path / "local", executor=LocalExecutor(2))
    pd.testing.assert_frame_equal(serial_run.posterior, two.posterior)
    from distributed import Client

    # the scheduler serves /health over HTTP even without a dashboard: on a port of its own, as
    # the command's LocalCluster's, so another session's cluster on 8787 is not in the way
    with Client(
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as client:
        dask = calibrate(
            MARKET, DATA, TINY, tmp_path / "dask", executor=DaskExecutor(client=client)
        )
    pd.testing.assert_frame_equal(serial_run.posterior, dask.posterior)


class CountingExecutor(SerialExecutor):
    """Runs in this process and keeps what each ``map`` was given: (function, runs per task)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []

    def map(self, fn, tasks):
        tasks = list(tasks)
        self.calls.append((fn.__name__, [len(getattr(t, "tasks", [t])) for t in tasks]))
        return super().map(fn, tasks)


def test_runs_stepped_together_give_the_numbers_of_runs_one_by_one() -> None:
    from sim.calibration.run import prepare
    from sim.calibration.simulate import Simulator
    from sim.calibration.summaries import Summaries

    inputs = prepare(MARKET, DATA, TINY)
    summaries = Summaries(inputs.observed, inputs.base.steps_per_year)
    rng = np.random.default_rng(3)
    batch = [
        (f"test/{i}", {p.key: float(p.sample(rng, 1)[0]) for p in inputs.spec.priors})
        for i in range(6)
    ]
    batch.append(("test/refused", {"switching.intercept": -2.0, "satisfaction.loss_aversion": 0.5}))

    def simulate(executor, together: bool) -> dict[str, np.ndarray]:
        sim = Simulator(inputs.base, inputs.spec.priors, summaries, 5, executor, batch=together)
        return sim.run(batch)

    counting = CountingExecutor()
    together = simulate(counting, True)
    alone = simulate(SerialExecutor(), False)
    assert counting.calls == [("run_batch", [4, 3])]  # two batches of markets stepped together
    assert together.keys() == alone.keys()
    for key in alone:
        np.testing.assert_array_equal(together[key], alone[key])
    stats = np.array(list(alone.values()))
    assert np.isnan(stats[-1]).all()  # loss aversion below 1 is refused: no rows, in both
    ok = stats[:-1]
    assert np.isfinite(ok).all() and len({tuple(row) for row in ok}) == len(ok)


class StopAfter(CalibrationProgress):
    """Presses Ctrl-C after ``n`` runs."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def run_done(self, ok: bool) -> None:
        super().run_done(ok)
        if self.runs == self.n:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_an_interrupted_calibration_resumes_to_the_same_posterior(
    serial_run, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(CalibrationInterrupted) as stop:
        calibrate(MARKET, DATA, TINY, out, executor=SerialExecutor(), progress=StopAfter(17))
    assert stop.value.runs == 17
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert not (out / "posterior.parquet").exists()
    again = calibrate(MARKET, DATA, TINY, out, executor=SerialExecutor())
    pd.testing.assert_frame_equal(serial_run.posterior, again.posterior)
    assert again.runs_this_session == serial_run.runs_this_session - 17
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["interrupted", "complete"]


def test_outputs_hold_what_a_reader_needs(serial_run) -> None:
    out = serial_run.out
    for name in (
        "posterior.parquet",
        "intervals.csv",
        "identifiability.csv",
        "predictive.parquet",
        "predictive.png",
        "fitted.toml",
        "marginals.png",
    ):
        assert (out / name).is_file(), name
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == 10 and posterior["weight"].sum() == pytest.approx(1.0)
    table = pd.read_csv(out / "intervals.csv").set_index("parameter")
    assert (table["q05"] <= table["median"]).all() and (table["median"] <= table["q95"]).all()
    assert table.loc["satisfaction.loss_aversion", "prior"] == "uniform(1, 3)"
    ident = pd.read_csv(out / "identifiability.csv")
    assert ((ident["ratio"] > 0) & (ident["ratio"] <= 1.2)).all()
    fitted = load_scenario(out / "fitted.toml")
    assert fitted.switching.intercept == pytest.approx(table.loc["switching.intercept", "median"])
    assert fitted.name == "calibration_market_fitted"
    manifest = json.loads((out / "manifest.json").read_text())
    sha = manifest["data"]["sha256"]
    assert len(sha) == 64 and sha in (out / "fitted.toml").read_text()
    assert manifest["posterior_median"]["switching.intercept"] == pytest.approx(
        fitted.switching.intercept
    )
    bands = pd.read_parquet(out / "predictive.parquet")
    assert len(bands) == 10 and (bands["q05"] <= bands["q95"]).all()
    # the BLAS kernels that computed pyabc's proposals (another processor's can change the path)
    from sim.calibration.store import blas_kernels

    assert manifest["sessions"][0]["blas"] == blas_kernels() != []


def test_another_calibration_in_the_same_folder_is_refused(serial_run) -> None:
    other = {**TINY, "calibration": {**TINY["calibration"], "seed": 6}}
    before = sorted(p.name for p in serial_run.out.iterdir())
    from sim.calibration.errors import CalibrationStoreError

    with pytest.raises(
        CalibrationStoreError, match=r"holds another calibration \(other calibration settings\)"
    ):
        calibrate(MARKET, DATA, other, serial_run.out, executor=SerialExecutor())
    assert sorted(p.name for p in serial_run.out.iterdir()) == before


@pytest.mark.slow
def test_a_folders_own_inputs_given_back_run_the_same_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """calibration.toml, scenario.toml and observed.csv of a folder, given back to the command
    in another folder, run the calibration as it ran (the command line's overrides and [set]
    included): the same posterior with the same seed. Given back in the same folder they are
    the same calibration: it resumes, with nothing left to run."""
    import tomli_w

    calib = tmp_path / "c.toml"
    calib.write_text(tomli_w.dumps({**TINY, "set": {"market.customers": 120}}))
    first, other = tmp_path / "first", tmp_path / "other"
    quiet = ["--serial", "--quiet"]
    assert (
        main(["calibrate", MARKET, DATA, str(calib), "--out", str(first), "--seed", "6", *quiet])
        == 0
    )
    inputs = [str(first / name) for name in ("scenario.toml", "observed.csv", "calibration.toml")]
    assert main(["calibrate", *inputs, "--out", str(other), *quiet]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        pd.read_parquet(first / "posterior.parquet"), pd.read_parquet(other / "posterior.parquet")
    )
    for name in ("calibration.toml", "scenario.toml", "observed.csv"):
        assert (other / name).read_text() == (first / name).read_text(), name
    written = (first / "calibration.toml").read_text()
    assert "seed = 6\n" in written and '"market.customers" = 120' in written
    one, two = (json.loads((f / "manifest.json").read_text()) for f in (first, other))
    assert one["identity"] == two["identity"]
    assert one["data"]["file"] == DATA and two["data"]["file"] == inputs[1]

    assert main(["calibrate", *inputs, "--out", str(first), *quiet]) == 0
    sessions = json.loads((first / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["complete", "complete"]
    assert sessions[-1]["runs"] == 0
    assert json.loads((first / "manifest.json").read_text())["data"]["file"] == DATA
    pd.testing.assert_frame_equal(
        pd.read_parquet(first / "posterior.parquet"), pd.read_parquet(other / "posterior.parquet")
    )
    # another seed over them: another calibration, refused in words
    code = main(["calibrate", *inputs, "--out", str(first), "--seed", "7", *quiet])
    err = capsys.readouterr().err
    assert code == 2 and "holds another calibration (other calibration settings)" in err


def test_a_folder_whose_identity_another_version_recorded_says_so(tmp_path: Path) -> None:
    from sim.calibration.errors import CalibrationStoreError
    from sim.calibration.store import CalibrationStore

    out = tmp_path / "out"
    out.mkdir()
    old = {"data_sha256": "a", "calibration": "b", "scenario": "c"}  # before observed_sha256
    (out / "manifest.json").write_text(json.dumps({"identity": old, "sessions": []}))
    now = {"observed_sha256": "a", "calibration": "b", "scenario": "c"}
    with pytest.raises(CalibrationStoreError, match="identity recorded by another version"):
        CalibrationStore.open(out, now)


@pytest.mark.slow
class FrozenProbe(StopAfter):
    """Notes whether the objects held before the calibration are out of the collector's passes
    while it runs, then presses Ctrl-C."""

    def run_done(self, ok: bool) -> None:
        import gc

        self.frozen = gc.get_freeze_count()
        super().run_done(ok)


def test_a_calibration_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    probe = FrozenProbe(3)
    with pytest.raises(CalibrationInterrupted):
        calibrate(MARKET, DATA, TINY, tmp_path / "out", executor=SerialExecutor(), progress=probe)
    assert probe.frozen > 10_000  # what the test process held, frozen while it ran
    assert gc.get_freeze_count() == 0  # and given back when it stopped, here by Ctrl-C


def test_the_churn_level_is_recovered_from_survival_curves(tmp_path: Path) -> None:
    """Two markets that differ only in churn: each posterior holds its own truth, in order."""
    template = pd.DataFrame(
        [("survival", f, 0, y) for f in ("Acme", "Rival") for y in (1.0, 1.25, 1.5)],
        columns=["series", "firm", "cohort", "year"],
    )
    template["n"] = 40
    calib = {
        "calibration": {"seed": 2, "population": 15, "generations": 2, "predictive": 0},
        "parameters": {"switching.intercept": {"prior": "uniform", "low": -4.0, "high": 0.0}},
    }
    found = {}
    for truth in (-3.2, -0.8):
        data = synthetic_observations(MARKET, {"switching.intercept": truth}, template, seed=9)
        result = calibrate(MARKET, data, calib, tmp_path / str(truth), executor=SerialExecutor())
        row = result.intervals.iloc[0]
        assert row["q05"] <= truth <= row["q95"], (truth, row.to_dict())
        assert result.identifiability.iloc[0]["ratio"] < 0.8
        found[truth] = row["median"]
    assert found[-3.2] < found[-0.8] - 1.0


# -- the command line -----------------------------------------------------------------------


def test_cli_bad_data_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("series,firm,cohort,year,value\nsurvival,Acme,0,1,0.9\nsurvival,Acme,0,2,0.95\n")
    calib = tmp_path / "c.toml"
    calib.write_text('[parameters."satisfaction.loss_aversion"]\n')
    out = tmp_path / "out"
    code = main(["calibrate", MARKET, str(bad), str(calib), "--out", str(out), "--serial"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and err.startswith(f"cxsim: error: {bad}, row 2, column value")
    assert not out.exists()


def test_a_row_after_the_scenarios_run_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The runs last until the latest row: a year typed 50 for 0.5 would make every run of a
    two-year market fifty years long, without a word."""
    rows = Path(DATA).read_text().splitlines()
    rows[10] = rows[10].replace(",1.5,", ",50,")  # the last NPS row
    bad = tmp_path / "typo.csv"
    bad.write_text("\n".join(rows) + "\n")
    calib = tmp_path / "c.toml"
    calib.write_text('[parameters."satisfaction.loss_aversion"]\n')
    out = tmp_path / "out"
    code = main(["calibrate", MARKET, str(bad), str(calib), "--out", str(out), "--serial"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert err.startswith(f"cxsim: error: {bad}, row 10, column year: 50 is after the scenario's")
    assert "expected a year up to 2" in err
    assert not out.exists()


def test_cli_bad_calibration_file_is_exit_2(tmp_path: Path, capsys) -> None:
    calib = tmp_path / "c.toml"
    calib.write_text('[parameters."economics.marketing_reference"]\n')
    code = main(["calibrate", MARKET, DATA, str(calib), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "no plausible range" in err and "Traceback" not in err


def test_cli_interrupted_is_exit_130_with_resume_hint(tmp_path: Path, capsys, monkeypatch) -> None:
    import sim.calibration.run as run_module

    def stopped(*args, **kwargs):
        raise CalibrationInterrupted(tmp_path, 12)

    monkeypatch.setattr(run_module, "calibrate", stopped)
    calib = tmp_path / "c.toml"
    calib.write_text('[parameters."satisfaction.loss_aversion"]\n')
    code = main(["calibrate", MARKET, DATA, str(calib), "--out", str(tmp_path / "o")])
    assert code == 130 and "Run the same command again to resume" in capsys.readouterr().err


def test_cli_prints_the_intervals_and_the_files(serial_run, capsys, tmp_path: Path) -> None:
    calib = tmp_path / "c.toml"
    import tomli_w

    calib.write_text(tomli_w.dumps(TINY))
    code = main(
        ["calibrate", MARKET, DATA, str(calib), "--out", str(serial_run.out), "--serial", "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "switching.intercept" in out and "fitted.toml" in out and "90% band" in out
    assert np.isfinite(serial_run.epsilon)


def test_the_line_progress_ends_the_last_generation_before_its_summary(tmp_path: Path) -> None:
    """In a log, the last generation's line comes before "N generations, threshold ...", and
    the predictive phase after it (the summary was printed between the two generations' lines
    when the line of a phase was printed only as the next began)."""
    import io

    from sim.calibration.progress import PlainProgress

    stream = io.StringIO()
    calibrate(
        MARKET,
        DATA,
        TINY,
        tmp_path / "out",
        executor=SerialExecutor(),
        progress=PlainProgress(stream=stream, interval=1e9),
    )
    lines = [line.split(":")[0] for line in stream.getvalue().splitlines()]
    summary = next(i for i, line in enumerate(lines) if line.startswith("1 generation, threshold"))
    assert lines[summary - 1] == "generation 1" and lines[summary + 1] == "predictive"
    assert lines.index("prior sample") < summary


def test_the_line_progress_waits_its_interval_before_a_line_of_runs() -> None:
    """The first run's line said '1 runs, 1.56 runs/s' (the workers' start-up, not the
    pace: 29 runs/s a second later); a line comes at a phase's end or after the interval."""
    import io

    from sim.calibration.progress import PlainProgress

    stream = io.StringIO()
    progress = PlainProgress(stream=stream, interval=3600)
    progress.start("serial (1 worker)")
    progress.set_phase("prior sample", 20)
    progress.run_done(True)
    assert stream.getvalue().splitlines() == ["calibrating on serial (1 worker)"]
    progress.stop()
    assert stream.getvalue().splitlines()[-1].startswith("prior sample: 0/20 accepted, 1 run (")


def test_max_simulations_starts_no_generation_past_it_and_says_so(tmp_path: Path, capsys) -> None:
    """The budget is checked between generations, as pyabc's max_total_nr_simulations is: the
    generation that crosses it runs to its end (runs used pass the budget), no other starts,
    and the manifest and the CLI say that the budget, not ``generations``, ended the search."""
    import sqlite3

    import tomli_w

    calib = tmp_path / "c.toml"
    calib.write_text(tomli_w.dumps(TINY))
    argv = ["calibrate", MARKET, DATA, str(calib), "--out", str(tmp_path / "o"), "--serial"]
    argv += ["--quiet", "--generations", "3", "--max-simulations", "15"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    with sqlite3.connect(tmp_path / "o" / "abc.sqlite") as db:
        samples = [n for (n,) in db.execute("SELECT nr_samples FROM populations ORDER BY t")]
    assert samples[0] == 10  # the prior sample: 10 runs, under the budget of 15
    assert len(samples) == 2  # so one generation started, crossed the budget and ended it
    assert sum(samples[:-1]) < 15 <= sum(samples)
    result = json.loads((tmp_path / "o" / "manifest.json").read_text())["result"]
    assert result["generations"] == 1 and result["runs_used"] == sum(samples)
    assert result["stopped_by"] == "max_simulations"
    assert f"1 generation of 3: max_simulations 15 reached, by {sum(samples)} runs" in out


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 only")
def test_the_manifest_names_the_blas_kernels_that_computed_the_proposals() -> None:
    """The same seed gave another posterior of the worked example on another processor, through
    OpenBLAS's choice of kernels (docs/calibration.md); each session records that choice, and
    it follows OPENBLAS_CORETYPE, which names it (Haswell's: AVX2)."""
    from numpy._core._multiarray_umath import __cpu_features__

    if not __cpu_features__.get("AVX2"):
        pytest.skip("Haswell's kernels need AVX2")
    import ast
    import subprocess
    import sys

    code = "import numpy, scipy.linalg; from sim.calibration.store import blas_kernels; "
    code += "print(blas_kernels())"
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    kernels = ast.literal_eval(done.stdout)
    if not any(k.startswith("openblas") for k in kernels):
        pytest.skip(f"numpy and SciPy use another BLAS: {kernels}")
    assert all(" Haswell (" in k for k in kernels if k.startswith("openblas")), kernels


def test_a_resume_on_other_blas_kernels_says_its_posterior_can_differ(tmp_path: Path) -> None:
    """A session resumed with other BLAS kernels than an earlier one's (another processor) goes
    on, and says that the generations it adds can differ from one uninterrupted run's."""
    out = tmp_path / "out"
    with pytest.raises(CalibrationInterrupted):
        calibrate(MARKET, DATA, TINY, out, executor=SerialExecutor(), progress=StopAfter(5))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["sessions"][0]["blas"] = ["openblas 0.3.31 OtherCore (libopenblas.so)"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    progress = CalibrationProgress()
    calibrate(MARKET, DATA, TINY, out, executor=SerialExecutor(), progress=progress)
    notes = [line for line in progress.log if "BLAS kernels" in line]
    assert len(notes) == 1 and "OtherCore" in notes[0], progress.log
    # resumed on the same kernels: nothing to say
    same = tmp_path / "same"
    with pytest.raises(CalibrationInterrupted):
        calibrate(MARKET, DATA, TINY, same, executor=SerialExecutor(), progress=StopAfter(5))
    progress = CalibrationProgress()
    calibrate(MARKET, DATA, TINY, same, executor=SerialExecutor(), progress=progress)
    assert progress.log[0].startswith("resuming") and not any("BLAS" in x for x in progress.log)
