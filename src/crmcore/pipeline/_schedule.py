"""close_schedule's streaming path: per-period totals straight from the columns.

:func:`~crmcore.pipeline.close_schedule` only needs, per period, a count, two sums of minor
units and the overdue count. This path computes them without the per-deal arrays of
:func:`~crmcore.pipeline._deals.parse_deals` (codes, minor units, probabilities, expected
amounts, landing instants: about 570 MB of fresh memory at 10M deals). It reads the stage,
amount and close-date columns a cache-sized chunk at a time:

* stage codes as Arrow finds them (``int32``, never widened), or a categorical's own codes, or
  a factorisation of the chunk, turned into model codes through a small table;
* amounts checked by two reductions (minimum and maximum: NaN, infinite, negative and too
  large all show there) and rounded into minor units the way :func:`crmcore.money.to_minor_units`
  rounds (half up, binary noise removed);
* close dates compared in their own unit (``ns``, ``us``, ``ms``, ``s``) against the handful of
  instants that decide anything (period starts and the ``as_of`` day), so they are never
  converted;
* each deal's *bucket* (a period, "later than the horizon", overdue, won before the ``as_of``
  period or lost) read from a small (date interval x stage code) table, and the sums made by
  ``numpy.bincount`` into a few bins.

Sums of minor units stay exact: a chunk's bin sums are exact in float64 while the chunk's
largest amount times its length stays below 2**53, otherwise the chunk goes through
:func:`crmcore.money.sum_minor_units`.

Every check of the general path still guards this one: ids go through the same helpers, and
anything the cheap checks cannot vouch for (a missing or unknown stage, a bad amount, a date a
microsecond count cannot hold, an overdue deal under ``overdue="error"``, sums near 2**63, a
grid of more than :data:`MAX_PERIODS` periods, another currency or several sales processes, a
column type this path does not read) makes :func:`stream_schedule` return ``None``; the caller
then runs the general path, which raises the error naming the column, the row label and the
value in the usual order, or computes the schedule the general way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    import_optional,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
)
from crmcore._rounding import round_minor_units
from crmcore.errors import CRMError
from crmcore.money import sum_minor_units
from crmcore.pipeline._dates import (
    NAT,
    US_PER_DAY,
    as_of_timestamp,
    first_period_start,
    optional_dates,
    period_grid,
    timestamp_micros,
)
from crmcore.pipeline._deals import check_id_types
from crmcore.pipeline._landing import stage_landing
from crmcore.pipeline.stages import StageModel

__all__ = ["MAX_PERIODS", "Totals", "stream_schedule"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Deals per pass: every temporary of a pass stays cache-sized.
_CHUNK = 1 << 16
#: Grids of more periods than this (daily periods over centuries) take the general path.
MAX_PERIODS = 100_000
#: Buckets before the periods: overdue, won before the as_of period, lost.
_LATE, _WON_BEFORE, _LOST = 0, 1, 2
_FIRST_PERIOD = 3
#: Amounts whose minor units reach this take the general path (it names the ones too large).
_MAX_UNITS = float(2**52)
#: Up to this many (date interval, stage code) cells, deals are added up by cell.
_MAX_CELLS = 1 << 12
#: float64 adds whole numbers exactly below this.
_EXACT = float(2**53)
#: Totals that could come near 2**63 take the general path (it checks every sum).
_SAFE_TOTAL = float(2**62)
_INT64_MAX = int(np.iinfo(np.int64).max)
#: Below every date and above NaT: the edge that tells a missing date from an early one.
_SENTINEL = NAT + 1
#: The shortest each period can be, in days, and an hour in microseconds (a clock change).
_SHORTEST_DAYS = {"D": 1, "W": 7, "M": 28, "Q": 89, "Y": 365}
_HOUR_US = 3_600 * 10**6
#: Microseconds per unit of a datetime column.
_US_PER_UNIT = {"s": 10**6, "ms": 10**3, "us": 1}


class _UnsupportedError(Exception):
    """Raised when an input is for the general path: it reports the problem or handles the case."""


@attrs.frozen(kw_only=True, eq=False)
class Totals:
    """Per-period totals of a schedule, in minor units (see ``CloseSchedule``).

    ``count``, ``amount``, ``expected`` and ``overdue`` hold one entry per period of ``grid``
    and, last, the "later than the horizon" totals (zero without a horizon).
    """

    grid: pd.DatetimeIndex
    count: IntArray
    amount: IntArray
    expected: IntArray
    overdue: IntArray
    as_of: pd.Timestamp
    late: int
    won_before: int
    lost: int
    deals: int


@attrs.frozen(kw_only=True, eq=False)
class _Plan:
    """What the pass over the chunks needs: edges, the bucket table, the stage odds."""

    edges: IntArray  # in the close dates' own unit, sentinel first
    table: npt.NDArray[np.intp]  # (edge interval, model code) -> bucket
    probability: FloatArray  # per model code
    grid: pd.DatetimeIndex
    as_of: pd.Timestamp


def _arrow_text(values: pd.Series) -> bool:
    dtype = values.dtype
    return (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype) and dtype.kind == "U"
    )


def _mapping(labels: Sequence[Any] | pd.Index, names: Sequence[Any]) -> IntArray:
    """Model code of each label (-1: not a stage of the model), and -1 last (for code -1)."""
    found = pd.Index(list(names), dtype=object).get_indexer_for(pd.Index(labels, dtype=object))
    return np.append(np.asarray(found, dtype=np.int64), -1)


Chunk = tuple[int, int, npt.NDArray[Any], IntArray | None]


def _arrow_chunks(values: pd.Series, names: Sequence[Any]) -> Iterator[Chunk]:
    """Model codes of Arrow text as Arrow finds them (``int32``, not widened), chunk by chunk.

    Slices of the column are views, whatever Arrow chunks it is made of.
    """
    pa = import_optional("pyarrow", "arrow")
    pc = import_optional("pyarrow.compute", "arrow")
    column = values.array.__arrow_array__()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise _UnsupportedError  # pragma: no cover - an Arrow column of another kind
    wanted = pc.SetLookupOptions(pa.array(list(names), column.type))
    n = len(column)
    for lo in range(0, n, _CHUNK):
        found = pc.index_in(column.slice(lo, _CHUNK), options=wanted)
        if found.null_count:  # a missing or unknown stage: the general path names it
            raise _UnsupportedError
        yield lo, min(lo + _CHUNK, n), found.to_numpy(), None


def _stage_chunks(values: pd.Series, names: Sequence[Any]) -> Iterator[Chunk]:
    """``(lo, hi, codes, mapping)`` per chunk; ``mapping[codes]`` are model codes (``None``: as is).

    Arrow text is looked up by Arrow; a categorical keeps its codes and maps its categories;
    anything else is factorised a chunk at a time (missing values code -1, mapped to -1).
    """
    if _arrow_text(values) and all(isinstance(name, str) for name in names):
        yield from _arrow_chunks(values, names)
        return
    n = len(values)
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes)
        mapping = _mapping(values.cat.categories, names)
        for lo in range(0, n, _CHUNK):
            yield lo, min(lo + _CHUNK, n), codes[lo : lo + _CHUNK], mapping
        return
    for lo in range(0, n, _CHUNK):
        row_codes, uniques = pd.factorize(values.iloc[lo : lo + _CHUNK])
        yield lo, min(lo + _CHUNK, n), row_codes, _mapping(uniques, names)


def _amounts(frame: pd.DataFrame, amount: str, key: str) -> npt.NDArray[Any]:
    """Return the amounts: numpy numbers as they are (no copy), nullable or Arrow ones checked."""
    dtype = frame[amount].dtype
    if getattr(dtype, "kind", "") not in ("f", "i", "u"):
        raise _UnsupportedError  # text, booleans, decimals: the general path reads or refuses
    if isinstance(dtype, np.dtype):
        return np.asarray(frame[amount].to_numpy())
    return numeric_column(
        frame, amount, arg="opportunities", key=key, allow_negative=False,
        what="finite amounts >= 0",
    )  # fmt: skip


def _close_dates(
    frame: pd.DataFrame, close_date: str | None, key: str
) -> tuple[pd.Series | None, IntArray | None, str]:
    """Return the close dates (parsed only when not dates yet), their int64 values and unit."""
    if close_date is None:
        return None, None, "us"
    dates = frame[close_date]
    dtype = dates.dtype
    if not (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)):
        dates = optional_dates(frame, close_date, arg="opportunities", key=key)
    index = pd.DatetimeIndex(dates)
    return dates, np.asarray(index.asi8, dtype=np.int64), str(index.unit)


def _to_unit(us: int, unit: str) -> int:
    """Return the first instant of ``unit`` at or after ``us`` microseconds (an exact integer)."""
    if unit == "ns":
        return us * 1000
    return -(-us // _US_PER_UNIT[unit])


def _to_micros(value: int, unit: str) -> int:
    """Return an instant in ``unit`` as microseconds (floored, as ``_dates.micros`` does)."""
    return value // 1000 if unit == "ns" else value * _US_PER_UNIT[unit]


def _grid(first: pd.Timestamp, period: str, horizon: int | None, bound_us: int) -> pd.DatetimeIndex:
    """Return the period starts: ``horizon`` + 1, or up to the period holding ``bound_us``."""
    if horizon is not None:
        grid: pd.DatetimeIndex = period_grid(first, period, n=horizon)
        return grid
    shortest = _SHORTEST_DAYS[period] * US_PER_DAY - _HOUR_US
    if (bound_us - timestamp_micros(first, arg="as_of")) // shortest + 2 > MAX_PERIODS:
        raise _UnsupportedError
    grid = period_grid(first, period, last=bound_us)
    return grid


def _latest(own: IntArray | None, unit: str) -> int | None:
    """Return the latest close date in microseconds, ``None`` when there is none."""
    if own is None or not len(own):
        return None
    top = int(own.max())
    if top == NAT:
        return None
    if unit in ("s", "ms") and top > _INT64_MAX // _US_PER_UNIT[unit]:
        raise _UnsupportedError  # beyond a microsecond count: the general path names it
    return _to_micros(top, unit)


def _plan(
    model: StageModel,
    *,
    as_of: object,
    dates: pd.Series | None,
    own: IntArray | None,
    unit: str,
    period: str,
    horizon: int | None,
    column: str,
) -> _Plan:
    """Resolve ``as_of``, build the grid and the (date interval, stage code) -> bucket table."""
    ts = as_of_timestamp(as_of, dates, column=column)
    as_of_us = timestamp_micros(ts, arg="as_of")
    day = ts.normalize()
    day_us = timestamp_micros(day, arg="as_of")
    first = first_period_start(day, period)
    k = len(model.stages)
    stage_us = np.append(stage_landing(model, np.arange(k, dtype=np.int64), ts), as_of_us)
    latest = _latest(own, unit)
    bound = max(as_of_us, int(stage_us.max()), as_of_us if latest is None else latest)
    grid = _grid(first, period, horizon, bound)
    grid_us = np.asarray(grid.asi8, dtype=np.int64)
    # The instants that decide anything: period starts and the as_of day.
    cuts = np.unique(np.append(grid_us, day_us))

    def bucket(instants: npt.ArrayLike) -> npt.NDArray[np.intp]:
        found = np.searchsorted(grid_us, instants, "right") - 1 + _FIRST_PERIOD
        return np.asarray(found, dtype=np.intp)

    own_bucket = bucket(cuts)
    # Columns: open stages, won, lost. Rows: no date, before the first cut, then one per cut.
    table = np.empty((len(cuts) + 2, k + 2), dtype=np.intp)
    table[0, : k + 1] = bucket(stage_us)  # a won deal without a date lands on as_of
    table[1, :k] = _LATE
    table[2:, :k] = np.where(cuts < day_us, _LATE, own_bucket)[:, None]
    table[1, k] = _WON_BEFORE
    table[2:, k] = own_bucket
    table[:, k + 1] = _LOST
    edges = [_SENTINEL]
    for cut in cuts.tolist():
        edge = max(_to_unit(int(cut), unit), _SENTINEL)
        if edge > _INT64_MAX:
            break  # no date reaches it (nor any later cut)
        edges.append(edge)
    probability = np.asarray([*model.win_probabilities, 1.0, 0.0], dtype=np.float64)
    return _Plan(
        edges=np.asarray(edges, dtype=np.int64),
        table=table,
        probability=probability,
        grid=grid,
        as_of=ts,
    )


def _check_dates(own: npt.NDArray[np.int64], unit: str) -> None:
    """Dates in ``s``/``ms`` a microsecond count cannot hold go to the general path."""
    if unit not in ("s", "ms"):
        return
    limit = _INT64_MAX // _US_PER_UNIT[unit]
    if own.max() > limit or (own.min() < -limit and bool(((own < -limit) & (own != NAT)).any())):
        raise _UnsupportedError


class _Sums:
    """Bin counts and exact bin sums of minor units, added chunk by chunk."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = np.zeros(size, dtype=np.int64)
        self.amount = np.zeros(size, dtype=np.int64)
        self.expected = np.zeros(size, dtype=np.int64)
        self.bound = 0.0

    def add(self, bins: npt.NDArray[np.intp], cents: FloatArray, expected: FloatArray) -> None:
        """Add one chunk: ``cents`` and ``expected`` are whole numbers below 2**52."""
        size = self.size
        self.count += np.bincount(bins, minlength=size)
        top = (float(cents.max()) + 1.0) * len(cents)
        self.bound += top
        if self.bound >= _SAFE_TOTAL:
            raise _UnsupportedError  # the general path checks every sum against 2**63
        if top < _EXACT:  # every bin sum is a whole number below 2**53: exact in float64
            self.amount += np.bincount(bins, weights=cents, minlength=size).astype(np.int64)
            self.expected += np.bincount(bins, weights=expected, minlength=size).astype(np.int64)
            return
        self.amount += sum_minor_units(cents.astype(np.int64), bins, size)
        self.expected += sum_minor_units(expected.astype(np.int64), bins, size)

    def fold(self, buckets: npt.NDArray[np.intp], size: int) -> _Sums:
        """Add bins into ``size`` buckets (``buckets[b]`` of bin ``b``); exact, the bound kept."""
        out = _Sums(size)
        for mine, theirs in zip(
            (self.count, self.amount, self.expected), (out.count, out.amount, out.expected),
            strict=True,
        ):  # fmt: skip
            np.add.at(theirs, buckets, mine)
        out.bound = self.bound
        return out


def _pass(
    plan: _Plan,
    chunks: Iterator[Chunk],
    values: npt.NDArray[Any],
    own: IntArray | None,
    *,
    unit: str,
    scale: float,
) -> _Sums:
    """One pass over the chunks: check, round, look up each deal's bucket, add up.

    With a small table the deals are added up by (date interval, stage code) cell, and the
    cells into buckets at the end: one gather per deal fewer.
    """
    width = plan.table.shape[1]
    flat = plan.table.ravel()
    by_cell = flat.size <= _MAX_CELLS
    no_date = np.arange(width) if by_cell else np.ascontiguousarray(plan.table[0])
    buckets = len(plan.grid) + _FIRST_PERIOD
    sums = _Sums(flat.size if by_cell else buckets)
    for lo, hi, codes, mapping in chunks:
        stage = codes if mapping is None else mapping[codes]
        if mapping is not None and len(stage) and stage.min() < 0:
            raise _UnsupportedError  # a missing or unknown stage: the general path names it
        amounts = np.asarray(values[lo:hi], dtype=np.float64)
        if not (amounts.min() >= 0.0 and amounts.max() < _MAX_UNITS / scale):
            raise _UnsupportedError  # NaN, infinite, negative, too large: the general path names it
        cents = round_minor_units(amounts * scale)  # to_minor_units' rule, checked just above
        expected = round_minor_units(cents * plan.probability[stage])
        if own is None:
            bins = no_date[stage]
        else:
            dates = own[lo:hi]
            _check_dates(dates, unit)
            bins = np.searchsorted(plan.edges, dates, "right")
            bins *= width
            bins += stage
            if not by_cell:
                bins = flat[bins]
        sums.add(bins, cents, expected)
    if by_cell:
        return sums.fold(flat, buckets)
    return sums


def stream_schedule(
    frame: pd.DataFrame,
    model: object,
    *,
    as_of: object,
    period: str,
    horizon: int | None,
    overdue: str,
    opportunity: str,
    stage: str,
    amount: str,
    close_date: str | None,
    currency: str | None,
    decimals: int,
) -> Totals | None:
    """Per-period totals of ``close_schedule`` in one pass, or ``None`` for the general path.

    ``period`` is a canonical code and ``horizon`` checked. ``None`` means: another currency
    column, several sales processes, or something the general path must report or handle.
    """
    if currency is not None or not isinstance(model, StageModel):
        return None
    try:
        return _stream(
            frame, model, as_of=as_of, period=period, horizon=horizon, overdue=overdue,
            opportunity=opportunity, stage=stage, amount=amount, close_date=close_date,
            decimals=decimals,
        )  # fmt: skip
    except (CRMError, _UnsupportedError, TypeError, ValueError, OverflowError):
        # Odd data (unhashable stages, say): the general path reads it, or fails as it did.
        return None


def _stream(
    frame: pd.DataFrame,
    model: StageModel,
    *,
    as_of: object,
    period: str,
    horizon: int | None,
    overdue: str,
    opportunity: str,
    stage: str,
    amount: str,
    close_date: str | None,
    decimals: int,
) -> Totals:
    check_choice(overdue, "overdue", ("as_of", "exclude", "error"))
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    cols = [opportunity, stage, amount, *([close_date] if close_date is not None else [])]
    frame = require_columns(frame, cols, arg="opportunities")
    require_not_null(frame, opportunity, arg="opportunities")
    check_id_types(frame, opportunity)
    require_unique(frame, opportunity, arg="opportunities")
    values = _amounts(frame, amount, opportunity)
    dates, own, unit = _close_dates(frame, close_date, opportunity)
    plan = _plan(
        model, as_of=as_of, dates=dates, own=own, unit=unit, period=period, horizon=horizon,
        column=close_date or "close_date",
    )  # fmt: skip
    names = [*model.stages, model.won, model.lost]
    chunks = _stage_chunks(frame[stage], names)
    sums = _pass(plan, chunks, values, own, unit=unit, scale=10.0**decimals)
    return _totals(sums, plan, overdue=overdue, horizon=horizon, deals=len(frame))


def _totals(sums: _Sums, plan: _Plan, *, overdue: str, horizon: int | None, deals: int) -> Totals:
    """Fold the overdue bucket into the first period (or leave it out) and trim the grid."""
    late = int(sums.count[_LATE])
    if overdue == "error" and late:
        raise _UnsupportedError  # the general path names the first overdue deal
    count, amount, expected = (
        s[_FIRST_PERIOD:].copy() for s in (sums.count, sums.amount, sums.expected)
    )
    overdue_count = np.zeros(len(count), dtype=np.int64)
    if overdue == "as_of":
        count[0] += late
        amount[0] += sums.amount[_LATE]
        expected[0] += sums.expected[_LATE]
        overdue_count[0] = late
    grid = plan.grid
    if horizon is None:  # up to the period of the last landing (the as_of period at least)
        shown = int(np.flatnonzero(count).max(initial=0)) + 1
        grid = grid[:shown]
        zero = np.zeros(1, dtype=np.int64)
        count, amount, expected, overdue_count = (
            np.concatenate([s[:shown], zero]) for s in (count, amount, expected, overdue_count)
        )
    return Totals(
        grid=grid[: len(count) - 1],
        count=count,
        amount=amount,
        expected=expected,
        overdue=overdue_count,
        as_of=plan.as_of,
        late=late,
        won_before=int(sums.count[_WON_BEFORE]),
        lost=int(sums.count[_LOST]),
        deals=deals,
    )
