"""Checks 4 and 5: word-of-mouth valence and the levels of NPS and satisfaction in ``baseline``.

- Check 4 (East, Hammond & Wright 2007: positive word of mouth exceeds negative in all 15 studies,
  about 3:1): over the years of the run in which mean satisfaction is 7-8, positive:negative
  messages are between 2:1 and 4:1. Mechanism: customers talk about their supplier, in the tone
  of their satisfaction (``mechanisms.word_of_mouth_tone``); its control keeps who talks and
  draws each message's tone whatever the satisfaction, and the ratio falls to about 1:1 (until
  6 December the control was nobody talks, which failed only because there was nothing to
  count). The ablation "talk independent of satisfaction" (both
  amplitudes 0: every customer talks at the base rate) still passes: the ratio is carried by
  how many customers are above the neutral point, not by the U-shape of talking (which is also
  East et al.'s explanation: more customers are satisfied).
- Check 5 (Reichheld 2003: median NPS 16; Qualtrics 2023: industry averages -6..+30; ACSI: industry
  means span about 62-85 on 0-100): the firms' NPS over the last five years is within -20..+50 for
  at least two firms in three, and the industries' mean satisfaction spans 1.5-2.5 points.
  Mechanism: NPS comes from a "would you recommend?" answer, satisfaction plus a personal
  response style (``satisfaction.recommend_offset``, ``recommend_sd``; issue #5, decision 17);
  the control computes NPS from satisfaction itself (both 0).

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model import CustomerMarket
from sim.params import WordOfMouthParams
from sim.validation import together
from sim.validation.figures import pyplot, save
from sim.validation.result import Check, CheckResult, Size, outside
from sim.validation.together import Failed

__all__ = [
    "LEVELS",
    "WORD_OF_MOUTH_VALENCE",
    "baseline_run",
    "baseline_runs",
    "check_levels",
    "check_word_of_mouth_valence",
]

SIZES = {
    "quick": {"customers": 1_500, "steps": 260, "replicates": 1},
    "full": {"customers": 5_000, "steps": 520, "replicates": 2},
}


def baseline_run(
    size: Size = "full", seed: int = 1, overrides: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(market, firms)`` frames of the baseline market, replicates stacked (column ``seed``)."""
    cfg = SIZES[size]
    markets, firms = [], []
    for r in range(cfg["replicates"]):
        model = CustomerMarket(
            "baseline",
            rng=seed + r,
            overrides={"market.customers": cfg["customers"], **(overrides or {})},
        )
        model.run(cfg["steps"])
        markets.append(model.model_metrics().assign(seed=seed + r))
        firms.append(model.firm_metrics().assign(seed=seed + r))
    return pd.concat(markets, ignore_index=True), pd.concat(firms, ignore_index=True)


def baseline_runs(
    size: Size, seed: int, overrides: Sequence[Mapping[str, Any]]
) -> list[tuple[pd.DataFrame, pd.DataFrame] | Failed]:
    """:func:`baseline_run` in many worlds (one set of ``overrides`` each), their markets
    stepped together (``sim.validation.together``): the same frames as each alone, but for
    the survey panel's intention to stay (NaN), which no check reads."""
    cfg = SIZES[size]
    worlds = [{"market.customers": cfg["customers"], **o} for o in overrides]
    runs = [
        together.run("baseline", seed + r, worlds, cfg["steps"]) for r in range(cfg["replicates"])
    ]

    def frames(each: list[CustomerMarket]) -> tuple[pd.DataFrame, pd.DataFrame]:
        market = [m.model_metrics().assign(seed=seed + r) for r, m in enumerate(each)]
        firms = [m.firm_metrics().assign(seed=seed + r) for r, m in enumerate(each)]
        return pd.concat(market, ignore_index=True), pd.concat(firms, ignore_index=True)

    return [
        together.read(each, frames, functools.partial(baseline_run, size, seed, overrides[i]))
        for i, each in enumerate(zip(*runs, strict=True))
    ]


def check_word_of_mouth_valence(
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    overrides: Mapping[str, Any] | None = None,
    data: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> CheckResult:
    """Check 4: positive:negative word of mouth 2:1-4:1 when mean satisfaction is 7-8."""
    started = time.perf_counter()
    market, _ = data if data is not None else baseline_run(size, seed, overrides)
    yearly = (
        market.assign(year_index=(market["step"] - 1) // 52)
        .groupby(["seed", "year_index"])
        .agg(
            positive=("wom_positive", "sum"),
            negative=("wom_negative", "sum"),
            satisfaction=("satisfaction", "mean"),
        )
        .reset_index()
    )
    band = yearly[yearly["satisfaction"].between(7.0, 8.0)]
    positive, negative = band["positive"].sum(), band["negative"].sum()
    ratio = float(positive / negative) if len(band) and negative > 0 else float("nan")
    passed = bool(len(band) and 2.0 <= ratio <= 4.0)
    # no year in the band: how far the nearest year's satisfaction is from it, and the ratio
    # unmeasured (a full band's width)
    nearest = min((outside(x, 7.0, 8.0) for x in yearly["satisfaction"]), default=math.inf)
    distance = nearest + (outside(ratio, 2.0, 4.0) / 2.0 if len(band) else 1.0)
    figure = _draw_wom(figures, yearly, ratio) if figures is not None else None
    return CheckResult(
        name="word_of_mouth_valence",
        title="Positive word of mouth outweighs negative, about 3:1",
        source="East, Hammond & Wright (2007); Anderson (1998)",
        target="positive:negative in 2:1-4:1 when mean satisfaction is 7-8",
        measured=(
            "no year with mean satisfaction in 7-8"
            if not len(band)
            else "no message at all"
            if positive + negative == 0
            else f"{ratio:.2f}:1 over {len(band)} years with mean satisfaction "
            f"{band['satisfaction'].mean():.2f}"
        ),
        passed=passed,
        figure=figure,
        details={
            "ratio": ratio,
            "years_in_band": len(band),
            "yearly": yearly.round(4).to_dict("records"),
        },
        distance=distance,
        seconds=time.perf_counter() - started,
    )


def check_levels(
    size: Size = "full",
    figures: Path | None = None,
    seed: int = 1,
    overrides: Mapping[str, Any] | None = None,
    data: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> CheckResult:
    """Check 5: firm NPS mostly in -20..+50; industry satisfaction spread 1.5-2.5 points."""
    started = time.perf_counter()
    market, firms = data if data is not None else baseline_run(size, seed, overrides)
    last = firms["step"].max()
    late = firms[(firms["step"] > last - 5 * 52) & firms["active"]]
    nps = late.groupby("name")["nps"].mean()
    inside = float(nps.between(-20, 50).mean())
    cols = [c for c in market.columns if c.startswith("satisfaction[")]
    industry = market[market["step"] > last - 52][cols].mean()
    spread = float(industry.max() - industry.min())
    passed = inside >= 2 / 3 and 1.5 <= spread <= 2.5
    figure = _draw_levels(figures, nps, industry) if figures is not None else None
    return CheckResult(
        name="levels",
        title="NPS and satisfaction levels look like real markets",
        source="Reichheld (2003); Qualtrics XM Institute (2023); ACSI (Fornell et al. 1996)",
        target="firm NPS in -20..+50 for >= 2/3 of firms; industry satisfaction spread 1.5-2.5",
        measured=(
            f"{inside:.0%} of firms in range (NPS {nps.min():+.0f}..{nps.max():+.0f}); "
            f"spread {spread:.2f}"
        ),
        passed=bool(passed),
        figure=figure,
        details={
            "nps": nps.round(2).to_dict(),
            "share_in_range": inside,
            "industry_satisfaction": industry.round(3).to_dict(),
            "spread": spread,
        },
        distance=outside(inside, low=2 / 3) / (1 / 3) + outside(spread, 1.5, 2.5),
        seconds=time.perf_counter() - started,
    )


WORD_OF_MOUTH_VALENCE = Check(
    name="word_of_mouth_valence",
    run=check_word_of_mouth_valence,
    mechanism="customers talk about their supplier in the tone of their satisfaction "
    "(mechanisms.word_of_mouth_tone: off, a message's tone is drawn whatever the satisfaction)",
    control={"mechanisms.word_of_mouth_tone": False},
    data="baseline",
    shows="emerges",
    why="No rule states the ratio and no parameter was set for it, but it holds only near the "
    "default of a free parameter, word_of_mouth.neutral_point (the satisfaction above which a "
    "message is positive: 17.4:1 at 5.0, 2.91:1 at the default 6.5, full size).",
    ablations={
        "talk independent of satisfaction (word_of_mouth.positive_amplitude and "
        "negative_amplitude 0)": {
            "word_of_mouth.positive_amplitude": 0.0,
            "word_of_mouth.negative_amplitude": 0.0,
        },
        "no heavier talk on the dissatisfied side (negative_amplitude = positive_amplitude)": {
            "word_of_mouth.negative_amplitude": WordOfMouthParams().positive_amplitude
        },
    },
    notes="The negative control keeps who talks and how much, and draws each message's tone "
    "whatever its speaker's satisfaction: the ratio falls to about 1:1, so the check reads the "
    "tone's tie to satisfaction (until 6 December the control switched word of mouth off, and "
    "failed only because there was nothing to count). "
    "The first ablation is the informative one: when every customer talks at the same rate "
    "whatever its satisfaction, the ratio stays inside 2:1-4:1. The 3:1 is carried by how many "
    "customers are above the neutral point of talk, not by the U-shape of talking; East, "
    "Hammond & Wright (2007) explain the published ratio the same way (more customers are "
    "satisfied). The heavier talk of the dissatisfied (Anderson 1998) pulls the ratio down: "
    "without it the ratio reaches the top of the range (second ablation).",
)
LEVELS = Check(
    name="levels",
    run=check_levels,
    mechanism="NPS from a 'would you recommend?' answer: satisfaction plus a personal response "
    "style (satisfaction.recommend_offset, recommend_sd)",
    control={"satisfaction.recommend_offset": 0.0, "satisfaction.recommend_sd": 0.0},
    data="baseline",
    shows="calibrated",
    why="satisfaction.recommend_offset was set so that baseline's NPS comes near Reichheld's "
    "median +16 (docs/MODEL.md, decision 17), and the spread of industry satisfaction comes from "
    "the scenario's capabilities (1.73 in the control too). The target's -20..+50 is wider than "
    "the cited industry averages (-6..+30), and two thirds of six firms is a coarse count: at "
    "full size the control passes with four firms in range (NPS -55..+44; three, and a failing "
    "control, before a customer held a firm to the value promised at its price), so the pass "
    "says the levels are plausible, not that the offset is needed (at the check's quick size "
    "the control still fails).",
    notes="With NPS computed from satisfaction itself, the firms of ACSI-like satisfaction have "
    "NPS near -60, far outside the published industry averages: satisfaction is too narrowly "
    "spread across customers for the steep promoter and detractor thresholds. The spread of "
    "industry satisfaction comes from the scenario's capabilities, not from a mechanism.",
)


def _draw_wom(figures: Path, yearly: pd.DataFrame, ratio: float) -> Path:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    r = yearly["positive"] / yearly["negative"]
    ax.axhspan(2, 4, color="C2", alpha=0.12, label="East et al. (2007): 2:1-4:1")
    ax.scatter(yearly["satisfaction"], r, color="C0", label="one year of the run")
    ax.axvspan(7, 8, color="gray", alpha=0.08)
    ax.set_xlabel("mean satisfaction that year (0-10)")
    ax.set_ylabel("positive : negative messages")
    ax.set_title(f"Word-of-mouth valence: {ratio:.2f}:1 at satisfaction 7-8")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, figures, "word_of_mouth_valence.png")


def _draw_levels(figures: Path, nps: pd.Series, industry: pd.Series) -> Path:
    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=120)
    ax = axes[0]
    ax.axvspan(-20, 50, color="C2", alpha=0.12, label="-20..+50")
    ax.barh(nps.index, nps.values, color=["C0" if -20 <= v <= 50 else "C3" for v in nps])
    ax.set_xlabel("NPS, mean of the last five years")
    ax.set_title("Firm NPS")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    ax = axes[1]
    names = [c.removeprefix("satisfaction[").removesuffix("]") for c in industry.index]
    ax.bar(names, industry.values, color="C1")
    ax.set_ylim(0, 10)
    ax.set_ylabel("mean satisfaction, last year (0-10)")
    ax.set_title(f"Industry spread {industry.max() - industry.min():.2f} points (target 1.5-2.5)")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return save(fig, figures, "levels.png")
