"""Worlds measured on a local pool, each result kept in a JSON-lines file as it arrives.

``cxsim facts`` measures the published facts in thousands of worlds (:mod:`sim.robustness.fit`)
and then the out-of-sample checks in some of them (:mod:`sim.robustness.holdout`). Both go
through :class:`MeasuredWorlds`: the caller names each world by a key, the worlds not measured
yet are measured (on a local process pool, :func:`sim.sweep.executors.local_pool`, or in this
process), and each result is appended to the file as it finishes, so a stopped command measures
only what is missing when run again.

A measure takes a list of worlds (``sim.robustness.facts.world_distances_many`` steps their
markets together), so the worlds go to the pool in chunks (:func:`chunks`: at most
:data:`CHUNK` worlds, as few chunks as that allows in a multiple of the workers); a chunk's
results are kept as it finishes. The results do not depend on the chunks.

The pool's module is imported only when a pool opens. This module never imports the model or
the UI.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["CHUNK", "Measure", "MeasuredWorlds", "chunks", "world_key"]

Measure = Callable[[list[dict[str, Any]], int], Sequence[Any]]
"""``measure(worlds, seed) -> numbers of each world``: a module-level function (the pool
pickles it by name)."""

CHUNK = 64
"""Worlds a chunk holds at most: 64 worlds' facts are 64 x 1,500 customers a batch, and take
about 25 s of a core (0.36 s a world, against 1.8 alone: docs/robustness.md)."""


def chunks(n: int, workers: int, most: int = CHUNK) -> list[range]:
    """``range(n)`` cut into chunks of at most ``most`` and of equal sizes (within one), as
    few as that allows, in a multiple of ``workers`` when there are enough items."""
    if n == 0:
        return []
    count = -(-n // most)
    count = min(n, -(-count // workers) * workers)
    bounds = [n * c // count for c in range(count + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


def world_key(values: Mapping[str, Any]) -> str:
    """A world's key by its values alone (the same world, the same key, whoever asks)."""
    text = json.dumps({k: float(v) for k, v in values.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _call(
    item: tuple[Measure, list[str], list[dict[str, Any]], int],
) -> list[tuple[str, list[float]]]:
    measure, keys, worlds, seed = item
    results = measure(worlds, seed)
    return [(k, [float(x) for x in r]) for k, r in zip(keys, results, strict=True)]


class MeasuredWorlds:
    """The results of ``measure`` in named worlds, kept in ``path`` (JSON lines: key, result).

    Parameters
    ----------
    measure
        What is measured in a list of worlds (:data:`Measure`).
    path
        The file (read back when it exists); None keeps nothing.
    seed
        Passed to ``measure`` (the same for every world).
    workers
        Processes; 1 measures in this process. Use as a context manager to open the pool.
    """

    def __init__(self, measure: Measure, path: Path | None, seed: int, workers: int = 1) -> None:
        self.measure_many, self.path, self.seed = measure, path, int(seed)
        self.workers = max(1, int(workers))
        self.known: dict[str, list[float]] = {}
        self.fresh = 0
        """Worlds measured by this object (the others were read back from ``path``)."""
        self._pool: ProcessPoolExecutor | None = None
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.known[rec["key"]] = rec["result"]

    def __enter__(self) -> MeasuredWorlds:
        if self.workers > 1:
            from sim.sweep.executors import local_pool

            self._pool = local_pool(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def measure(self, worlds: Mapping[str, dict[str, Any]]) -> dict[str, list[float]]:
        """Each world's result, by key; those not known yet are measured and kept first."""
        todo = [(key, world) for key, world in worlds.items() if key not in self.known]
        items = [
            (self.measure_many, [todo[i][0] for i in c], [todo[i][1] for i in c], self.seed)
            for c in chunks(len(todo), self.workers)
        ]
        if items:
            done = self._pool.map(_call, items) if self._pool else map(_call, items)
            f = self.path.open("a", encoding="utf-8") if self.path is not None else None
            try:
                for chunk in done:
                    for key, result in chunk:
                        self.known[key] = result
                        self.fresh += 1
                        if f is not None:
                            f.write(json.dumps({"key": key, "result": result}) + "\n")
                    if f is not None:
                        f.flush()
            finally:
                if f is not None:
                    f.close()
        return {key: self.known[key] for key in worlds}
