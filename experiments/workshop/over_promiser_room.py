"""The room docs/workshop.md quotes: an over-promiser against two honest firms, round by round.

    .venv/bin/python experiments/workshop/over_promiser_room.py      # about 10 s

A workshop room on ``overpromise_vs_honest`` (1,000 customers, 13-week rounds, 8 rounds) with
three participants: "Over" promises 50% more than it delivers and puts 90% of its customer
budget into marketing, "Honest" keeps every default, "Market" is honest with all of its customer
budget on marketing. Each round prints every firm's customers, annual retention and long-run
value (customers x lifetime value, the leaderboard's default ranking), and the over-promiser's
NPS: ranked by customers the over-promiser leads, ranked by value it ends last.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sim.workshop import Workshop

NAMES = ("Over", "Honest", "Market")
CHOICES = {"Over": {"promise_level": 0.5, "marketing": 0.9}, "Market": {"marketing": 1.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        shop = Workshop(str(Path(folder) / "rooms.sqlite"))
        try:
            code, key = shop.create_room(
                "overpromise_vs_honest", weeks=13, rounds=args.rounds, customers=1000
            )
            tokens = {name: shop.join(code, name)[0] for name in NAMES}
            print("round  " + "  ".join(f"{n:>28}" for n in NAMES) + "  NPS of Over")
            head = f"{'customers':>9} {'retention':>9} {'value':>8}"
            print("       " + "  ".join(head for _ in NAMES))
            for r in range(args.rounds):
                shop.start_round(code, key)
                if r == 0:
                    for name, choice in CHOICES.items():
                        shop.submit(code, tokens[name], choice)
                board = {row["name"]: row for row in shop.close_round(code, key)}
                cells = [
                    f"{board[n]['customers']:>9.0f} {board[n]['retention']:>9.0%} "
                    f"{board[n]['value']:>8,.0f}"
                    for n in NAMES
                ]
                print(f"{r + 1:>5}  " + "  ".join(cells) + f"  {board['Over']['nps']:>+10.0f}")
        finally:
            shop.close()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # a reader that stopped early (`| head`): Python's own recipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
