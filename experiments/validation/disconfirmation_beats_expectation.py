"""Validation check `disconfirmation_beats_expectation` (see `sim.validation.survey`), alone.

Usage: python experiments/validation/disconfirmation_beats_expectation.py [--quick]
"""

from _run import main

if __name__ == "__main__":
    main("disconfirmation_beats_expectation")
