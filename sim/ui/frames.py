"""Redraw signalling: which components redraw when the model steps, and when a frame is done.

The run controls step the model and call Mesa's ``force_update`` (its per-session
``update_counter``); components that show the running model call :func:`use_frame` to redraw
then. An effect (run once the whole redraw pass is done) sets the session's ``frame_drawn``
event, and the play loop waits for it, so stepping never outruns drawing and the sidebar stays
responsive while the market plays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import solara
from mesa.visualization.utils import update_counter

if TYPE_CHECKING:
    from sim.ui.state import SessionState

__all__ = ["FrameMarker", "use_frame"]


def use_frame(state: SessionState) -> int:
    """Subscribe the calling component to redraws; return the frame number.

    Call it in the components that show the running model. After the redraw pass the play
    loop is told it may step again.
    """
    frame = update_counter.get()
    solara.use_effect(state.frame_drawn.set, [frame])
    return frame


@solara.component
def FrameMarker(state: SessionState) -> None:
    """For pages that show no live data: still tells the play loop each frame is done."""
    use_frame(state)
