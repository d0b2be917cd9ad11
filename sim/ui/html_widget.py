"""HTML whose marked elements report clicks: a table with sortable headers, without a framework.

``solara.HTML`` shows markup but cannot say what was clicked. :class:`ClickableHTML` renders the
same markup and, on a click inside an element carrying ``data-sort="<key>"`` (a table header),
calls ``on_click(key)`` on the server. The markup travels as one string (cheap to redraw), and
the elements keep their own attributes, so tests find rows and cells as before.

This module must never import the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipyvuetify
import solara
import traitlets

__all__ = ["ClickableHTML", "clickable_html"]

TEMPLATE = r"""
<template>
  <div v-bind="attributes" v-html="html" @click="clicked" @keydown.enter="clicked"></div>
</template>
<script>
module.exports = {
  methods: {
    clicked(event) {
      const target = event.target.closest("[data-sort]");
      if (target && this.$el.contains(target)) this.report_click(target.dataset.sort);
    },
  },
};
</script>
"""


class ClickableHTML(ipyvuetify.VuetifyTemplate):
    """``html`` as markup; a click in an element with ``data-sort`` calls ``on_click(key)``."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    html = traitlets.Unicode("").tag(sync=True)
    attributes = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    def vue_report_click(self, key: Any) -> None:
        """Browser click on a ``data-sort`` element."""
        if self.on_click is not None and isinstance(key, str):
            self.on_click(key)


def clickable_html(
    html: str, on_click: Callable[[str], None], attributes: dict[str, str] | None = None
) -> solara.Element:
    """The reacton element of one :class:`ClickableHTML`."""
    return ClickableHTML.element(html=html, on_click=on_click, attributes=attributes or {})
