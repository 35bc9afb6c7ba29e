"""Sales history as per-period totals: the one parsed value every forecast function uses.

Transactions (a datetime column) are summed per calendar period; per-period totals (a column of
pandas Periods) are taken as they are, one row per period and series. Periods with no sales
count as zero. Every series ends at the same last period (the period of ``as_of``, or the one
before it when that period is incomplete); each starts at its own first period with sales.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._periods import canonical_period, period_range, period_start, to_period_index
from crmcore.errors import ConfigError, DataError

__all__ = ["SEASON", "History", "by_columns", "read_history"]

# Periods in one season (the seasonal cycle each period code repeats on).
SEASON: Final = {"D": 7, "W": 52, "M": 12, "Q": 4, "Y": 1}
_NAMES: Final = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "Y": "yearly"}
# The pandas Period frequency of each period code (per-period input).
_PERIOD_FREQS: Final = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}
_REFUND_HINT: Final = "sales must be >= 0; pass refunds='allow' to forecast net sales with refunds"

_FloatMatrix = npt.NDArray[np.float64]
_IntArray = npt.NDArray[np.intp]


@attrs.frozen(kw_only=True)
class History:
    """Per-period sales of one or more series on one calendar grid.

    Attributes
    ----------
    period
        Canonical period code.
    season
        Periods per season (12 for months, 4 for quarters, ...).
    grid
        Period starts of the whole grid, first period with sales to the last period.
    values
        ``(n_series, len(grid))`` sales per period; zero before a series' first period.
    first
        Position in ``grid`` of each series' first period with sales.
    keys
        One row per series with the ``by`` columns (sorted), or ``None`` when ungrouped.
    first_rows
        Label of each series' first row in the input (for error messages).
    incomplete
        The incomplete last period that was left out, or ``None``.
    excluded
        Number of input rows in that left-out period.
    refunds
        Whether negative sales are allowed.
    """

    period: str
    season: int
    grid: pd.DatetimeIndex
    values: _FloatMatrix
    first: _IntArray
    keys: pd.DataFrame | None
    first_rows: list[Hashable]
    incomplete: pd.Period | None
    excluded: int
    refunds: bool

    @property
    def n_series(self) -> int:
        """Number of series."""
        return int(self.values.shape[0])

    def lengths(self, end: int | None = None) -> _IntArray:
        """Periods of history per series up to grid position ``end`` (default: all)."""
        stop = self.values.shape[1] if end is None else end
        return np.maximum(stop - self.first, 0).astype(np.intp)

    def series(self, i: int, end: int | None = None) -> _FloatMatrix:
        """Sales of series ``i`` from its first period to grid position ``end`` (exclusive)."""
        stop = self.values.shape[1] if end is None else end
        return self.values[i, self.first[i] : stop]

    def periods(self) -> pd.PeriodIndex:
        """Return the grid as pandas Periods."""
        return to_period_index(self.grid, self.period)

    def future(self, horizon: int, end: int | None = None) -> pd.PeriodIndex:
        """Return the ``horizon`` periods after grid position ``end - 1`` (default: the end)."""
        stop = len(self.grid) if end is None else end
        last = self.periods()[stop - 1]
        return pd.period_range(last + 1, periods=horizon, freq=last.freq)

    def describe(self, i: int, by: Sequence[str]) -> str:
        """Name series ``i`` for messages: ``the history of territory='North'``."""
        if self.keys is None:
            return "the history"
        pairs = ", ".join(f"{c}={fr.show(self.keys[c].iloc[i])}" for c in by)
        return f"the history of {pairs}"

    def too_short(
        self, i: int, by: Sequence[str], *, n: int, need: int, what: str, where: str = ""
    ) -> DataError:
        """Build the error for a series with ``n`` periods where ``need`` are required."""
        name = _NAMES[self.period]
        column = by[0] if by else None
        value = None if self.keys is None else self.keys[by[0]].iloc[i]
        return DataError(
            f"{self.describe(i, by)} (first row {fr.show(self.first_rows[i])}) has {n} {name} "
            f"period(s){where}; {what} needs at least {need}",
            column=column,
            row=self.first_rows[i],
            value=value,
        )


def by_columns(by: str | Sequence[str] | None, *, reserved: Sequence[str] = ()) -> tuple[str, ...]:
    """Return ``by`` as a tuple of column names (empty when ungrouped).

    A name among ``reserved`` (the date and amount columns, the result's own columns) or given
    twice is a :class:`~crmcore.errors.ConfigError`.
    """
    if by is None:
        return ()
    cols = (by,) if isinstance(by, str) else tuple(by)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ConfigError(f"by={by!r} must be a column name or a list of column names", column="by")
    for column in cols:
        if column in reserved or cols.count(column) > 1:
            raise ConfigError(
                f"by={by!r} names column {column!r}, which is "
                + ("given twice" if cols.count(column) > 1 else "taken by the input or result")
                + "; group by other columns (rename it first)",
                column="by",
                value=column,
            )
    return cols


def _group_codes(
    history: pd.DataFrame, by: tuple[str, ...]
) -> tuple[_IntArray, pd.DataFrame | None, int]:
    if not by:
        return np.zeros(len(history), dtype=np.intp), None, 1
    for column in by:
        fr.require_not_null(history, column, arg="history")
    grouped = history.groupby(list(by), sort=True, observed=True)
    codes = grouped.ngroup().to_numpy().astype(np.intp)
    keys = grouped.size().index.to_frame(index=False)
    return codes, keys, len(keys)


def _period_input(history: pd.DataFrame, date: str, code: str, codes: _IntArray) -> pd.Series:
    """Period starts of per-period input; each (series, period) must appear once."""
    column = history[date]
    if column.dtype != pd.PeriodDtype(_PERIOD_FREQS[code]):
        raise ConfigError(
            f"column {date!r} of history holds periods of type {column.dtype} but "
            f"period={code!r}; pass the period of the column or convert the column",
            column=date,
            value=code,
        )
    pos = fr.first_true(column.isna().to_numpy())
    if pos is not None:
        raise DataError(
            f"column {date!r} of history has a missing period at {fr.describe_row(history, pos)}; "
            "every row needs a period",
            column=date,
            row=history.index[pos],
            value=column.iloc[pos],
        )
    ordinals = column.array.asi8
    dup = pd.DataFrame({"g": codes, "p": ordinals}).duplicated().to_numpy()
    pos = fr.first_true(dup)
    if pos is not None:
        value = column.iloc[pos]
        raise DataError(
            f"column {date!r} of history has period {value} twice for one series, again at "
            f"{fr.describe_row(history, pos)}; per-period totals need one row per period "
            "(pass dates instead of periods to have transactions summed)",
            column=date,
            row=history.index[pos],
            value=value,
        )
    return pd.Series(column.dt.start_time.to_numpy(), index=history.index)


def _date_input(
    history: pd.DataFrame, date: str, code: str, as_of: object
) -> tuple[pd.Series, pd.Timestamp, bool]:
    """Period starts (wall clock, naive) of transaction dates; the last period; is it whole."""
    dates = fr.datetime_column(history, date, arg="history")
    as_of_ts = fr.resolve_as_of(as_of, dates, column=date)
    tz = getattr(dates.dtype, "tz", None)
    pos = fr.first_true((dates > as_of_ts).to_numpy())
    if pos is not None:
        raise DataError(
            f"column {date!r} of history has date {dates.iloc[pos]} at "
            f"{fr.describe_row(history, pos)}, after as_of={as_of_ts}; the history must end at "
            "as_of",
            column=date,
            row=history.index[pos],
            value=dates.iloc[pos],
        )
    starts = period_start(dates, code)
    if tz is not None:
        starts = starts.dt.tz_localize(None)
        as_of_ts = as_of_ts.tz_localize(None)
    last = pd.Timestamp(period_start(pd.Series([as_of_ts]), code).iloc[0])
    next_start = period_range(last, last + pd.Timedelta(days=400), code)[1]
    complete = as_of_ts.normalize() + pd.Timedelta(days=1) >= next_start
    return starts, last, bool(complete)


def read_history(
    history: pd.DataFrame,
    *,
    date: str,
    amount: str,
    period: str,
    by: tuple[str, ...],
    as_of: object = None,
    include_incomplete: bool = False,
    refunds: str = "error",
) -> History:
    """Validate ``history`` and sum it per series and period (see the module docstring)."""
    history = fr.require_columns(history, [date, amount, *by], arg="history")
    code = canonical_period(period)
    fr.check_choice(refunds, "refunds", ("error", "allow"))
    if not isinstance(include_incomplete, bool):
        raise ConfigError(
            f"include_incomplete must be True or False, got {include_incomplete!r}",
            column="include_incomplete",
        )
    amounts = fr.numeric_column(
        history,
        amount,
        arg="history",
        allow_negative=refunds == "allow",
        negative_hint=_REFUND_HINT,
        what="finite sales amounts",
    )
    codes, keys, n_groups = _group_codes(history, by)
    incomplete: pd.Period | None = None
    keep = np.ones(len(history), dtype=bool)
    if isinstance(history[date].dtype, pd.PeriodDtype):
        starts = _period_input(history, date, code, codes)
        last = pd.Timestamp(starts.max())
        if as_of is not None:
            as_of_ts = fr.resolve_as_of(as_of, starts, column=date)
            last = pd.Timestamp(period_start(pd.Series([as_of_ts]), code).iloc[0])
            _check_not_after(history, date, starts, last)
    else:
        starts, last, complete = _date_input(history, date, code, as_of)
        if not complete and not include_incomplete:
            incomplete = to_period_index(pd.DatetimeIndex([last]), code)[0]
            keep = (starts < last).to_numpy()
            last = period_range(last - pd.Timedelta(days=400), last, code)[-2]
    return _tabulate(
        history,
        amount=amount,
        starts=starts,
        amounts=amounts,
        codes=codes,
        keys=keys,
        n_groups=n_groups,
        keep=keep,
        last=last,
        code=code,
        incomplete=incomplete,
        refunds=refunds,
    )


def _check_not_after(
    history: pd.DataFrame, date: str, starts: pd.Series, last: pd.Timestamp
) -> None:
    pos = fr.first_true((starts > last).to_numpy())
    if pos is not None:
        raise DataError(
            f"column {date!r} of history has period {history[date].iloc[pos]} at "
            f"{fr.describe_row(history, pos)}, after as_of; the history must end at as_of",
            column=date,
            row=history.index[pos],
            value=history[date].iloc[pos],
        )


def _tabulate(
    history: pd.DataFrame,
    *,
    amount: str,
    starts: pd.Series,
    amounts: npt.NDArray[np.float64],
    codes: _IntArray,
    keys: pd.DataFrame | None,
    n_groups: int,
    keep: npt.NDArray[np.bool_],
    last: pd.Timestamp,
    code: str,
    incomplete: pd.Period | None,
    refunds: str,
) -> History:
    excluded = int((~keep).sum())
    kept_starts = starts.to_numpy()[keep]
    if len(kept_starts) == 0:
        raise DataError(
            f"history has no sales before the incomplete period {incomplete}; pass "
            "include_incomplete=True to forecast from it",
            column="include_incomplete",
        )
    grid = period_range(pd.Timestamp(kept_starts.min()), last, code)
    # in the grid's unit: a grid reaching past 2262 is in seconds, the starts may be in ns
    pos = grid.get_indexer(pd.DatetimeIndex(kept_starts).as_unit(grid.unit))
    kept_codes = codes[keep]
    width = len(grid)
    flat = kept_codes.astype(np.int64) * width + pos
    with np.errstate(over="ignore", invalid="ignore"):  # past the largest float: just below
        sums = np.bincount(flat, weights=amounts[keep], minlength=n_groups * width)

    def cells() -> _IntArray:  # each row's (series, period) cell; -1 for rows left out
        out = np.full(len(history), -1, dtype=np.int64)
        out[keep] = flat
        return out

    values = fr.checked_totals(sums, amounts, cells, history, amount, arg="history")
    first = np.full(n_groups, width, dtype=np.intp)
    np.minimum.at(first, kept_codes, pos.astype(np.intp))
    row_positions = np.full(n_groups, len(history), dtype=np.intp)
    np.minimum.at(row_positions, codes, np.arange(len(history), dtype=np.intp))
    first_rows: list[Any] = [history.index[int(p)] for p in row_positions]
    if (first == width).any():
        i = int(np.argmax(first == width))
        raise DataError(
            f"series {i} of history has sales only in the incomplete period {incomplete}; "
            "pass include_incomplete=True to forecast from it",
            row=first_rows[i],
        )
    return History(
        period=code,
        season=SEASON[code],
        grid=grid,
        values=values.reshape(n_groups, width).astype(np.float64),
        first=first,
        keys=keys,
        first_rows=first_rows,
        incomplete=incomplete,
        excluded=excluded,
        refunds=refunds == "allow",
    )
