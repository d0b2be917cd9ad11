"""Check 1: docking with the Bass model (Bass 1969; Rand & Rust 2011; Sultan et al. 1990).

The ``bass_docking`` scenario (one firm, a complete graph, no churn, adoption only through the p
and q terms) is run at a small time step and compared with the closed form

    F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t)),  peak at t* = ln(q/p) / (p + q),

and at one tick a period with the discrete recursion F_t = F_{t-1} + (p + q F_{t-1})(1 - F_{t-1}).
The model's peak is that of the Bass curve fitted to it by least squares (the usual way docking
studies recover p and q). The same market on a Watts-Strogatz and a scale-free network shows how
much slower diffusion is when imitation only reaches one's neighbours. The model's curve is the
mean of a few replicates, as docking studies do (Rand & Rust 2011).

Mechanism: imitation, adopters drawing others in (``mechanisms.imitation``, Bass q); the negative
control switches it off and leaves innovation (p) alone. The network comparison is an
illustration, not part of the verdict: a run with overrides (the control) skips it.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim.model import CustomerMarket
from sim.validation.figures import pyplot, save
from sim.validation.result import Check, CheckResult, Size

__all__ = [
    "BASS_DOCKING",
    "adoption_curve",
    "bass_closed_form",
    "bass_recursion",
    "check_bass_docking",
]

P, Q = 0.03, 0.38
SIZES = {
    "quick": {
        "customers": 10_000,
        "replicates": 4,
        "steps_per_year": 20,
        "years": 14,
        "network_customers": 3_000,
        "network_years": 14,
    },
    "full": {
        "customers": 20_000,
        "replicates": 3,
        "steps_per_year": 50,
        "years": 20,
        "network_customers": 20_000,
        "network_years": 20,
    },
}


def bass_closed_form(t: np.ndarray, p: float = P, q: float = Q) -> np.ndarray:
    """Cumulative adoption F(t) of the continuous Bass model (t in years)."""
    e = np.exp(-(p + q) * np.asarray(t, float))
    return (1 - e) / (1 + (q / p) * e)


def bass_recursion(periods: int, p: float = P, q: float = Q) -> np.ndarray:
    """F_1..F_periods of the discrete Bass recursion starting from F_0 = 0."""
    f, out = 0.0, []
    for _ in range(periods):
        f = f + (p + q * f) * (1 - f)
        out.append(f)
    return np.array(out)


def adoption_curve(
    customers: int,
    steps_per_year: int,
    years: float,
    seed: int,
    network: dict | None = None,
    extra: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(t, F, seconds)``: years and share adopted after each step of one docking run
    (``extra``: further scenario overrides)."""
    overrides = {"market.customers": customers, "steps_per_year": steps_per_year, **(extra or {})}
    if network:
        overrides.update({f"network.{k}": v for k, v in network.items()})
    started = time.perf_counter()
    model = CustomerMarket("bass_docking", rng=seed, overrides=overrides)
    model.run(round(years * steps_per_year))
    seconds = time.perf_counter() - started
    m = model.model_metrics()
    return m["year"].to_numpy(), m["served"].to_numpy() / customers, seconds


def fit_bass(t: np.ndarray, f: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(p, q)`` of the Bass closed form to an adoption curve."""
    from scipy.optimize import curve_fit

    (p, q), _ = curve_fit(
        lambda tt, p, q: bass_closed_form(tt, p, q),
        t,
        f,
        p0=(P, Q),
        bounds=([1e-6, 1e-6], [5.0, 5.0]),
    )
    return float(p), float(q)


def check_bass_docking(
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    overrides: Mapping[str, Any] | None = None,
) -> CheckResult:
    """Docking against the closed form, the discrete recursion, and on two real networks."""
    cfg = SIZES[size]
    started = time.perf_counter()
    n, reps, spy, years = cfg["customers"], cfg["replicates"], cfg["steps_per_year"], cfg["years"]
    runs = [adoption_curve(n, spy, years, seed + r, extra=overrides) for r in range(reps)]
    t = runs[0][0]
    f_model = np.mean([r[1] for r in runs], axis=0)
    complete_seconds = float(np.mean([r[2] for r in runs]))
    f_bass = bass_closed_form(t)
    dev_closed = float(np.max(np.abs(f_model - f_bass)))
    try:
        p_fit, q_fit = fit_bass(t, f_model)
        peak = float(np.log(q_fit / p_fit) / (p_fit + q_fit))
    except RuntimeError:  # no Bass curve fits (the control without imitation may not)
        p_fit = q_fit = peak = float("nan")
    t_star = float(np.log(Q / P) / (P + Q))

    periods = years
    tick = [adoption_curve(n, 1, periods, seed + 100 + r, extra=overrides)[1] for r in range(reps)]
    f_tick = np.mean(tick, axis=0)
    f_rec = bass_recursion(periods)
    dev_tick = float(np.max(np.abs(f_tick - f_rec)))

    nets = {
        "Watts-Strogatz (k = 10, p = 0.1)": {"kind": "watts_strogatz", "k": 10, "p": 0.1},
        "scale-free (Barabasi-Albert, m = 5)": {"kind": "barabasi_albert", "m": 5},
    }
    nn, ny = cfg["network_customers"], cfg["network_years"]
    reference, network_runs = None, {}
    if not overrides:  # the illustration, not judged
        reference = adoption_curve(nn, spy, ny, seed + 200)
        network_runs = {
            name: adoption_curve(nn, spy, ny, seed + 200, spec) for name, spec in nets.items()
        }

    def half_time(tt: np.ndarray, ff: np.ndarray) -> float:
        hit = np.flatnonzero(ff >= 0.5)
        return float(tt[hit[0]]) if len(hit) else float("nan")

    network_details = {
        name: {
            "years_to_half": half_time(tt, ff),
            "wall_seconds": sec,
            "wall_ratio_vs_complete": sec / reference[2] if reference else float("nan"),
        }
        for name, (tt, ff, sec) in network_runs.items()
    }
    details = {
        "max_dev_closed_form": dev_closed,
        "peak_year": peak,
        "bass_peak_year": t_star,
        "fitted_p": p_fit,
        "fitted_q": q_fit,
        "max_dev_recursion": dev_tick,
        "customers": n,
        "replicates": reps,
        "steps_per_year": spy,
        "complete_wall_seconds": complete_seconds,
        "complete_years_to_half": half_time(*reference[:2]) if reference else float("nan"),
        "networks": network_details,
    }
    passed = dev_closed < 0.01 and bool(abs(peak - t_star) <= 0.3) and dev_tick < 0.01
    figure = None
    if figures is not None:
        figure = _draw(figures, t, f_model, f_bass, f_tick, f_rec, reference, network_runs, details)
    return CheckResult(
        name="bass_docking",
        title="Bass docking: closed form, discrete recursion, real networks",
        source="Bass (1969); Sultan, Farley & Lehmann (1990); Rand & Rust (2011)",
        target="max |F - F_Bass| < 0.01; peak within 0.3 y of 6.19 y; "
        "max |F - recursion| < 0.01 at one tick a period",
        measured=f"max dev {dev_closed:.4f}; fitted p = {p_fit:.4f}, q = {q_fit:.3f}, peak at "
        f"{peak:.2f} y; recursion dev {dev_tick:.4f}",
        passed=bool(passed),
        figure=figure,
        details=details,
        seconds=time.perf_counter() - started,
    )


def _draw(
    figures: Path, t, f_model, f_bass, f_tick, f_rec, reference, network_runs, details
) -> Path:
    plt = pyplot()

    panels = 2 if network_runs else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), dpi=120, squeeze=False)
    axes = axes[0]
    ax = axes[0]
    ax.plot(t, f_bass, color="black", lw=2.5, alpha=0.35, label="Bass closed form")
    ax.plot(t, f_model, color="C0", lw=1.2, label=f"model, dt = 1/{details['steps_per_year']} y")
    periods = np.arange(1, len(f_rec) + 1)
    ax.plot(periods, f_rec, "s", mfc="none", color="C3", label="discrete recursion")
    ax.plot(periods, f_tick, "x", color="C3", label="model, one tick a year")
    ax.axvline(details["bass_peak_year"], color="gray", ls=":", lw=1)
    ax.set_title(f"Docking: max deviation {details['max_dev_closed_form']:.4f}")
    ax.set_xlabel("years")
    ax.set_ylabel("share adopted F(t)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    if not network_runs:
        fig.tight_layout()
        return save(fig, figures, "bass_docking.png")
    ax = axes[1]
    ax.plot(reference[0], reference[1], lw=1.5, label="complete graph")
    for name, (tt, ff, _) in network_runs.items():
        ax.plot(tt, ff, lw=1.5, label=name)
    ax.set_title("Same p and q when imitation reaches only neighbours")
    ax.set_xlabel("years")
    ax.set_ylabel("share adopted")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, figures, "bass_docking.png")


BASS_DOCKING = Check(
    name="bass_docking",
    run=check_bass_docking,
    mechanism="imitation: adopters draw others in (mechanisms.imitation, Bass q)",
    control={"mechanisms.imitation": False},
    shows="docking",
    why="The acquisition rule is the Bass hazard (docs/MODEL.md 7.9): the check verifies that "
    "the agent-based implementation reproduces its closed form and its discrete recursion, not "
    "that markets follow Bass.",
    notes="Without imitation only innovation (p) adopts: adoption is 1 - exp(-p t), far from "
    "the S-curve, and no Bass curve with q > 0 fits it. The one-tick deviation is the noise of "
    "three runs of 20,000 customers: 0.0031-0.0092 over seeds 1-8, against a tolerance of 0.01, "
    "while the mean of those 24 runs is within 0.0026 of the recursion; at this size the check "
    "cannot tell the code from the recursion by less than about 0.01 (measured 5 December "
    "2026).",
)
