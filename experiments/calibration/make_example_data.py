"""Write example_retention.csv: series the recovery market makes at known parameters.

The truth (switching.intercept = -2.5, satisfaction.loss_aversion = 1.6) is what
``cxsim calibrate`` should find again from experiments/calibration/example_calibration.toml
(docs/calibration.md walks through it). Rows after year 1.5 are held out for the forecast.

    .venv/bin/python experiments/calibration/make_example_data.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

TRUTH = {"switching.intercept": -2.5, "satisfaction.loss_aversion": 1.6}


def main() -> None:
    from sim.calibration.synthetic import synthetic_observations

    # survival of the first year's cohort once that year is over (until then the model's yearly
    # cohort is still filling up, and its remaining/joined ratio can rise)
    years = (1.0, 1.25, 1.5, 1.75, 2.0)
    rows = [("survival", firm, 0, y) for firm in ("Acme", "Rival") for y in years]
    rows += [("nps", "Acme", None, y) for y in (0.5, 1.0, 1.5, 2.0)]
    rows += [("share", "Acme", None, y) for y in (0.5, 1.0, 1.5, 2.0)]
    template = pd.DataFrame(rows, columns=["series", "firm", "cohort", "year"])
    template["holdout"] = template["year"] > 1.5
    data = synthetic_observations(HERE / "recovery_market.toml", TRUTH, template, seed=2024)
    data["value"] = data["value"].round(4)
    data = data[["series", "firm", "cohort", "year", "value", "holdout"]]
    data["cohort"] = data["cohort"].astype("Int64")
    data.to_csv(HERE / "example_retention.csv", index=False)
    print(data.to_string(index=False))


if __name__ == "__main__":
    main()
