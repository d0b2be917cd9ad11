"""A study's verdicts from its stored runs, and the files ``cxsim robustness`` writes.

:func:`analyze` reads the finished runs of a study (so a half-finished study can be looked at)
and judges every claim. :func:`write_report` writes, in the study folder:

=====================  ========================================================================
``report.md``          every claim: odds, deciding parameters, conditions in words, figures
``report.json``        the same as data
``claims.csv``         one row per claim: odds, interval, top parameters, conditions
``worlds.parquet``     one row per world: its parameters and each claim's margin
``figures/``           ``odds.png`` and ``<claim>_map.png`` (margin over the two top parameters)
=====================  ========================================================================

This module never imports the UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.robustness.study import Study, study_margins
from sim.robustness.verdicts import Verdict, judge, parameter_label
from sim.robustness.versus import table_text
from sim.sweep.results import SweepResults

__all__ = [
    "Analysis",
    "analyze",
    "decided_by",
    "facts_fit_status",
    "lineages_caveat",
    "markdown",
    "worlds_are",
    "worlds_caveat",
    "write_report",
]

FEW_LINEAGES = 10
"""Fewer prior worlds than this behind a fit's worlds are *few* (:func:`lineages_caveat`)."""


@dataclass
class Analysis:
    """A study's verdicts and the data behind them.

    Attributes
    ----------
    study
        The study.
    worlds
        Parameters of each world with at least one finished run.
    margins
        Each claim's margin per world.
    verdicts
        One per claim with at least one decided world, in the claims' order.
    runs_ok, runs_total
        Finished runs, and runs in the study.
    """

    study: Study
    worlds: pd.DataFrame
    margins: pd.DataFrame
    verdicts: list[Verdict]
    runs_ok: int
    runs_total: int

    @property
    def complete(self) -> bool:
        """Every run of the study finished."""
        return self.runs_ok >= self.runs_total


def _fit_info(posterior: str | Path) -> dict[str, Any] | None:
    """The ``fit.json`` a ``cxsim facts`` fit wrote beside ``posterior``: None when there is
    none, empty when it cannot be read as a table."""
    path = Path(posterior).parent / "fit.json"
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def facts_fit_status(posterior: str | Path) -> tuple[bool | None, float | None, int] | None:
    """Whether the ``cxsim facts`` fit that wrote a posterior finished, from the ``fit.json``
    beside it; None when there is none (the posterior is not a facts fit's).

    Returns
    -------
    reproduces, share, worlds
        ``fit.json``'s ``reproduces`` (None when it does not say, or cannot be read); the share
        of the fit's worlds that reproduce every fact and how many worlds that is of, from
        ``particles.parquet`` beside it (each fact's distance 0; None, 0 when it cannot be
        read).
    """
    info = _fit_info(posterior)
    if info is None:
        return None
    folder = Path(posterior).parent
    said = info.get("reproduces")
    reproduces = said if isinstance(said, bool) else None
    try:
        particles = pd.read_parquet(folder / "particles.parquet")
    except Exception:  # missing or not Parquet: the share is not known
        return reproduces, None, 0
    d = particles[[c for c in particles.columns if str(c).startswith("d:")]].to_numpy()
    if d.shape[0] == 0 or d.shape[1] == 0:
        return reproduces, None, 0
    return reproduces, float((d == 0).all(axis=1).mean()), int(d.shape[0])


def worlds_are(study: Study) -> str:
    """What a study's worlds are, in words: sampled from the ranges, fitted to the published
    facts (a posterior written by ``cxsim facts``, beside its ``fit.json``, which says that
    every fitted world reproduces every fact), an unfinished fit's (its ``fit.json`` says
    ``"reproduces": false``: :func:`worlds_caveat` says how far it got), or another
    posterior's."""
    if study.posterior is None:
        return "plausible worlds"
    status = facts_fit_status(study.posterior)
    if status is None:
        return "worlds of the posterior"
    if status[0] is True:
        return "worlds that reproduce the published facts"
    if status[0] is False:
        return "worlds of an unfinished fit to the published facts"
    return "worlds of a fit to the published facts"


def lineages_caveat(posterior: str | Path) -> str:
    """How many lineages a ``cxsim facts`` fit's worlds come from, as a sentence, from its
    ``fit.json`` (empty when it does not say): ``"These worlds descend from 7 of the fit's
    first sample (the largest lineage 67% of them): ..."``.

    A one-step fit's worlds are copies of a few prior worlds moved a little, and two such fits
    of the same facts gave the honest firm's lead 43% and 77% of their worlds
    (docs/robustness.md, "Lineages"): a verdict over them must say so, not only the report of
    the fit. So must its deciding parameters: over clustered worlds a first-order index also
    measures how the parameter separates the lineages. *Few* lineages (fewer than
    :data:`FEW_LINEAGES`, or the largest more than a quarter of the worlds) is where the
    measured fits part: the one-step fits' worlds came from 4-7 prior worlds, the largest
    lineage 28-67% of them; the ``--moves auto`` fits' from 17-20,
    11-24%, and two of those agreed on nine claims of ten."""
    info = _fit_info(posterior) or {}
    try:
        ancestors, largest = int(info["ancestors"]), float(info["largest_lineage"])
    except (KeyError, TypeError, ValueError):
        return ""
    between = info.get("between_lineages")
    head = (
        f"These worlds descend from {ancestors} of the fit's first sample (the largest lineage "
        f"{100 * largest:.0f}% of them"
        + (f", {100 * between:.0f}% of their variance between lineages" if between else "")
        + ")"
    )
    if ancestors < FEW_LINEAGES or largest > 0.25:
        return (
            f"{head}: the odds, and the parameters that seem to decide them, are those of a few "
            "neighbourhoods as much as of the facts, and another fit (another seed) can give "
            "very different odds "
            '(docs/robustness.md, "Lineages"; a fit made with --moves auto mixes better).'
        )
    return f'{head}; another fit can still give other odds (docs/robustness.md, "Lineages").'


def worlds_caveat(study: Study) -> str:
    """What a reader must know about the worlds before their odds, as a sentence; empty but
    for the worlds of a ``cxsim facts`` fit: one that did not finish (or whose ``fit.json``
    does not say), ``"The fit did not finish: 50% of its 8 worlds reproduce every fact."``;
    one that did, how few lineages its worlds come from (:func:`lineages_caveat`)."""
    if study.posterior is None:
        return ""
    status = facts_fit_status(study.posterior)
    if status is None:
        return ""
    if status[0] is True:
        return lineages_caveat(study.posterior)
    reproduces, share, n = status
    head = (
        "The fit did not finish"
        if reproduces is False
        else f"{Path(study.posterior).parent / 'fit.json'} does not say whether the fit finished"
    )
    if share is None:
        return head + ": how many of its worlds reproduce every fact is not known."
    return f"{head}: {100 * share:.0f}% of its {n} worlds reproduce every fact."


def analyze(study: Study, results: SweepResults, seed: int = 0) -> Analysis:
    """Judge every claim on the study's finished runs."""
    worlds, margins = study_margins(study, results)
    are, caveat = worlds_are(study), worlds_caveat(study)
    verdicts = []
    for c in study.claims:
        if c.name in margins and margins[c.name].notna().any():
            verdict = judge(c, worlds, margins[c.name], seed=seed)
            verdict.worlds_are, verdict.caveat = are, caveat
            verdicts.append(verdict)
    runs = results.runs()
    ok = int((runs["status"] == "ok").sum()) if "status" in runs else 0
    total = study.runs
    return Analysis(study, worlds, margins, verdicts, ok, total)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def decided_by(v: Verdict, n: int = 3, code: bool = False) -> str:
    """What decides a claim, in one sentence, as docs/robustness.md defines it: only parameters
    whose first-order index of the margin stands out from the estimator's noise
    (:attr:`Verdict.standouts`: at least ``STANDS_OUT``, its interval above 0), else that none
    does. For a claim that never fails (or never holds) in these worlds nothing decides it; a
    parameter that stands out there is said to move its margin, not to decide it.

    Parameters
    ----------
    v
        The verdict.
    n
        Most parameters named.
    code
        Parameter names in backticks (Markdown).

    Returns
    -------
    str
        One sentence, without a final full stop.
    """
    from sim.robustness.importance import MIN_WORLDS
    from sim.robustness.verdicts import STANDS_OUT

    if v.importance.empty:
        return (
            f"no sensitivity indices (they need at least {MIN_WORLDS} decided worlds and a "
            "margin that varies)"
        )
    q = "`" if code else ""
    rows = v.standouts.head(n)
    named = ", ".join(
        f"{q}{r.parameter}{q} {r.S1:.2f} ± {r.S1_conf:.2f}" for r in rows.itertuples()
    )
    o = v.odds
    never = "never fails" if o.holds == o.worlds else "never holds" if o.holds == 0 else ""
    if rows.empty:
        return (
            "no single parameter stands out from the estimator's noise (a first-order index "
            f"of the margin of at least {STANDS_OUT} with its interval above 0): no one "
            "parameter decides it alone"
        )
    if never:
        return (
            f"it {never} in these worlds, so no parameter decides it; its margin moves most "
            f"with (first-order index ± 95% half-width): {named}"
        )
    return f"decided by (first-order index of the margin ± 95% half-width): {named}"


def markdown(analysis: Analysis, figures: Path | None = None, title: str | None = None) -> str:
    """The study as Markdown: ranges, then per claim its sentence, deciders and figure."""
    st = analysis.study
    lines = [f"# {title or 'When does it pay? ' + st.scenario.name}", ""]
    lines.append(
        f"{len(analysis.worlds)} {worlds_are(st)} x {st.config.replicates} replicates "
        f"({analysis.runs_ok} of {analysis.runs_total} runs finished"
        + (
            f", each world run once more per versus table ({len(st.versus_tables)})"
            if st.versus_tables
            else ""
        )
        + f"), {st.steps} steps, "
        f"seed {st.config.seed}"
        + (
            f", fixed: {', '.join(f'{k} = {v}' for k, v in st.config.fixed.items())}"
            if st.config.fixed
            else ""
        )
        + (f", worlds from the posterior {st.posterior}" if st.posterior else "")
        + (f" {st.resampling.words()}" if st.resampling else "")
        + (
            f", held at the scenario's value: {', '.join(f'`{k}`' for k in st.held)}"
            if st.held
            else ""
        )
        + "."
    )
    caveat = worlds_caveat(st)
    if caveat:
        lines += ["", f"**{caveat}**"]
    lines += ["", "| parameter | range | source |", "|---|---|---|"]
    for k, r in st.ranges.items():
        lines.append(f"| `{k}` | {r.low:.4g} - {r.high:.4g} | {r.source} |")
    if figures is not None:
        lines += ["", f"![odds]({figures.name}/odds.png)"]
    for v in analysis.verdicts:
        lines += ["", f"## {v.claim.name}", "", f"`{v.claim.text}`", ""]
        if v.claim.versus:
            lines += [
                f"Against the same world {v.claim.against}: versus(...) reads the world's run "
                f"with `{table_text(v.claim.versus)}`, same replicate.",
                "",
            ]
        lines += [v.sentence(), ""]
        text = decided_by(v, code=True)
        lines.append(text[0].upper() + text[1:] + ".")
        if figures is not None:
            lines += ["", f"![{v.claim.name}]({figures.name}/{_slug(v.claim.name)}_map.png)"]
    return "\n".join(lines) + "\n"


def claims_table(analysis: Analysis) -> pd.DataFrame:
    """One row per claim: odds, interval, the parameters that decide it (those whose index
    stands out from the noise, :attr:`Verdict.standouts`; empty when none does) and
    conditions."""
    rows = []
    for v in analysis.verdicts:
        o = v.odds
        rows.append(
            {
                "scenario": analysis.study.scenario.name,
                "claim": v.claim.name,
                "says": v.claim.says,
                "holds": v.claim.text,
                "by_construction": v.claim.by_construction,
                "share": o.share,
                "low": o.low,
                "high": o.high,
                "worlds": o.worlds,
                "undecided": o.undecided,
                "margin_mean": v.margin_mean,
                "deciders": "; ".join(v.standouts["parameter"].head(3))
                if not v.importance.empty
                else "",
                "conditions": " | ".join(v.conditions()) or v.note,
            }
        )
    return pd.DataFrame(rows)


def write_report(analysis: Analysis, out: str | Path, figures: bool = True) -> Path:
    """Write the report files into ``out`` (see the module docstring); returns ``report.md``."""
    from sim.robustness import figures as figs
    from sim.sweep.plots import save

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    fig_dir = root / "figures"
    if figures and analysis.verdicts:
        fig_dir.mkdir(exist_ok=True)
        save(figs.odds_chart(analysis.verdicts, analysis.study.scenario.name), fig_dir / "odds.png")
        for v in analysis.verdicts:
            if len([c for c in analysis.worlds if analysis.worlds[c].nunique() > 1]) >= 2:
                fig = figs.margin_map(v, analysis.worlds, analysis.margins[v.claim.name])
                save(fig, fig_dir / f"{_slug(v.claim.name)}_map.png")
    data = {
        "study": analysis.study.to_dict(),
        "runs_ok": analysis.runs_ok,
        "runs_total": analysis.runs_total,
        "labels": {k: parameter_label(k) for k in analysis.study.ranges},
        "claims": [v.to_dict() for v in analysis.verdicts],
    }
    (root / "report.json").write_text(json.dumps(data, indent=2, default=float) + "\n")
    claims_table(analysis).to_csv(root / "claims.csv", index=False)
    table = analysis.worlds.join(analysis.margins.add_prefix("margin:"))
    table.to_parquet(root / "worlds.parquet")
    md = root / "report.md"
    md.write_text(markdown(analysis, fig_dir if figures else None), encoding="utf-8")
    return md
