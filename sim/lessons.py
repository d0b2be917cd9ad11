"""Teaching lessons: Markdown files in ``docs/lessons/`` tied to a scenario.

A lesson follows the structure teachers know from NetLogo's Info tab (What is it, How it works,
How to use it, Things to notice, Things to try, Extending the model). Its front matter, in TOML
between ``+++`` lines, names the scenario and lists the "things to try" that set levers::

    +++
    title = "Honest promises vs over-promising"
    scenario = "overpromise_vs_honest"
    order = 2
    steps = 260
    charts = ["customers", "trust", "retention"]

    [[try]]
    label = "Promise 60% more than you can deliver"
    set = { "firms[1].levers.inflation" = 0.6 }
    +++

Each ``set`` is a dict of dotted scenario keys (as for ``cxsim run --set``); loading a lesson
checks that every one applies to its scenario, so a button can never set a lever that does not
exist. ``charts`` names the charts the Lessons page draws beside the text, from
:data:`CHARTS` (the ones "How to use it" asks the learner to watch; default
:data:`DEFAULT_CHARTS`). This module must never import the UI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.resources import resource_path
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.tomlfile import TomlError, parse_toml

__all__ = [
    "CHARTS",
    "DEFAULT_CHARTS",
    "SECTIONS",
    "Lesson",
    "LessonError",
    "Try",
    "lessons_dir",
    "load_lesson",
    "load_lessons",
]

CHARTS = (
    "customers",
    "share",
    "retention",
    "nps",
    "satisfaction",
    "experience",
    "trust",
    "profit",
    "word_of_mouth",
)
"""Charts a lesson can ask for: the Explore page's per-firm charts (``experience``: experience
against expectation) and word of mouth (positive and negative messages a week)."""

DEFAULT_CHARTS = ("customers", "trust", "retention")
"""The charts of a lesson that names none."""

SECTIONS = (
    "What is it",
    "How it works",
    "How to use it",
    "Things to notice",
    "Things to try",
    "Extending the model",
)
"""The sections every lesson has, in this order (NetLogo's Info tab)."""

_FRONT = re.compile(r"\A\+\+\+\s*\n(.*?)\n\+\+\+\s*\n", re.S)


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Try:
    """One "thing to try": a button label and the scenario keys it sets."""

    label: str
    set: dict[str, Any]
    note: str = ""


@dataclass
class Lesson:
    """A lesson: its text by section and the levers its "things to try" set."""

    slug: str
    title: str
    scenario: str
    order: int
    steps: int
    sections: dict[str, str]
    tries: list[Try] = field(default_factory=list)
    path: Path | None = None
    charts: tuple[str, ...] = DEFAULT_CHARTS

    def scenario_for(self, tried: Try | None = None) -> Scenario:
        """The lesson's scenario, with a thing to try applied if given."""
        return load_scenario(self.scenario, dict(tried.set) if tried else None)


def lessons_dir() -> Path:
    """The shipped lessons: the repository's ``docs/lessons`` folder, or the installed
    package's copy (:func:`sim.resources.resource_path`)."""
    return resource_path("lessons")


def load_lesson(path: str | Path) -> Lesson:
    """Read and check one lesson file.

    Raises
    ------
    LessonError
        Missing front matter or sections, an unknown scenario, a lever that does not apply.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise LessonError(f"{path}: cannot read: {e}") from None
    match = _FRONT.match(text)
    if not match:
        raise LessonError(f"{path}: expected TOML front matter between '+++' lines at the top")
    try:
        meta = parse_toml(match.group(1))
    except TomlError as e:
        raise LessonError(f"{path}: front matter: {e}") from None
    for key, kind in (("title", str), ("scenario", str)):
        if not isinstance(meta.get(key), kind):
            raise LessonError(f"{path}: {key}: expected a string")
    charts = meta.get("charts", list(DEFAULT_CHARTS))
    if not isinstance(charts, list) or not charts or any(c not in CHARTS for c in charts):
        raise LessonError(
            f"{path}: charts: expected a list of names from {', '.join(CHARTS)}, got {charts!r}"
        )
    body = text[match.end() :]
    sections = _split_sections(body)
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise LessonError(
            f"{path}: expected a '## {missing[0]}' section "
            f"(every lesson has: {', '.join(SECTIONS)})"
        )
    try:
        load_scenario(meta["scenario"])
    except ScenarioError as e:
        raise LessonError(f"{path}: scenario: {e}") from None
    tries = []
    for i, item in enumerate(meta.get("try", [])):
        if not isinstance(item.get("label"), str) or not isinstance(item.get("set"), dict):
            raise LessonError(f"{path}: try[{i}]: expected label = '...' and set = {{ ... }}")
        tried = Try(item["label"], dict(item["set"]), str(item.get("note", "")))
        try:
            load_scenario(meta["scenario"], tried.set)
        except ScenarioError as e:
            raise LessonError(f"{path}: try[{i}] ({tried.label!r}): {e}") from None
        tries.append(tried)
    return Lesson(
        slug=path.stem,
        title=meta["title"],
        scenario=meta["scenario"],
        order=int(meta.get("order", 99)),
        steps=int(meta.get("steps", 260)),
        sections=sections,
        tries=tries,
        path=path,
        charts=tuple(charts),
    )


def load_lessons(folder: str | Path | None = None) -> list[Lesson]:
    """Every lesson in ``folder`` (default ``docs/lessons``), in teaching order."""
    folder = Path(folder) if folder is not None else lessons_dir()
    lessons = [load_lesson(p) for p in sorted(folder.glob("*.md")) if p.name != "README.md"]
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.slug))


def _split_sections(body: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(lines).strip()
            current, lines = line[3:].strip(), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections[current] = "\n".join(lines).strip()
    return sections
