"""What a fit to the published facts found: which facts the plausible worlds miss, which ranges
the facts narrow, and the files ``cxsim facts`` writes (listed in :mod:`sim.robustness.fit`).

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.robustness.facts import not_fitted

if TYPE_CHECKING:
    from sim.robustness.fit import FactsFit

__all__ = [
    "NARROWED",
    "constrained_table",
    "decoy_ratio",
    "facts_table",
    "holdout_lines",
    "lineages",
    "markdown",
    "reseed_lines",
    "write_fit",
]

NARROWED = 0.75
"""A parameter whose fitted worlds' 90% interval is at most this share of its range's 90% is
said to be narrowed by the facts (the calibration's identifiability table uses the same ratio)."""


def facts_table(fit: FactsFit) -> pd.DataFrame:
    """Per fact: the share of the prior sample's worlds and of the fitted worlds reproducing it."""
    fitted = fit.particles
    w = fitted["weight"].to_numpy()
    rows = []
    for f in fit.facts:
        rows.append(
            {
                "fact": f,
                "prior_share": float((fit.prior_facts[f] == 0).mean()),
                "fitted_share": float(np.sum(w * (fitted[f"d:{f}"] == 0).to_numpy())),
            }
        )
    d = fit.prior_facts.to_numpy()
    rows.append(
        {
            "fact": "all of them",
            "prior_share": float(np.all(d == 0, axis=1).mean()),
            "fitted_share": float(
                np.sum(w * np.all(fitted[[f"d:{f}" for f in fit.facts]].to_numpy() == 0, axis=1))
            ),
        }
    )
    return pd.DataFrame(rows)


def _moves_words(fit: FactsFit) -> str:
    """What the lineages mean, for one Metropolis step a generation or for several."""
    steps = len(fit.acceptance)
    if fit.moves == 1:
        return (
            "Resampling keeps about half the worlds a generation and one Metropolis step moves "
            "each copy only a little, so each lineage is a cluster about its ancestor: odds over "
            "these worlds measure the neighbourhoods of a few prior worlds as much as the facts, "
            "and another fit (another seed, or one more fact) can give very different odds."
        )
    return (
        f"Resampling keeps about half the worlds a generation; {steps} Metropolis steps "
        f"(`--moves {fit.moves}`: {steps / max(fit.generations, 1):.0f} a generation on "
        "average, each kept with probability "
        f"{float(np.median(fit.acceptance)):.2f} on median) move each copy away from its "
        "ancestor. What lies between lineages beyond what independent draws would put there "
        "is how much the odds over these worlds still measure the neighbourhoods of a few "
        "prior worlds rather than the facts; another fit with another seed is the test."
    )


def lineages(fit: FactsFit) -> tuple[int, float, float]:
    """How many worlds of the prior sample the fitted worlds descend from, the largest
    lineage's share of the fitted worlds, and the share of the fitted worlds' variance that
    lies between lineages (the median over parameters of the between-lineage sum of squares
    over the total); ``(0, nan, nan)`` when the fit did not record the lineages.

    Each generation resamples the worlds within its threshold (about half) and moves each copy
    by one Metropolis step, so lineages die out generation after generation; a fit whose worlds
    descend from a few prior worlds gives odds that measure those lineages' neighbourhoods more
    than the facts (docs/robustness.md: two fits differing by one fact). Worlds drawn
    independently from the fitted set would put about ``(lineages - 1) / worlds`` of the
    variance between lineages; near 1, each lineage is a cluster about its ancestor."""
    if fit.ancestors is None or not len(fit.ancestors):
        return 0, float("nan"), float("nan")
    a = np.asarray(fit.ancestors)
    groups, index, counts = np.unique(a, return_inverse=True, return_counts=True)
    shares = []
    for k in fit.ranges:
        x = fit.particles[k].to_numpy(float)
        total = np.sum((x - x.mean()) ** 2)
        if total > 0:
            means = np.bincount(index, weights=x) / counts
            shares.append(np.sum(counts * (means - x.mean()) ** 2) / total)
    between = float(np.median(shares)) if shares else float("nan")
    return len(groups), float(counts.max() / counts.sum()), between


def _quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cw = np.cumsum(w[order]) / np.sum(w)
    return float(x[order][min(np.searchsorted(cw, q), len(x) - 1)])


def decoy_ratio(fit: FactsFit) -> float:
    """The narrowest of the decoys' ratios (fitted 90% width / 90% of the range): how narrow
    the sampler alone makes a parameter that nothing reads (:data:`sim.robustness.fit.DECOYS`);
    1 when there are none."""
    if fit.decoys is None or not fit.decoys.size:
        return 1.0
    w = fit.particles["weight"].to_numpy()
    ratios = [
        (_quantile(x, w, 0.95) - _quantile(x, w, 0.05)) / 0.9 for x in np.asarray(fit.decoys).T
    ]
    return float(min(ratios))


def constrained_table(fit: FactsFit) -> pd.DataFrame:
    """Per parameter: the fitted worlds' median and 90% interval against the range's, narrowest
    first (``ratio``: fitted 90% width / the range's 90% width), and whether the facts narrow it
    (``narrowed``: a ratio at most :data:`NARROWED` and below every decoy's)."""
    w = fit.particles["weight"].to_numpy()
    bar = min(NARROWED, decoy_ratio(fit))
    rows = []
    for k, r in fit.ranges.items():
        x = fit.particles[k].to_numpy(float)
        lo, hi = _quantile(x, w, 0.05), _quantile(x, w, 0.95)
        prior_width = 0.9 * (r.high - r.low)
        rows.append(
            {
                "parameter": k,
                "low": r.low,
                "high": r.high,
                "median": _quantile(x, w, 0.5),
                "fitted_low": lo,
                "fitted_high": hi,
                "ratio": (hi - lo) / prior_width if prior_width > 0 else float("nan"),
                "narrowed": bool(prior_width > 0 and (hi - lo) / prior_width < bar),
                "source": r.source,
            }
        )
    return pd.DataFrame(rows).sort_values("ratio", kind="stable").reset_index(drop=True)


def _share_cell(r: pd.Series) -> str:
    """``"41% (31-51%) of 86"``, or ``-`` when nothing was decided."""
    if not r["decided"]:
        return "-"
    return (
        f"{100 * r['share']:.0f}% ({100 * r['low']:.0f}-{100 * r['high']:.0f}%) of {r['decided']}"
    )


def holdout_lines(table: pd.DataFrame) -> list[str]:
    """The out-of-sample facts in the plausible and the fitted worlds, as a Markdown table."""
    lines = [
        "| out-of-sample fact (not fitted to) | plausible worlds | fitted worlds |",
        "|---|---|---|",
    ]
    for name in dict.fromkeys(table["check"]):
        cells = []
        for label in ("plausible", "fitted"):
            r = table[(table["check"] == name) & (table["worlds"] == label)]
            cells.append("-" if r.empty else _share_cell(r.iloc[0]))
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return lines


def reseed_lines(table: pd.DataFrame) -> list[str]:
    """The fitted worlds' facts at the fit's seed and at the next (:mod:`sim.robustness.reseed`),
    as a Markdown table."""
    lines = [
        "| fact | fitted worlds, the fit's seed | the next seed |",
        "|---|---|---|",
    ]
    for _, r in table.iterrows():
        lines.append(f"| {r['fact']} | 100% | {_share_cell(r)} |")
    return lines


def _when(fit: FactsFit, seconds: float | None) -> str:
    """How long measuring took, and how much of it a resumed fit read back."""
    if not seconds:
        return ""
    if fit.fresh == 0:
        return " (all read back from runs.jsonl)"
    if fit.fresh < fit.simulations:
        return (
            f" ({fit.simulations - fit.fresh:,} read back from runs.jsonl, {fit.fresh:,} "
            f"in {seconds / 60:.1f} min)"
        )
    return f" in {seconds / 60:.1f} min"


def markdown(
    fit: FactsFit,
    seconds: float | None = None,
    holdout: pd.DataFrame | None = None,
    reseed: pd.DataFrame | None = None,
    knockout: pd.DataFrame | None = None,
    tests_seconds: float | None = None,
) -> str:
    """The fit in words: the facts before and after, the ranges the facts narrow (and, with
    ``knockout``, :func:`sim.robustness.knockout.knockout_table`, whether the facts hold each
    when it is redrawn). ``seconds`` is the fit's own time, ``tests_seconds`` that of the tests
    of its worlds after it (the out-of-sample checks, the next seed, the knockout)."""
    facts = facts_table(fit)
    narrowed = constrained_table(fit)
    narrowed = narrowed[narrowed["narrowed"]]
    eps = ", ".join(f"{e:.3g}" for e in fit.epsilons)
    state = (
        "every fitted world reproduces every fact"
        if fit.reproduces
        else "the threshold has not reached 0: the fitted worlds come near the facts without "
        "all reproducing them (run again with more generations to go on)"
    )
    lines = [
        "# The plausible worlds that reproduce the published facts",
        "",
        f"{len(fit.ranges)} parameters over their plausible ranges (uniform prior); "
        f"a prior sample and {fit.generations} generation{'' if fit.generations == 1 else 's'} "
        f"of {len(fit.particles)} worlds, "
        f"{fit.simulations:,} worlds measured"
        + _when(fit, seconds)
        + f"; thresholds {eps}: {state}."
        + (
            f" The tests of the fitted worlds below took {tests_seconds / 60:.1f} min more."
            if tests_seconds
            else ""
        ),
        "",
        "| fact (validation check, quick size) | worlds of the ranges | fitted worlds |",
        "|---|---|---|",
    ]
    for r in facts.itertuples():
        lines.append(f"| {r.fact} | {100 * r.prior_share:.0f}% | {100 * r.fitted_share:.0f}% |")
    lines.append("")
    ancestors, largest, between = lineages(fit)
    if ancestors:
        lines += [
            f"**Lineages**: the {len(fit.particles)} fitted worlds descend from {ancestors} of "
            f"the prior sample's {len(fit.prior_worlds)} worlds, the largest lineage "
            f"{largest:.0%} of them, and {between:.0%} of their variance lies between "
            f"lineages (median over parameters; about {(ancestors - 1) / len(fit.particles):.0%}"
            " if the worlds were drawn independently from the fitted set). " + _moves_words(fit),
            "",
        ]
    if holdout is not None and len(holdout):
        lines += [
            "Do the fitted worlds look more like real markets on the facts they were not fitted "
            "to? The out-of-sample checks, at quick size, in the prior sample's worlds and in the "
            "fitted worlds (share that reproduce each, 95% Wilson interval):",
            "",
            *holdout_lines(holdout),
            "",
        ]
    if reseed is not None and len(reseed):
        lines += [
            "Do the fitted worlds reproduce the facts by their parameters or by the draw? Each "
            "fact is measured once a world, with one seed, and the fit keeps the worlds that "
            "pass, so a world near a band's edge can pass by luck. The facts measured again in "
            "the fitted worlds with the next seed (share that still reproduces each, 95% Wilson "
            "interval):",
            "",
            *reseed_lines(reseed),
            "",
        ]
    lines += [
        "Not fitted to: "
        + "; ".join(f"`{k}` ({why})" for k, why in not_fitted(fit.facts).items())
        + ".",
        "",
        *_narrowed_lines(fit, narrowed, knockout),
    ]
    return "\n".join(lines) + "\n"


def _narrowed_lines(
    fit: FactsFit, narrowed: pd.DataFrame, knockout: pd.DataFrame | None
) -> list[str]:
    """The narrowed ranges as a Markdown table, with the sentence above it; with ``knockout``,
    a column of each redrawn share and whether the facts hold it."""
    bar = (
        f"fitted 90% interval at most {NARROWED:.0%} of the range's, and narrower than that of "
        "any of the sampler's decoys, coordinates it moves but no world reads (the narrowest "
        f"decoy: {decoy_ratio(fit):.2f}; {len(narrowed)} of {len(fit.ranges)})"
    )
    header = "| parameter | range | fitted median | fitted 90% | width ratio |"
    if knockout is None:
        lines = [f"Ranges the facts narrow: {bar}:", "", header, "|---|---|---|---|---|"]
    else:
        from sim.robustness.knockout import RULE

        tested = knockout.set_index("parameter")
        count = int(tested["held"].sum())
        others = (
            " The others' narrowing is the lineages', not the facts'."
            if count < len(narrowed)
            else ""
        )
        lines = [
            f"Ranges narrowed in the fitted worlds: {bar}. A narrow range need not be the "
            "facts': the fitted worlds descend from a few prior worlds, and a range can be "
            "narrow because its lineages are. Each was redrawn from its range in each of the "
            f"{len(fit.posterior.drop_duplicates())} distinct fitted worlds, every other value "
            "kept, and the facts measured again with the fit's seed (`knockout.csv`): **the "
            f"facts hold {count} of the {len(narrowed)}**, a parameter being {RULE}.{others}",
            "",
            header + " redrawn: still reproduce every fact (95%) |",
            "|---|---|---|---|---|---|",
        ]
    for r in narrowed.itertuples():
        line = (
            f"| `{r.parameter}` | {r.low:.3g} - {r.high:.3g} | {r.median:.3g} | "
            f"{r.fitted_low:.3g} - {r.fitted_high:.3g} | {r.ratio:.2f} |"
        )
        if knockout is not None:
            line += f" {redrawn_cell(tested, r.parameter)} |"
        lines.append(line)
    if narrowed.empty:
        lines.append("| (none) | | | | |" + (" |" if knockout is not None else ""))
    return lines


def redrawn_cell(tested: pd.DataFrame, parameter: str) -> str:
    """``"**held**: 41% (31-52%)"`` or ``"not held: 96% (90-99%)"``; ``-`` if not tested."""
    if parameter not in tested.index or not tested.loc[parameter, "decided"]:
        return "-"
    r = tested.loc[parameter]
    verdict = "**held**" if r["held"] else "not held"
    return (
        f"{verdict}: {100 * r['share']:.0f}% "
        f"({100 * r['share_low']:.0f}-{100 * r['share_high']:.0f}%)"
    )


def write_fit(
    fit: FactsFit,
    out: str | Path,
    seconds: float | None = None,
    holdout: pd.DataFrame | None = None,
    reseed: pd.DataFrame | None = None,
    knockout: pd.DataFrame | None = None,
    tests_seconds: float | None = None,
) -> Path:
    """Write the fit's files into ``out`` (and ``holdout.csv``, ``reseed.csv``,
    ``knockout.csv`` when given); returns ``report.md``. ``seconds``: the fit's own time;
    ``tests_seconds``: the tests' after it (:func:`markdown`)."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    fit.posterior.to_parquet(root / "posterior.parquet")
    fit.particles.to_parquet(root / "particles.parquet")
    facts_table(fit).to_csv(root / "facts.csv", index=False)
    constrained_table(fit).to_csv(root / "constrained.csv", index=False)
    summary = {
        "facts": list(fit.facts),
        "generations": fit.generations,
        "simulations": fit.simulations,
        "epsilons": fit.epsilons,
        "acceptance": fit.acceptance,
        "moves": fit.moves,
        "reproduces": fit.reproduces,
        "decoy_ratio": decoy_ratio(fit),
        "worlds": len(fit.posterior),
        "distinct_worlds": len(fit.posterior.drop_duplicates()),
    }
    summary["ancestors"], summary["largest_lineage"], summary["between_lineages"] = lineages(fit)
    if knockout is not None:
        summary["knockout"] = {
            "narrowed": len(knockout),
            "held": int(knockout["held"].sum()),
            "held_parameters": [str(k) for k in knockout.loc[knockout["held"], "parameter"]],
        }
    (root / "fit.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    md = root / "report.md"
    if holdout is not None and len(holdout):
        holdout.to_csv(root / "holdout.csv", index=False)
    if reseed is not None and len(reseed):
        reseed.to_csv(root / "reseed.csv", index=False)
    if knockout is not None:
        knockout.to_csv(root / "knockout.csv", index=False)
    md.write_text(
        markdown(fit, seconds, holdout, reseed, knockout, tests_seconds), encoding="utf-8"
    )
    return md
