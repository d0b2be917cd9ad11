"""The cxsim rules written agent by agent (Mesa style): the yardstick for the package.

``ReferenceMarket`` (market.py) copies a package model's state and steps it one agent at a time;
``KeyedSource`` (draws.py) is a random source both can share so that their trajectories can be
compared number by number (tests/test_reference.py); ``PythonDraws`` draws like a Mesa user would
(experiments/benchmarks/vs_mesa.py).
"""

from .draws import KeyedSource, PythonDraws
from .market import Customer, Firm, ReferenceMarket

__all__ = ["Customer", "Firm", "KeyedSource", "PythonDraws", "ReferenceMarket"]
