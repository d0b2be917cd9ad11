"""Which implementation of the step's hot loops a model uses: compiled (numba) or numpy.

Both engines apply the same rules to the same state and take every random number from the same
streams of the model's generator, in the same order: they differ only in float rounding (the
compiled kernels add in a different order), which ``tests/test_engines.py`` bounds. The numpy
engine is the readable statement of each rule and the fallback where numba is not installed;
the compiled engine runs the per-customer phases in one pass over each customer's state.

``CustomerMarket(engine=...)`` chooses per model; the default is ``"auto"``: the
``CXSIM_ENGINE`` environment variable if set, else numba when it can be imported, else numpy.

This module must never import anything from the package.
"""

from __future__ import annotations

import functools
import importlib.util
import os

__all__ = ["ENGINES", "EngineError", "numba_available", "resolve_engine", "use_threads"]

ENGINES = ("numba", "numpy")
"""The engines a model can run on."""

ENV = "CXSIM_ENGINE"


class EngineError(ValueError):
    """An engine that does not exist or cannot run here was asked for."""


@functools.cache
def numba_available() -> bool:
    """True when numba can be imported in this environment."""
    if importlib.util.find_spec("numba") is None:
        return False
    try:
        import numba  # noqa: F401
    except Exception:  # a broken install (e.g. llvmlite missing) counts as unavailable
        return False
    return True


def resolve_engine(engine: str | None = "auto") -> str:
    """The engine to use for ``engine`` (``"auto"``, ``"numba"``, ``"numpy"`` or ``None``).

    Parameters
    ----------
    engine
        ``"auto"`` (or ``None``) reads ``CXSIM_ENGINE`` and otherwise picks numba when it is
        installed; ``"numba"`` and ``"numpy"`` ask for that engine.

    Returns
    -------
    str
        ``"numba"`` or ``"numpy"``.

    Raises
    ------
    EngineError
        For an unknown name, or ``"numba"`` asked for where numba cannot be imported.
    """
    source = "engine"
    if engine is None or engine == "auto":
        engine = os.environ.get(ENV, "").strip().lower() or "auto"
        source = ENV
    if engine == "auto":
        return "numba" if numba_available() else "numpy"
    if engine not in ENGINES:
        raise EngineError(f"{source}: expected one of auto, numba, numpy; got {engine!r}")
    if engine == "numba" and not numba_available():
        raise EngineError(
            f"{source}: numba was asked for but cannot be imported here; "
            "install it (pip install numba) or use engine='numpy'"
        )
    return engine


def use_threads(n: int) -> None:
    """Let the compiled kernels called from this thread use at most ``n`` threads.

    The sweep runs one market per worker and sets 1, so that two runs do not each start a
    thread per core. numba's setting is per calling thread; without numba this does nothing.
    """
    if numba_available():
        import numba

        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
