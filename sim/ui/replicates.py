"""Replicate runs of two variants in a local process pool, and their statistics.

The Compare page runs each variant ``replicates`` times on worker processes. Where the platform
has it (Linux, macOS) the workers are forked from a *fork server* that imported the package and
ran a tiny market once (:mod:`sim.ui.warm_worker`), so a worker starts with the compiled kernels
loaded and steps at once; :func:`prestart` starts that server in the background when a session
opens. Elsewhere they are spawned (each imports the package itself). The worker function
:func:`run_replicates` is a module-level function that needs only the ``sim`` package; it
steps a batch of one variant's replicates together (``sim.batch``: each run's numbers are
those it gets alone), as many batches as half the workers, so a step's fixed cost is shared.
Replicate ``r`` of both variants uses the same random stream, ``SeedSequence(entropy=seed,
spawn_key=(r,))`` (common random numbers, the convention of the sweep layer), so the
differences are paired and their confidence intervals tight.

Workers report progress through a queue every few steps; :class:`ReplicateRun` can be cancelled
at any moment, which terminates the workers at once. What the page shows of the runs (which
runs each mean is over, the bands, the paired differences) is :mod:`sim.ui.replicate_stats`'.
"""

from __future__ import annotations

import itertools
import os
import queue as queue_module
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.metrics import served_per_industry
from sim.sweep import context
from sim.ui.replicate_stats import (
    FIRM_METRICS,
    LIMITS,
    MARKET_METRICS,
    MIN_PAIRS,
    OPEN_ONLY,
    ZERO_WHEN_CLOSED,
    CompareResult,
    firm_values,
    mean_band,
    paired_difference,
)

__all__ = [
    "FIRM_METRICS",
    "LIMITS",
    "MARKET_METRICS",
    "MIN_PAIRS",
    "OPEN_ONLY",
    "ZERO_WHEN_CLOSED",
    "CompareResult",
    "CompareSpec",
    "ReplicateRun",
    "mean_band",
    "paired_difference",
    "prestart",
    "run_replicate",
    "run_replicates",
    "worker_context",
]

_PROGRESS: Any = None

WARM_MODULE = "sim.ui.warm_worker"
"""Imported by the fork server before it forks any worker (see :func:`worker_context`)."""


def worker_context() -> Any:
    """The multiprocessing context of the workers: a fork server preloaded with
    :data:`WARM_MODULE` where available, else spawn (``sim.sweep.context``: one fork server
    for the sweeps and this page, warmed by whichever starts it first)."""
    return context.worker_context(WARM_MODULE)


def prestart() -> None:
    """Start the workers' fork server now, so that it is warm by the first comparison
    (returns at once; the server warms up in its own process)."""
    context.prestart(WARM_MODULE)


def _init_worker(progress: Any) -> None:
    """Worker set-up: keep the progress queue; leave Ctrl-C to the parent; leave the objects it
    inherited out of the garbage collector's passes (``sim.sweep.context.freeze_inherited``);
    numpy's BLAS on one thread (``sim.sweep.context.one_blas_thread``)."""
    import signal

    context.freeze_inherited()
    context.one_blas_thread()
    global _PROGRESS
    _PROGRESS = progress
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_replicate(
    variant: str, replicate: int, scenario: Any, seed: int, steps: int
) -> dict[str, Any]:
    """One run of one variant (executed on a worker process): :func:`run_replicates` of one."""
    return run_replicates(variant, (replicate,), scenario, seed, steps)[0]


def run_replicates(
    variant: str, replicates: tuple[int, ...], scenario: Any, seed: int, steps: int
) -> list[dict[str, Any]]:
    """Runs of one variant, stepped together as one batch (``sim.batch``; executed on a worker
    process): each run's numbers are those it gets alone, for less time (a step's fixed cost
    is shared by the batch's markets).

    Parameters
    ----------
    variant
        ``"A"`` or ``"B"``.
    replicates
        Replicate numbers; with ``seed`` each fixes its run's random stream.
    scenario
        The variant's :class:`sim.Scenario`.
    seed
        Entropy shared by all runs of the comparison.
    steps
        Steps to run.

    Returns
    -------
    list of dict
        One per replicate, in order: ``variant``, ``replicate``, ``market`` and ``firms``
        (DataFrames of the compared metrics per recorded step), ``seconds`` (its share of the
        batch's time); or ``error`` with a one-line message. If the batch fails, each run is
        run alone, so the error is the failing run's.
    """
    from sim.batch import MarketBatch
    from sim.jit import use_threads
    from sim.model import CustomerMarket

    started = time.perf_counter()
    use_threads(1)  # the replicates run in parallel processes: one kernel thread each
    every = max(1, steps // 40)
    markets: list[Any] = []

    def progress(done: int, total: int) -> None:
        if _PROGRESS is not None and (done % every == 0 or done == total):
            for r, model in zip(replicates, markets, strict=True):  # a stopped one: its steps
                _PROGRESS.put((f"{variant}{r}", min(done, model.steps)))

    try:
        for r in replicates:
            rng = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(r),))
            markets.append(CustomerMarket(scenario, rng=rng, batched=True))
        # the page shows no cohorts and no intention to stay: not kept, the survey not asked
        MarketBatch(markets, cohorts=False, survey=False).run(steps, progress=progress)
    except Exception as e:
        # each alone: to find the failing run, or markets on the complete graph (a batch of
        # several refuses them)
        if len(replicates) > 1:
            markets.clear()
            return [run_replicate(variant, r, scenario, seed, steps) for r in replicates]
        return [_failed(variant, replicates[0], e)]
    share = (time.perf_counter() - started) / len(markets)
    return [
        _tables(variant, r, model, steps, share)
        for r, model in zip(replicates, markets, strict=True)
    ]


def _tables(variant: str, replicate: int, model: Any, steps: int, seconds: float) -> dict:
    """A run's result: its compared metrics per recorded step."""
    try:
        market = model.model_metrics()
        market["served_share"] = served_per_industry(market, model.n_customers)
        market = market[["step", "year", *MARKET_METRICS]]
        firms = model.firm_metrics()
        firms = firms[["step", "year", "name", "alive", "active", *FIRM_METRICS]].copy()
        firms = firm_values(firms)
    except Exception as e:  # a failed run is reported, not raised in the pool
        return _failed(variant, replicate, e)
    if _PROGRESS is not None:
        _PROGRESS.put((f"{variant}{replicate}", steps))
    return {
        "variant": variant,
        "replicate": replicate,
        "market": market,
        "firms": firms,
        "seconds": seconds,
        # forked from a warm server: this page's, or the sweeps' (whichever started first)
        "warm": WARM_MODULE in sys.modules or "sim.sweep.warm" in sys.modules,
    }


def _failed(variant: str, replicate: int, e: Exception) -> dict[str, Any]:
    return {
        "variant": variant,
        "replicate": replicate,
        "error": f"{type(e).__name__}: {e}".splitlines()[0][:300],
        "traceback": traceback.format_exc(),
    }


@dataclass(frozen=True)
class CompareSpec:
    """What to compare.

    Attributes
    ----------
    a, b
        The two scenarios.
    labels
        Their names on the page.
    replicates
        Runs per variant.
    steps
        Steps per run.
    seed
        Entropy of the replicate streams.
    """

    a: Any
    b: Any
    labels: tuple[str, str]
    replicates: int = 10
    steps: int = 520
    seed: int = 0

    @property
    def runs(self) -> int:
        """Runs in all."""
        return 2 * self.replicates


def _carry_closed(slot: dict[str, np.ndarray], replicate: int, last: int) -> None:
    """A run that stopped early (every firm closed, ``sim.batch``) recorded nothing after its
    column ``last``: a firm closed there stays closed, with no share and no profit."""
    closed = slot["closed"][replicate, last]
    if last + 1 >= slot["closed"].shape[1] or not closed > 0:
        return
    slot["closed"][replicate, last + 1 :] = 1.0
    for metric in ZERO_WHEN_CLOSED:
        slot[metric][replicate, last + 1 :] = 0.0


def _assemble(spec: CompareSpec, results: list[dict[str, Any]], seconds: float) -> CompareResult:
    ok = [r for r in results if "error" not in r]
    errors = [
        f"{r['variant']} replicate {r['replicate']}: {r['error']}" for r in results if "error" in r
    ]
    if not any(r["variant"] == "A" for r in ok) or not any(r["variant"] == "B" for r in ok):
        raise RuntimeError(
            "no run of "
            + ("A" if not any(r["variant"] == "A" for r in ok) else "B")
            + " finished: "
            + "; ".join(errors[:3])
        )
    step_sets = [set(r["market"]["step"]) for r in ok]
    steps = np.array(sorted(set.union(*step_sets)))
    a_years = {
        int(s): y for r in ok for s, y in zip(r["market"]["step"], r["market"]["year"], strict=True)
    }
    years = np.array([a_years[int(s)] for s in steps])
    reps = spec.replicates
    market: list[dict[str, np.ndarray]] = [{}, {}]
    firms: list[dict[str, dict[str, np.ndarray]]] = [{}, {}]
    ran = [np.zeros(reps, bool), np.zeros(reps, bool)]
    position = {int(s): i for i, s in enumerate(steps)}
    for v, name in enumerate(("A", "B")):
        for metric in MARKET_METRICS:
            market[v][metric] = np.full((reps, len(steps)), np.nan)
        for r in (r for r in ok if r["variant"] == name):
            ran[v][r["replicate"]] = True
            cols = [position[int(s)] for s in r["market"]["step"]]
            for metric in MARKET_METRICS:
                market[v][metric][r["replicate"], cols] = r["market"][metric].to_numpy(float)
            for firm, g in r["firms"].groupby("name", sort=False):
                slot = firms[v].setdefault(
                    firm,
                    {m: np.full((reps, len(steps)), np.nan) for m in (*FIRM_METRICS, "closed")},
                )
                fcols = [position[int(s)] for s in g["step"]]
                for metric in (*FIRM_METRICS, "closed"):
                    slot[metric][r["replicate"], fcols] = g[metric].to_numpy(float)
                if fcols:
                    _carry_closed(slot, r["replicate"], max(fcols))
    warm = all(r.get("warm", False) for r in ok)
    return CompareResult(spec.labels, steps, years, market, firms, errors, seconds, warm, ran)


def _stop(pool: ProcessPoolExecutor, kill: bool) -> None:
    """Shut the pool down; with ``kill``, terminate workers still running a replicate."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not kill, cancel_futures=True)
    if kill:
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)


class ReplicateRun:
    """A comparison running on a pool of worker processes.

    Parameters
    ----------
    spec
        What to run.
    workers
        Worker processes (default: the cores this process may use, at most one per run).
    """

    def __init__(self, spec: CompareSpec, workers: int | None = None) -> None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cores = os.cpu_count() or 1
        self.spec = spec
        self.workers = max(1, min(workers or cores, spec.runs))
        self.done_steps: dict[str, int] = {}
        self.finished = 0

    def groups(self, scenario: Any) -> list[tuple[int, ...]]:
        """The replicates of a variant, cut into the batches its workers step (one task each):
        as many batches as half the workers (the two variants run side by side), more where a
        batch would pass ``BATCH_CUSTOMERS`` customers, of sizes that differ by one at most."""
        from sim.sweep.worker import BATCH_CUSTOMERS

        customers = max(1, int(scenario.market.customers))
        size = max(1, BATCH_CUSTOMERS // customers)
        reps = self.spec.replicates
        count = min(reps, max(-(-self.workers // 2), -(-reps // size)))
        return [tuple(int(r) for r in part) for part in np.array_split(np.arange(reps), count)]

    @property
    def total_steps(self) -> int:
        """Steps of all runs together."""
        return self.spec.runs * self.spec.steps

    @property
    def steps_done(self) -> int:
        """Steps run so far, over all runs."""
        return min(self.total_steps, sum(self.done_steps.values()))

    @property
    def fraction(self) -> float:
        """Share of all steps of all runs done, 0..1."""
        total = self.total_steps
        return self.steps_done / total if total else 1.0

    def progress_text(self, seconds: float) -> str:
        """What the page says while the runs go: steps done (every few steps of every run),
        whole runs done, and the time so far."""
        if not self.steps_done:
            return (
                f"starting {self.workers} worker processes for {self.spec.runs} runs of "
                f"{self.spec.steps:,} steps · {seconds:.0f} s"
            )
        return (
            f"{self.steps_done:,} of {self.total_steps:,} steps ({self.finished} of "
            f"{self.spec.runs} runs done) · {seconds:.0f} s"
        )

    def run(
        self,
        on_progress: Callable[[ReplicateRun], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        poll: float = 0.2,
    ) -> CompareResult | None:
        """Run every replicate; return the result, or None if cancelled (workers terminated).

        Parameters
        ----------
        on_progress
            Called with this object whenever progress was made.
        cancelled
            Polled every ``poll`` seconds; True stops the run at once.
        """
        started = time.perf_counter()
        ctx = worker_context()
        progress = ctx.Queue()
        pool = ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=_init_worker, initargs=(progress,)
        )
        spec = self.spec
        variants = [
            [(v, group, scenario) for group in self.groups(scenario)]
            for v, scenario in zip("AB", (spec.a, spec.b), strict=True)
        ]
        pending = {  # A's and B's batches in turn
            pool.submit(run_replicates, v, group, scenario, spec.seed, spec.steps)
            for pair in itertools.zip_longest(*variants)
            for v, group, scenario in filter(None, pair)
        }
        results: list[dict[str, Any]] = []
        clean = False
        try:
            while pending:
                if cancelled():
                    return None
                done, pending = wait(pending, timeout=poll, return_when=FIRST_COMPLETED)
                moved = self._drain(progress)
                for job in done:
                    try:
                        runs = job.result()
                        results.extend(runs)
                    except BrokenProcessPool as e:
                        raise RuntimeError(
                            "a worker process died (out of memory, killed, or "
                            f"it could not start): {e}"
                        ) from None
                    self.finished += len(runs)
                    moved = True
                if moved and on_progress is not None:
                    on_progress(self)
            clean = True
        finally:
            _stop(pool, kill=not clean)
            progress.close()
            progress.join_thread()
        return _assemble(spec, results, time.perf_counter() - started)

    def _drain(self, progress: Any) -> bool:
        moved = False
        while True:
            try:
                key, done = progress.get_nowait()
            except queue_module.Empty:
                return moved
            except (OSError, ValueError, EOFError):  # queue closed under us
                return moved
            self.done_steps[key] = max(done, self.done_steps.get(key, 0))
            moved = True
