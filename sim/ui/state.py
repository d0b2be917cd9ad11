"""Per-browser-session state: the scenario being edited, the model built from it, selections.

Each browser tab is a Solara session (a virtual kernel); the app creates one
:class:`SessionState` per session with ``solara.use_memo``, never at module level, so two tabs
never share a model. The state keeps the *last valid* scenario: a change that the scenario
loader rejects leaves both the scenario and the model as they were, and the message goes back to
the control that asked for it.

A firm's strategy, levers, price, costs and budget act on the running market (from its next
step, :mod:`sim.ui.live`); any other change rebuilds the model from step 0 (same seed, so the same
network), and once the market has run the session asks first (:attr:`SessionState.pending`), as
it does before a picked scenario or lesson replaces an edited market. Stepping (Step, or the play
loop's thread) and every read of the model for a redraw hold the session's lock, so a chart never
sees a model half-way through a step.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import solara
from mesa.visualization.utils import force_update

from sim.model import CustomerMarket
from sim.scenario import Scenario, ScenarioError, list_scenarios, load_scenario
from sim.strategies import build_strategy
from sim.ui.fields import STRATEGY_ALSO, UI_MAX_CUSTOMERS, key_name, strategy_names_after
from sim.ui.live import apply_live, is_live
from sim.ui.network_view import drawn_customers

__all__ = ["Pending", "SessionState", "apply_change", "model_parameters", "scenario_choices"]

T = TypeVar("T")


def scenario_choices() -> list[tuple[str, str]]:
    """``(name, description)`` of every scenario file on the search path."""
    return [(name, desc) for name, _, desc in list_scenarios()]


def _check_size(scenario: Scenario) -> None:
    n = scenario.market.customers
    if n > UI_MAX_CUSTOMERS:
        where = str(scenario.source_path or "<scenario>")
        raise ScenarioError(
            where,
            "market.customers",
            f"the browser UI runs at most {UI_MAX_CUSTOMERS:,} customers, got "
            f"{n:,}; use 'cxsim run' for larger markets",
        )


def _strategy_levers(scenario: Scenario, index: int, names: list[str]) -> dict[str, Any]:
    """The firm's current levers that the new composition of ``names`` still has."""
    firm = scenario.firms[index]
    search_dir = scenario.source_path.parent if scenario.source_path else None
    strategy = build_strategy(
        names[0] if len(names) == 1 else names, {}, scenario.market.attributes, search_dir
    )
    known = {
        name
        for part in getattr(strategy, "parts", [strategy])
        for name in type(part.levers).model_fields
    }
    return {k: v for k, v in firm.levers.items() if k in known}


_STRATEGY_KEY = re.compile(rf"^firms\[(\d+)\]\.(strategy|{STRATEGY_ALSO})$")


def apply_change(scenario: Scenario, key: str, value: Any) -> Scenario:
    """The scenario with one control's change, validated by the scenario loader.

    ``firms[i].strategy`` (one name) switches the firm's strategy, keeping what is combined
    with it; ``firms[i].strategy_also`` (a list) sets what is combined with it
    (:func:`sim.ui.fields.strategy_names_after`). A new strategy keeps only the levers it has;
    a list of one strategy is stored as its name.

    Raises
    ------
    ScenarioError
        When the loader rejects the change (its ``detail`` is the message for the control).
    """
    overrides: dict[str, Any] = {key: value}
    match = _STRATEGY_KEY.match(key)
    if match:
        index = int(match.group(1))
        where = str(scenario.source_path or "<scenario>")
        if index >= len(scenario.firms):
            raise ScenarioError(where, key, f"no firm number {index}")
        if not value and match.group(2) == "strategy":
            raise ScenarioError(where, key, "expected a strategy")
        names = strategy_names_after(key, value, scenario.firms[index].strategy)
        try:
            levers = _strategy_levers(scenario, index, names)
        except ValueError as e:
            raise ScenarioError(where, key, str(e)) from None
        strategy_key = f"firms[{index}].strategy"
        overrides = {strategy_key: names[0] if len(names) == 1 else names}
        overrides[f"firms[{index}].levers"] = levers
    new = load_scenario(scenario, overrides)
    _check_size(new)
    return new


@dataclass(frozen=True)
class Pending:
    """A change waiting for the user's yes: what it does, and the call that does it."""

    title: str
    text: str
    apply: Callable[[], None]


def model_parameters(scenario: Scenario) -> dict[str, Any]:
    """Keyword arguments that build the session's model (what Reset re-creates).

    The customers drawn in the network view are the ones whose history is recorded, so every
    node one can click has a story.
    """
    ids = drawn_customers(scenario.market.customers, scenario.seed)
    return {"scenario": scenario, "track": ids.tolist(), "eager_agents": False}


class SessionState:
    """Everything one browser session owns.

    Parameters
    ----------
    source
        Scenario name or path to start with.

    Attributes
    ----------
    scenario
        The last valid scenario, with the UI's changes.
    source
        What the scenario was loaded from (a name, or ``"upload: file.toml"``).
    model
        The session's model.
    model_parameters
        Keyword arguments that re-create the model (Reset uses them).
    playing
        Whether the play loop runs.
    stop_at
        The step where playing stops once per run (a lesson's end), or None; Play from there
        goes on. Loading a scenario clears it.
    running
        False once the market has ended (every firm left): Play and Step are off.
    play_interval, render_interval
        Pause between frames in ms, and steps per frame (also what Step advances).
    lock
        Held while the model steps and while a component reads it.
    frame_drawn
        Set when a redraw pass has finished (the play loop waits for it, so stepping never
        outruns drawing).
    step_seconds, frame_seconds
        Wall time of the last frame's steps, and of the whole frame (steps and redraw) while
        playing.
    tab
        Index of the page shown (0 Explore, 1 Inspect, 2 Compare, 3 Export).
    customer, firm, inspect_mode
        Selected customer and firm for the Inspect page, and which of the two it shows.
    colour_by, industry
        What the network view colours nodes by, and for which industry.
    revision
        Bumped whenever the scenario changes, so controls re-read their values.
    loaded
        The scenario as last loaded (file, upload or lesson): what :attr:`edited` compares to.
    source_error
        Why the last scenario file picked or uploaded was rejected, one problem a line; kept
        until the market is replaced, reset or run on.
    pending
        A change that waits for the user's yes (:meth:`confirm`) or no (:meth:`cancel`).
    live_changes
        ``(step, key)`` of every change made to the running market since it was built.
    """

    def __init__(self, source: str = "baseline") -> None:
        scenario = load_scenario(source)
        _check_size(scenario)
        params = model_parameters(scenario)
        self.source = solara.reactive(source)
        self.scenario = solara.reactive(scenario)
        self.loaded = scenario
        self.model_parameters = solara.reactive(params)
        self.model = solara.reactive(CustomerMarket(**params))
        self.lock = threading.RLock()
        self.frame_drawn = threading.Event()
        self.step_seconds = 0.0
        self.frame_seconds = 0.0
        self.playing = solara.reactive(False)
        self.stop_at: int | None = None
        self.running = solara.reactive(True)
        self.play_interval = solara.reactive(20)
        self.render_interval = solara.reactive(1)
        self.run_error: solara.Reactive[str | None] = solara.reactive(None)
        self.tab = solara.reactive(0)
        self.customer: solara.Reactive[int | None] = solara.reactive(None)
        self.firm = solara.reactive(0)
        self.revision = solara.reactive(0)
        self.colour_by = solara.reactive("satisfaction")
        self.industry = solara.reactive(0)
        self.inspect_mode = solara.reactive("customer")
        self.source_error: solara.Reactive[str | None] = solara.reactive(None)
        self.pending: solara.Reactive[Pending | None] = solara.reactive(None)
        self.live_changes: solara.Reactive[tuple[tuple[int, str], ...]] = solara.reactive(())
        self.change_names: list[str] = []
        """:attr:`live_changes`' keys in order, named as the sidebar named their fields when
        they changed ("First Bank: overpromise: inflation", a lever the firm may since have
        lost): what the Export page lists."""
        self._upload_dir: Path | None = None
        self._uploads = 0

    # -- the scenario -------------------------------------------------------------------------

    @property
    def edited(self) -> bool:
        """Whether the scenario differs from the one last loaded (edits a reload would lose)."""
        return self.scenario.value.to_dict() != self.loaded.to_dict()

    def set_scenario(self, scenario: Scenario) -> None:
        """Make ``scenario`` current and rebuild the model from step 0."""
        params = model_parameters(scenario)
        model = CustomerMarket(**params)
        with self.lock:
            self.scenario.value = scenario
            self.model_parameters.value = params
            self.model.value = model
        self.running.value = True
        self.run_error.value = None
        self.source_error.value = None  # a rejected file's lines go once the market is replaced
        self.live_changes.value = ()
        self.change_names = []
        if self.customer.value is not None and self.customer.value >= model.n_customers:
            self.customer.value = None
        if self.firm.value >= len(model.firms):
            self.firm.value = 0
        if self.industry.value >= len(model.industries):
            self.industry.value = 0
        self.revision.value += 1

    def change(self, key: str, value: Any, label: str | None = None) -> str | None:
        """Apply one control's change; return the message for the control, or None if applied.
        ``label`` names the field in the rebuild's question (default: ``key``).

        A rejected value changes nothing: the scenario and the model stay as they were. At step
        0 any change rebuilds the market (nothing is lost). After that, a live change (a firm's
        strategy, levers, price, costs, budget: :func:`sim.ui.live.is_live`) acts on the
        running market from the next step; any other change needs a rebuild from step 0, which
        waits in :attr:`pending` for the user's yes (:meth:`confirm`) or no (:meth:`cancel`).
        """
        try:
            new = apply_change(self.scenario.value, key, value)
        except ScenarioError as e:
            return e.detail
        if new.to_dict() == self.scenario.value.to_dict():
            return None
        steps = self.model.value.steps
        if steps == 0:
            self.set_scenario(new)
        elif is_live(key):
            self.apply_live(new)
        else:
            self.ask(
                "Rebuild the market?",
                f"Changing {label or key} changes how the market is built: it restarts at "
                f"step 0 with the same seed, and the {steps:,} steps run so far are dropped. "
                "(A firm's strategy, levers, price, costs and budget change the running market "
                "instead.)",
                lambda: self.set_scenario(new),
            )
        return None

    def apply_live(self, scenario: Scenario) -> None:
        """Make the running model follow ``scenario``'s live fields from its next step."""
        with self.lock:
            model = self.model.value
            before = self.scenario.value
            changed = apply_live(model, scenario)
            self.change_names += [key_name(scenario, key, before) for key in changed]
            self.scenario.value = scenario
            self.model_parameters.value = model_parameters(scenario)
            self.live_changes.value = (
                *self.live_changes.value,
                *((model.steps, key) for key in changed),
            )
        self.revision.value += 1
        force_update()

    def ask(self, title: str, text: str, apply: Callable[[], None]) -> None:
        """Hold a change that would drop something until the user confirms it."""
        self.pending.value = Pending(title, text, apply)

    def confirm(self) -> None:
        """Carry out the pending change."""
        pending = self.pending.value
        self.pending.value = None
        if pending is not None:
            pending.apply()

    def cancel(self) -> None:
        """Drop the pending change; the controls show the values in force again."""
        self.pending.value = None
        self.revision.value += 1

    def read_source(self, source: str, shown_as: str | None = None) -> Scenario | None:
        """The scenario ``source`` (a name or path) holds, or None after saying why in
        :attr:`source_error`; nothing else changes, so a file can be checked before anyone is
        asked to give up the market for it.

        Every problem is listed, one per line; ``shown_as`` names the file in them (an upload
        is kept under a temporary path the user never chose).
        """
        try:
            scenario = load_scenario(source)
            _check_size(scenario)
        except ScenarioError as e:
            lines = e.lines
            if shown_as is not None:
                lines = [line.replace(str(source), shown_as) for line in lines]
            self.source_error.value = "\n".join(lines)
            return None
        return scenario

    def use_source(self, source: str, scenario: Scenario) -> None:
        """Make ``scenario``, read from ``source``, the market (step 0, nothing selected)."""
        self.source.value = source
        self.customer.value = None
        self.firm.value = 0
        self.loaded = scenario
        self.stop_at = None
        self.set_scenario(scenario)

    def load(self, source: str, shown_as: str | None = None) -> bool:
        """Load a scenario by name or path now; on failure keep the current one and say why
        (:meth:`read_source`)."""
        scenario = self.read_source(source, shown_as)
        if scenario is None:
            return False
        self.use_source(source, scenario)
        return True

    def open(self, source: str, what: str, shown: str | None = None) -> bool:
        """Load ``source`` once it is known to load: a file that does not changes nothing and
        asks nothing; one that does replaces the market, after asking if it was edited
        (:meth:`replace`; ``what`` names it there). ``shown`` is the picker's name for an
        upload. Returns whether the file loads."""
        scenario = self.read_source(source, shown)
        if scenario is None:
            return False
        shown_source = f"upload: {Path(source).name}" if shown is not None else source
        self.replace(what, lambda: self.use_source(shown_source, scenario))
        return True

    def replace(self, what: str, load: Callable[[], object]) -> None:
        """Run ``load`` (which replaces the market) now, or after asking if the market was
        edited and the edits would be lost."""
        if not self.edited:
            load()
            return
        self.ask(
            "Replace the edited market?",
            f"Opening {what} replaces the market you edited ({self.scenario.value.name}); "
            "your changes are lost unless you export the scenario first (Export tab).",
            lambda: load(),
        )

    def upload(self, filename: str, content: bytes) -> bool:
        """Open a scenario from an uploaded TOML file (kept in this session's temp folder):
        checked first, so a file that does not load changes nothing and asks nothing
        (:meth:`open`). Returns whether the file loads."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).name) or "uploaded.toml"
        if not name.endswith(".toml"):
            self.source_error.value = f"{filename}: expected a .toml scenario file"
            return False
        if self._upload_dir is None:
            self._upload_dir = Path(tempfile.mkdtemp(prefix="cxsim-ui-"))
        # a folder per upload: a file waiting for the user's yes never overwrites the one in use
        self._uploads += 1
        path = self._upload_dir / str(self._uploads) / name
        path.parent.mkdir()
        path.write_bytes(content)
        return self.open(str(path), f"the uploaded {Path(filename).name}", Path(filename).name)

    # -- running ------------------------------------------------------------------------------

    def read(self, fn: Callable[[], T]) -> T:
        """``fn()`` while no step is under way (for consistent reads of the model)."""
        with self.lock:
            return fn()

    def step(self, steps: int | None = None) -> int:
        """Advance the model ``steps`` steps (default: the steps per frame) and redraw.

        Returns the steps actually run (fewer if the market ended: every firm exited).
        """
        n = self.render_interval.value if steps is None else int(steps)
        done = 0
        self.source_error.value = None  # the market runs on: a rejected file is old news
        try:
            with self.lock:
                model = self.model.value
                if self.stop_at is not None and model.steps < self.stop_at:
                    n = min(n, self.stop_at - model.steps)
                started = time.perf_counter()
                while done < n and model.running:
                    model.step()
                    done += 1
                self.step_seconds = time.perf_counter() - started
                if not model.running:
                    self.running.value = False
                if done and model.steps == self.stop_at:
                    self.playing.value = False  # the lesson's end: Play again goes on
        except Exception as e:  # shown in the sidebar; the session stays usable
            self.playing.value = False
            self.run_error.value = f"the model failed at step {self.model.value.steps}: {e}"
        force_update()
        return done

    def reset(self) -> None:
        """Rebuild the model from the current parameters (step 0, same seed)."""
        self.playing.value = False
        self.run_error.value = None
        self.source_error.value = None
        with self.lock:
            self.model.value = CustomerMarket(**self.model_parameters.value)
        self.running.value = True
        self.live_changes.value = ()
        self.change_names = []
        force_update()

    # -- selections ---------------------------------------------------------------------------

    def inspect_customer(self, index: int) -> None:
        """Select a customer and show the Inspect page."""
        self.customer.value = int(index)
        self.inspect_mode.value = "customer"
        self.tab.value = 1

    def inspect_firm(self, index: int) -> None:
        """Select a firm and show the Inspect page."""
        self.firm.value = int(index)
        self.inspect_mode.value = "firm"
        self.tab.value = 1

    def close(self) -> None:
        """Release what the session holds on disk."""
        if self._upload_dir is not None:
            shutil.rmtree(self._upload_dir, ignore_errors=True)
            self._upload_dir = None
