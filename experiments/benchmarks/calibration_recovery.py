"""Parameter recovery: calibrate to series the model made at known parameters; report coverage.

For each of R replicates a truth is drawn from the prior and one run of the recovery market at
that truth (its own seed) gives the "observed" series: cohort survival of both firms, NPS and
share of one. Each method then calibrates to each replicate; the 90% credible interval of a
parameter should hold its truth in about 90% of the replicates (over the prior, a calibrated
posterior covers at its nominal rate). Printed per method: coverage per parameter, mean width of
the 90% interval over the prior's, runs used and wall time.

Methods:

- ``abc-smc``: the product's method (``sim.calibration.calibrate``, pyabc), one calibration per
  replicate, each in its own resumable folder under ``--out``.
- ``rejection``: plain rejection ABC on one shared table of prior runs (the closest 5% by the
  same standardized distance); what the SMC's generations add over it.
- ``npe``: neural posterior estimation with ``sbi`` (an optional install: torch + sbi, ~900 MB),
  trained once on the same shared table and amortized over the replicates.

All runs go through the sweep executors (local cores). Usage (from the repository root)::

    nice -n 10 .venv/bin/python experiments/benchmarks/calibration_recovery.py \
        --replicates 20 --out results/calibration_recovery

Rerun with the same --out to resume. The JSON summary and the figure go to --out and, with
--docs, to docs/calibration_figures/.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

MARKET = REPO / "experiments" / "calibration" / "recovery_market.toml"
PRIORS = {
    "switching.intercept": {"prior": "uniform", "low": -4.0, "high": 0.0},
    "satisfaction.loss_aversion": {},  # the schema's range, 1..3
    "switching.quality": {},  # the schema's range, 2..16 (promised and expected quality in choice)
}
YEARS = (0.5, 1.0, 1.5)
SURVIVAL_YEARS = (1.0, 1.25, 1.5)
"""Survival after the cohort's year: until then the model's yearly cohort is still filling."""


def template() -> pd.DataFrame:
    """The observed rows of every replicate."""
    rows = [("survival", f, 0, y) for f in ("Acme", "Rival") for y in SURVIVAL_YEARS]
    rows += [(s, "Acme", None, y) for s in ("nps", "share") for y in YEARS]
    return pd.DataFrame(rows, columns=["series", "firm", "cohort", "year"])


def replicate_data(r: int, seed: int) -> tuple[dict[str, float], pd.DataFrame]:
    """Truth from the prior and the series one run at it gives."""
    from sim.calibration.spec import load_calibration
    from sim.calibration.synthetic import synthetic_observations
    from sim.scenario import load_scenario

    spec = load_calibration({"parameters": PRIORS}, load_scenario(MARKET))
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(r,)))
    truth = {p.key: float(p.sample(rng, 1)[0]) for p in spec.priors}
    data = synthetic_observations(MARKET, truth, template(), seed=seed * 1000 + r)
    return truth, data


def covered(table: pd.DataFrame, truth: dict[str, float]) -> dict[str, bool]:
    t = table.set_index("parameter")
    return {k: bool(t.loc[k, "q05"] <= v <= t.loc[k, "q95"]) for k, v in truth.items()}


def widths(table: pd.DataFrame, priors: list) -> dict[str, float]:
    t = table.set_index("parameter")
    out = {}
    for p in priors:
        lo, hi = p.interval(0.9)
        out[p.key] = float((t.loc[p.key, "q95"] - t.loc[p.key, "q05"]) / (hi - lo))
    return out


def run_abc_smc(reps: list, args: argparse.Namespace) -> dict:
    from sim.calibration.run import calibrate

    calib = {
        "calibration": {
            "seed": args.seed,
            "population": args.population,
            "generations": args.generations,
            "max_simulations": 100_000,
            "predictive": 0,
        },
        "parameters": PRIORS,
    }
    rows = []
    started = time.perf_counter()
    for r, (truth, data) in enumerate(reps):
        t0 = time.perf_counter()
        res = calibrate(
            MARKET,
            data,
            calib,
            Path(args.out) / "abc-smc" / f"rep{r:02d}",
            workers=args.workers,
            data_name=f"replicate {r}",
        )
        rows.append(
            {
                "replicate": r,
                "covered": covered(res.intervals, truth),
                "width": widths(res.intervals, _priors()),
                "runs": res.runs_used,
                "seconds": time.perf_counter() - t0,
            }
        )
        print(
            f"  abc-smc replicate {r}: {res.runs_used} runs, "
            f"{time.perf_counter() - t0:.0f} s, covered {rows[-1]['covered']}",
            flush=True,
        )
        with open(Path(args.out) / "abc-smc-replicates.jsonl", "a") as f:
            f.write(json.dumps(rows[-1]) + "\n")
    return {"rows": rows, "seconds": time.perf_counter() - started}


def _priors() -> list:
    from sim.calibration.spec import load_calibration
    from sim.scenario import load_scenario

    return load_calibration({"parameters": PRIORS}, load_scenario(MARKET)).priors


def reference_table(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, float]:
    """``(theta, x)`` of ``--reference`` prior runs (cached in --out)."""
    cache = Path(args.out) / "reference.npz"
    if cache.exists():
        z = np.load(cache)
        return z["theta"], z["x"], float(z["seconds"])
    from sim.calibration.data import read_observed
    from sim.calibration.simulate import Simulator
    from sim.calibration.summaries import Summaries
    from sim.scenario import load_scenario
    from sim.sweep.executors import make_executor

    base = load_scenario(MARKET)
    priors = _priors()
    tmpl = template()
    tmpl["value"] = [0.0 if s == "nps" else 0.5 for s in tmpl["series"]]
    observed = read_observed(tmpl, [f.name for f in base.firms])
    rng = np.random.default_rng(np.random.SeedSequence(entropy=args.seed, spawn_key=(7,)))
    theta = np.column_stack([p.sample(rng, args.reference) for p in priors])
    started = time.perf_counter()
    with make_executor(None, args.workers) as ex:
        sim = Simulator(base, priors, Summaries(observed, base.steps_per_year), args.seed, ex)
        batch = [
            (f"ref/{i}", dict(zip([p.key for p in priors], row, strict=True)))
            for i, row in enumerate(theta)
        ]
        stats = sim.run(batch)
    from sim.calibration.simulate import run_key

    x = np.array([stats[run_key(lbl, v)] for lbl, v in batch])
    seconds = time.perf_counter() - started
    np.savez(cache, theta=theta, x=x, seconds=seconds)
    return theta, x, seconds


def _table_from_samples(samples: np.ndarray, weights: np.ndarray | None, priors: list):
    from sim.calibration.results import intervals

    df = pd.DataFrame(samples, columns=[p.key for p in priors])
    df["weight"] = np.ones(len(df)) / len(df) if weights is None else weights
    return intervals(df, priors)


def run_rejection(reps: list, args: argparse.Namespace) -> dict:
    theta, x, seconds = reference_table(args)
    priors = _priors()
    ok = np.all(np.isfinite(x), axis=1)
    theta, x = theta[ok], x[ok]
    scale = 1.4826 * np.median(np.abs(x - np.median(x, 0)), 0)
    scale = np.where(scale > 0, scale, x.std(0) + 1e-9)
    rows = []
    for r, (truth, data) in enumerate(reps):
        d = np.sqrt(np.mean(((x - data["value"].to_numpy()) / scale) ** 2, axis=1))
        keep = np.argsort(d)[: max(20, len(d) // 20)]
        table = _table_from_samples(theta[keep], None, priors)
        rows.append(
            {
                "replicate": r,
                "covered": covered(table, truth),
                "width": widths(table, priors),
                "runs": len(x),
                "seconds": 0.0,
            }
        )
    return {"rows": rows, "seconds": seconds, "shared_runs": len(x)}


def run_npe(reps: list, args: argparse.Namespace) -> dict:
    import torch
    from sbi.inference import NPE
    from sbi.utils import BoxUniform

    theta, x, seconds = reference_table(args)
    priors = _priors()
    ok = np.all(np.isfinite(x), axis=1)
    theta, x = theta[ok], x[ok]
    torch.manual_seed(args.seed)
    low = torch.tensor([p.low for p in priors], dtype=torch.float32)
    high = torch.tensor([p.high for p in priors], dtype=torch.float32)
    prior = BoxUniform(low=low, high=high)
    t0 = time.perf_counter()
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(Path(args.out) / "sbi-logs"))  # not ./sbi-logs
    inference = NPE(prior=prior, show_progress_bars=False, summary_writer=writer)
    estimator = inference.append_simulations(
        torch.tensor(theta, dtype=torch.float32), torch.tensor(x, dtype=torch.float32)
    ).train()
    posterior = inference.build_posterior(estimator)
    train = time.perf_counter() - t0
    rows = []
    for r, (truth, data) in enumerate(reps):
        obs = torch.tensor(data["value"].to_numpy(), dtype=torch.float32)
        samples = posterior.sample((2000,), x=obs, show_progress_bars=False).numpy()
        table = _table_from_samples(samples, None, priors)
        rows.append(
            {
                "replicate": r,
                "covered": covered(table, truth),
                "width": widths(table, priors),
                "runs": len(x),
                "seconds": 0.0,
            }
        )
    return {"rows": rows, "seconds": seconds + train, "train_seconds": train, "shared_runs": len(x)}


def summarize(name: str, result: dict, replicates: int) -> dict:
    rows = result["rows"]
    keys = list(PRIORS)
    out = {"method": name, "replicates": len(rows), "seconds": round(result["seconds"], 1)}
    for k in keys:
        hits = int(sum(row["covered"][k] for row in rows))
        out[f"coverage {k}"] = hits / max(1, len(rows))
        low, high = wilson_interval(hits, len(rows))
        out[f"coverage 95% interval {k}"] = [round(low, 3), round(high, 3)]
        out[f"width {k}"] = float(np.mean([row["width"][k] for row in rows]))
    # the binomial standard deviation of a coverage estimate when the true coverage is 90%
    out["coverage sd at 90%"] = round(math.sqrt(0.9 * 0.1 / max(1, len(rows))), 4)
    if "shared_runs" in result:
        out["runs (total)"] = result["shared_runs"]
    else:
        out["runs (total)"] = int(sum(row["runs"] for row in rows))
    out["runs per replicate"] = (
        out["runs (total)"] / max(1, len(rows))
        if "shared_runs" not in result
        else out["runs (total)"]
    )
    return out


def plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(PRIORS)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    xs = np.arange(len(keys))
    step = 0.8 / max(1, len(summary))
    for i, s in enumerate(summary):
        cov = [s[f"coverage {k}"] for k in keys]
        wid = [s[f"width {k}"] for k in keys]
        bars = np.array(
            [s.get(f"coverage 95% interval {k}", [c, c]) for k, c in zip(keys, cov, strict=True)]
        )
        err = np.array([np.array(cov) - bars[:, 0], bars[:, 1] - np.array(cov)])
        axes[0].bar(xs + i * step, cov, width=step, label=s["method"], yerr=err, capsize=2)
        axes[1].bar(xs + i * step, wid, width=step, label=s["method"])
    n = summary[0]["replicates"]
    lo, hi = _binomial_band(0.9, n)
    axes[0].axhspan(lo, hi, color="grey", alpha=0.2, label=f"90% +- sampling ({n} reps)")
    axes[0].axhline(0.9, color="black", lw=1)
    axes[0].set_ylim(0, 1.3)
    axes[0].set_title("coverage of the 90% intervals (bars: Wilson 95%)")
    axes[1].set_title("90% interval width / prior's")
    for ax in axes:
        ax.set_xticks(xs + 0.4 - step / 2, [k.split(".")[-1] for k in keys])
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=7, loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval of a binomial proportion (``hits`` of ``n``)."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _binomial_band(p: float, n: int) -> tuple[float, float]:
    sd = math.sqrt(p * (1 - p) / max(n, 1))
    return max(0.0, p - 2 * sd), min(1.0, p + 2 * sd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--methods", default="rejection,npe,abc-smc")
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--reference", type=int, default=400, help="prior runs for rejection/npe")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--out", default=str(REPO / "results" / "calibration_recovery"))
    parser.add_argument("--docs", action="store_true", help="also write the figure to docs/")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    print(f"making {args.replicates} replicate data sets...", flush=True)
    reps = [replicate_data(r, args.seed) for r in range(args.replicates)]
    summary = []
    for method in args.methods.split(","):
        if method == "npe":
            try:
                import sbi  # noqa: F401
            except ImportError:
                print("npe: skipped (sbi is not installed: pip install torch==2.13.0 sbi==0.27.0)")
                continue
        print(f"{method}...", flush=True)
        fn = {"abc-smc": run_abc_smc, "rejection": run_rejection, "npe": run_npe}[method]
        summary.append(summarize(method, fn(reps, args), args.replicates))
        print(json.dumps(summary[-1], indent=1), flush=True)
    out = Path(args.out)
    previous = out / "summary.json"
    merged = {
        s["method"]: s for s in (json.loads(previous.read_text()) if previous.exists() else [])
    }
    merged.update({s["method"]: s for s in summary})
    previous.write_text(json.dumps(list(merged.values()), indent=1))
    table = pd.DataFrame(list(merged.values()))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    plot(list(merged.values()), out / "calibration_recovery.png")
    if args.docs:
        docs = REPO / "docs" / "calibration_figures"
        docs.mkdir(parents=True, exist_ok=True)
        plot(list(merged.values()), docs / "recovery_coverage.png")
        (docs / "recovery_summary.json").write_text(json.dumps(list(merged.values()), indent=1))


if __name__ == "__main__":
    main()
