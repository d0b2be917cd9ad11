"""Starting the UI: offline assets, environment, and the Solara server in production mode.

``cxsim ui`` calls :func:`serve`: it checks the scenario and the port first (so a mistake is one
line, not a traceback), builds the offline asset folder (:mod:`sim.ui.assets`), then runs
``python -m solara run sim.ui.app --production`` bound to ``127.0.0.1`` unless told otherwise,
with Solara's telemetry off. Tests use :func:`server_command` and :func:`server_environment` to
start the same server themselves.

:func:`run_server` (shared with ``cxsim workshop``) runs the server as a child in its own process
group and stops that group when ``cxsim`` is told to stop (SIGINT, SIGTERM, SIGHUP), so a process
manager or a script that stops ``cxsim`` never leaves a server holding the port.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "APP",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SCENARIO_ENV",
    "STOP_SIGNALS",
    "PortInUseError",
    "check_port",
    "run_server",
    "serve",
    "server_command",
    "server_environment",
]

SCENARIO_ENV = "CXSIM_UI_SCENARIO"
"""Environment variable naming the scenario each new session opens."""

APP = "sim.ui.app"
"""The module Solara serves."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that stop ``cxsim ui`` and ``cxsim workshop`` and, with them, their server."""


class PortInUseError(OSError):
    """The port is taken (or the host cannot be bound)."""


def check_port(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` if ``host:port`` cannot be bound now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} on {host} is already in use; choose another with --port"
                ) from None
            raise PortInUseError(f"cannot listen on {host}:{port}: {e.strerror}") from None


def server_command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, app: str = APP) -> list[str]:
    """The command line of a Solara server for module ``app`` (production mode, no browser
    opened); the UI's by default, the workshop's with ``app="sim.workshop.app"``."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        app,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]


def server_environment(
    scenario: str = "baseline", base: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment of the server: offline assets, no telemetry, the scenario to open.

    Parameters
    ----------
    scenario
        Name or path of the scenario each new session opens (a path is made absolute).
    base
        Environment to extend (default ``os.environ``).
    """
    from sim.scenario import find_scenario
    from sim.ui.assets import prepare_assets, solara_environment

    source = scenario
    if Path(scenario).suffix == ".toml" or len(Path(scenario).parts) > 1:
        source = str(find_scenario(scenario).resolve())
    env = dict(os.environ if base is None else base)
    env.update(solara_environment(prepare_assets()))
    env[SCENARIO_ENV] = source
    return env


def serve(scenario: str = "baseline", host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the UI until interrupted; return the server's exit code.

    Raises
    ------
    sim.ScenarioError
        The scenario does not load.
    PortInUseError
        The port is taken.
    sim.ui.assets.AssetsError
        The offline assets are not installed.
    """
    from sim.scenario import load_scenario

    load_scenario(scenario)
    check_port(host, port)
    env = server_environment(scenario)
    shown = f"[{host}]" if ":" in host else host
    print(f"cxsim ui: {scenario} on http://{shown}:{port}  (Ctrl-C stops)", flush=True)
    return run_server(server_command(host, port), env, "cxsim ui")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` to the server and everything it started (its process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(process.pid, signum)
        else:  # pragma: no cover - no process groups
            process.send_signal(signum)


def run_server(command: Sequence[str], env: dict[str, str], name: str, grace: float = 10.0) -> int:
    """Run a server child until it exits, or until this process is told to stop.

    The child runs in a process group of its own. SIGINT, SIGTERM or SIGHUP to this process
    (Ctrl-C, a process manager, ``kill``, a closed terminal) sends SIGTERM to that group, waits up
    to ``grace`` seconds for it to exit, then kills it, so the port is free when this returns.

    Parameters
    ----------
    command
        The server's command line (:func:`server_command`).
    env
        Its environment.
    name
        How the stop is reported on stderr, e.g. ``"cxsim ui"``.
    grace
        Seconds the server has to exit after SIGTERM before it is killed.

    Returns
    -------
    int
        0 when stopped by a signal, else the server's own exit code.
    """
    stop: list[int] = []
    process: subprocess.Popen | None = None

    def on_signal(signum: int, _frame: object) -> None:
        if not stop and process is not None:
            _signal_group(process, signal.SIGTERM)
        stop.append(signum)

    main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS} if main_thread else {}
    try:
        process = subprocess.Popen(command, env=env, start_new_session=True)
        if stop:  # a signal arrived before ``process`` was set
            _signal_group(process, signal.SIGTERM)
        deadline = None
        while True:
            try:
                code = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stop and deadline is None:
                    deadline = time.monotonic() + grace
                if deadline is not None and time.monotonic() > deadline:
                    _signal_group(process, signal.SIGKILL)
                    code = process.wait()
                    break
    finally:
        if process is not None and process.poll() is None:  # an error in this process
            _signal_group(process, signal.SIGKILL)
            process.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stop:
        print(f"{name}: stopped ({signal.Signals(stop[0]).name})", file=sys.stderr, flush=True)
        return 0
    return code
