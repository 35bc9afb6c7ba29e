"""Dates of the pipeline area: optional date columns, instants in microseconds, period grids.

Landing dates and schedules are computed on int64 *microseconds* since the epoch (UTC for
time-zone aware dates). Microseconds reach from year -290 000 to 294 000, so dates before
1677 or after 2262 (valid in pandas with ``s``/``ms``/``us`` units, beyond its nanosecond range)
give the right answer; a date beyond even that is an error naming its column and row.
Periods are bucketed with :mod:`crmcore._periods`, which keeps the time zone and the unit.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import datetime_column, describe_row, first_true, resolve_as_of, show
from crmcore._periods import canonical_period, period_range, period_start
from crmcore.errors import ConfigError, DataError

__all__ = [
    "CHUNK",
    "MAX_HORIZON",
    "MAX_MONTHS",
    "NAT",
    "US_PER_DAY",
    "add_months",
    "as_of_timestamp",
    "check_horizon",
    "date_column",
    "first_period_start",
    "from_micros",
    "micros",
    "month_table",
    "optional_dates",
    "period_grid",
    "timestamp_micros",
]

IntArray = npt.NDArray[np.int64]

US_PER_DAY: Final = 86_400 * 10**6
NAT: Final = np.iinfo(np.int64).min
_INT64_MAX: Final = np.iinfo(np.int64).max
# The longest a period can be, in days, so that n periods surely end before n * this.
_LONGEST: Final = {"D": 1, "W": 7, "M": 31, "Q": 92, "Y": 366}
MAX_HORIZON: Final = 100_000
#: The most months a stage model may add to a date: 250 000 years keep every date within what
#: a microsecond count holds, from any date a pandas column can hold.
MAX_MONTHS: Final = 3_000_000
#: Rows per pass over a date column (temporaries stay cache-sized).
CHUNK: Final = 1 << 16


def _datetime_dtype(dtype: Any) -> Any:
    """Return the datetime dtype to give an all-missing date column (keeps unit and zone)."""
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return dtype
    if isinstance(dtype, pd.ArrowDtype) and dtype.kind == "M":
        arrow = dtype.pyarrow_dtype
        unit: Any = getattr(arrow, "unit", "ns")
        tz = getattr(arrow, "tz", None)
        return pd.DatetimeTZDtype(unit, tz) if tz is not None else np.dtype(f"M8[{unit}]")
    return np.dtype("M8[ns]")


def date_column(frame: pd.DataFrame, column: str, *, arg: str, key: str | None) -> pd.Series:
    """:func:`crmcore._frames.datetime_column`, with ``timestamp[pyarrow]`` made datetime64.

    ``pd.to_datetime`` leaves Arrow timestamps as they are, and an Arrow dtype has no ``tz``
    attribute: a zone-aware Arrow column would pass for a naive one. Converting keeps the unit
    and the zone, so Arrow and numpy columns give the same results.
    """
    parsed: pd.Series = datetime_column(frame, column, arg=arg, key=key)
    if isinstance(parsed.dtype, pd.ArrowDtype):
        parsed = parsed.astype(_datetime_dtype(parsed.dtype))
    return parsed


def optional_dates(frame: pd.DataFrame, column: str, *, arg: str, key: str) -> pd.Series:
    """Dates of ``column`` with missing values (NaT) allowed; the rest validated.

    numpy, nullable and ``timestamp[pyarrow]`` columns give the same datetime64 Series (unit and
    time zone kept).
    """
    series = frame[column]
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        series.dtype
    ):
        # Dates already: nothing to parse or check (NaT is allowed here), and no copy: pandas
        # copies on write, so neither the caller's frame nor this Series sees the other's edits.
        return series
    present = series.notna().to_numpy(dtype=bool)
    if not present.any():
        empty: pd.Series = pd.Series(pd.NaT, index=frame.index, dtype=_datetime_dtype(series.dtype))
        return empty
    # Only the date and key columns: messages name the row by index label and key value, and
    # copying every column of the present rows (text columns included) costs far more.
    cols = [column] + ([key] if key != column and key in frame.columns else [])
    parsed = date_column(frame.loc[present, cols], column, arg=arg, key=key)
    if present.all():
        return parsed
    out = pd.Series(pd.NaT, index=frame.index, dtype=parsed.dtype)
    out.iloc[np.flatnonzero(present)] = parsed.array
    return out


def micros(
    dates: pd.Series, *, frame: pd.DataFrame, column: str, arg: str, key: str | None
) -> IntArray:
    """Each date as int64 microseconds since the epoch (UTC instants; NaT -> :data:`NAT`).

    A date a microsecond count cannot hold (beyond about 294 000 years from 1970) is a
    :class:`~crmcore.errors.DataError` naming the column and the row label.
    """
    index = pd.DatetimeIndex(dates)
    ints = np.asarray(index.asi8, dtype=np.int64)
    unit = index.unit
    if unit == "us":
        return ints.copy()  # NaT is already NAT; a copy, never a view of the caller's column
    factor = {"ms": 1000, "s": 10**6}.get(unit, 1)  # ns: divided by 1000 instead
    out = np.empty(len(ints), dtype=np.int64)
    # A cache-sized chunk at a time: the NaT masks stay small, and every value is read once.
    for lo in range(0, len(ints), CHUNK):
        part, dest = ints[lo : lo + CHUNK], out[lo : lo + CHUNK]
        nat = part == NAT
        if unit == "ns":
            np.floor_divide(part, 1000, out=dest)
        else:
            pos = first_true(~nat & (np.abs(part) > _INT64_MAX // factor))
            if pos is not None:
                pos += lo
                raise DataError(
                    f"column {column!r} of {arg} has date {dates.iloc[pos]} at "
                    f"{describe_row(frame, pos, key)}, beyond the dates a microsecond count can "
                    "hold (about years -290 000 to 294 000)",
                    column=column,
                    row=frame.index[pos],
                    value=dates.iloc[pos],
                )
            with np.errstate(over="ignore"):  # only NaT wraps, and is set just below
                np.multiply(part, factor, out=dest)
        dest[nat] = NAT
    return out


def timestamp_micros(ts: pd.Timestamp, *, arg: str) -> int:
    """Return a Timestamp as microseconds since the epoch (its UTC instant)."""
    try:
        # to_datetime64() is the UTC instant in the Timestamp's own unit (.value would be ns).
        return int(ts.as_unit("us").to_datetime64().astype(np.int64))
    except (OverflowError, ValueError):
        raise ConfigError(
            f"{arg}={ts} is beyond the dates a microsecond count can hold", column=arg, value=ts
        ) from None


def from_micros(values: IntArray, tz: Any) -> pd.DatetimeIndex:
    """Microsecond instants back to a DatetimeIndex (unit ``us``; in ``tz`` when given)."""
    index = pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("M8[us]"))
    if tz is not None:
        index = index.tz_localize("UTC").tz_convert(tz)
    return index


def as_of_timestamp(as_of: object, dates: pd.Series | None, *, column: str) -> pd.Timestamp:
    """Return the required ``as_of`` as a Timestamp consistent with ``dates`` (naive/aware alike).

    Without dates, ``as_of`` may be naive or aware; with them it must match their convention.
    """
    if as_of is None:
        raise ConfigError("as_of is required: the date the forecast starts from", column="as_of")
    if dates is None:
        try:
            zone = pd.Timestamp(as_of).tz  # type: ignore[arg-type]  # resolve_as_of checks it
        except (ValueError, TypeError):
            zone = None
        dtype: Any = "datetime64[ns]" if zone is None else pd.DatetimeTZDtype("ns", zone)
        dates = pd.Series([], dtype=dtype)
    return resolve_as_of(as_of, dates, column=column)


def first_period_start(day: pd.Timestamp, period: str) -> pd.Timestamp:
    """Start of the period holding ``day`` (same zone; unit ``us``)."""
    start = period_start(pd.Series([day.as_unit("us")]), period).iloc[0]
    return pd.Timestamp(start).as_unit("us")


def period_grid(first: pd.Timestamp, period: str, *, last: int | None = None, n: int = 0) -> Any:
    """Period starts from ``first``: up to the one holding instant ``last`` (µs), or ``n + 1``.

    With ``n`` the grid holds the ``n`` periods of a horizon and the start of the period after
    them (where "later" begins). Returns a DatetimeIndex named ``period`` (unit ``us``).
    """
    code = canonical_period(period)
    if last is None:
        # A unit, not days=: pandas 3.0.0 checks Timedelta(days=k) against nanosecond bounds and
        # raises past 106,751 days (292 years), which 100,000 monthly periods pass.
        end = first + pd.Timedelta((n + 1) * _LONGEST[code], unit="D")
        starts = period_range(first, end, code)[: n + 1]
    else:
        end = from_micros(np.asarray([max(last, timestamp_micros(first, arg="as_of"))]), first.tz)[
            0
        ]
        starts = period_range(first, end, code)
    return pd.DatetimeIndex(starts.as_unit("us"), name="period")


def check_horizon(horizon: object) -> int | None:
    """``horizon``: ``None`` or a whole number of periods in 1 .. :data:`MAX_HORIZON`."""
    if horizon is None:
        return None
    if isinstance(horizon, bool | np.bool_) or not isinstance(horizon, int | np.integer):
        raise ConfigError(
            f"horizon must be None or a whole number of periods, got {show(horizon)}",
            column="horizon",
            value=horizon,
        )
    if not 1 <= int(horizon) <= MAX_HORIZON:
        raise ConfigError(
            f"horizon == {int(horizon)}, must be between 1 and {MAX_HORIZON} periods",
            column="horizon",
            value=horizon,
        )
    return int(horizon)


def month_table(start: pd.Timestamp, n: int) -> IntArray:
    """Instants (UTC microseconds) of ``start`` + 0, 1, ..., ``n`` calendar months.

    The same wall-clock time of the same day of each later month, or of its last day when the
    month is shorter (31 January + 1 month = 28 or 29 February). Time-zone aware starts add
    months to the local time (a time skipped by a clock change moves forward; a repeated one
    takes the first of the two), so a month after 09:00 is 09:00 across a clock change.
    """
    wall = start.tz_localize(None) if start.tz is not None else start
    w64 = wall.as_unit("us").to_datetime64().astype("M8[us]")
    day_start = w64.astype("M8[D]")
    month0 = w64.astype("M8[M]")
    day0 = int((day_start - month0.astype("M8[D]")).astype(np.int64))  # 0-based day of month
    time_of_day = (w64 - day_start.astype("M8[us]")).astype(np.int64)
    months = month0 + np.arange(n + 1, dtype=np.int64)
    first = months.astype("M8[D]")
    length = ((months + 1).astype("M8[D]") - first).astype(np.int64)
    day = np.minimum(day0, length - 1)
    out = first.astype("M8[us]").astype(np.int64) + day * US_PER_DAY + time_of_day
    if start.tz is None:
        return np.asarray(out, dtype=np.int64)
    local = pd.DatetimeIndex(out.view("M8[us]")).tz_localize(
        start.tz, ambiguous=np.ones(len(out), dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(local.as_unit("us").asi8, dtype=np.int64)


def add_months(start: pd.Timestamp, months: npt.ArrayLike) -> IntArray:
    """``start`` + ``months`` (finite, >= 0, possibly fractional), as UTC microseconds.

    Whole months are calendar months (:func:`month_table`); a fraction ``f`` of a month adds
    ``f`` of the days between ``start + k`` and ``start + k + 1`` months, so the time is
    continuous and increasing in ``months`` and 1.5 months after 1 February 2025 is 16 March 12:00.
    """
    t = np.asarray(months, dtype=np.float64)
    if t.size == 0:
        return np.zeros(t.shape, dtype=np.int64)
    whole = np.floor(t).astype(np.int64)
    table = month_table(start, int(whole.max()) + 1)
    low = table[whole]
    span = (table[whole + 1] - low).astype(np.float64)
    return np.asarray(low + np.round((t - whole) * span).astype(np.int64), dtype=np.int64)
