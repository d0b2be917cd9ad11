"""The relationship indicators as survey items, on crafted customers and stepped markets.

Mind-set asks a firm's own customers only; the intention to stay is each respondent's chance of
still being a customer in five years at its churn hazard (rivals included), so it falls when trust
falls and when a rival looks better, and is 1 when nobody can leave; the survey panel is everyone
in a small market and a fixed systematic sample in a large one; every indicator has a survey item
and a column in the firm and market tables, the Parquet output and the docs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
import sim.indicators
from sim.indicators import RELATIONSHIP_INDICATORS, STAY_YEARS, SURVEY_ITEMS, panel
from sim.metrics import FIRM_COLUMNS, MARKET_COLUMNS
from sim.rules import choice
from sim.rules.expectations import credibility_weight_of_reviews


def stepped(customers: int = 600, steps: int = 30, **overrides) -> sim.CustomerMarket:
    model = sim.CustomerMarket(
        "baseline", rng=3, overrides={"market.customers": customers, **overrides}
    )
    return model.run(steps)


def survey(model: sim.CustomerMarket) -> pd.DataFrame:
    """The firm metrics of the market as it stands (recorded now, without stepping)."""
    batch = model.batch
    batch.scratch.recording[:] = True
    batch.recorder.record(batch, batch.scratch)
    frame = model.firm_metrics()
    return frame.iloc[-model.firm_state.n :].set_index("firm")


def utilities(model: sim.CustomerMarket, rows: np.ndarray, m: int) -> np.ndarray:
    """The oracle: ``[F_m, rows]`` each customer's utility of each firm of industry ``m``
    (``sim.rules.choice``, docs/MODEL.md), in numpy; -inf for a firm it cannot see."""
    batch, prm = model.batch, model.params
    t = choice.terms(batch)  # the firm-level parts
    cs, firms = model.customer_state, model.industry_firms[m]
    on, e = prm.mechanisms, prm.expectations
    a_p = e.weight_promise if on.promise_choice else 0.0
    trust = cs.trust[np.ix_(firms, rows)].astype(float)
    rho = credibility_weight_of_reviews(batch.params)[0, 0]
    public = t.public[0, firms][:, None]
    credible = trust + (public - trust) * rho if on.credibility else np.ones_like(trust)
    w_promise = a_p * credible  # [F_m, rows]
    own = cs.expectation[m][rows].astype(float)  # [rows, K]
    total = (
        w_promise[..., None] * t.promise[0, firms][:, None, :]
        + t.review_part[0, firms][:, None, :]
        + e.weight_experience * own[None]
    )
    weight = w_promise + t.review_weight[0, firms][:, None] + e.weight_experience
    e_hat = total / np.maximum(weight, 1e-12)[..., None]
    quality = np.einsum("frk,rk->fr", e_hat, cs.weights[rows].astype(float))
    u = prm.switching.quality * quality
    u += prm.switching.attitude * cs.attitude[np.ix_(firms, rows)].astype(float)
    u += t.price_term[0, firms][:, None] * cs.price_sensitivity[rows].astype(float)[None, :]
    seen = model.visible[cs.region[rows]][:, firms].T  # [F_m, rows]
    return np.where(seen, u, -np.inf)


def churn_probability(model: sim.CustomerMarket, rows: np.ndarray, m: int, gap) -> np.ndarray:
    """The oracle: the chance to leave this step, ``1 - (1 - sigmoid(z)) ** (1 / spy)``."""
    cs, prm = model.customer_state, model.params.switching
    own = cs.supplier[m][rows]
    s = cs.satisfaction[m][rows].astype(float)
    s = np.where(np.isnan(s), prm.satisfaction_ref, s)
    z = prm.intercept - prm.switching_cost + prm.satisfaction * (prm.satisfaction_ref - s)
    z += prm.trust * (prm.trust_ref - cs.trust[own, rows].astype(float))
    if model.params.mechanisms.commitment:
        z -= prm.commitment * (cs.commitment[m][rows].astype(float) - 0.5)
    z += prm.rival * gap
    return 1.0 - (1.0 - 1.0 / (1.0 + np.exp(-z))) ** (1.0 / model.steps_per_year)


def stay_oracle(model: sim.CustomerMarket, rows: np.ndarray) -> np.ndarray:
    """``[F]`` mean five-year survival at the churn hazard of the customers ``rows``, with the
    rival gap taken from the utilities of every firm of the industry."""
    cs, n_firms, spy = model.customer_state, model.firm_state.n, model.steps_per_year
    total, count = np.zeros(n_firms), np.zeros(n_firms)
    for m, firms in enumerate(model.industry_firms):
        mine = rows[cs.supplier[m][rows] >= 0]
        own = cs.supplier[m][mine]
        u = utilities(model, mine, m).T  # [rows, F_m]
        own_u = u[np.arange(len(mine)), np.searchsorted(firms, own)]
        rival = np.where(firms[None, :] == own[:, None], -np.inf, u).max(axis=1)
        gap = np.where(np.isfinite(rival), np.maximum(0.0, rival - own_u), 0.0)
        p = churn_probability(model, mine, m, gap)
        total += np.bincount(own, (1.0 - p) ** (STAY_YEARS * spy), minlength=n_firms)
        count += np.bincount(own, minlength=n_firms)
    return total / count


def test_mindset_counts_only_the_firms_own_customers() -> None:
    model = stepped()
    cs = model.customer_state
    f = int(model.industry_firms[1][0])  # a retailer
    own = cs.supplier[1] == f
    assert 50 < own.sum() < model.n_customers - 50
    cs.attitude[f][own] = 0.8  # its customers like what they hear
    cs.attitude[f][~own] = -0.9  # everyone else does not
    row = survey(model).loc[f]
    assert row["mindset"] == pytest.approx(0.8, abs=1e-6)
    want = (0.8 * own.sum() - 0.9 * (~own).sum()) / model.n_customers
    assert row["attitude"] == pytest.approx(want, abs=1e-6)  # reputation among everyone


def test_intention_to_stay_is_five_year_survival_at_the_current_hazard() -> None:
    model = stepped()
    got = survey(model)["intention_to_stay"].to_numpy()
    want = stay_oracle(model, np.arange(model.n_customers))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert (got > 0.05).all() and (got < 0.99).all()


def test_intention_to_stay_falls_when_trust_falls() -> None:
    model = stepped()
    cs = model.customer_state
    before = survey(model)["intention_to_stay"]
    f = int(model.industry_firms[0][0])
    own = cs.supplier[0] == f
    cs.trust[f][own] *= 0.5  # trust in the firm's word, of its own customers
    after = survey(model)["intention_to_stay"]
    assert after[f] < before[f] - 0.05
    others = [g for g in range(model.firm_state.n) if g != f]
    np.testing.assert_allclose(after[others], before[others], rtol=1e-12)


def test_intention_to_stay_counts_a_better_rival() -> None:
    """A rival everyone has heard well of pulls the answer down: the hazard's rival term."""
    model = stepped()
    cs = model.customer_state
    own, rival = (int(f) for f in model.industry_firms[2][:2])
    before = survey(model)["intention_to_stay"][own]
    cs.attitude[rival] = 1.0
    cs.attitude[own] = -1.0
    assert survey(model)["intention_to_stay"][own] < before - 0.05


def test_nobody_leaves_when_switching_is_off() -> None:
    model = stepped(**{"switching.enabled": False})
    row = survey(model)
    assert (row["intention_to_stay"][row["customers"] > 0] == 1.0).all()


def test_a_large_market_asks_a_fixed_systematic_panel(monkeypatch) -> None:
    model = stepped(customers=900)
    assert panel(900) == slice(0, 900, 1)
    monkeypatch.setattr(sim.indicators, "PANEL_SIZE", 200)
    assert panel(900) == slice(0, 900, 5)
    batch = model.batch
    got, asked = sim.indicators.intention_to_stay(batch, batch.belongs, np.array([True]))
    got, asked = got[0], asked[0]
    rows = np.arange(0, 900, 5)
    np.testing.assert_allclose(got / asked, stay_oracle(model, rows), rtol=1e-6)
    served = sum((model.customer_state.supplier[m][rows] >= 0).sum() for m in range(3))
    assert asked.sum() == served


def test_the_panels_of_a_batch_are_each_markets_own_panel(monkeypatch) -> None:
    monkeypatch.setattr(sim.indicators, "PANEL_SIZE", 200)
    sizes = np.array([900, 0, 200, 201, 57, 1000])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for markets in (np.arange(6), np.array([0, 3, 5]), np.array([1]), np.array([4])):
        expected = [offsets[b] + np.arange(sizes[b])[panel(sizes[b])] for b in markets]
        got = sim.indicators.panels(offsets, markets)
        np.testing.assert_array_equal(got, np.concatenate(expected).astype(np.int64))


def test_every_indicator_is_a_survey_item_with_a_column() -> None:
    columns = [item.column for item in SURVEY_ITEMS]
    assert list(RELATIONSHIP_INDICATORS) == columns
    assert len(set(RELATIONSHIP_INDICATORS.values())) == 6  # word of mouth asks two questions
    assert set(columns) <= set(FIRM_COLUMNS) and set(columns) <= set(MARKET_COLUMNS)
    for item in SURVEY_ITEMS:
        assert item.question.endswith("?") and "[firm]" in item.question
        assert "current customers" in item.respondents
        assert "First Bank" in item.tooltip("First Bank")


def test_indicators_are_recorded_per_firm_and_step_and_written_to_parquet(tmp_path) -> None:
    from sim.output import write_run

    model = stepped(customers=400, steps=12)
    firms = model.firm_metrics()
    assert len(firms) == 12 * model.firm_state.n
    indicators = model.relationship_indicators()
    assert list(indicators.columns)[3:] == list(RELATIONSHIP_INDICATORS)
    assert indicators[list(RELATIONSHIP_INDICATORS)].notna().all().all()
    write_run(model, tmp_path / "run")
    written = pd.read_parquet(tmp_path / "run" / "firms.parquet")
    for column in RELATIONSHIP_INDICATORS:
        np.testing.assert_array_equal(written[column].to_numpy(), firms[column].to_numpy())
    market = model.model_metrics().iloc[-1]
    assert -1 <= market["mindset"] <= 1 and 0 < market["intention_to_stay"] < 1


def test_model_doc_has_one_row_per_survey_item_with_its_question() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "MODEL.md").read_text()
    section = text[text.index("### 4.11 Observation") : text.index("## 5 Initialization")]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    for item in SURVEY_ITEMS:
        row = [r for r in rows if r.startswith(f"| {item.indicator} | `{item.column}` |")]
        assert len(row) == 1, item.column
        assert item.question.removesuffix(" Do you agree?") in row[0], item.column


def test_sweep_outputs_carry_the_indicators(tmp_path) -> None:
    from pathlib import Path

    import sim.sweep as sw

    fixture = Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml"
    spec = {"name": "indicators", "scenario": str(fixture), "seed": 5, "replicates": 1}
    one = {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.2]}
    spec |= {"steps": 6, "parameters": [one], "output": {"every": 3}}
    firms = sw.run(spec, tmp_path / "out", executor="serial").df("firms")
    assert sorted(firms["step"].unique()) == [3, 6]
    for column in RELATIONSHIP_INDICATORS:
        assert firms[column].notna().any(), column
    assert firms["intention_to_stay"].between(0, 1).all()


def test_panel_in_parallel_tasks_gives_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The intention-to-stay panel in 1 to 5 parts, on one thread or as parallel tasks, gives
    the same sums to the bit: each answer is its respondent's own."""
    from sim.jit import threads, use_threads

    model = stepped(customers=3000, steps=6)
    batch = model.batch
    recording = np.ones(batch.B, bool)
    results = []
    before = threads()
    try:
        for n in (1, 2):
            use_threads(n)
            for part in (10_000, 2048, 700, 500):  # 1, 1, 3 and 4 parts of an industry's ~2,300
                monkeypatch.setattr(sim.indicators, "PANEL_TASK", part)
                total, asked = sim.indicators.intention_to_stay(batch, batch.belongs, recording)
                results.append((total.copy(), asked.copy()))
    finally:
        use_threads(before)
    assert results[0][1].sum() > 2000 and (results[0][0] > 0).any()
    for total, asked in results[1:]:
        np.testing.assert_array_equal(total, results[0][0])
        np.testing.assert_array_equal(asked, results[0][1])
