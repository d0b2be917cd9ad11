"""What a validation check is and returns, and the sizes it runs at.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["SHOWS", "Check", "CheckResult", "Shows", "Size", "outside"]

Size = Literal["quick", "full"]
"""``quick``: the small version the test suite runs (seconds); ``full``: ``cxsim validate``."""

Shows = Literal["docking", "restated", "calibrated", "emerges"]
"""What a pass of a check shows (:data:`SHOWS`)."""

SHOWS: dict[str, str] = {
    "docking": "docks the code with a closed form (verifies the implementation, not behaviour)",
    "restated": "reads back a rule that states its source's finding (a pass cannot be a finding)",
    "calibrated": "is met by a parameter that was set for it (a fit, not a test)",
    "emerges": "is neither written into a rule nor calibrated to (a pass is a finding)",
}
"""What a pass shows, by kind. A control that fails shows that the mechanism carries the
pattern; it does not show that the pattern is a finding of the model: a check whose rule
states the source's finding passes, and fails without the rule, by construction."""


def outside(value: float, low: float = -math.inf, high: float = math.inf) -> float:
    """How far ``value`` lies outside ``[low, high]`` (0 inside; inf for NaN).

    Checks state their target as bands; this is the shortfall a check's :attr:`CheckResult.distance`
    adds up, in the band's own unit, so that a check passes exactly when its distance is 0.
    """
    if math.isnan(value):
        return math.inf
    return max(low - value, value - high, 0.0)


@dataclass
class CheckResult:
    """One validation check: what the literature says, what the model gives, pass or fail.

    Attributes
    ----------
    name
        Short identifier (``bass_docking``).
    title
        One line for the table.
    source
        The publication the target comes from.
    target
        The target as a reader would state it (``max |F - F_Bass| < 0.01``).
    measured
        What the model gave, stated the same way.
    passed
        Whether the measured value meets the target.
    figure
        A PNG showing the check, if one was drawn.
    details
        Figures behind ``measured`` (for the report and for tests).
    table
        A Markdown table of the figures behind ``measured``, for the report (may be empty).
    seconds
        Wall time of the check.
    mechanism
        The mechanism the check tests (set by :func:`sim.validation.run_checks`).
    out_of_sample
        True for a pattern the model was never calibrated against.
    shows
        What a pass shows (:data:`SHOWS`); ``why`` says why, with the figures.
    why
        Why the check is of its kind: the rule or parameter that makes it so.
    control_overrides
        The overrides the control ran with.
    notes
        The check's notes for the report.
    control
        The same check with the mechanism switched off (its negative control), if it was run.
    distance
        How far the measured values lie outside the target, each shortfall in units of its
        band's width, summed: 0 exactly when the check passes (NaN for a check that does not
        say; :mod:`sim.robustness.facts` fits the plausible worlds to it).
    """

    name: str
    title: str
    source: str
    target: str
    measured: str
    passed: bool
    figure: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)
    table: str = ""
    seconds: float = 0.0
    mechanism: str = ""
    out_of_sample: bool = False
    shows: Shows = "emerges"
    why: str = ""
    control_overrides: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    control: CheckResult | None = None
    distance: float = math.nan

    @property
    def earned(self) -> bool:
        """The check passes and its negative control fails: the mechanism carries the pattern.

        Not that the pattern is a finding: see :attr:`shows`."""
        return self.passed and self.control is not None and not self.control.passed


@dataclass(frozen=True)
class Check:
    """A validation check, the mechanism it tests and how to switch that mechanism off.

    Attributes
    ----------
    name
        Short identifier, the key of :data:`sim.validation.CHECKS`.
    run
        ``run(size, figures, seed, overrides, **data) -> CheckResult``; ``overrides`` are
        scenario overrides applied to every model the check builds (the negative control's).
    mechanism
        What the check tests, naming the switch or parameter (``mechanisms.loss_aversion``).
    control
        Scenario overrides that remove the mechanism: the negative control runs the same check
        with them and must fail.
    data
        Name of a data set one or several checks read (``survey``, ``baseline``,
        ``relationships``, ``promises``);
        ``run_checks`` builds it once per set of overrides and passes it as ``data=``.
    out_of_sample
        True for a published pattern the model was not calibrated against (docs/MODEL.md 1.2).
    shows
        What a pass shows (:data:`SHOWS`): ``docking``, ``restated``, ``calibrated`` or
        ``emerges``.
    why
        Why the check is of that kind, with the figures that show it.
    ablations
        Other mechanisms switched off one set at a time (label -> overrides), run at full size
        and reported beside the check, not judged: what else the pattern depends on.
    notes
        What a reader of the report should know: why it is measured this way, what the
        control and the ablations show.
    """

    name: str
    run: Callable[..., CheckResult]
    mechanism: str
    control: Mapping[str, Any]
    data: str | None = None
    out_of_sample: bool = False
    shows: Shows = "emerges"
    why: str = ""
    ablations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: str = ""
