"""The workshop's shared market: a firm's levers, the strategy that applies them, rounds.

Every participant's firm is a copy of a base scenario's first firm (:func:`market_scenario`),
run by :class:`WorkshopStrategy`, which does what the participant's :class:`Choice` says. A
round sets each firm's choice and runs the market for the round's weeks (:func:`run_round`);
:func:`round_results` is the leaderboard's raw material.

The levers (:class:`Choice`):

- ``promise_level``: what the firm promises relative to what it can deliver; the promise is
  capability x (1 + promise_level), so 0 is honest, 0.3 promises 30% more, -0.2 under-promises;
- ``focus``: the attribute the firm invests in and markets on (70% of its capability investment
  and targeting), or ``"balanced"``;
- ``marketing``: of the 40% of its discretionary budget that goes to customers, the share spent
  on marketing to win new ones (the rest goes to retention of current ones);
- ``capacity_share``: the share of the whole discretionary budget invested in capacity, 0-0.6
  (default 0.3); capability gets the rest of the 60% not spent on customers, so 0.6 - it
  (the default splits 30% / 30%; 0.6 puts nothing into capability);
- ``disclose``: tell customers about failures before they meet them.

This module must never import the UI.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from sim.metrics import margins
from sim.model import CustomerMarket
from sim.scenario import Scenario, load_scenario
from sim.strategies import Decision, Strategy, StrategyError
from sim.workshop.retention import lifetime_values, retention_estimates

if TYPE_CHECKING:
    from sim.agents import Firm

__all__ = [
    "BALANCED",
    "DEFAULT_CHOICE",
    "LEADERBOARD_COLUMNS",
    "Choice",
    "WorkshopStrategy",
    "build_market",
    "choice_problem",
    "market_scenario",
    "number",
    "round_results",
    "run_round",
    "same_results",
]

BALANCED = "balanced"
FOCUS_WEIGHT = 0.7
"""Share of capability investment and targeting on the focus attribute."""
CUSTOMER_BUDGET = 0.4
"""Share of the discretionary budget split between marketing and retention."""
INVESTMENT_BUDGET = 1.0 - CUSTOMER_BUDGET
"""Share of the discretionary budget split between capacity (``capacity_share``) and
capability (the rest)."""
LEADERBOARD_COLUMNS = ("customers", "share", "retention", "nps", "trust", "profit", "cash", "clv")
"""Leaderboard values per firm after a round (see :meth:`Workshop.round_results`)."""


class Choice(BaseModel):
    """A firm's levers for a round (validated; unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    promise_level: float = Field(
        0.0, ge=-0.5, le=1.0, description="promise = capability x (1 + promise_level)"
    )
    focus: str = Field(BALANCED, description="attribute to invest in and market on, or balanced")
    marketing: float = Field(
        0.5, ge=0, le=1, description="share of the customer budget on marketing (rest: retention)"
    )
    disclose: StrictBool = Field(False, description="tell customers about failures beforehand")
    capacity_share: float = Field(
        0.3,
        ge=0,
        le=INVESTMENT_BUDGET,
        description="share of the discretionary budget on capacity (capability: 0.6 minus it)",
    )


DEFAULT_CHOICE = Choice()
"""What a firm does until its participant acts."""


def _shown(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return repr(value)


def choice_problem(data: dict[str, Any]) -> str | None:
    """The first problem with a participant's levers, worded as the room form words its own
    (``"promise level: expected a number from -0.5 to 1, got 5"``), or None when they are fine.

    Unset levers take their defaults; whether ``focus`` is one of the room's attributes is the
    room's check.
    """
    try:
        Choice.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        name = str(e["loc"][0]) if e["loc"] else "choice"
        label, got = name.replace("_", " "), _shown(e.get("input"))
        info = Choice.model_fields.get(name)
        if info is None:
            return f"{label}: not a lever (levers: {', '.join(Choice.model_fields)})"
        if info.annotation is float:
            limits = {
                k: getattr(m, k) for m in info.metadata for k in ("ge", "le") if hasattr(m, k)
            }
            if "ge" in limits and "le" in limits:
                span = f"{limits['ge']:g} to {limits['le']:g}"
                return f"{label}: expected a number from {span}, got {got}"
            return f"{label}: expected a number, got {got}"
        if name == "disclose":
            return f"{label}: expected yes or no, got {got}"
        return f"{label}: expected text, got {got}"
    return None


class WorkshopStrategy(Strategy):
    """A participant's firm: does what the participant's :class:`Choice` says."""

    name = "workshop"
    Levers = Choice

    def decide(self, firm: Firm, decision: Decision) -> None:
        """Promise, focus, budget split and disclosure from the levers.

        The discretionary budget: ``capacity_share`` to capacity, ``0.6 - capacity_share`` to
        capability, and 40% to customers (``marketing`` of it to marketing, the rest to
        retention).
        """
        levers: Choice = self.levers  # type: ignore[assignment]
        decision.promise = np.clip(firm.capability * (1.0 + levers.promise_level), 0.0, 1.0)
        names = list(firm.model.attributes)
        k = len(names)
        if levers.focus == BALANCED or k == 1:
            decision.focus = np.full(k, 1.0 / k)
        else:
            if levers.focus not in names:
                raise StrategyError(
                    "levers.focus", f"expected one of {[BALANCED, *names]}, got {levers.focus!r}"
                )
            focus = np.full(k, (1.0 - FOCUS_WEIGHT) / (k - 1))
            focus[names.index(levers.focus)] = FOCUS_WEIGHT
            decision.focus = focus
        m = levers.marketing
        cap = min(max(float(levers.capacity_share), 0.0), INVESTMENT_BUDGET)
        decision.allocation = np.array(
            [INVESTMENT_BUDGET - cap, cap, CUSTOMER_BUDGET * m, CUSTOMER_BUDGET * (1.0 - m)]
        )
        decision.disclose = bool(levers.disclose)


STRATEGY_SPEC = f"{__name__}:WorkshopStrategy"

PER_MARKET_MEMBER = ("capacity", "initial_share", "cash", "base_budget")
"""A firm's quantities stated per member of the market, shared out among a room's firms."""


def market_scenario(base: str, names: list[str], customers: int, seed: int, steps: int) -> Scenario:
    """The shared market: the base scenario's first industry with one identical firm per name.

    Each firm is a copy of the base scenario's first firm (capability, price, unit costs),
    renamed, national, entering at step 0 and run by :class:`WorkshopStrategy`. What the
    scenario states per member of the market (capacity, starting share, cash, the base
    budget: docs/MODEL.md 7.10) is shared out: a room of ``len(names)`` firms has, in all, what
    the base industry's firms had, each firm ``n / len(names)`` of its template's, ``n`` the
    base industry's firm count. Copied whole, twelve firms each staffed for 60% of a market
    that two shared had capacity costs above the whole market's revenue, and every firm of a
    room with the default settings closed (a facilitator's review, 5 December 2026).

    Raises
    ------
    ScenarioError
        The base scenario or the market built from it is invalid.
    """
    data = load_scenario(base).to_dict()
    template = dict(data["firms"][0])
    industry = data["market"]["industries"][0]
    in_industry = sum(f["industry"] == industry for f in data["firms"])
    part = in_industry / max(len(names), 1)
    firms = []
    for name in names:
        firm = dict(template)
        firm.update(
            name=name,
            industry=industry,
            strategy=STRATEGY_SPEC,
            levers={},
            entry_step=0,
            **{key: float(template[key]) * part for key in PER_MARKET_MEMBER},
        )
        firm.pop("region", None)
        firms.append(firm)
    data["firms"] = firms
    data["market"]["industries"] = [industry]
    data["name"] = f"workshop_{base}"
    data["seed"] = int(seed)
    data["steps"] = int(steps)
    data["collect_every"] = 1
    data["market"]["customers"] = int(customers)
    return load_scenario(data)


def build_market(
    scenario: str, names: list[str], customers: int, seed: int, steps: int
) -> CustomerMarket:
    """The room's market at step 0 (see :func:`market_scenario`), recording no customer."""
    built = market_scenario(scenario, names, customers, seed, steps)
    return CustomerMarket(built, track=0, eager_agents=False)


def run_round(model: CustomerMarket, weeks: int, final: dict[int, Choice]) -> list[dict[str, Any]]:
    """Run ``weeks`` steps of ``model`` with ``final`` choices; return the result rows."""
    for firm, choice in final.items():
        model.firms[firm].strategy = WorkshopStrategy(**choice.model_dump())
    start = model.steps
    for _ in range(weeks):
        if not model.running:
            break
        model.step()
    return round_results(model, start)


def round_results(model: CustomerMarket, start: int) -> list[dict[str, Any]]:
    """Per firm, after the steps since ``start``: customers, share (%), annual retention,
    NPS, trust, customer lifetime value (``clv``, money per customer; all at the last step),
    profit earned over those steps and cash (money).

    ``profit`` in the model's series is an annual rate per step; the round's profit is the
    sum over its steps divided by the steps in a year.
    """
    df = model.firm_metrics()
    rows: list[dict[str, Any]] = []
    if df.empty:
        return rows
    played = df[df["step"] > start]
    last = df[df["step"] == df["step"].max()]
    retention = retention_estimates(df, model.steps_per_year)[-1]
    active = last.sort_values("firm")["active"].to_numpy(bool)
    values = lifetime_values(
        retention,
        margins(model.batch)[0],
        active,
        float(model.params.economics.discount_rate),
    )
    for firm in range(len(model.firms)):
        now = last[last["firm"] == firm].iloc[0]
        profit = float(played.loc[played["firm"] == firm, "profit"].sum())
        rows.append(
            {
                "firm": firm,
                "customers": float(now["customers"]),
                "share": float(now["share"]) * 100.0,
                "retention": number(retention[firm]),
                "nps": number(now["nps"]),
                "trust": number(now["trust"]),
                "profit": profit / model.steps_per_year,
                "cash": float(now["cash"]),
                "clv": number(values[firm]),
            }
        )
    return rows


def same_results(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Whether two rounds' result rows agree (to 1e-9; None only where the other is None)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for k in ("firm", *LEADERBOARD_COLUMNS):
            u, v = x[k], y[k]
            if u is None or v is None:
                if u is not v:
                    return False
            elif not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9):
                return False
    return True


def number(value: float | None) -> float | None:
    """A float for JSON and the leaderboard: None for None and NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
