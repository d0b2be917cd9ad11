"""Mesa's ``DataCollector`` face of the metrics recorder: every series is stored once.

``CustomerMarket.datacollector`` is a :class:`RecorderCollector`: a ``mesa.DataCollector`` whose
data *are* the rows of the model's ``MetricsRecorder`` (``sim.metrics``). ``collect`` stores
nothing (the recorder has already recorded the step); ``model_vars``,
``get_model_vars_dataframe()`` and ``get_agenttype_vars_dataframe(Firm)`` read the recorder's
rows, in the shapes Mesa gives them (``mesa.batch_run`` reads ``model_vars[name][i]``).

This module must never import the UI or the sweep layer. (It reads ``sim.metrics``, which imports
``sim.rules.reviews.review_score``, so the rules come with it.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import mesa
import pandas as pd

from sim.metrics import FIRM_COLUMNS, MARKET_COLUMNS, MetricsRecorder

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = ["MARKET_VARIABLES", "RecorderCollector"]

MARKET_VARIABLES = tuple(c for c in MARKET_COLUMNS if c not in ("step", "year"))
"""The model-level variables, as Mesa's model reporters would name them."""

_FIRM_SKIP = {"step", "year", "firm", "name", "industry", "strategy"}
FIRM_VARIABLES = tuple(c for c in FIRM_COLUMNS if c not in _FIRM_SKIP)
"""The per-firm variables, as Mesa's agent-type reporters would name them."""


class _Column(Sequence[Any]):
    """One model variable over the recorded steps: a live view of the recorder's rows."""

    def __init__(self, rows: list[dict[str, Any]], name: str) -> None:
        self._rows, self._name = rows, name

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [row.get(self._name) for row in self._rows[i]]
        return self._rows[i].get(self._name)

    def __iter__(self) -> Iterator[Any]:
        return (row.get(self._name) for row in self._rows)


class RecorderCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` over a :class:`~sim.metrics.MetricsRecorder`.

    Parameters
    ----------
    model
        The market whose ``recorder`` holds the data.
    """

    def __init__(self, model: CustomerMarket) -> None:
        super().__init__()
        self._model = model

    @property
    def recorder(self) -> MetricsRecorder:
        """The metrics recorder whose rows this collector shows."""
        return self._model.recorder

    @property
    def model_vars(self) -> dict[str, _Column]:  # type: ignore[override]
        """``{variable: values per recorded step}``, read from the recorder."""
        rows = self.recorder.market_rows
        names = list(MARKET_VARIABLES)
        if rows:
            names += [k for k in rows[0] if k not in MARKET_COLUMNS]
        return {name: _Column(rows, name) for name in names}

    @model_vars.setter
    def model_vars(self, value: Any) -> None:  # mesa.DataCollector.__init__ sets it to {}
        pass

    def collect(self, model: Any) -> None:
        """Nothing to store: the model's recorder has recorded this step."""

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per recorded step, one column per model variable (as Mesa's)."""
        frame = self.recorder.market_frame()
        return frame.drop(columns=[c for c in ("step", "year") if c in frame]).reset_index(
            drop=True
        )

    def get_agenttype_vars_dataframe(self, agent_type: type) -> pd.DataFrame:
        """Per recorded step and firm, indexed by ``(Step, AgentID)`` as Mesa's; only the
        ``Firm`` type has variables."""
        from sim.agents import Firm

        if not issubclass(agent_type, Firm):
            raise ValueError(f"no variables are collected for {agent_type.__name__} agents")
        frame = self.recorder.firm_frame(self._model)
        ids = [firm.unique_id for firm in self._model.firms]
        frame = frame.assign(Step=frame["step"], AgentID=[ids[f] for f in frame["firm"]])
        return frame.set_index(["Step", "AgentID"])[list(FIRM_VARIABLES)]
