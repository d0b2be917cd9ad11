"""Shared fixtures: small markets that run in a fraction of a second."""

from __future__ import annotations

import pytest


@pytest.fixture
def small() -> dict:
    """Overrides that shrink any scenario to a quick test market."""
    return {"market.customers": 300}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the slow behavioural tests last so quick failures show first."""
    items.sort(key=lambda item: 1 if item.get_closest_marker("slow") else 0)
