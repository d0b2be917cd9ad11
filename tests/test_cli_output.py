"""What ``cxsim run`` shows a reader: the unserved customers beside the shares, charts whose
series stay visible on the axis bounds, and no traceback when the reader of its output leaves."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim.cli import main
from sim.plots import CHARTS, firm_chart


def _rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_run_shows_the_unserved_customers_of_each_industry(capsys) -> None:
    n = 300
    assert main(["run", "baseline", "--steps", "3", "--customers", str(n), "--quiet"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    unserved = {r[1]: int(r[3].replace(",", "")) for r in rows if r[0] == "(unserved)"}
    assert sorted(unserved) == ["banking", "retail", "telecom"]
    served: dict[str, int] = {}
    for r in rows:
        if r[0] != "(unserved)":
            served[r[1]] = served.get(r[1], 0) + int(r[3].replace(",", ""))
    for industry, count in unserved.items():
        assert served[industry] + count == n  # every customer is counted once per industry
        assert count > 0  # three steps in, not everyone has found a supplier
    assert "(unserved): customers with no supplier in that industry" in out


def _one_firm(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"industry": "post", "name": "Monopoly", "year": [0.0, 0.5, 1.0], "share": value}
    )


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_a_series_on_a_bound_of_the_share_chart_is_inside_the_frame(value: float) -> None:
    column, title, ylabel, ylim = CHARTS["share"]
    fig = firm_chart(_one_firm(value), column, title, ylabel, ylim)
    low, high = fig.axes[0].get_ylim()
    plt.close(fig)
    assert low < 0.0 and high > 100.0  # both bounds padded: a line at 0 or 100% is not the frame
    assert high - 100.0 < 10 and -low < 10  # and only a little


@pytest.mark.parametrize("chart", ["share", "retention"])
def test_shares_and_retention_are_drawn_in_percent_as_in_the_ui(chart: str) -> None:
    """Review finding 16: the exported retention chart (``cxsim run --plot``'s) was a 0-1
    fraction beside the UI's %; a deck built from both mixed the scales."""
    column, title, ylabel, ylim = CHARTS[chart]
    df = _one_firm(0.0).assign(**{column: [0.5, 0.7, 0.9]})
    fig = firm_chart(df, column, title, ylabel, ylim)
    ax = fig.axes[0]
    drawn = ax.get_lines()[0].get_ydata()
    plt.close(fig)
    assert list(drawn) == pytest.approx([50.0, 70.0, 90.0])
    assert ylabel.startswith("%") and ylim[1] == 100
    assert 90.0 < ax.get_ylim()[1] <= 105.0


def test_unbounded_sides_keep_matplotlibs_own_limits() -> None:
    df = _one_firm(0.5).assign(profit=[-10.0, 5.0, 20.0])
    fig = firm_chart(df, "profit", "Profit", "money", (None, None))
    free = plt.figure().gca()
    free.plot([0.0, 0.5, 1.0], [-10.0, 5.0, 20.0])
    assert fig.axes[0].get_ylim() == free.get_ylim()
    plt.close("all")


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "show", "baseline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `cxsim show baseline | head -0`: gone before anything is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
