"""Customer and revenue KPIs from transactions: new customers, revenue by period, retention.

Each function takes a tidy frame of transactions (one row per purchase) and returns one row per
calendar period (``period="M"`` by default; ``by=`` adds grouping columns before it), every
period from the first to the last present (zeros filled). Periods are computed by
:mod:`crmcore._periods`: any datetime unit (dates before 1677 or after 2262 work) and time
zones kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import (
    datetime_column,
    numeric_column,
    require_columns,
    require_not_null,
    require_one_id_type,
)
from crmcore._periods import period_range
from crmcore.errors import ConfigError
from crmcore.kpi._groups import (
    ALL,
    PERIOD,
    By,
    aggregate_amounts,
    as_period,
    by_names,
    fill_periods,
    group_keys,
    key_or_none,
    period_code,
    period_last,
    ratio,
    required,
)

__all__ = ["new_customers", "retention", "revenue_by_period"]

ARG = "transactions"
_RETENTION = ("active_a", "retained", "churned", "retention_rate", "churn_rate")


def new_customers(
    transactions: pd.DataFrame,
    *,
    by: By = None,
    customer: str = "customer_id",
    date: str = "date",
    period: str = "M",
) -> pd.DataFrame:
    """Count customers whose first purchase falls in each period (and active customers).

    A customer's first purchase is their earliest transaction in the table, so the first period
    of the data counts everyone active in it as new (pass the full history). With ``by``, a
    customer is new in the group of their first transaction (ties on the same instant: the
    smallest group key); ``active_customers`` counts distinct customers per group and period.

    Parameters
    ----------
    transactions
        One row per purchase.
    by
        Extra grouping columns (e.g. ``"region"``); ``"period"`` is always the last key.
    customer, date
        Customer id and purchase date columns.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted).

    Returns
    -------
    pandas.DataFrame
        Columns ``new_customers`` and ``active_customers`` (int64), indexed by the ``by``
        keys then ``period`` (period start), sorted; every period from the first to the last
        in the data appears for every group (zeros filled).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Missing customer id, group key or date.

    Examples
    --------
    >>> from crmcore.kpi import new_customers
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 3],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-02",
    ...                                            "2024-03-09"])})
    >>> new_customers(tx)
                new_customers  active_customers
    period
    2024-01-01              2                 2
    2024-02-01              0                 0
    2024-03-01              1                 2
    """
    names = period_last(by)
    code = period_code(period)
    transactions = require_columns(transactions, [customer, *required(names, date)], arg=ARG)
    require_not_null(transactions, customer, arg=ARG, key=None)
    require_one_id_type(transactions, customer, arg=ARG)
    keys = group_keys(transactions, names, arg=ARG, key=customer, date=date, period=code)
    when = datetime_column(transactions, date, arg=ARG, key=customer)
    frame = keys.reset_index(drop=True)
    frame["__customer"] = transactions[customer].to_numpy()
    frame["__when"] = when.array
    order = ["__customer", "__when", *[n for n in names if n != PERIOD]]
    first = frame.sort_values(order, kind="mergesort").drop_duplicates("__customer")
    new = first.groupby(names, sort=True).size().rename("new_customers")
    active = frame.groupby(names, sort=True)["__customer"].nunique().rename("active_customers")
    agg = pd.DataFrame(
        {
            "new_customers": new.reindex(active.index, fill_value=0).astype(np.int64),
            "active_customers": active.astype(np.int64),
        }
    )
    return fill_periods(names, agg, {"new_customers": 0, "active_customers": 0}, code)


@renamed_parameters(key="customer")
def revenue_by_period(
    transactions: pd.DataFrame,
    *,
    by: By = None,
    date: str = "date",
    amount: str = "amount",
    period: str = "M",
    start: object = None,
    end: object = None,
    customer: str | None = None,
) -> pd.DataFrame:
    """Sum revenue per period (and group), with zeros for periods without sales.

    Parameters
    ----------
    transactions
        One row per sale (negative amounts, e.g. refunds, are allowed and reduce revenue).
    by
        Extra grouping columns; ``"period"`` is always the last key.
    date, amount
        Date and amount columns.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted).
    start, end
        Dates whose periods widen the range of periods shown (default: the data's first and
        last period). Transactions outside them still count: the range is only widened.
        Naive dates are read in the data's time zone; a tz-aware date with naive data is an
        error.
    customer
        Customer (or other id) column named in error messages, optional (``key=`` before
        crmcore 0.2).

    Returns
    -------
    pandas.DataFrame
        Columns ``revenue`` (float64) and ``transactions`` (int64 row count), indexed by the
        ``by`` keys then ``period``, sorted; every period of the range appears for every group.

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        NaN or infinite amount, missing date or group key.

    Examples
    --------
    >>> from crmcore.kpi import revenue_by_period
    >>> tx = pd.DataFrame({"date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-03-09"]),
    ...                    "amount": [10.0, 5.0, 2.5]})
    >>> revenue_by_period(tx)
                revenue  transactions
    period
    2024-01-01     10.0             1
    2024-02-01      0.0             0
    2024-03-01      7.5             2
    """
    names = period_last(by)
    code = period_code(period)
    transactions = require_columns(transactions, [amount, *required(names, date)], arg=ARG)
    k = key_or_none(transactions, customer)
    amounts = numeric_column(transactions, amount, arg=ARG, key=k)
    keys = group_keys(transactions, names, arg=ARG, key=k, date=date, period=code)
    values = pd.DataFrame({"revenue": amounts, "transactions": np.ones(len(amounts), np.int64)})
    agg = aggregate_amounts(
        keys, values, names, amounts=("revenue",), rows=transactions, amount=amount, arg=ARG, key=k
    )
    periods = agg.index.get_level_values(PERIOD)
    tz = getattr(periods.dtype, "tz", None)
    lo, hi = periods.min(), periods.max()
    if start is not None:
        lo = min(as_period(start, "start", code, tz), lo)
    if end is not None:
        hi = max(as_period(end, "end", code, tz), hi)
    return fill_periods(names, agg, {"revenue": 0.0, "transactions": 0}, code, start=lo, end=hi)


def _active_pairs(
    transactions: pd.DataFrame,
    names: Sequence[str],
    *,
    customer: str,
    date: str,
    period: str,
) -> pd.DataFrame:
    """Distinct (group keys..., customer, period) rows of activity."""
    transactions = require_columns(transactions, [customer, date, *required(names, None)], arg=ARG)
    require_not_null(transactions, customer, arg=ARG)
    require_one_id_type(transactions, customer, arg=ARG)
    keys = group_keys(
        transactions, [*names, PERIOD], arg=ARG, key=customer, date=date, period=period
    )
    frame = keys.reset_index(drop=True)
    frame["__customer"] = transactions[customer].to_numpy()
    return frame.drop_duplicates()


def _kept(both: pd.DataFrame) -> pd.DataFrame:
    """Merge result with a 0/1 ``__kept`` column: was the customer active in period B too."""
    return both.assign(__kept=(both["_merge"] == "both").astype(np.int64))


def _retention_between(
    pairs: pd.DataFrame, names: Sequence[str], pa: pd.Timestamp, pb: pd.Timestamp
) -> tuple[pd.Index, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Active-in-A counts and retained counts per group for one pair of periods."""
    in_a = pairs.loc[pairs[PERIOD] == pa].drop(columns=PERIOD)
    in_b = pairs.loc[pairs[PERIOD] == pb].drop(columns=PERIOD)
    both = _kept(in_a.merge(in_b, on=[*names, "__customer"], how="left", indicator=True))
    if not names:
        one = np.asarray([len(both)], dtype=np.int64)
        return pd.Index([ALL]), one, np.asarray([int(both["__kept"].sum())], dtype=np.int64)
    g = both.groupby(list(names), sort=True)
    active_s = g.size()
    kept = np.asarray(g["__kept"].sum(), dtype=np.int64)
    active = np.asarray(active_s, dtype=np.int64)
    return active_s.index, active, kept


def _retention_consecutive(
    pairs: pd.DataFrame, names: Sequence[str], period: str
) -> tuple[pd.Index, npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """Count per group for every pair of consecutive periods; None with fewer than two."""
    span = period_range(pairs[PERIOD].min(), pairs[PERIOD].max(), period)
    if len(span) < 2:
        return None
    # Move each activity to the following period (activity in the last one starts no pair).
    pos = span.searchsorted(pd.DatetimeIndex(pairs[PERIOD]))
    has_next = pos < len(span) - 1
    shifted = pairs.loc[has_next].copy()
    shifted[PERIOD] = span[pos[has_next] + 1]
    keys = [*names, PERIOD]
    both = _kept(
        shifted.merge(pairs, on=[*names, "__customer", PERIOD], how="left", indicator=True)
    )
    g = both.groupby(keys, sort=True)
    agg = pd.DataFrame({"active_a": g.size(), "retained": g["__kept"].sum()}).astype(np.int64)
    agg = fill_periods(
        keys, agg, {"active_a": 0, "retained": 0}, period, start=span[1], end=span[-1]
    )
    return (
        agg.index,
        agg["active_a"].to_numpy(dtype=np.int64),
        agg["retained"].to_numpy(dtype=np.int64),
    )


def _no_pairs(names: Sequence[str]) -> pd.DataFrame:
    """Return the empty result of consecutive retention over fewer than two periods."""
    index: pd.Index = (
        pd.MultiIndex.from_arrays([[] for _ in [*names, PERIOD]], names=[*names, PERIOD])
        if names
        else pd.DatetimeIndex([], name=PERIOD)
    )
    return pd.DataFrame(
        {c: np.zeros(0, np.int64 if i < 3 else np.float64) for i, c in enumerate(_RETENTION)},
        index=index,
    )


def retention(
    transactions: pd.DataFrame,
    *,
    period_a: object = None,
    period_b: object = None,
    by: By = None,
    customer: str = "customer_id",
    date: str = "date",
    period: str = "M",
) -> pd.DataFrame:
    r"""Compute customer retention and churn between periods.

    .. math::

        \text{retention} = \frac{|A \cap B|}{|A|},\qquad \text{churn} = 1 - \text{retention}

    where :math:`A` is the set of customers with a transaction in period A and :math:`B` those
    with one in period B. With ``by`` (e.g. ``"person"``), sets are taken within each group:
    a customer retained by a person bought from that person in both periods.

    Parameters
    ----------
    transactions
        One row per purchase.
    period_a, period_b
        Two dates (any date inside the period, or text such as ``"2024-01"``): retention from
        the period holding ``period_a`` to the one holding ``period_b``. When both are None,
        every pair of consecutive periods of the data is measured (A = the previous period,
        B = the indexed one).
    by
        Grouping columns (``"period"`` is not allowed: periods are the arguments above).
    customer, date, period
        As in :func:`new_customers`.

    Returns
    -------
    pandas.DataFrame
        Columns ``active_a`` (customers active in A), ``retained`` (also active in B),
        ``churned`` (= active_a - retained; int64), ``retention_rate`` and ``churn_rate``
        (float64, NaN where ``active_a`` is 0; they sum to 1 otherwise). Indexed by the ``by``
        keys (``"all"`` when None) for one pair; by the keys then ``period`` (the start of B)
        for consecutive periods, starting at the second period of the data.

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Missing customer id, date or group key.
    ConfigError
        Only one of ``period_a``/``period_b`` given, a bad date, or ``"period"`` in ``by``.

    Examples
    --------
    >>> from crmcore.kpi import retention
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3, 1, 3, 4],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-09",
    ...                                            "2024-02-01", "2024-02-03", "2024-02-07"])})
    >>> retention(tx, period_a="2024-01", period_b="2024-02")
         active_a  retained  churned  retention_rate  churn_rate
    all         3         2        1        0.666667    0.333333
    """
    names = by_names(by)
    code = period_code(period)
    if PERIOD in names:
        raise ConfigError(
            "by may not contain 'period' in retention: pass period_a and period_b, or neither "
            "for consecutive periods",
            column="by",
            value=by,
        )
    if (period_a is None) != (period_b is None):
        raise ConfigError("pass both period_a and period_b, or neither", column="period_a")
    pairs = _active_pairs(transactions, names, customer=customer, date=date, period=code)
    if period_a is not None:
        tz = getattr(pairs[PERIOD].dtype, "tz", None)
        pa = as_period(period_a, "period_a", code, tz)
        pb = as_period(period_b, "period_b", code, tz)
        counts = _retention_between(pairs, names, pa, pb)
    else:
        got = _retention_consecutive(pairs, names, code)
        if got is None:
            return _no_pairs(names)
        counts = got
    index, active, kept = counts
    rate = ratio(kept.astype(np.float64), active.astype(np.float64))
    return pd.DataFrame(
        {
            "active_a": active,
            "retained": kept,
            "churned": active - kept,
            "retention_rate": rate,
            "churn_rate": 1.0 - rate,
        },
        index=index,
    )
