"""How long a frame of the Explore page takes on the server: ``python -m sim.ui.bench``.

Renders the Explore page with Solara's test renderer (no browser, no websocket) for a market of
each size asked, steps it, and times each frame: the model's step plus the redraw pass that
builds every chart option and updates the widgets. What the browser then spends drawing, and
the websocket, come on top; the browser tests measure the whole loop (see docs/ui.md).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

__all__ = ["main", "measure"]


def measure(
    customers: int, frames: int = 40, warmup: int = 20, scenario: str = "baseline"
) -> dict[str, float]:
    """Time ``frames`` frames of one step each after ``warmup`` steps.

    Returns
    -------
    dict
        ``step_ms`` (median model step), ``frame_ms`` and ``frame_p90_ms`` (step and redraw),
        ``build_s`` (building the session: model, network layout, first render).
    """
    import solara

    from sim.ui.explore import ExplorePage
    from sim.ui.state import SessionState

    started = time.perf_counter()
    state = SessionState(scenario)
    if state.scenario.value.market.customers != customers:
        message = state.change("market.customers", customers)
        if message:
            raise ValueError(message)

    @solara.component
    def Root() -> None:
        ExplorePage(state)

    _, rc = solara.render(Root(), handle_error=False)
    build = time.perf_counter() - started
    try:
        state.step(warmup)
        steps, totals = [], []
        for _ in range(frames):
            t = time.perf_counter()
            state.step(1)
            totals.append(time.perf_counter() - t)
            steps.append(state.step_seconds)
    finally:
        rc.close()
    return {
        "customers": customers,
        "step_ms": 1000 * float(np.median(steps)),
        "frame_ms": 1000 * float(np.median(totals)),
        "frame_p90_ms": 1000 * float(np.percentile(totals, 90)),
        "build_s": build,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per market size."""
    parser = argparse.ArgumentParser(prog="python -m sim.ui.bench", description=__doc__)
    parser.add_argument("customers", nargs="*", type=int, default=[1000, 10_000])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    for n in args.customers:
        r = measure(n, frames=args.frames, warmup=args.warmup)
        print(
            f"{n:>8,} customers: step {r['step_ms']:6.1f} ms, step+redraw "
            f"{r['frame_ms']:6.1f} ms (p90 {r['frame_p90_ms']:.1f}), session built in "
            f"{r['build_s']:.1f} s"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
