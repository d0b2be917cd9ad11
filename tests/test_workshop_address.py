"""Where participants open the workshop (sim.workshop.address): the facilitator's page says it."""

from __future__ import annotations

import pytest

from sim.workshop import address
from sim.workshop.address import ADDRESS_ENV, join_addresses, served_at
from sim.workshop.presentation import join_html


def test_a_server_on_this_computer_only_says_how_to_open_it_to_the_room() -> None:
    where = join_addresses("127.0.0.1", 8766)
    assert where.urls == ["http://127.0.0.1:8766"]
    assert "--host 0.0.0.0 --port 8766" in where.note
    assert join_addresses("localhost", 9000).urls == ["http://localhost:9000"]


def test_a_server_on_every_interface_gives_this_computers_addresses(monkeypatch) -> None:
    monkeypatch.setattr(address, "local_addresses", lambda: ["192.168.1.20", "10.0.0.7"])
    where = join_addresses("0.0.0.0", 8766)
    assert where.urls == ["http://192.168.1.20:8766", "http://10.0.0.7:8766"]
    assert "same network" in where.note
    monkeypatch.setattr(address, "local_addresses", lambda: [])
    alone = join_addresses("0.0.0.0", 8766)
    assert alone.urls == ["http://127.0.0.1:8766"] and "no network address" in alone.note


def test_a_named_host_is_the_address_and_ipv6_is_bracketed() -> None:
    assert join_addresses("192.168.1.20", 80).urls == ["http://192.168.1.20:80"]
    assert join_addresses("fd00::5", 8766).urls == ["http://[fd00::5]:8766"]
    assert "--host" in join_addresses("::1", 8766).note  # loopback, IPv6


def test_local_addresses_are_never_loopback() -> None:
    found = address.local_addresses()
    assert all(not ip.startswith("127.") and ip != "0.0.0.0" for ip in found)
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:8766", ("127.0.0.1", 8766)), ("[::1]:80", ("::1", 80)), ("", None), ("x", None)],
)
def test_the_server_is_told_where_it_listens(monkeypatch, value, expected) -> None:
    monkeypatch.setenv(ADDRESS_ENV, value)
    assert served_at() == expected


def test_cxsim_workshop_passes_its_address_to_the_server(tmp_path) -> None:
    from sim.workshop.cli import server_environment

    env = server_environment(tmp_path / "rooms.sqlite", {}, host="0.0.0.0", port=9000)
    assert env[ADDRESS_ENV] == "0.0.0.0:9000"
    assert ADDRESS_ENV not in server_environment(tmp_path / "rooms.sqlite", {})


def test_the_line_names_the_addresses_and_the_code_escaped() -> None:
    line = join_html("ABC234", ["http://10.0.0.7:8766", "http://[fd00::5]:8766"], "a <note>")
    assert 'data-urls="http://10.0.0.7:8766 http://[fd00::5]:8766"' in line
    assert "<b>http://10.0.0.7:8766</b> or <b>http://[fd00::5]:8766</b>" in line
    assert "<b>ABC234</b>" in line and "a &lt;note&gt;" in line
