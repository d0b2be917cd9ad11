"""Scientific validation: the model against published stylized facts, each with a negative control.

Each check is a :class:`Check`: a function ``run(size, figures, seed, overrides, data) ->
CheckResult`` in its own module, the mechanism it tests, and the scenario overrides that switch
that mechanism off. ``run_checks`` runs every check at the default parameters and again with its
mechanism off (its negative control, which must fail: a control that still passes means the
check does not test its mechanism), and at full size also the check's other ablations, which are
reported, not judged. ``cxsim validate`` prints the table and writes the report.
``size="quick"`` is the small version the test suite runs; ``"full"`` is what ``cxsim validate``
runs (a quarter of an hour on a laptop).

Checks 1-7 are in-sample (the facts of issue #5, against which defaults were set where a
check failed); checks 8 and 9 are out-of-sample: no default was set to pass them
(docs/MODEL.md, section 1.2).

This package must never import the UI or the sweep layer.
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.validation.result import Check, CheckResult, Size

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "Check",
    "CheckResult",
    "Size",
    "build_data",
    "data_caches",
    "data_key",
    "run_check",
    "run_checks",
]

_CHECKS = {
    "bass_docking": "sim.validation.bass:BASS_DOCKING",
    "loss_asymmetry": "sim.validation.survey:LOSS_ASYMMETRY",
    "disconfirmation_beats_expectation": (
        "sim.validation.survey:DISCONFIRMATION_BEATS_EXPECTATION"
    ),
    "word_of_mouth_valence": "sim.validation.levels:WORD_OF_MOUTH_VALENCE",
    "levels": "sim.validation.levels:LEVELS",
    "kopalle_lehmann": "sim.validation.kopalle_lehmann:KOPALLE_LEHMANN",
    "promise_asymmetry": "sim.validation.promises:PROMISE_ASYMMETRY",
    "retention_rises_with_tenure": "sim.validation.relationships:RETENTION_RISES_WITH_TENURE",
    "bolton_anchoring": "sim.validation.relationships:BOLTON_ANCHORING",
}

CHECK_NAMES: tuple[str, ...] = tuple(_CHECKS)
"""Every check's name: the seven of issue #5 in their order, then the out-of-sample ones
(imports no check)."""

_DATA = {
    "survey": "sim.validation.survey:survey",
    "baseline": "sim.validation.levels:baseline_run",
    "relationships": "sim.validation.relationships:relationships",
    "promises": "sim.validation.promises:promise_runs",
}
"""Data sets checks read: ``build(size, seed, overrides)``."""

_DATA_MANY = {
    "survey": "sim.validation.survey:surveys",
    "baseline": "sim.validation.levels:baseline_runs",
    "promises": "sim.validation.promises:promise_runs_many",
    "relationships": "sim.validation.relationships:relationships_many",
}
"""The same in many worlds at once, their markets stepped together
(``build(size, seed, [overrides, ...])``, ``sim.validation.together``): the same numbers as each
alone, but for the survey panel's intention to stay in the metrics (NaN), which no check
reads."""


def data_key(data: str, size: Size, seed: int, overrides: Mapping[str, Any]) -> tuple:
    """The key of a data set built under ``overrides`` in :func:`run_check`'s ``cache``."""
    return (data, size, seed, tuple(sorted(overrides.items())))


def build_data(
    data: str, size: Size, seed: int, overrides: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """The data set ``data`` in each world of ``overrides``, in order; for a world where it
    cannot be built, ``sim.validation.together.Failed`` with the error."""
    from sim.validation.together import alone

    many = _DATA_MANY.get(data)
    if many is not None:
        try:
            return list(_load(many)(size, seed, [dict(o) for o in overrides]))
        except Exception:  # never expected: then world by world, each error its own
            pass
        finally:
            # the worlds' markets and their batches refer to each other: freed now, not when
            # the collector next runs (64 worlds' facts twice in one process: the peak memory
            # 976 -> 789 MB, 6 December 2026)
            gc.collect()
    one = _load(_DATA[data])
    return [alone(one, size, seed, dict(o)) for o in overrides]


def data_caches(
    checks: Iterable[Check], size: Size, seed: int, worlds: Sequence[Mapping[str, Any]]
) -> list[dict[tuple, Any]]:
    """For each world, a :func:`run_check` ``cache`` holding every data set ``checks`` read,
    each built for all the worlds at once (:func:`build_data`; a data set that could not be
    built is ``sim.validation.together.Failed``)."""
    caches: list[dict[tuple, Any]] = [{} for _ in worlds]
    for data in dict.fromkeys(c.data for c in checks if c.data is not None):
        for cache, world, value in zip(
            caches, worlds, build_data(data, size, seed, worlds), strict=True
        ):
            cache[data_key(data, size, seed, world)] = value
    return caches


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def __getattr__(name: str) -> Any:
    # ``CHECKS`` (name -> :class:`Check`) and the result types are imported on first use, so
    # that registering ``cxsim validate`` does not import the model.
    if name == "CHECKS":
        value: Any = {n: _load(spec) for n, spec in _CHECKS.items()}
    elif name in ("Check", "CheckResult", "Size"):
        value = getattr(importlib.import_module("sim.validation.result"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def run_check(
    check: Check,
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    overrides: Mapping[str, Any] | None = None,
    cache: dict[tuple, Any] | None = None,
) -> CheckResult:
    """Run one check under ``overrides`` (none: the defaults), reusing data sets in ``cache``.

    ``result.seconds`` includes building the data set when this run built it.
    """
    started = time.perf_counter()
    kwargs: dict[str, Any] = {"size": size, "figures": figures, "seed": seed}
    kwargs["overrides"] = dict(overrides or {})
    if check.data is not None:
        key = data_key(check.data, size, seed, kwargs["overrides"])
        cache = {} if cache is None else cache
        if key not in cache:
            cache[key] = _load(_DATA[check.data])(size, seed, kwargs["overrides"])
        kwargs["data"] = cache[key]
    result = check.run(**kwargs)
    result.seconds = time.perf_counter() - started
    result.mechanism = check.mechanism
    result.out_of_sample = check.out_of_sample
    result.shows, result.why = check.shows, check.why
    result.control_overrides = dict(check.control)
    result.notes = check.notes
    return result


def run_checks(
    size: Size = "full",
    only: Iterable[str] | None = None,
    figures: Path | None = None,
    seed: int = 1,
    on_result: Callable[[CheckResult], None] | None = None,
    controls: bool = True,
    ablations: bool | None = None,
) -> list[CheckResult]:
    """Run the checks named in ``only`` (default: all) and return their results in order.

    Each result carries its negative control (``result.control``, the check with its mechanism
    switched off; figures in ``figures / "controls"``) unless ``controls`` is False, and, when
    ``ablations`` is True (default: at full size only), the check's other ablations
    (``result.details["ablations"]``: label -> result). Checks that read the same data set under
    the same overrides share it.
    """
    checks = globals().get("CHECKS") or __getattr__("CHECKS")
    names = list(CHECK_NAMES) if only is None else list(only)
    unknown = [n for n in names if n not in checks]
    if unknown:
        raise KeyError(f"unknown check {unknown[0]!r}; expected one of {', '.join(checks)}")
    if ablations is None:
        ablations = size == "full"
    cache: dict[tuple, Any] = {}
    results = []
    for name in names:
        check = checks[name]
        result = run_check(check, size, figures, seed, None, cache)
        if controls:
            control_figures = None if figures is None else figures / "controls"
            result.control = run_check(check, size, control_figures, seed, check.control, cache)
        if ablations and check.ablations:
            result.details["ablations"] = {
                label: run_check(check, size, None, seed, overrides, cache)
                for label, overrides in check.ablations.items()
            }
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
