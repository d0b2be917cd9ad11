"""Compare's per-firm view when a firm closes in some runs (user review, finding 1), and the
result left on the page after Cancel or a form change (finding 10).

A firm that closed has no share and no profit: it counts as 0, not as missing (the page said
"market share 28%" for a firm that had closed in 6 of 8 runs). Its customers' metrics (NPS,
satisfaction ...) exist only while it is open; a row's A, B and B − A are then over the same
pairs, so its columns add up, and a row of 2 pairs is not decided.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim.ui.state  # noqa: F401  Mesa's visualization imported at collection (known warning)
from sim.ui.replicates import (
    FIRM_METRICS,
    MARKET_METRICS,
    MIN_PAIRS,
    CompareSpec,
    _assemble,
    firm_values,
    mean_band,
    paired_difference,
)

REPS, STEPS = 8, 10
CLOSES_IN_A = {0: 4, 2: 6, 3: 5, 4: 7, 6: 3, 7: 8}
"""Replicate of A -> step at which "Big" closes; it stays open in replicates 1 and 5 of A and
in every replicate of B."""


def _firm_rows(variant: str, r: int, steps: np.ndarray) -> pd.DataFrame:
    """Model-like firm rows of one run: "Big" (closing in some runs of A) and "Small"."""
    rows = []
    for s in steps:
        closes = CLOSES_IN_A.get(r) if variant == "A" else None
        alive = closes is None or s < closes
        base = 0.4 + 0.01 * r + (0.1 if variant == "B" else 0.0)
        rows.append(
            {
                "step": s,
                "year": s / 52,
                "name": "Big",
                "alive": alive,
                "active": alive,
                "share": base if alive else 0.0,
                "retention_annual": 0.6 + 0.01 * r if alive else np.nan,
                "nps": (10.0 + 3 * r + (8.0 if variant == "B" else 0.0)) if alive else np.nan,
                "satisfaction": 7.0 + 0.05 * r if alive else np.nan,
                "trust": 0.3 + 0.02 * r if alive else np.nan,
                # the model books no revenue and no cost once a firm is closed: 0
                "profit": (-500.0 + 100 * r + (900.0 if variant == "B" else 0.0)) if alive else 0.0,
            }
        )
        rows.append(
            {
                "step": s,
                "year": s / 52,
                "name": "Small",
                "alive": True,
                "active": True,
                "share": 1 - rows[-1]["share"],
                "retention_annual": 0.8,
                "nps": 30.0 + r,
                "satisfaction": 7.5,
                "trust": 0.6,
                "profit": 1000.0 + r,
            }
        )
    return pd.DataFrame(rows)


def _run(variant: str, r: int) -> dict:
    steps = np.arange(1, STEPS + 1)
    market = pd.DataFrame({"step": steps, "year": steps / 52})
    for metric in MARKET_METRICS:
        market[metric] = 0.5 + 0.01 * r + (0.05 if variant == "B" else 0.0) + 0.001 * steps
    firms = _firm_rows(variant, r, steps)
    return {"variant": variant, "replicate": r, "market": market, "firms": firm_values(firms)}


@pytest.fixture
def result():
    spec = CompareSpec(None, None, ("A: over-promising", "B: honest"), replicates=REPS, steps=STEPS)
    runs = [_run(v, r) for v in "AB" for r in range(REPS)]
    return _assemble(spec, runs, 1.0)


def test_firm_values_count_a_closed_firm_as_no_share_and_no_profit() -> None:
    """Where a firm is not active its customers' metrics are NaN, its share and profit 0 (a
    profit the model left missing included), and ``closed`` says whether it has exited; a firm
    not yet entered is not closed."""
    raw = pd.DataFrame(
        {
            "step": [1, 2, 3],
            "year": [0.02, 0.04, 0.06],
            "name": ["Big", "Big", "Late"],
            "alive": [True, False, True],
            "active": [True, False, False],  # Late has not entered yet
            **{m: [0.5, np.nan, np.nan] for m in FIRM_METRICS},
        }
    )
    out = firm_values(raw)
    assert "alive" not in out and "active" not in out
    assert list(out["closed"]) == [0.0, 1.0, 0.0]
    assert list(out["share"]) == [0.5, 0.0, 0.0] and list(out["profit"]) == [0.5, 0.0, 0.0]
    for metric in ("nps", "satisfaction", "trust", "retention_annual"):
        assert out[metric].iloc[0] == 0.5 and out[metric].iloc[1:].isna().all()


def test_a_firm_that_closed_counts_with_share_0_and_the_page_says_how_often(result) -> None:
    """Big closed in 6 of 8 runs of A: A's end-of-run share is the mean over all 8 runs (6 of
    them 0), not over the 2 it survived in (the page said 28% for such a firm); so is its
    profit; and the mean line of the share chart counts the closed runs as 0."""
    from sim.ui.compare import closure_note

    assert result.closures("Big") == [(6, 8), (0, 8)]
    assert closure_note(result, "Big") == "Big closed in 6 of 8 runs of A, 0 of 8 of B (by step 10)"
    assert closure_note(result, "Small") is None
    table = result.differences().set_index(["scope", "key"])
    share = table.loc[("Big", "share")]
    survivors = [0.4 + 0.01 * r for r in (1, 5)]
    assert share["pairs"] == REPS
    assert share["a"] == pytest.approx(100 * sum(survivors) / REPS)  # about 10%, not 45%
    assert share["a"] < 100 * min(survivors) / 2
    profit = table.loc[("Big", "profit")]
    assert profit["pairs"] == REPS
    assert profit["a"] == pytest.approx(sum(-500.0 + 100 * r for r in (1, 5)) / REPS)
    mean, _, _ = mean_band(result.series(0, "Big", "share") * 100)
    assert mean[-1] == pytest.approx(share["a"])
    # before any closure (step 2), all runs open: the line is the mean of all 8
    assert mean[1] == pytest.approx(100 * np.mean([0.4 + 0.01 * r for r in range(REPS)]))
    # the customers' metrics: their lines are over the runs where Big is open
    nps, _, _ = mean_band(result.series(0, "Big", "nps"))
    assert nps[-1] == pytest.approx(np.mean([10.0 + 3 * r for r in (1, 5)]))


def test_a_rows_a_b_and_difference_are_over_the_same_pairs(result) -> None:
    """NPS of Big exists in A only in replicates 1 and 5: A, B and B − A are all over those 2
    pairs, so B − A = B − A of the columns (it read 24 − 15 = 9 against a B − A of 6), and
    with 2 pairs the row has no interval and is not decided."""
    table = result.differences().set_index(["scope", "key"])
    for metric in ("nps", "satisfaction", "trust", "retention_annual"):
        row = table.loc[("Big", metric)]
        assert row["pairs"] == 2 < MIN_PAIRS
        assert row["difference"] == pytest.approx(row["b"] - row["a"])
        assert np.isnan(row["low"]) and np.isnan(row["high"]) and not row["clear"]
    nps = table.loc[("Big", "nps")]
    assert nps["a"] == pytest.approx(np.mean([10.0 + 3 * r for r in (1, 5)]))
    assert nps["b"] == pytest.approx(np.mean([18.0 + 3 * r for r in (1, 5)]))  # not all 8 of B
    # every row of every scope adds up
    assert np.allclose(table["difference"], table["b"] - table["a"])
    # a firm open everywhere, and the market: all 8 pairs, decided
    assert (table.loc["Small"]["pairs"] == REPS).all()
    market = table.loc["market"]
    assert (market["pairs"] == REPS).all() and market["clear"].all()
    a_end = result.market[0]["nps"][:, -1]
    assert market.loc["nps", "a"] == pytest.approx(np.nanmean(a_end))  # as before


def test_paired_difference_uses_the_pairs_for_its_means_and_needs_three() -> None:
    d = paired_difference(np.array([1.0, np.nan, 3.0, 10.0]), np.array([2.0, 50.0, np.nan, 14.0]))
    assert d["pairs"] == 2 and d["a"] == pytest.approx(5.5) and d["b"] == pytest.approx(8.0)
    assert d["difference"] == pytest.approx(2.5) and np.isnan(d["low"])
    three = paired_difference(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 3.5]))
    assert three["pairs"] == 3 and three["low"] < three["difference"] < three["high"]
    assert np.isnan(paired_difference(np.array([np.nan]), np.array([1.0]))["a"])


def test_a_run_that_stopped_early_keeps_its_closed_firms_at_0(result) -> None:
    """Every firm of a run closed: the market stops (``sim.batch``) and records no more steps.
    Its firms stay closed, with no share and no profit, to the end of the comparison."""
    spec = CompareSpec(None, None, ("A", "B"), replicates=2, steps=STEPS)
    short = _run("A", 0)
    short["market"] = short["market"].iloc[:5]
    firms = short["firms"]
    firms = firms[firms["step"] <= 5].copy()
    firms.loc[firms["step"] >= 4, ["share", "profit", "closed"]] = [0.0, 0.0, 1.0]
    short["firms"] = firms
    runs = [short, _run("A", 1), _run("B", 0), _run("B", 1)]
    res = _assemble(spec, runs, 1.0)
    for name in ("Big", "Small"):
        assert res.firms[0][name]["closed"][0, -1] == 1.0
        assert res.firms[0][name]["share"][0, -1] == 0.0
        assert res.firms[0][name]["profit"][0, -1] == 0.0
        assert np.isnan(res.firms[0][name]["nps"][0, -1])
    assert res.closures("Small") == [(1, 2), (0, 2)]


def test_the_table_shows_fewer_pairs_and_does_not_decide_on_two(result) -> None:
    """The per-firm table: "2 of 8" where a row has fewer pairs than replicates, "too few
    pairs" (with a tooltip) in place of an interval, and no ✔."""
    from sim.ui.compare import difference_rows

    table = result.differences()
    html = difference_rows(table[table["scope"] == "Big"], REPS)
    rows = dict(
        (row.split('"')[0], row) for row in html.split('<tr data-metric="')[1:]
    )  # key -> row
    assert "2 of 8" in rows["nps"] and "too few pairs" in rows["nps"] and "✔" not in rows["nps"]
    assert f"needs {MIN_PAIRS} pairs" in rows["nps"]
    assert " of 8" not in rows["share"] and "too few" not in rows["share"] and "✔" in rows["share"]


def test_an_old_result_is_labelled_previous_once_the_form_changes(monkeypatch, tmp_path) -> None:
    """After a form change (or while a new comparison runs, or after its Cancel) the result on
    the page is not the form's comparison: the page says so, with the result's own settings."""
    import sim
    import sim.ui.compare as compare
    from sim.ui.state import SessionState

    monkeypatch.setattr(compare, "prestart", lambda: None)
    path = tmp_path / "small.toml"
    path.write_text(sim.load_scenario("baseline", {"market.customers": 300}).to_toml())
    cmp = compare.CompareState(SessionState(str(path)))
    cmp.replicates.value = "8"
    cmp.steps.value = "260"
    spec = CompareSpec(None, None, ("A: baseline", "B: honest"), replicates=8, steps=260)
    assert cmp.stale() is None  # nothing shown
    cmp.shown.value = (cmp.settings(), spec)
    cmp.result.value = object()
    assert cmp.stale() is None  # the form describes the result on the page
    cmp.replicates.value = "40"
    why = cmp.stale()
    assert why == "the settings above have changed since"
    label = compare.previous_label(spec, why)
    assert label.startswith("Previous comparison (the settings above have changed since)")
    assert "A: baseline · B: honest · 8 replicates of 260 steps" in label
    running = compare.previous_label(spec, compare.RUNNING)
    assert "(a new comparison is running)" in running and "until the new one finishes" in running
    cmp.replicates.value = "8"
    assert cmp.stale() is None
    cmp.b_mode.value = "another scenario"
    assert cmp.stale() is not None
    cmp.b_mode.value = "one change"
    cmp.session.scenario.value = sim.load_scenario("baseline", {"market.customers": 400})
    assert cmp.stale() is not None  # A is the Explore market, which changed


def test_the_default_variant_b_differs_from_a(monkeypatch, tmp_path) -> None:
    """Audit: the form opened with B setting First Bank's strategy to the one A's First Bank
    already had, so Run said "B is the same market as A". B's default is a strategy A's firm
    does not have, made again when A changes under it (a live change in Explore), not once the
    user chose B's change."""
    import solara

    import sim
    import sim.ui.compare as compare
    from sim.ui.state import SessionState

    monkeypatch.setattr(compare, "prestart", lambda: None)
    path = tmp_path / "small.toml"
    scenario = sim.load_scenario("baseline", {"market.customers": 300})
    path.write_text(scenario.to_toml())
    session = SessionState(str(path))
    cmp = compare.CompareState(session)
    _, rc = solara.render(compare.CompareForm(cmp), handle_error=False)
    try:
        assert (cmp.b_key.value, cmp.b_value.value) == ("First Bank: strategy", "overpromise")
        spec = cmp.build_spec()
        assert spec.b.firms[0].strategy == "overpromise" and spec.a.firms[0].strategy == "honest"
        session.step(2)
        assert session.change("firms[0].strategy", "overpromise") is None  # A takes B's value
        assert (cmp.b_key.value, cmp.b_value.value) == ("First Bank: strategy", "honest")
        assert cmp.build_spec().b.firms[0].strategy == "honest"
        cmp.b_value.value = "niche"  # the user's choice stays
        assert session.change("firms[0].strategy", "honest") is None
        assert cmp.b_value.value == "niche"
    finally:
        rc.close()
    overpromising = sim.load_scenario("baseline", {"firms[0].strategy": "overpromise"})
    keys = compare.change_keys(overpromising)
    assert compare.default_change(overpromising, keys) == ("First Bank: strategy", "honest")
