"""The steps behind :func:`crmcore.kpi.commission_lines` and ``commission_statement``.

1. :func:`sale_columns` checks the opportunities; :func:`read_sales` puts them in paying order
   (person, period, close time, opportunity id) with each one's cumulative sales in its
   person and period. (``commission_statement`` first tries :mod:`crmcore.kpi._daygrid`,
   which sums per person and close day and needs the paying order only of the cancelled
   opportunities; this ordered path is the one for the lines and for every other input.)
2. The plan turns those into commission (in :mod:`crmcore.kpi.commission`).
3. :func:`read_clawbacks` adds a reversing line for every cancelled opportunity
   (:func:`cancellations` checks their dates, for both paths).
4. :func:`lines_frame` lays out the lines; :func:`statement_frame` sums the sales per person
   and period run and the clawbacks per cancellation period, without laying out lines (int64
   minor units through :func:`crmcore.money.sum_minor_units`: checked, never wrapped).

Sorting is done on packed int64 keys (one argsort instead of a multi-key lexsort); the plain
lexsort stays as the fallback whenever a packed key could overflow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    datetime_column,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_frame,
    require_not_null,
    require_one_id_type,
    require_unique,
    show,
)
from crmcore._periods import period_start
from crmcore.errors import DataError
from crmcore.kpi._groups import PERIOD, read_periods, same_unit
from crmcore.money import sum_minor_units, to_minor_units

__all__ = [
    "TICKS_PER_DAY",
    "Clawbacks",
    "PayingKeys",
    "SaleColumns",
    "Sales",
    "cancellations",
    "deal_codes",
    "group_targets",
    "line_order",
    "lines_frame",
    "paying_keys",
    "period_starts",
    "read_clawbacks",
    "read_sales",
    "run_targets",
    "sale_columns",
    "statement_columns",
    "statement_frame",
]

ARG = "opportunities"
Ints = npt.NDArray[np.int64]
#: Rows per pass of the elementwise steps: their temporaries stay cache-sized.
CHUNK = 1 << 16


# --------------------------------------------------------------------------------------------
# sort keys


def _dense_rank(values: Ints) -> tuple[Ints, int]:
    """Codes of ``values`` in sorted order of their distinct values, and how many there are."""
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64, copy=False), len(uniques)


def _fits(*sizes: int) -> bool:
    """Whether a mixed-radix key with these digit ranges fits in int64."""
    return math.prod(max(int(s), 1) for s in sizes) < 2**62


def _increasing(values: npt.NDArray[Any]) -> bool:
    """Tell whether ``values`` strictly increase (checked in chunks, early exit)."""
    for lo in range(0, len(values) - 1, CHUNK):
        part = values[lo : lo + CHUNK + 1]
        if not bool((part[1:] > part[:-1]).all()):
            return False
    return True


def deal_codes(ids: pd.Series) -> tuple[Ints, int]:
    """Codes that sort like the (unique) opportunity ids, and their range.

    Integer ids are their own codes (offset by the smallest) when their range is at most four
    times their count; otherwise the codes of a sorted ``pd.factorize`` (same order).
    """
    n = len(ids)
    if n and ids.dtype.kind in "iu":
        vals = ids.to_numpy()
        lo, hi = int(vals.min()), int(vals.max())
        if hi - lo < 4 * n:
            return (vals - vals.min()).astype(np.int64, copy=False), hi - lo + 1
    codes = pd.factorize(ids, sort=True)[0]
    return codes.astype(np.int64), n


@attrs.frozen
class PayingKeys:
    """The paying order of the opportunities and their keys in that order."""

    order: npt.NDArray[np.intp]  # paying position -> caller's row
    p_codes: npt.NDArray[np.intp]  # person codes
    per_val: Ints  # period start keys
    d_codes: Ints  # opportunity codes


def _is_arange(codes: npt.NDArray[np.integer[Any]]) -> bool:
    """Tell whether increasing codes are exactly ``0 .. n-1`` (so ``codes[order] == order``)."""
    return not len(codes) or (int(codes[0]) == 0 and int(codes[-1]) == len(codes) - 1)


def paying_keys(
    p_codes: npt.NDArray[np.intp],
    t_val: Ints,
    per_val: Ints,
    d_codes: npt.NDArray[np.integer[Any]],
    n_deals: int,
) -> PayingKeys:
    """Order of the opportunities by person, period, close time, opportunity id, and the keys.

    Same permutation as ``np.lexsort((d_codes, t_val, per_val, p_codes))``. The period is a
    non-decreasing function of the (wall-clock) close time, so it adds nothing to the key.
    Rows already in opportunity order with few persons and close times (the usual export) take
    two stable sorts of 16-bit keys (numpy sorts those by radix, in linear time), close time
    then person; the keys in paying order then come from counts (persons), a 16-bit gather and
    a table (periods) and the order itself (consecutive opportunity codes), not from gathers
    of int64 columns. Otherwise the keys are packed into one unique int64 (one single-key
    sort), or lexsorted when the packed key could overflow.
    """
    n = len(d_codes)
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return PayingKeys(empty, empty, per_val[:0], np.zeros(0, dtype=np.int64))
    t_rank, n_t = _dense_rank(t_val)
    n_p = int(p_codes.max()) + 1
    small = np.iinfo(np.int16).max
    increasing = _increasing(d_codes)
    if n_t <= small and n_p <= small and increasing:
        t16 = t_rank.astype(np.int16)
        by_time = np.argsort(t16, kind="stable")
        by_person = np.argsort(p_codes.astype(np.int16)[by_time], kind="stable")
        order: npt.NDArray[np.intp] = by_time[by_person]
        t_counts = np.bincount(t_rank, minlength=n_t)
        per_table = per_val[by_time[np.cumsum(t_counts) - t_counts]]  # period of each time
        t_sorted = np.repeat(np.arange(n_t, dtype=np.int16), t_counts)  # by_time's ranks
        p_counts = np.bincount(p_codes, minlength=n_p)
        return PayingKeys(
            order,
            np.repeat(np.arange(n_p, dtype=np.intp), p_counts),
            per_table[t_sorted[by_person]],
            order.astype(np.int64) if _is_arange(d_codes) else d_codes[order].astype(np.int64),
        )
    if not _fits(n_p, n_t, n_deals):
        order = np.lexsort((d_codes, t_val, per_val, p_codes))
    else:
        order = np.argsort((p_codes.astype(np.int64) * n_t + t_rank) * n_deals + d_codes)
    return PayingKeys(order, p_codes[order], per_val[order], d_codes[order].astype(np.int64))


def line_order(
    keys: Sequence[tuple[npt.NDArray[Any], ...]], *, n_deals: int
) -> npt.NDArray[np.intp]:
    """Order of the lines by person, period, date, opportunity, sale before clawback.

    Same permutation as a ``np.lexsort`` of the concatenated keys. The sale lines (first block)
    usually arrive sorted already, so each line's keys are packed into one unique int64, the
    few clawback lines are sorted alone and merged into the sale lines by ``searchsorted``.
    Falls back to the lexsort when the packed key could overflow or the sales are not in order
    (tz-aware dates around a daylight-saving change).
    """
    p_key, per_key, date_key, deal_key, kind_key = (
        np.concatenate([k[i] for k in keys]) for i in range(5)
    )
    total = len(p_key)
    n = len(keys[0][0])
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    per_rank, n_per = _dense_rank(per_key)
    date_rank, n_date = _dense_rank(date_key)
    n_p = int(p_key.max()) + 1
    if not _fits(n_p, n_per, n_date, n_deals, 2):
        return np.lexsort((kind_key, deal_key, date_key, per_key, p_key))
    packed = (
        ((p_key.astype(np.int64) * n_per + per_rank) * n_date + date_rank) * n_deals
        + deal_key.astype(np.int64)
    ) * 2 + kind_key
    sale = packed[:n]
    if not bool(np.all(sale[1:] > sale[:-1])):
        return np.lexsort((kind_key, deal_key, date_key, per_key, p_key))
    claw_sorted = np.argsort(packed[n:])
    pos = np.searchsorted(sale, packed[n:][claw_sorted])
    m = total - n
    out = np.empty(total, dtype=np.intp)
    out[np.arange(n) + np.searchsorted(pos, np.arange(n), side="right")] = np.arange(n)
    out[pos + np.arange(m)] = n + claw_sorted
    return out


TICKS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def period_starts(dates: pd.Series, period: str) -> pd.Series:
    """:func:`crmcore._periods.period_start` of many naive dates, once per calendar day.

    Periods hold whole days, so the start of each day in the dates' range is computed once and
    looked up per row (a floor division and a gather, in chunks), instead of a calendar
    conversion of every row. Other columns (tz-aware, NaT, a very wide range) go to
    period_start directly.
    """
    values = dates.to_numpy()
    dtype = dates.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind == "M") or len(values) < 1 << 12:
        return period_start(dates, period)
    unit, count = np.datetime_data(values.dtype)
    per_day = TICKS_PER_DAY.get(unit)
    ticks = values.view(np.int64)
    if per_day is None or count != 1 or bool(np.isnat(values).any()):
        return period_start(dates, period)
    low, high = int(ticks.min()) // per_day, int(ticks.max()) // per_day
    if high - low >= 1 << 20:
        return period_start(dates, period)
    days = pd.Series((np.arange(low, high + 1, dtype=np.int64) * per_day).view(dtype))
    table = period_start(days, period).to_numpy().view(np.int64)
    out = np.empty(len(ticks), dtype=np.int64)
    for lo in range(0, len(ticks), CHUNK):
        part = ticks[lo : lo + CHUNK] // per_day
        part -= low
        out[lo : lo + len(part)] = table[part]
    return pd.Series(out.view(dtype), index=dates.index, name=dates.name)


def _wall_clock(dates: pd.Series) -> Ints:
    """Local wall-clock instants as int64 in the dates' own unit (for sorting only)."""
    naive = dates.dt.tz_localize(None) if getattr(dates.dtype, "tz", None) is not None else dates
    return naive.to_numpy().view(np.int64)


def _instants(dates: pd.Series | pd.api.extensions.ExtensionArray) -> Ints:
    """Instants (UTC for tz-aware dates) as int64 in the dates' own unit."""
    out: Ints = pd.DatetimeIndex(dates).asi8
    return out


# --------------------------------------------------------------------------------------------
# sales


@attrs.frozen
class Sales:
    """The opportunities in paying order (person, period, close time, id), checked.

    ``order`` maps paying order to the caller's rows; ``group`` numbers the person-period runs
    (``starts`` their first positions); ``cum`` is the person's sales in the period up to and
    including each opportunity, ``cents`` its own amount.
    """

    frame: pd.DataFrame
    closed: pd.Series  # close dates, caller's row order (unit shared with cancellations)
    periods: pd.Series  # period starts, caller's row order
    order: npt.NDArray[np.intp]
    p_codes: npt.NDArray[np.intp]  # person codes, paying order
    per_val: Ints  # period start keys (wall clock), paying order
    d_codes: Ints  # opportunity codes, paying order
    n_deals: int
    cents: Ints
    cum: Ints
    group: Ints
    starts: npt.NDArray[np.intp]


@attrs.frozen
class SaleColumns:
    """Column names of the opportunities: who sold, which deal, when, how much, cancelled."""

    person: str
    opportunity: str
    closed_at: str
    amount: str
    cancelled_at: str | None


def _require_unique_ids(frame: pd.DataFrame, column: str) -> None:
    """Run :func:`crmcore._frames.require_unique`, first counting integer ids of a narrow range.

    Ids in any row order (a table sorted by date) would cost a hash table over every value; a
    count per id (``np.bincount``) answers the same question in a linear pass. Repeats go to
    ``require_unique``, which names the first one.
    """
    ids = frame[column]
    if len(ids) > 1 and isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iu":
        vals = ids.to_numpy()
        if _increasing(vals):
            return
        lo, hi = vals.min(), vals.max()
        if int(hi) - int(lo) < 4 * len(vals):
            counts = np.zeros(int(hi) - int(lo) + 1, dtype=np.int32)
            one = np.int32(1)  # of the counts' type: np.add.at's fast loop
            for a in range(0, len(vals), CHUNK):
                # in int64 (modulo 2**64 for uint64): the offsets are small and exact
                np.add.at(counts, np.subtract(vals[a : a + CHUNK], lo, dtype=np.int64), one)
            if int(counts.max()) <= 1:
                return
    require_unique(frame, column, arg=ARG)


def sale_columns(
    frame: pd.DataFrame, cols: SaleColumns, decimals: int
) -> tuple[pd.DataFrame, pd.Series, Ints]:
    """Check the opportunities' columns; return the frame, close dates and amounts in cents."""
    names = [cols.person, cols.opportunity, cols.closed_at, cols.amount]
    frame = require_columns(
        frame, names + ([cols.cancelled_at] if cols.cancelled_at else []), arg=ARG
    )
    require_not_null(frame, cols.person, arg=ARG, key=cols.opportunity)
    require_not_null(frame, cols.opportunity, arg=ARG)
    require_one_id_type(frame, cols.opportunity, arg=ARG)
    _require_unique_ids(frame, cols.opportunity)
    closed = datetime_column(frame, cols.closed_at, arg=ARG, key=cols.opportunity)
    values = numeric_column(
        frame,
        cols.amount,
        arg=ARG,
        key=cols.opportunity,
        allow_negative=False,
        negative_hint="record a refund or cancellation with cancelled_at= instead",
    )
    # A Series (a view of the values), so an amount too large for exact minor units is named
    # by its row label rather than its position.
    labelled = pd.Series(values, index=frame.index, copy=False)
    cents: Ints = to_minor_units(labelled, decimals, name=cols.amount).to_numpy()  # type: ignore[union-attr]
    if cols.cancelled_at is not None and frame[cols.cancelled_at].notna().any():
        cancels = datetime_column(
            frame.loc[frame[cols.cancelled_at].notna()],
            cols.cancelled_at,
            arg=ARG,
            key=cols.opportunity,
        )
        closed = same_unit(closed, cancels)[0]  # one unit for the sale and clawback keys
    return frame, closed, cents


def read_sales(
    frame: pd.DataFrame, closed: pd.Series, cents: Ints, cols: SaleColumns, *, period: str
) -> Sales:
    """Put the checked opportunities (:func:`sale_columns`) in paying order with their sums."""
    periods = period_starts(closed, period)
    d_codes, n_deals = deal_codes(frame[cols.opportunity])
    keys = paying_keys(
        pd.factorize(frame[cols.person], sort=True)[0],
        _wall_clock(closed),
        _wall_clock(periods),
        d_codes,
        n_deals,
    )
    pc, pv, amt = keys.p_codes, keys.per_val, cents[keys.order]
    new_group = np.empty(len(pc), dtype=bool)
    new_group[:1] = True
    np.not_equal(pc[1:], pc[:-1], out=new_group[1:])
    new_group[1:] |= pv[1:] != pv[:-1]
    starts = np.flatnonzero(new_group)
    group = new_group.astype(np.int64)  # cumsum of int64 in place (of bool it is a slow loop)
    np.cumsum(group, out=group)
    group -= 1
    # A running total over every opportunity: int64 wraps modulo 2**64, and the difference of
    # two wrapped totals is still exact while the true per-period sum fits (checked below).
    csum = np.cumsum(amt)
    before = np.zeros(len(starts), dtype=np.int64)
    before[1:] = csum[starts[1:] - 1]
    cum = csum
    cum -= before[group]
    return Sales(
        frame=frame,
        closed=closed,
        periods=periods,
        order=keys.order,
        p_codes=pc,
        per_val=pv,
        d_codes=keys.d_codes,
        n_deals=n_deals,
        cents=amt,
        cum=cum,
        group=group,
        starts=starts,
    )


def check_cumulative(sales: Sales, *, limit: int, amount: str, opportunity: str) -> None:
    """Refuse cumulative sales of one person and period above ``limit`` minor units."""
    if not sales.cum.size or int(sales.cum.max()) <= limit:
        return
    pos = int(sales.order[int(np.argmax(sales.cum))])
    raise DataError(
        f"cumulative sales of one person and period reach {int(sales.cum.max())} minor units at "
        f"{describe_row(sales.frame, pos, opportunity)}; exact commission arithmetic is limited "
        f"to {limit}",
        column=amount,
        row=sales.frame.index[pos],
    )


# --------------------------------------------------------------------------------------------
# targets


def group_targets(
    targets: pd.DataFrame,
    sales: Sales,
    *,
    person: str,
    period_column: str,
    target: str,
    period: str,
    decimals: int,
) -> npt.NDArray[np.float64]:
    """Return the target in minor units of each person-period run of ``sales`` (> 0, one each).

    Target periods are read on their own wall clock and placed in the opportunities' zone.
    """
    run = sales.order[sales.starts]
    return run_targets(
        targets,
        sales.frame[person].to_numpy()[run],
        sales.periods.array[run],
        person=person,
        period_column=period_column,
        target=target,
        period=period,
        decimals=decimals,
    )


def run_targets(
    targets: pd.DataFrame,
    persons: npt.NDArray[Any],
    periods: pd.api.extensions.ExtensionArray,
    *,
    person: str,
    period_column: str,
    target: str,
    period: str,
    decimals: int,
) -> npt.NDArray[np.float64]:
    """Return the target in minor units of each run given by its person and period start.

    Runs come in (person, period) order; the first one without a target is the one named.
    """
    arg = "targets"
    targets = require_frame(targets, arg=arg)
    targets = require_columns(targets, [person, period_column, target], arg=arg)
    require_not_null(targets, person, arg=arg)
    starts = read_periods(targets, period_column, arg=arg, period=period, key=person)
    tz = getattr(periods.dtype, "tz", None)
    if getattr(starts.dtype, "tz", None) is not None:
        starts = starts.dt.tz_localize(None)
    if tz is not None:
        # As crmcore._periods does: a midnight in a DST gap moves forward, an ambiguous one
        # reads as daylight-saving time.
        local = starts.dt.tz_localize(
            tz, ambiguous=np.ones(len(starts), dtype=bool), nonexistent="shift_forward"
        )
        starts = period_start(local, period)
    values = numeric_column(targets, target, arg=arg, key=person)
    pos = first_true(values <= 0)
    if pos is not None:
        raise DataError(
            f"column {target!r} of targets has {show(values[pos])} at "
            f"{describe_row(targets, pos, person)}; attainment-based commission needs targets > 0",
            column=target,
            row=targets.index[pos],
            value=values[pos],
        )
    keys = pd.DataFrame({person: persons, PERIOD: periods})
    t_period, k_period = same_unit(starts.reset_index(drop=True), keys[PERIOD])
    tab = pd.DataFrame(
        {
            person: targets[person].to_numpy(),
            PERIOD: t_period.array,
            "_t": np.asarray(to_minor_units(values, decimals, name=target), dtype=np.float64),
        }
    )
    pos = first_true(tab.duplicated(subset=[person, PERIOD]).to_numpy())
    if pos is not None:
        raise DataError(
            f"targets has a second target for person {show(tab[person].iloc[pos])} in period "
            f"{tab[PERIOD].iloc[pos]:%Y-%m-%d} at {describe_row(targets, pos)}; expected one",
            column=period_column,
            row=targets.index[pos],
        )
    keys[PERIOD] = k_period.array
    got = keys.merge(tab, on=[person, PERIOD], how="left")["_t"].to_numpy(dtype=np.float64)
    pos = first_true(np.isnan(got))
    if pos is not None:
        raise DataError(
            f"targets has no target for person {show(keys[person].iloc[pos])} in period "
            f"{pd.Timestamp(keys[PERIOD].iloc[pos]):%Y-%m-%d}, which has opportunities; every "
            "person and period with opportunities needs a target",
            column=target,
            value=keys[person].iloc[pos],
        )
    return got


# --------------------------------------------------------------------------------------------
# clawbacks


@attrs.frozen
class Clawbacks:
    """The cancelled opportunities, in paying order: which ones, when, in which period."""

    sel: npt.NDArray[np.bool_]  # over the sales in paying order
    dates: pd.Series
    periods: pd.Series


def cancellations(
    frame: pd.DataFrame,
    closed: pd.Series,
    *,
    cancelled_at: str | None,
    closed_at: str,
    opportunity: str,
) -> tuple[npt.NDArray[np.intp], pd.Series] | None:
    """Check the cancellation dates: the cancelled rows and their dates (row order), or None.

    A cancellation needs the close dates' time-zone convention and may not precede the close.
    """
    if cancelled_at is None:
        return None
    mask = frame[cancelled_at].notna().to_numpy()
    if not mask.any():
        return None
    cancel = datetime_column(frame.loc[mask], cancelled_at, arg=ARG, key=opportunity)
    if (getattr(cancel.dtype, "tz", None) is None) != (getattr(closed.dtype, "tz", None) is None):
        raise DataError(
            f"columns {closed_at!r} and {cancelled_at!r} of {ARG} mix naive and tz-aware "
            "dates; use one convention",
            column=cancelled_at,
        )
    cancel = same_unit(cancel, closed)[0]
    rows = np.flatnonzero(mask)  # the cancelled rows; cancel holds their dates in this order
    early = first_true(np.asarray(cancel.array < closed.array[rows]))
    if early is not None:
        bad = int(rows[early])
        raise DataError(
            f"column {cancelled_at!r} of {ARG} has {show(cancel.iloc[early])} at "
            f"{describe_row(frame, bad, opportunity)}, before the deal closed on "
            f"{show(closed.iloc[bad])}; a deal is cancelled after it closes",
            column=cancelled_at,
            row=frame.index[bad],
            value=cancel.iloc[early],
        )
    return rows, cancel


def read_clawbacks(
    sales: Sales, *, cancelled_at: str | None, closed_at: str, opportunity: str, period: str
) -> Clawbacks | None:
    """Return the clawbacks of the opportunities cancelled (after they closed), or None."""
    found = cancellations(
        sales.frame,
        sales.closed,
        cancelled_at=cancelled_at,
        closed_at=closed_at,
        opportunity=opportunity,
    )
    if found is None:
        return None
    rows, cancel = found
    mask = np.zeros(len(sales.frame), dtype=bool)
    mask[rows] = True
    sel = mask[sales.order]
    dates = cancel.iloc[np.searchsorted(rows, sales.order[sel])].reset_index(drop=True)
    return Clawbacks(sel=sel, dates=dates, periods=period_starts(dates, period))


# --------------------------------------------------------------------------------------------
# lines and statement


def line_keys(sales: Sales, claws: Clawbacks | None) -> list[tuple[npt.NDArray[Any], ...]]:
    """Sort keys of the sale lines then the clawback lines: person, period, date, id, kind."""
    sale_dates = sales.closed.iloc[sales.order]
    keys: list[tuple[npt.NDArray[Any], ...]] = [
        (
            sales.p_codes,
            sales.per_val,
            _instants(sale_dates.array),
            sales.d_codes,
            np.zeros(len(sales.order), dtype=np.int8),
        )
    ]
    if claws is not None:
        keys.append(
            (
                sales.p_codes[claws.sel],
                _wall_clock(claws.periods),
                _instants(claws.dates.array),
                sales.d_codes[claws.sel],
                np.ones(int(claws.sel.sum()), dtype=np.int8),
            )
        )
    return keys


def lines_frame(
    sales: Sales,
    claws: Clawbacks | None,
    *,
    person: str,
    opportunity: str,
    tier: Ints,
    commission: Ints,
) -> pd.DataFrame:
    """One line per sale (and per clawback), sorted by person, period, date, opportunity."""
    order = sales.order
    sale_periods = sales.periods.array[order]
    sale = pd.DataFrame(
        {
            person: sales.frame[person].to_numpy()[order],
            PERIOD: sale_periods,
            opportunity: sales.frame[opportunity].to_numpy()[order],
            "kind": "sale",
            "date": sales.closed.array[order],
            "amount_cents": sales.cents,
            "cumulative_cents": sales.cum,
            "tier": tier,
            "commission_cents": commission,
            "source_period": sale_periods,
        }
    )
    parts = [sale]
    if claws is not None:
        back = sale.loc[claws.sel].copy()
        back["kind"] = "clawback"
        back["date"] = claws.dates.array
        back[PERIOD] = claws.periods.array
        back["amount_cents"] = -back["amount_cents"]
        back["commission_cents"] = -back["commission_cents"]
        parts.append(back)
    lines = pd.concat(parts, ignore_index=True)
    lines["kind"] = lines["kind"].astype(object)
    l_order = line_order(line_keys(sales, claws), n_deals=sales.n_deals)
    return lines.iloc[l_order].reset_index(drop=True)


def _statement_rows(
    sales: Sales, claws: Clawbacks | None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Statement row of each sale run and of each clawback, and each row's first entry.

    Rows are the distinct (person, period) pairs of the sale runs and of the clawbacks
    (their cancellation period), in (person, period) order; entries are numbered runs first,
    then clawbacks.
    """
    run_p = sales.p_codes[sales.starts].astype(np.int64)
    run_per = sales.per_val[sales.starts]
    if claws is None:  # runs are distinct and already in (person, period) order
        rows = np.arange(len(sales.starts), dtype=np.intp)
        return rows, np.zeros(0, dtype=np.intp), rows
    p = np.concatenate([run_p, sales.p_codes[claws.sel].astype(np.int64)])
    per = np.concatenate([run_per, _wall_clock(claws.periods)])
    per_rank, n_per = _dense_rank(per)
    packed = p * n_per + per_rank  # < (persons x periods): fits easily
    _, first, row = np.unique(packed, return_index=True, return_inverse=True)
    row = row.astype(np.intp).reshape(-1)
    n_runs = len(sales.starts)
    return row[:n_runs], row[n_runs:], first.astype(np.intp)


def statement_frame(
    sales: Sales,
    claws: Clawbacks | None,
    *,
    person: str,
    tier: Ints,
    commission: Ints,
    tgt_group: npt.NDArray[np.float64],
) -> pd.DataFrame:
    """Sum the sales per person-period run and the clawbacks per cancellation period.

    Sales come in paying order, so each person and period is one contiguous run: its money is
    summed with :func:`crmcore.money.sum_minor_units` (checked), its tier is the highest
    reached. Clawbacks are summed per person and period of cancellation. The statement's rows
    are the union of both, in (person, period) order; no per-line sort is needed.
    """
    n_runs = len(sales.starts)
    run_rows, claw_rows, first = _statement_rows(sales, claws)
    n_rows = len(first)
    # check_cumulative bounds every run's sales (and so its commission) by MAX_CUMULATIVE, far
    # inside int64: a run's sales are its last cumulative value, its commission a plain sum.
    ends = np.r_[sales.starts[1:], len(sales.cents)] - 1
    run_sales = sales.cum[ends]
    run_earned = np.add.reduceat(commission, sales.starts) if n_runs else commission[:0]
    deals = np.zeros(n_rows, dtype=np.int64)
    deals[run_rows] = np.diff(np.r_[sales.starts, len(sales.cents)])
    sales_c = np.zeros(n_rows, dtype=np.int64)
    sales_c[run_rows] = run_sales
    earned = np.zeros(n_rows, dtype=np.int64)
    earned[run_rows] = run_earned
    tiers = np.zeros(n_rows, dtype=np.int64)
    tiers[run_rows] = np.maximum.reduceat(tier.astype(np.int64), sales.starts) if n_runs else 0
    tgt = np.full(n_rows, np.nan)
    tgt[run_rows] = tgt_group
    if claws is not None:
        clawback = sum_minor_units(-commission[claws.sel], claw_rows, n_rows, name="clawback cents")
    else:
        clawback = np.zeros(n_rows, dtype=np.int64)
    rows = np.arange(n_rows)
    payout = sum_minor_units(
        np.concatenate([earned, clawback]),
        np.concatenate([rows, rows]),
        n_rows,
        name="payout cents",
    )
    run_first = sales.order[sales.starts]
    p_all = sales.frame[person].to_numpy()[run_first]
    per_all = sales.periods.array[run_first]
    if claws is not None:
        p_all = np.concatenate([p_all, sales.frame[person].to_numpy()[sales.order[claws.sel]]])
        per_all = pd.concat(
            [pd.Series(per_all), pd.Series(claws.periods.array)], ignore_index=True
        ).array
    index = pd.MultiIndex.from_arrays([p_all[first], per_all[first]], names=[person, PERIOD])
    return statement_columns(
        index,
        deals=deals,
        sales=sales_c,
        target=tgt,
        tiers=tiers,
        earned=earned,
        clawback=clawback,
        payout=payout,
    )


def statement_columns(
    index: pd.MultiIndex,
    *,
    deals: Ints,
    sales: Ints,
    target: npt.NDArray[np.float64],
    tiers: Ints,
    earned: Ints,
    clawback: Ints,
    payout: Ints,
) -> pd.DataFrame:
    """Build the statement frame from its per-(person, period) columns and derived ratios.

    Shared by the ordered path (:func:`statement_frame`) and the day grid (``_daygrid``).
    """
    sales_f = sales.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        attainment = sales_f / target
        rate = np.where(sales_f > 0, earned / np.where(sales_f > 0, sales_f, 1), np.nan)
    return pd.DataFrame(
        {
            "deals": deals,
            "sales_cents": sales,
            "target_cents": target,
            "attainment": attainment,
            "tier": tiers,
            "earned_cents": earned,
            "clawback_cents": clawback,
            "payout_cents": payout,
            "effective_rate": rate,
        },
        index=index,
    )
