"""Shared input checks and coercions.

Every public function validates its inputs through these helpers so that errors look the same
everywhere: they name the argument or column, the first offending row (its index label and,
where useful, a key column such as the customer id), the offending value and what was expected.

None of these helpers mutates its input; coercions return new arrays or Series.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._interchange import FRAME_KINDS, to_pandas, type_name
from crmcore.errors import (
    ColumnTypeError,
    ConfigError,
    DataError,
    InputTypeError,
    MissingDependencyError,
    SchemaError,
)

__all__ = [
    "check_choice",
    "check_scalar",
    "checked_totals",
    "datetime_column",
    "describe_row",
    "first_true",
    "import_optional",
    "lookup_ids",
    "not_a_number",
    "numeric_column",
    "quantile_scale",
    "refuse_first",
    "require_columns",
    "require_frame",
    "require_not_null",
    "require_one_id_type",
    "require_unique",
    "resolve_as_of",
    "shares",
    "show",
    "stored_numbers",
    "utc_offsets",
    "weights_array",
]


def show(value: Any) -> str:
    """Format a value for an error message: numpy scalars print as plain Python values.

    Examples
    --------
    >>> import numpy as np
    >>> show(np.int64(8)), show(np.float64(-2.0)), show("a")
    ('8', '-2.0', "'a'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def first_true(mask: npt.ArrayLike) -> int | None:
    """Position of the first ``True`` in a boolean mask, or ``None`` when there is none.

    Examples
    --------
    >>> first_true([False, True, True]), first_true([False])
    (1, None)
    """
    arr = np.asarray(mask, dtype=bool)
    if not arr.any():
        return None
    return int(arr.argmax())


def not_a_number(values: npt.ArrayLike, labels: pd.Index | None, name: str) -> tuple[str, Any, Any]:
    """Describe the first value that is not a number: ``(message, row, value)``.

    For the error path of a conversion to float that failed: the loop over the values runs
    only then. ``labels`` (a Series' index) name the row; without them, the position does.

    Examples
    --------
    >>> import pandas as pd
    >>> not_a_number([1.5, None, "x"], None, "weights")[0]
    'weights has a missing value at position 1; expected numbers'
    >>> not_a_number(pd.Series([1, "x"], index=["a", "b"]), pd.Index(["a", "b"]), "amounts")[0]
    "amounts has non-numeric value 'x' at row 'b'; expected numbers"
    """
    flat = np.atleast_1d(np.asarray(values, dtype=object)).ravel().tolist()
    pos = 0
    for pos, value in enumerate(flat):  # noqa: B007 - the position is the answer
        if value is None or value is pd.NA or value is pd.NaT or isinstance(value, bool):
            break
        try:
            float(value)
        except (TypeError, ValueError):
            break
    value = flat[pos] if flat else None
    where = f"at row {show(labels[pos])}" if labels is not None else f"at position {pos}"
    row = labels[pos] if labels is not None else pos
    if value is None or value is pd.NA or value is pd.NaT:
        what = "a missing value"
    elif isinstance(value, bool):
        what = f"boolean {value}"
    else:
        what = f"non-numeric value {show(value)}"
    return f"{name} has {what} {where}; expected numbers", row, value


def describe_row(frame: pd.DataFrame, position: int, key: str | None = None) -> str:
    """Describe the row at ``position`` as ``"row <label> (<key>=<value>)"``.

    Examples
    --------
    >>> import pandas as pd
    >>> describe_row(pd.DataFrame({"customer_id": [7, 8]}, index=[10, 11]), 1, "customer_id")
    'row 11 (customer_id=8)'
    """
    label = frame.index[position]
    text = f"row {show(label)}" if isinstance(label, str | np.generic) else f"row {label}"
    if key is not None and key in frame.columns:
        text += f" ({key}={show(frame[key].iloc[position])})"
    return text


def refuse_first(
    frame: pd.DataFrame,
    mask: npt.ArrayLike,
    column: str,
    *,
    arg: str,
    problem: str,
    then: str,
    key: str | None = None,
    values: pd.Series | npt.NDArray[Any] | None = None,
) -> None:
    """Raise :class:`~crmcore.errors.DataError` at the first row where ``mask`` is true.

    The message reads ``column <column> of <arg> has <problem> <value> at <row><then>``
    (``problem`` may be empty);
    the value is taken from ``values`` (aligned with the rows; default ``frame[column]``)
    and the row is named by its label (and ``key``) as :func:`describe_row` does.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"share": [0.5, -1.0]}, index=["a", "b"])
    >>> refuse_first(frame, frame["share"] < 0, "share", arg="splits",
    ...              problem="negative share", then="; shares must be >= 0")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'share' of splits has negative share -1.0 at row 'b'; ...
    """
    pos = first_true(mask)
    if pos is None:
        return
    source = frame[column] if values is None else values
    value = source.iloc[pos] if isinstance(source, pd.Series) else source[pos]
    raise DataError(
        f"column {column!r} of {arg} has {problem}{' ' if problem else ''}{show(value)} at "
        f"{describe_row(frame, pos, key)}{then}",
        column=column,
        row=frame.index[pos],
        value=value,
    )


def require_frame(obj: object, *, arg: str) -> pd.DataFrame:
    """Return ``obj`` as a pandas DataFrame, else raise :class:`~crmcore.errors.InputTypeError`.

    This is crmcore's one input boundary for tables: every public function checks its frame
    arguments here (directly or through :func:`require_columns`) and computes on what it
    returns. A pandas DataFrame comes back unchanged; a polars ``DataFrame`` or ``LazyFrame``,
    a pyarrow ``Table`` or ``RecordBatch``, or an object exporting an Arrow stream of records
    comes back converted to pandas (see ``crmcore._interchange``), so results are pandas
    whatever the input. Anything else is an error naming its type in full.

    Examples
    --------
    >>> require_frame([1, 2], arg="transactions")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: transactions must be a pandas DataFrame (or polars/pyarrow \
table), got list
    >>> import pyarrow as pa
    >>> require_frame(pa.table({"amount": [1.5, 2.0]}), arg="transactions")
       amount
    0     1.5
    1     2.0
    """
    frame = to_pandas(obj)
    if frame is None:
        raise InputTypeError(f"{arg} must be {FRAME_KINDS}, got {type_name(obj)}")
    return frame


def require_columns(
    frame: object,
    columns: Iterable[Hashable],
    *,
    arg: str,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Check that ``frame`` is a table holding every column in ``columns``; return it as pandas.

    ``frame`` goes through :func:`require_frame` first (polars and pyarrow tables are
    converted), so callers go on with the returned frame. Also rejects an empty frame unless
    ``allow_empty``.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when it is a pandas DataFrame, else its pandas conversion.

    Raises
    ------
    InputTypeError
        ``frame`` is not a DataFrame.
    SchemaError
        A column is missing (all missing ones are named) or the frame has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], arg="deals")
    Traceback (most recent call last):
    ...
    crmcore.errors.SchemaError: deals is missing column(s) 'b'; it has 'a'
    """
    frame = require_frame(frame, arg=arg)
    wanted = list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        have = ", ".join(repr(c) for c in frame.columns) or "no columns"
        raise SchemaError(
            f"{arg} is missing column(s) {', '.join(repr(c) for c in missing)}; it has {have}",
            column=str(missing[0]),
        )
    dupes = frame.columns[frame.columns.duplicated()]
    if len(dupes):
        raise SchemaError(
            f"{arg} has duplicated column name {dupes[0]!r}; column names must be unique",
            column=str(dupes[0]),
        )
    if not allow_empty and len(frame) == 0:
        raise SchemaError(f"{arg} is empty; expected at least one row")
    return frame


def require_not_null(frame: pd.DataFrame, column: str, *, arg: str, key: str | None = None) -> None:
    """Raise :class:`~crmcore.errors.DataError` naming the first missing value in ``column``.

    Examples
    --------
    >>> import pandas as pd
    >>> require_not_null(pd.DataFrame({"c": [1, None]}), "c", arg="transactions")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'c' of transactions has a missing value at row 1; ...
    """
    pos = first_true(frame[column].isna().to_numpy())
    if pos is not None:
        raise DataError(
            f"column {column!r} of {arg} has a missing value at {describe_row(frame, pos, key)}; "
            f"every row needs a {column}",
            column=column,
            row=frame.index[pos],
            value=frame[column].iloc[pos],
        )


def _id_kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, Real):
        return "number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


# infer_dtype kinds of an object column whose values are all of one kind of id
_ONE_KIND = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float", "boolean"})


def require_one_id_type(
    frame: pd.DataFrame, column: str, *, arg: str, key: str | None = None
) -> None:
    """Raise :class:`~crmcore.errors.DataError` when an id column mixes numbers and text.

    ``1`` and ``"1"`` are different values to pandas but the same customer to a reader (a CSV
    read in two ways, a join of two sources), so grouping by such a column would split one
    customer in two or fail on sorting. The message names both values and the row of the
    second. Columns of one dtype (numbers, strings, categoricals of one kind) pass at once.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = pd.DataFrame({"customer_id": [1, 2, "1"]}, index=["a", "b", "c"])
    >>> require_one_id_type(ids, "customer_id", arg="transactions")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'customer_id' of transactions mixes number 1 (row 'a') ...
    """
    series = frame[column]
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if pd.api.types.infer_dtype(dtype.categories, skipna=True) in _ONE_KIND:
            return
    elif (
        not pd.api.types.is_object_dtype(dtype)
        or pd.api.types.infer_dtype(series, skipna=True) in _ONE_KIND
    ):
        return
    kinds = series.map(_id_kind, na_action="ignore")
    present = series.notna().to_numpy()
    first = first_true(present)
    if first is None:  # pragma: no cover - an all-missing column infers as "empty"
        return
    pos = first_true(present & (kinds != kinds.iloc[first]).to_numpy())
    if pos is None:  # pragma: no cover - one kind after all (e.g. Decimal objects)
        return
    a, b = series.iloc[first], series.iloc[pos]
    raise DataError(
        f"column {column!r} of {arg} mixes {kinds.iloc[first]} {show(a)} "
        f"({describe_row(frame, first, key)}) and "
        f"{kinds.iloc[pos]} {show(b)} ({describe_row(frame, pos, key)}); ids must be all "
        "numbers or all text",
        column=column,
        row=frame.index[pos],
        value=b,
    )


def require_unique(frame: pd.DataFrame, column: str, *, arg: str) -> None:
    """Raise :class:`~crmcore.errors.DataError` naming the first repeated value in ``column``.

    Examples
    --------
    >>> import pandas as pd
    >>> require_unique(pd.DataFrame({"id": [1, 2, 1]}), "id", arg="summary")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'id' of summary has duplicate value 1 at row 2; ...
    """
    series = frame[column]
    if len(series) > 1 and pd.api.types.is_numeric_dtype(series.dtype):
        # Fast path: strictly increasing numeric keys (the usual sorted id column) are unique;
        # one vectorised comparison instead of a hash table over every value.
        values = series.to_numpy()
        if not pd.api.types.is_bool_dtype(values.dtype) and bool((values[1:] > values[:-1]).all()):
            return
    refuse_first(frame, series.duplicated().to_numpy(), column, arg=arg,
                 problem="duplicate value", then=f"; each {column} must appear once")  # fmt: skip


def numeric_column(
    frame: pd.DataFrame,
    column: str,
    *,
    arg: str,
    key: str | None = None,
    allow_negative: bool = True,
    negative_hint: str = "",
    allow_nan: bool = False,
    what: str = "finite numbers",
) -> npt.NDArray[np.float64]:
    """Return ``frame[column]`` as a new float64 array after checking its values.

    Text that cannot be read as a number, booleans, NaN (unless ``allow_nan``), infinities and,
    unless ``allow_negative``, negative values raise an error naming the first offending row.

    Raises
    ------
    ColumnTypeError
        The column holds something other than numbers.
    DataError
        NaN, infinite or negative values.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_column(pd.DataFrame({"amount": [1, 2.5]}), "amount", arg="transactions")
    array([1. , 2.5])
    >>> numeric_column(pd.DataFrame({"amount": [1, -2]}), "amount", arg="transactions",
    ...                allow_negative=False, negative_hint="pass refunds='allow'")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'amount' of transactions has negative value -2.0 at row 1; \
expected amounts >= 0 (pass refunds='allow')
    """
    series = frame[column]
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise ColumnTypeError(
            f"column {column!r} of {arg} holds booleans; expected {what}", column=column
        )
    if pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        coerced = pd.to_numeric(series, errors="coerce")
        bad = coerced.isna().to_numpy() & series.notna().to_numpy()
        # Booleans hide among objects only in mixed columns; text or plain numbers (the usual
        # CSV case) skip the per-value check, which would be a Python loop over every row.
        if pd.api.types.infer_dtype(series, skipna=True) not in _NO_BOOLS:
            bad |= series.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        pos = first_true(bad)
        if pos is not None:
            value = series.iloc[pos]
            raise ColumnTypeError(
                f"column {column!r} of {arg} has non-numeric value {show(value)} at "
                f"{describe_row(frame, pos, key)}; expected {what}",
                column=column,
                row=frame.index[pos],
                value=value,
            )
        values = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
    if not allow_nan:
        pos = first_true(np.isnan(values))
        if pos is not None:
            raise DataError(
                f"column {column!r} of {arg} has NaN at {describe_row(frame, pos, key)}; "
                f"expected {what}",
                column=column,
                row=frame.index[pos],
                value=series.iloc[pos],
            )
    refuse_first(frame, np.isinf(values), column, arg=arg, problem="infinite value",
                 then=f"; expected {what}", key=key, values=values)  # fmt: skip
    if not allow_negative:
        hint = f" ({negative_hint})" if negative_hint else ""
        refuse_first(frame, values < 0, column, arg=arg, problem="negative value",
                     then=f"; expected amounts >= 0{hint}", key=key, values=values)  # fmt: skip
    return values


# infer_dtype kinds whose values cannot be booleans.
_NO_BOOLS = frozenset({"string", "empty", "integer", "floating", "decimal", "mixed-integer-float"})


def _tz_name(value: Any) -> str | None:
    tz = getattr(value, "tzinfo", None)
    return None if tz is None else str(tz)


def datetime_column(
    frame: pd.DataFrame,
    column: str,
    *,
    arg: str,
    key: str | None = None,
) -> pd.Series:
    """Return ``frame[column]`` as a new datetime64 Series after checking its values.

    Accepted: a datetime64 column (naive or tz-aware), or text / date objects that parse as
    dates. Rejected with an error naming the first offending row: missing dates (NaT), text that
    is not a date, naive and tz-aware dates mixed, several time zones mixed.

    Raises
    ------
    ColumnTypeError
        The column holds values that are not dates.
    DataError
        Missing dates, or naive and tz-aware dates (or several time zones) mixed.

    Examples
    --------
    >>> import pandas as pd
    >>> datetime_column(pd.DataFrame({"date": ["2024-01-02", "2024-03-04"]}), "date",
    ...                 arg="transactions").dt.month.tolist()
    [1, 3]
    """
    series = frame[column]
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        out = series.copy(deep=False)  # copy-on-write (pandas 3): no data copied unless written
    elif isinstance(dtype, pd.ArrowDtype) and dtype.kind == "M":
        # timestamp[pyarrow] (e.g. read_parquet(dtype_backend="pyarrow")): to numpy datetime64,
        # keeping the unit and time zone; missing values become NaT and are caught below.
        # (pd.to_datetime hands timestamp[ns][pyarrow] back unchanged, so not that.)
        out = pd.Series(pd.DatetimeIndex(series.array), index=series.index, name=series.name)
    elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise ColumnTypeError(
            f"column {column!r} of {arg} holds {dtype} values; expected dates "
            "(datetime64 or ISO 8601 text)",
            column=column,
        )
    else:
        non_null = series.notna().to_numpy()
        # Text dates (the usual CSV case) hold neither numbers nor time-zone objects: skip the
        # per-value checks, which are Python loops over every row, and let the parser judge.
        text = pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
        numeric = (
            np.zeros(len(series), dtype=bool)
            if text
            else series.map(lambda v: isinstance(v, Real) and not isinstance(v, bool)).to_numpy(
                dtype=bool
            )
            & non_null
        )
        pos = first_true(numeric)
        if pos is not None:
            value = series.iloc[pos]
            raise ColumnTypeError(
                f"column {column!r} of {arg} has number {show(value)} at "
                f"{describe_row(frame, pos, key)}; expected dates (datetime64 or ISO 8601 text)",
                column=column,
                row=frame.index[pos],
                value=value,
            )
        tzs = pd.Series(None, index=series.index, dtype=object) if text else series.map(_tz_name)
        aware = tzs.notna().to_numpy()
        if aware.any():
            naive = non_null & ~aware
            pos = first_true(naive)
            if pos is not None:
                raise DataError(
                    f"column {column!r} of {arg} mixes naive and tz-aware dates: "
                    f"{show(series.iloc[pos])} at {describe_row(frame, pos, key)} has no time zone "
                    f"while {show(series[aware].iloc[0])} has one; use one convention",
                    column=column,
                    row=frame.index[pos],
                    value=series.iloc[pos],
                )
            first = int(aware.argmax())
            other = first_true((tzs != tzs.iloc[first]).to_numpy() & aware)
            if other is not None:
                raise DataError(
                    f"column {column!r} of {arg} mixes time zones: {tzs.iloc[first]} at "
                    f"{describe_row(frame, first, key)} and {tzs.iloc[other]} at "
                    f"{describe_row(frame, other, key)}; convert to one time zone first",
                    column=column,
                    row=frame.index[other],
                    value=series.iloc[other],
                )
        try:
            out = pd.to_datetime(series, format="ISO8601")
        except (ValueError, TypeError):
            _check_offsets(frame, column, arg=arg, key=key)
            coerced = pd.to_datetime(series, errors="coerce", format="ISO8601")
            bad = coerced.isna().to_numpy() & non_null
            pos = first_true(bad)
            if pos is None:  # pragma: no cover - to_datetime failed for a reason we cannot locate
                raise ColumnTypeError(
                    f"column {column!r} of {arg} could not be read as dates", column=column
                ) from None
            value = series.iloc[pos]
            raise ColumnTypeError(
                f"column {column!r} of {arg} has value {show(value)} at "
                f"{describe_row(frame, pos, key)} that is not a date; expected datetime64 or "
                "ISO 8601 text",
                column=column,
                row=frame.index[pos],
                value=value,
            ) from None
        if not (
            isinstance(out.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(out)
        ):  # pragma: no cover - defensive: to_datetime returned objects
            raise ColumnTypeError(f"column {column!r} of {arg} could not be read as dates")
    pos = first_true(out.isna().to_numpy())
    if pos is not None:
        raise DataError(
            f"column {column!r} of {arg} has a missing date (NaT) at "
            f"{describe_row(frame, pos, key)}; every row needs a date",
            column=column,
            row=frame.index[pos],
            value=series.iloc[pos],
        )
    return out


# A UTC offset after the time of ISO 8601 text: Z, +01, +0100 or +01:00.
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$"


def utc_offsets(series: pd.Series) -> pd.Series:
    """Return the UTC offset written at the end of each text date (``+0100``), else missing.

    ``Z`` reads as ``+0000``; ``+01``, ``+0100`` and ``+01:00`` as ``+0100``. Values that are
    not text have no offset here (their time zone, if any, is their own).

    Examples
    --------
    >>> import pandas as pd
    >>> utc_offsets(pd.Series(["2024-01-05T09:00+01:00", "2024-01-05T09:00Z", "2024-01-05"]))
    0    +0100
    1    +0000
    2      NaN
    dtype: str
    """
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        text = series
    else:  # only text can carry a written offset
        text = series.where(series.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool))
    found = text.astype("str").str.strip().str.extract(_OFFSET, expand=False)
    return found.str.replace("Z", "+00:00").str.replace(":", "").str.ljust(5, "0")


def _check_offsets(frame: pd.DataFrame, column: str, *, arg: str, key: str | None) -> None:
    """Raise a DataError when text dates mix UTC offsets, or offsets and none (pandas refuses).

    Examples
    --------
    >>> import pandas as pd
    >>> mixed = pd.DataFrame({"date": ["2024-01-05T09:00+01:00", "2024-07-05T09:00+02:00"]})
    >>> _check_offsets(mixed, "date", arg="transactions", key=None)
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'date' of transactions mixes UTC offsets: \
'2024-01-05T09:00+01:00' at row 0 and '2024-07-05T09:00+02:00' at row 1; ...
    """
    series = frame[column]
    offsets = utc_offsets(series)
    if offsets.isna().all():
        return
    has_text = (series.notna() & series.map(lambda v: isinstance(v, str))).to_numpy(dtype=bool)
    aware = offsets.notna().to_numpy()
    naive = first_true(has_text & ~aware)
    first = int(aware.argmax())  # some offset was found just above
    if naive is not None:
        raise DataError(
            f"column {column!r} of {arg} mixes naive and tz-aware dates: "
            f"{show(series.iloc[naive])} at {describe_row(frame, naive, key)} has no UTC offset "
            f"while {show(series.iloc[first])} at {describe_row(frame, first, key)} has one; "
            "use one convention",
            column=column,
            row=frame.index[naive],
            value=series.iloc[naive],
        )
    other = first_true(aware & (offsets != offsets.iloc[first]).to_numpy())
    if other is not None:
        raise DataError(
            f"column {column!r} of {arg} mixes UTC offsets: {show(series.iloc[first])} at "
            f"{describe_row(frame, first, key)} and {show(series.iloc[other])} at "
            f"{describe_row(frame, other, key)}; convert the dates to one time zone first "
            "(for UTC: pandas.to_datetime(..., utc=True))",
            column=column,
            row=frame.index[other],
            value=series.iloc[other],
        )


def resolve_as_of(
    as_of: object,
    dates: pd.Series,
    *,
    arg: str = "as_of",
    column: str = "date",
) -> pd.Timestamp:
    """Return ``as_of`` as a Timestamp consistent with ``dates`` (default: their maximum).

    A naive ``as_of`` with tz-aware dates (or the reverse) is an error, not a silent shift.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]))
    >>> resolve_as_of(None, d), resolve_as_of("2024-03-01", d)
    (Timestamp('2024-02-01 00:00:00'), Timestamp('2024-03-01 00:00:00'))
    """
    tz = getattr(dates.dtype, "tz", None)
    if as_of is None:
        if len(dates) == 0:
            raise SchemaError(f"{arg} cannot default to the latest date of an empty table")
        return pd.Timestamp(dates.max())
    try:
        ts = pd.Timestamp(as_of)  # type: ignore[arg-type]  # validated right here
    except (ValueError, TypeError):
        raise ConfigError(f"{arg}={as_of!r} is not a date", column=arg, value=as_of) from None
    if pd.isna(ts):
        raise ConfigError(f"{arg} is NaT; expected a date", column=arg, value=as_of)
    if (ts.tzinfo is None) != (tz is None):
        kind = "tz-aware" if tz is not None else "naive"
        raise ConfigError(
            f"{arg}={ts!r} and column {column!r} ({kind}) mix naive and tz-aware dates; "
            "use one convention",
            column=arg,
            value=as_of,
        )
    if tz is not None:
        ts = ts.tz_convert(tz)
    return ts


def check_scalar(
    value: Any,
    name: str,
    *,
    kind: type | tuple[type, ...],
    min_value: float | None = None,
    max_value: float | None = None,
    include: Literal["both", "left", "right", "neither"] = "both",
) -> Any:
    """Check a scalar argument's type and range; return it unchanged.

    Integer arguments reject booleans and floats; real arguments reject booleans and NaN.

    Raises
    ------
    ConfigError
        Wrong type (the exception is also a ``TypeError``-free ``ValueError``: a config is
        wrong as a whole) or out of range.

    Examples
    --------
    >>> check_scalar(5, "bins", kind=int, min_value=2)
    5
    >>> check_scalar(1, "bins", kind=int, min_value=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: bins == 1, must be >= 2
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    abstract: list[type] = []
    for k in kinds:
        if k is int:
            abstract.append(Integral)
        elif k is float:
            abstract.append(Real)
        else:
            abstract.append(k)
    if (isinstance(value, bool | np.bool_) and bool not in kinds) or not isinstance(
        value, tuple(abstract)
    ):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(
            f"{name} must be {names}, got {type(value).__name__} {show(value)}",
            column=name,
            value=value,
        )
    if isinstance(value, Real) and not isinstance(value, Integral) and np.isnan(float(value)):
        raise ConfigError(f"{name} is NaN; expected a number", column=name, value=value)
    number = float(value)  # type: ignore[arg-type]  # a Real, checked just above
    low_ok = include in ("both", "left")
    high_ok = include in ("both", "right")
    if min_value is not None and (number < min_value if low_ok else number <= min_value):
        op = ">=" if low_ok else ">"
        raise ConfigError(
            f"{name} == {show(value)}, must be {op} {min_value}", column=name, value=value
        )
    if max_value is not None and (number > max_value if high_ok else number >= max_value):
        op = "<=" if high_ok else "<"
        raise ConfigError(
            f"{name} == {show(value)}, must be {op} {max_value}", column=name, value=value
        )
    return value


def check_choice(value: Any, name: str, choices: Collection[Any]) -> Any:
    """Check that ``value`` is one of ``choices``; return it unchanged.

    Examples
    --------
    >>> check_choice("hamilton", "method", ["hamilton", "webster"])
    'hamilton'
    >>> check_choice("x", "method", ["hamilton", "webster"])
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: method='x' is not one of 'hamilton', 'webster'
    """
    if value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{name}={show(value)} is not one of {opts}", column=name, value=value)
    return value


def quantile_scale(lowest: float, highest: float) -> float:
    """Factor to apply before a linear quantile of finite values and to undo after it.

    A linear quantile interpolates between neighbours ``a + (b - a) * t``; when values of both
    signs come near the largest float, ``b - a`` overflows and the quantile is silently
    ``inf``/``nan``. When the spread ``highest - lowest`` overflows the factor is 0.5 (halving
    and doubling are exact but for subnormal values), else 1 (nothing changes). Every quantile
    in crmcore (pandas and Dask paths alike) uses this one rule, so both agree bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([-1.5e308, 1e308, 1.5e308])
    >>> s = quantile_scale(v.min(), v.max())
    >>> s, float(np.quantile(v * s, 0.25) / s)
    (0.5, -2.5e+307)
    >>> quantile_scale(0.0, 1.7e308)
    1.0
    """
    with np.errstate(over="ignore"):
        spread = np.float64(highest) - np.float64(lowest)
    return 1.0 if np.isfinite(spread) else 0.5


#: the largest float64 (about 1.8e308)
LARGEST_FLOAT = float(np.finfo(np.float64).max)


def checked_totals(
    totals: npt.ArrayLike,
    values: npt.ArrayLike,
    groups: npt.ArrayLike | Callable[[], npt.ArrayLike | None] | None,
    frame: pd.DataFrame,
    column: str,
    *,
    arg: str,
    key: str | None = None,
    limit: float = LARGEST_FLOAT,
    expected: str = "totals a float can hold (express the amounts in a larger unit, e.g. "
    "thousands)",
) -> npt.NDArray[np.float64]:
    """Return float totals that are finite, or raise a DataError naming where they overflow.

    ``totals`` were summed the fast way (``np.sum``, ``np.bincount``, a pandas group-by);
    ``values`` are the finite summands aligned with the rows of ``frame`` (NaN counts 0) and
    ``groups`` the group number of each row, the position of its total (negative: counted in
    none; ``None``: one total of every row; a callable returning either: asked only when a
    total is not finite, so a caller that grouped by other means pays nothing for the numbers).
    Finite totals are returned as they are, which is the only cost on the usual path (one
    ``np.isfinite``). A total that is ``inf`` or ``NaN`` (finite values near 1.8e308 adding up
    past the largest float, or pairwise summation meeting ``inf - inf``) is summed again, its
    group's rows in row order, in a scale where no partial sum can overflow (vectorised: one
    ``np.bincount``): where it is a float after all (values of both signs), that is the total;
    where it is not, :class:`~crmcore.errors.DataError` names ``column``, the first row where
    such a group's running total passes the largest float, its value and what was
    ``expected``. A smaller ``limit``
    holds the totals within it the same way (a chart's axis, which needs room for margins).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": [1.7e308, -1.7e308, 5.0]}, index=["a", "b", "c"])
    >>> v = frame["amount"].to_numpy()
    >>> checked_totals(np.array([np.inf]), v, None, frame, "amount", arg="deals").tolist()
    [5.0]
    >>> frame = pd.DataFrame({"amount": [1.0, 1.7e308, 1.7e308]}, index=["a", "b", "c"])
    >>> with np.errstate(over="ignore"):
    ...     total = frame["amount"].to_numpy().sum()
    >>> checked_totals(total, frame["amount"].to_numpy(), None, frame, "amount", arg="deals")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'amount' of deals adds up past the largest float (about \
1.8e308) at row 'c', value 1.7e+308; expected totals a float can hold (express the amounts in a \
larger unit, e.g. thousands)
    """
    out = np.array(totals, dtype=np.float64)
    bad = ~(np.abs(out) <= limit)  # inf and NaN too
    if not bad.any():
        return out
    vals = np.asarray(values, dtype=np.float64)
    if callable(groups):
        groups = groups()
    codes = np.zeros(len(vals), dtype=np.int64) if groups is None else np.asarray(groups)
    flat = out.reshape(-1)
    bad_flat = bad.reshape(-1)
    # the rows of the groups to sum again, in row order, at 2**-k for 2**k of them or more:
    # every partial sum of n <= 2**k values <= largest * 2**-k is a float
    mine = np.zeros(len(vals), dtype=bool)
    counted = codes >= 0
    mine[counted] = bad_flat[codes[counted]]
    rows = np.flatnonzero(mine)
    part = np.nan_to_num(vals[rows], nan=0.0)
    scale = 2.0 ** -max(1, int(np.ceil(np.log2(max(len(rows), 2)))))
    small = part * scale
    sums = np.bincount(codes[rows], weights=small, minlength=flat.size)  # in row order
    held = np.abs(sums) <= limit * scale
    failed = bad_flat & ~held
    if not failed.any():
        flat[bad_flat] = sums[bad_flat] / scale
        return out
    # the first row (in row order) where a failed group's running total passes the limit
    of_failed = failed[codes[rows]]
    running = pd.Series(small[of_failed]).groupby(codes[rows][of_failed]).cumsum().to_numpy()
    pos = int(rows[of_failed][first_true(np.abs(running) > limit * scale) or 0])
    value = frame[column].iloc[pos]
    past = "the largest float (about 1.8e308)" if limit == LARGEST_FLOAT else f"{limit:.2g}"
    raise DataError(
        f"column {column!r} of {arg} adds up past {past} at "
        f"{describe_row(frame, pos, key)}, value {show(value)}; expected {expected}",
        column=column,
        row=frame.index[pos],
        value=value,
    )


def shares(totals: npt.ArrayLike, *, positive: bool = False) -> npt.NDArray[np.float64]:
    """Divide each of finite ``totals`` by their sum.

    NaN everywhere when the sum is 0 (or, with ``positive``, when it is not above 0). Where
    the sum passes the largest float (totals near 1.8e308), the shares are computed in a scale
    where it cannot (a power of two: exact but for subnormal values); shares do not depend on
    the scale, so they stay finite and correct.

    Examples
    --------
    >>> shares([1.0, 3.0]).tolist(), shares([1.7e308, 1.7e308]).tolist()
    ([0.25, 0.75], [0.5, 0.5])
    >>> shares([2.0, -2.0]).tolist(), shares([-1.0], positive=True).tolist()
    ([nan, nan], [nan])
    """
    values = np.asarray(totals, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # scaled just below
        grand = values.sum()
    if not np.isfinite(grand):
        values = values * 2.0 ** -max(1, int(np.ceil(np.log2(max(len(values), 2)))))
        grand = values.sum()
    if grand == 0 or (positive and not grand > 0):
        return np.full(values.shape, np.nan)
    return np.asarray(values / grand, dtype=np.float64)


def stored_numbers(values: pd.Series | pd.Index) -> npt.NDArray[Any]:
    """Return the values of a Series or Index as the exact numpy array to check.

    Integers without missing values give int64 (exact beyond 2**53), other numbers float64
    (missing values as NaN), booleans and everything else their stored objects (so a check can
    name a boolean or a text value as it is).

    Examples
    --------
    >>> import pandas as pd
    >>> stored_numbers(pd.Series([2**62, 1])).dtype, stored_numbers(pd.Series([1.5, None]))
    (dtype('int64'), array([1.5, nan]))
    >>> stored_numbers(pd.Series([True, False])).tolist()
    [True, False]
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.asarray(values.to_numpy(dtype=object))
    if pd.api.types.is_integer_dtype(dtype) and not values.hasnans:
        return values.to_numpy(dtype=np.int64)
    if pd.api.types.is_numeric_dtype(dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return values.to_numpy()


def weights_array(
    weights: npt.ArrayLike | pd.Series | Sequence[float],
    *,
    name: str = "weights",
    allow_all_zero: bool = False,
) -> npt.NDArray[np.float64]:
    """Return weights as a new 1-D float64 array: finite, non-negative, not all zero.

    Examples
    --------
    >>> weights_array([1, 2, 0])
    array([1., 2., 0.])
    >>> weights_array([0, 0])
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: weights are all zero; at least one must be positive
    """
    labels: pd.Index | None = weights.index if isinstance(weights, pd.Series) else None
    try:
        arr = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raw = weights.to_numpy(dtype=object) if isinstance(weights, pd.Series) else weights
        text, row, value = not_a_number(raw, labels, name)
        raise ConfigError(text, column=name, row=row, value=value) from None
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be one-dimensional, got shape {arr.shape}", column=name)
    if arr.size == 0:
        raise ConfigError(f"{name} is empty; expected at least one weight", column=name)

    def where(pos: int) -> str:
        return f"at position {pos}" if labels is None else f"at label {labels[pos]!r}"

    for mask, what in ((np.isnan(arr), "NaN"), (np.isinf(arr), "infinite"), (arr < 0, "negative")):
        pos = first_true(mask)
        if pos is not None:
            raise ConfigError(
                f"{name} has {what} value {show(arr[pos])} {where(pos)}; weights must be finite "
                "and >= 0",
                column=name,
                row=pos if labels is None else labels[pos],
                value=arr[pos],
            )
    if not allow_all_zero and not (arr > 0).any():
        raise ConfigError(f"{name} are all zero; at least one must be positive", column=name)
    return arr


# The package to install for a module imported through import_optional, where the names differ
# or the module needs an extra of its own package.
_PIP_NAMES = {"dask.dataframe": "'dask[dataframe]'"}


def import_optional(module: str, extra: str) -> Any:
    """Import an optional dependency or raise :class:`~crmcore.errors.MissingDependencyError`.

    The message says how to install it: the package itself with pip, or crmcore's extra
    from a source checkout (crmcore is not on the package index yet).

    Examples
    --------
    >>> import_optional("math", "none").sqrt(4.0)
    2.0
    >>> import_optional("matplotlib_not_installed", "plot")
    Traceback (most recent call last):
    ...
    crmcore.errors.MissingDependencyError: this feature needs 'matplotlib_not_installed', which \
is not installed; install it with: pip install matplotlib_not_installed (from a crmcore source \
checkout: pip install -e '.[plot]')
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = _PIP_NAMES.get(module, module.split(".", 1)[0])
        raise MissingDependencyError(
            f"this feature needs {module!r}, which is not installed; install it with: "
            f"pip install {package} (from a crmcore source checkout: pip install -e '.[{extra}]')"
        ) from None


def lookup_ids(
    frame: pd.DataFrame,
    column: str,
    ids: pd.Index,
    *,
    arg: str,
    what: str,
    parent: str,
    key: str | None = None,
    allow_missing: bool = False,
) -> npt.NDArray[np.int64]:
    """Position in ``ids`` (unique) of each row's ``column`` value, a foreign-key lookup.

    A value not in ``ids`` is a :class:`~crmcore.errors.DataError` naming the first such row
    (``what`` names the kind of thing, ``parent`` the frame ``ids`` come from). With
    ``allow_missing`` a missing value gives position -1 instead of being looked up.

    Examples
    --------
    >>> deals = pd.DataFrame({"opportunity_id": [7, 9]})
    >>> splits = pd.DataFrame({"opportunity_id": [9, 7, 9]})
    >>> ids = pd.Index(deals["opportunity_id"])
    >>> lookup_ids(splits, "opportunity_id", ids, arg="splits", what="deal",
    ...            parent="opportunities")
    array([1, 0, 1])
    >>> lookup_ids(pd.DataFrame({"opportunity_id": [8]}), "opportunity_id", ids,
    ...            arg="splits", what="deal", parent="opportunities")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: splits row 0 names deal 8, which is not in opportunities column ...
    """
    values = frame[column]
    if allow_missing:
        present = values.notna().to_numpy(dtype=bool)
        out = np.full(len(frame), -1, dtype=np.int64)
        if present.any():
            out[present] = ids.get_indexer(values[present])  # type: ignore[arg-type]  # takes a Series
        unknown = present & (out < 0)
    else:
        out = np.asarray(ids.get_indexer(values), dtype=np.int64)  # type: ignore[arg-type]  # takes a Series
        unknown = out < 0
    pos = first_true(unknown)
    if pos is not None:
        value = values.iloc[pos]
        raise DataError(
            f"{arg} {describe_row(frame, pos, key)} names {what} {show(value)}, which is not in "
            f"{parent} column {column!r}",
            column=column,
            row=frame.index[pos],
            value=value,
        )
    return out
