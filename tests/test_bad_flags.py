"""Bad command-line input: flags naming something the command cannot use, folders that cannot be
made, user strategy modules that fail to import, files handed to the wrong command. One line
naming the flag or file and what was expected; exit code 2; no traceback; nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from tests.test_bad_input import write

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
