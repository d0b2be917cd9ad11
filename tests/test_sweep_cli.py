"""``cxsim sweep``, ``cxsim analyze`` and ``cxsim sensitivity`` as an analyst types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim.sweep as sw
from sim.cli import main

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")

SWEEP = f"""name = "cli_grid"
description = "A small grid for the CLI tests."
scenario = "{FIXTURE}"
seed = 4
replicates = 3
steps = 30

[[parameters]]
key = "firms.Probe.levers.inflation"
name = "inflation"
values = [0.0, 0.4]

[output]
every = 10

[analysis]
outcomes = ["retention_annual", "firms.Probe.trust"]
"""

SOBOL = f"""name = "cli_sobol"
scenario = "{FIXTURE}"
seed = 4
steps = 15

[design]
kind = "sobol"
samples = 8                 # the test runs it with --samples 4

[[parameters]]
key = "firms.Probe.levers.inflation"
name = "inflation"
low = 0.0
high = 0.6

[[parameters]]
key = "trust.loss"
name = "trust_loss"
low = 0.5
high = 4.0

[output]
every = "final"

[analysis]
outcomes = ["firms.Probe.trust"]
"""


@pytest.fixture
def sweep_file(tmp_path):
    f = tmp_path / "cli_grid.toml"
    f.write_text(SWEEP)
    return f


def test_sweep_then_analyze(sweep_file, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(
        [
            "sweep",
            str(sweep_file),
            "--out",
            str(out),
            "--serial",
            "--quiet",
            "--replicates",
            "2",
            "--steps",
            "40",
            "--customers",
            "150",
            "--set",
            "network.k=4",
        ]
    )
    stdout = capsys.readouterr().out
    assert code == 0
    assert "sweep cli_grid: 4 runs (0 already done); this session 4 ok, 0 failed" in stdout
    assert f"cxsim analyze {out}" in stdout
    m = json.loads((out / "manifest.json").read_text())
    assert m["spec"]["replicates"] == 2 and m["steps"] == 40
    assert m["spec"]["set"] == {"network.k": 4, "market.customers": 150}
    assert sw.open(out).df("market")["customers"].eq(150).all()

    code = main(["analyze", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "mean ± 95% CI half-width across replicates" in stdout
    assert "inflation=0.4" in stdout and "retention_annual" in stdout and "Probe" in stdout
    files = {p.name for p in (out / "analysis").iterdir()}
    assert {
        "summary.csv",
        "retention_annual_by_inflation.png",
        "firms_probe_trust_over_time.png",
    } <= files

    code = main(
        [
            "analyze",
            str(out),
            "--outcome",
            "firms.share",
            "--at",
            "10",
            "--no-charts",
            "--out",
            str(tmp_path / "a2"),
        ]
    )
    assert code == 0
    assert "at step 10 " in capsys.readouterr().out
    code = main(["analyze", str(out), "--outcome", "satisfaction[phones]", "--no-charts"])
    assert code == 0
    assert "satisfaction[phones]" in capsys.readouterr().out  # not eaten as rich markup
    assert [p.name for p in (tmp_path / "a2").iterdir()] == ["summary.csv"]


def test_rerun_resumes_and_other_spec_is_refused_in_one_line(sweep_file, tmp_path, capsys):
    out = tmp_path / "res"
    args = ["sweep", str(sweep_file), "--out", str(out), "--serial", "--quiet", "--steps", "10"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    assert "6 runs (6 already done); this session 0 ok, 0 failed" in capsys.readouterr().out
    assert main([*args, "--replicates", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cxsim: error: {out}: holds results of a different sweep")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (  # the flag's problem, not the sweep file's
            ["--set", "expectations.weight_promis=0.3"],
            "cxsim: error: --set expectations.weight_promis=0.3: unknown key; expected one "
            "of: weight_promise",
        ),
        (["--dask", "nowhere"], "--dask 'nowhere': expected 'local' or a scheduler address"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(sweep_file, tmp_path, capsys, args, expected):
    code = main(["sweep", str(sweep_file), "--out", str(tmp_path / "o"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("cxsim: error: ") and expected in err and err.count("\n") == 1


def test_bad_sweep_file_and_bad_results_folder(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'name = "b"\nscenario = "{FIXTURE}"\n[design]\nkind = "sobol"\n'
        'samples = 12\n[[parameters]]\nkey = "trust.loss"\nlow = 1\nhigh = 2\n'
        '[[parameters]]\nkey = "trust.gain"\nlow = 0\nhigh = 0.1\n'
    )
    assert main(["sensitivity", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"cxsim: error: {bad}: design.samples: expected a power of 2 (Sobol' "
        "sequences converge only then), got 12\n"
    )
    assert main(["analyze", str(tmp_path)]) == 2
    assert "no manifest.json; expected the --out folder" in capsys.readouterr().err


def test_failed_runs_are_listed_and_exit_code_is_1(tmp_path, capsys):
    f = tmp_path / "fails.toml"
    f.write_text(
        f'name = "fails"\nscenario = "{FIXTURE}"\nsteps = 10\n[design]\nkind = "list"\n'
        '[[design.points]]\nlabel = "ok"\nset = { "firms.Probe.levers.inflation" = '
        '0.1 }\n[[design.points]]\nlabel = "boom"\nset = { '
        '"firms.Probe.levers.fail" = true }\n'
    )
    code = main(["sweep", str(f), "--out", str(tmp_path / "o"), "--serial", "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "this session 1 ok, 1 failed" in out
    assert "failed runs (1), recorded in the errors table:" in out
    assert "boom  replicate 0: RuntimeError: sabotage: this run fails on purpose" in out


def test_sensitivity_prints_sobol_indices(tmp_path, capsys):
    f = tmp_path / "sobol.toml"
    f.write_text(SOBOL)
    out = tmp_path / "s"
    code = main(["sensitivity", str(f), "--out", str(out), "--serial", "--quiet", "--samples", "4"])
    stdout = capsys.readouterr().out
    assert code == 0
    assert "this session 16 ok" in stdout  # N (D + 2) = 4 x 4
    assert "Sobol indices" in stdout and "trust_loss" in stdout and "inflation" in stdout
    # 4 samples: the report says the indices are too wide to read, and what would do
    assert "Sobol' indices are imprecise" in stdout and "design.samples =" in stdout
    assert (out / "analysis" / "indices.csv").exists()
    assert (out / "analysis" / "firms_probe_trust_indices.png").exists()


@pytest.mark.parametrize(
    ("mean", "half", "text"),
    [
        (4.84, 656.0, "5 ± 656"),  # no digits finer than the interval
        (0.797, 0.039, "0.797 ± 0.039"),
        (0.92, 0.02, "0.920 ± 0.020"),
        (2958.0, 1445.0, "2,958 ± 1,445"),
        (-0.3, 656.0, "0 ± 656"),  # not -0
        (1.0, 0.0, "1 ± 0"),  # every replicate alike
        (0.5, float("nan"), "0.5"),  # one replicate: no interval
    ],
)
def test_a_mean_is_written_to_the_precision_of_its_interval(
    mean: float, half: float, text: str
) -> None:
    from sim.sweep.cli import mean_and_half_width

    assert mean_and_half_width(mean, half) == text
