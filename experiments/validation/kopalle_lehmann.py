"""Validation check `kopalle_lehmann` (see `sim.validation.kopalle_lehmann`) run alone at full size.

python experiments/validation/kopalle_lehmann.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("kopalle_lehmann")
