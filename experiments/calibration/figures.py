"""Every figure and table of docs/calibration.md, made again (after the model's rules change).

Runs, in order, each resumable from its folder under --out (default results/calibration):

1. the worked example: ``cxsim calibrate`` of recovery_market to example_retention.csv;
2. the CDNOW comparison (experiments/calibration/cdnow.py);
3. the recovery benchmark (experiments/benchmarks/calibration_recovery.py, ABC-SMC with
   ``--population`` particles and ``--generations``, 100 and 2 by default), with the neural
   posterior estimation arm only where ``sbi`` is installed.

and writes the figures and their numbers to docs/calibration_figures/. docs/calibration.md gives
each part's time on this project's 2-core machine; the recovery benchmark is most of it.

    nice -n 10 .venv/bin/python experiments/calibration/figures.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOCS = REPO / "docs" / "calibration_figures"


def run(cmd: list[str]) -> float:
    print("$", " ".join(cmd), flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "results" / "calibration"))
    parser.add_argument("--skip", default="", help="comma list of example, cdnow, recovery")
    parser.add_argument("--population", type=int, default=100, help="recovery: ABC-SMC particles")
    parser.add_argument("--generations", type=int, default=2, help="recovery: after the prior")
    args = parser.parse_args()
    out, skip = Path(args.out), set(filter(None, args.skip.split(",")))
    DOCS.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    times = {}
    if "example" not in skip:
        folder = out / "example"
        times["example"] = run(
            [
                py,
                "-m",
                "sim.cli",
                "calibrate",
                str(HERE / "recovery_market.toml"),
                str(HERE / "example_retention.csv"),
                str(HERE / "example_calibration.toml"),
                "--out",
                str(folder),
            ]
        )
        shutil.copy(folder / "predictive.png", DOCS / "example_predictive.png")
        shutil.copy(folder / "marginals.png", DOCS / "example_marginals.png")
    if "cdnow" not in skip:
        times["cdnow"] = run([py, str(HERE / "cdnow.py"), "--out", str(out / "cdnow"), "--docs"])
    if "recovery" not in skip:
        times["recovery"] = run(
            [
                py,
                str(REPO / "experiments" / "benchmarks" / "calibration_recovery.py"),
                "--out",
                str(out / "recovery"),
                "--population",
                str(args.population),
                "--generations",
                str(args.generations),
                "--docs",
            ]
        )
    print(json.dumps({k: round(v) for k, v in times.items()}, indent=1))


if __name__ == "__main__":
    main()
