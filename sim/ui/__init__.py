"""The strategist's browser UI: a Solara app over the model's public API.

Pages: Explore (pick a market, move the levers, watch the charts and the network), Inspect (one
customer's or one firm's story), Compare (two variants with replicates, mean lines and 95% bands)
and Export (series, charts and the exact scenario). Start it with ``cxsim ui`` (see
:mod:`sim.ui.server`); the app itself is :func:`sim.ui.app.Page`.

Importing this package imports nothing heavy (Solara and Mesa's visualization stack are imported
by the modules that need them); it only silences one known warning of Mesa's visualization.
"""

import warnings

# Mesa 3.3.1's ComponentsView trips Solara's hook checker when mesa.visualization is imported;
# the UI does not use that component, and the warning would only confuse `cxsim ui` users.
warnings.filterwarnings("ignore", message=r".*ComponentsView: `use_state` found despite early")
