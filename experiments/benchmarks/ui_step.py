"""Milliseconds per UI frame, model side: one step plus what a redraw of the Explore page reads.

The browser UI (``sim.ui``) builds its model with ``sim.ui.state.model_parameters`` (the drawn
customers' histories are recorded) and, per frame, steps it and then reads: the headline
(``model.recorder.latest_market``), the per-firm series of every chart
(``sim.ui.explore.firm_series`` -> ``model.firm_metrics()``, and ``explore_board`` builds the
chart options) and the colours of the drawn network sample (``network_view.node_values`` and
``nodes_option``). This script times exactly those calls, after a year of history so that the
series are not trivially short. If ``sim.ui`` cannot be imported (it needs the UI extras), it
times the fallback the issue names: ``firm_metrics()`` + ``model_metrics()`` + colouring a
500-customer sample.

    python experiments/benchmarks/ui_step.py [--sizes 1000 10000] [--history 52] [--frames 30]
        [--json FILE]

Target (issue #6): <= 100 ms a frame at 1k customers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import sim

TARGET_MS = 100.0


def frame_function(model: sim.CustomerMarket):
    """``(name, redraw())``: the model-side work of one redraw of the Explore page."""
    try:
        from sim.ui.charts import firm_colours
        from sim.ui.explore import explore_board, firm_series, headline_html
        from sim.ui.network_view import network_picture, node_values, nodes_option
    except Exception:
        ids = np.sort(
            np.random.default_rng(0).choice(model.n_customers, min(500, model.n_customers), False)
        )

        def fallback() -> None:
            model.firm_metrics()
            model.model_metrics()
            cs = model.customer_state
            np.where(cs.supplier[0, ids] >= 0, cs.satisfaction[0, ids], np.nan)

        return "firm_metrics + model_metrics + 500-node sample (sim.ui not importable)", fallback

    picture = network_picture(model)  # memoised per model by the UI: built once
    colours = firm_colours(len(model.firms))

    def redraw() -> None:
        market = dict(model.recorder.latest_market)
        series = firm_series(model)
        explore_board(series, "share")
        headline_html(model, market, model.steps)
        values, visual_map = node_values(model, picture.ids, "satisfaction", 0, colours)
        nodes_option(picture, values, visual_map)

    return "sim.ui Explore redraw (headline, charts, network colours)", redraw


def measure(n: int, history: int, frames: int) -> dict:
    """Median frame time (step + redraw) at ``n`` customers after ``history`` steps."""
    try:
        from sim.ui.state import model_parameters

        kwargs = model_parameters(sim.load_scenario("baseline", {"market.customers": n}))
    except Exception:
        kwargs = {"scenario": sim.load_scenario("baseline", {"market.customers": n})}
    model = sim.CustomerMarket(**kwargs)
    model.run(history)
    what, redraw = frame_function(model)
    redraw()  # warm-up
    step_t, draw_t = [], []
    for _ in range(frames):
        t = time.perf_counter()
        model.step()
        step_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        redraw()
        draw_t.append(time.perf_counter() - t)
    frame = np.array(step_t) + np.array(draw_t)
    return {
        "customers": n,
        "what": what,
        "step_ms": 1000 * float(np.median(step_t)),
        "redraw_ms": 1000 * float(np.median(draw_t)),
        "frame_ms": 1000 * float(np.median(frame)),
        "history": history,
    }


def main() -> None:
    """Measure every size, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--history", type=int, default=52)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(
        f"baseline market after {args.history} steps, {args.frames} frames; machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    rows = []
    for n in args.sizes:
        r = measure(n, args.history, args.frames)
        rows.append(r)
        if len(rows) == 1:
            print(f"redraw = {r['what']}")
            print(f"{'customers':>10} {'step ms':>8} {'redraw ms':>10} {'frame ms':>9}")
        print(
            f"{n:>10,} {r['step_ms']:>8.1f} {r['redraw_ms']:>10.1f} {r['frame_ms']:>9.1f}",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
