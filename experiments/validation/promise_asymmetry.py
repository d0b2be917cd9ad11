"""Validation check `promise_asymmetry` (see `sim.validation.promises`) run alone at full size.

python experiments/validation/promise_asymmetry.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("promise_asymmetry")
