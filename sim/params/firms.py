"""Parameters of the firms' side: economics, retention tactics, disclosure.

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from sim.params.fields import FREE, P, Section

__all__ = ["DisclosureParams", "EconomicsParams", "RetentionParams"]


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
    scale_floor: float = P(
        0.0625,
        "share of scale_reference below which a smaller firm's unit cost stops rising: a tiny "
        "firm pays at most scale_floor ** -scale_elasticity times its stated unit cost",
        "share of scale_reference",
        gt=0,
        le=1,
        range=(0.02, 0.25),
        source=FREE + "; at the largest elasticity, 0.4, a tiny firm pays 1.7-4.8 times its "
        "stated cost over this range (3.0 at the default, a sixteenth)",
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
        "share of capability above capability_floor lost without upkeep",
        "per year",
        ge=0,
        le=1,
        range=(0.0, 0.1),
        source=FREE,
    )
    capability_floor: float = P(
        0.2,
        "capability a firm keeps without upkeep (what it can do by routine): decay stops there",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.4),
        source=FREE,
    )
    backlog_cost: float = P(
        5.0,
        "feature spending (per market customer per year) that adds one unit of backlog a year: "
        "work promised or started and not finished (new features' loose ends)",
        "money/market customer",
        gt=0,
        range=(1.0, 20.0),
        source=FREE,
    )
    fix_cost: float = P(
        1.0,
        "spending on fixes and reliability that clears the whole backlog at a rate of 1 a year",
        "money/market customer",
        gt=0,
        range=(0.25, 4.0),
        source=FREE,
    )
    backlog_failure: float = P(
        1.0,
        "extra failure chance per unit of backlog, as a multiple of the base failure chance",
        "",
        ge=0,
        le=10,
        range=(0.0, 3.0),
        source=FREE
        + "; feature fatigue and its lifetime-value cost: Thompson, Hamilton & Rust 2005",
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


class RetentionParams(Section):
    """Phase 1b, keeping customers: four tactics, each its own lever, cost and mechanism.

    A firm's retention budget (per own customer) is split over the tactics by its strategy's
    ``retention_mix``; each tactic's level is its spending against its reference cost, 0..1."""

    extras_reference: float = P(
        4.0,
        "spending per own customer on product extras that counts as a full programme",
        "money/customer/year",
        gt=0,
        range=(1.0, 10.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    extras_bonus: float = P(
        0.6,
        "points a full extras programme adds to every experience",
        "points",
        ge=0,
        le=3,
        range=(0.0, 1.5),
        source=FREE,
    )
    promotions_reference: float = P(
        1.5,
        "spending per own customer on reinforcing promotions that counts as a full programme "
        "(cheap)",
        "money/customer/year",
        gt=0,
        range=(0.5, 5.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    commitment_from_promotions: float = P(
        0.2,
        "target-commitment bonus of a full promotions programme, before it wears out",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.4),
        source=FREE
        + "; loyalty programmes and retention: Bolton, Kannan & Bramlett 2000; Verhoef 2003",
    )
    promotion_wear: float = P(
        0.5,
        "sustained promotion level at which promotions have lost half their effect (they wear "
        "out when overused)",
        "",
        gt=0,
        le=10,
        range=(0.1, 2.0),
        source=FREE,
    )
    promotion_memory_weeks: float = P(
        26.0,
        "weeks over which customers remember a firm's level of promotions",
        "weeks",
        ge=1,
        range=(4.0, 104.0),
        source=FREE,
    )
    personal_reference: float = P(
        12.0,
        "spending per own customer on personal contact (sales force, counter staff) that counts "
        "as a full programme (costly)",
        "money/customer/year",
        gt=0,
        range=(4.0, 30.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    commitment_from_personal: float = P(
        0.3,
        "target-commitment bonus of full personal contact (a personal tie)",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.5),
        source=FREE
        + "; relationships with a person work better than with a firm: Palmatier et al. 2006",
    )
    answer_from_personal: float = P(
        0.4,
        "extra share of complaints answered with full personal contact",
        "",
        ge=0,
        le=1,
        range=(0.0, 0.7),
        source=FREE,
    )
    capture_from_personal: float = P(
        0.5,
        "extra share of dissatisfied customers who voice a complaint to a contact person "
        "(complaints captured instead of silent exits), at full personal contact",
        "",
        ge=0,
        le=5,
        range=(0.0, 2.0),
        source=FREE,
    )
    aftercare_reference: float = P(
        3.0,
        "spending per own customer on post-purchase communication that counts as a full programme",
        "money/customer/year",
        gt=0,
        range=(1.0, 10.0),
        source=FREE + "; relative to the scenarios' prices of about 100",
    )
    aftercare_reach: float = P(
        0.5,
        "chance that full post-purchase follow-up hears the problem of a dissatisfied customer "
        "who did not complain (it is then answered like a complaint)",
        "per week",
        ge=0,
        le=1,
        range=(0.0, 1.0),
        source=FREE,
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
        ge=1,
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
