"""The four retention tactics and feature chasing (issue #13): each its own lever, cost and
mechanism; each effect shown, and gone when its switch is off."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.rules.retention import TACTICS, tactic_levels

SMALL = {"market.customers": 1200}


def keeper_market(
    mix: dict[str, float], share: float = 0.6, **overrides: object
) -> sim.CustomerMarket:
    """One firm spending ``share`` of its budget on one retention tactic; a rival that does
    not."""
    levers = {"retention_share": share, "capacity_share": 0.2, **mix}
    return sim.CustomerMarket(
        "retention_vs_acquisition",
        rng=3,
        overrides={
            **SMALL,
            "firms[0].levers": levers,
            "firms[1].strategy": "honest",
            **overrides,
        },
    )


def only(tactic: str) -> dict[str, float]:
    return {t: (1.0 if t == tactic else 0.0) for t in TACTICS}


def test_levels_follow_spending_and_the_mix() -> None:
    model = keeper_market(only("extras"), share=0.05)
    model.step()
    levels = tactic_levels(model.batch)[0]
    assert 0.1 < levels[0, 0] < 1.0 and np.allclose(levels[0, 1:], 0.0)
    # the same spending on personal contact reaches a lower level: it is costlier
    personal = keeper_market(only("personal"), share=0.05)
    personal.step()
    assert 0 < tactic_levels(personal.batch)[0][0, 2] < levels[0, 0]


def test_personal_contact_is_limited_by_staff() -> None:
    model = keeper_market(only("personal"))
    model.step()
    before = tactic_levels(model.batch)[0][0, 2]
    model.firm_state.capacity[0] = model.firm_state.customers[0] / model.n_customers / 3
    assert np.isclose(tactic_levels(model.batch)[0][0, 2], before / 3)


def test_promotions_build_commitment_and_wear_out() -> None:
    model = keeper_market(only("promotions"))
    model.run(4)
    early = tactic_levels(model.batch)[0][0, 1]
    model.run(100)
    late = tactic_levels(model.batch)[0][0, 1]
    assert late < 0.8 * early  # the same spending, worn by sustained use
    with_promotions = model.firm_metrics().query("step == 104 and firm == 0")["commitment"]
    off = keeper_market(only("promotions"), **{"mechanisms.retention_promotions": False}).run(104)
    without = off.firm_metrics().query("step == 104 and firm == 0")["commitment"]
    assert float(with_promotions.iloc[0]) > float(without.iloc[0]) + 0.02


@pytest.mark.parametrize(
    ("tactic", "column", "switch"),
    [
        ("extras", "satisfaction", "retention_extras"),
        ("personal", "commitment", "retention_personal"),
        ("aftercare", "answered", "retention_aftercare"),
    ],
)
def test_each_tactic_moves_its_channel_and_not_when_switched_off(
    tactic: str, column: str, switch: str
) -> None:
    overrides = {"delivery.base_failure_rate": 0.08}  # problems to hear and put right
    on = keeper_market(only(tactic), **overrides).run(78).firm_metrics()
    off = keeper_market(only(tactic), **overrides, **{f"mechanisms.{switch}": False}).run(78)
    off = off.firm_metrics()
    keep = lambda df: df.query("firm == 0 and step > 26")[column]  # noqa: E731
    if column == "answered":  # more problems heard and answered
        assert keep(on).sum() > 1.2 * keep(off).sum()
    else:
        assert keep(on).mean() > keep(off).mean()


def test_feature_chasing_leaves_a_backlog_that_fails_current_customers() -> None:
    def run(share: float, **overrides: object) -> sim.CustomerMarket:
        return sim.CustomerMarket(
            "overpromise_vs_honest",
            rng=5,
            overrides={
                **SMALL,
                "firms[1].strategy": "feature_chaser",
                "firms[1].levers": {"feature_share": share},
                "firms[0].initial_share": 0.3,
                "firms[1].initial_share": 0.3,
                **overrides,
            },
        ).run(156)

    chaser, fixer = run(0.95), run(0.2)
    assert chaser.firm_state.backlog[1] > 3 * fixer.firm_state.backlog[1]
    failures = lambda m: m.firm_metrics().query("firm == 1 and step > 104")["failures"].sum()  # noqa: E731
    served = lambda m: m.firm_metrics().query("firm == 1 and step > 104")["customers"].sum()  # noqa: E731
    assert failures(chaser) / served(chaser) > 1.2 * failures(fixer) / served(fixer)
    # the focus attribute (marketed) rises more for the chaser, the failure attributes less
    no_backlog = run(0.95, **{"mechanisms.backlog": False})
    assert no_backlog.firm_state.backlog[1] == 0.0
