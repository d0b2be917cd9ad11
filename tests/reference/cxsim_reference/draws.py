"""Random sources for the reference implementation and for comparing it with the package.

``KeyedSource`` gives the reference the package's own random numbers (``sim.draws``): every
number is a fixed function of the market's seed and of what it is for, the purpose of the draw
(``"churn"``, ``"noise"``, ...), the step, the industry, the customer and, for draws with several
columns, the column. The package draws them a block of customers at a time inside its kernels,
the reference one agent at a time; both see the same numbers. Built from a package model
(``KeyedSource.of(model)``) it reproduces that model's draws exactly.

``PythonDraws`` is what a Mesa user would write: ``model.random.random()`` and
``model.random.gauss(0, 1)`` per agent and decision. The benchmark uses it; it cannot be compared
number by number with the package.
"""

from __future__ import annotations

from typing import Any

from sim.draws import KeyedDraws, normal, uniform, uniform_column

__all__ = ["KeyedSource", "PythonDraws"]


class KeyedSource(KeyedDraws):
    """Uniforms and normals that depend only on (seed, step, purpose, industry, customer, column):
    ``sim.draws`` with the reference's scalar interface (``u``, ``z``, ``reach``) besides the
    package's array one (``uniform``, ``normal``, ``below``). The reference sets ``step`` at the
    start of each step."""

    @classmethod
    def of(cls, model: Any) -> KeyedSource:
        """The draws of a package model (its market seed)."""
        return cls(model.draws.seed)

    def u(self, purpose: str, m: int, customer: int, column: int | None = None) -> float:
        """The uniform for one customer (and column)."""
        base = self.key(purpose, m)
        if column is None:
            return float(uniform(base, customer))
        return float(uniform_column(base, customer, column))

    def z(self, purpose: str, m: int, customer: int, column: int) -> float:
        """The standard normal for one customer and column (a float32 value)."""
        return float(normal(self.key(purpose, m), customer, column))

    def reach(self, m: int, sender: int, position: int) -> float:
        """The uniform deciding whether a message of ``sender`` about industry ``m`` reaches
        its ``position``-th neighbour (in the network's order)."""
        return float(uniform_column(self.key("reach", m), sender, position))


class PythonDraws:
    """Per-agent draws from Python's ``random`` module, as a Mesa user would write them."""

    def __init__(self, random: Any) -> None:
        self.random = random
        self.step = 0

    def u(self, purpose: str, m: int, customer: int, column: int | None = None) -> float:
        """A uniform on [0, 1)."""
        return self.random.random()

    def z(self, purpose: str, m: int, customer: int, column: int) -> float:
        """A standard normal."""
        return self.random.gauss(0.0, 1.0)

    def reach(self, m: int, sender: int, position: int) -> float:
        """A uniform on [0, 1)."""
        return self.random.random()
