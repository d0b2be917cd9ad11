"""What the UI's numbers say: the comparison table's rows to the precision of their intervals,
and the customers served in a market of several industries (Compare and Explore)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim


def test_compare_rows_are_written_to_the_precision_of_their_interval() -> None:
    """The comparison table's rows: trust's difference of about -0.10 with an interval 0.005
    wide gets four decimals (at two its interval read "-0.10 to -0.10"), a profit difference
    of 3,310 +- 122 none; no interval, two."""
    from sim.ui.compare_table import _fmt, row_places

    assert row_places(-0.1035, -0.0989) == 4
    assert _fmt(-0.1012, row_places(-0.1035, -0.0989)) == "-0.1012"
    assert row_places(3188.6, 3432.25) == 0
    assert _fmt(3310.42, 0) == "3,310"
    assert row_places(float("nan"), float("nan")) == 2 and row_places(0.0, 0.0) == 2
    assert _fmt(-0.0004, 2) == "0.00"  # not -0.00


def test_compare_counts_the_served_industry_by_industry() -> None:
    """Customers served, in the comparison: the mean over industries of the share with a
    supplier there. In a market of three industries nearly everyone has a supplier in one
    (``served``), which hid who a strategy leaves without one."""
    from sim.metrics import served_per_industry

    market = pd.DataFrame(
        {"served": [100, 100], "served[a]": [90, 80], "served[b]": [100, 60], "served[c]": [95, 70]}
    )
    np.testing.assert_allclose(served_per_industry(market, 100), [0.95, 0.70])
    one = pd.DataFrame({"served": [40, 50]})  # no per-industry columns: served over N
    np.testing.assert_allclose(served_per_industry(one, 100), [0.4, 0.5])
    model = sim.CustomerMarket("baseline", rng=3, overrides={"market.customers": 300})
    model.run(30)
    table = model.model_metrics()
    assert (served_per_industry(table, 300) < table["served"] / 300).all()  # some industry unserved


def box_note(model: sim.CustomerMarket, label: str) -> str:
    """The note under Explore's headline box ``label`` for the model's last recorded step."""
    from sim.ui.explore import headline_html

    html = headline_html(model, dict(model.recorder.latest_market), model.steps)
    box = re.search(rf'data-stat="{label}".*?</div>', html).group(0)
    return re.search(r'cx-stat-note">(.*?)</span>', box).group(1)


def test_the_served_headline_says_what_it_counts_in_a_market_of_several_industries() -> None:
    """Explore's "customers served" counts those with a supplier in any industry, nearly
    everyone in the baseline's three; its note gives the mean share industry by industry
    instead of that share, and its tooltip says both. A market of one industry needs neither."""
    from sim.ui.explore import headline_html

    def note(model: sim.CustomerMarket) -> str:
        return box_note(model, "customers served")

    three = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 400})
    three.run(5)
    market = three.recorder.latest_market
    each = sum(market[f"served[{m}]"] for m in ("banking", "retail", "telecom")) / (3 * 400)
    assert note(three) == f"of 400; {each:.0%} per industry"
    html = headline_html(three, dict(market), three.steps)
    assert f"{market['served']:,} of 400 customers have a supplier in at least one" in html
    assert each < market["served"] / 400
    one = sim.CustomerMarket("growth_vs_support", rng=1, overrides={"market.customers": 400})
    one.run(5)
    assert note(one) == f"of 400 ({one.recorder.latest_market['served'] / 400:.0%})"


def box_value(model: sim.CustomerMarket, label: str, timing=(0.0, 0.0)) -> str:
    """The value in Explore's headline box ``label`` for the model's last recorded step."""
    from sim.ui.explore import headline_html

    html = headline_html(model, dict(model.recorder.latest_market), model.steps, timing)
    box = re.search(rf'data-stat="{label}".*?</div>', html).group(0)
    return re.search(r'cx-stat-value">(.*?)</span>', box).group(1)


def test_the_firms_in_the_market_are_counted_from_step_0() -> None:
    """Audit: "Firms in the market" showed "–" at step 0 though baseline's 6 firms exist. At
    step 0 it counts the firms that have entered by then (a late entrant not yet)."""
    model = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 300})
    assert model.steps == 0 and box_value(model, "firms in the market") == "6"
    assert box_note(model, "firms in the market") == "of 6"
    model.run(1)
    assert box_value(model, "firms in the market") == "6"
    late = sim.CustomerMarket("national_leader_enters", rng=1, overrides={"market.customers": 300})
    assert late.scenario.firms[4].entry_step > 0
    assert box_value(late, "firms in the market") == "4"
    assert box_note(late, "firms in the market") == "of 5"
    late.run(1)
    assert box_value(late, "firms in the market") == "4"  # as recorded: the same count


def test_annual_retention_shows_only_after_a_quarter_of_churn() -> None:
    """Finding 2 of the UI review: after 1-6 weeks the headline's biggest number was annual
    retention projected from them (0.4%, 9.9%, 27% ...). Until a quarter (13 weekly steps) of
    churn exists the box shows "–" and says when it will show; until a year, from how many
    weeks it is projected; then "kept over a year". The model's column is untouched."""
    from sim.ui.explore import headline_html

    def note(model: sim.CustomerMarket) -> str:
        return box_note(model, "annual retention")

    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 300})
    model.run(2)
    assert box_value(model, "annual retention") == "–"
    assert note(model) == "after 13 weeks of churn"
    assert np.isfinite(model.recorder.latest_market["retention_annual"])  # sweeps still read it
    assert "the share of customers a year keeps" in headline_html(model, {}, model.steps)
    model.run(10)  # step 12: still under a quarter
    assert box_value(model, "annual retention") == "–"
    model.run(1)  # step 13: a quarter of churn
    retention = model.recorder.latest_market["retention_annual"]
    assert box_value(model, "annual retention") == f"{retention:.1%}"
    assert note(model) == "from 13 weeks of churn"
    model.run(39)
    assert note(model) == "kept over a year"
    assert 0 < model.recorder.latest_market["retention_annual"] < 1


def test_a_monthly_market_shows_annual_retention_after_three_months() -> None:
    """A quarter is ``steps_per_year / 4`` steps: 3 in a market stepped monthly."""
    model = sim.CustomerMarket(
        "overpromise_vs_honest",
        rng=1,
        overrides={"market.customers": 300, "steps_per_year": 12},
    )
    assert model.steps_per_year == 12
    model.run(2)
    assert box_value(model, "annual retention") == "–"
    assert box_note(model, "annual retention") == "after 13 weeks of churn"
    model.run(1)
    assert box_value(model, "annual retention") != "–"


def test_the_retention_lines_start_after_a_quarter_of_churn() -> None:
    """Finding 2: the per-firm retention lines climbed from 0 over the first weeks, which
    looked like a trend. Explore's (and the lessons') retention chart has no point before
    step 13; the other charts start at step 1. Compare's band chart of annual retention
    starts at a quarter of a year too."""
    from sim.ui.charts import band_option
    from sim.ui.explore import explore_board, firm_series

    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 300})
    model.run(20)
    board = {name: option for name, option, *_ in explore_board(firm_series(model), "share")}
    rows = np.array(board["retention"]["dataset"]["source"], float)
    steps = np.rint(rows[:, 0] * 52)
    assert np.isnan(rows[steps < 13, 1:]).all()
    assert np.isfinite(rows[steps >= 13, 1:]).all()
    share = np.array(board["share"]["dataset"]["source"], float)
    assert np.isfinite(share[:, 1:]).all()
    x = np.arange(1, 41) / 52
    mean = np.full(40, 0.8)
    from sim.ui.compare import START_YEAR

    start = START_YEAR["retention_annual"]
    band = band_option(
        "Annual retention, %", "", x, [("A", "#000", mean, mean - 0.1, mean + 0.1)], None, start
    )
    table = band["dataset"]["source"]
    drawn = [float(r[0]) for r in table if r[3] is not None]
    assert min(drawn) == 0.25 and len(drawn) == 40 - 12
    other = band_option("Mean trust, 0-1", "", x, [("A", "#000", mean, mean - 0.1, mean + 0.1)])
    assert sum(r[3] is not None for r in other["dataset"]["source"]) == 40


def _late_entrant(steps: np.ndarray) -> pd.DataFrame:
    """Two firms' rows over ``steps`` (1-60): "old" there from the start, "new" entering at step
    30, both with an annual retention of 0.8."""
    return pd.DataFrame(
        {
            "step": np.repeat(steps, 2),
            "year": np.repeat(steps / 52, 2),
            "firm": np.tile([0, 1], 60),
            "active": np.ravel(np.column_stack([np.ones(60, bool), steps >= 30])),
            "retention_annual": 0.8,
        }
    )


def test_a_firm_entering_late_gets_its_retention_line_a_quarter_after_entry() -> None:
    """A firm that enters at step 30 has a few weeks of churn of its own at step 35: its
    retention line starts 13 steps after it entered."""
    from sim.ui.charts import EXPLORE_CHARTS, FirmSeries, firm_line_option

    names, steps = ["old", "new"], np.arange(1, 61)
    frame = _late_entrant(steps)
    series = FirmSeries.from_frame(frame, names, ["a", "a"])
    rows = np.array(
        firm_line_option(series, **EXPLORE_CHARTS["retention"])["dataset"]["source"], float
    )
    drawn = {i: set(np.rint(rows[np.isfinite(rows[:, i + 1]), 0] * 52).astype(int)) for i in (0, 1)}
    assert min(drawn[0]) == 13 and min(drawn[1]) == 29 + 13


def test_the_exported_retention_chart_waits_for_a_quarter_as_the_page_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit: the exported retention.png (Export's zip, ``cxsim run --plot``) started at step 1
    with spikes of 64-100%, where the page waits for a quarter of churn. Both follow
    :func:`sim.columns.retention_shown`: from step 13 (3 monthly), or 13 steps after a firm
    entered; the other exported charts start at step 1."""
    import matplotlib.pyplot as plt

    import sim.plots as plots
    from sim.ui.charts import EXPLORE_CHARTS, FirmSeries, firm_line_option

    drawn: dict[str, list[float]] = {}
    original = plots.firm_chart

    def firm_chart(df, column, *args, **kwargs):
        fig = original(df, column, *args, **kwargs)
        lines = [
            (np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata())) for ln in fig.axes[0].lines
        ]
        drawn[column] = [float(x[np.isfinite(y)].min()) for x, y in lines if np.isfinite(y).any()]
        return fig

    monkeypatch.setattr(plots, "firm_chart", firm_chart)
    for per_year, first in ((52, 13), (12, 3)):
        model = sim.CustomerMarket(
            "overpromise_vs_honest",
            rng=1,
            overrides={"market.customers": 300, "steps_per_year": per_year},
        )
        model.run(20)
        firms = model.firm_metrics()
        assert firms["retention_annual"].notna().all()  # the model's column keeps every step
        plots.plot_firm_series(firms, tmp_path / str(per_year))
        assert drawn["retention_annual"] == pytest.approx([first / per_year] * len(model.firms))
        assert drawn["share"] == pytest.approx([1 / per_year] * len(model.firms))
    plt.close("all")

    steps = np.arange(1, 61)  # a firm entering at step 30: as on the page, 13 steps later
    frame = _late_entrant(steps)
    shown = plots.hide_early(frame, "retention_annual")
    exported = {
        f: set(g.loc[g["retention_annual"].notna(), "step"]) for f, g in shown.groupby("firm")
    }
    series = FirmSeries.from_frame(frame, ["old", "new"], ["a", "a"])
    rows = np.array(
        firm_line_option(series, **EXPLORE_CHARTS["retention"])["dataset"]["source"], float
    )
    page = {i: set(np.rint(rows[np.isfinite(rows[:, i + 1]), 0] * 52).astype(int)) for i in (0, 1)}
    assert exported == page and min(page[1]) == 29 + 13
    assert plots.hide_early(frame, "share") is frame


def test_the_step_time_is_not_shown_for_a_market_just_loaded() -> None:
    """Finding 13: after loading a scenario, step 0 read "step 194 ms", the last frame of the
    previous market."""
    from sim.ui.explore import headline_html

    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 300})
    html = headline_html(model, {}, 0, (0.194, 0.0))
    assert "194 ms" not in html and "year 0.0" in html
    model.run(1)
    html = headline_html(model, dict(model.recorder.latest_market), 1, (0.012, 0.0))
    assert "step 12 ms" in html


def test_the_firm_facts_give_a_closed_firm_no_capacity() -> None:
    """Inspect's firm facts read a closed firm's capacity as its rows do: none (the facts gave
    the last capacity it had, beside "status: exited"); a firm not yet entered, the capacity it
    enters with."""
    from sim.ui.inspect import capacity_fact

    model = sim.CustomerMarket(
        "overpromise_vs_honest",
        rng=2,
        overrides={
            "market.customers": 300,
            "firms[0].cash": -1.0,
            "firms[0].base_budget": 50.0,
            "economics.exit_after_weeks": 2,
        },
    )
    model.run(10)
    closed, open_ = model.firms[0], model.firms[1]
    assert not closed.alive and closed.capacity > 0  # the state keeps it
    assert capacity_fact(closed, 300) == "none (closed)"
    rows = model.firm_metrics()
    assert rows.loc[rows["firm"] == 0, "capacity"].iloc[-1] == 0.0  # its last row
    assert capacity_fact(open_, 300) == f"{open_.capacity * 300:,.0f} customers"
    late = sim.CustomerMarket("national_leader_enters", rng=1, overrides={"market.customers": 300})
    late.run(1)
    leader = late.firms[4]
    assert not leader.active and leader.alive
    assert capacity_fact(leader, 300) == f"{leader.capacity * 300:,.0f} customers once it enters"
    # the bars of promise against capability are the closed firm's last, and say so
    from sim.ui.inspect import promise_bars_option

    assert promise_bars_option(model, 0)["title"]["text"].startswith("When it closed: ")
    assert promise_bars_option(model, 1)["title"]["text"].startswith("Now: ")
