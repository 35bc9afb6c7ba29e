"""Group keys, calendar periods and statuses shared by the kpi modules.

A kpi function groups rows with ``by=``: ``None`` (one row labelled ``"all"``), a column name
or a list of them. The special name ``"period"`` is not read from the frame: it is the start
of the calendar period (``period="M"`` by default) holding each row's date, computed by
:mod:`crmcore._periods` (any datetime unit, so dates before 1677 or after 2262 work; time
zones are kept).

Examples
--------
>>> import pandas as pd
>>> deals = pd.DataFrame({"person": ["ann", "bob"],
...                       "closed_at": pd.to_datetime(["2024-01-05", "2024-02-20"])})
>>> group_keys(deals, ["person", "period"], arg="opportunities", key=None,
...            date="closed_at", period="M").astype(str).values.tolist()
[['ann', '2024-01-01'], ['bob', '2024-02-01']]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Final, Literal, cast

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    checked_totals,
    datetime_column,
    refuse_first,
    require_not_null,
    show,
)
from crmcore._periods import PERIODS, canonical_period, period_range, period_start
from crmcore.errors import ConfigError

__all__ = [
    "ALL",
    "PERIOD",
    "By",
    "StatusRule",
    "aggregate",
    "aggregate_amounts",
    "as_period",
    "by_names",
    "fill_periods",
    "group_keys",
    "key_or_none",
    "period_code",
    "period_last",
    "ratio",
    "read_periods",
    "required",
    "same_period_unit",
    "same_unit",
    "status_masks",
]

By = str | Sequence[str] | None

PERIOD: Final = "period"
ALL: Final = "all"
Unit = Literal["s", "ms", "us", "ns"]
# Datetime units from coarsest to finest.
_UNITS: Final[tuple[Unit, ...]] = ("s", "ms", "us", "ns")


def by_names(by: By) -> list[str]:
    """Return ``by`` as a list of distinct column names (``"period"`` included as given)."""
    if by is None:
        return []
    names = [by] if isinstance(by, str) else list(by)
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(
                f"by must be None, a column name or a list of column names; got {show(name)}",
                column="by",
                value=by,
            )
    dupes = [n for i, n in enumerate(names) if n in names[:i]]
    if dupes:
        raise ConfigError(f"by names {dupes[0]!r} twice; each key once", column="by", value=by)
    return names


def period_last(by: By) -> list[str]:
    """Return the ``by`` names with ``"period"`` moved to (or added as) the last key."""
    names = by_names(by)
    if PERIOD in names:
        names.remove(PERIOD)
    return [*names, PERIOD]


def period_code(period: object, *, allowed: Sequence[str] = PERIODS) -> str:
    """Return the canonical code (``D``/``W``/``M``/``Q``/``Y``) of ``period``, one of ``allowed``.

    Examples
    --------
    >>> period_code("QS"), period_code("M", allowed=("M", "Q", "Y"))
    ('Q', 'M')
    >>> period_code("W", allowed=("M", "Q", "Y"))
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: period='W' is not allowed here; expected one of 'M', 'Q', 'Y'
    """
    code = canonical_period(period)
    if code not in allowed:
        raise ConfigError(
            f"period={show(period)} is not allowed here; expected one of "
            f"{', '.join(map(repr, allowed))}",
            column="period",
            value=period,
        )
    return code


def required(names: Sequence[str], date: str | None) -> list[str]:
    """Return the columns ``by`` reads from the frame (``date`` stands in for ``"period"``)."""
    cols = [n for n in names if n != PERIOD]
    if PERIOD in names and date is not None:
        cols.append(date)
    return cols


def key_or_none(frame: pd.DataFrame, key: str | None) -> str | None:
    """``key`` when ``frame`` has that column (to name rows in messages), else None."""
    # not a frame: None here, and the caller's require_columns raises InputTypeError
    is_frame = isinstance(frame, pd.DataFrame)
    return key if key is not None and is_frame and key in frame.columns else None


def group_keys(
    frame: pd.DataFrame,
    names: Sequence[str],
    *,
    arg: str,
    key: str | None,
    date: str,
    period: str,
) -> pd.DataFrame:
    """Return a new frame of group-key columns for ``frame`` (same index).

    Columns are checked for missing values; ``"period"`` is the period start of ``date``.
    """
    data: dict[str, Any] = {}
    for name in names:
        if name == PERIOD:
            dates = datetime_column(frame, date, arg=arg, key=key)
            data[name] = period_start(dates, period).array
        else:
            require_not_null(frame, name, arg=arg, key=key)
            data[name] = frame[name].to_numpy()
    return pd.DataFrame(data, index=frame.index)


def _unit(dates: pd.Series | pd.Index) -> Unit:
    dtype: Any = dates.dtype
    unit = getattr(dtype, "unit", None) or np.datetime_data(dtype)[0]
    return cast("Unit", unit)


def same_unit(*dates: pd.Series) -> list[pd.Series]:
    """Return the datetime Series in one unit: the finest if every value fits, else coarser.

    pandas casts mixed units to the finest when it concatenates or merges, and fails there on
    a date outside that unit's range (nanoseconds: 1677-2262). Period starts are whole days, so
    the coarser unit loses nothing.
    """
    units = sorted({_unit(d) for d in dates}, key=_UNITS.index)
    if len(units) <= 1:
        return list(dates)
    for unit in reversed(units):
        try:
            return [d.dt.as_unit(unit) for d in dates]
        except pd.errors.OutOfBoundsDatetime:
            continue
    return list(dates)  # pragma: no cover - the coarsest unit holds every value it came with


def read_periods(
    frame: pd.DataFrame, column: str, *, arg: str, period: str, key: str | None = None
) -> pd.Series:
    """Read a column of periods (``Period`` values, dates or ISO text) as period starts.

    Examples
    --------
    >>> t = pd.DataFrame({"month": pd.period_range("1500-01", periods=2, freq="M")})
    >>> read_periods(t, "month", arg="targets", period="Q").astype(str).tolist()
    ['1500-01-01', '1500-01-01']
    """
    series = frame[column]
    if isinstance(series.dtype, pd.PeriodDtype):
        require_not_null(frame, column, arg=arg, key=key)
        # Day ordinals count from 1970-01-01 at any distance (Period.start_time is nanoseconds).
        days = cast("Any", pd.PeriodIndex(series)).asfreq("D", how="start").asi8
        starts = pd.Series(
            days.astype("datetime64[D]").astype("datetime64[s]"), index=series.index, name=column
        )
        return period_start(starts, period)
    return period_start(datetime_column(frame, column, arg=arg, key=key), period)


def aggregate(
    keys: pd.DataFrame, values: pd.DataFrame, names: Sequence[str], how: str = "sum"
) -> pd.DataFrame:
    """Group ``values`` by the key columns and aggregate; one ``"all"`` row when no keys."""
    if not names:
        agg = values.agg(how).to_frame().T.astype(values.dtypes)
        agg.index = pd.Index([ALL])
        return agg
    joined = pd.concat([keys.reset_index(drop=True), values.reset_index(drop=True)], axis=1)
    grouped = joined.groupby(list(names), sort=True, dropna=False)
    return grouped[list(values.columns)].agg(how)


def aggregate_amounts(
    keys: pd.DataFrame,
    values: pd.DataFrame,
    names: Sequence[str],
    *,
    amounts: Sequence[str],
    rows: pd.DataFrame,
    amount: str,
    arg: str,
    key: str | None,
) -> pd.DataFrame:
    """Sum ``values`` by the keys as :func:`aggregate` does, the float ``amounts`` checked.

    A column of ``amounts`` whose group total passes the largest float is summed again or
    refused naming the row of ``rows`` (column ``amount``) where it does
    (:func:`crmcore._frames.checked_totals`); ``values`` may hold rows past ``rows``' (counted
    0, e.g. open deals). The groups are numbered by the same group-by :func:`aggregate` runs.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # a total past the largest float: below
        agg = aggregate(keys, values, names)

    def groups() -> npt.NDArray[np.int64] | None:
        if not names:
            return None
        numbers: npt.NDArray[np.int64] = np.asarray(
            keys.groupby(list(names), sort=True, dropna=False).ngroup(), dtype=np.int64
        )
        return numbers

    for col in amounts:
        agg[col] = checked_totals(
            agg[col].to_numpy(dtype=np.float64),
            values[col].to_numpy(),
            groups,
            rows,
            amount,
            arg=arg,
            key=key,
        )
    return agg


def ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``num / den`` with NaN where ``den`` is zero (no warning)."""
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


@attrs.frozen
class StatusRule:
    """Which rows of the opportunities are won (``column=None``: every row is a sale)."""

    column: str | None
    won: str
    lost: str
    open_values: Collection[str] | None


def status_masks(
    frame: pd.DataFrame,
    *,
    status: str,
    won: str,
    lost: str,
    open_values: Collection[str] | None,
    key: str | None,
    arg: str = "opportunities",
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Boolean masks (won, lost, open) of the rows of ``frame``.

    With ``open_values`` given, any other status is a DataError naming the value and its row
    (``"Won"`` when ``won="won"`` is never silently dropped); ``None`` takes every other value
    as open.
    """
    require_not_null(frame, status, arg=arg, key=key)
    values = frame[status]
    is_won = (values == won).to_numpy(dtype=bool)
    is_lost = (values == lost).to_numpy(dtype=bool)
    if open_values is None:
        return is_won, is_lost, ~(is_won | is_lost)
    if isinstance(open_values, str):
        raise ConfigError(
            f"open_values must be a list of statuses, got the text {open_values!r}; "
            f"write open_values=({open_values!r},)",
            column="open_values",
            value=open_values,
        )
    is_open = values.isin(list(open_values)).to_numpy(dtype=bool) & ~(is_won | is_lost)
    allowed = ", ".join(repr(v) for v in [won, lost, *open_values])
    refuse_first(frame, ~(is_won | is_lost | is_open), status, arg=arg, key=key,
                 problem="unknown value", values=values, then=f"; expected one of {allowed} "
                 "(pass open_values=None to treat every other value as open)")  # fmt: skip
    return is_won, is_lost, is_open


def as_period(value: object, name: str, period: str, tz: Any) -> pd.Timestamp:
    """Return the start of the period holding the date ``value`` (an argument), in ``tz``."""
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]  # validated right here
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a date or period", column=name) from None
    if pd.isna(ts):
        raise ConfigError(f"{name} is NaT; expected a date", column=name)
    if ts.tzinfo is None and tz is not None:
        ts = ts.tz_localize(tz)
    elif ts.tzinfo is not None and tz is not None:
        ts = ts.tz_convert(tz)
    elif ts.tzinfo is not None and tz is None:
        raise ConfigError(
            f"{name}={value!r} is tz-aware but the dates are naive; use one convention",
            column=name,
        )
    out: pd.Timestamp = period_start(pd.Series([ts]), period).iloc[0]
    return out


def fill_periods(
    names: Sequence[str],
    agg: pd.DataFrame,
    fill: dict[str, Any],
    period: str,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Reindex ``agg`` (grouped by ``names``, with ``"period"``) to every period of its span.

    The span runs from the first to the last period of ``agg``, widened to ``start``/``end``;
    each group of the other keys gets every period, filled with ``fill``.
    """
    if not len(agg):
        return agg
    periods = agg.index.get_level_values(PERIOD)
    first = periods.min() if start is None else start
    last = periods.max() if end is None else end
    unit = _unit(periods)
    try:
        first, last = first.as_unit(unit), last.as_unit(unit)
    except pd.errors.OutOfBoundsDatetime:
        # A bound outside the data's unit (e.g. start="1500-01-01" with nanosecond dates):
        # seconds hold any period start.
        unit = "s"  # seconds hold any period start
        first, last = first.as_unit(unit), last.as_unit(unit)
        agg = _period_level_as(agg, unit)
    span = period_range(first, last, period)
    others = [n for n in names if n != PERIOD]
    if others:
        idx = agg.index.droplevel([PERIOD]).unique().sort_values()  # type: ignore[list-item]  # stubs type level names as Never
        groups = idx.to_frame(index=False)
        grid = groups.merge(pd.DataFrame({PERIOD: span}), how="cross")
        full: pd.Index = pd.MultiIndex.from_frame(grid[list(names)])
    else:
        full = pd.Index(span, name=PERIOD)
    out = agg.reindex(full)
    return out.fillna(fill).astype(agg.dtypes.to_dict())


def _period_level_as(agg: pd.DataFrame, unit: Unit) -> pd.DataFrame:
    index = agg.index
    if isinstance(index, pd.MultiIndex):
        level = index.names.index(PERIOD)
        values = pd.DatetimeIndex(index.levels[level]).as_unit(unit)
        return agg.set_axis(cast("Any", index).set_levels(values, level=level), axis=0)
    return agg.set_axis(pd.DatetimeIndex(index).as_unit(unit).rename(PERIOD), axis=0)


def same_period_unit(*frames: pd.DataFrame) -> list[pd.DataFrame]:
    """Return the frames with their ``"period"`` index level in one unit (see same_unit)."""
    levels = [pd.Series(f.index.get_level_values(PERIOD)) for f in frames]
    if not all(pd.api.types.is_datetime64_any_dtype(lv.dtype) for lv in levels):
        return list(frames)
    unit = _unit(same_unit(*levels)[0])
    return [
        f if _unit(lv) == unit else _period_level_as(f, unit)
        for f, lv in zip(frames, levels, strict=True)
    ]
