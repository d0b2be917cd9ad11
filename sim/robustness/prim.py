"""PRIM: the Patient Rule Induction Method (Friedman & Fisher 1999) for scenario discovery.

Given worlds (rows of parameter values) and which of them are *of interest* (say, where a claim
fails), PRIM looks for a box, a few parameters restricted to intervals, that holds many of the
worlds of interest (*coverage*: the share of them inside the box) and few others (*density*: the
share of the worlds inside the box that are of interest). This is scenario discovery as Bryant &
Lempert (2010) and EMA Workbench do it:

1. **Peeling**: starting from all worlds, repeatedly cut off the ``alpha`` share of the box's
   worlds at the low or high end of one parameter, choosing the cut that most raises the density,
   until fewer than ``min_mass`` of the worlds remain. This gives a *trajectory* of ever smaller,
   denser boxes.
2. **Choosing**: among the boxes of the trajectory whose density reaches ``threshold`` (or, when
   none does, at least twice the share of worlds of interest overall), the one with the largest
   coverage + density, a balance of the two.
3. **Pasting**: widen the chosen box's limits back while that raises its density.
4. **Pruning**: drop each restriction that a one-sided binomial test cannot tell from chance
   (EMA Workbench's quasi-p-value: could the density inside the box arise from the density of the
   box without that restriction? ``p >= 0.05``), most doubtful first, so the box names only the
   parameters that matter.
   A box is reported only if, after pruning, its density is at least :data:`LIFT` times the
   overall share and a binomial test says it is not chance (``p < p_max``).
5. **Covering**: remove the box's worlds and look for another box in the rest (up to
   ``max_boxes``), as long as each new box is dense enough.

Why our own: the maintained implementations are EMA Workbench's (BSD, but ~600 MB with its
dependencies on this machine) and the standalone ``prim`` package (PRIM 1.0.0, 2024, by Hadka),
which is GPL-3 and so cannot be a dependency of this MIT-licensed package, and needs
``mplcursors`` besides. This module is ~250 lines and checked against known boxes in
tests/test_robustness_prim.py.

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom

__all__ = ["LIFT", "Box", "Restriction", "find_boxes", "peel"]

LIFT = 1.5
"""A reported box holds the worlds of interest at least this many times more densely than all
worlds do."""


@dataclass(frozen=True)
class Restriction:
    """One parameter's interval in a box; None means that side is open."""

    key: str
    low: float | None = None
    high: float | None = None

    def inside(self, x: np.ndarray) -> np.ndarray:
        """Which values fall in the interval."""
        ok = np.ones(len(x), dtype=bool)
        if self.low is not None:
            ok &= x >= self.low
        if self.high is not None:
            ok &= x <= self.high
        return ok


@dataclass(frozen=True)
class Box:
    """A box found by PRIM and how good it is.

    Attributes
    ----------
    restrictions
        The parameters it restricts (the others are free).
    coverage
        Share of all worlds of interest that are inside the box.
    density
        Share of the worlds inside the box that are of interest.
    mass
        Share of all worlds inside the box.
    inside, hits
        Worlds inside, and worlds of interest inside.
    """

    restrictions: tuple[Restriction, ...]
    coverage: float
    density: float
    mass: float
    inside: int
    hits: int

    def contains(self, X: pd.DataFrame) -> np.ndarray:
        """Which rows of ``X`` are inside the box."""
        ok = np.ones(len(X), dtype=bool)
        for r in self.restrictions:
            ok &= r.inside(X[r.key].to_numpy(dtype=float))
        return ok


def _limits_mask(X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.all((X >= lo) & (X <= hi), axis=1)


def peel(
    X: np.ndarray, y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The peeling trajectory: ``(low, high)`` limit vectors, starting with the whole space.

    Each step removes about ``alpha`` of the box's points at one end of one parameter (at least
    one point; ties are removed together), choosing the cut that leaves the highest mean of
    ``y``; ties go to the cut that removes fewer points.
    """
    n = len(y)
    lo, hi = X.min(axis=0).astype(float), X.max(axis=0).astype(float)
    inside = np.ones(n, dtype=bool)
    trajectory = [(lo.copy(), hi.copy())]
    while inside.sum() > min_mass * n and y[inside].mean() < 1.0:
        m = int(inside.sum())
        k = max(1, int(np.floor(alpha * m)))
        best: tuple[float, int, int, str, float] | None = None
        for j in range(X.shape[1]):
            v = np.sort(X[inside, j])
            if v[0] == v[-1]:
                continue
            for side in ("low", "high"):
                if side == "low":
                    cut = v[k] if v[k] > v[0] else v[v > v[0]][0]
                    keep = inside & (X[:, j] >= cut)
                else:
                    cut = v[-k - 1] if v[-k - 1] < v[-1] else v[v < v[-1]][-1]
                    keep = inside & (X[:, j] <= cut)
                kept = int(keep.sum())
                if kept < min_mass * n or kept == m:
                    continue
                score = (float(y[keep].mean()), kept)
                if best is None or score > best[:2]:
                    best = (score[0], kept, j, side, float(cut))
        if best is None:
            break
        _, _, j, side, cut = best
        if side == "low":
            lo[j] = cut
        else:
            hi[j] = cut
        inside = _limits_mask(X, lo, hi)
        trajectory.append((lo.copy(), hi.copy()))
    return trajectory


def _paste(X, y, lo, hi, alpha):
    """Widen one limit at a time by about ``alpha`` of the box's points while the mean rises."""
    while True:
        inside = _limits_mask(X, lo, hi)
        base, k = y[inside].mean(), max(1, int(np.floor(alpha * inside.sum())))
        best = None
        for j in range(X.shape[1]):
            others = np.ones(len(y), dtype=bool)
            for i in range(X.shape[1]):
                if i != j:
                    others &= (X[:, i] >= lo[i]) & (X[:, i] <= hi[i])
            for side in ("low", "high"):
                outside = X[:, j] < lo[j] if side == "low" else X[:, j] > hi[j]
                cand = np.sort(X[others & outside, j])
                if not len(cand):
                    continue
                l2, h2 = lo.copy(), hi.copy()
                if side == "low":
                    l2[j] = cand[-min(k, len(cand))]
                else:
                    h2[j] = cand[min(k, len(cand)) - 1]
                mean = y[_limits_mask(X, l2, h2)].mean()
                if mean > base and (best is None or mean > best[0]):
                    best = (mean, l2, h2)
        if best is None:
            return lo, hi
        _, lo, hi = best


def _midpoints(X, lo, hi, r_lo, r_hi):
    """Move each restricted limit half way to the nearest value outside it (the boundary is
    somewhere in that gap; the data value itself is biased inwards)."""
    lo, hi = lo.copy(), hi.copy()
    for j in range(X.shape[1]):
        if lo[j] > r_lo[j]:
            below = X[X[:, j] < lo[j], j]
            lo[j] = (lo[j] + below.max()) / 2 if len(below) else lo[j]
        if hi[j] < r_hi[j]:
            above = X[X[:, j] > hi[j], j]
            hi[j] = (hi[j] + above.min()) / 2 if len(above) else hi[j]
    return lo, hi


def _stats(X, y, lo, hi, total_hits):
    inside = _limits_mask(X, lo, hi)
    m = int(inside.sum())
    hits = int(y[inside].sum())
    return m, hits, (hits / m if m else 0.0), (hits / total_hits if total_hits else 0.0)


def _prune(X, y, lo, hi, full_lo, full_hi, p_max):
    lo, hi = lo.copy(), hi.copy()
    while True:
        m, hits, _density, _ = _stats(X, y, lo, hi, 1)
        worst = None
        for j in range(X.shape[1]):
            for side in ("low", "high"):
                lim, full = (lo, full_lo) if side == "low" else (hi, full_hi)
                if lim[j] == full[j]:
                    continue
                l2, h2 = lo.copy(), hi.copy()
                (l2 if side == "low" else h2)[j] = full[j]
                _m2, _hits2, d2, _ = _stats(X, y, l2, h2, 1)
                p = float(binom.sf(hits - 1, m, d2)) if m else 1.0
                if p >= p_max and (worst is None or p > worst[0]):
                    worst = (p, l2, h2)
        if worst is None:
            return lo, hi
        _, lo, hi = worst


def find_boxes(
    X: pd.DataFrame,
    interest: np.ndarray,
    *,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    threshold: float = 0.8,
    max_boxes: int = 2,
    min_hits: int = 5,
    p_max: float = 0.05,
) -> list[Box]:
    """Boxes of parameter space where the worlds of interest concentrate.

    Parameters
    ----------
    X
        One row per world, one numeric column per parameter.
    interest
        Boolean per world: the worlds to find (e.g. where a claim fails).
    alpha
        Share peeled per step (0.05 is PRIM's usual "patient" choice).
    min_mass
        Smallest box, as a share of the worlds.
    threshold
        Density a box should reach; the first box reaching it with the most coverage is chosen.
    max_boxes
        Boxes to look for (covering).
    min_hits
        Worlds of interest needed (left) to look for a box.
    p_max
        Restrictions whose quasi-p-value is at least this are dropped.

    Returns
    -------
    list of Box
        In the order found; empty when there are too few worlds of interest. Statistics are
        relative to all the worlds of ``X``.
    """
    names = list(X.columns)
    A = X.to_numpy(dtype=float)
    y = np.asarray(interest, dtype=float)
    total_hits = int(y.sum())
    remaining = np.ones(len(y), dtype=bool)
    boxes: list[Box] = []
    while len(boxes) < max_boxes and int(y[remaining].sum()) >= min_hits:
        Xr, yr = A[remaining], y[remaining]
        if yr.mean() >= 1.0:
            break
        base = float(yr.mean())
        trajectory = peel(Xr, yr, alpha, min_mass * len(y) / max(1, len(yr)))
        scored = []
        for lo, hi in trajectory[1:]:
            m, hits, density, coverage = _stats(Xr, yr, lo, hi, total_hits)
            if density >= min(threshold, 2 * base):
                scored.append((density >= threshold, coverage + density, lo, hi))
        if not scored:
            break
        _, _, lo, hi = max(scored, key=lambda s: (s[0], s[1]))
        lo, hi = _paste(Xr, yr, lo, hi, alpha)
        r_lo, r_hi = Xr.min(axis=0), Xr.max(axis=0)
        lo, hi = _prune(Xr, yr, lo, hi, r_lo, r_hi, p_max)
        m, hits, density, _ = _stats(Xr, yr, lo, hi, total_hits)
        lo, hi = _midpoints(Xr, lo, hi, r_lo, r_hi)
        restrictions = tuple(
            Restriction(
                names[j],
                None if lo[j] <= r_lo[j] else float(lo[j]),
                None if hi[j] >= r_hi[j] else float(hi[j]),
            )
            for j in range(len(names))
            if lo[j] > r_lo[j] or hi[j] < r_hi[j]
        )
        significant = float(binom.sf(hits - 1, m, base)) < p_max if m else False
        if not restrictions or (boxes and density < threshold) or density < LIFT * base:
            break
        if not significant:
            break
        box = Box(
            restrictions=restrictions,
            coverage=hits / total_hits,
            density=density,
            mass=m / len(y),
            inside=m,
            hits=hits,
        )
        boxes.append(box)
        remaining &= ~box.contains(X)
    return boxes
