"""Integer period ordinals of dates, so that "periods between" is a subtraction."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._periods import canonical_period, period_start

__all__ = ["end_of_day", "ordinals"]


def ordinals(dates: pd.Series, period: str) -> npt.NDArray[np.int64]:
    """Period number of each date: consecutive periods differ by exactly 1.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-01", "2025-01-01"]))
    >>> ordinals(d, "M").tolist()
    [648, 649, 660]
    """
    code = canonical_period(period)
    starts = period_start(dates, code)
    if getattr(starts.dtype, "tz", None) is not None:
        starts = starts.dt.tz_localize(None)
    values = starts.to_numpy()
    if code == "D":
        out = values.astype("datetime64[D]").view(np.int64)
    elif code == "W":
        out = values.astype("datetime64[D]").view(np.int64) // 7
    else:
        months = values.astype("datetime64[M]").view(np.int64)
        out = months // {"M": 1, "Q": 3, "Y": 12}[code]
    return np.asarray(out, dtype=np.int64)


def end_of_day(moment: pd.Timestamp) -> tuple[pd.Timestamp, bool]:
    """Return the cut a date stands for: its whole day when it has no time of day.

    Returns the bound and whether it is exclusive (``date < bound``) or inclusive.

    Examples
    --------
    >>> import pandas as pd
    >>> end_of_day(pd.Timestamp("2024-01-31"))
    (Timestamp('2024-02-01 00:00:00'), True)
    >>> end_of_day(pd.Timestamp("2024-01-31 12:00"))
    (Timestamp('2024-01-31 12:00:00'), False)
    """
    if moment == moment.normalize():
        return moment + pd.Timedelta(days=1), True
    return moment, False
