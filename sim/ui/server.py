"""Starting the UI: offline assets, environment, and the Solara server in production mode.

``cxsim ui`` calls :func:`serve`: it checks the scenario and the port first (so a mistake is one
line, not a traceback), builds the offline asset folder (:mod:`sim.ui.assets`), then runs
``python -m solara run sim.ui.app --production`` bound to ``127.0.0.1`` unless told otherwise,
with Solara's telemetry off. Tests use :func:`server_command` and :func:`server_environment` to
start the same server themselves.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

from sim.scenario import find_scenario, load_scenario
from sim.ui.assets import prepare_assets, solara_environment

__all__ = [
    "APP",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SCENARIO_ENV",
    "PortInUseError",
    "check_port",
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
    load_scenario(scenario)
    check_port(host, port)
    env = server_environment(scenario)
    shown = f"[{host}]" if ":" in host else host
    print(f"cxsim ui: {scenario} on http://{shown}:{port}  (Ctrl-C stops)", flush=True)
    process = subprocess.Popen(server_command(host, port), env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
