"""Parameters of the per-customer phases 2 to 5: delivery, expectations, satisfaction, trust and
complaints.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from sim.params.fields import FREE, P, Section

__all__ = [
    "ComplaintParams",
    "DeliveryParams",
    "ExpectationParams",
    "SatisfactionParams",
    "TrustParams",
]


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
    initial_tenure_years: float = P(
        5.0,
        "longest tenure of a customer a firm already serves at the start: tenures are drawn "
        "uniformly from 0 to it (mean half of it)",
        "years",
        gt=0,
        le=50,
        range=(2.0, 36.0),
        source=FREE + "; published mean tenures run from about 8 years with a mobile phone "
        "company (Bank of Queensland survey) to 16-18 years with a bank (Bankrate/YouGov survey "
        "of 2,725 US adults; Bank of Queensland), a longest of 16 and 32-36: the range runs from "
        "a young market's to a bank's (the firms' that do not set their own "
        "firms[i].initial_tenure_years)",
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
            "$142 loss (Goodman & Newman 2003, Quality Progress 36(1):51-55), shares of problems"
            " that lead to a complaint; here the chance is drawn again every dissatisfied week"
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
