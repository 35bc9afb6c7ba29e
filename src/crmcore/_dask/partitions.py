"""Partition-wise work on Dask collections: shuffle by key, map per partition, metadata checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pandas as pd

from crmcore._frames import import_optional
from crmcore.errors import ColumnTypeError, SchemaError

__all__ = [
    "check_nonempty",
    "dataframe_module",
    "is_dask",
    "map_by_key",
    "map_rows",
    "meta_sample",
    "require_datetime",
    "select_columns",
]

# Two helper columns ride along through a shuffle: the caller's row label and a global row
# number taken before the shuffle.
_ROW = "__crmcore_row__"
_LABEL = "__crmcore_label__"

PartitionFunc = Callable[..., pd.DataFrame]


def is_dask(obj: object) -> bool:
    """Tell whether ``obj`` is a Dask collection, without importing Dask.

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    return type(obj).__module__.startswith("dask")


def dataframe_module() -> Any:
    """Return ``dask.dataframe``, or raise ``MissingDependencyError`` naming the ``dask`` extra.

    Examples
    --------
    >>> dataframe_module().__name__
    'dask.dataframe'
    """
    return import_optional("dask.dataframe", "dask")


def meta_sample(frame: Any, columns: Sequence[str] | None = None, **values: Any) -> pd.DataFrame:
    """Return a one-row pandas frame with the collection's dtypes (Dask's fake metadata).

    ``values`` overwrite columns of the sample (cast to their dtype), e.g. a valid stage name
    where Dask's fake value would be rejected. Calling the pandas function on the sample checks
    dtypes and options eagerly and gives the result's metadata.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), npartitions=1)
    >>> meta_sample(ddf, ["a"], a=7)
       a
    0  7
    """
    fake: pd.DataFrame = frame._meta_nonempty.iloc[:1]
    sample = (fake if columns is None else fake[list(columns)]).copy()
    for name, value in values.items():
        sample[name] = pd.Series([value], index=sample.index).astype(sample[name].dtype)
    return sample


def require_datetime(meta: pd.DataFrame, column: str, arg: str) -> None:
    """Refuse a date column that is not datetime64 yet (each partition would parse its own way).

    Examples
    --------
    >>> import pandas as pd
    >>> require_datetime(pd.DataFrame({"date": ["2024-01-01"]}), "date", "transactions")
    Traceback (most recent call last):
    ...
    crmcore.errors.ColumnTypeError: column 'date' of transactions holds ...
    """
    dtype = meta[column].dtype
    if not (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)):
        raise ColumnTypeError(
            f"column {column!r} of {arg} holds {dtype} values; on a Dask collection dates must "
            "already be datetime64 (convert with dask.dataframe.to_datetime(..., format=...)), "
            "since each partition would otherwise infer its own time resolution",
            column=column,
        )


def check_nonempty(n_rows: int, arg: str) -> None:
    """Raise ``SchemaError`` when the whole collection (``n_rows`` rows) is empty.

    Examples
    --------
    >>> check_nonempty(0, "transactions")
    Traceback (most recent call last):
    ...
    crmcore.errors.SchemaError: transactions is empty; expected at least one row
    """
    if int(n_rows) == 0:
        raise SchemaError(f"{arg} is empty; expected at least one row")


def _take(part: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return part[columns]


def _projection_is_safe() -> bool:
    """Tell whether ``frame[columns]`` is safe on this Dask version.

    dask-expr 1.1 (Dask 2024.x, the declared minimum) fails to push a column projection into
    a concatenation of frames with unknown divisions (``'StackPartition' object has no
    attribute 'ignore_unknown_divisions'``). Dask 2025.1 moved dask-expr into Dask.
    """
    from importlib.metadata import version

    major, minor = (int(part) for part in version("dask").split(".")[:2])
    return (major, minor) >= (2025, 1)


def select_columns(frame: Any, columns: Sequence[str]) -> Any:
    """Return ``frame[columns]``, also on Dask versions whose projection can fail.

    On those (see :func:`_projection_is_safe`) the columns are taken per partition instead,
    which works everywhere but cannot prune the columns read from a Parquet file.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"a": [1], "b": [2], "c": [3]}), npartitions=1)
    >>> list(select_columns(ddf, ["c", "a"]).columns)
    ['c', 'a']
    """
    wanted = list(columns)
    if list(frame.columns) == wanted:
        return frame
    if _projection_is_safe():
        return frame[wanted]
    return frame.map_partitions(
        partial(_take, columns=wanted), meta=frame._meta[wanted], align_dataframes=False
    )


def _shuffle_by(frame: Any, columns: list[str], key: str) -> Any:
    """Rows of ``frame[columns]`` moved by ``set_index(key)``; labels and order travel along."""
    rows = select_columns(frame, columns)
    rows = rows.assign(**{_LABEL: rows.index, _ROW: 1})
    rows = rows.assign(**{_ROW: rows[_ROW].cumsum()})
    return rows.set_index(key, drop=False)


def _unshuffle(part: pd.DataFrame, index_name: Any) -> pd.DataFrame:
    """Put a shuffled partition back in input order, indexed by the caller's row labels."""
    part = part.sort_values(_ROW, kind="stable").drop(columns=_ROW)
    return part.set_index(_LABEL).rename_axis(index_name)


def _keyed_partition(
    part: pd.DataFrame,
    n_rows: int,
    *args: Any,
    func: PartitionFunc,
    meta: pd.DataFrame,
    index_name: Any,
    arg: str,
) -> pd.DataFrame:
    check_nonempty(n_rows, arg)
    if len(part) == 0:
        return meta.copy()
    return func(_unshuffle(part, index_name), *args)


def map_by_key(
    frame: Any,
    func: PartitionFunc,
    *,
    key: str,
    columns: Sequence[str],
    meta: pd.DataFrame,
    arg: str,
    args: Sequence[Any] = (),
) -> Any:
    """Shuffle ``frame[columns]`` by ``key``, then ``func(rows, *args)`` per partition (lazy).

    ``rows`` are all the rows of the keys of one partition, in input order, with the caller's
    row labels. An empty partition gives ``meta``; an empty collection raises ``SchemaError``
    naming ``arg`` at compute time. ``args`` are Dask scalars (fitted global steps) or plain
    numbers; bind everything else into ``func`` with :func:`functools.partial`. The result has
    the sorted divisions of ``set_index(key)``.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"k": [2, 1, 2], "x": [1.0, 2.0, 3.0]})
    >>> def total(rows):
    ...     return rows.groupby("k")[["x"]].sum()
    >>> meta = total(tx.iloc[:0])
    >>> map_by_key(dd.from_pandas(tx, npartitions=2), total, key="k", columns=["k", "x"],
    ...            meta=meta, arg="tx").compute()["x"].tolist()
    [2.0, 4.0]
    """
    keyed = _shuffle_by(frame, list(columns), key)
    step = partial(
        _keyed_partition, func=func, meta=meta, index_name=frame._meta.index.name, arg=arg
    )
    return keyed.map_partitions(step, frame.shape[0], *args, meta=meta, align_dataframes=False)


def _row_partition(
    part: pd.DataFrame,
    n_rows: int | None,
    *args: Any,
    func: PartitionFunc,
    meta: pd.DataFrame,
    arg: str,
) -> pd.DataFrame:
    if n_rows is not None:
        check_nonempty(n_rows, arg)
    if len(part) == 0:
        return meta.copy()
    return func(part, *args)


def map_rows(
    frame: Any,
    func: PartitionFunc,
    *,
    meta: pd.DataFrame,
    arg: str,
    args: Sequence[Any] = (),
    require_rows: bool = True,
) -> Any:
    """``func(partition, *args)`` on every partition, keeping partitions and row order (lazy).

    An empty partition gives ``meta``. With ``require_rows`` an empty collection raises
    ``SchemaError`` naming ``arg`` at compute time. ``args`` as in :func:`map_by_key`.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> f = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> def double(part):
    ...     return part * 2
    >>> map_rows(dd.from_pandas(f, npartitions=2), double, meta=f.iloc[:0],
    ...          arg="f").compute()["x"].tolist()
    [2.0, 4.0, 6.0]
    """
    step = partial(_row_partition, func=func, meta=meta, arg=arg)
    n_rows = frame.shape[0] if require_rows else None
    return frame.map_partitions(step, n_rows, *args, meta=meta, align_dataframes=False)
