"""Tables from other dataframe libraries as pandas: the conversion behind ``require_frame``.

crmcore computes on pandas. A polars ``DataFrame`` or ``LazyFrame``, a pyarrow ``Table`` or
``RecordBatch``, or any object exporting the Arrow PyCapsule stream (``__arrow_c_stream__``:
DuckDB relations, narwhals frames, ...) is converted once, where a public function first checks
its frame argument (:func:`crmcore._frames.require_frame`), and the function then runs on
pandas and returns pandas.

The conversion goes through Arrow with pyarrow's own ``Table.to_pandas``: numbers and
timestamps without missing values become numpy columns without a copy (``split_blocks``),
text becomes pandas' Arrow-backed ``str`` columns, Arrow dates become ``datetime64``, and
whole-number or boolean columns holding nulls become pandas' nullable ``Int64`` / ``boolean``
columns (not floats, which would round ids above 2**53). Measured at 10 million rows
(``python benchmarks/bench_inputs.py``): a pyarrow table converts in about a millisecond, a
polars frame in about 0.2 s (the time polars takes to hand its text over as Arrow), less than
``polars.DataFrame.to_pandas()`` (0.3 s), narwhals (0.3 to 0.6 s) or pandas' interchange
protocol (1.4 s) take for the same dtypes. Arrow-backed columns (``pd.ArrowDtype``) would be
built at no cost, but the library computes on numpy (an ``rfm_summary`` of 2 million rows
took 0.93 s on them against 0.89 s) and its results would carry Arrow dtypes
(``int64[pyarrow]`` ids) where a pandas input gives numpy ones.

polars and pyarrow are optional: nothing here imports them unless such an object is passed
(an object of those libraries cannot exist without them being importable).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmcore.errors import MissingDependencyError

__all__ = ["FRAME_KINDS", "arrow_to_pandas", "to_pandas", "type_name"]

#: What a frame argument may be, as error messages say it.
FRAME_KINDS = "a pandas DataFrame (or polars/pyarrow table)"


def type_name(obj: object) -> str:
    """Name the type of ``obj`` the way its library's users write it.

    Builtins by their name; others by their top-level package and class, so a polars Series is
    ``polars.Series`` (its class lives in ``polars.series.series``).

    Examples
    --------
    >>> import pandas as pd
    >>> type_name([1]), type_name(pd.Series([1])), type_name(pd.DataFrame())
    ('list', 'pandas.Series', 'pandas.DataFrame')
    """
    cls = type(obj)
    package = cls.__module__.split(".")[0]
    return cls.__qualname__ if package == "builtins" else f"{package}.{cls.__qualname__}"


def _package(obj: object) -> str:
    return type(obj).__module__.split(".")[0]


def _pyarrow(what: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise MissingDependencyError(
            f"converting a {what} to pandas needs 'pyarrow', which is not installed; install it "
            "with: pip install pyarrow (from a crmcore source checkout: pip install -e '.[arrow]')"
        ) from None
    return pa


def arrow_to_pandas(table: Any) -> pd.DataFrame:
    """Convert a ``pyarrow.Table`` to pandas, sharing memory where Arrow allows.

    Examples
    --------
    >>> import pyarrow as pa
    >>> frame = arrow_to_pandas(pa.table({"id": [7, None], "day": pa.array([0, 1], pa.date32())}))
    >>> frame.dtypes.astype(str).tolist()
    ['Int64', 'datetime64[ms]']
    >>> frame["id"].tolist()
    [7, <NA>]
    """
    pa = _pyarrow("pyarrow Table")
    out: pd.DataFrame = table.to_pandas(split_blocks=True, date_as_object=False)
    nullable = _nullable_dtypes(pa)
    for position, field in enumerate(table.schema):
        column = table.column(position)
        if column.null_count and field.type in nullable:
            # Floats would round ids above 2**53 and objects would hide booleans among numbers.
            values = column.to_pandas(types_mapper=nullable.get)
            out.isetitem(position, values)
    return out


def _nullable_dtypes(pa: Any) -> dict[Any, Any]:
    kinds = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
    mapping: dict[Any, Any] = {
        getattr(pa, kind)(): pd.api.types.pandas_dtype(kind.capitalize().replace("Ui", "UI"))
        for kind in kinds
    }
    mapping[pa.bool_()] = pd.BooleanDtype()
    return mapping


def to_pandas(obj: object) -> pd.DataFrame | None:
    """Return ``obj`` as a pandas DataFrame, or ``None`` when it is not a table crmcore reads.

    pandas frames are returned unchanged (not copied). polars DataFrames and LazyFrames
    (collected), pyarrow Tables and RecordBatches, and objects exporting an Arrow stream whose
    rows are records are converted with :func:`arrow_to_pandas`. Anything else (a Series, an
    array, a list) gives ``None``, and the caller names its type in the error.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1]})
    >>> to_pandas(frame) is frame, to_pandas([1, 2]) is None
    (True, True)
    """
    if isinstance(obj, pd.DataFrame):
        return obj
    package = _package(obj)
    name = type(obj).__name__
    if package == "polars" and name in ("DataFrame", "LazyFrame"):
        _pyarrow(f"polars {name}")
        frame: Any = obj.collect() if name == "LazyFrame" else obj  # type: ignore[attr-defined]  # polars
        return arrow_to_pandas(frame.to_arrow())
    if package == "pyarrow" and name in ("Table", "RecordBatch"):
        pa = _pyarrow(f"pyarrow {name}")
        return arrow_to_pandas(obj if name == "Table" else pa.Table.from_batches([obj]))
    if package in ("polars", "pyarrow", "pandas", "numpy"):
        return None  # their Series and arrays export Arrow streams too, but are not tables
    if hasattr(obj, "__arrow_c_stream__"):
        pa = _pyarrow(type_name(obj))
        try:
            table = pa.table(obj)
        except (TypeError, ValueError, pa.ArrowException):
            return None  # a stream of plain values (a column), not of records
        return arrow_to_pandas(table)
    return None
