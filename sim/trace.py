"""Histories of chosen customers, for inspecting one customer's story in the UI or a notebook.

Recording every customer's full state every step would cost memory proportional to N x steps;
the trace records only the customers it is given, each step, as compact float32 arrays.

This module must never import the rules, the UI or the sweep layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = ["CustomerTrace"]


class CustomerTrace:
    """Per-step snapshots of the tracked customers' state.

    Parameters
    ----------
    model
        The market.
    ids
        Sorted customer indices to record.
    """

    def __init__(self, model: CustomerMarket, ids: np.ndarray) -> None:
        self.ids = np.asarray(ids, np.int64)
        self.steps: list[int] = []
        self._frames: dict[str, list[np.ndarray]] = {
            k: []
            for k in (
                "supplier",
                "expectation",
                "experience",
                "satisfaction",
                "last_satisfaction",
                "trust",
                "commitment",
                "heard",
                "benchmark",
            )
        }

    def __contains__(self, index: int) -> bool:
        i = np.searchsorted(self.ids, index)
        return bool(i < len(self.ids) and self.ids[i] == index)

    def record(self, model: CustomerMarket) -> None:
        """Snapshot the tracked customers now."""
        if len(self.ids) == 0:
            return
        cs = model.customer_state
        self.steps.append(model.steps)
        for key, frames in self._frames.items():
            if key == "trust":  # trust in the current supplier, per industry (NaN: none)
                value = np.moveaxis(cs.supplier_trust(self.ids), 0, 1)
                frames.append(value.astype(np.float32))
                continue
            arr = getattr(cs, key)
            value = arr[self.ids] if key == "benchmark" else np.moveaxis(arr[:, self.ids], 0, 1)
            frames.append(value if value.dtype.kind == "i" else value.astype(np.float32))

    def history(self, model: CustomerMarket, index: int) -> pd.DataFrame:
        """Long table for customer ``index``: one row per step, industry and attribute.

        Columns: step, industry, supplier (firm name or None), attribute, expectation,
        experience, heard, benchmark, satisfaction, last_satisfaction, trust, commitment.
        """
        if index not in self:
            raise KeyError(
                f"customer {index} is not tracked; build the model with "
                f"track=[{index}, ...] or track=<max customers>"
            )
        if not self.steps:
            return pd.DataFrame()
        row = int(np.searchsorted(self.ids, index))
        get = {k: np.stack([f[row] for f in v]) for k, v in self._frames.items()}
        t, m_count, k_count = get["expectation"].shape
        steps = np.repeat(np.array(self.steps), m_count * k_count)
        industry = np.tile(np.repeat(np.arange(m_count), k_count), t)
        attribute = np.tile(np.arange(k_count), t * m_count)
        names = np.array([*model.firm_names, None], dtype=object)
        supplier = np.repeat(get["supplier"].reshape(-1), k_count)
        per_industry = lambda a: np.repeat(a.reshape(-1), k_count)  # noqa: E731
        return pd.DataFrame(
            {
                "step": steps,
                "industry": np.array(model.industries, dtype=object)[industry],
                "supplier": names[supplier],
                "attribute": np.array(model.attributes, dtype=object)[attribute],
                "expectation": get["expectation"].reshape(-1),
                "experience": get["experience"].reshape(-1),
                "heard": get["heard"].reshape(-1),
                "benchmark": np.repeat(get["benchmark"], m_count, axis=0).reshape(-1),
                "satisfaction": per_industry(get["satisfaction"]),
                "last_satisfaction": per_industry(get["last_satisfaction"]),
                "trust": per_industry(get["trust"]),
                "commitment": per_industry(get["commitment"]),
            }
        )
