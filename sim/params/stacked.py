"""The parameters of several markets side by side, for code that steps them together.

``StackedParams(params_list)`` reads every field of every section of each market's
:class:`~sim.params.Params` once and keeps it as a ``[B, 1]`` numpy array (``B`` markets), so
that firm-level code written for ``[B, F]`` arrays reads ``P.delivery.noise`` and broadcasts it
over each market's firms. Switches are boolean arrays: code says ``np.where(P.mechanisms.x, a,
b)`` where a single market would say ``a if x else b``. ``P.flat(section, name)`` is the ``[B]``
vector.

This module must never import the rules, the model, the UI or the sweep layer. Of the package
it imports nothing outside ``sim.params``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["StackedParams"]


class StackedParams:
    """Every parameter of ``B`` markets as ``[B, 1]`` arrays, by section and name.

    Parameters
    ----------
    params
        One :class:`~sim.params.Params` per market (all of the same schema).
    """

    def __init__(self, params: list[Any]) -> None:
        if not params:
            raise ValueError("StackedParams needs at least one market's parameters")
        self.n = len(params)
        first = params[0]
        for section in type(first).model_fields:
            parts = [getattr(p, section) for p in params]
            values = {}
            for name in type(parts[0]).model_fields:
                column = np.array([getattr(part, name) for part in parts])
                if column.dtype.kind in "iu":
                    column = column.astype(np.int64)
                elif column.dtype.kind == "f":
                    column = column.astype(np.float64)
                values[name] = column[:, None]
            setattr(self, section, SimpleNamespace(**values))

    def flat(self, section: str, name: str) -> np.ndarray:
        """The ``[B]`` values of one parameter."""
        return getattr(getattr(self, section), name)[:, 0]
