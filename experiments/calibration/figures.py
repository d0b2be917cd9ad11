"""Every figure and table of docs/calibration.md, made again (after the model's rules change).

Runs, in order, each resumable from its folder under --out (default results/calibration):

1. the worked example: ``cxsim calibrate`` of recovery_market to example_retention.csv;
2. the CDNOW comparison (experiments/calibration/cdnow.py), with the calibration file's four
   parameters and with the first three only (the file as first run);
3. the recovery benchmark (experiments/benchmarks/calibration_recovery.py, ``--replicates``
   data sets, ABC-SMC with ``--population`` particles and ``--generations``; 30, 100 and 2 by
   default), with the neural posterior estimation arm only where ``sbi`` is installed.

and writes the figures and their numbers to docs/calibration_figures/. docs/calibration.md gives
each part's time on this project's 2-core machine; the recovery benchmark is most of it.

The calibrations run with OpenBLAS's Haswell kernels (``OPENBLAS_CORETYPE=Haswell``, unless the
environment names a kernel; x86-64 with AVX2 only): OpenBLAS picks its kernels by processor, and
pyabc's proposal (a weighted covariance, its decomposition, the kernel density) computed with
the AVX-512 kernels of an Intel Xeon differs in its last bits from the one computed with the
AVX2 kernels of an AMD EPYC; the accept/reject steps turn that into another path. With the
kernel named, the page's figures are the same on both (docs/calibration.md, "Reproducing").

    nice -n 10 .venv/bin/python experiments/calibration/figures.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import tomli_w

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOCS = REPO / "docs" / "calibration_figures"


BLAS_KERNEL = "Haswell"
"""OpenBLAS's kernels for the calibrations (see the module docstring)."""


def environment() -> dict[str, str]:
    """This process's environment, OpenBLAS's kernels named where the processor has AVX2."""
    env = dict(os.environ)
    if "OPENBLAS_CORETYPE" in env or platform.machine().lower() not in ("x86_64", "amd64"):
        return env
    from numpy._core._multiarray_umath import __cpu_features__

    if __cpu_features__.get("AVX2"):
        env["OPENBLAS_CORETYPE"] = BLAS_KERNEL
    return env


def run(cmd: list[str]) -> float:
    env = environment()
    kernel = env.get("OPENBLAS_CORETYPE", "chosen by OpenBLAS")
    print(f"$ {' '.join(cmd)}  (OpenBLAS kernels: {kernel})", flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, env=env)
    return time.perf_counter() - started


def three_parameters(calibration: str) -> str:
    """CDNOW's calibration file without its fourth parameter, the outside option (the file as
    it was first run; docs/calibration.md shows both)."""
    data = tomllib.loads(calibration)
    if data.get("parameters", {}).pop("switching.outside_option", None) is None:
        raise SystemExit("cdnow_calibration.toml no longer has switching.outside_option")
    return tomli_w.dumps(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "results" / "calibration"))
    parser.add_argument("--skip", default="", help="comma list of example, cdnow, recovery")
    parser.add_argument("--population", type=int, default=100, help="recovery: ABC-SMC particles")
    parser.add_argument("--generations", type=int, default=2, help="recovery: after the prior")
    parser.add_argument("--replicates", type=int, default=30, help="recovery: data sets")
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
        # the first calibration the page shows: the file without its fourth parameter
        three = out / "cdnow_three_parameters"
        three.mkdir(parents=True, exist_ok=True)
        calibration = three / "cdnow_calibration.toml"
        calibration.write_text(three_parameters((HERE / "cdnow_calibration.toml").read_text()))
        times["cdnow, three parameters"] = run(
            [py, str(HERE / "cdnow.py"), "--out", str(three), "--calibration", str(calibration)]
        )
        shutil.copy(three / "cdnow_forecast.png", DOCS / "cdnow_forecast_three_parameters.png")
        shutil.copy(three / "cdnow_results.json", DOCS / "cdnow_results_three_parameters.json")
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
                "--replicates",
                str(args.replicates),
                "--docs",
            ]
        )
    print(json.dumps({k: round(v) for k, v in times.items()}, indent=1))


if __name__ == "__main__":
    main()
