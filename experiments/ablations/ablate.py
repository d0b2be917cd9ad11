"""Ablations: each shipped scenario's headline with all mechanisms on and with each one off.

The headline of a scenario is defined once, in ``headlines.toml`` beside this file, as a claim
(``firms.Straight Talk.share @ year 10 > firms.Big Promises.share @ year 10``); the headline
value of a run is the claim's margin, positive when it holds. For one scenario,
:func:`ablation_spec` builds a sweep (``sim.sweep``) with a list design: one point with every
switch of ``[mechanisms]`` on and one point per applicable switch with that switch alone off,
``replicates`` runs each with common random numbers (replicate r of every point meets the same
customers and network, so the difference a switch makes is measured on paired runs). The sweep
layer runs it on all local cores or Dask, writes Parquet and resumes; :func:`headline_values`
reads one headline value per run back with DuckDB, :func:`summarise` gives the mean and 95%
interval per point, the paired difference from all on, and the verdict with each switch off, and
:func:`carried_by` says in words which channels carry the verdict.

Switches that cannot change a scenario are skipped, with the reason (:func:`applicable`): the
five disclosure channels where no firm warns its customers, and targeting and focused
investment where every firm's focus is even.

This module imports the model's public API (scenarios, parameters) and ``sim.sweep``; it never
imports the UI.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import sim.sweep
from sim.params import MechanismParams
from sim.scenario import Scenario, load_scenario

__all__ = [
    "ALL_ON",
    "HEADLINES",
    "SWITCHES",
    "Headline",
    "Ref",
    "ablation_spec",
    "applicable",
    "carried_by",
    "headline_values",
    "load_headlines",
    "parse_claim",
    "run_ablation",
    "summarise",
]

HEADLINES = Path(__file__).resolve().parent / "headlines.toml"
"""Where the headline of every shipped scenario is defined."""

SWITCHES: tuple[str, ...] = tuple(MechanismParams.model_fields)
"""Every switch of ``[mechanisms]``, in the schema's order."""

ALL_ON = "all on"
"""Label of the design point with every switch on."""

DISCLOSURE = tuple(s for s in SWITCHES if s.startswith("disclosure_"))
FOCUS = ("targeting", "focus_investment")

SEED = 2027
"""Seed of every ablation sweep."""


class HeadlineError(ValueError):
    """A headline or claim that cannot be read; the message names the scenario and the text."""


# -- claims --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """One outcome over a window of a run.

    Attributes
    ----------
    table
        ``firms`` or ``market``.
    metric
        The column (``share``, ``satisfaction[banking]``).
    firm
        The firm's name for a firm outcome.
    first_year, last_year
        The window in years: the mean over the kept steps from the start of ``first_year`` to the
        end of ``last_year``; ``first_year == last_year + 1`` marks the single step that ends
        ``last_year``; both None for the run's final step.
    text
        As written.
    """

    table: str
    metric: str
    firm: str | None
    first_year: int | None
    last_year: int | None
    text: str

    def steps(self, steps_per_year: int) -> tuple[int, int] | None:
        """The window as first and last step (inclusive), or None for the final step."""
        if self.last_year is None:
            return None
        end = self.last_year * steps_per_year
        if self.first_year == self.last_year + 1:
            return end, end
        return (self.first_year - 1) * steps_per_year + 1, end


@dataclass(frozen=True)
class Term:
    """A signed number or outcome of one side of a claim."""

    sign: int
    ref: Ref | None = None
    constant: float = 0.0


_WINDOW = re.compile(r"^(?:final|year (\d+)|years (\d+)\s*-\s*(\d+))$")
_SPLIT = re.compile(r"\s+([+-])\s+")


def _ref(text: str, where: str) -> Ref:
    name, _, window = (p.strip() for p in text.partition("@"))
    first = last = None
    if window:
        m = _WINDOW.match(window)
        if not m:
            raise HeadlineError(
                f"{where}: window {window!r}: expected 'final', 'year N' or 'years A-B'"
            )
        if m.group(1):
            last = int(m.group(1))
            first = last + 1
        elif m.group(2):
            first, last = int(m.group(2)), int(m.group(3))
            if not 1 <= first <= last:
                raise HeadlineError(f"{where}: window {window!r}: expected 1 <= A <= B")
    if name.startswith("firms."):
        firm, _, metric = name[len("firms.") :].rpartition(".")
        if not firm or not metric:
            raise HeadlineError(f"{where}: {name!r}: expected firms.<firm>.<metric>")
        return Ref("firms", metric, firm, first, last, text.strip())
    return Ref("market", name.removeprefix("market."), None, first, last, text.strip())


def _side(text: str, where: str) -> list[Term]:
    parts = _SPLIT.split(" " + text.strip())
    terms, sign = [], 1
    first = parts[0].strip()
    items = ([("+", first)] if first else []) + list(zip(parts[1::2], parts[2::2], strict=True))
    for op, item in items:
        sign = 1 if op == "+" else -1
        item = item.strip()
        try:
            terms.append(Term(sign, constant=float(item)))
        except ValueError:
            terms.append(Term(sign, ref=_ref(item, where)))
    if not terms:
        raise HeadlineError(f"{where}: empty side in {text!r}")
    return terms


def parse_claim(text: str, where: str = "claim") -> tuple[str, list[Term], list[Term]]:
    """Read ``LEFT > RIGHT`` or ``LEFT < RIGHT``: sums of numbers and outcomes with windows.

    Returns
    -------
    tuple
        The comparison, the terms of the left side and of the right side.

    Examples
    --------
    >>> op, left, right = parse_claim("firms.A B.share @ year 10 > firms.C.share @ year 10 + 0.01")
    >>> op, left[0].ref.firm, right[0].ref.firm, right[1].constant
    ('>', 'A B', 'C', 0.01)
    """
    ops = [op for op in (">", "<") if op in text]
    if len(ops) != 1 or text.count(ops[0]) != 1:
        raise HeadlineError(f"{where}: expected one comparison, > or <, in {text!r}")
    left, right = text.split(ops[0])
    return ops[0], _side(left, where), _side(right, where)


# -- headlines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """A scenario's headline comparison.

    Attributes
    ----------
    scenario
        The scenario's name (``scenarios/<name>.toml``).
    headline
        The headline in words.
    holds
        The claim; the headline is its margin.
    customers, years
        Size and length of the ablation runs.
    reading
        What the ablation shows, in words (written after looking at the results).
    """

    scenario: str
    headline: str
    holds: str
    customers: int = 1000
    years: int = 10
    reading: str = ""
    op: str = field(init=False)
    left: tuple[Term, ...] = field(init=False)
    right: tuple[Term, ...] = field(init=False)

    def __post_init__(self) -> None:
        op, left, right = parse_claim(self.holds, f"headlines.toml [{self.scenario}].holds")
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "left", tuple(left))
        object.__setattr__(self, "right", tuple(right))

    @property
    def refs(self) -> list[Ref]:
        """The outcomes the claim reads, each once."""
        seen: dict[str, Ref] = {}
        for t in (*self.left, *self.right):
            if t.ref is not None:
                seen.setdefault(t.ref.text, t.ref)
        return list(seen.values())

    def margin(self, values: dict[str, Any]) -> Any:
        """The headline from the value of each outcome (keyed by its text): left - right for >,
        right - left for <. Works on numbers and on pandas columns alike."""

        def side(terms: Sequence[Term]) -> Any:
            return sum(t.sign * (values[t.ref.text] if t.ref else t.constant) for t in terms)

        diff = side(self.left) - side(self.right)
        return diff if self.op == ">" else -diff


def load_headlines(path: str | Path = HEADLINES) -> dict[str, Headline]:
    """Every scenario's headline from ``headlines.toml``, by scenario name."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for name, entry in data.items():
        unknown = set(entry) - {"headline", "holds", "customers", "years", "reading"}
        if unknown:
            raise HeadlineError(f"{path}: [{name}]: unknown keys {sorted(unknown)}")
        out[name] = Headline(scenario=name, **entry)
    return out


# -- the sweep -----------------------------------------------------------------------------------


def _strategies(scenario: Scenario) -> set[str]:
    names: set[str] = set()
    for firm in scenario.firms:
        names.update([firm.strategy] if isinstance(firm.strategy, str) else firm.strategy)
    return names


def applicable(scenario: Scenario) -> dict[str, str]:
    """Each switch of ``[mechanisms]`` and why it is skipped ("" when it is ablated).

    A switch is skipped only when the scenario cannot use its channel: the disclosure channels
    when no firm's strategy is ``proactive``, targeting and focused investment when every firm's
    strategy keeps an even focus (no ``niche``). A user strategy (``module:Class``) may do
    anything, so it keeps every switch.
    """
    strategies = _strategies(scenario)
    user = any(":" in s for s in strategies)
    reasons = {}
    for s in SWITCHES:
        reason = ""
        if not user and s in DISCLOSURE and "proactive" not in strategies:
            reason = "no firm warns its customers"
        elif not user and s in FOCUS and "niche" not in strategies:
            reason = "every firm's focus is even"
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
    years: int | None = None,
    switches: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The sweep (as sweep-file data) of one scenario's ablation.

    Parameters
    ----------
    headline
        The scenario and its headline.
    replicates
        Runs per point (common random numbers across points).
    customers, years
        Market size and length (default: the headline's).
    switches
        The switches to ablate (default: every applicable one).

    Returns
    -------
    dict
        A sweep spec for :func:`sim.sweep.run`: a list design whose first point has every switch
        on (``label = "all on"``) and each further point one switch off (label ``"<switch> off"``).
        The scenario's description is blanked in the runs so that rewording it does not make the
        results folder look like another sweep.
    """
    scenario = load_scenario(headline.scenario)
    reasons = applicable(scenario)
    chosen = [s for s in SWITCHES if not reasons[s]] if switches is None else list(switches)
    for s in chosen:
        if s not in SWITCHES:
            raise HeadlineError(f"unknown switch {s!r}; expected one of {', '.join(SWITCHES)}")
    spy = scenario.steps_per_year
    steps = (years or headline.years) * spy
    industries = [f"satisfaction[{m}]" for m in scenario.market.industries]
    market = [*MARKET_COLUMNS, *industries]
    firms = list(FIRM_COLUMNS)
    for ref in headline.refs:
        bucket = firms if ref.table == "firms" else market
        if ref.metric not in bucket:
            bucket.append(ref.metric)
    points = [{"label": ALL_ON, "set": {f"mechanisms.{SWITCHES[0]}": True}}]
    points += [{"label": f"{s} off", "set": {f"mechanisms.{s}": False}} for s in chosen]
    return {
        "name": f"ablation_{headline.scenario}",
        "description": f"{headline.scenario}: {headline.headline}, with each mechanism off",
        "scenario": headline.scenario,
        "seed": SEED,
        "replicates": replicates,
        "steps": steps,
        "common_random_numbers": True,
        "set": {"market.customers": customers or headline.customers, "description": ""},
        "design": {"kind": "list", "points": points},
        "output": {
            "tables": ["market", "firms"],
            "every": _every(spy),
            "market": market,
            "firms": firms,
        },
        "analysis": {"outcomes": [_outcome_name(r) for r in headline.refs]},
    }


def _outcome_name(ref: Ref) -> str:
    return f"firms.{ref.firm}.{ref.metric}" if ref.table == "firms" else ref.metric


def run_ablation(
    headline: Headline,
    out: str | Path,
    *,
    executor: str | None = None,
    workers: int | None = None,
    progress: Any = None,
    **spec_options: Any,
) -> sim.sweep.SweepResults:
    """Run (or resume) one scenario's ablation sweep into ``out`` and return its results."""
    spec = ablation_spec(headline, **spec_options)
    return sim.sweep.run(spec, out, executor=executor, workers=workers, progress=progress)


# -- reading the results -------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ref_sql(ref: Ref, steps_per_year: int) -> str:
    col = f"CAST({_quote(ref.metric)} AS DOUBLE)"
    clean = f"CASE WHEN isnan({col}) THEN NULL ELSE {col} END"
    where = [f"name = {_literal(ref.firm)}"] if ref.firm is not None else []
    window = ref.steps(steps_per_year)
    if window is None:
        inner = f"SELECT run_id, step, {clean} AS v FROM {ref.table}"
        if where:
            inner += " WHERE " + " AND ".join(where)
        inner += " QUALIFY step = max(step) OVER (PARTITION BY run_id)"
        return f"SELECT run_id, avg(v) AS v FROM ({inner}) GROUP BY run_id"
    where.append(f"step BETWEEN {window[0]} AND {window[1]}")
    return (
        f"SELECT run_id, avg({clean}) AS v, count(*) AS k FROM {ref.table} "
        f"WHERE {' AND '.join(where)} GROUP BY run_id"
    )


def headline_values(results: sim.sweep.SweepResults, headline: Headline) -> pd.DataFrame:
    """One row per finished run: ``point``, ``label``, ``replicate``, each outcome and ``value``
    (the headline).

    Raises
    ------
    HeadlineError
        When a window asks for steps the runs did not keep or did not reach.
    """
    scenario = load_scenario(results.root / "scenario.toml")
    spy = scenario.steps_per_year
    last_step = int(results.spec.steps or scenario.steps)
    runs = results.sql(
        "SELECT r.run_id, r.point, r.replicate, d.label FROM runs r "
        "JOIN design d USING (point) WHERE r.status = 'ok'"
    ).df()
    for ref in headline.refs:
        window = ref.steps(spy)
        if window is not None and window[1] > last_step:
            raise HeadlineError(
                f"{headline.scenario}: {ref.text}: the window ends at step {window[1]}, "
                f"after the runs' last step {last_step}"
            )
        df = results.sql(_ref_sql(ref, spy)).df()
        if window is not None and (df.empty or df["k"].min() < 1):
            raise HeadlineError(f"{headline.scenario}: {ref.text}: no kept step in the window")
        runs = runs.merge(df[["run_id", "v"]].rename(columns={"v": ref.text}), on="run_id")
    runs["value"] = headline.margin({r.text: runs[r.text] for r in headline.refs})
    return runs.sort_values(["point", "replicate"]).reset_index(drop=True)


def _ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    v = values[~np.isnan(values)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def verdict(low: float, high: float) -> str:
    """``holds`` (interval above 0), ``reversed`` (below 0) or ``undecided`` (covers 0)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "undecided"
    if low > 0:
        return "holds"
    if high < 0:
        return "reversed"
    return "undecided"


def summarise(values: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per point: the headline's mean and interval, its verdict, and the paired difference from
    all on (replicate by replicate; common random numbers make the pairs).

    Returns
    -------
    DataFrame
        ``point``, ``label``, ``switch`` (None for all on), ``n``, ``mean``, ``ci_low``,
        ``ci_high``, ``verdict``, ``diff``, ``diff_low``, ``diff_high``, ``changed`` (the paired
        interval excludes 0), in design order.
    """
    base = values[values["label"] == ALL_ON].set_index("replicate")["value"]
    rows = []
    for (point, label), g in values.groupby(["point", "label"], sort=True):
        mean, low, high, n = _ci(g["value"].to_numpy(float), level)
        paired = g.set_index("replicate")["value"] - base
        d, dlow, dhigh, _ = _ci(paired.dropna().to_numpy(float), level)
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
    if removed.empty:
        return (
            f"{cap} survives the removal of any single channel: no one channel carries it." + note
        )
    if len(names) == 1:
        return (
            f"{cap} vanishes with {names[0]} off and survives every other single channel off: "
            f"it is carried by {names[0]}{tail}." + note
        )
    return (
        f"{cap} vanishes with any one of {_join(names)} off{tail}: each of them is needed, "
        "none carries it alone." + note
    )


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
