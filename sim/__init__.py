"""cxsim: customer expectation dynamics, an agent-based market simulation.

Customers judge firms against the best company they have dealt with anywhere; firms promise,
deliver, fail, recover and grow. ``CustomerMarket`` is the Mesa model; ``load_scenario`` reads a
market from a TOML file; ``sim.strategies`` holds the firm strategies.
"""

from importlib.metadata import PackageNotFoundError, version

from sim.agents import Customer, Firm
from sim.model import CustomerMarket
from sim.scenario import Scenario, ScenarioError, list_scenarios, load_scenario
from sim.strategies import Decision, Strategy

try:
    __version__ = version("cxsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "Customer",
    "CustomerMarket",
    "Decision",
    "Firm",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "__version__",
    "list_scenarios",
    "load_scenario",
]
