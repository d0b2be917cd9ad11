"""Where participants open the workshop: the server's address as other computers reach it.

``cxsim workshop --host H --port P`` passes ``H:P`` to its server in :data:`ADDRESS_ENV`, and
the facilitator's page tells the room which address to open (:func:`join_addresses`). A server
that listens on this computer only (the default, 127.0.0.1) cannot be reached from the
participants' laptops, and the page says how to start it so that it can; one that listens on
every interface (``--host 0.0.0.0``) is reached at this computer's own addresses on the local
network, which the facilitator would otherwise have to look up.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import NamedTuple

__all__ = ["ADDRESS_ENV", "JoinAddress", "join_addresses", "local_addresses", "served_at"]

ADDRESS_ENV = "CXSIM_WORKSHOP_ADDRESS"
"""Environment variable holding the ``host:port`` the workshop's server listens on."""

ALL_INTERFACES = ("0.0.0.0", "::", "")
LOOPBACK_NAMES = ("localhost",)


class JoinAddress(NamedTuple):
    """The addresses participants open, and who can reach them."""

    urls: list[str]
    """The addresses to open, best first."""
    note: str
    """One sentence for the facilitator: who can reach them, or how to make them reachable."""


def served_at() -> tuple[str, int] | None:
    """``(host, port)`` the server listens on, from :data:`ADDRESS_ENV`; None if not set (a
    server not started by ``cxsim workshop``) or not ``host:port``."""
    value = os.environ.get(ADDRESS_ENV, "")
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def local_addresses() -> list[str]:
    """This computer's IPv4 addresses other computers may reach, not loopback: the one its
    default route leaves by first (found by connecting a UDP socket, which sends nothing),
    then the others its host name resolves to."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet: a UDP connect only picks a route
            found.append(s.getsockname()[0])
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found += [str(info[4][0]) for info in infos]
    except OSError:
        pass
    out: list[str] = []
    for ip in found:
        if ip not in out and not ipaddress.ip_address(ip).is_loopback and ip != "0.0.0.0":
            out.append(ip)
    return out


def join_addresses(host: str, port: int) -> JoinAddress:
    """The addresses participants open for a server listening on ``host:port``.

    Examples
    --------
    >>> join_addresses("127.0.0.1", 8766).urls
    ['http://127.0.0.1:8766']
    >>> join_addresses("192.168.1.20", 8766).urls
    ['http://192.168.1.20:8766']
    """
    if _is_loopback(host):
        return JoinAddress(
            [_url(host, port)],
            "this server listens on this computer only: for participants on other computers, "
            f"start it with cxsim workshop --host 0.0.0.0 --port {port}",
        )
    if host in ALL_INTERFACES:
        urls = [_url(ip, port) for ip in local_addresses()]
        if not urls:
            return JoinAddress(
                [_url("127.0.0.1", port)],
                "this computer has no network address other computers can reach: connect it "
                "to the room's network",
            )
        return JoinAddress(urls, "on the same network as this computer")
    return JoinAddress([_url(host, port)], "on a network that reaches this address")
