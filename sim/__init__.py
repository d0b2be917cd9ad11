"""cxsim: customer expectation dynamics, an agent-based market simulation.

Customers judge firms against the best company they have dealt with anywhere; firms promise,
deliver, fail, recover and grow. ``CustomerMarket`` is the Mesa model; ``load_scenario`` reads a
market from a TOML file; ``sim.strategies`` holds the firm strategies.

Importing the package is light (SPEC 1 lazy loading, ``lazy_loader``): the names below are
imported from their modules on first use, so ``import sim`` and a command such as ``cxsim list``
do not pay for Mesa, pandas, scipy, networkx or numba. This module must never import a submodule
eagerly.
"""

from __future__ import annotations

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "agents": ["Customer", "Firm"],
        "model": ["CustomerMarket"],
        "scenario": ["Scenario", "ScenarioError", "list_scenarios", "load_scenario"],
        "strategies": ["Decision", "Strategy"],
        "version": ["__version__"],
    },
)
