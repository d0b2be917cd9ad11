"""The sidebar: scenario picker and upload, run controls, and the scenario's parameters.

Run controls are Reset, play/pause and Step, with sliders for the pause between frames and the
number of steps per frame (Mesa's ``SolaraViz`` controls, re-done so that stepping holds the
session's lock: Mesa 3.3.1's ``ModelController`` steps in a thread while Solara redraws in
another, and a redraw that read the growing series mid-step failed). Parameters are grouped
(run and market, network, customers, one panel per firm with its strategy and levers first,
then the behavioural sections); only the open panel's controls exist, so the sidebar stays
cheap however many parameters a scenario has.

A typed value is committed on Enter or when the field loses focus. If the scenario loader
rejects it, the message appears under the field, the text stays as typed, and the model keeps
its last valid state. A firm's strategy is one choice (picking another switches to it); further
strategies combined with it are a separate, optional choice. Live fields act on the running
market; a change that rebuilds it, or a scenario or lesson that would replace an edited market,
asks first (:class:`PendingDialog`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import ipywidgets
import solara
import solara.lab

from sim.ui.fields import (
    FieldSpec,
    Group,
    behaviour_groups,
    current_value,
    field_message,
    field_name,
    firm_group,
    format_value,
    market_group,
    network_group,
    parse_value,
    segment_group,
)
from sim.ui.live import is_live
from sim.ui.state import SessionState, scenario_choices

__all__ = [
    "ParamField",
    "ParameterPanels",
    "PendingDialog",
    "RunControls",
    "ScenarioPicker",
    "Sidebar",
    "change_field",
]

MIN_PAUSE = 0.01
"""Shortest pause between frames, in seconds: lets the redraw take the lock."""

FRAME_TIMEOUT = 5.0
"""Longest wait, in seconds, for a frame to be drawn before the play loop steps again."""


def change_field(state: SessionState, spec: FieldSpec, value: Any) -> str | None:
    """:meth:`SessionState.change` of ``spec``'s key, with a rebuild's question naming the field
    as the sidebar does ("First Bank: initial share", not ``firms[0].initial_share``)."""
    return state.change(spec.key, value, f"“{field_name(state.scenario.value, spec)}”")


@solara.component
def ParamField(state: SessionState, spec: FieldSpec, value: Any) -> None:
    """One control for one scenario key, with its unit, limits and any error beside it.

    Parameters
    ----------
    state
        The session.
    spec
        What the schema says about the key.
    value
        The value in force.
    """
    shown = format_value(value)
    text, set_text = solara.use_state(shown)
    error, set_error = solara.use_state(None)

    def sync() -> None:
        set_text(shown)
        set_error(None)

    solara.use_effect(sync, [shown, state.revision.value])

    def commit(raw: Any) -> None:
        if spec.kind not in ("bool", "choices"):
            set_text(raw)
        try:
            parsed = parse_value(spec, raw)
        except ValueError as e:
            set_error(str(e))
            return
        set_error(change_field(state, spec, parsed))

    message = field_message(spec, is_live(spec.key))
    label = spec.label
    if spec.kind == "bool":
        solara.Checkbox(label=label, value=bool(value), on_value=commit)
        solara.Text(spec.description, classes=["cx-hint"])
    elif spec.kind == "choice":
        solara.Select(
            label=label,
            value=str(value),
            values=list(spec.choices),
            on_value=commit,
            dense=True,
            classes=["cx-choice"],
        )
        solara.Text(message, classes=["cx-hint"])
    elif spec.kind == "choices":
        current = [value] if isinstance(value, str) else list(value or [])
        solara.SelectMultiple(
            label,
            values=current,
            all_values=list(spec.choices),
            on_value=commit,
            dense=True,
            classes=["cx-choices"],
        )
        solara.Text(message, classes=["cx-hint"])
    else:
        solara.InputText(
            label,
            value=text,
            on_value=commit,
            error=error or False,
            message=None if error else message,
            dense=True,
            classes=["cx-field"],
        )
        return
    if error:
        solara.Text(error, classes=["cx-error"])


@solara.component
def GroupFields(state: SessionState, group: Group) -> None:
    """The controls of one group, each keyed by its scenario key."""
    data = solara.use_memo(lambda: state.scenario.value.to_dict(), [state.scenario.value])
    for note in group.notes:
        solara.Text(note, classes=["cx-hint"])
    for spec in group.fields:
        # keyed by the revision too: a cancelled change puts every control back as it was
        ParamField(state, spec, current_value(data, spec)).key(f"{spec.key}@{state.revision.value}")


@solara.component
def ParameterPanels(state: SessionState) -> None:
    """Expansion panels of parameter groups; only the open one is built."""
    scenario = state.scenario.value
    open_panel, set_open_panel = solara.use_state(None)

    def groups() -> list[Group]:
        out = [market_group(scenario), network_group(scenario), segment_group(scenario)]
        out += [firm_group(scenario, i) for i in range(len(scenario.firms))]
        return out + behaviour_groups()

    all_groups = solara.use_memo(groups, [scenario])
    firms = len(scenario.firms)
    with solara.v.ExpansionPanels(
        v_model=open_panel, on_v_model=set_open_panel, accordion=True, class_="cx-panels"
    ):
        for i, group in enumerate(all_groups):
            heading = ("Firm: " if 3 <= i < 3 + firms else "") + group.title
            if i == 3 + firms:
                solara.v.Subheader(
                    children=["Behaviour (every customer and firm)"], class_="cx-subheader"
                )
            with solara.v.ExpansionPanel():
                solara.v.ExpansionPanelHeader(
                    class_="cx-panel-header",
                    children=[heading + (f" · {group.subtitle}" if group.subtitle else "")],
                )
                with solara.v.ExpansionPanelContent():
                    if open_panel == i:
                        GroupFields(state, group).key(f"{group.title}-{i}")


@solara.component
def ScenarioPicker(state: SessionState) -> None:
    """Pick a scenario file, or upload one's own; a file that does not load says why."""
    choices = solara.use_memo(scenario_choices, [])
    names = [name for name, _ in choices]
    source = state.source.value
    current = (
        source
        if source in names or source.startswith("upload: ")
        else (f"file: {Path(source).name}")
    )
    if current not in names:
        names = [*names, current]
    descriptions = dict(choices)
    if source not in descriptions:
        descriptions[current] = state.scenario.value.description.strip()

    def on_pick(label: str) -> None:
        if label != current:
            state.open(label, f"the scenario {label!r}")
            state.revision.value += 1  # the picker shows the market in force until then

    def on_upload(value: Any) -> None:
        files = list(value.values()) if isinstance(value, dict) else list(value or [])
        if not files:
            return
        item = files[0]
        name = item.get("name") or item.get("metadata", {}).get("name", "uploaded.toml")
        state.upload(name, bytes(item["content"]))  # checked before any question

    solara.Select(label="Scenario", value=current, values=names, on_value=on_pick).key(
        f"scenario@{state.revision.value}"
    )
    if descriptions.get(current):
        solara.Text(descriptions[current], classes=["cx-hint"])
    with solara.Row(style={"align-items": "center"}):
        ipywidgets.FileUpload.element(
            accept=".toml", multiple=False, description="Upload .toml", on_value=on_upload
        )
        solara.Text("your own scenario file", classes=["cx-hint"])
    if state.source_error.value:
        with solara.Div(classes=["cx-error", "cx-source-error"]):
            for line in state.source_error.value.splitlines():
                solara.Text(line, classes=["cx-error-line"])


@solara.component
def RunControls(state: SessionState) -> None:
    """Reset, play/pause, Step, and the speed controls."""
    playing = state.playing.value
    running = state.running.value

    def loop() -> None:
        while state.playing.value:
            started = time.perf_counter()
            state.frame_drawn.clear()
            done = state.step()
            if done == 0 or not state.running.value:
                state.playing.value = False
                return
            state.frame_drawn.wait(timeout=FRAME_TIMEOUT)
            state.frame_seconds = time.perf_counter() - started
            time.sleep(max(MIN_PAUSE, state.play_interval.value / 1000))

    solara.lab.use_task(loop, dependencies=[playing], prefer_threaded=True)
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=state.reset, classes=["cx-reset"])
        solara.Button(
            "❚❚ Pause" if playing else "▶ Play",
            color="primary",
            on_click=lambda: state.playing.set(not playing),
            disabled=not running,
            classes=["cx-play"],
        )
        solara.Button(
            "Step",
            color="primary",
            on_click=lambda: state.step(),
            disabled=playing or not running,
            classes=["cx-step"],
        )
    if not running:
        solara.Text(
            "The market ended: every firm has left. Reset to start again.", classes=["cx-error"]
        )
    if state.run_error.value:
        solara.Text(state.run_error.value, classes=["cx-error"])
    n = state.render_interval.value
    solara.SliderInt(
        f"Pause between frames: {state.play_interval.value} ms",
        value=state.play_interval,
        min=0,
        max=1000,
        step=10,
    )
    solara.SliderInt(f"Steps per frame: {n}", value=state.render_interval, min=1, max=52)
    solara.Text(
        f"Step advances {n} step{'s' if n != 1 else ''}; Reset rebuilds the market from "
        "the parameters below.",
        classes=["cx-hint"],
    )


@solara.component
def PendingDialog(state: SessionState) -> None:
    """Asks before a change that drops the run or the edits (see :meth:`SessionState.ask`)."""
    pending = state.pending.value
    solara.lab.ConfirmationDialog(
        pending is not None,
        on_close=state.cancel,
        title=pending.title if pending else "",
        content=solara.Text(pending.text if pending else "", classes=["cx-pending-text"]),
        ok=solara.Button("Yes, go ahead", color="primary", classes=["cx-pending-ok"]),
        on_ok=state.confirm,
        cancel=solara.Button("No, keep the market", text=True, classes=["cx-pending-cancel"]),
        on_cancel=state.cancel,
        persistent=True,
    )


@solara.component
def Sidebar(state: SessionState) -> None:
    """Everything in the left column."""
    PendingDialog(state)
    with solara.Card("Scenario", classes=["cx-card"]):
        ScenarioPicker(state)
    with solara.Card("Run", classes=["cx-card"]):
        RunControls(state)
    with solara.Card("Parameters", classes=["cx-card"]):
        solara.Text(
            "Fields marked live (a firm's strategy, levers, price, costs and budget) change the "
            "running market from its next step. Others rebuild it from step 0 with the same "
            "seed; once it has run you are asked first.",
            classes=["cx-hint"],
        )
        ParameterPanels(state)
