"""An ECharts widget whose option travels as one JSON string.

``solara.FigureEcharts`` takes the option as a nested dict; at every redraw reacton walks every
prop of every element looking for child elements, and a chart's data (thousands of points) made
that walk cost more than the model step (about 0.2 s a frame at 1,000 customers). A string is a
leaf to reacton, so :class:`EChartsJSON` takes ``option_json`` instead; the browser parses it and
calls ``setOption`` (replacing the previous option). An unchanged string is not sent again, so a
static chart (the network's ties) costs nothing per frame.

:class:`EChartsBoard` goes one step further for pages redrawn every frame: a whole grid of
charts is one widget, so a frame sends one message for all of them (each message costs a
wake-up of the server's event loop, several milliseconds on a busy 2-core machine).

The JavaScript is the same as Solara's ECharts component (ECharts 5.4.0 from Solara's asset
proxy, so it works offline), plus a ``data-chart`` name on the element for tests, a resize
observer, and hooks that turn named option keys into tooltip formatters (JSON carries no
functions; :func:`node_tooltip_hook`, :func:`axis_tooltip_hook`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import ipyvuetify
import numpy as np
import solara
import traitlets

__all__ = [
    "EChartsBoard",
    "EChartsJSON",
    "axis_tooltip_hook",
    "board_element",
    "chart_element",
    "dumps",
    "node_tooltip_hook",
]

_LOADER_METHODS = r"""    load(deps) {
      return this.loadRequire().then(() => {
        if (window.jupyterVue) {
          define("vue", [], () => window.jupyterVue.Vue);
        } else {
          define("vue", ["jupyter-vue"], (jupyterVue) => jupyterVue.Vue);
        }
        return new Promise((resolve, reject) => {
          requirejs(deps, (...modules) => resolve(modules), reject);
        });
      });
    },
    loadRequire() {
      if (window.requirejs) {
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = `${this.getCdn()}/requirejs@2.3.6/require.js`;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    },
    getBaseUrl() {
      if (document.getElementsByTagName("base").length) {
        return "./";
      }
      let base = document.body.dataset.baseUrl || document.baseURI;
      if (!base.endsWith("/")) {
        base += "/";
      }
      return base;
    },
    getCdn() {
      return this.cdn || (window.solara ? window.solara.cdn : `${this.getBaseUrl()}_solara/cdn`);
    },
"""
"""The Vue methods both widgets use to load ECharts through requirejs from Solara's asset server."""

_HOOKS = r"""
// Options travel as JSON, which cannot carry functions: a few named hooks become formatters.
//   cx_node_tooltip: {firms, industry, label, decimals} -> one customer's values on hover
//   cx_axis_tooltip: {suffix: [per series], decimals, x} -> labelled lines on hover
function cxNumber(v, decimals) {
  return (v === null || v === undefined || Number.isNaN(v)) ? "–" : Number(v).toFixed(decimals);
}
function cxPrepare(option) {
  const node = option.cx_node_tooltip;
  if (node) {
    delete option.cx_node_tooltip;
    option.tooltip = Object.assign({}, option.tooltip || {}, {
      formatter: (p) => {
        const d = p.data || [];
        const lines = [`<b>customer ${d[3]}</b>`];
        const supplier = d[4];
        lines.push(supplier >= 0 ? `supplier in ${node.industry}: ${node.firms[supplier]}`
                                 : `no supplier in ${node.industry}`);
        if (node.label && (supplier >= 0 || node.always)) {
          const shown = (d[2] === null || d[2] < 0) ? "not rated yet"
                                                    : cxNumber(d[2], node.decimals) + node.unit;
          lines.push(`${node.label}: ${shown}`);
        }
        return lines.join("<br/>");
      },
    });
  }
  const axis = option.cx_axis_tooltip;
  if (axis) {
    delete option.cx_axis_tooltip;
    option.tooltip = Object.assign({}, option.tooltip || {}, {
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params];
        if (!list.length) return "";
        const x = list[0].axisValue;
        const head = `${axis.x} ${cxNumber(x, 2)}`;
        const rows = list.map((p) => {
          const value = Array.isArray(p.value) ? p.value[p.encode.y[0]] : p.value;
          const suffix = (axis.suffix || [])[p.seriesIndex] || "";
          return `${p.marker}${p.seriesName}${suffix}: <b>${cxNumber(value, axis.decimals)}</b>`;
        });
        return [head, ...rows].join("<br/>");
      },
    });
  }
  return option;
}
"""
"""JavaScript both widgets run on each option before ``setOption`` (:func:`node_tooltip_hook`
and :func:`axis_tooltip_hook` write the hooks)."""


TEMPLATE = r"""
<template>
  <div ref="echarts" class="cx-echarts" v-bind="attributes"></div>
</template>
<script>
// Time spent drawing charts in this page (read by the browser tests: window.cxDraw).
function cxDrawn(ms) {
  const d = window.cxDraw || (window.cxDraw = {count: 0, totalMs: 0, maxMs: 0});
  d.count += 1;
  d.totalMs += ms;
  d.maxMs = Math.max(d.maxMs, ms);
}
// __HOOKS__
module.exports = {
  mounted() {
    (async () => {
      const echarts = (await this.load([`${this.getCdn()}/echarts@5.4.0/dist/echarts.js`]))[0];
      if (this.gone || !this.$refs.echarts) return;  // removed while ECharts was loading
      this.chart = echarts.init(this.$refs.echarts);
      this.draw();
      this.chart.on("click", (e) => {
        this.chart_click({componentType: e.componentType, seriesType: e.seriesType,
                          seriesIndex: e.seriesIndex, seriesName: e.seriesName, name: e.name,
                          dataIndex: e.dataIndex, data: e.data, value: e.value});
      });
      this.observer = new ResizeObserver(() => this.chart && this.chart.resize());
      this.observer.observe(this.$refs.echarts);
    })();
  },
  beforeDestroy() {
    this.gone = true;
    if (this.observer) this.observer.disconnect();
    if (this.chart) this.chart.dispose();
  },
  beforeUnmount() {
    this.$options.beforeDestroy.call(this);
  },
  watch: {
    option_json() {
      this.draw();
    },
  },
  methods: {
    draw() {
      if (this.chart) {
        const t = performance.now();
        this.chart.setOption(cxPrepare(JSON.parse(this.option_json)), true);
        cxDrawn(performance.now() - t);
      }
    },
__LOADER_METHODS__  },
};
</script>
"""


class EChartsJSON(ipyvuetify.VuetifyTemplate):
    """ECharts chart; ``option_json`` is the option as JSON text."""

    template = traitlets.Unicode(
        TEMPLATE.replace("__LOADER_METHODS__", _LOADER_METHODS).replace("// __HOOKS__", _HOOKS)
    ).tag(sync=True)
    option_json = traitlets.Unicode("{}").tag(sync=True)
    attributes = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn

    def vue_chart_click(self, data: Any) -> None:
        """Browser click on a chart item."""
        if self.on_click is not None:
            self.on_click(data)


BOARD_TEMPLATE = r"""
<template>
  <div class="cx-grid" v-bind="attributes">
    <div v-for="c in layout" :key="c.name" :class="['cx-card-chart', c.wide ? 'cx-wide' : '']">
      <div :ref="'chart-' + c.name" :data-chart="c.name" class="cx-chart"
           :style="'height: ' + c.height + 'px; width: 100%'"></div>
    </div>
  </div>
</template>
<script>
// Time spent drawing charts in this page (read by the browser tests: window.cxDraw).
function cxDrawn(ms) {
  const d = window.cxDraw || (window.cxDraw = {count: 0, totalMs: 0, maxMs: 0});
  d.count += 1;
  d.totalMs += ms;
  d.maxMs = Math.max(d.maxMs, ms);
}
// __HOOKS__
module.exports = {
  created() {
    // not in data(): Vue must not make the chart instances reactive
    this.charts = {};
    this.echarts = null;
  },
  computed: {
    layout() {
      return JSON.parse(this.layout_json);
    },
  },
  mounted() {
    this.observer = new ResizeObserver(() => Object.values(this.charts).forEach(c => c.resize()));
    (async () => {
      this.echarts = (await this.load([`${this.getCdn()}/echarts@5.4.0/dist/echarts.js`]))[0];
      if (!this.gone) this.$nextTick(() => this.draw());
    })();
  },
  beforeDestroy() {
    this.gone = true;
    if (this.observer) this.observer.disconnect();
    Object.values(this.charts).forEach(c => c.dispose());
  },
  beforeUnmount() {
    this.$options.beforeDestroy.call(this);
  },
  watch: {
    options_json() {
      this.draw();
    },
    layout_json() {
      this.$nextTick(() => this.draw());
    },
  },
  methods: {
    draw() {
      if (!this.echarts || this.gone) return;
      const t = performance.now();
      const options = JSON.parse(this.options_json);
      const names = new Set(this.layout.map(c => c.name));
      for (const name of Object.keys(this.charts)) {
        if (!names.has(name)) {
          this.charts[name].dispose();
          delete this.charts[name];
        }
      }
      for (const c of this.layout) {
        const refs = this.$refs['chart-' + c.name];
        const el = Array.isArray(refs) ? refs[0] : refs;
        if (!el || !el.isConnected || !options[c.name]) continue;
        let chart = this.charts[c.name];
        if (chart && chart.getDom() !== el) {
          chart.dispose();
          chart = null;
        }
        if (!chart) {
          chart = this.charts[c.name] = this.echarts.init(el);
          chart.on("click", (e) => this.chart_click({chart: c.name, seriesName: e.seriesName,
            seriesIndex: e.seriesIndex, dataIndex: e.dataIndex, data: e.data, name: e.name}));
          this.observer.observe(el);
        }
        chart.setOption(cxPrepare(options[c.name]), true);
      }
      cxDrawn(performance.now() - t);
    },
__LOADER_METHODS__  },
};
</script>
"""


class EChartsBoard(ipyvuetify.VuetifyTemplate):
    """A grid of ECharts charts updated together: all options travel in one message.

    ``layout_json`` lists the charts (``name``, ``height`` in px, ``wide`` to span the row);
    ``options_json`` maps each name to its option. A click reports the chart's name.
    """

    template = traitlets.Unicode(
        BOARD_TEMPLATE.replace("__LOADER_METHODS__", _LOADER_METHODS).replace(
            "// __HOOKS__", _HOOKS
        )
    ).tag(sync=True)
    layout_json = traitlets.Unicode("[]").tag(sync=True)
    options_json = traitlets.Unicode("{}").tag(sync=True)
    attributes = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn

    def vue_chart_click(self, data: Any) -> None:
        """Browser click on a chart item (``data["chart"]`` names the chart)."""
        if self.on_click is not None:
            self.on_click(data)


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return _finite(value.tolist())
    return value


def dumps(option: dict[str, Any]) -> str:
    """An ECharts option as compact JSON (NaN and infinities become null)."""
    try:
        return json.dumps(option, separators=(",", ":"), default=_default, allow_nan=False)
    except ValueError:  # a NaN somewhere: clean the whole option (rare, slower)
        return json.dumps(_finite(option), separators=(",", ":"), default=_default)


def chart_element(
    option: dict[str, Any] | str,
    attributes: dict[str, str],
    on_click: Callable[[Any], None] | None = None,
) -> solara.Element:
    """The reacton element of one :class:`EChartsJSON` (``option`` as a dict or JSON text)."""
    text = option if isinstance(option, str) else dumps(option)
    return EChartsJSON.element(option_json=text, attributes=attributes, on_click=on_click)


def board_element(
    charts: list[tuple[str, dict[str, Any], int, bool]],
    on_click: Callable[[Any], None] | None = None,
    attributes: dict[str, str] | None = None,
) -> solara.Element:
    """The reacton element of one :class:`EChartsBoard`.

    Parameters
    ----------
    charts
        ``(name, option, height, wide)`` per chart, in display order.
    on_click
        Called with the clicked item, ``data["chart"]`` being the chart's name.
    """
    layout = json.dumps([{"name": n, "height": h, "wide": w} for n, _, h, w in charts])
    options = dumps({n: o for n, o, _, _ in charts})
    return EChartsBoard.element(
        layout_json=layout, options_json=options, attributes=attributes or {}, on_click=on_click
    )


def node_tooltip_hook(
    firms: list[str],
    industry: str,
    label: str = "",
    decimals: int = 1,
    unit: str = "",
    always: bool = False,
) -> dict[str, Any]:
    """The ``cx_node_tooltip`` hook of a network nodes option: on hover, the customer's id
    (point ``[3]``), its supplier in ``industry`` (point ``[4]``, an index into ``firms``; -1:
    none) and, for served customers (or ``always``), ``label`` with the coloured value (point
    ``[2]``) to ``decimals`` places."""
    return {
        "firms": list(firms),
        "industry": industry,
        "label": label,
        "decimals": decimals,
        "unit": unit,
        "always": always,
    }


def axis_tooltip_hook(suffix: list[str], decimals: int = 2, x: str = "year") -> dict[str, Any]:
    """The ``cx_axis_tooltip`` hook of a line chart: on hover, ``x`` and its value, then each
    series' name plus ``suffix[series index]`` and its value to ``decimals`` places."""
    return {"suffix": list(suffix), "decimals": decimals, "x": x}
