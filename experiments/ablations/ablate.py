"""Ablations: each shipped scenario's headline with all mechanisms on and with each one off.

A scenario's headline is one of the claims its file states (``[[claims]]``, the form of
``sim.robustness.claims``); ``headlines.toml`` beside this file says which claim, in words what its
margin measures, and the market size of the runs: the definitions live in one place, the
scenario, and the robustness work reads the same claims. The headline of a run is the claim's
margin (``sim.robustness.margins``): positive when the claim holds.

For one scenario, :func:`ablation_spec` builds a sweep (``sim.sweep``) with a list design: one
point with every switch of ``[mechanisms]`` on and one point per applicable switch with that
switch alone off, ``replicates`` runs each with common random numbers (replicate r of every point
meets the same customers and network, so the change a switch makes is measured on paired runs).
A headline that is a contrast (its claim's ``versus``) runs every point a second time in the
counterfactual market, and reads ``versus(...)`` in the twin run of the same replicate.
The sweep layer runs it on all local cores or Dask, writes Parquet and resumes;
:func:`headline_values` reads one headline value per run, :func:`summarise` gives the mean and
95% interval per point, the paired difference from all on and the verdict with each switch off,
and :func:`carried_by` says in words which channels carry the verdict.

Switches that cannot change a scenario are skipped, with the reason (:func:`applicable`): the
five disclosure channels where no firm warns its customers, targeting and focused investment
where every firm's focus stays even, teaching where no firm teaches.

This module imports the model's public API (scenarios, parameters, claims) and ``sim.sweep``; it
never imports the UI.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import sim.sweep
from sim.params import MechanismParams
from sim.robustness.claims import Claim, ClaimError, parse_claim
from sim.robustness.margins import claim_margins
from sim.robustness.versus import paired_runs
from sim.scenario import Scenario, load_scenario
from sim.strategies import BUILTIN_STRATEGIES

__all__ = [
    "ALL_ON",
    "HEADLINES",
    "SWITCHES",
    "Headline",
    "HeadlineError",
    "ablation_spec",
    "applicable",
    "carried_by",
    "headline_values",
    "load_headlines",
    "run_ablation",
    "summarise",
]

HEADLINES = Path(__file__).resolve().parent / "headlines.toml"
"""Where the headline of every shipped scenario is defined."""

SWITCHES: tuple[str, ...] = tuple(MechanismParams.model_fields)
"""Every switch of ``[mechanisms]``, in the schema's order."""

ALL_ON = "all on"
"""Label of the design point with every switch on."""
VERSUS = " versus"
"""Label suffix of a point's twin in the counterfactual market of a contrast claim (its
``versus`` table, :mod:`sim.robustness.versus`): the same switches and seeds, so replicate r
of both pairs up, and the headline reads ``versus(...)`` in the twin."""

DISCLOSURE = tuple(s for s in SWITCHES if s.startswith("disclosure_"))
FOCUS = ("targeting", "focus_investment")
NICHE_TEACHING = BUILTIN_STRATEGIES["niche"].Levers.model_fields["teaching"].default
"""The niche strategy's default ``teaching`` lever."""

SEED = 2027
"""Seed of every ablation sweep."""


class HeadlineError(ValueError):
    """A headline that cannot be used; the message names the scenario and what was expected."""


@dataclass(frozen=True)
class Headline:
    """A scenario's headline comparison.

    Attributes
    ----------
    scenario
        The scenario's name (``scenarios/<name>.toml``).
    claim
        The name of the scenario's claim whose margin is the headline.
    headline
        What the margin measures, in words.
    customers, years
        Size and length of the ablation runs.
    reading
        What the ablation shows, in words (written after looking at the results).
    """

    scenario: str
    claim: str
    headline: str
    customers: int = 1000
    years: int = 10
    reading: str = ""

    def steps(self, scenario: Scenario | None = None) -> int:
        """Steps of the ablation runs."""
        sc = scenario or load_scenario(self.scenario)
        return self.years * sc.steps_per_year

    def parsed(self, scenario: Scenario | None = None) -> Claim:
        """The claim, parsed against the scenario and the runs' length."""
        sc = scenario or load_scenario(self.scenario)
        specs = {c.name: c for c in sc.claims}
        if self.claim not in specs:
            raise HeadlineError(
                f"headlines.toml [{self.scenario}].claim: expected one of the scenario's claims "
                f"({', '.join(specs) or 'it states none'}), got {self.claim!r}"
            )
        spec = specs[self.claim]
        try:
            return parse_claim(
                spec.name,
                spec.holds,
                spec.says,
                [f.name for f in sc.firms],
                list(sc.market.industries),
                steps_per_year=sc.steps_per_year,
                steps=self.steps(sc),
                versus=spec.versus,
            )
        except ClaimError as e:
            raise HeadlineError(f"{self.scenario}: claim {self.claim!r}: {e.detail}") from None


def load_headlines(path: str | Path = HEADLINES) -> dict[str, Headline]:
    """Every scenario's headline from ``headlines.toml``, by scenario name."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for name, entry in data.items():
        unknown = set(entry) - {"claim", "headline", "customers", "years", "reading"}
        if unknown:
            raise HeadlineError(f"{path}: [{name}]: unknown keys {sorted(unknown)}")
        out[name] = Headline(scenario=name, **entry)
    return out


# -- the sweep -----------------------------------------------------------------------------------


def _policies(scenario: Scenario) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for firm in scenario.firms:
        names = [firm.strategy] if isinstance(firm.strategy, str) else list(firm.strategy)
        out += [(n, dict(firm.levers)) for n in names]
    return out


def applicable(scenario: Scenario) -> dict[str, str]:
    """Each switch of ``[mechanisms]`` and why it is skipped ("" when it is ablated).

    A switch is skipped only when no firm of the scenario can use its channel: the disclosure
    channels when no firm's strategy is ``proactive``; targeting and focused investment when no
    firm leaves the even focus (no ``niche``); teaching when no ``niche`` firm teaches (its
    ``teaching`` lever is 0). A strategy that may change anything as it goes (``responsive``, or
    a user's ``module:Class``) keeps every switch. The tests check that a skipped switch leaves a
    run unchanged bit for bit.
    """
    policies = _policies(scenario)
    names = {n for n, _ in policies}
    if ":" in "".join(names) or "responsive" in names:
        return dict.fromkeys(SWITCHES, "")
    niche = [lv for n, lv in policies if n == "niche"]
    teaches = any(lv.get("teaching", NICHE_TEACHING) > 0 for lv in niche)
    reasons = {}
    for s in SWITCHES:
        reason = ""
        if s in DISCLOSURE and "proactive" not in names:
            reason = "no firm warns its customers"
        elif s in FOCUS and not niche:
            reason = "every firm's focus stays even"
        elif s == "teaching" and not teaches:
            reason = "no firm teaches"
        reasons[s] = reason
    return reasons


def _every(steps_per_year: int) -> int:
    for parts in (4, 2, 1):
        if steps_per_year % parts == 0:
            return steps_per_year // parts
    return steps_per_year  # pragma: no cover - parts = 1 always divides


FIRM_COLUMNS = ["share", "customers", "retention_annual", "trust", "satisfaction", "alive", "cash"]
MARKET_COLUMNS = ["satisfaction", "retention_annual"]


def ablation_spec(
    headline: Headline,
    *,
    replicates: int = 10,
    customers: int | None = None,
    switches: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The sweep (as sweep-file data) of one scenario's ablation.

    Parameters
    ----------
    headline
        The scenario and its headline.
    replicates
        Runs per point (common random numbers across points).
    customers
        Market size (default: the headline's).
    switches
        The switches to ablate (default: every applicable one).

    Returns
    -------
    dict
        A sweep spec for :func:`sim.sweep.run`: a list design whose first point has every switch
        on (``label = "all on"``) and each further point one switch off (label ``"<switch> off"``).
        The runs drop the scenario's description and claims (the claims are evaluated afterwards),
        so that rewording either does not make the results folder look like another sweep.
    """
    scenario = load_scenario(headline.scenario)
    claim = headline.parsed(scenario)
    reasons = applicable(scenario)
    chosen = [s for s in SWITCHES if not reasons[s]] if switches is None else list(switches)
    for s in chosen:
        if s not in SWITCHES:
            raise HeadlineError(f"unknown switch {s!r}; expected one of {', '.join(SWITCHES)}")
    every = _every(scenario.steps_per_year)
    for step in claim.steps:
        every = math.gcd(every, step)
    market = [*MARKET_COLUMNS, *(f"satisfaction[{m}]" for m in scenario.market.industries)]
    firms = list(FIRM_COLUMNS)
    for ref in claim.refs:
        bucket = firms if ref.outcome.table == "firms" else market
        if ref.outcome.metric not in bucket:
            bucket.append(ref.outcome.metric)
    points = [{"label": ALL_ON, "set": {f"mechanisms.{SWITCHES[0]}": True}}]
    points += [{"label": f"{s} off", "set": {f"mechanisms.{s}": False}} for s in chosen]
    if claim.versus:  # a contrast: every point again in its counterfactual market, paired
        points += [
            {"label": f"{p['label']}{VERSUS}", "set": {**p["set"], **dict(claim.versus)}}
            for p in points
        ]
    return {
        "name": f"ablation_{headline.scenario}",
        "description": f"{headline.scenario}: {headline.headline}, with each mechanism off",
        "scenario": headline.scenario,
        "seed": SEED,
        "replicates": replicates,
        "steps": headline.steps(scenario),
        "common_random_numbers": True,
        "set": {
            "market.customers": customers or headline.customers,
            "description": "",
            "claims": [],
        },
        "design": {"kind": "list", "points": points},
        "output": {"tables": ["market", "firms"], "every": every, "market": market, "firms": firms},
        "analysis": {"outcomes": sorted({r.outcome.text for r in claim.refs})},
    }


def run_ablation(
    headline: Headline,
    out: str | Path,
    *,
    executor: sim.sweep.Executor | str | None = None,
    workers: int | None = None,
    progress: Any = None,
    **spec_options: Any,
) -> sim.sweep.SweepResults:
    """Run (or resume) one scenario's ablation sweep into ``out`` and return its results."""
    spec = ablation_spec(headline, **spec_options)
    return sim.sweep.run(spec, out, executor=executor, workers=workers, progress=progress)


# -- reading the results -------------------------------------------------------------------------


def headline_values(results: sim.sweep.SweepResults, headline: Headline) -> pd.DataFrame:
    """One row per finished run: ``run_id``, ``point``, ``label``, ``replicate`` and ``value``
    (the headline: the claim's margin in the run, NaN where it is undefined)."""
    claim = headline.parsed()
    runs = results.sql("SELECT run_id, point, replicate, label FROM runs WHERE status = 'ok'").df()
    paired = None
    if claim.versus:  # the design's points, then each again in the counterfactual market
        points = int(results.sql("SELECT count(DISTINCT point) AS n FROM runs").df()["n"][0]) // 2
        paired = paired_runs(runs, points, [claim.versus], [claim])
        runs = runs[runs["point"] < points]
    ids = pd.Index(runs["run_id"], name="run_id")
    margins = claim_margins([claim], results.df("market"), results.df("firms"), ids, paired=paired)
    runs["value"] = margins[claim.name].to_numpy(float)
    return runs.sort_values(["point", "replicate"]).reset_index(drop=True)


def _ci(
    values: np.ndarray,
    level: float = 0.95,
    within: tuple[float, float] = (-math.inf, math.inf),
) -> tuple[float, float, float, int]:
    v = values[~np.isnan(values)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, max(mean - half, within[0]), min(mean + half, within[1]), n


def verdict(low: float, high: float) -> str:
    """``holds`` (interval above 0), ``reversed`` (below 0) or ``undecided`` (covers 0)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "undecided"
    if low > 0:
        return "holds"
    if high < 0:
        return "reversed"
    return "undecided"


def summarise(
    values: pd.DataFrame,
    level: float = 0.95,
    within: tuple[float, float] = (-math.inf, math.inf),
) -> pd.DataFrame:
    """Per point: the headline's mean and interval, its verdict, and the paired difference from
    all on (replicate by replicate; common random numbers make the pairs).

    ``within`` is what the headline can take (``sim.robustness.margins.margin_range`` of its
    claim): the t-intervals' ends are kept within it, a paired difference's within its width
    (a share difference's interval over five replicates, four of them at 1.0, reached +1.18).
    A range that holds 0 leaves every verdict as it was.

    Returns
    -------
    DataFrame
        ``point``, ``label``, ``switch`` (None for all on), ``n``, ``mean``, ``ci_low``,
        ``ci_high``, ``verdict``, ``diff``, ``diff_low``, ``diff_high``, ``changed`` (the paired
        interval excludes 0), in design order.
    """
    base = values[values["label"] == ALL_ON].set_index("replicate")["value"]
    width = within[1] - within[0]  # a paired difference of two headlines lies within +-width
    rows = []
    for (point, label), g in values.groupby(["point", "label"], sort=True):
        mean, low, high, n = _ci(g["value"].to_numpy(float), level, within)
        paired = g.set_index("replicate")["value"] - base
        d, dlow, dhigh, _ = _ci(paired.dropna().to_numpy(float), level, (-width, width))
        off = None if label == ALL_ON else label.removesuffix(" off")
        rows.append(
            {
                "point": point,
                "label": label,
                "switch": off,
                "n": n,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "verdict": verdict(low, high),
                "diff": 0.0 if off is None else d,
                "diff_low": 0.0 if off is None else dlow,
                "diff_high": 0.0 if off is None else dhigh,
                "changed": off is not None and verdict(dlow, dhigh) != "undecided",
            }
        )
    return pd.DataFrame(rows)


def carried_by(summary: pd.DataFrame, name: str = "the verdict") -> str:
    """In words: which single channels, switched off, make the all-on verdict vanish or reverse.

    A channel *removes* the verdict when, with it off, the headline's interval no longer lies on
    the all-on side of 0 and the paired change from all on is significant and toward 0 (so a
    wider interval alone does not count). A verdict that one channel removes and every other
    single channel leaves standing is carried by that channel; one that survives the removal of
    any single channel is carried by none alone.
    """
    on = summary[summary["switch"].isna()].iloc[0]
    offs = summary[summary["switch"].notna()]
    cap = name[0].upper() + name[1:]
    if on["verdict"] == "undecided":
        deciders = offs[(offs["verdict"] != "undecided") & offs["changed"]]
        if deciders.empty:
            return (
                f"With all mechanisms on {name} is undecided (its interval covers 0), and no "
                "single channel off decides it."
            )
        parts = [f"`{r.switch}` off ({r.verdict})" for r in deciders.itertuples()]
        return (
            f"With all mechanisms on {name} is undecided (its interval covers 0); it is decided "
            f"with {_join(parts)}."
        )
    sign = 1.0 if on["verdict"] == "holds" else -1.0
    lost = offs[offs["verdict"] != on["verdict"]]
    toward = lost["changed"] & (np.sign(lost["diff"]) == -sign)
    removed, noisy = lost[toward], lost[~toward]
    flipped = [f"`{s}`" for s in removed[removed["verdict"] != "undecided"]["switch"]]
    names = [f"`{s}`" for s in removed["switch"]]
    tail = f" (it reverses with {_join(flipped)} off)" if flipped else ""
    note = ""
    if not noisy.empty:
        note = (
            f" With {_join([f'`{s}`' for s in noisy['switch']])} off its interval also reaches 0, "
            "but the paired change from all on is not significant."
        )
    size = _size(offs)
    if removed.empty:
        return (
            f"{cap} survives the removal of any single channel: no one channel carries it."
            + _shrunk(on, offs)
            + note
            + size
        )
    if len(names) == 1:
        return (
            f"{cap} vanishes with {names[0]} off and survives every other single channel off: "
            f"it is carried by {names[0]}{tail}." + note + size
        )
    return (
        f"{cap} vanishes with any one of {_join(names)} off{tail}: each of them is needed, "
        "none carries it alone." + note + size
    )


def _shrunk(on: pd.Series, offs: pd.DataFrame, keep: float = 0.2) -> str:
    """The switches off which the verdict keeps its sign but loses most of its size."""
    small = offs[offs["changed"] & (offs["mean"] * on["mean"] > 0)]
    small = small[small["mean"].abs() < keep * abs(on["mean"])]
    if small.empty:
        return ""
    parts = [f"`{r.switch}` ({r.mean:+.3f})" for r in small.itertuples()]
    return (
        f" But it keeps less than {keep:.0%} of its size ({on['mean']:+.3f} with all on) with "
        f"{_join(parts)} off: that channel carries most of it."
        if len(parts) == 1
        else f" But it keeps less than {keep:.0%} of its size ({on['mean']:+.3f} with all on) "
        f"with any one of {_join(parts)} off."
    )


def _size(offs: pd.DataFrame, top: int = 3) -> str:
    """The switches whose removal changes the headline most (significant paired changes)."""
    moved = offs[offs["changed"]].reindex(
        offs[offs["changed"]]["diff"].abs().sort_values(ascending=False).index
    )
    if moved.empty:
        return " No single channel off changes the headline significantly."
    parts = [f"`{r.switch}` ({r.diff:+.3f})" for r in moved.head(top).itertuples()]
    more = f", and {len(moved) - top} more" if len(moved) > top else ""
    return f" Its size moves most with {_join(parts)} off{more}."


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
