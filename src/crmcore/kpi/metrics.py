"""Sales KPIs from tidy tables: win rate, deal size, cycle length, customers, revenue, activity.

Every function takes a tidy frame (one row per deal, transaction or activity) with keyword
column names and a ``by=`` grouping: ``None`` (one row labelled ``"all"``), a column name or a
list of them. The special name ``"period"`` is not read from the frame: it is the start of the
calendar period (``period="M"`` by default: month start) that contains each row's date, so
``by=["person", "period"]`` gives one row per rep and month. Results are indexed by the group
keys (in the order given) and sorted by them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    show,
)
from crmcore.errors import ConfigError, DataError

__all__ = [
    "activity_counts",
    "average_deal_size",
    "new_customers",
    "retention",
    "revenue_by_period",
    "sales_cycle_length",
    "win_rate",
]

By = str | Sequence[str] | None

PERIOD = "period"
_FREQS = ("D", "W", "M", "Q", "Y")
_ALIASES = {"MS": "M", "ME": "M", "QS": "Q", "QE": "Q", "YS": "Y", "YE": "Y", "A": "Y"}
_ALL = "all"


# --------------------------------------------------------------------------- shared helpers


def _by_names(by: By) -> list[str]:
    """Return ``by`` as a list of distinct column names (``"period"`` included as given)."""
    if by is None:
        return []
    names = [by] if isinstance(by, str) else list(by)
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(
                f"by must be None, a column name or a list of column names; got {show(name)}",
                column="by",
                value=by,
            )
    dupes = [n for i, n in enumerate(names) if n in names[:i]]
    if dupes:
        raise ConfigError(f"by names {dupes[0]!r} twice; each key once", column="by", value=by)
    return names


def _freq(period: str) -> str:
    """Normalise a period frequency to one of D/W/M/Q/Y."""
    if not isinstance(period, str):
        raise ConfigError(
            f"period must be one of {', '.join(map(repr, _FREQS))}; got {show(period)}",
            column="period",
            value=period,
        )
    freq = _ALIASES.get(period, period)
    check_choice(freq, "period", _FREQS)
    return freq


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """Return the start of the calendar period holding each date, as ``datetime64[ns]``.

    Time-zone aware dates keep their zone: the period is taken on the local wall clock.
    Weeks start on Monday.

    Examples
    --------
    >>> d = pd.Series(pd.to_datetime(["2024-01-15 10:00", "2024-03-31 00:00"]))
    >>> period_start(d, "M").astype(str).tolist()
    ['2024-01-01', '2024-03-01']
    >>> period_start(d, "W").astype(str).tolist()
    ['2024-01-15', '2024-03-25']
    """
    tz = getattr(dates.dtype, "tz", None)
    local = dates.dt.tz_localize(None) if tz is not None else dates
    out: pd.Series = local.dt.normalize() if freq == "D" else local.dt.to_period(freq).dt.start_time
    out = out.astype("datetime64[ns]")
    if tz is not None:
        out = out.dt.tz_localize(tz)
    return out


def _group_keys(
    frame: pd.DataFrame,
    names: Sequence[str],
    *,
    arg: str,
    key: str | None,
    date: str,
    freq: str,
) -> pd.DataFrame:
    """Return a new frame of group-key columns for ``frame`` (same index).

    Columns are checked for missing values; ``"period"`` is derived from ``date``.
    """
    data: dict[str, Any] = {}
    for name in names:
        if name == PERIOD:
            dates = datetime_column(frame, date, arg=arg, key=key)
            data[name] = period_start(dates, freq).to_numpy()
        else:
            require_not_null(frame, name, arg=arg, key=key)
            data[name] = frame[name].to_numpy()
    return pd.DataFrame(data, index=frame.index)


def _required(names: Sequence[str], date: str | None) -> list[str]:
    cols = [n for n in names if n != PERIOD]
    if PERIOD in names and date is not None:
        cols.append(date)
    return cols


def _aggregate(
    keys: pd.DataFrame, values: pd.DataFrame, names: Sequence[str], how: str = "sum"
) -> pd.DataFrame:
    """Group ``values`` by the key columns and aggregate; one ``"all"`` row when no keys."""
    if not names:
        agg = values.agg(how).to_frame().T.astype(values.dtypes)
        agg.index = pd.Index([_ALL])
        return agg
    joined = pd.concat([keys.reset_index(drop=True), values.reset_index(drop=True)], axis=1)
    grouped = joined.groupby(list(names), sort=True, dropna=False)
    return grouped[list(values.columns)].agg(how)


def _ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``num / den`` with NaN where ``den`` is zero (no warning)."""
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _status_masks(
    deals: pd.DataFrame,
    *,
    status: str,
    won: str,
    lost: str,
    open_values: Collection[str] | None,
    key: str | None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Boolean masks (won, lost, open); unknown statuses raise DataError naming the row."""
    require_not_null(deals, status, arg="deals", key=key)
    values = deals[status]
    is_won = (values == won).to_numpy(dtype=bool)
    is_lost = (values == lost).to_numpy(dtype=bool)
    if open_values is None:
        is_open = ~(is_won | is_lost)
    else:
        is_open = values.isin(list(open_values)).to_numpy(dtype=bool) & ~(is_won | is_lost)
        pos = first_true(~(is_won | is_lost | is_open))
        if pos is not None:
            allowed = ", ".join(repr(v) for v in [won, lost, *open_values])
            raise DataError(
                f"column {status!r} of deals has unknown value {show(values.iloc[pos])} at "
                f"{describe_row(deals, pos, key)}; expected one of {allowed} "
                "(pass open_values=None to treat every other value as open)",
                column=status,
                row=deals.index[pos],
                value=values.iloc[pos],
            )
    return is_won, is_lost, is_open


def _key_or_none(frame: pd.DataFrame, key: str | None) -> str | None:
    # not a frame: None here, and the caller's require_columns raises InputTypeError
    is_frame = isinstance(frame, pd.DataFrame)
    return key if key is not None and is_frame and key in frame.columns else None


# --------------------------------------------------------------------------- deals


def win_rate(
    deals: pd.DataFrame,
    *,
    by: By = None,
    status: str = "status",
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    amount: str = "amount",
    closed: str = "closed_at",
    created: str = "created_at",
    period: str = "M",
    key: str = "opportunity_id",
) -> pd.DataFrame:
    r"""Compute win rates by count and by value: won ÷ (won + lost); open deals are excluded.

    .. math::

        \text{win\_rate\_count} = \frac{n_\text{won}}{n_\text{won} + n_\text{lost}},\qquad
        \text{win\_rate\_value} = \frac{\sum_\text{won} a}{\sum_\text{won} a + \sum_\text{lost} a}

    Parameters
    ----------
    deals
        One row per opportunity.
    by
        Grouping: ``None``, a column name or a list of them. ``"period"`` groups closed deals
        by the period of ``closed`` and open deals by the period of ``created``.
    status
        Column holding the outcome.
    won, lost
        The values of ``status`` that mean won and lost.
    open_values
        Values meaning still open (counted in ``open``, excluded from the rates). ``None``
        treats every value other than ``won``/``lost`` as open (e.g. a stage column); otherwise
        any other value is an error.
    amount
        Deal value column (finite, >= 0 on closed deals; open deals' amounts are not read).
    closed, created
        Date columns, read only when grouping by ``"period"``.
    period
        Period length for ``"period"``: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    key
        Deal id column, used to name rows in error messages (optional).

    Returns
    -------
    pandas.DataFrame
        Indexed by the group keys (``"all"`` when ``by`` is None), sorted. Columns ``won``,
        ``lost``, ``closed`` (= won + lost), ``open`` (int64 counts), ``win_rate_count``,
        ``won_amount``, ``lost_amount``, ``win_rate_value`` (float64). Rates are NaN where no
        deal is closed (or closed value is zero), never 0.

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Unknown status, missing group key, NaN/negative amount on a closed deal, missing close
        date when grouping by period.

    Examples
    --------
    >>> from crmcore.kpi import win_rate
    >>> d = pd.DataFrame({"person": ["ann", "ann", "ann", "bob"],
    ...                   "status": ["won", "lost", "open", "lost"],
    ...                   "amount": [300.0, 100.0, 50.0, 80.0]})
    >>> win_rate(d, by="person")[["won", "lost", "open", "win_rate_count", "win_rate_value"]]
            won  lost  open  win_rate_count  win_rate_value
    person
    ann       1     1     1             0.5            0.75
    bob       0     1     0             0.0            0.00
    """
    names = _by_names(by)
    freq = _freq(period)
    require_columns(deals, [status, amount, *_required(names, None)], arg="deals")
    k = _key_or_none(deals, key)
    is_won, is_lost, is_open = _status_masks(
        deals, status=status, won=won, lost=lost, open_values=open_values, key=k
    )
    is_closed = is_won | is_lost
    closed_rows = deals.loc[is_closed]
    open_rows = deals.loc[is_open]
    if PERIOD in names:
        require_columns(deals, [closed], arg="deals")
        if len(open_rows):
            require_columns(deals, [created], arg="deals")
    amounts = numeric_column(
        closed_rows, amount, arg="deals", key=k, allow_negative=False, what="deal amounts >= 0"
    )
    keys_closed = _group_keys(closed_rows, names, arg="deals", key=k, date=closed, freq=freq)
    keys_open = _group_keys(open_rows, names, arg="deals", key=k, date=created, freq=freq)
    w = is_won[is_closed]
    values = pd.DataFrame(
        {
            "won": np.concatenate([w, np.zeros(len(open_rows), bool)]).astype(np.int64),
            "lost": np.concatenate([~w, np.zeros(len(open_rows), bool)]).astype(np.int64),
            "open": np.concatenate([np.zeros(len(w), np.int64), np.ones(len(open_rows), np.int64)]),
            "won_amount": np.concatenate([np.where(w, amounts, 0.0), np.zeros(len(open_rows))]),
            "lost_amount": np.concatenate([np.where(w, 0.0, amounts), np.zeros(len(open_rows))]),
        }
    )
    keys = pd.concat([keys_closed, keys_open], ignore_index=True)
    agg = _aggregate(keys, values, names)
    won_n = agg["won"].to_numpy(dtype=np.float64)
    lost_n = agg["lost"].to_numpy(dtype=np.float64)
    won_a = agg["won_amount"].to_numpy(dtype=np.float64)
    lost_a = agg["lost_amount"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "won": agg["won"].to_numpy(dtype=np.int64),
            "lost": agg["lost"].to_numpy(dtype=np.int64),
            "closed": (agg["won"] + agg["lost"]).to_numpy(dtype=np.int64),
            "open": agg["open"].to_numpy(dtype=np.int64),
            "win_rate_count": _ratio(won_n, won_n + lost_n),
            "won_amount": won_a,
            "lost_amount": lost_a,
            "win_rate_value": _ratio(won_a, won_a + lost_a),
        },
        index=agg.index,
    )


def _won_rows(
    deals: pd.DataFrame,
    names: Sequence[str],
    *,
    status: str | None,
    won: str,
    extra: Sequence[str],
    key: str | None,
    lost: str | None = None,
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    """Rows whose status is ``won`` (or ``lost`` too when given) and a won mask over them."""
    require_columns(deals, [*extra, *_required(names, None)], arg="deals")
    if status is None:
        return deals, np.ones(len(deals), dtype=bool)
    require_columns(deals, [status], arg="deals")
    require_not_null(deals, status, arg="deals", key=key)
    values = deals[status]
    is_won = (values == won).to_numpy(dtype=bool)
    keep = is_won | (values == lost).to_numpy(dtype=bool) if lost is not None else is_won
    return deals.loc[keep], is_won[keep]


def average_deal_size(
    deals: pd.DataFrame,
    *,
    by: By = None,
    status: str | None = "status",
    won: str = "won",
    amount: str = "amount",
    closed: str = "closed_at",
    period: str = "M",
    key: str = "opportunity_id",
) -> pd.DataFrame:
    """Compute the size of won deals: count, total, mean and median amount per group.

    Parameters
    ----------
    deals
        One row per opportunity.
    by
        Grouping (see :func:`win_rate`); ``"period"`` uses the period of ``closed``.
    status, won
        Only rows with ``status == won`` count; ``status=None`` takes every row as won.
    amount
        Deal value column (finite, >= 0 on won deals).
    closed
        Close date column, read only when grouping by ``"period"``.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    key
        Deal id column for error messages (optional).

    Returns
    -------
    pandas.DataFrame
        Columns ``count`` (int64), ``total``, ``mean``, ``median`` (float64), indexed by the
        group keys, sorted. Only groups with at least one won deal appear (a single ``"all"``
        row with count 0 and NaN mean/median when ``by`` is None and nothing was won).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        NaN or negative amount on a won deal, missing group key or close date.

    Examples
    --------
    >>> from crmcore.kpi import average_deal_size
    >>> d = pd.DataFrame({"person": ["ann", "ann", "ann", "bob"],
    ...                   "status": ["won", "won", "lost", "won"],
    ...                   "amount": [100.0, 300.0, 999.0, 50.0]})
    >>> average_deal_size(d, by="person")
            count  total   mean  median
    person
    ann         2  400.0  200.0   200.0
    bob         1   50.0   50.0    50.0
    """
    names = _by_names(by)
    freq = _freq(period)
    k = _key_or_none(deals, key)
    # the close date is needed only to derive the period, but then it must be there
    extra = [amount, closed] if PERIOD in names else [amount]
    rows, _ = _won_rows(deals, names, status=status, won=won, extra=extra, key=k)
    amounts = numeric_column(
        rows, amount, arg="deals", key=k, allow_negative=False, what="deal amounts >= 0"
    )
    keys = _group_keys(rows, names, arg="deals", key=k, date=closed, freq=freq)
    values = pd.DataFrame({"amount": amounts})
    if not names:
        n = len(amounts)
        return pd.DataFrame(
            {
                "count": np.asarray([n], dtype=np.int64),
                "total": [float(amounts.sum())],
                "mean": [float(amounts.mean()) if n else np.nan],
                "median": [float(np.median(amounts)) if n else np.nan],
            },
            index=pd.Index([_ALL]),
        )
    joined = pd.concat([keys.reset_index(drop=True), values], axis=1)
    g = joined.groupby(names, sort=True)["amount"]
    out = pd.DataFrame(
        {
            "count": g.size().astype(np.int64),
            "total": g.sum(),
            "mean": g.mean(),
            "median": g.median(),
        }
    )
    return out


def sales_cycle_length(
    deals: pd.DataFrame,
    *,
    by: By = None,
    created: str = "created_at",
    closed: str = "closed_at",
    status: str | None = "status",
    won: str = "won",
    lost: str = "lost",
    include_lost: bool = False,
    period: str = "M",
    key: str = "opportunity_id",
) -> pd.DataFrame:
    """Compute sales cycle lengths: days from creation to close of won (and lost) deals.

    The cycle of a deal is ``(closed - created) / 1 day`` (fractional days when times of day
    are given). Open deals are not read.

    Parameters
    ----------
    deals
        One row per opportunity.
    by
        Grouping (see :func:`win_rate`); ``"period"`` uses the period of ``closed``.
    created, closed
        Creation and close date columns (both needed on every counted deal).
    status, won, lost
        Which rows count: ``status == won`` (and ``lost`` when ``include_lost``);
        ``status=None`` counts every row.
    include_lost
        Count lost deals too (time to a decision rather than time to a win).
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    key
        Deal id column, named in error messages (optional).

    Returns
    -------
    pandas.DataFrame
        Columns ``count`` (int64), ``mean``, ``median``, ``p90`` (90th percentile, linear
        interpolation), ``min``, ``max`` (float64 days), indexed by the group keys, sorted.
        Only groups with a counted deal appear (one ``"all"`` row, NaN stats, when none).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        A counted deal closes before it was created (the deal is named), or lacks a date.

    Examples
    --------
    >>> from crmcore.kpi import sales_cycle_length
    >>> d = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                   "status": ["won", "won", "lost"],
    ...                   "created_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-01"]),
    ...                   "closed_at": pd.to_datetime(["2024-01-31", "2024-01-20", "2024-03-01"])})
    >>> sales_cycle_length(d)[["count", "mean", "median", "max"]]
         count  mean  median   max
    all      2  20.0    20.0  30.0
    """
    names = _by_names(by)
    freq = _freq(period)
    check_scalar(include_lost, "include_lost", kind=bool)
    k = _key_or_none(deals, key)
    rows, _ = _won_rows(
        deals,
        names,
        status=status,
        won=won,
        extra=[created, closed],
        key=k,
        lost=lost if include_lost else None,
    )
    start = datetime_column(rows, created, arg="deals", key=k)
    end = datetime_column(rows, closed, arg="deals", key=k)
    if (getattr(start.dtype, "tz", None) is None) != (getattr(end.dtype, "tz", None) is None):
        raise DataError(
            f"columns {created!r} and {closed!r} of deals mix naive and tz-aware dates; "
            "use one convention",
            column=closed,
        )
    days = (end - start).dt.total_seconds().to_numpy(dtype=np.float64) / 86400.0
    pos = first_true(days < 0)
    if pos is not None:
        raise DataError(
            f"deal at {describe_row(rows, pos, k)} closes before it was created "
            f"({closed}={end.iloc[pos]}, {created}={start.iloc[pos]}); cycle of "
            f"{show(days[pos])} days, expected >= 0",
            column=closed,
            row=rows.index[pos],
            value=end.iloc[pos],
        )
    keys = _group_keys(rows, names, arg="deals", key=k, date=closed, freq=freq)
    if not names:
        n = len(days)
        stats = (
            [days.mean(), np.median(days), np.quantile(days, 0.9), days.min(), days.max()]
            if n
            else [np.nan] * 5
        )
        return pd.DataFrame(
            {
                "count": np.asarray([n], dtype=np.int64),
                **{c: [float(v)] for c, v in zip(_CYCLE_STATS, stats, strict=True)},
            },
            index=pd.Index([_ALL]),
        )
    joined = pd.concat([keys.reset_index(drop=True), pd.DataFrame({"days": days})], axis=1)
    g = joined.groupby(names, sort=True)["days"]
    return pd.DataFrame(
        {
            "count": g.size().astype(np.int64),
            "mean": g.mean(),
            "median": g.median(),
            "p90": g.quantile(0.9),
            "min": g.min(),
            "max": g.max(),
        }
    )


_CYCLE_STATS = ("mean", "median", "p90", "min", "max")


# --------------------------------------------------------------------------- transactions


def _periods_full(
    names: Sequence[str],
    agg: pd.DataFrame,
    fill: dict[str, Any],
    freq: str,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Reindex ``agg`` (grouped by names, ending in period) to every period in the span."""
    if not len(agg):
        return agg
    periods = agg.index.get_level_values(PERIOD)
    first = periods.min() if start is None else start
    last = periods.max() if end is None else end
    span = _period_range(first, last, freq)
    others = [n for n in names if n != PERIOD]
    if others:
        idx = agg.index.droplevel([PERIOD]).unique().sort_values()  # type: ignore[list-item]  # stubs type level names as Never
        groups = idx.to_frame(index=False)
        grid = groups.merge(pd.DataFrame({PERIOD: span}), how="cross")
        full: pd.Index = pd.MultiIndex.from_frame(grid[list(names)])
    else:
        full = pd.Index(span, name=PERIOD)
    out = agg.reindex(full)
    return out.fillna(fill).astype(agg.dtypes.to_dict())


def _period_range(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    offset = {"D": "D", "W": "W-MON", "M": "MS", "Q": "QS", "Y": "YS"}[freq]
    span = pd.date_range(first, last, freq=offset, unit="ns")
    return pd.DatetimeIndex(span.to_numpy(), dtype=span.dtype)  # plain index, no freq


def _period_names(by: By) -> list[str]:
    names = _by_names(by)
    if PERIOD in names:
        names.remove(PERIOD)
    return [*names, PERIOD]


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
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.

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
    names = _period_names(by)
    freq = _freq(period)
    require_columns(transactions, [customer, *_required(names, date)], arg="transactions")
    require_not_null(transactions, customer, arg="transactions", key=None)
    keys = _group_keys(transactions, names, arg="transactions", key=customer, date=date, freq=freq)
    when = datetime_column(transactions, date, arg="transactions", key=customer)
    frame = keys.reset_index(drop=True)
    frame["__customer"] = transactions[customer].to_numpy()
    frame["__when"] = when.to_numpy()
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
    return _periods_full(names, agg, {"new_customers": 0, "active_customers": 0}, freq)


def revenue_by_period(
    transactions: pd.DataFrame,
    *,
    by: By = None,
    date: str = "date",
    amount: str = "amount",
    period: str = "M",
    start: object = None,
    end: object = None,
    key: str | None = None,
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
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    start, end
        Dates whose periods widen the range of periods shown (default: the data's first and
        last period). Transactions outside them still count: the range is only widened.
        Naive dates are read in the data's time zone; a tz-aware date with naive data is an
        error.
    key
        Id column named in error messages (optional).

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
    names = _period_names(by)
    freq = _freq(period)
    require_columns(transactions, [amount, *_required(names, date)], arg="transactions")
    k = _key_or_none(transactions, key)
    amounts = numeric_column(transactions, amount, arg="transactions", key=k)
    keys = _group_keys(transactions, names, arg="transactions", key=k, date=date, freq=freq)
    values = pd.DataFrame({"revenue": amounts, "transactions": np.ones(len(amounts), np.int64)})
    agg = _aggregate(keys, values, names)
    tz = getattr(agg.index.get_level_values(PERIOD).dtype, "tz", None)
    bounds = [
        None if value is None else _as_period(value, name, freq, tz)
        for name, value in (("start", start), ("end", end))
    ]
    periods = agg.index.get_level_values(PERIOD)
    lo = periods.min() if bounds[0] is None else min(bounds[0], periods.min())
    hi = periods.max() if bounds[1] is None else max(bounds[1], periods.max())
    return _periods_full(names, agg, {"revenue": 0.0, "transactions": 0}, freq, start=lo, end=hi)


def _active_pairs(
    transactions: pd.DataFrame,
    names: Sequence[str],
    *,
    customer: str,
    date: str,
    freq: str,
) -> pd.DataFrame:
    """Distinct (group keys..., customer, period) rows of activity."""
    require_columns(transactions, [customer, date, *_required(names, None)], arg="transactions")
    require_not_null(transactions, customer, arg="transactions")
    keys = _group_keys(
        transactions, [*names, PERIOD], arg="transactions", key=customer, date=date, freq=freq
    )
    frame = keys.reset_index(drop=True)
    frame["__customer"] = transactions[customer].to_numpy()
    return frame.drop_duplicates()


def _as_period(value: object, name: str, freq: str, tz: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]  # validated right here
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a date or period", column=name) from None
    if pd.isna(ts):
        raise ConfigError(f"{name} is NaT; expected a date", column=name)
    if ts.tzinfo is None and tz is not None:
        ts = ts.tz_localize(tz)
    elif ts.tzinfo is not None and tz is not None:
        ts = ts.tz_convert(tz)
    elif ts.tzinfo is not None and tz is None:
        raise ConfigError(
            f"{name}={value!r} is tz-aware but the dates are naive; use one convention",
            column=name,
        )
    out: pd.Timestamp = period_start(pd.Series([ts]), freq).iloc[0]
    return out


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
    a customer retained by a rep bought from that rep in both periods.

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
    customer, date
        Customer id and purchase date columns.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.

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
    names = _by_names(by)
    freq = _freq(period)
    if PERIOD in names:
        raise ConfigError(
            "by may not contain 'period' in retention: pass period_a and period_b, or neither "
            "for consecutive periods",
            column="by",
            value=by,
        )
    if (period_a is None) != (period_b is None):
        raise ConfigError("pass both period_a and period_b, or neither", column="period_a")
    pairs = _active_pairs(transactions, names, customer=customer, date=date, freq=freq)
    tz = getattr(pairs[PERIOD].dtype, "tz", None)
    cols = ["active_a", "retained", "churned", "retention_rate", "churn_rate"]
    if period_a is not None:
        pa = _as_period(period_a, "period_a", freq, tz)
        pb = _as_period(period_b, "period_b", freq, tz)
        in_a = pairs.loc[pairs[PERIOD] == pa].drop(columns=PERIOD)
        in_b = pairs.loc[pairs[PERIOD] == pb].drop(columns=PERIOD)
        both = in_a.merge(in_b, on=[*names, "__customer"], how="left", indicator=True)
        both["__kept"] = (both["_merge"] == "both").astype(np.int64)
        if names:
            g = both.groupby(names, sort=True)
            active = g.size().astype(np.int64)
            kept = g["__kept"].sum().astype(np.int64)
            index = active.index
            a_arr = active.to_numpy(dtype=np.int64)
            k_arr = kept.to_numpy(dtype=np.int64)
        else:
            index = pd.Index([_ALL])
            a_arr = np.asarray([len(both)], dtype=np.int64)
            k_arr = np.asarray([int(both["__kept"].sum())], dtype=np.int64)
    else:
        span = _period_range(pairs[PERIOD].min(), pairs[PERIOD].max(), freq)
        if len(span) < 2:
            return pd.DataFrame(
                {c: np.zeros(0, np.int64 if i < 3 else np.float64) for i, c in enumerate(cols)},
                index=pd.MultiIndex.from_arrays(
                    [[] for _ in [*names, PERIOD]], names=[*names, PERIOD]
                )
                if names
                else pd.DatetimeIndex([], name=PERIOD),
            )
        # Move each activity to the following period (activity in the last one starts no pair).
        pos = span.searchsorted(pd.DatetimeIndex(pairs[PERIOD]))
        has_next = pos < len(span) - 1
        shifted = pairs.loc[has_next].copy()
        shifted[PERIOD] = span[pos[has_next] + 1]
        both = shifted.merge(pairs, on=[*names, "__customer", PERIOD], how="left", indicator=True)
        both["__kept"] = (both["_merge"] == "both").astype(np.int64)
        g = both.groupby([*names, PERIOD], sort=True)
        agg = pd.DataFrame({"active_a": g.size(), "retained": g["__kept"].sum()})
        agg = _periods_full(
            [*names, PERIOD],
            agg.astype(np.int64),
            {"active_a": 0, "retained": 0},
            freq,
            start=span[1],
            end=span[-1],
        )
        index = agg.index
        a_arr = agg["active_a"].to_numpy(dtype=np.int64)
        k_arr = agg["retained"].to_numpy(dtype=np.int64)
    rate = _ratio(k_arr.astype(np.float64), a_arr.astype(np.float64))
    return pd.DataFrame(
        {
            "active_a": a_arr,
            "retained": k_arr,
            "churned": a_arr - k_arr,
            "retention_rate": rate,
            "churn_rate": 1.0 - rate,
        },
        index=index,
    )


# --------------------------------------------------------------------------- activities


def activity_counts(
    activities: pd.DataFrame,
    *,
    by: By = "person",
    kind: str = "kind",
    kinds: Sequence[str] | None = None,
    date: str = "date",
    period: str = "M",
) -> pd.DataFrame:
    """Count logged activities (calls, emails, meetings, ...) per group, one column per kind.

    Parameters
    ----------
    activities
        One row per activity.
    by
        Grouping (default ``"person"``); ``"period"`` uses the period of ``date``.
    kind
        Column naming the activity type.
    kinds
        The expected kinds, in column order; another value is an error naming the row. Default:
        the kinds present, sorted.
    date
        Date column, read only when grouping by ``"period"``.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.

    Returns
    -------
    pandas.DataFrame
        One int64 column per kind plus ``total``, indexed by the group keys, sorted. With
        ``"period"`` in ``by``, every period from the first to the last appears for every group
        (zeros filled).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Missing kind, group key or date; a kind not in ``kinds``.

    Examples
    --------
    >>> from crmcore.kpi import activity_counts
    >>> a = pd.DataFrame({"person": ["ann", "ann", "bob", "ann"],
    ...                   "kind": ["call", "email", "call", "call"]})
    >>> activity_counts(a)
            call  email  total
    person
    ann        2      1      3
    bob        1      0      1
    """
    names = _by_names(by)
    freq = _freq(period)
    require_columns(activities, [kind, *_required(names, date)], arg="activities")
    require_not_null(activities, kind, arg="activities")
    values = activities[kind]
    if kinds is None:
        labels = sorted(values.unique().tolist())
    else:
        labels = list(kinds)
        if not labels or len(set(labels)) != len(labels):
            raise ConfigError("kinds must be a non-empty list of distinct values", column="kinds")
        pos = first_true(~values.isin(labels).to_numpy(dtype=bool))
        if pos is not None:
            raise DataError(
                f"column {kind!r} of activities has unexpected value {show(values.iloc[pos])} "
                f"at {describe_row(activities, pos)}; expected one of "
                f"{', '.join(map(repr, labels))}",
                column=kind,
                row=activities.index[pos],
                value=values.iloc[pos],
            )
    keys = _group_keys(activities, names, arg="activities", key=None, date=date, freq=freq)
    codes = pd.Categorical(values, categories=labels).codes
    onehot = np.zeros((len(values), len(labels)), dtype=np.int64)
    onehot[np.arange(len(values)), codes] = 1
    counts = pd.DataFrame(onehot, columns=labels)
    agg = _aggregate(keys, counts, names)
    agg["total"] = agg.sum(axis=1).astype(np.int64)
    agg = agg.astype(np.int64)
    if PERIOD in names:
        agg = _periods_full(names, agg, dict.fromkeys(agg.columns, 0), freq)
    agg.columns = pd.Index([str(c) for c in agg.columns])
    return agg
