"""Verdicts: each claim's odds, the parameters that decide it, and where it flips, in words.

:func:`judge` turns the worlds and the claims' margins into one :class:`Verdict` per claim: the
share of decided worlds where the claim holds with its Wilson interval (:mod:`odds`), the
first-order sensitivity of its margin (:mod:`importance`), and, when the claim neither always
holds nor always fails, PRIM boxes (:mod:`prim`) around the minority: where it fails if it
mostly holds, where it holds if it mostly fails. :meth:`Verdict.sentence` says it for a
strategist.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.robustness.claims import Claim
from sim.robustness.importance import margin_importance
from sim.robustness.margins import holds
from sim.robustness.odds import Odds, wilson
from sim.robustness.prim import Box, find_boxes

__all__ = ["NEARLY", "STANDS_OUT", "Verdict", "judge", "parameter_label"]

NEARLY = 0.95
"""A claim holding (or failing) in at least this share of worlds holds (fails) nearly everywhere."""

STANDS_OUT = 0.1
"""A first-order index this large whose 95% interval lies above 0 picks out a deciding parameter;
below ~0.1 the estimator's noise (± 0.1-0.15 with 100-200 worlds) does not tell parameters apart
(docs/robustness.md)."""

LABELS = {
    "expectations.weight_benchmark": "the weight of the best experience anywhere in expectations",
    "expectations.weight_promise": "customers' reliance on promises in their expectations",
    "disclosure.adjustment": "how far a warning lowers the bar",
    "satisfaction.loss_aversion": "loss aversion",
    "switching.quality": "the pull of expected quality (promises, reviews) in choosing a supplier",
    "switching.trust": "the weight of trust in leaving",
    "trust.loss": "the trust lost per broken promise",
    "disclosure.trust_factor": "the share of trust loss a warned customer still feels",
    "delivery.load_exponent": "how steeply overload degrades service",
    "word_of_mouth.negative_amplitude": "how much unhappy customers talk",
    "acquisition.p": "Bass p (adoption from outside influence)",
    "acquisition.q": "Bass q (adoption by imitation)",
    "economics.capacity_build_cost": "the cost of staff capacity for one more customer",
    "economics.capacity_decay": "the share of staff capacity lost each year (turnover)",
    "satisfaction.curvature": "the curvature of satisfaction in the gap to expectations "
    "(1: linear)",
    "teaching.max_shift": "how far a teaching firm can shift what customers value",
    "retention.extras_reference": "the spending on product extras that counts as a full programme",
}
"""Readable names of the parameters the shipped studies vary (others: the schema's description)."""


def parameter_label(key: str) -> str:
    """A readable name for a scenario key: curated, else the schema's description, else the key."""
    if key in LABELS:
        return LABELS[key]
    from sim.params import Params

    section, _, name = key.partition(".")
    part = Params.model_fields.get(section)
    if part is not None and name in part.annotation.model_fields:
        desc = part.annotation.model_fields[name].description or key
        return desc.split(": ", 1)[-1] if ": " in desc[:12] else desc
    return key


def _number(x: float) -> str:
    return f"{x:.3g}"


def box_words(box: Box) -> str:
    """``"trust lost per broken promise is below 0.31 and loss aversion is above 2.2"``."""
    parts = []
    for r in box.restrictions:
        name = parameter_label(r.key)
        if r.low is not None and r.high is not None:
            parts.append(f"{name} is between {_number(r.low)} and {_number(r.high)}")
        elif r.low is not None:
            parts.append(f"{name} is above {_number(r.low)}")
        else:
            parts.append(f"{name} is below {_number(r.high)}")
    return " and ".join(parts)


@dataclass
class Verdict:
    """What the worlds say about one claim.

    Attributes
    ----------
    claim
        The claim.
    odds
        Share of decided worlds where it holds, with its interval.
    importance
        ``parameter``, ``S1``, ``S1_conf``: first-order indices of the margin, largest first.
    boxes
        PRIM boxes around the minority outcome.
    looks_for
        ``fails`` (boxes say where it fails) or ``holds``; empty when there are no boxes.
    note
        Why there are no boxes, when there are none.
    margin_mean
        Mean margin over the decided worlds.
    worlds_are
        What the worlds are, for the sentences: ``plausible worlds`` (sampled from the ranges),
        ``worlds that reproduce the published facts`` (a ``cxsim facts`` fit), ``worlds of an
        unfinished fit to the published facts`` or ``worlds of the posterior``
        (:func:`sim.robustness.report.worlds_are`).
    caveat
        A sentence said right after the odds, about the worlds (an unfinished fit's: how many
        of them reproduce every fact; :func:`sim.robustness.report.worlds_caveat`).
    """

    claim: Claim
    odds: Odds
    importance: pd.DataFrame
    boxes: list[Box] = field(default_factory=list)
    looks_for: str = ""
    note: str = ""
    margin_mean: float = float("nan")
    worlds_are: str = "plausible worlds"
    caveat: str = ""

    @property
    def deciders(self) -> list[str]:
        """Parameters in order of their first-order index."""
        return list(self.importance["parameter"])

    @property
    def standouts(self) -> pd.DataFrame:
        """The rows of :attr:`importance` that stand out from the estimator's noise: an index of
        at least :data:`STANDS_OUT` whose interval lies above 0."""
        imp = self.importance
        if imp.empty:
            return imp
        return imp[(imp["S1"] >= STANDS_OUT) & (imp["S1"] - imp["S1_conf"] > 0)]

    def conditions(self) -> list[str]:
        """One sentence per box: where the claim flips, how much of the plausible space that is."""
        out = []
        verb = "fails" if self.looks_for == "fails" else "holds"
        o = self.odds
        overall = o.share if verb == "holds" else 1 - o.share
        for b in self.boxes:
            out.append(
                f"it {verb} {'mainly ' if b.coverage < 0.95 else 'only '}when {box_words(b)} "
                f"({100 * b.mass:.0f}% of {self.worlds_are}, holding {100 * b.coverage:.0f}% of "
                f"the worlds where it {verb}); there it {verb} in {100 * b.density:.0f}% of "
                f"worlds, against {100 * overall:.0f}% overall"
            )
        return out

    def sentence(self) -> str:
        """The verdict for a strategist, in one paragraph."""
        o = self.odds
        head = f"“{self.claim.label}” holds in {o.text} of {o.worlds} {self.worlds_are}"
        if self.claim.versus:
            head += f", each against the same world {self.claim.against}"
        if o.undecided:
            head += f" ({o.undecided} more undecided)"
        if o.share >= NEARLY:
            head += ": nearly everywhere"
        elif o.share <= 1 - NEARLY:
            head += ": almost nowhere"
        head += "."
        if self.caveat:
            head += f" {self.caveat}"
        conds = self.conditions()
        if conds:
            head += " " + "; ".join(c[0].upper() + c[1:] for c in conds[:1])
            if len(conds) > 1:
                head += "; also " + "; ".join(conds[1:])
            head += "."
        elif self.note:
            head += f" {self.note}"
        if self.claim.by_construction:
            head += (
                f" By construction ({self.claim.by_construction}): its odds are not a finding, "
                "only how far it holds."
            )
        return head

    def to_dict(self) -> dict:
        """Plain data for ``report.json``."""
        return {
            "name": self.claim.name,
            "says": self.claim.says,
            "holds": self.claim.text,
            "by_construction": self.claim.by_construction,
            **(
                {"versus": dict(self.claim.versus), "against": self.claim.against}
                if self.claim.versus
                else {}
            ),
            "odds": {
                "share": self.odds.share,
                "low": self.odds.low,
                "high": self.odds.high,
                "level": self.odds.level,
                "holds": self.odds.holds,
                "worlds": self.odds.worlds,
                "undecided": self.odds.undecided,
            },
            "margin_mean": self.margin_mean,
            "importance": self.importance.to_dict(orient="records"),
            "looks_for": self.looks_for,
            "boxes": [
                {
                    "restrictions": [
                        {"key": r.key, "low": r.low, "high": r.high} for r in b.restrictions
                    ],
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "worlds_inside": b.inside,
                    "words": box_words(b),
                }
                for b in self.boxes
            ],
            "note": self.note,
            "sentence": self.sentence(),
        }


def judge(
    claim: Claim,
    worlds: pd.DataFrame,
    margin: pd.Series,
    *,
    seed: int = 0,
    min_hits: int = 5,
    threshold: float = 0.8,
) -> Verdict:
    """The verdict on one claim over the worlds.

    Parameters
    ----------
    claim
        The claim.
    worlds
        One row per world, one column per varied parameter.
    margin
        The claim's margin per world (same index; NaN: undecided).
    seed
        Of the sensitivity bootstrap.
    min_hits
        Worlds of the minority outcome needed to look for boxes.
    threshold
        PRIM's density threshold.

    Raises
    ------
    ValueError
        When no world is decided.
    """
    decided = margin.notna()
    n = int(decided.sum())
    if n == 0:
        raise ValueError(f"claim {claim.name!r}: no world has a defined margin")
    m = margin[decided]
    ok = holds(claim, m.to_numpy())
    odds = wilson(int(ok.sum()), n, undecided=int((~decided).sum()))
    imp = margin_importance(worlds, margin, seed=seed)
    verdict = Verdict(claim, odds, imp, margin_mean=float(m.mean()))
    minority_fails = odds.share >= 0.5
    interest = ~ok if minority_fails else ok
    k = int(interest.sum())
    varying = [c for c in worlds.columns if worlds[c].nunique() > 1]
    if k == 0:
        verdict.note = "It " + ("never fails." if minority_fails else "never holds.")
    elif k < min_hits:
        what = "fails" if minority_fails else "holds"
        worlds = "world" if k == 1 else "worlds"
        verdict.note = f"It {what} in only {k} {worlds}, too few to say where."
    elif not varying:
        verdict.note = "No parameter varies."
    else:
        X = worlds.loc[m.index, varying]
        boxes = find_boxes(X, np.asarray(interest), threshold=threshold, min_hits=min_hits)
        verdict.boxes = boxes
        verdict.looks_for = "fails" if minority_fails else "holds"
        if not boxes:
            verdict.note = (
                f"PRIM found no box of parameters where it {verdict.looks_for} markedly more "
                "often than elsewhere: no simple condition on a few parameters decides it."
            )
    return verdict
