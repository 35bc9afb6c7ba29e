"""Per-customer purchase summaries: marketing RFM and the buy-till-you-die (BTYD) convention.

Both summaries are built from the same per-customer aggregates (number of distinct purchase
periods, first and last period, sums of amounts, first and last instants), computed in
:mod:`crmcore.segmentation._summary`:

- rows in date order (as transaction exports come) are walked once, period by period, with a
  few per-customer arrays: no sort, no per-row date arithmetic, memory independent of the
  number of rows beyond the input itself;
- rows in any other order (or with text ids, tz-aware dates, missing values to report) are
  validated and converted here, then one integer key ``period * n_customers + code`` per row
  is sorted and its distinct values are the distinct (customer, period) pairs.

Both paths give the same numbers bit for bit: every per-customer sum adds the same amounts in
the same order.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._compat import REMOVED_IN
from crmcore._dask import is_dask
from crmcore._memory import normal_pages
from crmcore.errors import DataError
from crmcore.segmentation._summary import (
    Aggregates,
    Reading,
    btyd_frame,
    customer_codes,
    ordered_aggregates,
    ordinals,
    rfm_frame,
    sorted_aggregates,
    wall_days,
)

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


class _Prepared:
    """Validated, converted columns shared by both summaries (rows after ``as_of`` removed)."""

    def __init__(self, transactions: pd.DataFrame, read: Reading) -> None:
        """Check and convert the columns of ``transactions``, whose names _aggregates checked."""
        arg = "transactions"
        customer, date, amount, period = read.customer, read.date, read.amount, read.period
        refunds, after_as_of = read.refunds, read.after_as_of
        fr.require_not_null(transactions, customer, arg=arg)
        dates = fr.datetime_column(transactions, date, arg=arg, key=customer)
        amounts: _FloatArray | None = None
        if amount is not None:
            amounts = fr.numeric_column(
                transactions,
                amount,
                arg=arg,
                key=customer,
                allow_negative=refunds == "allow",
                negative_hint=_REFUND_HINT,
                what="finite amounts",
            )
        as_of_ts = fr.resolve_as_of(read.as_of, dates, column=date)
        tz = getattr(dates.dtype, "tz", None)
        wall = dates.dt.tz_localize(None) if tz is not None else dates
        periods = ordinals(wall_days(wall.to_numpy()), period)
        as_of_wall = as_of_ts.tz_localize(None) if tz is not None else as_of_ts
        as_of_day = np.array([as_of_wall.to_datetime64()]).astype("datetime64[D]").view(np.int64)
        as_of_period = int(ordinals(as_of_day, period)[0])

        after = periods > as_of_period
        n_after = int(after.sum())
        keep: npt.NDArray[np.bool_] | None = None
        if n_after:
            if after_as_of == "error":
                pos = int(np.argmax(after))
                raise DataError(
                    f"column {date!r} of {arg} has date {dates.iloc[pos]} at "
                    f"{fr.describe_row(transactions, pos, customer)}, after as_of={as_of_ts} "
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
        self.codes, self.index = customer_codes(customers)
        self.n_customers = len(self.index)


def _warn_exclude(n_excluded: int | None) -> None:
    """Warn that ``after_as_of="exclude"`` is deprecated, with the count and what to use."""
    counted = "" if n_excluded is None else f"; {n_excluded} row(s) after as_of were left out"
    warnings.warn(
        f"after_as_of='exclude' is deprecated and goes in crmcore {REMOVED_IN}{counted}. "
        "Use cut_at_as_of(transactions, as_of=..., period=...) and summarise its .kept rows: "
        "its result counts and holds the excluded rows",
        DeprecationWarning,
        stacklevel=4,  # _warn_exclude, the summary, its normal_pages wrapper, the caller
    )


def _aggregates(
    transactions: pd.DataFrame, read: Reading, *, total: bool, repeat: bool, ticks: bool
) -> Aggregates:
    """Per-customer aggregates: the one-pass walk for rows in date order, else the sort."""
    customer, amount = read.customer, read.amount
    cols = [customer, read.date] if amount is None else [customer, read.date, amount]
    transactions = fr.require_columns(transactions, cols, arg="transactions")
    fr.require_one_id_type(transactions, customer, arg="transactions")
    fr.check_choice(read.period, "period", PERIODS)
    fr.check_choice(read.refunds, "refunds", ("error", "allow"))
    fr.check_choice(read.after_as_of, "after_as_of", ("error", "exclude"))
    with np.errstate(over="ignore"):  # a total past the largest float: named just below
        fast = ordered_aggregates(
            transactions, read, want_total=total, want_repeat=repeat, want_ticks=ticks
        )
    if fast is not None:
        return _finite_totals(fast, transactions, customer=customer, amount=amount)
    prep = _Prepared(transactions, read)
    with np.errstate(over="ignore"):
        agg = sorted_aggregates(
            prep.codes,
            prep.index,
            prep.periods,
            prep.amounts,
            prep.dates,
            as_of=prep.as_of,
            as_of_period=prep.as_of_period,
            n_excluded=prep.n_excluded,
            want_total=total,
            want_repeat=repeat,
            want_ticks=ticks,
        )
    return _finite_totals(agg, transactions, customer=customer, amount=amount)


def _finite_totals(
    agg: Aggregates, transactions: pd.DataFrame, *, customer: str, amount: str | None
) -> Aggregates:
    """Return ``agg``, or raise a DataError when a customer's amounts add up past a float.

    Finite amounts (validated) can still sum to infinity near 1.8e308; a monetary total of
    ``inf`` would be a silently wrong answer. The message names the customer's largest amount.
    """
    sums = [s for s in (agg.total, agg.repeat) if s is not None]
    if amount is None or not sums:
        return agg
    over = np.zeros(len(agg.index), dtype=bool)
    for s in sums:
        over |= ~np.isfinite(s)  # inf, or NaN from inf - inf (amounts themselves are finite)
    pos = fr.first_true(over)
    if pos is None:
        return agg
    who = agg.index[pos]
    size = np.abs(pd.to_numeric(transactions[amount], errors="coerce").to_numpy(np.float64))
    mine = (transactions[customer] == who).to_numpy(dtype=bool)
    row = int(np.nanargmax(np.where(mine, size, -1.0) if mine.any() else size))
    value = transactions[amount].iloc[row]
    raise DataError(
        f"column {amount!r} of transactions: the amounts of customer {fr.show(who)} add up past "
        f"the largest float (about 1.8e308), the largest being {fr.show(value)} at "
        f"{fr.describe_row(transactions, row, customer)}; expected totals a float can hold "
        "(express the amounts in a larger unit, e.g. thousands)",
        column=amount,
        row=transactions.index[row],
        value=value,
    )


@normal_pages
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
        first with :func:`~crmcore.segmentation.cut_at_as_of`), a customer's amounts adding
        up past the largest float (about 1.8e308).
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
    the latest date of the whole collection; partitions are aggregated where they lie and
    merged per customer, with ``monetary`` equal up to the order of float additions). See
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
        import crmcore.segmentation._dask as dask_adapter

        if after_as_of == "exclude":
            _warn_exclude(None)
        return dask_adapter.rfm_summary(
            transactions,
            customer=customer,
            date=date,
            amount=amount,
            as_of=as_of,
            period=period,
            refunds=refunds,
            after_as_of=after_as_of,
        )
    read = Reading(
        customer=customer,
        date=date,
        amount=amount,
        as_of=as_of,
        period=period,
        refunds=refunds,
        after_as_of=after_as_of,
    )
    agg = _aggregates(transactions, read, total=True, repeat=False, ticks=True)
    if after_as_of == "exclude":
        _warn_exclude(agg.n_excluded)
    return rfm_frame(agg)


@normal_pages
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
        Missing ids or dates, bad or negative amounts, mixed time zones, rows after ``as_of``,
        a customer's amounts adding up past the largest float.
    ConfigError
        An unknown option or an invalid ``as_of`` / ``freq_multiplier``.

    Notes
    -----
    Dask: ``transactions`` may also be a ``dask.dataframe.DataFrame``; the result is then a
    lazy Dask DataFrame equal, once computed, to the pandas result (global ``as_of``;
    partitions aggregated where they lie and merged per customer, ``monetary_value`` equal up
    to the order of float additions). See ``docs/scaling.md``.

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
        import crmcore.segmentation._dask as dask_adapter

        if after_as_of == "exclude":
            _warn_exclude(None)
        return dask_adapter.btyd_summary(
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
    fr.check_scalar(
        freq_multiplier, "freq_multiplier", kind=(int, float), min_value=0, include="right"
    )
    fr.check_scalar(include_first_transaction, "include_first_transaction", kind=bool)
    read = Reading(
        customer=customer,
        date=date,
        amount=amount,
        as_of=as_of,
        period=period,
        refunds=refunds,
        after_as_of=after_as_of,
    )
    first = include_first_transaction
    agg = _aggregates(transactions, read, total=first, repeat=not first, ticks=False)
    if after_as_of == "exclude":
        _warn_exclude(agg.n_excluded)
    return btyd_frame(agg, include_first=include_first_transaction, scale=float(freq_multiplier))
