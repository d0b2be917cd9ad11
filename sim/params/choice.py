"""Parameters of choosing a firm: switching and acquisition.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from sim.params.fields import FREE, P, Section

__all__ = ["AcquisitionParams", "SwitchingParams"]


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
            "estimates), sales elasticities of mostly packaged goods; in a logit the own-price "
            "elasticity is about -coefficient * (1 - share), so the default 2.0 gives about -1.0 "
            "between two firms of equal share, below both means: the default is a free choice "
            "inside the range"
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
        "each firm's innovation coefficient at the reference marketing spend (the industry's is"
        " the sum over its firms)",
        "per year",
        ge=0,
        le=100,
        range=(0.01, 0.06),
        source=(
            "Sultan, Farley & Lehmann 1990, JMR 27(1):70-77 (mean 0.03 over 213 applications:"
            " a category's p; an industry of F firms has about F x p)"
        ),
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
