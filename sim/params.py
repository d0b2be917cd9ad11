"""Behavioural parameters of the model, one pydantic model per step phase.

Every coefficient of every rule lives here with its default, unit, limits and a one-line
meaning, and every behavioural one with its plausible range and where that comes from (a
citation, or :data:`FREE`; :data:`NO_RANGE` lists the few numeric parameters exempt). These
classes are the single source for scenario validation, for the parameter tables in
docs/MODEL.md (``python -m sim.docs``), for the UI's controls and for the ranges that
calibration and robustness sample (:func:`plausible_ranges`). Adaptation rates are given
*per week* and converted to the model's step length; hazards and money flows are *per year*.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FREE",
    "NO_RANGE",
    "AcquisitionParams",
    "ComplaintParams",
    "DeliveryParams",
    "DisclosureParams",
    "EconomicsParams",
    "ExpectationParams",
    "MechanismParams",
    "ParameterRange",
    "Params",
    "ReviewParams",
    "SatisfactionParams",
    "SwitchingParams",
    "TrustParams",
    "WordOfMouthParams",
    "parameter_range",
    "plausible_ranges",
    "unit_of",
]

FREE = "free (no empirical basis)"
"""The ``source`` of a parameter whose plausible range is a modelling choice, not an estimate."""

NO_RANGE: dict[str, str] = {
    "economics.marketing_reference": "a unit: the marketing spend at which acquisition.p "
    "applies unscaled; changing it is the same as changing p, whose range covers it",
    "economics.scale_reference": "a unit: the market share at which each firm's unit_cost is "
    "stated; changing it rescales the scenario's unit costs, whose ranges belong to the scenario",
    "word_of_mouth.complete_graph_max_receivers": "a computational cap on complete graphs "
    "(docs/MODEL.md 7.12), not a behaviour",
}
"""The numeric parameters of :class:`Params` exempt from a plausible range, with the reason.

Every other numeric parameter declares ``range=`` and ``source=`` in its :func:`P` call
(tests/test_parameter_ranges.py fails when one does not). Switches (true/false: all of
``[mechanisms]``, ``switching.enabled``, ``acquisition.enabled``, ``economics.exit_enabled``)
need no range either: they choose the model, they do not describe a market.
"""


def P(
    default: Any,
    description: str,
    unit: str = "",
    *,
    range: tuple[float, float] | None = None,
    source: str | None = None,
    **limits: Any,
) -> Any:
    """A parameter field: default, one-line meaning, unit and limits (ge/le/gt/lt).

    ``range`` is the plausible range ``(lo, hi)`` of a behavioural parameter (narrower than the
    limits, which only say what the code accepts) and ``source`` where it comes from (a
    citation, or :data:`FREE`). Both are machine-readable (:func:`plausible_ranges`): calibration
    takes its default priors from them and robustness samples its worlds from them.
    """
    extra: dict[str, Any] = {"unit": unit}
    if range is not None:
        lo, hi = (float(v) for v in range)
        if not lo <= default <= hi:
            raise ValueError(f"{description!r}: default {default} outside its range {range}")
        extra["range"] = (lo, hi)
        extra["source"] = source or FREE
    elif source is not None:
        extra["source"] = source
    return Field(default, description=description, json_schema_extra=extra, **limits)


def unit_of(model: type[BaseModel], name: str) -> str:
    """The unit declared for field ``name`` of ``model`` ('' when dimensionless)."""
    extra = model.model_fields[name].json_schema_extra
    return extra.get("unit", "") if isinstance(extra, dict) else ""


@dataclass(frozen=True)
class ParameterRange:
    """The plausible range of one behavioural parameter and where it comes from.

    Attributes
    ----------
    key
        The scenario key, e.g. ``"satisfaction.loss_aversion"``.
    low, high
        The plausible range (inclusive).
    default
        The schema's default.
    source
        A citation, or ``"free (no empirical basis)"`` (:data:`FREE`).
    unit
        The unit of the value ('' when dimensionless).
    integer
        The parameter takes whole numbers.
    """

    key: str
    low: float
    high: float
    default: float
    source: str
    unit: str = ""
    integer: bool = False

    @property
    def free(self) -> bool:
        """The range is a modelling choice, not an empirical estimate."""
        return self.source.startswith(FREE)


def parameter_range(key: str) -> ParameterRange | None:
    """The plausible range of the behavioural parameter ``key`` (``"section.name"``), or None
    when the schema declares none for it.

    Raises
    ------
    KeyError
        ``key`` is not a behavioural parameter.
    """
    section, _, name = key.partition(".")
    part = Params.model_fields.get(section)
    if part is None or not name or name not in part.annotation.model_fields:
        raise KeyError(f"{key!r} is not a behavioural parameter (section.name of [params])")
    info = part.annotation.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "range" not in extra:
        return None
    lo, hi = extra["range"]
    return ParameterRange(
        key=key,
        low=float(lo),
        high=float(hi),
        default=float(info.default),
        source=str(extra.get("source", FREE)),
        unit=str(extra.get("unit", "")),
        integer=info.annotation is int,
    )


def plausible_ranges() -> dict[str, ParameterRange]:
    """Every behavioural parameter with a declared plausible range, by scenario key, in schema
    order (section by section)."""
    out: dict[str, ParameterRange] = {}
    for section, part in Params.model_fields.items():
        for name in part.annotation.model_fields:
            found = parameter_range(f"{section}.{name}")
            if found is not None:
                out[found.key] = found
    return out


class Section(BaseModel):
    """Base of every parameter section: unknown keys are errors; assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DeliveryParams(Section):
    """Phase 2, delivery: what each served customer perceives."""

    load_exponent: float = P(
        1.0,
        "eta: quality factor is min(1, capacity/customers)**eta",
        "",
        ge=0,
        le=5,
        range=(0.25, 2.0),
        source=FREE,
    )
    noise: float = P(
        0.05,
        "sd of the perception noise on each attribute",
        "attribute",
        ge=0,
        le=0.5,
        range=(0.0, 0.15),
        source=FREE,
    )
    base_failure_rate: float = P(
        0.02,
        "chance a served customer meets a failure in a step at or below capacity",
        "per week",
        ge=0,
        le=1,
        range=(0.002, 0.1),
        source=FREE,
    )
    overload_failure_rate: float = P(
        0.25,
        "extra failure chance per unit of overload (customers/capacity - 1)",
        "per week",
        ge=0,
        le=5,
        range=(0.0, 1.0),
        source=FREE,
    )
    failure_severity: float = P(
        0.45,
        "drop of perceived speed and reliability in a failure",
        "attribute",
        ge=0,
        le=1,
        range=(0.1, 0.8),
        source=FREE,
    )
    price_sensitivity: float = P(
        0.5,
        "value gained per relative price advantage over visible rivals",
        "attribute",
        ge=0,
        le=5,
        range=(0.1, 2.0),
        source=FREE,
    )


class ExpectationParams(Section):
    """Phase 3, expectations: E moves toward a weighted target, faster up than down."""

    weight_promise: float = P(
        0.25,
        "a_p: weight of the firm's promise in the target",
        "",
        ge=0,
        range=(0.0, 1.0),
        source=FREE + "; reliance a_p / (a_p + a_x) after Kopalle & Lehmann 2006",
    )
    weight_experience: float = P(
        0.45,
        "a_x: weight of one's own experience",
        "",
        ge=0,
        range=(0.1, 1.0),
        source=FREE + "; expectation as an adaptation level (Oliver 1980)",
    )
    weight_benchmark: float = P(
        0.2,
        "a_b: weight of the best experience anywhere (cross-industry attributes)",
        "",
        ge=0,
        range=(0.0, 0.5),
        source=FREE + "; Fjord/Accenture 2015 and Cadotte et al. 1987 for the mechanism",
    )
    weight_word_of_mouth: float = P(
        0.06, "a_w: weight of what friends said", "", ge=0, range=(0.0, 0.3), source=FREE
    )
    weight_reviews: float = P(
        0.04, "a_r: weight of public reviews", "", ge=0, range=(0.0, 0.3), source=FREE
    )
    rate_up: float = P(
        0.12,
        "share of the gap closed when the target is above E",
        "per week",
        ge=0,
        le=1,
        range=(0.02, 0.5),
        source=FREE,
    )
    rate_down: float = P(
        0.04,
        "share of the gap closed when the target is below E",
        "per week",
        ge=0,
        le=1,
        range=(0.005, 0.3),
        source=FREE,
    )
    benchmark_decay: float = P(
        0.01,
        "share of the benchmark forgotten each week (it is a max with decay)",
        "per week",
        ge=0,
        le=1,
        range=(0.0, 0.1),
        source=FREE,
    )
    benchmark_from_praise: float = P(
        0.9,
        "a praised attribute raises a listener's benchmark to this share of the praise",
        "",
        ge=0,
        le=1,
        range=(0.5, 1.0),
        source=FREE,
    )
    personal_sd: float = P(
        0.05,
        "sd across customers of a lasting personal standard added to the "
        "expectation target (some people expect more than others)",
        "attribute",
        ge=0,
        le=0.5,
        range=(0.0, 0.15),
        source=FREE
        + ("; set so that corr(s, E) is near the meta-analytic .29 (Schiebler et al. 2025)"),
    )
    heard_rate: float = P(
        0.3,
        "share of the gap to what was heard closed per message batch",
        "per week",
        ge=0,
        le=1,
        range=(0.05, 0.8),
        source=FREE,
    )
    join_anchor: float = P(
        0.42,
        "share of the gap to the quality expected of the new firm (what it was chosen on) "
        "taken on when joining",
        "",
        ge=0,
        le=1,
        range=(0.1, 0.9),
        source=FREE,
    )


class SatisfactionParams(Section):
    """Phase 4, satisfaction: disconfirmation with loss aversion plus direct performance."""

    loss_aversion: float = P(
        2.25,
        "lambda: weight of a shortfall relative to a gain (T&K 1992)",
        "",
        ge=1,
        le=10,
        range=(1.0, 3.0),
        source="Tversky & Kahneman 1992, J. Risk and Uncertainty 5:297-323 (median 2.25); "
        "Mittal, Ross & Baldasare 1998, J. Marketing 62(1):33-47 (shortfalls weigh more)",
    )
    curvature: float = P(
        1.0,
        "exponent on |X - E| (0.88 in T&K 1992; 1 keeps slopes linear)",
        "",
        gt=0,
        le=1.5,
        range=(0.5, 1.0),
        source=(
            "Tversky & Kahneman 1992, J. Risk and Uncertainty 5:297-323 (median 0.88;"
            " 1 keeps slopes linear)"
        ),
    )
    intercept: float = P(
        1.5,
        "satisfaction at zero performance and zero disconfirmation",
        "points",
        ge=-10,
        le=10,
        range=(-0.5, 3.5),
        source=FREE,
    )
    weight_performance: float = P(
        10.0,
        "b_perf: points per unit of weighted performance",
        "points",
        ge=0,
        le=20,
        range=(6.0, 12.0),
        source=FREE,
    )
    weight_disconfirmation: float = P(
        10.0,
        "b_disc: points per unit of weighted disconfirmation",
        "points",
        ge=0,
        le=50,
        range=(3.0, 20.0),
        source=FREE,
    )
    memory: float = P(
        0.15,
        "weight of this week's experience in the running satisfaction S",
        "per week",
        gt=0,
        le=1,
        range=(0.03, 0.5),
        source=FREE,
    )
    disposition_sd: float = P(
        0.8,
        "sd across customers of a lasting personal offset in how they rate (response style)",
        "points",
        ge=0,
        le=5,
        range=(0.3, 1.5),
        source=FREE + "; spreads S like survey answers",
    )
    recommend_offset: float = P(
        1.0,
        "mean of the answer to 'would you recommend?' minus "
        "satisfaction: recommendations run higher than satisfaction "
        "scores",
        "points",
        ge=-5,
        le=5,
        range=(0.0, 2.0),
        source=FREE + "; set so that baseline NPS is near the median +16 of Reichheld 2003",
    )
    recommend_sd: float = P(
        2.0,
        "sd across customers of that difference (response style)",
        "points",
        ge=0,
        le=5,
        range=(1.0, 3.0),
        source=FREE + "; set so that baseline NPS is near the median +16 of Reichheld 2003",
    )
    extras_bonus: float = P(
        0.6,
        "points a fully funded retention programme adds to each experience",
        "points",
        ge=0,
        le=3,
        range=(0.0, 1.5),
        source=FREE,
    )


class TrustParams(Section):
    """Phase 5, trust, complaints and recovery."""

    initial: float = P(
        0.6,
        "trust in a firm's word before any experience, word of mouth or review of it",
        "",
        ge=0,
        le=1,
        range=(0.3, 0.8),
        source=FREE,
    )
    tolerance: float = P(
        0.05,
        "shortfall below the promise still counted as kept",
        "attribute",
        ge=0,
        le=1,
        range=(0.0, 0.15),
        source=FREE,
    )
    gain: float = P(
        0.03,
        "share of the way to full trust gained by a fully kept promise",
        "per week",
        ge=0,
        le=1,
        range=(0.005, 0.1),
        source=FREE + "; trust is gained slowly and lost fast (Gneezy & Epley 2014)",
    )
    loss: float = P(
        0.5,
        "share of trust lost per unit of weighted shortfall below the promise",
        "per week",
        ge=0,
        le=20,
        range=(0.1, 2.0),
        source=FREE + "; trust is gained slowly and lost fast (Gneezy & Epley 2014)",
    )
    word_of_mouth_influence: float = P(
        0.1,
        "share of the way a listener's trust in a firm moves toward the speaker's per message",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.3),
        source=FREE,
    )
    commitment_initial: float = P(
        0.3, "commitment to a new supplier", "", ge=0, le=1, range=(0.1, 0.5), source=FREE
    )
    commitment_established: float = P(
        0.5,
        "commitment of the customers a firm already has when the run starts",
        "",
        ge=0,
        le=1,
        range=(0.3, 0.7),
        source=FREE,
    )
    commitment_rate: float = P(
        0.02,
        "share of the way to target commitment moved",
        "per week",
        ge=0,
        le=1,
        range=(0.005, 0.1),
        source=FREE,
    )
    commitment_base: float = P(
        0.35,
        "target commitment of a new relationship with no relationship investment",
        "",
        ge=0,
        le=1,
        range=(0.2, 0.5),
        source=FREE,
    )
    commitment_from_retention: float = P(
        0.25,
        "target-commitment bonus of a fully funded retention programme",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.4),
        source=FREE + "; relationship investment builds commitment (Palmatier et al. 2006)",
    )
    commitment_from_tenure: float = P(
        0.25,
        "target-commitment bonus of a long relationship (habit, learned routines)",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.4),
        source=FREE,
    )
    tenure_halfway_years: float = P(
        2.0,
        "years of tenure at which the tenure bonus is half built up (t / (t + halfway))",
        "years",
        gt=0,
        le=50,
        range=(0.5, 5.0),
        source=FREE,
    )


class ComplaintParams(Section):
    """Phase 5b, complaints and service recovery."""

    threshold: float = P(
        5.0,
        "a step's satisfaction below this makes a customer dissatisfied",
        "points",
        ge=0,
        le=10,
        range=(4.0, 6.5),
        source=FREE,
    )
    probability: float = P(
        0.35,
        "chance a dissatisfied customer complains",
        "per week",
        ge=0,
        le=1,
        range=(0.05, 0.6),
        source=FREE
        + (
            "; TARP surveys: 3% complain about a small problem, about 70% about a "
            "$142 loss (Goodman & Newman 2003, Quality Progress 36(1):51-55)"
        ),
    )
    answer_base: float = P(
        0.3,
        "share of complaints answered with no retention spend and no spare capacity",
        "",
        ge=0,
        le=1,
        range=(0.1, 0.6),
        source=FREE,
    )
    answer_from_retention: float = P(
        0.5,
        "extra answered share from a fully funded retention programme",
        "",
        ge=0,
        le=1,
        range=(0.1, 0.7),
        source=FREE,
    )
    answer_from_spare_capacity: float = P(
        0.3,
        "extra answered share per unit of spare capacity",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.6),
        source=FREE,
    )
    recovery: float = P(
        0.6,
        "share of the lost satisfaction an answered complaint restores",
        "",
        ge=0,
        le=1,
        range=(0.3, 1.0),
        source=FREE
        + (
            "; at most the whole loss: the recovery paradox lifts satisfaction only a"
            " little (de Matos, Henrique & Rossi 2007)"
        ),
    )
    repeat_recovery: float = P(
        0.2,
        "the same share for a failure within the recovery memory",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.5),
        source=FREE
        + (
            "; below recovery: the paradox holds after one failure, not two (Maxham &"
            " Netemeyer 2002)"
        ),
    )
    recovery_memory_weeks: int = P(
        26,
        "a second failure within this many weeks of a recovery is not forgiven the same way",
        "weeks",
        ge=0,
        le=520,
        range=(8, 104),
        source=FREE,
    )
    unanswered_trust_cost: float = P(
        0.08,
        "share of trust lost when a complaint is ignored",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.25),
        source=FREE,
    )


class WordOfMouthParams(Section):
    """Phase 6, word of mouth over the network."""

    base_rate: float = P(
        0.03,
        "chance a neutral customer talks about its supplier",
        "per week",
        ge=0,
        le=1,
        range=(0.005, 0.1),
        source=FREE,
    )
    positive_amplitude: float = P(
        0.12,
        "extra chance to talk at full satisfaction",
        "per week",
        ge=0,
        le=1,
        range=(0.02, 0.3),
        source=FREE + "; below the negative amplitude: asymmetric U (Anderson 1998)",
    )
    negative_amplitude: float = P(
        0.3,
        "extra chance to talk at zero satisfaction",
        "per week",
        ge=0,
        le=1,
        range=(0.05, 0.6),
        source=FREE + "; above the positive amplitude: asymmetric U (Anderson 1998)",
    )
    neutral_point: float = P(
        6.5,
        "satisfaction at which a customer is least likely to talk",
        "points",
        ge=0,
        le=10,
        range=(5.0, 7.5),
        source=FREE + "; the bottom of the U (Anderson 1998)",
    )
    reach: float = P(
        0.5,
        "chance a message reaches each neighbour",
        "",
        ge=0,
        le=1,
        range=(0.1, 0.9),
        source=FREE + "; one reach for weak and strong ties (Goldenberg, Libai & Muller 2001)",
    )
    influence: float = P(
        0.2,
        "share of the way a listener's attitude moves per message",
        "",
        ge=0,
        le=1,
        range=(0.05, 0.5),
        source=FREE,
    )
    attitude_decay: float = P(
        0.01, "share of attitude forgotten", "per week", ge=0, le=1, range=(0.0, 0.05), source=FREE
    )
    praise_threshold: float = P(
        0.75,
        "an attribute at or above this level is praised",
        "attribute",
        ge=0,
        le=1,
        range=(0.6, 0.9),
        source=FREE,
    )
    complete_graph_max_receivers: int = P(
        50,
        "on a complete graph a message reaches at most this many random others",
        "customers",
        ge=1,
    )


class ReviewParams(Section):
    """Phase 6b, public reviews."""

    rate: float = P(
        0.004,
        "chance a served customer posts a review",
        "per week",
        ge=0,
        le=1,
        range=(0.0005, 0.02),
        source=FREE,
    )
    extremity: float = P(
        2.0,
        "extra posting propensity per unit of |S - 5|/5",
        "",
        ge=0,
        le=20,
        range=(0.0, 5.0),
        source=FREE,
    )
    memory: float = P(
        0.02,
        "weight of a week's new reviews against the standing score",
        "per week",
        ge=0,
        le=1,
        range=(0.002, 0.1),
        source=FREE,
    )
    prior_score: float = P(
        7.0,
        "review score of a firm nobody has reviewed yet",
        "points",
        ge=0,
        le=10,
        range=(5.0, 8.5),
        source=FREE,
    )
    weight_credibility: float = P(
        0.3,
        "share of a firm's credibility taken from its public reviews (the rest from the "
        "customer's own trust in it)",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.7),
        source=FREE,
    )


class SwitchingParams(Section):
    """Phase 7, churn hazard and choice among rivals."""

    enabled: bool = P(True, "customers may leave (off for Bass docking)")
    intercept: float = P(
        -2.0,
        "log-odds of leaving within a year at the reference satisfaction, "
        "trust and commitment, before the switching cost",
        "",
        ge=-20,
        le=20,
        range=(-4.0, 0.0),
        source=FREE + "; sets the churn level: at the defaults about 8% a year",
    )
    satisfaction_ref: float = P(
        7.5,
        "satisfaction at which the satisfaction term is zero",
        "points",
        ge=0,
        le=10,
        range=(6.5, 8.5),
        source=FREE + "; near the typical satisfaction (ACSI national mean 71-77 of 100)",
    )
    satisfaction: float = P(
        0.55,
        "log-odds per point of satisfaction below the reference",
        "per point",
        ge=0,
        range=(0.1, 1.2),
        source=FREE,
    )
    trust_ref: float = P(
        0.6, "trust at which the trust term is zero", "", ge=0, le=1, range=(0.4, 0.8), source=FREE
    )
    trust: float = P(
        2.5,
        "log-odds per unit of trust below the reference",
        "",
        ge=0,
        range=(0.5, 5.0),
        source=FREE,
    )
    commitment: float = P(
        1.5,
        "log-odds less per unit of commitment above 0.5",
        "",
        ge=0,
        range=(0.0, 3.0),
        source=FREE,
    )
    rival: float = P(
        1.0,
        "log-odds per unit of a rival's utility advantage",
        "",
        ge=0,
        range=(0.0, 2.5),
        source=FREE,
    )
    switching_cost: float = P(
        0.5, "log-odds less from the cost of switching", "", ge=0, range=(0.0, 2.0), source=FREE
    )
    attitude: float = P(
        1.5, "choice utility per unit of attitude (-1..1)", "", ge=0, range=(0.0, 3.0), source=FREE
    )
    quality: float = P(
        8.0,
        "choice utility per unit of weighted expected quality (promise weighted by credibility, "
        "reviews and the customer's own expectation)",
        "",
        ge=0,
        range=(2.0, 16.0),
        source=FREE,
    )
    price: float = P(
        2.0,
        "choice utility lost per relative price above the industry mean",
        "",
        ge=0,
        range=(1.0, 5.5),
        source=(
            "Tellis 1988, JMR 25(4):331-341 (mean price elasticity -1.76); Bijmolt, "
            "van Heerde & Pieters 2005, JMR 42(2):141-156 (mean -2.62 over 1,851 "
            "estimates); in a logit the own-price elasticity is about -coefficient * "
            "(1 - share)"
        ),
    )
    outside_option: float = P(
        1.0,
        "utility of going unserved instead of to a rival",
        "",
        ge=-20,
        le=20,
        range=(-2.0, 4.0),
        source=FREE,
    )


class AcquisitionParams(Section):
    """Phase 8, network Bass acquisition of unserved customers."""

    enabled: bool = P(True, "unserved customers may adopt")
    p: float = P(
        0.03,
        "innovation coefficient at the reference marketing spend",
        "per year",
        ge=0,
        le=100,
        range=(0.01, 0.06),
        source="Sultan, Farley & Lehmann 1990, JMR 27(1):70-77 (mean 0.03 over 213 applications)",
    )
    q: float = P(
        0.38,
        "imitation coefficient (times the share of satisfied served neighbours)",
        "per year",
        ge=0,
        le=100,
        range=(0.2, 0.6),
        source="Sultan, Farley & Lehmann 1990, JMR 27(1):70-77 (mean 0.38 over 213 applications)",
    )
    satisfied_threshold: float = P(
        6.0,
        "a neighbour counts for q when its S is at least this",
        "points",
        ge=0,
        le=10,
        range=(5.0, 8.0),
        source=FREE,
    )
    marketing_elasticity: float = P(
        0.6,
        "p scales with (marketing/reference)**elasticity",
        "",
        ge=0,
        le=2,
        range=(0.1, 0.8),
        source=(
            "Sethuraman, Tellis & Briesch 2011, JMR 48(3):457-471 (mean advertising "
            "elasticity of sales .12 short-term, .24 long-term; higher for durables "
            "and early in the life cycle); p moves only the innovators' share of "
            "adoptions, so its elasticity is the sales elasticity divided by that "
            "share"
        ),
    )
    targeting: float = P(
        1.0,
        "how strongly marketing reaches customers who weight the firm's focus attributes",
        "",
        ge=0,
        le=5,
        range=(0.0, 2.0),
        source=FREE,
    )


class EconomicsParams(Section):
    """Phase 9, firm economics. Money is per member of the market population per year."""

    marketing_reference: float = P(
        2.0, "marketing spend at which p applies unscaled", "money/market customer/year", gt=0
    )
    scale_elasticity: float = P(
        0.15,
        "economies of scale: unit cost falls as (customers / scale_reference) ** -elasticity",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.4),
        source=FREE + "; the form is the experience curve (Henderson 1968; Lieberman 1984), whose "
        "manufacturing estimates (20-30% per doubling, elasticity 0.3-0.5) bound it from above",
    )
    scale_reference: float = P(
        0.3,
        "share of the market served at which unit cost is the firm's stated unit_cost",
        "share of the market",
        gt=0,
        le=1,
    )
    retention_reference: float = P(
        8.0,
        "retention spend per own customer that counts as a fully funded programme",
        "money/customer/year",
        gt=0,
        range=(4.0, 16.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    capability_cost: float = P(
        25.0,
        "yearly spend on one attribute whose growth rate equals the "
        "gap to capability 1 (exponential approach)",
        "money/market customer",
        gt=0,
        range=(10.0, 60.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    capability_decay: float = P(
        0.02,
        "share of capability above 0.2 lost without upkeep",
        "per year",
        ge=0,
        le=1,
        range=(0.0, 0.1),
        source=FREE,
    )
    capacity_build_cost: float = P(
        40.0,
        "cost of capacity for one more customer, per market customer",
        "money/customer",
        gt=0,
        range=(15.0, 100.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    capacity_decay: float = P(
        0.1,
        "share of capacity lost each year (staff turnover)",
        "per year",
        ge=0,
        le=1,
        range=(0.03, 0.3),
        source=FREE,
    )
    exit_enabled: bool = P(True, "firms whose cash stays negative exit")
    exit_after_weeks: int = P(
        26,
        "weeks of negative cash after which a firm exits",
        "weeks",
        ge=1,
        range=(8, 104),
        source=FREE,
    )
    discount_rate: float = P(
        0.1,
        "discount rate for customer lifetime value",
        "per year",
        ge=0,
        le=1,
        range=(0.05, 0.15),
        source=FREE + "; a firm's cost of capital",
    )


class DisclosureParams(Section):
    """Telling customers about a failure before they meet it (``proactive`` firms)."""

    adjustment: float = P(
        0.7,
        "share of the coming shortfall a warning takes off the bar the warned experience is "
        "judged against",
        "",
        ge=0,
        le=1,
        range=(0.2, 0.9),
        source=FREE + "; warned failures are judged less harshly (Taylor 1994; Hui & Tse 1996)",
    )
    trust_factor: float = P(
        0.3,
        "share of the trust loss kept when the failure was announced",
        "",
        ge=0,
        le=1,
        range=(0.1, 0.8),
        source=FREE
        + (
            "; self-disclosed bad news costs less credibility (Williams, Bourgeois & "
            "Croyle 1993; Arpan & Roskos-Ewoldsen 2005)"
        ),
    )
    habituation: float = P(
        2.0,
        "recent warnings at which a warning has lost half its effect (warnings wear out)",
        "warnings",
        gt=0,
        le=100,
        range=(0.5, 10.0),
        source=FREE,
    )
    memory_weeks: float = P(
        26.0,
        "weeks over which a customer remembers the warnings it received",
        "weeks",
        gt=0,
        range=(4.0, 104.0),
        source=FREE,
    )
    cost: float = P(
        0.5,
        "cost of one warning (staff time, a credit or goodwill gesture)",
        "money/warning",
        ge=0,
        le=100,
        range=(0.0, 3.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    visibility: float = P(
        1.0,
        "public notices per warning: each announced failure enters the firm's public record "
        "(its reviews) with this weight",
        "reviews",
        ge=0,
        le=10,
        range=(0.0, 3.0),
        source=FREE,
    )


class MechanismParams(Section):
    """Switches of the model's mechanisms, each one channel of an effect (docs/MODEL.md, the
    channel table). Off removes the channel from the rule; every switch is on by default."""

    loss_aversion: bool = P(True, "shortfalls weigh lambda times as much as surpluses")
    disconfirmation: bool = P(True, "satisfaction responds to experience against expectation")
    personal_standard: bool = P(True, "customers differ in a lasting personal standard")
    promise_expectations: bool = P(True, "promises enter the expectation target")
    promise_choice: bool = P(True, "promises enter the quality expected when choosing a firm")
    credibility: bool = P(
        True, "promises are weighted by the firm's credibility (else taken at face value)"
    )
    benchmark: bool = P(True, "the best experience anywhere raises the bar (cross-industry)")
    trust_promises: bool = P(True, "kept and broken promises move trust")
    commitment: bool = P(True, "commitment holds customers (churn hazard)")
    complaints: bool = P(True, "dissatisfied customers complain; answers recover, silence costs")
    overload: bool = P(True, "a firm over capacity delivers less and fails more")
    word_of_mouth: bool = P(True, "customers talk: attitudes, what is heard, praise, trust")
    reviews: bool = P(True, "customers post public reviews that others read")
    imitation: bool = P(True, "satisfied neighbours draw the unserved in (Bass q)")
    targeting: bool = P(True, "marketing reaches those who weight the firm's focus attributes")
    focus_investment: bool = P(True, "capability spending goes to the focus attributes")
    retention_extras: bool = P(True, "retention spending adds to each experience (extras)")
    retention_answers: bool = P(True, "retention spending answers more complaints")
    retention_commitment: bool = P(True, "retention spending builds commitment")
    price_value: bool = P(True, "the value attribute is perceived from price against rivals")
    price_choice: bool = P(True, "price enters the choice among firms")
    disclosure_expectations: bool = P(True, "a warned failure is judged against a lowered bar")
    disclosure_trust: bool = P(True, "a warned failure costs less trust")
    disclosure_habituation: bool = P(True, "warnings wear out when frequent")
    disclosure_visibility: bool = P(True, "announced failures become public (reviews)")
    disclosure_cost: bool = P(True, "each warning costs the firm money")


class Params(Section):
    """All behavioural parameters, one section per step phase."""

    delivery: DeliveryParams = Field(default_factory=DeliveryParams)
    expectations: ExpectationParams = Field(default_factory=ExpectationParams)
    satisfaction: SatisfactionParams = Field(default_factory=SatisfactionParams)
    trust: TrustParams = Field(default_factory=TrustParams)
    complaints: ComplaintParams = Field(default_factory=ComplaintParams)
    word_of_mouth: WordOfMouthParams = Field(default_factory=WordOfMouthParams)
    reviews: ReviewParams = Field(default_factory=ReviewParams)
    switching: SwitchingParams = Field(default_factory=SwitchingParams)
    acquisition: AcquisitionParams = Field(default_factory=AcquisitionParams)
    economics: EconomicsParams = Field(default_factory=EconomicsParams)
    disclosure: DisclosureParams = Field(default_factory=DisclosureParams)
    mechanisms: MechanismParams = Field(default_factory=MechanismParams)
