"""How fast the browser UI plays: steps per second and frame times in Chromium (``make ui-bench``).

Starts ``cxsim ui`` 's server on a free port of 127.0.0.1, opens the Explore page in Debian's
Chromium through Playwright, and for each market size asked plays for a few seconds, reading the
frame time the page shows and the time the browser spent drawing charts. Figures only, no pass or
fail: speed depends on the machine and on what else runs on it, so it is measured here, never
asserted in the test suite.

    python experiments/benchmarks/ui_play_speed.py [--customers 1000 10000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from typing import Any

import numpy as np

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

STEP = '[data-stat="step"] .cx-stat-value'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _step(page: Any) -> int:
    return int(page.locator(STEP).inner_text().strip().replace(",", ""))


def play(page: Any, seconds: float) -> dict[str, float]:
    """Play for ``seconds``; the steps per second and the frame times shown meanwhile."""
    page.locator(".cx-play").click()
    page.wait_for_timeout(1500)
    page.evaluate("() => { window.cxDraw = {count: 0, totalMs: 0, maxMs: 0}; }")
    start_step, started = _step(page), time.perf_counter()
    frames: list[int] = []
    while time.perf_counter() - started < seconds:
        note = page.locator('[data-stat="step"] .cx-stat-note').inner_text()
        frames += [int(m) for m in re.findall(r"frame (\d+) ms", note)]
        page.wait_for_timeout(250)
    rate = (_step(page) - start_step) / (time.perf_counter() - started)
    page.locator(".cx-play").click()
    draw = page.evaluate("() => window.cxDraw")
    return {
        "steps_per_second": rate,
        "frame_ms_median": float(np.median(frames)) if frames else float("nan"),
        "frame_ms_p90": float(np.percentile(frames, 90)) if frames else float("nan"),
        "samples": len(frames),
        "browser_draws": draw["count"],
        "browser_draw_ms": draw["totalMs"] / max(1, draw["count"]),
    }


def main() -> None:
    """Measure and print one line per market size."""
    from playwright.sync_api import sync_playwright

    from sim.ui.server import server_command, server_environment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()

    port = _free_port()
    server = subprocess.Popen(
        server_command("127.0.0.1", port),
        env=server_environment("baseline"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2):
                    break
            time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url)
            page.wait_for_selector(STEP, timeout=300_000)
            for customers in args.customers:
                box = page.locator(
                    ".cx-field",
                    has=page.locator("label", has_text=re.compile("^customers$")),
                ).locator("input")
                if not box.is_visible():
                    page.locator(".cx-panel-header", has_text="Run and market").click()
                box.fill(str(customers))
                box.press("Enter")
                page.locator(
                    '[data-stat="customers served"]', has_text=f"of {customers:,}"
                ).wait_for(timeout=300_000)
                r = play(page, args.seconds)
                print(
                    f"{customers:,} customers: {r['steps_per_second']:.1f} steps/s, frame (step + "
                    f"redraw) median {r['frame_ms_median']:.0f} ms, p90 {r['frame_ms_p90']:.0f} "
                    f"ms ({r['samples']} samples); browser: {r['browser_draws']} chart draws, "
                    f"mean {r['browser_draw_ms']:.0f} ms",
                    flush=True,
                )
                page.locator(".cx-reset").click()
            browser.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
