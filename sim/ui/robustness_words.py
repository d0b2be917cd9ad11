"""The words the "When does it pay?" page puts beside a verdict: what its undecided worlds
are, and what a contrast claim's ``versus(...)`` compares against (the page:
:mod:`sim.ui.robustness_page`)."""

from __future__ import annotations

from typing import Any

from sim.scenario import Scenario

__all__ = ["undecided_note", "versus_line"]


def _metric_words(metric: str) -> str:
    """A metric as the note names it: ``trust`` -> "trust", ``satisfaction[banking]`` ->
    "satisfaction in banking" (the tables' label without its scale)."""
    from sim.sweep.outcomes import LABELS

    name, _, industry = metric.partition("[")
    words = LABELS.get(name, name.replace("_", " ")).split(" (")[0]
    words = words.removeprefix("mean ")
    return f"{words} in {industry.rstrip(']')}" if industry else words


def undecided_note(undecided: int, claim: Any = None) -> str:
    """What the verdict's "(N more undecided)" means (:mod:`sim.robustness.margins`), its
    example naming what ``claim`` (a :class:`~sim.robustness.claims.Claim`) reads: "so its
    market share had no value" for a claim on share."""
    worlds = "world is" if undecided == 1 else "worlds are"
    refs = [] if claim is None else [r.outcome for r in claim.refs]
    firm_metrics = [o.metric for o in refs if o.table == "firms"]
    market_metrics = [o.metric for o in refs if o.table != "firms"]

    def named(metrics: list[str]) -> str:
        return " or ".join(dict.fromkeys(_metric_words(m) for m in metrics))

    if firm_metrics:
        example = (
            "a firm the claim reads had no customers left (it closed), so its "
            f"{named(firm_metrics)} had no value"
        )
    elif market_metrics:
        example = (
            f"the market's {named(market_metrics)} had no value (no customers left to give it one)"
        )
    else:
        example = (
            "a firm the claim reads had no customers left (it closed), so what the claim "
            "reads of it had no value"
        )
    return (
        f"{undecided} undecided {worlds} left out of the odds and the map: in an undecided "
        f"world no run gave the claim a value, e.g. {example}, or every firm closed and the "
        "market stopped before the step the claim reads."
    )


def versus_line(table: dict[str, object], scenario: Scenario) -> str:
    """What a contrast's ``versus(...)`` reads, for the form: ``versus: the same world without
    Overnight (it never enters), same replicate``."""
    from sim.robustness.versus import against

    words = against(table, [f.name for f in scenario.firms], scenario.steps)
    return f"versus: the same world {words}, same replicate"
