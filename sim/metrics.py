"""What is measured: per firm and for the market, each recorded step; cohorts; NPS, CLV.

Definitions (docs/MODEL.md, section "Observation"):

- **NPS** (Reichheld 2003): share of a firm's current customers whose answer to "would you
  recommend?" rounds to 9-10 minus the share that rounds to 0-6 (L >= 8.5 and L < 6.5), with
  the answer L = S + a personal offset (``recommend_answer``): recommendations are a different
  question from satisfaction and run higher, with wide personal response styles.
- **Retention**: weekly = 1 - churned / customers at the start of the step; annual = (1 - c) **
  steps_per_year with c the churn rate per step over the last year (fewer steps at the start).
- **Expectation gap**: mean over the customers served this step of ``sum_k w[k] (E[k] - X[k])``,
  with E the expectation they judged the experience against.
- **Control mutuality**: answered / made complaints, over customers who ever complained.
- **Mind-set**: mean attitude toward the firm over its own current customers (``mindset``);
  ``attitude`` is the mean over all N customers, the firm's reputation among everyone.
- **Intention to stay**: mean chance of still being a customer in five years at the current
  churn hazard, over the firm's current customers in the survey panel (``sim.indicators``).
- **Customer lifetime value** (Gupta & Lehmann 2003): ``margin * r / (1 + i - r)`` with margin
  the yearly price less unit cost and retention spend per customer, r the annual retention.
- **Six relationship indicators** (``sim.indicators.SURVEY_ITEMS``: each as a survey item):
  satisfaction, trust, control mutuality, commitment, mind-set, word of mouth (NPS and the
  intention to stay five years).

This module must never import the UI or the sweep layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.columns import FIRM_COLUMNS, MARKET_COLUMNS
from sim.indicators import RELATIONSHIP_INDICATORS, intention_to_stay
from sim.jit import kernel
from sim.rules.economics import unit_costs
from sim.rules.word_of_mouth import review_score
from sim.state import StepScratch

if TYPE_CHECKING:
    from sim.model import CustomerMarket

__all__ = [
    "FIRM_COLUMNS",
    "MARKET_COLUMNS",
    "RELATIONSHIP_INDICATORS",
    "MetricsRecorder",
    "clv",
    "nps",
]

PROMOTER, DETRACTOR = 8.5, 6.5

# the column names live in sim.columns (light: the sweep and robustness layers read them)


def nps(satisfaction: np.ndarray) -> float:
    """Net Promoter Score (-100..100) of a set of satisfaction values on 0..10 (NaN if empty)."""
    s = satisfaction[~np.isnan(satisfaction)]
    if len(s) == 0:
        return float("nan")
    return 100.0 * (np.mean(s >= PROMOTER) - np.mean(s < DETRACTOR))


def recommend_answer(satisfaction: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """A customer's answer to "would you recommend?" on 0..10: its satisfaction plus its personal
    offset (``satisfaction.recommend_offset`` and ``recommend_sd``), clipped; NaN stays NaN."""
    return np.clip(satisfaction + offset, 0.0, 10.0)


def clv(margin: np.ndarray, retention: np.ndarray, discount: float) -> np.ndarray:
    """Customer lifetime value ``margin * r / (1 + i - r)`` (Gupta & Lehmann 2003)."""
    r = np.clip(retention, 0.0, 0.999)
    return margin * r / (1.0 + discount - r)


def _nanmean(values: np.ndarray) -> float:
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


TALLIES = (
    "customers",
    "rated",
    "promoters",
    "detractors",
    "complainers",
    "satisfaction",
    "trust",
    "commitment",
    "control_mutuality",
    "mindset",
    "attitude",
)


TALLY_BLOCK = 4096
"""Customers per block of :func:`tally` (whether each is served anywhere is kept per block)."""


@kernel
def _block_sum(values: np.ndarray, lo: int, hi: int) -> float:
    """``values[lo:hi]`` summed in float64, in four interleaved partial sums (one chain of
    additions would wait on each add's latency)."""
    a = b = c = d = 0.0
    i = lo
    while i + 4 <= hi:
        a += np.float64(values[i])
        b += np.float64(values[i + 1])
        c += np.float64(values[i + 2])
        d += np.float64(values[i + 3])
        i += 4
    while i < hi:
        a += np.float64(values[i])
        i += 1
    return (a + b) + (c + d)


@kernel
def tally(
    supplier: np.ndarray,
    satisfaction: np.ndarray,
    complaints: np.ndarray,
    answered: np.ndarray,
    trust: np.ndarray,
    commitment: np.ndarray,
    attitude: np.ndarray,
    recommend: np.ndarray,
    belongs: np.ndarray,
    promoter: float,
    detractor: float,
    total: np.ndarray,
) -> int:
    """Add each firm's tallies over its current customers to ``total``, in one pass.

    Parameters
    ----------
    supplier, satisfaction, complaints, answered, commitment
        ``[M, N]`` per industry and customer (``sim.state.CustomerState``).
    trust
        ``[F, N]`` each customer's trust in each firm's word.
    attitude
        ``[F, N]`` each customer's attitude toward each firm (summed over the firm's own
        customers, and over everyone).
    recommend
        ``[N]`` personal offset of the answer to "would you recommend?".
    belongs
        ``[M, F]`` bool: firm ``f`` is one of industry ``m``'s; a customer counts for its
        supplier only then.
    promoter, detractor
        The NPS thresholds on the answer, in the float type of ``satisfaction``.
    total
        ``[F, 11]`` float64, added to: per firm the columns of :data:`TALLIES` (customers,
        rated, promoters, detractors, complainers, sum of S, of trust, of commitment, of
        answered / made complaints and of the attitude toward the firm over its customers,
        then over all customers).

    Returns
    -------
    int
        How many customers have a supplier in at least one industry.
    """
    n_ind, n = supplier.shape
    anywhere = np.zeros(TALLY_BLOCK, np.bool_)
    served = 0
    for lo in range(0, n, TALLY_BLOCK):  # a block at a time, each industry's rows in order
        hi = min(n, lo + TALLY_BLOCK)
        anywhere[:] = False
        for m in range(n_ind):
            for i in range(lo, hi):
                f = supplier[m, i]
                if f < 0:
                    continue
                anywhere[i - lo] = True
                if not belongs[m, f]:
                    continue
                s = satisfaction[m, i]
                # the answer to "would you recommend?" is clip(S + offset, 0, 10); the clip
                # changes neither comparison below (and NaN fails both)
                answer = s + recommend[i]
                made = complaints[m, i]
                total[f, 0] += 1.0
                total[f, 1] += s == s  # rated: not NaN
                total[f, 2] += answer >= promoter
                total[f, 3] += answer < detractor
                total[f, 4] += made > 0
                total[f, 5] += np.float64(s) if s > 0 else 0.0  # S, 0 where missing (NaN)
                total[f, 6] += np.float64(trust[f, i])
                total[f, 7] += np.float64(commitment[m, i])
                total[f, 8] += np.float64(answered[m, i]) / np.float64(max(made, 1))
                total[f, 9] += np.float64(attitude[f, i])
        for i in range(hi - lo):
            served += anywhere[i]
        for f in range(attitude.shape[0]):  # the firm's reputation among everyone
            total[f, 10] += _block_sum(attitude[f], lo, hi)
    return served


def tally_customers(model: CustomerMarket) -> dict[str, np.ndarray]:
    """Per firm ``[F]``, over its current customers: how many (``customers``), how many have an S
    (``rated``), promoters, detractors, how many ever complained (``complainers``), and the sums
    of S, trust, commitment, answered / made complaints (over complainers) and the attitude
    toward the firm over its customers (``mindset``) and over everyone (``attitude``). Also
    ``served_anywhere``: customers with a supplier in at least one industry.

    Parameters
    ----------
    model
        The market.

    Returns
    -------
    dict
        ``[F]`` float64 arrays keyed by the names of ``TALLIES``, and ``served_anywhere``.
    """
    cs, n_firms = model.customer_state, model.firm_state.n
    belongs = industry_membership(model)
    ft = cs.satisfaction.dtype.type
    total = np.zeros((n_firms, len(TALLIES)))
    served_anywhere = tally(
        cs.supplier,
        cs.satisfaction,
        cs.complaints,
        cs.answered,
        cs.trust,
        cs.commitment,
        cs.attitude,
        cs.recommend,
        belongs,
        ft(PROMOTER),
        ft(DETRACTOR),
        total,
    )
    out = dict(zip(TALLIES, total.T, strict=True))
    out["served_anywhere"] = int(served_anywhere)
    return out


def industry_membership(model: CustomerMarket) -> np.ndarray:
    """``[M, F]`` bool: firm ``f`` is one of industry ``m``'s."""
    belongs = np.zeros((len(model.industry_firms), model.firm_state.n), bool)
    for m, firms in enumerate(model.industry_firms):
        belongs[m, firms] = True
    return belongs


class MetricsRecorder:
    """Computes each recorded step's metrics and keeps them as rows for DataFrames."""

    def __init__(self, model: CustomerMarket) -> None:
        n_firms, window = model.firm_state.n, model.steps_per_year
        self.firm_rows: list[dict[str, np.ndarray]] = []
        self.market_rows: list[dict[str, float]] = []
        self.cohort_rows: list[pd.DataFrame] = []
        self._churn = np.zeros((window, n_firms))
        self._base = np.zeros((window, n_firms))
        self._filled = 0
        self._pos = 0
        self.joined_by_cohort: dict[tuple[int, int], int] = {}
        self.latest_firm: dict[str, np.ndarray] = {}
        self.latest_market: dict[str, float] = {}
        self.exits_so_far = 0
        self._tally: dict[str, np.ndarray] = {}

    # -- every step ------------------------------------------------------------------------

    def account(self, model: CustomerMarket, scratch: StepScratch) -> None:
        """Book the step's flows (run every step, recorded or not)."""
        self._churn[self._pos] = scratch.churned
        self._base[self._pos] = scratch.base
        self._pos = (self._pos + 1) % len(self._churn)
        self._filled = min(self._filled + 1, len(self._churn))
        self.exits_so_far += len(scratch.exits)
        cohort = model.steps // model.steps_per_year
        for f in np.flatnonzero(scratch.acquired + scratch.switched_in):
            key = (int(f), cohort)
            self.joined_by_cohort[key] = self.joined_by_cohort.get(key, 0) + int(
                scratch.acquired[f] + scratch.switched_in[f]
            )

    def annual_retention(self, steps_per_year: int) -> tuple[np.ndarray, float]:
        """``(per firm, market)`` annual retention from the churn of the last year."""
        churn, base = self._churn[: self._filled].sum(0), self._base[: self._filled].sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(base > 0, churn / base, np.nan)
        market_rate = churn.sum() / base.sum() if base.sum() > 0 else np.nan
        return (1 - rate) ** steps_per_year, float((1 - market_rate) ** steps_per_year)

    # -- recorded steps ------------------------------------------------------------------------

    def record(self, model: CustomerMarket, scratch: StepScratch) -> None:
        """Compute and keep the metrics of this step."""
        firm = self._firm_metrics(model, scratch)
        self.latest_firm = firm
        self.firm_rows.append(firm)
        self.latest_market = self._market_metrics(model, scratch, firm)
        self.market_rows.append(self.latest_market)

    def _firm_metrics(self, model: CustomerMarket, scratch: StepScratch) -> dict[str, np.ndarray]:
        fs, n_firms, n = model.firm_state, model.firm_state.n, model.n_customers
        tally = tally_customers(model)
        tally["stay"], tally["asked"] = intention_to_stay(model, industry_membership(model))
        self._tally = tally
        with np.errstate(invalid="ignore", divide="ignore"):
            rated = tally["rated"]
            sat_mean = tally["satisfaction"] / rated
            nps_f = 100.0 * (tally["promoters"] - tally["detractors"]) / rated
            served_now = tally["customers"]
            trust = np.where(served_now > 0, tally["trust"] / served_now, np.nan)
            commit = np.where(served_now > 0, tally["commitment"] / served_now, np.nan)
            mindset = np.where(served_now > 0, tally["mindset"] / served_now, np.nan)
            stay = np.where(tally["asked"] > 0, tally["stay"] / tally["asked"], np.nan)
            cm = tally["control_mutuality"] / tally["complainers"]
            count = scratch.served_count if scratch.served_count is not None else np.zeros(n_firms)
            expectation = scratch.expectation_sum / count
            experience = scratch.experience_sum / count
            gap = (scratch.expectation_sum - scratch.experience_sum) / count
        attitude = tally["attitude"] / n
        served_in_industry = np.zeros(n_firms)
        for firms in model.industry_firms:
            served_in_industry[firms] = served_now[firms].sum()
        retention_annual, _ = self.annual_retention(model.steps_per_year)
        base = scratch.base
        with np.errstate(invalid="ignore", divide="ignore"):
            retention_weekly = np.where(base > 0, 1.0 - scratch.churned / base, np.nan)
            share = np.where(served_in_industry > 0, fs.customers / served_in_industry, 0.0)
        failures = scratch.failures if scratch.failures is not None else np.zeros(n_firms)
        eco = model.params.economics
        margin = fs.price - unit_costs(model) - fs.retention
        active = fs.active(model.steps)
        return {
            "step": np.full(n_firms, model.steps),
            "year": np.full(n_firms, model.steps / model.steps_per_year),
            "firm": np.arange(n_firms),
            "alive": fs.alive.copy(),
            "active": active,
            "customers": fs.customers.copy(),
            "share": share,
            "penetration": fs.customers / n,
            "acquired": scratch.acquired.copy(),
            "switched_in": scratch.switched_in.copy(),
            "churned": scratch.churned.copy(),
            "retention_weekly": retention_weekly,
            "retention_annual": retention_annual,
            "nps": nps_f,
            "satisfaction": sat_mean,
            "expectation": expectation,
            "experience": experience,
            "expectation_gap": gap,
            "trust": trust,
            "commitment": commit,
            "control_mutuality": cm,
            "mindset": mindset,
            "attitude": attitude,
            "intention_to_stay": stay,
            "wom_positive": scratch.wom_positive.copy(),
            "wom_negative": scratch.wom_negative.copy(),
            "wom_volume": scratch.wom_positive + scratch.wom_negative,
            "wom_reach": scratch.wom_reach.copy(),
            "review_score": review_score(model),
            "promise": fs.promise.mean(axis=1),
            "capability": fs.capability.mean(axis=1),
            "capacity": fs.capacity * n,
            "load": scratch.load.copy(),
            "failures": failures.copy(),
            "complaints": scratch.complaints.copy(),
            "answered": scratch.answered.copy(),
            "marketing": fs.marketing * n,
            "retention_spend": fs.retention.copy(),
            "revenue": fs.revenue * n,
            "profit": fs.profit * n,
            "cash": fs.cash * n,
            "clv": np.where(
                active, clv(margin, np.nan_to_num(retention_annual), eco.discount_rate), np.nan
            ),
        }

    def _market_metrics(
        self, model: CustomerMarket, scratch: StepScratch, firm: dict[str, np.ndarray]
    ) -> dict[str, float]:
        tally = self._tally
        weights = firm["customers"].astype(float)

        def wmean(values: np.ndarray) -> float:
            ok = ~np.isnan(values) & (weights > 0)
            return float(np.average(values[ok], weights=weights[ok])) if ok.any() else np.nan

        def ratio(a: float, b: float) -> float:
            return float(a / b) if b > 0 else np.nan

        _, retention_annual = self.annual_retention(model.steps_per_year)
        base = scratch.base.sum()
        pos, neg = scratch.wom_positive.sum(), scratch.wom_negative.sum()
        rated, pairs = tally["rated"].sum(), tally["customers"].sum()
        served = int(tally["served_anywhere"])
        row = {
            "step": model.steps,
            "year": model.steps / model.steps_per_year,
            "customers": model.n_customers,
            "served": served,
            "unserved": model.n_customers - served,
            "nps": ratio(100.0 * (tally["promoters"].sum() - tally["detractors"].sum()), rated),
            "satisfaction": ratio(tally["satisfaction"].sum(), rated),
            "expectation": wmean(firm["expectation"]),
            "experience": wmean(firm["experience"]),
            "expectation_gap": wmean(firm["expectation_gap"]),
            "trust": ratio(tally["trust"].sum(), pairs),
            "commitment": ratio(tally["commitment"].sum(), pairs),
            "control_mutuality": wmean(firm["control_mutuality"]),
            "mindset": ratio(tally["mindset"].sum(), pairs),
            "attitude": _nanmean(firm["attitude"][firm["active"]]),
            "intention_to_stay": ratio(tally["stay"].sum(), tally["asked"].sum()),
            "wom_positive": float(pos),
            "wom_negative": float(neg),
            "wom_volume": float(pos + neg),
            "wom_ratio": float(pos / neg) if neg > 0 else np.nan,
            "retention_weekly": float(1 - scratch.churned.sum() / base) if base > 0 else np.nan,
            "retention_annual": retention_annual,
            "churned": float(scratch.churned.sum()),
            "acquired": float(scratch.acquired.sum()),
            "switched": float(scratch.switched_in.sum()),
            "active_firms": int(firm["active"].sum()),
            "firm_exits": self.exits_so_far,
            "review_score": wmean(firm["review_score"]),
            "revenue": float(firm["revenue"].sum()),
            "profit": float(firm["profit"].sum()),
        }
        for m, industry in enumerate(model.industries):
            mine = model.industry_firms[m]
            row[f"satisfaction[{industry}]"] = ratio(
                tally["satisfaction"][mine].sum(), tally["rated"][mine].sum()
            )
            row[f"served[{industry}]"] = int(tally["customers"][mine].sum())
        return row

    def record_cohorts(self, model: CustomerMarket) -> None:
        """Snapshot how many of each yearly cohort of each firm are still its customers."""
        cs, spy, n_firms = model.customer_state, model.steps_per_year, model.firm_state.n
        n_cohorts = model.steps // spy + 1
        counts = np.zeros(n_firms * n_cohorts)
        for m in range(len(model.industries)):
            sup, joined = cs.supplier[m], cs.joined[m]
            ok = (sup >= 0) & (joined >= 0)
            key = sup[ok].astype(np.int64) * n_cohorts + joined[ok] // spy
            counts += np.bincount(key, minlength=n_firms * n_cohorts)
        f, c = np.divmod(np.arange(n_firms * n_cohorts), n_cohorts)
        joined_total = np.array(
            [self.joined_by_cohort.get((int(a), int(b)), 0) for a, b in zip(f, c, strict=True)]
        )
        keep = joined_total > 0
        self.cohort_rows.append(
            pd.DataFrame(
                {
                    "step": model.steps,
                    "firm": f[keep],
                    "cohort": c[keep],
                    "joined": joined_total[keep],
                    "remaining": counts[keep].astype(int),
                }
            )
        )

    # -- frames ---------------------------------------------------------------------------------

    def firm_frame(self, model: CustomerMarket) -> pd.DataFrame:
        """One row per firm per recorded step."""
        if not self.firm_rows:
            return pd.DataFrame(columns=list(FIRM_COLUMNS))
        cols = {k: np.concatenate([r[k] for r in self.firm_rows]) for k in self.firm_rows[0]}
        df = pd.DataFrame(cols)
        df.insert(3, "name", np.array(model.firm_names, dtype=object)[df["firm"]])
        df.insert(
            4,
            "industry",
            np.array(model.industries, dtype=object)[model.firm_state.industry[df["firm"]]],
        )
        df.insert(5, "strategy", np.array(model.strategy_labels, dtype=object)[df["firm"]])
        return df[list(FIRM_COLUMNS)]

    def market_frame(self) -> pd.DataFrame:
        """One row per recorded step."""
        return pd.DataFrame(self.market_rows)

    def cohort_frame(self, model: CustomerMarket) -> pd.DataFrame:
        """Cohort survival: share of each yearly cohort still with its firm, by age in years."""
        if not self.cohort_rows:
            return pd.DataFrame(
                columns=[
                    "firm",
                    "name",
                    "cohort",
                    "step",
                    "age_years",
                    "joined",
                    "remaining",
                    "survival",
                ]
            )
        df = pd.concat(self.cohort_rows, ignore_index=True)
        spy = model.steps_per_year
        df["age_years"] = (df["step"] - df["cohort"] * spy) / spy
        df = df[df["age_years"] >= 0]
        df["survival"] = np.minimum(1.0, df["remaining"] / df["joined"])
        df.insert(1, "name", np.array(model.firm_names, dtype=object)[df["firm"]])
        return df.reset_index(drop=True)
