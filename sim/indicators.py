"""The six relationship indicators, each defined as the survey item a firm would field.

Every indicator is a question put to a firm's *current* customers, answered on a stated scale, and
reported per firm and recorded step as the mean answer (NPS: promoters less detractors). The
constructs are those of relationship research: trust, control mutuality, commitment and
satisfaction from Hon & Grunig (1999), whose item wording is quoted; relationship satisfaction,
trust, commitment, expectation of continuity and word of mouth from the meta-analysis of
Palmatier, Dant, Grewal & Evans (2006). Mind-set is the customer's attitude toward its firm,
formed in the model by what it hears; word of mouth is the recommendation question (NPS,
Reichheld 2003) and the intention to stay five years (Palmatier et al.'s expectation of
continuity), asked on a probability scale (Juster 1966). :data:`SURVEY_ITEMS` holds the wording the
docs and the UI show; ``docs/MODEL.md`` section 4.11 has the table.

A customer's answer is its state in the model: what the indicator would find if every customer
answered truthfully. Five answers are tallied over every current customer in the compiled pass of
``sim.metrics.tally``. The intention to stay is each respondent's chance of still being a customer
in five years at its current churn hazard (``sim.rules.switching.churn_chance``, rivals
included), ``(1 - p_step) ** (5 * steps_per_year)``; computing that hazard needs every firm's choice
utility to the customer, so it is asked of a fixed survey panel (:func:`panel`, every customer up
to :data:`PANEL_SIZE`, a systematic sample above) rather than of everyone.

This module must never import the UI, the sweep layer or the model. (``sim.batch`` is named for
type checking only.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.jit import kernel, parallel_kernel, prange, run_tasks, threads
from sim.rules import choice
from sim.rules.switching import stay_chances

if TYPE_CHECKING:
    from sim.batch import MarketBatch

__all__ = [
    "PANEL_SIZE",
    "RELATIONSHIP_INDICATORS",
    "STAY_YEARS",
    "SURVEY_ITEMS",
    "SurveyItem",
    "intention_to_stay",
    "panel",
]

STAY_YEARS = 5
"""Horizon of the intention-to-stay question, in years."""

PANEL_SIZE = 5_000
"""Most customers asked the intention-to-stay question: all of a market up to this size, every
``ceil(N / PANEL_SIZE)``-th customer above (at a million, every 200th)."""


@dataclass(frozen=True)
class SurveyItem:
    """One indicator as a survey question.

    Attributes
    ----------
    column
        Its column in ``firms.parquet`` and ``model.firm_metrics()``.
    indicator
        Which of the six relationship indicators it measures.
    question
        The question (``[firm]`` is the firm's name).
    scale
        The answer scale, as the column reports it.
    respondents
        Whose answers the column summarises.
    answer
        The customer's answer in the model's terms.
    source
        Where the construct and the wording come from.
    """

    column: str
    indicator: str
    question: str
    scale: str
    respondents: str
    answer: str
    source: str

    def tooltip(self, firm: str = "the firm") -> str:
        """The question with ``firm`` filled in, its scale and respondents, for a tooltip."""
        return (
            f'"{self.question.replace("[firm]", firm)}" ({self.scale}; {self.respondents}). '
            f"{self.source}."
        )


CURRENT = "the firm's current customers"

SURVEY_ITEMS: tuple[SurveyItem, ...] = (
    SurveyItem(
        "satisfaction",
        "satisfaction",
        "Considering all your experiences with [firm], how satisfied are you with it?",
        "0 (not at all) to 10 (completely); mean answer",
        CURRENT + " who have been served once at least",
        "the running satisfaction S",
        "Hon & Grunig 1999 (satisfaction: 'I am happy with this organization'); Palmatier "
        "et al. 2006 (relationship satisfaction)",
    ),
    SurveyItem(
        "trust",
        "trust",
        "[firm] can be relied on to keep its promises. Do you agree?",
        "0 (strongly disagree) to 1 (strongly agree); mean answer",
        CURRENT,
        "trust T in the supplier",
        "Hon & Grunig 1999 (trust, dependability item); Palmatier et al. 2006 (confidence in "
        "a partner's reliability and integrity)",
    ),
    SurveyItem(
        "control_mutuality",
        "control mutuality",
        "[firm] really listens to what people like me have to say. Do you agree?",
        "0 (strongly disagree) to 1 (strongly agree); mean answer",
        CURRENT + " who have complained to it",
        "the share of its complaints the firm answered",
        "Hon & Grunig 1999 (control mutuality)",
    ),
    SurveyItem(
        "commitment",
        "commitment",
        "There is a long-lasting bond between [firm] and people like me. Do you agree?",
        "0 (strongly disagree) to 1 (strongly agree); mean answer",
        CURRENT,
        "commitment C to the supplier",
        "Hon & Grunig 1999 (commitment); Palmatier et al. 2006 (an enduring desire to "
        "maintain a valued relationship)",
    ),
    SurveyItem(
        "mindset",
        "mind-set",
        "From what people you know say about [firm], is your impression of it unfavourable "
        "or favourable?",
        "-1 (very unfavourable) to +1 (very favourable); mean answer",
        CURRENT,
        "attitude A toward the supplier (built from word of mouth heard)",
        "attitude toward the organization beside the relationship outcomes (Ki & Hon 2012)",
    ),
    SurveyItem(
        "nps",
        "word of mouth",
        "How likely is it that you would recommend [firm] to a friend or colleague?",
        "0-10; % answering 9-10 less % answering 0-6 (-100 to +100)",
        CURRENT + " who have been served once at least",
        "S plus a personal offset, clipped to 0..10",
        "Reichheld 2003 (Net Promoter Score); Palmatier et al. 2006 (word of mouth)",
    ),
    SurveyItem(
        "intention_to_stay",
        "word of mouth",
        "How likely is it that you will still be a customer of [firm] five years from now?",
        "0 (no chance) to 1 (certain); mean answer",
        CURRENT + " in the survey panel",
        "the chance of staying five years at the current churn hazard, rivals included",
        "Palmatier et al. 2006 (expectation of continuity); probability scale of Juster 1966",
    ),
)
"""The survey items, in the order of the six indicators (word of mouth has two)."""

RELATIONSHIP_INDICATORS = {item.column: item.indicator for item in SURVEY_ITEMS}
"""``{column: indicator}`` of the survey items (``model.relationship_indicators()``)."""


def panel(n_customers: int) -> slice:
    """The customers asked the intention-to-stay question: every ``ceil(N / PANEL_SIZE)``-th.

    Customer indices run through the regions in blocks (``sim.network.region_of``), so a
    systematic sample covers every region in proportion. The panel is fixed: the same customers
    are asked at every recorded step, and asking them draws no random number.
    """
    stride = max(1, -(-n_customers // PANEL_SIZE))
    return slice(0, n_customers, stride)


def panels(offsets: np.ndarray, markets: np.ndarray) -> np.ndarray:
    """The customers of the :func:`panel` of each of ``markets`` (customers ``offsets[b]`` to
    ``offsets[b + 1]`` of a batch), market by market, as batch rows."""
    lo, n = offsets[markets], offsets[markets + 1] - offsets[markets]
    stride = np.maximum(1, -(-n // PANEL_SIZE))
    count = -(-n // stride)  # len(range(0, n, stride))
    start = np.repeat(np.cumsum(count) - count, count)
    k = np.arange(int(count.sum())) - start  # position within its market's panel
    return np.repeat(lo, count) + k * np.repeat(stride, count)


def intention_to_stay(
    batch: MarketBatch, belongs: np.ndarray, recording: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(sum of answers, respondents)`` ``[B, F]`` of the intention-to-stay question in every
    market of a batch that records this step (zeros for the others).

    Each current customer of a market's panel answers ``(1 - p) ** (STAY_YEARS *
    steps_per_year)`` with ``p`` its churn chance this step (``churn_chance``: satisfaction,
    trust, commitment and the rival gap as the switching phase sees them), which is ``(1 -
    sigmoid(z)) ** STAY_YEARS`` whatever the step length. With switching off, 1.

    Parameters
    ----------
    batch
        The markets (``sim.batch.MarketBatch``), after this step's phases.
    belongs
        ``[M, F]`` bool: firm ``f`` is one of industry ``m``'s.
    recording
        ``[B]`` bool: the markets to ask.
    """
    cs, n_firms = batch.customer_state, batch.F
    total, asked = np.zeros((batch.B, n_firms)), np.zeros((batch.B, n_firms))
    markets = np.flatnonzero(recording)
    if len(markets) == 0:
        return total, asked
    terms = choice.terms(batch)
    steps = STAY_YEARS * batch.steps_per_year
    asking = panels(batch.offsets, markets)  # every market's panel, market by market
    for m in range(batch.M):
        firms = np.asarray(batch.industry_firms[m], np.int64)
        supplier = cs.supplier[m, asking]
        mine = supplier >= 0
        mine[mine] = belongs[m][supplier[mine]]
        who = asking[mine]
        if len(who) == 0:
            continue
        answer = np.empty(len(who))
        market = batch.market_of[who]
        n_tasks = max(1, min(threads(), len(who) // PANEL_TASK))
        run_tasks(
            _serial_panel,
            _parallel_panel,
            n_tasks,
            n_tasks,
            m,
            firms,
            who,
            market,
            batch.consts,
            steps,
            cs.region,
            batch.visible,
            cs.weights,
            cs.price_sensitivity,
            cs.supplier,
            cs.expectation,
            cs.satisfaction,
            cs.trust,
            cs.commitment,
            cs.attitude,
            terms.promise,
            terms.review_part,
            terms.review_weight,
            terms.public,
            terms.price_term,
            answer,
        )
        # each market's answers added in its own order: one bin per market and firm
        cell = market * n_firms + supplier[mine]
        total += np.bincount(cell, answer, minlength=batch.B * n_firms).reshape(batch.B, n_firms)
        asked += np.bincount(cell, minlength=batch.B * n_firms).reshape(batch.B, n_firms)
    return total, asked


PANEL_TASK = 1024
"""Respondents of one industry a task of the survey panel takes at least: fewer, one task on
the calling thread. Each answer is a customer's own (``stay_chances`` draws nothing), so the
answers are the same on any number of threads. At a million customers an industry's panel is
about 4,000 respondents, each a dozen reads at scattered places: the three industries' answers
took 2.7-2.9 ms on one thread and take 1.2-1.5 ms on two (called again and again on one state,
least and median of 30; 4.5-5 ms on one thread within a step, its state not in the caches).
Within a 1M step on two threads the question took 5.3 ms until the respondents' state was
prefetched a few respondents ahead (``sim.rules.switching.stay_chances``), 3.3-3.5 ms since (6
December 2026, Intel Xeon, medians of 12 steps)."""


@kernel
def _panel_task(t, n_tasks, m, firms, rows, market, *args):  # type: ignore[no-untyped-def]
    """``stay_chances`` for the ``t``-th of ``n_tasks`` equal parts of the respondents (the
    last of ``args`` is the answers)."""
    lo, hi = len(rows) * t // n_tasks, len(rows) * (t + 1) // n_tasks
    out = args[-1]
    stay_chances(m, firms, rows[lo:hi], market[lo:hi], *args[:-1], out[lo:hi])


@kernel
def _serial_panel(n_tasks, m, firms, rows, market, *args):  # type: ignore[no-untyped-def]
    """Every part of the panel, one after another on the calling thread."""
    for t in range(n_tasks):
        _panel_task(t, n_tasks, m, firms, rows, market, *args)


@parallel_kernel
def _parallel_panel(n_tasks, m, firms, rows, market, *args):  # type: ignore[no-untyped-def]
    """Every part of the panel as parallel tasks on numba's threads."""
    for t in prange(n_tasks):
        _panel_task(t, n_tasks, m, firms, rows, market, *args)
