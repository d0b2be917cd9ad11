"""The switches of the model's mechanisms (``[mechanisms]``).

This module must never import the rules, the model, the UI or the sweep layer.
"""

from __future__ import annotations

from sim.params.fields import P, Section

__all__ = ["MechanismParams"]


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
    trust_asymmetry: bool = P(
        True,
        "exceeding a promise earns no more trust than keeping it (off: a surplus over the "
        "promise earns trust as a shortfall costs it)",
    )
    commitment: bool = P(True, "commitment holds customers (churn hazard)")
    complaints: bool = P(True, "dissatisfied customers complain; answers recover, silence costs")
    overload: bool = P(True, "a firm over capacity delivers less and fails more")
    word_of_mouth: bool = P(True, "customers talk: attitudes, what is heard, praise, trust")
    word_of_mouth_tone: bool = P(
        True,
        "a message's tone is its speaker's satisfaction (off: drawn at random, -1..1, "
        "whatever the satisfaction; who talks is unchanged)",
    )
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
    price_value: bool = P(
        True, "the value attribute is perceived, and its promise held, at the price against rivals"
    )
    price_choice: bool = P(True, "price enters the choice among firms")
    disclosure_expectations: bool = P(True, "a warned failure is judged against a lowered bar")
    disclosure_trust: bool = P(True, "a warned failure costs less trust")
    disclosure_habituation: bool = P(True, "warnings wear out when frequent")
    disclosure_visibility: bool = P(True, "announced failures become public (reviews)")
    disclosure_cost: bool = P(True, "each warning costs the firm money")
