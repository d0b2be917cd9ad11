"""Validation check `levels` (see `sim.validation.levels`) run alone at full size.

python experiments/validation/levels.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("levels")
