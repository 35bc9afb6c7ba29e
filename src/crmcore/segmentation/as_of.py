"""Cut transactions at ``as_of``: the rows kept, the rows excluded and how many, in one result.

The summaries (:func:`~crmcore.segmentation.rfm_summary`,
:func:`~crmcore.segmentation.btyd_summary`) refuse rows after ``as_of``: leaving data out is a
decision the caller takes explicitly, with :func:`cut_at_as_of`, whose frozen result keeps what
was left out and counts it.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._dask import is_dask
from crmcore._frames import (
    datetime_column,
    require_columns,
    require_frame,
    require_not_null,
    require_one_id_type,
    resolve_as_of,
)
from crmcore._periods import canonical_period, period_start
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError
from crmcore.segmentation._dates import numpy_dates, wall_clock

__all__ = ["AsOfCut", "cut_at_as_of"]


@attrs.frozen(kw_only=True)
class AsOfCut:
    """Transactions cut at ``as_of``: what was kept, what was excluded, and how many.

    Attributes
    ----------
    kept
        The rows on or before ``as_of`` (at ``period`` resolution), in input order, with their
        original index labels and columns, unchanged.
    excluded
        The rows after ``as_of``, likewise.
    as_of
        The date the transactions were cut at (a Timestamp in the time zone of the dates).
    period
        The period code (``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``) that says what "after"
        means: a row is after ``as_of`` when its period is later than the period of ``as_of``,
        as in the summaries.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import cut_at_as_of
    >>> tx = pd.DataFrame({"customer_id": [1, 2],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-02-09"]),
    ...                    "amount": [5.0, 7.0]})
    >>> cut = cut_at_as_of(tx, as_of="2024-01-31")
    >>> cut.n_excluded, cut.kept.index.tolist(), cut.excluded.index.tolist()
    (1, [0], [1])
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    kept: pd.DataFrame = attrs.field(eq=False, repr=False)
    excluded: pd.DataFrame = attrs.field(eq=False, repr=False)
    as_of: pd.Timestamp
    period: str

    @property
    def n_excluded(self) -> int:
        """Number of rows after ``as_of`` (``len(excluded)``)."""
        return len(self.excluded)


def _after_mask(dates: pd.Series, as_of: pd.Timestamp, period: str) -> npt.NDArray[np.bool_]:
    """Rows whose calendar period (local wall clock) is later than the period of ``as_of``."""
    starts = period_start(wall_clock(dates), period).to_numpy().astype("datetime64[D]")
    as_of_wall = as_of.tz_localize(None) if as_of.tzinfo is not None else as_of
    # From numpy, so that a date outside the nanosecond range keeps its own unit.
    one = pd.Series(np.array([as_of_wall.to_datetime64()]))
    limit = period_start(one, period).to_numpy().astype("datetime64[D]")
    after: npt.NDArray[np.bool_] = starts > limit[0]
    return after


def cut_at_as_of(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    customer: str = "customer_id",
    date: str = "date",
    period: str = "D",
) -> AsOfCut:
    """Split transactions into the rows up to ``as_of`` and the rows after it.

    Summaries as of a past date (a backtest, a report for last quarter) need the later rows
    left out; :func:`~crmcore.segmentation.rfm_summary` and
    :func:`~crmcore.segmentation.btyd_summary` refuse them, so that nothing is dropped
    silently. Cut first, then summarise ``cut.kept`` with the same ``as_of`` and ``period``;
    the result says how many rows were excluded and holds them.

    A row is *after* ``as_of`` when the calendar period holding its date is later than the
    period holding ``as_of`` (``period="D"``: a later day; the time of day is ignored; tz-aware
    dates use their local calendar), exactly the rule of the summaries, so ``cut.kept`` never
    has a row they would refuse.

    Parameters
    ----------
    transactions
        One row per purchase; other columns are carried along unchanged.
    as_of
        The cut date (a date or text such as ``"2024-06-30"``); tz-aware exactly when the dates
        are.
    customer, date
        Column names (``customer`` names rows in error messages).
    period
        ``"D"`` (default), ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases such as ``"MS"``
        accepted): use the ``period`` of the summary you compute next.

    Returns
    -------
    AsOfCut
        ``kept`` and ``excluded`` (frames with the input's columns and index labels, in input
        order), ``n_excluded``, the resolved ``as_of`` and the ``period`` code.

    Raises
    ------
    SchemaError
        A column is missing (an empty table is fine: both parts are empty).
    ColumnTypeError, DataError
        Dates that are not dates, missing dates or customer ids, naive and tz-aware dates
        mixed.
    ConfigError
        ``as_of`` is missing, not a date, or naive while the dates are tz-aware (or the
        reverse); an unknown ``period``.

    Notes
    -----
    Dask: ``transactions`` may also be a ``dask.dataframe.DataFrame``; ``kept`` and
    ``excluded`` are then lazy Dask DataFrames (each partition cut on its own, in place), and
    reading ``n_excluded`` computes the count. Dates must already be datetime64.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import cut_at_as_of, rfm_summary
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-02-10", "2024-03-20"]),
    ...     "amount": [10.0, 20.0, 8.0, 4.0],
    ... })
    >>> cut = cut_at_as_of(tx, as_of="2024-02-29")
    >>> cut.n_excluded
    2
    >>> cut.excluded
       customer_id       date  amount
    1            1 2024-03-02    20.0
    3            3 2024-03-20     4.0
    >>> rfm_summary(cut.kept, as_of=cut.as_of)[["recency", "frequency", "monetary"]]
                 recency  frequency  monetary
    customer_id
    1                 55          1      10.0
    2                 19          1       8.0
    """
    if is_dask(transactions):
        import crmcore.segmentation._dask as dask_adapter

        return dask_adapter.cut(
            transactions, as_of=as_of, customer=customer, date=date, period=period
        )
    arg = "transactions"
    transactions = require_frame(transactions, arg=arg)
    transactions = require_columns(transactions, [customer, date], arg=arg, allow_empty=True)
    require_not_null(transactions, customer, arg=arg)
    require_one_id_type(transactions, customer, arg=arg)
    code = canonical_period(period)
    if as_of is None:
        raise ConfigError("as_of is required: the date to cut the transactions at", column="as_of")
    if len(transactions) == 0:
        dates = pd.Series(pd.to_datetime(transactions[date]), index=transactions.index)
    else:
        dates = numpy_dates(datetime_column(transactions, date, arg=arg, key=customer))
    when = resolve_as_of(as_of, dates, column=date)
    after = _after_mask(dates, when, code)
    return AsOfCut(
        kept=transactions.iloc[np.flatnonzero(~after)].copy(),
        excluded=transactions.iloc[np.flatnonzero(after)].copy(),
        as_of=when,
        period=code,
    )
