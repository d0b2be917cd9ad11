"""The command line as a user runs it: run, list, show, check."""

from __future__ import annotations

import json

import pandas as pd

import sim
from sim.cli import main


def test_run_prints_a_table_and_writes_parquet_manifest_and_charts(tmp_path, capsys) -> None:
    out = tmp_path / "ohv"
    code = main(
        [
            "run",
            "overpromise_vs_honest",
            "--steps",
            "30",
            "--seed",
            "7",
            "--customers",
            "400",
            "--out",
            str(out),
            "--plot",
            "--quiet",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    for header in (
        "customers",
        "share",
        "retention/yr",
        "NPS",
        "satisfaction",
        "trust",
        "exp. gap",
        "profit/yr",
    ):
        assert header in text
    assert "Straight Talk" in text and "Big Promises" in text
    firms = pd.read_parquet(out / "firms.parquet")
    model = pd.read_parquet(out / "model.parquet")
    assert len(firms) == 60 and len(model) == 30
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["steps"] == 30
    assert manifest["scenario"] == "overpromise_vs_honest"
    assert len(manifest["scenario_hash"]) == 64 and manifest["versions"]["mesa"] == "3.3.1"
    assert manifest["wall_seconds"] > 0
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert {
        "share.png",
        "retention.png",
        "nps.png",
        "expectation_vs_experience.png",
        "trust.png",
        "early_warning.png",
        "early_warning_leads.png",
    } <= set(pngs)
    assert all((out / "plots" / p).stat().st_size > 10_000 for p in pngs)
    again = sim.load_scenario(out / "scenario.toml")
    assert again.market.customers == 400


def test_saved_scenario_reproduces_the_run(tmp_path) -> None:
    assert (
        main(
            [
                "run",
                "baseline",
                "--steps",
                "8",
                "--customers",
                "300",
                "--seed",
                "3",
                "--set",
                "trust.gain=0.05",
                "--out",
                str(tmp_path / "a"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "run",
                str(tmp_path / "a" / "scenario.toml"),
                "--steps",
                "8",
                "--seed",
                "3",
                "--out",
                str(tmp_path / "b"),
                "--quiet",
            ]
        )
        == 0
    )
    a = pd.read_parquet(tmp_path / "a" / "firms.parquet")
    b = pd.read_parquet(tmp_path / "b" / "firms.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_list_shows_every_scenario_on_one_line(capsys) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"baseline", "bass_docking", "overpromise_vs_honest"} <= set(names)
    assert all("customers" in line and "INVALID" not in line for line in lines)
    by_name = {line.split()[0]: line for line in lines}
    assert " 1 firm " in by_name["bass_docking"] and " 6 firms " in by_name["baseline"]


def test_show_prints_resolved_toml(capsys) -> None:
    assert main(["show", "proactive_disclosure", "--set", "market.customers=123"]) == 0
    text = capsys.readouterr().out
    assert "customers = 123" in text and "extends" not in text and "Heads Up" in text


def test_check_reports_each_file(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[market]\ncustomers = 1\n")
    assert main(["check", "baseline", str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok  baseline") and out[1].startswith("BAD ")
    assert out[0].endswith(", 6 firms")
    assert main(["check", "bass_docking"]) == 0
    assert capsys.readouterr().out.strip().endswith("customers, 1 firm")


def test_every_commands_help_reads_as_written() -> None:
    """argparse %-formats a help string but not a description: a "%%" left in one is printed
    as "%%" (``cxsim robustness --help`` said "a 95%% interval")."""
    from sim.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    texts = {"cxsim": parser.format_help()}
    texts.update({name: p.format_help() for name, p in sub.choices.items()})
    assert len(texts) >= 10 and {"sweep", "robustness", "calibrate"} <= set(texts)
    assert [name for name, text in texts.items() if "%%" in text or "%(" in text] == []
