"""Parameters of what customers tell each other and learn: word of mouth, reviews, teaching.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from sim.params.fields import FREE, P, Section

__all__ = ["ReviewParams", "TeachingParams", "WordOfMouthParams"]


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
    prior_weight: float = P(
        2.0,
        "reviews the prior of a firm's public record counts as (its review score and its "
        "public credibility): how many reviews a reader needs before they outweigh the prior",
        "reviews",
        gt=0,
        le=1000,
        range=(0.5, 10.0),
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


class TeachingParams(Section):
    """Phase 6b, teaching customers what to expect: firms shift what customers value."""

    reference: float = P(
        1.0,
        "spending on teaching (a share of marketing) that counts as a full programme",
        "money/market customer/year",
        gt=0,
        range=(0.25, 4.0),
        source=FREE,
    )
    rate: float = P(
        0.01,
        "share of the way a customer's weights move toward a fully teaching supplier's focus",
        "per week",
        ge=0,
        le=1,
        range=(0.0, 0.05),
        source=FREE
        + "; preferences are shaped by pioneers and learned: Carpenter & Nakamoto 1989; "
        "Hoeffler & Ariely 1999",
    )
    prospect_share: float = P(
        0.3,
        "how much a firm's teaching reaches the customers it does not serve (who can see it), "
        "relative to its own customers",
        "",
        ge=0,
        le=1,
        range=(0.0, 1.0),
        source=FREE,
    )
    word_of_mouth_share: float = P(
        0.05,
        "share of the way a message about a fully teaching firm moves the listener's weights "
        "toward its focus",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.2),
        source=FREE,
    )
    forget: float = P(
        0.002,
        "share of the way a customer's weights drift back toward its own",
        "per week",
        ge=0,
        le=1,
        range=(0.0, 0.02),
        source=FREE,
    )
    max_shift: float = P(
        0.15,
        "largest change of any attribute weight away from the customer's own",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.3),
        source=FREE,
    )
