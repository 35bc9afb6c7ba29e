"""Cohort retention: of the customers who first bought in a period, who bought again when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmcore._frames import (
    check_scalar,
    datetime_column,
    require_columns,
    require_not_null,
    require_one_id_type,
    resolve_as_of,
)
from crmcore._periods import canonical_period, period_start, to_period_index
from crmcore.clv._calendar import ordinals
from crmcore.errors import DataError

__all__ = ["cohort_retention"]


def _own_unit(when: pd.Timestamp) -> pd.DatetimeIndex:
    """``when`` as a one-date index in its own unit (pandas 2.2 would cast a list to ns)."""
    index = pd.DatetimeIndex(np.array([when.asm8]))
    return index if when.tz is None else index.tz_localize("UTC").tz_convert(when.tz)


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    period: str = "M",
    normalize: bool = True,
    as_of: object = None,
) -> pd.DataFrame:
    """Share of each first-purchase cohort that bought in each later period.

    A customer's cohort is the period of their first purchase; column ``k`` counts the
    cohort's customers who bought in the period ``k`` periods later (column 0 is the whole
    cohort). Cells after ``as_of`` cannot be observed yet and are NaN, not 0.

    Parameters
    ----------
    transactions
        One row per purchase.
    customer, date
        Customer id and purchase date columns.
    period
        ``"D"``, ``"W"`` (Monday-to-Sunday), ``"M"`` (default), ``"Q"`` or ``"Y"``, pandas
        aliases accepted.
    normalize
        ``True``: shares of the cohort size (column 0 is 1.0); ``False``: customer counts.
    as_of
        End of the observation; default the latest date. Purchases after it are an error.

    Returns
    -------
    pandas.DataFrame
        Indexed by cohort (a pandas ``PeriodIndex`` named ``cohort``, sorted), one column per
        number of periods since the first purchase (``0, 1, 2, ...``, named
        ``periods_since``), float64 (NaN where not yet observable).

    Raises
    ------
    SchemaError, ColumnTypeError
        Missing columns, an empty table, dates that are not dates.
    DataError
        Missing ids or dates, purchases after ``as_of``.
    ConfigError
        Unknown period, bad ``as_of`` or ``normalize``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import cohort_retention
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-02-07", "2024-01-20",
    ...                                            "2024-02-02", "2024-02-20"])})
    >>> cohort_retention(tx)
    periods_since    0    1
    cohort
    2024-01        1.0  0.5
    2024-02        1.0  NaN
    """
    transactions = require_columns(transactions, [customer, date], arg="transactions")
    require_not_null(transactions, customer, arg="transactions")
    require_one_id_type(transactions, customer, arg="transactions")
    code = canonical_period(period)
    check_scalar(normalize, "normalize", kind=bool)
    dates = datetime_column(transactions, date, arg="transactions", key=customer)
    end = resolve_as_of(as_of, dates, column=date)
    ords = ordinals(dates, code)
    # in as_of's own unit: an as_of before 1677 or after 2262 has no nanosecond form
    last = int(ordinals(pd.Series(_own_unit(end)), code)[0])
    late = ords > last
    if late.any():
        pos = int(np.argmax(late))
        raise DataError(
            f"column {date!r} of transactions has {dates.iloc[pos]} at row "
            f"{transactions.index[pos]!r}, after as_of={end}; choose a later as_of",
            column=date,
            row=transactions.index[pos],
            value=dates.iloc[pos],
        )
    codes, _ = pd.factorize(transactions[customer])
    first = np.full(int(codes.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, ords)
    cohort = first[codes]
    pairs = pd.DataFrame({"c": codes, "cohort": cohort, "k": ords - cohort}).drop_duplicates(
        ["c", "k"]
    )
    counts = pairs.groupby(["cohort", "k"]).size().unstack(fill_value=0)
    width = int(last - counts.index.min()) + 1
    counts = counts.reindex(columns=range(width), fill_value=0).astype(np.float64)
    observable = (counts.index.to_numpy()[:, None] + np.arange(width)[None, :]) <= last
    values = np.where(observable, counts.to_numpy(), np.nan)
    if normalize:
        values = values / values[:, :1]
    starts = period_start(dates, code)
    first_rows = pd.Series(ords).groupby(ords).head(1).index
    start_of = pd.Series(starts.to_numpy()[first_rows], index=ords[first_rows])
    index = to_period_index(pd.DatetimeIndex(start_of.reindex(counts.index).to_numpy()), code)
    return pd.DataFrame(
        values,
        index=pd.PeriodIndex(index, name="cohort"),
        columns=pd.RangeIndex(width, name="periods_since"),
    )
