"""Priors of the unknown parameters: from the schema's plausible ranges or from the calibration
file, as frozen scipy distributions with a support and a 90% interval.

A parameter of ``[params]`` with a declared plausible range (``sim.params.parameter_range``)
gets a uniform prior over that range unless the calibration file says otherwise; every other
parameter (one without a declared range, a firm's lever, a capability) needs its prior in the
file. Forms: ``uniform`` (low, high), ``loguniform`` (low, high > 0) and ``normal`` (mean, sd,
optionally cut to low..high).

This module never imports the model, the sweep layer or the UI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["FORMS", "Prior"]

FORMS = ("uniform", "loguniform", "normal")
"""Prior forms a calibration file may name."""


@dataclass(frozen=True)
class Prior:
    """The prior of one parameter.

    Attributes
    ----------
    key
        The scenario key it sets (``"satisfaction.loss_aversion"``, ``"firms.Acme.price"``).
    form
        One of :data:`FORMS`.
    low, high
        The support (inf for an unbounded normal side).
    mean, sd
        For ``normal``.
    source
        Where it came from: ``"schema: <citation>"``, the file's own ``source``, or
        ``"calibration file"``. Information only: it changes no run.
    integer
        The scenario takes whole numbers here: values are rounded before a run.
    """

    key: str
    form: str
    low: float
    high: float
    mean: float = math.nan
    sd: float = math.nan
    source: str = "calibration file"
    integer: bool = False

    def scipy(self) -> Any:
        """The frozen scipy distribution."""
        if self.form == "uniform":
            return stats.uniform(loc=self.low, scale=self.high - self.low)
        if self.form == "loguniform":
            return stats.loguniform(self.low, self.high)
        a = (self.low - self.mean) / self.sd
        b = (self.high - self.mean) / self.sd
        if math.isinf(a) and math.isinf(b):
            return stats.norm(loc=self.mean, scale=self.sd)
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)

    def interval(self, mass: float = 0.9) -> tuple[float, float]:
        """The central interval holding ``mass`` of the prior."""
        lo, hi = self.scipy().interval(mass)
        return float(lo), float(hi)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws."""
        return np.asarray(self.scipy().rvs(size=size, random_state=rng), dtype=float)

    def describe(self) -> str:
        """``uniform(1, 3)``, ``normal(0.5, 0.1) on [0, 1]``."""
        if self.form == "normal":
            cut = (
                ""
                if math.isinf(self.low) and math.isinf(self.high)
                else (f" on [{self.low:g}, {self.high:g}]")
            )
            return f"normal({self.mean:g}, {self.sd:g}){cut}"
        return f"{self.form}({self.low:g}, {self.high:g})"

    def to_dict(self) -> dict[str, Any]:
        """The prior as a calibration file's ``[parameters."key"]`` table, which
        :func:`~sim.calibration.spec.load_calibration` reads back to this prior (given the same
        scenario: ``integer`` is the scenario's, not the file's): ``prior``, its numbers, and
        ``source``."""
        out: dict[str, Any] = {"prior": self.form}
        if self.form == "normal":
            out.update(mean=self.mean, sd=self.sd)
        if math.isfinite(self.low):
            out["low"] = self.low
        if math.isfinite(self.high):
            out["high"] = self.high
        out["source"] = self.source
        return out
