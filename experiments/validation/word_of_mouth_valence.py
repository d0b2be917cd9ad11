"""Validation check `word_of_mouth_valence` (see `sim.validation.levels`) run alone at full size.

python experiments/validation/word_of_mouth_valence.py [--quick] [--out results/validation]
"""

from _run import main

if __name__ == "__main__":
    main("word_of_mouth_valence")
