"""Validation check `disconfirmation_beats_expectation` (see `sim.validation.survey`) run alone at full size.

python experiments/validation/disconfirmation_beats_expectation.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("disconfirmation_beats_expectation")
