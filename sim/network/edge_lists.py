"""Networks given by the user: edge-list files and networkx graphs, as edge lists.

:func:`read_edge_list` parses a text file (``u v`` or ``u,v`` per line, integer ids or labels,
``.gz`` allowed) with pandas' C parser, and names the file and line of any problem in one
:class:`EdgeListError` line. :func:`edges_from_networkx` relabels any networkx graph's nodes
``0..n-1``. pandas is imported only when a file or graph is read; networkx is never imported here
(the graph comes from the caller).

This module must never import the UI, the sweep layer or the rules.
"""

from __future__ import annotations

import gzip
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.network.nodes import IntArray, _check_n, _empty_edges

if TYPE_CHECKING:
    from collections.abc import Iterator

    import networkx as nx

__all__ = ["EdgeListError", "edges_from_networkx", "read_edge_list"]


class EdgeListError(ValueError):
    """An edge-list file that cannot be read; the message names the file and line."""


_BAD_LINE = "expected two node ids separated by whitespace or a comma"


def _open_text(path: str) -> Any:
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _data_lines(path: str, comma: bool) -> Iterator[tuple[int, str, list[str]]]:
    """Yield ``(line_number, stripped_text, fields)`` for each non-blank, non-comment line.

    A slow Python scan used only to explain a failure of the fast parser.
    """
    with _open_text(path) as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            fields = [f.strip() for f in text.split(",")] if comma else text.split()
            yield number, raw.strip(), fields


def _find_bad_line(path: str, comma: bool) -> tuple[int, str] | None:
    for number, text, fields in _data_lines(path, comma):
        if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
            return number, text
    return None


def _line_of_row(path: str, comma: bool, row: int) -> int:
    for index, (number, _text, _fields) in enumerate(_data_lines(path, comma)):
        if index == row:
            return number
    return 0  # unreachable for a row the fast parser produced


def _sniff_comma(path: str) -> bool:
    """Whether the first data line of the file separates its fields with commas."""
    with _open_text(path) as handle:
        for _, raw in zip(range(10_000), handle, strict=False):
            text = raw.split("#", 1)[0].strip()
            if text:
                return "," in text
    return False


def read_edge_list(
    path: str | os.PathLike[str], n: int | None = None, *, n_name: str = "n"
) -> tuple[IntArray, IntArray, int]:
    """Read an undirected edge list from a text file.

    One edge per line, ``u v`` or ``u,v`` (whitespace- or comma-separated, decided by the first
    data line); a third column such as a weight is allowed and ignored. ``#`` starts a comment;
    blank lines are skipped. A ``.gz`` file is decompressed. If every node id is a non-negative
    integer the ids are used directly; otherwise the ids are labels, numbered ``0..L-1`` in order
    of first appearance (reading each line left to right). Self loops and duplicate edges are
    returned as they are (:meth:`Adjacency.from_edges` drops them).

    The file is parsed by pandas' C parser; only when that fails is the file scanned line by line
    in Python to name the offending line.

    Parameters
    ----------
    path : str or os.PathLike
        The edge-list file.
    n : int, optional
        Number of nodes of the network. Integer ids must then be ``< n`` and labels at most
        ``n`` distinct; nodes that appear in no edge are isolated.
    n_name : str, default "n"
        How ``n`` is named in error messages, e.g. ``"market.customers"``.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the edges, in file order.
    n_nodes : int
        ``n`` if given, else the largest integer id plus one, or the number of labels.

    Raises
    ------
    EdgeListError
        With a one-line message ``path:line: what is wrong``: file not found, a line that is
        not two or three fields, an id out of range, more labels than ``n``, no edges.

    Examples
    --------
    A file with the lines ``0 1`` and ``1 2`` gives ``u = [0, 1]``, ``v = [1, 2]``,
    ``n_nodes = 3``; with the lines ``ann,bob`` and ``bob,cy`` it gives the same. Separators
    cannot be mixed: a ``1,2`` line in a whitespace-separated file is a bad line.
    """
    import pandas as pd

    where = os.fspath(path)
    if n is not None:
        n = _check_n(n)
    if not os.path.exists(where):
        raise EdgeListError(f"{where}: file not found")
    if os.path.isdir(where):
        raise EdgeListError(f"{where}: is a directory, not an edge-list file")
    comma = _sniff_comma(where)

    def parse(as_text: bool) -> Any:
        options: dict[str, Any] = {
            "sep": "," if comma else r"\s+",
            "header": None,
            "names": ["u", "v", "extra"],
            "index_col": False,
            "comment": "#",
            "skip_blank_lines": True,
            "skipinitialspace": True,
            "quoting": 3,  # csv.QUOTE_NONE: quotes are part of labels
            "engine": "c",
            "encoding_errors": "replace",
        }
        if as_text:
            options |= {
                "dtype": {"u": str, "v": str},
                "keep_default_na": False,
                "na_values": {"u": [""], "v": [""]},
            }
        try:
            return pd.read_csv(where, **options)
        except pd.errors.EmptyDataError:
            raise EdgeListError(f"{where}: no edges") from None
        except (pd.errors.ParserError, ValueError, OverflowError) as error:
            bad = _find_bad_line(where, comma)
            if bad is not None:
                raise EdgeListError(f"{where}:{bad[0]}: {_BAD_LINE}, got {bad[1]!r}") from None
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise EdgeListError(f"{where}: cannot parse edge list ({first_line})") from None

    def bad_line_error() -> EdgeListError:
        bad = _find_bad_line(where, comma)
        if bad is not None:
            return EdgeListError(f"{where}:{bad[0]}: {_BAD_LINE}, got {bad[1]!r}")
        return EdgeListError(f"{where}: {_BAD_LINE}")

    frame = parse(as_text=False)
    if len(frame) == 0:
        raise EdgeListError(f"{where}: no edges")
    col_u, col_v = frame["u"], frame["v"]
    integer_ids = (
        col_u.dtype.kind == "i"
        and col_v.dtype.kind == "i"
        and int(col_u.min()) >= 0
        and int(col_v.min()) >= 0
    )
    if not integer_ids:
        # Labels. The first parse holds them as read unless a column was typed (ints, floats)
        # or a label looked like a missing value ("NA", "null"): then read them again as text.
        as_read = col_u.dtype == object and col_v.dtype == object
        if not as_read or col_u.isna().any() or col_v.isna().any():
            frame = parse(as_text=True)
            col_u, col_v = frame["u"], frame["v"]
            if col_u.isna().any() or col_v.isna().any():
                raise bad_line_error()
        if comma:  # the parser strips leading blanks of a field, not trailing ones
            col_u = col_u.str.strip()
            col_v = col_v.str.strip()
            if (col_u == "").any() or (col_v == "").any():
                raise bad_line_error()
        labels = np.column_stack((col_u.to_numpy(), col_v.to_numpy())).ravel()
        codes, uniques = pd.factorize(labels)
        codes = codes.astype(np.int64).reshape(-1, 2)
        n_labels = len(uniques)
        if n is not None and n_labels > n:
            first = int(np.flatnonzero(codes.ravel() == n)[0])
            line = _line_of_row(where, comma, first // 2)
            raise EdgeListError(
                f"{where}:{line}: node {uniques[n]!r} is distinct node label number {n + 1}, "
                f"more than the {n} nodes of the network ({n_name} = {n})"
            )
        return codes[:, 0].copy(), codes[:, 1].copy(), n if n is not None else n_labels

    u = col_u.to_numpy(dtype=np.int64)
    v = col_v.to_numpy(dtype=np.int64)
    largest = int(max(u.max(), v.max()))
    if n is not None and largest >= n:
        row = int(np.flatnonzero((u >= n) | (v >= n))[0])
        node = int(u[row]) if u[row] >= n else int(v[row])
        line = _line_of_row(where, comma, row)
        raise EdgeListError(
            f"{where}:{line}: node id {node} is outside 0..{n - 1} ({n_name} = {n})"
        )
    return u, v, n if n is not None else largest + 1


def edges_from_networkx(graph: nx.Graph) -> tuple[IntArray, IntArray, int]:
    """Edges of a networkx graph, its nodes relabelled ``0..n-1`` in the graph's node order.

    Directed graphs are taken as undirected, multigraphs as simple graphs (both by
    :meth:`Adjacency.from_edges`, which symmetrizes and dedupes). This walks networkx's Python
    dicts, so it costs what networkx itself costs per edge; for large networks prefer the
    generators here or an edge-list file.

    Parameters
    ----------
    graph : networkx.Graph
        Any networkx graph (``Graph``, ``DiGraph``, ``MultiGraph``, ``MultiDiGraph``), any
        hashable node labels.

    Returns
    -------
    u, v : numpy.ndarray of int64
        Endpoints of the edges (as networkx lists them; may include self loops).
    n_nodes : int
        Number of nodes of ``graph``.

    Examples
    --------
    >>> import networkx as nx
    >>> u, v, n = edges_from_networkx(nx.path_graph(["a", "b", "c"]))
    >>> u.tolist(), v.tolist(), n
    ([0, 1], [1, 2], 3)
    """
    import itertools

    import pandas as pd

    n_nodes = graph.number_of_nodes()
    n_edges = graph.number_of_edges()
    if n_edges == 0:
        u, v = _empty_edges()
        return u, v, n_nodes
    endpoints_iter = itertools.chain.from_iterable(graph.edges())
    nodes_iter = iter(graph)
    try:
        nodes = np.fromiter(nodes_iter, dtype=np.int64, count=n_nodes)
        integer_nodes = bool((nodes == np.arange(n_nodes)).all())
    except (TypeError, ValueError, OverflowError):
        integer_nodes = False
    if integer_nodes:
        endpoints = np.fromiter(endpoints_iter, dtype=np.int64, count=2 * n_edges)
    else:
        node_labels = np.empty(n_nodes, dtype=object)
        node_labels[:] = list(graph)
        edge_labels = np.empty(2 * n_edges, dtype=object)
        edge_labels[:] = list(endpoints_iter)
        index = pd.Index(node_labels, tupleize_cols=False, dtype=object)
        endpoints = index.get_indexer(edge_labels).astype(np.int64)
    endpoints = endpoints.reshape(-1, 2)
    return endpoints[:, 0].copy(), endpoints[:, 1].copy(), n_nodes
