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
from pathlib import Path

import pytest

from tests.processes import alive, children
from tests.ui_helpers import free_port

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


def _wait_ready(process: subprocess.Popen, port: int, log: Path, timeout: float = 120.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, f"cxsim exited early:\n{log.read_text()[-3000:]}"
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise TimeoutError(f"no answer on port {port} in {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads children from /proc")
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("command", ["ui", "workshop"])
def test_a_stop_signal_stops_the_server_and_frees_the_port(
    command: str, signum: int, tmp_path: Path
) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "sim.cli", command, "--port", str(port)]
    if command == "workshop":
        argv += ["--db", str(tmp_path / "rooms.sqlite")]
    log = tmp_path / "cxsim.log"
    with log.open("w") as out:
        cxsim = subprocess.Popen(argv, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    servers: list[int] = []
    try:
        _wait_ready(cxsim, port, log)
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
