"""What the scenarios say about themselves matches what their files set up.

A scenario is described in four places: its ``description`` (``cxsim list`` shows its first line),
the README's table, and the "What is it" of the lessons that use it. A description that names an
industry the market does not have ("two delivery firms" in a broadband market), or a number the
file does not set, misleads the reader before the first step runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.lessons import load_lessons
from sim.scenario import Scenario, list_scenarios, load_scenario
from sim.strategies import BUDGET_ITEMS, DEFAULT_ALLOCATION, FeatureChaser, RetentionFocus

REPO = Path(__file__).resolve().parents[1]

INDUSTRY_WORDS = {
    r"\bbanks?\b|\bbanking\b": "banking",
    r"\bretail(er|ers)?\b": "retail",
    r"\btelecoms?\b": "telecom",
    r"\bbroadband\b": "broadband",
    r"\binsur(er|ers|ance)\b": "insurance",
    r"\bgrocer(s|ies)?\b": "groceries",
    r"\bdelivery (firm|firms|company|companies)\b": "delivery",
}
"""Words that name an industry, and the industry they name."""


def _readme_rows() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Scenarios\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", section, flags=re.M))


def _texts(name: str, scenario: Scenario) -> list[tuple[str, str]]:
    texts = [("description", scenario.description)]
    row = _readme_rows().get(name)
    if row is not None:
        texts.append(("README table", row))
    for lesson in load_lessons():
        if lesson.scenario == name:
            texts.append((f"lesson {lesson.slug}", lesson.sections["What is it"]))
    return texts


@pytest.mark.parametrize("name", [n for n, _, _ in list_scenarios()])
def test_every_industry_a_description_names_is_in_the_market(name: str) -> None:
    scenario = load_scenario(name)
    for where, text in _texts(name, scenario):
        for pattern, industry in INDUSTRY_WORDS.items():
            if re.search(pattern, text, flags=re.I):
                assert industry in scenario.market.industries, (
                    f"{name}: the {where} speaks of {industry} but the market's industries are "
                    f"{scenario.market.industries}: {text!r}"
                )


def test_the_readme_table_lists_every_scenario() -> None:
    assert sorted(_readme_rows()) == sorted(n for n, _, _ in list_scenarios())


def _firm(scenario: Scenario, name: str):
    (firm,) = [f for f in scenario.firms if f.name == name]
    return firm


def test_the_numbers_the_descriptions_give_are_the_files() -> None:
    year = load_scenario("baseline").steps_per_year
    over = load_scenario("overpromise_vs_honest")
    assert "30% more" in over.description
    assert _firm(over, "Big Promises").levers["inflation"] == pytest.approx(0.30)

    leader = load_scenario("national_leader_enters")
    assert (
        leader.description.startswith("Four regional grocers") and "two years" in leader.description
    )
    regional = [f for f in leader.firms if f.region is not None]
    assert len(regional) == 4 and len({f.region for f in regional}) == 4
    assert _firm(leader, "MegaMart").region is None  # national
    assert _firm(leader, "MegaMart").entry_step == 2 * leader.steps_per_year

    liquid = load_scenario("liquid_expectations")
    assert liquid.description.startswith("After a year")
    assert _firm(liquid, "Overnight").entry_step == year

    growth = load_scenario("growth_vs_support")
    rocket = _firm(growth, "Rocket")
    chaser = FeatureChaser(**rocket.levers).levers
    on_capacity = (1 - chaser.marketing_share - chaser.capability_share) / 2
    assert f"{on_capacity:.1%} of its budget goes to capacity" in growth.description
    honest_capacity = DEFAULT_ALLOCATION[BUDGET_ITEMS.index("capacity")]
    assert _firm(growth, "Steady").strategy == "honest"
    assert (
        f"{honest_capacity:.0%} of its\nbudget on capacity"
        in growth.description.replace("its budget", "its\nbudget")
        or f"{honest_capacity:.0%} of its budget on capacity" in growth.description
    )

    # the budget splits the strategies make, which the descriptions of equal budgets state
    split = dict(zip(BUDGET_ITEMS, DEFAULT_ALLOCATION, strict=True))
    niche = load_scenario("niche_vs_generalist").description.replace("\n", " ")
    assert (
        f"default split ({split['capability']:.0%} capability, {split['capacity']:.0%} capacity, "
        f"{split['marketing']:.0%} marketing, {split['retention']:.0%} retention), AllRound "
        "spends a quarter on each" in niche
    )
    levers = RetentionFocus.Levers().model_dump()
    kept, rest = levers["retention_share"] + levers["capacity_share"], ("capability", "marketing")
    left = {k: split[k] * (1 - kept) / sum(split[r] for r in rest) for k in rest}
    personal = load_scenario("service_vs_price").description.replace("\n", " ")
    assert (
        f"(Personal {left['capability']:.0%} on capability, {levers['capacity_share']:.0%} on "
        f"capacity, {left['marketing']:.0%} on marketing and {levers['retention_share']:.0%} on "
        "retention; Lean a quarter on each)" in personal
    )

    disclosure = load_scenario("proactive_disclosure")
    weeks_between_failures = 1 / disclosure.delivery.base_failure_rate
    assert "every four months" in disclosure.description
    assert 3.5 <= weeks_between_failures * 12 / 52 <= 4.5
