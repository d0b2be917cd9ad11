"""What a run says about each observed row (``sim.calibration.summaries``), against the rules
stated row by row with pandas.

``Summaries.simulate`` reads a run's tables as arrays once (it runs in the calibration's own
process for every run). :func:`reference` below states each series' rule the plain way, one
pandas selection per observed row, as the module's docstring gives them; the two must agree to
the bit on tables made to hold what a run's tables can: steps missing (a run that ended early,
rows not kept), NaN values, a firm with no rows, cohorts with several snapshots, two snapshots
equally near a row's step, and on the tables of real runs of the calibration example.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.data import read_observed
from sim.calibration.summaries import Summaries

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "experiments" / "calibration"
FIRMS = ["Acme", "Rival"]
COLUMN = {"nps": "nps", "satisfaction": "satisfaction", "retention": "retention_annual"}
COLUMN["share"] = "share"


def reference(s: Summaries, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """The rows' values, each by its own pandas selection."""
    df = s.observed.frame
    out = np.full(s.n, np.nan)
    market = tables["market"].set_index("step")
    firms = {name: g.set_index("step") for name, g in tables["firms"].groupby("name")}
    cohorts = tables.get("cohorts")
    for i, row in enumerate(df.itertuples()):
        table = firms.get(row.firm) if row.firm else market
        if table is None:
            continue
        step = int(s.steps[i])
        if row.series in COLUMN:
            out[i] = value_at(table, COLUMN[row.series], step)
        elif row.series == "churn":
            inside = (table.index > s.starts[i]) & (table.index <= step)
            window = table["retention_weekly"].loc[inside]
            kept = np.nanprod(window.to_numpy(dtype=float)) if len(window) else np.nan
            out[i] = 1.0 - kept
        elif row.series == "purchases" and row.cohort < 0:
            column = "customers" if row.firm else "served"
            first = table[column].iloc[0] if len(table) else np.nan
            out[i] = value_at(table, column, step) / first if first > 0 else np.nan
        elif cohorts is not None:
            out[i] = cohort_value(cohorts, row.firm, int(row.cohort), step, row.series)
    s._profile_rates(out)
    return out


def value_at(table: pd.DataFrame, column: str, step: int) -> float:
    """At ``step``, else at the latest step before it; NaN if none."""
    if step in table.index:
        v = table.at[step, column]
    else:
        earlier = table.index[table.index <= step]
        if not len(earlier):
            return np.nan
        v = table.at[earlier.max(), column]
    return float(v) if v is not None else np.nan


def cohort_value(cohorts: pd.DataFrame, firm: str, cohort: int, step: int, series: str) -> float:
    """Survival or share of the cohort's size at the snapshot nearest to ``step``."""
    mine = cohorts[cohorts["cohort"] == cohort]
    if firm:
        mine = mine[mine["name"] == firm]
    if mine.empty:
        return np.nan
    snaps = mine["step"].unique()
    nearest = snaps[np.argmin(np.abs(snaps - step))]
    at = mine[mine["step"] == nearest]
    remaining = float(at["remaining"].sum())
    if series == "survival":
        joined = float(at["joined"].sum())
        return min(1.0, remaining / joined) if joined > 0 else np.nan
    size = float(mine.groupby("step")["joined"].sum().max())
    return remaining / size if size > 0 else np.nan


ROWS = """series,firm,cohort,year,value,holdout
survival,Acme,0,0.5,0.9,False
survival,Acme,0,1.0,0.8,False
survival,Rival,1,1.5,0.7,False
survival,,0,1.0,0.85,True
purchases,Acme,0,0.5,0.3,False
purchases,Acme,0,1.0,0.2,True
purchases,Rival,,0.5,0.4,False
purchases,,,1.0,0.5,False
churn,Acme,,0.5,0.1,False
churn,Acme,,1.0,0.1,False
churn,,,1.0,0.2,False
nps,Acme,,1.0,10,False
nps,,,0.5,5,False
satisfaction,Rival,,1.0,7,False
retention,Acme,,1.0,0.8,True
share,Rival,,0.5,0.4,False
"""


def made_tables(rng: np.random.Generator, steps: int) -> dict[str, pd.DataFrame]:
    """A run's tables with what real ones may hold: kept steps with gaps, an early end, NaN
    values, sometimes no rows of one firm, cohorts with snapshots at scattered steps."""
    end = int(rng.integers(steps // 2, steps + 3))
    kept = np.sort(rng.choice(np.arange(0, end), size=max(1, end * 2 // 3), replace=False))

    def noisy(n: int, low: float, high: float) -> np.ndarray:
        v = rng.uniform(low, high, n)
        v[rng.random(n) < 0.1] = np.nan
        return v

    market = pd.DataFrame(
        {
            "step": kept,
            "served": rng.integers(0, 500, len(kept)),
            "retention_weekly": noisy(len(kept), 0.9, 1.0),
            "retention_annual": noisy(len(kept), 0.5, 1.0),
            "nps": noisy(len(kept), -50, 50),
            "satisfaction": noisy(len(kept), 4, 9),
        }
    )
    names = [n for n in FIRMS if rng.random() > 0.15]  # a firm may have no rows at all
    firms = pd.concat(
        [
            pd.DataFrame(
                {
                    "step": kept,
                    "name": name,
                    "customers": rng.integers(0, 300, len(kept)),
                    "share": noisy(len(kept), 0, 1),
                    "retention_weekly": noisy(len(kept), 0.9, 1.0),
                    "retention_annual": noisy(len(kept), 0.5, 1.0),
                    "nps": noisy(len(kept), -50, 50),
                    "satisfaction": noisy(len(kept), 4, 9),
                }
            )
            for name in names
        ]
        or [pd.DataFrame(columns=["step", "name", "customers"])],
        ignore_index=True,
    )
    snaps = np.sort(rng.choice(np.arange(1, steps + 4), size=6, replace=False))
    cohorts = pd.DataFrame(
        [
            {
                "step": int(t),
                "name": name,
                "cohort": cohort,
                "joined": int(rng.integers(0, 60)),
                "remaining": int(rng.integers(0, 40)),
            }
            for t in snaps
            for name in FIRMS
            for cohort in (0, 1)
            if rng.random() > 0.2
        ]
    )
    return {"market": market, "firms": firms, "cohorts": cohorts}


def test_simulate_is_the_rules_row_by_row_on_made_tables(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS)
    s = Summaries(read_observed(path, FIRMS), steps_per_year=12)
    rng = np.random.default_rng(11)
    finite = 0
    for _ in range(200):
        tables = made_tables(rng, 12)
        got = s.simulate(tables)
        np.testing.assert_array_equal(got, reference(s, tables))
        finite += np.isfinite(got).sum()
    assert finite > 0.6 * 200 * s.n  # most rows have a value: the comparisons are not all NaN


def test_the_nearest_of_two_equally_near_snapshots_is_the_first_the_table_has(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("series,firm,cohort,year,value\nsurvival,Acme,0,0.5,0.9\n")
    s = Summaries(read_observed(path, FIRMS), steps_per_year=12)  # the row's step: 6
    empty = pd.DataFrame({"step": [1], "served": [1]})
    for order in ([7, 5], [5, 7]):  # 5 and 7 are both one step away
        cohorts = pd.DataFrame(
            {"step": order, "name": "Acme", "cohort": 0, "joined": [10, 10], "remaining": [9, 3]}
        )
        tables = {"market": empty, "firms": empty.assign(name="Acme"), "cohorts": cohorts}
        got = s.simulate(tables)
        assert got[0] == 0.9  # the first row's snapshot (9 of 10), whichever step it is
        np.testing.assert_array_equal(got, reference(s, tables))


@pytest.mark.slow
def test_simulate_is_the_rules_row_by_row_on_runs_of_the_example() -> None:
    from sim.calibration.simulate import Simulator
    from sim.calibration.spec import load_calibration
    from sim.scenario import load_scenario
    from sim.sweep.executors import SerialExecutor
    from sim.sweep.worker import RunBatch, run_batch

    scenario = load_scenario(EXAMPLE / "recovery_market.toml")
    spec = load_calibration(EXAMPLE / "example_calibration.toml", scenario)
    observed = read_observed(EXAMPLE / "example_retention.csv", [f.name for f in scenario.firms])
    s = Summaries(observed, scenario.steps_per_year)
    simulator = Simulator(scenario, spec.priors, s, 1, SerialExecutor())
    rng = np.random.default_rng(3)
    tasks = [
        simulator.task(f"{i:016x}", {p.key: float(p.sample(rng, 1)[0]) for p in spec.priors})
        for i in range(6)
    ]
    results = run_batch(RunBatch(tuple(tasks)))
    assert all(r.status == "ok" for r in results)
    for r in results:
        got = s.simulate(r.tables)
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, reference(s, r.tables))
