"""Validation check `retention_rises_with_tenure` (see `sim.validation.relationships`), alone.

python experiments/validation/retention_rises_with_tenure.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("retention_rises_with_tenure")
