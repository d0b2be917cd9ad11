"""Helpers for the browser tests of the UI: a server per test module, Chromium, page probes.

The server is the one ``cxsim ui`` starts (:func:`sim.ui.server.server_command`), on a free
port of 127.0.0.1, in its own process group so that stopping it stops its workers too. The
browser is Debian's Chromium driven by Playwright (never ``playwright install``): under
``CI=true`` a missing browser fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "test-output" / "ui"

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Flags that work on these machines (see STACK.md)."""

READY = '[data-stat="step"]'
"""Selector present once the Explore page has rendered."""

OPEN_MENU = ".v-menu__content.menuable__content__active"
"""The menu a Vuetify select has open. A select's menu stays in the page after it closes, so an
option looked up in every menu may be a closed menu's (the Compare test's "First Bank" matched
the closed "B changes" menu's "First Bank: overpromise: inflation", which a redraw detached:
the click waited 30 s on a loaded machine, 6 December 2026)."""

WAIT = 120_000
"""Milliseconds any wait in a browser test may take: generous on purpose. A wait costs its full
length only when something is broken; a loaded machine (a full suite on 2 shared cores) can take
tens of seconds for what a quiet one does in one. No browser test asserts a speed; speed is
measured by experiments/benchmarks/ui_play_speed.py."""


def chromium_path() -> str | None:
    """Debian's Chromium: ``$CXSIM_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on PATH."""
    for candidate in (
        os.environ.get("CXSIM_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_browser() -> str:
    """The Chromium path; fail under CI, skip elsewhere, when it or Playwright is missing."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the playwright Python package is not installed (pip install -e '.[dev]')"
    path = chromium_path()
    if reason is None and path is None:
        reason = "Chromium not found at /usr/bin/chromium (apt-get install chromium)"
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests need a browser under CI: {reason}")
        pytest.skip(reason)
    assert path is not None
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (another process may take it before a server binds it:
    :func:`served_by` tells)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_by(port: int, root: int) -> bool:
    """Whether what listens on TCP ``port`` is process ``root`` or one of its descendants; True
    where the system does not say (psutil missing, or the listener's process unreadable).

    A server is given a port :func:`free_port` found free, and takes seconds to import before
    it binds it: meanwhile another process (a second test session's server, on a shared
    machine) can bind the same port, and a check that only asks whether the port answers then
    drives that other server's pages."""
    try:
        import psutil

        listeners = {
            c.pid
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
        }
        if not listeners:
            return True
        for pid in listeners:
            with contextlib.suppress(psutil.Error):
                if pid == root or root in {p.pid for p in psutil.Process(pid).parents()}:
                    return True
        return False
    except Exception:  # the check is a guard: where it cannot run, trust the port
        return True


class SolaraServer:
    """A Solara server in a child process of its own process group, on a free local port.

    Parameters
    ----------
    command
        Its command line, given the port (``server_command`` of the UI or the workshop).
    env
        Its environment.
    log
        File receiving the server's output.
    """

    def __init__(self, command: Any, env: dict[str, str], log: Path, cwd: Path = REPO) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        self._out = log.open("w")
        self._command, self._env, self._cwd = command, env, cwd
        self._launch()

    def _launch(self) -> None:
        self._out.flush()
        self._launched_at = self._out.tell()  # where this launch's output starts in the log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            self._command(self.port),
            env=self._env,
            cwd=self._cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def _since_launch(self) -> str:
        """What the server's last launch wrote (not the launches before, nor the lines this
        helper wrote about them, which name why they were restarted)."""
        return self.log.read_bytes()[self._launched_at :].decode(errors="replace")

    def _again(self, restarts: int, why: str) -> int:
        """Start again on another port (the third time, give up); returns the restarts."""
        if restarts == 3:
            raise RuntimeError(f"port {self.port}: {why}:\n" + self.log.read_text()[-3000:])
        print(f"(test) port {self.port}: {why}: starting again", file=self._out, flush=True)
        self._kill()
        self._launch()
        return restarts + 1

    def wait_ready(self, timeout: float = 300.0) -> float:
        """Wait until the server answers; return the seconds it took. A port that another
        process took before this server bound it is left to it, whether the other answers
        first (:func:`served_by`) or this server finds the address in use: the server starts
        again on a new port, at most three times."""
        started = time.perf_counter()
        restarts = 0
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                if "address already in use" in self._since_launch().lower():
                    restarts = self._again(restarts, "address already in use")
                    continue
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}:\n"
                    + self.log.read_text()[-3000:]
                )
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        if served_by(self.port, self.process.pid):
                            return time.perf_counter() - started
                        restarts = self._again(restarts, "another process answers")
            time.sleep(0.3)
        raise TimeoutError(
            f"the server did not answer within {timeout} s:\n" + self.log.read_text()[-3000:]
        )

    def stop(self) -> None:
        """Stop the server and everything it started (its process group)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


class UIServer(SolaraServer):
    """``cxsim ui`` 's server in a child process, for one test module.

    Parameters
    ----------
    scenario
        Scenario each session opens.
    log
        File receiving the server's output.
    """

    def __init__(
        self, scenario: str, log: Path, extra_env: dict[str, str] | None = None, cwd: Path = REPO
    ) -> None:
        from sim.ui.server import server_command, server_environment

        env = server_environment(scenario)
        env.update(extra_env or {})
        super().__init__(lambda port: server_command("127.0.0.1", port), env, log, cwd)


@contextlib.contextmanager
def ui_server(scenario: str, log: Path) -> Iterator[UIServer]:
    """A running server for the duration of the block."""
    server = UIServer(scenario, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class PageLog:
    """Console errors, page errors, requests that left 127.0.0.1 and failed requests (an asset
    the server could not find offline answers 404 or 500), for one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} -> {response.status}")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            self.external.append(url)


def block_internet(context: Any) -> None:
    """Make every request that does not go to 127.0.0.1 fail (the machine is offline)."""
    context.route(
        lambda url: not url.startswith(("http://127.0.0.1", "ws://127.0.0.1")),
        lambda route: route.abort(),
    )


CHART_PROBE = """
(name) => {
  const el = document.querySelector(`[data-chart="${name}"]`);
  if (!el || !window.requirejs) return null;
  const defined = window.requirejs.s.contexts._.defined;
  const key = Object.keys(defined).find(k => k.includes('echarts'));
  if (!key) return null;
  const chart = defined[key].getInstanceByDom(el);
  if (!chart) return null;
  const option = chart.getOption();
  const source = option.dataset && option.dataset.length ? option.dataset[0].source : null;
  const series = option.series.map(s => ({name: s.name || '', type: s.type,
                                          points: s.data ? s.data.length : 0}));
  const legend = (option.legend || []).map(l => (l.data || []).map(d => d.name || d));
  const xa = chart.getModel().getComponent('xAxis');
  const shown = xa && xa.axis && xa.axis.type === 'category'
    ? xa.axis.scale.getOrdinalMeta().categories : null;
  return {rows: source ? source.length : 0, last: source ? source[source.length - 1] : null,
          series: series, legend: legend.length ? legend[0] : null,
          y_axes: (option.yAxis || []).length, x_axis: option.xAxis ? option.xAxis[0] : null,
          categories: shown,
          data: option.series.length && option.series[0].data
                ? option.series[0].data.slice(0, 5000) : null};
}
"""


def chart(page: Any, name: str) -> dict[str, Any] | None:
    """What the ECharts instance tagged ``data-chart=<name>`` holds (rows, series, ...)."""
    return page.evaluate(CHART_PROBE, name)


def wait_chart(
    page: Any, name: str, predicate: Any = lambda c: c and c["rows"] > 0, timeout: float = 120.0
) -> dict[str, Any]:
    """Poll a chart until ``predicate`` holds; return its probe."""
    deadline = time.perf_counter() + timeout
    last = None
    while time.perf_counter() < deadline:
        last = chart(page, name)
        if predicate(last):
            return last
        page.wait_for_timeout(200)
    raise AssertionError(f"chart {name!r} never satisfied the condition; last: {str(last)[:500]}")


def stat(page: Any, label: str) -> str:
    """The value shown in the headline box ``label`` ("step", "market NPS", ...)."""
    return page.locator(f'[data-stat="{label}"] .cx-stat-value').inner_text().strip()


def open_app(
    browser: Any, url: str, *, viewport: tuple[int, int] = (1500, 1000), offline: bool = True
) -> tuple[Any, Any, PageLog]:
    """A new context and page on the app, ready (Explore rendered); with its log."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True
    )
    if offline:
        block_internet(context)
    page = context.new_page()
    log = PageLog(page)
    page.goto(url)
    page.wait_for_selector(READY, timeout=WAIT)
    return context, page, log


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under ``test-output/ui/``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot_viewport(page: Any, name: str) -> Path:
    """Save what the window shows (not the whole page) under ``test-output/ui/``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def field(page: Any, label: str) -> Any:
    """The input of the sidebar control labelled exactly ``label``."""
    import re

    return page.locator(
        ".cx-field", has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))
    ).locator("input")


def set_field(page: Any, panel: str, label: str, value: Any) -> Any:
    """Open the parameter panel ``panel`` (if closed), type ``value`` into ``label``, Enter."""
    box = field(page, label)
    if not box.is_visible():
        page.locator(".cx-panel-header", has_text=panel).click()
    box.wait_for(timeout=WAIT)
    box.fill(str(value))
    box.press("Enter")
    return box


def tick(page: Any, label: str, on: bool = True, timeout: float = WAIT) -> None:
    """Tick (or untick) the checkbox labelled ``label`` and wait until it shows that state.

    Playwright's ``uncheck`` reads the box's state after its click, and a box that a filtered
    list shows only while ticked is gone by then: the call waits for it until it times out. A
    click can also land while the list redraws and be undone by the redraw. This clicks, then
    waits for the state (an unticked box may leave the list), and clicks again only if the box
    still shows the other state after 5 s, so it never toggles twice in a row. A box attached
    but laid out at zero size (its panel redrawing after another field changed) cannot be
    clicked even with ``force``: the click is tried again every 250 ms. It fails if the box
    does not take the state within ``timeout`` ms.
    """
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout / 1000
    box = page.get_by_label(label)
    while True:
        box.wait_for(state="attached", timeout=timeout)  # the input itself is hidden
        if box.is_checked() == on:
            return
        try:
            box.click(force=True, timeout=5_000)
        except PlaywrightError as exc:  # laid out at zero size while its panel redraws
            if time.monotonic() > deadline:
                raise AssertionError(f"the box {label!r} could not be clicked: {exc}") from exc
            page.wait_for_timeout(250)
            continue
        for _ in range(20):  # up to 5 s for the click (and any redraw) to settle
            page.wait_for_timeout(250)
            if box.count() == 0 and not on:
                return  # unticked, and a filtered list no longer shows it
            if box.count() == 1 and box.is_checked() == on:
                return
        if time.monotonic() > deadline:
            state = "ticked" if on else "unticked"
            raise AssertionError(f"the box {label!r} did not become {state} in {timeout} ms")


def lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a ``#rrggbb`` or ``#rgb`` colour: how far apart two colours look is
    about the distance between their triples (CIE76; 2.3 is just noticeable, two lines of a chart
    need tens)."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    rgb = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    rows = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))
    white = (0.95047, 1.0, 1.08883)
    xyz = [
        sum(m * c for m, c in zip(row, lin, strict=True)) / w
        for row, w in zip(rows, white, strict=True)
    ]
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def colour_distance(a: str, b: str) -> float:
    """CIE76 distance between two colours (:func:`lab`)."""
    return sum((x - y) ** 2 for x, y in zip(lab(a), lab(b), strict=True)) ** 0.5
