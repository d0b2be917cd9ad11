"""The step's details (each served customer's judged expectations, ``S`` before the step and
``d``) are written only by a batch that asks for them, and asking changes no other number.

Phases 2-5 write them to the workspace when ``MarketBatch.details`` is set and to the block's
own room otherwise (``sim.rules.block_stages.block``); ``StepScratch`` gives them only when the
step kept them.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

import sim
from sim.state import DETAILS


def _market(details: bool) -> sim.CustomerMarket:
    model = sim.CustomerMarket("baseline", rng=5, overrides={"market.customers": 2600})
    model.batch.details = details
    return model


def test_keeping_the_details_changes_no_number() -> None:
    """Two markets of one seed, one keeping its details from the start: after 12 steps every
    customer and firm array and every recorded series is the same to the bit, and only the one
    that kept them wrote them."""
    kept, plain = _market(True).run(12), _market(False).run(12)
    for state in ("customer_state", "firm_state"):
        a, b = getattr(kept, state), getattr(plain, state)
        for f in fields(a):
            x, y = np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))
            assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), f.name
    pd.testing.assert_frame_equal(kept.firm_metrics(), plain.firm_metrics())
    pd.testing.assert_frame_equal(kept.model_metrics(), plain.model_metrics())
    for name in DETAILS:
        assert np.any(getattr(kept.workspace, name) != 0), name
        assert not np.any(getattr(plain.workspace, name)), name  # never written: still zeros


def test_the_scratch_gives_the_details_only_when_kept() -> None:
    """Without the details the scratch says how to ask for them; with them, each served
    customer's ``S`` before the step is its ``S`` at the end of the last step, its judged
    expectations are finite, and they come per industry like the other per-customer values."""
    model = _market(False).run(3)
    with pytest.raises(RuntimeError, match=r"model\.batch\.details = True"):
        _ = model.last_scratch.expectation_used
    assert len(model.last_scratch.served) == 3  # what is always kept is still there
    model.batch.details = True
    before = model.customer_state.satisfaction.copy()
    model.step()
    sc = model.last_scratch
    for m, served in enumerate(sc.served):
        assert len(served) > 0
        np.testing.assert_array_equal(sc.satisfaction_before[m], before[m][served])
        assert sc.expectation_used[m].shape == (len(served), len(model.attributes))
        assert np.isfinite(sc.expectation_used[m]).all()
        assert sc.disconfirmation[m].shape == served.shape
        assert np.isfinite(sc.disconfirmation[m]).all()
