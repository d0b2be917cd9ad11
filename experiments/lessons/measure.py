"""Measure what each lesson says: its scenario as shipped and each "thing to try", with replicates.

    nice -n 10 .venv/bin/python experiments/lessons/measure.py                 # every lesson
    .venv/bin/python experiments/lessons/measure.py --only 02_promises --replicates 4

For each lesson in docs/lessons/ this runs a sweep (``sim.sweep``, list design: the scenario as
shipped, then each "thing to try" of the lesson's front matter) for the lesson's number of steps,
into ``results/lessons/<lesson>/`` (resumable), and prints per firm and condition the mean and
95% interval over replicates of share, trust, satisfaction and annual retention at the end, the
customers won in the first quarter, and per industry the market's satisfaction at the end of
year 1 and at the end. The tables are also written to ``results/lessons/<lesson>/summary.csv``.
The numbers quoted in the lessons come from this script at its defaults: 8 runs of 2,000
customers each (the whole set took 26 s on 2 cores on 5 December 2026).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import sim.sweep
from sim.lessons import load_lessons
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent.parent
AS_SHIPPED = "as shipped"
FIRMS = ["share", "trust", "satisfaction", "retention_annual", "acquired", "switched_in", "alive"]
FIRMS += ["load", "failures", "customers", "cash", "wom_positive", "wom_negative", "capability"]


def spec(lesson, replicates: int, customers: int) -> dict:
    """The sweep of one lesson: as shipped, then each thing to try."""
    sc = load_scenario(lesson.scenario)
    points = [{"label": AS_SHIPPED, "set": {"mechanisms.loss_aversion": True}}]
    points += [{"label": t.label, "set": dict(t.set)} for t in lesson.tries]
    # an integer key some point sets is set in every point (to the shipped value where the
    # point does not change it): the sweep's design table cannot hold a missing integer
    shipped = sc.model_dump()
    keys = {k for p in points for k in p["set"]}
    integers = {k for k in keys if type(_value_at(shipped, k)) is int}
    for p in points:
        for k in integers - set(p["set"]):
            p["set"][k] = _value_at(shipped, k)
    return {
        "name": f"lesson_{lesson.slug}",
        "scenario": lesson.scenario,
        "seed": 2028,
        "replicates": replicates,
        "steps": lesson.steps,
        "common_random_numbers": True,
        "set": {"market.customers": customers, "description": ""},
        "design": {"kind": "list", "points": points},
        "output": {
            "tables": ["market", "firms"],
            "every": 1,
            "firms": FIRMS,
            "market": [
                "satisfaction",
                "retention_annual",
                "wom_ratio",
                *(f"satisfaction[{m}]" for m in sc.market.industries),
            ],
        },
        "analysis": {"outcomes": ["retention_annual"]},
    }


def _value_at(data: dict, key: str) -> object:
    """The value of an override key (``a.b``, ``a[1].b``, ``firms.NAME.b``) in a dumped scenario."""
    node: object = data
    for part in re.findall(r"[^.\[\]]+", key):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() else next(x for x in node if x["name"] == part)
        else:
            node = node[part]
    return node


def _ci(v: pd.Series) -> str:
    x = v.dropna().to_numpy(float)
    if len(x) == 0:
        return "n/a"
    if len(x) < 2:
        return f"{x.mean():.3f}"
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return f"{x.mean():.3f} ± {half:.3f}"


def summarise(res: sim.sweep.SweepResults, steps: int) -> pd.DataFrame:
    """One row per condition and firm (and per industry for the market), means ± 95% CI."""
    design = res.design()[["point", "label"]]
    firms = res.df("firms").merge(design, on="point")
    market = res.df("market").merge(design, on="point")
    spy = 52
    end = firms[firms["step"] == steps]
    early = firms[firms["step"] <= 13].groupby(["label", "replicate", "name"], sort=False)
    won = (early["acquired"].sum() + early["switched_in"].sum()).rename("won_q1").reset_index()
    rows = []
    for (label, name), g in end.groupby(["label", "name"], sort=False):
        w = won[(won["label"] == label) & (won["name"] == name)]["won_q1"]
        rows.append(
            {
                "condition": label,
                "who": name,
                "share": _ci(g["share"]),
                "trust": _ci(g["trust"]),
                "satisfaction": _ci(g["satisfaction"]),
                "retention": _ci(g["retention_annual"]),
                "won_q1": _ci(w),
                "alive": f"{int(g['alive'].sum())}/{len(g)}",
                "cash": _ci(g["cash"] / res.spec.fixed["market.customers"]),
            }
        )
    industries = [c for c in market.columns if c.startswith("satisfaction[")]
    for label, g in market.groupby("label", sort=False):
        for col in industries:
            y1 = g[g["step"] == spy][col]
            last = g[g["step"] == steps][col]
            diff = last.to_numpy() - y1.to_numpy()
            rows.append(
                {
                    "condition": label,
                    "who": col,
                    "satisfaction": _ci(last),
                    "share": f"year 1: {_ci(y1)}",
                    "trust": f"change: {_ci(pd.Series(diff))}",
                }
            )
        last = g[g["step"] == steps]
        rows.append(
            {
                "condition": label,
                "who": "market",
                "retention": _ci(last["retention_annual"]),
                "satisfaction": _ci(last["satisfaction"]),
                "share": f"wom +:- {_ci(last['wom_ratio'])}",
            }
        )
    return pd.DataFrame(rows).fillna("")


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) the lessons' sweeps and print their tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", metavar="LESSON", help="lesson slugs, e.g. 02_promises")
    p.add_argument("--replicates", type=int, default=8)
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "lessons")
    args = p.parse_args(argv)
    lessons = {ls.slug: ls for ls in load_lessons()}
    unknown = [slug for slug in args.only or [] if slug not in lessons]
    if unknown:
        print(f"--only: unknown lesson {unknown[0]!r}; expected one of {sorted(lessons)}")
        return 2
    with sim.sweep.LocalExecutor(args.workers) as pool:  # one pool for every lesson's sweep
        for slug in args.only or list(lessons):
            lesson = lessons[slug]
            res = sim.sweep.run(
                spec(lesson, args.replicates, args.customers), args.out / slug, executor=pool
            )
            table = summarise(res, lesson.steps)
            table.to_csv(args.out / slug / "summary.csv", index=False)
            runs = f"{lesson.steps} steps, {args.replicates} runs each"
            print(f"\n== {slug} ({lesson.scenario}, {runs})")
            with pd.option_context("display.width", 250, "display.max_colwidth", 40):
                print(table.to_string(index=False))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
