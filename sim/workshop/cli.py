"""``cxsim workshop [--host H] [--port P] [--db FILE]``: serve the workshop page;
``cxsim workshop export CODE --db FILE --key KEY --out FILE``: write a room's session as JSON.

Registered by :mod:`sim.cli` through :func:`register` (``sim.workshop.cli`` is in its
``COMMAND_MODULES``). The server is Solara in production mode with the offline assets, like
``cxsim ui``, serving :mod:`sim.workshop.app`; rooms are kept in the SQLite file ``--db``
(default ``workshop.sqlite`` in the current folder), so a restarted server carries on every room.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "APP",
    "DEFAULT_PORT",
    "cmd_export",
    "cmd_workshop",
    "register",
    "serve",
    "server_command",
    "server_environment",
]

APP = "sim.workshop.app"
"""The module Solara serves."""
DEFAULT_PORT = 8766
KEY_ENV = "CXSIM_WORKSHOP_KEY"
"""Environment variable that can hold the facilitator key for ``cxsim workshop export``."""


def server_command(host: str, port: int) -> list[str]:
    """The command line of the workshop's Solara server (production mode)."""
    from sim.ui.server import server_command as solara_command

    return solara_command(host, port, app=APP)


def server_environment(
    db: str | Path,
    base: dict[str, str] | None = None,
    host: str | None = None,
    port: int | None = None,
) -> dict[str, str]:
    """Environment of the server: offline assets, no telemetry, the rooms' database and, given
    ``host`` and ``port``, the address it listens on (the facilitator's page shows where
    participants open it: sim.workshop.address)."""
    from sim.ui.assets import prepare_assets, solara_environment
    from sim.workshop.address import ADDRESS_ENV
    from sim.workshop.service import DB_ENV

    env = dict(os.environ if base is None else base)
    env.update(solara_environment(prepare_assets()))
    env[DB_ENV] = str(Path(db).resolve())
    if host is not None and port is not None:
        env[ADDRESS_ENV] = f"{host}:{port}"
    return env


def serve(db: str | Path, host: str, port: int) -> int:
    """Serve the workshop until interrupted; return the server's exit code.

    Raises
    ------
    sim.ui.server.PortInUseError
        The port is taken.
    sim.ui.assets.AssetsError
        The offline assets are not installed.
    """
    from sim.ui.server import check_port, run_server
    from sim.workshop.store import WorkshopStore

    check_port(host, port)
    WorkshopStore(db).close()  # a database that cannot be opened fails here, in one line
    env = server_environment(db, host=host, port=port)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"cxsim workshop: rooms in {Path(db).resolve()} on http://{shown}:{port}  (Ctrl-C stops)",
        flush=True,
    )
    return run_server(server_command(host, port), env, "cxsim workshop")


def register(subparsers: Any) -> None:
    """Add the ``workshop`` subcommand."""
    from sim.ui.cli import _port
    from sim.ui.server import DEFAULT_HOST

    ws = subparsers.add_parser(
        "workshop",
        help="serve workshop mode: a facilitator runs rounds, each participant a firm",
        description="Serve the workshop page with Solara (offline). A facilitator creates a "
        "room and gets a code; participants join with it and each runs a firm in one shared "
        "market, round by round. Rooms are saved in SQLite and survive a restart.",
    )
    ws.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)",
    )
    ws.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})"
    )
    ws.add_argument(
        "--db",
        default="workshop.sqlite",
        help="SQLite file of the rooms (default: workshop.sqlite)",
    )
    ws.set_defaults(func=cmd_workshop)
    sub = ws.add_subparsers(dest="workshop_command", metavar="{export}")
    ex = sub.add_parser(
        "export",
        help="write a room's whole session (settings, participants, choices, results) as JSON",
        description="Write a room's session as JSON: its settings, the participants (names and "
        "firms), every round's choices per firm and every round's leaderboard. Needs the "
        f"facilitator key (--key, or ${KEY_ENV}). Contains no key or token.",
    )
    ex.add_argument("code", help="the room code")
    ex.add_argument(
        "--db",
        default="workshop.sqlite",
        help="SQLite file of the rooms (default: workshop.sqlite)",
    )
    ex.add_argument("--key", default=None, help=f"the facilitator key (default: ${KEY_ENV})")
    ex.add_argument("--out", default="-", help="output file (default: - for standard output)")
    ex.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Write a room's session (:meth:`sim.workshop.room.Workshop.export`) as JSON."""
    import json
    import sqlite3

    from sim.cli import CliError
    from sim.workshop.room import AccessDenied, Workshop, WorkshopError

    key = args.key if args.key is not None else os.environ.get(KEY_ENV, "")
    if not key:
        raise CliError(f"no facilitator key: pass --key KEY or set ${KEY_ENV}")
    if not Path(args.db).is_file():
        raise CliError(f"--db {args.db}: no such file")
    try:
        shop = Workshop(args.db)
    except (sqlite3.Error, OSError, WorkshopError) as e:
        raise CliError(f"--db {args.db}: {e}") from None
    try:
        doc = shop.export(args.code, key)
    except (AccessDenied, WorkshopError) as e:
        raise CliError(str(e)) from None
    finally:
        shop.close()
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as e:
            raise CliError(f"--out {args.out}: {e}") from None
        print(f"cxsim workshop export: room {doc['room']['code']} -> {args.out}")
    return 0


def cmd_workshop(args: argparse.Namespace) -> int:
    """Run the workshop server until Ctrl-C."""
    import sqlite3

    from sim.cli import CliError
    from sim.ui.assets import AssetsError
    from sim.ui.server import PortInUseError

    try:
        return serve(args.db, host=args.host, port=args.port)
    except (PortInUseError, AssetsError) as e:
        raise CliError(str(e)) from None
    except (sqlite3.Error, OSError) as e:
        raise CliError(f"--db {args.db}: {e}") from None
