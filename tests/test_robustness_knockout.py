"""The knockout: each narrowed range redrawn in the fitted worlds, to see whether the facts hold it.

The fit here is made by hand: worlds that reproduce two cheap stand-in facts ('toy.a' within
0.2-0.4, 'toy.b' below 0.5), and two parameters nothing reads that are narrow anyway, as a
lineage would leave them ('toy.c' about 0.5, the whole number 'toy.n' 4 or 5).
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.robustness.fit import FactsFit
from sim.robustness.fit_report import constrained_table, write_fit
from sim.robustness.knockout import (
    FILE,
    NEW_SEED_SHARE,
    held,
    knockout_table,
    redrawn,
    summary,
)
from sim.robustness.ranges import Range
from sim.validation.result import outside

FACTS = ("near", "edge")
RANGES = {
    "toy.a": Range("toy.a", 0.0, 1.0),
    "toy.b": Range("toy.b", 0.0, 1.0),
    "toy.c": Range("toy.c", 0.0, 1.0),
    "toy.n": Range("toy.n", 0.0, 10.0, integer=True),
    "toy.w": Range("toy.w", 0.0, 1.0),
}
RESEED = pd.DataFrame([{"fact": "all of them", "holds": 75, "decided": 83}])
"""The next seed's share in the shipped fit: 75 of 83 fitted worlds."""


def _toy_many(worlds: list[dict], seed: int) -> list[np.ndarray]:
    """The stand-in facts' distances: only 'toy.a' and 'toy.b' are read (the pool pickles this
    by name, so it lives at module level)."""
    return [
        np.array([outside(w["toy.a"], 0.2, 0.4) / 0.2, outside(w["toy.b"], high=0.5) / 0.5])
        for w in worlds
    ]


def _fit(n: int = 60) -> FactsFit:
    rng = np.random.default_rng(11)
    worlds = pd.DataFrame(
        {
            "toy.a": rng.uniform(0.25, 0.35, n),
            "toy.b": rng.uniform(0.0, 0.45, n),
            "toy.c": rng.uniform(0.45, 0.55, n),
            "toy.n": rng.integers(4, 6, n).astype(float),
            "toy.w": rng.uniform(0.0, 1.0, n),
        }
    )
    particles = worlds.assign(weight=1.0 / n, **{f"d:{f}": 0.0 for f in FACTS})
    return FactsFit(
        particles=particles,
        prior_facts=pd.DataFrame(np.zeros((n, 2)), columns=list(FACTS)),
        prior_worlds=worlds,
        epsilons=[0.0],
        generations=1,
        simulations=2 * n,
        ranges=RANGES,
        decoys=rng.uniform(0.0, 1.0, (n, 5)),
        facts=FACTS,
        ancestors=np.zeros(n, int),
    )


def test_the_fit_by_hand_lists_what_it_should() -> None:
    listed = constrained_table(_fit()).set_index("parameter")["narrowed"]
    assert listed.to_dict() == {
        "toy.a": True,
        "toy.c": True,
        "toy.n": True,
        "toy.b": True,
        "toy.w": False,
    }


def test_a_range_the_facts_read_is_held_and_one_nothing_reads_is_not(tmp_path: Path) -> None:
    table = knockout_table(_fit(), tmp_path, seed=5, facts_seed=1, measure=_toy_many)
    t = table.set_index("parameter")
    assert list(t.index) == list(constrained_table(_fit()).query("narrowed")["parameter"])
    assert "toy.w" not in t.index  # not narrowed: not tested
    assert (t["decided"] == 60).all()
    # 'toy.a' redrawn over 0..1 stays within 0.2-0.4 about a fifth of the time, 'toy.b' below
    # 0.5 about half: the facts hold both
    assert 0.08 < t.loc["toy.a", "share"] < 0.35 and t.loc["toy.a", "held"]
    assert 0.3 < t.loc["toy.b", "share"] < 0.7 and t.loc["toy.b", "held"]
    assert t.loc["toy.b", "share_low"] < t.loc["toy.b", "share"] < t.loc["toy.b", "share_high"]
    # nothing reads 'toy.c' or 'toy.n': every world still reproduces the facts, narrow or not
    for k in ("toy.c", "toy.n"):
        assert t.loc[k, "share"] == 1.0 and not t.loc[k, "held"]
        assert t.loc[k, "ratio"] < 0.3  # listed as narrowed all the same
    assert t.loc["toy.n", "low"] == 0 and t.loc["toy.n", "high"] == 10
    # the same against the next seed's share, measured
    again = knockout_table(_fit(), tmp_path, seed=5, facts_seed=1, measure=_toy_many, reseed=RESEED)
    assert list(again["held"]) == list(table["held"])
    line = summary(table)
    assert line.startswith("the facts hold 2 of the 4 narrowed ranges: redrawn, each loses")
    assert "the other 2 do not" in line


def test_the_rule_weighs_both_shares_uncertainty() -> None:
    # the shipped fit's next seed: 75 of 83 (90%, Wilson 82-95%)
    assert held(50, 83, 75, 83)  # 60%: far below
    assert held(62, 83, 75, 83)  # 75% (Wilson 64-83%): below by more than both intervals
    # 80% (Wilson 70-87%): its upper bound is below 90%, but within the next seed's own noise
    assert not held(66, 83, 75, 83)
    assert not held(75, 83, 75, 83) and not held(83, 83, 75, 83)
    # without the reseed test: the next seed's share taken as 0.9, exactly
    assert NEW_SEED_SHARE == 0.9
    assert held(66, 83, None, None) and not held(70, 83, None, None)
    assert not held(0, 0, 75, 83)  # nothing ran: nothing to say


def test_the_redraws_depend_on_the_seed_the_parameter_and_the_world_only() -> None:
    worlds = _fit().posterior
    n = redrawn(worlds, "toy.n", RANGES["toy.n"], seed=5)
    assert n.drop(columns="toy.n").equals(worlds.drop(columns="toy.n"))  # the rest kept
    assert (n["toy.n"] == n["toy.n"].round()).all() and n["toy.n"].between(0, 10).all()
    assert n["toy.n"].nunique() >= 8  # uniform over the range, not about the fitted 4-5
    c = redrawn(worlds, "toy.c", RANGES["toy.c"], seed=5)["toy.c"]
    assert c.between(0, 1).all() and c.std() > 0.2
    # the same seed, the same value for each world, in whatever order the worlds come
    shuffled = worlds.sample(frac=1.0, random_state=3)
    again = redrawn(shuffled, "toy.c", RANGES["toy.c"], seed=5)["toy.c"]
    assert again.sort_index().equals(c)
    assert not redrawn(worlds, "toy.c", RANGES["toy.c"], seed=6)["toy.c"].equals(c)
    other = Range("toy.b", 0.0, 1.0)  # another parameter over the same range: other draws
    assert not np.allclose(redrawn(worlds, "toy.b", other, seed=5)["toy.b"], c)


def test_the_same_seed_gives_the_same_knockout_whatever_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.sweep.executors as executors

    # a pool forked from this process: the real pool's fork server warms the model up first
    # (a minute on a busy machine), which a stand-in measure does not need
    fork = multiprocessing.get_context("fork")
    monkeypatch.setattr(
        executors, "local_pool", lambda workers: ProcessPoolExecutor(workers, mp_context=fork)
    )
    for d in ("one", "two"):
        (tmp_path / d).mkdir()
    one = knockout_table(_fit(), tmp_path / "one", seed=5, facts_seed=1, measure=_toy_many)
    two = knockout_table(
        _fit(), tmp_path / "two", seed=5, facts_seed=1, workers=2, measure=_toy_many
    )
    assert two.equals(one)
    lines = [sorted((tmp_path / d / FILE).read_text().splitlines()) for d in ("one", "two")]
    assert lines[0] == lines[1] and len(lines[0]) == 4 * 60


def test_a_stopped_knockout_resumes_from_its_file(tmp_path: Path) -> None:
    calls: list[dict] = []

    def counting(worlds: list[dict], seed: int) -> list[np.ndarray]:
        assert seed == 3  # the fit's facts seed, not the redraws' seed
        calls.extend(worlds)
        return _toy_many(worlds, seed)

    table = knockout_table(_fit(), tmp_path, seed=5, facts_seed=3, measure=counting)
    assert len(calls) == 4 * 60
    path = tmp_path / FILE
    kept = path.read_text().splitlines()[:100]  # stopped after 100 worlds
    path.write_text("\n".join(kept) + "\n")
    calls.clear()
    resumed = knockout_table(_fit(), tmp_path, seed=5, facts_seed=3, measure=counting)
    assert len(calls) == 4 * 60 - 100 and resumed.equals(table)
    calls.clear()
    assert knockout_table(_fit(), tmp_path, seed=5, facts_seed=3, measure=counting).equals(table)
    assert calls == []  # all read back


def test_the_report_says_which_narrowed_ranges_the_facts_hold(tmp_path: Path) -> None:
    fit = _fit()
    table = knockout_table(fit, tmp_path, seed=5, facts_seed=1, measure=_toy_many)
    text = write_fit(fit, tmp_path, knockout=table).read_text()
    assert "| width ratio | redrawn: still reproduce every fact (95%) |" in text, text
    assert "**the facts hold 2 of the 4**" in text and "each of the 60 distinct" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if "`toy." in line}
    assert set(rows) == {"`toy.a`", "`toy.b`", "`toy.c`", "`toy.n`"}
    assert "| **held**: " in rows["`toy.a`"] and "| not held: 100% (94-100%) |" in rows["`toy.c`"]
    assert json.loads((tmp_path / "fit.json").read_text())["knockout"] == {
        "narrowed": 4,
        "held": 2,
        "held_parameters": ["toy.a", "toy.b"],
    }
    csv = pd.read_csv(tmp_path / "knockout.csv")
    assert list(csv.columns) == [
        "parameter",
        "low",
        "high",
        "ratio",
        "holds",
        "decided",
        "share",
        "share_low",
        "share_high",
        "held",
    ]
    assert csv["held"].sum() == 2
    # without the knockout the table is as it was: no column, no claim about holding
    plain = write_fit(fit, tmp_path / "plain").read_text()
    assert "redrawn" not in plain and "Ranges the facts narrow:" in plain


@pytest.mark.parametrize("held_count", [0, 1, 3])
def test_the_summary_line_counts_what_the_facts_hold(held_count: int) -> None:
    table = pd.DataFrame({"parameter": list("xyz"), "held": [i < held_count for i in range(3)]})
    line = summary(table)
    if held_count == 0:
        assert line.startswith("the facts hold none of the 3 narrowed ranges")
    elif held_count == 1:
        assert "hold 1 of the 3" in line and "it loses" in line and "the other 2 do not" in line
    else:
        assert line.startswith("the facts hold 3 of the 3") and "other" not in line
