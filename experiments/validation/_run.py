"""Shared body of the per-check scripts in this folder: run one check alone and save its figure."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.validation import CHECKS


def main(name: str) -> None:
    """Parse ``--quick --out --seed``, run check ``name``, print it, exit 0 if it passes."""
    parser = argparse.ArgumentParser(description=f"Run the {name} validation check alone.")
    parser.add_argument("--quick", action="store_true", help="the small version the tests run")
    parser.add_argument(
        "--out", type=Path, default=Path("results/validation"), help="folder for the figure"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = CHECKS[name]("quick" if args.quick else "full", args.out, args.seed)
    print(
        f"{result.title}\n  target:   {result.target}\n  measured: {result.measured}\n"
        f"  result:   {'pass' if result.passed else 'FAIL'} ({result.seconds:.0f} s)"
    )
    if result.figure:
        print(f"  figure:   {result.figure}")
    print(json.dumps(result.details, indent=2, default=str)[:4000])
    raise SystemExit(0 if result.passed else 1)
