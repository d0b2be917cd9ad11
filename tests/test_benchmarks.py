"""The benchmark scripts' workers run against this package and time what they say they time.

Speed is never asserted here (experiments/benchmarks measures it); these tests catch a benchmark
that the model's changes broke (``engine=`` after issue 11) or whose hooks no longer fire (the
market's own recorder after issue 16, which its batch never calls).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
import sim.state

BENCH = Path(__file__).resolve().parents[1] / "experiments" / "benchmarks"


@pytest.fixture(scope="module")
def scripts():
    sys.path.insert(0, str(BENCH))
    try:
        import before_after
        import step_scaling

        yield before_after, step_scaling
    finally:
        sys.path.remove(str(BENCH))


def test_phase_worker_times_every_part_of_the_batched_step(scripts):
    before_after, _ = scripts
    import sim.rules

    done = subprocess.run(
        [sys.executable, "-c", before_after.WORKER, "400", "2", "-"],
        capture_output=True,
        text=True,
        check=True,
        cwd=BENCH.parents[1],
    )
    parts = json.loads(done.stdout.strip().splitlines()[-1])
    steps = {"phases 2-5" if name == "customers" else name for name, _ in sim.rules.STEPS}
    expected = steps | {"whole step", "decisions", "metrics", "rest"}
    assert set(parts) == expected
    # the baseline records every step: the batch's recorder ran and took time
    assert parts["metrics"][1] > 0 and parts["decisions"][1] > 0
    whole = parts["whole step"][1]
    timed = sum(cpu for name, (_, cpu) in parts.items() if name not in ("whole step", "rest"))
    assert 0 < timed <= whole * 1.05


def test_phase_worker_times_a_batch_of_markets(scripts):
    before_after, _ = scripts
    one, three = (
        json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    before_after.WORKER,
                    "300",
                    "2",
                    "-",
                    str(b),
                    "service_vs_price",
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=BENCH.parents[1],
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for b in (1, 3)
    )
    assert set(one) == set(three)  # the batch's recorder and decisions are timed as one's
    assert three["decisions"][1] > 0 and three["metrics"][1] > 0


def test_step_scaling_measures_the_single_engine(scripts):
    _, step_scaling = scripts
    r = step_scaling.measure(300, 1, "baseline")
    assert r["customers"] == 300 and r["steps"] == 1
    assert "engine" not in r and r["threads"] >= 1
    assert r["step_s_median"] > 0 and r["build_s"] >= r["network_s"] >= 0


def test_bandwidth_share_is_the_least_traffic_over_the_step_time(scripts):
    sys.path.insert(0, str(BENCH))
    try:
        import bandwidth
    finally:
        sys.path.remove(str(BENCH))
    gbs, share = bandwidth.achieved(1000.0, 0.5, 10.0)  # 1000 MiB in 0.5 s, 10 GB/s machine
    assert gbs == pytest.approx(1000 * 2**20 / 0.5 / 1e9)
    assert share == pytest.approx(gbs / 10.0)
    # twice as fast a step reaches twice the share
    assert bandwidth.achieved(1000.0, 0.25, 10.0)[1] == pytest.approx(2 * share)
    # the step is compared with the faster of two bandwidth runs: a busy minute at either end
    # of make bench (26.9 against 38.1 GB/s, 5 December) must not make its share look larger
    busy, quiet = {"copy_gbs": 26.9, "run": "busy"}, {"copy_gbs": 38.1, "run": "quiet"}
    assert bandwidth.fastest_run([busy, quiet])["run"] == "quiet"
    assert bandwidth.fastest_run([quiet, busy])["run"] == "quiet"


def test_least_traffic_classifies_every_customer_array_by_what_a_step_does_to_it(scripts):
    """bandwidth.py's least bytes a step moves: every array of the customer state is in exactly
    one group, and the groups say what a baseline step does to the array's memory, counted in
    64-byte lines: the step changes most lines of the arrays counted as rewritten (but the
    decayed warnings, rewritten as zero when no firm warns) and fewer than half of the others'
    (what the listeners heard: about 42% of its lines; the complaints: 39%)."""
    sys.path.insert(0, str(BENCH))
    try:
        import bandwidth
    finally:
        sys.path.remove(str(BENCH))
    groups = (bandwidth.READ_WRITE, bandwidth.READ_ONLY, bandwidth.WRITE_ONLY)
    named = [name for group in (*groups, tuple(bandwidth.NOT_COUNTED)) for name in group]
    fields = [f.name for f in dataclasses.fields(sim.state.CustomerState)]
    assert sorted(named) == sorted(fields)  # each once, none forgotten
    model = sim.CustomerMarket("baseline", rng=3, overrides={"market.customers": 2000})
    for _ in range(10):
        model.step()
    cs = model.customer_state
    before = {name: getattr(cs, name).copy() for name in fields}
    model.step()

    def changed(name: str) -> float:  # share of the array's 64-byte lines with a value changed
        a, b = before[name].reshape(-1), getattr(cs, name).reshape(-1)
        same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
        per_line = 64 // a.itemsize
        whole = len(a) // per_line * per_line
        return float((~same[:whole]).reshape(-1, per_line).any(axis=1).mean())

    for name in (*bandwidth.READ_WRITE, *bandwidth.WRITE_ONLY):
        if name != "warnings":
            assert changed(name) > 0.5, f"{name}: counted as rewritten, {changed(name):.0%}"
    for name in (*bandwidth.READ_ONLY, *bandwidth.NOT_COUNTED):
        assert changed(name) < 0.5, f"{name}: counted as not rewritten, {changed(name):.0%}"


def test_batch_vs_large_times_the_same_customers_three_ways():
    """batch_vs_large.py (issue 16, item 1): the same customers' steps alone, batched and as
    one market, each a CPU time a customer-step, on one thread; the caller's threads are set
    back after."""
    sys.path.insert(0, str(BENCH))
    from sim.jit import threads

    before = threads()
    try:
        import batch_vs_large

        ns = batch_vs_large.measure("overpromise_vs_honest", 2, 60, 2, repeats=1)
    finally:
        sys.path.remove(str(BENCH))
    assert threads() == before
    assert set(ns) == {"alone", "batched", "one"}
    assert all(0 < v < 1e9 for v in ns.values())


def test_two_workers_timeline_sees_every_batch_in_its_worker():
    """two_workers.py times the pool's batches inside the workers: with 2 workers, two worker
    processes each report their batches (make_batches: one a worker here), and their busy
    time holds their CPU."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "two_workers.py"), "--runs", "8", "--timeline", "2"],
        capture_output=True,
        text=True,
        check=True,
        cwd=BENCH.parents[1],
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    workers = got["workers"]
    assert len(workers) == 2
    assert [w["batches"] for w in workers] == [1, 1]
    for w in workers:
        assert 0 <= w["first"] < w["end"] <= got["wall"]
        assert 0 < w["user"] <= w["busy"] * 1.05 + 0.05


def test_two_workers_serial_sweeps_run_alone_and_side_by_side():
    """two_workers.py's second measurement: serial sweeps in processes of their own, warmed up
    first, then started together; each reports its wall and CPU time (its warm-up once named
    a constant its code did not import, and the script ended in an IndexError)."""
    sys.path.insert(0, str(BENCH))
    try:
        import two_workers

        got = two_workers.serial(2, 2)
    finally:
        sys.path.remove(str(BENCH))
    assert len(got) == 2
    for g in got:
        assert g["wall"] > 0 and 0 < g["cpu"] <= g["wall"] * 1.05 + 0.05


@pytest.mark.parametrize(
    ("script", "args", "says"),
    [
        ("two_workers.py", ["--runs", "0"], "--runs: expected at least 4, got 0"),
        ("batched_sweep.py", ["--rounds", "x"], "--rounds: expected a whole number, got 'x'"),
        ("batched_sweep.py", ["--long-runs", "1"], "--long-runs: expected at least 2, got 1"),
        ("batched_sweep.py", ["--scaling-pairs", "0"], "--scaling-pairs: expected at least 1"),
        ("batch_vs_large.py", ["--markets", "1"], "--markets: expected at least 2, got 1"),
        ("batch_vs_large.py", ["--scenarios", "nosuch"], "--scenarios: nosuch: file not found"),
    ],
)
def test_sweep_benchmarks_refuse_a_bad_count_with_one_message(script, args, says):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        cwd=BENCH.parents[1],
    )
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_scaling_is_the_median_of_the_pairs_with_their_spread():
    """batched_sweep.py's scaling figure: each pair's ``wall1 / (2 * wall2)``, the median of
    the pairs, the middle half and how many reached 90%: one slow 2-worker sweep moves the
    median by one pair, not the figure to that sweep's value."""
    sys.path.insert(0, str(BENCH))
    try:
        from batched_sweep import described, scaling
    finally:
        sys.path.remove(str(BENCH))
    walls = [(1.8, 1.0), (1.9, 1.0), (2.0, 1.0), (1.8, 1.5), (1.9, 0.95)]
    got = scaling(walls)
    assert got["pairs"] == sorted(a / (2 * b) for a, b in walls)
    assert got["median"] == pytest.approx(0.95)
    assert got["at_90"] == 4
    low, high = got["quartiles"]
    assert got["pairs"][0] <= low <= got["median"] <= high <= got["pairs"][-1]
    assert "of 5 pairs" in described(got) and "4 at 90% or more" in described(got)
    assert scaling([(1.0, 1.0)])["median"] == pytest.approx(0.5)
