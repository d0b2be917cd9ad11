"""Phase 5, trust, complaints and service recovery, commitment.

Trust (kept and broken promises; Gneezy & Epley 2014: breaking is punished, exceeding earns
little)::

    gap       = h * (P[k] - X[k]),   h = min(1, 2 * reliance)      (the promise as held)
    kept      = sum_k w[k] * [gap[k] <= tolerance]
    shortfall = sum_k w[k] * max(0, gap[k] - tolerance)
    T += gain * kept * (1 - T)  -  min(1, loss * shortfall * (disclosure_factor if warned
                                                                else 1)) * T

``reliance = weight_promise / (weight_promise + weight_experience)`` (Kopalle & Lehmann 2006):
customers who barely go by promises barely hold a firm to them.
Both ``gain`` and the loss are per week and converted to the step length, so a persistent
shortfall costs the same trust per year at any ``steps_per_year``.

Complaints and recovery: a customer whose experience this step scored below ``threshold``
complains with probability ``probability``. The firm answers a share
``answer_base + answer_from_retention * retention(f) + answer_from_spare_capacity * spare(f)``
(clipped to 0..1). An answered complaint gives back ``recovery`` of the satisfaction this step took
away, or only ``repeat_recovery`` within ``recovery_memory_weeks`` of the last recovery (Maxham &
Netemeyer 2002: forgiven once, not twice); an ignored one costs ``unanswered_trust_cost`` of
trust. The share of a customer's complaints that were answered is its control mutuality.

Commitment moves slowly toward ``0.5 * S / 10 + 0.5 * T + commitment_from_retention *
retention(f)`` (Palmatier et al. 2006: relationship investment pays through relationship quality).
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import firm_table, put_where, wsum
from sim.rules.expectations import promise_hold
from sim.rules.fused import Block, run_in_blocks
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket


def answer_share(model: CustomerMarket, utilisation: np.ndarray) -> np.ndarray:
    """``[F]`` share of complaints each firm answers."""
    prm = model.params.complaints
    spare = np.clip(1.0 - utilisation, 0.0, 1.0)
    share = (
        prm.answer_base
        + prm.answer_from_retention * model.retention_level
        + prm.answer_from_spare_capacity * spare
    )
    return np.clip(share, 0.0, 1.0)


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values and constants of the phase."""
    cs, fs, prm, cprm = (
        model.customer_state,
        model.firm_state,
        model.params.trust,
        model.params.complaints,
    )
    spy = model.steps_per_year
    ft = cs.trust.dtype.type
    hold = max(promise_hold(model.params), 1e-9)
    return SimpleNamespace(
        gain=ft(weekly_rate_to_step(prm.gain, spy)),
        commit_rate=ft(weekly_rate_to_step(prm.commitment_rate, spy)),
        complain_p=weekly_rate_to_step(cprm.probability, spy),
        memory_steps=cprm.recovery_memory_weeks * spy / 52.0,
        answer=firm_table(answer_share(model, scratch.utilisation), 0.0),
        # the promise as held: 2 rho (P - X) > tolerance  <=>  X < P - tolerance / (2 rho)
        floor=firm_table(fs.promise - prm.tolerance / hold, 0.0, ft),
        commit_bonus=firm_table(prm.commitment_from_retention * model.retention_level, 0.0, ft),
        loss=ft(prm.loss * hold),
        disclosure_factor=ft(prm.disclosure_factor),
        kept_share=ft(1.0 - cprm.unanswered_trust_cost),
        threshold=ft(cprm.threshold),
        complaints=np.zeros(fs.n),
        answered=np.zeros(fs.n),
    )


def block(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace, blk: Block) -> None:
    """Trust, complaints, recovery, commitment and tenure of the customers of a block."""
    cs, ws, cprm, draws = (
        model.customer_state,
        model.workspace,
        model.params.complaints,
        model.draws,
    )
    blocks, k, c, rows = ws.blocks, len(model.attributes), blk.size, blk.rows
    n_firms = model.firm_state.n
    ft = cs.trust.dtype.type
    spy = model.steps_per_year
    product = blocks("product", k, ft)[:c]
    w = cs.weights[rows]
    for m in range(len(model.industries)):
        sup, key, served = blk.supplier[m], blk.key[m], blk.served[m]
        x = cs.experience[m, rows]
        lo = np.take(ctx.floor, key, axis=0, out=blocks("floor", k, ft)[:c], mode="wrap")
        met = np.greater_equal(x, lo, out=blocks("met", k, bool)[:c])  # P - tolerance met
        kept = wsum(w, met, out=blocks("kept", 0, ft)[:c], product=product)
        lo -= x
        np.maximum(lo, ft(0.0), out=lo)
        cut = wsum(w, lo, out=blocks("cut", 0, ft)[:c], product=product)  # the shortfall
        cut *= ctx.loss
        cut[blk.warned(m)] *= ctx.disclosure_factor
        np.clip(cut, 0.0, 1.0, out=cut)
        if spy != 52:
            cut[...] = weekly_rate_to_step(cut, spy)
        t_old = cs.trust[m, rows]
        t = np.subtract(ft(1.0), t_old, out=blocks("t", 0, ft)[:c])
        t *= kept
        t *= ctx.gain
        cut *= t_old
        t -= cut
        t += t_old  # T + gain * kept * (1 - T) - cut * T

        s = cs.last_satisfaction[m, rows]
        unhappy = np.flatnonzero(served & (s < ctx.threshold))
        complains = unhappy[draws.uniform("complain", m, rows_of(rows, unhappy)) < ctx.complain_p]
        f = sup[complains]
        yes = draws.uniform("answer", m, rows_of(rows, complains)) < ctx.answer[f]
        answered, ignored = complains[yes], complains[~yes]
        t[ignored] *= ctx.kept_share
        np.clip(t, 0.0, 1.0, out=t)
        put_where(t_old, t, served)

        since = cs.steps_since_recovery[m, rows]
        if len(answered):
            before = ws.satisfaction_before[m, rows][answered]
            sat = cs.satisfaction[m, rows]
            now = sat[answered]
            lost = np.where(np.isnan(before), 0.0, np.maximum(0.0, before - now))
            share = np.where(
                since[answered] < ctx.memory_steps, cprm.repeat_recovery, cprm.recovery
            )
            sat[answered] = now + share * lost
        np.add(since, served, out=since)
        np.minimum(since, 1 << 30, out=since)
        since[answered] = 0
        cs.complaints[m, rows][complains] += 1
        cs.answered[m, rows][answered] += 1
        ctx.complaints += np.bincount(f, minlength=n_firms)
        ctx.answered += np.bincount(f[yes], minlength=n_firms)

        c_old = cs.commitment[m, rows]
        target = np.multiply(
            cs.satisfaction[m, rows], ft(0.05), out=blocks("target", 0, ft)[:c]
        )  # 0.5 * S / 10
        t *= ft(0.5)
        target += t
        target += np.take(ctx.commit_bonus, key, mode="wrap")
        np.clip(target, 0.0, 1.0, out=target)
        target -= c_old
        target *= ctx.commit_rate
        target += c_old
        put_where(c_old, target, served)
        tenure = cs.tenure[m, rows]
        np.add(tenure, served, out=tenure)


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Hand the phase's tallies to the scratch."""
    scratch.complaints, scratch.answered = ctx.complaints, ctx.answered


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Update trust, handle complaints and recoveries, update commitment and tenure."""
    run_in_blocks(model, scratch, [sys.modules[__name__]])


def rows_of(block: slice, positions: np.ndarray) -> np.ndarray:
    """Customer indices of ``positions`` within a block."""
    return block.start + positions
