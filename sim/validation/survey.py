"""Checks 2 and 3: satisfaction against disconfirmation, as a satisfaction survey would find it.

After a warm-up, every served customer's experience of every step for a year is a survey record:
the step's satisfaction ``s`` (0..10), the importance-weighted expectation ``E_w`` and experience
``X_w``, and per attribute the gap ``X - E`` split into its positive and negative parts, weighted by
importance (Mittal, Ross & Baldasare 1998, at attribute level).

- Check 2, loss asymmetry (Anderson & Sullivan 1993; Mittal et al. 1998): in the regression
  ``s = a + b_x X_w + b_pos D_pos + b_neg D_neg`` the slope on negative disconfirmation is 1.5-3x
  the slope on positive disconfirmation. All answers are kept, as a survey regression keeps them:
  dropping the answers at 0 and 10 would select on the error term (the generous raters are the
  ones at 10) and bias the positive slope down.
- Check 3, disconfirmation beats expectation (Schiebler et al. 2025 meta-analysis: r(E, s) = .29,
  CI .24-.34, and disconfirmation correlates more strongly): corr(s, X_w - E_w) > corr(s, E_w), the
  latter within 0.15-0.40.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sim.model import CustomerMarket
from sim.validation.result import CheckResult, Size

__all__ = ["check_disconfirmation_beats_expectation", "check_loss_asymmetry", "survey"]

SIZES = {
    "quick": {"customers": 1_500, "warmup": 60, "weeks": 26},
    "full": {"customers": 5_000, "warmup": 104, "weeks": 52},
}


def survey(size: Size = "full", seed: int = 1, scenario: str = "baseline") -> dict[str, np.ndarray]:
    """Per-experience records of the baseline market after a warm-up (see module docstring)."""
    cfg = SIZES[size]
    model = CustomerMarket(scenario, rng=seed, overrides={"market.customers": cfg["customers"]})
    model.run(cfg["warmup"])
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("s", "e", "x", "pos", "neg", "industry")}
    cs = model.customer_state
    for _ in range(cfg["weeks"]):
        model.step()
        sc = model.last_scratch
        for m, served in enumerate(sc.served):
            w = cs.weights[served]
            x = cs.experience[m][served]
            e = sc.expectation_used[m]
            gap = x - e
            cols["s"].append(sc.step_satisfaction[m])
            cols["e"].append(np.einsum("nk,nk->n", w, e))
            cols["x"].append(np.einsum("nk,nk->n", w, x))
            cols["pos"].append(np.einsum("nk,nk->n", w, np.maximum(gap, 0)))
            cols["neg"].append(np.einsum("nk,nk->n", w, np.minimum(gap, 0)))
            cols["industry"].append(np.full(len(served), m))
    return {k: np.concatenate(v) for k, v in cols.items()}


def _asymmetry(rec: dict[str, np.ndarray]) -> tuple[float, float, float]:
    design = np.column_stack([np.ones(len(rec["s"])), rec["x"], rec["pos"], rec["neg"]])
    coef = np.linalg.lstsq(design, rec["s"], rcond=None)[0]
    return float(coef[2]), float(coef[3]), float(coef[3] / coef[2])


def check_loss_asymmetry(
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    records: dict[str, np.ndarray] | None = None,
) -> CheckResult:
    """Check 2: the slope on negative disconfirmation is 1.5-3x the slope on positive."""
    started = time.perf_counter()
    rec = records if records is not None else survey(size, seed)
    pos, neg, ratio = _asymmetry(rec)
    figure = _draw_asymmetry(figures, rec, pos, neg) if figures is not None else None
    return CheckResult(
        name="loss_asymmetry",
        title="Falling short hurts more than exceeding helps",
        source="Anderson & Sullivan (1993); Mittal, Ross & Baldasare (1998)",
        target="slope on negative / slope on positive disconfirmation in 1.5-3",
        measured=f"{neg:.2f} / {pos:.2f} = {ratio:.2f} ({len(rec['s']):,} experiences)",
        passed=bool(1.5 <= ratio <= 3.0),
        figure=figure,
        details={
            "slope_positive": pos,
            "slope_negative": neg,
            "ratio": ratio,
            "records": len(rec["s"]),
        },
        seconds=time.perf_counter() - started,
    )


def check_disconfirmation_beats_expectation(
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    records: dict[str, np.ndarray] | None = None,
) -> CheckResult:
    """Check 3: corr(s, disconfirmation) > corr(s, expectation), the latter in 0.15-0.40."""
    started = time.perf_counter()
    rec = records if records is not None else survey(size, seed)
    r_d = float(np.corrcoef(rec["s"], rec["x"] - rec["e"])[0, 1])
    r_e = float(np.corrcoef(rec["s"], rec["e"])[0, 1])
    figure = _draw_correlations(figures, rec, r_d, r_e) if figures is not None else None
    return CheckResult(
        name="disconfirmation_beats_expectation",
        title="Disconfirmation explains satisfaction better than expectation does",
        source="Oliver (1980); Schiebler et al. (2025) meta-analysis",
        target="corr(s, X - E) > corr(s, E); corr(s, E) in 0.15-0.40",
        measured=f"corr(s, X - E) = {r_d:.2f}; corr(s, E) = {r_e:.2f}",
        passed=bool(r_d > r_e and 0.15 <= r_e <= 0.40),
        figure=figure,
        details={"corr_disconfirmation": r_d, "corr_expectation": r_e},
        seconds=time.perf_counter() - started,
    )


def _sample(rec: dict[str, np.ndarray], k: int = 4000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).choice(
        len(rec["s"]), size=min(k, len(rec["s"])), replace=False
    )


def _draw_asymmetry(figures: Path, rec, pos, neg) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = rec["pos"] + rec["neg"]
    bins = np.linspace(np.quantile(d, 0.01), np.quantile(d, 0.99), 25)
    mid = 0.5 * (bins[1:] + bins[:-1])
    idx = np.digitize(d, bins) - 1
    ok = (idx >= 0) & (idx < len(mid))
    x, s = rec["x"].astype(np.float64), rec["s"].astype(np.float64)
    resid = s - np.polyval(np.polyfit(x, s, 1), x)
    mean = np.array(
        [
            resid[ok & (idx == i)].mean() if (ok & (idx == i)).any() else np.nan
            for i in range(len(mid))
        ]
    )
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    ax.plot(mid, mean, "o", color="C0", label="mean satisfaction residual (binned)")
    xs = np.linspace(bins[0], bins[-1], 50)
    line = np.where(xs >= 0, pos * xs, neg * xs)
    ax.plot(
        xs,
        line - np.nanmean(line - np.interp(xs, mid, mean)),
        color="C3",
        label=f"fitted slopes: {neg:.1f} below, {pos:.1f} above",
    )
    ax.axvline(0, color="gray", lw=0.8)
    ax.set_xlabel("weighted disconfirmation X - E")
    ax.set_ylabel("satisfaction (0-10), performance removed")
    ax.set_title("Loss asymmetry")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, figures, "loss_asymmetry.png")


def _draw_correlations(figures: Path, rec, r_d, r_e) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pick = _sample(rec)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120, sharey=True)
    axes[0].scatter(rec["x"][pick] - rec["e"][pick], rec["s"][pick], s=3, alpha=0.3)
    axes[0].set_xlabel("disconfirmation X - E")
    axes[0].set_title(f"r = {r_d:.2f}")
    axes[1].scatter(rec["e"][pick], rec["s"][pick], s=3, alpha=0.3, color="C1")
    axes[1].set_xlabel("expectation E")
    axes[1].set_title(f"r = {r_e:.2f} (meta-analysis: .29, CI .24-.34)")
    axes[0].set_ylabel("satisfaction with the experience (0-10)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, figures, "disconfirmation_vs_expectation.png")


def _save(fig, figures: Path, name: str) -> Path:
    import matplotlib.pyplot as plt

    figures.mkdir(parents=True, exist_ok=True)
    path = figures / name
    fig.savefig(path)
    plt.close(fig)
    return path
