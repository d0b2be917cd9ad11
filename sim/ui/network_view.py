"""The network view: customers as nodes coloured by satisfaction, supplier or expectation.

Up to :data:`DRAW_MAX` customers every node is drawn; above that a uniform random sample of
:data:`DRAW_MAX` customers (fixed by the scenario's seed and size, so it survives a rebuild) is
drawn with the ties among them, and the view says so. The same customers are the ones whose
history the model records, so every node one can click opens a full story on the Inspect page.

Positions come from a vectorized Fruchterman-Reingold layout (float32 numpy, about 0.2 s for
1,000 nodes), cached by graph, so a rebuilt model with the same network is not laid out again.
Drawing is two ECharts canvases stacked: the ties (sent once per model: they do not change) and
the nodes on top (one small ``[x, y, value, customer]`` row per node, redrawn each frame and
coloured in the browser by a ``visualMap`` that is also the legend).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
import solara

from sim.ui.charts import Chart, firm_colours
from sim.ui.echarts_widget import dumps, node_tooltip_hook

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.ui.state import SessionState

__all__ = [
    "COLOUR_MODES",
    "DRAW_MAX",
    "EDGE_MAX",
    "NetworkNodes",
    "NetworkPicture",
    "NetworkView",
    "clicked_customer",
    "colour_scale",
    "drawn_customers",
    "induced_edges",
    "layout",
    "network_picture",
    "node_values",
    "nodes_option",
    "ties_option",
    "tooltip_for",
]

DRAW_MAX = 1000
"""Most customers drawn; larger markets show a uniform random sample of this many."""

EDGE_MAX = 5000
"""Most ties drawn; more are thinned to a uniform random subset of this many."""

COLOUR_MODES = {
    "satisfaction": "satisfaction (0-10)",
    "supplier": "supplier",
    "expectation": "expectation (weighted, 0-1)",
}
"""What nodes can be coloured by, and how the legend names it."""

UNSERVED = "#c8c8c8"
"""Colour of a customer with no supplier in the industry shown."""

_LAYOUTS: OrderedDict[str, np.ndarray] = OrderedDict()
_LAYOUT_CACHE_SIZE = 16


def drawn_customers(n: int, seed: int) -> np.ndarray:
    """The customers the network view draws: all of them, or a uniform random sample.

    Parameters
    ----------
    n
        Customers in the market.
    seed
        The scenario's seed (the sample is a function of ``seed`` and ``n`` only).

    Returns
    -------
    numpy.ndarray
        Sorted customer indices, at most :data:`DRAW_MAX` of them.
    """
    if n <= DRAW_MAX:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng([int(seed), int(n), 0x5EED])
    return np.sort(rng.choice(n, size=DRAW_MAX, replace=False)).astype(np.int64)


def induced_edges(
    indptr: np.ndarray,
    indices: np.ndarray,
    ids: np.ndarray,
    n: int,
    max_edges: int = EDGE_MAX,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Ties among the customers ``ids``, as positions into ``ids``.

    Parameters
    ----------
    indptr, indices
        The network in CSR form (``model.adjacency``).
    ids
        Sorted customer indices.
    n
        Customers in the market.
    max_edges
        Most ties returned; more are thinned uniformly at random.
    seed
        Seed of the thinning.

    Returns
    -------
    u, v, total
        Endpoints (``u < v``, positions into ``ids``) and the number of ties before thinning.
    """
    local = np.full(n, -1, dtype=np.int64)
    local[ids] = np.arange(len(ids))
    starts = indptr[ids].astype(np.int64)
    counts = (indptr[ids + 1] - indptr[ids]).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, 0
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    cols = indices[np.arange(total) + offsets].astype(np.int64)
    rows = np.repeat(np.arange(len(ids)), counts)
    other = local[cols]
    keep = (other >= 0) & (rows < other)
    u, v = rows[keep], other[keep]
    found = len(u)
    if found > max_edges:
        pick = np.sort(np.random.default_rng(seed).choice(found, size=max_edges, replace=False))
        u, v = u[pick], v[pick]
    return u, v, found


def layout(n: int, u: np.ndarray, v: np.ndarray, iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Fruchterman-Reingold positions in the unit square (cached by graph).

    Repulsion between all pairs is computed with matrix products in float32; attraction along
    the ties with ``bincount``. ``O(n^2)`` memory per iteration: fine for :data:`DRAW_MAX`.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` float32 positions scaled to 0..1.
    """
    key = hashlib.sha1(
        np.ascontiguousarray(u).tobytes()
        + b"|"
        + np.ascontiguousarray(v).tobytes()
        + f"|{n}|{iterations}|{seed}".encode()
    ).hexdigest()
    cached = _LAYOUTS.get(key)
    if cached is not None:
        _LAYOUTS.move_to_end(key)
        return cached
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2)).astype(np.float32)
    if n > 1:
        k2 = np.float32(1.0 / n)
        k = np.sqrt(k2)
        temperature, cooling = 0.1, 0.1 / (iterations + 1)
        rep = np.empty((n, n), np.float32)
        for _ in range(iterations):
            sq = (pos * pos).sum(1)
            np.matmul(pos, pos.T, out=rep)
            rep *= -2.0
            rep += sq[:, None]
            rep += sq[None, :]
            np.maximum(rep, 1e-6, out=rep)
            np.divide(k2, rep, out=rep)
            np.fill_diagonal(rep, 0.0)
            disp = pos * rep.sum(1)[:, None] - rep @ pos
            if len(u):
                e = pos[u] - pos[v]
                att = e * ((np.sqrt((e * e).sum(1)) + 1e-9) / k)[:, None]
                for d in (0, 1):
                    disp[:, d] += np.bincount(v, att[:, d], n) - np.bincount(u, att[:, d], n)
            length = np.sqrt((disp * disp).sum(1)) + 1e-12
            pos += disp * (np.minimum(length, temperature) / length)[:, None]
            temperature -= cooling
        lo, hi = np.percentile(pos, 0.5, axis=0), np.percentile(pos, 99.5, axis=0)
        pos = np.clip((pos - lo) / np.maximum(hi - lo, 1e-9), -0.02, 1.02).astype(np.float32)
    _LAYOUTS[key] = pos
    if len(_LAYOUTS) > _LAYOUT_CACHE_SIZE:
        _LAYOUTS.popitem(last=False)
    return pos


class NetworkPicture:
    """What is drawn of one model's network: the customers, their ties and positions.

    Attributes
    ----------
    ids
        Customer indices drawn.
    u, v
        Ties drawn, as positions into ``ids``.
    ties_total
        Ties among the drawn customers before thinning.
    pos
        ``(len(ids), 2)`` positions in 0..1.
    caption
        One sentence saying what is shown (all customers, or a sample).
    """

    def __init__(
        self,
        ids: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        ties_total: int,
        pos: np.ndarray,
        caption: str,
    ) -> None:
        self.ids, self.u, self.v, self.ties_total = ids, u, v, ties_total
        self.pos, self.caption = pos, caption
        self.links = [[int(a), int(b)] for a, b in zip(u.tolist(), v.tolist(), strict=True)]
        self.position = {int(c): i for i, c in enumerate(ids.tolist())}


def network_picture(model: CustomerMarket) -> NetworkPicture:
    """The drawn customers, ties and layout of a model's network."""
    n = model.n_customers
    seed = model.scenario.seed
    ids = drawn_customers(n, seed)
    if getattr(model, "adjacency_is_complete", False):
        u = v = np.zeros(0, np.int64)
        total = len(ids) * (len(ids) - 1) // 2
        note = "a complete graph (everyone talks to everyone): ties are not drawn"
    else:
        adj = model.adjacency
        u, v, total = induced_edges(adj.indptr, adj.indices, ids, n, seed=seed)
        note = f"{len(u):,} ties drawn" + (
            f" of the {total:,} among them" if total > len(u) else ""
        )
    pos = layout(len(ids), u, v, seed=seed)
    if len(ids) == n:
        caption = f"All {n:,} customers; {note}."
    else:
        caption = (
            f"A uniform random sample of {len(ids):,} of {n:,} customers; {note}. "
            "Only these customers' histories are recorded."
        )
    return NetworkPicture(ids, u, v, total, pos, caption)


def colour_scale(name: str, n: int = 11, end: float = 1.0) -> list[str]:
    """``n`` hex colours along a matplotlib colormap (low to high), evenly from its start to
    ``end`` (a fraction of the map: below 1 leaves out its last, palest stretch)."""
    from matplotlib import colormaps

    cmap = colormaps[name]
    out = []
    for i in range(n):
        r, g, b = (int(255 * c) for c in cmap(end * i / max(n - 1, 1))[:3])
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return out


_GRID = {"left": 8, "right": 8, "top": 8, "bottom": 58}
_AXIS = {"type": "value", "min": -25, "max": 1025, "show": False}


def node_values(
    model: CustomerMarket, ids: np.ndarray, mode: str, industry: int, firm_colours: list[str]
) -> tuple[np.ndarray, dict[str, Any]]:
    """The value shown for each drawn customer and the ECharts ``visualMap`` that colours it.

    Parameters
    ----------
    model
        The market.
    ids
        Drawn customers.
    mode
        One of :data:`COLOUR_MODES`.
    industry
        Index of the industry whose supplier, satisfaction or expectation is shown.
    firm_colours
        Colour of each firm (for ``supplier``).

    Returns
    -------
    values, visual_map
        The value per node (NaN: no supplier in that industry) and the colour legend.
    """
    cs = model.customer_state
    supplier = cs.supplier[industry, ids]
    base = {
        "dimension": 2,
        "seriesIndex": 0,
        "orient": "horizontal",
        "left": "center",
        "bottom": 4,
        "textStyle": {"fontSize": 11},
    }
    if mode == "supplier":
        values = np.where(supplier >= 0, supplier, np.nan).astype(float)
        firms = [f for f in model.firms if f.industry == model.industries[industry]]
        pieces = [
            {"value": f.index, "label": f.name, "color": firm_colours[f.index]} for f in firms
        ]
        return values, {**base, "type": "piecewise", "pieces": pieces, "itemGap": 6}
    if mode == "satisfaction":
        values = np.where(supplier >= 0, cs.satisfaction[industry, ids], np.nan)
        low, high = 0.0, 10.0
        scale = SATISFACTION_SCALE
    elif mode == "expectation":
        # customers with no supplier there are grey, as in the other modes (the caption and
        # the legend say so): coloured, they read as everyone being a customer
        weighted = np.einsum("nk,nk->n", cs.weights[ids], cs.expectation[industry, ids])
        values = np.where(supplier >= 0, weighted, np.nan)
        ok = values[~np.isnan(values)]
        low = float(np.floor(ok.min() * 20) / 20) if len(ok) else 0.0
        high = float(np.ceil(ok.max() * 20) / 20) if len(ok) else 1.0
        high = max(high, low + 0.05)
        scale = EXPECTATION_SCALE
    else:
        raise ValueError(f"colour mode: expected one of {', '.join(COLOUR_MODES)}, got {mode!r}")
    return values, {
        **base,
        "type": "continuous",
        "min": low,
        "max": high,
        "calculable": False,
        "precision": 1 if high - low >= 2 else 2,
        "inRange": {"color": scale},
        "itemHeight": 200,
        "itemWidth": 12,
        "text": [f"{high:g}", f"{low:g}"],
    }


SATISFACTION_SCALE = colour_scale("RdYlGn")
EXPECTATION_SCALE = colour_scale("viridis")


def ties_option(picture: NetworkPicture) -> dict[str, Any]:
    """The ECharts option of the ties layer (static for a model: sent once)."""
    xy = np.round(picture.pos * 1000, 1).tolist()
    return {
        "animation": False,
        "grid": _GRID,
        "xAxis": _AXIS,
        "yAxis": _AXIS,
        "series": [
            {
                "type": "graph",
                "coordinateSystem": "cartesian2d",
                "silent": True,
                "symbolSize": 0,
                "data": xy,
                "links": [{"source": a, "target": b} for a, b in picture.links],
                "lineStyle": {"color": "#8a9096", "opacity": 0.35, "width": 0.6},
            }
        ],
    }


def nodes_option(
    picture: NetworkPicture,
    values: np.ndarray,
    visual_map: dict[str, Any],
    selected: int | None = None,
    tooltip: dict[str, Any] | None = None,
    suppliers: np.ndarray | None = None,
) -> dict[str, Any]:
    """The ECharts option of the nodes layer (redrawn every frame).

    Each point is ``[x, y, value, customer, supplier]``. Customers with a value are coloured by
    the legend (``visualMap``); those without (no supplier in the industry shown) are a grey
    series. Hovering a node shows that customer's values (:func:`tooltip_for`).

    Parameters
    ----------
    picture
        What to draw (:func:`network_picture`).
    values, visual_map
        From :func:`node_values`.
    selected
        A customer to mark (drawn larger with a dark ring), if drawn.
    tooltip
        The tooltip hook (:func:`tooltip_for`); none: the customer's id only.
    suppliers
        Each drawn customer's supplier in the industry shown (-1: none).
    """
    n = len(picture.ids)
    size = 8 if n <= 300 else (6 if n <= 700 else 5)
    points = np.stack(
        [
            picture.pos[:, 0] * 1000,
            picture.pos[:, 1] * 1000,
            np.nan_to_num(values, nan=-1.0),
            picture.ids.astype(float),
            np.full(n, -1.0) if suppliers is None else np.asarray(suppliers, float),
        ],
        1,
    )
    points = np.round(points, 2)
    has = ~np.isnan(values)
    series: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "name": "customers",
            "symbolSize": size,
            "data": points[has].tolist(),
            "itemStyle": {"opacity": 0.95},
            "emphasis": {"scale": 2.2},
        },
        {
            "type": "scatter",
            "name": "no supplier",
            "symbolSize": size,
            "data": points[~has].tolist(),
            "itemStyle": {"color": UNSERVED, "opacity": 0.9},
            "emphasis": {"scale": 2.2},
        },
    ]
    mark = picture.position.get(selected) if selected is not None else None
    if mark is not None:
        series.append(
            {
                "type": "scatter",
                "symbolSize": size * 3,
                "silent": True,
                "data": [points[mark].tolist()],
                "z": 10,
                "itemStyle": {"color": "rgba(0,0,0,0)", "borderColor": "#111", "borderWidth": 2.5},
            }
        )
    return {
        "animation": False,
        "grid": _GRID,
        "xAxis": _AXIS,
        "yAxis": _AXIS,
        "tooltip": {"trigger": "item", "confine": True, "textStyle": {"fontSize": 12}},
        "cx_node_tooltip": tooltip or node_tooltip_hook([], ""),
        "visualMap": [visual_map],
        "legend": {
            "data": ["no supplier"],
            "left": 4,
            "bottom": 30,
            "itemWidth": 10,
            "textStyle": {"fontSize": 11},
        },
        "series": series,
    }


def tooltip_for(model: CustomerMarket, mode: str, industry: int) -> dict[str, Any]:
    """What hovering a node shows in colour ``mode``: the customer, its supplier in the
    industry shown, and the value it is coloured by (satisfaction 0-10, or its expectation
    weighted by what it cares about, 0-1; the supplier mode shows the supplier only). A
    customer with no supplier there is grey and shows no value."""
    name = model.industries[industry]
    if mode == "satisfaction":
        return node_tooltip_hook(model.firm_names, name, "satisfaction", 1, " of 10")
    if mode == "expectation":
        return node_tooltip_hook(model.firm_names, name, "expectation (weighted)", 2, " of 1")
    return node_tooltip_hook(model.firm_names, name)


def clicked_customer(event: dict[str, Any] | None) -> int | None:
    """The customer a click on the nodes layer hit (None for anything else)."""
    if not event or event.get("componentType") not in (None, "series"):
        return None
    data = event.get("data")
    if isinstance(data, list | tuple) and len(data) >= 4:
        try:
            return round(float(data[3]))
        except (TypeError, ValueError):
            return None
    return None


NETWORK_HEIGHT = 470


@solara.component
def NetworkNodes(
    state: SessionState,
    model: CustomerMarket,
    picture: NetworkPicture,
    ties_json: str,
    frame: int = 0,
) -> None:
    """The two stacked canvases; only the nodes layer changes each frame. ``frame`` (the frame
    number) is what makes it redraw: reacton does not re-render a component whose arguments did
    not change, and the nodes froze after the first step."""
    mode = state.colour_by.value
    industry = min(state.industry.value, len(model.industries) - 1)
    values, visual_map, suppliers = state.read(
        lambda: (
            *node_values(model, picture.ids, mode, industry, firm_colours(len(model.firms))),
            model.customer_state.supplier[industry, picture.ids].copy(),
        )
    )
    nodes = nodes_option(
        picture,
        values,
        visual_map,
        state.customer.value,
        tooltip_for(model, mode, industry),
        suppliers,
    )

    def on_click(event: dict[str, Any]) -> None:
        customer = clicked_customer(event)
        if customer is not None:
            state.inspect_customer(customer)

    with solara.Div(style={"position": "relative", "height": f"{NETWORK_HEIGHT}px"}):
        Chart(ties_json, name="network-ties", height=NETWORK_HEIGHT)
        Chart(
            nodes,
            name="network",
            height=NETWORK_HEIGHT,
            on_click=on_click,
            style="position: absolute; top: 0; left: 0;",
        )


@solara.component
def NetworkView(state: SessionState, model: CustomerMarket, frame: int = 0) -> None:
    """Nodes coloured as chosen, ties beneath; a click on a node inspects that customer."""
    picture = solara.use_memo(lambda: state.read(lambda: network_picture(model)), [model])
    ties_json = solara.use_memo(lambda: dumps(ties_option(picture)), [picture])
    mode = state.colour_by.value
    industry = min(state.industry.value, len(model.industries) - 1)
    with solara.Div(classes=["cx-card-chart", "cx-network"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text("Network", classes=["cx-section-title"])
            solara.ToggleButtonsSingle(
                value=state.colour_by, values=list(COLOUR_MODES), dense=True, classes=["cx-toggle"]
            )
            solara.Select(
                label="industry",
                value=model.industries[industry],
                values=list(model.industries),
                dense=True,
                on_value=lambda name: state.industry.set(model.industries.index(name)),
                style={"max-width": "180px"},
            )
        NetworkNodes(state, model, picture, ties_json, frame)
        solara.Text(
            f"Colour: {COLOUR_MODES[mode]} in {model.industries[industry]} "
            "(grey: no supplier there, or not rated yet). "
            + picture.caption
            + " Click a customer to see its story.",
            classes=["cx-hint", "cx-network-caption"],
        )
