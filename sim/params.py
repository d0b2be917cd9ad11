"""Behavioural parameters of the model, one pydantic model per step phase.

Every coefficient of every rule lives here with its default, unit, limits and a one-line
meaning. These classes are the single source for scenario validation, for the parameter tables
in docs/MODEL.md (``python -m sim.docs``) and for the UI's controls. Adaptation rates are given
*per week* and converted to the model's step length; hazards and money flows are *per year*.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AcquisitionParams",
    "ComplaintParams",
    "DeliveryParams",
    "DisclosureParams",
    "EconomicsParams",
    "ExpectationParams",
    "MechanismParams",
    "ParameterRange",
    "Params",
    "RetentionParams",
    "ReviewParams",
    "SatisfactionParams",
    "SwitchingParams",
    "TeachingParams",
    "TrustParams",
    "WordOfMouthParams",
    "parameter_range",
    "plausible_ranges",
    "unit_of",
]

FREE = "free (no empirical basis)"
"""The ``source`` of a parameter whose plausible range is a modelling choice, not an estimate."""


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
        1.0, "eta: quality factor is min(1, capacity/customers)**eta", "", ge=0, le=5
    )
    noise: float = P(
        0.05, "sd of the perception noise on each attribute", "attribute", ge=0, le=0.5
    )
    base_failure_rate: float = P(
        0.02,
        "chance a served customer meets a failure in a step at or below capacity",
        "per week",
        ge=0,
        le=1,
    )
    overload_failure_rate: float = P(
        0.25,
        "extra failure chance per unit of overload (customers/capacity - 1)",
        "per week",
        ge=0,
        le=5,
    )
    failure_severity: float = P(
        0.45, "drop of perceived speed and reliability in a failure", "attribute", ge=0, le=1
    )
    price_sensitivity: float = P(
        0.5,
        "value gained per relative price advantage over visible rivals",
        "attribute",
        ge=0,
        le=5,
    )


class ExpectationParams(Section):
    """Phase 3, expectations: E moves toward a weighted target, faster up than down."""

    weight_promise: float = P(0.25, "a_p: weight of the firm's promise in the target", "", ge=0)
    weight_experience: float = P(0.45, "a_x: weight of one's own experience", "", ge=0)
    weight_benchmark: float = P(
        0.2,
        "a_b: weight of the best experience anywhere (cross-industry attributes)",
        "",
        ge=0,
        range=(0.0, 0.5),
        source=FREE + "; Fjord/Accenture 2015 and Cadotte et al. 1987 for the mechanism",
    )
    weight_word_of_mouth: float = P(0.06, "a_w: weight of what friends said", "", ge=0)
    weight_reviews: float = P(0.04, "a_r: weight of public reviews", "", ge=0)
    rate_up: float = P(
        0.12, "share of the gap closed when the target is above E", "per week", ge=0, le=1
    )
    rate_down: float = P(
        0.04, "share of the gap closed when the target is below E", "per week", ge=0, le=1
    )
    benchmark_decay: float = P(
        0.01,
        "share of the benchmark forgotten each week (it is a max with decay)",
        "per week",
        ge=0,
        le=1,
    )
    benchmark_from_praise: float = P(
        0.9,
        "a praised attribute raises a listener's benchmark to this share of the praise",
        "",
        ge=0,
        le=1,
    )
    personal_sd: float = P(
        0.05,
        "sd across customers of a lasting personal standard added to the "
        "expectation target (some people expect more than others)",
        "attribute",
        ge=0,
        le=0.5,
    )
    heard_rate: float = P(
        0.3, "share of the gap to what was heard closed per message batch", "per week", ge=0, le=1
    )
    join_anchor: float = P(
        0.42,
        "share of the gap to the quality expected of the new firm (what it was chosen on) "
        "taken on when joining",
        "",
        ge=0,
        le=1,
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
        source="Tversky & Kahneman 1992 (median 2.25); Mittal, Ross & Baldasare 1998",
    )
    curvature: float = P(
        1.0, "exponent on |X - E| (0.88 in T&K 1992; 1 keeps slopes linear)", "", gt=0, le=1.5
    )
    intercept: float = P(
        1.5, "satisfaction at zero performance and zero disconfirmation", "points", ge=-10, le=10
    )
    weight_performance: float = P(
        10.0, "b_perf: points per unit of weighted performance", "points", ge=0, le=20
    )
    weight_disconfirmation: float = P(
        10.0, "b_disc: points per unit of weighted disconfirmation", "points", ge=0, le=50
    )
    memory: float = P(
        0.15,
        "weight of this week's experience in the running satisfaction S",
        "per week",
        gt=0,
        le=1,
    )
    disposition_sd: float = P(
        0.8,
        "sd across customers of a lasting personal offset in how they rate (response style)",
        "points",
        ge=0,
        le=5,
    )
    recommend_offset: float = P(
        1.0,
        "mean of the answer to 'would you recommend?' minus "
        "satisfaction: recommendations run higher than satisfaction "
        "scores",
        "points",
        ge=-5,
        le=5,
    )
    recommend_sd: float = P(
        2.0, "sd across customers of that difference (response style)", "points", ge=0, le=5
    )


class TrustParams(Section):
    """Phase 5, trust, complaints and recovery."""

    initial: float = P(
        0.6,
        "trust in a firm's word before any experience, word of mouth or review of it",
        "",
        ge=0,
        le=1,
    )
    tolerance: float = P(
        0.05, "shortfall below the promise still counted as kept", "attribute", ge=0, le=1
    )
    gain: float = P(
        0.03,
        "share of the way to full trust gained by a fully kept promise",
        "per week",
        ge=0,
        le=1,
    )
    loss: float = P(
        0.5,
        "share of trust lost per unit of weighted shortfall below the promise",
        "per week",
        ge=0,
        le=20,
    )
    word_of_mouth_influence: float = P(
        0.1,
        "share of the way a listener's trust in a firm moves toward the speaker's per message",
        "",
        ge=0,
        le=1,
    )
    commitment_initial: float = P(0.3, "commitment to a new supplier", "", ge=0, le=1)
    commitment_established: float = P(
        0.5, "commitment of the customers a firm already has when the run starts", "", ge=0, le=1
    )
    commitment_rate: float = P(
        0.02, "share of the way to target commitment moved", "per week", ge=0, le=1
    )
    commitment_base: float = P(
        0.35,
        "target commitment of a new relationship with no relationship investment",
        "",
        ge=0,
        le=1,
    )
    commitment_from_tenure: float = P(
        0.25,
        "target-commitment bonus of a long relationship (habit, learned routines)",
        "",
        ge=0,
        le=1,
    )
    tenure_halfway_years: float = P(
        2.0,
        "years of tenure at which the tenure bonus is half built up (t / (t + halfway))",
        "years",
        gt=0,
        le=50,
    )


class ComplaintParams(Section):
    """Phase 5b, complaints and service recovery."""

    threshold: float = P(
        5.0, "a step's satisfaction below this makes a customer dissatisfied", "points", ge=0, le=10
    )
    probability: float = P(0.35, "chance a dissatisfied customer complains", "per week", ge=0, le=1)
    answer_base: float = P(
        0.3,
        "share of complaints answered with no retention spend and no spare capacity",
        "",
        ge=0,
        le=1,
    )
    answer_from_spare_capacity: float = P(
        0.3, "extra answered share per unit of spare capacity", "", ge=0, le=1
    )
    recovery: float = P(
        0.6, "share of the lost satisfaction an answered complaint restores", "", ge=0, le=1
    )
    repeat_recovery: float = P(
        0.2, "the same share for a failure within the recovery memory", "", ge=0, le=1
    )
    recovery_memory_weeks: int = P(
        26,
        "a second failure within this many weeks of a recovery is not forgiven the same way",
        "weeks",
        ge=0,
        le=520,
    )
    unanswered_trust_cost: float = P(
        0.08, "share of trust lost when a complaint is ignored", "", ge=0, le=1
    )


class WordOfMouthParams(Section):
    """Phase 6, word of mouth over the network."""

    base_rate: float = P(
        0.03, "chance a neutral customer talks about its supplier", "per week", ge=0, le=1
    )
    positive_amplitude: float = P(
        0.12, "extra chance to talk at full satisfaction", "per week", ge=0, le=1
    )
    negative_amplitude: float = P(
        0.3, "extra chance to talk at zero satisfaction", "per week", ge=0, le=1
    )
    neutral_point: float = P(
        6.5, "satisfaction at which a customer is least likely to talk", "points", ge=0, le=10
    )
    reach: float = P(0.5, "chance a message reaches each neighbour", "", ge=0, le=1)
    influence: float = P(
        0.2, "share of the way a listener's attitude moves per message", "", ge=0, le=1
    )
    attitude_decay: float = P(0.01, "share of attitude forgotten", "per week", ge=0, le=1)
    praise_threshold: float = P(
        0.75, "an attribute at or above this level is praised", "attribute", ge=0, le=1
    )
    complete_graph_max_receivers: int = P(
        50,
        "on a complete graph a message reaches at most this many random others",
        "customers",
        ge=1,
    )


class ReviewParams(Section):
    """Phase 6b, public reviews."""

    rate: float = P(0.004, "chance a served customer posts a review", "per week", ge=0, le=1)
    extremity: float = P(2.0, "extra posting propensity per unit of |S - 5|/5", "", ge=0, le=20)
    memory: float = P(
        0.02, "weight of a week's new reviews against the standing score", "per week", ge=0, le=1
    )
    prior_score: float = P(
        7.0, "review score of a firm nobody has reviewed yet", "points", ge=0, le=10
    )
    weight_credibility: float = P(
        0.3,
        "share of a firm's credibility taken from its public reviews (the rest from the "
        "customer's own trust in it)",
        "",
        ge=0,
        le=1,
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
    )
    satisfaction_ref: float = P(
        7.5, "satisfaction at which the satisfaction term is zero", "points", ge=0, le=10
    )
    satisfaction: float = P(
        0.55, "log-odds per point of satisfaction below the reference", "per point", ge=0
    )
    trust_ref: float = P(0.6, "trust at which the trust term is zero", "", ge=0, le=1)
    trust: float = P(2.5, "log-odds per unit of trust below the reference", "", ge=0)
    commitment: float = P(1.5, "log-odds less per unit of commitment above 0.5", "", ge=0)
    rival: float = P(1.0, "log-odds per unit of a rival's utility advantage", "", ge=0)
    switching_cost: float = P(0.5, "log-odds less from the cost of switching", "", ge=0)
    attitude: float = P(1.5, "choice utility per unit of attitude (-1..1)", "", ge=0)
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
        2.0, "choice utility lost per relative price above the industry mean", "", ge=0
    )
    outside_option: float = P(
        1.0, "utility of going unserved instead of to a rival", "", ge=-20, le=20
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
        source="Sultan, Farley & Lehmann 1990 (mean 0.03 over 213 applications)",
    )
    q: float = P(
        0.38,
        "imitation coefficient (times the share of satisfied served neighbours)",
        "per year",
        ge=0,
        le=100,
        range=(0.2, 0.6),
        source="Sultan, Farley & Lehmann 1990 (mean 0.38 over 213 applications)",
    )
    satisfied_threshold: float = P(
        6.0, "a neighbour counts for q when its S is at least this", "points", ge=0, le=10
    )
    marketing_elasticity: float = P(
        0.6, "p scales with (marketing/reference)**elasticity", "", ge=0, le=2
    )
    targeting: float = P(
        1.0,
        "how strongly marketing reaches customers who weight the firm's focus attributes",
        "",
        ge=0,
        le=5,
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
    capability_cost: float = P(
        25.0,
        "yearly spend on one attribute whose growth rate equals the "
        "gap to capability 1 (exponential approach)",
        "money/market customer",
        gt=0,
    )
    capability_decay: float = P(
        0.02, "share of capability above 0.2 lost without upkeep", "per year", ge=0, le=1
    )
    backlog_cost: float = P(
        5.0,
        "feature spending (per market customer per year) that adds one unit of backlog a year: "
        "work promised or started and not finished (new features' loose ends)",
        "money/market customer",
        gt=0,
    )
    fix_cost: float = P(
        1.0,
        "spending on fixes and reliability that clears the whole backlog at a rate of 1 a year",
        "money/market customer",
        gt=0,
    )
    backlog_failure: float = P(
        1.0,
        "extra failure chance per unit of backlog, as a multiple of the base failure chance",
        "",
        ge=0,
        le=10,
    )
    capacity_build_cost: float = P(
        40.0, "cost of capacity for one more customer, per market customer", "money/customer", gt=0
    )
    capacity_decay: float = P(
        0.1, "share of capacity lost each year (staff turnover)", "per year", ge=0, le=1
    )
    exit_enabled: bool = P(True, "firms whose cash stays negative exit")
    exit_after_weeks: int = P(26, "weeks of negative cash after which a firm exits", "weeks", ge=1)
    discount_rate: float = P(
        0.1, "discount rate for customer lifetime value", "per year", ge=0, le=1
    )


class TeachingParams(Section):
    """Phase 6b, teaching customers what to expect: firms shift what customers value."""

    reference: float = P(
        1.0,
        "spending on teaching (a share of marketing) that counts as a full programme",
        "money/market customer/year",
        gt=0,
    )
    rate: float = P(
        0.01,
        "share of the way a customer's weights move toward a fully teaching supplier's focus",
        "per week",
        ge=0,
        le=1,
    )
    prospect_share: float = P(
        0.3,
        "how much a firm's teaching reaches the customers it does not serve (who can see it), "
        "relative to its own customers",
        "",
        ge=0,
        le=1,
    )
    word_of_mouth_share: float = P(
        0.05,
        "share of the way a message about a fully teaching firm moves the listener's weights "
        "toward its focus",
        "",
        ge=0,
        le=1,
    )
    forget: float = P(
        0.002,
        "share of the way a customer's weights drift back toward its own",
        "per week",
        ge=0,
        le=1,
    )
    max_shift: float = P(
        0.15,
        "largest change of any attribute weight away from the customer's own",
        "",
        ge=0,
        le=1,
    )


class RetentionParams(Section):
    """Phase 1b, keeping customers: four tactics, each its own lever, cost and mechanism.

    A firm's retention budget (per own customer) is split over the tactics by its strategy's
    ``retention_mix``; each tactic's level is its spending against its reference cost, 0..1."""

    extras_reference: float = P(
        4.0,
        "spending per own customer on product extras that counts as a full programme",
        "money/customer/year",
        gt=0,
    )
    extras_bonus: float = P(
        0.6, "points a full extras programme adds to every experience", "points", ge=0, le=3
    )
    promotions_reference: float = P(
        1.5,
        "spending per own customer on reinforcing promotions that counts as a full programme "
        "(cheap)",
        "money/customer/year",
        gt=0,
    )
    commitment_from_promotions: float = P(
        0.2,
        "target-commitment bonus of a full promotions programme, before it wears out",
        "",
        ge=0,
        le=1,
    )
    promotion_wear: float = P(
        0.5,
        "sustained promotion level at which promotions have lost half their effect (they wear "
        "out when overused)",
        "",
        gt=0,
        le=10,
    )
    promotion_memory_weeks: float = P(
        26.0, "weeks over which customers remember a firm's level of promotions", "weeks", ge=1
    )
    personal_reference: float = P(
        12.0,
        "spending per own customer on personal contact (sales force, counter staff) that counts "
        "as a full programme (costly)",
        "money/customer/year",
        gt=0,
    )
    commitment_from_personal: float = P(
        0.3, "target-commitment bonus of full personal contact (a personal tie)", "", ge=0, le=1
    )
    answer_from_personal: float = P(
        0.4, "extra share of complaints answered with full personal contact", "", ge=0, le=1
    )
    capture_from_personal: float = P(
        0.5,
        "extra share of dissatisfied customers who voice a complaint to a contact person "
        "(complaints captured instead of silent exits), at full personal contact",
        "",
        ge=0,
        le=5,
    )
    aftercare_reference: float = P(
        3.0,
        "spending per own customer on post-purchase communication that counts as a full programme",
        "money/customer/year",
        gt=0,
    )
    aftercare_reach: float = P(
        0.5,
        "chance that full post-purchase follow-up hears the problem of a dissatisfied customer "
        "who did not complain (it is then answered like a complaint)",
        "per week",
        ge=0,
        le=1,
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
    )
    trust_factor: float = P(
        0.3, "share of the trust loss kept when the failure was announced", "", ge=0, le=1
    )
    habituation: float = P(
        2.0,
        "recent warnings at which a warning has lost half its effect (warnings wear out)",
        "warnings",
        gt=0,
        le=100,
    )
    memory_weeks: float = P(
        26.0, "weeks over which a customer remembers the warnings it received", "weeks", ge=1
    )
    cost: float = P(
        0.5,
        "cost of one warning (staff time, a credit or goodwill gesture)",
        "money/warning",
        ge=0,
        le=100,
    )
    visibility: float = P(
        1.0,
        "public notices per warning: each announced failure enters the firm's public record "
        "(its reviews) with this weight",
        "reviews",
        ge=0,
        le=10,
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
    focus_investment: bool = P(True, "feature spending goes to the focus attributes")
    backlog: bool = P(True, "features leave a backlog of unfinished work that raises failures")
    teaching: bool = P(True, "firms teach customers to value their focus attributes")
    retention_extras: bool = P(True, "product extras add to each experience")
    retention_promotions: bool = P(True, "reinforcing promotions build commitment (and wear out)")
    retention_personal: bool = P(
        True, "personal contact builds commitment, captures and answers complaints"
    )
    retention_aftercare: bool = P(True, "post-purchase follow-up hears silent problems early")
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
    retention: RetentionParams = Field(default_factory=RetentionParams)
    teaching: TeachingParams = Field(default_factory=TeachingParams)
    disclosure: DisclosureParams = Field(default_factory=DisclosureParams)
    mechanisms: MechanismParams = Field(default_factory=MechanismParams)
