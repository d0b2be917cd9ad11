"""Reading a sweep's results folder: :class:`SweepResults` (``sim.sweep.open(path)``).

The folder's layout and how it is written are in :mod:`sim.sweep.store`. The reader gives pandas
frames (``.df()``, ``.runs()``) and DuckDB relations (``.relation()``, ``.sql()``) over the
complete chunks present, so it can watch a sweep that is still running (``refresh``).

This module never imports the model, the UI or an executor.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.sweep.store import TABLES, SweepStoreError, chunk_dirs, read_done, read_manifest

if TYPE_CHECKING:
    import duckdb

    from sim.sweep.spec import SweepSpec

__all__ = ["SweepResults", "open_results"]


class SweepResults:
    """The results of a sweep, read from its folder (``sim.sweep.open(path)``).

    Tables: ``runs`` (one row per run: ids, parameters, status, error, seconds, worker, seed),
    ``market`` and ``firms`` (the kept rows, with the run's id and parameter columns),
    ``errors`` (failed runs) and ``design`` (design rows in order).

    Parameters
    ----------
    root
        The ``--out`` folder of a sweep.

    Examples
    --------
    >>> res = sim.sweep.open("results/opi")                        # doctest: +SKIP
    >>> res.df("market").groupby("inflation")["retention_annual"].mean()  # doctest: +SKIP
    >>> res.sql("select inflation, avg(nps) from market group by 1").df()  # doctest: +SKIP
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise SweepStoreError(
                f"{self.root}: no such folder; expected the --out folder of 'cxsim sweep'"
            )
        self.manifest = read_manifest(self.root)
        self._con: duckdb.DuckDBPyConnection | None = None
        self.report: Any = None

    def __repr__(self) -> str:
        c = self.manifest.get("counts", {})
        return (
            f"SweepResults({str(self.root)!r}: {self.manifest.get('name')}, "
            f"{c.get('ok', 0)} ok, {c.get('failed', 0)} failed, "
            f"{c.get('missing', '?')} missing)"
        )

    # -- metadata ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The sweep's name."""
        return str(self.manifest.get("name", self.root.name))

    @property
    def parameters(self) -> list[str]:
        """Parameter column names, in spec order."""
        return [p["column"] for p in self.manifest.get("parameters", [])]

    @property
    def spec(self) -> SweepSpec:
        """The sweep spec as run (read from ``spec.toml``)."""
        from sim.sweep.spec import load_spec

        return load_spec(self.root / "spec.toml")

    @property
    def complete(self) -> bool:
        """True when every run of the design has a result (ok or failed)."""
        return self.manifest.get("status") == "complete"

    def firm_names(self) -> list[str]:
        """Names of the base scenario's firms."""
        import tomllib

        data = tomllib.loads((self.root / "scenario.toml").read_text())
        return [f["name"] for f in data.get("firms", [])]

    def industries(self) -> list[str]:
        """Industries of the base scenario."""
        import tomllib

        data = tomllib.loads((self.root / "scenario.toml").read_text())
        return list(data.get("market", {}).get("industries", []))

    def files(self, table: str) -> list[Path]:
        """Parquet files of a table (``runs``, ``market``, ``firms``), one per chunk."""
        return [
            d / f"{table}.parquet"
            for d in chunk_dirs(self.root)
            if (d / f"{table}.parquet").exists()
        ]

    # -- DuckDB --------------------------------------------------------------------------------

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the views ``runs``, ``market``, ``firms``,
        ``errors`` and ``design``."""
        if self._con is None:
            self._con = self._connect()
        return self._con

    def refresh(self) -> SweepResults:
        """Re-read the manifest and the chunks (after more runs were written)."""
        self.manifest = read_manifest(self.root)
        if self._con is not None:
            self._con.close()
        self._con = None
        return self

    def _connect(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        con = duckdb.connect(":memory:")
        for table in ("runs", *TABLES):
            files = [str(f) for f in self.files(table)]
            if files:
                con.read_parquet(files, union_by_name=True).create_view(f"_{table}_all")
            else:
                con.execute(
                    f"CREATE VIEW _{table}_all AS SELECT NULL::VARCHAR AS run_id WHERE false"
                )
        has_status = bool(self.files("runs"))
        if has_status:
            con.execute("""CREATE VIEW runs AS SELECT * FROM _runs_all
                QUALIFY row_number() OVER (PARTITION BY run_id
                    ORDER BY (status = 'ok') DESC, finished DESC) = 1""")
            con.execute("CREATE VIEW errors AS SELECT * FROM runs WHERE status <> 'ok'")
        else:
            con.execute("CREATE VIEW runs AS SELECT * FROM _runs_all")
            con.execute("CREATE VIEW errors AS SELECT * FROM _runs_all")
        for table in TABLES:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM _{table}_all")
        design = self.root / "design.parquet"
        con.read_parquet(str(design)).create_view("design")
        return con

    def relation(self, table: str = "market") -> duckdb.DuckDBPyRelation:
        """A DuckDB relation over a table: ``runs``, ``market``, ``firms``, ``errors``,
        ``design``."""
        allowed = ("runs", "errors", "design", *TABLES)
        if table not in allowed:
            raise ValueError(f"table: expected one of {', '.join(allowed)}, got {table!r}")
        return self.connection.table(table)

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        """Run SQL over the views (``runs``, ``market``, ``firms``, ``errors``, ``design``)."""
        return self.connection.sql(query)

    # -- pandas --------------------------------------------------------------------------------

    def df(self, table: str = "market") -> pd.DataFrame:
        """A table as a pandas DataFrame, ordered by point, replicate and step."""
        rel = self.relation(table)
        order = [c for c in ("row", "point", "replicate", "step", "firm") if c in rel.columns]
        return (rel.order(", ".join(order)) if order else rel).df()

    def runs(self) -> pd.DataFrame:
        """One row per run with its parameters, status, error, seconds and worker."""
        return self.df("runs")

    def errors(self) -> pd.DataFrame:
        """The runs that failed, with their error and traceback."""
        return self.df("errors")

    def design(self) -> pd.DataFrame:
        """The design rows in order (SALib's sample order for Sobol and Morris designs)."""
        return self.df("design")

    def completed_ids(self) -> set[str]:
        """Ids of the runs that finished without error."""
        return {r for r, s in read_done(self.root).items() if s == "ok"}

    def close(self) -> None:
        """Close the DuckDB connection."""
        if self._con is not None:
            self._con.close()
            self._con = None


def open_results(path: str | Path) -> SweepResults:
    """Open the results folder of a sweep (``sim.sweep.open``)."""
    return SweepResults(path)
