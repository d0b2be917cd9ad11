"""docs/MODEL.md: the generated parameter reference is current and the document is complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from sim import docs
from sim.field_text import number_text
from sim.params import Params
from sim.rules import PHASES
from sim.scenario import FirmSpec, MarketSpec, NetworkSpec, Scenario, SegmentSpec
from sim.strategies import BUILTIN_STRATEGIES

ROOT = Path(__file__).resolve().parent.parent
MODEL_MD = ROOT / "docs" / "MODEL.md"


@pytest.fixture(scope="module")
def text() -> str:
    return MODEL_MD.read_text(encoding="utf-8")


def _schema_keys() -> list[str]:
    """Every scenario key, enumerated from the schema independently of ``sim.docs.sections``."""
    keys = [
        f"{section}.{name}"
        for section, field in Params.model_fields.items()
        for name in field.annotation.model_fields
    ]
    keys += [f"market.{name}" for name in MarketSpec.model_fields]
    keys += [f"network.{name}" for name in NetworkSpec.model_fields]
    keys += [f"segments[i].{name}" for name in SegmentSpec.model_fields]
    keys += [f"firms[i].{name}" for name in FirmSpec.model_fields]
    keys += [
        name
        for name in Scenario.model_fields
        if name not in Params.model_fields and name not in docs.SPEC_KEYS
    ]
    keys += [
        f"firms[i].levers.{lever}"
        for cls in BUILTIN_STRATEGIES.values()
        for lever in cls.Levers.model_fields
    ]
    return keys


def test_check_passes() -> None:
    ok, message = docs.check(MODEL_MD)
    assert ok, message
    assert docs.main(["--check"]) == 0


def test_check_passes_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim.docs", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # generous: a loaded machine, not a speed check
    )
    assert done.returncode == 0, done.stderr


def test_every_field_of_every_section_is_documented(text: str) -> None:
    missing = [key for key in _schema_keys() if f"| `{key}` |" not in text]
    assert not missing, f"not in docs/MODEL.md: {missing}"
    for key in ("seed", "steps", "steps_per_year", "collect_every"):
        assert f"| `{key}` |" in text


def test_every_built_in_strategy_is_documented(text: str) -> None:
    for name in BUILTIN_STRATEGIES:
        assert f"| `{name}` |" in text, name


def test_every_rule_module_has_a_subsection(text: str) -> None:
    headings = [line for line in text.splitlines() if line.startswith("###")]
    for name, module in PHASES:
        path = module.__name__.replace(".", "/") + ".py"
        assert any(path in h for h in headings), f"no subsection for {name} ({path})"


def test_the_ten_phases_are_listed_in_order(text: str) -> None:
    overview = text[text.index("### 3.1") : text.index("### 3.2")]
    positions = [overview.index(f"sim/rules/{name}.py") for name, _ in PHASES]
    assert positions == sorted(positions)


def test_check_finds_a_stale_block_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "MODEL.md"
    path.write_text(docs.render("# Model\n"), encoding="utf-8")
    assert docs.check(path) == (True, "")
    stale = path.read_text(encoding="utf-8").replace(
        "| `expectations.rate_up` | `", "| `expectations.rate_up` | `9"
    )
    path.write_text(stale, encoding="utf-8")
    ok, message = docs.check(path)
    assert not ok and "out of date" in message and "\n" not in message
    assert docs.main(["--check", "--path", str(path)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docs.write(path) is True
    assert docs.check(path) == (True, "")
    assert docs.write(path) is False


def test_render_keeps_the_prose_and_adds_missing_markers() -> None:
    prose = "# Model\n\nSome text.\n"
    once = docs.render(prose)
    assert once.startswith(prose) and docs.BEGIN_MARKER in once and docs.END_MARKER in once
    assert docs.render(once) == once
    edited = once.replace("Some text.", "Other text.")
    assert docs.render(edited) == edited


def test_check_reports_missing_markers(tmp_path: Path) -> None:
    path = tmp_path / "MODEL.md"
    path.write_text("# Model\n", encoding="utf-8")
    ok, message = docs.check(path)
    assert not ok and "markers" in message
    ok, message = docs.check(tmp_path / "absent.md")
    assert not ok and "not found" in message


def test_limits_and_defaults_come_from_the_schema() -> None:
    class Example(BaseModel):
        a: float = Field(0.5, ge=0, le=1)
        b: float = Field(1.0, gt=0, le=1.5)
        c: int = Field(3, ge=1)
        d: list[str] = Field(["x"], min_length=1, max_length=2)
        e: bool = True

    f = Example.model_fields
    assert docs.field_limits(f["a"]) == "number in [0, 1]"
    assert docs.field_limits(f["b"]) == "number in (0, 1.5]"
    assert docs.field_limits(f["c"]) == "integer >= 1"
    assert docs.field_limits(f["d"]) == "list of strings, 1 to 2 items"
    assert docs.field_limits(f["e"]) == "true or false"
    assert docs.format_default(True) == "`true`"
    assert docs.format_default({"speed": 0.5}) == "`{ speed = 0.5 }`"
    assert docs.format_default(None) == "(not set)"


def test_prose_names_only_existing_keys(text: str) -> None:
    """Every `section.key` cited in the prose is a real scenario key."""
    import re

    prose = text[: text.index(docs.BEGIN_MARKER)]
    sections = set(Params.model_fields) | {"market", "network"}
    known = set(_schema_keys())
    cited = {
        m.group(1)
        for m in re.finditer(r"`([a-z_]+\.[a-z_]+)`", prose)
        if m.group(1).split(".")[0] in sections
    }
    unknown = sorted(cited - known)
    assert not unknown, f"docs/MODEL.md cites keys that do not exist: {unknown}"


def test_behavioural_tables_show_each_range_and_source(text: str) -> None:
    """Every behavioural parameter's row carries its plausible range and its source, or says
    why it has none (a switch, an exemption)."""
    from sim.params import NO_RANGE, parameter_range

    rows = {
        line.split(" | ")[0][3:-1]: line for line in text.splitlines() if line.startswith("| `")
    }
    for section, field in Params.model_fields.items():
        for name, info in field.annotation.model_fields.items():
            key = f"{section}.{name}"
            row = rows[key]
            found = parameter_range(key)
            if found is not None:
                cells = [c.strip() for c in row.strip("|").split(" | ")]
                lo, hi = (number_text(v) for v in (found.low, found.high))
                assert cells[-2] == f"[{lo}, {hi}]", key
                assert cells[-1] == found.source.replace("|", "\\|"), key
            elif info.annotation is bool:
                assert row.endswith("| — | switch |") or section == "mechanisms", key
            else:
                assert key in NO_RANGE and "exempt: " in row, key


def test_the_provenance_counts_are_stated_and_complete(text: str) -> None:
    counts = docs.provenance_counts()
    assert counts["missing"] == 0
    assert counts["sourced"] >= 6 and counts["free"] > counts["sourced"]
    numeric = counts["sourced"] + counts["free"] + counts["exempt"]
    assert (
        f"Of the {numeric} numeric behavioural parameters, "
        f"{counts['sourced'] + counts['free']} declare a range: {counts['sourced']} from a "
        f"published estimate and {counts['free']} free"
    ) in text
    assert f"The {counts['switches']} switches" in text
