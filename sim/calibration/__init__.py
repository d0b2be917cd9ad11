"""Calibration: fit a scenario's unknown parameters to a firm's observed series.

``cxsim calibrate SCENARIO DATA CALIBRATION --out DIR`` (or :func:`calibrate`) reads observed
series (cohort survival, churn, retention, NPS, satisfaction, market share; see
:mod:`sim.calibration.data`) and a calibration file naming the unknown parameters and their
priors (:mod:`sim.calibration.spec`), runs ABC-SMC (pyabc) with the model's runs on the sweep
executors (:mod:`sim.calibration.abc_smc`), and writes the posterior, credible intervals, an
identifiability table, posterior predictive bands and a fitted scenario (:mod:`.run`).
docs/calibration.md has the method, its assumptions and how to read the outputs.

Modules: ``data`` (observed series), ``spec`` and ``priors`` (the calibration file),
``summaries`` (a run's counterpart of each observation), ``simulate`` (runs on an executor),
``abc_smc`` (pyabc), ``predictive``, ``results``, ``plots``, ``store`` (the output folder,
resume), ``progress``, ``synthetic`` (data from the model at known parameters),
``transactions`` (cohort series from a purchase log), ``run`` (the whole calibration), ``cli``.

Submodules are imported on first use, so ``import sim.calibration`` stays light. This package
never imports the UI.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CalibrationError",
    "CalibrationInterrupted",
    "CalibrationResult",
    "calibrate",
    "load_calibration",
    "read_observed",
]

_LAZY = {
    "CalibrationError": "sim.calibration.errors",
    "CalibrationInterrupted": "sim.calibration.run",
    "CalibrationResult": "sim.calibration.run",
    "calibrate": "sim.calibration.run",
    "load_calibration": "sim.calibration.spec",
    "read_observed": "sim.calibration.data",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim.calibration' has no attribute {name!r}")
