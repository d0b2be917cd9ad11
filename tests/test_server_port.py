"""The browser tests' servers: a port another process took first is left to it.

A server is given a port found free, then imports for seconds before it binds it; another
process (a second test session's server on a shared machine) can bind it meanwhile, and the
tests would drive that other server's pages. :class:`tests.ui_helpers.SolaraServer` checks
who listens and starts again on another port."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import ui_helpers
from tests.ui_helpers import SolaraServer, free_port, served_by


@pytest.fixture
def foreign() -> Iterator[int]:
    """A port this test process listens on (a stand-in for another session's server)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_who_listens_on_a_port_is_told_apart(foreign: int) -> None:
    assert served_by(foreign, os.getpid())
    assert served_by(foreign, os.getppid())  # this process descends from its parent
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not served_by(foreign, other.pid)  # a process that listens on nothing
        assert served_by(free_port(), other.pid)  # nobody listens there: nothing to tell
    finally:
        other.kill()
        other.wait()


def stand_in_ready(
    taken: int, wait_first: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """A stand-in server (Python's http.server) given the port ``taken`` first, then a free
    one, waiting ``wait_first`` seconds before it binds the first (a Solara server imports
    for seconds): the port it ends up serving, once ready, and its log."""
    ports = iter([taken, free_port()])
    monkeypatch.setattr(ui_helpers, "free_port", lambda: next(ports))

    def command(port: int) -> list[str]:
        serve = (
            f"import time, http.server as h; time.sleep({wait_first if port == taken else 0}); "
            f"h.test(h.SimpleHTTPRequestHandler, h.HTTPServer, port={port}, bind='127.0.0.1')"
        )
        return [sys.executable, "-c", serve]

    log = tmp_path / "server.log"
    server = SolaraServer(command, dict(os.environ), log, cwd=tmp_path)
    try:
        server.wait_ready(timeout=120)
        assert served_by(server.port, server.process.pid)
        return server.port, log.read_text()
    finally:
        server.stop()


def test_a_server_whose_port_was_taken_starts_again_on_another(
    foreign: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other process answers first: the wait asks who listens."""
    port, said = stand_in_ready(foreign, 60, tmp_path, monkeypatch)
    assert port != foreign
    assert f"port {foreign}: another process answers: starting again" in said


def test_a_server_that_finds_its_port_in_use_starts_again_on_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order of the same race: the server binds first, finds the address in use and
    exits (as Solara does, "[Errno 98] ... address already in use"); the port's holder here
    listens but never answers, so the exit is what the wait sees."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        port, said = stand_in_ready(taken, 0, tmp_path, monkeypatch)
    assert port != taken
    assert "Address already in use" in said  # what the stand-in said when it exited
    assert f"port {taken}: address already in use: starting again" in said


def test_a_server_that_exits_after_a_restart_is_not_taken_for_one_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restarted once for an address in use, a server that then exits for another reason is
    reported as exited: the log's earlier lines (the first launch's error, the restart's own
    line) are not read as its reason."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = iter([taken, free_port()])
        monkeypatch.setattr(ui_helpers, "free_port", lambda: next(ports))

        def command(port: int) -> list[str]:
            if port == taken:  # binds the held port: "Address already in use", exits
                serve = f"import http.server as h; h.HTTPServer(('127.0.0.1', {port}), None)"
            else:
                serve = "import sys; print('no scenario here'); sys.exit(3)"
            return [sys.executable, "-c", serve]

        server = SolaraServer(command, dict(os.environ), tmp_path / "log", cwd=tmp_path)
        try:
            with pytest.raises(RuntimeError, match="the server exited with 3"):
                server.wait_ready(timeout=120)
        finally:
            server.stop()
    said = (tmp_path / "log").read_text()
    assert said.count("starting again") == 1 and "no scenario here" in said
