"""Per-customer purchase summaries: marketing RFM and the buy-till-you-die (BTYD) convention.

Both summaries are computed in one vectorised pass over the transactions:

1. customer ids become integer codes (a direct lookup table for integer ids in a compact range,
   otherwise a hash factorisation), sorted so the result is ordered by customer;
2. dates become integer *period ordinals* (whole calendar days, Monday-to-Sunday weeks, months,
   quarters or years), so "number of periods between" is an integer subtraction;
3. one integer key ``period * n_customers + code`` per row (32-bit when it fits) is sorted
   (skipped when the rows are already in date order, as most exports are) and its distinct
   values are the distinct (customer, period) pairs; counts, first and last periods and sums
   then come from ``numpy.bincount`` and ``numpy.minimum.at``-style reductions, with no Python
   loop per customer.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import REMOVED_IN
from crmcore._dask import is_dask
from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    describe_row,
    numeric_column,
    require_columns,
    require_not_null,
    resolve_as_of,
)
from crmcore.errors import DataError

__all__ = ["btyd_summary", "rfm_summary"]

Period = Literal["D", "W", "M", "Q", "Y"]

#: The supported ``period`` values: calendar days, weeks (Monday to Sunday, pandas ``"W"``),
#: months, quarters and years.
PERIODS: tuple[str, ...] = ("D", "W", "M", "Q", "Y")

_IntArray = npt.NDArray[np.int64]
_FloatArray = npt.NDArray[np.float64]

_REFUND_HINT = (
    "pass refunds='allow' to count refunds and returns as negative amounts, or treat them "
    "first with clean_transactions(..., refunds='drop' or 'net')"
)


def _wall_days(values: npt.NDArray[np.datetime64]) -> _IntArray:
    """Whole days since 1970-01-01 (floored) of naive datetime64 values."""
    days: _IntArray = values.astype("datetime64[D]").view(np.int64)
    return days


def _ordinals(days: _IntArray, period: str) -> _IntArray:
    """Integer period ordinals of day numbers: equal within a period, +1 per period."""
    if period == "D":
        return days
    if period == "W":
        # 1970-01-01 was a Thursday; +3 makes weeks start on Monday (pandas "W" = "W-SUN").
        weeks: _IntArray = (days + 3) // 7
        return weeks
    lo = int(days.min())
    hi = int(days.max())
    # Calendar months of the (few) distinct days in range, looked up per row: converting every
    # row to datetime64[M] is a slow per-element calendar computation.
    table = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
    months = table.astype("datetime64[M]").view(np.int64)
    if period == "Q":
        months = months // 3
    elif period == "Y":
        months = months // 12
    out: _IntArray = months[days - lo]
    return out


def _customer_codes(values: pd.Series) -> tuple[npt.NDArray[np.intp], pd.Index]:
    """Codes ``0..k-1`` in sorted order of the distinct customer ids, and those ids."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(values):
        arr = values.to_numpy()
        lo = int(arr.min())
        span = int(arr.max()) - lo + 1
        if span <= 4 * len(arr) + 1_000_000:
            if dtype.kind == "u":  # unsigned: arr >= lo, no overflow in its own type
                offset = (arr - arr.dtype.type(lo)).astype(np.intp)
            else:  # signed: widen first (int8 values -100 and 100 differ by 200)
                # One output array: the subtraction widens as it goes (no int64 copy first).
                offset = np.subtract(arr, np.int64(lo), dtype=np.intp)
            present = np.zeros(span, dtype=bool)
            present[offset] = True
            rank = np.cumsum(present, dtype=np.intp) - 1
            codes: npt.NDArray[np.intp] = rank[offset]
            wide = np.uint64 if dtype.kind == "u" else np.int64
            uniques = (np.flatnonzero(present).astype(wide) + wide(lo)).astype(dtype)
            return codes, pd.Index(uniques, name=values.name)
    fcodes, funiques = pd.factorize(values, sort=True)
    index = pd.Index(funiques, name=values.name)
    return fcodes.astype(np.intp), index


class _Prepared:
    """Validated, converted columns shared by both summaries (rows after ``as_of`` removed)."""

    def __init__(
        self,
        transactions: pd.DataFrame,
        *,
        customer: str,
        date: str,
        amount: str | None,
        as_of: object,
        period: str,
        refunds: str,
        after_as_of: str,
    ) -> None:
        arg = "transactions"
        cols = [customer, date] if amount is None else [customer, date, amount]
        transactions = require_columns(transactions, cols, arg=arg)
        check_choice(period, "period", PERIODS)
        check_choice(refunds, "refunds", ("error", "allow"))
        check_choice(after_as_of, "after_as_of", ("error", "exclude"))
        require_not_null(transactions, customer, arg=arg)
        dates = datetime_column(transactions, date, arg=arg, key=customer)
        amounts: _FloatArray | None = None
        if amount is not None:
            amounts = numeric_column(
                transactions,
                amount,
                arg=arg,
                key=customer,
                allow_negative=refunds == "allow",
                negative_hint=_REFUND_HINT,
                what="finite amounts",
            )
        as_of_ts = resolve_as_of(as_of, dates, column=date)
        tz = getattr(dates.dtype, "tz", None)
        wall = dates.dt.tz_localize(None) if tz is not None else dates
        periods = _ordinals(_wall_days(wall.to_numpy()), period)
        as_of_wall = as_of_ts.tz_localize(None) if tz is not None else as_of_ts
        as_of_day = np.array([as_of_wall.to_datetime64()]).astype("datetime64[D]").view(np.int64)
        as_of_period = int(_ordinals(as_of_day, period)[0])

        after = periods > as_of_period
        n_after = int(after.sum())
        keep: npt.NDArray[np.bool_] | None = None
        if n_after:
            if after_as_of == "error":
                pos = int(np.argmax(after))
                raise DataError(
                    f"column {date!r} of {arg} has date {dates.iloc[pos]} at "
                    f"{describe_row(transactions, pos, customer)}, after as_of={as_of_ts} "
                    f"(period {period!r}); {n_after} row(s) are after as_of. Leave them out "
                    f"explicitly with cut_at_as_of(transactions, as_of=..., period={period!r}) "
                    "and summarise its .kept rows (the result counts and holds the excluded "
                    "rows), or choose a later as_of",
                    column=date,
                    row=transactions.index[pos],
                    value=dates.iloc[pos],
                )
            keep = ~after
        customers = transactions[customer]
        if keep is not None:
            customers = customers[keep]
            dates = dates[keep]
            periods = periods[keep]
            if amounts is not None:
                amounts = amounts[keep]
        self.n_excluded = n_after
        self.dates = dates
        self.periods = periods
        self.amounts = amounts
        self.as_of = as_of_ts
        self.as_of_period = as_of_period
        self.tz = tz
        self.customer = customer
        self.codes, self.index = _customer_codes(customers)
        self.n_customers = len(self.index)


def _period_pairs(
    codes: npt.NDArray[np.intp], periods: _IntArray, n_customers: int
) -> tuple[_IntArray, _IntArray, _IntArray]:
    """Per customer: number of distinct periods, first period and last period."""
    base = int(periods.min())
    span = int(periods.max()) - base + 1
    if span * n_customers < 2**62:
        # Period-major key: already sorted when the rows come in date order (skip the sort).
        # 32-bit keys when they fit: sorting them takes about half the time of 64-bit ones.
        key: npt.NDArray[np.unsignedinteger[Any] | np.signedinteger[Any]]
        # In place: one int64 temporary instead of three.
        key = np.subtract(periods, base)
        key *= n_customers
        key += codes
        if span * n_customers < 2**32:
            key = key.astype(np.uint32)
        if len(key) > 1 and not bool((key[1:] >= key[:-1]).all()):
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


def _warn_exclude(n_excluded: int | None) -> None:
    """Warn that ``after_as_of="exclude"`` is deprecated, with the count and what to use."""
    counted = "" if n_excluded is None else f"; {n_excluded} row(s) after as_of were left out"
    warnings.warn(
        f"after_as_of='exclude' is deprecated and goes in crmcore {REMOVED_IN}{counted}. "
        "Use cut_at_as_of(transactions, as_of=..., period=...) and summarise its .kept rows: "
        "its result counts and holds the excluded rows",
        DeprecationWarning,
        stacklevel=3,
    )


def _empty_like(prep: _Prepared, columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {name: pd.Series([], dtype=dtype) for name, dtype in columns.items()},
        index=prep.index[:0],
    )
    return frame


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    as_of: object = None,
    period: Period = "D",
    refunds: Literal["error", "allow"] = "error",
    after_as_of: Literal["error", "exclude"] = "error",
) -> pd.DataFrame:
    """Summarise each customer's purchases as marketing recency, frequency and monetary value.

    Time is counted in whole calendar periods: every date is mapped to the period holding it
    (``"D"`` days, ``"W"`` Monday-to-Sunday weeks, ``"M"`` months, ``"Q"`` quarters, ``"Y"``
    years; the time of day is ignored; tz-aware dates use their local calendar). With
    ``P(t)`` the period ordinal of ``t``:

    - ``recency = P(as_of) - P(last purchase)`` (0 = bought in the ``as_of`` period);
    - ``frequency`` = number of distinct periods with a purchase (several orders on one day
      count once with ``period="D"``), always >= 1;
    - ``monetary`` = sum of all the customer's amounts;
    - ``tenure = P(as_of) - P(first purchase)``, so ``recency <= tenure``.

    ``as_of`` is taken at period resolution: a row is *after* ``as_of`` when its period is
    later than the period holding ``as_of``.

    Parameters
    ----------
    transactions
        One row per purchase (order or invoice line).
    customer, date, amount
        Column names. ``date`` may be datetime64 (naive or tz-aware) or ISO 8601 text.
    as_of
        End of the observation (a date); default: the latest date in ``date``.
    period
        One of ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``.
    refunds
        ``"error"`` (default): a negative amount raises :class:`~crmcore.errors.DataError`
        whose message says how to allow them; ``"allow"``: negative amounts are summed into
        ``monetary`` like any other.
    after_as_of
        ``"error"`` (default): rows after ``as_of`` raise ``DataError``, whose message points to
        :func:`~crmcore.segmentation.cut_at_as_of`, the explicit way to leave them out (its
        result counts and holds them). ``"exclude"`` is deprecated (``DeprecationWarning``
        naming the number of rows left out; removed in 0.3): the rows are left out and a
        customer whose rows are all after ``as_of`` does not appear.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (named like the ``customer`` column), sorted, one row per
        customer, columns:

        - ``recency`` (int64), ``frequency`` (int64), ``monetary`` (float64);
        - ``first_purchase``, ``last_purchase``: the earliest and latest purchase timestamps
          (same dtype as the dates, time of day kept);
        - ``tenure`` (int64).

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    ColumnTypeError
        Dates or amounts that are not dates or numbers.
    DataError
        Missing customer ids or dates, NaN or infinite amounts, negative amounts (unless
        ``refunds="allow"``), naive and tz-aware dates mixed, rows after ``as_of`` (cut them
        first with :func:`~crmcore.segmentation.cut_at_as_of`).
    ConfigError
        An unknown ``period``/``refunds``/``after_as_of`` or an invalid ``as_of``.

    See Also
    --------
    btyd_summary : the frequency/recency/T convention of BTYD models (lifetimes).
    cut_at_as_of : leave out the rows after ``as_of``, counted.

    Notes
    -----
    Dask: ``transactions`` may also be a ``dask.dataframe.DataFrame``; the result is then a
    lazy Dask DataFrame whose computed value equals the pandas result (``as_of`` defaults to
    the latest date of the whole collection; rows are shuffled by customer). See
    ``docs/scaling.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import rfm_summary
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-03"]),
    ...     "amount": [10.0, 5.0, 20.0, 8.0],
    ... })
    >>> rfm_summary(tx, as_of="2024-01-10")[["recency", "frequency", "monetary", "tenure"]]
                 recency  frequency  monetary  tenure
    customer_id
    1                  5          2      35.0       9
    2                  7          1       8.0       7

    Rows after ``as_of`` are an error; leave them out explicitly, counted:

    >>> from crmcore.segmentation import cut_at_as_of
    >>> cut = cut_at_as_of(tx, as_of="2024-01-04")
    >>> cut.n_excluded, rfm_summary(cut.kept, as_of=cut.as_of)["frequency"].tolist()
    (1, [1, 1])
    """
    if is_dask(transactions):
        from crmcore.segmentation import _dask

        if after_as_of == "exclude":
            _warn_exclude(None)
        return _dask.rfm_summary(
            transactions,
            customer=customer,
            date=date,
            amount=amount,
            as_of=as_of,
            period=period,
            refunds=refunds,
            after_as_of=after_as_of,
        )
    prep = _Prepared(
        transactions,
        customer=customer,
        date=date,
        amount=amount,
        as_of=as_of,
        period=period,
        refunds=refunds,
        after_as_of=after_as_of,
    )
    if after_as_of == "exclude":
        _warn_exclude(prep.n_excluded)
    date_dtype = prep.dates.dtype
    if prep.n_customers == 0:
        out = _empty_like(
            prep,
            {
                "recency": "int64",
                "frequency": "int64",
                "monetary": "float64",
                "first_purchase": str(date_dtype),
                "last_purchase": str(date_dtype),
                "tenure": "int64",
            },
        )
        return out
    n = prep.n_customers
    codes = prep.codes
    count, first, last = _period_pairs(codes, prep.periods, n)
    monetary = np.bincount(codes, weights=cast("_FloatArray", prep.amounts), minlength=n)
    # Earliest and latest instants, in the column's own resolution (UTC for tz-aware dates).
    instants = prep.dates.dt.tz_convert("UTC").dt.tz_localize(None) if prep.tz else prep.dates
    raw = instants.to_numpy()
    ticks = raw.view(np.int64)
    first_tick = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last_tick = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first_tick, codes, ticks)
    np.maximum.at(last_tick, codes, ticks)
    first_ts = pd.DatetimeIndex(first_tick.view(raw.dtype))
    last_ts = pd.DatetimeIndex(last_tick.view(raw.dtype))
    if prep.tz is not None:
        first_ts = first_ts.tz_localize("UTC").tz_convert(prep.tz)
        last_ts = last_ts.tz_localize("UTC").tz_convert(prep.tz)
    out = pd.DataFrame(
        {
            "recency": prep.as_of_period - last,
            "frequency": count,
            "monetary": monetary,
            "first_purchase": first_ts.to_numpy() if prep.tz is None else first_ts.array,
            "last_purchase": last_ts.to_numpy() if prep.tz is None else last_ts.array,
            "tenure": prep.as_of_period - first,
        },
        index=prep.index,
    )
    return out


def btyd_summary(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    amount: str | None = None,
    as_of: object = None,
    period: Period = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    refunds: Literal["error", "allow"] = "error",
    after_as_of: Literal["error", "exclude"] = "error",
) -> pd.DataFrame:
    """Summarise each customer in the buy-till-you-die convention of lifetimes / pymc-marketing.

    The result equals ``lifetimes.utils.summary_data_from_transaction_data`` (lifetimes
    0.11.3) called with ``observation_period_end=as_of``, ``freq=period`` and the same
    ``freq_multiplier`` and ``include_first_transaction``; the tests check this on values
    produced by lifetimes itself. Definitions, with ``P(t)`` the ordinal of the calendar period
    holding ``t`` (time of day ignored; tz-aware dates use their local calendar):

    - a *purchase period* is a period in which the customer bought at least once: several
      orders in one period are one purchase, their amounts summed;
    - ``frequency`` = number of purchase periods - 1 (repeat purchases; with
      ``include_first_transaction=True``: the number of purchase periods);
    - ``recency = (P(last purchase) - P(first purchase)) / freq_multiplier``;
    - ``T = (P(as_of) - P(first purchase)) / freq_multiplier``;
    - ``monetary_value`` (only when ``amount`` is given) = mean of the per-period totals of the
      repeat purchase periods (the first period excluded), 0 when ``frequency`` is 0; with
      ``include_first_transaction=True`` the mean over all purchase periods.

    Unlike lifetimes, months (``"M"``), quarters (``"Q"``) and years (``"Y"``) work (lifetimes
    divides by ``numpy.timedelta64(1, freq)``, which fails for them): they count whole calendar
    periods. Also unlike lifetimes, rows after ``as_of`` are an error (lifetimes drops them
    silently; cut them explicitly with :func:`~crmcore.segmentation.cut_at_as_of`), and
    negative amounts are an error unless ``refunds="allow"``. "After ``as_of``" is at period
    resolution, as in lifetimes: a row later in the same period as ``as_of`` is kept.

    Parameters
    ----------
    transactions
        One row per purchase.
    customer, date
        Column names.
    amount
        Amount column; when given, the result has a ``monetary_value`` column.
    as_of
        End of the observation (lifetimes' ``observation_period_end``); default: the latest
        date.
    period
        ``"D"`` (default), ``"W"`` (Monday-to-Sunday weeks, pandas/lifetimes ``"W"``),
        ``"M"``, ``"Q"`` or ``"Y"``.
    freq_multiplier
        Divides ``recency`` and ``T`` (e.g. ``period="D"``, ``freq_multiplier=7`` gives
        fractional weeks), as in lifetimes.
    include_first_transaction
        Count the first purchase period in ``frequency`` and ``monetary_value`` (lifetimes'
        option of the same name).
    refunds, after_as_of
        As in :func:`rfm_summary` (``after_as_of="exclude"`` is deprecated: cut the rows
        explicitly with :func:`~crmcore.segmentation.cut_at_as_of`).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), columns ``frequency``, ``recency``, ``T`` and, when
        ``amount`` is given, ``monetary_value``; all float64, as in lifetimes.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    ColumnTypeError
        Dates or amounts that are not dates or numbers.
    DataError
        Missing ids or dates, bad or negative amounts, mixed time zones, rows after ``as_of``.
    ConfigError
        An unknown option or an invalid ``as_of`` / ``freq_multiplier``.

    Notes
    -----
    Dask: ``transactions`` may also be a ``dask.dataframe.DataFrame``; the result is then a
    lazy Dask DataFrame equal, once computed, to the pandas result (global ``as_of``; rows
    shuffled by customer). See ``docs/scaling.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import btyd_summary
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-03"]),
    ...     "amount": [10.0, 5.0, 20.0, 8.0],
    ... })
    >>> btyd_summary(tx, amount="amount", as_of="2024-01-10")
                 frequency  recency     T  monetary_value
    customer_id
    1                  1.0      4.0   9.0            20.0
    2                  0.0      0.0   7.0             0.0
    """
    if is_dask(transactions):
        from crmcore.segmentation import _dask

        if after_as_of == "exclude":
            _warn_exclude(None)
        return _dask.btyd_summary(
            transactions,
            customer=customer,
            date=date,
            amount=amount,
            as_of=as_of,
            period=period,
            freq_multiplier=freq_multiplier,
            include_first_transaction=include_first_transaction,
            refunds=refunds,
            after_as_of=after_as_of,
        )
    check_scalar(
        freq_multiplier, "freq_multiplier", kind=(int, float), min_value=0, include="right"
    )
    check_scalar(include_first_transaction, "include_first_transaction", kind=bool)
    prep = _Prepared(
        transactions,
        customer=customer,
        date=date,
        amount=amount,
        as_of=as_of,
        period=period,
        refunds=refunds,
        after_as_of=after_as_of,
    )
    if after_as_of == "exclude":
        _warn_exclude(prep.n_excluded)
    columns = ["frequency", "recency", "T"] + ([] if amount is None else ["monetary_value"])
    if prep.n_customers == 0:
        out = _empty_like(prep, dict.fromkeys(columns, "float64"))
        return out
    n = prep.n_customers
    codes = prep.codes
    count, first, last = _period_pairs(codes, prep.periods, n)
    frequency = count if include_first_transaction else count - 1
    scale = float(freq_multiplier)
    data: dict[str, _FloatArray] = {
        "frequency": frequency.astype(np.float64),
        "recency": (last - first) / scale,
        "T": (prep.as_of_period - first) / scale,
    }
    if prep.amounts is not None:
        amounts = prep.amounts
        if include_first_transaction:
            totals = np.bincount(codes, weights=amounts, minlength=n)
        else:
            repeat = prep.periods != first[codes]
            totals = np.bincount(codes[repeat], weights=amounts[repeat], minlength=n)
        value = np.zeros(n, dtype=np.float64)
        np.divide(totals, frequency, out=value, where=frequency > 0)
        data["monetary_value"] = value
    out = pd.DataFrame(data, index=prep.index)
    return out
