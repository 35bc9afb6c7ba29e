"""Loaders and runners every area's steps use: crmcore on pandas, DuckDB, polars.

Everything heavy is imported inside the functions: a DuckDB measurement process never imports
pandas or crmcore, and crmcore's own imports happen in ``load``, outside the timing (as in the
reference harness).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Engine

Load = Callable[[str, int | None], Any]


def pandas_load(module: str, then: Callable[[Any], Any] | None = None, *, name: str = "") -> Load:
    """Read the Parquet file into a pandas frame after importing ``module`` (not timed).

    ``then`` turns the frame into the call's input (a column as a numpy array, say), also
    before the clock starts.
    """

    def load(path: str, threads: int | None) -> Any:
        importlib.import_module(module)
        import pandas as pd

        frame = pd.read_parquet(path)
        return frame if then is None else then(frame)

    load.__name__ = name or f"pandas_load_{module}"
    return load


def crmcore(
    run: Callable[[Any], Any],
    module: str,
    then: Callable[[Any], Any] | None = None,
    *,
    name: str = "crmcore",
    label: str = "crmcore (pandas)",
    env: tuple[tuple[str, str], ...] = (),
) -> Engine:
    """The subject: ``run(frame)`` on a pandas frame, ``module`` imported before timing.

    ``name``/``label``/``env`` make a variant of it measured under another setting.
    """
    return Engine(name, pandas_load(module, then), run, label=label, env=env)


def duckdb_load(table: str, setup: tuple[str, ...] = ()) -> Load:
    """A DuckDB connection with the file as a native table ``table`` (+ ``setup`` statements).

    ``setup`` may use ``{dir}``, the folder of the input file (for small side tables written
    there by ``_data``).
    """

    def load(path: str, threads: int | None) -> Any:
        import duckdb

        con = duckdb.connect()
        if threads:
            con.sql(f"SET threads={int(threads)}")
        con.sql("SET enable_progress_bar=false")
        con.sql(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}')")
        folder = str(Path(path).parent)
        for statement in setup:
            con.sql(statement.format(dir=folder))
        return con

    return load


def arrow(rel: Any) -> Any:
    """A DuckDB relation's result as an Arrow table (its natural output)."""
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()


def duckdb(table: str, sql: str, setup: tuple[str, ...] = ()) -> Engine:
    """DuckDB running ``sql`` on the native table ``table``; the result as an Arrow table."""
    return Engine(
        "duckdb",
        duckdb_load(table, setup),
        lambda con: arrow(con.sql(sql)),
        label="DuckDB (native table, Arrow result)",
        requires=("duckdb", "pyarrow"),
    )


def polars_load(path: str, threads: int | None) -> Any:
    """The file as a polars DataFrame; ``threads`` caps polars' pool (set before import)."""
    if threads:
        os.environ["POLARS_MAX_THREADS"] = str(int(threads))
    import polars as pl

    return pl.read_parquet(path)


def polars(query: Callable[[Any, Any], Any], load: Load = polars_load) -> Engine:
    """polars running ``query(pl, frame)``; returns a polars DataFrame (collected)."""

    def run(frame: Any) -> Any:
        import polars as pl

        return query(pl, frame)

    return Engine("polars", load, run, label="polars (DataFrame)", requires=("polars",))


# --------------------------------------------------------------------------- checks


def to_pandas(result: Any) -> Any:
    """Any engine's result as a pandas object (for checks only, never timed)."""
    import pandas as pd

    if isinstance(result, pd.DataFrame | pd.Series):
        return result
    if hasattr(result, "to_pandas"):
        return result.to_pandas()
    return result


def frames_close(
    ours: Any,
    theirs: Any,
    *,
    key: str | list[str],
    columns: dict[str, str],
    atol: float = 1e-6,
    rtol: float = 1e-9,
) -> None:
    """Assert that ``theirs`` has ``ours``' keys and values; ``columns`` maps ours -> theirs.

    ``ours`` is indexed by ``key``; ``theirs`` has ``key`` as column(s), in any row order.
    Dates compare as int64 nanoseconds (days for DATE columns), numbers with tolerances.
    """
    import numpy as np
    import pandas as pd

    keys = [key] if isinstance(key, str) else key
    other = to_pandas(theirs).set_index(keys).sort_index()
    mine = ours.sort_index()
    assert len(mine) == len(other), f"{len(mine)} rows != {len(other)}"
    assert np.array_equal(mine.index.to_frame().to_numpy(), other.index.to_frame().to_numpy()), (
        "keys differ"
    )
    for col, their_col in columns.items():
        a, b = mine[col], other[their_col]
        if pd.api.types.is_datetime64_any_dtype(a):
            b = pd.to_datetime(b)
            assert np.array_equal(a.to_numpy("datetime64[ns]"), b.to_numpy("datetime64[ns]")), col
        elif pd.api.types.is_numeric_dtype(a):
            x, y = a.to_numpy(float), b.to_numpy(float)
            close = np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
            assert close, f"{col}: max diff {np.nanmax(abs(x - y))}"
        else:
            assert (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all(), col
