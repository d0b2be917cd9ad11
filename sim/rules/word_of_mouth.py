"""Phase 6, word of mouth over the network and public reviews.

Talking is U-shaped in satisfaction and heavier on the dissatisfied side (Anderson 1998), with
``n0`` the neutral point::

    p_talk = base_rate + positive_amplitude * ((S - n0) / (10 - n0)) ** 2     if S >= n0
    p_talk = base_rate + negative_amplitude * ((n0 - S) / n0) ** 2            if S <  n0
    valence v = (S - n0) / (10 - n0)  or  (S - n0) / n0,   in -1..1

A message about the speaker's supplier reaches each neighbour with probability ``reach``
(weak ties count as much as strong ones: Goldenberg, Libai & Muller 2001). A listener who hears
``c`` messages about firm f with mean valence ``v_bar`` moves its attitude
``A += (1 - (1 - influence) ** c) * (v_bar - A)``; attitudes fade by ``attitude_decay`` a week.
What the speaker experienced becomes what the listener has *heard* about the industry (it enters
the expectation target), and an attribute the speaker praises (X >= ``praise_threshold`` in a
positive message) lifts the listener's benchmark on it to ``benchmark_from_praise * X`` when the
attribute is a cross-industry one (the benchmark only enters expectations on those).

Reviews: a served customer posts with probability ``rate * (1 + extremity * |S - 5| / 5)``.
A firm's review score is a decayed mean of posted scores with a prior of ``prior_score`` worth two
reviews; the mean experience in its reviews feeds expectations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import put_rows, take_rows
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket

PRIOR_REVIEWS = 2.0


def talk_probability(satisfaction: np.ndarray, model: CustomerMarket) -> np.ndarray:
    """Chance per step that a customer with running satisfaction S talks about its supplier."""
    prm = model.params.word_of_mouth
    n0 = prm.neutral_point
    up = np.clip((satisfaction - n0) / max(10.0 - n0, 1e-9), 0.0, 1.0)
    down = np.clip((n0 - satisfaction) / max(n0, 1e-9), 0.0, 1.0)
    week = prm.base_rate + prm.positive_amplitude * up**2 + prm.negative_amplitude * down**2
    return weekly_rate_to_step(np.clip(week, 0.0, 1.0), model.steps_per_year)


def valence(satisfaction: np.ndarray, neutral_point: float) -> np.ndarray:
    """Tone of a message, -1 (furious) .. 1 (delighted), 0 at the neutral point."""
    n0 = neutral_point
    return np.where(satisfaction >= n0, (satisfaction - n0) / max(10.0 - n0, 1e-9),
                    (satisfaction - n0) / max(n0, 1e-9))


def review_score(model: CustomerMarket) -> np.ndarray:
    """``[F]`` public review score of each firm on 0..10."""
    fs, prior = model.firm_state, model.params.reviews.prior_score
    return (prior * PRIOR_REVIEWS + fs.review_sum) / (PRIOR_REVIEWS + fs.review_weight)


def _spread(model: CustomerMarket, scratch: StepScratch) -> None:
    cs, fs, prm = model.customer_state, model.firm_state, model.params.word_of_mouth
    rng, n, n_firms = model.rng, model.n_customers, fs.n
    senders, firms, industries, tones = [], [], [], []
    for m, served in enumerate(scratch.served):
        sat = cs.satisfaction[m][served]
        talk = rng.random(len(served)) < talk_probability(sat, model)
        talkers = served[talk]
        senders.append(talkers)
        firms.append(scratch.firm[m][talk])
        industries.append(np.full(len(talkers), m, np.int32))
        tones.append(valence(sat[talk], prm.neutral_point))
    sender = np.concatenate(senders)
    firm = np.concatenate(firms)
    industry = np.concatenate(industries)
    tone = np.concatenate(tones)
    positive = tone > 0
    scratch.wom_positive = np.bincount(firm, weights=positive, minlength=n_firms)
    scratch.wom_negative = np.bincount(firm, weights=tone < 0, minlength=n_firms)

    if model.adjacency_is_complete:
        msg, recv = model.adjacency.expand(sender, prm.reach, rng,
                                           max_receivers=prm.complete_graph_max_receivers)
    else:
        msg, recv = model.adjacency.expand(sender, prm.reach, rng)
    scratch.wom_reach = np.bincount(firm[msg], minlength=n_firms).astype(float)

    decay = weekly_rate_to_step(prm.attitude_decay, model.steps_per_year)
    cs.attitude *= 1.0 - decay
    if len(recv) == 0:
        return
    key = firm[msg].astype(np.int64) * n + recv
    count = np.bincount(key, minlength=n * n_firms)
    hit = np.flatnonzero(count)
    tone_sum = np.bincount(key, weights=tone[msg], minlength=n * n_firms)[hit]
    flat = cs.attitude.reshape(-1)
    c = count[hit]
    flat[hit] += (1.0 - (1.0 - prm.influence) ** c) * (tone_sum / c - flat[hit])

    heard_rate = model.params.expectations.heard_rate
    heard_rate = weekly_rate_to_step(heard_rate, model.steps_per_year)
    praise_share = model.params.expectations.benchmark_from_praise
    cross = np.flatnonzero(model.cross_mask)
    for m in range(len(model.industries)):
        sel = industry[msg] == m
        if not sel.any():
            continue
        r = recv[sel]
        said = cs.experience[m, sender[msg[sel]]]  # [messages, K]
        cnt = np.bincount(r, minlength=n)
        who = np.flatnonzero(cnt)
        mean = np.stack([np.bincount(r, weights=said[:, k], minlength=n)[who]
                         for k in range(said.shape[1])], axis=1) / cnt[who, None]
        old = take_rows(cs.heard[m], who)
        put_rows(cs.heard[m], who, np.where(np.isnan(old), mean, old + heard_rate * (mean - old)))
        if praise_share > 0 and len(cross):
            pos = positive[msg[sel]]
            for k in cross:
                praised = pos & (said[:, k] >= prm.praise_threshold)
                if praised.any():
                    np.maximum.at(cs.benchmark[:, k], r[praised], praise_share * said[praised, k])


def _review(model: CustomerMarket, scratch: StepScratch) -> None:
    cs, fs, prm = model.customer_state, model.firm_state, model.params.reviews
    rng, n_firms = model.rng, fs.n
    keep = 1.0 - weekly_rate_to_step(prm.memory, model.steps_per_year)
    fs.review_sum *= keep
    fs.review_weight *= keep
    fs.review_attr *= keep
    for m, served in enumerate(scratch.served):
        sat = cs.satisfaction[m][served]
        week = np.clip(prm.rate * (1.0 + prm.extremity * np.abs(sat - 5.0) / 5.0), 0.0, 1.0)
        post = rng.random(len(served)) < weekly_rate_to_step(week, model.steps_per_year)
        f = scratch.firm[m][post]
        fs.review_sum += np.bincount(f, weights=scratch.step_satisfaction[m][post],
                                     minlength=n_firms)
        fs.review_weight += np.bincount(f, minlength=n_firms)
        x = take_rows(cs.experience[m], served[post])
        for k in range(x.shape[1]):
            fs.review_attr[:, k] += np.bincount(f, weights=x[:, k], minlength=n_firms)


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Spread this step's word of mouth over the network, then post reviews."""
    _spread(model, scratch)
    _review(model, scratch)
