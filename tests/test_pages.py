"""A market is built with numpy's huge-page advice off (``sim.pages``): the advice is off while
the network and the customers' arrays are allocated, numpy's setting is given back after, and a
user who set ``NUMPY_MADVISE_HUGEPAGE`` is left alone."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.model import CustomerMarket
from sim.pages import without_huge_pages

multiarray = np._core.multiarray


@pytest.fixture
def advice_on():
    """numpy's advice on for the test (its Linux default), the test process's setting after."""
    before = multiarray._set_madvise_hugepage(True)
    yield
    multiarray._set_madvise_hugepage(before)


def seen_while_building(monkeypatch) -> list[bool]:
    """numpy's advice at the moment a market builds its network."""
    seen: list[bool] = []
    build = CustomerMarket._build_network

    def spy(self, graph):
        seen.append(bool(multiarray._get_madvise_hugepage()))
        return build(self, graph)

    monkeypatch.setattr(CustomerMarket, "_build_network", spy)
    return seen


def test_a_market_is_built_without_the_advice_and_gives_it_back(advice_on, monkeypatch) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    seen = seen_while_building(monkeypatch)
    market = sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 300})
    assert seen == [False]
    assert multiarray._get_madvise_hugepage()  # given back
    market.step()  # and the market steps as any other


def test_the_advice_comes_back_when_the_build_fails(advice_on) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any error of the scenario
        sim.CustomerMarket("baseline", overrides={"market.customers": -5})
    assert multiarray._get_madvise_hugepage()


def test_a_user_who_chose_is_left_alone(advice_on, monkeypatch) -> None:
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    seen = seen_while_building(monkeypatch)
    sim.CustomerMarket("baseline", rng=1, overrides={"market.customers": 300})
    assert seen == [True]


def test_nested_blocks_give_back_what_each_found(advice_on, monkeypatch) -> None:
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    with without_huge_pages():
        assert not multiarray._get_madvise_hugepage()
        with without_huge_pages():
            assert not multiarray._get_madvise_hugepage()
        assert not multiarray._get_madvise_hugepage()
    assert multiarray._get_madvise_hugepage()
