"""Phase 1b, keeping customers: the four retention tactics, their levels and what they do.

A firm's retention budget per own customer ``R(f)`` (sim.rules.economics) is split over four
tactics by its strategy's ``retention_mix`` (Berry 1995: financial, social and structural ties;
Verhoef 2003; Bolton, Kannan & Bramlett 2000; Palmatier et al. 2006). Each tactic's level is its
spending against what a full programme costs, 0..1::

    L[t]          = clip(R(f) * mix[t] / reference[t], 0, 1)
    L[personal]  *= min(1, capacity(f) * N / customers(f))       (contact needs staff)
    L[promotions] /= 1 + load(f) / promotion_wear                (promotions wear out)
    load(f)      += to_step(1 / promotion_memory_weeks) * (L[promotions] - load(f))

and each has its own mechanism, stated in the rule it changes:

- **extras** (product extras, more delivered value): ``extras_bonus * L`` points in every
  experience (sim.rules.satisfaction);
- **promotions** (reinforcing promotions aimed at current customers: cheap, they wear out when
  overused): ``commitment_from_promotions * L`` on target commitment (sim.rules.trust);
- **personal** (a sales force or counter staff: a personal tie, costly and limited by staff):
  ``commitment_from_personal * L`` on target commitment, ``answer_from_personal * L`` on the
  share of complaints answered, and ``capture_from_personal * L`` more dissatisfied customers
  voicing their complaint instead of leaving silently (sim.rules.trust);
- **aftercare** (post-purchase communication: problems heard and put right early): a chance
  ``aftercare_reach * L`` that the problem of a dissatisfied customer who did not complain is
  heard anyway, and answered like a complaint (sim.rules.trust).

Switches (``[mechanisms]``): ``retention_extras``, ``retention_promotions``,
``retention_personal``, ``retention_aftercare`` each remove their tactic's effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.timebase import weekly_rate_to_step

if TYPE_CHECKING:
    from sim.batch import MarketBatch
    from sim.params.stacked import StackedParams

TACTICS = ("extras", "promotions", "personal", "aftercare")
"""The retention tactics, in the order of ``retention_mix`` and of ``model.tactics``."""

DEFAULT_MIX = (0.25, 0.25, 0.25, 0.25)


def tactic_levels(batch: MarketBatch) -> np.ndarray:
    """``[B, F, 4]`` each firm's level of each tactic this step, 0..1, with the staff limit on
    personal contact and the wear of promotions (switched-off tactics are 0)."""
    fs, P = batch.firm_state, batch.params
    prm = P.retention
    reference, switches = _tactic_parameters(P)  # [B, 1, 4]
    mix = fs.retention_mix / np.maximum(fs.retention_mix.sum(axis=2, keepdims=True), 1e-12)
    levels = np.clip(fs.retention[..., None] * mix / reference, 0.0, 1.0)
    staff = fs.capacity * batch.size
    with np.errstate(divide="ignore", invalid="ignore"):
        covered = np.where(fs.customers > 0, np.minimum(1.0, staff / fs.customers), 1.0)
    levels[..., 2] *= covered
    levels[..., 1] /= 1.0 + fs.promotion_load / prm.promotion_wear
    return levels * switches


def _tactic_parameters(P: StackedParams) -> tuple[np.ndarray, np.ndarray]:
    """``(reference, switches)`` ``[B, 1, 4]`` of the tactics, kept on ``P`` (they change
    only with the parameters; two stacks a step cost 15 us of the step's firm work)."""
    kept = getattr(P, "_tactic_parameters", None)
    if kept is None:
        prm, on = P.retention, P.mechanisms
        reference = np.stack([getattr(prm, f"{t}_reference") for t in TACTICS], axis=-1)
        switches = np.stack([getattr(on, f"retention_{t}") for t in TACTICS], axis=-1)
        kept = P._tactic_parameters = (reference, switches)
    return kept


def remember_promotions(batch: MarketBatch) -> None:
    """Move each firm's remembered promotion level toward this step's (before wear)."""
    fs, prm = batch.firm_state, batch.params.retention
    mix = fs.retention_mix / np.maximum(fs.retention_mix.sum(axis=2, keepdims=True), 1e-12)
    level = np.clip(fs.retention * mix[..., 1] / prm.promotions_reference, 0.0, 1.0)
    rate = weekly_rate_to_step(1.0 / prm.promotion_memory_weeks, batch.steps_per_year)
    fs.promotion_load[...] += rate * (level - fs.promotion_load)
