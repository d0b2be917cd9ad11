"""Sweep files, designs, run ids and seeds, and the plan's checks against the scenario.

Nothing here runs the model: these are the fast tests of what a sweep will run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.sweep.design import build_design, column_type
from sim.sweep.plan import build_plan
from sim.sweep.seeds import point_id, run_id, run_ids, run_seed, seed_key
from sim.sweep.spec import SpecError, load_spec

FIXTURE = str(Path(__file__).parent / "fixtures" / "sweep" / "tiny.toml")
EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def spec(**changes):
    data = {
        "name": "t",
        "scenario": FIXTURE,
        "seed": 7,
        "replicates": 2,
        "steps": 20,
        "parameters": [
            {"key": "firms.Probe.levers.inflation", "name": "inflation", "values": [0.0, 0.2, 0.4]}
        ],
    }
    data.update(changes)
    return data


# -- the file ---------------------------------------------------------------------------------


def test_unknown_key_names_file_key_and_allowed(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(f'name = "x"\nscenario = "{FIXTURE}"\nreplicate = 3\n')
    with pytest.raises(SpecError) as e:
        load_spec(f)
    msg = str(e.value)
    assert msg.startswith(f"{f}: replicate: unknown key; expected one of:")
    assert "replicates" in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        (
            {
                "design": {"kind": "sobol", "samples": 10},
                "parameters": [
                    {"key": "a", "low": 0, "high": 1},
                    {"key": "b", "low": 0, "high": 1},
                ],
            },
            "design.samples",
            "power of 2",
        ),
        (
            {
                "design": {"kind": "morris", "samples": 4, "levels": 3},
                "parameters": [
                    {"key": "a", "low": 0, "high": 1},
                    {"key": "b", "low": 0, "high": 1},
                ],
            },
            "design.levels",
            "even",
        ),
        (
            {"design": {"kind": "lhs"}, "parameters": [{"key": "a", "low": 0, "high": 1}]},
            "design.samples",
            "required",
        ),
        ({"parameters": [{"key": "a", "values": [1, 1]}]}, "parameters[0].values", "distinct"),
        (
            {"parameters": [{"key": "a", "low": 2, "high": 1, "num": 3}]},
            "parameters[0].high",
            "expected high > low",
        ),
        ({"parameters": [{"key": "a", "low": 1}]}, "parameters[0].high", "both low and high"),
        (
            {"parameters": [{"key": "a", "values": [1]}, {"key": "b", "name": "a", "values": [2]}]},
            "parameters[1].name",
            "unique",
        ),
        (
            {"parameters": [{"key": "a", "name": "run_id", "values": [1]}]},
            "parameters[0].name",
            "used by the results",
        ),
        ({"design": {"kind": "grd"}}, "design.kind", "expected 'grid'"),
        ({"output": {"every": 0}}, "output.every", ">= 1"),
        ({"analysis": {"x": "nope"}}, "analysis.x", "expected a parameter name"),
        ({"design": {"kind": "list"}}, "design.points", "[[design.points]]"),
    ],
)
def test_spec_errors_name_the_key_and_expectation(changes, key, words):
    with pytest.raises(SpecError) as e:
        load_spec(spec(**changes))
    assert str(e.value).startswith(f"<sweep>: {key}: ")
    assert words in str(e.value)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(SpecError, match=r"nope\.toml: file not found"):
        load_spec(tmp_path / "nope.toml")


def test_samples_change_only_for_sampled_designs():
    s = load_spec(
        spec(design={"kind": "lhs", "samples": 8}, parameters=[{"key": "a", "low": 0, "high": 1}])
    )
    assert s.with_changes(samples=16).design.samples == 16
    with pytest.raises(SpecError, match=r"^--samples 16: is for lhs, sobol and morris designs; "):
        load_spec(spec()).with_changes(samples=16)
    with pytest.raises(SpecError, match=r"^--replicates 0: expected a whole number from 1 to "):
        load_spec(spec()).with_changes(replicates=0)  # the flag's, not the file's
    with pytest.raises(SpecError, match="power of 2"):
        load_spec(
            spec(
                design={"kind": "sobol", "samples": 8},
                parameters=[{"key": "a", "low": 0, "high": 1}, {"key": "b", "low": 0, "high": 1}],
            )
        ).with_changes(samples=12)


def test_with_changes_revalidates_and_keeps_the_source(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(load_spec(spec()).to_toml())
    s = load_spec(f).with_changes(replicates=5, steps=9, customers=150, fixed={"network.k": 4})
    assert (s.replicates, s.steps, s.source_path) == (5, 9, f.resolve())
    assert s.fixed == {"market.customers": 150, "network.k": 4}


# -- designs ----------------------------------------------------------------------------------


def test_grid_is_the_full_product_first_parameter_slowest():
    s = load_spec(
        spec(
            parameters=[
                {"key": "a", "values": [1, 2]},
                {"key": "b", "low": 0.0, "high": 0.5, "num": 6},
            ]
        )
    )
    d = build_design(s)
    assert len(d.points) == 12 and len(d.row_points) == 12
    assert [p.overrides["a"] for p in d.points] == [1] * 6 + [2] * 6
    assert [p.overrides["b"] for p in d.points[:6]] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert [p.dtype for p in d.parameters] == ["int", "float"]


def test_list_design_labels_and_text_columns():
    s = load_spec(
        spec(
            parameters=[],
            design={
                "kind": "list",
                "points": [
                    {
                        "label": "composed",
                        "set": {"firms.Probe.strategy": ["overpromise", "proactive"]},
                    },
                    {"set": {"firms.Probe.strategy": "niche", "firms.Probe.levers": {}}},
                ],
            },
        )
    )
    d = build_design(s)
    assert [p.label for p in d.points] == [
        "composed",
        "firms.Probe.levers={}, firms.Probe.strategy=niche",
    ]
    types = {p.column: p.dtype for p in d.parameters}
    assert types == {"firms.Probe.strategy": "text", "firms.Probe.levers": "text"}
    assert d.points[0].values["firms.Probe.strategy"] == '["overpromise","proactive"]'
    assert d.points[1].values["firms.Probe.strategy"] == "niche"
    assert d.points[0].values["firms.Probe.levers"] is None


def test_list_design_refuses_a_repeated_point():
    with pytest.raises(SpecError, match=r"design\.points\[1\]\.set: expected a new point"):
        load_spec(
            spec(
                parameters=[],
                design={
                    "kind": "list",
                    "points": [{"set": {"a": 1}}, {"label": "again", "set": {"a": 1}}],
                },
            )
        )


def test_lhs_is_in_bounds_stratified_and_reproducible():
    s = load_spec(
        spec(
            design={"kind": "lhs", "samples": 20},
            parameters=[{"key": "a", "low": 0, "high": 10}, {"key": "b", "low": -1, "high": 1}],
        )
    )
    d1, d2 = build_design(s), build_design(s)
    assert np.array_equal(d1.matrix, d2.matrix)
    assert d1.matrix.shape == (20, 2)
    # Latin hypercube: exactly one sample in each of the 20 strata of every dimension
    for j, (lo, hi) in enumerate([(0, 10), (-1, 1)]):
        strata = np.floor((d1.matrix[:, j] - lo) / (hi - lo) * 20).astype(int)
        assert sorted(strata) == list(range(20))
    other = build_design(load_spec({**s.to_dict(), "seed": 8}))
    assert not np.array_equal(other.matrix, d1.matrix)


def test_sobol_and_morris_sizes_and_repeated_morris_points():
    params = [{"key": k, "low": 0, "high": 1} for k in ("a", "b", "c")]
    d = build_design(load_spec(spec(design={"kind": "sobol", "samples": 16}, parameters=params)))
    assert len(d.row_points) == 16 * (3 + 2) and d.problem["names"] == ["a", "b", "c"]
    d2 = build_design(
        load_spec(
            spec(design={"kind": "sobol", "samples": 16, "second_order": True}, parameters=params)
        )
    )
    assert len(d2.row_points) == 16 * (2 * 3 + 2)
    m = build_design(
        load_spec(spec(design={"kind": "morris", "samples": 10, "levels": 4}, parameters=params))
    )
    assert len(m.row_points) == 10 * (3 + 1)
    assert set(np.unique(m.matrix)) <= {0.0, 1 / 3, 2 / 3, 1.0} | {
        float(f"{v:.12g}") for v in (1 / 3, 2 / 3)
    }
    # a point visited by two trajectories is one point (run once), used by both rows
    assert len(m.points) == len(set(m.row_points)) <= len(m.row_points)


def test_integer_parameters_are_rounded():
    d = build_design(
        load_spec(
            spec(
                design={"kind": "lhs", "samples": 8},
                parameters=[{"key": "market.customers", "low": 100, "high": 300, "integer": True}],
            )
        )
    )
    assert d.parameters[0].dtype == "int"
    assert all(isinstance(p.overrides["market.customers"], int) for p in d.points)


def test_column_types():
    assert column_type([True, False]) == "bool"
    assert column_type([1, 2]) == "int"
    assert column_type([1, 2.5]) == "float"
    assert column_type(["a", "b"]) == "str"
    assert column_type(["a", ["b", "c"]]) == "text"


# -- ids and seeds ----------------------------------------------------------------------------


def test_run_ids_and_seeds_depend_only_on_parameters_and_replicate():
    a = build_plan(spec())
    b = build_plan(
        spec(
            parameters=[
                {
                    "key": "firms.Probe.levers.inflation",
                    "name": "inflation",
                    "values": [0.4, 0.0, 0.2],
                }
            ]
        )
    )
    by_point = {(t.overrides["firms.Probe.levers.inflation"], t.replicate): t for t in a.tasks}
    for t in b.tasks:
        u = by_point[(t.overrides["firms.Probe.levers.inflation"], t.replicate)]
        assert (t.run_id, t.seed_key, t.seed_entropy) == (u.run_id, u.seed_key, u.seed_entropy)
    assert len({t.run_id for t in a.tasks}) == len(a.tasks) == 6
    assert a.tasks[0].seed_key == int(a.tasks[0].run_id, 16)
    # the stream is SeedSequence(entropy=sweep seed, spawn_key=(key,)), nothing else
    s = run_seed(7, a.tasks[0].seed_key)
    assert (s.entropy, s.spawn_key) == (7, (a.tasks[0].seed_key,))
    c = build_plan(spec(seed=8))
    assert c.tasks[0].run_id == a.tasks[0].run_id
    assert not np.array_equal(
        run_seed(8, c.tasks[0].seed_key).generate_state(4),
        run_seed(7, a.tasks[0].seed_key).generate_state(4),
    )


def test_point_and_run_ids_are_canonical():
    assert point_id({"a": 1, "b": 0.5}) == point_id({"b": 0.5, "a": 1})
    assert point_id({"a": 1}) != point_id({"a": 1.0})
    assert run_id({"a": 1}, 0) != run_id({"a": 1}, 1)
    assert point_id({"a": np.float64(0.5)}) == point_id({"a": 0.5})
    # a point's ids at once are its ids one by one (the plan takes them at once)
    point = {"b": 0.5, "a": [1, 2], "c": "x"}
    assert run_ids(point, 4) == [run_id(point, r) for r in range(4)]
    assert run_id(point, 2) == "0e27c3fff9e0bba7"  # ids, hence seeds, of earlier sweeps kept


def test_common_random_numbers_share_seeds_across_points():
    plan = build_plan(spec(common_random_numbers=True))
    keys = {}
    for t in plan.tasks:
        keys.setdefault(t.replicate, set()).add(t.seed_key)
    assert all(len(v) == 1 for v in keys.values()) and len(keys) == 2
    assert seed_key("00ff", 3) == 255


# -- the plan: checks against the scenario ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        (
            {"parameters": [{"key": "firms.Prob.levers.inflation", "values": [0.1]}]},
            "parameters[0].values[0]",
            "no entry named 'Prob'",
        ),
        (
            {"parameters": [{"key": "expectations.weight_promis", "values": [0.1]}]},
            "parameters[0].values[0]",
            "unknown key; expected one of: weight_promise",
        ),
        (
            {"parameters": [{"key": "expectations.rate_up", "low": 0.1, "high": 3.0, "num": 3}]},
            "parameters[0].high",
            "expected a number from 0 to 1, got 3.0",
        ),
        (
            {"parameters": [{"key": "firms.Probe.levers.inflaton", "values": [0.1]}]},
            "parameters[0].values[0]",
            "unknown lever",
        ),
        ({"set": {"market.customer": 10}}, "set", "unknown key"),
        ({"scenario": "no_such_scenario"}, "scenario", "file not found"),
        ({"analysis": {"outcomes": ["retention"]}}, "analysis.outcomes[0]", "a market metric"),
        (
            {"analysis": {"outcomes": ["firms.Nobody.profit"]}},
            "analysis.outcomes[0]",
            "a firm of the scenario (Steady, Probe)",
        ),
        (
            {"output": {"tables": ["market"]}, "analysis": {"outcomes": ["firms.profit"]}},
            "analysis.outcomes[0]",
            "needs the firms table",
        ),
        ({"output": {"market": ["nps", "bogus"]}}, "output.market[1]", "expected a market column"),
        ({"output": {"every": 5}, "analysis": {"at": 7}}, "analysis.at", "a kept step"),
        (
            {"parameters": [{"key": "market.customers", "name": "nps", "values": [200]}]},
            "parameters[0].name",
            "a metric column",
        ),
        (
            {
                "design": {
                    "kind": "list",
                    "points": [{"set": {"firms.Probe.strategy": "nonsense"}}],
                },
                "parameters": [],
            },
            "design.points[0].set",
            "expected one of honest",
        ),
    ],
)
def test_plan_checks_parameters_against_the_scenario(changes, key, words):
    with pytest.raises(SpecError) as e:
        build_plan(spec(**changes))
    msg = str(e.value)
    assert msg.startswith(f"<sweep>: {key}: "), msg
    assert words in msg and "\n" not in msg


def test_plan_hash_ignores_name_description_and_analysis_only():
    base = build_plan(spec())
    same = build_plan(spec(name="other", description="d", analysis={"outcomes": ["nps"]}))
    assert same.sweep_hash == base.sweep_hash
    for changes in (
        {"replicates": 3},
        {"steps": 21},
        {"seed": 8},
        {"set": {"market.customers": 150}},
        {"output": {"every": 5}},
    ):
        assert build_plan(spec(**changes)).sweep_hash != base.sweep_hash, changes


def test_plan_records_only_what_is_kept():
    plan = build_plan(spec(steps=20, output={"every": 5}))
    assert plan.scenario.collect_every == 5
    assert plan.output.every == 5
    final = build_plan(spec(steps=20, output={"every": "final"}))
    assert final.scenario.collect_every == 20 and final.output.every is None


@pytest.mark.skipif(not EXPERIMENTS.is_dir(), reason="no experiments folder")
@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_experiments_are_valid(path):
    plan = build_plan(path)
    assert plan.tasks and plan.outcomes


def test_list_design_shows_the_base_value_of_a_key_a_point_leaves_unset():
    """A list design whose points set an integer key in only some points: the others' cells
    hold the base scenario's value (what they ran at); writing the design table used to fail
    with ArrowInvalid (NaN in an int64 column)."""
    from sim.sweep.store import design_table

    s = load_spec(
        spec(
            parameters=[],
            design={
                "kind": "list",
                "points": [
                    {"set": {"market.customers": 300}},
                    {"set": {"expectations.rate_up": 0.2}},
                ],
            },
        )
    )
    plan = build_plan(s)
    base = plan.scenario
    values = [p.values for p in plan.design.points]
    assert values[0]["market.customers"] == 300
    assert values[1]["market.customers"] == base.market.customers != 300
    assert values[0]["expectations.rate_up"] == base.expectations.rate_up != 0.2
    table = design_table(plan).to_pydict()
    assert table["market.customers"] == [300, base.market.customers]
    assert "market.customers=300" in plan.design.points[0].label

    # without a base value the cell is empty (null), never NaN in an integer column
    d = build_design(s)
    assert d.points[1].values["market.customers"] is None
    assert {p.column: p.dtype for p in d.parameters}["market.customers"] == "int"


def test_a_typed_results_column_holds_nulls_where_a_value_is_missing():
    """``_column`` (the results' typed parameter columns, from a pandas column whose missing
    values are NaN or None): every missing value is a null of the column's type, every other
    value itself."""
    import pyarrow as pa

    from sim.sweep.store import _column

    cases = [
        (pd.Series([1.0, 2.0, np.nan]), pa.int64(), [1, 2, None]),
        (pd.Series([1, None, 3], dtype=object), pa.int64(), [1, None, 3]),
        (pd.Series([0.25, np.nan]), pa.float64(), [0.25, None]),
        (pd.Series([True, None, False], dtype=object), pa.bool_(), [True, None, False]),
        (pd.Series(["a", None, np.nan], dtype=object), pa.string(), ["a", None, None]),
    ]
    for values, typ, want in cases:
        got = _column(values, typ)
        assert got.type == typ and got.to_pylist() == want


def test_every_problem_of_a_sweep_file_is_a_line_of_its_own(tmp_path, capsys):
    from sim.cli import main

    f = tmp_path / "two.toml"
    f.write_text(
        f'name = "two"\nscenario = "{FIXTURE}"\nreplicates = 0\n[design]\nkind = "grid"\n'
        '[[parameters]]\nkey = "trust.loss"\nvalues = [1.0]\n[output]\nevery = 0\n'
    )
    with pytest.raises(SpecError) as e:
        load_spec(f)
    assert str(e.value).splitlines() == [
        f"{f}: replicates: expected a whole number from 1 to 100,000, got 0",
        f"{f}: output.every: expected a whole number >= 1 or 'final', got 0",
    ]
    assert "more problem" not in str(e.value)
    # values the scenario refuses: each one, in the scenario loader's words, the file as named
    bad = tmp_path / "values.toml"
    bad.write_text(
        f'name = "v"\nscenario = "{FIXTURE}"\nsteps = 5\n[[parameters]]\n'
        'key = "firms.Probe.levers.inflation"\nname = "inflation"\n'
        'values = [0.0, 0.1, "x", 0.3, -0.4, 0.5]\n'
    )
    code = main(["sweep", str(bad), "--out", str(tmp_path / "o"), "--serial", "--quiet"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 2, lines
    assert lines[0].startswith(f"cxsim: error: {bad}: parameters[0].values[2]: ")
    assert lines[0].endswith(': firms[1].levers.inflation: expected a number from 0 to 2, got "x"')
    assert lines[1].startswith(f"cxsim: error: {bad}: parameters[0].values[4]: ")
    assert lines[1].endswith("expected a number from 0 to 2, got -0.4")
    assert not any("Input should" in line or "unable to parse" in line for line in lines)
    assert not (tmp_path / "o").exists()
