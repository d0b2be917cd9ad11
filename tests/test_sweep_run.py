"""Running sweeps in-process and on a local process pool: determinism, the Parquet store, resume,
errors, readers (pandas and DuckDB)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim.sweep as sw
from sim.sweep import worker
from sim.sweep.executors import SerialExecutor, make_executor
from sim.sweep.plan import build_plan
from sim.sweep.runner import default_chunk_runs
from sim.sweep.store import SweepStore, SweepStoreError, chunk_dirs

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")


def spec(**changes):
    data = {
        "name": "run",
        "scenario": FIXTURE,
        "seed": 5,
        "replicates": 2,
        "steps": 20,
        "parameters": [
            {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.0, 0.2, 0.4]}
        ],
        "output": {"every": 5},
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    # chunks by run count only: a time-based flush would make their number depend on the
    # machine's speed (issue 17, item 15)
    out = tmp_path_factory.mktemp("ref") / "out"
    return sw.run(spec(), out, executor="serial", flush_seconds=float("inf"))


def frames(res):
    return res.df("market"), res.df("firms")


def assert_same(a, b):
    for x, y in zip(frames(a), frames(b), strict=True):
        pd.testing.assert_frame_equal(x, y)


# -- determinism across executors -------------------------------------------------------------


@pytest.mark.slow
def test_a_local_pool_gives_the_serial_numbers(reference, tmp_path):
    # pool size 1 against serial: tests/test_sweep_faults.py (the killed sweep's first half)
    # the comparison means something only when both pool processes took runs; on a loaded
    # machine the first can take both batches before the second has started (a fresh-clone CI
    # beside another saw it once), so the sweep runs again, at most three times, until both did
    for attempt in range(3):
        two = sw.run(spec(), tmp_path / f"two{attempt}", executor="local", workers=2)
        assert two.report.ok == 6
        assert_same(reference, two)
        if len(set(two.runs()["worker"])) == 2:
            return
    pytest.fail("in three sweeps one pool process took every run: the other never started")


def test_runs_stepped_together_give_the_numbers_of_runs_one_by_one(reference, tmp_path):
    """The sweep steps its small runs together on a worker (``run_batch``); the same sweep run
    one market at a time (``batch=False``) gives the same tables."""
    one_by_one = sw.run(spec(), tmp_path / "single", executor="serial", batch=False)
    assert_same(reference, one_by_one)


@pytest.mark.parametrize("size", [1, 2, 5, 12])
def test_a_batch_of_runs_gives_each_run_its_rows_alone(size):
    """``run_batch`` against ``run_one`` for every run of a design of different sizes,
    networks and parameters, in batches of ``size`` (the last one shorter)."""
    design = spec(
        replicates=2,
        parameters=[
            {"key": "market.customers", "name": "size", "values": [120, 260, 200]},
            {"key": "network.k", "name": "k", "values": [4, 8]},
        ],
    )
    keep = worker.OutputPlan(tables=("market", "firms", "cohorts"), every=3)
    tasks = [replace(t, output=keep) for t in build_plan(design).tasks]
    alone = {t.run_id: worker.run_one(t) for t in tasks}
    batches = [worker.RunBatch(tuple(tasks[i : i + size])) for i in range(0, len(tasks), size)]
    for batch in batches:
        results = worker.run_batch(batch)
        assert [r.run_id for r in results] == [t.run_id for t in batch.tasks]
        for r in results:
            a = alone[r.run_id]
            assert r.status == a.status == "ok" and r.steps_run == a.steps_run
            assert r.tables.keys() == a.tables.keys() == {"market", "firms", "cohorts"}
            for name, table in r.tables.items():
                pd.testing.assert_frame_equal(table, a.tables[name], check_exact=True)


BROKE = {"economics.exit_after_weeks": 2}
for _i in range(2):
    BROKE[f"firms[{_i}].unit_cost"] = 400.0
    BROKE[f"firms[{_i}].cash"] = 6.0


@pytest.mark.parametrize(
    "keep",
    [
        worker.OutputPlan(every=None),
        worker.OutputPlan(every=1),
        worker.OutputPlan(
            every=4,
            market_columns=("nps", "served[phones]", "active_firms"),
            firm_columns=("alive", "customers", "share"),
        ),
        worker.OutputPlan(tables=("firms",), every=7),
    ],
)
def test_a_batchs_tables_built_at_once_are_each_runs_own(keep, monkeypatch):
    """``run_batch`` reads every run's kept rows from the batch's recorder at once
    (``sim.sweep.tables``): the same frames, values and column types as each run's own
    (``run_one``), for kept steps, selected columns, a market whose firms all exit early and
    run columns that are missing for some points."""
    points = [
        {"label": "plain", "set": {"firms.Probe.levers.inflation": 0.1}},
        {"label": "broke", "set": BROKE},
        {"label": "bigger", "set": {"market.customers": 260, "network.k": 4}},
    ]
    design = spec(parameters=[], design={"kind": "list", "points": points}, steps=13)
    tasks = [replace(t, output=keep) for t in build_plan(design).tasks]
    alone = {t.run_id: worker.run_one(t) for t in tasks}
    stopped = [r for r in alone.values() if r.steps_run < 13]
    assert len(stopped) == 2, "the broke point's markets should stop early"

    def per_run(*args, **kwargs):
        raise AssertionError("the batch's tables should not be built run by run")

    monkeypatch.setattr(worker, "_frame", per_run)
    results = worker.run_batch(worker.RunBatch(tuple(tasks)))
    for r in results:
        a = alone[r.run_id]
        assert r.status == a.status == "ok", r.error
        assert r.steps_run == a.steps_run and r.tables.keys() == a.tables.keys()
        for name, table in r.tables.items():
            pd.testing.assert_frame_equal(table, a.tables[name], check_exact=True)
            assert list(table.dtypes) == list(a.tables[name].dtypes)


@pytest.mark.parametrize(
    ("keep", "asks"),
    [
        (worker.OutputPlan(), True),
        (worker.OutputPlan(firm_columns=("customers", "intention_to_stay")), True),
        (worker.OutputPlan(market_columns=("nps",), firm_columns=("customers",)), False),
        (worker.OutputPlan(tables=("market",), market_columns=("nps",)), False),
    ],
)
def test_a_batch_asks_the_survey_only_if_it_keeps_its_answer(keep, asks, monkeypatch):
    """The intention-to-stay panel costs as much as a step's switching; a batch whose kept
    columns leave it out does not ask it (and keeps the same rows)."""
    import sim.metrics

    calls = []
    real = sim.metrics.intention_to_stay
    monkeypatch.setattr(sim.metrics, "intention_to_stay", lambda *a: calls.append(1) or real(*a))
    tasks = [replace(t, output=keep) for t in build_plan(spec(replicates=2)).tasks[:3]]
    results = worker.run_batch(worker.RunBatch(tuple(tasks)))
    assert [r.status for r in results] == ["ok"] * 3
    assert bool(calls) == asks
    calls.clear()
    assert worker.run_one(tasks[0]).status == "ok"  # and a run alone, as its batch
    assert bool(calls) == asks


def test_batches_are_cut_to_the_customers_and_shared_by_the_workers():
    tasks = build_plan(spec(replicates=40)).tasks  # 120 runs of 200 customers
    sizes = lambda *a, **k: [len(b.tasks) for b in worker.make_batches(*a, **k)]  # noqa: E731
    assert sizes(tasks, 1) == [60, 60]  # 24,000 customers would fit one: two in all
    assert sizes(tasks, 1, customers=10_000) == [40, 40, 40]  # as few as fit, equal
    # more workers cut no more batches than one while each has one: one a worker
    assert sizes(tasks, 2) == [60, 60] and sizes(tasks, 4) == [30] * 4
    # a worker's share of more than SPLIT_SHARE customer-steps comes back in two pieces
    steps = worker.SPLIT_SHARE // (60 * 200) + 1
    long = [replace(t, steps=steps) for t in tasks]
    assert sizes(long, 2) == [30] * 4 and sizes(long, 1) == [60, 60]
    assert sizes(long[:118], 2) == [59, 59]  # 59 runs a worker: below it
    assert sizes(tasks, 2, customers=4_000) == [20] * 6  # 20 runs at most
    assert sizes(tasks, 2, customers=10_000) == [30] * 4  # 50 fit: a multiple of the workers
    assert sizes(tasks[:9], 2, customers=600) == [2, 2, 3, 2]  # 3 runs at most
    assert worker.make_batches(tasks[:7], 2, customers=300) == tasks[:7]  # 1 run: no batches
    assert sizes(tasks[:4], 2) == [2, 2]  # a batch a worker
    assert worker.make_batches(tasks[:2], 2) == tasks[:2]  # one run per worker: no batches
    batches = worker.make_batches(tasks, 3, customers=2_000)
    assert [t for b in batches for t in b.tasks] == tasks and len(batches) % 3 == 0


def test_replicates_differ_and_a_run_repeats_itself(reference, tmp_path):
    firms = reference.df("firms")
    final = firms[firms["step"] == 20].set_index(["inflation", "replicate", "name"])["customers"]
    assert not final.xs(0, level="replicate").equals(final.xs(1, level="replicate"))
    again = sw.run(spec(), tmp_path / "again", executor="serial")
    assert_same(reference, again)


def test_rows_kept_and_columns(reference):
    market, firms = frames(reference)
    assert sorted(market["step"].unique()) == [5, 10, 15, 20]
    assert len(market) == 6 * 4 and len(firms) == 6 * 4 * 2
    assert list(market.columns[:5]) == ["run_id", "point_id", "point", "replicate", "inflation"]
    assert market["inflation"].dtype == float
    runs = reference.runs()
    assert len(runs) == 6 and set(runs["status"]) == {"ok"}
    assert {"seed_entropy", "seed_key", "seconds", "worker", "attempts", "label"} <= set(runs)
    assert [int(k) for k in runs["seed_key"]] == [int(r, 16) for r in runs["run_id"]]
    assert runs["seed_key"].dtype == "uint64"


def test_duckdb_and_pandas_readers_agree(reference):
    rel = reference.sql(
        "SELECT inflation, avg(customers) AS c FROM firms "
        "WHERE step = 20 AND name = 'Probe' GROUP BY 1 ORDER BY 1"
    )
    firms = reference.df("firms")
    expected = (
        firms[(firms["step"] == 20) & (firms["name"] == "Probe")]
        .groupby("inflation")["customers"]
        .mean()
    )
    got = rel.df().set_index("inflation")["c"]
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert len(reference.relation("runs").df()) == 6
    opened = sw.open(reference.root)
    assert opened.parameters == ["inflation"] and opened.complete
    with pytest.raises(ValueError, match="expected one of runs"):
        opened.relation("nope")


def test_selected_columns_and_final_only(tmp_path):
    res = sw.run(
        spec(
            output={"every": "final", "tables": ["firms"], "firms": ["customers", "trust"]},
            analysis={"outcomes": ["firms.trust"]},
        ),
        tmp_path / "o",
        executor="serial",
    )
    firms = res.df("firms")
    assert set(firms["step"]) == {20}
    assert list(firms.columns[5:]) == [
        "step",
        "year",
        "firm",
        "name",
        "industry",
        "strategy",
        "active",  # always kept: which replicates a firm outcome is over
        "customers",
        "trust",
    ]
    assert res.files("market") == []


# -- the store --------------------------------------------------------------------------------


def test_chunks_are_written_as_runs_finish_and_manifest_records_everything(reference):
    root = reference.root
    chunks = chunk_dirs(root)
    assert 1 < len(chunks) < 6  # chunked, not one file and not one per run
    for d in chunks:
        assert {p.name for p in d.iterdir()} == {"runs.parquet", "market.parquet", "firms.parquet"}
    m = json.loads((root / "manifest.json").read_text())
    assert m["status"] == "complete" and m["counts"] == {
        "runs": 6,
        "ok": 6,
        "failed": 0,
        "missing": 0,
    }
    assert sorted(m["completed"]) == sorted(reference.runs()["run_id"])
    assert m["seeds"]["sweep_seed"] == 5 and "SeedSequence" in m["seeds"]["scheme"]
    assert {"mesa", "numpy", "pandas", "duckdb", "dask", "SALib", "python"} <= set(m["versions"])
    assert m["sessions"][-1]["status"] == "complete" and m["sessions"][-1]["ended"]
    assert (root / "spec.toml").exists() and (root / "scenario.toml").exists()
    assert len(pq.read_table(root / "design.parquet")) == 3
    assert not list((root / ".tmp").iterdir())


def test_chunk_files_encode_only_text_columns_by_dictionary(reference):
    # a run's numbers rarely repeat: a dictionary for them costs time and bytes (store.py)
    for path in chunk_dirs(reference.root)[0].glob("*.parquet"):
        meta = pq.ParquetFile(path).metadata
        schema = pq.read_schema(path)
        for i, field in enumerate(schema):
            by_dictionary = "RLE_DICTIONARY" in meta.row_group(0).column(i).encodings
            assert by_dictionary == (str(field.type) == "string"), (path.name, field.name)


def test_resume_runs_only_what_is_missing(reference, tmp_path):
    out = tmp_path / "r"
    shutil.copytree(reference.root, out)
    removed = chunk_dirs(out)[-1]
    lost = set(pq.read_table(removed / "runs.parquet")["run_id"].to_pylist())
    shutil.rmtree(removed)
    (out / ".tmp" / "chunk-half-written").mkdir()  # a crashed writer's leftovers
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["completed"] = []  # a manifest older than the chunks: the chunks decide
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = sw.run(spec(), out, executor="serial")
    assert res.report.skipped == 6 - len(lost)
    assert res.report.ok == len(lost)
    assert res.sql("SELECT count(*), count(DISTINCT run_id) FROM _runs_all").fetchall() == [(6, 6)]
    assert_same(reference, res)
    assert not list((out / ".tmp").iterdir())
    assert json.loads((out / "manifest.json").read_text())["counts"]["ok"] == 6
    nothing = sw.run(spec(), out, executor="serial")
    assert (nothing.report.skipped, nothing.report.ran, nothing.report.chunks) == (6, 0, 0)


def test_a_different_sweep_is_refused_and_force_replaces_it(reference, tmp_path):
    out = tmp_path / "x"
    shutil.copytree(reference.root, out)
    with pytest.raises(SweepStoreError) as e:
        sw.run(spec(replicates=3), out, executor="serial")
    msg = str(e.value)
    assert msg.startswith(f"{out}: holds results of a different sweep")
    assert "differ in replicates" in msg and "--force" in msg and "\n" not in msg
    res = sw.run(spec(replicates=1), out, executor="serial", force=True)
    assert len(res.runs()) == 3 and res.report.skipped == 0
    # editing only the name, description or analysis keeps the results
    same = sw.run(
        spec(replicates=1, name="renamed", analysis={"outcomes": ["nps"]}), out, executor="serial"
    )
    assert same.report.skipped == 3 and same.spec.analysis.outcomes == ["nps"]


def test_a_folder_with_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SweepStoreError, match=r"holds files but no manifest\.json"):
        sw.run(spec(), tmp_path, executor="serial")
    with pytest.raises(SweepStoreError, match=r"no manifest\.json"):
        sw.open(tmp_path)


def test_two_writers_are_refused(tmp_path):
    plan = build_plan(spec())
    first = SweepStore.open(tmp_path / "w", plan)
    try:
        with pytest.raises(SweepStoreError, match="another cxsim sweep is writing"):
            SweepStore.open(tmp_path / "w", plan)
    finally:
        first.finish("complete")
    SweepStore.open(tmp_path / "w", plan).finish("complete")


# -- failures ---------------------------------------------------------------------------------


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    failing = spec(
        parameters=[],
        replicates=1,
        design={
            "kind": "list",
            "points": [
                {"label": "fine", "set": {"firms.Probe.levers.inflation": 0.1}},
                {"label": "broken", "set": {"firms.Probe.levers.fail": True}},
                {"label": "fine too", "set": {"firms.Probe.levers.inflation": 0.3}},
            ],
        },
    )
    res = sw.run(failing, tmp_path / "f", executor="serial")
    assert (res.report.ok, res.report.failed) == (2, 1)
    ((run_id, label, rep, error),) = res.report.failures
    assert (label, rep) == ("broken", 0)
    assert error == "RuntimeError: sabotage: this run fails on purpose"
    errors = res.errors()
    assert list(errors["run_id"]) == [run_id]
    assert "Traceback" in errors["traceback"].iloc[0]
    assert set(res.df("market")["run_id"]) == set(res.runs()["run_id"]) - {run_id}
    m = res.manifest
    assert m["counts"]["failed"] == 1 and m["failed"][0]["error"] == error
    # a rerun does not repeat the failure unless asked to
    again = sw.run(failing, tmp_path / "f", executor="serial")
    assert again.report.ran == 0
    retried = sw.run(failing, tmp_path / "f", executor="serial", retry_failed=True)
    assert (retried.report.ran, retried.report.failed) == (1, 1)
    assert len(retried.runs()) == 3  # one row per run in the view, whatever the history


def test_executor_names():
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert make_executor("local", 2).workers == 2
    assert make_executor("tcp://127.0.0.1:8786").address == "tcp://127.0.0.1:8786"
    with pytest.raises(ValueError, match="expected 'serial', 'local', 'dask'"):
        make_executor("cluster")
    assert default_chunk_runs(6, 2) == 1
    assert default_chunk_runs(1000, 2) == 125
    assert default_chunk_runs(100_000, 8) == 200


def test_sweeps_inside_one_with_share_its_pool(reference, tmp_path):
    """A script's own ``with executor:`` keeps the pool for every sweep it runs inside; only the
    outermost exit stops it (sim.sweep.run enters the executor too)."""
    ex = make_executor("local", 2)
    with ex:
        first = sw.run(spec(), tmp_path / "a", executor=ex)
        pool = ex._pool
        workers = list(pool._processes.values())
        second = sw.run(spec(), tmp_path / "b", executor=ex)
        assert ex._pool is pool and all(p.is_alive() for p in workers)
    assert ex._pool is None and not any(p.is_alive() for p in workers)
    assert_same(first, reference)
    assert_same(second, reference)
    alone = sw.run(spec(), tmp_path / "c", executor=ex)  # not inside: its own pool, stopped
    assert ex._pool is None
    assert_same(alone, reference)


def test_a_worker_keeps_no_market_it_has_run():
    """Mesa 3.3.1 keeps every model that made an agent (mesa.Agent._ids): a worker that ran
    thousands of markets held them all, and its memory grew with the sweep."""
    import gc
    import weakref

    tasks = build_plan(spec(replicates=2)).tasks[:4]
    built = []
    real = worker._build
    try:
        worker._build = lambda task, *a: built.append(weakref.ref(m := real(task, *a))) or m
        assert [r.status for r in worker.run_batch(worker.RunBatch(tuple(tasks[:3])))] == ["ok"] * 3
        assert worker.run_one(tasks[3]).status == "ok"
    finally:
        worker._build = real
    gc.collect()
    assert len(built) == 4 and all(ref() is None for ref in built)


@pytest.mark.parametrize("released", [True, False], ids=["released", "control: kept"])
def test_a_batchs_state_is_freed_when_it_ends_not_at_the_next_full_collection(
    released, monkeypatch
):
    """A market and its agents refer to each other, so only a full collection of the cyclic
    garbage collector frees them, and a worker kept several batches' state until one ran (its
    peak 350-400 MB instead of about 230). ``release`` lets go of the batch's state: with the
    collector off, the batch and its arrays are gone when ``run_batch`` returns. Control: a
    ``release`` that only forgets the market in Mesa's registry leaves them alive."""
    import gc
    import weakref

    import sim.batch
    import sim.model

    held = []
    run_together = sim.batch.run

    def watched(markets, *args, **kwargs):
        out = run_together(markets, *args, **kwargs)
        held.append(weakref.ref(out[0]._batch))
        held.append(weakref.ref(out[0]._batch.customer_state.expectation))
        return out

    monkeypatch.setattr(sim.batch, "run", watched)
    if not released:
        monkeypatch.setattr(sim.model, "_HOLDS_STATE", ())
    tasks = build_plan(spec(replicates=2)).tasks[:3]
    gc.collect()
    gc.disable()
    try:
        results = worker.run_batch(worker.RunBatch(tuple(tasks)))
        assert [r.status for r in results] == ["ok"] * 3
        alive = [ref() is not None for ref in held]
    finally:
        gc.enable()
    assert len(held) == 2
    assert alive == [not released] * 2


def test_a_batch_is_written_in_one_chunk(reference):
    """Chunks end where batches end: a batch's runs arrive together, and writing them in one
    chunk writes fewer files (each costs the main process a Parquet write and an fsync while
    the workers run) than cutting them at the run count (3 chunks of 2 here)."""
    batches = worker.make_batches(list(build_plan(spec()).tasks), 1)
    assert [len(b.tasks) for b in batches] == [3, 3]
    assert default_chunk_runs(6, 1) == 2  # smaller than a batch
    chunks = [
        sorted(pq.read_table(d / "runs.parquet")["run_id"].to_pylist())
        for d in chunk_dirs(reference.root)
    ]
    assert chunks == [sorted(t.run_id for t in b.tasks) for b in batches]
