"""The UI's forms and their words without a browser (review findings 8, 9, 11, 12, 15, 18):
messages that clear when they are answered, the "When does it pay?" page following the
sidebar's scenario, fields named and hinted as a reader would, the margin map's legend."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import sim
import sim.ui.state  # Mesa's visualization imported at collection: its known warning silenced

CALIBRATION = Path(__file__).parent / "fixtures" / "calibration"


@pytest.fixture
def session(tmp_path: Path):
    from sim.ui.state import SessionState

    scenario = sim.load_scenario("baseline", {"market.customers": 300})
    path = tmp_path / "small.toml"
    path.write_text(scenario.to_toml())
    return SessionState(str(path))


# -- Calibrate (finding 8) --------------------------------------------------------------------


def _file(name: str, content: bytes) -> dict:
    from datetime import datetime

    return {
        "name": name,
        "type": "text/csv",
        "size": len(content),
        "content": memoryview(content),
        "last_modified": datetime.now(),
    }


def test_an_upload_clears_calibrates_upload_first_message() -> None:
    """The page kept "upload a data file first" in red under a file it had read, and its upload
    button counted a refused file ("Upload data (1)")."""
    import ipywidgets
    import solara

    from sim.ui.calibrate_page import CalibratePage
    from sim.ui.calibrate_state import CalibrateState
    from sim.ui.state import SessionState

    cal = CalibrateState(SessionState(str(CALIBRATION / "market.toml")))
    try:
        _, rc = solara.render(CalibratePage(cal), handle_error=False)
        button = rc.find(ipywidgets.FileUpload).widget
        cal.start()
        assert cal.form_error.value and "upload a data file first" in cal.form_error.value
        bad = b"series,firm,year,value\nretention,Nobody,1,1.5\n"
        button.value = (_file("bad.csv", bad),)
        assert cal.form_error.value is None  # the refused file has its own message
        assert cal.data_error.value and "Nobody" in cal.data_error.value
        assert button.value == ()  # the button counts no file: none is in use
        cal.start()
        assert "upload a data file first" in (cal.form_error.value or "")
        button.value = (_file("retention.csv", (CALIBRATION / "retention.csv").read_bytes()),)
        assert cal.form_error.value is None and cal.data_error.value is None
        assert cal.observed.value is not None and len(button.value) == 1
        rc.close()
    finally:
        cal.close()


# -- When does it pay? (findings 9, 15, 18) ---------------------------------------------------


def test_a_changed_field_clears_the_robustness_form_error(session) -> None:
    from sim.ui.robustness_page import RobustnessState

    st = RobustnessState(session)
    st.edit(st.ranges, "nonexistent.toml")
    st.start()
    assert st.form_error.value == "robustness file: 'nonexistent.toml' not found"
    st.edit(st.ranges, "experiments/robustness/ranges.toml")
    assert st.form_error.value is None
    st.edit(st.worlds, "3")
    st.start()
    assert st.form_error.value == "worlds: expected 8 to 4,096, got 3"
    other = next(n for n in st.names if n != st.scenario.value)
    st.edit(st.scenario, other)  # any field, not only the one at fault
    assert st.form_error.value is None and st.scenario.value == other


def test_the_robustness_form_takes_the_worlds_that_reproduce_the_facts(
    session, tmp_path, monkeypatch
) -> None:
    """Ticked, the study's worlds are the fit's (``cxsim facts``); without a fit, the form says
    how to make one."""
    from sim.ui.robustness_page import FACTS_ENV, RobustnessState, facts_fit_note, odds_boxes

    monkeypatch.setenv(FACTS_ENV, str(tmp_path / "facts"))
    assert facts_fit_note().startswith("not made yet")
    st = RobustnessState(session)
    st.edit(st.fitted, True)
    st.start()
    assert "posterior.parquet not found" in st.form_error.value
    assert f"cxsim facts --out {tmp_path / 'facts'}" in st.form_error.value
    (tmp_path / "facts").mkdir()
    rows = pd.DataFrame({"trust.loss": np.linspace(0.3, 0.4, 24)})
    rows.to_parquet(tmp_path / "facts" / "posterior.parquet")
    (tmp_path / "facts" / "fit.json").write_text("{}")  # written beside it by cxsim facts
    assert facts_fit_note().startswith("found (")
    assert "an unfinished fit" in facts_fit_note()  # fit.json does not say every world fits
    info = {"reproduces": True, "distinct_worlds": 20, "ancestors": 3, "between_lineages": 0.7}
    (tmp_path / "facts" / "fit.json").write_text(json.dumps(info))
    assert "20 distinct worlds from 3 lineages, 70% of their variance" in facts_fit_note()
    fitted = st.settings()
    study = fitted.plan()
    assert len(study.worlds) == 24 and study.worlds["trust.loss"].between(0.3, 0.4).all()
    assert study.ranges["trust.loss"].origin == "posterior"
    st.edit(st.fitted, False)
    plain = st.settings()
    assert plain.folder != fitted.folder and "-facts" in fitted.folder.name
    done = SimpleNamespace(complete=True, runs_ok=24, runs_total=24, study=study)
    verdict = SimpleNamespace(
        odds=SimpleNamespace(share=0.5, worlds=24, low=0.3, high=0.7),
        claim=SimpleNamespace(by_construction=""),
        margin_mean=0.1,
    )
    (_, _, note), *_ = odds_boxes(done, verdict)
    assert note == "of 24 worlds that reproduce the published facts"


def test_the_robustness_page_follows_the_sidebars_scenario(session) -> None:
    """The page kept the scenario the session opened with after the sidebar loaded another."""
    from sim.ui.robustness_page import RobustnessState

    st = RobustnessState(session)
    assert st.scenario.value == "baseline"
    assert session.load("overpromise_vs_honest")
    st.follow(session.scenario.value.name)
    assert st.scenario.value == "overpromise_vs_honest"
    st.edit(st.scenario, "baseline")  # picked on the page: kept while the sidebar stays
    st.follow(session.scenario.value.name)
    assert st.scenario.value == "baseline"
    assert session.load("baseline") and session.load("overpromise_vs_honest")
    st.follow("baseline")
    st.follow(session.scenario.value.name)  # the sidebar loaded it again: the latest wins
    assert st.scenario.value == "overpromise_vs_honest"
    st.follow("no_such_scenario")  # a sidebar scenario without claims leaves the page as it is
    assert st.scenario.value == "overpromise_vs_honest"


def test_undecided_worlds_and_the_margins_unit_are_explained() -> None:
    from sim.ui.robustness_page import MARGIN_NOTE, undecided_note

    assert "claim's units" in MARGIN_NOTE and "share points as a fraction" in MARGIN_NOTE
    note = undecided_note(5)
    assert note.startswith("5 undecided worlds are left out of the odds and the map")
    assert "no run gave the claim a value" in note and "closed" in note
    assert undecided_note(1).startswith("1 undecided world is ")


def test_the_undecided_note_names_the_claims_own_metric() -> None:
    """Audit: a claim on share was told "so its trust had no value"."""
    from sim.robustness.claims import parse_claim
    from sim.ui.robustness_page import undecided_note

    firms, industries = ["A", "B"], ["banking"]
    share = parse_claim("c", "firms.A.share > firms.B.share", "", firms, industries)
    note = undecided_note(3, share)
    assert "had no customers left (it closed), so its market share had no value" in note
    assert "trust" not in note
    two = parse_claim("c", "firms.A.trust > firms.B.retention_annual", "", firms, industries)
    assert "so its trust or annual retention had no value" in undecided_note(3, two)
    market = parse_claim("c", "satisfaction[banking] > 5", "", firms, industries)
    note = undecided_note(3, market)
    assert "the market's satisfaction in banking had no value" in note and "closed" in note
    assert "so what the claim reads of it had no value" in undecided_note(3)


def test_a_claim_built_in_says_so_under_its_odds() -> None:
    """100% of worlds is the biggest number of the page: for a claim the rules or the set-up
    make true, the box under it says it is built in, not only the sentence below."""
    from sim.robustness.claims import parse_claim
    from sim.robustness.verdicts import judge
    from sim.ui.robustness_page import odds_boxes

    worlds = pd.DataFrame({"trust.gain": np.linspace(0.1, 1.0, 40)})
    margin = pd.Series(0.2 + worlds["trust.gain"], index=worlds.index)
    done = SimpleNamespace(
        complete=True, runs_ok=40, runs_total=40, study=SimpleNamespace(posterior=None)
    )
    for built_in, note in (
        ("the trust rule", "of 40 worlds; built in, not a finding"),
        ("", "of 40 worlds"),
    ):
        claim = parse_claim(
            "c", "market.nps @ final > 0", "", ["A"], ["banking"], by_construction=built_in
        )
        (label, value, shown), *_ = odds_boxes(done, judge(claim, worlds, margin))
        assert (label, value, shown) == ("holds in", "100%", note)


def test_the_margin_map_legend_names_every_mark_and_the_undecided_worlds() -> None:
    """Worlds that hold by a hair are white dots (they looked hollow, like undecided worlds);
    the legend shows them, and says how many undecided worlds are not drawn."""
    import matplotlib.pyplot as plt

    from sim.robustness.claims import parse_claim
    from sim.robustness.figures import margin_map
    from sim.robustness.verdicts import judge

    rng = np.random.default_rng(0)
    worlds = pd.DataFrame(
        {"delivery.noise": rng.uniform(0, 0.15, 40), "trust.gain": rng.uniform(0, 1, 40)}
    )
    margin = pd.Series(worlds["trust.gain"] - 0.3, index=worlds.index)
    margin.iloc[:5] = np.nan
    claim = parse_claim("c", "market.nps @ final > 0", "", ["A"], ["banking"])
    verdict = judge(claim, worlds, margin)
    fig = margin_map(verdict, worlds, margin)
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    label = fig.axes[1].get_ylabel()
    plt.close(fig)
    assert "holds (colour: its margin)" in texts and "holds by a hair (margin near 0)" in texts
    assert "fails" in texts and "5 undecided (no margin): not drawn" in texts
    assert "claim's units" in label


# -- the sidebar (findings 11, 12) ------------------------------------------------------------


def test_the_rebuild_question_names_the_field_as_the_sidebar_does(session) -> None:
    from sim.ui.controls import change_field
    from sim.ui.fields import firm_group

    session.step(3)
    spec = {f.key: f for f in firm_group(session.scenario.value, 0).fields}
    assert change_field(session, spec["firms[0].initial_share"], 0.3) is None
    text = session.pending.value.text
    assert text.startswith("Changing “First Bank: initial share” changes how the market is built")
    assert "firms[0]" not in text
    session.confirm()  # the question's answer still applies the change
    assert session.scenario.value.firms[0].initial_share == 0.3


def _error_lines(rc) -> list[str]:
    import ipyvuetify as v

    return [w.children[0] for w in rc.find(v.Html, class_="cx-error-line").widgets]


def test_an_upload_is_checked_before_asking_to_replace_an_edited_market(session) -> None:
    """Audit: uploading over an edited market asked "Replace the edited market? ... your changes
    are lost" before reading the file, which could then be rejected (and the market kept)."""
    import ipywidgets
    import solara

    from sim.ui.controls import Sidebar

    good = Path(session.source.value).read_text()
    bad = good.replace("customers = 300", "customers = -10")
    session.step(3)
    assert session.change("firms[0].price", 90.0) is None  # live: the market is edited
    model, scenario = session.model.value, session.scenario.value
    _, rc = solara.render(Sidebar(session), handle_error=False)
    button = rc.find(ipywidgets.FileUpload).widget
    try:
        button.value = (_file("my_bad_market.toml", bad.encode()),)
        assert session.pending.value is None  # nothing to ask about
        assert session.model.value is model and session.scenario.value is scenario
        assert model.steps == 3 and session.edited
        lines = _error_lines(rc)
        assert len(lines) == 1 and lines[0].startswith("my_bad_market.toml: market.customers")
        button.value = (_file("mine.toml", good.encode()),)
        assert session.pending.value is not None  # a file that loads: now it asks
        assert "Replace the edited market?" == session.pending.value.title
        assert session.model.value is model
        session.cancel()  # "No, keep the market": nothing else happened, the lines stay
        assert session.model.value is model and session.scenario.value is scenario
        assert len(_error_lines(rc)) == 1
        button.value = (_file("mine.toml", good.replace("300", "280").encode()),)
        session.confirm()
        assert session.source.value == "upload: mine.toml" and not session.edited
        assert session.scenario.value.market.customers == 280
        assert session.model.value.steps == 0 and _error_lines(rc) == []
    finally:
        rc.close()
        session.close()


@pytest.mark.parametrize("then", ["reset", "step", "load", "rebuild"])
def test_a_rejected_files_lines_go_when_the_market_moves_on(session, then: str) -> None:
    """Audit: the red lines of a rejected upload stayed after Reset, after a valid scenario was
    loaded and while playing."""
    text = Path(session.source.value).read_text().replace("customers = 300", "customers = -10")
    assert not session.upload("bad.toml", text.encode())
    assert session.source_error.value.startswith("bad.toml: ")
    assert session.change("firms[0].price", -1.0)  # a rejected value replaces nothing
    assert session.source_error.value is not None
    if then == "reset":
        session.reset()
    elif then == "step":
        session.step()
    elif then == "load":
        assert session.load("baseline") or session.pending.value is not None
        session.confirm()
    else:
        assert session.change("market.customers", 250) is None  # at step 0: rebuilt now
    assert session.source_error.value is None
    session.close()


def test_field_names_read_as_words() -> None:
    from sim.ui.fields import behaviour_groups, field_name, market_group, segment_group

    scenario = sim.load_scenario("baseline")
    names = [field_name(scenario, f) for f in market_group(scenario).fields]
    assert names == ["seed", "steps per run", "Market: customers", "Market: regions"]
    trust = next(g for g in behaviour_groups() if g.title == "Trust and commitment")
    assert field_name(scenario, trust.fields[0]).startswith("Trust and commitment: ")
    segment = segment_group(scenario).fields[0]
    assert field_name(scenario, segment) == segment.label  # it names its segment already


def test_firm_field_hints_give_units_ranges_and_meaning() -> None:
    """Capability said "attribute · ... (one number: all attributes) (reliability)" with no
    range; region's hint began with a lone "·"; capacity was a "share" of up to 10."""
    from sim.ui.fields import field_message, firm_group, segment_group

    baseline = sim.load_scenario("baseline")
    hints = {f.key: field_message(f) for f in firm_group(baseline, 0).fields}
    reliability = hints["firms[0].capability.reliability"]
    assert (
        reliability == "0 to 1 · what the firm can deliver on reliability (0: nothing, 1: the best)"
    )
    region = hints["firms[0].region"]
    assert not region.startswith(("·", " ")) and " ·  · " not in region
    assert "empty: a national firm" in region and "one region, 0" in region
    capacity = hints["firms[0].capacity"]
    assert capacity.startswith("share of the market's customers · 0 to 10 · ")
    assert "1: all of them" in capacity and "2,000 customers" in capacity
    assert all(not h.startswith(("·", " ")) and "·  ·" not in h for h in hints.values())

    single = sim.load_scenario("overpromise_vs_honest")
    one = {f.key: field_message(f) for f in firm_group(single, 0).fields}
    assert one["firms[0].capability"].startswith("0 to 1 · ")
    assert "one number" not in one["firms[0].capability"]
    assert segment_group(single).subtitle == "1 segment"
    assert segment_group(baseline).subtitle == f"{len(baseline.segments)} segments"


def test_live_and_optional_parts_join_without_empty_pieces() -> None:
    from sim.ui.fields import FieldSpec, field_message

    bare = FieldSpec("x", "x", "text", description="meaning", optional=True)
    assert field_message(bare) == "empty: none · meaning"
    assert field_message(bare, live=True) == "empty: none · live · meaning"
    ranged = FieldSpec("y", "y", "float", unit="steps", description="meaning", ge=0)
    assert field_message(ranged, live=True) == "steps · at least 0 · live · meaning"


def test_the_fitted_market_asks_before_it_replaces_an_edited_one(session, tmp_path) -> None:
    """Audit: "Open the fitted market in Explore" replaced an edited Explore market without
    asking, unlike a scenario picked or uploaded."""
    from sim.ui.calibrate_state import CalibrateState

    fitted = tmp_path / "fitted.toml"
    fitted.write_text(sim.load_scenario("overpromise_vs_honest").to_toml())
    cal = CalibrateState(session)
    cal.fitted_path = fitted
    assert session.change("firms[0].price", 90.0) is None and session.edited
    session.tab.value = 3
    cal.open_in_explore()
    assert session.pending.value is not None  # asked, nothing replaced yet
    assert session.scenario.value.name == "baseline" and session.tab.value == 3
    session.confirm()
    assert session.scenario.value.name == "overpromise_vs_honest" and session.tab.value == 0
    cal.open_in_explore()  # not edited now: opens at once
    assert session.pending.value is None and session.tab.value == 0
