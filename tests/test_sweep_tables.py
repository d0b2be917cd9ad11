"""A batch's tables built once and cut into its runs' frames (``sim.sweep.tables``): what the
cuts pickle as, what the store writes of them, and the runs left to the per-run path."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.sweep import store as store_module
from sim.sweep import worker
from sim.sweep.plan import build_plan
from sim.sweep.store import SweepStore, read_done, read_manifest
from sim.sweep.tables import Cut, joined

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")


def spec(**changes):
    data = {
        "name": "tables",
        "scenario": FIXTURE,
        "seed": 3,
        "replicates": 2,
        "steps": 12,
        "parameters": [
            {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.0, 0.3]}
        ],
        "output": {"every": 4},
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def batches():
    """The plan and its runs' results, in two batches stepped together."""
    plan = build_plan(spec(replicates=3))  # 6 runs
    tasks = list(plan.tasks)
    results = [worker.run_batch(worker.RunBatch(tuple(tasks[i : i + 3]))) for i in (0, 3)]
    return plan, results


def assert_same_results(a, b):
    assert [r.run_id for r in a] == [r.run_id for r in b]
    for x, y in zip(a, b, strict=True):
        assert list(x.tables) == list(y.tables)
        for name in x.tables:
            pd.testing.assert_frame_equal(x.tables[name], y.tables[name], check_exact=True)


def test_a_batchs_results_carry_each_table_once_when_pickled(batches):
    _, results = batches
    batch = results[0]
    assert all(set(r.cuts) == {"market", "firms"} for r in batch)
    assert all(r.cuts[n].frame is r.tables[n] for r in batch for n in r.tables)
    whole = {n: batch[0].cuts[n].whole for n in batch[0].cuts}
    assert all(r.cuts[n].whole is whole[n] for r in batch for n in whole)
    back = pickle.loads(pickle.dumps(batch))
    assert_same_results(batch, back)
    # the runs' cuts share one whole table again, and each run's frame is its own
    assert len({id(r.cuts["firms"].whole) for r in back}) == 1
    assert all(r.cuts[n].frame is r.tables[n] for r in back for n in r.tables)
    assert [list(r.tables) for r in back] == [["market", "firms"]] * 3
    # one run alone carries the whole batch's table; the batch, each table once
    plain = [replace(r, cuts={}) for r in batch]
    assert len(pickle.dumps(batch)) < len(pickle.dumps(plain))
    assert len(pickle.dumps(batch)) < 2 * len(pickle.dumps(batch[0]))


def test_a_table_replaced_after_its_cut_travels_and_is_written_as_it_is(batches, tmp_path):
    plan, results = batches
    batch = pickle.loads(pickle.dumps(results[0]))
    changed = batch[1].tables["market"].assign(nps=-1.0)
    batch[1].tables["market"] = changed
    back = pickle.loads(pickle.dumps(batch))
    pd.testing.assert_frame_equal(back[1].tables["market"], changed)
    assert "market" not in back[1].cuts and "firms" in back[1].cuts
    store = SweepStore.open(tmp_path / "out", plan)
    chunk = store.write_chunk(back)
    store.finish("complete")
    market = pq.read_table(chunk / "market.parquet").to_pandas()
    expected = pd.concat([r.tables["market"] for r in back], ignore_index=True)
    pd.testing.assert_frame_equal(market, expected)
    assert (market.loc[market["run_id"] == back[1].run_id, "nps"] == -1.0).all()


@pytest.mark.parametrize("order", ["batches", "interleaved", "some"])
def test_the_store_writes_cuts_as_it_writes_the_runs_frames(batches, tmp_path, order):
    """``joined``: neighbouring cuts of one table written as one piece give the same Parquet
    files as the runs' frames one by one, whatever the order and however many of a batch's
    runs a chunk holds."""
    plan, results = batches
    arrived = [r for b in results for r in pickle.loads(pickle.dumps(b))]
    if order == "interleaved":
        arrived = [arrived[i] for i in (0, 3, 1, 2, 5, 4)]
    elif order == "some":
        arrived = arrived[1:2] + arrived[3:5]
    plain = [replace(r, cuts={}) for r in arrived]
    written = {}
    for name, rs in (("cuts", arrived), ("plain", plain)):
        store = SweepStore.open(tmp_path / name, plan)
        chunk = store.write_chunk(rs)
        store.finish("complete")
        written[name] = {t: pq.read_table(chunk / f"{t}.parquet") for t in ("market", "firms")}
    for t in ("market", "firms"):
        assert written["cuts"][t].equals(written["plain"][t], check_metadata=True)
        frames = [(r.tables[t], r.cuts.get(t)) for r in arrived]
        wholes = {id(r.cuts[t].whole) for r in arrived}
        if order == "batches":  # each table built for a batch's runs is written whole
            assert len(joined(frames)) == len(wholes) < len(arrived)


def test_joined_keeps_frames_without_cuts_and_whole_tables_whole():
    whole = pd.DataFrame({"a": np.arange(6), "b": list("abcdef")})
    cuts = [Cut(whole, 0, 2), Cut(whole, 2, 6)]
    other = pd.DataFrame({"a": [9], "b": ["z"]})
    pieces = joined([(c.frame, c) for c in cuts])
    assert len(pieces) == 1 and pieces[0] is whole
    pieces = joined([(cuts[0].frame, cuts[0]), (other, None), (cuts[1].frame, cuts[1])])
    assert len(pieces) == 3 and pieces[1] is other
    got = pd.concat(pieces, ignore_index=True)
    expected = pd.concat([cuts[0].frame, other, cuts[1].frame], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)


def test_a_cut_is_its_runs_rows_indexed_from_0_before_and_after_pickling():
    whole = pd.DataFrame({"a": np.arange(6.0), "b": list("abcdef"), "c": np.arange(6)})
    for cut in (Cut(whole, 2, 5), pickle.loads(pickle.dumps(Cut(whole, 2, 5)))):
        expected = pd.DataFrame({"a": [2.0, 3.0, 4.0], "b": list("cde"), "c": [2, 3, 4]})
        pd.testing.assert_frame_equal(cut.frame, expected, check_exact=True)
        assert isinstance(cut.frame.index, pd.RangeIndex)
    assert list(whole.index) == list(range(6))  # the batch's table keeps its own index


def test_runs_whose_own_columns_pandas_would_type_otherwise_are_built_run_by_run():
    """A run column whose value is not None, a string, a bool, an int64 or a float (here a
    numpy float32 and an int beyond int64) leaves that run to the per-run path; runs of
    different column types in one batch are built apart; every run's frames are its own."""
    tasks = list(build_plan(spec(steps=6)).tasks)
    values = [{"inflation": np.float32(0.5)}, {"inflation": 2**63}, {"inflation": None}, {}]
    tasks = [replace(t, values=v) for t, v in zip(tasks, values, strict=True)]
    alone = {t.run_id: worker.run_one(t) for t in tasks}
    results = worker.run_batch(worker.RunBatch(tuple(tasks)))
    assert [bool(r.cuts) for r in results] == [False, False, True, True]
    for r in results:
        a = alone[r.run_id]
        for name, table in r.tables.items():
            pd.testing.assert_frame_equal(table, a.tables[name], check_exact=True)
            assert list(table.dtypes) == list(a.tables[name].dtypes)


def test_the_manifest_is_rewritten_after_a_chunk_once_it_lags_by_more_than_2_percent(
    batches, tmp_path, monkeypatch
):
    """With ``MANIFEST_LAG`` at 0.25 (2% in use) and a run a chunk, the manifest is rewritten
    after each chunk while it lists fewer than 4 runs, then once a quarter more runs were
    written; at the end of the session always, listing every run."""
    plan, results = batches
    monkeypatch.setattr(store_module, "MANIFEST_LAG", 0.25)
    listed = []
    real = store_module.write_json_atomic

    def write(path, data):
        listed.append(len(data["completed"]))
        real(path, data)

    monkeypatch.setattr(store_module, "write_json_atomic", write)
    store = SweepStore.open(tmp_path / "out", plan)
    for r in (r for batch in results for r in batch):
        store.write_chunk([r])
    assert listed == [0, 1, 2, 3, 4, 6]  # 5: 1 run since 4 listed, not more than 1
    store.finish("complete")
    assert listed[-1] == 6
    m = read_manifest(tmp_path / "out")
    assert m["status"] == "complete" and m["counts"]["ok"] == 6
    assert sorted(m["completed"]) == sorted(read_done(tmp_path / "out"))
