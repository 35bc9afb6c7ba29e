"""Dask adapter of the segmentation area, built on the generic core :mod:`crmcore._dask`.

The public functions (``rfm_summary``, ``btyd_summary``, ``fit_rfm_bins``, ``score_rfm``,
``rfm_segments``, ``customer_grades``) import this module when they are handed a
``dask.dataframe.DataFrame``. Each adapter runs the public pandas function per partition, so
the rules live in one place (the summaries also validate with it, and build their
result with its arithmetic). Results are typed like the public functions' (``DataFrame``); at
run time they are lazy Dask DataFrames.

- the summaries are two-phase aggregates (:func:`crmcore._dask.partial_aggregate`), no
  shuffle of the rows: a first pass measures every partition's date and id range (and the
  default ``as_of``, the latest date of the whole collection); every partition is then
  validated by the pandas function's rules and reduced where it lies to one partial record
  per customer (distinct periods, first and last period, amount sums, first and last instant),
  with the pandas path's own walk for date-ordered rows; the records are cut by id range and
  merged per range, in partition order. Periods that two partitions both hold are the one
  place where a customer's distinct periods could be counted twice: the rows of those periods
  travel as rows to the merge instead, which counts each (customer, period) once. Rows in date
  order share only the first and last period of each partition (a few rows); rows in any
  other order share most periods and then travel like a shuffle, still exact. Money is summed
  per partition, then the partial sums are added: equal to the pandas sums up to the order of
  float additions;
- ``fit_rfm_bins`` and ``customer_grades`` fit their quantile edges and ABC / quantile cut-offs
  once, from exact (value, count) tables of the whole collection
  (:func:`crmcore._dask.global_step`), with the arithmetic of the pandas path;
- scores, segments and grades with fitted cut-offs are row-wise (:func:`crmcore._dask.map_rows`).
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, cast

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._dask as core
import crmcore.segmentation._summary as agg_core
from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    require_columns,
    resolve_as_of,
    show,
)
from crmcore._memory import normal_pages
from crmcore.errors import DataError, SchemaError
from crmcore.segmentation._classes import class_thresholds
from crmcore.segmentation._summary import Aggregates
from crmcore.segmentation.as_of import AsOfCut, cut_at_as_of
from crmcore.segmentation.grades import GradeRules
from crmcore.segmentation.grades import customer_grades as pandas_grades
from crmcore.segmentation.rfm import btyd_summary as pandas_btyd
from crmcore.segmentation.rfm import rfm_summary as pandas_rfm
from crmcore.segmentation.scores import MAX_BINS, RFMBins
from crmcore.segmentation.scores import fit_rfm_bins as pandas_fit
from crmcore.segmentation.scores import score_rfm as pandas_score
from crmcore.segmentation.segments import rfm_segments as pandas_segments

__all__ = [
    "btyd_summary",
    "customer_grades",
    "cut",
    "fit_rfm_bins",
    "rfm_segments",
    "rfm_summary",
    "score_rfm",
]

# --------------------------------------------------------------------------------------------
# Per-customer summaries
# --------------------------------------------------------------------------------------------

#: The period ordinal of a shared row, riding along to the combine.
_PERIOD = "__crmcore_period__"


@attrs.frozen(eq=False)
class _Spec:
    """What a summary call asked for, bound into every task of its graph."""

    func: Callable[..., pd.DataFrame]  # the pandas summary: validates a partition's rows
    kwargs: Mapping[str, Any]  # its options (as_of aside)
    as_of: pd.Timestamp | None  # resolved; None: the latest date of the whole collection
    int_ids: bool  # integer ids: output partitions by id range
    n_buckets: int
    tick_dtype: np.dtype[Any]  # datetime64 of the date column's unit
    tz: Any
    money: tuple[bool, bool]  # partial sums wanted: (total, repeat)
    ticks: bool  # first and last instants wanted (rfm_summary)
    finish: Callable[[Aggregates], pd.DataFrame]
    meta: pd.DataFrame

    @property
    def customer(self) -> str:
        return cast("str", self.kwargs["customer"])

    @property
    def date(self) -> str:
        return cast("str", self.kwargs["date"])

    @property
    def amount(self) -> str | None:
        return cast("str | None", self.kwargs["amount"])

    @property
    def period(self) -> str:
        return cast("str", self.kwargs["period"])


@attrs.frozen(eq=False)
class _Plan:
    """The global facts every partition's partial needs (computed once from the measures)."""

    as_of: pd.Timestamp | None
    as_of_period: int
    shared: list[list[tuple[int, int]]]  # per partition: its periods other partitions also hold
    edges: npt.NDArray[Any] | None  # id bounds between output partitions


_Measure = tuple[int, int | None, int | None, Any, int | None, int | None]
_NO_ROWS: _Measure = (0, None, None, None, None, None)


def _wall(dates: pd.Series, tz: Any) -> pd.Series:
    return dates.dt.tz_localize(None) if tz is not None else dates


def _day(ts: Any) -> int:
    return int(agg_core.wall_days(np.array([pd.Timestamp(ts).to_datetime64()]))[0])


@normal_pages
def _measure(part: pd.DataFrame, spec: _Spec) -> _Measure:
    """Rows, first and last wall day, latest instant and id range of one partition."""
    if len(part) == 0:
        return _NO_ROWS
    dates = part[spec.date]
    wall = _wall(dates, spec.tz)
    lo, hi = wall.min(), wall.max()
    if pd.isna(lo):  # only missing dates: the partition's validation names them
        return (len(part), None, None, None, None, None)
    id_lo = id_hi = None
    if spec.int_ids:
        ids = part[spec.customer].to_numpy()
        id_lo, id_hi = int(ids.min()), int(ids.max())
    return (len(part), _day(lo), _day(hi), dates.max(), id_lo, id_hi)


def _multiply_covered(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Period intervals (inclusive) that lie in at least two of ``ranges`` (a sweep)."""
    events = sorted([(lo, 1) for lo, _ in ranges] + [(hi + 1, -1) for _, hi in ranges])
    out: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for at, step in events:
        if depth < 2 <= depth + step:
            start = at
        elif depth >= 2 > depth + step and at > start:
            if out and out[-1][1] == start - 1:
                out[-1] = (out[-1][0], at - 1)
            else:
                out.append((start, at - 1))
        depth += step
    return out


@normal_pages
def _plan(measures: list[_Measure], spec: _Spec) -> _Plan:
    core.check_nonempty(sum(m[0] for m in measures), "transactions")
    dated = [m for m in measures if m[1] is not None]
    when = spec.as_of
    if when is None and dated:
        when = max(pd.Timestamp(m[3]) for m in dated)
    as_of_period = 0 if when is None else _ordinal(_day(_wall_ts(when, spec.tz)), spec.period)
    ranges = [
        (m[0], _ordinal(m[1], spec.period), _ordinal(m[2], spec.period))
        if m[1] is not None and m[2] is not None
        else (m[0], 0, -1)
        for m in measures
    ]
    covered = _multiply_covered([(lo, hi) for _, lo, hi in ranges if lo <= hi])
    starts = [lo for lo, _ in covered]
    shared = []
    for _, lo, hi in ranges:
        mine = []
        for a, b in covered[max(bisect.bisect_right(starts, lo) - 1, 0) :]:
            if a > hi:
                break
            if b >= lo:
                mine.append((max(a, lo), min(b, hi)))
        shared.append(mine)
    edges = None
    ids = [(m[4], m[5]) for m in measures if m[4] is not None and m[5] is not None]
    if spec.int_ids and ids and spec.n_buckets > 1:
        low, high = min(i[0] for i in ids), max(i[1] for i in ids)
        span = high - low + 1
        edges = np.array([low + span * k // spec.n_buckets for k in range(1, spec.n_buckets)])
    return _Plan(as_of=when, as_of_period=as_of_period, shared=shared, edges=edges)


def _ordinal(day: int, period: str) -> int:
    return int(agg_core.ordinals(np.array([day], dtype=np.int64), period)[0])


def _wall_ts(ts: pd.Timestamp, tz: Any) -> pd.Timestamp:
    return ts.tz_localize(None) if tz is not None else ts


def _in_periods(wall: pd.Series, intervals: list[tuple[int, int]], period: str) -> Any:
    """Rows whose period lies in one of ``intervals``: compared as ticks, no calendar per row."""
    raw = wall.to_numpy()
    ticks = raw.view(np.int64)
    unit, _ = np.datetime_data(raw.dtype)
    per_day = int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").astype(np.int64))
    limit = np.iinfo(np.int64).max
    mask = np.zeros(len(ticks), dtype=bool)
    for a, b in intervals:
        days = agg_core.period_start_day(np.array([a, b + 1], dtype=np.int64), period)
        lo, hi = (max(min(int(d) * per_day, limit), -limit) for d in days)
        mask |= (ticks >= lo) & (ticks < hi)
    return mask


def _general_aggregates(rows: pd.DataFrame, spec: _Spec, plan: _Plan) -> Aggregates:
    """Aggregate validated rows in any order (text ids, zoned dates, shuffled rows)."""
    codes, index = agg_core.customer_codes(rows[spec.customer])
    dates = rows[spec.date]
    periods = agg_core.ordinals(agg_core.wall_days(_wall(dates, spec.tz).to_numpy()), spec.period)
    amounts = None if spec.amount is None else rows[spec.amount].to_numpy(dtype=np.float64)
    with np.errstate(over="ignore"):  # a total past the largest float: named by the combine
        return agg_core.sorted_aggregates(
            codes, index, periods, amounts, dates,
            as_of=cast("pd.Timestamp", plan.as_of), as_of_period=plan.as_of_period,
            n_excluded=0, want_total=any(spec.money), want_repeat=spec.money[1],
            want_ticks=spec.ticks,
        )  # fmt: skip


def _private_aggregates(
    part: pd.DataFrame, private: pd.DataFrame, spec: _Spec, plan: _Plan
) -> tuple[Aggregates | None, bool]:
    """Aggregate the partition's private rows; also tell whether the whole part was validated.

    Rows in date order with integer ids take the pandas path's one-pass walk, which returns
    nothing on anything unusual; then the pandas function validates the whole partition
    (raising errors that name the caller's row) and the general path aggregates.
    """
    agg = None
    if len(private) and spec.int_ids:
        # A partition holds a slice of the ids' range: the walk wants compact ids, so it gets
        # codes 0..k-1 in id order, and the ids come back through ``uniques``.
        codes, uniques = _compact(private[spec.customer].to_numpy())
        columns = {spec.customer: codes, spec.date: private[spec.date]}
        if spec.amount is not None:
            columns[spec.amount] = private[spec.amount]
        with np.errstate(over="ignore"):
            read = agg_core.Reading(
                customer=spec.customer, date=spec.date, amount=spec.amount, as_of=plan.as_of,
                period=spec.period, refunds=spec.kwargs["refunds"], after_as_of="error",
            )  # fmt: skip
            agg = agg_core.ordered_aggregates(
                pd.DataFrame(columns, copy=False), read, want_total=any(spec.money),
                want_repeat=spec.money[1], want_ticks=spec.ticks,
            )  # fmt: skip
        if agg is not None:
            ids = pd.Index(uniques[agg.index.to_numpy()], name=spec.customer)
            agg = dataclasses.replace(agg, index=ids)
    if agg is not None and _finite(agg):
        return agg, False
    spec.func(part, as_of=plan.as_of, **spec.kwargs)  # raises on bad rows
    return (_general_aggregates(private, spec, plan) if len(private) else None), True


def _compact(ids: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int32], npt.NDArray[Any]]:
    """Codes ``0..k-1`` of integer ids in id order, and the sorted distinct ids."""
    low, high = int(ids.min()), int(ids.max())
    span = high - low + 1
    if span > max(32 * len(ids), 1 << 20) or span >= 2**31:  # sparse ids: sort them
        uniques, inverse = np.unique(ids, return_inverse=True)
        return inverse.astype(np.int32), uniques
    if ids.dtype.kind == "u":  # ids >= low: no overflow in their own type
        offsets = (ids - ids.dtype.type(low)).astype(np.int64)
    else:  # signed: widen as it goes (int8 ids -100 and 100 differ by 200)
        offsets = np.subtract(ids, np.int64(low), dtype=np.int64)
    present = np.zeros(span, dtype=np.bool_)
    present[offsets] = True
    rank = present.astype(np.int32)  # cumsum of bool is a slow buffered loop; in place, not
    np.cumsum(rank, out=rank)
    rank -= 1
    wide = np.uint64 if ids.dtype.kind == "u" else np.int64
    uniques = (np.flatnonzero(present).astype(wide) + wide(low)).astype(ids.dtype)
    codes: npt.NDArray[np.int32] = rank[offsets]
    return codes, uniques


def _finite(agg: Aggregates) -> bool:
    return all(bool(np.isfinite(s).all()) for s in (agg.total, agg.repeat) if s is not None)


def _narrow(values: npt.NDArray[np.int64]) -> npt.NDArray[np.signedinteger[Any]]:
    """``values`` as int32 when they all fit: partials are what moves between processes."""
    small = np.iinfo(np.int32)
    if len(values) and small.min <= values.min() and values.max() <= small.max:
        return values.astype(np.int32)
    return values


def _records(agg: Aggregates) -> pd.DataFrame:
    """Return aggregates as a frame of partial records (one row per customer)."""
    data = {name: _narrow(getattr(agg, name)) for name in ("count", "first", "last")}
    for name in ("total", "repeat", "first_tick", "last_tick"):
        values = getattr(agg, name)
        if values is not None:
            data[name] = values
    return pd.DataFrame(data, index=agg.index, copy=False)


def _cut_buckets(frame: pd.DataFrame | None, ids: Any, plan: _Plan, n: int) -> list[Any]:
    """``frame`` cut into ``n`` pieces by id range (row order kept within a piece)."""
    if frame is None or plan.edges is None:
        return [frame] + [None] * (n - 1)
    if isinstance(ids, pd.Index):  # sorted ids (partial records): slices, no copies
        bounds = np.searchsorted(ids.to_numpy(), plan.edges, side="left")
        cuts = [0, *bounds.tolist(), len(ids)]
        return [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]
    bucket = np.searchsorted(plan.edges, np.asarray(ids), side="right")
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(n + 1))
    return [frame.take(order[a:b]) for a, b in itertools.pairwise(bounds.tolist())]


def _apart(part: pd.DataFrame, mask: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows outside and inside ``mask``; slices (no copies) when ``mask`` is a prefix + suffix.

    In a date-ordered partition the shared periods are its first and last: a prefix and a
    suffix of its rows.
    """
    inside = np.flatnonzero(mask)
    if len(inside) == 0:
        return part, part.iloc[:0]
    head = int(np.count_nonzero(inside == np.arange(len(inside))))  # the prefix's length
    tail = len(inside) - head
    if inside[head:].size == 0 or inside[head] == len(part) - tail:  # the rest is a suffix
        return part.iloc[head : len(part) - tail], part.iloc[inside]
    return part[~mask], part.iloc[inside]


@normal_pages
def _split(part: pd.DataFrame, plan: _Plan, i: int, spec: _Spec) -> list[tuple[Any, Any]]:
    """Partial records of partition ``i`` per output bucket: (private records, shared rows).

    Rows in periods no other partition holds are reduced here; rows in shared periods (the
    first and last period of a date-ordered partition; every row when partitions overlap in
    time) travel as rows, so the combine counts each (customer, period) once.
    """
    n = spec.n_buckets
    if len(part) == 0:
        return [(None, None)] * n
    intervals = plan.shared[i] if plan.as_of is not None else []
    mask = _in_periods(_wall(part[spec.date], spec.tz), intervals, spec.period)
    private, shared = _apart(part, mask)
    agg, validated = _private_aggregates(part, private, spec, plan)
    rows = None
    if len(shared):
        if not validated:
            spec.func(shared, as_of=plan.as_of, **spec.kwargs)  # raises on bad rows
        wall = _wall(shared[spec.date], spec.tz).to_numpy()
        rows = shared.assign(**{_PERIOD: agg_core.ordinals(agg_core.wall_days(wall), spec.period)})
    records = None if agg is None else _records(agg)
    by_records = _cut_buckets(records, None if agg is None else agg.index, plan, n)
    by_rows = _cut_buckets(rows, None if rows is None else rows[spec.customer], plan, n)
    return list(zip(by_records, by_rows, strict=True))


def _sums(codes: Any, values: Any, n: int) -> npt.NDArray[np.float64]:
    """Per-code float sums, each adding its values in row order."""
    return cast("npt.NDArray[np.float64]", np.bincount(codes, weights=values, minlength=n))


def _merge(records: pd.DataFrame, spec: _Spec, plan: _Plan) -> Aggregates:
    """Partial records of customers (disjoint sets of periods) merged, in partition order."""
    codes, index = agg_core.customer_codes(pd.Series(records.index, name=spec.customer))
    n = len(index)

    def col(name: str) -> Any:
        return records[name].to_numpy()

    def extreme(ufunc: Any, name: str, start: int) -> Any:
        out = np.full(n, start, dtype=np.int64)
        ufunc.at(out, codes, col(name))
        return out

    big = np.iinfo(np.int64)
    first = extreme(np.minimum, "first", big.max)
    total: npt.NDArray[np.float64] | None = None
    repeat: npt.NDArray[np.float64] | None = None
    first_tick = last_tick = None
    if any(spec.money):  # bincount adds in row order: partition order
        total_of = col("total")
        total = _sums(codes, total_of, n)
        if spec.money[1]:  # a partial's first period is repeat money unless it is the first
            later = np.where(col("first") == first[codes], col("repeat"), total_of)
            repeat = _sums(codes, later, n)
    if spec.ticks:
        first_tick = extreme(np.minimum, "first_tick", big.max)
        last_tick = extreme(np.maximum, "last_tick", big.min)
    return Aggregates(
        index=index,
        count=np.bincount(codes, weights=col("count"), minlength=n).astype(np.int64),
        first=first,
        last=extreme(np.maximum, "last", big.min),
        total=total,
        repeat=repeat,
        first_tick=first_tick,
        last_tick=last_tick,
        as_of=cast("pd.Timestamp", plan.as_of),
        as_of_period=plan.as_of_period,
        n_excluded=0,
        tick_dtype=spec.tick_dtype,
        tz=spec.tz,
    )


@normal_pages
def _combine(pieces: list[tuple[Any, Any]], plan: _Plan, spec: _Spec) -> pd.DataFrame:
    """One output partition: the shared rows aggregated, then every partial merged."""
    records = [r for r, _ in pieces if r is not None and len(r)]
    rows = [s for _, s in pieces if s is not None and len(s)]
    if rows:  # all rows of a shared (customer, period) are here: counted once
        shared = pd.concat(rows) if len(rows) > 1 else rows[0]
        codes, index = agg_core.customer_codes(shared[spec.customer])
        amounts = None if spec.amount is None else shared[spec.amount].to_numpy(np.float64)
        with np.errstate(over="ignore"):
            agg = agg_core.sorted_aggregates(
                codes, index, shared[_PERIOD].to_numpy(), amounts, shared[spec.date],
                as_of=cast("pd.Timestamp", plan.as_of), as_of_period=plan.as_of_period,
                n_excluded=0, want_total=any(spec.money), want_repeat=spec.money[1],
                want_ticks=spec.ticks,
            )  # fmt: skip
        records.append(_records(agg))
    if not records:
        return spec.meta.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        merged = _merge(pd.concat(records) if len(records) > 1 else records[0], spec, plan)
    if not _finite(merged):
        bad = np.zeros(len(merged.index), dtype=bool)
        for sums in (merged.total, merged.repeat):
            if sums is not None:
                bad |= ~np.isfinite(sums)
        who = merged.index[int(np.argmax(bad))]
        raise DataError(
            f"column {spec.amount!r} of transactions: the amounts of customer {show(who)} add "
            "up past the largest float (about 1.8e308) over several partitions; expected "
            "totals a float can hold (express the amounts in a larger unit, e.g. thousands)",
            column=spec.amount,
            value=who,
        )
    return spec.finish(merged)


def _summarise(
    transactions: Any, spec_args: dict[str, Any], *, as_of: object, after_as_of: str
) -> pd.DataFrame:
    """Run both summaries on Dask: partial aggregates per partition, merged by id range."""
    core.dataframe_module()
    arg = "transactions"
    func, kwargs = spec_args["func"], spec_args["kwargs"]
    customer, date, amount = kwargs["customer"], kwargs["date"], kwargs["amount"]
    columns = [customer, date] if amount is None else [customer, date, amount]
    meta_in = transactions._meta
    require_columns(meta_in, columns, arg=arg, allow_empty=True)
    core.require_datetime(meta_in, date, arg)
    check_choice(after_as_of, "after_as_of", ("error", "exclude"))
    # Metadata from a one-row call: catches wrong dtypes and bad options before any work.
    sample = core.meta_sample(transactions, columns)
    meta = func(sample, as_of=None, **kwargs).iloc[:0]
    when = None
    if as_of is not None:  # a bad as_of (not a date, wrong time zone) fails now
        when = resolve_as_of(as_of, datetime_column(sample, date, arg=arg), column=date)
    rows = core.select_columns(transactions, columns)
    if after_as_of == "exclude" and when is not None:  # nothing is after the latest date
        rows = cut(rows, as_of=when, customer=customer, date=date, period=kwargs["period"]).kept
    dtype = meta_in[date].dtype
    ids = meta_in[customer].dtype
    int_ids = isinstance(ids, np.dtype) and ids.kind in "iu"
    spec = _Spec(
        func=func,
        kwargs=kwargs,
        as_of=when,
        int_ids=int_ids,
        n_buckets=max(int(rows.npartitions), 1) if int_ids else 1,
        tick_dtype=np.dtype(
            f"datetime64[{getattr(dtype, 'unit', None) or np.datetime_data(dtype)[0]}]"
        ),
        tz=getattr(dtype, "tz", None),
        money=spec_args["money"],
        ticks=spec_args["ticks"],
        finish=spec_args["finish"],
        meta=meta,
    )
    result: pd.DataFrame = core.partial_aggregate(
        rows,
        measure=partial(_measure, spec=spec),
        plan=partial(_plan, spec=spec),
        split=partial(_split, spec=spec),
        combine=partial(_combine, spec=spec),
        n_buckets=spec.n_buckets,
        meta=meta,
    )
    return result


def rfm_summary(
    transactions: Any, *, as_of: object, after_as_of: str, **options: Any
) -> pd.DataFrame:
    """Dask version of :func:`crmcore.segmentation.rfm_summary` (see there).

    ``options`` are the pandas function's ``customer``, ``date``, ``amount``, ``period`` and
    ``refunds``.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [2, 1, 1], "amount": [8.0, 10.0, 20.0],
    ...                    "date": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-05"])})
    >>> rfm_summary(dd.from_pandas(tx, npartitions=2), customer="customer_id", date="date",
    ...             amount="amount", as_of=None, period="D", refunds="error",
    ...             after_as_of="error").compute()["recency"].tolist()
    [0, 2]
    """
    kwargs = {**options, "after_as_of": "error"}
    spec_args = {"func": pandas_rfm, "kwargs": kwargs, "money": (True, False), "ticks": True,
                 "finish": agg_core.rfm_frame}  # fmt: skip
    return _summarise(transactions, spec_args, as_of=as_of, after_as_of=after_as_of)


def btyd_summary(
    transactions: Any, *, as_of: object, after_as_of: str, **options: Any
) -> pd.DataFrame:
    """Dask version of :func:`crmcore.segmentation.btyd_summary` (see there).

    ``options`` are the pandas function's ``customer``, ``date``, ``amount``, ``period``,
    ``freq_multiplier``, ``include_first_transaction`` and ``refunds``.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [2, 1, 1],
    ...                    "date": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-05"])})
    >>> btyd_summary(dd.from_pandas(tx, npartitions=2), customer="customer_id", date="date",
    ...              amount=None, as_of=None, period="D", freq_multiplier=1,
    ...              include_first_transaction=False, refunds="error",
    ...              after_as_of="error").compute()["T"].tolist()
    [4.0, 2.0]
    """
    kwargs = {**options, "after_as_of": "error"}
    money = options["amount"] is not None
    include_first = options["include_first_transaction"]
    finish = partial(agg_core.btyd_frame, include_first=include_first,
                     scale=float(options["freq_multiplier"]))  # fmt: skip
    spec_args = {"func": pandas_btyd, "kwargs": kwargs, "ticks": False, "finish": finish,
                 "money": (money, money and not include_first)}  # fmt: skip
    return _summarise(transactions, spec_args, as_of=as_of, after_as_of=after_as_of)


def _cut_partition(part: pd.DataFrame, *, keep: bool, options: Mapping[str, Any]) -> pd.DataFrame:
    cut = cut_at_as_of(part, **options)
    return cut.kept if keep else cut.excluded


def cut(transactions: Any, *, as_of: object, customer: str, date: str, period: str) -> AsOfCut:
    """Cut a Dask collection at ``as_of`` row-wise: ``kept`` and ``excluded`` stay lazy.

    ``as_of`` is explicit, so every partition is cut on its own with the pandas rule;
    ``n_excluded`` (``len(excluded)``) computes the excluded rows' count when read.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3], "amount": [5.0, 7.0, 9.0],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-02-09", "2024-01-30"])})
    >>> c = cut(dd.from_pandas(tx, npartitions=2), as_of="2024-01-31", customer="customer_id",
    ...         date="date", period="D")
    >>> c.n_excluded, c.kept.compute().index.tolist()
    (1, [0, 2])
    """
    core.dataframe_module()
    arg = "transactions"
    meta_in = transactions._meta
    require_columns(meta_in, [customer, date], arg=arg, allow_empty=True)
    core.require_datetime(meta_in, date, arg)
    options: dict[str, Any] = {"as_of": as_of, "customer": customer, "date": date, "period": period}
    probe = cut_at_as_of(core.meta_sample(transactions), **options)  # as_of, period: eagerly
    meta = meta_in.iloc[:0]
    kept, excluded = (
        core.map_rows(
            transactions,
            partial(_cut_partition, keep=keep, options=options),
            meta=meta,
            arg=arg,
            require_rows=False,
        )
        for keep in (True, False)
    )
    return AsOfCut(kept=kept, excluded=excluded, as_of=probe.as_of, period=probe.period)


# --------------------------------------------------------------------------------------------
# Bins, scores, segments
# --------------------------------------------------------------------------------------------


def _bins_measure(
    part: pd.DataFrame, bins: int, names: Mapping[str, str], customer: str | None
) -> core.Box:
    pandas_fit(part, bins, customer=customer, **names)  # validates this partition
    ids = part.index if customer is None else pd.Index(part[customer])
    return {k: core.counts(part[col]) for k, col in names.items()}, [ids]


def _bins_finish(box: core.Box, bins: int) -> RFMBins:
    tables, ids = box
    if not ids:
        raise SchemaError("summary is empty; expected at least one row")
    core.duplicate_check(ids, "summary", key="customer id")
    probs = np.arange(1, bins) / bins
    edges = {k: np.unique(core.quantiles_from_counts(t, probs)) for k, t in tables.items()}
    return RFMBins(bins=int(bins), **edges)


def fit_rfm_bins(
    summary: Any,
    bins: int,
    *,
    recency: str,
    frequency: str,
    monetary: str,
    customer: str | None,
) -> RFMBins:
    """Fit RFM edges once over a whole Dask summary (computes; returns an ``RFMBins``).

    The edges equal those of the pandas path on the computed summary: each partition is
    validated and reduced to a (value, count) table per metric, the tables are merged and
    the quantiles read from them exactly (:func:`crmcore._dask.quantiles_from_counts`).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> s = pd.DataFrame({"recency": [1, 5, 20, 40], "frequency": [1, 1, 1, 6],
    ...                   "monetary": [10.0, 20.0, 30.0, 400.0]}, index=[1, 2, 3, 4])
    >>> fit_rfm_bins(dd.from_pandas(s, npartitions=2), 4, recency="recency",
    ...              frequency="frequency", monetary="monetary", customer=None).recency
    (4.0, 12.5, 25.0)
    """
    core.dataframe_module()
    check_scalar(bins, "bins", kind=int, min_value=2, max_value=MAX_BINS)
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    columns = [*names.values()] + ([] if customer is None else [customer])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    pandas_fit(core.meta_sample(summary, columns), bins, customer=customer, **names)  # dtypes
    fitted = core.global_step(
        summary,
        partial(_bins_measure, bins=bins, names=names, customer=customer),
        partial(_bins_finish, bins=bins),
    )
    result: RFMBins = fitted.compute()
    return result


def _score_partition(
    part: pd.DataFrame, rfm_bins: RFMBins, names: Mapping[str, str], customer: str | None
) -> pd.DataFrame:
    if customer is not None:
        part = part.rename_axis(None)
    return pandas_score(part, rfm_bins, customer=customer, **names)


def score_rfm(
    summary: Any,
    rfm_bins: RFMBins,
    *,
    recency: str,
    frequency: str,
    monetary: str,
    customer: str | None,
) -> pd.DataFrame:
    """Score a Dask summary with fitted edges, lazily (row-wise per partition).

    A summary indexed by customer is scored partition by partition (no shuffle): the result is
    sorted within each partition, hence globally when the partitions are in customer order, as
    :func:`rfm_summary`'s output and any ``set_index`` result are. With a ``customer`` column
    the summary is first shuffled by it (``set_index``).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.segmentation import RFMBins
    >>> b = RFMBins(bins=3, recency=(10, 30), frequency=(1,), monetary=(50, 200))
    >>> s = pd.DataFrame({"recency": [3, 30, 90], "frequency": [4, 1, 1],
    ...                   "monetary": [500.0, 60.0, 10.0]}, index=["a", "b", "c"])
    >>> score_rfm(dd.from_pandas(s, npartitions=2), b, recency="recency",
    ...           frequency="frequency", monetary="monetary",
    ...           customer=None).compute()["rfm_score"].tolist()
    [323, 112, 111]
    """
    core.dataframe_module()
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    columns = [*names.values()] + ([] if customer is None else [customer])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    sample = core.meta_sample(summary, columns)
    meta = pandas_score(sample, rfm_bins, customer=customer, **names).iloc[:0]
    keyed = summary if customer is None else summary.set_index(customer, drop=False)
    step = partial(_score_partition, rfm_bins=rfm_bins, names=names, customer=customer)
    result: pd.DataFrame = core.map_rows(keyed, step, meta=meta, arg="summary", require_rows=False)
    return result


def rfm_segments(scores: Any, segment_map: Any, *, r: str, f: str, m: str) -> pd.DataFrame:
    """Name segments of a Dask score table, partition by partition (row-wise, lazy).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> s = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [4, 2]})
    >>> rfm_segments(dd.from_pandas(s, npartitions=2), None, r="r_score", f="f_score",
    ...              m="m_score").compute()["segment"].tolist()
    ['Champions', 'Lost']
    """
    core.dataframe_module()
    require_columns(scores._meta, [r, f, m], arg="scores", allow_empty=True)
    sample = core.meta_sample(scores, None, **dict.fromkeys((r, f, m), 1))
    meta = pandas_segments(sample, segment_map, r=r, f=f, m=m).iloc[:0]
    step = partial(pandas_segments, segment_map=segment_map, r=r, f=f, m=m)
    result: pd.DataFrame = core.map_rows(scores, step, meta=meta, arg="scores")
    return result


# --------------------------------------------------------------------------------------------
# Grades
# --------------------------------------------------------------------------------------------


def _grades_measure(part: pd.DataFrame, rules: GradeRules, value: str, potential: str) -> core.Box:
    pandas_grades(part, rules, value=value, potential=potential)  # validates this partition
    tables = {"value": core.counts(part[value]), "potential": core.counts(part[potential])}
    return tables, [part.index]


def _above_quantile(table: pd.Series, q: float) -> float:
    """Return the smallest ``t`` with ``v >= t`` exactly when ``v > quantile(q)``."""
    if len(table) == 0:
        return 0.0
    return float(np.nextafter(float(core.quantiles_from_counts(table, [q])[0]), np.inf))


def _grades_finish(box: core.Box, rules: GradeRules) -> GradeRules:
    """Turn the rules' ABC shares and quantiles into the equivalent absolute thresholds."""
    tables, ids = box
    if not ids:
        raise SchemaError("frame is empty; expected at least one row")
    core.duplicate_check(ids, "frame", key="customer id")
    empty = pd.Series([], dtype=np.int64)
    values = tables.get("value", empty)
    changes: dict[str, Any] = {}
    if rules.value_method == "abc":
        cut = 0.0
        if len(values):
            uniq = values.index.to_numpy(dtype=np.float64)
            found = class_thresholds(
                uniq, values.to_numpy(dtype=np.int64), (float(rules.value_cutoff),), "value"
            )[0]
            # No value in class A: a threshold above every value.
            top = float(np.nextafter(max(float(uniq[-1]), 0.0), np.inf))
            cut = float(found) if np.isfinite(found) else top
        changes.update(value_method="threshold", value_cutoff=cut)
    elif rules.value_method == "quantile":
        cut = _above_quantile(values, rules.value_cutoff)
        changes.update(value_method="threshold", value_cutoff=cut)
    if rules.potential_method == "quantile":
        pcut = _above_quantile(tables.get("potential", empty), rules.potential_cutoff)
        changes.update(potential_method="threshold", potential_cutoff=pcut)
    return attrs.evolve(rules, **changes)


def customer_grades(
    frame: Any, rules: GradeRules | None, *, value: str, potential: str
) -> pd.DataFrame:
    """Grade a Dask frame: global cut-offs fitted once, then applied per partition (lazy).

    The ABC share and quantile tests of the rules are turned into equivalent thresholds over
    the whole collection (``v > q`` is ``v >= nextafter(q)``; ABC class A is ``v >= t``), and
    every partition is graded with those thresholds, keeping index and row order.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.segmentation import GradeRules
    >>> f = pd.DataFrame({"monetary": [600.0, 250.0, 100.0, 50.0],
    ...                   "potential": [1.0, 1.0, 9.0, 2.0]}, index=[1, 2, 3, 4])
    >>> customer_grades(dd.from_pandas(f, npartitions=2), GradeRules(), value="monetary",
    ...                 potential="potential").compute()["grade"].tolist()
    ['A', 'A', 'B', 'C']
    """
    core.dataframe_module()
    rules = GradeRules() if rules is None else rules
    columns = [value, potential]
    require_columns(frame._meta, columns, arg="frame", allow_empty=True)
    sample = core.meta_sample(frame, columns)
    meta = pandas_grades(sample, rules, value=value, potential=potential).iloc[:0]
    fitted = core.global_step(
        frame,
        partial(_grades_measure, rules=rules, value=value, potential=potential),
        partial(_grades_finish, rules=rules),
    )
    step = partial(_grades_partition, value=value, potential=potential)
    result: pd.DataFrame = core.map_rows(
        core.select_columns(frame, columns),
        step,
        meta=meta,
        arg="frame",
        args=(fitted,),
        require_rows=False,
    )
    return result


def _grades_partition(
    part: pd.DataFrame, rules: GradeRules, value: str, potential: str
) -> pd.DataFrame:
    return pandas_grades(part, rules, value=value, potential=potential)
