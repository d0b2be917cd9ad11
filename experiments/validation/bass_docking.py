"""Validation check `bass_docking` (see `sim.validation.bass`) run alone at full size.

python experiments/validation/bass_docking.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("bass_docking")
