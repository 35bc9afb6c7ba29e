"""The catalogue of bad and extreme inputs, and how each is made from a valid call.

A *family* is one kind of bad or extreme input. Families act on one cell (a missing value, an
infinity, 1e307 at one row), on a whole column (nullable, pyarrow or categorical dtype, dates
as text, booleans, every value near the largest float or int64, of one sign or alternating, so
any sum of two overflows), on a whole frame (empty, one row, unsorted, a non-unique index, a
MultiIndex, a duplicated row), on a scalar argument (a NaN rate, a huge draw count, an
unparseable date) or on the whole call (every date moved 800 years before 1677 or after
2262). :func:`cases_for` lists the cases of a spec with what each promises (``Expect``);
:func:`make_case` builds the call and a :class:`Hint` saying what an exact error message
must name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from catalogue.model import IDS, NUMERIC, Args, Case, Expect, Key, Kind, Spec

#: 800 Gregorian years (two 400-year cycles: same weekdays, same calendar) in days
CYCLES_800 = np.timedelta64(2 * 146_097, "D")
MISSING_TEXT = ("nan", "nat", "none", "<na>", "missing", "null", "empty")


@dataclass(frozen=True)
class Hint:
    """What an exact error for a case names: argument or column, row label, value."""

    names: tuple[str, ...]
    label: Any = None
    has_label: bool = False
    values: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# cell values


@dataclass(frozen=True)
class CellValue:
    name: str
    kinds: frozenset[Kind]
    make: Callable[[pd.Series, int], Any]
    texts: tuple[str, ...]
    expect: Expect


def _other_id(series: pd.Series, pos: int) -> str:
    """The text form of another row's integer id: ``1`` and ``"1"`` in one column."""
    other = 0 if pos != 0 else 1
    return str(series.iloc[other])


_MISS = tuple(MISSING_TEXT)
_ALL = frozenset(Kind)
_DATES = frozenset({Kind.DATE})
_TEXTS = frozenset({Kind.LABEL, *IDS})

CELL_VALUES: tuple[CellValue, ...] = (
    CellValue("nan", _ALL - _DATES, lambda s, p: np.nan, _MISS, Expect.REJECT),
    CellValue("none", _ALL, lambda s, p: None, _MISS, Expect.REJECT),
    CellValue("pd_na", _ALL - _DATES, lambda s, p: pd.NA, _MISS, Expect.REJECT),
    CellValue("nat", _DATES, lambda s, p: pd.NaT, _MISS, Expect.REJECT),
    CellValue("inf", NUMERIC, lambda s, p: np.inf, ("inf",), Expect.REJECT),
    CellValue("-inf", NUMERIC, lambda s, p: -np.inf, ("inf",), Expect.REJECT),
    CellValue("1e-300", NUMERIC, lambda s, p: 1e-300, ("1e-300",), Expect.ANY),
    CellValue("1e307", NUMERIC, lambda s, p: 1e307, ("1e+307",), Expect.ANY),
    CellValue(
        "2**62",
        NUMERIC,
        lambda s, p: 2**62 + 1 if pd.api.types.is_integer_dtype(s.dtype) else float(2**62),
        ("4611686018427387905", "4611686018427387904", "4.611686018427388e+18"),
        Expect.ANY,
    ),
    CellValue("bool", NUMERIC, lambda s, p: True, ("true", "bool"), Expect.REJECT),
    CellValue("mixed_id", IDS, _other_id, (), Expect.REJECT),
    CellValue(
        "year1500", _DATES, lambda s, p: np.datetime64("1500-01-01", "s"), ("1500",), Expect.ANY
    ),
    CellValue(
        "year2500", _DATES, lambda s, p: np.datetime64("2500-12-31", "s"), ("2500",), Expect.ANY
    ),
    CellValue("other_zone", _DATES, lambda s, p: "Asia/Tokyo", ("tokyo", "+09"), Expect.REJECT),
    CellValue("naive_in_aware", _DATES, lambda s, p: "naive", (), Expect.REJECT),
    CellValue(
        "unknown_label", frozenset({Kind.LABEL}), lambda s, p: "Won", ("won",), Expect.REJECT
    ),
)
CELL_BY_NAME = {c.name: c for c in CELL_VALUES}


def _is_int_ids(series: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def cell_applies(value: CellValue, kind: Kind, series: pd.Series) -> bool:
    """Whether ``value`` is a meaningful bad input for a column of ``kind`` like ``series``."""
    if kind not in value.kinds:
        return False
    if value.name == "mixed_id":
        return _is_int_ids(series)
    if value.name == "unknown_label":
        return "won" in set(series.astype(object).dropna())
    return True


def set_cell(series: pd.Series, pos: int, name: str) -> pd.Series:
    """A copy of ``series`` with the catalogue value ``name`` at position ``pos``."""
    value = CELL_BY_NAME[name].make(series, pos)
    out = series.copy()
    if name in ("other_zone", "naive_in_aware"):
        dates = pd.to_datetime(series)
        if getattr(dates.dtype, "tz", None) is None:
            dates = dates.dt.tz_localize("UTC")
        objects = pd.Series(list(dates), index=series.index, name=series.name, dtype=object)
        stamp = dates.iloc[pos]
        objects.iat[pos] = (
            stamp.tz_convert(value) if name == "other_zone" else stamp.tz_localize(None)
        )
        return objects
    if name in ("year1500", "year2500"):
        dates = pd.to_datetime(series)
        tz = getattr(dates.dtype, "tz", None)
        if tz is not None:
            dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
        arr = dates.to_numpy().astype("datetime64[s]")
        arr[pos] = value
        new = pd.Series(arr, index=series.index, name=series.name)
        return new.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else new
    dtype = series.dtype
    numeric_slot = isinstance(value, float) and (
        pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    )
    if numeric_slot and not pd.api.types.is_bool_dtype(dtype):
        out = series.astype(np.float64) if pd.api.types.is_integer_dtype(dtype) else out
        out.iat[pos] = value
        return out
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and pd.api.types.is_integer_dtype(dtype)
    ):
        out.iat[pos] = value
        return out
    if value is pd.NaT and pd.api.types.is_datetime64_any_dtype(dtype):
        out.iat[pos] = value
        return out
    objects = series.astype(object)
    objects.iat[pos] = value
    return objects


# --------------------------------------------------------------------------------------------
# whole columns


def _arrow(series: pd.Series) -> pd.Series:
    import pyarrow as pa

    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        tz = getattr(dtype, "tz", None)
        return series.astype(pd.ArrowDtype(pa.timestamp("ns", tz=None if tz is None else str(tz))))
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype(pd.ArrowDtype(pa.bool_()))
    if pd.api.types.is_integer_dtype(dtype):
        return series.astype(pd.ArrowDtype(pa.int64()))
    if pd.api.types.is_float_dtype(dtype):
        return series.astype(pd.ArrowDtype(pa.float64()))
    return series.astype(pd.ArrowDtype(pa.string()))


def _nullable(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(dtype):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        return series.astype("Float64")
    return series.astype(pd.StringDtype("python"))


def _category(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    cats = sorted(pd.unique(values.dropna()))
    extra = "zz-unused" if all(isinstance(c, str) for c in cats) else 2**40
    return pd.Series(
        pd.Categorical(values, categories=[*cats, extra]), index=series.index, name=series.name
    )


def _bools(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    return pd.Series(values >= np.nanmedian(values), index=series.index, name=series.name)


def _text_dates(series: pd.Series) -> pd.Series:
    dates = pd.to_datetime(series)
    return pd.Series(
        [None if pd.isna(d) else d.isoformat() for d in dates],
        index=series.index,
        name=series.name,
        dtype=object,
    )


def _big_ids(series: pd.Series) -> pd.Series:
    return series.astype(np.int64) + np.int64(2**62)


#: a float so near the largest (about 1.8e308) that any sum of two of them overflows
NEAR_MAX = 1.7e308
#: an int64 so near the largest (about 9.2e18) that any sum of two of them wraps
NEAR_MAX_INT = 2**62 + 1


def _near_max(series: pd.Series, signs: np.ndarray) -> pd.Series:
    """Every value of ``series`` replaced by ``signs`` times a value near the largest number:
    int64 for an integer column (minor units), else float."""
    if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values: np.ndarray = signs.astype(np.int64) * np.int64(NEAR_MAX_INT)
    else:
        values = signs.astype(np.float64) * NEAR_MAX
    return pd.Series(values, index=series.index, name=series.name)


def _all_near_max(series: pd.Series) -> pd.Series:
    return _near_max(series, np.ones(len(series)))


def _signs_near_max(series: pd.Series) -> pd.Series:
    """+, -, +, - ... near the largest number: every neighbour pair spans twice the largest."""
    return _near_max(series, np.where(np.arange(len(series)) % 2 == 0, 1.0, -1.0))


@dataclass(frozen=True)
class ColumnChange:
    name: str
    kinds: frozenset[Kind]
    make: Callable[[pd.Series], pd.Series]
    expect: Expect


COLUMN_CHANGES: tuple[ColumnChange, ...] = (
    ColumnChange("nullable", _ALL - _DATES, _nullable, Expect.SAME),
    ColumnChange("pyarrow", _ALL, _arrow, Expect.SAME),
    ColumnChange("categorical", _TEXTS, _category, Expect.SAME),
    ColumnChange("booleans", NUMERIC, _bools, Expect.REJECT),
    ColumnChange("text_dates", _DATES, _text_dates, Expect.SAME),
    ColumnChange("ids_near_2**62", IDS, _big_ids, Expect.ANY),
    # sums of several huge values (one cell of 1e307 never overflows a sum of a few rows)
    ColumnChange("all_near_max", NUMERIC, _all_near_max, Expect.ANY),
    ColumnChange("signs_near_max", NUMERIC, _signs_near_max, Expect.ANY),
)
COLUMN_BY_NAME = {c.name: c for c in COLUMN_CHANGES}
#: families whose input holds negative values throughout a column, which results may carry
NEGATIVE_FAMILIES = frozenset({"signs_near_max"})


def column_applies(change: ColumnChange, kind: Kind, series: pd.Series) -> bool:
    """Whether ``change`` means something for a column of ``kind`` like ``series``."""
    if kind not in change.kinds:
        return False
    if change.name == "ids_near_2**62":
        return _is_int_ids(series) and (series.abs() < 2**40).all()
    if change.name in ("nullable", "categorical") and pd.api.types.is_bool_dtype(series.dtype):
        return False
    if change.name == "nullable" and pd.api.types.is_datetime64_any_dtype(series.dtype):
        return False
    if isinstance(series.dtype, pd.CategoricalDtype):
        return False  # already categorical: another dtype would drop its (empty) categories
    return not (change.name == "pyarrow" and isinstance(series.dtype, pd.CategoricalDtype))


# --------------------------------------------------------------------------------------------
# whole frames (or Series arguments)

FRAME_FAMILIES = ("empty", "one_row", "unsorted", "dup_index", "multiindex", "dup_row")


def change_frame(obj: pd.DataFrame | pd.Series, family: str, pos: int) -> Any:
    """A copy of a frame or Series argument changed by a frame-level family."""
    n = len(obj)
    if family == "empty":
        return obj.iloc[:0].copy()
    if family == "one_row":
        return obj.iloc[pos : pos + 1].copy()
    if family == "unsorted":
        return obj.iloc[unsorted_order(n)].copy()
    if family == "dup_index":
        out = obj.copy()
        labels = list(out.index)
        if n > 1:
            labels[1] = labels[0]
        out.index = pd.Index(labels, name=obj.index.name)
        return out
    if family == "multiindex":
        out = obj.copy()
        out.index = pd.MultiIndex.from_arrays(
            [np.arange(n) % 2, list(obj.index)], names=["part", obj.index.name]
        )
        return out
    if family == "dup_row":
        row = obj.iloc[pos : pos + 1].copy()
        row.index = pd.Index([_new_label(obj.index)], name=obj.index.name)
        return pd.concat([obj, row])
    raise AssertionError(family)


def unsorted_order(n: int) -> np.ndarray:
    """The row order of the ``unsorted`` family: a seeded permutation that moves rows."""
    order = np.random.default_rng(5).permutation(n)
    if n > 1 and (order == np.arange(n)).all():
        order = order[::-1]
    return order


def relabelled(obj: Any) -> bool:
    """Whether a frame's index is the catalogue's own labels (so changing it changes no data)."""
    return len(obj.index) > 0 and not isinstance(obj.index, pd.MultiIndex) and obj.index[0] == "r11"


def _new_label(index: pd.Index) -> Any:
    if pd.api.types.is_integer_dtype(index.dtype):
        return int(index.max()) + 1 if len(index) else 0
    return "r-dup"


# --------------------------------------------------------------------------------------------
# scalar arguments


@dataclass(frozen=True)
class ScalarValue:
    name: str
    value: Any
    texts: tuple[str, ...]
    expect: Expect


SCALAR_VALUES: dict[Kind, tuple[ScalarValue, ...]] = {
    Kind.COUNT: (
        ScalarValue("zero", 0, (), Expect.ANY),
        ScalarValue("negative", -1, ("-1",), Expect.REJECT),
        ScalarValue("bool", True, ("true", "bool"), Expect.REJECT),
        ScalarValue("fraction", 2.5, ("2.5",), Expect.REJECT),
        ScalarValue("nan", float("nan"), ("nan",), Expect.REJECT),
        ScalarValue("10**9", 10**9, ("1000000000",), Expect.ANY),
        ScalarValue("2**62", 2**62, ("4611686018427387904",), Expect.ANY),
    ),
    Kind.TOTAL: (
        ScalarValue("nan", float("nan"), ("nan",), Expect.REJECT),
        ScalarValue("inf", float("inf"), ("inf",), Expect.REJECT),
        ScalarValue("bool", True, ("true", "bool"), Expect.REJECT),
        ScalarValue("fraction", 2.5, ("2.5",), Expect.REJECT),
        ScalarValue("2**62", 2**62 + 3, ("4611686018427387907",), Expect.ANY),
        ScalarValue("2**63", 2**63, ("9223372036854775808",), Expect.ANY),
        ScalarValue("numpy_int", np.int64(1001), (), Expect.ANY),
    ),
    Kind.REAL: (
        ScalarValue("nan", float("nan"), ("nan",), Expect.REJECT),
        ScalarValue("inf", float("inf"), ("inf",), Expect.REJECT),
        ScalarValue("-inf", float("-inf"), ("inf",), Expect.REJECT),
        ScalarValue("bool", True, ("true", "bool"), Expect.REJECT),
        ScalarValue("1e307", 1e307, ("1e+307",), Expect.ANY),
        ScalarValue("1e-300", 1e-300, ("1e-300",), Expect.ANY),
    ),
    Kind.WHEN: (
        ScalarValue("nat", pd.NaT, ("nat",), Expect.REJECT),
        ScalarValue("garbage", "not a date", ("not a date",), Expect.REJECT),
        ScalarValue("year1500", np.datetime64("1500-01-01", "s"), ("1500",), Expect.ANY),
        ScalarValue("year2500", np.datetime64("2500-12-31", "s"), ("2500",), Expect.ANY),
        ScalarValue("tz_mismatch", "aware", ("tz", "zone", "naive", "aware"), Expect.REJECT),
    ),
    Kind.LABEL: (
        ScalarValue("none", None, ("none",), Expect.REJECT),
        ScalarValue("nan", float("nan"), ("nan",), Expect.REJECT),
        ScalarValue("blank", "", ("''",), Expect.REJECT),
        ScalarValue("case", "upper", (), Expect.REJECT),
    ),
    Kind.REALS: (
        ScalarValue("nan", "elem:nan", ("nan",), Expect.REJECT),
        ScalarValue("inf", "elem:inf", ("inf",), Expect.REJECT),
        ScalarValue("bool", "elem:bool", ("true", "bool"), Expect.REJECT),
        ScalarValue("negative", "elem:-0.5", ("-0.5",), Expect.ANY),
        ScalarValue("1e307", "elem:1e307", ("1e+307",), Expect.ANY),
        ScalarValue("empty", "empty", (), Expect.ANY),
    ),
}

_ELEMENTS = {
    "elem:nan": float("nan"),
    "elem:inf": float("inf"),
    "elem:bool": True,
    "elem:-0.5": -0.5,
    "elem:1e307": 1e307,
}


def _scalar_value(sv: ScalarValue, current: Any) -> Any:
    if isinstance(sv.value, str) and sv.value in _ELEMENTS:
        values = list(current)
        values[min(1, len(values) - 1)] = _ELEMENTS[sv.value]
        return values
    if isinstance(sv.value, str) and sv.value == "empty":
        return []
    if isinstance(sv.value, str) and sv.value == "upper":
        return (
            str(current).upper() if str(current).upper() != str(current) else str(current).lower()
        )
    if isinstance(sv.value, str) and sv.value == "aware":
        ts = pd.Timestamp(current)
        return ts.tz_convert("Asia/Tokyo") if ts.tzinfo else ts.tz_localize("Asia/Tokyo")
    return sv.value


# --------------------------------------------------------------------------------------------
# whole calls: every date 800 years earlier or later


def shift_series(series: pd.Series, years_sign: int) -> pd.Series:
    """``series`` (dates) moved by 800 Gregorian years, in second resolution."""
    dates = pd.to_datetime(series)
    tz = getattr(dates.dtype, "tz", None)
    if tz is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = dates.to_numpy().astype("datetime64[s]") + years_sign * CYCLES_800
    out = pd.Series(arr, index=series.index, name=series.name)
    return out.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else out


def shift_scalar(value: Any, years_sign: int) -> Any:
    """A date argument moved by 800 Gregorian years (None stays None)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    tz = ts.tzinfo
    naive = ts.tz_convert("UTC").tz_localize(None) if tz is not None else ts
    moved = pd.Timestamp(naive.to_datetime64().astype("datetime64[s]") + years_sign * CYCLES_800)
    return moved.tz_localize("UTC").tz_convert(tz) if tz is not None else moved


# --------------------------------------------------------------------------------------------
# enumeration


def _get(args: tuple[Any, ...], kwargs: dict[str, Any], key: Key) -> Any:
    return args[key] if isinstance(key, int) else kwargs[key]


def _put(args: tuple[Any, ...], kwargs: dict[str, Any], key: Key, value: Any) -> Args:
    if isinstance(key, int):
        new = list(args)
        new[key] = value
        return tuple(new), kwargs
    return args, {**kwargs, key: value}


def column_of(obj: Any, column: str | None) -> pd.Series:
    return obj if column is None else obj[column]


def with_column(obj: Any, column: str | None, series: pd.Series) -> Any:
    if column is None:
        return series
    out = obj.copy()
    out[column] = series
    return out


def target_row(obj: pd.DataFrame | pd.Series) -> int:
    """The row a cell family changes: a won deal where there is one, else the fourth row."""
    if isinstance(obj, pd.DataFrame):
        for col in ("status", "stage", "state"):
            if col in obj.columns:
                won = (obj[col].astype(object) == "won").to_numpy()
                if won.any():
                    return int(np.flatnonzero(won)[0])
    return min(3, len(obj) - 1)


def _expect(
    spec: Spec, family: str, key: Key | None, column: str | None, default: Expect
) -> Expect:
    for pattern in (
        f"{family}:{key}:{column}",
        f"{family}:{key}:*",
        f"{family}:*:{column}",
        f"{family}:*:*",
        f"*:{key}:{column}",
    ):
        if pattern in spec.overrides:
            return spec.overrides[pattern][0]
    return default


def _has_dates(spec: Spec) -> bool:
    return any(k is Kind.DATE for cols in spec.frames.values() for k in cols.values()) or any(
        k is Kind.WHEN for k in spec.scalars.values()
    )


def cases_for(spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Case]:
    """Every case of ``spec``, given its valid call (after relabelling)."""

    def case(family: str, key: Key | None, column: str | None, rule: Expect) -> Case:
        return Case(spec.name, family, key, column, _expect(spec, family, key, column, rule))

    for key, columns in spec.frames.items():
        obj = _get(args, kwargs, key)
        for column, kind in columns.items():
            series = column_of(obj, column)
            for value in CELL_VALUES:
                if cell_applies(value, kind, series):
                    rule = value.expect
                    if value.expect is Expect.REJECT and value.texts == _MISS:
                        rule = Expect.ANY if (key, column) in spec.nulls_ok else Expect.REJECT
                    yield case(value.name, key, column, rule)
            for change in COLUMN_CHANGES:
                if column_applies(change, kind, series):
                    yield case(change.name, key, column, change.expect)
        for family in FRAME_FAMILIES:
            if family == "unsorted" and not spec.order_independent:
                continue
            if family in ("dup_index", "multiindex") and not relabelled(obj):
                continue  # the index is data (customer ids, a key): other families change it
            rule = {
                "empty": Expect.ANY,
                "one_row": Expect.ANY,
                "unsorted": Expect.SAME,
                "dup_index": Expect.SAME_OR_ERROR,
                "multiindex": Expect.SAME_OR_ERROR,
                "dup_row": Expect.REJECT
                if any(k is Kind.KEY for k in columns.values())
                else Expect.ANY,
            }[family]
            yield case(family, key, None, rule)
    for key, kind in spec.scalars.items():
        for sv in SCALAR_VALUES[kind]:
            if (
                isinstance(sv.value, str)
                and sv.value == "aware"
                and _get(args, kwargs, key) is None
            ):
                continue
            yield case(f"scalar_{sv.name}", key, None, sv.expect)
    if spec.shift_dates and _has_dates(spec):
        yield case("far_past", None, None, Expect.SAME_NUMBERS)
        yield case("far_future", None, None, Expect.SAME_NUMBERS)
        if any(k is Kind.DATE for cols in spec.frames.values() for k in cols.values()):
            yield case("tz_aware", None, None, Expect.SAME_NUMBERS)


def _arg_name(spec: Spec, key: Key) -> str:
    if key in spec.arg_names:
        return spec.arg_names[key]
    if isinstance(key, str):
        return key
    import inspect

    params = list(inspect.signature(spec.func).parameters)
    return params[key] if key < len(params) else str(key)


def _all_dates(
    spec: Spec,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    move: Callable[[pd.Series], pd.Series],
    scalar: Callable[[Any], Any],
) -> Args:
    for key, columns in spec.frames.items():
        obj = _get(args, kwargs, key)
        for column, kind in columns.items():
            if kind is Kind.DATE:
                obj = with_column(obj, column, move(column_of(obj, column)))
        args, kwargs = _put(args, kwargs, key, obj)
    for key, kind in spec.scalars.items():
        if kind is Kind.WHEN:
            args, kwargs = _put(args, kwargs, key, scalar(_get(args, kwargs, key)))
    return args, kwargs


def _localize(series: pd.Series) -> pd.Series:
    dates = pd.to_datetime(series)
    if getattr(dates.dtype, "tz", None) is not None:
        return dates
    return dates.dt.tz_localize("UTC")


def _localize_scalar(value: Any) -> Any:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts if ts.tzinfo is not None else ts.tz_localize("UTC")


def make_case(
    spec: Spec, case: Case, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Args, Hint]:
    """The call of ``case`` built from the spec's valid call, and what an exact error names."""
    family, key, column = case.family, case.key, case.column
    if family in ("far_past", "far_future"):
        sign = -1 if family == "far_past" else 1
        call = _all_dates(
            spec, args, kwargs, lambda s: shift_series(s, sign), lambda v: shift_scalar(v, sign)
        )
        names = tuple(
            c for cols in spec.frames.values() for c, k in cols.items() if c and k is Kind.DATE
        )
        return call, Hint(names + tuple(str(k) for k, v in spec.scalars.items() if v is Kind.WHEN))
    if family == "tz_aware":
        call = _all_dates(spec, args, kwargs, _localize, _localize_scalar)
        names = tuple(
            c for cols in spec.frames.values() for c, k in cols.items() if c and k is Kind.DATE
        )
        return call, Hint(names)
    if family.startswith("scalar_"):
        assert key is not None
        kind = spec.scalars[key]
        sv = next(v for v in SCALAR_VALUES[kind] if f"scalar_{v.name}" == family)
        value = _scalar_value(sv, _get(args, kwargs, key))
        texts = () if key in spec.no_echo else sv.texts
        return _put(args, kwargs, key, value), Hint((_arg_name(spec, key),), values=texts)
    assert key is not None
    obj = _get(args, kwargs, key)
    pos = target_row(obj)
    arg = _arg_name(spec, key)
    if family in FRAME_FAMILIES:
        return _put(args, kwargs, key, change_frame(obj, family, pos)), Hint((arg,))
    series = column_of(obj, column)
    name = column if column is not None else arg
    if family in COLUMN_BY_NAME:
        new = COLUMN_BY_NAME[family].make(series)
        return _put(args, kwargs, key, with_column(obj, column, new)), Hint((name,))
    value = CELL_BY_NAME[family]
    new = set_cell(series, pos, family)
    texts = value.texts
    if family == "mixed_id":
        texts = (repr(new.iloc[pos]),)
    label = pos if spec.positional_labels else obj.index[pos]
    hint = Hint((name,), label=label, has_label=True, values=texts)
    return _put(args, kwargs, key, with_column(obj, column, new)), hint
