"""Every shipped scenario's claims over the plausible worlds: the runs, figures and tables of
docs/robustness.md.

    .venv/bin/python experiments/robustness/run_all.py              # run (or resume) and write
    .venv/bin/python experiments/robustness/run_all.py --dask tcp://10.0.0.5:8786
    .venv/bin/python experiments/robustness/run_all.py --only proactive_disclosure

Each scenario's study runs with ``experiments/robustness/ranges.toml`` into
``results/robustness/<scenario>`` (an interrupted run resumes; a changed ranges file or scenario
needs ``--force``; after the model's rules change, delete ``results/robustness``: the stored runs
do not know which rules made them), then the script rewrites the part of docs/robustness.md
between the ``results`` markers and the figures in docs/robustness_figures/. Nothing in that part
is written by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = (
    "overpromise_vs_honest",
    "proactive_disclosure",
    "retention_vs_acquisition",
    "growth_vs_support",
    "niche_vs_generalist",
    "service_vs_price",
    "national_leader_enters",
    "national_leader_equal",
    "baseline",
    "liquid_expectations",
    "bass_docking",
)
STEPS = {"bass_docking": 250}
"""Scenarios run only as far as their claims look (bass_docking's claim is at year 5 of 20)."""
LOADS = "run_all.json"
"""Per scenario, in the results folder: wall time and the load average before and after."""
RANGES = ROOT / "experiments" / "robustness" / "ranges.toml"
FITTED = ROOT / "results" / "facts"
"""The fit of the plausible worlds to the published facts (``cxsim facts``) run_all reads."""
DOC = ROOT / "docs" / "robustness.md"
FIGURES = ROOT / "docs" / "robustness_figures"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def _odds(v) -> str:
    o = v.odds
    return f"**{100 * o.share:.0f}%** ({100 * o.low:.0f}-{100 * o.high:.0f}%)"


def _deciders(v, n: int = 3) -> str:
    """The parameters whose index stands out from noise, else the largest, marked as noise."""
    if v.importance.empty:
        return "-"
    rows = v.standouts.head(n)
    if rows.empty:
        top = v.importance.iloc[0]
        return f"none stands out (largest: `{top.parameter}` {top.S1:.2f} ± {top.S1_conf:.2f})"
    return ", ".join(f"`{r.parameter}` {r.S1:.2f}" for r in rows.itertuples())


def _conditions(v) -> str:
    from sim.robustness.verdicts import box_words

    if not v.boxes:
        return v.note or "-"
    b = v.boxes[0]
    return (
        f"{v.looks_for} when {box_words(b)} (mass {100 * b.mass:.0f}%, coverage "
        f"{100 * b.coverage:.0f}%, density {100 * b.density:.0f}%)"
    )


def _decided_by(v) -> str:
    if v.importance.empty:
        return "No sensitivity indices: the margin is the same in every world."
    top = ", ".join(
        f"`{r.parameter}` {r.S1:.2f} ± {r.S1_conf:.2f}" for r in v.importance.head(3).itertuples()
    )
    out = f"Largest first-order indices of the margin (± 95% half-width): {top}."
    if v.standouts.empty:
        out += " None stands out from the estimator's noise: no one parameter decides it alone."
    return out


def _fitted_verdict(fitted_analyses: dict | None, name: str, v):
    """The same claim's verdict over the worlds that reproduce the facts, if there is one."""
    a = (fitted_analyses or {}).get(name)
    if a is None:
        return None
    return next((f for f in a.verdicts if f.claim.name == v.claim.name), None)


def _fitted_sentence(fv) -> str:
    o = fv.odds
    out = (
        f"Over the {o.worlds} worlds that reproduce the published facts: {o.text}"
        + (f" ({o.undecided} more undecided)" if o.undecided else "")
        + "."
    )
    conds = fv.conditions()
    if conds:
        out += " " + conds[0][0].upper() + conds[0][1:] + "."
    elif fv.note:
        out += " " + fv.note
    return out


def _fitted_words(fitted: Path, fitted_analyses: dict, seconds: dict[str, float]) -> list[str]:
    """The fit to the published facts: which facts the plausible worlds miss, which ranges are
    narrow in the fitted worlds and which of them the facts hold (the knockout test), from the
    fit's folder (``cxsim facts``)."""
    import pandas as pd

    from sim.robustness.fit_report import NARROWED, redrawn_cell
    from sim.robustness.report import lineages_caveat

    info = json.loads((fitted / "fit.json").read_text())
    facts = pd.read_csv(fitted / "facts.csv")
    narrow = pd.read_csv(fitted / "constrained.csv")
    narrow = narrow[narrow["narrowed"]]
    worlds = {len(a.worlds) for a in fitted_analyses.values()}
    runs = sum(a.runs_ok for a in fitted_analyses.values())
    wall = sum(v for k, v in seconds.items() if k.startswith("fitted/"))
    lines = [
        "**Worlds that reproduce the published facts.** `cxsim facts` (sim.robustness.fit) kept "
        f"the plausible worlds that reproduce {len(info['facts'])} published facts the model "
        f"was calibrated against (sequential Monte Carlo with Metropolis moves, "
        f"{info['simulations']:,} worlds measured in a prior sample and {info['generations']} "
        "generations, until every fitted world reproduced every fact"
        + ("" if info["reproduces"] else "; not reached: the last generation comes near")
        + f"): {info['worlds']} worlds, {info['distinct_worlds']} distinct. Every study ran "
        "again over them "
        f"({'/'.join(str(n) for n in sorted(worlds))} worlds, {runs} runs, "
        f"{_minutes(wall)}). " + lineages_caveat(fitted / "posterior.parquet"),
        "",
        "| fact (validation check at quick size) | plausible worlds | fitted worlds |",
        "|---|---|---|",
    ]
    for r in facts.itertuples():
        lines.append(f"| {r.fact} | {100 * r.prior_share:.0f}% | {100 * r.fitted_share:.0f}% |")
    if (fitted / "holdout.csv").exists():
        from sim.robustness.fit_report import holdout_lines

        lines += ["", *holdout_lines(pd.read_csv(fitted / "holdout.csv"))]
    if (fitted / "reseed.csv").exists():
        from sim.robustness.fit_report import reseed_lines

        lines += [
            "",
            "The facts again in the fitted worlds, with the next seed (a world near a band's edge "
            "can pass by the draw):",
            "",
            *reseed_lines(pd.read_csv(fitted / "reseed.csv")),
        ]
    tested = None
    if (fitted / "knockout.csv").exists():
        tested = pd.read_csv(fitted / "knockout.csv").set_index("parameter")
    bar = (
        f"fitted 90% interval at most {NARROWED:.0%} of the range's and narrower than every "
        f"decoy's, the narrowest {info['decoy_ratio']:.2f}"
    )
    if tested is None:
        summary = f"The {len(narrow)} ranges the facts narrow ({bar})"
        head = "| parameter | range | fitted median | fitted 90% | width ratio |"
    else:
        summary = (
            f"The {len(narrow)} ranges narrowed in the fitted worlds ({bar}); redrawn one at a "
            f"time in every fitted world, the facts hold {int(tested['held'].sum())} of them "
            "(the knockout test), the others' narrowing is the lineages'"
        )
        head = (
            "| parameter | range | fitted median | fitted 90% | width ratio "
            "| redrawn: still reproduce every fact (95%) |"
        )
    lines += ["", f"<details><summary>{summary}</summary>", "", head]
    lines.append("|---" * head.count(" | ") + "|---|")
    for r in narrow.itertuples():
        line = (
            f"| `{r.parameter}` | {r.low:.3g} - {r.high:.3g} | {r.median:.3g} | "
            f"{r.fitted_low:.3g} - {r.fitted_high:.3g} | {r.ratio:.2f} |"
        )
        lines.append(line if tested is None else f"{line} {redrawn_cell(tested, r.parameter)} |")
    return [*lines, "", "</details>", ""]


def _minutes(seconds: float) -> str:
    from sim.sweep.progress import format_seconds

    return format_seconds(seconds) + " of wall time"


def closures(results, steps: int) -> tuple[int, dict[str, int]]:
    """Worlds whose market stopped before ``steps`` (every firm closed), and per firm the worlds
    where it closed (by the end, or in a market that stopped)."""
    firms = results.df("firms")
    if firms.empty:
        return 0, {}
    last = firms.groupby("point")["step"].transform("max")
    end = firms[firms["step"] == last]
    early = end.groupby("point")["step"].first() < steps
    gone = ~end["alive"].astype(bool) | end["point"].map(early)
    stopped = int(early.sum())
    closed = end[gone].groupby("name")["point"].nunique()
    return stopped, {k: int(v) for k, v in closed.sort_values(ascending=False).items()}


def _closed_words(entry: tuple[int, dict[str, int]] | None, worlds: int) -> str:
    if entry is None:
        return ""
    stopped, closed = entry
    if not closed:
        return " No firm closed in any world."
    each = (f"{n} ({k} world{'s' if k != 1 else ''})" for n, k in closed.items())
    out = " Firms closed in " + ", ".join(each) + "."
    if stopped:
        out += (
            f" In {stopped} of {worlds} worlds every firm closed before the end and the market "
            "stopped: claims about the end are undecided there."
        )
    return out


def _load(entry: dict) -> str:
    """``load average 7.9-10.8`` (1-minute averages before and after a study's runs, and any
    the study's ``loads`` list adds: samples taken while it ran)."""
    loads = [entry[k][0] for k in ("load_before", "load_after") if k in entry]
    loads += entry.get("loads", [])
    if not loads:
        return "load not recorded"
    return f"load average {min(loads):.1f}-{max(loads):.1f}"


def results_section(
    analyses: list,
    seconds: dict[str, float],
    study,
    log: dict,
    closed: dict | None = None,
    skipped: list[str] | None = None,
    fitted_analyses: dict | None = None,
    fitted: Path | None = None,
) -> str:
    """The generated part of docs/robustness.md."""
    from sim.robustness.figures import odds_chart
    from sim.sweep.plots import save
    from sim.sweep.progress import format_seconds

    verdicts = [v for a, _ in analyses for v in a.verdicts]
    labels = [f"{a.study.scenario.name}: {v.claim.label}" for a, _ in analyses for v in a.verdicts]
    FIGURES.mkdir(parents=True, exist_ok=True)
    chart = odds_chart(verdicts, "Every shipped claim over the plausible worlds", labels)
    save(chart, FIGURES / "odds.png")
    cfg = study.config
    runs = sum(a.runs_ok for a, _ in analyses)
    total = sum(v for k, v in seconds.items() if not k.startswith("fitted/"))
    ranges: dict = {}
    for a, _ in analyses:
        ranges.update(a.study.ranges)
    lines = [
        BEGIN,
        "",
        f"Generated by `experiments/robustness/run_all.py` on {time.strftime('%d %B %Y')}: "
        f"{len(analyses)} scenarios, {cfg.worlds} worlds x {cfg.replicates} replicates each "
        f"({runs} runs, {format_seconds(total)} of wall time on {os.cpu_count()} cores; the "
        "load average before and after each scenario is given with it below), "
        + ", ".join(f"{k} = {v}" for k, v in cfg.fixed.items())
        + f", seed {cfg.seed}; {len(ranges)} parameters varied over their plausible ranges "
        "(scenarios that hold some of them say so below)."
        + (
            " Left out of this pass: " + ", ".join(f"`{n}`" for n in skipped) + "."
            if skipped
            else ""
        ),
        "",
        "<details><summary>The ranges</summary>",
        "",
        "| parameter | range | source |",
        "|---|---|---|",
    ]
    for k, r in ranges.items():
        lines.append(f"| `{k}` | {r.low:.4g} - {r.high:.4g} | {r.source} |")
    lines += [
        "",
        "</details>",
        "",
        "![odds](robustness_figures/odds.png)",
        "",
    ]
    fitted_analyses = fitted_analyses or {}
    if fitted_analyses and fitted is not None:
        lines += _fitted_words(fitted, fitted_analyses, seconds)
    fcol = " in worlds that reproduce the facts |" if fitted_analyses else ""
    lines += [
        f"| scenario | claim | holds in (95% CI) |{fcol} decided by (S1) | where it flips (PRIM) |",
        "|---|---|---|---|---|" + ("---|" if fitted_analyses else ""),
    ]
    for a, _ in analyses:
        name = a.study.scenario.name
        for v in a.verdicts:
            fv = _fitted_verdict(fitted_analyses, name, v)
            cell = f" {_odds(fv) if fv else '-'} |" if fitted_analyses else ""
            lines.append(
                f"| {name} | {v.claim.says} | {_odds(v)} |{cell} {_deciders(v)} | "
                f"{_conditions(v)} |"
            )
    for a, folder in analyses:
        name = a.study.scenario.name
        lines += [
            "",
            f"### {name}",
            "",
            f"{a.runs_ok} runs of {a.study.steps} steps in "
            f"{format_seconds(seconds.get(name))} of wall time "
            f"({_load(log.get(name, {}))}); {len(a.study.ranges)} parameters varied"
            + (
                ", held at the scenario's value: " + ", ".join(f"`{k}`" for k in a.study.held)
                if a.study.held
                else ""
            )
            + "."
            + _closed_words((closed or {}).get(name), len(a.study.worlds)),
        ]
        for v in a.verdicts:
            fig = f"{name}__{v.claim.name}.png"
            src = folder / "figures" / f"{v.claim.name}_map.png"
            if src.exists():
                shutil.copyfile(src, FIGURES / fig)
            fv = _fitted_verdict(fitted_analyses, name, v)
            lines += [
                "",
                f"**{v.claim.name}** `{v.claim.text}`",
                "",
                v.sentence(),
                "",
                _decided_by(v),
            ]
            if fv is not None:
                lines += ["", _fitted_sentence(fv)]
            lines += [
                "",
                f"![{v.claim.name}](robustness_figures/{fig})",
            ]
    lines += ["", END]
    return "\n".join(lines)


def _session_seconds(manifest: Path) -> float:
    """Wall time of every session that ran part of a study (from its sweep manifest)."""
    from datetime import datetime

    sessions = json.loads(manifest.read_text())["sessions"]
    total = 0.0
    for ses in sessions:
        if ses.get("ran") and ses.get("ended"):
            a, b = (datetime.fromisoformat(ses[k]) for k in ("started", "ended"))
            total += (b - a).total_seconds()
    return total


def _plan(name: str, hold: list[str] | None = None, posterior: Path | None = None):
    from dataclasses import replace

    from sim.robustness.ranges import load_config
    from sim.robustness.study import plan_study

    cfg = load_config(RANGES)
    held = [*cfg.hold, *(hold or [])]  # and the scenario's own `held` (plan_study)
    cfg = replace(cfg, hold=held, steps=STEPS.get(name, cfg.steps))
    return plan_study(name, cfg, posterior=posterior)


def _study(name, study, folder, args, executor, log, key):
    """Run (or, with --report-only, read) one study; returns its analysis and wall time."""
    from sim.robustness.report import analyze, write_report
    from sim.robustness.study import run_study
    from sim.sweep.progress import make_progress
    from sim.sweep.results import SweepResults

    if args.report_only:
        results = SweepResults(folder / "runs")
        ran = 0
    else:
        before = os.getloadavg()
        results = run_study(
            study,
            folder,
            executor=executor,
            workers=args.workers,
            progress=make_progress(not sys.stderr.isatty()),
            force=args.force,
        )
        ran = results.report.ran
        if ran:
            log[key] = {"load_before": before, "load_after": os.getloadavg()}
    seconds = _session_seconds(folder / "runs" / "manifest.json")
    log.setdefault(key, {})["seconds"] = seconds
    analysis = analyze(study, results, seed=study.config.seed)
    write_report(analysis, folder)
    print(f"{key}: {analysis.runs_ok} runs, {ran} run now; {seconds:.0f} s in all", flush=True)
    for v in analysis.verdicts:
        print(f"  {v.sentence()}", flush=True)
    return analysis, results, seconds


def main(argv: list[str] | None = None) -> int:
    from sim.sweep.executors import make_executor

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=SCENARIOS, help="just these scenarios")
    p.add_argument("--dask", help="a Dask scheduler address, or 'local'")
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument("--results", default=str(ROOT / "results" / "robustness"))
    p.add_argument("--force", action="store_true", help="discard stored runs of other studies")
    p.add_argument(
        "--skip", action="append", default=[], choices=SCENARIOS, help="leave these scenarios out"
    )
    p.add_argument("--no-doc", action="store_true", help="run and report, leave the doc alone")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: judge the runs stored in --results and write the reports and the doc",
    )
    p.add_argument(
        "--hold",
        action="append",
        default=[],
        metavar="KEY",
        help="also keep this ranged parameter at each scenario's value (a side study; with "
        "--no-doc or --only, and its own --results)",
    )
    p.add_argument(
        "--fitted",
        default=str(FITTED),
        metavar="FOLDER",
        help="a 'cxsim facts' fit: every study runs again over its worlds, those that reproduce "
        "the published facts (default: %(default)s)",
    )
    p.add_argument("--no-fitted", action="store_true", help="only the plausible worlds")
    args = p.parse_args(argv)
    names = [n for n in args.only or SCENARIOS if n not in args.skip]
    results_dir = Path(args.results)
    fitted = None if args.no_fitted else Path(args.fitted)
    if fitted is not None and not (fitted / "posterior.parquet").exists():
        print(
            f"run_all: {fitted / 'posterior.parquet'} not found: fit the worlds to the published "
            f"facts first (.venv/bin/cxsim facts --out {fitted}, about 35 min on 2 cores), or "
            "pass --no-fitted",
            file=sys.stderr,
        )
        return 2
    log_path = results_dir / LOADS
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    analyses, seconds, study, closed, fitted_analyses = [], {}, None, {}, {}
    # one pool (or one Dask cluster) for every scenario's sweep, started once, not per sweep
    dask = "dask" if args.dask == "local" else args.dask  # 'local' alone is the process pool
    executor = None if args.report_only else make_executor(dask, args.workers)
    with executor or contextlib.nullcontext():
        for name in names:
            study = _plan(name, args.hold)
            folder = results_dir / name
            analysis, results, seconds[name] = _study(
                name, study, folder, args, executor, log, name
            )
            closed[name] = closures(results, study.steps)
            analyses.append((analysis, folder))
            if fitted is not None:
                fstudy = _plan(name, args.hold, fitted / "posterior.parquet")
                fitted_analyses[name], _, seconds[f"fitted/{name}"] = _study(
                    name,
                    fstudy,
                    results_dir / "fitted" / name,
                    args,
                    executor,
                    log,
                    f"fitted/{name}",
                )
            results_dir.mkdir(parents=True, exist_ok=True)
            log_path.write_text(json.dumps(log, indent=2) + "\n")
    if not args.no_doc and not args.only and not args.hold:
        text = DOC.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        section = results_section(
            analyses, seconds, study, log, closed, args.skip, fitted_analyses, fitted
        )
        DOC.write_text(head + section + tail, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)} and {FIGURES.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
