"""Shared body of the per-check scripts in this folder: run one check alone, with its negative
control, and save the figures."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.validation import run_checks


def main(name: str) -> None:
    """Parse ``--quick --out --seed``, run check ``name`` and its control, print both; exit 0 if
    the check passes and its control fails."""
    parser = argparse.ArgumentParser(description=f"Run the {name} validation check alone.")
    parser.add_argument("--quick", action="store_true", help="the small version the tests run")
    parser.add_argument(
        "--out", type=Path, default=Path("results/validation"), help="folder for the figures"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    (result,) = run_checks("quick" if args.quick else "full", [name], args.out, args.seed)
    control = result.control
    print(
        f"{result.title}\n  mechanism: {result.mechanism}\n  target:    {result.target}\n"
        f"  measured:  {result.measured}\n"
        f"  result:    {'pass' if result.passed else 'FAIL'} ({result.seconds:.0f} s)\n"
        f"  control:   {control.measured}\n"
        f"             {'PASSES' if control.passed else 'fails, as it must'}"
    )
    for r in (result, control):
        if r.figure:
            print(f"  figure:    {r.figure}")
    details = {k: v for k, v in result.details.items() if k != "ablations"}
    print(json.dumps(details, indent=2, default=str)[:4000])
    for label, a in result.details.get("ablations", {}).items():
        print(f"  ablation {label}: {a.measured} ({'pass' if a.passed else 'FAIL'})")
    raise SystemExit(0 if result.earned else 1)
