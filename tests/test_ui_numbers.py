"""What the UI's numbers say: the comparison table's rows to the precision of their intervals,
and the customers served in a market of several industries (Compare and Explore)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import sim


def test_compare_rows_are_written_to_the_precision_of_their_interval() -> None:
    """The comparison table's rows: trust's difference of about -0.10 with an interval 0.005
    wide gets four decimals (at two its interval read "-0.10 to -0.10"), a profit difference
    of 3,310 +- 122 none; no interval, two."""
    from sim.ui.compare import _fmt, row_places

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


def test_the_annual_retention_headline_says_how_many_weeks_it_projects_before_a_year() -> None:
    """Two weeks in, annual retention is two weeks of churn carried over a year (in a young
    market a number like 10%); the box says so until a year has passed."""
    from sim.ui.explore import headline_html

    def note(model: sim.CustomerMarket) -> str:
        return box_note(model, "annual retention")

    model = sim.CustomerMarket("overpromise_vs_honest", rng=1, overrides={"market.customers": 300})
    model.run(2)
    assert note(model) == "from 2 weeks of churn"
    assert "the share of customers a year keeps" in headline_html(model, {}, model.steps)
    model.run(50)
    assert note(model) == "kept over a year"
    assert 0 < model.recorder.latest_market["retention_annual"] < 1
