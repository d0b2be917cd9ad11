"""The teaching lessons: structure, scenarios, and that every "thing to try" is a real lever."""

from __future__ import annotations

import pytest

from sim.lessons import SECTIONS, LessonError, load_lesson, load_lessons
from sim.scenario import scenario_hash

TOPICS = {
    "liquid_expectations",
    "overpromise_vs_honest",
    "niche_vs_generalist",
    "growth_vs_support",
    "baseline",
    "proactive_disclosure",
}


def test_six_lessons_cover_the_topics_in_order() -> None:
    lessons = load_lessons()
    assert len(lessons) >= 6
    assert TOPICS <= {lesson.scenario for lesson in lessons}
    assert [lesson.order for lesson in lessons] == sorted(lesson.order for lesson in lessons)


@pytest.mark.parametrize("lesson", load_lessons(), ids=lambda lesson: lesson.slug)
def test_lesson_has_every_section_and_working_tries(lesson) -> None:
    assert list(lesson.sections)[: len(SECTIONS)] == list(SECTIONS)
    assert all(len(lesson.sections[s]) > 80 for s in SECTIONS), "no empty section"
    assert len(lesson.tries) >= 3
    base = scenario_hash(lesson.scenario_for())
    for tried in lesson.tries:
        assert scenario_hash(lesson.scenario_for(tried)) != base, tried.label


def test_bad_lessons_name_the_file_and_the_problem(tmp_path) -> None:
    good = load_lessons()[0].path.read_text()
    bad = tmp_path / "bad.md"
    bad.write_text(
        good.replace(
            'set = { "expectations.weight_benchmark" = 0.0 }',
            'set = { "expectations.wieght_benchmark" = 0.0 }',
        )
    )
    with pytest.raises(LessonError, match=r"bad\.md: try\[0\].*wieght_benchmark"):
        load_lesson(bad)
    bad.write_text(good.replace("## Things to notice", "## Notes"))
    with pytest.raises(LessonError, match="Things to notice"):
        load_lesson(bad)
    bad.write_text("no front matter")
    with pytest.raises(LessonError, match="front matter"):
        load_lesson(bad)
    bad.write_text(good.replace('charts = ["satisfaction"', 'charts = ["wom"'))
    with pytest.raises(LessonError, match=r"bad\.md: charts: expected a list of names from"):
        load_lesson(bad)


def test_each_lesson_charts_what_it_asks_the_learner_to_watch() -> None:
    """The Lessons page drew customers, trust and retention for every lesson, while lesson 5
    asked for word of mouth and NPS and lesson 1 for satisfaction and expectation."""
    by_slug = {lesson.slug: lesson for lesson in load_lessons()}
    assert by_slug["05_word_of_mouth"].charts[:2] == ("word_of_mouth", "nps")
    assert "experience" in by_slug["01_liquid_expectations"].charts
    for lesson in by_slug.values():
        watch = lesson.sections["How to use it"].lower()
        for name in lesson.charts:
            words = {"word_of_mouth": "word of mouth", "experience": "expect", "nps": "nps"}
            assert words.get(name, name) in watch, (lesson.slug, name)
