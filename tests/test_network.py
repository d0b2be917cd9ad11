"""Tests of sim.network: generators, edge-list loading and the two adjacency implementations."""

from __future__ import annotations

import gzip
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.network import (
    COMPLETE_MATERIALIZE_LIMIT,
    NETWORK_KINDS,
    Adjacency,
    CompleteAdjacency,
    EdgeListError,
    barabasi_albert_edges,
    block_sizes_for,
    build_adjacency,
    edges_from_networkx,
    erdos_renyi_edges,
    read_edge_list,
    region_of,
    stochastic_block_edges,
    watts_strogatz_edges,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def edge_set(u: np.ndarray, v: np.ndarray) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in zip(u.tolist(), v.tolist(), strict=True) if a != b}


def adjacency_edge_set(adj: Adjacency) -> set[tuple[int, int]]:
    return set(adj.to_networkx().edges())


def dense(adj: Adjacency) -> np.ndarray:
    return adj.matrix.toarray().astype(np.float64)


@pytest.fixture(scope="module")
def karate() -> tuple[nx.Graph, Adjacency]:
    graph = nx.karate_club_graph()
    u, v, n = edges_from_networkx(graph)
    return graph, Adjacency.from_edges(u, v, n)


# --------------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k"), [(20, 4), (31, 6), (12, 5), (10, 2)])
def test_watts_strogatz_without_rewiring_is_networkx_ring_lattice(n: int, k: int) -> None:
    u, v = watts_strogatz_edges(n, k, 0.0, rng())
    expected = {tuple(sorted(e)) for e in nx.watts_strogatz_graph(n, k, 0).edges()}
    assert edge_set(u, v) == expected
    adj = Adjacency.from_edges(u, v, n)
    assert adj.degree.sum() == n * (k // 2) * 2
    assert (adj.degree == (k // 2) * 2).all()


def test_watts_strogatz_rewiring_keeps_edge_count_and_clustering() -> None:
    n, k = 2000, 10
    adj = build_adjacency("watts_strogatz", n, rng(1), k=k, p=0.1)
    # Rewiring only moves far ends; the few duplicates it creates are dropped.
    assert 0.99 * n * k <= adj.degree.sum() <= n * k
    u, v = watts_strogatz_edges(n, k, 0.1, rng(1))
    assert len(u) == n * k // 2
    assert (u != v).all()
    rewired = np.mean(((v - u) % n > k // 2) & ((u - v) % n > k // 2))
    assert rewired == pytest.approx(0.1 * (1 - k / n), abs=0.015)
    ws_clustering = nx.average_clustering(adj.to_networkx())
    er_clustering = nx.average_clustering(
        build_adjacency("erdos_renyi", n, rng(1), mean_degree=k).to_networkx()
    )
    assert ws_clustering > 0.4  # about 0.67 * 0.9**3 = 0.49
    assert er_clustering < 0.02
    assert ws_clustering > 20 * er_clustering


def test_watts_strogatz_validates_arguments() -> None:
    with pytest.raises(ValueError, match="k < n"):
        watts_strogatz_edges(10, 10, 0.1, rng())
    with pytest.raises(ValueError, match="p must be in"):
        watts_strogatz_edges(10, 4, 1.5, rng())
    with pytest.raises(ValueError):
        watts_strogatz_edges(10, -2, 0.1, rng())
    u, v = watts_strogatz_edges(10, 1, 0.5, rng())
    assert len(u) == len(v) == 0


def test_barabasi_albert_is_heavy_tailed_with_mean_degree_2m() -> None:
    n, m = 20_000, 3
    u, v = barabasi_albert_edges(n, m, rng(2))
    assert (u != v).all()
    assert (u > v).all()  # the newer node attaches to an older one
    ba = Adjacency.from_edges(u, v, n)
    er = build_adjacency("erdos_renyi", n, rng(2), mean_degree=2 * m)
    assert ba.degree.mean() == pytest.approx(2 * m, rel=0.03)
    assert ba.degree.min() >= 1
    assert ba.degree.max() > 20 * ba.degree.mean()
    assert ba.degree.max() > 8 * er.degree.max()
    # Power-law tail: P(degree >= d) ~ d**-2 (density exponent 3). Discrete MLE above d_min.
    d_min = 10
    tail = ba.degree[ba.degree >= d_min]
    exponent = 1 + tail.size / np.log(tail / (d_min - 0.5)).sum()
    assert 2.5 < exponent < 3.5


def test_barabasi_albert_validates_m() -> None:
    with pytest.raises(ValueError, match="m >= 1"):
        barabasi_albert_edges(100, 0, rng())
    u, v = barabasi_albert_edges(1, 3, rng())
    assert len(u) == len(v) == 0


def test_erdos_renyi_mean_degree_and_simple_edges() -> None:
    n, mean_degree = 5000, 8.0
    u, v = erdos_renyi_edges(n, mean_degree, rng(3))
    assert (u < v).all()
    assert len(np.unique(u * n + v)) == len(u)  # distinct pairs: nothing lost to dedupe
    adj = Adjacency.from_edges(u, v, n)
    assert adj.degree.mean() == pytest.approx(mean_degree, abs=0.25)
    # Degrees are Binomial(n - 1, p): variance close to the mean.
    assert adj.degree.var() == pytest.approx(mean_degree, rel=0.15)


def test_erdos_renyi_dense_small_graph_hits_mean_degree() -> None:
    degrees = [
        Adjacency.from_edges(*erdos_renyi_edges(40, 30.0, rng(seed)), 40).degree.mean()
        for seed in range(20)
    ]
    assert np.mean(degrees) == pytest.approx(30.0, abs=0.3)
    full = Adjacency.from_edges(*erdos_renyi_edges(30, 29.0, rng()), 30)
    assert full.n_edges == 30 * 29 // 2
    with pytest.raises(ValueError, match="mean_degree"):
        erdos_renyi_edges(10, 10.0, rng())


def test_stochastic_block_within_share_and_degrees() -> None:
    sizes = [500, 500, 500, 500]
    k_in, k_out = 8.0, 2.0
    u, v = stochastic_block_edges(sizes, k_in, k_out, rng(4))
    assert (u != v).all()
    block = region_of(2000, 4)
    within = block[u] == block[v]
    assert within.mean() == pytest.approx(k_in / (k_in + k_out), abs=0.02)
    adj = Adjacency.from_edges(u, v, 2000)
    assert adj.degree.mean() == pytest.approx(k_in + k_out, rel=0.05)


def test_stochastic_block_unequal_blocks() -> None:
    sizes = [100, 300, 600]
    u, v = stochastic_block_edges(sizes, 6.0, 1.0, rng(5))
    block = np.repeat(np.arange(3), sizes)
    within = block[u] == block[v]
    within_degree = np.bincount(np.concatenate((u[within], v[within])), minlength=1000)
    for b in range(3):
        assert within_degree[block == b].mean() == pytest.approx(6.0, rel=0.1)
    between_degree = np.bincount(np.concatenate((u[~within], v[~within])), minlength=1000)
    assert between_degree.mean() == pytest.approx(1.0, rel=0.1)


def test_stochastic_block_validates() -> None:
    with pytest.raises(ValueError, match="k_in"):
        stochastic_block_edges([5, 5], 8.0, 1.0, rng())
    with pytest.raises(ValueError, match="k_out"):
        stochastic_block_edges([10], 2.0, 1.0, rng())
    with pytest.raises(ValueError, match="block_sizes"):
        stochastic_block_edges([10, -1], 2.0, 1.0, rng())
    with pytest.raises(ValueError, match="sum to"):
        build_adjacency("stochastic_block", 30, rng(), block_sizes=[10, 10])


def test_region_of_is_contiguous_and_matches_blocks() -> None:
    assert region_of(10, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert region_of(10, 3).dtype == np.int32
    assert region_of(7, 1).tolist() == [0] * 7
    for n, regions in [(10, 3), (1000, 7), (5, 5), (101, 4)]:
        assert np.bincount(region_of(n, regions)).tolist() == block_sizes_for(n, regions).tolist()
        assert np.repeat(np.arange(regions), block_sizes_for(n, regions)).tolist() == (
            region_of(n, regions).tolist()
        )
    with pytest.raises(ValueError):
        region_of(10, 0)
    with pytest.raises(ValueError):
        region_of(3, 4)


@pytest.mark.parametrize(
    "make",
    [
        lambda r: watts_strogatz_edges(500, 6, 0.2, r),
        lambda r: barabasi_albert_edges(500, 3, r),
        lambda r: erdos_renyi_edges(500, 5.0, r),
        lambda r: stochastic_block_edges([250, 250], 5.0, 1.0, r),
    ],
)
def test_same_seed_same_edges(make) -> None:
    u1, v1 = make(rng(42))
    u2, v2 = make(rng(42))
    u3, v3 = make(rng(43))
    assert u1.dtype == v1.dtype == np.int64
    np.testing.assert_array_equal(u1, u2)
    np.testing.assert_array_equal(v1, v2)
    assert not (np.array_equal(u1, u3) and np.array_equal(v1, v3))


# --------------------------------------------------------------------------------------------
# Adjacency
# --------------------------------------------------------------------------------------------


def test_from_edges_dedupes_drops_self_loops_and_is_symmetric() -> None:
    u = [0, 1, 1, 2, 3, 3, 0, 4]
    v = [1, 0, 1, 0, 2, 2, 2, 4]
    adj = Adjacency.from_edges(u, v, 6)
    assert adj.n == 6
    assert adj.n_edges == 3
    assert adj.indptr.tolist() == [0, 2, 3, 5, 6, 6, 6]
    assert adj.indices.tolist() == [1, 2, 0, 0, 3, 2]
    assert adj.degree.tolist() == [2, 1, 2, 1, 0, 0]
    assert adj.indices.dtype == np.int32
    matrix = dense(adj)
    np.testing.assert_array_equal(matrix, matrix.T)
    assert np.diag(matrix).sum() == 0
    assert set(np.unique(matrix)) <= {0.0, 1.0}
    assert adj.matrix.dtype == np.float32
    graph = adj.to_networkx()
    assert sorted(graph.nodes()) == list(range(6))
    assert sorted(graph.edges()) == [(0, 1), (0, 2), (2, 3)]


def test_from_edges_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"0\.\.2"):
        Adjacency.from_edges([0, 3], [1, 1], 3)
    with pytest.raises(ValueError, match="same length"):
        Adjacency.from_edges([0, 1], [1], 3)
    empty = Adjacency.from_edges([], [], 4)
    assert empty.n_edges == 0
    assert empty.neighbour_sum(np.ones(4)).tolist() == [0.0] * 4


def test_neighbour_sum_matches_dense_product_on_karate_club(karate) -> None:
    graph, adj = karate
    assert adj.n == 34 and adj.n_edges == 78
    a = nx.to_numpy_array(graph, nodelist=list(graph), weight=None)
    np.testing.assert_array_equal(adj.degree, a.sum(axis=1))
    values = rng(6).random(34)
    np.testing.assert_allclose(adj.neighbour_sum(values), a @ values)
    many = rng(7).random((34, 3))
    result = adj.neighbour_sum(many)
    assert result.shape == (34, 3) and result.dtype == np.float64
    np.testing.assert_allclose(result, a @ many)
    rows = np.array([33, 0, 5, 0])
    np.testing.assert_allclose(adj.neighbour_sum(values, rows), (a @ values)[rows])
    np.testing.assert_allclose(adj.neighbour_sum(many, rows), (a @ many)[rows])
    integers = np.arange(34)
    np.testing.assert_allclose(adj.neighbour_sum(integers), a @ integers)
    assert adj.neighbour_sum(values, np.array([], dtype=int)).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        adj.neighbour_sum(np.ones(33))


def test_expand_reach_one_gives_exact_neighbour_multiset(karate) -> None:
    graph, adj = karate
    senders = np.array([0, 33, 5, 0, 11])
    message, receiver = adj.expand(senders, 1.0, rng())
    assert message.dtype == receiver.dtype == np.int64
    got = sorted(zip(message.tolist(), receiver.tolist(), strict=True))
    expected = sorted((i, j) for i, s in enumerate(senders) for j in graph.neighbors(int(s)))
    assert got == expected
    assert (np.diff(message) >= 0).all()
    assert adj.expand(senders, 0.0, rng())[0].size == 0
    assert adj.expand(np.array([], dtype=int), 1.0, rng())[0].size == 0


def test_expand_partial_reach_keeps_about_reach_share() -> None:
    adj = build_adjacency("watts_strogatz", 5000, rng(8), k=10, p=0.1)
    senders = rng(9).integers(0, 5000, 4000)
    full_message, full_receiver = adj.expand(senders, 1.0)
    message, receiver = adj.expand(senders, 0.3, rng(10))
    assert message.size / full_message.size == pytest.approx(0.3, abs=0.01)
    full = set(zip(full_message.tolist(), full_receiver.tolist(), strict=True))
    assert set(zip(message.tolist(), receiver.tolist(), strict=True)) <= full
    again = adj.expand(senders, 0.3, rng(10))
    np.testing.assert_array_equal(again[1], receiver)
    with pytest.raises(ValueError, match="rng"):
        adj.expand(senders, 0.5)
    with pytest.raises(ValueError, match="reach"):
        adj.expand(senders, -0.1, rng())


def test_to_networkx_round_trip_keeps_isolated_nodes() -> None:
    adj = build_adjacency("erdos_renyi", 300, rng(11), mean_degree=1.0)
    graph = adj.to_networkx()
    assert graph.number_of_nodes() == 300
    assert nx.number_of_isolates(graph) > 0
    u, v, n = edges_from_networkx(graph)
    again = Adjacency.from_edges(u, v, n)
    np.testing.assert_array_equal(again.indptr, adj.indptr)
    np.testing.assert_array_equal(again.indices, adj.indices)


def test_sample_nodes() -> None:
    adj = build_adjacency("watts_strogatz", 1000, rng(), k=4, p=0.0)
    sample = adj.sample_nodes(100, rng(12))
    assert sample.size == 100 and len(np.unique(sample)) == 100
    assert (np.diff(sample) > 0).all() and sample.min() >= 0 and sample.max() < 1000
    assert adj.sample_nodes(5000, rng()).tolist() == list(range(1000))
    np.testing.assert_array_equal(sample, adj.sample_nodes(100, rng(12)))


# --------------------------------------------------------------------------------------------
# CompleteAdjacency
# --------------------------------------------------------------------------------------------


def test_complete_adjacency_matches_dense_complete_graph() -> None:
    n = 9
    complete = CompleteAdjacency(n)
    a = np.ones((n, n)) - np.eye(n)
    assert complete.n_edges == 36
    assert complete.degree.tolist() == [8] * n
    values = rng(13).random(n)
    np.testing.assert_allclose(complete.neighbour_sum(values), a @ values)
    many = rng(14).random((n, 2))
    np.testing.assert_allclose(complete.neighbour_sum(many), a @ many)
    rows = np.array([3, 3, 0])
    np.testing.assert_allclose(complete.neighbour_sum(many, rows), (a @ many)[rows])
    np.testing.assert_array_equal(complete.matrix.toarray(), a)
    assert complete.indptr.tolist() == list(range(0, 8 * n + 1, 8))
    assert complete.indices[:8].tolist() == list(range(1, 9))
    assert nx.utils.graphs_equal(complete.to_networkx(), nx.complete_graph(n))
    build = build_adjacency("complete", n, rng())
    assert isinstance(build, CompleteAdjacency) and build.n == n


def test_complete_adjacency_refuses_to_materialize_large_graphs() -> None:
    big = CompleteAdjacency(COMPLETE_MATERIALIZE_LIMIT + 1)
    for attribute in ("indptr", "indices", "matrix"):
        with pytest.raises(ValueError, match="only built for n <="):
            getattr(big, attribute)
    with pytest.raises(ValueError, match="edges"):
        big.to_networkx()
    assert big.degree[0] == COMPLETE_MATERIALIZE_LIMIT
    assert big.neighbour_sum(np.ones(big.n), [0]).tolist() == [float(big.n - 1)]


def test_complete_expand_reaches_everyone_when_uncapped() -> None:
    complete = CompleteAdjacency(6)
    senders = np.array([2, 0, 5])
    message, receiver = complete.expand(senders, 1.0, rng(), max_receivers=None)
    expected = sorted((i, j) for i, s in enumerate(senders.tolist()) for j in range(6) if j != s)
    assert sorted(zip(message.tolist(), receiver.tolist(), strict=True)) == expected


@pytest.mark.parametrize("n", [30, 100_000])
def test_complete_expand_cap_distinct_uniform(n: int) -> None:
    complete = CompleteAdjacency(n)
    cap = 20
    senders = rng(15).integers(0, n, 3000)
    message, receiver = complete.expand(senders, 1.0, rng(16), max_receivers=cap)
    assert (np.bincount(message, minlength=senders.size) == cap).all()
    assert (receiver != senders[message]).all()
    pairs = message * n + receiver
    assert len(np.unique(pairs)) == pairs.size  # no sender reaches a node twice
    if n == 30:
        # Every other node is equally likely: each node is reached by about 20/29 of the
        # messages of the senders other than itself.
        reached = np.bincount(receiver, minlength=n)
        eligible = senders.size - np.bincount(senders, minlength=n)
        np.testing.assert_allclose(reached / eligible, cap / (n - 1), atol=0.04)
    else:
        assert receiver.mean() == pytest.approx(n / 2, rel=0.02)


def test_complete_expand_binomial_reach() -> None:
    complete = CompleteAdjacency(1000)
    senders = rng(17).integers(0, 1000, 5000)
    message, _ = complete.expand(senders, 0.01, rng(18), max_receivers=50)
    counts = np.bincount(message, minlength=senders.size)
    assert counts.mean() == pytest.approx(999 * 0.01, rel=0.03)
    capped, _ = complete.expand(senders, 0.2, rng(18), max_receivers=50)
    assert (np.bincount(capped, minlength=senders.size) == 50).all()


# --------------------------------------------------------------------------------------------
# Edge lists and networkx graphs
# --------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "edges.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_edge_list_integer_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "0 1\n1 2\n4 0\n")
    u, v, n = read_edge_list(path)
    assert u.tolist() == [0, 1, 4] and v.tolist() == [1, 2, 0] and n == 5
    assert u.dtype == np.int64
    u, v, n = read_edge_list(path, n=8)
    assert n == 8
    adj = build_adjacency("edge_list", 8, rng(), path=path)
    assert adj.n == 8 and adj.n_edges == 3


def test_read_edge_list_comments_blanks_weights_and_commas(tmp_path: Path) -> None:
    text = "# a friendship network\n\n0 1 0.5\n  2\t3  \n# more\n3 0 # inline note\n   \n"
    u, v, n = read_edge_list(write(tmp_path, text))
    assert u.tolist() == [0, 2, 3] and v.tolist() == [1, 3, 0] and n == 4
    u, v, n = read_edge_list(write(tmp_path, "0,1\n1, 2,7.5\n# c\n2 ,0\n", "c.csv"))
    assert u.tolist() == [0, 1, 2] and v.tolist() == [1, 2, 0] and n == 3


def test_read_edge_list_labels_in_order_of_first_appearance(tmp_path: Path) -> None:
    path = write(tmp_path, "alice bob\ncarol alice\nbob dave 2\n")
    u, v, n = read_edge_list(path)
    assert u.tolist() == [0, 2, 1] and v.tolist() == [1, 0, 3] and n == 4
    u, v, n = read_edge_list(write(tmp_path, "alice , bob\nbob,carol ,1\n", "names.csv"))
    assert u.tolist() == [0, 1] and v.tolist() == [1, 2] and n == 3
    u, v, n = read_edge_list(write(tmp_path, "x,NA\nNA,-1\n", "na.csv"))
    assert u.tolist() == [0, 1] and v.tolist() == [1, 2] and n == 3
    u, v, n = read_edge_list(write(tmp_path, "3 -1\n-1 5\n", "neg.txt"))  # negative ids: labels
    assert u.tolist() == [0, 1] and v.tolist() == [1, 2] and n == 3
    labels = write(tmp_path, "a b\nb c\nc d\n", "labels.txt")
    expected = r"labels\.txt:3: node 'd' .*\(market\.customers = 3\)$"
    with pytest.raises(EdgeListError, match=expected):
        read_edge_list(labels, n=3, n_name="market.customers")


def test_read_edge_list_bad_line_names_the_line(tmp_path: Path) -> None:
    lines = ["# header", "0 1", "", "1 2", "a b c d", "2 3"]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(EdgeListError) as info:
        read_edge_list(path)
    assert str(info.value) == (
        f"{path}:5: expected two node ids separated by whitespace or a comma, got 'a b c d'"
    )
    lonely = write(tmp_path, "0 1\n1 2\n7\n", "lonely.txt")
    with pytest.raises(EdgeListError, match=r"lonely\.txt:3: expected two node ids .* got '7'"):
        read_edge_list(lonely)
    gap = write(tmp_path, "a,b\nb,,c\n", "gap.csv")
    with pytest.raises(EdgeListError, match=r"gap\.csv:2: .* got 'b,,c'"):
        read_edge_list(gap)
    assert issubclass(EdgeListError, ValueError)


def test_read_edge_list_id_out_of_range(tmp_path: Path) -> None:
    path = write(tmp_path, "0 1\n# c\n\n1 2\n3 12\n")
    with pytest.raises(EdgeListError) as info:
        read_edge_list(path, n=10, n_name="market.customers")
    assert str(info.value) == f"{path}:5: node id 12 is outside 0..9 (market.customers = 10)"


def test_read_edge_list_missing_and_empty_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(EdgeListError) as info:
        read_edge_list(missing)
    assert str(info.value) == f"{missing}: file not found"
    for name, text in [("empty.txt", ""), ("comments.txt", "# only\n\n# comments\n")]:
        path = write(tmp_path, text, name)
        with pytest.raises(EdgeListError) as info:
            read_edge_list(path)
        assert str(info.value) == f"{path}: no edges"


def test_read_edge_list_gzip(tmp_path: Path) -> None:
    path = tmp_path / "edges.txt.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("0 1\n1 2\nx\n")
    with pytest.raises(EdgeListError, match=r"edges\.txt\.gz:3: .* got 'x'"):
        read_edge_list(path)


def test_edges_from_networkx_relabels_in_node_order() -> None:
    graph = nx.Graph()
    graph.add_nodes_from(["z", "y", "lonely"])
    graph.add_edges_from([("y", "z"), ("z", "x")])
    u, v, n = edges_from_networkx(graph)
    assert n == 4
    assert edge_set(u, v) == {(0, 1), (0, 3)}
    grid = nx.grid_2d_graph(3, 3)  # tuple labels
    u, v, n = edges_from_networkx(grid)
    assert n == 9 and len(u) == 12
    nodes = list(grid)
    assert edge_set(u, v) == {
        tuple(sorted((nodes.index(a), nodes.index(b)))) for a, b in grid.edges()
    }
    directed = nx.DiGraph([(0, 1), (1, 0), (1, 2)])
    adj = build_adjacency("networkx", None, rng(), graph=directed)
    assert adj.n_edges == 2 and adj.degree.tolist() == [1, 2, 1]
    with pytest.raises(ValueError, match="3 nodes but n = 5"):
        build_adjacency("networkx", 5, rng(), graph=directed)


def test_build_adjacency_dispatches_every_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "0 1\n1 2\n")
    extra = {"edge_list": {"path": path}, "networkx": {"graph": nx.path_graph(60)}}
    for kind in NETWORK_KINDS:
        adj = build_adjacency(kind, 60, rng(19), **extra.get(kind, {}))
        assert adj.n == 60
        assert adj.degree.shape == (60,)
        assert adj.neighbour_sum(np.ones(60)).tolist() == adj.degree.astype(float).tolist()
    sbm = build_adjacency("stochastic_block", 400, rng(), k_in=6.0, k_out=1.0)
    assert sbm.degree.mean() == pytest.approx(7.0, rel=0.1)
    with pytest.raises(ValueError, match="watts_strogatz, barabasi_albert"):
        build_adjacency("small_world", 10, rng())
    with pytest.raises(ValueError, match="path"):
        build_adjacency("edge_list", 10, rng())
