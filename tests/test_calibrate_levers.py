"""Which levers the Calibrate page lists: the commonly unknown ones, a filter over all, sections."""

from __future__ import annotations

from sim.ui.calibrate_state import COMMON_KEYS, candidates, lever_groups, section_title
from sim.ui.fields import BEHAVIOUR_SECTIONS

OFFERED = candidates()


def keys(groups) -> list[str]:
    return [c.key for _, levers in groups for c in levers]


def test_the_page_starts_with_the_short_list_grouped_by_section_in_the_sidebar_order() -> None:
    groups = lever_groups(OFFERED, "", False, {})
    assert sorted(keys(groups)) == sorted(COMMON_KEYS)
    assert len(keys(groups)) < len(OFFERED) / 5
    sections = [section for section, _ in groups]
    order = list(BEHAVIOUR_SECTIONS)
    assert sections == sorted(sections, key=order.index)
    assert [section_title(s) for s in sections][:2] == ["Expectations", "Satisfaction"]
    for section, levers in groups:
        assert all(c.key.startswith(f"{section}.") for c in levers)


def test_every_common_lever_is_offered_with_a_range() -> None:
    offered = {c.key: c for c in OFFERED}
    for key in COMMON_KEYS:
        assert key in offered and offered[key].declared, key


def test_all_lists_every_lever_once_and_every_section_of_the_schema() -> None:
    groups = lever_groups(OFFERED, "", True, {})
    assert sorted(keys(groups)) == sorted(c.key for c in OFFERED)
    sections = [section for section, _ in groups]
    assert sections[: len(BEHAVIOUR_SECTIONS)] == list(BEHAVIOUR_SECTIONS)  # as the sidebar
    assert set(sections) == {c.key.partition(".")[0] for c in OFFERED}


def test_the_filter_searches_all_levers_by_name_and_description_in_any_case() -> None:
    trust = keys(lever_groups(OFFERED, "Trust", False, {}))
    assert "trust.commitment_rate" in trust  # not on the short list
    assert "switching.trust_ref" in trust  # another section, by its name
    assert "switching.price" not in trust
    # every word must match; underscores match spaces; descriptions count
    assert keys(lever_groups(OFFERED, "word of mouth reach", False, {})) == ["word_of_mouth.reach"]
    assert "satisfaction.loss_aversion" in keys(lever_groups(OFFERED, "shortfall", False, {}))
    assert lever_groups(OFFERED, "no such lever", True, {}) == []


def test_ticked_levers_stay_listed_whatever_the_filter() -> None:
    ticked = {"economics.fix_cost": True, "switching.intercept": False}
    assert "economics.fix_cost" in keys(lever_groups(OFFERED, "", False, ticked))
    listed = keys(lever_groups(OFFERED, "reviews", False, ticked))
    assert "economics.fix_cost" in listed and "switching.intercept" not in listed


def test_section_titles() -> None:
    assert section_title("word_of_mouth") == "Word of mouth"
    assert section_title("switching") == BEHAVIOUR_SECTIONS["switching"]  # the sidebar's
    assert section_title("disclosure") == "Disclosure of failures"
    assert section_title("a_new_section") == "A new section"
