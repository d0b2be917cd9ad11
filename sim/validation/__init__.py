"""Scientific validation: the model against the published stylized facts of REFERENCES.md.

Each check is a function ``check_x(size, figures, seed) -> CheckResult`` in its own module;
``run_checks`` runs them in order, ``cxsim validate`` prints the table and writes the report.
``size="quick"`` is the small version the test suite runs; ``"full"`` is what ``cxsim validate``
runs (a few minutes on a laptop).

This package must never import the UI or the sweep layer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.validation.result import CheckResult, Size

__all__ = ["CHECKS", "CHECK_NAMES", "CheckResult", "Size", "run_checks"]

_CHECK_FUNCTIONS = {
    "bass_docking": "sim.validation.bass:check_bass_docking",
    "loss_asymmetry": "sim.validation.survey:check_loss_asymmetry",
    "disconfirmation_beats_expectation": (
        "sim.validation.survey:check_disconfirmation_beats_expectation"
    ),
    "word_of_mouth_valence": "sim.validation.levels:check_word_of_mouth_valence",
    "levels": "sim.validation.levels:check_levels",
    "kopalle_lehmann": "sim.validation.kopalle_lehmann:check_kopalle_lehmann",
    "promise_asymmetry": "sim.validation.promises:check_promise_asymmetry",
}

CHECK_NAMES: tuple[str, ...] = tuple(_CHECK_FUNCTIONS)
"""Every check's name, in the order of issue #5 and REFERENCES.md (imports no check)."""


def _check_function(name: str) -> Callable[..., CheckResult]:
    module, _, function = _CHECK_FUNCTIONS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def __getattr__(name: str) -> Any:
    # ``CHECKS`` (name -> check function) and the result types are imported on first use, so
    # that registering ``cxsim validate`` does not import the model.
    if name == "CHECKS":
        value: Any = {n: _check_function(n) for n in CHECK_NAMES}
    elif name in ("CheckResult", "Size"):
        value = getattr(importlib.import_module("sim.validation.result"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


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

    names = list(CHECK_NAMES) if only is None else list(only)
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown:
        raise KeyError(f"unknown check {unknown[0]!r}; expected one of {', '.join(CHECK_NAMES)}")
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
        result = _check_function(name)(**kwargs)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
