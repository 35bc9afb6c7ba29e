"""Hypothesis strategies for the segmentation tests (summaries with heavy ties)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st


@st.composite
def summaries(draw: st.DrawFn, *, min_rows: int = 1, max_rows: int = 40) -> pd.DataFrame:
    """Per-customer summaries like rfm_summary's: unique ids in random order, many ties.

    Frequency is 1 for most customers (as in real data), recency and monetary repeat often.
    """
    n = draw(st.integers(min_rows, max_rows))
    ids = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    recency = draw(st.lists(st.one_of(st.just(0), st.integers(0, 400)), min_size=n, max_size=n))
    frequency = draw(
        st.lists(st.one_of(st.just(1), st.just(1), st.integers(1, 30)), min_size=n, max_size=n)
    )
    monetary = draw(
        st.lists(
            st.one_of(
                st.just(10.0),
                st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False),
            ),
            min_size=n,
            max_size=n,
        )
    )
    return pd.DataFrame(
        {"recency": recency, "frequency": frequency, "monetary": monetary},
        index=pd.Index(ids, name="customer_id"),
    )


# The Gregorian calendar repeats exactly every 400 years (146,097 days, a whole number of
# weeks): dates shifted by whole cycles fall on the same weekdays, month days and quarters, so
# every calendar-period result must be the same.
GREGORIAN_CYCLE_DAYS = 146_097
# Two cycles (800 years) in seconds; as a numpy value, since 800 years of nanoseconds overflow.
_SHIFT = np.timedelta64(2 * GREGORIAN_CYCLE_DAYS * 86_400, "s")

#: Ways of holding the same dates: numpy datetime64 as given, pyarrow timestamps, seconds
#: before 1677, microseconds after 2262, and a time zone without daylight saving (local wall
#: clock kept).
DATE_KINDS = ("numpy", "arrow", "before_1677", "after_2262", "tz")


def represent_dates(frame: pd.DataFrame, kind: str, column: str = "date") -> pd.DataFrame:
    """``frame`` with its datetime64 ``column`` held as ``kind`` (see :data:`DATE_KINDS`)."""
    dates = frame[column]
    if kind == "arrow":
        dates = dates.astype("timestamp[ns][pyarrow]")
    elif kind == "before_1677":
        dates = pd.Series(dates.to_numpy().astype("datetime64[s]") - _SHIFT, index=dates.index)
    elif kind == "after_2262":
        dates = pd.Series(dates.to_numpy().astype("datetime64[us]") + _SHIFT, index=dates.index)
    elif kind == "tz":
        dates = dates.dt.tz_localize("Asia/Tokyo")
    return frame.assign(**{column: dates})


def represent_as_of(as_of: pd.Timestamp, kind: str) -> pd.Timestamp:
    """The ``as_of`` matching :func:`represent_dates` of the same ``kind``."""
    if kind == "before_1677":
        return pd.Timestamp(np.datetime64(as_of.to_datetime64(), "s") - _SHIFT)
    if kind == "after_2262":
        return pd.Timestamp(np.datetime64(as_of.to_datetime64(), "us") + _SHIFT)
    if kind == "tz":
        return as_of.tz_localize("Asia/Tokyo")
    return as_of


date_kinds = st.sampled_from(DATE_KINDS)
