"""Validation check `loss_asymmetry` (see `sim.validation.survey`) run alone at full size.

python experiments/validation/loss_asymmetry.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("loss_asymmetry")
