"""``cxsim ui [--host H] [--port P] [scenario]``: start the browser UI.

Registered by :mod:`sim.cli` through :func:`register`. Problems the user can fix (a scenario that
does not load, a port in use, missing offline assets) are one line and exit code 2.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["cmd_ui", "register"]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 1..65535, got {value}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``ui`` subcommand."""
    from sim.ui.server import DEFAULT_HOST, DEFAULT_PORT

    ui = subparsers.add_parser(
        "ui",
        help="start the browser UI (explore, inspect, compare, export)",
        description="Serve the strategist's browser UI with Solara. It works with no internet "
        "and listens on 127.0.0.1 unless --host says otherwise.",
    )
    ui.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        help="scenario to open (name or .toml path; default: baseline)",
    )
    ui.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)",
    )
    ui.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})"
    )
    ui.set_defaults(func=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    """Run the UI server until Ctrl-C."""
    from sim.cli import CliError
    from sim.ui.assets import AssetsError
    from sim.ui.server import PortInUseError, serve

    try:
        return serve(args.scenario, host=args.host, port=args.port)
    except (PortInUseError, AssetsError) as e:
        raise CliError(str(e)) from None
