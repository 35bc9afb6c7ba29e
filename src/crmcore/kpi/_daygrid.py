"""The commission statement from sums per (person, close day), without a paying order.

:func:`crmcore.kpi.commission_statement` needs, per person and period, the number of sales,
their total, the plan's cumulative commission ``C`` of that total and the tier it reaches (a
run's sale lines ``C(S after) - C(S before)`` telescope to ``C(S_end)``, as ``C(0) == 0``),
and, per cancelled opportunity, what it earned: ``C`` of the person's cumulative sales in the
period after it minus before it. Only those few cancelled sales need the paying order
(person, period, close time, opportunity id), so instead of sorting every sale:

1. each sale gets a cell, ``close day * persons + person code``, over a small grid (day
   first: rows sorted by time then fall in a narrow band of cells);
2. one sweep over the rows in cache-sized chunks adds the amounts into the cell totals
   (``np.add.at``); a cancelled sale first reads its cell's total so far plus the earlier
   rows of its own chunk in the same cell (found among the few rows that share a cell with a
   cancelled one). When the close times are whole days and the opportunity ids increase down
   the rows, or when the rows are sorted by close time then id, the rows before it in its
   cell are exactly the sales paid before it that day;
3. a cumulative sum over the grid's days, restarted at each period start, adds the person's
   earlier days of the period.

Any other input (tz-aware close times, rows in neither of those orders, a grid
much larger than the table, person ids that are neither integers nor text, a flat plan with
cancellations, sums near the limit of exact arithmetic) gives ``None``: the caller then takes
the ordered path, which is also the one that reports errors in the sums. The results are the
same to the cent either way (``tests/kpi/test_commission.py`` compares the two).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._periods import period_start
from crmcore.kpi._commission import (
    TICKS_PER_DAY,
    SaleColumns,
    cancellations,
    period_starts,
    statement_columns,
)
from crmcore.kpi._groups import PERIOD
from crmcore.money import sum_minor_units

__all__ = ["DayPlan", "day_statement"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
#: Rows per pass of the sweep: its temporaries stay cache-sized.
CHUNK = 1 << 16
#: Largest grid (cells) relative to the rows; above it the ordered path is cheaper.
GRID_PER_ROW = 4
#: Grids up to this many cells are always small enough.
SMALL_GRID = 1 << 20


@attrs.frozen
class DayPlan:
    """What the statement needs of a commission plan.

    ``cumulative(S, targets)`` is ``C`` in minor units, ``tier(S, targets)`` the tier reached;
    ``targets(persons, periods)`` reads each run's target (attainment plans) or is ``None``;
    ``limit`` bounds a run's sales for exact arithmetic.
    """

    cumulative: Callable[[Ints, Floats], Ints]
    tier: Callable[[Ints, Floats], Ints]
    flat: bool
    targets: Callable[[npt.NDArray[Any], Any], Floats] | None
    limit: int


@attrs.frozen
class _Codes:
    """Narrow integer codes (caller's row order), their count and the value of each code."""

    codes: npt.NDArray[np.integer[Any]]
    n: int
    values: npt.NDArray[Any]


def _narrow(n: int) -> type[np.integer[Any]]:
    return np.int16 if n <= np.iinfo(np.int16).max else np.int32


def _person_codes(column: pd.Series, n_rows: int) -> _Codes | None:
    """Codes that sort like the persons: integers offset by the smallest, or sorted text."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        vals = column.to_numpy()
        lo, hi = vals.min(), vals.max()
        span = int(hi) - int(lo) + 1
        if span > max(GRID_PER_ROW * n_rows, 1 << 16):
            return None
        codes = np.empty(len(vals), dtype=_narrow(span))
        for a in range(0, len(vals), CHUNK):
            # in int64 (modulo 2**64 for uint64): the differences are small and exact
            np.subtract(
                vals[a : a + CHUNK], lo, out=codes[a : a + CHUNK], dtype=np.int64, casting="unsafe"
            )
        return _Codes(codes, span, np.arange(span, dtype=dtype) + lo)
    if isinstance(dtype, pd.StringDtype):
        found, uniques = pd.factorize(column, sort=True)
        codes = found.astype(_narrow(len(uniques)))
        return _Codes(codes, len(uniques), np.asarray(uniques.to_numpy(), dtype=object))
    return None


def _day_codes(closed: pd.Series) -> tuple[_Codes, bool] | None:
    """Close days as codes from the first day (values: each day's first tick, as int64).

    Also tells whether every close time is a midnight. ``None`` unless the dates are naive
    and span under 2**20 days.
    """
    dtype = closed.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return None
    unit, count = np.datetime_data(dtype.str)
    per_day = TICKS_PER_DAY.get(unit)
    if per_day is None or count != 1 or not len(closed):
        return None
    ticks = closed.to_numpy().view(np.int64)
    low, high = int(ticks.min()) // per_day, int(ticks.max()) // per_day  # NaT: a wide range
    if high - low >= 1 << 20:
        return None
    codes = np.empty(len(ticks), dtype=_narrow(high - low + 1))
    whole = True
    for a in range(0, len(ticks), CHUNK):
        part = ticks[a : a + CHUNK]
        day = part // per_day
        whole = whole and np.array_equal(day * per_day, part)
        day -= low
        codes[a : a + CHUNK] = day
    first = np.arange(low, high + 1, dtype=np.int64) * per_day
    return _Codes(codes, high - low + 1, first), whole


def _int_ids(ids: pd.Series) -> npt.NDArray[np.integer[Any]] | None:
    """Return the opportunity ids as a numpy integer array, or ``None`` for other types."""
    if not (isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iu"):
        return None
    out: npt.NDArray[np.integer[Any]] = ids.to_numpy()
    return out


def _increasing(ids: npt.NDArray[np.integer[Any]]) -> bool:
    """Whether the ids strictly increase down the rows (in chunks, early exit)."""
    for a in range(0, len(ids) - 1, CHUNK):
        part = ids[a : a + CHUNK + 1]
        if not bool((part[1:] > part[:-1]).all()):
            return False
    return True


def _in_paying_order(ticks: Ints, ids: npt.NDArray[np.integer[Any]]) -> bool:
    """Whether the rows are sorted by close time, then id (in chunks, early exit)."""
    for a in range(0, len(ids) - 1, CHUNK):
        t = ticks[a : a + CHUNK + 1]
        d = ids[a : a + CHUNK + 1]
        later = t[1:] > t[:-1]
        if not bool((later | ((t[1:] == t[:-1]) & (d[1:] > d[:-1]))).all()):
            return False
    return True


def _row_order_pays(closed: pd.Series, ids: pd.Series) -> tuple[_Codes, bool] | None:
    """Close-day codes, if the rows of each person and day are in paying order; else None.

    They are when the ids increase down the rows and every close time is a midnight (a
    day's sales tie on time and go by id), or when the rows are sorted by close time then id.
    """
    found = _day_codes(closed)
    values = _int_ids(ids)
    if found is None or values is None:
        return None
    if found[1] and _increasing(values):
        return found
    if _in_paying_order(closed.to_numpy().view(np.int64), values):
        return found
    return None


def _earlier_in_chunk(
    cell: Ints, amount: Ints, local: npt.NDArray[np.intp], marked: npt.NDArray[np.bool_]
) -> Ints:
    """Sum of the chunk's amounts before each of the rows ``local`` in that row's cell.

    Only rows sharing a cell with one of ``local`` matter (``marked`` is an all-False scratch
    table over the cells, left all-False); they are sorted by cell (stably, so in row order)
    for a running sum that restarts at each cell. When they are many (rows sorted by time: a
    chunk holds a few days) their cells span a narrow band, sorted by 16-bit radix.
    """
    chosen = cell[local]
    marked[chosen] = True
    cand = np.flatnonzero(marked[cell])
    marked[chosen] = False
    key = cell[cand]
    low = int(key.min()) if len(key) else 0
    if len(key) and int(key.max()) - low <= np.iinfo(np.int16).max:
        by_cell = np.argsort((key - low).astype(np.int16), kind="stable")  # radix, linear
    else:
        by_cell = np.argsort(key, kind="stable")
    cells = cell[cand][by_cell]
    values = amount[cand][by_cell]
    before = np.cumsum(values)
    before -= values
    new = np.empty(len(cells), dtype=bool)
    new[:1] = True
    np.not_equal(cells[1:], cells[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    before -= before[np.flatnonzero(new)][group]
    rank = np.empty(len(cand), dtype=np.intp)
    rank[by_cell] = np.arange(len(cand))
    out: Ints = before[rank[np.searchsorted(cand, local)]]
    return out


def _sweep(
    persons: _Codes, days: _Codes, cents: Ints, claw_rows: npt.NDArray[np.intp]
) -> tuple[Ints, Ints, Ints]:
    """Cell totals and counts, and each cancelled row's earlier sales in its cell (row order)."""
    n_cells = persons.n * days.n
    totals = np.zeros(n_cells, dtype=np.int64)
    counts = np.zeros(n_cells, dtype=np.int64)
    before = np.zeros(len(claw_rows), dtype=np.int64)
    marked = np.zeros(n_cells if len(claw_rows) else 0, dtype=bool)
    n = len(cents)
    bounds = np.searchsorted(claw_rows, np.arange(0, n + CHUNK, CHUNK))
    for i, lo in enumerate(range(0, n, CHUNK)):
        cell = days.codes[lo : lo + CHUNK].astype(np.int64)
        cell *= persons.n
        cell += persons.codes[lo : lo + CHUNK]
        amount = cents[lo : lo + CHUNK]
        a, b = int(bounds[i]), int(bounds[i + 1])
        if b > a:
            local = claw_rows[a:b] - lo
            before[a:b] = totals[cell[local]] + _earlier_in_chunk(cell, amount, local, marked)
        np.add.at(totals, cell, amount)
        np.add.at(counts, cell, 1)
    return totals, counts, before


@attrs.frozen
class _Runs:
    """The person-period runs on the (person, sale period) grid, and each day's period."""

    sales: Ints  # (persons, sale periods), row-major
    deals: Ints
    periods: Ints  # the sale periods' start ticks, increasing
    day_period: npt.NDArray[np.intp]  # day code -> sale period
    first_day: npt.NDArray[np.intp]  # sale period -> its first day code
    before_day: Ints  # (persons x days): sales of the person's period on earlier days


def _runs(
    totals: Ints, counts: Ints, *, persons: _Codes, days: _Codes, dtype: np.dtype[Any], code: str
) -> _Runs:
    """Sum the cells per person and period; the running sums restart at each period start."""
    day_starts = pd.Series(days.values.view(dtype))
    table = period_start(day_starts, code).to_numpy().view(np.int64)
    periods, day_period = np.unique(table, return_inverse=True)
    day_period = day_period.reshape(-1)
    first_day = np.flatnonzero(np.r_[True, day_period[1:] != day_period[:-1]])
    grid = totals.reshape(days.n, persons.n).T  # (persons, days)
    before_day = np.cumsum(grid, axis=1)
    before_day -= grid
    before_day -= before_day[:, first_day][:, day_period]
    return _Runs(
        sales=np.add.reduceat(grid, first_day, axis=1).reshape(-1),
        deals=np.add.reduceat(counts.reshape(days.n, persons.n).T, first_day, axis=1).reshape(-1),
        periods=periods,
        day_period=day_period,
        first_day=first_day,
        before_day=before_day.reshape(-1),
    )


@attrs.frozen
class _Grid:
    """The swept grid: codes, runs, the cancelled rows and their earlier sales that day."""

    persons: _Codes
    days: _Codes
    runs: _Runs
    claw_rows: npt.NDArray[np.intp]
    before: Ints  # per cancelled row: the person's sales that day paid before it
    dtype: np.dtype[Any]  # of the close dates and the period starts


def day_statement(
    frame: pd.DataFrame,
    closed: pd.Series,
    cents: Ints,
    cols: SaleColumns,
    plan: DayPlan,
    *,
    period: str,
) -> pd.DataFrame | None:
    """Return the statement of the checked opportunities from per-day cell sums, or ``None``.

    ``frame``, ``closed`` and ``cents`` come from :func:`crmcore.kpi._commission.sale_columns`.
    ``None`` means the input is outside this path's conditions (see the module docstring); the
    caller then takes the ordered path. Errors in targets and cancellations are raised here in
    the ordered path's order, with its messages.
    """
    n = len(cents)
    if not n:
        return None
    if int(cents.max()) > plan.limit or int(cents.max()) * n >= 2**63:
        return None  # sums could wrap: the ordered path checks them and says which
    claw_mask = (
        frame[cols.cancelled_at].notna().to_numpy() if cols.cancelled_at else np.zeros(n, bool)
    )
    if plan.flat and claw_mask.any():
        return None  # the split of a run's total over its deals needs them all in order
    found = _row_order_pays(closed, frame[cols.opportunity])
    if found is None:
        return None
    days = found[0]
    persons = _person_codes(frame[cols.person], n)
    dtype = closed.dtype
    if persons is None or not isinstance(dtype, np.dtype):
        return None
    if persons.n * days.n > max(GRID_PER_ROW * n, SMALL_GRID):
        return None
    claw_rows = np.flatnonzero(claw_mask)
    totals, counts, before = _sweep(persons, days, cents, claw_rows)
    grid = _Grid(
        persons=persons,
        days=days,
        runs=_runs(totals, counts, persons=persons, days=days, dtype=dtype, code=period),
        claw_rows=claw_rows,
        before=before,
        dtype=dtype,
    )
    return _statement(frame, closed, cents, cols, plan, grid=grid, period=period)


def _statement(
    frame: pd.DataFrame,
    closed: pd.Series,
    cents: Ints,
    cols: SaleColumns,
    plan: DayPlan,
    *,
    grid: _Grid,
    period: str,
) -> pd.DataFrame | None:
    """Read targets, check, pay the clawbacks, lay out: in the ordered path's order of errors."""
    runs, persons, days, claw_rows = grid.runs, grid.persons, grid.days, grid.claw_rows
    n_per = len(runs.periods)
    run_cells = np.flatnonzero(runs.deals)  # (person, period) order
    run_sales = runs.sales[run_cells]
    run_p, run_per = np.divmod(run_cells, n_per)
    tgt = np.full(len(run_cells), np.nan)
    if plan.targets is not None:
        periods = pd.array(runs.periods[run_per].view(grid.dtype))
        tgt = plan.targets(persons.values[run_p], periods)
    if run_sales.size and int(run_sales.max()) > plan.limit:
        return None  # the ordered path names the first opportunity past the limit
    found = cancellations(
        frame,
        closed,
        cancelled_at=cols.cancelled_at,
        closed_at=cols.closed_at,
        opportunity=cols.opportunity,
    )
    run_tgt = np.ones(len(run_cells)) if plan.targets is None else tgt
    claw_p = persons.codes[claw_rows].astype(np.intp)
    claw_d = days.codes[claw_rows].astype(np.intp)
    start = grid.before + runs.before_day[claw_p * days.n + claw_d]
    if plan.targets is None:
        claw_tgt = np.ones(len(claw_rows))
    else:
        lookup = np.full(persons.n * n_per, np.nan)
        lookup[run_cells] = tgt
        claw_tgt = lookup[claw_p * n_per + runs.day_period[claw_d]]
    claw_earned = plan.cumulative(start + cents[claw_rows], claw_tgt)
    claw_earned -= plan.cumulative(start, claw_tgt)
    claw_periods = np.zeros(0, dtype=np.int64)
    if found is not None:
        claw_periods = period_starts(found[1], period).to_numpy().view(np.int64)
    return _frame(
        cols.person,
        grid,
        run_cells=run_cells,
        tgt=tgt,
        earned_run=plan.cumulative(run_sales, run_tgt),
        tier_run=plan.tier(run_sales, run_tgt),
        claw_p=claw_p,
        claw_periods=claw_periods,
        claw_earned=claw_earned,
    )


def _frame(
    person: str,
    grid: _Grid,
    *,
    run_cells: npt.NDArray[np.intp],
    tgt: Floats,
    earned_run: Ints,
    tier_run: Ints,
    claw_p: npt.NDArray[np.intp],
    claw_periods: Ints,
    claw_earned: Ints,
) -> pd.DataFrame:
    """Lay out the statement: one row per (person, period) with a sale run or a clawback."""
    runs = grid.runs
    periods = np.union1d(runs.periods, claw_periods)
    width = len(periods)
    run_p, run_per = np.divmod(run_cells, len(runs.periods))
    sale_at = run_p * width + np.searchsorted(periods, runs.periods)[run_per]
    claw_at = claw_p * width + np.searchsorted(periods, claw_periods)
    cells = np.union1d(sale_at, claw_at)
    n_rows = len(cells)
    sale_row = np.searchsorted(cells, sale_at)
    deals = np.zeros(n_rows, dtype=np.int64)
    deals[sale_row] = runs.deals[run_cells]
    sales_c = np.zeros(n_rows, dtype=np.int64)
    sales_c[sale_row] = runs.sales[run_cells]
    earned = np.zeros(n_rows, dtype=np.int64)
    earned[sale_row] = earned_run
    tiers = np.zeros(n_rows, dtype=np.int64)
    tiers[sale_row] = tier_run
    target = np.full(n_rows, np.nan)
    target[sale_row] = tgt
    clawback = sum_minor_units(
        -claw_earned, np.searchsorted(cells, claw_at), n_rows, name="clawback cents"
    )
    rows = np.arange(n_rows)
    payout = sum_minor_units(
        np.concatenate([earned, clawback]),
        np.concatenate([rows, rows]),
        n_rows,
        name="payout cents",
    )
    index = pd.MultiIndex.from_arrays(
        [grid.persons.values[cells // width], pd.array(periods[cells % width].view(grid.dtype))],
        names=[person, PERIOD],
    )
    return statement_columns(
        index,
        deals=deals,
        sales=sales_c,
        target=target,
        tiers=tiers,
        earned=earned,
        clawback=clawback,
        payout=payout,
    )
