"""The ablation runner (experiments/ablations): claims, the sweep it builds, what it switches off,
and the words it finds for which channels carry a verdict."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.sweep
from sim.scenario import load_scenario
from sim.sweep import build_plan

ABLATIONS = Path(__file__).resolve().parent.parent / "experiments" / "ablations"
sys.path.insert(0, str(ABLATIONS))

import ablate  # noqa: E402
from ablate import ALL_ON, SWITCHES, Headline  # noqa: E402


def test_every_shipped_scenario_has_a_headline_among_its_claims() -> None:
    headlines = ablate.load_headlines()
    shipped = {p.stem for p in (ABLATIONS.parent.parent / "scenarios").glob("*.toml")}
    assert set(headlines) == shipped
    for name, h in headlines.items():
        sc = load_scenario(name)
        claim = h.parsed(sc)  # a claim of the scenario, whose windows fit the runs
        assert claim.name in {c.name for c in sc.claims}
        plan = build_plan(ablate.ablation_spec(h, replicates=1, customers=100))
        assert {o.text for o in plan.outcomes} == {r.outcome.text for r in claim.refs}
    with pytest.raises(ablate.HeadlineError, match="honest_wins"):
        Headline("overpromise_vs_honest", "no_such_claim", "x").parsed()


def test_skipped_switches_are_the_channels_a_scenario_cannot_use() -> None:
    honest = ablate.applicable(load_scenario("overpromise_vs_honest"))
    assert {s for s, why in honest.items() if why} == {
        *ablate.DISCLOSURE,
        "targeting",
        "focus_investment",
        "teaching",
    }
    assert not any(
        ablate.applicable(load_scenario("proactive_disclosure"))[s] for s in ablate.DISCLOSURE
    )
    niche = ablate.applicable(load_scenario("niche_vs_generalist"))
    assert not niche["targeting"] and not niche["teaching"]
    assert ablate.applicable(load_scenario("service_vs_price"))["teaching"]  # its niche does not


def test_the_runner_switches_off_exactly_the_channel_it_names(tmp_path) -> None:
    h = Headline(
        "overpromise_vs_honest",
        "trust_breaks",
        "Straight Talk's trust at year 1 minus Big Promises'",
        customers=80,
        years=1,
    )
    chosen = ["promise_choice", "disclosure_cost", "targeting", "focus_investment", "teaching"]
    plan = build_plan(ablate.ablation_spec(h, replicates=2, switches=chosen))
    assert [p.label for p in plan.design.points] == [ALL_ON, *(f"{s} off" for s in chosen)]
    for task in plan.tasks:
        mech = load_scenario(task.scenario, task.overrides).mechanisms
        off = {s for s in SWITCHES if not getattr(mech, s)}
        assert off == (set() if task.label == ALL_ON else {task.label.removesuffix(" off")})
    default = ablate.ablation_spec(load_headline("overpromise_vs_honest"))
    reasons = ablate.applicable(load_scenario("overpromise_vs_honest"))
    labels = [p["label"] for p in default["design"]["points"]]
    assert labels == [ALL_ON, *(f"{s} off" for s in SWITCHES if not reasons[s])]

    res = sim.sweep.run(plan, tmp_path / "ablation", executor="serial")
    values = ablate.headline_values(res, h)
    by = values.pivot(index="replicate", columns="label", values="value")
    assert len(by) == 2 and by.notna().all().all()
    # a channel the scenario uses changes the run; one it cannot use leaves it bit for bit
    # (common random numbers: replicate r of every point has the same seed)
    assert not np.allclose(by["promise_choice off"], by[ALL_ON])
    assert np.array_equal(by["disclosure_cost off"], by[ALL_ON])
    for skipped in ("targeting", "focus_investment", "teaching"):
        assert np.array_equal(by[f"{skipped} off"], by[ALL_ON])
    firms = res.df("firms")
    trust = firms[firms["step"] == 52].pivot_table(
        index=["point", "replicate"], columns="name", values="trust"
    )
    on = trust.loc[0]
    expected = on["Straight Talk"] - on["Big Promises"]
    assert np.allclose(by[ALL_ON].to_numpy(), expected.to_numpy())
    summary = ablate.summarise(values)
    assert summary["n"].tolist() == [2] * len([*chosen, ALL_ON])
    assert summary.loc[summary["switch"] == "targeting", "diff"].item() == 0


def load_headline(name: str) -> Headline:
    return ablate.load_headlines()[name]


def test_a_headlines_interval_stays_within_what_its_claim_can_take() -> None:
    """overpromise_vs_honest's headline (Straight Talk's share minus Big Promises') over five
    replicates, four at 1.0: the t-interval +0.61 to +1.18 is written +0.61 to +1.00, and the
    verdicts do not move."""
    from sim.robustness.margins import margin_range

    h = load_headline("overpromise_vs_honest")
    within = margin_range(h.parsed())
    assert within == (-1.0, 1.0)
    values = pd.DataFrame(
        {
            "point": [0] * 5 + [1] * 5,
            "label": [ALL_ON] * 5 + ["reviews off"] * 5,
            "replicate": list(range(5)) * 2,
            "value": [1.0, 1.0, 1.0, 1.0, 0.485, 1.0, 1.0, 0.2, 0.3, 0.1],
        }
    )
    raw = ablate.summarise(values).set_index("label")
    kept = ablate.summarise(values, within=within).set_index("label")
    assert raw.loc[ALL_ON, "ci_high"] > 1.15 and kept.loc[ALL_ON, "ci_high"] == 1.0
    assert kept.loc[ALL_ON, "ci_low"] == raw.loc[ALL_ON, "ci_low"] == pytest.approx(0.611, abs=1e-3)
    assert (kept["ci_low"] >= -1).all() and (kept["diff_low"] >= -2).all()
    assert kept["verdict"].tolist() == raw["verdict"].tolist()
    assert kept["changed"].tolist() == raw["changed"].tolist()


def _summary(rows: list[tuple[str | None, float, float, float, float, float]]) -> pd.DataFrame:
    out = []
    for switch, mean, low, high, dlow, dhigh in rows:
        out.append(
            {
                "switch": switch,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "verdict": ablate.verdict(low, high),
                "diff": (dlow + dhigh) / 2,
                "diff_low": dlow,
                "diff_high": dhigh,
                "changed": switch is not None and ablate.verdict(dlow, dhigh) != "undecided",
            }
        )
    return pd.DataFrame(out)


def test_the_words_say_which_channel_carries_a_verdict() -> None:
    one = _summary(
        [
            (None, 0.3, 0.2, 0.4, 0, 0),
            ("a", 0.0, -0.1, 0.1, -0.4, -0.2),  # gone, and significantly smaller
            ("b", 0.3, 0.2, 0.4, -0.05, 0.05),
            ("c", 0.25, -0.1, 0.6, -0.2, 0.1),  # wider, not significantly smaller
        ]
    )
    text = ablate.carried_by(one)
    assert "carried by `a`" in text and "`c` off its interval also reaches 0" in text
    both = _summary(
        [
            (None, -0.3, -0.4, -0.2, 0, 0),
            ("a", 0.2, 0.1, 0.3, 0.4, 0.6),
            ("b", 0, -0.1, 0.1, 0.2, 0.4),
        ]
    )
    text = ablate.carried_by(both)
    assert "any one of `a` and `b`" in text and "reverses with `a` off" in text
    none = _summary([(None, 0.3, 0.2, 0.4, 0, 0), ("a", 0.28, 0.2, 0.36, -0.03, -0.01)])
    assert "no one channel carries it" in ablate.carried_by(none)
    shrunk = _summary([(None, 0.9, 0.6, 1.2, 0, 0), ("a", 0.05, 0.01, 0.09, -1.1, -0.6)])
    text = ablate.carried_by(shrunk)
    assert "no one channel carries it" in text and "less than 20% of its size" in text
    assert "`a` (+0.050) off: that channel carries most of it" in text


def test_switching_off_the_trust_channel_removes_most_of_the_overpromisers_trust_gap(
    tmp_path,
) -> None:
    """A switch changes a headline, not just a run: with kept and broken promises no longer
    moving trust, Big Promises' customers trust it about as much as Straight Talk's trust theirs
    (a gap of about 0.03 against 0.5 with every channel on), while switching off promises in
    choice leaves the gap where it was."""
    h = Headline(
        "overpromise_vs_honest",
        "trust_breaks",
        "Straight Talk's trust at year 1 minus Big Promises'",
        customers=300,
        years=1,
    )
    spec = ablate.ablation_spec(h, replicates=3, switches=["trust_promises", "promise_choice"])
    values = ablate.headline_values(sim.sweep.run(spec, tmp_path / "a", executor="serial"), h)
    summary = ablate.summarise(values).set_index("switch")
    on = summary.loc[summary.index.isna()].iloc[0]
    trust, choice = summary.loc["trust_promises"], summary.loc["promise_choice"]
    assert on["verdict"] == "holds" and on["mean"] > 0.3
    assert trust["changed"] and trust["mean"] < 0.2 * on["mean"]
    assert abs(choice["mean"] - on["mean"]) < 0.25 * on["mean"]
    text = ablate.carried_by(summary.reset_index())
    assert "`trust_promises` (-0." in text  # named first among the switches that move it most


def test_the_page_shows_the_command_that_makes_it_again() -> None:
    import run

    assert run._command({run.REPLICATES}).endswith("experiments/ablations/run.py")
    assert run._command({5}).endswith("run.py --replicates 5")


def test_a_contrast_headline_runs_each_point_again_without_the_entrant(tmp_path) -> None:
    """liquid_expectations' headline is a contrast (its claim's ``versus``): every point runs a
    twin where Overnight never enters, and the headline is the twin's banking satisfaction at
    year 10 minus the point's, replicate by replicate."""
    full = load_headline("liquid_expectations")
    h = Headline(full.scenario, full.claim, full.headline, customers=150, years=10)
    chosen = ["benchmark"]
    spec = ablate.ablation_spec(h, replicates=2, switches=chosen)
    points = spec["design"]["points"]
    labels = [p["label"] for p in points]
    assert labels == [ALL_ON, "benchmark off", f"{ALL_ON} versus", "benchmark off versus"]
    assert points[3]["set"] == {**points[1]["set"], "firms.Overnight.entry_step": 100000}
    res = sim.sweep.run(build_plan(spec), tmp_path / "ablation", executor="serial")
    values = ablate.headline_values(res, h)
    assert sorted(values["label"].unique()) == sorted(labels[:2])  # twins are not points
    market = res.df("market")
    sat = market[market["step"] == 520].set_index(["point", "replicate"])["satisfaction[banking]"]
    by = values.set_index(["point", "replicate"])["value"]
    for point in (0, 1):
        for r in (0, 1):
            assert by[point, r] == pytest.approx(sat[point + 2, r] - sat[point, r])
    assert (by.loc[0] > 0).all()  # the retailer lowers banking satisfaction at the defaults
