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
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import alive, children
from tests.ui_helpers import free_port, served_by

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


def _wait_ready(one: Started, timeout: float = 120.0) -> None:
    """Wait until ``one``'s server answers on its port; if another process took the port
    before the server bound it (it answers first, :func:`~tests.ui_helpers.served_by`, or the
    server finds the address in use), start ``one`` again on another port (at most three
    times)."""
    started = time.monotonic()
    restarts = 0

    def again(why: str) -> int:
        assert restarts < 3, f"port {one.port}: {why}:\n{one.log.read_text()[-3000:]}"
        for pid in [*children(one.process.pid), one.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        one.process.wait(timeout=10)
        one.launch()
        return restarts + 1

    while time.monotonic() - started < timeout:
        if one.process.poll() is not None:
            said = one.log.read_text()[-3000:]
            assert "address already in use" in said.lower(), f"cxsim exited early:\n{said}"
            restarts = again("address already in use")
            continue
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{one.port}/", timeout=2) as response:
                if response.status == 200:
                    if served_by(one.port, one.process.pid):
                        return
                    restarts = again("another process answers")
        time.sleep(0.3)
    raise TimeoutError(
        f"no answer on port {one.port} in {timeout} s:\n{one.log.read_text()[-3000:]}"
    )


COMMANDS = ["ui", "workshop"]


class Started:
    """A ``cxsim COMMAND --port PORT`` started in a folder of its own, its output in a log."""

    def __init__(self, command: str, folder: Path) -> None:
        self.command, self.folder = command, folder
        self.log = folder / "cxsim.log"
        self.log.write_text("")
        self.launch()

    def launch(self) -> None:
        """Start it on a port free now."""
        self.port = free_port()
        argv = [sys.executable, "-m", "sim.cli", self.command, "--port", str(self.port)]
        if self.command == "workshop":
            argv += ["--db", str(self.folder / "rooms.sqlite")]
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                argv, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT
            )


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
            if one.process.poll() is not None:
                continue
            for pid in [*children(one.process.pid), one.process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            one.process.wait(timeout=10)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads children from /proc")
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_stop_signal_stops_the_server_and_frees_the_port(
    command: str, signum: int, started: dict[tuple[str, int], Started]
) -> None:
    one = started[command, signum]
    _wait_ready(one)
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
