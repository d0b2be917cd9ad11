"""The cxsim rules written agent by agent, the way a Mesa user would write them.

This is the yardstick for the package (``sim``), not part of it. Every customer is a
``mesa.Agent`` holding its own state in Python lists and floats; ``Customer`` methods loop over
its relationships (one per industry) and its neighbours. Each phase is synchronous, like the
package's: every agent computes its update from the same state, then all apply it
(``agents.do("compute_...")`` then ``agents.do("apply_...")``). The rules follow docs/MODEL.md
section 7 equation by equation, written from the documentation rather than from the package's
code, so that a test comparing the two (tests/test_reference.py) checks the package against the
model description.

Build it from a package model, so both start from the same state::

    model = sim.CustomerMarket("baseline", rng=1, dtype="float64", overrides=...)
    ref = ReferenceMarket(model, draws)          # copies the package's state at step 0

``draws`` is a random source shared with the package (``draws.KeyedSource``) for comparisons,
or ``draws.PythonDraws(random)`` for timing.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import mesa
import numpy as np

from sim.strategies import Decision, MarketView, build_strategy

__all__ = ["Customer", "Firm", "ReferenceMarket"]

NAN = float("nan")
TACTICS = ("extras", "promotions", "personal", "aftercare")
PROMOTER, DETRACTOR = 8.5, 6.5


def clip(x: float, lo: float, hi: float) -> float:
    """``x`` limited to ``lo..hi`` (NaN stays NaN)."""
    return lo if x < lo else hi if x > hi else x


def to_step(rate: float, steps_per_year: int) -> float:
    """A per-week rate or chance converted to the step (docs/MODEL.md 3.3)."""
    if steps_per_year == 52:
        return rate
    return 1.0 - (1.0 - rate) ** (52.0 / steps_per_year)


def annual_to_step(p: float, steps_per_year: int) -> float:
    """A chance within a year converted to the step."""
    p = clip(p, 0.0, 1.0)
    return 1.0 - (1.0 - p) ** (1.0 / steps_per_year)


def isnan(x: float) -> bool:
    return x != x


class Relationship:
    """A customer's state in one industry."""

    __slots__ = (
        "answered",
        "commitment",
        "complaints",
        "expectation",
        "experience",
        "failed",
        "heard",
        "joined",
        "last_satisfaction",
        "satisfaction",
        "since_recovery",
        "supplier",
        "switches",
        "tenure",
        "warnings",
    )

    def __init__(self) -> None:
        self.supplier = -1
        self.expectation: list[float] = []
        self.experience: list[float] = []
        self.satisfaction = NAN
        self.last_satisfaction = NAN
        self.warnings = 0.0
        self.commitment = 0.0
        self.tenure = 0
        self.joined = -1
        self.failed = False
        self.since_recovery = 1_000_000
        self.complaints = 0
        self.answered = 0
        self.switches = 0
        self.heard: list[float] = []


class Firm(mesa.Agent):
    """A firm, with the attributes the package's strategies read."""

    def __init__(self, model: ReferenceMarket, index: int, strategy: Any) -> None:
        super().__init__(model)
        self.index = index
        self.strategy = strategy

    @property
    def active(self) -> bool:
        """Entered and not exited."""
        return self.alive and self.entry_step <= self.model.steps

    def market_view(self) -> MarketView:
        """What this firm can observe of its industry (docs/MODEL.md 7.11)."""
        mk = self.model
        firms = [
            f for f in mk.industry_firms[self.industry] if mk.firm_list[f].active or f == self.index
        ]
        reviews = []
        for f in firms:
            fm = mk.firm_list[f]
            reviews.append(
                [a / fm.review_weight for a in fm.review_attr]
                if fm.review_weight > 1e-9
                else [NAN] * mk.K
            )
        weights = [sum(c.weights[k] for c in mk.customer_list) / mk.N for k in range(mk.K)]
        return MarketView(
            own=firms.index(self.index),
            prices=np.array([mk.firm_list[f].price for f in firms], float),
            customers=np.array([mk.firm_list[f].customers for f in firms], float),
            reviews=np.array(reviews, float),
            weights=np.array(weights, float),
            step=mk.steps,
            steps_per_year=mk.spy,
        )


class Customer(mesa.Agent):
    """A customer: its relationships, benchmark, attitudes and neighbours."""

    def __init__(self, model: ReferenceMarket, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.rel: list[Relationship] = []
        self.weights: list[float] = []
        self.benchmark: list[float] = []
        self.attitude: list[float] = []
        self.trust: list[float] = []  # in each firm's word
        self.neighbours: list[int] = []
        self.pending: Any = None

    # -- 2 delivery ----------------------------------------------------------------------------

    def compute_delivery(self) -> None:
        mk = self.model
        out = []
        for m, r in enumerate(self.rel):
            f = r.supplier
            if f < 0:
                out.append(None)
                continue
            firm = mk.firm_list[f]
            x = []
            for k in range(mk.K):
                if k == mk.price_index and mk.on.price_value:
                    ref = mk.ref_price[self.region][m]
                    v = (
                        firm.capability[k]
                        + mk.prm.delivery.price_sensitivity * (ref - firm.price) / ref
                    )
                else:
                    v = firm.capability[k] * mk.load[f]
                if mk.prm.delivery.noise > 0:
                    v += mk.prm.delivery.noise * mk.draws.z("noise", m, self.index, k)
                x.append(v)
            failure = mk.draws.u("failure", m, self.index) < mk.fail_step[f]
            if failure:
                for k in mk.failure_attrs:
                    x[k] -= mk.prm.delivery.failure_severity
            out.append(([clip(v, 0.0, 1.0) for v in x], failure))
        self.pending = out

    def apply_delivery(self) -> None:
        self.warned = []
        for r, got in zip(self.rel, self.pending, strict=True):
            if got is not None:
                r.experience, r.failed = got
            warned = got is not None and got[1] and self.model.firm_list[r.supplier].disclose
            self.warned.append(warned)
            if warned:
                self.model.warnings_count[r.supplier] += 1

    # -- 3 expectations ------------------------------------------------------------------------

    def warning_effect(self, m: int) -> float:
        """How much a warning still does: 1 / (1 + recent warnings / habituation)."""
        mk = self.model
        if not mk.on.disclosure_habituation:
            return 1.0
        return 1.0 / (1.0 + self.rel[m].warnings / mk.prm.disclosure.habituation)

    def credibility(self, f: int) -> float:
        """How far this customer believes firm f's promises (docs/MODEL.md 7.3)."""
        mk = self.model
        if not mk.on.credibility:
            return 1.0
        rho = mk.prm.reviews.weight_credibility if mk.on.reviews else 0.0
        return (1.0 - rho) * self.trust[f] + rho * mk.firm_list[f].public_credibility()

    def held_promise(self, m: int, f: int) -> list[float]:
        """The promise this customer holds firm f of industry m to: on the value attribute, read
        at the firm's price (docs/MODEL.md 7.3)."""
        mk = self.model
        firm = mk.firm_list[f]
        held = list(firm.promise)
        if mk.price_index >= 0 and mk.on.price_value:
            k, ref = mk.price_index, mk.ref_price[self.region][m]
            part = mk.prm.delivery.price_sensitivity * (ref - firm.price) / ref
            held[k] = clip(held[k] + (0.0 if isnan(part) else part), 0.0, 1.0)
        return held

    def compute_expectations(self) -> None:
        mk, prm, on = self.model, self.model.prm.expectations, self.model.on
        decay = to_step(prm.benchmark_decay, mk.spy)
        bench = [(1.0 - decay) * b for b in self.benchmark]
        for r in self.rel:
            if r.supplier >= 0:
                bench = [max(b, x) for b, x in zip(bench, r.experience, strict=True)]
        up, down = to_step(prm.rate_up, mk.spy), to_step(prm.rate_down, mk.spy)
        a_p = prm.weight_promise if on.promise_expectations else 0.0
        a_b = prm.weight_benchmark if on.benchmark else 0.0
        a_w = prm.weight_word_of_mouth if on.word_of_mouth else 0.0
        adjustment = mk.prm.disclosure.adjustment if on.disclosure_expectations else 0.0
        standard = self.standard if on.personal_standard else 0.0
        judged_all, new_e = [], []
        for m, r in enumerate(self.rel):
            if r.supplier < 0:
                judged_all.append(None)
                new_e.append(None)
                continue
            firm = mk.firm_list[r.supplier]
            judged = list(r.expectation)
            if self.warned[m]:
                lowered = adjustment * self.warning_effect(m)
                for k in mk.failure_attrs:
                    if r.experience[k] < r.expectation[k]:
                        judged[k] = r.expectation[k] - lowered * (
                            r.expectation[k] - r.experience[k]
                        )
            a_pc = a_p * self.credibility(r.supplier)
            a_r = prm.weight_reviews * firm.reviewed()
            reviews = firm.review_means()
            promise = self.held_promise(m, r.supplier)
            e = []
            for k in range(mk.K):
                cross = 1.0 if k in mk.cross_attrs else 0.0
                has_heard = bool(r.heard) and not isnan(r.heard[k])
                num = (
                    a_pc * promise[k]
                    + a_r * reviews[k]
                    + prm.weight_experience * r.experience[k]
                    + a_b * cross * bench[k]
                    + a_w * (r.heard[k] if has_heard else 0.0)
                )
                den = a_pc + a_r + prm.weight_experience + a_b * cross + a_w * has_heard
                target = num / max(den, 1e-12) + standard  # the personal standard
                gap = target - r.expectation[k]
                e.append(r.expectation[k] + (up if gap > 0 else down) * gap)
            judged_all.append(judged)
            new_e.append(e)
        self.pending = (bench, judged_all, new_e)

    def apply_expectations(self) -> None:
        bench, judged, new_e = self.pending
        self.benchmark = bench
        self.judged = judged
        for r, e in zip(self.rel, new_e, strict=True):
            if e is not None:
                r.expectation = e

    # -- 4 satisfaction --------------------------------------------------------------------------

    def compute_satisfaction(self) -> None:
        mk, prm = self.model, self.model.prm.satisfaction
        memory = to_step(prm.memory, mk.spy)
        out = []
        for m, r in enumerate(self.rel):
            if r.supplier < 0:
                out.append(None)
                continue
            d = perf = 0.0
            on = mk.on
            lam = prm.loss_aversion if on.loss_aversion else 1.0
            for k in range(mk.K):
                gap = r.experience[k] - self.judged[m][k]
                mag = abs(gap) ** prm.curvature
                d += self.weights[k] * (mag if gap >= 0 else -lam * mag)
                perf += self.weights[k] * r.experience[k]
            s = (
                prm.intercept
                + prm.weight_performance * perf
                + (prm.weight_disconfirmation * d if on.disconfirmation else 0.0)
                + mk.prm.retention.extras_bonus * mk.tactics[r.supplier]["extras"]
                + self.disposition
            )
            s = clip(s, 0.0, 10.0)
            old = r.satisfaction
            out.append((s, s if isnan(old) else old + memory * (s - old), old))
        self.pending = out

    def apply_satisfaction(self) -> None:
        self.satisfaction_before = []
        for r, got in zip(self.rel, self.pending, strict=True):
            if got is None:
                self.satisfaction_before.append(None)
                continue
            r.last_satisfaction, r.satisfaction, before = got
            self.satisfaction_before.append(before)

    # -- 5 trust, complaints, commitment ------------------------------------------------------

    def compute_trust(self) -> None:
        mk, prm, cprm = self.model, self.model.prm.trust, self.model.prm.complaints
        on = mk.on
        spy = mk.spy
        out = []
        for m, r in enumerate(self.rel):
            keep = 1.0 - 1.0 / (mk.prm.disclosure.memory_weeks * spy / 52.0)
            warnings = r.warnings * keep + (1.0 if self.warned[m] else 0.0)
            if r.supplier < 0:
                out.append((None, warnings))
                continue
            f = r.supplier
            t = self.trust[f]
            if on.trust_promises:
                kept = shortfall = surplus = 0.0
                promise = self.held_promise(m, f)
                for k in range(mk.K):
                    floor = promise[k] - prm.tolerance
                    kept += self.weights[k] * (1.0 if r.experience[k] >= floor else 0.0)
                    shortfall += self.weights[k] * max(0.0, floor - r.experience[k])
                    over = r.experience[k] - promise[k] - prm.tolerance
                    surplus += self.weights[k] * max(0.0, over)
                discount = 1.0
                if self.warned[m] and on.disclosure_trust:
                    v = self.warning_effect(m)
                    discount = 1.0 - (1.0 - mk.prm.disclosure.trust_factor) * v
                cut = clip(min(1.0, prm.loss * shortfall * discount), 0.0, 1.0)
                # exceeding earns only what keeping does, unless trust_asymmetry is off: then a
                # surplus gives the share loss * surplus of the missing trust (the cut's mirror)
                raised = 0.0 if on.trust_asymmetry else min(1.0, prm.loss * surplus)
                t = (
                    t
                    + to_step(prm.gain, spy) * kept * (1.0 - t)
                    + to_step(raised, spy) * (1.0 - t)
                    - to_step(cut, spy) * t
                )
            s = r.last_satisfaction
            complains = answered = False
            if on.complaints and s < cprm.threshold:
                tactics, rprm = mk.tactics[f], mk.prm.retention
                voice = clip(
                    cprm.probability * (1.0 + rprm.capture_from_personal * tactics["personal"]),
                    0.0,
                    1.0,
                )
                complains = mk.draws.u("complain", m, self.index) < to_step(voice, spy)
                if not complains:  # the firm's follow-up may hear the problem anyway
                    follow_up = clip(rprm.aftercare_reach * tactics["aftercare"], 0.0, 1.0)
                    complains = mk.draws.u("aftercare", m, self.index) < to_step(follow_up, spy)
                if complains:
                    answered = mk.draws.u("answer", m, self.index) < mk.answer[f]
            if complains and not answered:
                t *= 1.0 - cprm.unanswered_trust_cost
            t = clip(t, 0.0, 1.0)
            sat = r.satisfaction
            if answered:
                before = self.satisfaction_before[m]
                lost = 0.0 if isnan(before) else max(0.0, before - sat)
                memory_steps = cprm.recovery_memory_weeks * spy / 52.0
                share = cprm.repeat_recovery if r.since_recovery < memory_steps else cprm.recovery
                sat = sat + share * lost
            since = 0 if answered else min(r.since_recovery + 1, 1 << 30)
            years = r.tenure / spy
            rprm, tactics = mk.prm.retention, mk.tactics[f]
            target = clip(
                prm.commitment_base
                + rprm.commitment_from_promotions * tactics["promotions"]
                + rprm.commitment_from_personal * tactics["personal"]
                + prm.commitment_from_tenure * years / (years + prm.tenure_halfway_years),
                0.0,
                1.0,
            )
            c = r.commitment + to_step(prm.commitment_rate, spy) * (target - r.commitment)
            out.append(((t, sat, since, complains, answered, c), warnings))
            if complains:
                mk.complaints[f] += 1
                mk.answered_count[f] += answered
        self.pending = out

    def apply_trust(self) -> None:
        for r, (got, warnings) in zip(self.rel, self.pending, strict=True):
            r.warnings = warnings
            if got is None:
                continue
            t, r.satisfaction, r.since_recovery, complains, answered, r.commitment = got
            self.trust[r.supplier] = t
            r.complaints += complains
            r.answered += answered
            r.tenure += 1

    # -- 6 word of mouth and reviews ------------------------------------------------------------

    def compute_talk(self) -> None:
        """Messages this customer sends: (industry, firm, valence, experience, its trust in the
        firm's word)."""
        mk, prm = self.model, self.model.prm.word_of_mouth
        n0 = prm.neutral_point
        out = []
        for m, r in enumerate(self.rel):
            if r.supplier < 0:
                continue
            s = r.satisfaction
            up = clip((s - n0) / max(10.0 - n0, 1e-9), 0.0, 1.0)
            down = clip((n0 - s) / max(n0, 1e-9), 0.0, 1.0)
            week = prm.base_rate + prm.positive_amplitude * up**2 + prm.negative_amplitude * down**2
            p = to_step(clip(week, 0.0, 1.0), mk.spy)
            if mk.draws.u("talk", m, self.index) < p:
                if mk.on.word_of_mouth_tone:
                    v = (s - n0) / max(10.0 - n0, 1e-9) if s >= n0 else (s - n0) / max(n0, 1e-9)
                else:  # the tone drawn whatever the satisfaction (the valence check's control)
                    v = 2.0 * mk.draws.u("tone", m, self.index) - 1.0
                out.append((m, r.supplier, v, list(r.experience), self.trust[r.supplier]))
        self.pending = out

    def listen(self, inbox: list[tuple[int, int, float, list[float], float]]) -> None:
        """Update attitudes, what was heard, trust and the benchmark from this step's
        messages."""
        mk, prm, eprm = self.model, self.model.prm.word_of_mouth, self.model.prm.expectations
        decay = to_step(prm.attitude_decay, mk.spy)
        self.attitude = [a * (1.0 - decay) for a in self.attitude]
        by_firm: dict[int, list[float]] = {}
        trust_by_firm: dict[int, list[float]] = {}
        by_industry: dict[int, list[list[float]]] = {}
        for m, f, v, x, t in inbox:
            by_firm.setdefault(f, []).append(v)
            trust_by_firm.setdefault(f, []).append(t)
            by_industry.setdefault(m, []).append(x)
            if v > 0:
                for k in mk.cross_attrs:
                    if x[k] >= prm.praise_threshold:
                        self.benchmark[k] = max(
                            self.benchmark[k], eprm.benchmark_from_praise * x[k]
                        )
        # firms by industry, then by index: the order in which what they teach is heard
        for f in sorted(by_firm, key=lambda g: (mk.firm_list[g].industry, g)):
            tones = by_firm[f]
            c = len(tones)
            a = self.attitude[f]
            self.attitude[f] = a + (1.0 - (1.0 - prm.influence) ** c) * (sum(tones) / c - a)
            heard_trust = trust_by_firm[f]
            omega = mk.prm.trust.word_of_mouth_influence
            t = self.trust[f]
            self.trust[f] = t + (1.0 - (1.0 - omega) ** c) * (sum(heard_trust) / c - t)
            share = mk.prm.teaching.word_of_mouth_share * mk.teaching_level[f]
            if share > 0:  # what the firm teaches, carried by its customers
                moved = 1.0 - (1.0 - share) ** c
                focus = mk.firm_list[f].focus
                self.weights = [
                    w + moved * (q - w) for w, q in zip(self.weights, focus, strict=True)
                ]
        rate = to_step(eprm.heard_rate, mk.spy)
        for m, xs in by_industry.items():
            mean = [sum(x[k] for x in xs) / len(xs) for k in range(mk.K)]
            r = self.rel[m]
            if not r.heard or isnan(r.heard[0]):
                r.heard = mean
            else:
                r.heard = [h + rate * (v - h) for h, v in zip(r.heard, mean, strict=True)]

    def post_reviews(self) -> None:
        mk, prm = self.model, self.model.prm.reviews
        for m, r in enumerate(self.rel):
            if r.supplier < 0:
                continue
            week = clip(
                prm.rate * (1.0 + prm.extremity * abs(r.satisfaction - 5.0) / 5.0), 0.0, 1.0
            )
            if mk.draws.u("review", m, self.index) < to_step(week, mk.spy):
                firm = mk.firm_list[r.supplier]
                firm.new_reviews.append(
                    (r.last_satisfaction, list(r.experience), self.trust[r.supplier], 1.0)
                )

    def post_notices(self) -> None:
        """An announced failure enters the firm's public record as a review of it."""
        mk = self.model
        if not mk.on.disclosure_visibility:
            return
        for m, r in enumerate(self.rel):
            if self.warned[m]:  # warned at this step's delivery, by its supplier then
                firm = mk.firm_list[r.supplier]
                weight = mk.prm.disclosure.visibility
                firm.new_reviews.append((r.last_satisfaction, list(r.experience), None, weight))

    # -- 7 switching ----------------------------------------------------------------------------

    def expected_quality(self, m: int, f: int, joining: bool = False) -> list[float]:
        """The quality this customer expects of firm f, per attribute (docs/MODEL.md 7.7): as
        it chooses (the promise switched by promise_choice) or, ``joining``, as it moves its
        bar (switched by promise_expectations)."""
        mk, prm, on = self.model, self.model.prm.expectations, self.model.on
        firm = mk.firm_list[f]
        switch = on.promise_expectations if joining else on.promise_choice
        a_pc = (prm.weight_promise if switch else 0.0) * self.credibility(f)
        a_r = prm.weight_reviews * firm.reviewed()
        reviews = firm.review_means()
        own = self.rel[m].expectation
        a_x = prm.weight_experience
        return [
            (a_pc * firm.promise[k] + a_r * reviews[k] + a_x * own[k])
            / max(a_pc + a_r + a_x, 1e-12)
            for k in range(mk.K)
        ]

    def utility(self, m: int, f: int) -> float:
        """Choice utility of firm f for this customer (-inf when not visible)."""
        mk, prm = self.model, self.model.prm.switching
        if not mk.visible[self.region][f]:
            return -math.inf
        firm = mk.firm_list[f]
        mean = mk.mean_price[m]
        quality = sum(w * q for w, q in zip(self.weights, self.expected_quality(m, f), strict=True))
        price = 0.0
        if mk.on.price_choice:
            price = -prm.price * self.price_sensitivity * (firm.price - mean) / mean
        return prm.quality * quality + prm.attitude * self.attitude[f] + price

    def compute_switching(self) -> None:
        mk, prm = self.model, self.model.prm.switching
        out = []
        for m, r in enumerate(self.rel):
            if r.supplier < 0:
                continue
            firms = mk.industry_firms[m]
            u = [self.utility(m, f) for f in firms]
            own = firms.index(r.supplier)
            rivals = [(-math.inf if j == own else v) for j, v in enumerate(u)]
            best = max(rivals)
            gap = max(0.0, best - u[own]) if math.isfinite(best) and math.isfinite(u[own]) else 0.0
            sat = prm.satisfaction_ref if isnan(r.satisfaction) else r.satisfaction
            z = (
                prm.intercept
                + prm.satisfaction * (prm.satisfaction_ref - sat)
                + prm.trust * (prm.trust_ref - self.trust[r.supplier])
                - (prm.commitment * (r.commitment - 0.5) if mk.on.commitment else 0.0)
                + prm.rival * gap
                - prm.switching_cost
            )
            p = annual_to_step(1.0 / (1.0 + math.exp(-z)), mk.spy)
            if mk.draws.u("churn", m, self.index) < p:
                options = [*rivals, prm.outside_option]
                scores = [
                    v - math.log(-math.log(mk.draws.u("leave_to", m, self.index, j)))
                    for j, v in enumerate(options)
                ]
                pick = max(range(len(scores)), key=lambda j: (scores[j], -j))
                out.append((m, firms[pick] if pick < len(firms) else -1))
        self.pending = out

    def apply_switching(self) -> None:
        mk = self.model
        self.just_left = set()
        for m, new in self.pending:
            mk.churned[self.rel[m].supplier] += 1
            self.end(m)
            if new >= 0:
                self.begin(m, new)
                self.rel[m].switches += 1
                mk.switched_in[new] += 1
            else:
                self.just_left.add(m)

    def end(self, m: int) -> None:
        r = self.rel[m]
        r.supplier, r.satisfaction, r.commitment, r.tenure = -1, NAN, 0.0, 0
        r.failed = False

    def begin(self, m: int, f: int) -> None:
        mk, r = self.model, self.rel[m]
        quality = self.expected_quality(m, f, joining=True)  # what it was chosen on
        r.supplier, r.joined, r.tenure = f, mk.steps, 0
        r.commitment = mk.prm.trust.commitment_initial
        r.satisfaction, r.complaints, r.answered, r.since_recovery, r.failed = (
            NAN,
            0,
            0,
            1 << 30,
            False,
        )
        anchor = mk.prm.expectations.join_anchor
        r.expectation = [e + anchor * (q - e) for e, q in zip(r.expectation, quality, strict=True)]

    # -- 8 acquisition ---------------------------------------------------------------------------

    def compute_acquisition(self) -> None:
        mk, prm = self.model, self.model.prm.acquisition
        out = []
        for m, r in enumerate(self.rel):
            if r.supplier >= 0 or m in self.just_left:
                continue
            firms = mk.industry_firms[m]
            h = []
            for f in firms:
                if not mk.visible[self.region][f]:
                    h.append(0.0)
                    continue
                firm = mk.firm_list[f]
                targeting = prm.targeting if mk.on.targeting else 0.0
                reach = (
                    mk.K * sum(w * c for w, c in zip(self.weights, firm.focus, strict=True))
                ) ** targeting
                satisfied = 0
                for j in self.neighbours:
                    other = mk.customer_list[j].rel[m]
                    if other.supplier == f and other.satisfaction >= prm.satisfied_threshold:
                        satisfied += 1
                q = prm.q if mk.on.imitation else 0.0
                h.append(
                    prm.p * mk.marketing_factor[f] * reach
                    + q * satisfied / max(1, len(self.neighbours))
                )
            total = sum(h)
            if mk.draws.u("adopt", m, self.index) < min(1.0, total / mk.spy):
                weight = list(h)
                if len(firms) > 1:
                    u = [self.utility(m, f) if h[j] > 0 else -math.inf for j, f in enumerate(firms)]
                    top = max(u)
                    weight = [w * math.exp(v - top) for w, v in zip(h, u, strict=True)]
                cum, acc = [], 0.0
                for w in weight:
                    acc += w
                    cum.append(acc)
                draw = mk.draws.u("adopt_firm", m, self.index) * cum[-1]
                pick = min(sum(1 for c in cum if c < draw), len(firms) - 1)
                out.append((m, firms[pick]))
        self.pending = out

    def apply_acquisition(self) -> None:
        for m, f in self.pending:
            self.begin(m, f)
            self.model.acquired[f] += 1


class ReferenceMarket(mesa.Model):
    """The market of a package model (``sim.CustomerMarket``), agent by agent.

    Parameters
    ----------
    package
        A freshly built ``sim.CustomerMarket`` (step 0): its scenario, network and initial state
        are copied.
    draws
        The random source: ``KeyedSource`` (shared with the package) or ``PythonDraws``.
    """

    def __init__(self, package: Any, draws: Any) -> None:
        super().__init__(seed=0)
        self.draws = draws
        self.scenario = package.scenario
        self.prm = package.params
        self.spy = package.steps_per_year
        self.N = package.n_customers
        self.K = len(package.attributes)
        self.attributes = list(package.attributes)
        self.n_customers = self.N
        self.price_index = package.price_index
        self.on = self.prm.mechanisms
        self.taught = package.taught
        self.cross_attrs = [k for k in range(self.K) if package.cross_mask[k]]
        self.failure_attrs = [k for k in range(self.K) if package.failure_mask[k]]
        fs, cs = package.firm_state, package.customer_state
        self.n_regions = package.visible.shape[0]
        self.industry_firms = [list(map(int, f)) for f in package.industry_firms]
        search_dir = self.scenario.source_path.parent if self.scenario.source_path else None
        self.firm_list: list[Firm] = []
        for i, spec in enumerate(self.scenario.firms):
            # the package's strategy as it stands at step 0 (it has decided once already):
            # a copy, so that a strategy that remembers (``responsive``) starts where it is
            strategy = build_strategy(spec.strategy, spec.levers, self.attributes, search_dir)
            strategy.__dict__.update(copy.deepcopy(package.firms[i].strategy.__dict__))
            firm = Firm(self, i, strategy)
            for name in (
                "industry",
                "region",
                "capacity",
                "price",
                "unit_cost",
                "capacity_cost",
                "base_budget",
                "budget_share",
                "cash",
                "entry_step",
                "alive",
                "steps_negative",
                "exit_step",
                "customers",
                "review_sum",
                "review_weight",
                "review_trust",
                "review_trust_weight",
                "promotion_load",
                "feature_share",
                "teaching",
                "teaching_spend",
                "backlog",
                "marketing",
                "retention",
                "revenue",
                "profit",
            ):
                setattr(firm, name, getattr(fs, name)[i].item())
            for name in (
                "capability",
                "promise",
                "focus",
                "allocation",
                "review_attr",
                "retention_mix",
            ):
                setattr(firm, name, np.array(getattr(fs, name)[i], float))
            firm.disclose = bool(fs.disclose[i])
            firm.new_reviews = []
            firm.review_means = lambda fm=firm: (
                [a / fm.review_weight for a in fm.review_attr]
                if fm.review_weight > 1e-9
                else [0.0] * self.K
            )
            firm.reviewed = lambda fm=firm: (
                fm.review_weight / (fm.review_weight + self.prm.reviews.prior_weight)
                if self.on.reviews
                else 0.0
            )
            firm.public_credibility = lambda fm=firm: (
                (self.prm.trust.initial * self.prm.reviews.prior_weight + fm.review_trust)
                / (self.prm.reviews.prior_weight + fm.review_trust_weight)
            )
            firm.review_score = lambda fm=firm: (
                (self.prm.reviews.prior_score * self.prm.reviews.prior_weight + fm.review_sum)
                / (self.prm.reviews.prior_weight + fm.review_weight)
            )
            self.firm_list.append(firm)
        self.customer_list: list[Customer] = []
        adj = package.adjacency
        for n in range(self.N):
            c = Customer(self, n)
            c.region = int(cs.region[n])
            c.weights = [float(v) for v in cs.weights[n]]
            c.base_weights = [float(v) for v in cs.base_weights[n]]
            c.disposition = float(cs.disposition[n])
            c.standard = float(cs.standard[n]) if hasattr(cs, "standard") else 0.0
            c.benchmark = [float(v) for v in cs.benchmark[n]]
            c.attitude = [float(v) for v in cs.attitude[:, n]]
            c.trust = [float(v) for v in cs.trust[:, n]]
            c.price_sensitivity = float(cs.price_sensitivity[n])
            c.neighbours = adj.indices[adj.indptr[n] : adj.indptr[n + 1]].tolist()
            for m in range(len(package.industries)):
                r = Relationship()
                r.supplier = int(cs.supplier[m, n])
                r.expectation = [float(v) for v in cs.expectation[m, n]]
                r.experience = [float(v) for v in cs.experience[m, n]]
                r.satisfaction = float(cs.satisfaction[m, n])
                r.last_satisfaction = float(cs.last_satisfaction[m, n])
                r.warnings = float(cs.warnings[m, n])
                r.commitment = float(cs.commitment[m, n])
                r.tenure = int(cs.tenure[m, n])
                r.joined = int(cs.joined[m, n])
                r.failed = bool(cs.failed[m, n])
                r.since_recovery = int(cs.steps_since_recovery[m, n])
                r.complaints = int(cs.complaints[m, n])
                r.answered = int(cs.answered[m, n])
                r.switches = int(cs.switches[m, n])
                r.heard = [float(v) for v in cs.heard[m, n]]
                c.rel.append(r)
            self.customer_list.append(c)
        self.customers_set = self.agents_by_type[Customer]
        self.tactics = [dict(zip(TACTICS, map(float, row), strict=True)) for row in package.tactics]
        self.spending = [list(map(float, row)) for row in package.spending]
        self.update_visibility()

    # -- firms ------------------------------------------------------------------------------------

    def update_visibility(self) -> None:
        self.visible = [
            [f.active and (f.region < 0 or f.region == r) for f in self.firm_list]
            for r in range(self.n_regions)
        ]

    def decide(self) -> None:
        for firm in self.firm_list:
            if not firm.active:
                continue
            d = Decision(
                promise=firm.capability.copy(),
                allocation=np.array([0.3, 0.3, 0.25, 0.15]),
                focus=firm.focus.copy(),
                price=firm.price,
                retention_mix=np.full(len(TACTICS), 1.0 / len(TACTICS)),
                feature_share=0.5,
                teaching=0.0,
            )
            firm.strategy.decide(firm, d)
            firm.price = float(d.price)
            firm.retention_mix = np.asarray(d.retention_mix, float) / np.sum(d.retention_mix)
            firm.feature_share = float(d.feature_share)
            firm.teaching = float(d.teaching)
            focus = np.full(self.K, 1.0 / self.K) if d.focus is None else np.asarray(d.focus, float)
            alloc = np.asarray(d.allocation, float)
            firm.promise = np.clip(np.asarray(d.promise, float), 0.0, 1.0)
            firm.allocation = alloc / alloc.sum()
            firm.focus = focus / focus.sum()
            firm.disclose = bool(d.disclose)
        self.set_spending()

    def set_spending(self) -> None:
        for i, f in enumerate(self.firm_list):
            budget = f.base_budget + f.budget_share * f.price * f.customers / self.N
            alloc = f.allocation / max(f.allocation.sum(), 1e-12)
            spend = [budget * a * (1.0 if f.active else 0.0) for a in alloc]
            self.spending[i] = spend
            f.teaching_spend = spend[2] * f.teaching
            f.marketing = spend[2] - f.teaching_spend
            share = max(f.customers / self.N, 1e-12)
            f.retention = spend[3] / share if f.customers > 0 else 0.0
            self.tactics[i] = self.tactic_levels(f)

    def tactic_levels(self, f: Firm) -> dict[str, float]:
        """The levels of the firm's four retention tactics (docs/MODEL.md, retention)."""
        prm, on = self.prm.retention, self.on
        mix = f.retention_mix / max(float(np.sum(f.retention_mix)), 1e-12)
        reference = {
            "extras": prm.extras_reference,
            "promotions": prm.promotions_reference,
            "personal": prm.personal_reference,
            "aftercare": prm.aftercare_reference,
        }
        levels = {
            t: clip(f.retention * mix[i] / reference[t], 0.0, 1.0) for i, t in enumerate(TACTICS)
        }
        staff = f.capacity * self.N
        if f.customers > 0:
            levels["personal"] *= min(1.0, staff / f.customers)
        levels["promotions"] /= 1.0 + f.promotion_load / prm.promotion_wear
        for t in TACTICS:
            if not getattr(on, f"retention_{t}"):
                levels[t] = 0.0
        return levels

    def firm_step_values(self) -> None:
        """Load, failure chance, answered share, prices: what the customers' phases read."""
        prm, n = self.prm, self.N
        self.load, self.fail_step, self.answer = [], [], []
        for f in self.firm_list:
            cap = f.capacity * n
            if f.customers == 0:
                util = 0.0
            elif cap > 0:
                util = f.customers / max(cap, 1e-12)
            else:
                util = math.inf
            load = (1.0 / util if util > 1 else 1.0) ** prm.delivery.load_exponent
            self.load.append(load if self.on.overload else 1.0)
            overload = prm.delivery.overload_failure_rate if self.on.overload else 0.0
            base = prm.delivery.base_failure_rate * (
                1.0 + prm.economics.backlog_failure * f.backlog
            )
            week = clip(base + overload * max(0.0, util - 1.0), 0.0, 1.0)
            self.fail_step.append(to_step(week if math.isfinite(week) else 1.0, self.spy))
            spare = clip(1.0 - util, 0.0, 1.0)
            c = prm.complaints
            personal = self.prm.retention.answer_from_personal * self.tactics[f.index]["personal"]
            self.answer.append(
                clip(
                    c.answer_base + personal + c.answer_from_spare_capacity * spare,
                    0.0,
                    1.0,
                )
            )
        self.ref_price = []
        for r in range(self.n_regions):
            row = []
            for firms in self.industry_firms:
                seen = [self.firm_list[f].price for f in firms if self.visible[r][f]]
                row.append(sum(seen) / len(seen) if seen else NAN)
            self.ref_price.append(row)

    # -- the step -----------------------------------------------------------------------------

    def step(self) -> None:
        self.draws.step = self.steps
        nf = len(self.firm_list)
        self.complaints, self.answered_count = [0] * nf, [0] * nf
        self.churned, self.switched_in, self.acquired = [0] * nf, [0] * nf, [0] * nf
        self.warnings_count = [0] * nf
        self.update_visibility()
        self.decide()
        self.firm_step_values()
        agents = self.customers_set
        for phase in ("delivery", "expectations", "satisfaction", "trust"):
            agents.do(f"compute_{phase}")
            agents.do(f"apply_{phase}")
        self.teaching_level = [
            clip(f.teaching_spend / self.prm.teaching.reference, 0.0, 1.0)
            if self.on.teaching
            else 0.0
            for f in self.firm_list
        ]
        self.word_of_mouth()
        self.teach()
        self.mean_price = []
        for firms in self.industry_firms:
            prices = [
                self.firm_list[f].price
                for f in firms
                if any(self.visible[r][f] for r in range(self.n_regions))
            ]
            self.mean_price.append(sum(prices) / len(prices) if prices else 1.0)
        if self.prm.switching.enabled:
            agents.do("compute_switching")
            agents.do("apply_switching")
        else:
            for c in self.customer_list:
                c.just_left = set()
        if self.prm.acquisition.enabled:
            self.marketing_factor = [
                (f.marketing / self.prm.economics.marketing_reference)
                ** self.prm.acquisition.marketing_elasticity
                for f in self.firm_list
            ]
            agents.do("compute_acquisition")
            agents.do("apply_acquisition")
        self.count_customers()
        self.economics()
        self.count_customers()

    def teach(self) -> None:
        """Firms teach what to value: weights move toward their focus (docs/MODEL.md 7.6b)."""
        prm = self.prm.teaching
        if not any(v > 0 for v in self.teaching_level) and not self.taught:
            return
        self.taught = True
        rate, forget = to_step(prm.rate, self.spy), to_step(prm.forget, self.spy)
        for c in self.customer_list:
            w = list(c.weights)
            suppliers = {r.supplier for r in c.rel}
            for f, level in enumerate(self.teaching_level):
                if level <= 0 or not self.visible[c.region][f]:
                    continue
                reach = 1.0 if f in suppliers else prm.prospect_share
                focus = self.firm_list[f].focus
                w = [v + rate * reach * level * (q - v) for v, q in zip(w, focus, strict=True)]
            w = [v + forget * (b - v) for v, b in zip(w, c.base_weights, strict=True)]
            w = [
                clip(v, max(b - prm.max_shift, 0.0), min(b + prm.max_shift, 1.0))
                for v, b in zip(w, c.base_weights, strict=True)
            ]
            total = sum(w)
            c.weights = [v / total for v in w] if total > 0 else w

    def word_of_mouth(self) -> None:
        prm = self.prm.word_of_mouth
        agents = self.customers_set
        if self.on.word_of_mouth:
            agents.do("compute_talk")
            inbox: list[list[Any]] = [[] for _ in range(self.N)]
            for c in self.customer_list:
                for message in c.pending:
                    for position, j in enumerate(c.neighbours):
                        if prm.reach >= 1.0 or (
                            self.draws.reach(message[0], c.index, position) < prm.reach
                        ):
                            inbox[j].append(message)
            for c in self.customer_list:
                c.listen(inbox[c.index])
        keep = 1.0 - to_step(self.prm.reviews.memory, self.spy)
        for f in self.firm_list:
            f.review_sum *= keep
            f.review_weight *= keep
            f.review_attr = f.review_attr * keep
            f.review_trust *= keep
            f.review_trust_weight *= keep
            f.new_reviews = []
        if self.on.reviews:
            agents.do("post_reviews")
        agents.do("post_notices")
        for f in self.firm_list:
            for s, x, t, weight in f.new_reviews:
                f.review_sum += weight * s
                f.review_weight += weight
                f.review_attr = f.review_attr + weight * np.array(x)
                if t is not None:
                    f.review_trust += t
                    f.review_trust_weight += 1

    def count_customers(self) -> None:
        counts = [0] * len(self.firm_list)
        for c in self.customer_list:
            for r in c.rel:
                if r.supplier >= 0:
                    counts[r.supplier] += 1
        for f, n in zip(self.firm_list, counts, strict=True):
            f.customers = n

    def economics(self) -> None:
        eco, dt = self.prm.economics, 1.0 / self.spy
        for i, f in enumerate(self.firm_list):
            active = f.active
            share = f.customers / self.N
            spend = self.spending[i]
            revenue = f.price * share * active
            # economies of scale: the unit cost at the firm's share of the market
            ref = eco.scale_reference
            unit = f.unit_cost * (max(share, ref * eco.scale_floor) / ref) ** -eco.scale_elasticity
            costs = (unit * share + f.capacity_cost * f.capacity) * active + sum(spend)
            if self.on.disclosure_cost:
                costs += self.prm.disclosure.cost * self.warnings_count[i] / self.N / dt
            f.revenue, f.profit = revenue, revenue - costs
            f.cash += f.profit * dt
            # customers remember the level of promotions (before they wear)
            rprm = self.prm.retention
            mix = f.retention_mix / max(float(np.sum(f.retention_mix)), 1e-12)
            level = clip(f.retention * mix[1] / rprm.promotions_reference, 0.0, 1.0)
            f.promotion_load += to_step(1.0 / rprm.promotion_memory_weeks, self.spy) * (
                level - f.promotion_load
            )
            q = f.capability
            focus = f.focus if self.on.focus_investment else np.full(self.K, 1.0 / self.K)
            features = spend[0] * f.feature_share  # new features, on the focus attributes
            fixes = spend[0] - features  # fixes: reliability, on the failure attributes
            fixing = np.array([1.0 if k in self.failure_attrs else 0.0 for k in range(self.K)])
            fixing /= max(1.0, fixing.sum())
            growth = (features * focus + fixes * fixing) / eco.capability_cost * (1.0 - q)
            decay = eco.capability_decay * np.maximum(0.0, q - eco.capability_floor)
            f.capability = np.clip(q + dt * (growth - decay) * active, 0.0, 1.0)
            if self.on.backlog:
                change = features / eco.backlog_cost - fixes / eco.fix_cost * f.backlog
                f.backlog = max(0.0, f.backlog + dt * change * active)
            f.capacity = max(
                0.0,
                f.capacity
                + dt
                * active
                * (spend[1] / eco.capacity_build_cost - eco.capacity_decay * f.capacity),
            )
        if not eco.exit_enabled:
            return
        limit = eco.exit_after_weeks * self.spy / 52.0
        for f in self.firm_list:
            active = f.active
            f.steps_negative = f.steps_negative + 1 if active and f.cash < 0 else 0
            if active and f.steps_negative >= limit:
                f.alive, f.exit_step = False, self.steps
                m = f.industry
                for c in self.customer_list:
                    if c.rel[m].supplier == f.index:
                        self.churned[f.index] += 1
                        c.end(m)

    # -- comparison ------------------------------------------------------------------------------

    def customer_arrays(self) -> dict[str, np.ndarray]:
        """The customers' state shaped like the package's ``CustomerState`` arrays."""
        cl = self.customer_list
        per_rel = {
            "supplier": lambda r: r.supplier,
            "satisfaction": lambda r: r.satisfaction,
            "last_satisfaction": lambda r: r.last_satisfaction,
            "warnings": lambda r: r.warnings,
            "commitment": lambda r: r.commitment,
            "tenure": lambda r: r.tenure,
            "joined": lambda r: r.joined,
            "failed": lambda r: r.failed,
            "steps_since_recovery": lambda r: r.since_recovery,
            "complaints": lambda r: r.complaints,
            "answered": lambda r: r.answered,
            "switches": lambda r: r.switches,
        }
        out = {
            name: np.array([[get(c.rel[m]) for c in cl] for m in range(len(cl[0].rel))])
            for name, get in per_rel.items()
        }
        for name in ("expectation", "experience", "heard"):
            out[name] = np.array(
                [[getattr(c.rel[m], name) for c in cl] for m in range(len(cl[0].rel))], float
            )
        out["benchmark"] = np.array([c.benchmark for c in cl], float)
        out["weights"] = np.array([c.weights for c in cl], float)
        out["attitude"] = np.array([c.attitude for c in cl], float).T
        out["trust"] = np.array([c.trust for c in cl], float).T
        return out

    def firm_arrays(self) -> dict[str, np.ndarray]:
        """The firms' state shaped like the package's ``FirmState`` arrays."""
        names = (
            "capability",
            "promise",
            "price",
            "focus",
            "allocation",
            "capacity",
            "cash",
            "alive",
            "steps_negative",
            "exit_step",
            "customers",
            "review_sum",
            "review_weight",
            "review_attr",
            "review_trust",
            "review_trust_weight",
            "promotion_load",
            "backlog",
            "marketing",
            "retention",
            "revenue",
            "profit",
        )
        return {
            name: np.array([np.asarray(getattr(f, name)) for f in self.firm_list]) for name in names
        }
