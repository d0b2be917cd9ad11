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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building and installing the wheel in the background when its tests are to run:
    its first ``cxsim run`` compiles for about a minute on one core (tests/wheel_build.py)."""
    if session.config.option.collectonly:
        return
    if any(item.path.name == "test_wheel.py" for item in session.items):
        from tests import wheel_build

        wheel_build.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests import wheel_build

    wheel_build.stop()
