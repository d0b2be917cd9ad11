"""Markets stepped together (``sim.batch``) get exactly the numbers they get alone.

Each market of a batch is built and run alone with the same seed and parameters, and its
metrics (market, firms, cohorts, relationship indicators), its customers' state and its firms'
state must be identical, to the bit, for batches of several sizes and compositions: different
seeds, sizes and parameters per market (switches off, other rates, another curvature), the same
market twice, a market large enough to span several blocks of the kernels, a firm entering
late, a market whose firms all exit while the others go on, and the batch in reverse order;
and so for markets built to join their batch (``batched=True``, as a sweep's workers build
them), whose first decisions and customers the batch makes for all of them at once.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.arrays import CHUNK
from sim.batch import MarketBatch, run

STEPS = 24

BROKE = {"economics.exit_after_weeks": 2}
for _i in range(6):
    BROKE[f"firms[{_i}].unit_cost"] = 400.0
    BROKE[f"firms[{_i}].cash"] = 6.0
"""Every firm of the baseline runs out of cash and exits within a few steps."""

Spec = tuple[str, int, int, dict[str, Any]]  # scenario, seed, customers, overrides


def market(spec: Spec, dtype: Any = np.float32, batched: bool = False) -> sim.CustomerMarket:
    scenario, seed, customers, overrides = spec
    return sim.CustomerMarket(
        scenario,
        rng=seed,
        dtype=dtype,
        overrides={"market.customers": customers, **overrides},
        batched=batched,
    )


def assert_same_market(alone: sim.CustomerMarket, batched: sim.CustomerMarket) -> None:
    for table in ("model_metrics", "firm_metrics", "cohort_survival", "relationship_indicators"):
        pd.testing.assert_frame_equal(
            getattr(alone, table)(), getattr(batched, table)(), check_exact=True, obj=table
        )
    assert_same_market_state(alone, batched)


def assert_same_market_state(alone: sim.CustomerMarket, batched: sim.CustomerMarket) -> None:
    assert batched.steps == alone.steps and batched.running == alone.running
    for name in ("customer_state", "firm_state"):
        a, b = getattr(alone, name), getattr(batched, name)
        for f in fields(a):
            x, y = np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name))
            assert x.shape == y.shape and np.array_equal(x, y, equal_nan=True), (name, f.name)


def assert_batch_equals_alone(
    specs: list[Spec], steps: int = STEPS, join: bool = False, **kw: Any
) -> None:
    """``join``: the batch's markets are built to join it (``batched=True``)."""
    alone = [market(spec, **kw).run(steps) for spec in specs]
    batched = run([market(spec, batched=join, **kw) for spec in specs], steps)
    for spec, a, b in zip(specs, alone, batched, strict=True):
        try:
            assert_same_market(a, b)
        except AssertionError as e:
            raise AssertionError(f"market {spec} of the batch differs from it alone: {e}") from e


COMPOSITIONS = {
    "one": [("baseline", 1, 300, {})],
    "two seeds and sizes": [("baseline", 1, 300, {}), ("baseline", 2, 450, {})],
    "parameters per market": [
        ("baseline", 3, 250, {"delivery.base_failure_rate": 0.2}),
        ("baseline", 4, 350, {"satisfaction.curvature": 0.88, "word_of_mouth.reach": 0.4}),
        ("baseline", 5, 200, {"mechanisms.word_of_mouth": False, "mechanisms.reviews": False}),
        ("baseline", 6, 300, {"mechanisms.credibility": False, "switching.price": 2.0}),
        ("baseline", 7, 150, {"network.kind": "barabasi_albert", "network.m": 3}),
    ],
    "the same market twice": [
        ("baseline", 8, 200, {}),
        ("baseline", 9, 220, {}),
        ("baseline", 8, 200, {}),
    ],
    "a firm enters late": [
        ("national_leader_enters", 1, 400, {}),
        ("national_leader_enters", 2, 300, {"word_of_mouth.base_rate": 0.2}),
    ],
    "every firm of one market exits": [
        ("baseline", 10, 300, {}),
        ("baseline", 11, 250, BROKE),
        ("baseline", 12, 200, {}),
    ],
    "segments and teaching": [
        ("niche_vs_generalist", 1, 300, {}),
        ("niche_vs_generalist", 2, 260, {"teaching.word_of_mouth_share": 0.0}),
    ],
}


@pytest.mark.parametrize("join", [False, True], ids=["built alone", "built to join"])
@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_each_market_of_a_batch_equals_the_market_alone(name: str, join: bool) -> None:
    assert_batch_equals_alone(COMPOSITIONS[name], join=join)


def test_a_market_built_to_join_is_seeded_by_its_batch_alone() -> None:
    """Before its batch, a market built with ``batched=True`` has no customers and cannot
    step; a batch takes such markets or markets built alone, not both."""
    spec = ("baseline", 1, 200, {})
    waiting = market(spec, batched=True)
    assert (waiting.customer_state.supplier < 0).all() and waiting.firm_state.customers.sum() == 0
    stepped = market(spec, batched=True)
    with pytest.raises(RuntimeError, match="batched=True"):
        stepped.step()
    with pytest.raises(ValueError, match="stepped before its batch"):
        MarketBatch([stepped])
    with pytest.raises(ValueError, match="all built with batched=True, or none"):
        MarketBatch([waiting, market(("baseline", 2, 200, {}))])
    with pytest.raises(ValueError, match="eager_agents"):
        market(spec, batched=True).__class__(
            "baseline", overrides={"market.customers": 50}, batched=True, eager_agents=True
        )
    MarketBatch([waiting]).run(3)
    assert_same_market(market(spec).run(3), waiting)


def test_the_order_of_the_batch_does_not_matter() -> None:
    specs = COMPOSITIONS["parameters per market"]
    forward = run([market(s) for s in specs], 12)
    backward = run([market(s) for s in reversed(specs)], 12)
    for a, b in zip(forward, reversed(backward), strict=True):
        assert_same_market(a, b)


def test_a_market_of_several_blocks_in_float64_beside_small_ones() -> None:
    """A market of more than one kernel block (``sim.arrays.CHUNK`` customers) between two
    small ones, in float64."""
    specs = [
        ("baseline", 1, 120, {}),
        ("baseline", 2, CHUNK + 1500, {"delivery.base_failure_rate": 0.15}),
        ("baseline", 3, 90, {}),
    ]
    assert_batch_equals_alone(specs, steps=8, dtype=np.float64)


def test_the_markets_that_stopped_keep_their_state_and_the_others_go_on() -> None:
    broke, going = market(("baseline", 11, 250, BROKE)), market(("baseline", 10, 300, {}))
    batch = MarketBatch([broke, going]).run(STEPS)
    assert not broke.running and broke.steps < STEPS
    assert going.running and going.steps == STEPS and batch.steps == STEPS
    assert not broke.firm_state.alive.any() and (broke.customer_state.supplier < 0).all()
    assert len(broke.model_metrics()) == broke.steps  # nothing recorded after it stopped


def test_a_batch_refuses_markets_of_other_shapes_or_that_have_stepped() -> None:
    small = {"market.customers": 100}
    with pytest.raises(ValueError, match="share their industries"):
        MarketBatch([market(("baseline", 1, 100, {})), market(("bass_docking", 1, 100, {}))])
    stepped = market(("baseline", 1, 100, {})).run(1)
    with pytest.raises(ValueError, match="not stepped yet"):
        MarketBatch([stepped, sim.CustomerMarket("baseline", rng=2, overrides=small)])
    batched = run([market(("baseline", 3, 100, {})), market(("baseline", 4, 100, {}))], 1)
    with pytest.raises(RuntimeError, match="stepped with others"):
        batched[0].step()


def test_recording_fewer_steps_keeps_the_rows_recorded() -> None:
    """``record_every`` (what a sweep keeps) records every 5th step, the last and the step a
    market stops: the same rows as the market recording every step."""
    specs = [("baseline", 10, 300, {}), ("baseline", 11, 250, BROKE)]
    alone = [market(spec).run(STEPS) for spec in specs]
    batched = run([market(spec) for spec in specs], STEPS, record_every=5)
    for a, b in zip(alone, batched, strict=True):
        assert_same_market_state(a, b)
        for table in ("model_metrics", "firm_metrics"):
            full, few = getattr(a, table)(), getattr(b, table)()
            steps = sorted(set(few["step"]))
            assert steps == sorted({*range(5, a.steps + 1, 5), a.steps})
            kept = full[full["step"].isin(steps)].reset_index(drop=True)
            pd.testing.assert_frame_equal(kept, few, check_exact=True, obj=table)


def test_a_market_s_frames_are_its_recorded_rows_joined() -> None:
    """The frames are cut from every recorded step stacked once for the batch
    (``BatchRecorder.firm_columns``, ``market_columns``): the rows each market recorded, in
    order, with their types, also for a market that stopped early and steps not recorded; and
    a step recorded after a frame was read is in the next one."""
    specs = [("baseline", 10, 300, {}), ("baseline", 11, 250, BROKE)]
    batch = MarketBatch([market(spec) for spec in specs])
    batch.record_kept(3, STEPS)
    batch.run(STEPS // 2)
    first = [m.model_metrics() for m in batch.markets]
    batch.run(STEPS - STEPS // 2)
    for m, before in zip(batch.markets, first, strict=True):
        rows = m.recorder.market_rows
        assert len(before) <= len(rows) == len(m.model_metrics())
        pd.testing.assert_frame_equal(m.model_metrics(), pd.DataFrame(rows), check_exact=True)
        firm_rows = m.recorder.firm_rows
        joined = {k: np.concatenate([r[k] for r in firm_rows]) for k in firm_rows[0]}
        frame = m.firm_metrics()
        for k, v in joined.items():
            np.testing.assert_array_equal(frame[k].to_numpy(), v, err_msg=k)
            assert frame[k].dtype == v.dtype, k
    assert len(first[0]) < len(batch.markets[0].model_metrics())  # read again after more steps
    assert not batch.markets[1].running and len(first[1]) > 0


def test_a_batch_that_does_not_ask_the_survey_changes_no_other_number() -> None:
    """``survey=False`` (the Compare page, a sweep that keeps no intention to stay): the
    intention to stay is NaN and every other number, table and state the same."""
    specs = COMPOSITIONS["two seeds and sizes"]
    asked = run([market(s) for s in specs], 12)
    silent = run([market(s) for s in specs], 12, survey=False)
    for a, b in zip(asked, silent, strict=True):
        for table in ("model_metrics", "firm_metrics"):
            x, y = getattr(a, table)(), getattr(b, table)()
            assert x["intention_to_stay"].notna().any() and y["intention_to_stay"].isna().all()
            pd.testing.assert_frame_equal(
                x.drop(columns="intention_to_stay"),
                y.drop(columns="intention_to_stay"),
                check_exact=True,
            )
        assert_same_market_state(a, b)


def test_a_market_alone_follows_firm_arrays_replaced_and_lifts_them_only_then() -> None:
    """A market alone is stepped through its batch of one, which steps views of the market's
    firm arrays: a firm array replaced between steps is followed (the same numbers as the same
    change made in place), and an unchanged state is not lifted again at every step (its
    ``np.tile`` allocation is a view whose ``base`` is not itself)."""
    overrides = {"market.customers": 300}
    replaced = sim.CustomerMarket("baseline", rng=3, overrides=overrides)
    in_place = sim.CustomerMarket("baseline", rng=3, overrides=overrides)
    replaced.step()
    in_place.step()
    lifted = replaced._batch.firm_state
    replaced.step()
    in_place.step()
    assert replaced._batch.firm_state is lifted  # nothing replaced: the same views
    replaced.firm_state.cash = replaced.firm_state.cash - 5.0  # a new array
    in_place.firm_state.cash -= 5.0
    for _ in range(6):
        replaced.step()
        in_place.step()
    assert replaced._batch.firm_state is not lifted
    np.testing.assert_array_equal(replaced.firm_state.cash, in_place.firm_state.cash)
    assert_same_market_state(replaced, in_place)
    untouched = sim.CustomerMarket("baseline", rng=3, overrides=overrides)
    for _ in range(8):
        untouched.step()
    assert not np.array_equal(untouched.firm_state.cash, in_place.firm_state.cash)
