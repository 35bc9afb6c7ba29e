"""Date columns of segmentation: numpy-backed datetimes and integer calendar-period numbers."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._periods import canonical_period, period_start

__all__ = ["numpy_dates", "period_ordinals", "wall_clock"]


def numpy_dates(dates: pd.Series) -> pd.Series:
    """Return a validated date column backed by numpy ``datetime64`` (unit and time zone kept).

    ``timestamp[...][pyarrow]`` columns become the numpy dtype of the same unit and zone, so
    every step after validation sees one kind of date column.

    Examples
    --------
    >>> import pandas as pd
    >>> arrow = pd.Series(pd.to_datetime(["2024-01-05"])).astype("timestamp[ns][pyarrow]")
    >>> numpy_dates(arrow).dtype
    dtype('<M8[ns]')
    """
    dtype = dates.dtype
    if isinstance(dtype, pd.ArrowDtype):
        converted: pd.Series = dates.astype(dtype.pyarrow_dtype.to_pandas_dtype())
        return converted
    return dates


def wall_clock(dates: pd.Series) -> pd.Series:
    """Return naive local wall-clock datetimes (tz-aware dates lose their zone, not their hour).

    Examples
    --------
    >>> import pandas as pd
    >>> aware = pd.Series(pd.to_datetime(["2024-01-05 23:30"]).tz_localize("Asia/Tokyo"))
    >>> wall_clock(aware).tolist()
    [Timestamp('2024-01-05 23:30:00')]
    """
    dates = numpy_dates(dates)
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        naive: pd.Series = dates.dt.tz_localize(None)
        return naive
    return dates


def period_ordinals(dates: pd.Series, period: str) -> npt.NDArray[np.int64]:
    """Integer number of each date's calendar period: equal within a period, +1 per period.

    Dates are bucketed by :func:`crmcore._periods.period_start` on their local wall clock, in
    their own unit, so dates before 1677 or after 2262 (``s``/``us`` units) work.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-01", "2024-04-01"]))
    >>> period_ordinals(d, "M") - period_ordinals(d, "M")[0]
    array([0, 1, 3])
    """
    code = canonical_period(period)
    starts = period_start(wall_clock(dates), code).to_numpy()
    if code == "D":
        return starts.astype("datetime64[D]").view(np.int64)
    if code == "W":  # period starts are Mondays, 7 days apart
        days: npt.NDArray[np.int64] = starts.astype("datetime64[D]").view(np.int64)
        return days // 7
    if code == "Y":
        return starts.astype("datetime64[Y]").view(np.int64)
    months: npt.NDArray[np.int64] = starts.astype("datetime64[M]").view(np.int64)
    return months // 3 if code == "Q" else months
