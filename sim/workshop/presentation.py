"""How the workshop page presents a room: tables as HTML, charts as ECharts options, its CSS.

Pure functions from the plain data :class:`~sim.workshop.room.Workshop` returns (leaderboard rows,
debrief and own-history replays) to HTML strings and chart options; the Solara components that
place them on the page are in :mod:`sim.workshop.app`.

This module works on plain data: it must never import the model or the room's state.
"""

from __future__ import annotations

import html
from typing import Any

from sim.workshop.retention import PRIOR_WEEKS

__all__ = [
    "BOARD_COLUMNS",
    "CSS",
    "DEBRIEF_CHARTS",
    "OWN_CHARTS",
    "board_html",
    "choice_text",
    "choices_html",
    "debrief_options",
    "own_options",
    "participants_html",
    "ranking_note",
]

CSS = """
.cx-ws { max-width: 1500px; }  /* a projector (1920 wide) gets wider charts */
.cx-ws-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
  gap: 14px; }
.cx-ws-code { font-size: 34px; font-weight: 700; letter-spacing: 0.12em; color: #1a73e8; }
.cx-ws-note { font-size: 12px; color: #5f6368; display: block; line-height: 1.4; }
.cx-ws-secret { font-family: monospace; font-size: 13px; background: #f1f3f4; padding: 2px 6px;
  border-radius: 3px; word-break: break-all; }
.cx-ws-table { border-collapse: collapse; font-size: 14px; margin: 6px 0 14px 0; }
.cx-ws-board, .cx-ws-choices { display: block; overflow-x: auto; max-width: 100%; }
.cx-ws-kept { color: #80868b; font-style: italic; }
.cx-ws-table th, .cx-ws-table td { border-bottom: 1px solid #e0e0e0; padding: 5px 12px;
  text-align: right; white-space: nowrap; }
.cx-ws-table th:nth-child(-n+2), .cx-ws-table td:nth-child(-n+2) { text-align: left; }
.cx-ws-table th { background: #f5f5f5; font-weight: 600; }
.cx-ws-me { background: #e8f0fe; font-weight: 600; }
.cx-ws-board th[data-sort] { cursor: pointer; user-select: none; }
.cx-ws-board th[data-sort]:hover { background: #e8eaed; }
.cx-ws-board th.cx-ws-sorted { background: #e8f0fe; color: #174ea6; }
.cx-ws-secret-row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.cx-ws-error { color: #b00020; font-size: 13px; display: block; }
.cx-ws-charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px;
  margin: 6px 0 10px 0; }
.cx-ws-charts > * { min-width: 0; border: 1px solid #e0e0e0; border-radius: 4px; }
.cx-ws-actions { flex-wrap: wrap; row-gap: 8px; }  /* buttons wrap on a phone */
.cx-ws-address { font-size: 15px; margin: 4px 0 8px 0; }
.cx-ws-address b { font-family: monospace; font-size: 16px; color: #174ea6; }
.cx-ws-choices td, .cx-ws-choices th { text-align: left !important; white-space: normal;
  font-size: 13px; vertical-align: top; }
"""

DEBRIEF_CHARTS = (
    ("customers", "Customers", "customers", 1.0, (0, None)),
    ("share", "Market share", "%", 1.0, (0, None)),
    ("trust", "Trust", "trust (0-1)", 1.0, (0, 1)),
    ("nps", "NPS", "NPS", 1.0, (-100, 100)),
)
"""The debrief's charts: series, title, y-axis name, scale, y limits."""
OWN_CHARTS = (
    ("customers", "Your customers", "customers", 1.0, (0, None)),
    ("retention", "Your retention (annual)", "%", 100.0, (0, 100)),
    ("nps", "Your NPS", "NPS", 1.0, (-100, 100)),
    ("profit", "Your profit per week", "money", 1.0, (None, None)),
)
"""A participant's charts of their own firm (same layout as :data:`DEBRIEF_CHARTS`)."""


def join_html(code: str, urls: list[str], note: str) -> str:
    """The line that tells the room where to open the workshop and which code to enter (the
    server's addresses, ``sim.workshop.address.join_addresses``)."""
    links = " or ".join(f"<b>{html.escape(u)}</b>" for u in urls)
    return (
        f'<p class="cx-ws-address" data-urls="{html.escape(" ".join(urls))}">Participants open '
        f"{links}, choose <i>Join a workshop</i> and enter the code <b>{html.escape(code)}</b>"
        f'<span class="cx-ws-note">{html.escape(note)}</span></p>'
    )


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else spec.format(value)


BOARD_COLUMNS = (
    ("value", "long-run value", "{:,.0f}"),
    ("customers", "customers", "{:,.0f}"),
    ("share", "share", "{:.1f}%"),
    ("retention", "annual retention", "{:.1%}"),
    ("nps", "NPS", "{:+.0f}"),
    ("trust", "trust", "{:.2f}"),
    ("clv", "lifetime value a customer", "{:,.0f}"),
    ("profit", "profit this round", "{:,.0f}"),
    ("cash", "cash", "{:,.0f}"),
)
"""The leaderboard's sortable columns after # and firm: ``(key, header, format)``."""


def board_html(rows: list[dict[str, Any]], me: int | None = None, sort: str = "value") -> str:
    """The leaderboard as an HTML table (``me``: the viewer's firm, highlighted).

    Every column header but # and firm carries ``data-sort=<key>`` (a click sorts by it, see
    :class:`sim.ui.html_widget.ClickableHTML`); the header of ``sort`` is marked.
    """
    head = ['<th data-col="rank">#</th>', '<th data-col="name">firm</th>']
    for key, label, _ in BOARD_COLUMNS:
        mark = ' class="cx-ws-sorted"' if key == sort else ""
        arrow = " ▼" if key == sort else ""
        head.append(
            f'<th data-sort="{key}"{mark} title="sort by {label}">'
            f'<span class="cx-ws-sort">{label}{arrow}</span></th>'
        )
    body = []
    for row in rows:
        cells = [
            f'<td data-col="rank">{row["rank"]}</td>',
            f'<td data-col="name">{html.escape(row["name"])}</td>',
        ]
        cells += [
            f'<td data-col="{key}">{_fmt(row.get(key), spec)}</td>'
            for key, _, spec in BOARD_COLUMNS
        ]
        cls = ' class="cx-ws-me"' if row["firm"] == me else ""
        body.append(
            f'<tr{cls} data-firm="{row["firm"]}" data-customers="{row["customers"]:.0f}">'
            + "".join(cells)
            + "</tr>"
        )
    return (
        f'<table class="cx-ws-table cx-ws-board" data-sort="{sort}"><tr>{"".join(head)}</tr>'
        f"{''.join(body)}</table>"
    )


def ranking_note(sort: str, valued: bool = True) -> str:
    """The line under the leaderboard's title: what it is ranked by (``value``: the default;
    ``valued`` False when no firm has a long-run value yet, which ranks by customers)."""
    value = (
        "customers × what a customer is worth over the time they stay (lifetime value, from "
        "this round's margin and retention)"
    )
    if sort == "value" and not valued:
        return (
            f"Ranked by customers until week {PRIOR_WEEKS}: long-run value ({value}) needs a "
            "quarter of churn. Click a column to rank by it."
        )
    if sort == "value":
        return f"Ranked by long-run value: {value}. Click a column to rank by it."
    label = next(label for key, label, _ in BOARD_COLUMNS if key == sort)
    return f"Ranked by {label}. Click long-run value for the default ranking ({value})."


def choice_text(c: dict[str, Any]) -> str:
    """A firm's choices in one line: promise, focus, marketing, capacity, disclosure."""
    return (
        f"promise {c['promise_level']:+.0%} · {c['focus']} · marketing {c['marketing']:.0%}"
        f" · capacity {c.get('capacity_share', 0.3):.0%}"
        f"{' · discloses' if c['disclose'] else ''}"
    )


def debrief_options(
    debrief: dict[str, Any], charts: tuple = DEBRIEF_CHARTS, prefix: str = "debrief"
) -> list[tuple[str, dict[str, Any]]]:
    """The debrief's ECharts options, ``(name, option)``: one line per firm against weeks, a
    dashed line at each round's end labelled with the round, the firms' choices of each round
    in the tooltip. ``charts`` and ``prefix`` choose the charts and their names."""
    from sim.ui.charts import firm_colours

    colours = firm_colours(len(debrief["firms"]))
    ends = [r["end_week"] for r in debrief["rounds"]]
    out = []
    for column, title, y_name, scale, (low, high) in charts:
        source = [
            [
                week,
                *(None if f[column][i] is None else f[column][i] * scale for f in debrief["firms"]),
            ]
            for i, week in enumerate(debrief["weeks"])
        ]
        series: list[dict[str, Any]] = [
            {
                "type": "line",
                "name": f["name"],
                "encode": {"x": 0, "y": i + 1},
                "showSymbol": False,
                "color": colours[i],
                "lineStyle": {"width": 2},
            }
            for i, f in enumerate(debrief["firms"])
        ]
        if series:
            series[0]["markLine"] = {
                "silent": True,
                "symbol": "none",
                "lineStyle": {"type": "dashed", "color": "#888", "width": 1},
                "label": {"position": "insideEndTop", "color": "#555", "fontSize": 11},
                "data": [
                    {"xAxis": r["end_week"], "label": {"formatter": f"R{r['round']}"}}
                    for r in debrief["rounds"]
                ],
            }
        y_axis: dict[str, Any] = {
            "type": "value",
            "name": y_name,
            "nameTextStyle": {"align": "left", "color": "#555"},
        }
        if low is not None:
            y_axis["min"] = low
        if high is not None:
            y_axis["max"] = high
        out.append(
            (
                f"{prefix}-{column}",
                {
                    "animation": False,
                    "title": {
                        "text": title,
                        "left": 6,
                        "top": 4,
                        "textStyle": {"fontSize": 13, "fontWeight": 600, "color": "#333"},
                    },
                    # one scrolling line under the title: a dozen firms' names wrapped to six
                    # lines over the title and the lines (a facilitator's review)
                    "legend": {
                        "type": "scroll",
                        "top": 26,
                        "left": 6,
                        "right": 10,
                        "textStyle": {"fontSize": 11},
                    },
                    "grid": {
                        "left": 10,
                        "right": 22,
                        "top": 76,  # the y axis's name sits above it, under the legend
                        "bottom": 28,
                        "containLabel": True,
                    },
                    "tooltip": {"trigger": "axis", "confine": True, "order": "valueDesc"},
                    "xAxis": {
                        "type": "value",
                        "name": "week",
                        "nameLocation": "middle",
                        "nameGap": 24,
                        "min": 0,
                        "max": max(ends) if ends else 1,
                        "axisLine": {"onZero": False},
                    },
                    "yAxis": y_axis,
                    "dataset": {"source": source},
                    "series": series,
                },
            )
        )
    return out


def own_options(own: dict[str, Any], firm_count: int = 1) -> list[tuple[str, dict[str, Any]]]:
    """A participant's charts (:data:`OWN_CHARTS`) from :meth:`Workshop.own_history`: their
    firm's line only, in its leaderboard colour, with the round ends marked."""
    from sim.ui.charts import firm_colours

    options = debrief_options(
        {
            "firms": [{"name": own["name"], **own["series"]}],
            "weeks": own["weeks"],
            "rounds": own["rounds"],
        },
        OWN_CHARTS,
        "own",
    )
    colour = firm_colours(max(firm_count, own["firm"] + 1))[own["firm"]]
    for _, option in options:
        option["series"][0]["color"] = colour
        option["legend"] = {"show": False}
    return options


def choices_html(debrief: dict[str, Any]) -> str:
    """Per round (a row), each firm's choices and customers at the round's end (a column);
    "kept:" marks a firm whose participant did not act that round (its last choices ran)."""
    head = "".join(f"<th>{html.escape(f['name'])}</th>" for f in debrief["firms"])
    body = []
    for r in debrief["rounds"]:
        results = {row["firm"]: row for row in r["results"]}
        cells = []
        for c in r["choices"]:
            res = results.get(c["firm"])
            after = "" if res is None else f"<br><b>{res['customers']:,.0f}</b> customers"
            kept = "" if c.get("acted", True) else '<span class="cx-ws-kept">kept: </span>'
            cells.append(
                f'<td data-firm="{c["firm"]}" data-acted="{str(c.get("acted", True)).lower()}">'
                f"{kept}{html.escape(choice_text(c))}{after}</td>"
            )
        body.append(
            f'<tr data-round="{r["round"]}"><td>R{r["round"]}<br>weeks '
            f"{r['end_week'] - debrief['weeks_per_round'] + 1}-{r['end_week']}</td>"
            + "".join(cells)
            + "</tr>"
        )
    return (
        '<table class="cx-ws-table cx-ws-choices"><tr><th>round</th>'
        f"{head}</tr>{''.join(body)}</table>"
    )


def participants_html(participants: list[dict[str, Any]], phase: str, choices: bool) -> str:
    """The facilitator's table of participants: who has acted this round and, with
    ``choices``, each firm's current choices (hidden by default: the page may be projected,
    and no firm sees another's choices before the debrief)."""
    head = "<th>#</th><th>name</th><th>this round</th>"
    if choices:
        head += "<th>promise</th><th>focus</th><th>marketing</th><th>capacity</th><th>disclose</th>"
    rows = []
    for p in participants:
        acted = "✔ acted" if p["acted"] else ("waiting" if phase == "open" else "")
        cells = f"<td>{p['firm'] + 1}</td><td>{html.escape(p['name'])}</td>"
        cells += f'<td class="cx-ws-acted">{acted}</td>'
        if choices:
            c = p["choice"]
            cells += (
                f"<td>{c['promise_level']:+.0%}</td><td>{html.escape(c['focus'])}</td>"
                f"<td>{c['marketing']:.0%}</td><td>{c['capacity_share']:.0%}</td>"
                f"<td>{'yes' if c['disclose'] else 'no'}</td>"
            )
        rows.append(f'<tr data-firm="{p["firm"]}">{cells}</tr>')
    return (
        f"<h3>Participants ({len(participants)})</h3>"
        f'<table class="cx-ws-table cx-ws-participants"><tr>{head}</tr>{"".join(rows)}</table>'
    )
