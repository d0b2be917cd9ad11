"""Phase 3, expectations: what customers expect from their supplier, and the benchmark.

The expectation the customer judges this step's experience against (Oliver 1980: the adaptation
level) is kept for the satisfaction phase. A disclosed failure lowers it on the attributes the
failure hits by ``disclosure_adjustment`` of the coming shortfall: the customer was warned, so
this experience is judged against a lowered bar; the lasting expectation is not lowered by the
warning itself. Then E moves toward a target, faster up than down::

    B[k]   = max((1 - benchmark_decay) * B[k], max over industries of this step's X[k])
    target = (a_p P[f] + a_x X + a_b B * cross + a_w heard + a_r np.take(reviews, f, axis=0))
             / (a_p + a_x + a_b * cross + a_w * has_heard + a_r)
    E     += (rate_up if target > E else rate_down) * (target - E)

``cross`` is 1 on the cross-industry attributes (by default speed and service: the overnight
delivery sets the bar for the bank) and 0 on the others; ``heard`` is what friends said about the
industry's firms (word of mouth phase), ``reviews[f]`` the mean experience in the firm's public
reviews. Rates are per week. Customers without a supplier keep their expectation until they join
one, when it moves ``join_anchor`` of the way to the new firm's promise.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim import arrays
from sim.arrays import firm_table, put_where
from sim.rules.fused import Block, run_in_blocks
from sim.state import StepScratch
from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.model import CustomerMarket
    from sim.params import Params


def promise_reliance(params: Params) -> float:
    """How far customers go by promises rather than their own experience, 0..1.

    ``weight_promise / (weight_promise + weight_experience)``: Kopalle & Lehmann's (2006)
    reliance on advertising.
    """
    prm = params.expectations
    total = prm.weight_promise + prm.weight_experience
    return prm.weight_promise / total if total > 0 else 0.0


def promise_hold(params: Params) -> float:
    """How strongly customers hold a firm to its promise: ``min(1, 2 * reliance)``.

    A customer who relies on promises as much as on experience (reliance 0.5) holds the firm to
    the full gap ``P - X``; one who barely listens to promises, to a fraction of it. It scales the
    shortfall that costs trust and satisfaction and how far a joining customer anchors on the
    promise (see docs/MODEL.md, design decisions).
    """
    return min(1.0, 2.0 * promise_reliance(params))


def review_means(model: CustomerMarket) -> np.ndarray:
    """``[F, K]`` mean experience reported in each firm's reviews (its promise if none yet)."""
    fs = model.firm_state
    w = fs.review_weight[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 1e-9, fs.review_attr / np.maximum(w, 1e-12), fs.promise)


def update_benchmark(model: CustomerMarket, blk: Block) -> np.ndarray:
    """Decay the benchmark of the customers of a block, then raise it to the best experience of
    this step in any industry where they were served; returns the updated block."""
    cs, prm, blocks = model.customer_state, model.params.expectations, model.workspace.blocks
    decay = weekly_rate_to_step(prm.benchmark_decay, model.steps_per_year)
    bench = cs.benchmark[blk.rows]
    bench *= bench.dtype.type(1.0 - decay)
    best = blocks("best", bench.shape[1], bench.dtype)[: blk.size]
    for m in range(len(model.industries)):
        np.maximum(bench, cs.experience[m, blk.rows], out=best)
        put_where(bench, best, blk.served[m])
    return bench


def prepare(model: CustomerMarket, scratch: StepScratch) -> SimpleNamespace:
    """Firm-level values and constants of the phase."""
    cs, fs, prm = model.customer_state, model.firm_state, model.params.expectations
    ft = cs.expectation.dtype.type
    # per-attribute constants as whole blocks: a [rows, K] op with a [K] operand is slow
    size = min(arrays.CHUNK, model.n_customers)
    wb = np.tile((prm.weight_benchmark * model.cross_mask).astype(ft), (size, 1))
    return SimpleNamespace(
        up=ft(weekly_rate_to_step(prm.rate_up, model.steps_per_year)),
        down=ft(weekly_rate_to_step(prm.rate_down, model.steps_per_year)),
        adjust=ft(prm.disclosure_adjustment),
        a_x=ft(prm.weight_experience),
        a_w=ft(prm.weight_word_of_mouth),
        wb=wb,
        den0=(prm.weight_promise + prm.weight_experience + prm.weight_reviews + wb).astype(ft),
        firm_part=firm_table(
            prm.weight_promise * fs.promise + prm.weight_reviews * review_means(model), 0.0, ft
        ),
    )


def block(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace, blk: Block) -> None:
    """Benchmark, judged expectation and the move of E, for the customers of a block."""
    cs, ws = model.customer_state, model.workspace
    blocks, k, c, rows = ws.blocks, len(model.attributes), blk.size, blk.rows
    ft = cs.expectation.dtype.type
    bench = update_benchmark(model, blk)
    num, tmp, den = (blocks(name, k, ft)[:c] for name in ("num", "tmp", "den"))
    standard = blocks("standard", k, ft)[:c]
    standard[...] = cs.standard[rows, None]  # once per block: a [rows, 1] operand is slow
    for m in range(len(model.industries)):
        key = blk.key[m]
        e = cs.expectation[m, rows]
        x = cs.experience[m, rows]
        judged = ws.expectation_used[m, rows]
        judged[...] = e
        warned = blk.warned(m)
        if len(warned) and ctx.adjust > 0:
            ew, xw = e[warned], x[warned]
            hit = model.failure_mask & (xw < ew)
            judged[warned] = np.where(hit, ew - ctx.adjust * (ew - xw), ew)
        heard = cs.heard[m, rows]
        np.take(ctx.firm_part, key, axis=0, out=num, mode="wrap")  # a_p P[f] + a_r reviews[f]
        np.multiply(x, ctx.a_x, out=tmp)
        num += tmp
        np.multiply(ctx.wb[:c], bench, out=tmp)
        num += tmp
        np.fmax(heard, ft(0.0), out=tmp)  # heard, 0 where nothing was heard (NaN)
        tmp *= ctx.a_w
        num += tmp
        np.multiply(heard, ft(0.0), out=den)  # 0, NaN where nothing was heard
        den += ctx.a_w
        np.fmax(den, ft(0.0), out=den)  # a_w where something was heard, else 0
        den += ctx.den0[:c]
        np.maximum(den, ft(1e-12), out=den)
        num /= den  # the target
        num += standard  # the customer's personal standard
        num -= e  # the gap
        np.maximum(num, ft(0.0), out=tmp)  # rate_up on a rise, rate_down on a fall
        tmp *= ctx.up
        np.minimum(num, ft(0.0), out=den)
        den *= ctx.down
        tmp += den
        tmp += e
        put_where(e, tmp, blk.served[m])


def finish(model: CustomerMarket, scratch: StepScratch, ctx: SimpleNamespace) -> None:
    """Nothing to hand on: the judged expectations are in the workspace."""


def apply(model: CustomerMarket, scratch: StepScratch) -> None:
    """Disclosure adjustment, benchmark update and the move of E toward its target."""
    run_in_blocks(model, scratch, [sys.modules[__name__]])
