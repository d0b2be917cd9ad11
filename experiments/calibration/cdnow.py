"""CDNOW: calibrate the model to the first 32 weeks of each customer's repeat purchases and
forecast the next 32; compare with BG/NBD and Pareto/NBD fitted on the same weeks.

The data: CDNOW's 23,570 customers who first bought in the first quarter of 1997, with every
purchase until the end of June 1998 (Fader & Hardie's CDNOW master file, shipped in the
``lifetimes`` package; nothing is downloaded). Series: repeat purchases per customer in each
4-week period of age (weeks since the customer's first purchase), 16 periods (64 weeks, the
age every customer was observed to). Split: periods 1-8 fit, 9-16 forecast.

- **cxsim**: ``cdnow_market`` calibrated by ABC-SMC to periods 1-8 (purchases = a profiled
  rate times the share of the cohort still a CDNOW customer); the forecast is the posterior
  predictive median and 90% band of periods 9-16.
- **BG/NBD** (Fader, Hardie & Lee 2005) and **Pareto/NBD** (Schmittlein, Morrison & Colombo
  1987) from ``lifetimes``, fitted on each customer's first 32 weeks (frequency, recency,
  T = 32); the forecast is the expected repeat purchases per customer in each later period,
  unconditional (the tracking curve, as the model's) and, for BG/NBD, conditional on each
  customer's own history (the forecast these models are built for).

Writes docs/calibration_figures/cdnow_*.png and cdnow_results.json with --docs. Usage::

    nice -n 10 .venv/bin/python experiments/calibration/cdnow.py --out results/cdnow --docs
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
HERE = Path(__file__).resolve().parent

PERIOD_DAYS = 28
PERIODS = 16
FIT_PERIODS = 8


def load_cdnow() -> pd.DataFrame:
    """CDNOW's purchase log as shipped by lifetimes (customer_id, date, number_of_cds, ...).

    Read from the package's files directly: ``lifetimes.datasets`` imports ``pkg_resources``,
    which recent setuptools no longer ship.
    """
    from importlib.resources import files

    path = files("lifetimes") / "datasets" / "CDNOW_master.txt"
    log = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log


def fit_window(days: pd.DataFrame, weeks: float) -> pd.DataFrame:
    """frequency, recency, T (weeks) of each customer over the first ``weeks`` of its life."""
    horizon = weeks * 7
    within = days[(days["age_days"] > 0) & (days["age_days"] <= horizon)]
    g = within.groupby("customer")["age_days"]
    out = pd.DataFrame(index=pd.Index(days["customer"].unique(), name="customer"))
    out["frequency"] = g.count().reindex(out.index).fillna(0)
    out["recency"] = (g.max().reindex(out.index).fillna(0)) / 7
    out["T"] = weeks
    return out


def statistical_forecasts(days: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Per-period expected repeat purchases per customer from BG/NBD and Pareto/NBD."""
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    weeks = FIT_PERIODS * PERIOD_DAYS / 7
    cal = fit_window(days, weeks)
    started = time.perf_counter()
    bg = BetaGeoFitter().fit(cal["frequency"], cal["recency"], cal["T"])
    bg_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pnbd = ParetoNBDFitter().fit(cal["frequency"], cal["recency"], cal["T"])
    pnbd_seconds = time.perf_counter() - started
    ends = np.arange(0, PERIODS + 1) * PERIOD_DAYS / 7  # weeks of age at period ends
    out = pd.DataFrame({"period": np.arange(1, PERIODS + 1)})
    for name, model in (("BG/NBD", bg), ("Pareto/NBD", pnbd)):
        cum = np.array([float(model.expected_number_of_purchases_up_to_time(t)) for t in ends])
        out[name] = np.diff(cum)
    # conditional on each customer's first 32 weeks, for the forecast periods
    cond = np.zeros(PERIODS)
    for k in range(FIT_PERIODS + 1, PERIODS + 1):
        a = (k - 1 - FIT_PERIODS) * PERIOD_DAYS / 7
        b = (k - FIT_PERIODS) * PERIOD_DAYS / 7
        e_b = bg.conditional_expected_number_of_purchases_up_to_time(
            b, cal["frequency"], cal["recency"], cal["T"]
        )
        e_a = (
            bg.conditional_expected_number_of_purchases_up_to_time(
                a, cal["frequency"], cal["recency"], cal["T"]
            )
            if a > 0
            else 0.0
        )
        cond[k - 1] = float(np.mean(e_b - e_a))
    cond[:FIT_PERIODS] = np.nan
    out["BG/NBD conditional"] = cond
    params = {
        "BG/NBD": {k: float(v) for k, v in bg.params_.items()},
        "Pareto/NBD": {k: float(v) for k, v in pnbd.params_.items()},
        "fit seconds": {"BG/NBD": bg_seconds, "Pareto/NBD": pnbd_seconds},
    }
    return out, params


def errors(forecast: np.ndarray, observed: np.ndarray) -> dict:
    """Forecast errors over the held-out periods, and the error of the fit on the fitted ones."""
    held = slice(FIT_PERIODS, PERIODS)
    f, o = np.asarray(forecast)[held], np.asarray(observed)[held]
    fit, fit_o = np.asarray(forecast)[:FIT_PERIODS], np.asarray(observed)[:FIT_PERIODS]
    return {
        "MAE": float(np.mean(np.abs(f - o))),
        "MAPE %": float(100 * np.mean(np.abs(f - o) / o)),
        "cumulative error %": float(100 * (f.sum() - o.sum()) / o.sum()),
        "fit MAPE %": (
            float(100 * np.nanmean(np.abs(fit - fit_o) / fit_o)) if np.isfinite(fit).any() else None
        ),
    }


def plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = table["period"] * PERIOD_DAYS / 7
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    ax = axes[0]
    ax.fill_between(
        weeks,
        table["cxsim q05"],
        table["cxsim q95"],
        color="tab:blue",
        alpha=0.2,
        lw=0,
        label="cxsim 90% predictive",
    )
    ax.plot(weeks, table["cxsim median"], color="tab:blue", lw=1.8, label="cxsim (calibrated)")
    ax.plot(weeks, table["BG/NBD"], color="tab:orange", lw=1.5, label="BG/NBD")
    ax.plot(weeks, table["Pareto/NBD"], color="tab:green", lw=1.2, ls="--", label="Pareto/NBD")
    ax.plot(
        weeks,
        table["BG/NBD conditional"],
        color="tab:red",
        lw=1.2,
        ls=":",
        label="BG/NBD, conditional",
    )
    ax.plot(weeks, table["observed"], "o", color="black", ms=4, label="CDNOW")
    split = FIT_PERIODS * PERIOD_DAYS / 7
    ax.axvline(split, color="grey", ls=":", lw=1)
    ax.text(split + 0.5, ax.get_ylim()[1] * 0.95, "forecast", fontsize=8, va="top")
    ax.set_xlabel("weeks since first purchase")
    ax.set_ylabel("repeat purchases per customer, 4 weeks")
    ax.set_title("CDNOW cohort (23,570 customers)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[1]
    held = table["period"] > FIT_PERIODS
    obs = table["observed"].where(held, 0).cumsum()
    for col, style in (
        ("cxsim median", "tab:blue"),
        ("BG/NBD", "tab:orange"),
        ("Pareto/NBD", "tab:green"),
        ("BG/NBD conditional", "tab:red"),
    ):
        ax.plot(weeks[held], table[col].where(held, 0).cumsum()[held], color=style, label=col)
    ax.plot(weeks[held], obs[held], "o", color="black", ms=4, label="CDNOW")
    ax.set_title("cumulative over the forecast weeks")
    ax.set_xlabel("weeks since first purchase")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    from sim.calibration.progress import make_progress
    from sim.calibration.run import calibrate
    from sim.calibration.transactions import purchases_by_age, repeat_purchase_days

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "results" / "cdnow"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--docs", action="store_true", help="write figures to docs/")
    parser.add_argument("--quick", action="store_true", help="a tiny budget (checks the script)")
    parser.add_argument(
        "--calibration",
        default=str(HERE / "cdnow_calibration.toml"),
        help="the calibration file (default: cdnow_calibration.toml)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log = load_cdnow()
    rows = purchases_by_age(
        log, period_days=PERIOD_DAYS, periods=PERIODS, holdout_after=FIT_PERIODS, firm="CDNOW"
    )
    data_path = out / "cdnow_purchases.csv"
    rows.to_csv(data_path, index=False)
    print(f"{rows['n'].iloc[0]} customers, {len(log)} purchase lines -> {data_path}")
    stats, params = statistical_forecasts(repeat_purchase_days(log, "customer_id", "date"))
    from sim.calibration.spec import load_calibration
    from sim.scenario import load_scenario

    market = load_scenario(HERE / "cdnow_market.toml")
    spec = load_calibration(args.calibration, market)
    if args.quick:
        spec = spec.with_changes(population=12, generations=1, predictive=8)
    result = calibrate(
        market,
        data_path,
        spec,
        out / "calibration",
        workers=args.workers,
        progress=make_progress(),
        data_name="CDNOW repeat purchases (lifetimes' CDNOW_master.txt)",
    )
    bands = result.bands.reset_index(drop=True)
    table = stats.copy()
    table["observed"] = rows["value"].to_numpy()
    table["cxsim median"] = bands["q50"].to_numpy()
    table["cxsim q05"] = bands["q05"].to_numpy()
    table["cxsim q95"] = bands["q95"].to_numpy()
    summary = {
        "customers": int(rows["n"].iloc[0]),
        "errors": {
            name: errors(table[name], table["observed"])
            for name in ("cxsim median", "BG/NBD", "Pareto/NBD", "BG/NBD conditional")
        },
        "cxsim held-out points inside 90% band": float(
            bands.loc[bands["holdout"], "inside90"].mean()
        ),
        "cxsim posterior": result.intervals.round(4).to_dict("records"),
        "cxsim identifiability": result.identifiability.round(3).to_dict("records"),
        "cxsim runs used": result.runs_used,
        "statistical models": params,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "cdnow_results.json").write_text(json.dumps(summary, indent=1))
    table.to_csv(out / "cdnow_table.csv", index=False)
    plot(table, out / "cdnow_forecast.png")
    with pd.option_context("display.width", 200):
        print(table.round(4).to_string(index=False))
        print(pd.DataFrame(summary["errors"]).T.round(4))
    print(json.dumps({k: summary[k] for k in ("cxsim runs used", "seconds")}))
    if args.docs:
        docs = REPO / "docs" / "calibration_figures"
        docs.mkdir(parents=True, exist_ok=True)
        plot(table, docs / "cdnow_forecast.png")
        (docs / "cdnow_results.json").write_text(json.dumps(summary, indent=1))
        import shutil

        shutil.copy(result.files["predictive.png"], docs / "cdnow_predictive.png")
        shutil.copy(result.files["marginals.png"], docs / "cdnow_marginals.png")


if __name__ == "__main__":
    main()
