"""A scenario's ``[network]`` section: the kinds of network, the keys each uses, its schema
(:class:`NetworkSpec`), the parameters a kind cannot satisfy with the market's customers and
the overrides of keys a kind does not use (:func:`unused_network_keys`).

Building the network from it is :mod:`sim.scenario_check`'s and :mod:`sim.network`'s job; the
rest of the scenario's schema is :mod:`sim.scenario_schema`, which holds a :class:`NetworkSpec`.

This module must never import the model, the rules, the UI or the sweep layer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import model_validator

from sim.params import P, Section
from sim.scenario_blame import normal_key

__all__ = [
    "NETWORK_KEYS",
    "NETWORK_KINDS",
    "NetworkSpec",
    "network_kind",
    "unbuildable",
    "unused_network_keys",
]

NETWORK_KINDS = (
    "watts_strogatz",
    "barabasi_albert",
    "erdos_renyi",
    "stochastic_block",
    "complete",
    "edge_list",
)

NETWORK_KEYS: dict[str, tuple[str, ...]] = {
    "watts_strogatz": ("k", "p"),
    "barabasi_albert": ("m",),
    "erdos_renyi": ("mean_degree",),
    "stochastic_block": ("k_in", "k_out"),
    "complete": (),
    "edge_list": ("path",),
}
"""The ``[network]`` keys each kind uses besides ``kind`` (the others keep their defaults and
are ignored: a resolved scenario carries them all, whatever its kind)."""


class NetworkSpec(Section):
    """The social network customers talk over."""

    kind: Literal[NETWORK_KINDS] = P("watts_strogatz", "graph generator, or edge_list for a file")
    k: int = P(10, "watts_strogatz: neighbours in the ring lattice", "", ge=2)
    p: float = P(0.1, "watts_strogatz: rewiring probability", "", ge=0, le=1)
    m: int = P(5, "barabasi_albert: edges a new node brings", "", ge=1)
    mean_degree: float = P(10.0, "erdos_renyi: mean degree", "", gt=0)
    k_in: float = P(8.0, "stochastic_block: mean neighbours in one's own region", "", ge=0)
    k_out: float = P(2.0, "stochastic_block: mean neighbours in other regions", "", ge=0)
    path: str | None = P(None, "edge_list: path of the file, relative to the scenario file")

    @model_validator(mode="after")
    def _path_for_edge_list(self) -> NetworkSpec:
        if self.kind == "edge_list" and not self.path:
            raise ValueError("kind = 'edge_list' needs path = '<file>'")
        return self


def unbuildable(network: NetworkSpec, n: int, regions: int) -> list[tuple[str, str]]:
    """``(key, message)`` for each network parameter its generator cannot satisfy with ``n``
    customers in ``regions`` regions (``sim.network.generators`` refuses the same values while
    building; said here, a scenario, an override or a flag is refused on load, naming it). The
    messages name ``market.customers`` and ``network.kind``, so that a flag that changed either
    is blamed for the conflict (``sim.scenario_blame.conflict``)."""
    kind = f"for network.kind = {network.kind!r}"
    out = []
    if network.kind == "watts_strogatz" and network.k >= n:
        out.append(("k", f"expected k < market.customers ({n}), got {network.k}"))
    if network.kind == "barabasi_albert" and network.m >= n:
        # a larger m was a memory error building the network
        out.append(("m", f"expected m < market.customers ({n}), got {network.m}"))
    if network.kind == "erdos_renyi" and network.mean_degree > n - 1:
        out.append(
            (
                "mean_degree",
                f"expected mean_degree <= market.customers - 1 ({n - 1}) {kind}, "
                f"got {network.mean_degree}",
            )
        )
    if network.kind == "stochastic_block" and 2 <= regions <= n:
        # region_of gives every region n // regions or -(-n // regions) customers
        fewest, most = n // regions, -(-n // regions)
        split = f"market.customers = {n} over market.regions = {regions}"
        if network.k_in > 0 and network.k_in > fewest - 1:
            out.append(
                (
                    "k_in",
                    f"expected k_in <= {fewest - 1}, the other customers of the smallest region "
                    f"({split}) {kind}, got {network.k_in}",
                )
            )
        if network.k_out > 0 and network.k_out > n - most:
            out.append(
                (
                    "k_out",
                    f"expected k_out <= {n - most}, the customers outside the largest region "
                    f"({split}) {kind}, got {network.k_out}",
                )
            )
    return out


def unused_network_keys(
    overrides: Mapping[str, Any], kinds: Collection[str]
) -> list[tuple[str, str]]:
    """``(override, message)`` for each override of a ``[network]`` key that none of the network
    kinds ``kinds`` uses (:data:`~sim.scenario_network.NETWORK_KEYS`): ``--set network.m=5`` on a
    Watts-Strogatz network would be ignored, the run the same as without it.

    Only overrides are judged, never a file's own ``[network]``: a resolved scenario (``cxsim
    show``, the ``scenario.toml`` of a run) carries every network key whatever its kind, and a
    scenario that ``extends`` another with a different kind inherits the parent's keys.

    Parameters
    ----------
    overrides
        Dotted keys and values, in :func:`sim.scenario.apply_overrides`' forms (a whole
        ``network`` table too).
    kinds
        The network kinds of the markets the overrides reach: the scenario's (after the
        overrides), or each run's of a sweep (a key one of them uses is not refused).
    """
    out = []
    for dotted, value in overrides.items():
        parts = normal_key(dotted).split(".")
        if parts[0] != "network" or len(parts) > 2:
            continue
        names = parts[1:] or (list(value) if isinstance(value, dict) else [])
        for name in names:
            if name in NetworkSpec.model_fields and name != "kind":
                if not any(name in NETWORK_KEYS.get(kind, ()) for kind in kinds):
                    out.append((dotted, _unused_message(name, kinds)))
    return out


def network_kind(overrides: Mapping[str, Any], kind: str) -> str:
    """The network kind of a scenario of kind ``kind`` once ``overrides`` are applied."""
    for dotted, value in overrides.items():
        key = normal_key(dotted)
        if key == "network.kind":
            kind = value
        elif key == "network" and isinstance(value, dict):  # the whole table replaced
            kind = value.get("kind", NetworkSpec.model_fields["kind"].default)
    return kind


def _unused_message(name: str, kinds: Collection[str]) -> str:
    ordered = [k for k in NETWORK_KINDS if k in kinds]
    using = " or ".join(repr(k) for k in NETWORK_KINDS if name in NETWORK_KEYS[k])
    uses = list(dict.fromkeys(key for k in ordered for key in NETWORK_KEYS[k]))
    if len(ordered) == 1:
        said, theirs = f"network.kind = {ordered[0]!r} does not use {name}", "a key it uses"
    else:
        said, theirs = f"no run's network.kind ({', '.join(ordered)}) uses {name}", "a key they use"
    expected = f"{theirs} ({', '.join(uses)})" if uses else f"no network.{name}"
    return f"{said}; expected {expected}, or network.kind = {using} for {name}"
