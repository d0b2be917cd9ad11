"""``cxsim ui`` and ``cxsim workshop`` stop their Solara server when they are told to stop.

A process manager, a service unit or a script stops a program with SIGTERM (or SIGHUP, or SIGINT
from Ctrl-C); the Solara server ``cxsim`` started as a child must go with it and free the port,
rather than live on re-parented to init. And loading a page over plain http prints no warning
about samesite cookies (the fallback Solara takes is the right one for a page opened directly).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import alive, children
from tests.ui_helpers import SolaraServer

pytest.importorskip("solara")

pytestmark = pytest.mark.slow

SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


COMMANDS = ["ui", "workshop"]


class Started(SolaraServer):
    """A ``cxsim COMMAND --port PORT`` started in a folder of its own, its output in a log; a
    port another process took first is left to it (:meth:`SolaraServer.wait_ready`)."""

    def __init__(self, command: str, folder: Path) -> None:
        def argv(port: int) -> list[str]:
            line = [sys.executable, "-m", "sim.cli", command, "--port", str(port)]
            return line + (["--db", str(folder / "rooms.sqlite")] if command == "workshop" else [])

        super().__init__(argv, dict(os.environ), folder / "cxsim.log", cwd=folder)


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, int], Started]]:
    """Every command the tests stop, one per signal, all started at once: each spends its few
    seconds of start-up importing on its own (the machine's two cores take them side by side)
    while the others do, instead of one after the other. Each test stops its own."""
    every = {
        (command, signum): Started(command, tmp_path_factory.mktemp(f"{command}-{signum}"))
        for command in COMMANDS
        for signum in SIGNALS
    }
    try:
        yield every
    finally:  # any a test did not stop (not selected, or it failed before): it and its server
        for one in every.values():
            one.stop()


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads children from /proc")
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_stop_signal_stops_the_server_and_frees_the_port(
    command: str, signum: int, started: dict[tuple[str, int], Started]
) -> None:
    one = started[command, signum]
    one.wait_ready(timeout=120)
    cxsim, port, log = one.process, one.port, one.log
    servers: list[int] = []
    try:
        servers = children(cxsim.pid)
        assert servers, "the server should run as a child of cxsim"
        cxsim.send_signal(signum)
        assert cxsim.wait(timeout=60) == 0
        said = log.read_text()
        assert f"stopped ({signal.Signals(signum).name})" in said
        assert "samesite" not in said  # Solara's cookie warning is not ours to show (a page loaded)
        deadline = time.monotonic() + 10
        while any(alive(c) for c in servers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [c for c in servers if alive(c)], "the Solara server outlived cxsim"
        assert _port_free(port), f"port {port} is still held after cxsim stopped"
    finally:
        for pid in [cxsim.pid, *servers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        cxsim.wait(timeout=10)
