"""Scientific validation: the model against the published stylized facts of REFERENCES.md.

Each check is a function ``check_x(size, figures, seed) -> CheckResult`` in its own module;
``run_checks`` runs them in order, ``cxsim validate`` prints the table and writes the report.
``size="quick"`` is the small version the test suite runs; ``"full"`` is what ``cxsim validate``
runs (a few minutes on a laptop).

This package must never import the UI or the sweep layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from sim.validation.bass import check_bass_docking
from sim.validation.kopalle_lehmann import check_kopalle_lehmann
from sim.validation.levels import check_levels, check_word_of_mouth_valence
from sim.validation.promises import check_promise_asymmetry
from sim.validation.result import CheckResult, Size
from sim.validation.survey import check_disconfirmation_beats_expectation, check_loss_asymmetry

__all__ = ["CHECKS", "CheckResult", "Size", "run_checks"]

CHECKS: dict[str, Callable[..., CheckResult]] = {
    "bass_docking": check_bass_docking,
    "loss_asymmetry": check_loss_asymmetry,
    "disconfirmation_beats_expectation": check_disconfirmation_beats_expectation,
    "word_of_mouth_valence": check_word_of_mouth_valence,
    "levels": check_levels,
    "kopalle_lehmann": check_kopalle_lehmann,
    "promise_asymmetry": check_promise_asymmetry,
}
"""Every check, in the order of issue #5 and REFERENCES.md."""


def run_checks(
    size: Size = "full",
    only: Iterable[str] | None = None,
    figures: Path | None = None,
    seed: int = 1,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the checks named in ``only`` (default: all) and return their results in order.

    Checks that read the same simulated survey or baseline runs share them.
    """
    from sim.validation.levels import baseline_run
    from sim.validation.survey import survey

    names = list(CHECKS) if only is None else list(only)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise KeyError(f"unknown check {unknown[0]!r}; expected one of {', '.join(CHECKS)}")
    shared: dict[str, object] = {}
    results = []
    for name in names:
        kwargs: dict[str, object] = {"size": size, "figures": figures, "seed": seed}
        if name in ("loss_asymmetry", "disconfirmation_beats_expectation"):
            shared.setdefault("survey", survey(size, seed))
            kwargs["records"] = shared["survey"]
        if name in ("word_of_mouth_valence", "levels"):
            shared.setdefault("baseline", baseline_run(size, seed))
            kwargs["runs"] = shared["baseline"]
        result = CHECKS[name](**kwargs)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
