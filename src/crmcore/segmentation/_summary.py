"""Per-customer purchase aggregates behind rfm_summary and btyd_summary.

Two ways to the same numbers (bit for bit), both returning :class:`Aggregates`:

- :func:`ordered_aggregates`, the fast path, for rows in date order (as exports come);
- :func:`sorted_aggregates`, the general path, for any row order: one integer key per row,
  sorted, whose distinct values are the distinct (customer, period) pairs.

Transaction exports come in date order. When they do, the rows of each calendar period are a
contiguous block, and a customer's distinct purchase periods are counted by walking the blocks
in order with a few per-customer arrays, touching every row once and never sorting:

1. customer ids become codes ``0..k-1`` in id order through a lookup table over the id range
   (integer ids in a compact range; other ids take the sorting path);
2. period boundaries are found by binary search of the period starts in the sorted dates
   (no per-row date arithmetic);
3. for each block ``k``: ``last[c]`` holds ``k << 32 | row`` of one row of customer ``c`` in
   the block (whichever the scatter keeps), so reading it back marks exactly one row per
   customer and period; ``last[c] < 0`` before the block means ``c`` is new;
4. amounts are summed with ``numpy.add.at`` in row order, so every per-customer float sum adds
   the same numbers in the same order as the sorting path's ``numpy.bincount``: both paths
   give bit-identical results.

Every per-row temporary lives for one block (a period), so memory is the per-customer arrays
plus the id table, whatever the number of rows. :func:`ordered_aggregates` returns ``None``
when its preconditions do not hold (rows out of date order, missing or bad values, ids in a
wide range, time-zone-aware dates, very many tiny periods); the caller then takes the general
path, which also raises the errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import resolve_as_of
from crmcore.errors import CRMError

__all__ = [
    "Aggregates",
    "Reading",
    "btyd_frame",
    "customer_codes",
    "ordered_aggregates",
    "ordinals",
    "period_ordinal",
    "period_start_day",
    "rfm_frame",
    "sorted_aggregates",
    "wall_days",
]

_IntArray = npt.NDArray[np.int64]
_FloatArray = npt.NDArray[np.float64]

#: Rows per pass when a whole column is scanned: temporaries stay in the CPU cache.
CHUNK = 1 << 16
#: Integer ids use a lookup table when their range is at most this many times the rows (or
#: 2**16): the table costs 4 bytes per id in the range.
ID_SPAN_FACTOR = 2
#: Below this many rows per non-empty period the per-period loop costs more than a sort.
MIN_ROWS_PER_BLOCK = 128
_NAT = np.iinfo(np.int64).min
_SHIFT = 32


@dataclass(frozen=True)
class Aggregates:
    """What both summaries are built from, one entry per customer (sorted by id).

    ``first``/``last`` are period ordinals (see :func:`period_ordinal`); ``total`` sums every
    amount, ``repeat`` the amounts outside the customer's first period; ``first_tick`` and
    ``last_tick`` are the earliest and latest instants in the date column's own unit.
    """

    index: pd.Index
    count: _IntArray
    first: _IntArray
    last: _IntArray
    total: _FloatArray | None
    repeat: _FloatArray | None
    first_tick: _IntArray | None
    last_tick: _IntArray | None
    as_of: pd.Timestamp
    as_of_period: int
    n_excluded: int
    tick_dtype: np.dtype[Any]
    tz: Any = None


def period_ordinal(days: Any, period: str) -> Any:
    """Ordinals of day numbers (days since 1970-01-01): equal within a period, +1 per period.

    Weeks run Monday to Sunday (pandas ``"W"``); months, quarters and years are calendar ones.

    Examples
    --------
    >>> import numpy as np
    >>> days = np.array([0, 3, 4, 31])  # Thu 1970-01-01, Sun 01-04, Mon 01-05, Sun 02-01
    >>> period_ordinal(days, "W").tolist(), period_ordinal(days, "M").tolist()
    ([0, 0, 1, 4], [0, 0, 0, 1])
    """
    days = np.asarray(days, dtype=np.int64)
    if period == "D":
        return days
    if period == "W":  # 1970-01-01 was a Thursday: +3 starts weeks on Mondays
        return (days + 3) // 7
    months = days.astype("datetime64[D]").astype("datetime64[M]").view(np.int64)
    if period == "Q":
        return months // 3
    if period == "Y":
        return months // 12
    return months


def period_start_day(ordinals: _IntArray, period: str) -> _IntArray:
    """First day (days since 1970-01-01) of each period ordinal: inverse of period_ordinal.

    Examples
    --------
    >>> import numpy as np
    >>> period_start_day(np.array([0, 1]), "W").tolist(), period_start_day(np.array([1]), "Q")
    ([-3, 4], array([90]))
    """
    if period == "D":
        return ordinals
    if period == "W":
        out: _IntArray = ordinals * 7 - 3
        return out
    months = ordinals * {"M": 1, "Q": 3, "Y": 12}[period]
    days: _IntArray = months.astype("datetime64[M]").astype("datetime64[D]").view(np.int64)
    return days


def _ticks_per_day(dtype: np.dtype[Any]) -> int | None:
    unit, count = np.datetime_data(dtype)
    per_day = {"D": 1, "h": 24, "m": 1440, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000}
    per_day["ns"] = 86_400_000_000_000
    if unit not in per_day or count != 1:
        return None
    return per_day[unit]


def _non_decreasing(values: npt.NDArray[Any]) -> bool:
    """Tell whether ``values`` never decrease (checked in cache-sized chunks, early exit)."""
    n = len(values)
    for start in range(0, n - 1, CHUNK):
        stop = min(start + CHUNK + 1, n)
        part = values[start:stop]
        if not bool((part[1:] >= part[:-1]).all()):
            return False
    return True


def _amounts_ok(values: npt.NDArray[Any], allow_negative: bool) -> bool:
    """Finite (and non-negative unless allowed) amounts: min and max, no temporaries."""
    lo = values.min()
    hi = values.max()
    if values.dtype.kind == "f":  # NaN propagates into min and max and fails both tests
        return bool(hi < np.inf) and bool(lo >= 0 if not allow_negative else lo > -np.inf)
    return allow_negative or bool(lo >= 0)


@dataclass(frozen=True)
class _Codes:
    """Lookup table ``rank[id - low]`` -> customer code, and the sorted distinct ids."""

    low: int
    rank: npt.NDArray[np.int32]
    index: pd.Index

    def of(self, ids: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
        offsets = np.subtract(ids, self.low, dtype=np.int64)
        codes: npt.NDArray[np.int32] = self.rank[offsets]
        return codes


def _id_codes(series: pd.Series, ids: npt.NDArray[Any]) -> _Codes | None:
    """Codes for integer ids in a compact range, or ``None`` (ids too spread out)."""
    low = int(ids.min())
    high = int(ids.max())
    span = high - low + 1
    if span > max(ID_SPAN_FACTOR * len(ids), 1 << 16) or span >= 2**31 or high >= 2**63:
        return None
    present = np.zeros(span, dtype=np.bool_)
    for start in range(0, len(ids), CHUNK):
        present[np.subtract(ids[start : start + CHUNK], low, dtype=np.int64)] = True
    rank = np.cumsum(present, dtype=np.int32)  # int32 out: numpy's fast path for bool input
    rank -= 1
    distinct = np.flatnonzero(present)
    del present
    wide = np.uint64 if ids.dtype.kind == "u" else np.int64
    uniques = (distinct.astype(wide) + wide(low)).astype(ids.dtype)
    return _Codes(low, rank, pd.Index(uniques, name=series.name))


def _boundaries(
    ticks: _IntArray, per_day: int, period: str, first_period: int, stop_period: int
) -> _IntArray:
    """Row positions where periods ``first_period .. stop_period`` start (+ the end)."""
    later = np.arange(first_period + 1, stop_period + 1, dtype=np.int64)
    starts = np.searchsorted(ticks, period_start_day(later, period) * per_day, side="left")
    out: _IntArray = np.concatenate(([0], starts)).astype(np.int64)
    return out


class _Walk:
    """Per-customer state while walking the period blocks in order."""

    def __init__(self, n: int, *, total: bool, repeat: bool, ticks: bool, block: int) -> None:
        self.last = np.full(n, -1, dtype=np.int64)  # (block << 32) | row of one row, or -1
        self.first = np.zeros(n, dtype=np.int32)
        self.count = np.zeros(n, dtype=np.int32)
        self.total = np.zeros(n) if total else None
        self.repeat = np.zeros(n) if repeat else None
        self.first_tick = np.full(n, np.iinfo(np.int64).max) if ticks else None
        self.last_tick = np.full(n, np.iinfo(np.int64).min) if ticks else None
        self.rows = np.arange(block, dtype=np.int64)

    def block(
        self,
        k: int,
        codes: npt.NDArray[np.int32],
        amounts: _FloatArray | None,
        ticks: _IntArray,
    ) -> None:
        stamp = self.rows[: len(codes)] + (k << _SHIFT)
        new = self.last[codes] < 0
        self.last[codes] = stamp
        one = codes[self.last[codes] == stamp]  # one row per customer in this period
        self.count[one] += 1
        newcomers = codes[new]
        self.first[newcomers] = k
        if amounts is not None:
            if self.total is not None:
                np.add.at(self.total, codes, amounts)
            if self.repeat is not None:
                old = ~new
                np.add.at(self.repeat, codes[old], amounts[old])
        if self.first_tick is not None and self.last_tick is not None:
            np.minimum.at(self.first_tick, newcomers, ticks[new])
            np.maximum.at(self.last_tick, codes, ticks)


@dataclass(frozen=True, kw_only=True)
class Reading:
    """How a summary reads its transactions: the columns, the end of observation, the rules.

    ``as_of`` is the caller's end of observation (``None``: the latest date); ``refunds`` is
    ``"error"`` or ``"allow"`` (negative amounts), ``after_as_of`` ``"error"`` or
    ``"exclude"`` (rows after the period of ``as_of``).
    """

    customer: str
    date: str
    amount: str | None
    as_of: object
    period: str
    refunds: str
    after_as_of: str


def ordered_aggregates(
    transactions: pd.DataFrame,
    read: Reading,
    *,
    want_total: bool,
    want_repeat: bool,
    want_ticks: bool,
) -> Aggregates | None:
    """Aggregate date-ordered transactions in one pass; ``None`` when that does not apply.

    Columns must already exist; values are checked here only as far as the fast path needs,
    and anything unusual (missing values, negative amounts unless ``refunds="allow"``, rows
    out of order, rows after ``as_of`` unless ``after_as_of="exclude"``) returns ``None`` so
    that the general path validates and raises.
    """
    customer, date, amount, as_of = read.customer, read.date, read.amount, read.as_of
    ids_col = transactions[customer]
    dates = transactions[date]
    if not (isinstance(ids_col.dtype, np.dtype) and ids_col.dtype.kind in "iu"):
        return None
    if not (isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M"):
        return None
    per_day = _ticks_per_day(dates.dtype)
    n_rows = len(dates)
    if per_day is None or n_rows == 0:
        return None
    amounts: npt.NDArray[Any] | None = None
    if amount is not None:
        col = transactions[amount]
        if not (isinstance(col.dtype, np.dtype) and col.dtype.kind in "iuf"):
            return None
        amounts = col.to_numpy()
        if not _amounts_ok(amounts, read.refunds == "allow"):
            return None
    raw = dates.to_numpy()
    ticks: _IntArray = raw.view(np.int64)
    if ticks[0] == _NAT or not _non_decreasing(ticks):
        return None
    try:  # rows in order: the latest date is the last one
        end = pd.Timestamp(dates.iloc[-1]) if as_of is None else resolve_as_of(as_of, dates)
    except CRMError:  # the general path raises, after its checks of the data
        return None
    return _walk_blocks(
        ids_col,
        ids_col.to_numpy(),
        ticks,
        amounts,
        raw.dtype,
        per_day=per_day,
        as_of=end,
        period=read.period,
        exclude_after=read.after_as_of == "exclude",
        want=(want_total, want_repeat, want_ticks),
    )


def _walk_blocks(
    ids_col: pd.Series,
    ids: npt.NDArray[Any],
    ticks: _IntArray,
    amounts: npt.NDArray[Any] | None,
    dtype: np.dtype[Any],
    *,
    per_day: int,
    as_of: pd.Timestamp,
    period: str,
    exclude_after: bool,
    want: tuple[bool, bool, bool],
) -> Aggregates | None:
    first_period = int(period_ordinal(ticks[0] // per_day, period))
    last_period = int(period_ordinal(ticks[-1] // per_day, period))
    as_of_day = np.array([as_of.to_datetime64()]).astype("datetime64[D]").view(np.int64)
    as_of_period = int(period_ordinal(as_of_day, period)[0])
    stop_period = min(last_period, as_of_period)
    if stop_period < first_period:
        return None  # every row after as_of: the general path says so
    bounds = _boundaries(ticks, per_day, period, first_period, stop_period)
    n_rows = n_used = len(ticks)
    if last_period > as_of_period:  # rows after as_of: a suffix of the sorted rows
        if not exclude_after:
            return None
        after = period_start_day(np.array([stop_period + 1]), period) * per_day
        n_used = int(np.searchsorted(ticks, after[0]))
    ends = np.append(bounds[1:], n_used)
    sizes = ends - bounds
    busy = int(np.count_nonzero(sizes))
    if busy > 64 and n_used < MIN_ROWS_PER_BLOCK * busy:
        return None
    codes = _id_codes(ids_col, ids[:n_used])
    if codes is None:
        return None
    n = len(codes.index)
    want_total, want_repeat, want_ticks = want
    walk = _Walk(
        n,
        total=want_total and amounts is not None,
        repeat=want_repeat and amounts is not None,
        ticks=want_ticks,
        block=int(sizes.max()),
    )
    for k, (start, stop) in enumerate(zip(bounds.tolist(), ends.tolist(), strict=True)):
        if start == stop:
            continue
        block_amounts = None
        if amounts is not None:
            block_amounts = amounts[start:stop].astype(np.float64, copy=False)
        walk.block(k, codes.of(ids[start:stop]), block_amounts, ticks[start:stop])
    last = walk.last >> _SHIFT
    last += first_period
    first = walk.first.astype(np.int64)
    first += first_period
    return Aggregates(
        index=codes.index,
        count=walk.count.astype(np.int64),
        first=first,
        last=last,
        total=walk.total,
        repeat=walk.repeat,
        first_tick=walk.first_tick,
        last_tick=walk.last_tick,
        as_of=as_of,
        as_of_period=as_of_period,
        n_excluded=n_rows - n_used,
        tick_dtype=dtype,
    )


# --------------------------------------------------------------------------------------------
# The general path: any row order


def wall_days(values: npt.NDArray[np.datetime64]) -> _IntArray:
    """Whole days since 1970-01-01 (floored) of naive datetime64 values."""
    days: _IntArray = values.astype("datetime64[D]").view(np.int64)
    return days


def ordinals(days: _IntArray, period: str) -> _IntArray:
    """:func:`period_ordinal` of many day numbers (months looked up per distinct day)."""
    if period in ("D", "W") or len(days) == 0:
        out_dw: _IntArray = period_ordinal(days, period)
        return out_dw
    lo = int(days.min())
    hi = int(days.max())
    # Calendar months of the (few) distinct days in range, looked up per row: converting every
    # row to datetime64[M] is a slow per-element calendar computation.
    table = period_ordinal(np.arange(lo, hi + 1, dtype=np.int64), period)
    out: _IntArray = table[days - lo]
    return out


def customer_codes(values: pd.Series) -> tuple[npt.NDArray[np.intp], pd.Index]:
    """Codes ``0..k-1`` in sorted order of the distinct customer ids, and those ids."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(values):
        arr = values.to_numpy()
        lo = int(arr.min())
        span = int(arr.max()) - lo + 1
        if span <= 4 * len(arr) + 1_000_000:
            if dtype.kind == "u":  # unsigned: arr >= lo, no overflow in its own type
                offset = (arr - arr.dtype.type(lo)).astype(np.intp)
            else:  # signed: widen as it goes (int8 values -100 and 100 differ by 200)
                offset = np.subtract(arr, np.int64(lo), dtype=np.intp)
            present = np.zeros(span, dtype=bool)
            present[offset] = True
            # cumsum of bool into intp is a slow buffered loop; of intp in place it is not.
            rank = present.astype(np.intp)
            np.cumsum(rank, out=rank)
            rank -= 1
            codes: npt.NDArray[np.intp] = rank[offset]
            wide = np.uint64 if dtype.kind == "u" else np.int64
            uniques = (np.flatnonzero(present).astype(wide) + wide(lo)).astype(dtype)
            return codes, pd.Index(uniques, name=values.name)
    fcodes, funiques = pd.factorize(values, sort=True)
    index = pd.Index(funiques, name=values.name)
    return fcodes.astype(np.intp), index


def _period_pairs(
    codes: npt.NDArray[np.intp], periods: _IntArray, n_customers: int
) -> tuple[_IntArray, _IntArray, _IntArray]:
    """Per customer: number of distinct periods, first period and last period."""
    base = int(periods.min())
    span = int(periods.max()) - base + 1
    if span * n_customers < 2**62:
        # Period-major key: sorted already when every row's day is in order (not only its
        # instant), so the sort is skipped then. 32-bit keys sort in about half the time.
        key: npt.NDArray[np.unsignedinteger[Any] | np.signedinteger[Any]]
        key = np.subtract(periods, base)  # in place from here: one int64 temporary
        key *= n_customers
        key += codes
        if span * n_customers < 2**32:
            key = key.astype(np.uint32)
        if len(key) > 1 and not _non_decreasing(key):
            key = np.sort(key)
        distinct = np.empty(len(key), dtype=bool)
        distinct[0] = True
        np.not_equal(key[1:], key[:-1], out=distinct[1:])
        unique_keys = key[distinct]
        del key, distinct
        # Split the keys in place: the period array reuses the widened keys' memory.
        wide = unique_keys.astype(np.int64)
        del unique_keys
        pair_customer = wide % n_customers
        wide //= n_customers
        wide += base
        pair_period = wide
    else:  # pragma: no cover - needs > 2**62 customer-periods
        order = np.lexsort((periods, codes))
        c = codes[order]
        p = periods[order]
        distinct = np.ones(len(c), dtype=bool)
        distinct[1:] = (c[1:] != c[:-1]) | (p[1:] != p[:-1])
        pair_customer = c[distinct].astype(np.int64)
        pair_period = p[distinct]
    count = np.bincount(pair_customer, minlength=n_customers).astype(np.int64)
    # ufunc.at has defined semantics for repeated indices (a scatter assignment does not).
    first = np.full(n_customers, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n_customers, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, pair_customer, pair_period)
    np.maximum.at(last, pair_customer, pair_period)
    return count, first, last


def sorted_aggregates(
    codes: npt.NDArray[np.intp],
    index: pd.Index,
    periods: _IntArray,
    amounts: _FloatArray | None,
    dates: pd.Series,
    *,
    as_of: pd.Timestamp,
    as_of_period: int,
    n_excluded: int,
    want_total: bool,
    want_repeat: bool,
    want_ticks: bool,
) -> Aggregates:
    """Aggregate validated rows in any order (codes and periods per row), sorting a key."""
    n = len(index)
    tz = getattr(dates.dtype, "tz", None)
    # Earliest and latest instants, in the column's own resolution (UTC for tz-aware dates).
    instants = dates.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else dates
    raw = instants.to_numpy()
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        money = np.zeros(0) if amounts is not None else None
        return Aggregates(
            index, empty, empty, empty,
            money if want_total else None, money if want_repeat else None,
            empty, empty, as_of, as_of_period, n_excluded, raw.dtype, tz,
        )  # fmt: skip
    count, first, last = _period_pairs(codes, periods, n)
    total: _FloatArray | None = None
    repeat: _FloatArray | None = None
    if amounts is not None and want_total:
        total = np.bincount(codes, weights=amounts, minlength=n).astype(np.float64, copy=False)
    if amounts is not None and want_repeat:
        later = periods != first[codes]
        sums = np.bincount(codes[later], weights=amounts[later], minlength=n)
        repeat = sums.astype(np.float64, copy=False)
    first_tick = last_tick = None
    if want_ticks:
        ticks = raw.view(np.int64)
        first_tick = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        last_tick = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(first_tick, codes, ticks)
        np.maximum.at(last_tick, codes, ticks)
    return Aggregates(
        index=index,
        count=count,
        first=first,
        last=last,
        total=total,
        repeat=repeat,
        first_tick=first_tick,
        last_tick=last_tick,
        as_of=as_of,
        as_of_period=as_of_period,
        n_excluded=n_excluded,
        tick_dtype=raw.dtype,
        tz=tz,
    )


# --------------------------------------------------------------------------------------------
# The result frames (shared by the pandas summaries and their Dask path)


def _instants(ticks: _IntArray, agg: Aggregates) -> Any:
    """Ticks (UTC for tz-aware dates) as the date column's values: datetime64 or tz-aware."""
    values = ticks.view(agg.tick_dtype)
    if agg.tz is None:
        return values
    return pd.DatetimeIndex(values).tz_localize("UTC").tz_convert(agg.tz).array


def rfm_frame(agg: Aggregates) -> pd.DataFrame:
    """Build the columns of ``rfm_summary`` from the aggregates (see there)."""
    first_tick = cast("_IntArray", agg.first_tick)
    last_tick = cast("_IntArray", agg.last_tick)
    recency = np.subtract(agg.as_of_period, agg.last)
    tenure = np.subtract(agg.as_of_period, agg.first)
    data = {
        "recency": recency,
        "frequency": agg.count,
        "monetary": agg.total,
        "first_purchase": _instants(first_tick, agg),
        "last_purchase": _instants(last_tick, agg),
        "tenure": tenure,
    }
    # No copies: each column is an array computed for the result (one block each).
    return pd.DataFrame(data, index=agg.index, copy=False)


def btyd_frame(agg: Aggregates, *, include_first: bool, scale: float) -> pd.DataFrame:
    """Build the columns of ``btyd_summary`` from the aggregates (see there)."""
    money = agg.total if include_first else agg.repeat
    names = ["frequency", "recency", "T"] + ([] if money is None else ["monetary_value"])
    block = np.empty((len(names), len(agg.index)), dtype=np.float64)
    frequency = block[0]
    np.subtract(agg.count, 0 if include_first else 1, out=frequency)
    np.subtract(agg.last, agg.first, out=block[1])
    np.subtract(agg.as_of_period, agg.first, out=block[2])
    block[1:3] /= scale
    if money is not None:
        value = block[3]
        value[:] = 0.0
        np.divide(money, frequency, out=value, where=frequency > 0)
    return pd.DataFrame(block.T, index=agg.index, columns=names, copy=False)
