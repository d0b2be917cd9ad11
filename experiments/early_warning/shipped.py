"""How often an indicator fell before churn rose, over the shipped scenarios.

Runs every shipped strategy scenario as shipped (its own size, seed and 520 weeks), watches each
firm with :func:`sim.early_warning.early_warning` at its default settings, and prints per
scenario the rises of churn, how many had an indicator falling first and by how many weeks, and
per indicator its alarms and false alarms over all scenarios (docs/MODEL.md, section 4.11, and
the README quote these figures).

    python experiments/early_warning/shipped.py            # about 15 s on 2 cores
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import sim
from sim.early_warning import INDICATORS, early_warning
from sim.scenario import list_scenarios, load_scenario

SKIP = {"bass_docking"}  # one firm, no churn: a validation scenario


def watch(steps: int = 520) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(episodes, per indicator)``: each rise of churn of every firm of the shipped strategy
    scenarios (as shipped, ``steps`` weeks) with whether an indicator fell first and by how
    many weeks, and each indicator's alarms, false alarms and warnings over them all."""
    scores, rows = [], []
    for name, path, _ in list_scenarios():
        if name in SKIP:
            continue
        scenario = load_scenario(path)
        market = sim.CustomerMarket(scenario)  # its own seed
        market.run(steps)
        ew = early_warning(market.firm_metrics())
        scores.append(ew.scores.assign(scenario=name))
        for (firm, week), g in ew.leads.groupby(["name", "churn_week"]):
            first = g["lead_weeks"].max()
            rows.append(
                {
                    "scenario": name,
                    "firm": firm,
                    "churn_week": week,
                    "warned": bool(first > 0),
                    "lead_weeks": first if first > 0 else float("nan"),
                    "first": g.loc[g["lead_weeks"].idxmax(), "indicator"] if first > 0 else "",
                }
            )
    episodes = pd.DataFrame(rows)
    per = pd.concat(scores).groupby("indicator")[["alarms", "false_alarms", "warned"]].sum()
    per.index = [INDICATORS[i].label for i in per.index]
    return episodes, per


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=520)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    episodes, per = watch(args.steps)
    pd.set_option("display.width", 160)
    print(episodes.to_string(index=False))
    print(per.to_string())
    warned = episodes[episodes["warned"]]
    print(
        f"\n{len(episodes)} rises of churn in {episodes['scenario'].nunique()} scenarios; "
        f"{len(warned)} had an indicator falling first, by "
        f"{warned['lead_weeks'].min():.0f}-{warned['lead_weeks'].max():.0f} weeks; "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
