"""Check 7: promise asymmetry (Gneezy & Epley 2014).

Breaking a promise is punished; exceeding it earns almost no extra credit. A single firm with a
fixed capability serves a market that cannot leave; only its promise differs between three runs:
``capability - delta`` (the experience exceeds the promise by delta), ``capability`` (kept) and
``capability + delta`` (broken by delta). Over the second year, the trust gained by exceeding is
compared with the trust lost by breaking. The check passes when exceeding adds at most half of
what breaking by the same amount removes. Gneezy & Epley measured how people judged the promiser
(trustworthiness, appreciation), which is the model's trust in the firm's word, not satisfaction
with the outcome: the satisfaction gained and lost is reported beside it, not judged. (Until
issue #12 the check also required the satisfaction asymmetry, which held only because a separate
broken-promise penalty had been added to satisfaction; without it a broken promise costs
satisfaction only through the expectation it raised, and as credibility falls the promise stops
raising it, while an under-promise that is kept stays credible and keeps the bar low.)

Mechanism: the asymmetry of the trust rule (``mechanisms.trust_asymmetry``, sim.rules.trust):
trust rises only toward 1 while promises are kept, however far they are exceeded, and falls with
the shortfall of a broken one. The negative control makes the rule symmetric: a surplus over the
promise beyond the tolerance gives the share ``loss * surplus`` of the trust still missing, as a
shortfall takes the share ``loss * shortfall`` of the trust held. The control does not fail: the
symmetric rule passes too (ratio 0.22 against 0.15 at both sizes). The gain is at most the room
above kept trust, ``1 - kept``, about 0.2, while a promise broken by 0.1 takes 0.65, so the ratio
stays under about 0.3 whatever exceeding earns: the asymmetry the check measures comes from
trust's ceiling and the size of the cut, not from the asymmetry of the rule, and the check cannot
tell the two rules apart (reported, not tuned away: no threshold was changed). Switching the
whole trust channel off (``mechanisms.trust_promises``, the control until the symmetric rule
existed) is kept as an ablation; trust then moves only through what customers hear and through
ignored complaints, and the check fails.

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from sim.model import CustomerMarket
from sim.strategies import NoLevers, Strategy
from sim.validation import together
from sim.validation.figures import pyplot, save
from sim.validation.result import Check, CheckResult, Size, outside
from sim.validation.together import Failed

__all__ = [
    "PROMISE_ASYMMETRY",
    "PromiseOffset",
    "check_promise_asymmetry",
    "lone_firm",
    "offset_outcomes",
    "promise_runs",
    "promise_runs_many",
]

SIZES = {"quick": {"customers": 800, "delta": 0.1}, "full": {"customers": 3_000, "delta": 0.1}}


class PromiseOffset(Strategy):
    """Promise capability + offset on every attribute (validation only)."""

    name = "promise_offset"

    class Levers(NoLevers):
        offset: float = Field(0.0, ge=-1, le=1, description="added to capability")

    def decide(self, firm, decision) -> None:
        decision.promise = np.clip(firm.capability + self.levers.offset, 0.0, 1.0)


def lone_firm(offset: float, customers: int) -> dict[str, Any]:
    """Overrides of ``overpromise_vs_honest`` that leave one firm of capability 0.65, promising
    capability + ``offset``, with customers who cannot leave and a firm that cannot close."""
    return {
        "market.customers": customers,
        "firms[0].strategy": "sim.validation.promises:PromiseOffset",
        "firms[0].levers": {"offset": offset},
        "firms[0].initial_share": 1.0,
        "firms[0].capability": 0.65,
        "firms[0].capacity": 10.0,
        "firms[1].entry_step": 10_000,
        "firms[1].initial_share": 0.0,
        "switching.enabled": False,
        "economics.exit_enabled": False,
    }


def offset_outcomes(
    offset: float, customers: int, seed: int, overrides: Mapping[str, Any] | None = None
) -> tuple[float, float]:
    """Mean satisfaction and trust in the second year with promise = capability + offset."""
    model = CustomerMarket(
        "overpromise_vs_honest",
        rng=seed,
        overrides={**lone_firm(offset, customers), **(overrides or {})},
    )
    model.run(STEPS)
    return _second_year(model)


STEPS = 104
"""Steps of each offset's market: two years."""


def _second_year(model: CustomerMarket) -> tuple[float, float]:
    df = model.firm_metrics()
    year2 = df[(df["step"] > 52) & (df["firm"] == 0)]
    return float(year2["satisfaction"].mean()), float(year2["trust"].mean())


def promise_runs(
    size: Size = "full", seed: int = 1, overrides: Mapping[str, Any] | None = None
) -> dict[float, tuple[float, float]]:
    """Offset (-delta, 0, +delta) -> :func:`offset_outcomes`: the check's data set."""
    cfg = SIZES[size]
    return {o: offset_outcomes(o, cfg["customers"], seed, overrides) for o in _offsets(size)}


def promise_runs_many(
    size: Size, seed: int, overrides: Sequence[Mapping[str, Any]]
) -> list[dict[float, tuple[float, float]] | Failed]:
    """:func:`promise_runs` in many worlds (one set of ``overrides`` each), the markets of
    every world and offset stepped together (``sim.validation.together``): the same numbers
    as each alone."""
    cfg = SIZES[size]
    offsets = _offsets(size)
    worlds = [{**lone_firm(o, cfg["customers"]), **w} for w in overrides for o in offsets]
    ran = together.run("overpromise_vs_honest", seed, worlds, STEPS)
    n = len(offsets)

    def outcomes(mine: list[CustomerMarket]) -> dict[float, tuple[float, float]]:
        return {o: _second_year(m) for o, m in zip(offsets, mine, strict=True)}

    return [
        together.read(
            ran[i * n : (i + 1) * n],
            outcomes,
            functools.partial(promise_runs, size, seed, overrides[i]),
        )
        for i in range(len(overrides))
    ]


def _offsets(size: Size) -> tuple[float, float, float]:
    delta = SIZES[size]["delta"]
    return (-delta, 0.0, delta)


def check_promise_asymmetry(
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    overrides: Mapping[str, Any] | None = None,
    data: dict[float, tuple[float, float]] | None = None,
) -> CheckResult:
    """Exceeding a promise adds far less than breaking it by the same amount removes."""
    started = time.perf_counter()
    delta = SIZES[size]["delta"]
    runs = data if data is not None else promise_runs(size, seed, overrides)
    (s_ex, t_ex), (s_kept, t_kept), (s_br, t_br) = runs[-delta], runs[0.0], runs[delta]
    gain_s, loss_s = s_ex - s_kept, s_kept - s_br
    gain_t, loss_t = t_ex - t_kept, t_kept - t_br
    ratio_s = gain_s / loss_s if loss_s > 0 else float("inf")
    ratio_t = gain_t / loss_t if loss_t > 0 else float("inf")
    passed = bool(loss_t >= 0.1 * t_kept and ratio_t <= 0.5)
    figure = _draw(figures, delta, runs) if figures is not None else None
    return CheckResult(
        name="promise_asymmetry",
        title="Breaking a promise costs more than exceeding it earns",
        source="Gneezy & Epley (2014)",
        target="breaking a promise by 0.1 costs >= 1/10 of the trust a kept one holds, and "
        "exceeding it by 0.1 gains <= 1/2 of that loss",
        measured=(
            f"trust {t_kept:.3f} when kept: +{gain_t:.3f} when exceeded vs -{loss_t:.3f} when "
            f"broken ({loss_t / t_kept:.0%} of it; ratio {ratio_t:.2f}); satisfaction (reported, "
            f"not judged) +{gain_s:.2f} vs -{loss_s:.2f} ({ratio_s:.2f})"
        ),
        passed=passed,
        figure=figure,
        details={
            "delta": delta,
            "satisfaction": {str(k): v[0] for k, v in runs.items()},
            "trust": {str(k): v[1] for k, v in runs.items()},
            "ratio_satisfaction": ratio_s,
            "ratio_trust": ratio_t,
        },
        distance=outside(loss_t / t_kept if t_kept > 0 else math.nan, low=0.1) / 0.1
        + outside(ratio_t, high=0.5) / 0.5,
        seconds=time.perf_counter() - started,
    )


PROMISE_ASYMMETRY = Check(
    name="promise_asymmetry",
    run=check_promise_asymmetry,
    mechanism="exceeding a promise earns no more trust than keeping it, while breaking it costs "
    "trust with the shortfall (mechanisms.trust_asymmetry, within mechanisms.trust_promises)",
    control={"mechanisms.trust_asymmetry": False},
    data="promises",
    shows="restated",
    why="The trust rule is Gneezy & Epley's finding: a promise met or exceeded counts as kept "
    "and earns the same trust (docs/MODEL.md 7.5), so exceeding one gains only through the "
    "noise of delivery (fewer shortfalls). A pass does not single out that asymmetry, though: "
    "the rule made symmetric (the control: a surplus earns the share loss * surplus of the "
    "missing trust, as a shortfall costs that share of the trust held) passes too, because the "
    "ratio is set by trust's ceiling and the size of the cut, both of the rule's form.",
    ablations={
        "the trust channel off (mechanisms.trust_promises off)": {
            "mechanisms.trust_promises": False
        },
    },
    notes="Seed 1, quick (800 customers) and full (3,000) sizes. As shipped: trust 0.798 and "
    "0.799 when kept, +0.097 and +0.096 when exceeded, -0.637 when broken (80% of it), ratio "
    "0.15: passes. The symmetric rule (control): 0.812 and 0.812 when kept, +0.141 and +0.140 "
    "when exceeded, -0.651 and -0.650 when broken (80%), ratio 0.22: passes, so the control "
    "does not fail and the check is not earned. The surplus does earn (trust when exceeded rises "
    "from 0.895 to 0.953), but trust kept near 0.8 has at most 0.2 left to gain while a "
    "broken promise takes 0.65, so no rule for exceeding could lift the ratio above about 0.3 "
    "here (0.2 / 0.64): the ratio is at most (1 - kept) / loss, so it meets the target under "
    "any rule wherever a broken promise costs twice the room above kept trust. The asymmetry "
    "found is that of trust's ceiling and of the size of the cut, not of the rule. This is a "
    "finding about the check, reported, not tuned away: no threshold was changed. "
    "With the whole trust channel off (ablation, the control until the symmetric rule existed): "
    "0.569 and 0.570 when kept, +0.009 and +0.008 when exceeded, -0.034 and -0.031 when broken "
    "(6% and 5%), ratio 0.26 and 0.27: fails, on the materiality condition only. Trust still "
    "moves a little then: disappointed customers complain, and ignored complaints cost trust. "
    "The ratio of two such small changes can fall under 1/2 by chance, which is why the target "
    "also asks that a broken promise cost a material share of trust (a tenth), as Gneezy & "
    "Epley's broken promises did.",
)


def _draw(figures: Path, delta: float, runs: dict) -> Path:
    plt = pyplot()

    labels = [f"exceeded by {delta:g}", "kept", f"broken by {delta:g}"]
    offsets = (-delta, 0.0, delta)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=120)
    for ax, k, name, lim in (
        (axes[0], 0, "mean satisfaction, year 2", (0, 10)),
        (axes[1], 1, "mean trust, year 2", (0, 1)),
    ):
        values = [runs[o][k] for o in offsets]
        ax.bar(labels, values, color=["C2", "C0", "C3"])
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
        ax.set_ylim(*lim)
        ax.set_title(name)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Same experience, different promise")
    fig.tight_layout()
    return save(fig, figures, "promise_asymmetry.png")
