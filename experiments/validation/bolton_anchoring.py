"""Validation check `bolton_anchoring` (see `sim.validation.relationships`) run alone at full size.

python experiments/validation/bolton_anchoring.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("bolton_anchoring")
