"""Bad command-line input: flags naming something the command cannot use, folders that cannot be
made, user strategy modules that fail to import, files handed to the wrong command. One line
naming the flag or file and what was expected; exit code 2; no traceback; nothing written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import find_scenario
from tests.test_bad_input import MINIMAL, write

FIXTURES = Path(__file__).parent / "fixtures"
TINY_SWEEP = str(FIXTURES / "sweep" / "tiny.toml")
TINY_STUDY = str(FIXTURES / "robustness" / "tiny.toml")


def one_line_error(capsys: pytest.CaptureFixture) -> str:
    """The one ``cxsim: error:`` line printed, asserting no traceback and nothing else."""
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "Traceback" not in captured.out + captured.err
    assert err.startswith("cxsim: error: ") and "\n" not in err, err
    return err.removeprefix("cxsim: error: ")


@pytest.fixture(scope="module")
def kept_share(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep that kept two firm metrics (share, profit) and one market metric."""
    folder = tmp_path_factory.mktemp("kept")
    spec = write(
        folder,
        f'name = "kept"\nscenario = "{TINY_SWEEP}"\nreplicates = 1\nsteps = 4\n'
        '[[parameters]]\nkey = "firms.Steady.price"\nvalues = [90, 100]\n'
        '[output]\nfirms = ["share", "profit"]\nmarket = ["served"]\n'
        '[analysis]\noutcomes = ["firms.share"]\n',
        "sweep.toml",
    )
    assert main(["sweep", str(spec), "--out", str(folder / "out"), "--serial", "--quiet"]) == 0
    return folder / "out"


def test_analyze_an_outcome_not_kept_names_the_columns_kept(kept_share, capsys) -> None:
    """A valid metric the sweep's [output] left out was a DuckDB BinderException traceback."""
    capsys.readouterr()
    code = main(["analyze", str(kept_share), "--outcome", "firms.Steady.cash", "--no-charts"])
    err = one_line_error(capsys)
    assert code == 2
    assert err.startswith(f"{kept_share}: --outcome 'firms.Steady.cash': cash was not kept"), err
    assert "share, profit" in err and "[output] firms" in err
    assert not (kept_share / "analysis").exists()
    code = main(["analyze", str(kept_share), "--outcome", "nps", "--no-charts"])
    assert code == 2 and "nps was not kept" in one_line_error(capsys)
    code = main(["analyze", str(kept_share), "--outcome", "firms.Steady.share", "--no-charts"])
    assert code == 0


# -- negative seeds: refused before anything is written ------------------------------------------


@pytest.mark.parametrize("command", ["validate", "facts", "calibrate"])
def test_a_negative_seed_is_refused_before_writing(tmp_path, capsys, command) -> None:
    """validate and facts took --seed -1 and failed in NumPy's SeedSequence (a traceback);
    facts had written fit_spec.json first, which then blocked the corrected run."""
    out = tmp_path / "out"
    args = ["--out", str(out)] if command != "validate" else ["--quick", "--only", "levels"]
    with pytest.raises(SystemExit) as info:
        main([command, "--seed", "-1", *args])
    assert info.value.code == 2
    assert "argument --seed: expected a number >= 0, got -1" in capsys.readouterr().err
    assert not out.exists()


def test_every_option_says_what_it_expected_of_a_malformed_value(capsys) -> None:
    """argparse's own "invalid int value: 'x'" names the option but not what it takes
    (calibrate --seed, facts --moves said it): every option with a type says "expected"."""
    import argparse

    from sim.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    said = {}
    for name, parser in commands.choices.items():
        for action in parser._actions:
            if not action.option_strings or action.type is None or action.nargs == 0:
                continue
            try:
                parser.parse_known_args([action.option_strings[0], "zz!"])
            except SystemExit:
                said[name, action.option_strings[0]] = capsys.readouterr().err.splitlines()[-1]
    assert len(said) >= 30  # the options that take numbers, of every command
    unclear = {k: v for k, v in said.items() if "expected" not in v}
    assert not unclear, unclear


def test_plan_fit_refuses_a_negative_seed_before_writing(tmp_path) -> None:
    from sim.robustness.fit import FitError, plan_fit

    with pytest.raises(FitError, match=r"--seed: -1: expected a whole number >= 0"):
        plan_fit(tmp_path / "fit", seed=-1)
    assert not (tmp_path / "fit").exists()


# -- an --out that cannot be made: refused before any work ----------------------------------------

UNWRITABLE = "/proc/cxsim-no/such"
"""A folder no one can make, root included (/proc takes no new entries)."""


def _out_commands(kept: Path, tmp_path: Path) -> dict[str, list[str]]:
    spec = write(
        tmp_path,
        f'name = "s"\nscenario = "{TINY_SWEEP}"\nreplicates = 1\nsteps = 4\n'
        '[[parameters]]\nkey = "firms.Steady.price"\nvalues = [90, 100]\n',
        "sweep.toml",
    )
    calibration = FIXTURES / "calibration"
    calib = write(tmp_path, '[parameters."satisfaction.loss_aversion"]\n', "calib.toml")
    return {
        "run": ["run", "baseline", "--customers", "200", "--steps", "3", "--quiet"],
        "sweep": ["sweep", str(spec), "--serial", "--quiet"],
        "robustness": ["robustness", TINY_STUDY, "--serial", "--quiet"],
        "analyze": ["analyze", str(kept), "--no-charts"],
        "facts": ["facts"],
        "calibrate": [
            "calibrate",
            str(calibration / "market.toml"),
            str(calibration / "retention.csv"),
            str(calib),
            "--serial",
        ],
    }


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    "command", ["run", "sweep", "robustness", "analyze", "facts", "calibrate", "validate"]
)
def test_an_out_that_cannot_be_made_is_refused_first(kept_share, tmp_path, capsys, command) -> None:
    """An --out in /proc was a FileNotFoundError traceback, for run after the whole run."""
    if command == "calibrate":
        pytest.importorskip("pyabc")
    if command == "validate":
        code = main(["validate", "--quick", "--only", "levels", "--report", f"{UNWRITABLE}.md"])
        err = one_line_error(capsys)
        assert code == 2 and err.startswith(f"--report {UNWRITABLE}.md: its folder "), err
        assert "cannot write in /proc" in err
        return
    capsys.readouterr()
    code = main([*_out_commands(kept_share, tmp_path)[command], "--out", UNWRITABLE])
    err = one_line_error(capsys)
    assert code == 2
    assert err.startswith(f"{UNWRITABLE}: cannot write in /proc ("), err
    assert "; expected " in err


# -- a user strategy module that fails to import --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("cx_syntax_strategy", "def (:\n", "invalid syntax (cx_syntax_strategy.py, line 1)"),
        (
            "cx_raising_strategy",
            'x = 1\nraise RuntimeError("boom")\n',
            "RuntimeError: boom (cx_raising_strategy.py, line 2)",
        ),
        ("cx_missing_import", "import cx_no_such_package\n", "No module named"),
    ],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_strategy_module_that_fails_to_import_is_one_line(
    tmp_path, capsys, name, body, expected, command
) -> None:
    """A module that exists but fails on import (a SyntaxError, an exception) was a traceback
    from check and run; a missing one was already 'cannot import module'."""
    (tmp_path / f"{name}.py").write_text(body)
    text = MINIMAL.replace(
        'name = "A"\nindustry = "banking"',
        f'name = "A"\nindustry = "banking"\nstrategy = "{name}:Foo"',
    )
    path = write(tmp_path, text)
    out = tmp_path / "out"
    extra = ["--out", str(out), "--quiet"] if command == "run" else []
    code = main([command, str(path), *extra])
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert code == 2 and "Traceback" not in text and "\n" not in text, text
    assert f"{path}: firms[0].strategy: cannot import module '{name}': {expected}" in text
    assert not out.exists()


# -- messages name the thing to fix ---------------------------------------------------------------


def _sweep_file(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        f'name = "s"\nscenario = "{TINY_SWEEP}"\nreplicates = 1\nsteps = 4\n'
        '[[parameters]]\nkey = "firms.Steady.price"\nvalues = [90, 100]\n',
        "sweep.toml",
    )


@pytest.mark.parametrize("command", ["sweep", "robustness"])
def test_an_unknown_set_key_is_blamed_on_the_flag(tmp_path, capsys, command) -> None:
    """sweep blamed the user's sweep file, robustness '<robustness>: set'; run names the flag."""
    target = str(_sweep_file(tmp_path)) if command == "sweep" else TINY_STUDY
    out = tmp_path / "out"
    code = main([command, target, "--set", "foo=1", "--out", str(out), "--serial", "--quiet"])
    err = one_line_error(capsys)
    assert code == 2 and err.startswith("--set foo=1: unknown key; expected one of: "), err
    assert "<robustness>" not in err and "sweep.toml" not in err
    assert not out.exists()


def test_a_flag_that_conflicts_with_the_file_is_blamed_with_the_conflict(capsys) -> None:
    """--customers 3 makes baseline's network.k = 10 impossible: the flag is the change."""
    code = main(["run", "baseline", "--customers", "3", "--quiet"])
    err = one_line_error(capsys)
    assert code == 2
    assert err.startswith("--customers 3: conflicts with network.k of "), err
    assert err.endswith("baseline.toml: expected k < market.customers (3), got 10"), err


def test_check_on_a_folder_says_it_is_a_folder(tmp_path, capsys) -> None:
    assert main(["check", str(tmp_path)]) == 2
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"BAD {tmp_path}: is a folder; expected a scenario .toml file"), out


@pytest.mark.parametrize(
    ("text", "what", "command"),
    [
        (
            'name = "s"\nscenario = "baseline"\n[[parameters]]\nkey = "seed"\nvalues = [1, 2]\n',
            "a sweep file",
            "cxsim sweep FILE",
        ),
        (
            'worlds = 64\n[ranges]\n"acquisition.p" = [0.01, 0.05]\n',
            "a robustness file",
            "cxsim robustness SCENARIO --ranges FILE",
        ),
        (
            '[calibration]\nseed = 1\n[parameters."trust.gain"]\n',
            "a calibration file",
            "cxsim calibrate SCENARIO DATA FILE",
        ),
    ],
)
def test_check_on_another_kind_of_file_says_what_it_is(tmp_path, capsys, text, what, command):
    """check on a sweep file printed seven lines of unknown keys."""
    path = write(tmp_path, text, "other.toml")
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr().out.strip()
    assert out == (
        f"BAD {path}: is {what}, not a scenario; expected a scenario here ({what} is run by "
        f"'{command}')"
    )


def test_robustness_worlds_says_the_real_minimum(tmp_path, capsys) -> None:
    """--worlds 0 said 'expected a number >= 1' while a study needs at least 8."""
    out = tmp_path / "out"
    code = main(["robustness", TINY_STUDY, "--worlds", "0", "--out", str(out), "--serial"])
    assert code == 2
    assert one_line_error(capsys) == "--worlds: expected a whole number from 8 to 100000, got 0"
    assert not out.exists()


def test_a_sweep_flag_out_of_range_is_blamed_on_the_flag(tmp_path, capsys) -> None:
    """sweep FILE --replicates 1000000 blamed the sweep file's replicates."""
    spec, out = _sweep_file(tmp_path), tmp_path / "out"
    code = main(["sweep", str(spec), "--replicates", "1000000", "--out", str(out), "--serial"])
    err = one_line_error(capsys)
    assert code == 2 and not out.exists()
    assert err == "--replicates 1000000: expected a whole number from 1 to 100,000, got 1000000"


def test_a_set_key_like_another_files_is_still_the_flags(capsys) -> None:
    """--set ranges.x=1 adds a key of a robustness file: the flag is wrong, not the scenario."""
    assert main(["show", "baseline", "--set", "ranges.x=1"]) == 2
    assert one_line_error(capsys).startswith("--set ranges.x=1: ranges: unknown key; expected ")


# -- a network the flags make impossible is the flags' -----------------------------------------

ERDOS = MINIMAL.replace("[market]", '[network]\nkind = "erdos_renyi"\nmean_degree = 10\n[market]')
EDGES = MINIMAL.replace("[market]", '[network]\nkind = "edge_list"\npath = "edges.txt"\n[market]')


def _network_files(folder: Path) -> dict[str, Path]:
    """Scenarios of 50 customers: an Erdős-Rényi network of mean degree 10, an edge list
    naming node 45; beside them an edge list with a line of four ids, one naming node 75."""
    (folder / "edges.txt").write_text("0 1\n1 2\n2 45\n")
    (folder / "broken.txt").write_text("0 1\n1 2 3 4\n")
    (folder / "far.txt").write_text("0 1\n1 75\n")
    return {"erdos": write(folder, ERDOS, "erdos.toml"), "edges": write(folder, EDGES, "el.toml")}


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The --out folder of a finished run, for a failing run with --force to leave alone."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["run", "baseline", "--customers", "100", "--steps", "1", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    ("scenario", "flags", "expected"),
    [
        (
            "baseline",
            ["--set", "network.kind=erdos_renyi", "--set", "network.mean_degree=500"],
            "--set network.mean_degree=500: expected mean_degree <= market.customers - 1 (99) "
            "for network.kind = 'erdos_renyi', got 500.0",
        ),
        (
            "erdos",
            ["--customers", "8"],
            "--customers 8: conflicts with network.mean_degree of {erdos}: expected "
            "mean_degree <= market.customers - 1 (7) for network.kind = 'erdos_renyi', got 10.0",
        ),
        (
            "baseline",
            ["--set", "network.kind=stochastic_block", "--set", "market.regions=20"],
            "--set network.kind=stochastic_block: conflicts with network.k_in of {baseline}: "
            "expected k_in <= 4, the other customers of the smallest region (market.customers "
            "= 100 over market.regions = 20) for network.kind = 'stochastic_block', got 8.0",
        ),
        (
            "edges",
            ["--customers", "40"],
            "--customers 40: conflicts with network.path of {edges}: {folder}/edges.txt:3: node "
            "id 45 is outside 0..39 (market.customers = 40)",
        ),
        (
            "edges",
            ["--set", "network.path=broken.txt"],
            "--set network.path=broken.txt: {folder}/broken.txt:2: expected two node ids "
            "separated by whitespace or a comma, got '1 2 3 4'",
        ),
    ],
    ids=["set-mean-degree", "customers-mean-degree", "set-kind-k-in", "customers-edge", "set-path"],
)
def test_a_network_a_flag_makes_impossible_is_blamed_on_the_flag(
    tmp_path, capsys, earlier_run, scenario, flags, expected
) -> None:
    """A network that could not be built because of --set or --customers named the scenario's
    file (the edge list and the generators' parameters, checked as the model built them): now
    the flag, saying the conflict when the file's value is the one that no longer fits; an
    --out holding an earlier run is left as it was (with --force)."""
    files = {**_network_files(tmp_path), "baseline": find_scenario("baseline"), "folder": tmp_path}
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    if scenario == "baseline":
        flags = [*flags, "--customers", "100"]
    code = main(["run", str(files[scenario]), *flags, "--out", str(out), "--force", "--quiet"])
    err = one_line_error(capsys)
    assert code == 2
    assert err == expected.format(**{k: str(v) for k, v in files.items()})
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (ERDOS.replace("mean_degree = 10", "mean_degree = 80"), "network.mean_degree", "(49)"),
        (EDGES.replace("edges.txt", "far.txt"), "network.path", "far.txt:2: node id 75 is"),
    ],
    ids=["mean-degree", "edge-list"],
)
def test_a_network_impossible_in_the_file_still_names_the_file(
    tmp_path, capsys, text, key, expected
) -> None:
    """With no flag to blame (an unrelated --set is none), run and check name the file."""
    _network_files(tmp_path)
    path = write(tmp_path, text, "own.toml")
    code = main(["run", str(path), "--set", "seed=3", "--quiet"])
    err = one_line_error(capsys)
    assert code == 2 and err.startswith(f"{path}: {key}: ") and expected in err, err
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().out.strip() == f"BAD {err}"


def test_a_sweep_refuses_a_network_its_flag_makes_impossible(tmp_path, capsys) -> None:
    """sweep --customers with a scenario whose network it makes impossible: every run failed
    building its network; the plan now refuses it, naming the flag, before writing."""
    erdos = _network_files(tmp_path)["erdos"]
    spec = write(
        tmp_path,
        f'name = "s"\nscenario = "{erdos}"\nreplicates = 1\nsteps = 2\n'
        '[[parameters]]\nkey = "firms.A.price"\nvalues = [90, 100]\n',
        "sweep.toml",
    )
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--customers", "8", "--out", str(out), "--serial", "--quiet"])
    err = one_line_error(capsys)
    assert code == 2 and not out.exists()
    assert err.startswith(f"--customers 8: conflicts with network.mean_degree of {erdos}: "), err
    assert err.endswith("expected mean_degree <= market.customers - 1 (7) for network.kind = "
                        "'erdos_renyi', got 10.0"), err  # fmt: skip


def test_a_local_firms_start_a_flag_makes_impossible_is_the_flags(tmp_path, capsys) -> None:
    """Checked as the market seeds its customers, like the network: the --set, not the file."""
    text = MINIMAL.replace("customers = 50", "customers = 50\nregions = 2").replace(
        'name = "A"\nindustry = "banking"', 'name = "A"\nindustry = "banking"\nregion = 0'
    )
    path = write(tmp_path, text)
    code = main(["run", str(path), "--set", "firms[0].initial_share=0.7", "--quiet"])
    assert code == 2
    assert one_line_error(capsys) == (
        "--set firms[0].initial_share=0.7: expected at most 0.5 (the unserved customers it can "
        "reach), got 0.7"
    )


# -- a firm picked by name, an industry's shares: the flag that did it -----------------------------


def _run_leaves_earlier_out(
    earlier: Path, tmp_path: Path, capsys: pytest.CaptureFixture, *args: str
) -> str:
    """Run ``cxsim run ARGS --out OUT --force`` with OUT holding an earlier run: exit 2, one line
    (returned), OUT byte-identical."""
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code = main(["run", *args, "--out", str(out), "--force", "--quiet"])
    err = one_line_error(capsys)
    assert code == 2, err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    return err


SHARES = MINIMAL.replace(
    'name = "A"\nindustry = "banking"', 'name = "A"\nindustry = "banking"\ninitial_share = 0.3'
)
"""A market of 50 customers whose firms start with 0.3 and 0.2 of them (sums to 0.5)."""


@pytest.mark.parametrize(
    ("text", "flags", "expected"),
    [
        (
            MINIMAL,
            ["--set", "firms.A.price=-1"],
            "--set firms.A.price=-1: firms[0].price: expected a number > 0, got -1",
        ),
        (
            MINIMAL,
            ["--set", "firms.B.levers={inflation=1}"],
            "--set firms.B.levers={inflation=1}: firms[1].levers.inflation: unknown lever: "
            "honest has no levers",
        ),
        (
            MINIMAL.replace("customers = 50", "customers = 50\nregions = 2").replace(
                'name = "A"\nindustry = "banking"', 'name = "A"\nindustry = "banking"\nregion = 0'
            ),
            ["--set", "firms.A.initial_share=0.7"],
            "--set firms.A.initial_share=0.7: firms[0].initial_share: expected at most 0.5 (the "
            "unserved customers it can reach), got 0.7",
        ),
    ],
    ids=["price-on-load", "levers-on-load", "local-start-while-building"],
)
def test_a_set_picking_a_firm_by_name_is_blamed_on_the_flag(
    tmp_path, capsys, earlier_run, text, flags, expected
) -> None:
    """--set firms.A.price=-1 named the file (bad.toml: firms[0].price: ...), on load and while
    the market was built, where --set firms[0].price=-1 named the flag."""
    path = write(tmp_path, text)
    assert _run_leaves_earlier_out(earlier_run, tmp_path, capsys, str(path), *flags) == expected
    assert str(path) not in expected


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["--set", "firms[0].initial_share=0.9"],
            "--set firms[0].initial_share=0.9: firms: initial_share of the firms in 'banking' "
            "sums to 1.1; expected at most 1",
        ),
        (
            ["--set", "firms.A.initial_share=0.9", "--set", "firms.B.price=90"],
            "--set firms.A.initial_share=0.9: firms: initial_share of the firms in 'banking' "
            "sums to 1.1; expected at most 1",
        ),
        (
            ["--set", "firms[0].initial_share=0.6", "--set", "firms[1].initial_share=0.6"],
            "--set firms[0].initial_share=0.6: firms: initial_share of the firms in 'banking' "
            "sums to 1.2; expected at most 1 (together with --set firms[1].initial_share=0.6)",
        ),
    ],
    ids=["one-flag", "by-name-beside-another", "two-flags"],
)
def test_shares_a_flag_raises_above_1_are_blamed_on_the_flag(
    tmp_path, capsys, earlier_run, flags, expected
) -> None:
    """An industry's initial_share summing above 1 (key firms) named the file, valid alone."""
    path = write(tmp_path, SHARES)
    assert _run_leaves_earlier_out(earlier_run, tmp_path, capsys, str(path), *flags) == expected


def test_a_flag_moving_a_firm_into_a_full_industry_is_blamed(tmp_path, capsys) -> None:
    """--set firms[i].industry can make the shares of the industry it joins sum above 1."""
    text = SHARES.replace('industries = ["banking"]', 'industries = ["banking", "retail"]') + (
        '[[firms]]\nname = "C"\nindustry = "retail"\ninitial_share = 0.6\n'
        '[[firms]]\nname = "D"\nindustry = "retail"\n'
    )
    path = write(tmp_path, text)
    assert main(["show", str(path), "--set", "firms.C.industry=banking"]) == 2
    assert one_line_error(capsys) == (
        "--set firms.C.industry=banking: firms: initial_share of the firms in 'banking' sums to "
        "1.1; expected at most 1"
    )


@pytest.mark.parametrize(
    "flags", [["--set", "firms.B.initial_share=0.3"], ["--set", "seed=3"]], ids=["share", "other"]
)
def test_shares_above_1_in_the_file_itself_still_name_the_file(tmp_path, capsys, flags) -> None:
    """A file whose shares already sum above 1 is the file's to fix, whatever --set adds."""
    path = write(tmp_path, SHARES.replace("initial_share = 0.3", "initial_share = 0.9"))
    assert main(["run", str(path), *flags, "--quiet"]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"{path}: firms: initial_share of the firms in 'banking' sums to "), err
    assert err.endswith("; expected at most 1") and "--set" not in err
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().out.strip().startswith(f"BAD {path}: firms: initial_share of ")


# -- a network key the network's kind does not use ------------------------------------------------

COMPLETE = MINIMAL.replace("[market]", '[network]\nkind = "complete"\n[market]')


@pytest.mark.parametrize(
    ("scenario", "flags", "expected"),
    [
        (
            "baseline",
            ["--set", "network.m=5"],
            "--set network.m=5: network.kind = 'watts_strogatz' does not use m; expected a key "
            "it uses (k, p), or network.kind = 'barabasi_albert' for m",
        ),
        (
            "complete",
            ["--set", "network.k=6"],
            "--set network.k=6: network.kind = 'complete' does not use k; expected no network.k, "
            "or network.kind = 'watts_strogatz' for k",
        ),
        (
            "baseline",
            ["--set", "network.kind=erdos_renyi", "--set", "network.k=6"],
            "--set network.k=6: network.kind = 'erdos_renyi' does not use k; expected a key it "
            "uses (mean_degree), or network.kind = 'watts_strogatz' for k",
        ),
        (
            "baseline",
            [
                "--set",
                'network={kind="stochastic_block", k_in=3, k=4}',
                "--set",
                "market.regions=2",
            ],
            '--set network={kind="stochastic_block", k_in=3, k=4}: network.kind = '
            "'stochastic_block' does not use k; expected a key it uses (k_in, k_out), or "
            "network.kind = 'watts_strogatz' for k",
        ),
    ],
    ids=["m-on-ring", "k-on-complete", "k-after-kind", "whole-table"],
)
def test_a_set_network_key_the_kind_does_not_use_is_refused(
    tmp_path, capsys, earlier_run, scenario, flags, expected
) -> None:
    """It was ignored: the run was the same as without it."""
    path = find_scenario("baseline") if scenario == "baseline" else write(tmp_path, COMPLETE)
    flags = [*flags, "--set", "market.customers=100"]
    assert _run_leaves_earlier_out(earlier_run, tmp_path, capsys, str(path), *flags) == expected
    assert main(["show", str(path), *flags]) == 2
    assert one_line_error(capsys) == expected


def test_a_set_network_key_the_kind_uses_is_taken(capsys) -> None:
    assert main(["show", "baseline", "--set", "network.kind=barabasi_albert", "--set",
                 "network.m=3"]) == 0  # fmt: skip
    assert 'kind = "barabasi_albert"\nk = 10\np = 0.1\nm = 3\n' in capsys.readouterr().out


def test_network_keys_in_a_file_are_not_refused(tmp_path, capsys) -> None:
    """A resolved scenario (show, a run's scenario.toml) carries every network key whatever its
    kind, as does a file extending one of another kind: a file's keys are not judged."""
    assert main(["show", "national_leader_enters"]) == 0
    shown = capsys.readouterr().out
    assert 'kind = "stochastic_block"\nk = 10\np = 0.1\nm = 5\n' in shown
    resolved = write(tmp_path, shown, "resolved.toml")
    child = write(tmp_path, 'extends = "baseline"\n[network]\nkind = "complete"\n', "child.toml")
    assert main(["check", str(resolved), str(child)]) == 0


def _sweep(folder: Path, body: str) -> Path:
    head = f'name = "s"\nscenario = "{TINY_SWEEP}"\nreplicates = 1\nsteps = 2\n'
    return write(folder, head + body, "sweep.toml")


@pytest.mark.parametrize(
    ("body", "flags", "expected"),
    [
        (
            '[set]\n"network.m" = 4\n[[parameters]]\nkey = "firms.Steady.price"\n'
            "values = [90, 100]\n",
            [],
            "{spec}: set.\"network.m\": network.kind = 'watts_strogatz' does not use m; expected "
            "a key it uses (k, p), or network.kind = 'barabasi_albert' for m",
        ),
        (
            '[[parameters]]\nkey = "network.mean_degree"\nvalues = [4, 6]\n',
            [],
            "{spec}: parameters[0].key: network.kind = 'watts_strogatz' does not use "
            "mean_degree; expected a key it uses (k, p), or network.kind = 'erdos_renyi' for "
            "mean_degree",
        ),
        (
            '[[parameters]]\nkey = "network.kind"\nvalues = ["watts_strogatz", "complete"]\n',
            ["--set", "network.m=3"],
            "--set network.m=3: no run's network.kind (watts_strogatz, complete) uses m; expected "
            "a key they use (k, p), or network.kind = 'barabasi_albert' for m",
        ),
        (
            '[design]\nkind = "list"\n[[design.points]]\nset = { "network.kind" = '
            '"barabasi_albert", "network.m" = 3 }\n[[design.points]]\nset = { "network.kind" = '
            '"complete", "network.m" = 3 }\n',
            [],
            "{spec}: design.points[1].set.\"network.m\": network.kind = 'complete' does not use "
            "m; expected no network.m, or network.kind = 'barabasi_albert' for m",
        ),
    ],
    ids=["fixed-in-file", "axis", "flag-no-run-uses", "list-point"],
)
def test_a_sweep_network_key_no_run_uses_is_refused(tmp_path, capsys, body, flags, expected):
    spec, out = _sweep(tmp_path, body), tmp_path / "out"
    code = main(["sweep", str(spec), *flags, "--out", str(out), "--serial", "--quiet"])
    assert code == 2 and one_line_error(capsys) == expected.format(spec=spec)
    assert not out.exists()


def test_a_sweep_varying_the_kind_may_set_each_kinds_keys(tmp_path) -> None:
    """m is used by the Barabási-Albert runs, k by the Watts-Strogatz ones: nothing to refuse."""
    from sim.sweep.plan import build_plan

    spec = _sweep(
        tmp_path,
        '[set]\n"network.m" = 3\n[[parameters]]\nkey = "network.kind"\n'
        'values = ["watts_strogatz", "barabasi_albert"]\n[[parameters]]\nkey = "network.k"\n'
        "values = [4, 6]\n",
    )
    assert len(build_plan(spec).tasks) == 4


def test_robustness_refuses_a_network_key_no_run_uses_before_writing(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["robustness", TINY_STUDY, "--set", "network.m=5", "--out", str(out), "--serial"])
    assert code == 2 and not out.exists()
    assert one_line_error(capsys) == (
        "--set network.m=5: network.kind = 'watts_strogatz' does not use m; expected a key it "
        "uses (k, p), or network.kind = 'barabasi_albert' for m"
    )


def test_a_versus_table_setting_a_network_key_the_kind_does_not_use_is_refused(tmp_path, capsys):
    """A claim's versus table is the market of cxsim run --set: the same rule."""
    text = MINIMAL + (
        '[[claims]]\nname = "c"\nholds = "nps @ year 1 < versus(nps @ year 1)"\n'
        'versus = { "network.m" = 3 }\n'
    )
    path = write(tmp_path, text)
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().out.strip() == (
        f"BAD {path}: claims[0].versus: claim 'c': network.m: network.kind = 'watts_strogatz' "
        "does not use m; expected a key it uses (k, p), or network.kind = 'barabasi_albert' for m"
    )
