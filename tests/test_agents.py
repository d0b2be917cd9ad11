"""The Mesa agents: views onto the state arrays, and markets freed once dropped."""

from __future__ import annotations


def test_a_market_is_freed_once_dropped() -> None:
    """Mesa 3.3.1 keeps every model that made an agent (mesa#3179): a process that builds many
    markets (cxsim facts, validation) grew 15 MB a world. sim.agents keys the id counters weakly."""
    import gc
    import weakref

    from sim.model import CustomerMarket

    model = CustomerMarket("baseline", rng=1, overrides={"market.customers": 200})
    model.run(2)
    ids = [f.unique_id for f in model.firms]
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
    again = CustomerMarket("baseline", rng=1, overrides={"market.customers": 200})
    assert [f.unique_id for f in again.firms] == ids == list(range(1, len(ids) + 1))
