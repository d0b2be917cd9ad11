"""What the Calibrate page holds for one session: the uploaded data, the unknown parameters and
their ranges, the budget, the background calibration, its progress and its result.

The calibration is :func:`sim.calibration.calibrate` on the Explore market as edited (run at a
smaller size if asked), in a Solara task on a local process pool; Cancel stops it after the
runs in flight. The fitted market opens in Explore at the session's full size, with every
calibrated parameter at its posterior median.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara
import solara.lab

from sim.calibration.data import ObservedData, read_observed
from sim.calibration.errors import CalibrationError
from sim.calibration.progress import CalibrationProgress, generations
from sim.params import Params, parameter_range, plausible_ranges
from sim.ui.fields import BEHAVIOUR_SECTIONS
from sim.ui.state import SessionState

__all__ = [
    "COMMON_KEYS",
    "EXTRA_KEYS",
    "CalibrateState",
    "Candidate",
    "candidates",
    "lever_groups",
    "section_title",
]

EXTRA_KEYS = (
    "switching.intercept",
    "switching.satisfaction",
    "satisfaction.disposition_sd",
    "trust.loss",
)
"""Parameters offered besides those with a declared range (the user gives their range)."""

COMMON_KEYS = (
    "switching.intercept",
    "switching.satisfaction",
    "switching.trust",
    "switching.price",
    "satisfaction.loss_aversion",
    "satisfaction.disposition_sd",
    "satisfaction.recommend_offset",
    "expectations.weight_promise",
    "trust.loss",
    "acquisition.p",
)
"""The levers the page lists before any search: those a firm most often does not know and that
retention, NPS and share series speak to (the churn level and what drives it, how customers
weigh shortfalls and promises, how different they are, how readily they recommend and join)."""

SECTION_TITLES = {
    **BEHAVIOUR_SECTIONS,
    "retention": "Retention programmes",
    "teaching": "Teaching customers",
    "disclosure": "Disclosure of failures",
}
"""Headings of the schema's sections, in the order the page lists them: the sidebar's
(:data:`sim.ui.fields.BEHAVIOUR_SECTIONS`), then the firms' programmes."""


@dataclass(frozen=True)
class Candidate:
    """A parameter the page offers as unknown."""

    key: str
    description: str
    low: str
    high: str
    source: str

    @property
    def declared(self) -> bool:
        """The schema declares its plausible range."""
        return bool(self.source)


def _description(key: str) -> str:
    section, _, name = key.partition(".")
    part = Params.model_fields[section].annotation
    return part.model_fields[name].description or ""


def candidates() -> list[Candidate]:
    """Parameters with a declared range (prior from it), then :data:`EXTRA_KEYS`."""
    out = [
        Candidate(k, _description(k), f"{r.low:g}", f"{r.high:g}", r.source)
        for k, r in plausible_ranges().items()
    ]
    for key in EXTRA_KEYS:
        if key not in {c.key for c in out} and parameter_range(key) is None:
            out.append(Candidate(key, _description(key), "", "", ""))
    return out


def section_title(section: str) -> str:
    """The heading of a schema section (``word_of_mouth`` -> ``Word of mouth``)."""
    return SECTION_TITLES.get(section, section.replace("_", " ").capitalize())


def lever_groups(
    offered: list[Candidate], text: str, everything: bool, ticked: dict[str, bool]
) -> list[tuple[str, list[Candidate]]]:
    """The levers to list, grouped by the schema's section, in the order of :data:`SECTION_TITLES`.

    Parameters
    ----------
    offered
        Every lever the page offers (:func:`candidates`).
    text
        The filter: levers whose key or description hold every word of it (any case), among all
        levers; empty: :data:`COMMON_KEYS`, or all with ``everything``.
    everything
        List every lever when there is no filter.
    ticked
        Ticked levers are always listed, whatever the filter.

    Returns
    -------
    list
        ``(section, levers)`` for every section with a lever to list.
    """
    words = text.lower().split()

    def listed(c: Candidate) -> bool:
        if ticked.get(c.key):
            return True
        if words:
            haystack = f"{c.key} {c.key.replace('_', ' ')} {c.description}".lower()
            return all(w in haystack for w in words)
        return everything or c.key in COMMON_KEYS

    order = list(dict.fromkeys([*SECTION_TITLES, *Params.model_fields]))
    groups: dict[str, list[Candidate]] = {}
    for c in offered:
        if listed(c):
            groups.setdefault(c.key.partition(".")[0], []).append(c)
    return sorted(groups.items(), key=lambda item: order.index(item[0]))


class PageProgress(CalibrationProgress):
    """Progress that updates the page and stops the run when the user cancels."""

    def __init__(self, state: CalibrateState, generations: int) -> None:
        super().__init__()
        self.state, self.generations = state, generations
        self.index = 0

    def set_phase(self, name: str, target: int) -> None:
        """A new phase: prior sample (0), generation t (t), predictive (last)."""
        super().set_phase(name, target)
        self.index = (
            0
            if name == "prior sample"
            else self.generations + 1
            if name == "predictive"
            else int(name.split()[-1])
        )
        self._show()

    def accepted_so_far(self, accepted: int) -> None:
        """Move the bar."""
        super().accepted_so_far(accepted)
        self._show()

    def run_done(self, ok: bool) -> None:
        """Count a run; stop here if the user pressed Cancel."""
        super().run_done(ok)
        if self.state.cancelled.is_set():
            raise KeyboardInterrupt
        self._show()

    def _show(self) -> None:
        s = self.snapshot()
        part = s["accepted"] / s["target"] if s["target"] else 0.0
        fraction = (self.index + min(1.0, part)) / (self.generations + 2)
        self.state.task.progress = round(100 * fraction, 1)
        failed = f" ({s['failed']} failed)" if s["failed"] else ""
        self.state.status.value = (
            f"{s['phase']}: {s['accepted']}/{s['target']} accepted · {s['runs']} runs{failed}"
            f" · {s['rate']:.1f} runs/s · {s['elapsed']:.0f} s"
        )


class CalibrateState:
    """One session's calibration page."""

    def __init__(self, session: SessionState) -> None:
        self.session = session
        self.candidates = candidates()
        self.data_name = solara.reactive("")
        self.data_error: solara.Reactive[str | None] = solara.reactive(None)
        self.observed: solara.Reactive[ObservedData | None] = solara.reactive(None)
        self.unknown: solara.Reactive[dict[str, bool]] = solara.reactive({})
        self.lever_filter = solara.reactive("")
        self.all_levers = solara.reactive(False)
        self.ranges: solara.Reactive[dict[str, tuple[str, str]]] = solara.reactive(
            {c.key: (c.low, c.high) for c in self.candidates}
        )
        self.population = solara.reactive("30")
        self.generations = solara.reactive("2")
        self.customers = solara.reactive("")
        self.form_error: solara.Reactive[str | None] = solara.reactive(None)
        self.status = solara.reactive("")
        self.result: solara.Reactive[Any] = solara.reactive(None)
        self.fitted_path: Path | None = None
        self.cancelled = threading.Event()
        self.task = solara.lab.task(self._run, check_for_render_context=False)
        self._dir: Path | None = None
        self._data_path: Path | None = None

    # -- inputs ---------------------------------------------------------------------------------

    def folder(self) -> Path:
        """This session's temporary folder (uploads and calibration outputs)."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="cxsim-calibrate-"))
        return self._dir

    def upload(self, filename: str, content: bytes) -> bool:
        """Keep and check an uploaded data file; on a problem, say which row and column.

        Any upload clears the form's message (its "upload a data file first" is answered; a
        refused file has its own message)."""
        self.form_error.value = None
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).name) or "data.csv"
        path = self.folder() / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        firms = [f.name for f in self.session.scenario.value.firms]
        try:
            observed = read_observed(path, firms)
        except CalibrationError as e:
            self.data_error.value = str(e).replace(str(path), filename)
            self.observed.value = None
            self.data_name.value = filename
            return False
        self.data_error.value = None
        self.data_name.value = filename
        self._data_path = path
        self.observed.value = observed
        return True

    def set_unknown(self, key: str, on: bool) -> None:
        """Tick or untick a parameter."""
        self.unknown.value = {**self.unknown.value, key: on}

    def set_range(self, key: str, low: str, high: str) -> None:
        """Type a parameter's prior range."""
        self.ranges.value = {**self.ranges.value, key: (low, high)}

    def calibration(self) -> dict[str, Any]:
        """The calibration the form describes.

        Raises
        ------
        ValueError
            A message for the form: no data, no parameter, a range missing or not a number.
        """
        if self.observed.value is None:
            raise ValueError("upload a data file first (CSV or Parquet; docs/calibration.md)")
        chosen = [c for c in self.candidates if self.unknown.value.get(c.key)]
        if not chosen:
            raise ValueError("tick at least one unknown parameter")
        params: dict[str, Any] = {}
        for c in chosen:
            low, high = self.ranges.value.get(c.key, ("", ""))
            try:
                lo, hi = float(low), float(high)
            except ValueError:
                why = "" if c.declared else " (the schema declares no plausible range for it)"
                raise ValueError(f"{c.key}: give low and high as numbers{why}") from None
            if not lo < hi:
                raise ValueError(f"{c.key}: expected low < high, got {lo:g} and {hi:g}")
            params[c.key] = {"prior": "uniform", "low": lo, "high": hi}
        settings = {}
        for label, value, least in (
            ("particles per generation", self.population.value, 10),
            ("generations", self.generations.value, 1),
        ):
            try:
                n = int(value)
            except ValueError:
                raise ValueError(f"{label}: expected a whole number, got {value!r}") from None
            if n < least:
                raise ValueError(f"{label}: expected at least {least}, got {n}")
            settings[label] = n
        population, generations = settings.values()
        out: dict[str, Any] = {
            "calibration": {
                "seed": int(self.session.scenario.value.seed),
                "population": population,
                "generations": generations,
                "max_simulations": 20 * population * generations,
                "predictive": 30,
            },
            "parameters": params,
        }
        text = self.customers.value.strip()
        if text:
            try:
                customers = int(text)
            except ValueError:
                raise ValueError(f"customers: expected a whole number, got {text!r}") from None
            out["set"] = {"market.customers": customers}
        return out

    # -- running --------------------------------------------------------------------------------

    def start(self) -> None:
        """Check the form and start the calibration in the background."""
        try:
            calibration = self.calibration()
        except ValueError as e:
            self.form_error.value = str(e)
            return
        self.form_error.value = None
        self.cancelled.clear()
        self.task(calibration)

    def cancel(self) -> None:
        """Stop after the runs in flight."""
        self.cancelled.set()

    def _run(self, calibration: dict[str, Any]) -> Any:
        from sim.calibration.run import CalibrationInterrupted, calibrate

        scenario = self.session.scenario.value
        out = self.folder() / "calibration"
        progress = PageProgress(self, calibration["calibration"]["generations"])
        self.status.value = "starting the worker processes"
        try:
            result = calibrate(
                scenario,
                self._data_path,
                calibration,
                out,
                progress=progress,
                force=True,
                data_name=self.data_name.value,
            )
        except CalibrationInterrupted:
            self.status.value = "cancelled: the finished runs were kept; Start resumes them"
            return None
        except CalibrationError as e:
            self.form_error.value = str(e)
            self.status.value = ""
            return None
        except ImportError as e:  # pyabc missing: the 'calibrate' extra
            self.form_error.value = (
                f"calibration needs pyabc ({e}); install the 'calibrate' extra: "
                "pip install -e '.[calibrate]'"
            )
            self.status.value = ""
            return None
        from sim.calibration.results import fitted_scenario

        fitted = fitted_scenario(scenario, result.intervals, result.priors)
        data = fitted.to_dict()
        data["name"] = f"{scenario.name}_fitted"
        self.fitted_path = out.parent / f"{scenario.name}_fitted.toml"
        import tomli_w

        self.fitted_path.write_text(tomli_w.dumps(data))
        self.result.value = result
        inside = result.bands.loc[~result.bands["holdout"], "inside90"].mean()
        self.status.value = (
            f"done: {generations(result.generations)}, {result.runs_used} runs, "
            f"{result.seconds:.0f} s; {inside:.0%} of the data inside the 90% band"
        )
        return result

    def open_in_explore(self) -> None:
        """Load the fitted market (full size, posterior medians) and show Explore; over an
        edited market, after asking (``SessionState.replace``), as a scenario picked or
        uploaded does."""
        if self.fitted_path is None:
            return
        session, source = self.session, str(self.fitted_path)
        scenario = session.read_source(source)
        if scenario is None:
            return

        def load() -> None:
            session.use_source(source, scenario)
            session.tab.value = 0

        session.replace("the fitted market", load)

    def close(self) -> None:
        """Stop a running calibration and remove the session's files."""
        self.cancelled.set()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
